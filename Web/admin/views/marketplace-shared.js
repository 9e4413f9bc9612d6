// What the marketplace pages share: their sub-menu (vendors, products, buyers, commission, intents, purchases, each
// shown when the person may read its list), the marketplace's vocabulary, the words for its refusals, whole lists
// of vendors, buyers and products for names and pickers, and the vendor and product dialogs.
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { field, dialog, select, checkbox, badge, errorText } from '../lib/ui.js';
import { loadAll, forget } from '../lib/cached-list.js';
import { CURRENCIES, amountProblem, amountOf } from './wallet-shared.js';
import en from '../strings/en.js';

export const VENDOR_STATUSES = ['active', 'suspended'];
export const INTENT_STATUSES = ['pending', 'matched', 'expired', 'cancelled'];
export const QUOTE_STATUSES = ['pending', 'accepted', 'rejected', 'expired'];
export const PURCHASE_STATUSES = ['pending', 'completed', 'cancelled', 'failed'];
export const CHANNELS = ['web', 'whatsapp', 'sms', 'telegram', 'instagram', 'webchat', 'voice', 'lead_form', 'api'];
/** The ranking's components and their weights (Services/MarketplaceWallet/Sources/Domain/Marketplace.swift,
 * VendorRanking.weights): a component's contribution is at most its weight, the score at most 1. */
export const RANK_WEIGHTS = [
  ['category', 0.25], ['region', 0.15], ['rating', 0.15], ['fulfilment', 0.15], ['responseTime', 0.05], ['price', 0.2], ['eta', 0.05],
];

const TABS = [
  ['vendors', 'marketplace', 'GET /v1/vendors'],
  ['products', 'marketplace/products', 'GET /v1/products'],
  ['buyers', 'marketplace/buyers', 'GET /v1/buyers'],
  ['commission', 'marketplace/commission', 'GET /v1/commission-schedules'],
  ['intents', 'marketplace/intents', 'GET /v1/intents'],
  ['purchases', 'marketplace/purchases', 'GET /v1/purchases'],
];

/** The marketplace's own sub-menu, the current part marked. */
export function subnav(ctx, current) {
  const { t, can } = ctx;
  return h('nav', { class: 'subnav', 'aria-label': t('market.sections'), id: 'market-subnav' },
    h('ul', {}, TABS.filter(([, , op]) => can(op)).map(([key, path]) => h('li', {},
      h('a', { href: `#/${path}`, dataset: { tab: key }, 'aria-current': key === current ? 'page' : null }, t(`market.tab.${key}`))))));
}

/** Words for a refusal of the marketplace (its own sentence for its codes, the ledger's next), else the usual ones. */
export function marketError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `marketError.${code}` in en) return t(`marketError.${code}`);
  if (code && `walletError.${code}` in en) return t(`walletError.${code}`);
  return errorText(t, result);
}

export function statusBadge(t, kind, status) {
  const kinds = {
    active: 'active', suspended: 'suspended', pending: 'issued', matched: 'active', accepted: 'active', completed: 'redeemed',
    expired: 'expired', cancelled: 'inactive', rejected: 'inactive', failed: 'void',
  };
  return h('span', { class: `market-status ${kind}-status`, dataset: { status } }, badge(t(`marketStatus.${status}`), kinds[status] || 'inactive'));
}

/** "4.5 / 5", "90 %", "2 min": a vendor's ranking inputs in words ('' when unknown). */
export const ratingText = (t, v) => (v.rating == null ? '' : t('market.ratingOf', { rating: number(v.rating) }));
export const fulfilmentText = (v) => (v.fulfilmentRate == null ? '' : `${number(Math.round(v.fulfilmentRate * 100))} %`);
export function responseText(t, v) {
  if (v.avgResponseMs == null) return '';
  const minutes = v.avgResponseMs / 60000;
  return minutes < 1 ? t('market.seconds', { n: number(Math.round(v.avgResponseMs / 1000)) }) : t('market.minutes', { n: number(Math.round(minutes * 10) / 10) });
}

export const vendorsOf = (ctx, fresh = false) => loadAll(ctx, '/v1/vendors', 'GET /v1/vendors', { fresh });
export const buyersOf = (ctx, fresh = false) => loadAll(ctx, '/v1/buyers', 'GET /v1/buyers', { fresh });
export const productsOf = (ctx, fresh = false) => loadAll(ctx, '/v1/products', 'GET /v1/products', { fresh });
export { forget };

/** A map id → item, for names. */
export const byId = (items) => new Map(items.map((x) => [x.id, x]));

