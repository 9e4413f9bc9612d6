// Marketplace · intents: what buyers asked for, newest first, by status (in the address), each opening its page
// (marketplace-intent.js: the vendors ranked for it, its quotes, accept one); for the sellers, "New intent" for a
// buyer (what they want: a category, a region, a product, in words).
import { h, clear } from '../lib/dom.js';
import { number, dateTimeShort } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select, dialog } from '../lib/ui.js';
import {
  subnav, marketError, statusBadge, statusSelect, buyersOf, productsOf, byId, nameOf, INTENT_STATUSES, CHANNELS,
} from './marketplace-shared.js';

const LIFETIMES = [3600, 86400, 7 * 86400, 30 * 86400];

/** The "new intent" dialog. Resolves to the intent, or undefined when cancelled. */
export async function intentDialog(ctx, { buyerId = '' } = {}) {
  const { t, api } = ctx;
  const [buyers, products] = await Promise.all([buyersOf(ctx, true), productsOf(ctx)]);
  const buyer = select([['', t('market.chooseBuyer')], ...buyers.map((b) => [b.id, `${b.name}${b.phone ? ` · ${b.phone}` : ''} · ${b.currency}`])],
    { id: 'intent-buyer', required: true, value: buyerId });
  const channel = select(CHANNELS.map((c) => [c, t(`marketChannel.${c}`)]), { id: 'intent-channel', value: 'web' });
  const category = h('input', { id: 'intent-category', maxlength: '100', autocomplete: 'off' });
  const region = h('input', { id: 'intent-region', maxlength: '100', autocomplete: 'off' });
  const product = select([['', t('market.anyProduct')], ...products.filter((p) => p.available).map((p) => [p.id, `${p.name} · ${p.price.currency}`])],
    { id: 'intent-product' });
  const description = h('textarea', { id: 'intent-description', maxlength: '2000', rows: '3' });
  const lifetime = select(LIFETIMES.map((s) => [String(s), t(`market.lifetime.${s}`)]), { id: 'intent-lifetime', value: '86400' });
  return dialog({
    t, title: t('market.newIntentTitle'), submitLabel: t('market.createIntent'),
    body: h('div', { id: 'intent-form', class: 'form-grid' },
      h('p', { class: 'hint' }, t('market.intentIntro')),
      field(t('market.buyer'), buyer), field(t('market.channel'), channel),
      field(t('market.category'), category, { hint: t('market.intentCategoryHint') }), field(t('market.region'), region),
      field(t('market.product'), product), field(t('market.description'), description), field(t('market.expiresIn'), lifetime)),
    onSubmit: async ({ close, fail }) => {
      if (!buyer.value) return fail(t('market.needBuyer'));
      const body = { buyerId: buyer.value, channel: channel.value, expiresInSeconds: Number(lifetime.value) };
      if (category.value.trim()) body.category = category.value.trim();
      if (region.value.trim()) body.region = region.value.trim();
      if (product.value) body.productId = product.value;
      if (description.value.trim()) body.description = description.value.trim();
      const result = await api('POST', '/v1/intents', { body });
      if (!result.ok) return fail(marketError(t, result));
      close(result.data);
    },
  }).done;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/intents');
  const buyers = byId(await buyersOf(ctx));

  const status = statusSelect(t, INTENT_STATUSES, 'intents-status', query.get('status'));
  const filters = h('form', { class: 'filters', id: 'intents-filters' }, field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'intents-apply' })));
  const line = statusLine();
  line.id = 'intents-status-line';
  const list = h('div', { id: 'intents-list', class: 'market-list' });
  const more = button(t('action.loadMore'), { id: 'intents-more', hidden: true });

  root.append(
    pageHeader(t('market.intentsTitle'),
      canCreate ? button(t('market.newIntent'), { kind: 'primary', write: true, id: 'intent-new', on: create }) : null),
    subnav(ctx, 'intents'),
    h('p', { class: 'hint' }, t('market.intentsIntro')),
    filters, line, list, more);

  let items = [];
  let cursor = null;

  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    say(line, t('app.loading'));
    const answer = await api('GET', `/v1/intents?limit=50${status.value ? `&status=${status.value}` : ''}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(line, marketError(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    clear(list).append(table({
      caption: t('market.intentsCaption'), captionHidden: true, rows: items, empty: t('market.noIntents'),
      columns: [
        { label: t('field.created'), cell: (i) => h('a', { href: `#/marketplace/intents/${encodeURIComponent(i.id)}`, class: 'intent-link' }, dateTimeShort(i.createdAt)) },
        { label: t('market.buyer'), cell: (i) => h('span', { class: 'intent-buyer' }, nameOf(buyers, i.buyerId)) },
        { label: t('market.wants'), cell: (i) => h('span', { class: 'intent-wants' }, [i.category, i.region, i.description].filter(Boolean).join(' · ')) },
        { label: t('market.channel'), cell: (i) => t(`marketChannel.${i.channel}`) },
        { label: t('field.status'), cell: (i) => statusBadge(t, 'intent', i.status) },
        { label: t('field.expires'), cell: (i) => dateTimeShort(i.expiresAt) },
      ],
    }));
    say(line, t('market.intentCount', { count: number(items.length) }));
    return items;
  }

  function create() {
    intentDialog(ctx).then((intent) => {
      if (!intent) return;
      ctx.announce(t('market.intentCreated'));
      ctx.navigate(`#/marketplace/intents/${encodeURIComponent(intent.id)}`);
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
