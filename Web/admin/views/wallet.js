// Wallet: the tenant's ledger accounts with their balance, what pending holds reserve on them and what is available
// (filtered by owner type, currency and status, in the address), the ledger's invariants checked now (green when
// every currency's balances sum to zero and every transaction balances, red with what is wrong otherwise); for the
// bookkeepers, "Open an account" and "Post an adjustment". An account's page (wallet-account.js) has its entries,
// statement and status changes.
import { h, clear } from '../lib/dom.js';
import { number, dateTime, money } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, select, checkbox, dialog, newKey } from '../lib/ui.js';
import {
  OWNER_TYPES, ACCOUNT_STATUSES, CURRENCIES, amountOf, decimalOf, accountName, statusBadge, walletError, adjustmentDialog,
} from './wallet-shared.js';

/** The invariant report of GET /v1/wallet/invariants, drawn into `box`: a clear green or red state, then the detail. */
export function drawInvariants(t, box, report) {
  const holds = report.holds === true;
  const problems = [
    ['unbalancedTransactions', report.unbalancedTransactions],
    ['transactionsWithoutEntries', report.transactionsWithoutEntries],
    ['balanceMismatches', report.balanceMismatches],
    ['heldMismatches', report.heldMismatches],
    ['overdrawnAccounts', report.overdrawnAccounts],
  ].filter(([, ids]) => ids && ids.length);
  clear(box).append(...[h('div', { class: 'wallet-invariant', id: 'wallet-invariant', dataset: { holds: String(holds) } },
    h('p', { class: 'wallet-invariant-state', id: 'wallet-invariant-state' },
      h('span', { class: 'wallet-invariant-icon', 'aria-hidden': 'true' }, holds ? '✓' : '✗'), ' ',
      holds ? t('wallet.invariantHolds') : t('wallet.invariantBroken')),
    h('p', { class: 'hint' }, t('wallet.invariantChecked', {
      when: dateTime(report.checkedAt), accounts: number(report.accounts), transactions: number(report.transactions),
    }))),
  table({
    caption: t('wallet.sumsCaption'), empty: t('wallet.noCurrencies'),
    rows: (report.currencies || []).map((c) => ({ ...c, id: c.currency })),
    columns: [
      { label: t('wallet.currency'), cell: (c) => c.currency },
      { label: t('wallet.accountsCount'), className: 'num', cell: (c) => number(c.accounts) },
      {
        label: t('wallet.sum'), className: 'num',
        cell: (c) => h('span', { class: ['wallet-sum', Number(c.sum) === 0 ? 'cell-ok' : 'cell-error'], dataset: { sum: String(c.sum) } },
          money(decimalOf(c.sum, c.currency), c.currency)),
      },
    ],
  }),
  problems.length ? h('ul', { class: 'plain wallet-problems', id: 'wallet-problems' }, problems.map(([kind, ids]) => h('li', { dataset: { problem: kind } },
    h('strong', {}, t(`wallet.problem.${kind}`, { count: number(ids.length) })), ' ', h('span', { class: 'mono' }, ids.join(', '))))) : null]
    .filter(Boolean));
}

