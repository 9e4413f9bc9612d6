// Marketplace · buyers: each with its phone, segment and wallet account (a link to its page in the Wallet), found by
// phone or segment; for the sellers, "New buyer" (one per phone number, opened with its wallet account).
import { h, clear } from '../lib/dom.js';
import { number, dateTimeShort } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select, dialog } from '../lib/ui.js';
import { CURRENCIES } from './wallet-shared.js';
import { subnav, marketError, forget } from './marketplace-shared.js';

function buyerDialog(ctx) {
  const { t, api } = ctx;
  const name = h('input', { id: 'buyer-name', required: true, maxlength: '200', autocomplete: 'off' });
  const phone = h('input', { id: 'buyer-phone', type: 'tel', maxlength: '20', autocomplete: 'off' });
  const segment = h('input', { id: 'buyer-segment', maxlength: '60', autocomplete: 'off' });
  const currency = select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'buyer-currency', value: 'KES' });
  return dialog({
    t, title: t('market.newBuyerTitle'), submitLabel: t('market.createBuyer'),
    body: h('div', { id: 'buyer-form', class: 'form-grid' },
      field(t('field.name'), name), field(t('market.phoneOptional'), phone, { hint: t('market.buyerPhoneHint') }),
      field(t('market.segment'), segment, { hint: t('market.segmentHint') }), field(t('wallet.currency'), currency)),
    onSubmit: async ({ close, fail }) => {
      if (!name.value.trim()) return fail(t('market.needName'));
      const body = { name: name.value.trim(), currency: currency.value };
      if (phone.value.trim()) body.phone = phone.value.trim();
      if (segment.value.trim()) body.segment = segment.value.trim();
      const result = await api('POST', '/v1/buyers', { body });
      if (!result.ok) return fail(marketError(t, result));
      forget('/v1/buyers');
      close(result.data);
    },
  }).done;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/buyers');
  const canAccount = can('GET /v1/wallet/accounts/{id}');

  const phone = h('input', { id: 'buyers-phone', type: 'search', maxlength: '20', autocomplete: 'off', value: query.get('phone') || '' });
  const segment = h('input', { id: 'buyers-segment', maxlength: '60', autocomplete: 'off', value: query.get('segment') || '' });
  const filters = h('form', { class: 'filters', id: 'buyers-filters' },
    field(t('field.phone'), phone, { hint: t('market.phoneFilterHint') }), field(t('market.segment'), segment),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'buyers-apply' })));
  const line = statusLine();
  line.id = 'buyers-status-line';
  const list = h('div', { id: 'buyers-list', class: 'market-list' });
  const more = button(t('action.loadMore'), { id: 'buyers-more', hidden: true });

  root.append(
    pageHeader(t('market.buyersTitle'),
      canCreate ? button(t('market.newBuyer'), { kind: 'primary', write: true, id: 'buyer-new', on: create }) : null),
    subnav(ctx, 'buyers'),
    h('p', { class: 'hint' }, t('market.buyersIntro')),
    filters, line, list, more);

  let items = [];
  let cursor = null;

  async function load(reset, message) {
    if (reset) { items = []; cursor = null; }
    if (!message) say(line, t('app.loading'));
    const qs = [['phone', phone.value.trim()], ['segment', segment.value.trim()]]
      .filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
    const answer = await api('GET', `/v1/buyers?limit=100${qs}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(line, marketError(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    clear(list).append(table({
      caption: t('market.buyersCaption'), captionHidden: true, rows: items, empty: t('market.noBuyers'),
      columns: [
        { label: t('field.name'), cell: (b) => h('span', { class: 'buyer-name' }, b.name) },
        { label: t('field.phone'), cell: (b) => h('span', { class: 'buyer-phone' }, b.phone || '') },
        { label: t('market.segment'), cell: (b) => b.segment || '' },
        { label: t('wallet.currency'), cell: (b) => b.currency },
        {
          label: t('market.walletAccount'),
          cell: (b) => (canAccount ? h('a', { href: `#/wallet/${encodeURIComponent(b.accountId)}`, class: 'buyer-account mono' }, t('market.openAccount'))
            : h('span', { class: 'mono buyer-account' }, b.accountId)),
        },
        { label: t('field.created'), cell: (b) => dateTimeShort(b.createdAt) },
      ],
    }));
    if (message) say(line, message, 'ok'); else say(line, t('market.buyerCount', { count: number(items.length) }));
    return items;
  }

  function create() {
    buyerDialog(ctx).then(async (buyer) => {
      if (!buyer) return;
      const words = t('market.buyerCreated', { name: buyer.name });
      ctx.announce(words);
      phone.value = buyer.phone || '';
      segment.value = '';
      ctx.setQuery({ phone: phone.value });
      await load(true, words);
    });
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.setQuery({ phone: phone.value.trim(), segment: segment.value.trim() });
    load(true);
  });
  more.addEventListener('click', () => load(false));
  await load(true);
}
