// Marketplace · commission: the schedules, newest first, each a rate (basis points shown as a percentage) and an
// optional flat fee, for one product or the tenant's default, from a moment on; the one in force now for each scope is
// marked. For the bookkeepers, "Add a schedule" (a later one replaces an earlier one from its start; none is edited).
import { h, clear } from '../lib/dom.js';
import { number, dateTime, dateTimeShort } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, table, select, dialog, badge } from '../lib/ui.js';
import { CURRENCIES, amountOf } from './wallet-shared.js';
import { subnav, marketError, productsOf, byId, nameOf } from './marketplace-shared.js';

/** 250 → "2.5 %". */
export const percentOf = (bps) => `${number(bps / 100)} %`;

/** "2.5" (a percentage with at most two decimals) as basis points; null when it is not one from 0 to 100. */
export function bpsOf(text) {
  const match = /^\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*$/.exec(text || '');
  if (!match) return null;
  const bps = Number(match[1]) * 100 + Number((match[2] || '').padEnd(2, '0'));
  return bps <= 10000 ? bps : null;
}

function scheduleDialog(ctx, products) {
  const { t, api } = ctx;
  const scope = select([['', t('market.tenantDefault')], ...products.map((p) => [p.id, `${p.name} · ${p.price.currency}`])], { id: 'schedule-product' });
  const rate = h('input', { id: 'schedule-rate', required: true, inputmode: 'decimal', autocomplete: 'off' });
  const fee = h('input', { id: 'schedule-fee', inputmode: 'decimal', autocomplete: 'off' });
  const currency = select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'schedule-currency', value: 'KES' });
  const from = h('input', { id: 'schedule-from', type: 'datetime-local' });
  scope.addEventListener('change', () => {
    const product = products.find((p) => p.id === scope.value);
    if (product) currency.value = product.price.currency;
  });
  return dialog({
    t, title: t('market.newScheduleTitle'), submitLabel: t('market.addSchedule'),
    body: h('div', { id: 'schedule-form', class: 'form-grid' },
      h('p', { class: 'hint' }, t('market.scheduleIntro')),
      field(t('market.appliesTo'), scope),
      field(t('market.rate'), rate, { hint: t('market.rateHint') }),
      field(t('market.flatFee'), fee, { hint: t('market.flatFeeHint') }),
      field(t('market.feeCurrency'), currency),
      field(t('market.effectiveFrom'), from, { hint: t('market.effectiveFromHint') })),
    onSubmit: async ({ close, fail }) => {
      const bps = bpsOf(rate.value);
      if (bps == null) return fail(t('market.badRate'));
      const body = { rateBps: bps };
      if (scope.value) body.productId = scope.value;
      if (fee.value.trim()) {
        if (!/^\d{1,13}([.,]\d{1,2})?$/.test(fee.value.trim())) return fail(t('market.badFee'));
        body.flatFee = fee.value.trim().replace(',', '.');
        body.currency = currency.value;
      }
      if (from.value) {
        const when = new Date(from.value);
        if (Number.isNaN(when.getTime())) return fail(t('market.badWhen'));
        body.effectiveFrom = when.toISOString();
      }
      const result = await api('POST', '/v1/commission-schedules', { body });
      if (!result.ok) return fail(marketError(t, result));
      close(result.data);
    },
  }).done;
}

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/commission-schedules');
  const products = await productsOf(ctx);
  const productMap = byId(products);
  const line = statusLine();
  line.id = 'schedules-status-line';
  const list = h('div', { id: 'schedules-list', class: 'market-list' });

  root.append(
    pageHeader(t('market.commissionTitle'),
      canCreate ? button(t('market.addSchedule'), { kind: 'primary', write: true, id: 'schedule-new', on: create }) : null),
    subnav(ctx, 'commission'),
    h('p', { class: 'hint' }, t('market.commissionIntro')),
    line, list);

  async function load(message) {
    if (!message) say(line, t('app.loading'));
    const answer = await api('GET', '/v1/commission-schedules');
    if (!answer.ok) return say(line, marketError(t, answer), 'error');
    const items = [...answer.data.items].sort((a, b) => b.effectiveFrom.localeCompare(a.effectiveFrom) || b.createdAt.localeCompare(a.createdAt));
    // the schedule in force for each scope: the latest that has started
    const now = new Date().toISOString();
    const inForce = new Set();
    const seen = new Set();
    for (const s of items) {
      const scope = s.productId || '';
      if (s.effectiveFrom <= now && !seen.has(scope)) { seen.add(scope); inForce.add(s.id); }
    }
    clear(list).append(table({
      caption: t('market.schedulesCaption'), captionHidden: true, rows: items, empty: t('market.noSchedules'),
      columns: [
        {
          label: t('market.appliesTo'),
          cell: (s) => h('span', { class: 'schedule-scope', dataset: { product: s.productId || '' } },
            s.productId ? nameOf(productMap, s.productId) : t('market.tenantDefault')),
        },
        { label: t('market.rate'), className: 'num', cell: (s) => h('span', { class: 'schedule-rate', dataset: { bps: String(s.rateBps) } }, percentOf(s.rateBps)) },
        { label: t('market.flatFee'), className: 'num', cell: (s) => h('span', { class: 'schedule-fee', dataset: { amount: s.flatFee ? s.flatFee.amount : '' } }, s.flatFee ? amountOf(s.flatFee) : t('market.noFee')) },
        { label: t('market.effectiveFrom'), cell: (s) => h('span', { title: dateTime(s.effectiveFrom) }, dateTimeShort(s.effectiveFrom)) },
        {
          label: t('field.status'),
          cell: (s) => h('span', { class: 'schedule-state', dataset: { state: inForce.has(s.id) ? 'in-force' : (s.effectiveFrom > now ? 'future' : 'replaced') } },
            inForce.has(s.id) ? badge(t('market.inForce'), 'active') : badge(s.effectiveFrom > now ? t('market.upcoming') : t('market.replaced'), s.effectiveFrom > now ? 'issued' : 'inactive')),
        },
      ],
    }));
    if (message) say(line, message, 'ok'); else say(line, t('market.scheduleCount', { count: number(items.length) }));
    return items;
  }

  function create() {
    scheduleDialog(ctx, products).then(async (schedule) => {
      if (!schedule) return;
      const words = t('market.scheduleAdded', { rate: percentOf(schedule.rateBps) });
      ctx.announce(words);
      await load(words);
    });
  }

  await load();
}
