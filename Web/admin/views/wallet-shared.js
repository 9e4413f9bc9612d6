// What the wallet pages share: the ledger's vocabulary (owner types, statuses, transaction types, currencies and
// their minor units), an account's label, the words for the ledger's refusals, and the "post an adjustment" dialog.
import { h, clear } from '../lib/dom.js';
import { money } from '../lib/format.js';
import { field, errorText, dialog, select, badge, newKey } from '../lib/ui.js';
import en from '../strings/en.js';

export const OWNER_TYPES = ['vendor', 'buyer', 'platform', 'commission'];
export const ACCOUNT_STATUSES = ['active', 'frozen', 'closed'];
// the currencies the ledger settles in, with their minor-unit exponents (Shared/Models/Money.swift)
export const CURRENCIES = {
  RWF: 0, UGX: 0, BIF: 0, KES: 2, TZS: 2, ETB: 2, SSP: 2, CDF: 2, NGN: 2, GHS: 2, ZAR: 2, USD: 2, EUR: 2, GBP: 2,
};

/** A Money of the API ({amount: "12.50", currency: "KES"}) in the reader's language. */
export const amountOf = (m) => (m ? money(m.amount, m.currency) : '');

/** Minor units (an integer of the API) as the currency's decimal string: 1250 KES → "12.50". */
export function decimalOf(minor, currency) {
  const exponent = CURRENCIES[currency] ?? 0;
  const negative = Number(minor) < 0;
  const digits = String(Math.abs(Math.trunc(Number(minor) || 0)));
  if (!exponent) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(exponent + 1, '0');
  return `${negative ? '-' : ''}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/** Why an amount typed for this currency is not one the ledger takes (a key), or null when it is. */
export function amountProblem(text, currency) {
  const exponent = CURRENCIES[currency] ?? 0;
  const match = /^(\d{1,13})(?:\.(\d+))?$/.exec(text);
  if (!match) return 'wallet.badAmount';
  if ((match[2] || '').length > exponent) return exponent ? 'wallet.tooManyDecimals' : 'wallet.noDecimals';
  if (!/[1-9]/.test(`${match[1]}${match[2] || ''}`)) return 'wallet.badAmount';
  return null;
}

export function accountName(t, a) {
  return a.name || `${t(`walletOwner.${a.ownerType}`)} ${a.ownerId}`;
}

/** "Kigali Fuel · Vendor · RWF", for choices. */
export function accountLabel(t, a) {
  const parts = [a.name || a.ownerId, `${t(`walletOwner.${a.ownerType}`)}${a.name ? ` ${a.ownerId}` : ''}`, a.currency];
  if (a.status !== 'active') parts.push(t(`walletStatus.${a.status}`));
  return parts.join(' · ');
}

export function statusBadge(t, status) {
  const kinds = { active: 'active', frozen: 'expired', closed: 'closed' };
  return h('span', { class: 'wallet-status', dataset: { status } }, badge(t(`walletStatus.${status}`), kinds[status] || 'inactive'));
}

/** Words for a refusal of the ledger (its own sentence for the wallet's codes), else the console's usual ones. */
export function walletError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `walletError.${code}` in en) return t(`walletError.${code}`);
  return errorText(t, result);
}

/** Every account the filter names (pages followed, at most 2,000). */
export async function allAccounts(api, query = '') {
  let items = [];
  let cursor = null;
  do {
    const answer = await api('GET', `/v1/wallet/accounts?limit=200${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return { error: answer, items };
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
  } while (cursor && items.length < 2000);
  return { items };
}

/**
 * The "post an adjustment" dialog: a transfer of type `adjustment` from one account to another of the same currency,
 * with the reason the ledger requires. One Idempotency-Key per attempt: a double click or a retry after a lost
 * answer posts once; after a refusal (nothing posted) the next attempt gets a new key. Resolves to the transfer, or
 * undefined when cancelled.
 */
