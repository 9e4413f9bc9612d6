// Sokoni Station: sign in as a station operator, redeem vouchers by typed code or scanned QR, see today's list.
// Screens: login, redeem (the home), result, history (#/history), scan. Only one is visible at a time.
import { Session, ApiError } from '../shared/session.js';
import { makeT, pickLanguage, rememberLanguage } from '../shared/i18n.js';
import en from './strings/en.js';
import { ALPHABET, cleanTyping, looksLikeVoucherQR, normalizeCode } from './code.js';
import { $, applyStrings, el, setText } from './dom.js';
import { formatMoney, formatTotals, formatWhen, setLanguage } from './format.js';
import { findRedemption, loadToday } from './history.js';
import { queue } from './queue.js';
import { newAttempt, send } from './redeem.js';
import { canScan, scanQR } from './scan.js';

const LANGUAGES = ['en', 'fr', 'sw', 'rw'];
const RETRY_MS = 15_000;
// refusal codes with their own words in the strings file; anything else is "not redeemed" plus the server's message
const REFUSALS = new Set(['already_redeemed', 'expired', 'void', 'wrong_station', 'station_inactive', 'unknown_code',
  'invalid_code', 'bad_signature', 'not_qr', 'too_many_attempts', 'not_redeemable', 'no_station']);
const DEFAULT_ALREADY_REDEEMED = 'This voucher was already redeemed.';

let t = (key) => key;
let session;
let stationName = '';
let today = [];            // today's redemptions at this station, newest first
let shownKey = null;       // the attempt the result screen is about, so a late answer can replace its pending state
const inflight = new Set(); // attempts being sent right now (never twice at once)
let reachable = true;      // false after a send got no answer, true again after any answer
let flushing = false;
let scanAbort = null;
const answered = [];       // answers for queued attempts that came back while another screen was shown

// ---------- screens ----------

function show(name) {
  if (name !== 'scan') scanAbort?.abort();
  for (const screen of document.querySelectorAll('.screen')) screen.hidden = screen.id !== `screen-${name}`;
  const active = name === 'history' ? 'tab-history' : 'tab-redeem';
  for (const tab of ['tab-redeem', 'tab-history']) {
    if (tab === active) $(tab).setAttribute('aria-current', 'page');
    else $(tab).removeAttribute('aria-current');
  }
  window.scrollTo(0, 0);
}

function route() {
  if (!session?.signedIn || !session.me) return;
  if (location.hash === '#/history') {
    shownKey = null;
    show('history');
    renderHistory();
    refreshHistory();
    $('history-title').focus();
  } else {
    showRedeem();
  }
}

function showRedeem() {
  shownKey = null;
  show('redeem');
  renderAnswered();
  $('code').focus();
}

function showLogin(note = '', kind = 'info', adminLink = false) {
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('station-name').hidden = true;
  const noteNode = $('login-note');
  noteNode.textContent = note;
  noteNode.hidden = !note;
  noteNode.dataset.kind = kind;
  $('admin-link').hidden = !adminLink; // someone who is not station staff: point to where they belong
  show('login');
  queue.all().then((items) => {
    if (items.length && !note) setText('login-note', t('login.waitingQueued', { count: items.length }));
  });
  ($('email').value ? $('password') : $('email')).focus();
  updateBanner();
}

// ---------- sign in / out ----------

async function enter() {
  const me = session.me;
  if (!me) {
    await session.logout();
    showLogin(t('login.failed', { message: 'GET /v1/auth/me' }), 'error');
    return;
  }
  // the gateway would refuse every redemption anyway; say so at once, in words
  if (!(me.roles ?? []).includes('station_operator')) {
    await session.logout();
    showLogin(t('login.notOperator', { email: me.email }), 'error', true);
    return;
  }
  if (!me.stationId) {
    await session.logout();
    showLogin(t('login.noStation'), 'error');
    return;
  }
  $('nav').hidden = false;
  $('signout').hidden = false;
  showStationName(stationName || t('station.unknown'));
  loadStation(me.stationId);
  route();
  refreshHistory();
  flush();
}

