// Campaigns: the tenant's broadcast campaigns, newest first, filtered by status, a page at a time (cursor paging:
// previous / next), each with its type, channel, status, how far it got (sent of all targets) and when it starts;
// a campaign opens on its own page (campaign-view.js), and "New campaign" opens the builder (campaign-new.js) for
// those who may create one.
import { h, clear } from '../lib/dom.js';
import { number, dateTimeShort } from '../lib/format.js';
import { pageHeader, field, button, linkButton, statusLine, say, table, select } from '../lib/ui.js';
import { loadChannels, channelLabel } from './messaging-shared.js';
import { CAMPAIGN_STATUSES, campaignBadge, campaignError, progressText } from './campaigns-shared.js';

const PAGE = 25;

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const channels = await loadChannels(ctx);
  const channelName = (id) => {
    const found = channels.find((c) => c.id === id);
    return found ? channelLabel(t, found) : String(id || '').slice(0, 8);
  };

  const status = select([['', t('campaigns.anyStatus')], ...CAMPAIGN_STATUSES.map((s) => [s, t(`campaignStatus.${s}`)])],
    { id: 'campaigns-status-filter', value: CAMPAIGN_STATUSES.includes(query.get('status')) ? query.get('status') : '' });
  const form = h('form', { class: 'filters', id: 'campaigns-filters' },
    field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'campaigns-apply' })));
  const line = statusLine();
  line.id = 'campaigns-status';
  const list = h('div', { id: 'campaigns-list', class: 'market-list' });
  const prev = button(t('action.previous'), { id: 'campaigns-prev', disabled: true });
  const next = button(t('action.next'), { id: 'campaigns-next', disabled: true });
  const pageLabel = h('span', { class: 'pager-label', id: 'campaigns-page' });

  root.append(
    pageHeader(t('campaigns.title'),
      can('POST /v1/campaigns') ? linkButton(t('campaigns.new'), '#/campaigns/new', { kind: 'primary', write: true, id: 'campaigns-new' }) : null,
      can('GET /v1/templates') ? linkButton(t('campaigns.toTemplates'), '#/templates', { id: 'campaigns-to-templates' }) : null),
    h('p', { class: 'hint' }, t('campaigns.intro')),
    form, line, list,
    h('nav', { class: 'pager', 'aria-label': t('campaigns.paging') }, prev, pageLabel, next));

  let cursors = [];
  let current = null;
  let nextCursor = null;

  async function load() {
    ctx.setQuery({ status: status.value });
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (status.value) params.set('status', status.value);
    if (current) params.set('cursor', current);
    say(line, t('app.loading'));
    list.dataset.ready = 'false';
    const answer = await api('GET', `/v1/campaigns?${params}`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, campaignError(t, answer), 'error'); clear(list); return; }
    nextCursor = answer.data.nextCursor || null;
    draw(answer.data.items);
    prev.disabled = cursors.length === 0;
    next.disabled = !nextCursor;
    pageLabel.textContent = t('leads.page', { page: number(cursors.length + 1) });
    list.dataset.ready = 'true';
    say(line, answer.data.items.length ? t('campaigns.count', { count: number(answer.data.items.length) }) : '');
  }

  function draw(items) {
    clear(list).append(table({
      caption: t('campaigns.caption'), captionHidden: true, rows: items,
      empty: status.value || cursors.length ? t('campaigns.none') : t('campaigns.noneYet'),
      columns: [
        { label: t('field.name'), cell: (c) => h('a', { href: `#/campaigns/${encodeURIComponent(c.id)}`, class: 'campaigns-name' }, c.name) },
        { label: t('campaigns.type'), cell: (c) => h('span', { class: 'campaigns-type', dataset: { type: c.type } }, t(`campaignType.${c.type}`)) },
        { label: t('campaigns.channel'), cell: (c) => h('span', { class: 'campaigns-channel' }, channelName(c.channelId)) },
        { label: t('field.status'), cell: (c) => campaignBadge(t, c.status) },
        {
          label: t('campaigns.progress'), className: 'num',
          cell: (c) => h('span', { class: 'campaigns-progress', title: t('campaigns.progressHint') }, progressText(c.counts)),
        },
        { label: t('campaigns.start'), cell: (c) => h('span', { class: 'campaigns-start' }, dateTimeShort(c.startedAt || c.startAt) || '—') },
      ],
    }));
  }

  function first() { cursors = []; current = null; return load(); }

  form.addEventListener('submit', (event) => { event.preventDefault(); first(); });
  status.addEventListener('change', () => first());
  prev.addEventListener('click', () => { current = cursors.pop() || null; load(); });
  next.addEventListener('click', () => { if (!nextCursor) return; cursors.push(current); current = nextCursor; load(); });
  await load();
}
