// Marketplace · purchases: newest first, by status (in the address), each with what the buyer pays, the commission
// and what the vendor receives, opening its page (marketplace-purchase.js).
import { h, clear } from '../lib/dom.js';
import { number, dateTimeShort } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table } from '../lib/ui.js';
import { subnav, marketError, statusBadge, statusSelect, vendorsOf, buyersOf, byId, nameOf, moneySpan, PURCHASE_STATUSES } from './marketplace-shared.js';

export async function render(ctx) {
  const { t, api, root, query } = ctx;
  const [vendorList, buyerList] = await Promise.all([vendorsOf(ctx), buyersOf(ctx)]);
  const vendors = byId(vendorList);
  const buyers = byId(buyerList);

  const status = statusSelect(t, PURCHASE_STATUSES, 'purchases-status', query.get('status'));
  const filters = h('form', { class: 'filters', id: 'purchases-filters' }, field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'purchases-apply' })));
  const line = statusLine();
  line.id = 'purchases-status-line';
  const list = h('div', { id: 'purchases-list', class: 'market-list' });
  const more = button(t('action.loadMore'), { id: 'purchases-more', hidden: true });

  root.append(pageHeader(t('market.purchasesTitle')), subnav(ctx, 'purchases'),
    h('p', { class: 'hint' }, t('market.purchasesIntro')), filters, line, list, more);

  let items = [];
  let cursor = null;

  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    say(line, t('app.loading'));
    const answer = await api('GET', `/v1/purchases?limit=50${status.value ? `&status=${status.value}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(line, marketError(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    clear(list).append(table({
      caption: t('market.purchasesCaption'), captionHidden: true, rows: items, empty: t('market.noPurchases'),
      columns: [
        { label: t('field.created'), cell: (p) => h('a', { href: `#/marketplace/purchases/${encodeURIComponent(p.id)}`, class: 'purchase-link' }, dateTimeShort(p.createdAt)) },
        { label: t('market.buyer'), cell: (p) => nameOf(buyers, p.buyerId) },
        { label: t('market.vendor'), cell: (p) => nameOf(vendors, p.vendorId) },
        { label: t('market.amount'), className: 'num', cell: (p) => moneySpan(p.amount, 'purchase-amount') },
        { label: t('market.commission'), className: 'num', cell: (p) => moneySpan(p.commission, 'purchase-commission') },
        { label: t('market.vendorNet'), className: 'num', cell: (p) => moneySpan(p.vendorNet, 'purchase-net') },
        { label: t('field.status'), cell: (p) => statusBadge(t, 'purchase', p.status) },
      ],
    }));
    say(line, t('market.purchaseCount', { count: number(items.length) }));
    return items;
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.setQuery({ status: status.value });
    load(true);
  });
  more.addEventListener('click', () => load(false));
  await load(true);
}
