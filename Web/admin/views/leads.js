// Leads: the tenant's leads as a table, newest first, filtered by status, stage, tag, assignee and a search (name,
// email, company or phone), a page at a time (cursor paging: previous / next); "Export CSV" builds the whole filtered
// list in the browser (every page fetched, up to 5,000) as an RFC 4180 file with a header row. An agent sees only the
// leads assigned to them (the API says so). A lead opens on its own page (lead.js).
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select } from '../lib/ui.js';
import { csvFile } from '../lib/csv.js';
import {
  STATUSES, stagesOf, peopleOf, personName, assigneeText, leadError, leadName, allLeads, newLeadDialog, scoreBadge, stageName,
  leadQuery, whenText, maskedPhone,
} from './leads-shared.js';

const SIZES = [10, 25, 50, 100];
const MAX_EXPORT = 5000;

/** The file's columns: [header, value of a lead]. */
export const CSV_COLUMNS = [
  ['id', (l) => l.id],
  ['phone', (l) => l.phone],
  ['phones', (l) => (l.phones || []).join(' ')],
  ['name', (l) => l.name],
  ['email', (l) => l.email],
  ['company', (l) => l.company],
  ['status', (l) => l.status],
  ['score', (l) => l.score],
  ['score_base', (l) => l.scoreComponents && l.scoreComponents.base],
  ['score_behavior', (l) => l.scoreComponents && l.scoreComponents.behavior],
  ['score_engagement', (l) => l.scoreComponents && l.scoreComponents.engagement],
  ['stage', (l) => l.stage],
  ['stage_name', (l, x) => stageName(x.stages, l.stage)],
  ['stage_entered_at', (l) => l.stageEnteredAt],
  ['assignee_id', (l) => l.assigneeId],
  ['assignee', (l, x) => (l.assigneeId ? assigneeText(x.ctx, x.people, l.assigneeId) : '')],
  ['treatment', (l) => l.treatment],
  ['next_action_at', (l) => l.nextActionAt],
  ['tags', (l) => (l.tags || []).join(';')],
  ['region', (l) => l.region],
  ['opt_in', (l) => (l.optIn ? 'true' : 'false')],
  ['source', (l) => l.source],
  ['deal_amount', (l) => (l.dealValue ? l.dealValue.amount : '')],
  ['deal_currency', (l) => (l.dealValue ? l.dealValue.currency : '')],
  ['last_contact_at', (l) => l.lastContactAt],
  ['created_at', (l) => l.createdAt],
];

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/leads');
  const [people, loaded] = await Promise.all([peopleOf(ctx), stagesOf(api)]);
  const stages = loaded.stages;

  const status = select([['', t('leads.anyStatus')], ...STATUSES.map((s) => [s, t(`leadStatus.${s}`)])],
    { id: 'leads-status-filter', value: STATUSES.includes(query.get('status')) ? query.get('status') : '' });
  const stage = select([['', t('leads.anyStage')], ...stages.map((s) => [s.key, s.name])],
    { id: 'leads-stage', value: stages.some((s) => s.key === query.get('stage')) ? query.get('stage') : '' });
  const tag = h('input', { id: 'leads-tag', maxlength: '40', autocomplete: 'off', value: query.get('tag') || '' });
  const search = h('input', { id: 'leads-q', type: 'search', maxlength: '100', autocomplete: 'off', value: query.get('q') || '' });
  const assignee = people.length ? select([['', t('leads.anyAssignee')], ...people.map((u) => [u.id, personName(u)])],
    { id: 'leads-assignee', value: people.some((u) => u.id === query.get('assignee')) ? query.get('assignee') : '' }) : null;
  const size = select(SIZES.map((n) => [String(n), number(n)]), { id: 'leads-size', value: SIZES.includes(Number(query.get('size'))) ? query.get('size') : '25' });
  const form = h('form', { class: 'filters', id: 'leads-filters' },
    field(t('field.status'), status), field(t('leads.stage'), stage), field(t('leads.tag'), tag),
    field(t('leads.search'), search, { hint: t('leads.searchHint') }),
    assignee ? field(t('leads.assignee'), assignee) : null,
    field(t('leads.perPage'), size),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'leads-apply' }),
      button(t('action.reset'), {
        id: 'leads-reset',
        on: () => { status.value = ''; stage.value = ''; tag.value = ''; search.value = ''; if (assignee) assignee.value = ''; first(); },
      })));
  const line = statusLine();
  line.id = 'leads-status';
  const list = h('div', { id: 'leads-list', class: 'market-list' });
  const prev = button(t('action.previous'), { id: 'leads-prev', disabled: true });
  const next = button(t('action.next'), { id: 'leads-next', disabled: true });
  const pageLabel = h('span', { class: 'pager-label', id: 'leads-page' });
  const exportButton = button(t('leads.export'), { id: 'leads-export' });
  const download = h('a', { id: 'leads-download', hidden: true, class: 'download' }, t('leads.download'));

  root.append(
    pageHeader(t('leads.title'),
      canCreate ? button(t('leads.new'), { kind: 'primary', write: true, id: 'leads-new', on: () => create() }) : null,
      h('a', { href: '#/pipeline', class: 'btn btn-secondary', id: 'leads-to-pipeline' }, t('leads.toPipeline')),
      exportButton),
    h('p', { class: 'hint' }, t('leads.intro')),
    form, line, download, list,
    h('nav', { class: 'pager', 'aria-label': t('leads.paging') }, prev, pageLabel, next));

  function filter() {
    return {
      status: status.value, stage: stage.value, tag: tag.value.trim(), q: search.value.trim(), assigneeId: assignee ? assignee.value : '',
    };
  }

  let cursors = [];
  let current = null;
  let nextCursor = null;

  async function load() {
    const f = filter();
    ctx.setQuery({ status: f.status, stage: f.stage, tag: f.tag, q: f.q, assignee: f.assigneeId, size: size.value === '25' ? '' : size.value });
    const params = leadQuery(f);
    params.set('limit', size.value);
    if (current) params.set('cursor', current);
    say(line, t('app.loading'));
    list.dataset.ready = 'false';
    const answer = await api('GET', `/v1/leads?${params}`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, leadError(t, answer), 'error'); clear(list); return; }
    nextCursor = answer.data.nextCursor || null;
    draw(answer.data.items);
    prev.disabled = cursors.length === 0;
    next.disabled = !nextCursor;
    pageLabel.textContent = t('leads.page', { page: number(cursors.length + 1) });
    list.dataset.ready = 'true';
    say(line, answer.data.items.length ? t('leads.count', { count: number(answer.data.items.length) }) : t('leads.none'));
  }

  function draw(items) {
    clear(list).append(table({
      caption: t('leads.caption'), captionHidden: true, rows: items, empty: t('leads.none'),
      columns: [
        { label: t('field.name'), cell: (l) => h('a', { href: `#/leads/${encodeURIComponent(l.id)}`, class: 'leads-name' }, leadName(l)) },
        { label: t('leads.phone'), cell: (l) => h('span', { class: 'leads-phone mono' }, l.name ? maskedPhone(l.phone) : '') },
        { label: t('leads.score'), cell: (l) => scoreBadge(t, l) },
        { label: t('leads.stage'), cell: (l) => h('span', { class: 'leads-stage', dataset: { stage: l.stage } }, stageName(stages, l.stage)) },
        { label: t('leads.assignee'), cell: (l) => h('span', { class: 'leads-assignee' }, assigneeText(ctx, people, l.assigneeId)) },
        { label: t('leads.tags'), cell: (l) => h('span', { class: 'leads-tags' }, (l.tags || []).join(', ')) },
        { label: t('leads.nextAction'), cell: (l) => whenText(l.nextActionAt) },
        { label: t('leads.createdAt'), cell: (l) => whenText(l.createdAt) },
      ],
    }));
  }

  function first() { cursors = []; current = null; return load(); }

  function create() {
    newLeadDialog(ctx, { stages, people }).then((result) => {
      if (!result) return;
      const { lead, created } = result;
      ctx.announce(created ? t('leads.created', { name: leadName(lead) }) : t('leads.existing', { name: leadName(lead) }));
      ctx.navigate(`#/leads/${encodeURIComponent(lead.id)}?${created ? 'created' : 'existing'}=1`);
    });
  }

  exportButton.addEventListener('click', async () => {
    exportButton.disabled = true;
    say(line, t('leads.exporting'));
    const answer = await allLeads(api, leadQuery(filter()), MAX_EXPORT);
    exportButton.disabled = false;
    if (answer.error) { say(line, leadError(t, answer.error), 'error'); return; }
    if (download.href) URL.revokeObjectURL(download.href);
    const extra = { ctx, people, stages };
    const file = new Blob([csvFile(CSV_COLUMNS.map(([name, value]) => [name, (l) => value(l, extra)]), answer.items)], { type: 'text/csv;charset=utf-8' });
    download.href = URL.createObjectURL(file);
    download.dataset.bytes = String(file.size);
    download.dataset.rows = String(answer.items.length);
    download.download = `leads-${new Date().toISOString().slice(0, 10)}.csv`;
    download.hidden = false;
    download.click();
    say(line, answer.truncated ? t('leads.exportedSome', { count: number(answer.items.length) }) : t('leads.exported', { count: number(answer.items.length) }), 'ok');
  });

  form.addEventListener('submit', (event) => { event.preventDefault(); first(); });
  size.addEventListener('change', () => first());
  prev.addEventListener('click', () => { current = cursors.pop() || null; load(); });
  next.addEventListener('click', () => { if (!nextCursor) return; cursors.push(current); current = nextCursor; load(); });
  await load();
}