/** The "open an account" dialog. Resolves to the account, or undefined when cancelled. */
function openAccountDialog(ctx) {
  const { t, api } = ctx;
  const ownerType = select(OWNER_TYPES.map((o) => [o, t(`walletOwner.${o}`)]), { id: 'account-owner-type', value: 'vendor' });
  const ownerId = h('input', { id: 'account-owner-id', required: true, maxlength: '120', autocomplete: 'off', spellcheck: 'false' });
  const currency = select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'account-currency', value: 'RWF' });
  const name = h('input', { id: 'account-name', maxlength: '200', autocomplete: 'off' });
  const negative = checkbox(t('wallet.allowNegative'), { id: 'account-allow-negative' });
  const negativeHint = h('p', { class: 'hint' }, t('wallet.allowNegativeHint'));
  const negativeBox = h('div', { id: 'account-negative-box' }, negative.el, negativeHint);
  const showNegative = () => {
    negativeBox.hidden = ownerType.value !== 'platform';
    if (negativeBox.hidden) negative.input.checked = false;
  };
  ownerType.addEventListener('change', showNegative);
  showNegative();
  // one key for this account: a double click opens it once
  const key = newKey();
  const d = dialog({
    t, title: t('wallet.openTitle'), submitLabel: t('wallet.openSubmit'),
    body: h('div', { id: 'account-form' },
      field(t('wallet.ownerType'), ownerType),
      field(t('wallet.ownerId'), ownerId, { hint: t('wallet.ownerIdHint') }),
      field(t('wallet.currency'), currency),
      field(t('wallet.name'), name, { hint: t('wallet.nameHint') }),
      negativeBox),
    onSubmit: async ({ close, fail }) => {
      if (!ownerId.value.trim()) return fail(t('wallet.needOwner'));
      const body = { ownerType: ownerType.value, ownerId: ownerId.value.trim(), currency: currency.value };
      if (name.value.trim()) body.name = name.value.trim();
      if (negative.input.checked) body.allowNegative = true;
      const result = await api('POST', '/v1/wallet/accounts', { body, idempotencyKey: key });
      if (!result.ok) return fail(walletError(t, result));
      close(result.data);
    },
  });
  return d.done;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canOpen = can('POST /v1/wallet/accounts');
  const canAdjust = can('POST /v1/wallet/transfers');
  const canCheck = can('GET /v1/wallet/invariants');

  const ownerType = select([['', t('wallet.allOwners')], ...OWNER_TYPES.map((o) => [o, t(`walletOwner.${o}`)])],
    { id: 'wallet-owner-type', value: OWNER_TYPES.includes(query.get('ownerType')) ? query.get('ownerType') : '' });
  const currency = select([['', t('wallet.allCurrencies')], ...Object.keys(CURRENCIES).map((c) => [c, c])],
    { id: 'wallet-currency', value: query.get('currency') in CURRENCIES ? query.get('currency') : '' });
  const status = select([['', t('wallet.allStatuses')], ...ACCOUNT_STATUSES.map((s) => [s, t(`walletStatus.${s}`)])],
    { id: 'wallet-status-filter', value: ACCOUNT_STATUSES.includes(query.get('status')) ? query.get('status') : '' });
  const ownerId = h('input', { id: 'wallet-owner-id', type: 'search', maxlength: '120', autocomplete: 'off', spellcheck: 'false', value: query.get('ownerId') || '' });
  const filters = h('form', { class: 'filters', id: 'wallet-filters' },
    field(t('wallet.ownerType'), ownerType), field(t('wallet.ownerId'), ownerId, { hint: t('wallet.ownerIdFilterHint') }),
    field(t('wallet.currency'), currency), field(t('field.status'), status),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'wallet-apply' })));
  const line = statusLine();
  line.id = 'wallet-status';
  const list = h('div', { id: 'wallet-accounts' });
  const more = button(t('action.loadMore'), { id: 'wallet-more', hidden: true });
  const invariantBox = h('div', { id: 'wallet-invariants', 'aria-live': 'polite' });
  const checkButton = button(t('wallet.checkAgain'), { id: 'wallet-check', on: () => check() });

  root.append(
    pageHeader(t('wallet.title'),
      canOpen ? button(t('wallet.open'), { kind: 'secondary', write: true, id: 'wallet-open', on: open }) : null,
      canAdjust ? button(t('wallet.adjust'), { kind: 'primary', write: true, id: 'wallet-adjust', on: adjust }) : null),
    h('p', { class: 'hint' }, t('wallet.intro')),
    canCheck ? section(t('wallet.invariants'), h('p', { class: 'hint' }, t('wallet.invariantsIntro')), invariantBox, checkButton) : '',
    filters, line, list, more);

  let items = [];
  let cursor = null;

  async function load(reset, message) {
    if (reset) { items = []; cursor = null; }
    if (!message) say(line, t('app.loading'));
    const qs = [['ownerType', ownerType.value], ['ownerId', ownerId.value.trim()], ['currency', currency.value], ['status', status.value]]
      .filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`).join('');
    const answer = await api('GET', `/v1/wallet/accounts?limit=100${qs}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(line, walletError(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    const amount = (kind) => (a) => h('span', { class: `wallet-${kind}`, dataset: { amount: a[kind].amount } }, amountOf(a[kind]));
    clear(list).append(table({
      caption: t('wallet.accountsCaption'), captionHidden: true, rows: items, empty: t('wallet.none'),
      columns: [
        { label: t('wallet.account'), cell: (a) => h('a', { href: `#/wallet/${encodeURIComponent(a.id)}`, class: 'wallet-account-link' }, accountName(t, a)) },
        { label: t('wallet.owner'), cell: (a) => h('span', { class: 'wallet-owner' }, t(`walletOwner.${a.ownerType}`), ' ', h('span', { class: 'mono' }, a.ownerId)) },
        { label: t('wallet.currency'), cell: (a) => a.currency },
        { label: t('field.status'), cell: (a) => statusBadge(t, a.status) },
        { label: t('wallet.balance'), className: 'num', cell: amount('balance') },
        { label: t('wallet.held'), className: 'num', cell: amount('held') },
        { label: t('wallet.available'), className: 'num', cell: amount('available') },
      ],
    }));
    if (message) say(line, message, 'ok'); else say(line, t('wallet.count', { count: number(items.length) }));
    return items;
  }

  async function check() {
    checkButton.disabled = true;
    const answer = await api('GET', '/v1/wallet/invariants');
    checkButton.disabled = false;
    if (!answer.ok) {
      clear(invariantBox).append(h('p', { class: 'form-error', role: 'alert' }, walletError(t, answer)));
      return;
    }
    drawInvariants(t, invariantBox, answer.data);
  }

  function open() {
    openAccountDialog(ctx).then((account) => {
      if (!account) return;
      ctx.announce(t('wallet.opened', { name: accountName(t, account) }));
      ctx.navigate(`#/wallet/${encodeURIComponent(account.id)}`);
    });
  }

  function adjust() {
    adjustmentDialog(ctx).then(async (transfer) => {
      if (!transfer) return;
      const words = t('wallet.posted', { amount: amountOf(transfer.entries.find((e) => e.direction === 'debit').amount) });
      ctx.announce(words);
      await Promise.all([load(true, words), canCheck ? check() : null]);
    });
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.setQuery({ ownerType: ownerType.value, ownerId: ownerId.value.trim(), currency: currency.value, status: status.value });
    load(true);
  });
  more.addEventListener('click', () => load(false));
  await Promise.all([load(true), canCheck ? check() : null]);
}
