// The customer's page for one appointment, opened from the link in a confirmation or reminder: /booking/#<token>,
// the token signed by calendar-booking (it is the only key: no sign-in). It shows the appointment (title, the day and
// hours in the appointment's own zone, where, with whom, its status) and, while the appointment allows it, Confirm,
// Cancel (with an optional reason) and Change the time (the free slots of the next two weeks grouped by day; a slot
// taken meanwhile offers the next free ones), and the .ics to download. Results are said in a live region; an
// expired, invalid or unknown link says so. Every element is built here (no markup from data, nothing inline).
import { makeT, pickLanguage, rememberLanguage } from '../shared/i18n.js';
import { en, fr, sw } from './strings.js';

const LANGUAGES = [['en', 'English'], ['fr', 'Français'], ['sw', 'Kiswahili']];
const language = pickLanguage(LANGUAGES.map(([code]) => code));
const t = await makeT(en, { fr: async () => ({ default: fr }), sw: async () => ({ default: sw }) }, language);
document.documentElement.lang = language;

const main = document.getElementById('main');
const announcer = document.getElementById('announcer');

// ---------------------------------------------------------------- DOM

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'required']);

/** `h('button', {class: 'btn', on: {click}}, 'Save')`: an element; children are text or elements, never markup. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function announce(text) {
  announcer.textContent = '';
  setTimeout(() => { announcer.textContent = text; }, 50);
}

// ---------------------------------------------------------------- the API

const token = () => decodeURIComponent(location.hash.replace(/^#\/?/, '').trim());
const base = () => `/v1/calendar/manage/${encodeURIComponent(token())}`;

/** {status, ok, data, code, body}; status 0 when the network failed. */
async function call(method, path = '', body) {
  try {
    const response = await fetch(base() + path, {
      method,
      headers: body === undefined ? { Accept: 'application/json' } : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    const code = !response.ok && data && data.error ? data.error.code : null;
    return { status: response.status, ok: response.ok, data: response.ok ? data : null, code, body: data };
  } catch {
    return { status: 0, ok: false, data: null, code: 'offline', body: null };
  }
}

function errorWords(result) {
  if (result.status === 0) return t('error.offline');
  if (result.status === 429) return t('error.rate_limited');
  if (result.code && `error.${result.code}` in en) return t(`error.${result.code}`);
  return t('error.generic', { status: result.status });
}

// ---------------------------------------------------------------- time, in the appointment's zone

const dayKey = (iso, zone) => new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
const dayWords = (iso, zone) => new Intl.DateTimeFormat(language, { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(iso));
const shortDay = (iso, zone) => new Intl.DateTimeFormat(language, { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(iso));
const timeWords = (iso, zone) => new Intl.DateTimeFormat(language, { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso));
const browserZone = () => { try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; } };
const zoneName = (zone) => zone.replace(/_/g, ' ');

/** "Sunday 28 March 2027, 09:00–10:00". */
const whenWords = (start, end, zone) => `${dayWords(start, zone)}, ${timeWords(start, zone)}–${timeWords(end, zone)}`;

// ---------------------------------------------------------------- the page

let view = null;
let ticket = 0;

function setTitle(text) {
  document.title = `${text} · Sokoni`;
}

/** The error screen: why this link cannot be used. */
function showError(words, code) {
  main.replaceChildren(h('section', { class: 'card', id: 'link-error', dataset: { code: code || '' }, 'aria-labelledby': 'error-title' },
    h('h1', { id: 'error-title', tabindex: '-1' }, t('error.title')),
    h('p', { id: 'error-body', class: 'error-text' }, words)));
  main.dataset.state = 'error';
  setTitle(t('error.title'));
  main.querySelector('h1').focus();
}

async function load() {
  const mine = ++ticket;
  if (!token()) { showError(t('error.noToken'), 'no_token'); return; }
  main.dataset.state = 'loading';
  main.replaceChildren(h('p', { class: 'loading', role: 'status' }, t('app.loading')));
  const result = await call('GET');
  if (mine !== ticket) return;
  if (!result.ok) { showError(errorWords(result), result.code || `http_${result.status}`); return; }
  show(result.data);
}

/** Draws the appointment; `said` (a result) goes in the live region, and focus moves to it. */
function show(appointment, said = '', kind = 'ok') {
  view = appointment;
  const zone = appointment.timeZone;
  const here = browserZone();
  const differs = timeWords(appointment.startsAt, here) !== timeWords(appointment.startsAt, zone)
    || dayKey(appointment.startsAt, here) !== dayKey(appointment.startsAt, zone);
  const result = h('p', { id: 'result', class: 'result', role: 'status', 'aria-live': 'polite', tabindex: '-1', dataset: { kind } }, said);
  const panel = h('div', { id: 'panel' });
  const open = ['pending', 'scheduled', 'confirmed'].includes(appointment.status);
  const actions = [];
  if (appointment.canConfirm) actions.push(h('button', { type: 'button', class: 'btn btn-main', id: 'confirm', on: { click: confirm } }, t('action.confirm')));
  if (appointment.canReschedule) actions.push(h('button', { type: 'button', class: 'btn btn-second', id: 'change', on: { click: () => changeTime(panel, result) } }, t('action.change')));
  if (appointment.canCancel) actions.push(h('button', { type: 'button', class: 'btn btn-danger', id: 'cancel', on: { click: () => cancelForm(panel, result) } }, t('action.cancel')));
  const where = appointment.location || (appointment.meetingUrl ? t('appt.online') : '');
  const facts = [
    [t('appt.when'), h('span', { id: 'appt-when', dataset: { start: appointment.startsAt, end: appointment.endsAt } },
      whenWords(appointment.startsAt, appointment.endsAt, zone), h('br'), h('span', { class: 'zone', id: 'appt-zone' }, t('appt.zone', { zone: zoneName(zone) })))],
    differs ? [t('appt.yourTime'), h('span', { id: 'appt-local' }, `${whenWords(appointment.startsAt, appointment.endsAt, here)} (${zoneName(here)})`)] : null,
    where ? [t('appt.where'), h('span', { id: 'appt-where' }, where)] : null,
    appointment.meetingUrl && /^https:\/\//.test(appointment.meetingUrl)
      ? [t('appt.online'), h('a', { href: appointment.meetingUrl, id: 'appt-meeting', rel: 'noopener noreferrer', target: '_blank' }, t('appt.join'))] : null,
    appointment.agentName ? [t('appt.with'), h('span', { id: 'appt-with' }, appointment.agentName)] : null,
    [t('appt.status'), h('span', { id: 'appt-status', class: ['status', `status-${appointment.status}`], dataset: { status: appointment.status } },
      t(`status.${appointment.status}`))],
  ].filter(Boolean);
  main.replaceChildren(h('section', { class: 'card', id: 'appointment', dataset: { id: appointment.id, status: appointment.status }, 'aria-labelledby': 'appt-title' },
    h('p', { class: 'kicker' }, t('page.title')),
    h('h1', { id: 'appt-title', tabindex: '-1' }, appointment.title),
    h('dl', { class: 'facts' }, facts.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value)))),
    result,
    actions.length ? h('div', { class: 'actions', id: 'actions' }, actions) : h('p', { class: 'note', id: 'closed' }, t('closed.note')),
    panel,
    open ? h('p', { class: 'ics' }, h('a', { href: `${base()}/appointment.ics`, download: 'appointment.ics', id: 'ics', class: 'btn btn-link' }, t('action.ics'))) : null));
  main.dataset.state = 'ready';
  setTitle(appointment.title);
  if (said) { announce(said); result.focus(); }
}

