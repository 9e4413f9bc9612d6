// Sequences: the tenant's multi-step sequences, newest first, a page at a time (cursor paging: previous / next),
// each with its trigger and the trigger's parameter, channel, status, how many steps, and how many leads entered
// it and are in it now; a sequence opens on its own page (sequence-edit.js), and "New sequence" opens the editor
// for those who may create one.
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, button, linkButton, statusLine, say, table } from '../lib/ui.js';
import { loadChannels, channelLabel } from './messaging-shared.js';
import { stagesOf, stageName } from './leads-shared.js';
import { idOf, sequenceBadge, sequenceError, triggerText } from './sequences-shared.js';

const PAGE = 25;

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const [channels, loadedStages] = await Promise.all([
    loadChannels(ctx),
    can('GET /v1/pipeline/stages') ? stagesOf(api) : Promise.resolve({ stages: [] }),
  ]);
  if (!ctx.isCurrent()) return;
  const stages = loadedStages.stages || [];
  const channelName = (id) => {
    const found = channels.find((c) => c.id === id);
    return found ? channelLabel(t, found) : String(id || '').slice(0, 8);
  };

  const line = statusLine();
  line.id = 'sequences-status';
  const list = h('div', { id: 'sequences-list', class: 'market-list' });
  const prev = button(t('action.previous'), { id: 'sequences-prev', disabled: true });
  const next = button(t('action.next'), { id: 'sequences-next', disabled: true });
  const pageLabel = h('span', { class: 'pager-label', id: 'sequences-page' });

  root.append(
    pageHeader(t('sequences.title'),
      can('POST /v1/sequences') ? linkButton(t('sequences.new'), '#/sequences/new', { kind: 'primary', write: true, id: 'sequences-new' }) : null,
      can('GET /v1/templates') ? linkButton(t('campaigns.toTemplates'), '#/templates', { id: 'sequences-to-templates' }) : null),
    h('p', { class: 'hint' }, t('sequences.intro')),
    line, list,
    h('nav', { class: 'pager', 'aria-label': t('sequences.paging') }, prev, pageLabel, next));

  let cursors = [];
  let current = null;
  let nextCursor = null;

  async function load() {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (current) params.set('cursor', current);
    say(line, t('app.loading'));
    list.dataset.ready = 'false';
    const answer = await api('GET', `/v1/sequences?${params}`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, sequenceError(t, answer), 'error'); clear(list); return; }
    nextCursor = answer.data.nextCursor || null;
    draw(answer.data.items);
    prev.disabled = cursors.length === 0;
    next.disabled = !nextCursor;
    pageLabel.textContent = t('leads.page', { page: number(cursors.length + 1) });
    list.dataset.ready = 'true';
    say(line, answer.data.items.length ? t('sequences.count', { count: number(answer.data.items.length) }) : '');
  }

  function draw(items) {
    clear(list).append(table({
      caption: t('sequences.caption'), captionHidden: true, rows: items.map((s) => ({ ...s, id: idOf(s) })),
      empty: cursors.length ? t('sequences.none') : t('sequences.noneYet'),
      columns: [
        { label: t('field.name'), cell: (s) => h('a', { href: `#/sequences/${encodeURIComponent(s.id)}`, class: 'sequences-name' }, s.name) },
        {
          label: t('sequence.trigger'),
          cell: (s) => h('span', { class: 'sequences-trigger', dataset: { trigger: s.trigger } }, triggerText(t, s, (key) => stageName(stages, key))),
        },
        { label: t('sequence.channel'), cell: (s) => h('span', { class: 'sequences-channel' }, channelName(s.channelId)) },
        { label: t('field.status'), cell: (s) => sequenceBadge(t, s.status) },
        { label: t('sequence.steps'), className: 'num', cell: (s) => h('span', { class: 'sequences-steps' }, number((s.steps || []).length)) },
        { label: t('sequences.enrolled'), className: 'num', cell: (s) => h('span', { class: 'sequences-enrolled' }, number(s.enrolled || 0)) },
        { label: t('sequences.active'), className: 'num', cell: (s) => h('span', { class: 'sequences-active' }, number(s.active || 0)) },
      ],
    }));
  }

  prev.addEventListener('click', () => { current = cursors.pop() || null; load(); });
  next.addEventListener('click', () => { if (!nextCursor) return; cursors.push(current); current = nextCursor; load(); });
  await load();
}
