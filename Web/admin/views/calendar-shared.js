// What the calendar pages share (calendar.js, appointment.js, availability.js, bookings.js): calendar-booking's
// vocabulary (statuses, types, sources, kinds), the words for its refusals, times in the viewer's own zone (the
// browser's), the tenant's calendars (agents) for pickers and names, every appointment a filter names (pages
// followed), the next free slots a 409 offers as buttons, and the "new appointment" and "reschedule" dialogs.
import { h, clear } from '../lib/dom.js';
import { isoDay, addDays } from '../lib/format.js';
import { field, dialog, select, badge, button, errorText, newKey, say } from '../lib/ui.js';
import { loadAll, forget } from '../lib/cached-list.js';
import { CURRENCIES, amountProblem, amountOf } from './wallet-shared.js';
import en from '../strings/en.js';

export const STATUSES = ['pending', 'scheduled', 'confirmed', 'cancelled', 'completed', 'no_show', 'expired'];
/** A mark per status, shown beside its colour wherever a block is too small for the word (the colour never says it alone). */
export const STATUS_MARKS = { pending: '◌', scheduled: '○', confirmed: '●', cancelled: '✕', completed: '✓', no_show: '!', expired: '⌀' };
export const TYPES = ['property_visit', 'virtual_meeting', 'phone_call', 'office_meeting', 'other'];
export const SOURCES = ['manual', 'web', 'whatsapp', 'sms', 'voice', 'agent'];
export const PAYMENT_STATUSES = ['none', 'pending', 'paid', 'refunded', 'failed'];
export const KINDS = ['person', 'resource'];
/** Zones offered first (the rest of the zone database follows in the pickers). */
export const COMMON_ZONES = [
  'Africa/Nairobi', 'Africa/Kigali', 'Africa/Kampala', 'Africa/Dar_es_Salaam', 'Africa/Addis_Ababa', 'Africa/Lagos',
  'Africa/Johannesburg', 'Africa/Cairo', 'Europe/Malta', 'Europe/London', 'Europe/Paris', 'America/Santiago',
  'America/New_York', 'Asia/Dubai', 'Etc/UTC',
];

/**
 * Where each action may start (Services/CalendarBooking/Sources/Domain/Appointments.swift, AppointmentRules.check):
 * complete and no-show also need the appointment to have started; a hold whose time ran out takes none.
 */
export const ACTIONS = [
  ['confirm', ['pending', 'scheduled'], false],
  ['reschedule', ['pending', 'scheduled', 'confirmed'], false],
  ['complete', ['scheduled', 'confirmed'], true],
  ['no-show', ['scheduled', 'confirmed'], true],
  ['cancel', ['pending', 'scheduled', 'confirmed'], false],
];

/** The actions the appointment's status allows now (the caller's role is checked separately). */
export function allowedActions(a, now = new Date()) {
  if (holdRanOut(a, now)) return [];
  const started = new Date(a.startsAt) <= now;
  return ACTIONS.filter(([, from, needsStart]) => from.includes(a.status) && (!needsStart || started)).map(([action]) => action);
}

export const holdRanOut = (a, now = new Date()) => a.status === 'pending' && a.holdExpiresAt && new Date(a.holdExpiresAt) <= now;

// ---------------------------------------------------------------- time, in the viewer's zone

/** The browser's IANA zone: every time on these pages is shown in it. */
export function browserZone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'Etc/UTC'; } catch { return 'Etc/UTC'; }
}

/**
 * The zone as the API takes it. calendar-booking refuses `UTC` (and its other spellings) as an unknown zone, while it
 * takes `Etc/UTC`, the same zone: a browser set to UTC reports `UTC`.
 */
export function apiZone(zone) {
  return ['UTC', 'UCT', 'Etc/UCT', 'Universal', 'Etc/Universal', 'Zulu', 'Etc/Zulu', 'Etc/GMT', 'GMT', 'Etc/Greenwich', 'Greenwich'].includes(zone)
    ? 'Etc/UTC' : zone;
}

/** Every zone the browser knows, the common ones first (and `extra`, e.g. an agent's own, when it is not among them). */
export function zoneChoices(extra) {
  let all = [];
  try { all = Intl.supportedValuesOf('timeZone'); } catch { all = []; }
  const first = [...COMMON_ZONES];
  if (extra && !first.includes(extra)) first.unshift(extra);
  return [...first, ...all.filter((z) => !first.includes(z) && z !== 'UTC')];
}

