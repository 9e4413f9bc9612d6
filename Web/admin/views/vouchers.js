// Vouchers: the list (newest first) filtered by status, station and campaign on the server and by issue date on the
// loaded page, with cursor paging; "Issue a voucher" and "Bulk issue" for those allowed to issue.
import { h, clear } from '../lib/dom.js';
import { money, dateTime, isoDay, number } from '../lib/format.js';
import { campaignId } from '../lib/campaign.js';
import { pageHeader, field, button, linkButton, statusLine, say, errorText, table, badge, select } from '../lib/ui.js';
import { issueVoucher } from './issue.js';
import { loadStations } from './stations-cache.js';

export const STATUSES = ['issued', 'sent', 'redeemed', 'expired', 'void'];
const PAGE = 50;

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const status = select([['', t('vouchers.anyStatus')], ...STATUSES.map((s) => [s, t(`voucherStatus.${s}`)])], { id: 'filter-status', value: query.get('status') || '' });
  const station = select([['', t('vouchers.anyStation')]], { id: 'filter-station' });
  const campaign = h('input', { id: 'filter-campaign', autocomplete: 'off', value: query.get('campaign') || '' });
  const from = h('input', { type: 'date', id: 'filter-from', value: query.get('from') || '' });
  const to = h('input', { type: 'date', id: 'filter-to', value: query.get('to') || '', max: isoDay() });
  const form = h('form', { class: 'filters', id: 'voucher-filters' },
    field(t('field.status'), status), field(t('field.station'), station),
    field(t('field.campaign'), campaign, { hint: t('vouchers.campaignHint') }),
    field(t('vouchers.issuedFrom'), from), field(t('vouchers.issuedTo'), to, { hint: t('vouchers.dateHint') }),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit' }),
      button(t('action.reset'), { on: () => { form.reset(); status.value = ''; station.value = ''; campaign.value = ''; from.value = ''; to.value = ''; first(); } })));
  const result = statusLine();
  result.id = 'vouchers-status';
  const list = h('div', { id: 'vouchers-list' });
  const prev = button(t('action.previous'), { id: 'page-prev', disabled: true });
  const next = button(t('action.next'), { id: 'page-next', disabled: true });
  const pageLabel = h('span', { class: 'pager-label' });

  const canIssue = can('POST /v1/vouchers');
  root.append(
    pageHeader(t('vouchers.title'),
      canIssue ? button(t('vouchers.issue'), { kind: 'primary', write: true, id: 'voucher-issue', on: openIssue }) : null,
      can('POST /v1/vouchers/bulk') ? linkButton(t('vouchers.bulk'), '#/vouchers/bulk', { write: true, id: 'voucher-bulk' }) : null),
    form, result, list,
    h('nav', { class: 'pager', 'aria-label': t('vouchers.paging') }, prev, pageLabel, next, h('span', { class: 'hint' }, t('vouchers.order'))));

  let stations = [];
  const stationName = (id) => (stations.find((s) => s.id === id) || {}).name || id.slice(0, 8);
  // cursors of the pages before this one, so "Previous" goes back without the API paging backwards
  let cursors = [];
  let current = null;
  let nextCursor = null;

  async function load() {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (status.value) params.set('status', status.value);
    if (station.value) params.set('stationId', station.value);
    if (campaign.value.trim()) params.set('campaignId', await campaignId(campaign.value, ctx.tenantId));
    if (current) params.set('cursor', current);
    ctx.setQuery({ status: status.value, stationId: station.value, campaign: campaign.value.trim(), from: from.value, to: to.value });
    say(result, t('app.loading'));
    const answer = await api('GET', `/v1/vouchers?${params}`);
    if (!answer.ok) { say(result, errorText(t, answer), 'error'); clear(list); return; }
    nextCursor = answer.data.nextCursor || null;
    const items = answer.data.items.filter((v) => {
      const day = isoDay(new Date(v.issuedAt));
      return (!from.value || day >= from.value) && (!to.value || day <= to.value);
    });
    draw(items, answer.data.items.length);
    prev.disabled = cursors.length === 0;
    next.disabled = !nextCursor;
    pageLabel.textContent = t('vouchers.page', { page: number(cursors.length + 1) });
  }

  function draw(items, loaded) {
    clear(list).append(table({
      caption: t('vouchers.caption'), captionHidden: true, rows: items, empty: t('vouchers.none'),
      columns: [
        { label: t('field.code'), cell: (v) => h('a', { href: `#/vouchers/${encodeURIComponent(v.id)}`, class: 'code' }, v.code) },
        { label: t('field.amount'), className: 'num', cell: (v) => money(v.amount, v.currency) },
        { label: t('field.phone'), cell: (v) => v.msisdn },
        { label: t('field.status'), cell: (v) => badge(t(`voucherStatus.${v.status}`), v.status) },
        { label: t('field.stationScope'), cell: (v) => (v.stationScope ? stationName(v.stationScope) : t('vouchers.anyStationShort')) },
        { label: t('field.issued'), cell: (v) => dateTime(v.issuedAt) },
        { label: t('field.expires'), cell: (v) => dateTime(v.expiresAt) },
      ],
    }));
    say(result, items.length === loaded ? t('vouchers.count', { count: number(items.length) })
      : t('vouchers.countFiltered', { count: number(items.length), loaded: number(loaded) }));
  }

  function first() { cursors = []; current = null; return load(); }

  function openIssue() {
    issueVoucher(ctx, stations).then((voucher) => {
      if (!voucher) return;
      const text = t('vouchers.issued', { code: voucher.code, amount: money(voucher.amount, voucher.currency) });
      ctx.announce(text);
      first().then(() => {
        say(result, text, 'ok');
        result.append(' ', h('a', { href: `#/vouchers/${encodeURIComponent(voucher.id)}`, id: 'issued-link' }, t('vouchers.open', { code: voucher.code })));
      });
    });
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); first(); });
  prev.addEventListener('click', () => { current = cursors.pop() || null; load(); });
  next.addEventListener('click', () => { if (!nextCursor) return; cursors.push(current); current = nextCursor; load(); });

  stations = await loadStations(ctx);
  for (const s of stations) station.append(h('option', { value: s.id }, `${s.name} (${s.engencode})`));
  station.value = query.get('stationId') || '';
  await load();
}
