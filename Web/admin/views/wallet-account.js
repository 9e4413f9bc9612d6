// One ledger account: its balance, held and available amounts, its newest entries (each with the transfer it belongs
// to, the balance after it, and "Reverse" for the bookkeepers), freeze / unfreeze / close with a reason, "Post an
// adjustment" from it, and a statement for a period: opening balance, every entry with the running balance, the
// totals and the closing balance, and the API's CSV of it to download.
import { h, clear } from '../lib/dom.js';
import { number, dateTime, dateTimeShort, addDays, shortId } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, details, badge, confirmAction } from '../lib/ui.js';
import { rangeProblem } from '../lib/chart.js';
import { amountOf, accountName, statusBadge, walletError, adjustmentDialog } from './wallet-shared.js';

const MAX_DAYS = 366;
const utcToday = () => new Date().toISOString().slice(0, 10);

/** A money cell: the amount in words, the API's decimal string on the element (tests and tools read it). */
const amountSpan = (m, className) => (m ? h('span', { class: className, dataset: { amount: m.amount } }, amountOf(m)) : '');

function totalsList(pairs) {
  return h('dl', { class: 'totals' }, pairs.map(([key, label, m]) => h('div', { class: 'total', dataset: { total: key, amount: m ? m.amount : '' } },
    h('dt', {}, label), h('dd', { id: `${key}` }, amountOf(m)))));
}