const lang = () => document.documentElement.lang || 'en';

/** "14:30" in the viewer's zone. */
export const timeText = (date) => new Intl.DateTimeFormat(lang(), { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(date));
/** "Wed 9 Dec" in the viewer's zone. */
export const dayText = (date) => new Intl.DateTimeFormat(lang(), { weekday: 'short', day: 'numeric', month: 'short' }).format(new Date(date));
/** "Wednesday 9 December 2026". */
export const longDayText = (date) => new Intl.DateTimeFormat(lang(), { dateStyle: 'full' }).format(new Date(date));
/** "Wed 9 Dec, 10:15–11:00". */
export const rangeText = (start, end) => `${dayText(start)}, ${timeText(start)}–${timeText(end)}`;
/** "Wed, 9 Dec 2026, 10:15–11:00" (with the year, for lists over any period). */
export const fullRangeText = (start, end) => `${new Intl.DateTimeFormat(lang(), { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' })
  .format(new Date(start))}, ${timeText(start)}–${timeText(end)}`;

/** Local midnight of a YYYY-MM-DD day. */
export function dayStart(day) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d);
}

/** The Monday of the week holding `day`. */
export function weekStart(day) {
  return addDays(day, -((dayStart(day).getDay() + 6) % 7));
}

/** "HH:MM" of a Date in the viewer's zone (for time inputs). */
export function timeValue(date) {
  const d = new Date(date);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** A day and a "HH:MM" in the viewer's zone as a Date, or null when either is missing or wrong. */
export function instantOf(day, time) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day || '') || !/^\d{2}:\d{2}$/.test(time || '')) return null;
  const [y, m, d] = day.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const date = new Date(y, m - 1, d, hh, mm);
  return Number.isNaN(date.getTime()) ? null : date;
}

export const validDay = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') && !Number.isNaN(dayStart(v).getTime()) ? v : null);

// ---------------------------------------------------------------- words

/** Words for a refusal of calendar-booking (its own sentence for its codes), else the console's usual ones. */
export function calendarError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `calendarError.${code}` in en) return t(`calendarError.${code}`);
  return errorText(t, result);
}

/** A status as a coloured badge with its word (the colour never says it alone). */
export function statusBadge(t, status) {
  return h('span', { class: 'appt-status', dataset: { status } }, badge(t(`apptStatus.${status}`), `appt-${status}`));
}

/** The legend of the status colours. */
export function legend(t, id = 'cal-legend') {
  return h('ul', { class: 'legend cal-legend', id, 'aria-label': t('calendar.legend') },
    STATUSES.map((s) => h('li', { dataset: { status: s } },
      h('span', { class: `swatch cal-swatch status-${s}`, 'aria-hidden': 'true' }, STATUS_MARKS[s]), t(`apptStatus.${s}`))));
}

export const minutesText = (t, n) => t('calendar.minutes', { n });

/** "KES 1,500.00 · Paid", for the payment column. */
export function paymentSpan(t, payment) {
  if (!payment) return h('span', { class: 'appt-payment', dataset: { amount: '', currency: '', status: '' } }, '');
  return h('span', { class: 'appt-payment', dataset: { amount: payment.amount.amount, currency: payment.amount.currency, status: payment.status } },
    amountOf(payment.amount), ' · ', t(`paymentState.${payment.status}`));
}

// ---------------------------------------------------------------- lists

export const agentsOf = (ctx, fresh = false) => loadAll(ctx, '/v1/calendar/agents', 'GET /v1/calendar/agents', { fresh });
export const forgetAgents = () => forget('/v1/calendar/agents');

/** A map id → agent, and the name of one (its short id when unknown). */
export const byId = (items) => new Map(items.map((x) => [x.id, x]));
export const agentName = (agents, id) => (agents.get(id) ? agents.get(id).name : String(id || '').slice(0, 8));

/** "Amina · Africa/Nairobi" (and "inactive" when it is). */
export function agentLabel(t, a) {
  return `${a.name} · ${a.timeZone}${a.active ? '' : ` · ${t('calendar.inactive')}`}`;
}

/**
 * Every appointment `params` (URLSearchParams without limit and cursor) names, page after page (at most `max`).
 * Answers {items, error, truncated}.
 */