/** "Kigali Fuel" linked to nothing: a name, or the short id when the item is not known. */
export const nameOf = (map, id) => (map.get(id) ? map.get(id).name : String(id || '').slice(0, 8));

/** A money cell: the amount in words, the API's decimal string on the element (tests and tools read it). */
export const moneySpan = (m, className) => (m ? h('span', { class: className, dataset: { amount: m.amount } }, amountOf(m)) : '');

/** A number typed in a field, or null when empty; NaN when it is not a number. */
function numberIn(input) {
  const text = input.value.trim().replace(',', '.');
  if (!text) return null;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
}

/** The "new vendor" or "edit vendor" dialog. Resolves to the vendor, or undefined when cancelled. */
export function vendorDialog(ctx, vendor = null) {
  const { t, api } = ctx;
  const name = h('input', { id: 'vendor-name', required: true, maxlength: '200', autocomplete: 'off', value: vendor ? vendor.name : '' });
  const phone = h('input', { id: 'vendor-phone', type: 'tel', maxlength: '20', autocomplete: 'off', value: vendor && vendor.phone ? vendor.phone : '' });
  const region = h('input', { id: 'vendor-region', maxlength: '100', autocomplete: 'off', value: vendor && vendor.region ? vendor.region : '' });
  const categories = h('input', { id: 'vendor-categories', maxlength: '2000', autocomplete: 'off', value: vendor ? vendor.categories.join(', ') : '' });
  const rating = h('input', { id: 'vendor-rating', inputmode: 'decimal', autocomplete: 'off', value: vendor && vendor.rating != null ? String(vendor.rating) : '' });
  const fulfilment = h('input', {
    id: 'vendor-fulfilment', inputmode: 'decimal', autocomplete: 'off',
    value: vendor && vendor.fulfilmentRate != null ? String(Math.round(vendor.fulfilmentRate * 1000) / 10) : '',
  });
  const response = h('input', {
    id: 'vendor-response', inputmode: 'decimal', autocomplete: 'off',
    value: vendor && vendor.avgResponseMs != null ? String(Math.round(vendor.avgResponseMs / 6000) / 10) : '',
  });
  const trips = h('input', { id: 'vendor-trips', inputmode: 'numeric', autocomplete: 'off', value: vendor ? String(vendor.totalTrips) : '0' });
  const currency = vendor ? null : select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'vendor-currency', value: 'KES' });
  const d = dialog({
    t, title: vendor ? t('market.editVendorTitle', { name: vendor.name }) : t('market.newVendorTitle'),
    submitLabel: vendor ? t('action.save') : t('market.createVendor'),
    body: h('div', { id: 'vendor-form', class: 'form-grid' },
      field(t('field.name'), name),
      currency ? field(t('wallet.currency'), currency, { hint: t('market.vendorCurrencyHint') }) : null,
      field(t('market.phoneOptional'), phone, { hint: t('field.phoneHint') }),
      field(t('market.region'), region),
      field(t('market.categories'), categories, { hint: t('market.categoriesHint') }),
      field(t('market.rating'), rating, { hint: t('market.ratingHint') }),
      field(t('market.fulfilment'), fulfilment, { hint: t('market.fulfilmentHint') }),
      field(t('market.response'), response, { hint: t('market.responseHint') }),
      field(t('market.trips'), trips)),
    onSubmit: async ({ close, fail }) => {
      if (!name.value.trim()) return fail(t('market.needName'));
      const body = { name: name.value.trim() };
      if (currency) body.currency = currency.value;
      if (phone.value.trim()) body.phone = phone.value.trim();
      body.region = region.value.trim() || undefined;
      body.categories = categories.value.split(',').map((c) => c.trim()).filter(Boolean);
      const r = numberIn(rating);
      if (Number.isNaN(r) || (r != null && (r < 0 || r > 5))) return fail(t('market.badRating'));
      if (r != null) body.rating = r;
      const f = numberIn(fulfilment);
      if (Number.isNaN(f) || (f != null && (f < 0 || f > 100))) return fail(t('market.badFulfilment'));
      if (f != null) body.fulfilmentRate = Math.round(f * 10) / 1000;
      const m = numberIn(response);
      if (Number.isNaN(m) || (m != null && (m < 0 || m > 43200))) return fail(t('market.badResponse'));
      if (m != null) body.avgResponseMs = Math.round(m * 60000);
      const n = numberIn(trips);
      if (Number.isNaN(n) || (n != null && (n < 0 || !Number.isInteger(n)))) return fail(t('market.badTrips'));
      if (n != null) body.totalTrips = n;
      const result = vendor
        ? await api('PATCH', `/v1/vendors/${encodeURIComponent(vendor.id)}`, { body })
        : await api('POST', '/v1/vendors', { body });
      if (!result.ok) return fail(marketError(t, result));
      forget('/v1/vendors');
      close(result.data);
    },
  });
  return d.done;
}

