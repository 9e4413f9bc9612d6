// Marketplace · products: searched by words (name and description) and by metadata (`fuel=diesel` or a JSON object
// the product's metadata must contain), filtered by vendor, category and availability (all in the address); for the
// bookkeepers, "New product", edit, and "Mark available" / "Mark unavailable".
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select, badge } from '../lib/ui.js';
import {
  subnav, marketError, vendorsOf, byId, nameOf, moneySpan, productDialog, metadataOf, metadataText, forget,
} from './marketplace-shared.js';

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/products');
  const canEdit = can('PATCH /v1/products/{id}');
  const vendors = await vendorsOf(ctx);
  const vendorMap = byId(vendors);

  const search = h('input', { id: 'products-q', type: 'search', maxlength: '200', autocomplete: 'off', value: query.get('q') || '' });
  const metadata = h('input', { id: 'products-metadata', maxlength: '2000', autocomplete: 'off', spellcheck: 'false', value: query.get('metadata') || '' });
  const vendor = select([['', t('market.allVendors')], ...vendors.map((v) => [v.id, v.name])],
    { id: 'products-vendor', value: vendorMap.has(query.get('vendorId')) ? query.get('vendorId') : '' });
  const category = h('input', { id: 'products-category', maxlength: '100', autocomplete: 'off', value: query.get('category') || '' });
  const availability = select([['', t('market.anyAvailability')], ['true', t('market.available')], ['false', t('market.unavailable')]],
    { id: 'products-available', value: ['true', 'false'].includes(query.get('available')) ? query.get('available') : '' });
  const filters = h('form', { class: 'filters', id: 'products-filters' },
    field(t('market.searchWords'), search), field(t('market.metadata'), metadata, { hint: t('market.metadataFilterHint') }),
    field(t('market.vendor'), vendor), field(t('market.category'), category), field(t('market.availability'), availability),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'products-apply' })));
  const line = statusLine();
  line.id = 'products-status-line';
  const list = h('div', { id: 'products-list', class: 'market-list' });
  const more = button(t('action.loadMore'), { id: 'products-more', hidden: true });

  root.append(
    pageHeader(t('market.productsTitle'),
      canCreate ? button(t('market.newProduct'), { kind: 'primary', write: true, id: 'product-new', on: create }) : null),
    subnav(ctx, 'products'),
    h('p', { class: 'hint' }, t('market.productsIntro')),
    filters, line, list, more);

  let items = [];
  let cursor = null;

  async function load(reset, message) {
    if (reset) { items = []; cursor = null; }
    const meta = metadataOf(metadata.value);
    if (!meta) return say(line, t('market.badMetadata'), 'error');
    if (!message) say(line, t('app.loading'));
    const qs = [['q', search.value.trim()], ['metadata', Object.keys(meta).length ? JSON.stringify(meta) : ''], ['vendorId', vendor.value],
      ['category', category.value.trim()], ['available', availability.value]]
      .filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
    const answer = await api('GET', `/v1/products?limit=100${qs}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(line, marketError(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    draw();
    if (message) say(line, message, 'ok'); else say(line, t('market.productCount', { count: number(items.length) }));
    return items;
  }

  function draw() {
    const columns = [
      { label: t('field.name'), cell: (p) => h('span', { class: 'product-name' }, p.name) },
      { label: t('market.vendor'), cell: (p) => h('span', { class: 'product-vendor' }, nameOf(vendorMap, p.vendorId)) },
      { label: t('market.category'), cell: (p) => p.category || '' },
      { label: t('market.price'), className: 'num', cell: (p) => moneySpan(p.price, 'product-price') },
      { label: t('market.metadata'), cell: (p) => h('span', { class: 'mono product-metadata' }, metadataText(p.metadata)) },
      {
        label: t('market.availability'),
        cell: (p) => h('span', { class: 'product-availability', dataset: { available: String(p.available) } },
          badge(p.available ? t('market.available') : t('market.unavailable'), p.available ? 'active' : 'inactive')),
      },
    ];
    if (canEdit) {
      columns.push({
        label: t('field.actions'), cell: (p) => h('div', { class: 'row-actions' },
          button(t('action.edit'), { dataset: { write: '', action: 'edit' }, 'aria-label': t('market.editNamed', { name: p.name }), on: () => edit(p) }),
          button(p.available ? t('market.markUnavailable') : t('market.markAvailable'), {
            dataset: { write: '', action: 'availability' }, on: (event) => toggle(p, event.currentTarget),
            'aria-label': t(p.available ? 'market.markUnavailableNamed' : 'market.markAvailableNamed', { name: p.name }),
          })),
      });
    }
    clear(list).append(table({ caption: t('market.productsCaption'), captionHidden: true, rows: items, columns, empty: t('market.noProducts') }));
  }

  function create() {
    productDialog(ctx, null, { vendorId: vendor.value }).then(async (product) => {
      if (!product) return;
      const words = t('market.productCreated', { name: product.name });
      ctx.announce(words);
      search.value = product.name;
      metadata.value = '';
      category.value = '';
      availability.value = '';
      vendor.value = '';
      ctx.setQuery({ q: product.name });
      await load(true, words);
    });
  }

  function edit(p) {
    productDialog(ctx, p).then(async (product) => {
      if (!product) return;
      const words = t('market.productSaved', { name: product.name });
      ctx.announce(words);
      await load(true, words);
    });
  }

  async function toggle(p, control) {
    control.disabled = true;
    const result = await api('PATCH', `/v1/products/${encodeURIComponent(p.id)}`, { body: { available: !p.available } });
    control.disabled = false;
    if (!result.ok) return say(line, marketError(t, result), 'error');
    forget('/v1/products');
    const words = t(result.data.available ? 'market.nowAvailable' : 'market.nowUnavailable', { name: p.name });
    ctx.announce(words);
    return load(true, words);
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.setQuery({ q: search.value.trim(), metadata: metadata.value.trim(), vendorId: vendor.value, category: category.value.trim(), available: availability.value });
    load(true);
  });
  more.addEventListener('click', () => load(false));
  await load(true);
}