export async function allAppointments(api, params, max = 10000) {
  let items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams(params);
    query.set('limit', '200');
    if (cursor) query.set('cursor', cursor);
    const answer = await api('GET', `/v1/appointments?${query}`);
    if (!answer.ok) return { error: answer, items };
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
  } while (cursor && items.length < max);
  return { items, truncated: Boolean(cursor) };
}

// ---------------------------------------------------------------- next free slots

/**
 * The slots a 409 `slot_taken` or `outside_availability` offers, as buttons (in the viewer's zone); `pick(slot)`
 * fills the form with one.
 */
export function drawSlots(t, box, slots, pick) {
  if (!slots || !slots.length) {
    clear(box).append(h('p', { class: 'hint', id: 'slot-none' }, t('calendar.noNextSlots')));
    return;
  }
  clear(box).append(
    h('p', { class: 'slot-intro' }, t('calendar.nextSlots')),
    h('ul', { class: 'slot-choices', id: 'slot-choices' }, slots.map((s) => h('li', {},
      button(rangeText(s.startsAt, s.endsAt), {
        class: 'btn btn-secondary slot-choice', dataset: { start: s.startsAt, end: s.endsAt },
        'aria-label': t('calendar.useSlot', { when: `${longDayText(s.startsAt)} ${timeText(s.startsAt)}–${timeText(s.endsAt)}` }),
        on: (event) => {
          for (const b of box.querySelectorAll('.slot-choice')) b.removeAttribute('aria-pressed');
          event.currentTarget.setAttribute('aria-pressed', 'true');
          pick(s);
        },
      })))));
}

/**
 * The next free slots a 409 names. The answer's `nextSlots` when the session passes the body of a refusal on; the
 * shared session (Web/shared/session.js) keeps only an error's code and message, so otherwise they are asked for as
 * the service finds them (SlotFinder.next): the agent's free slots of the same length from the asked start, within two
 * weeks, the first five.
 */
export async function nextSlots(ctx, result, { agentId, after, minutes }) {
  const offered = result && result.body && result.body.nextSlots;
  if (Array.isArray(offered)) return offered;
  const params = new URLSearchParams({
    agentId, duration: String(minutes), from: after.toISOString(), to: new Date(after.getTime() + 14 * 86400000).toISOString(),
    tz: apiZone(browserZone()),
  });
  const answer = await ctx.api('GET', `/v1/availability?${params}`);
  return answer.ok ? answer.data.slots.slice(0, 5) : [];
}

/** The form's error line after a refusal, and the next free slots when it is one that offers them. */
async function refused(ctx, result, fail, slotsBox, query, pick) {
  const { t } = ctx;
  fail(calendarError(t, result));
  const code = result.error && result.error.code;
  if (result.status === 409 && (code === 'slot_taken' || code === 'outside_availability')) {
    slotsBox.dataset.loading = 'true';
    drawSlots(t, slotsBox, await nextSlots(ctx, result, query), pick);
    delete slotsBox.dataset.loading;
    slotsBox.scrollIntoView({ block: 'nearest' });
    return true;
  }
  clear(slotsBox);
  return false;
}

// ---------------------------------------------------------------- dialogs

/** The date and time inputs of a start, in the viewer's zone. */
function startInputs(t, prefix, start) {
  const day = h('input', { type: 'date', id: `${prefix}-date`, required: true, value: start ? isoDay(start) : '' });
  const time = h('input', { type: 'time', id: `${prefix}-time`, required: true, value: start ? timeValue(start) : '' });
  const zone = browserZone();
  return {
    day, time,
    el: h('div', { class: 'inline-fields inline-top' }, field(t('calendar.startDate'), day), field(t('calendar.startTime'), time, { hint: t('calendar.yourZone', { zone }) })),
    set(date) { day.value = isoDay(new Date(date)); time.value = timeValue(date); },
    value() { return instantOf(day.value, time.value); },
  };
}

/**
 * The "new appointment" dialog. `agents`: the tenant's calendars; `agentId`, `start`: what to fill in. One
 * Idempotency-Key per attempt: a double click or a retry after a lost answer books once; after a refusal (nothing
 * booked) the next attempt gets a new key. A taken or unoffered time shows why and the agent's next free slots as
 * buttons that fill the form. Resolves to the appointment, or undefined when cancelled.
 */
