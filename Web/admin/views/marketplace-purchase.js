// One purchase: what the buyer pays, the commission and the schedule it came from, what the vendor receives, its
// status (and why it failed), the hold on the buyer's funds and, once completed, the ledger transfer, with links to
// the buyer's and the vendor's wallet accounts; for the bookkeepers "Complete" (the hold is posted) and for the
// sellers "Cancel" with a reason (the hold is voided and the buyer's funds released).
import { h, clear } from '../lib/dom.js';
import { dateTime } from '../lib/format.js';
import { pageHeader, section, button, statusLine, say, details, confirmAction } from '../lib/ui.js';
import { amountOf } from './wallet-shared.js';
import { marketError, statusBadge, moneySpan } from './marketplace-shared.js';
import { percentOf } from './marketplace-commission.js';

export async function render(ctx) {
  const { t, api, root, params, can } = ctx;
  const id = params.id;
  const canComplete = can('POST /v1/purchases/{id}/complete');
  const canCancel = can('POST /v1/purchases/{id}/cancel');
  const canAccount = can('GET /v1/wallet/accounts/{id}');

  const head = h('div', { id: 'purchase-head' });
  const line = statusLine();
  line.id = 'purchase-status-line';
  const totals = h('div', { id: 'purchase-totals' });
  const summary = h('div', { id: 'purchase-summary' });
  const ledger = h('div', { id: 'purchase-ledger' });
  root.append(h('p', { class: 'breadcrumb' }, h('a', { href: '#/marketplace/purchases' }, t('market.backToPurchases'))), head, line, totals, summary,
    section(t('market.onTheLedger'), ledger));

  let purchase = null;
  const named = { buyer: null, vendor: null, schedule: null, hold: null };

  async function get(path, permission) {
    if (!can(permission)) return null;
    const answer = await api('GET', path);
    return answer.ok ? answer.data : null;
  }

  async function refresh(message, kind = 'ok') {
    const answer = await api('GET', `/v1/purchases/${encodeURIComponent(id)}`);
    if (!answer.ok) {
      clear(head).append(pageHeader(t('market.purchaseTitle')));
      say(line, marketError(t, answer), 'error');
      return false;
    }
    purchase = answer.data;
    const [buyer, vendor, schedules, hold] = await Promise.all([
      named.buyer || get(`/v1/buyers/${encodeURIComponent(purchase.buyerId)}`, 'GET /v1/buyers/{id}'),
      named.vendor || get(`/v1/vendors/${encodeURIComponent(purchase.vendorId)}`, 'GET /v1/vendors/{id}'),
      purchase.commissionScheduleId && !named.schedule ? get('/v1/commission-schedules', 'GET /v1/commission-schedules') : null,
      get(`/v1/wallet/holds/${encodeURIComponent(purchase.holdId)}`, 'GET /v1/wallet/holds/{id}'),
    ]);
    Object.assign(named, { buyer, vendor, hold });
    if (schedules) named.schedule = schedules.items.find((s) => s.id === purchase.commissionScheduleId) || null;
    draw();
    if (message) say(line, message, kind);
    return true;
  }

  function draw() {
    const p = purchase;
    const actions = [];
    if (p.status === 'pending' && canComplete) actions.push(button(t('market.complete'), { kind: 'primary', write: true, id: 'purchase-complete', on: complete }));
    if (p.status === 'pending' && canCancel) actions.push(button(t('market.cancelPurchase'), { kind: 'danger-quiet', write: true, id: 'purchase-cancel', on: cancel }));
    const title = t('market.purchaseOf', { buyer: named.buyer ? named.buyer.name : '', vendor: named.vendor ? named.vendor.name : '' });
    clear(head).append(pageHeader(named.buyer && named.vendor ? title : t('market.purchaseTitle'), actions));
    clear(totals).append(h('dl', { class: 'totals' }, [
      ['purchase-amount', t('market.amount'), p.amount],
      ['purchase-commission', t('market.commission'), p.commission],
      ['purchase-net', t('market.vendorNet'), p.vendorNet],
    ].map(([key, label, m]) => h('div', { class: 'total', dataset: { total: key, amount: m.amount } }, h('dt', {}, label), h('dd', { id: key }, amountOf(m))))));
    const s = named.schedule;
    const account = (party) => (party && canAccount
      ? h('a', { href: `#/wallet/${encodeURIComponent(party.accountId)}`, class: 'purchase-account', dataset: { account: party.accountId } }, party.name)
      : (party ? party.name : ''));
    clear(summary).append(h('div', { class: 'card' }, details([
      [t('field.status'), h('span', { id: 'purchase-status' }, statusBadge(t, 'purchase', p.status))],
      [t('market.failureReason'), p.failureReason ? h('span', { id: 'purchase-failure', class: 'cell-error' }, p.failureReason) : ''],
      [t('market.buyer'), h('span', { id: 'purchase-buyer' }, account(named.buyer))],
      [t('market.vendor'), h('span', { id: 'purchase-vendor' }, account(named.vendor))],
      [t('market.schedule'), h('span', { id: 'purchase-schedule' }, s
        ? (s.flatFee ? t('market.scheduleWords', { rate: percentOf(s.rateBps), fee: amountOf(s.flatFee), from: dateTime(s.effectiveFrom) })
          : t('market.scheduleWordsNoFee', { rate: percentOf(s.rateBps), from: dateTime(s.effectiveFrom) }))
        : (p.commissionScheduleId ? p.commissionScheduleId : t('market.noSchedule')))],
      [t('market.intent'), h('a', { href: `#/marketplace/intents/${encodeURIComponent(p.intentId)}`, id: 'purchase-intent' }, t('market.openIntent'))],
      [t('field.created'), dateTime(p.createdAt)],
      [t('market.resolved'), p.resolvedAt ? dateTime(p.resolvedAt) : ''],
    ])));
    const hold = named.hold;
    clear(ledger).append(details([
      [t('market.hold'), h('span', { id: 'purchase-hold', dataset: { status: hold ? hold.status : '' } }, h('span', { class: 'mono' }, p.holdId),
        hold ? ` · ${t(`market.holdStatus.${hold.status}`)}${hold.status === 'pending' && hold.expiresAt ? ` · ${t('market.holdUntil', { when: dateTime(hold.expiresAt) })}` : ''}` : '')],
      [t('market.transfer'), p.transactionId ? h('span', { class: 'mono', id: 'purchase-transfer' }, p.transactionId) : t('market.noTransfer')],
    ]), h('p', { class: 'hint' }, t('market.ledgerIntro')));
  }

  function complete() {
    confirmAction({
      t, title: t('market.completeTitle'), destructive: false, confirmLabel: t('market.complete'),
      message: t('market.completeBody', { net: amountOf(purchase.vendorNet), commission: amountOf(purchase.commission) }),
      onConfirm: async () => {
        const result = await api('POST', `/v1/purchases/${encodeURIComponent(purchase.id)}/complete`);
        if (result.ok) return null;
        // a refusal of the ledger fails the purchase (its hold voided): the page shows it with the reason
        if (result.status === 409) { failed = marketError(t, result); return null; }
        return marketError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      if (failed) {
        const words = t('market.completeFailed', { reason: failed });
        failed = null;
        ctx.announce(words);
        await refresh(words, 'error');
        return;
      }
      const words = t('market.completed');
      ctx.announce(words);
      await refresh(words);
    });
  }
  let failed = null;

  function cancel() {
    confirmAction({
      t, title: t('market.cancelPurchaseTitle'), message: t('market.cancelPurchaseBody', { amount: amountOf(purchase.amount) }),
      confirmLabel: t('market.cancelPurchase'), reason: true,
      onConfirm: async (reason) => {
        const result = await api('POST', `/v1/purchases/${encodeURIComponent(purchase.id)}/cancel`, { body: { reason } });
        return result.ok ? null : marketError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      const words = t('market.purchaseCancelled');
      ctx.announce(words);
      await refresh(words);
    });
  }

  await refresh();
}
