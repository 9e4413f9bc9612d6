// Knowledge base: the tenant's documents (policies, products, properties, subsidies…) that the agents answer from.
// A document is pasted or read from a .txt, .md or .csv file (a CSV becomes one passage per row), split into
// overlapping passages ("chunks") and indexed by a background job within seconds; its chunks can be looked at, and
// the search box shows what a customer's question finds, ranked, with the full-text and embedding scores and the
// source of each passage. "Add a document" and "Delete" for those allowed to change them.
import { h, clear } from '../lib/dom.js';
import { number, dateTimeShort } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, table, badge, dialog, select, section, confirmAction, newKey } from '../lib/ui.js';
import { LANGUAGES } from './agents.js';

export const SOURCE_TYPES = ['policy', 'faq', 'product', 'property', 'subsidy', 'custom'];
const FORMATS = ['text', 'markdown', 'csv'];
const MAX_CONTENT = 200000;

/** The format a file's name says, or null. */
function formatOf(name) {
  const lower = name.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.md') || lower.endsWith('.markdown')) return 'markdown';
  if (lower.endsWith('.txt') || lower.endsWith('.text')) return 'text';
  return null;
}

/** The "add a document" dialog. Resolves to the created document, or undefined when cancelled. */
function documentForm(ctx) {
  const { t, api } = ctx;
  const title = h('input', { id: 'knowledge-title', required: true, maxlength: '300', autocomplete: 'off' });
  const sourceType = select(SOURCE_TYPES.map((s) => [s, t(`knowledgeType.${s}`)]), { id: 'knowledge-source-type', value: 'policy' });
  const format = select(FORMATS.map((f) => [f, t(`knowledgeFormat.${f}`)]), { id: 'knowledge-format', value: 'text' });
  const language = select(LANGUAGES.map((l) => [l, t(`agentLanguage.${l}`)]), { id: 'knowledge-language', value: 'en' });
  const content = h('textarea', { id: 'knowledge-content', required: true, rows: '10', maxlength: String(MAX_CONTENT) });
  const file = h('input', { id: 'knowledge-file', type: 'file', accept: '.txt,.md,.markdown,.csv,text/plain,text/markdown,text/csv' });
  const fileNote = h('p', { class: 'hint', id: 'knowledge-file-note', role: 'status' });
  // the key stays the same for retries of this one document
  const key = newKey();
  file.addEventListener('change', async () => {
    const chosen = file.files && file.files[0];
    if (!chosen) return;
    const kind = formatOf(chosen.name);
    if (!kind) { say(fileNote, t('knowledge.fileKind'), 'error'); return; }
    const text = await chosen.text();
    if (text.length > MAX_CONTENT) { say(fileNote, t('knowledge.fileTooLong'), 'error'); return; }
    content.value = text;
    format.value = kind;
    if (!title.value.trim()) title.value = chosen.name.replace(/\.[^.]+$/, '');
    say(fileNote, t('knowledge.fileRead', { name: chosen.name, count: number(text.length) }), 'ok');
  });
  const d = dialog({
    t, title: t('knowledge.createTitle'), submitLabel: t('knowledge.create'),
    body: h('div', { id: 'knowledge-form' },
      field(t('knowledge.documentTitle'), title),
      field(t('knowledge.sourceType'), sourceType),
      field(t('knowledge.file'), file, { hint: t('knowledge.fileHint') }), fileNote,
      field(t('knowledge.content'), content, { hint: t('knowledge.contentHint') }),
      field(t('knowledge.format'), format, { hint: t('knowledge.formatHint') }),
      field(t('field.language'), language)),
    onSubmit: async ({ close, fail }) => {
      if (!title.value.trim() || !content.value.trim()) return fail(t('knowledge.needText'));
      const body = { title: title.value.trim(), content: content.value, sourceType: sourceType.value, format: format.value, language: language.value };
      const result = await api('POST', '/v1/knowledge', { body, idempotencyKey: key });
      if (!result.ok) return fail(errorText(t, result));
      close(result.data);
    },
  });
  return d.done;
}