/** Metadata typed as `key=value, key=value` or as a JSON object: the object, or null when it is neither. */
export function metadataOf(text) {
  const trimmed = (text || '').trim();
  if (!trimmed) return {};
  if (trimmed.startsWith('{')) {
    try {
      const value = JSON.parse(trimmed);
      return value && typeof value === 'object' && !Array.isArray(value) ? value : null;
    } catch { return null; }
  }
  const object = {};
  for (const part of trimmed.split(/[,\n]/).map((p) => p.trim()).filter(Boolean)) {
    const at = part.indexOf('=');
    if (at < 1) return null;
    object[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return object;
}

/** `{fuel: "diesel"}` as "fuel=diesel" (JSON when a value is not a string). */
export function metadataText(metadata) {
  const entries = Object.entries(metadata || {});
  if (entries.some(([, v]) => typeof v !== 'string')) return JSON.stringify(metadata);
  return entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** The "new product" or "edit product" dialog. Resolves to the product, or undefined when cancelled. */
export async function productDialog(ctx, product = null, { vendorId = '' } = {}) {
  const { t, api } = ctx;
  const vendors = (await vendorsOf(ctx)).filter((v) => v.status === 'active' || (product && v.id === product.vendorId));
  const vendorSelect = product ? null : select([['', t('market.chooseVendor')], ...vendors.map((v) => [v.id, `${v.name} · ${v.currency}`])],
    { id: 'product-vendor', required: true, value: vendorId });
  const name = h('input', { id: 'product-name', required: true, maxlength: '200', autocomplete: 'off', value: product ? product.name : '' });
  const description = h('textarea', { id: 'product-description', maxlength: '4000', rows: '3' });
  description.value = product && product.description ? product.description : '';
  const category = h('input', { id: 'product-category', maxlength: '100', autocomplete: 'off', value: product && product.category ? product.category : '' });
  const price = h('input', { id: 'product-price', required: true, inputmode: 'decimal', autocomplete: 'off', value: product ? product.price.amount : '' });
  const available = checkbox(t('market.availableNow'), { id: 'product-available', checked: product ? product.available : true });
  const metadata = h('input', { id: 'product-metadata', maxlength: '2000', autocomplete: 'off', spellcheck: 'false', value: product ? metadataText(product.metadata) : '' });
  const currencyOf = () => (product ? product.price.currency : (vendors.find((v) => v.id === vendorSelect.value) || {}).currency);
  const d = dialog({
    t, title: product ? t('market.editProductTitle', { name: product.name }) : t('market.newProductTitle'),
    submitLabel: product ? t('action.save') : t('market.createProduct'),
    body: h('div', { id: 'product-form', class: 'form-grid' },
      vendorSelect ? field(t('market.vendor'), vendorSelect) : null,
      field(t('field.name'), name),
      field(t('market.description'), description),
      field(t('market.category'), category),
      field(t('market.price'), price, { hint: t('market.priceHint') }),
      field(t('market.metadata'), metadata, { hint: t('market.metadataHint') }),
      available.el),
    onSubmit: async ({ close, fail }) => {
      if (vendorSelect && !vendorSelect.value) return fail(t('market.needVendor'));
      if (!name.value.trim()) return fail(t('market.needName'));
      const currency = currencyOf();
      const problem = amountProblem(price.value.trim(), currency);
      if (problem) return fail(t(problem, { currency }));
      const meta = metadataOf(metadata.value);
      if (!meta) return fail(t('market.badMetadata'));
      const body = {
        name: name.value.trim(), price: price.value.trim(), available: available.input.checked, metadata: meta,
      };
      if (description.value.trim()) body.description = description.value.trim();
      if (category.value.trim()) body.category = category.value.trim();
      if (vendorSelect) body.vendorId = vendorSelect.value;
      const result = product
        ? await api('PATCH', `/v1/products/${encodeURIComponent(product.id)}`, { body })
        : await api('POST', '/v1/products', { body });
      if (!result.ok) return fail(marketError(t, result));
      forget('/v1/products');
      close(result.data);
    },
  });
  return d.done;
}

/** A filters form's status select: all, then each status in words. */
export function statusSelect(t, statuses, id, value) {
  return select([['', t('market.allStatuses')], ...statuses.map((s) => [s, t(`marketStatus.${s}`)])],
    { id, value: statuses.includes(value) ? value : '' });
}

/** Replaces a list's box with a table, or its status line's error. */
export function drawInto(box, node) {
  clear(box).append(node);
}
