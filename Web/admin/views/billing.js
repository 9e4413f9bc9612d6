// Billing: the tenant's plan and subscription; its usage credits (remaining, reserved, available, used; used per day as
// an SVG chart with a table for screen readers; an alert banner when they run low or out; the grants and top-ups) with
// "Top up" for super admins (one Idempotency-Key per dialog: a double click or a retry grants once); and the
// subscription's payments with their M-Pesa receipts, "Pay with M-Pesa" (a plan and a phone that gets the prompt),
// the Revolut link where the tenant is offered it, and in the sandbox the phone's answer simulated.
import { h, clear } from '../lib/dom.js';
import { barChart, redrawOnResize } from '../lib/chart.js';
import { number, dateTime, dateTimeShort, longDay } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, select, dialog, badge, details, newKey, errorText } from '../lib/ui.js';
import { amountOf } from './wallet-shared.js';
import en from '../strings/en.js';

const PLANS = ['lite', 'pro', 'enterprise'];
const DAY_CHOICES = [7, 30, 90];
const POLL_MS = 1500;
const POLL_TIMES = 40;

function billingError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `billingError.${code}` in en) return t(`billingError.${code}`);
  return errorText(t, result);
}

function paymentBadge(t, status) {
  const kinds = { pending: 'issued', succeeded: 'active', failed: 'void', cancelled: 'inactive', timeout: 'expired' };
  return h('span', { class: 'payment-status', dataset: { status } }, badge(t(`paymentStatus.${status}`), kinds[status] || 'inactive'));
}

function subscriptionBadge(t, status) {
  const kinds = { pending_payment: 'issued', active: 'active', past_due: 'expired', cancelled: 'inactive' };
  return h('span', { class: 'subscription-status', dataset: { status } }, badge(t(`subscriptionStatus.${status}`), kinds[status] || 'inactive'));
}