function showStationName(name) {
  const node = $('station-name');
  node.textContent = name;
  node.hidden = false;
}

async function loadStation(id) {
  try {
    const result = await session.api('GET', `/v1/stations/${encodeURIComponent(id)}`);
    if (result.ok) {
      stationName = result.data.name;
      showStationName(stationName);
    }
  } catch { /* offline: keep the placeholder, the next sign-in loads it */ }
}

async function onLogin(event) {
  event.preventDefault();
  const email = $('email').value.trim();
  const password = $('password').value;
  const error = $('login-error');
  error.hidden = true;
  if (!email || !password) {
    setText('login-error', t('login.required'));
    (email ? $('password') : $('email')).focus();
    return;
  }
  const button = $('login-submit');
  button.disabled = true;
  button.textContent = t('login.busy');
  try {
    await session.login(email, password, $('tenant-field').hidden ? null : $('tenant').value);
    $('password').value = '';
    setText('login-note', '');
    await enter();
  } catch (e) {
    let text;
    if (!(e instanceof ApiError)) text = t('login.offline');
    else if (e.status === 401 || e.code === 'invalid_credentials') text = t('login.badCredentials');
    else if (e.status === 429) text = t('login.locked', { minutes: minutes(e.retryAfter) });
    else if (e.code === 'tenant_required') text = t('login.chooseTenant');
    else text = t('login.failed', { message: e.message });
    setText('login-error', text);
    if (e.code === 'tenant_required') {
      // this email and password open accounts in several organisations: the operator picks theirs
      const select = $('tenant');
      select.replaceChildren(...e.tenants.map((choice) => {
        const option = document.createElement('option');
        option.value = choice.slug;
        option.textContent = choice.name;
        return option;
      }));
      $('tenant-field').hidden = false;
      select.focus();
    } else {
      $('password').focus();
    }
  } finally {
    button.disabled = false;
    button.textContent = t('login.submit');
  }
}

async function onSignOut() {
  await session.logout();
  stationName = '';
  today = [];
  answered.length = 0;
  renderHistory();
  showLogin();
}

// The session could not be renewed: sign in again on the same screen; queued attempts wait in IndexedDB.
function onExpired() {
  showLogin(t('login.expired'), 'warn');
}

// ---------- redeeming ----------

function minutes(seconds) {
  return Math.max(1, Math.ceil((Number(seconds) || 60) / 60));
}

/** Why a typed text is not a code, in the cashier's words. */
function explainBadCode(raw) {
  const cleaned = cleanTyping(raw);
  if (!cleaned) return t('redeem.empty');
  const bad = [...new Set([...cleaned].filter((c) => !ALPHABET.includes(c)))];
  if (bad.length) return t('redeem.badChars', { chars: bad.map((c) => `“${c}”`).join(', ') });
  return t(cleaned.length < 5 ? 'redeem.tooShort' : 'redeem.tooLong', { count: cleaned.length });
}

async function onRedeem(event) {
  event.preventDefault();
  const raw = $('code').value;
  const code = normalizeCode(raw);
  if (!code) {
    setText('code-error', explainBadCode(raw));
    $('code').setAttribute('aria-invalid', 'true');
    $('code').focus();
    return;
  }
  $('code').value = '';
  await redeem({ code }, code);
}

function codeOfQR(payload) {
  return normalizeCode(payload.trim().split(':')[1] ?? '');
}

async function redeem(body, label) {
  const me = session.me;
  if (!session.signedIn || !me) return showLogin(t('login.expired'), 'warn');
  // the same code already waiting: show that attempt (same key) instead of making a second one
  const waiting = (await queue.all(me.id)).find((a) => JSON.stringify(a.body) === JSON.stringify(body));
  if (waiting) {
    shownKey = waiting.key;
    showPending(waiting);
    flush();
    return;
  }
  const attempt = newAttempt(me.id, body, label);
  await queue.put(attempt); // before sending: if the page dies mid-request, the next start resends the same key
  shownKey = attempt.key;
  showSending(attempt);
  await sendAndSettle(attempt, false);
}

