// Customers: the tenant's leads that converted (a won stage, a person, or a purchase), the latest converted first,
// found by a search (name, email, company or phone), a page at a time (cursor paging: previous / next), each with what
// the other services told the CRM: bookings, calls, messages, the amount spent per currency and the last contact. A
// row opens the lead's page (lead.js); "Export CSV" writes the page shown as an RFC 4180 file with a header row. An
// agent sees only the customers whose leads are assigned to them (the API says so).
import { h, clear } from '../lib/dom.js';
import { number, money, dateTime } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select } from '../lib/ui.js';
import { csvFile } from '../lib/csv.js';
import { peopleOf, assigneeText, leadError, leadName, maskedPhone, whenText } from './leads-shared.js';

const SIZES = [10, 25, 50, 100];

/** "1,250.50 KES + 20.00 USD": what a customer spent, each currency apart. */
export const spentText = (spent) => (spent || []).map((s) => money(s.amount, s.currency)).join(' + ');

/** The file's columns: [header, value of a customer]. */
export const CSV_COLUMNS = [
  ['lead_id', (c) => c.leadId],
  ['name', (c) => c.name],
  ['phone', (c) => c.phone],
  ['email', (c) => c.email],
  ['company', (c) => c.company],
  ['tags', (c) => (c.tags || []).join(';')],
  ['assignee_id', (c) => c.assigneeId],
  ['status', (c) => c.status],
  ['converted_at', (c) => c.convertedAt],
  ['last_contact_at', (c) => c.lastContactAt],
  ['bookings', (c) => c.bookings],
  ['calls', (c) => c.calls],
  ['messages', (c) => c.messages],
  ['spent', (c) => (c.spent || []).map((s) => `${s.amount} ${s.currency}`).join('; ')],
];

export async function render(ctx) {
  const { t, api, root, query } = ctx;
  const people = await peopleOf(ctx);

  const search = h('input', { id: 'customers-q', type: 'search', maxlength: '200', autocomplete: 'off', value: query.get('q') || '' });
  const size = select(SIZES.map((n) => [String(n), number(n)]), { id: 'customers-size', value: SIZES.includes(Number(query.get('size'))) ? query.get('size') : '25' });
  const form = h('form', { class: 'filters', id: 'customers-filters' },
    field(t('leads.search'), search, { hint: t('leads.searchHint') }),
    field(t('leads.perPage'), size),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'customers-apply' }),
      button(t('action.reset'), { id: 'customers-reset', on: () => { search.value = ''; first(); } })));
  const line = statusLine();
  line.id = 'customers-status';
  const list = h('div', { id: 'customers-list', class: 'market-list' });
  const prev = button(t('action.previous'), { id: 'customers-prev', disabled: true });
  const next = button(t('action.next'), { id: 'customers-next', disabled: true });
  const pageLabel = h('span', { class: 'pager-label', id: 'customers-page' });
  const exportButton = button(t('leads.export'), { id: 'customers-export', disabled: true });
  const download = h('a', { id: 'customers-download', hidden: true, class: 'download' }, t('leads.download'));

  root.append(
    pageHeader(t('customers.title'), exportButton),
    h('p', { class: 'hint' }, t('customers.intro')),
    form, line, download, list,
    h('nav', { class: 'pager', 'aria-label': t('customers.paging') }, prev, pageLabel, next));

  let cursors = [];
  let current = null;
  let nextCursor = null;
  let shown = [];

  async function load() {
    const q = search.value.trim();
    ctx.setQuery({ q, size: size.value === '25' ? '' : size.value });
    const params = new URLSearchParams({ limit: size.value });
    if (q) params.set('search', q);
    if (current) params.set('cursor', current);
    say(line, t('app.loading'));
    list.dataset.ready = 'false';
    const answer = await api('GET', `/v1/customers?${params}`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, leadError(t, answer), 'error'); clear(list); shown = []; exportButton.disabled = true; return; }
    nextCursor = answer.data.nextCursor || null;
    shown = answer.data.items;
    draw(shown, Boolean(q) || cursors.length > 0);
    prev.disabled = cursors.length === 0;
    next.disabled = !nextCursor;
    exportButton.disabled = !shown.length;
    pageLabel.textContent = t('leads.page', { page: number(cursors.length + 1) });
    list.dataset.ready = 'true';
    say(line, shown.length ? t('customers.count', { count: number(shown.length) }) : '');
  }

  function draw(items, filtered) {
    clear(list).append(table({
      caption: t('customers.caption'), captionHidden: true, rows: items.map((c) => ({ ...c, id: c.leadId })),
      empty: filtered ? t('customers.none') : t('customers.noneYet'),
      columns: [
        { label: t('field.name'), cell: (c) => h('a', { href: `#/leads/${encodeURIComponent(c.leadId)}`, class: 'customers-name' }, leadName(c)) },
        { label: t('leads.phone'), cell: (c) => h('span', { class: 'customers-phone mono' }, c.name ? maskedPhone(c.phone) : '') },
        { label: t('leads.assignee'), cell: (c) => h('span', { class: 'customers-assignee' }, assigneeText(ctx, people, c.assigneeId)) },
        { label: t('customers.bookings'), className: 'num', cell: (c) => h('span', { class: 'customers-bookings' }, number(c.bookings)) },
        { label: t('customers.calls'), className: 'num', cell: (c) => h('span', { class: 'customers-calls' }, number(c.calls)) },
        { label: t('customers.messages'), className: 'num', cell: (c) => h('span', { class: 'customers-messages' }, number(c.messages)) },
        { label: t('customers.spent'), className: 'num', cell: (c) => h('span', { class: 'customers-spent' }, spentText(c.spent) || '—') },
        {
          label: t('lead.lastContact'),
          cell: (c) => (c.lastContactAt ? h('time', { class: 'customers-contact', datetime: c.lastContactAt }, whenText(c.lastContactAt)) : t('lead.never')),
        },
        { label: t('customers.converted'), cell: (c) => h('time', { class: 'customers-converted', datetime: c.convertedAt }, dateTime(c.convertedAt)) },
      ],
    }));
  }

  function first() { cursors = []; current = null; return load(); }

  // the page shown, as a file
  exportButton.addEventListener('click', () => {
    if (download.href) URL.revokeObjectURL(download.href);
    const file = new Blob([csvFile(CSV_COLUMNS, shown)], { type: 'text/csv;charset=utf-8' });
    download.href = URL.createObjectURL(file);
    download.dataset.bytes = String(file.size);
    download.dataset.rows = String(shown.length);
    download.download = `customers-${new Date().toISOString().slice(0, 10)}-page-${cursors.length + 1}.csv`;
    download.hidden = false;
    download.click();
    say(line, t('customers.exported', { count: number(shown.length) }), 'ok');
  });

  form.addEventListener('submit', (event) => { event.preventDefault(); first(); });
  size.addEventListener('change', () => first());
  prev.addEventListener('click', () => { current = cursors.pop() || null; load(); });
  next.addEventListener('click', () => { if (!nextCursor) return; cursors.push(current); current = nextCursor; load(); });
  await load();
}
