// Bookings: the tenant's appointments as a table, oldest start first, filtered by status, service type, source, agent
// and a range of days (in the viewer's zone; an appointment is in the range when any of it is), a page at a time
// (cursor paging: previous / next), with the payment's amount and status; "Export CSV" builds the whole filtered list
// in the browser (every page fetched) as an RFC 4180 file with a header row.
import { h, clear } from '../lib/dom.js';
import { number, addDays } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select } from '../lib/ui.js';
import {
  STATUSES, SOURCES, TYPES, agentsOf, byId, agentName, allAppointments, calendarError, statusBadge, paymentSpan, fullRangeText, timeText, dayStart, validDay,
} from './calendar-shared.js';

const SIZES = [10, 25, 50, 100];

/** "Wed, 9 Dec 2026" in the viewer's zone. */
const dateText = (iso) => new Intl.DateTimeFormat(document.documentElement.lang || 'en', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }).format(new Date(iso));

/** One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces (quotes doubled). */
export function csvField(value) {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = [
  ['id', (a) => a.id],
  ['starts_at', (a) => a.startsAt],
  ['ends_at', (a) => a.endsAt],
  ['local_start', (a) => a.localStart],
  ['local_end', (a) => a.localEnd],
  ['time_zone', (a) => a.timeZone],
  ['agent_id', (a) => a.agentId],
  ['agent', (a, names) => (names.get(a.agentId) || {}).name || ''],
  ['title', (a) => a.title],
  ['status', (a) => a.status],
  ['type', (a) => a.type],
  ['service_type', (a) => a.serviceType],
  ['source', (a) => a.source],
  ['contact_name', (a) => a.contactName],
  ['contact_phone', (a) => a.contactPhone],
  ['contact_email', (a) => a.contactEmail],
  ['payment_amount', (a) => (a.payment ? a.payment.amount.amount : '')],
  ['payment_currency', (a) => (a.payment ? a.payment.amount.currency : '')],
  ['payment_status', (a) => (a.payment ? a.payment.status : '')],
  ['cancellation_reason', (a) => a.cancellationReason],
  ['created_at', (a) => a.createdAt],
];

/** The whole file: a header row, then one row per appointment, CRLF line ends. */
export function bookingsCSV(items, names) {
  const lines = [CSV_COLUMNS.map(([name]) => name).join(',')];
  for (const a of items) lines.push(CSV_COLUMNS.map(([, value]) => csvField(value(a, names))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

export async function render(ctx) {
  const { t, api, root, query } = ctx;
  const agents = await agentsOf(ctx, true);
  const names = byId(agents);
  const services = [...new Set(agents.flatMap((a) => Object.keys(a.serviceDurations || {})))].sort();

  const status = select([['', t('bookings.anyStatus')], ...STATUSES.map((s) => [s, t(`apptStatus.${s}`)])],
    { id: 'bk-status', value: STATUSES.includes(query.get('status')) ? query.get('status') : '' });
  const service = h('input', { id: 'bk-service', maxlength: '60', autocomplete: 'off', list: 'bk-services', value: query.get('serviceType') || '' });
  const serviceList = h('datalist', { id: 'bk-services' }, services.map((s) => h('option', { value: s })));
  const source = select([['', t('bookings.anySource')], ...SOURCES.map((s) => [s, t(`apptSource.${s}`)])],
    { id: 'bk-source', value: SOURCES.includes(query.get('source')) ? query.get('source') : '' });
  const agent = select([['', t('calendar.allAgents')], ...agents.map((a) => [a.id, a.name])],
    { id: 'bk-agent', value: names.has(query.get('agent')) ? query.get('agent') : '' });
  const from = h('input', { type: 'date', id: 'bk-from', value: validDay(query.get('from')) || '' });
  const to = h('input', { type: 'date', id: 'bk-to', value: validDay(query.get('to')) || '' });
  const size = select(SIZES.map((n) => [String(n), number(n)]), { id: 'bk-size', value: SIZES.includes(Number(query.get('size'))) ? query.get('size') : '25' });
  const form = h('form', { class: 'filters', id: 'bookings-filters' },
    field(t('field.status'), status), field(t('calendar.service'), service), serviceList, field(t('bookings.source'), source),
    field(t('calendar.agent'), agent), field(t('bookings.from'), from), field(t('bookings.to'), to, { hint: t('bookings.rangeHint') }),
    field(t('bookings.perPage'), size),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'bk-apply' }),
      button(t('action.reset'), { id: 'bk-reset', on: () => { form.reset(); status.value = ''; service.value = ''; source.value = ''; agent.value = ''; from.value = ''; to.value = ''; first(); } })));
  const line = statusLine();
  line.id = 'bookings-status';
  const list = h('div', { id: 'bookings-list', class: 'market-list' });
  const prev = button(t('action.previous'), { id: 'bookings-prev', disabled: true });
  const next = button(t('action.next'), { id: 'bookings-next', disabled: true });
  const pageLabel = h('span', { class: 'pager-label', id: 'bookings-page' });
  const exportButton = button(t('bookings.export'), { id: 'bookings-export' });
  const download = h('a', { id: 'bookings-download', hidden: true, class: 'download' }, t('bookings.download'));

  root.append(
    pageHeader(t('bookings.title'), exportButton),
    h('p', { class: 'hint' }, t('bookings.intro')),
    form, line, download, list,
    h('nav', { class: 'pager', 'aria-label': t('bookings.paging') }, prev, pageLabel, next));

  /** The API's filter for what the form says (no limit, no cursor); null when the range is wrong. */
  function filter() {
    const params = new URLSearchParams();
    if (status.value) params.set('status', status.value);
    if (service.value.trim()) params.set('serviceType', service.value.trim());
    if (source.value) params.set('source', source.value);
    if (agent.value) params.set('agentId', agent.value);
    if (from.value && to.value && from.value > to.value) { say(line, t('bookings.badRange'), 'error'); return null; }
    if (from.value) params.set('from', dayStart(from.value).toISOString());
    // the last day is included: up to the midnight after it
    if (to.value) params.set('to', dayStart(addDays(to.value, 1)).toISOString());
    return params;
  }

  // cursors of the pages before this one, so "Previous" goes back without the API paging backwards
  let cursors = [];
  let current = null;
  let nextCursor = null;

  async function load() {
    const params = filter();
    if (!params) return;
    ctx.setQuery({
      status: status.value, serviceType: service.value.trim(), source: source.value, agent: agent.value, from: from.value, to: to.value,
      size: size.value === '25' ? '' : size.value,
    });
    params.set('limit', size.value);
    if (current) params.set('cursor', current);
    say(line, t('app.loading'));
    const answer = await api('GET', `/v1/appointments?${params}`);
    if (!answer.ok) { say(line, calendarError(t, answer), 'error'); clear(list); return; }
    nextCursor = answer.data.nextCursor || null;
    draw(answer.data.items);
    prev.disabled = cursors.length === 0;
    next.disabled = !nextCursor;
    pageLabel.textContent = t('bookings.page', { page: number(cursors.length + 1) });
    say(line, answer.data.items.length ? t('bookings.count', { count: number(answer.data.items.length) }) : t('bookings.none'));
  }

  function draw(items) {
    clear(list).append(table({
      caption: t('bookings.caption'), captionHidden: true, rows: items, empty: t('bookings.none'),
      columns: [
        {
          label: t('calendar.when'), cell: (a) => h('span', { class: 'bk-when', dataset: { start: a.startsAt }, title: fullRangeText(a.startsAt, a.endsAt) },
            h('span', { class: 'bk-day' }, dateText(a.startsAt)), ' ', h('span', { class: 'bk-time' }, `${timeText(a.startsAt)}–${timeText(a.endsAt)}`)),
        },
        { label: t('calendar.apptTitle'), cell: (a) => h('a', { href: `#/calendar/${encodeURIComponent(a.id)}`, class: 'bk-title' }, a.title) },
        { label: t('calendar.agent'), cell: (a) => h('span', { class: 'bk-agent' }, agentName(names, a.agentId)) },
        { label: t('calendar.contact'), cell: (a) => h('span', { class: 'bk-contact' }, [a.contactName, a.contactPhone, a.contactEmail].filter(Boolean).join(' · ')) },
        {
          label: t('calendar.service'), cell: (a) => h('span', { class: 'bk-kind' }, h('span', { class: 'bk-service' }, a.serviceType || ''), a.serviceType ? ' · ' : '',
            h('span', { class: 'bk-type', dataset: { type: a.type } }, TYPES.includes(a.type) ? t(`apptType.${a.type}`) : a.type)),
        },
        { label: t('bookings.source'), cell: (a) => h('span', { class: 'bk-source', dataset: { source: a.source } }, t(`apptSource.${a.source}`)) },
        { label: t('field.status'), cell: (a) => statusBadge(t, a.status) },
        { label: t('calendar.payment'), className: 'num', cell: (a) => paymentSpan(t, a.payment) },
      ],
    }));
  }

  function first() { cursors = []; current = null; return load(); }

  exportButton.addEventListener('click', async () => {
    const params = filter();
    if (!params) return;
    exportButton.disabled = true;
    say(line, t('bookings.exporting'));
    const answer = await allAppointments(api, params);
    exportButton.disabled = false;
    if (answer.error) { say(line, calendarError(t, answer.error), 'error'); return; }
    if (download.href) URL.revokeObjectURL(download.href);
    const file = new Blob([bookingsCSV(answer.items, names)], { type: 'text/csv;charset=utf-8' });
    download.href = URL.createObjectURL(file);
    download.dataset.bytes = String(file.size);
    download.dataset.rows = String(answer.items.length);
    download.download = `bookings-${from.value || 'start'}-to-${to.value || 'end'}.csv`;
    download.hidden = false;
    download.click();
    say(line, answer.truncated ? t('bookings.exportedSome', { count: number(answer.items.length) }) : t('bookings.exported', { count: number(answer.items.length) }), 'ok');
  });

  form.addEventListener('submit', (event) => { event.preventDefault(); first(); });
  size.addEventListener('change', () => first());
  prev.addEventListener('click', () => { current = cursors.pop() || null; load(); });
  next.addEventListener('click', () => { if (!nextCursor) return; cursors.push(current); current = nextCursor; load(); });
  await load();
}