/** The "top up" dialog: credits and a reason, one key for the dialog. Resolves to the credits, or undefined. */
function topUpDialog(ctx) {
  const { t, api } = ctx;
  const credits = h('input', { id: 'topup-credits', required: true, inputmode: 'numeric', autocomplete: 'off' });
  const reason = h('textarea', { id: 'topup-reason', required: true, maxlength: '500', rows: '3' });
  const key = newKey();
  return dialog({
    t, title: t('billing.topUpTitle'), submitLabel: t('billing.topUpSubmit'),
    body: h('div', { class: 'form-grid', id: 'topup-form' }, h('p', { class: 'hint' }, t('billing.topUpIntro')),
      field(t('billing.credits'), credits, { hint: t('billing.creditsHint') }), field(t('field.reason'), reason, { hint: t('billing.topUpReasonHint') })),
    onSubmit: async ({ close, fail }) => {
      const text = credits.value.trim().replace(/[\s,]/g, '');
      if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > 1e9) return fail(t('billing.badCredits'));
      if (!reason.value.trim()) return fail(t('error.reasonRequired'));
      const result = await api('POST', '/v1/credits/topups', { body: { credits: Number(text), reason: reason.value.trim() }, idempotencyKey: key });
      if (!result.ok) return fail(billingError(t, result));
      close({ credits: result.data, added: Number(text) });
    },
  }).done;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canTopUp = can('POST /v1/credits/topups');
  const canSubscriptions = can('GET /v1/subscriptions');
  const canPay = can('POST /v1/subscriptions');
  const canQuery = can('POST /v1/subscriptions/payments/{id}/query');
  const canSimulate = can('POST /v1/subscriptions/payments/{id}/simulate');

  const planBox = h('div', { id: 'billing-plan' });
  const alertBox = h('div', { id: 'credits-alert' });
  const totals = h('div', { id: 'credits-totals' });
  const days = select(DAY_CHOICES.map((d) => [String(d), t('billing.lastDays', { days: number(d) })]),
    { id: 'credits-days', value: DAY_CHOICES.includes(Number(query.get('days'))) ? query.get('days') : '30' });
  const chartBox = h('div', { class: 'chart-box', id: 'credits-chart' });
  const chartTable = h('details', { class: 'chart-table', id: 'credits-chart-table' });
  const events = h('div', { id: 'credits-events' });
  const creditsLine = statusLine();
  creditsLine.id = 'credits-status-line';
  const payBox = h('div', { id: 'billing-pay' });
  const payments = h('div', { id: 'payments-list', class: 'market-list' });
  const payLine = statusLine();
  payLine.id = 'payments-status-line';

  root.append(
    pageHeader(t('billing.title'),
      canTopUp ? button(t('billing.topUp'), { kind: 'primary', write: true, id: 'credits-topup', on: topUp }) : null),
    h('p', { class: 'hint' }, t('billing.intro')),
    alertBox,
    canSubscriptions ? section(t('billing.plan'), planBox) : '',
    section(t('billing.creditsTitle'), h('p', { class: 'hint' }, t('billing.creditsIntro')), creditsLine, totals,
      h('div', { class: 'filters' }, field(t('billing.period'), days)),
      h('h3', {}, t('billing.usedPerDay')), chartBox, chartTable,
      h('h3', {}, t('billing.topUps')), events),
    canSubscriptions ? section(t('billing.payments'), payBox, payLine, payments) : '');

  let credits = null;
  let view = null;
  let options = null;

  // ---------------------------------------------------------------- credits

  async function loadCredits(message) {
    const answer = await api('GET', `/v1/credits?days=${days.value}`);
    if (!answer.ok) { say(creditsLine, billingError(t, answer), 'error'); return; }
    credits = answer.data;
    drawCredits();
    say(creditsLine, message || '', message ? 'ok' : '');
  }

  function drawCredits() {
    const c = credits;
    clear(totals).append(h('dl', { class: 'totals' }, [
      ['credits-remaining', t('billing.remaining'), c.remaining],
      ['credits-reserved', t('billing.reserved'), c.reserved],
      ['credits-available', t('billing.available'), c.available],
      ['credits-used', t('billing.used'), c.used],
    ].map(([key, label, value]) => h('div', { class: 'total', dataset: { total: key, value: String(value) } }, h('dt', {}, label), h('dd', { id: key }, number(value))))));
    drawAlert();
    drawChart();
    clear(events).append(table({
      caption: t('billing.topUpsCaption'), captionHidden: true, rows: c.events.map((e, i) => ({ ...e, id: e.reference || String(i) })), empty: t('billing.noTopUps'),
      columns: [
        { label: t('field.when'), cell: (e) => dateTimeShort(e.at) },
        { label: t('billing.kind'), cell: (e) => h('span', { class: 'credit-kind', dataset: { kind: e.kind } }, t(`creditKind.${e.kind}`)) },
        { label: t('billing.credits'), className: 'num', cell: (e) => h('span', { class: 'credit-amount', dataset: { value: String(e.credits) } }, `+${number(e.credits)}`) },
        { label: t('field.reason'), cell: (e) => e.reason || '' },
      ],
    }));
  }

  /** A banner while credits are low or out (as they are now), saying since when the alert of this episode was raised. */
  function drawAlert() {
    const c = credits;
    let kind = null;
    if (c.available <= 0) kind = 'exhausted';
    else if (c.available < c.lowThreshold) kind = 'low';
    if (!kind) return clear(alertBox);
    // the alert raised since the last grant or top-up (alerts are raised once per episode)
    const lastGrant = c.events.length ? c.events[0].at : '';
    const current = c.alerts.find((a) => a.kind === kind && a.at >= lastGrant);
    return clear(alertBox).append(h('div', { class: 'credits-banner', role: 'alert', id: 'credits-banner', dataset: { kind } },
      h('p', { class: 'credits-banner-title' }, t(`billing.alert.${kind}`)),
      h('p', {}, t(`billing.alertBody.${kind}`, { available: number(c.available), threshold: number(c.lowThreshold) }),
        current ? ` ${t('billing.alertSince', { when: dateTime(current.at) })}` : '')));
  }

  function drawChart() {
    const c = credits;
    const byDay = new Map(c.usagePerDay.map((d) => [d.day, { day: d.day, used: d.used }]));
    const dayList = c.usagePerDay.map((d) => d.day);
    const width = Math.max(280, Math.floor(chartBox.clientWidth || 600));
    const total = c.usagePerDay.reduce((sum, d) => sum + d.used, 0);
    const svg = barChart({
      days: dayList, byDay, series: [{ key: 'used', label: t('billing.used') }], width, height: 240,
      title: t('billing.chartTitle', { days: number(dayList.length) }),
      description: t('billing.chartSummary', { total: number(total) }),
      axisX: t('dashboard.axisDay'), axisY: t('billing.axisCredits'),
      valueText: (day, label, value) => t('billing.barTitle', { day, value: number(value) }),
    });
    svg.id = 'credits-svg';
    clear(chartBox).append(svg);
    clear(chartTable).append(h('summary', {}, t('dashboard.asTable')), table({
      caption: t('billing.chartTable'),
      columns: [{ label: t('dashboard.day'), cell: (d) => longDay(d.day) }, { label: t('billing.used'), className: 'num', cell: (d) => number(d.used) }],
      rows: c.usagePerDay.filter((d) => d.used > 0).map((d) => ({ ...d, id: d.day })), empty: t('billing.noUse'),
    }));
  }

  function topUp() {
    topUpDialog(ctx).then((done) => {
      if (!done) return;
      credits = null;
      const words = t('billing.toppedUp', { credits: number(done.added) });
      ctx.announce(words);
      loadCredits(words);
    });
  }

  days.addEventListener('change', () => { ctx.setQuery({ days: days.value }); loadCredits(); });

  // ---------------------------------------------------------------- plan and payments

  async function loadSubscription() {
    const answer = await api('GET', '/v1/subscriptions');
    if (!answer.ok) { say(payLine, billingError(t, answer), 'error'); return null; }
    view = answer.data;
    drawPlan();
    drawPayments();
    return view;
  }

  function drawPlan() {
    const s = view.subscription;
    if (!s) {
      clear(planBox).append(h('p', { id: 'plan-none' }, t('billing.noSubscription')));
      return;
    }
    clear(planBox).append(details([
      [t('billing.planName'), h('strong', { id: 'plan-name', dataset: { plan: s.plan } }, t(`plan.${s.plan}`))],
      [t('field.status'), h('span', { id: 'plan-status' }, subscriptionBadge(t, s.status))],
      [t('billing.price'), `${amountOf(s.amount)}${options ? ` · ${t('billing.perPeriod', { days: number(options.periodDays) })}` : ''}`],
      [t('billing.periodFrom'), s.periodStart ? dateTime(s.periodStart) : ''],
      [t('billing.periodTo'), s.periodEnd ? dateTime(s.periodEnd) : ''],
      [t('billing.receipt'), s.receiptNumber ? h('span', { class: 'mono', id: 'plan-receipt' }, s.receiptNumber) : ''],
    ]));
  }

  function drawPayForm() {
    const parts = [];
    const mpesa = options && options.options.find((o) => o.provider === 'mpesa');
    const revolut = options && options.options.find((o) => o.provider === 'revolut' && o.url);
    if (mpesa && canPay) {
      const plan = select(PLANS.filter((p) => mpesa.prices[p]).map((p) => [p, `${t(`plan.${p}`)} · ${amountOf(mpesa.prices[p])}`]),
        { id: 'pay-plan', value: view.subscription ? view.subscription.plan : 'lite' });
      const phone = h('input', { id: 'pay-phone', type: 'tel', required: true, maxlength: '20', autocomplete: 'tel', placeholder: '+2547…' });
      const submit = button(t('billing.payMpesa'), { kind: 'primary', type: 'submit', id: 'pay-submit', dataset: { write: '' } });
      const error = h('p', { class: 'form-error', role: 'alert', id: 'pay-error' });
      let key = newKey();
      const form = h('form', { class: 'filters pay-form', id: 'pay-form' },
        field(t('billing.planName'), plan), field(t('billing.mpesaPhone'), phone, { hint: t('billing.mpesaPhoneHint') }),
        h('div', { class: 'filters-actions' }, submit), error);
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        error.textContent = '';
        submit.disabled = true;
        const result = await api('POST', '/v1/subscriptions', { body: { plan: plan.value, phone: phone.value.trim() }, idempotencyKey: key });
        submit.disabled = false;
        if (!result.ok) {
          // a refusal started nothing: the next attempt is a new one (a lost answer keeps the key: it may have started)
          if (result.status >= 400 && result.status < 500) key = newKey();
          error.textContent = billingError(t, result);
          return;
        }
        key = newKey();
        const words = t('billing.promptSent', { phone: result.data.phone || phone.value.trim(), amount: amountOf(result.data.amount) });
        ctx.announce(words);
        say(payLine, words, 'ok');
        await loadSubscription();
        poll();
      });
      parts.push(h('h3', {}, t('billing.payTitle')), h('p', { class: 'hint' }, mpesa.sandbox ? t('billing.sandboxHint') : t('billing.payHint')), form);
    }
    if (revolut) {
      parts.push(h('h3', {}, t('billing.revolutTitle')),
        h('p', {}, t('billing.revolutBody', { prices: PLANS.filter((p) => revolut.prices[p]).map((p) => `${t(`plan.${p}`)} ${amountOf(revolut.prices[p])}`).join(' · ') })),
        h('p', {}, h('a', { href: revolut.url, target: '_blank', rel: 'noopener noreferrer', class: 'btn btn-secondary', id: 'pay-revolut' }, t('billing.payRevolut'))));
    }
    clear(payBox).append(...parts);
  }

  function drawPayments() {
    const columns = [
      { label: t('billing.requested'), cell: (p) => dateTimeShort(p.requestedAt) },
      { label: t('billing.planName'), cell: (p) => t(`plan.${p.plan}`) },
      { label: t('market.amount'), className: 'num', cell: (p) => h('span', { class: 'payment-amount', dataset: { amount: p.amount.amount } }, amountOf(p.amount)) },
      { label: t('billing.provider'), cell: (p) => `${t(`provider.${p.provider}`)}${p.sandbox ? ` · ${t('billing.sandbox')}` : ''}` },
      { label: t('field.phone'), cell: (p) => p.phone || '' },
      { label: t('field.status'), cell: (p) => paymentBadge(t, p.status) },
      { label: t('billing.receipt'), cell: (p) => h('span', { class: 'mono payment-receipt' }, p.receiptNumber || '') },
      { label: t('billing.result'), cell: (p) => h('span', { class: 'payment-result' }, p.resultDescription || '') },
    ];
    if (canQuery || (canSimulate && view.sandbox)) {
      columns.push({
        label: t('field.actions'), cell: (p) => (p.status !== 'pending' ? '' : h('div', { class: 'row-actions' },
          canQuery ? button(t('billing.checkNow'), { dataset: { write: '', action: 'query' }, on: (e) => act(p, 'query', e.currentTarget) }) : null,
          canSimulate && p.sandbox ? button(t('billing.simulatePaid'), { kind: 'primary', dataset: { write: '', action: 'simulate-paid' }, on: (e) => act(p, 0, e.currentTarget) }) : null,
          canSimulate && p.sandbox ? button(t('billing.simulateCancelled'), { kind: 'danger-quiet', dataset: { write: '', action: 'simulate-cancelled' }, on: (e) => act(p, 1032, e.currentTarget) }) : null)),
      });
    }
    clear(payments).append(table({ caption: t('billing.paymentsCaption'), captionHidden: true, rows: view.payments, columns, empty: t('billing.noPayments') }));
  }

  async function act(p, what, control) {
    control.disabled = true;
    const result = what === 'query'
      ? await api('POST', `/v1/subscriptions/payments/${encodeURIComponent(p.id)}/query`)
      : await api('POST', `/v1/subscriptions/payments/${encodeURIComponent(p.id)}/simulate`, { body: { resultCode: what } });
    control.disabled = false;
    if (!result.ok) { say(payLine, billingError(t, result), 'error'); return; }
    say(payLine, what === 'query' ? t('billing.checked') : t('billing.simulated'), 'ok');
    await loadSubscription();
    poll();
  }

  // a payment settles when M-Pesa's answer is confirmed: the list is read again until none is pending
  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    for (let i = 0; i < POLL_TIMES && root.isConnected; i += 1) {
      if (!view || !view.payments.some((p) => p.status === 'pending')) break;
      await new Promise((r) => { setTimeout(r, POLL_MS); });
      if (!root.isConnected) break;
      const before = view.payments.map((p) => p.status).join();
      await loadSubscription();
      if (view.payments.map((p) => p.status).join() !== before) {
        const settled = view.payments.find((p) => p.status !== 'pending' && p.confirmedAt);
        if (settled) ctx.announce(t(`billing.settled.${settled.status}`, { receipt: settled.receiptNumber || '' }));
      }
    }
    polling = false;
  }

  const work = [loadCredits()];
  if (canSubscriptions) {
    work.push((async () => {
      const o = await api('GET', '/v1/subscriptions/payment-options');
      options = o.ok ? o.data : null;
      await loadSubscription();
      if (view) drawPayForm();
    })());
  }
  await Promise.all(work);
  redrawOnResize(root, chartBox, () => { if (credits) drawChart(); });
  if (view && view.payments.some((p) => p.status === 'pending')) poll();
}
