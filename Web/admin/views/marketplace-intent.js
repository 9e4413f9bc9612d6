// One intent: what the buyer asked for; the tenant's vendors ranked for it, each with its score, every component's
// contribution as a bar and a number, and the reasons in words; its quotes; for the sellers, "Add a quote" for a
// vendor, accept a quote (the purchase opens with the buyer's funds held: the page then goes to it) or reject it,
// and cancel the intent.
import { h, clear } from '../lib/dom.js';
import { number, dateTime, dateTimeShort } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, details, select, dialog, confirmAction } from '../lib/ui.js';
import { amountProblem, amountOf } from './wallet-shared.js';
import {
  marketError, statusBadge, vendorsOf, productsOf, byId, nameOf, moneySpan, RANK_WEIGHTS, forget,
} from './marketplace-shared.js';

const RANKED_SHOWN = 12;

/** The "add a quote" dialog for a vendor of the ranking. Resolves to the quote, or undefined when cancelled. */
async function quoteDialog(ctx, intent, ranking) {
  const { t, api } = ctx;
  const [vendors, products] = await Promise.all([vendorsOf(ctx, true), productsOf(ctx, true)]);
  const active = vendors.filter((v) => v.status === 'active');
  // the ranking's order first (the best match at the top), then any vendor it does not name
  const order = new Map(ranking.map((r, i) => [r.vendorId, i]));
  active.sort((a, b) => (order.get(a.id) ?? 1e9) - (order.get(b.id) ?? 1e9) || a.name.localeCompare(b.name));
  const quoted = new Set((intent.quotes || []).filter((q) => q.status === 'pending').map((q) => q.vendorId));
  const vendor = select([['', t('market.chooseVendor')], ...active.map((v) => [v.id, `${v.name} · ${v.currency}${quoted.has(v.id) ? ` · ${t('market.alreadyQuoted')}` : ''}`])],
    { id: 'quote-vendor', required: true });
  const product = select([['', t('market.noProduct')]], { id: 'quote-product' });
  const price = h('input', { id: 'quote-price', required: true, inputmode: 'decimal', autocomplete: 'off' });
  const eta = h('input', { id: 'quote-eta', required: true, inputmode: 'numeric', autocomplete: 'off', value: '60' });
  const note = h('textarea', { id: 'quote-note', maxlength: '1000', rows: '2' });
  const currencyLine = h('p', { class: 'hint', id: 'quote-currency' });
  const fillProducts = () => {
    const v = active.find((x) => x.id === vendor.value);
    currencyLine.textContent = v ? t('market.quoteCurrency', { currency: v.currency }) : '';
    const own = products.filter((p) => p.vendorId === vendor.value && p.available);
    clear(product).append(...[['', t('market.noProduct')], ...own.map((p) => [p.id, `${p.name} · ${amountOf(p.price)}`])]
      .map(([value, label]) => h('option', { value, selected: value === intent.productId }, label)));
  };
  vendor.addEventListener('change', fillProducts);
  product.addEventListener('change', () => {
    const p = products.find((x) => x.id === product.value);
    if (p && !price.value.trim()) price.value = p.price.amount;
  });
  fillProducts();
  return dialog({
    t, title: t('market.newQuoteTitle'), submitLabel: t('market.addQuote'),
    body: h('div', { id: 'quote-form', class: 'form-grid' },
      field(t('market.vendor'), vendor), currencyLine, field(t('market.product'), product),
      field(t('market.price'), price, { hint: t('market.priceHint') }),
      field(t('market.eta'), eta, { hint: t('market.etaHint') }),
      field(t('market.note'), note)),
    onSubmit: async ({ close, fail }) => {
      const v = active.find((x) => x.id === vendor.value);
      if (!v) return fail(t('market.needVendor'));
      const problem = amountProblem(price.value.trim(), v.currency);
      if (problem) return fail(t(problem, { currency: v.currency }));
      const minutes = Number(eta.value.trim());
      if (!/^\d+$/.test(eta.value.trim()) || minutes > 525600) return fail(t('market.badEta'));
      const body = { intentId: intent.id, vendorId: v.id, price: price.value.trim(), currency: v.currency, etaMinutes: minutes };
      if (product.value) body.productId = product.value;
      if (note.value.trim()) body.note = note.value.trim();
      const result = await api('POST', '/v1/quotes', { body });
      if (!result.ok) return fail(marketError(t, result));
      close(result.data);
    },
  }).done;
}