async function sendAndSettle(attempt, fromQueue) {
  if (inflight.has(attempt.key)) return null;
  inflight.add(attempt.key);
  try {
    const outcome = await send(session, attempt);
    await settle(attempt, outcome, fromQueue);
    return outcome;
  } finally {
    inflight.delete(attempt.key);
    updateBanner();
  }
}

async function settle(attempt, outcome, fromQueue) {
  const later = (seconds) => new Date(Date.now() + seconds * 1000).toISOString();
  if (outcome.state === 'pending') {
    if (outcome.reason !== 'auth') reachable = false;
    attempt.pendingSince ??= new Date().toISOString();
    if (outcome.retryAfter) attempt.notBefore = later(outcome.retryAfter);
    await queue.put(attempt);
    if (shownKey === attempt.key) showPending(attempt);
    return;
  }
  reachable = true;
  // locked out while sending a queued code: the code was not looked at, so keep it and try after the lock
  if (fromQueue && outcome.state === 'refused' && outcome.code === 'too_many_attempts') {
    attempt.notBefore = later(outcome.retryAfter ?? 60);
    await queue.put(attempt);
    if (shownKey === attempt.key) showPending(attempt);
    return;
  }
  await queue.remove(attempt.key);
  if (outcome.state === 'refused' && outcome.code === 'already_redeemed') {
    const code = attempt.body.code ?? codeOfQR(attempt.body.qr);
    outcome.earlier = code ? await findRedemption(session, code, today) : null;
  }
  if (shownKey === attempt.key) {
    showOutcome(attempt, outcome);
  } else {
    answered.push({ attempt, outcome });
    renderAnswered();
  }
  if (outcome.state === 'ok') refreshHistory();
}

/** Sends every queued attempt of the signed-in user, oldest first, each with its own key. */
async function flush() {
  if (flushing || !session?.signedIn || !session.me || !navigator.onLine) {
    updateBanner();
    return;
  }
  flushing = true;
  try {
    for (const attempt of await queue.all(session.me.id)) {
      if (attempt.notBefore && Date.parse(attempt.notBefore) > Date.now()) continue;
      updateBanner();
      const outcome = await sendAndSettle(attempt, true);
      if (outcome?.state === 'pending') break; // still no answer: the next online event or tick tries again
    }
  } finally {
    flushing = false;
    updateBanner();
  }
}

// ---------- the answer ----------

function showResult({
  state, title, amount = '', detail = '', extra = '', phone = '', time = '', timeLabel = 'result.time', code = '',
}) {
  const result = $('result');
  result.dataset.state = state;
  delete result.dataset.code;
  $('result-title').textContent = title;
  setText('result-amount', amount);
  // the amount is the biggest thing on screen and stays on one line: its size follows its length
  $('result-amount').style.setProperty('--chars', String(Math.max(amount.length, 6)));
  setText('result-detail', detail);
  setText('result-extra', extra);
  $('result-phone').textContent = phone;
  $('row-phone').hidden = !phone;
  $('result-time-label').textContent = t(timeLabel);
  $('result-time').textContent = time;
  $('row-time').hidden = !time;
  $('result-code').textContent = code;
  $('row-code').hidden = !code;
  show('result');
  result.focus();
}

function showSending(attempt) {
  showResult({ state: 'sending', title: t('result.sending.title'), detail: t('result.sending.detail'), code: attempt.label });
}

function showPending(attempt) {
  const wait = attempt.notBefore && Date.parse(attempt.notBefore) > Date.now()
    ? t('result.pending.wait', { minutes: minutes((Date.parse(attempt.notBefore) - Date.now()) / 1000) }) : '';
  showResult({
    state: 'pending', title: t('result.pending.title'), detail: t('result.pending.detail'), extra: wait,
    time: formatWhen(attempt.createdAt), timeLabel: 'result.savedAt', code: attempt.label,
  });
}