export async function render(ctx) {
  const { t, api, root, params, query, can } = ctx;
  const id = params.id;
  const canChange = can('PATCH /v1/wallet/accounts/{id}');
  const canAdjust = can('POST /v1/wallet/transfers');
  const canReverse = can('POST /v1/wallet/transfers/{id}/reverse');
  const canTransfers = can('GET /v1/wallet/transfers');
  const canStatement = can('GET /v1/wallet/statements');

  const head = h('div', { id: 'account-head' });
  const line = statusLine();
  line.id = 'account-status';
  const summary = h('div', { id: 'account-summary' });
  const entriesBox = h('div', { id: 'account-entries' });
  const statementBox = h('div', { id: 'account-statement' });
  root.append(h('p', { class: 'breadcrumb' }, h('a', { href: '#/wallet' }, t('wallet.back'))), head, line, summary,
    section(t('wallet.recentEntries'), entriesBox),
    canStatement ? section(t('wallet.statement'), statementBox) : '');

  let account = null;

  /** The account again from the API, drawn; false when it cannot be read. */
  async function refresh(message, kind = 'ok') {
    const answer = await api('GET', `/v1/wallet/accounts/${encodeURIComponent(id)}?entries=20`);
    if (!answer.ok) {
      clear(head).append(pageHeader(t('wallet.accountTitle')));
      say(line, walletError(t, answer), 'error');
      return false;
    }
    account = answer.data;
    drawHead();
    drawSummary();
    await drawEntries(account.recentEntries || []);
    if (message) say(line, message, kind);
    return true;
  }

  function drawHead() {
    const actions = [];
    if (canAdjust && account.status !== 'closed') {
      actions.push(button(t('wallet.adjust'), { kind: 'primary', write: true, id: 'account-adjust', on: adjust }));
    }
    if (canChange && account.status === 'active') {
      actions.push(button(t('wallet.freeze'), { write: true, id: 'account-freeze', on: () => setStatus('frozen') }));
    }
    if (canChange && account.status === 'frozen') {
      actions.push(button(t('wallet.unfreeze'), { write: true, id: 'account-unfreeze', on: () => setStatus('active') }));
    }
    if (canChange && account.status !== 'closed') {
      actions.push(button(t('wallet.close'), { kind: 'danger-quiet', write: true, id: 'account-close', on: () => setStatus('closed') }));
    }
    clear(head).append(pageHeader(accountName(t, account), actions));
  }

  function drawSummary() {
    const a = account;
    clear(summary).append(
      h('div', { class: 'card' }, details([
        [t('wallet.owner'), `${t(`walletOwner.${a.ownerType}`)} · ${a.ownerId}`],
        [t('wallet.currency'), a.currency],
        [t('field.status'), statusBadge(t, a.status)],
        [t('wallet.negative'), a.allowNegative ? t('wallet.negativeYes') : t('wallet.negativeNo')],
        [t('wallet.openedAt'), dateTime(a.createdAt)],
        [t('wallet.accountId'), h('span', { class: 'mono', id: 'account-id' }, a.id)],
      ])),
      h('div', { id: 'account-totals' }, totalsList([
        ['account-balance', t('wallet.balance'), a.balance],
        ['account-held', t('wallet.held'), a.held],
        ['account-available', t('wallet.available'), a.available],
      ])));
  }

  /** The transfers behind these entries (type, reason, reversal links): one list call, then any missing by id. */
  async function transfersOf(entries) {
    const byId = new Map();
    if (!canTransfers || !entries.length) return byId;
    const answer = await api('GET', `/v1/wallet/transfers?accountId=${encodeURIComponent(id)}&limit=${Math.min(200, entries.length)}`);
    if (answer.ok) for (const tr of answer.data.items) byId.set(tr.id, tr);
    const missing = [...new Set(entries.map((e) => e.transactionId))].filter((x) => !byId.has(x));
    const found = await Promise.all(missing.map((x) => api('GET', `/v1/wallet/transfers/${encodeURIComponent(x)}`)));
    for (const r of found) if (r.ok) byId.set(r.data.id, r.data);
    return byId;
  }

  async function drawEntries(entries) {
    const transfers = await transfersOf(entries);
    const columns = [
      { label: t('wallet.when'), cell: (e) => dateTimeShort(e.createdAt) },
      {
        label: t('wallet.type'), cell: (e) => {
          const tr = transfers.get(e.transactionId);
          if (!tr) return h('span', { class: 'mono' }, shortId(e.transactionId));
          return h('span', { class: 'wallet-type', dataset: { type: tr.type } }, t(`walletType.${tr.type}`),
            tr.reversedBy ? [' ', badge(t('wallet.reversed'), 'closed')] : null);
        },
      },
      { label: t('field.reason'), cell: (e) => h('span', { class: 'wallet-reason' }, (transfers.get(e.transactionId) || {}).reason || '') },
      { label: t('wallet.debit'), className: 'num', cell: (e) => (e.direction === 'debit' ? amountSpan(e.amount, 'wallet-debit') : '') },
      { label: t('wallet.credit'), className: 'num', cell: (e) => (e.direction === 'credit' ? amountSpan(e.amount, 'wallet-credit') : '') },
      { label: t('wallet.balanceAfter'), className: 'num', cell: (e) => amountSpan(e.balanceAfter, 'wallet-balance-after') },
    ];
    if (canReverse) {
      columns.push({
        label: t('field.actions'), cell: (e) => {
          const tr = transfers.get(e.transactionId);
          if (!tr || tr.type === 'reversal' || tr.reversedBy) return '';
          return h('div', { class: 'row-actions' }, button(t('wallet.reverse'), {
            write: true, kind: 'danger-quiet', dataset: { write: '', action: 'reverse', transfer: tr.id },
            'aria-label': t('wallet.reverseNamed', { type: t(`walletType.${tr.type}`), when: dateTimeShort(tr.createdAt) }),
            on: () => reverse(tr),
          }));
        },
      });
    }
    const rows = entries.map((e) => ({ ...e, id: String(e.id) }));
    clear(entriesBox).append(table({ caption: t('wallet.entriesCaption'), captionHidden: true, columns, rows, empty: t('wallet.noEntries') }));
    for (const tr of entriesBox.querySelectorAll('tbody tr')) {
      const entry = rows.find((e) => e.id === tr.dataset.id);
      if (entry) tr.dataset.transfer = entry.transactionId;
    }
  }

  function adjust() {
    adjustmentDialog(ctx, { from: account.id }).then(async (transfer) => {
      if (!transfer) return;
      const words = t('wallet.posted', { amount: amountOf(transfer.entries.find((e) => e.direction === 'debit').amount) });
      ctx.announce(words);
      await refresh(words);
      if (statement) await statement.load();
    });
  }

  function setStatus(to) {
    const verb = { frozen: 'freeze', active: 'unfreeze', closed: 'close' }[to];
    confirmAction({
      t, title: t(`wallet.${verb}Title`, { name: accountName(t, account) }), message: t(`wallet.${verb}Body`),
      confirmLabel: t(`wallet.${verb}`), reason: to !== 'active', destructive: to !== 'active',
      onConfirm: async (reason) => {
        const body = reason ? { status: to, reason } : { status: to };
        const result = await api('PATCH', `/v1/wallet/accounts/${encodeURIComponent(account.id)}`, { body });
        return result.ok ? null : walletError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      const words = t(`wallet.${verb}Done`, { name: accountName(t, account) });
      ctx.announce(words);
      await refresh(words);
    });
  }

  function reverse(tr) {
    const moved = tr.entries.filter((e) => e.direction === 'debit').reduce((sum, e) => sum + Number(e.amount.amount), 0);
    confirmAction({
      t, title: t('wallet.reverseTitle', { type: t(`walletType.${tr.type}`) }),
      message: t('wallet.reverseBody', { amount: amountOf({ amount: String(moved), currency: tr.currency }) }),
      confirmLabel: t('wallet.reverse'), reason: true,
      // no Idempotency-Key: the ledger's own reference for a reversal (reversal/<id>) makes a second click a replay
      onConfirm: async (reason) => {
        const result = await api('POST', `/v1/wallet/transfers/${encodeURIComponent(tr.id)}/reverse`, { body: { reason } });
        return result.ok ? null : walletError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      const words = t('wallet.reversedDone');
      ctx.announce(words);
      await refresh(words);
      if (statement) await statement.load();
    });
  }

  let statement = null;
  if (!(await refresh())) return;
  if (canStatement) statement = await drawStatement(ctx, statementBox, account, query);
}

/** The statement section: a period (UTC days, both included), the lines with the running balance, the CSV. */
async function drawStatement(ctx, box, account, query) {
  const { t, api } = ctx;
  const today = utcToday();
  const day = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') ? v : null);
  const fromInput = h('input', { type: 'date', id: 'statement-from', required: true, value: day(query.get('from')) || addDays(today, -29) });
  const toInput = h('input', { type: 'date', id: 'statement-to', required: true, value: day(query.get('to')) || today });
  const line = statusLine();
  line.id = 'statement-status';
  const csvButton = button(t('wallet.csv'), { id: 'statement-csv' });
  const download = h('a', { id: 'statement-download', hidden: true, class: 'download' }, t('wallet.csvLink'));
  const form = h('form', { class: 'filters', id: 'statement-form' },
    field(t('dashboard.from'), fromInput), field(t('dashboard.to'), toInput, { hint: t('wallet.utcDays') }),
    h('div', { class: 'filters-actions' }, button(t('wallet.showStatement'), { kind: 'primary', type: 'submit', id: 'statement-show' }), csvButton));
  const totals = h('div', { id: 'statement-totals' });
  const lines = h('div', { id: 'statement-lines' });
  clear(box).append(h('p', { class: 'hint' }, t('wallet.statementIntro')), form, line, download, totals, lines);

  function period() {
    const problem = rangeProblem(fromInput.value, toInput.value, MAX_DAYS);
    if (problem) { say(line, t(...problem), 'error'); return null; }
    // the API's `to` is exclusive: the day after the last one shown
    return `accountId=${encodeURIComponent(account.id)}&from=${fromInput.value}&to=${addDays(toInput.value, 1)}`;
  }

  async function load() {
    const qs = period();
    if (!qs) return;
    ctx.setQuery({ from: fromInput.value, to: toInput.value });
    say(line, t('app.loading'));
    const answer = await api('GET', `/v1/wallet/statements?${qs}`);
    if (!answer.ok) { say(line, walletError(t, answer), 'error'); return; }
    const s = answer.data;
    clear(totals).append(totalsList([
      ['statement-opening', t('wallet.opening'), s.openingBalance],
      ['statement-debits', t('wallet.totalDebits'), s.totalDebits],
      ['statement-credits', t('wallet.totalCredits'), s.totalCredits],
      ['statement-closing', t('wallet.closing'), s.closingBalance],
    ]));
    const rows = [
      { id: 'opening', kind: 'opening', balanceAfter: s.openingBalance },
      ...s.lines.map((l) => ({ ...l, id: String(l.entryId), kind: 'line' })),
      { id: 'closing', kind: 'closing', balanceAfter: s.closingBalance },
    ];
    clear(lines).append(table({
      caption: t('wallet.statementCaption', { from: fromInput.value, to: toInput.value }),
      rows,
      columns: [
        { label: t('wallet.when'), cell: (l) => (l.kind === 'line' ? dateTimeShort(l.at) : h('strong', {}, t(l.kind === 'opening' ? 'wallet.opening' : 'wallet.closing'))) },
        { label: t('wallet.type'), cell: (l) => (l.kind === 'line' ? h('span', { class: 'wallet-type', dataset: { type: l.type } }, t(`walletType.${l.type}`)) : '') },
        { label: t('wallet.reference'), cell: (l) => (l.kind === 'line' ? h('span', { class: 'mono wallet-reference' }, l.reference) : '') },
        { label: t('field.reason'), cell: (l) => (l.kind === 'line' ? l.reason || '' : '') },
        { label: t('wallet.debit'), className: 'num', cell: (l) => (l.kind === 'line' && l.direction === 'debit' ? amountSpan(l.amount, 'wallet-debit') : '') },
        { label: t('wallet.credit'), className: 'num', cell: (l) => (l.kind === 'line' && l.direction === 'credit' ? amountSpan(l.amount, 'wallet-credit') : '') },
        { label: t('wallet.runningBalance'), className: 'num', cell: (l) => amountSpan(l.balanceAfter, 'statement-balance') },
      ],
    }));
    for (const tr of lines.querySelectorAll('tbody tr')) tr.dataset.kind = rows.find((r) => r.id === tr.dataset.id).kind;
    say(line, t('wallet.statementLoaded', { count: number(s.lines.length) }));
  }

  // the API's own CSV of the same period
  csvButton.addEventListener('click', async () => {
    const qs = period();
    if (!qs) return;
    csvButton.disabled = true;
    const result = await api('GET', `/v1/wallet/statements?${qs}&format=csv`, { headers: { Accept: 'text/csv' } });
    csvButton.disabled = false;
    if (!result.ok) { say(line, walletError(t, result), 'error'); return; }
    if (download.href) URL.revokeObjectURL(download.href);
    const file = new Blob([typeof result.data === 'string' ? result.data : ''], { type: 'text/csv' });
    const named = /filename="([^"]+)"/.exec(result.headers.get('Content-Disposition') || '');
    download.href = URL.createObjectURL(file);
    download.dataset.bytes = String(file.size);
    download.download = named ? named[1] : `statement-${account.id}-${fromInput.value}-${addDays(toInput.value, 1)}.csv`;
    download.hidden = false;
    download.click();
    say(line, t('wallet.csvDone'), 'ok');
  });

  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await load();
  return { load };
}
