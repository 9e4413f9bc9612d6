// Insurance: the review queue, oldest first, by status (pending unless chosen, in the address), each quote opening its
// page (insurance-quote.js: its documents, approve or ask for changes); for the writers, "New quote" for a buyer or a
// phone number, then its documents are uploaded on its page.
import { h, clear } from '../lib/dom.js';
import { number, dateTimeShort } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select, dialog, newKey } from '../lib/ui.js';
import { loadAll } from '../lib/cached-list.js';
import { CURRENCIES, amountOf, amountProblem } from './wallet-shared.js';
import { STATUSES, statusBadge, insuranceError, customerOf } from './insurance-shared.js';

/** The "new quote" dialog. Resolves to the quote, or undefined when cancelled. */
function quoteDialog(ctx, buyers) {
  const { t, api } = ctx;
  const buyer = buyers.length ? select([['', t('insurance.noBuyer')], ...buyers.map((b) => [b.id, `${b.name}${b.phone ? ` · ${b.phone}` : ''}`])], { id: 'iq-buyer' }) : null;
  const name = h('input', { id: 'iq-name', maxlength: '200', autocomplete: 'off' });
  const phone = h('input', { id: 'iq-phone', type: 'tel', maxlength: '20', autocomplete: 'off' });
  const insurer = h('input', { id: 'iq-insurer', required: true, maxlength: '200', autocomplete: 'off' });
  const cover = h('input', { id: 'iq-cover', required: true, maxlength: '100', autocomplete: 'off' });
  const currency = select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'iq-currency', value: 'KES' });
  const premium = h('input', { id: 'iq-premium', inputmode: 'decimal', autocomplete: 'off' });
  const key = newKey();
  return dialog({
    t, title: t('insurance.newTitle'), submitLabel: t('insurance.create'),
    body: h('div', { id: 'iq-form', class: 'form-grid' },
      h('p', { class: 'hint' }, t('insurance.newIntro')),
      buyer ? field(t('insurance.buyer'), buyer, { hint: t('insurance.buyerHint') }) : null,
      field(t('insurance.customerName'), name), field(t('insurance.customerPhone'), phone, { hint: t('field.phoneHint') }),
      field(t('insurance.insurer'), insurer), field(t('insurance.cover'), cover, { hint: t('insurance.coverHint') }),
      field(t('wallet.currency'), currency), field(t('insurance.premiumOptional'), premium, { hint: t('insurance.premiumHint') })),
    onSubmit: async ({ close, fail }) => {
      const body = { currency: currency.value };
      if (buyer && buyer.value) body.buyerId = buyer.value;
      if (phone.value.trim()) body.customerPhone = phone.value.trim();
      if (name.value.trim()) body.customerName = name.value.trim();
      if (!body.buyerId && !body.customerPhone) return fail(t('insurance.needCustomer'));
      if (!insurer.value.trim() || !cover.value.trim()) return fail(t('insurance.needInsurer'));
      body.insurer = insurer.value.trim();
      body.coverType = cover.value.trim();
      if (premium.value.trim()) {
        const problem = amountProblem(premium.value.trim(), currency.value);
        if (problem) return fail(t(problem, { currency: currency.value }));
        body.premium = premium.value.trim();
      }
      const result = await api('POST', '/v1/insurance-quotes', { body, idempotencyKey: key });
      if (!result.ok) return fail(insuranceError(t, result));
      close(result.data);
    },
  }).done;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/insurance-quotes');
  const buyerList = await loadAll(ctx, '/v1/buyers', 'GET /v1/buyers');
  const buyers = new Map(buyerList.map((b) => [b.id, b]));
  const wanted = query.get('status');
  const status = select([...STATUSES.map((s) => [s, t(`insuranceStatus.${s}`)]), ['all', t('insurance.allStatuses')]],
    { id: 'insurance-status', value: STATUSES.includes(wanted) || wanted === 'all' ? wanted : 'pending' });
  const filters = h('form', { class: 'filters', id: 'insurance-filters' }, field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'insurance-apply' })));
  const line = statusLine();
  line.id = 'insurance-status-line';
  const list = h('div', { id: 'insurance-list', class: 'market-list' });
  const more = button(t('action.loadMore'), { id: 'insurance-more', hidden: true });

  root.append(
    pageHeader(t('insurance.title'),
      canCreate ? button(t('insurance.new'), { kind: 'primary', write: true, id: 'insurance-new', on: create }) : null),
    h('p', { class: 'hint' }, t('insurance.intro')),
    filters, line, list, more);

  let items = [];
  let cursor = null;

  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    say(line, t('app.loading'));
    const qs = status.value === 'all' ? '' : `&status=${status.value}`;
    const answer = await api('GET', `/v1/insurance-quotes?limit=100${qs}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(line, insuranceError(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    clear(list).append(table({
      caption: t('insurance.caption'), captionHidden: true, rows: items, empty: t('insurance.none'),
      columns: [
        { label: t('insurance.received'), cell: (q) => h('a', { href: `#/insurance/${encodeURIComponent(q.id)}`, class: 'insurance-link' }, dateTimeShort(q.createdAt)) },
        { label: t('insurance.customer'), cell: (q) => h('span', { class: 'insurance-customer' }, customerOf(q, buyers)) },
        { label: t('insurance.insurer'), cell: (q) => q.insurer },
        { label: t('insurance.cover'), cell: (q) => q.coverType },
        { label: t('insurance.premium'), className: 'num', cell: (q) => (q.premium ? h('span', { class: 'insurance-premium', dataset: { amount: q.premium.amount } }, amountOf(q.premium)) : t('insurance.notPriced')) },
        { label: t('field.status'), cell: (q) => statusBadge(t, q.status) },
      ],
    }));
    say(line, t('insurance.count', { count: number(items.length) }));
    return items;
  }

  function create() {
    quoteDialog(ctx, buyerList).then((q) => {
      if (!q) return;
      ctx.announce(t('insurance.created'));
      ctx.navigate(`#/insurance/${encodeURIComponent(q.id)}`);
    });
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.setQuery({ status: status.value });
    load(true);
  });
  more.addEventListener('click', () => load(false));
  await load(true);
}