/** A change answered: the new view with what happened, or why not (the view is read again: it may have changed). */
async function answered(result, words, box) {
  if (result.ok) { show(result.data, words, 'ok'); return; }
  if (result.status === 403 || result.status === 410 || result.status === 404) { showError(errorWords(result), result.code); return; }
  const again = await call('GET');
  if (again.ok) show(again.data, errorWords(result), 'error');
  else if (box) { box.textContent = errorWords(result); box.dataset.kind = 'error'; }
}

async function confirm(event) {
  event.currentTarget.disabled = true;
  const result = await call('POST', '/confirm', {});
  await answered(result, t('done.confirmed'));
}

function cancelForm(panel, line) {
  line.textContent = '';
  const reason = h('textarea', { id: 'cancel-reason', name: 'reason', maxlength: '500', rows: '3', 'aria-describedby': 'cancel-reason-hint' });
  const submit = h('button', { type: 'submit', class: 'btn btn-danger', id: 'cancel-submit' }, t('cancel.submit'));
  const form = h('form', { id: 'cancel-form', class: 'panel', 'aria-labelledby': 'cancel-title' },
    h('h2', { id: 'cancel-title', tabindex: '-1' }, t('cancel.title')),
    h('label', { for: 'cancel-reason' }, t('cancel.reason')), reason,
    h('p', { class: 'hint', id: 'cancel-reason-hint' }, t('cancel.reasonHint')),
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-second', id: 'cancel-back', on: { click: () => back(panel) } }, t('action.back'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    const text = reason.value.trim();
    const result = await call('POST', '/cancel', text ? { reason: text } : {});
    submit.disabled = false;
    await answered(result, t('done.cancelled'), line);
  });
  panel.replaceChildren(form);
  form.querySelector('h2').focus();
}

function back(panel) {
  panel.replaceChildren();
  const first = document.querySelector('#actions button');
  if (first) first.focus();
}