/** The ranking: one item per vendor, best first, its score and every component as a bar (out of its weight). */
function drawRanking(t, box, ranking, quotes) {
  const quoteOf = new Map(quotes.map((q) => [q.id, q]));
  const shown = ranking.slice(0, RANKED_SHOWN);
  // a vendor that quoted is always shown, wherever it ranks
  for (const r of ranking.slice(RANKED_SHOWN)) if (r.quoteId) shown.push(r);
  if (!shown.length) return clear(box).append(h('p', { class: 'empty' }, t('market.noRanking')));
  return clear(box).append(
    h('ol', { class: 'market-ranking', id: 'intent-ranking' }, shown.map((r) => {
      const quote = r.quoteId ? quoteOf.get(r.quoteId) : null;
      const place = ranking.indexOf(r) + 1;
      return h('li', { class: 'rank', dataset: { vendor: r.vendorId, score: String(r.score), quote: r.quoteId || '' } },
        h('div', { class: 'rank-head' },
          h('span', { class: 'rank-place', 'aria-hidden': 'true' }, number(place)),
          h('span', { class: 'rank-name' }, r.name),
          h('span', { class: 'rank-score' }, t('market.score', { score: number(Math.round(r.score * 100)) }))),
        h('meter', { class: 'rank-meter', min: '0', max: '1', value: String(r.score), 'aria-label': t('market.scoreOf', { name: r.name }) }),
        quote ? h('p', { class: 'rank-quote' }, t('market.rankQuote', { price: amountOf(quote.price), eta: number(quote.etaMinutes) })) : null,
        h('dl', { class: 'rank-components' }, RANK_WEIGHTS.map(([key, weight]) => {
          const value = Number((r.components || {})[key] || 0);
          return h('div', { class: 'rank-component', dataset: { component: key, value: String(value) } },
            h('dt', {}, t(`market.component.${key}`)),
            h('dd', {},
              h('meter', { min: '0', max: String(weight), value: String(value), 'aria-label': t(`market.component.${key}`) }),
              h('span', { class: 'rank-value' }, t('market.outOf', { value: number(Math.round(value * 1000) / 10), max: number(weight * 100) }))));
        })),
        h('ul', { class: 'rank-reasons' }, (r.reasons || []).map((reason) => h('li', {}, reason))));
    })),
    ranking.length > shown.length ? h('p', { class: 'hint' }, t('market.moreRanked', { count: number(ranking.length - shown.length) })) : null);
}