export function appointmentDialog(ctx, { agents, agentId = '', start = null } = {}) {
  const { t } = ctx;
  const bookable = agents.filter((a) => a.active || a.id === agentId);
  const agent = select([['', t('calendar.chooseAgent')], ...bookable.map((a) => [a.id, agentLabel(t, a)])],
    { id: 'appt-agent', required: true, value: bookable.some((a) => a.id === agentId) ? agentId : (bookable.length === 1 ? bookable[0].id : '') });
  const title = h('input', { id: 'appt-title', maxlength: '200', autocomplete: 'off' });
  const when = startInputs(t, 'appt', start);
  const service = select([['', t('calendar.noService')]], { id: 'appt-service' });
  const duration = h('input', { id: 'appt-duration', type: 'number', min: '5', max: '1440', step: '1', required: true, inputmode: 'numeric', value: '30' });
  const contactName = h('input', { id: 'appt-contact-name', maxlength: '200', autocomplete: 'off' });
  const contactPhone = h('input', { id: 'appt-contact-phone', type: 'tel', maxlength: '20', autocomplete: 'off', placeholder: '+254712345678' });
  const contactEmail = h('input', { id: 'appt-contact-email', type: 'email', maxlength: '254', autocomplete: 'off' });
  const type = select(TYPES.map((x) => [x, t(`apptType.${x}`)]), { id: 'appt-type', value: 'other' });
  const notes = h('textarea', { id: 'appt-notes', maxlength: '2000', rows: '3' });
  const status = select([['scheduled', t('apptStatus.scheduled')], ['pending', t('calendar.pendingHold')]], { id: 'appt-status', value: 'scheduled' });
  const amount = h('input', { id: 'appt-amount', inputmode: 'decimal', autocomplete: 'off' });
  const currency = select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'appt-currency', value: 'KES' });
  const slotsBox = h('div', { class: 'slot-box', id: 'appt-slots', 'aria-live': 'polite' });
  const filled = h('p', { class: 'status-line', id: 'appt-filled', role: 'status' });

  const fillServices = () => {
    const a = agents.find((x) => x.id === agent.value);
    const entries = Object.entries((a && a.serviceDurations) || {}).sort((x, y) => x[0].localeCompare(y[0]));
    const chosen = service.value;
    clear(service).append(...[['', t('calendar.noService')], ...entries.map(([name, minutes]) => [name, `${name} · ${minutesText(t, minutes)}`])]
      .map(([value, label]) => h('option', { value, selected: value === chosen }, label)));
    if (!entries.some(([name]) => name === chosen)) service.value = '';
  };
  agent.addEventListener('change', fillServices);
  service.addEventListener('change', () => {
    const a = agents.find((x) => x.id === agent.value);
    const minutes = a && service.value ? a.serviceDurations[service.value] : null;
    if (minutes) duration.value = String(minutes);
  });
  fillServices();

  let key = newKey();
  const d = dialog({
    t, title: t('calendar.newTitle'), submitLabel: t('calendar.book'),
    body: h('div', { id: 'appt-form', class: 'form-grid' },
      field(t('calendar.agent'), agent),
      field(t('calendar.apptTitle'), title, { hint: t('calendar.apptTitleHint') }),
      when.el,
      h('div', { class: 'inline-fields inline-top' },
        field(t('calendar.service'), service, { hint: t('calendar.serviceHint') }),
        field(t('calendar.duration'), duration, { hint: t('calendar.durationHint') })),
      h('fieldset', {}, h('legend', {}, t('calendar.contact')),
        field(t('field.name'), contactName),
        field(t('field.phone'), contactPhone, { hint: t('field.phoneHint') }),
        field(t('field.email'), contactEmail)),
      field(t('calendar.type'), type),
      field(t('calendar.status'), status, { hint: t('calendar.statusHint') }),
      h('div', { class: 'inline-fields inline-top' },
        field(t('calendar.payment'), amount, { hint: t('calendar.paymentHint') }),
        field(t('wallet.currency'), currency)),
      field(t('calendar.notes'), notes),
      // next to the error line and the Book button: what a refusal offers instead
      slotsBox, filled),
    onSubmit: async ({ close, fail }) => {
      say(filled, '');
      if (!agent.value) return fail(t('calendar.needAgent'));
      const startsAt = when.value();
      if (!startsAt) return fail(t('calendar.needStart'));
      const minutes = Number(duration.value);
      if (!/^\d+$/.test(duration.value.trim()) || minutes < 5 || minutes > 1440) return fail(t('calendar.badDuration'));
      const body = { agentId: agent.value, startsAt: startsAt.toISOString(), durationMinutes: minutes, type: type.value, status: status.value };
      if (title.value.trim()) body.title = title.value.trim();
      if (service.value) body.serviceType = service.value;
      if (contactName.value.trim()) body.contactName = contactName.value.trim();
      if (contactPhone.value.trim()) body.contactPhone = contactPhone.value.trim().replace(/[\s-]/g, '');
      if (contactEmail.value.trim()) body.contactEmail = contactEmail.value.trim();
      if (notes.value.trim()) body.notes = notes.value.trim();
      if (amount.value.trim()) {
        const problem = amountProblem(amount.value.trim(), currency.value);
        if (problem) return fail(t(problem, { currency: currency.value }));
        body.payment = { amount: { amount: amount.value.trim(), currency: currency.value } };
      }
      const result = await ctx.api('POST', '/v1/appointments', { body, idempotencyKey: key });
      if (!result.ok) {
        // a refusal booked nothing: the next attempt is a new one (a lost answer keeps the key: it may have booked)
        if (result.status >= 400 && result.status < 500) key = newKey();
        await refused(ctx, result, fail, slotsBox, { agentId: agent.value, after: startsAt, minutes }, (slot) => {
          when.set(slot.startsAt);
          const length = Math.round((new Date(slot.endsAt) - new Date(slot.startsAt)) / 60000);
          if (length >= 5) duration.value = String(length);
          fail('');
          say(filled, t('calendar.slotFilled', { when: rangeText(slot.startsAt, slot.endsAt) }), 'ok');
          d.el.querySelector('button[type=submit]').focus();
        });
        return undefined;
      }
      close(result.data);
      return undefined;
    },
  });
  return d.done;
}