function refusalKey(outcome) {
  if (REFUSALS.has(outcome.code)) return outcome.code;
  return outcome.status === 403 ? 'forbidden' : 'other';
}

function showOutcome(attempt, outcome) {
  if (outcome.state === 'ok') {
    const r = outcome.redemption;
    showResult({
      state: 'ok', title: t('result.ok.title'), amount: formatMoney(r.amount, r.currency),
      detail: t('result.ok.detail'), extra: attempt.pendingSince ? t('result.ok.late') : '',
      phone: r.maskedMsisdn, time: formatWhen(r.redeemedAt), code: r.code,
    });
    return;
  }
  const key = refusalKey(outcome);
  const extras = [];
  let time = '';
  let phone = '';
  if (key === 'already_redeemed' && outcome.earlier) {
    time = formatWhen(outcome.earlier.redeemedAt);
    phone = outcome.earlier.maskedMsisdn;
    extras.push(t('refusal.already_redeemed.here', { station: stationName || t('station.unknown'), when: time }));
  }
  // the server's own words when they say more than ours (e.g. when and where it was used)
  if (outcome.message && (key === 'other' || key === 'forbidden'
    || (key === 'already_redeemed' && outcome.message !== DEFAULT_ALREADY_REDEEMED))) {
    extras.push(t('result.serverSaid', { message: outcome.message }));
  }
  const result = $('result');
  showResult({
    state: 'refused', title: t(`refusal.${key}.title`),
    detail: t(`refusal.${key}.detail`, { minutes: minutes(outcome.retryAfter) }),
    extra: extras.join(' '), time, phone, code: attempt.label,
  });
  result.dataset.code = outcome.code;
}

function renderAnswered() {
  const box = $('answered');
  box.replaceChildren();
  if (!answered.length) return;
  box.append(el('h2', {}, t('answered.title')));
  answered.forEach((entry, index) => {
    const { attempt, outcome } = entry;
    const text = outcome.state === 'ok'
      ? t('answered.ok', { code: attempt.label, amount: formatMoney(outcome.redemption.amount, outcome.redemption.currency) })
      : t('answered.refused', { code: attempt.label, reason: t(`refusal.${refusalKey(outcome)}.title`) });
    const state = outcome.state === 'ok' ? 'ok' : 'refused';
    box.append(el('div', { class: 'answer', dataset: { state, testid: 'answered-item' } },
      el('p', {}, text),
      el('div', { class: 'answer-actions' },
        el('button', { type: 'button', class: 'btn btn-small', onclick: () => {
          answered.splice(index, 1);
          shownKey = attempt.key;
          showOutcome(attempt, outcome);
        } }, t('answered.show')),
        el('button', { type: 'button', class: 'btn btn-small', onclick: () => {
          answered.splice(index, 1);
          renderAnswered();
          $('code').focus();
        } }, t('answered.dismiss')))));
  });
}

// ---------- offline banner ----------

async function updateBanner() {
  const items = await queue.all(session?.me?.id);
  // an attempt being sent for the first time is not "waiting" yet
  const count = items.filter((a) => !inflight.has(a.key) || a.pendingSince).length;
  const offline = !navigator.onLine || !reachable;
  const banner = $('banner');
  let text = '';
  if (offline) text = count ? t('banner.offlineQueued', { count }) : t('banner.offline');
  else if (count && session?.signedIn) text = t(flushing ? 'banner.sending' : 'banner.queued', { count });
  banner.textContent = text;
  banner.hidden = !text;
  banner.dataset.state = offline ? 'offline' : count ? 'queued' : 'online';
  banner.dataset.count = String(count);
}

// ---------- history ----------

async function refreshHistory() {
  if (!session?.signedIn) return;
  try {
    today = await loadToday(session);
    $('history-error').hidden = true;
  } catch {
    $('history-error').hidden = false; // offline: keep what we had
  }
  renderHistory();
}