export async function adjustmentDialog(ctx, { from = null, to = null } = {}) {
  const { t, api } = ctx;
  const loaded = await allAccounts(api);
  if (loaded.error) { ctx.announce(walletError(t, loaded.error)); return undefined; }
  // a frozen account is listed (marked): the ledger's refusal says why nothing moves
  const accounts = loaded.items.filter((a) => a.status !== 'closed');
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const fromSelect = select([['', t('wallet.choose')], ...accounts.map((a) => [a.id, accountLabel(t, a)])], { id: 'adjust-from', required: true, value: from || '' });
  const toSelect = select([], { id: 'adjust-to', required: true });
  const amount = h('input', { id: 'adjust-amount', required: true, inputmode: 'decimal', autocomplete: 'off', maxlength: '20' });
  const reason = h('textarea', { id: 'adjust-reason', required: true, maxlength: '500', rows: '3' });
  const available = h('p', { class: 'hint', id: 'adjust-available', role: 'status' });
  const fillTo = (wanted) => {
    const payer = byId.get(fromSelect.value);
    const choices = accounts.filter((a) => a.id !== fromSelect.value && (!payer || a.currency === payer.currency));
    const keep = wanted || toSelect.value;
    clear(toSelect).append(h('option', { value: '' }, t('wallet.choose')),
      ...choices.map((a) => h('option', { value: a.id, selected: a.id === keep }, accountLabel(t, a))));
    available.textContent = payer ? t('wallet.availableNow', { amount: amountOf(payer.available) }) : '';
  };
  fillTo(to);
  fromSelect.addEventListener('change', () => fillTo());

  let key = newKey();
  let sending = false;
  const d = dialog({
    t, title: t('wallet.adjustTitle'), submitLabel: t('wallet.adjustSubmit'),
    body: h('div', { id: 'adjust-form' },
      h('p', { class: 'hint' }, t('wallet.adjustIntro')),
      field(t('wallet.from'), fromSelect), available,
      field(t('wallet.to'), toSelect),
      field(t('wallet.amount'), amount, { hint: t('wallet.amountHint') }),
      field(t('field.reason'), reason, { hint: t('wallet.reasonHint') })),
    onSubmit: async ({ close, fail }) => {
      if (sending) return undefined;
      const payer = byId.get(fromSelect.value);
      const payee = byId.get(toSelect.value);
      if (!payer || !payee) return fail(t('wallet.needAccounts'));
      const text = amount.value.trim();
      const problem = amountProblem(text, payer.currency);
      if (problem) return fail(t(problem, { currency: payer.currency }));
      if (!reason.value.trim()) return fail(t('error.reasonRequired'));
      const body = { type: 'adjustment', currency: payer.currency, legs: [{ from: payer.id, to: payee.id, amount: text }], reason: reason.value.trim() };
      sending = true;
      let result;
      try {
        result = await api('POST', '/v1/wallet/transfers', { body, idempotencyKey: key });
      } finally {
        sending = false;
      }
      if (result.ok) return close(result.data);
      // a refusal posted nothing: the next attempt is a new one (a lost answer or a 5xx keeps the key: it may have posted)
      if (result.status >= 400 && result.status < 500) key = newKey();
      const code = result.error && result.error.code;
      if (code === 'insufficient_funds') {
        const fresh = await api('GET', `/v1/wallet/accounts/${encodeURIComponent(payer.id)}?entries=0`);
        const now = fresh.ok ? fresh.data : payer;
        if (fresh.ok) { byId.set(now.id, now); available.textContent = t('wallet.availableNow', { amount: amountOf(now.available) }); }
        return fail(t('wallet.insufficient', { account: accountName(t, now), available: amountOf(now.available) }));
      }
      if (code === 'account_frozen' || code === 'account_closed' || code === 'account_not_active') {
        const named = [payer, payee].find((a) => result.error.message && result.error.message.includes(a.id));
        if (named) return fail(t(code === 'account_closed' ? 'wallet.closedNamed' : 'wallet.frozenNamed', { account: accountName(t, named) }));
      }
      return fail(walletError(t, result));
    },
  });
  return d.done;
}
