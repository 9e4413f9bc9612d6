// One appointment: when (in the viewer's zone, and as the customer booked it), with whom, its status, contact, payment
// and notes, its earlier times, and its history (the audit rows); for those who book, each action its status allows
// now (AppointmentRules): confirm, reschedule (a taken time offers the next free slots), complete and no-show once it
// has started, cancel with a reason. A refusal is said in words.
import { h, clear } from '../lib/dom.js';
import { dateTime, number, isoDay } from '../lib/format.js';
import { pageHeader, section, button, linkButton, statusLine, say, details, table, confirmAction } from '../lib/ui.js';
import { personSpan } from './people-cache.js';
import {
  agentsOf, byId, agentName, calendarError, statusBadge, allowedActions, holdRanOut, rescheduleDialog, rangeText, longDayText,
  timeText, paymentSpan, minutesText, fullRangeText,
} from './calendar-shared.js';

const ACTION_IDS = { confirm: 'appt-confirm', reschedule: 'appt-reschedule', complete: 'appt-complete', 'no-show': 'appt-no-show', cancel: 'appt-cancel' };

export async function render(ctx) {
  const { t, api, root, params, can } = ctx;
  const id = params.id;
  const canAudit = can('GET /v1/calendar-booking/audit');

  const back = h('a', { href: '#/calendar', id: 'appt-back' }, t('appt.back'));
  const head = h('div', { id: 'appt-head' });
  const line = statusLine();
  line.id = 'appt-status-line';
  const summary = h('div', { id: 'appt-summary' });
  const moves = h('div', { id: 'appt-reschedules' });
  const history = h('div', { id: 'appt-history' });
  root.append(h('p', { class: 'breadcrumb' }, back), head, line, summary,
    section(t('appt.reschedules'), moves),
    canAudit ? section(t('appt.history'), history) : '');

  const agents = byId(await agentsOf(ctx));
  let appointment = null;

  async function refresh(message, kind = 'ok') {
    const answer = await api('GET', `/v1/appointments/${encodeURIComponent(id)}`);
    if (!answer.ok) {
      clear(head).append(pageHeader(t('appt.title')));
      say(line, calendarError(t, answer), 'error');
      return false;
    }
    appointment = answer.data;
    back.href = `#/calendar?date=${isoDay(new Date(appointment.startsAt))}&agent=${encodeURIComponent(appointment.agentId)}`;
    draw();
    if (message) say(line, message, kind);
    await drawHistory();
    return true;
  }

  function draw() {
    const a = appointment;
    const actions = allowedActions(a).filter((action) => can(`POST /v1/appointments/{id}/${action}`)).map((action) => button(t(`appt.action.${action}`), {
      kind: action === 'cancel' || action === 'no-show' ? 'danger-quiet' : (action === 'confirm' || action === 'complete' ? 'primary' : 'secondary'),
      write: true, id: ACTION_IDS[action], on: () => act(action),
    }));
    clear(head).append(pageHeader(a.title, actions, canAudit ? linkButton(t('audit.forThis'),
      `#/audit?service=calendar-booking&targetType=appointments&targetId=${encodeURIComponent(a.id)}`, { id: 'appt-audit' }) : null));
    const notes = [];
    if (holdRanOut(a)) notes.push(t('appt.holdRanOut'));
    else if (a.status === 'pending' && a.holdExpiresAt) notes.push(t('appt.holdUntil', { when: dateTime(a.holdExpiresAt) }));
    const started = new Date(a.startsAt) <= new Date();
    if (!started && ['scheduled', 'confirmed'].includes(a.status) && can('POST /v1/appointments/{id}/complete')) notes.push(t('appt.notStarted'));
    const length = Math.round((new Date(a.endsAt) - new Date(a.startsAt)) / 60000);
    const contact = [a.contactName, a.contactPhone, a.contactEmail].filter(Boolean).join(' · ');
    clear(summary).append(
      notes.length ? h('p', { class: 'notice', id: 'appt-note' }, notes.join(' ')) : '',
      h('div', { class: 'card' }, details([
        [t('field.status'), h('span', { id: 'appt-status' }, statusBadge(t, a.status))],
        [t('calendar.when'), h('span', { id: 'appt-when', dataset: { start: a.startsAt, end: a.endsAt } },
          `${longDayText(a.startsAt)}, ${timeText(a.startsAt)}–${timeText(a.endsAt)} (${minutesText(t, number(length))})`)],
        [t('appt.asBooked'), h('span', { id: 'appt-local' }, t('appt.asBookedValue', { start: a.localStart.replace('T', ' ').slice(0, 16), zone: a.timeZone }))],
        [t('calendar.agent'), h('span', { id: 'appt-agent', dataset: { agent: a.agentId } }, agentName(agents, a.agentId))],
        [t('calendar.type'), t(`apptType.${a.type}`)],
        [t('calendar.service'), a.serviceType || ''],
        [t('bookings.source'), t(`apptSource.${a.source}`)],
        [t('calendar.contact'), contact ? h('span', { id: 'appt-contact' }, contact) : ''],
        [t('appt.location'), a.location || ''],
        [t('appt.meeting'), a.meetingUrl ? h('a', { href: a.meetingUrl, target: '_blank', rel: 'noopener noreferrer' }, a.meetingUrl) : ''],
        [t('calendar.payment'), a.payment ? paymentSpan(t, a.payment) : ''],
        [t('calendar.notes'), a.notes ? h('span', { class: 'appt-notes' }, a.notes) : ''],
        [t('appt.cancelReason'), a.cancellationReason ? h('span', { id: 'appt-cancel-reason' }, a.cancellationReason) : ''],
        [t('appt.cancelledAt'), a.cancelledAt ? dateTime(a.cancelledAt) : ''],
        [t('appt.bookedBy'), a.createdBy ? h('span', {}, personSpan(ctx, h, a.createdBy), ' · ', dateTime(a.createdAt)) : ''],
        [t('field.updated'), dateTime(a.updatedAt)],
      ])));
    const rows = [...(a.reschedules || [])].reverse().map((r, i) => ({ ...r, id: String(i) }));
    clear(moves).append(table({
      caption: t('appt.reschedulesCaption'), captionHidden: true, rows, empty: t('appt.noReschedules'),
      columns: [
        { label: t('appt.was'), cell: (r) => h('span', { class: 'resched-was', dataset: { start: r.startsAt } }, fullRangeText(r.startsAt, r.endsAt)) },
        { label: t('appt.movedAt'), cell: (r) => dateTime(r.at) },
        { label: t('appt.movedBy'), cell: (r) => personSpan(ctx, h, r.by) },
        { label: t('field.reason'), cell: (r) => r.reason || '' },
      ],
    }));
  }

  async function drawHistory() {
    if (!canAudit) return;
    const answer = await api('GET', `/v1/calendar-booking/audit?targetType=appointments&targetId=${encodeURIComponent(id)}&limit=50`);
    if (!answer.ok) { clear(history).append(h('p', { class: 'form-error' }, calendarError(t, answer))); return; }
    const rows = [...answer.data.items].reverse().map((e) => ({ ...e, id: String(e.id) }));
    clear(history).append(table({
      caption: t('appt.historyCaption'), captionHidden: true, rows, empty: t('audit.none'),
      columns: [
        { label: t('field.when'), cell: (e) => dateTime(e.createdAt) },
        { label: t('appt.what'), cell: (e) => h('span', { class: 'history-action', dataset: { action: e.action } }, t(`apptAction.${e.action}`) === `apptAction.${e.action}` ? e.action : t(`apptAction.${e.action}`)) },
        { label: t('appt.movedBy'), cell: (e) => personSpan(ctx, h, e.actor) },
      ],
    }));
  }

  function act(action) {
    if (action === 'reschedule') {
      rescheduleDialog(ctx, appointment).then(async (moved) => {
        if (!moved) return;
        const words = t('appt.rescheduled', { when: rangeText(moved.startsAt, moved.endsAt) });
        ctx.announce(words);
        await refresh(words);
      });
      return;
    }
    // a refusal usually means the appointment changed meanwhile: it is read again when the dialog closes
    let refusedOnce = false;
    confirmAction({
      t, title: t(`appt.${action}Title`, { title: appointment.title }), message: t(`appt.${action}Body`, { when: rangeText(appointment.startsAt, appointment.endsAt) }),
      confirmLabel: t(`appt.action.${action}`), reason: action === 'cancel', destructive: action === 'cancel' || action === 'no-show',
      onConfirm: async (reason) => {
        const body = reason ? { reason } : undefined;
        const result = await api('POST', `/v1/appointments/${encodeURIComponent(appointment.id)}/${action}`, { body });
        if (!result.ok && result.status === 409) refusedOnce = true;
        return result.ok ? null : calendarError(t, result);
      },
    }).then(async (done) => {
      if (!done) {
        // its buttons are drawn again: focus goes to the title rather than nowhere
        if (refusedOnce && await refresh()) head.querySelector('h1').focus();
        return;
      }
      const words = t(`appt.${action}Done`, { title: appointment.title });
      ctx.announce(words);
      await refresh(words);
    });
  }

  await refresh();
}