/**
 * The "reschedule" dialog: a new start (the length stays unless changed) and an optional reason; a taken time shows
 * the next free slots the same way. Resolves to the moved appointment, or undefined when cancelled.
 */
export function rescheduleDialog(ctx, appointment) {
  const { t } = ctx;
  const when = startInputs(t, 'resched', new Date(appointment.startsAt));
  const length = Math.round((new Date(appointment.endsAt) - new Date(appointment.startsAt)) / 60000);
  const duration = h('input', { id: 'resched-duration', type: 'number', min: '5', max: '1440', step: '1', required: true, inputmode: 'numeric', value: String(length) });
  const reason = h('textarea', { id: 'resched-reason', maxlength: '500', rows: '2', name: 'reason' });
  const slotsBox = h('div', { class: 'slot-box', id: 'resched-slots', 'aria-live': 'polite' });
  const filled = h('p', { class: 'status-line', id: 'resched-filled', role: 'status' });
  const d = dialog({
    t, title: t('appt.rescheduleTitle', { title: appointment.title }), submitLabel: t('appt.reschedule'),
    body: h('div', { id: 'resched-form' },
      h('p', { class: 'hint' }, t('appt.rescheduleNow', { when: rangeText(appointment.startsAt, appointment.endsAt) })),
      when.el,
      field(t('calendar.duration'), duration),
      field(t('appt.rescheduleReason'), reason),
      slotsBox, filled),
    onSubmit: async ({ close, fail }) => {
      say(filled, '');
      const startsAt = when.value();
      if (!startsAt) return fail(t('calendar.needStart'));
      const minutes = Number(duration.value);
      if (!/^\d+$/.test(duration.value.trim()) || minutes < 5 || minutes > 1440) return fail(t('calendar.badDuration'));
      const body = { startsAt: startsAt.toISOString(), endsAt: new Date(startsAt.getTime() + minutes * 60000).toISOString() };
      if (reason.value.trim()) body.reason = reason.value.trim();
      const result = await ctx.api('POST', `/v1/appointments/${encodeURIComponent(appointment.id)}/reschedule`, { body });
      if (!result.ok) {
        await refused(ctx, result, fail, slotsBox, { agentId: appointment.agentId, after: startsAt, minutes }, (slot) => {
          when.set(slot.startsAt);
          fail('');
          say(filled, t('calendar.slotFilled', { when: rangeText(slot.startsAt, slot.endsAt) }), 'ok');
          d.el.querySelector('button[type=submit]').focus();
        });
        return undefined;
      }
      close(result.data);
      return undefined;
    },
  });
  return d.done;
}