/** The free times as buttons grouped by day (in the appointment's zone); `pick(slot)` remembers one. */
function slotList(slots, zone, pick) {
  const days = new Map();
  for (const slot of slots) {
    const key = dayKey(slot.startsAt, zone);
    if (!days.has(key)) days.set(key, []);
    days.get(key).push(slot);
  }
  return h('div', { class: 'slot-days', id: 'slot-days' }, [...days.entries()].map(([key, list]) => {
    const headingId = `day-${key}`;
    return h('section', { class: 'slot-day', dataset: { day: key }, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, dayWords(list[0].startsAt, zone)),
      h('ul', { class: 'slots' }, list.map((slot) => h('li', {}, h('button', {
        type: 'button', class: 'slot', 'aria-pressed': 'false', dataset: { start: slot.startsAt, end: slot.endsAt },
        'aria-label': t('change.slotLabel', { day: dayWords(slot.startsAt, zone), time: timeWords(slot.startsAt, zone) }),
        on: { click: (event) => pick(slot, event.currentTarget) },
      }, timeWords(slot.startsAt, zone))))));
  }));
}

async function changeTime(panel, line) {
  line.textContent = '';
  const appointment = view;
  const zone = appointment.timeZone;
  const minutes = Math.round((new Date(appointment.endsAt) - new Date(appointment.startsAt)) / 60000);
  const status = h('p', { class: 'hint', id: 'slots-status', role: 'status', 'aria-live': 'polite' }, t('change.loading'));
  const list = h('div', { id: 'slots', dataset: { ready: 'false' } });
  const chosen = h('p', { id: 'slot-chosen', class: 'chosen', 'aria-live': 'polite' }, '');
  const submit = h('button', { type: 'submit', class: 'btn btn-main', id: 'change-submit', disabled: true }, t('change.submit'));
  const form = h('form', { id: 'change-form', class: 'panel', 'aria-labelledby': 'change-title' },
    h('h2', { id: 'change-title', tabindex: '-1' }, t('change.title')),
    h('p', { class: 'hint' }, t('change.hint', { zone: zoneName(zone), minutes })),
    status, list, chosen,
    h('div', { class: 'actions' }, submit, h('button', { type: 'button', class: 'btn btn-second', id: 'change-back', on: { click: () => back(panel) } }, t('action.back'))));
  let picked = null;
  const pick = (slot, control) => {
    for (const b of list.querySelectorAll('.slot')) b.setAttribute('aria-pressed', 'false');
    control.setAttribute('aria-pressed', 'true');
    picked = slot;
    submit.disabled = false;
    chosen.textContent = t('change.picked', { when: `${shortDay(slot.startsAt, zone)}, ${timeWords(slot.startsAt, zone)}` });
  };
  const draw = (slots, intro = '') => {
    picked = null;
    submit.disabled = true;
    chosen.textContent = '';
    list.replaceChildren(...(intro ? [h('p', { class: 'error-text', id: 'slots-intro' }, intro)] : []),
      slots.length ? slotList(slots, zone, pick) : h('p', { class: 'note', id: 'slots-none' }, t('change.none')));
    list.dataset.ready = 'true';
    list.dataset.count = String(slots.length);
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!picked) { chosen.textContent = t('change.pick'); return; }
    submit.disabled = true;
    const result = await call('POST', '/reschedule', { startsAt: picked.startsAt });
    if (result.ok) {
      show(result.data, t('done.moved', { when: whenWords(result.data.startsAt, result.data.endsAt, result.data.timeZone) }), 'ok');
      return;
    }
    if (result.status === 409 && (result.code === 'slot_taken' || result.code === 'outside_availability')) {
      const next = (result.body && Array.isArray(result.body.nextSlots)) ? result.body.nextSlots : [];
      draw(next, t(result.code === 'slot_taken' ? 'change.taken' : 'change.outside'));
      status.textContent = errorWords(result);
      announce(`${errorWords(result)} ${next.length ? t('change.count', { count: next.length }) : t('change.none')}`);
      const first = list.querySelector('.slot');
      if (first) first.focus();
      return;
    }
    submit.disabled = false;
    await answered(result, '', status);
  });
  panel.replaceChildren(form);
  form.querySelector('h2').focus();
  const result = await call('GET', `/slots?tz=${encodeURIComponent(zone)}`);
  if (!form.isConnected) return;
  if (!result.ok) { status.textContent = errorWords(result); list.dataset.ready = 'true'; return; }
  draw(result.data.slots);
  status.textContent = result.data.slots.length ? t('change.count', { count: result.data.slots.length }) : '';
}

// ---------------------------------------------------------------- language, start

function languagePicker() {
  const picker = h('select', { id: 'language', on: { change: (event) => { rememberLanguage(event.currentTarget.value); location.reload(); } } },
    LANGUAGES.map(([code, name]) => h('option', { value: code, selected: code === language }, name)));
  return h('footer', { class: 'foot' }, h('label', { for: 'language' }, t('language.label')), picker);
}

document.body.append(languagePicker());
window.addEventListener('hashchange', load);
await load();