const score = (value, digits = 3) => (value === undefined || value === null ? '—' : Number(value).toFixed(digits));

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/knowledge');
  const canDelete = can('DELETE /v1/knowledge/{id}');
  const canSearch = can('POST /v1/knowledge/search');
  const status = statusLine();
  status.id = 'knowledge-status';
  const list = h('div', { id: 'knowledge-list' });
  const detail = h('div', { id: 'knowledge-detail' });
  const filter = select([['', t('knowledge.allTypes')], ...SOURCE_TYPES.map((s) => [s, t(`knowledgeType.${s}`)])], { id: 'knowledge-filter', value: '' });
  filter.addEventListener('change', () => load());

  const query = h('input', { id: 'knowledge-query', type: 'search', maxlength: '1000', autocomplete: 'off', required: true });
  const results = h('div', { id: 'knowledge-results', 'aria-live': 'polite' });
  const searchForm = h('form', { id: 'knowledge-search', class: 'inline-form', on: { submit: (event) => { event.preventDefault(); search(); } } },
    field(t('knowledge.query'), query, { hint: t('knowledge.queryHint') }),
    button(t('knowledge.search'), { kind: 'primary', type: 'submit', id: 'knowledge-search-submit' }));

  root.append(
    pageHeader(t('knowledge.title'), canCreate ? button(t('knowledge.create'), { kind: 'primary', write: true, id: 'knowledge-create', on: create }) : null),
    h('p', { class: 'hint' }, t('knowledge.intro')),
    canSearch ? section(t('knowledge.searchTitle'), searchForm, results) : null,
    field(t('knowledge.sourceType'), filter),
    status, list, detail);

  let polling = null;
  async function load(message) {
    if (!message) say(status, t('app.loading'));
    const type = filter.value;
    const answer = await api('GET', `/v1/knowledge?limit=200${type ? `&sourceType=${encodeURIComponent(type)}` : ''}`);
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    const docs = answer.data.items;
    const columns = [
      {
        label: t('knowledge.documentTitle'), cell: (d) => button(d.title, {
          kind: 'quiet', class: ['btn', 'btn-quiet', 'knowledge-open'], dataset: { action: 'open' }, 'aria-label': t('knowledge.openNamed', { title: d.title }),
          on: () => open(d.id),
        }),
      },
      { label: t('knowledge.sourceType'), cell: (d) => t(`knowledgeType.${d.sourceType}`) },
      { label: t('knowledge.format'), cell: (d) => t(`knowledgeFormat.${d.format}`) },
      { label: t('field.language'), cell: (d) => (LANGUAGES.includes(d.language) ? t(`agentLanguage.${d.language}`) : d.language) },
      {
        label: t('knowledge.status'),
        cell: (d) => h('span', { class: 'knowledge-state' }, badge(t(`knowledgeStatus.${d.status}`), d.status === 'indexed' ? 'active' : 'issued')),
      },
      { label: t('knowledge.chunks'), className: 'num', cell: (d) => h('span', { class: 'knowledge-chunk-count' }, number(d.chunkCount)) },
      { label: t('knowledge.updated'), cell: (d) => dateTimeShort(d.updatedAt) },
    ];
    if (canDelete) {
      columns.push({
        label: t('field.actions'), cell: (d) => h('div', { class: 'row-actions' },
          button(t('knowledge.delete'), {
            write: true, kind: 'danger-quiet', dataset: { write: '', action: 'delete' }, 'aria-label': t('knowledge.deleteNamed', { title: d.title }),
            on: () => remove(d),
          })),
      });
    }
    clear(list).append(table({ caption: t('knowledge.caption'), captionHidden: true, columns, rows: docs, empty: t('knowledge.none') }));
    if (message) say(status, message, 'ok'); else say(status, t('knowledge.count', { count: number(docs.length) }));
    // documents being indexed: look again shortly (the job takes seconds)
    clearTimeout(polling);
    if (docs.some((d) => d.status === 'pending')) {
      polling = setTimeout(() => { if (ctx.isCurrent()) load(message); }, 1000);
    }
    return docs;
  }

  async function open(id) {
    const answer = await api('GET', `/v1/knowledge/${encodeURIComponent(id)}`);
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    const { document: doc, chunks } = answer.data;
    clear(detail).append(section(t('knowledge.chunksOf', { title: doc.title }),
      h('p', { class: 'hint' }, doc.status === 'indexed' ? t('knowledge.chunksHint', { count: number(chunks.length) }) : t('knowledge.pendingHint')),
      chunks.length
        ? h('ol', { class: 'knowledge-chunks' }, chunks.map((c) => h('li', { class: ['knowledge-chunk', 'prompt-body'], dataset: { id: c.id } }, h('pre', { class: 'chunk-text' }, c.content))))
        : null));
    detail.dataset.document = doc.id;
    const heading = detail.querySelector('h2');
    if (heading) { heading.tabIndex = -1; heading.focus(); }
    return null;
  }

  async function search() {
    const words = query.value.trim();
    if (!words) return;
    clear(results).append(h('p', { class: 'loading' }, t('app.loading')));
    const answer = await api('POST', '/v1/knowledge/search', { body: { query: words, limit: 10, language: ctx.language && LANGUAGES.includes(ctx.language) ? ctx.language : undefined } });
    if (!answer.ok) { clear(results).append(h('p', { class: 'form-error', role: 'alert' }, errorText(t, answer))); return; }
    const found = answer.data.results;
    if (!found.length) { clear(results).append(h('p', { class: 'empty', id: 'knowledge-no-results' }, t('knowledge.noResults'))); return; }
    clear(results).append(h('ol', { class: 'knowledge-hits' }, found.map((r) => h('li', { class: 'knowledge-result', dataset: { document: r.source.documentId, chunk: r.source.chunkId } },
      h('p', { class: 'knowledge-source' },
        h('strong', { class: 'knowledge-result-title' }, r.source.title), ' · ', t(`knowledgeType.${r.source.sourceType}`),
        ' · ', t('knowledge.passage', { n: number(r.source.ordinal + 1) })),
      h('p', { class: 'knowledge-scores' },
        t('knowledge.scores', { score: score(r.score, 4), fts: score(r.ftsRank), vector: score(r.vectorScore) })),
      h('div', { class: 'prompt-body' }, h('pre', { class: 'chunk-text' }, r.content))))));
    ctx.announce(t('knowledge.found', { count: number(found.length) }));
  }

  function create() {
    documentForm(ctx).then((doc) => {
      if (!doc) return;
      const words = t('knowledge.created', { title: doc.title });
      ctx.announce(words);
      load(words);
    });
  }

  function remove(doc) {
    confirmAction({
      t, title: t('knowledge.deleteTitle', { title: doc.title }), message: t('knowledge.deleteBody'), confirmLabel: t('knowledge.delete'),
      onConfirm: async () => {
        const result = await api('DELETE', `/v1/knowledge/${encodeURIComponent(doc.id)}`);
        return result.ok ? null : errorText(t, result);
      },
    }).then((done) => {
      if (!done) return;
      if (detail.dataset.document === doc.id) clear(detail);
      const words = t('knowledge.deleted', { title: doc.title });
      ctx.announce(words);
      load(words);
    });
  }

  await load();
}
