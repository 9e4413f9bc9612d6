// Marketplace: the vendors (searched by name, filtered by region, category and status, in the address), each with
// what the ranking reads of it (region, categories, rating, fulfilment rate, response time, trips); for the
// bookkeepers, "New vendor", edit, and suspend or reactivate. The other parts of the marketplace are one click away
// in its sub-menu (marketplace-*.js).
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, confirmAction } from '../lib/ui.js';
import {
  subnav, marketError, statusBadge, statusSelect, vendorDialog, ratingText, fulfilmentText, responseText, VENDOR_STATUSES, forget,
} from './marketplace-shared.js';

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/vendors');
  const canEdit = can('PATCH /v1/vendors/{id}');

  const search = h('input', { id: 'vendors-q', type: 'search', maxlength: '100', autocomplete: 'off', value: query.get('q') || '' });
  const region = h('input', { id: 'vendors-region', maxlength: '100', autocomplete: 'off', value: query.get('region') || '' });
  const category = h('input', { id: 'vendors-category', maxlength: '100', autocomplete: 'off', value: query.get('category') || '' });
  const status = statusSelect(t, VENDOR_STATUSES, 'vendors-status', query.get('status'));
  const filters = h('form', { class: 'filters', id: 'vendors-filters' },
    field(t('market.searchName'), search), field(t('market.region'), region), field(t('market.category'), category),
    field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'vendors-apply' })));
  const line = statusLine();
  line.id = 'vendors-status-line';
  const list = h('div', { id: 'vendors-list', class: 'market-list' });
  const more = button(t('action.loadMore'), { id: 'vendors-more', hidden: true });

  root.append(
    pageHeader(t('market.title'),
      canCreate ? button(t('market.newVendor'), { kind: 'primary', write: true, id: 'vendor-new', on: create }) : null),
    subnav(ctx, 'vendors'),
    h('p', { class: 'hint' }, t('market.vendorsIntro')),
    filters, line, list, more);

  let items = [];
  let cursor = null;

  async function load(reset, message) {
    if (reset) { items = []; cursor = null; }
    if (!message) say(line, t('app.loading'));
    const qs = [['q', search.value.trim()], ['region', region.value.trim()], ['category', category.value.trim()], ['status', status.value]]
      .filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
    const answer = await api('GET', `/v1/vendors?limit=100${qs}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(line, marketError(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    draw();
    if (message) say(line, message, 'ok'); else say(line, t('market.vendorCount', { count: number(items.length) }));
    return items;
  }

  function draw() {
    const columns = [
      { label: t('field.name'), cell: (v) => h('span', { class: 'vendor-name' }, v.name) },
      { label: t('market.region'), cell: (v) => h('span', { class: 'vendor-region' }, v.region || '') },
      { label: t('market.categories'), cell: (v) => h('span', { class: 'vendor-categories' }, v.categories.join(', ')) },
      { label: t('market.rating'), className: 'num', cell: (v) => h('span', { class: 'vendor-rating', dataset: { value: v.rating ?? '' } }, ratingText(t, v)) },
      { label: t('market.fulfilment'), className: 'num', cell: (v) => h('span', { class: 'vendor-fulfilment', dataset: { value: v.fulfilmentRate ?? '' } }, fulfilmentText(v)) },
      { label: t('market.response'), className: 'num', cell: (v) => h('span', { class: 'vendor-response' }, responseText(t, v)) },
      { label: t('market.trips'), className: 'num', cell: (v) => h('span', { class: 'vendor-trips' }, number(v.totalTrips)) },
      { label: t('wallet.currency'), cell: (v) => v.currency },
      { label: t('field.status'), cell: (v) => statusBadge(t, 'vendor', v.status) },
    ];
    if (canEdit) {
      columns.push({
        label: t('field.actions'), cell: (v) => h('div', { class: 'row-actions' },
          button(t('action.edit'), { write: true, dataset: { write: '', action: 'edit' }, 'aria-label': t('market.editNamed', { name: v.name }), on: () => edit(v) }),
          v.status === 'active'
            ? button(t('market.suspend'), { kind: 'danger-quiet', dataset: { write: '', action: 'suspend' }, 'aria-label': t('market.suspendNamed', { name: v.name }), on: () => setStatus(v, 'suspended') })
            : button(t('market.reactivate'), { dataset: { write: '', action: 'reactivate' }, 'aria-label': t('market.reactivateNamed', { name: v.name }), on: () => setStatus(v, 'active') })),
      });
    }
    clear(list).append(table({ caption: t('market.vendorsCaption'), captionHidden: true, rows: items, columns, empty: t('market.noVendors') }));
  }

  function create() {
    vendorDialog(ctx).then(async (vendor) => {
      if (!vendor) return;
      const words = t('market.vendorCreated', { name: vendor.name });
      ctx.announce(words);
      search.value = vendor.name;
      region.value = '';
      category.value = '';
      status.value = '';
      ctx.setQuery({ q: vendor.name });
      await load(true, words);
    });
  }

  function edit(v) {
    vendorDialog(ctx, v).then(async (vendor) => {
      if (!vendor) return;
      const words = t('market.vendorSaved', { name: vendor.name });
      ctx.announce(words);
      await load(true, words);
    });
  }

  function setStatus(v, to) {
    const verb = to === 'suspended' ? 'suspend' : 'reactivate';
    confirmAction({
      t, title: t(`market.${verb}Title`, { name: v.name }), message: t(`market.${verb}Body`), confirmLabel: t(`market.${verb}`),
      destructive: to === 'suspended',
      onConfirm: async () => {
        const result = await api('PATCH', `/v1/vendors/${encodeURIComponent(v.id)}`, { body: { status: to } });
        return result.ok ? null : marketError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      forget('/v1/vendors');
      const words = t(`market.${verb}Done`, { name: v.name });
      ctx.announce(words);
      await load(true, words);
    });
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.setQuery({ q: search.value.trim(), region: region.value.trim(), category: category.value.trim(), status: status.value });
    load(true);
  });
  more.addEventListener('click', () => load(false));
  await load(true);
}