function renderHistory() {
  const total = formatTotals(today);
  $('history-summary').textContent = today.length ? t('history.summary', { count: today.length, total }) : t('history.none');
  $('tab-total').textContent = today.length ? total : '';
  $('history-empty').hidden = today.length > 0;
  // running total from the first of the day, listed newest first
  const running = [];
  today.slice().reverse().forEach((item, i, oldestFirst) => { running.unshift(formatTotals(oldestFirst.slice(0, i + 1))); });
  $('history-list').replaceChildren(...today.map((item, i) => el('li', { class: 'entry', dataset: { code: item.code } },
    el('div', { class: 'entry-line' },
      el('span', { class: 'entry-time' }, formatWhen(item.redeemedAt)),
      el('span', { class: 'entry-code mono' }, item.code),
      el('span', { class: 'entry-amount' }, formatMoney(item.amount, item.currency))),
    el('div', { class: 'entry-line entry-small' },
      el('span', { class: 'entry-phone' }, item.maskedMsisdn),
      el('span', { class: 'entry-running' }, t('history.running', { total: running[i] }))))));
}

// ---------- scanning ----------

async function onScan() {
  show('scan');
  setText('scan-status', t('scan.hint'));
  scanAbort = new AbortController();
  try {
    const text = await scanQR($('scan-video'), scanAbort.signal);
    scanAbort = null;
    if (!looksLikeVoucherQR(text)) {
      showResult({ state: 'refused', title: t('refusal.not_qr.title'), detail: t('refusal.not_qr.detail') });
      $('result').dataset.code = 'not_qr';
      return;
    }
    await redeem({ qr: text.trim() }, codeOfQR(text) ?? t('result.qr'));
  } catch (e) {
    if (e.name === 'AbortError') return;
    const key = e.name === 'NotAllowedError' ? 'scan.denied'
      : e.name === 'NotFoundError' || e.name === 'OverconstrainedError' ? 'scan.noCamera' : 'scan.failed';
    setText('scan-status', t(key));
  }
}

// ---------- start ----------

function wire() {
  $('login-form').addEventListener('submit', onLogin);
  $('email').addEventListener('input', () => { $('tenant-field').hidden = true; });
  $('redeem-form').addEventListener('submit', onRedeem);
  $('code').addEventListener('input', () => {
    $('code-error').hidden = true;
    $('code').removeAttribute('aria-invalid');
  });
  $('next').addEventListener('click', () => {
    if (location.hash === '#/history') location.hash = '#/';
    showRedeem();
  });
  $('signout').addEventListener('click', onSignOut);
  $('scan').addEventListener('click', onScan);
  $('scan-cancel').addEventListener('click', showRedeem);
  $('language').addEventListener('change', (event) => {
    rememberLanguage(event.target.value);
    location.reload();
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('online', () => {
    reachable = true;
    flush();
  });
  window.addEventListener('offline', updateBanner);
  const scanner = canScan();
  $('scan').hidden = !scanner;
  $('scan-fallback').hidden = scanner;
}

async function main() {
  const language = pickLanguage(LANGUAGES);
  const others = { fr: () => import('./strings/fr.js'), sw: () => import('./strings/sw.js'), rw: () => import('./strings/rw.js') };
  t = await makeT(en, others, language);
  setLanguage(language);
  document.documentElement.lang = language;
  document.title = t('app.title');
  applyStrings(t);
  $('language').value = language;
  wire();
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/station/sw.js', { scope: '/station/' }).catch(() => { /* the app works without it */ });
    // the worker starts after this page fetched its modules: tell it which, so the next start works offline
    navigator.serviceWorker.ready.then((registration) => {
      const urls = performance.getEntriesByType('resource').map((entry) => entry.name).filter((url) => url.includes('/assets/'));
      registration.active?.postMessage({ cache: urls });
    });
  }
  session = new Session({ onExpired });
  // a reload: the HttpOnly refresh cookie restores the session without asking again
  if (await session.resume()) await enter();
  else showLogin();
  setInterval(() => { flush(); }, RETRY_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) flush(); });
}

main();