export async function render(ctx) {
  const { t, api, root, params, can } = ctx;
  const id = params.id;
  const canQuote = can('POST /v1/quotes');
  const canAccept = can('POST /v1/quotes/{id}/accept');
  const canReject = can('POST /v1/quotes/{id}/reject');
  const canCancel = can('POST /v1/intents/{id}/cancel');
  const canBuyer = can('GET /v1/buyers/{id}');
  const canAccount = can('GET /v1/wallet/accounts/{id}');

  const head = h('div', { id: 'intent-head' });
  const line = statusLine();
  line.id = 'intent-status-line';
  const summary = h('div', { id: 'intent-summary' });
  const rankingBox = h('div', { id: 'intent-ranking-box' });
  const quotesBox = h('div', { id: 'intent-quotes' });
  root.append(h('p', { class: 'breadcrumb' }, h('a', { href: '#/marketplace/intents' }, t('market.backToIntents'))), head, line, summary,
    section(t('market.ranking'), h('p', { class: 'hint' }, t('market.rankingIntro')), rankingBox),
    section(t('market.quotes'), quotesBox));

  const vendors = byId(await vendorsOf(ctx));
  let intent = null;
  let buyer = null;

  async function refresh(message, kind = 'ok') {
    const answer = await api('GET', `/v1/intents/${encodeURIComponent(id)}`);
    if (!answer.ok) {
      clear(head).append(pageHeader(t('market.intentTitle')));
      say(line, marketError(t, answer), 'error');
      return false;
    }
    intent = answer.data;
    if (!buyer && canBuyer) {
      const b = await api('GET', `/v1/buyers/${encodeURIComponent(intent.buyerId)}`);
      if (b.ok) buyer = b.data;
    }
    draw();
    if (message) say(line, message, kind);
    return true;
  }

  const open = () => intent.status === 'pending' && new Date(intent.expiresAt) > new Date();

  function draw() {
    const actions = [];
    if (canQuote && open()) actions.push(button(t('market.addQuote'), { kind: 'primary', write: true, id: 'quote-new', on: addQuote }));
    if (canCancel && open()) actions.push(button(t('market.cancelIntent'), { kind: 'danger-quiet', write: true, id: 'intent-cancel', on: cancelIntent }));
    clear(head).append(pageHeader(t('market.intentFor', { name: buyer ? buyer.name : String(intent.buyerId).slice(0, 8) }), actions));
    clear(summary).append(h('div', { class: 'card' }, details([
      [t('field.status'), statusBadge(t, 'intent', intent.status)],
      [t('market.buyer'), buyer ? h('span', { id: 'intent-buyer' }, buyer.name, buyer.phone ? ` · ${buyer.phone}` : '',
        canAccount ? [' · ', h('a', { href: `#/wallet/${encodeURIComponent(buyer.accountId)}`, id: 'intent-buyer-account' }, t('market.openAccount'))] : null)
        : h('span', { class: 'mono' }, intent.buyerId)],
      [t('market.category'), intent.category || ''],
      [t('market.region'), intent.region || ''],
      [t('market.description'), intent.description || ''],
      [t('market.channel'), t(`marketChannel.${intent.channel}`)],
      [t('field.created'), dateTime(intent.createdAt)],
      [t('field.expires'), dateTime(intent.expiresAt)],
      [t('market.purchase'), intent.purchaseId ? h('a', { href: `#/marketplace/purchases/${encodeURIComponent(intent.purchaseId)}`, id: 'intent-purchase' }, t('market.openPurchase')) : ''],
    ])));
    drawRanking(t, rankingBox, intent.ranking || [], intent.quotes || []);
    drawQuotes();
  }

  function drawQuotes() {
    const quotes = [...(intent.quotes || [])].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    const columns = [
      { label: t('market.vendor'), cell: (q) => h('span', { class: 'quote-vendor' }, nameOf(vendors, q.vendorId)) },
      { label: t('market.price'), className: 'num', cell: (q) => moneySpan(q.price, 'quote-price') },
      { label: t('market.eta'), className: 'num', cell: (q) => t('market.minutes', { n: number(q.etaMinutes) }) },
      { label: t('market.note'), cell: (q) => q.note || '' },
      { label: t('field.status'), cell: (q) => statusBadge(t, 'quote', q.status) },
      { label: t('field.created'), cell: (q) => dateTimeShort(q.createdAt) },
    ];
    if ((canAccept || canReject) && open()) {
      columns.push({
        label: t('field.actions'), cell: (q) => (q.status !== 'pending' ? '' : h('div', { class: 'row-actions' },
          canAccept ? button(t('market.accept'), {
            kind: 'primary', dataset: { write: '', action: 'accept' }, on: () => accept(q),
            'aria-label': t('market.acceptNamed', { vendor: nameOf(vendors, q.vendorId), price: amountOf(q.price) }),
          }) : null,
          canReject ? button(t('market.reject'), {
            kind: 'danger-quiet', dataset: { write: '', action: 'reject' }, on: () => reject(q),
            'aria-label': t('market.rejectNamed', { vendor: nameOf(vendors, q.vendorId) }),
          }) : null)),
      });
    }
    clear(quotesBox).append(table({ caption: t('market.quotesCaption'), captionHidden: true, rows: quotes, columns, empty: t('market.noQuotes') }));
  }

  function addQuote() {
    quoteDialog(ctx, intent, intent.ranking || []).then(async (quote) => {
      if (!quote) return;
      forget('/v1/vendors');
      const words = t('market.quoteAdded', { vendor: nameOf(vendors, quote.vendorId), price: amountOf(quote.price) });
      ctx.announce(words);
      await refresh(words);
    });
  }

  function accept(q) {
    const vendor = nameOf(vendors, q.vendorId);
    confirmAction({
      t, title: t('market.acceptTitle', { vendor }), destructive: false, confirmLabel: t('market.accept'),
      message: t('market.acceptBody', { buyer: buyer ? buyer.name : '', vendor, price: amountOf(q.price) }),
      onConfirm: async () => {
        const result = await api('POST', `/v1/quotes/${encodeURIComponent(q.id)}/accept`);
        if (result.ok) { accepted = result.data; return null; }
        if (result.error && result.error.code === 'insufficient_funds' && buyer && canAccount) {
          const account = await api('GET', `/v1/wallet/accounts/${encodeURIComponent(buyer.accountId)}?entries=0`);
          if (account.ok) return t('market.insufficient', { buyer: buyer.name, available: amountOf(account.data.available), price: amountOf(q.price) });
        }
        if (result.error && result.error.code === 'insufficient_funds') return t('market.insufficientShort', { price: amountOf(q.price) });
        return marketError(t, result);
      },
    }).then((done) => {
      if (!done || !accepted) return;
      ctx.announce(t('market.accepted', { vendor }));
      ctx.navigate(`#/marketplace/purchases/${encodeURIComponent(accepted.id)}`);
    });
  }
  let accepted = null;

  function reject(q) {
    const vendor = nameOf(vendors, q.vendorId);
    confirmAction({
      t, title: t('market.rejectTitle', { vendor }), message: t('market.rejectBody'), confirmLabel: t('market.reject'),
      onConfirm: async () => {
        const result = await api('POST', `/v1/quotes/${encodeURIComponent(q.id)}/reject`);
        return result.ok ? null : marketError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      const words = t('market.rejected', { vendor });
      ctx.announce(words);
      await refresh(words);
    });
  }

  function cancelIntent() {
    confirmAction({
      t, title: t('market.cancelIntentTitle'), message: t('market.cancelIntentBody'), confirmLabel: t('market.cancelIntent'),
      onConfirm: async () => {
        const result = await api('POST', `/v1/intents/${encodeURIComponent(intent.id)}/cancel`);
        return result.ok ? null : marketError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      const words = t('market.intentCancelled');
      ctx.announce(words);
      await refresh(words);
    });
  }

  await refresh();
}
