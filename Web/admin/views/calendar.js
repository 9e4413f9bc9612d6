// Calendar: a week or a day of appointments, of one calendar (agent) or of all, each placed by its time in the
// viewer's own zone (the browser's) and coloured by status (with a legend, and the status in words too);
// previous / today / next; the period's appointments as a list below (for phones and screen readers). For those who
// book, "New appointment" (or a click on a free spot of a day) opens the booking form; a taken time offers the
// agent's next free slots. An appointment opens on its own page (appointment.js).
import { h, clear } from '../lib/dom.js';
import { isoDay, addDays, number } from '../lib/format.js';
import { pageHeader, button, statusLine, say, table, select, field } from '../lib/ui.js';
import {
  agentsOf, byId, agentName, agentLabel, allAppointments, appointmentDialog, calendarError, statusBadge, legend, dayStart,
  weekStart, timeText, dayText, longDayText, rangeText, browserZone, validDay, STATUS_MARKS,
} from './calendar-shared.js';

const HOUR_PX = 48;
const VIEWS = ['week', 'day'];

/** The days a view shows. */
function daysOf(view, date) {
  if (view === 'day') return [date];
  const first = weekStart(date);
  return Array.from({ length: 7 }, (_, i) => addDays(first, i));
}

/** An appointment's part on each shown day: minutes from local midnight (wall clock, so a DST day is drawn as read). */
function segments(a, days) {
  const start = new Date(a.startsAt);
  const end = new Date(a.endsAt);
  const out = [];
  for (const day of days) {
    const from = dayStart(day);
    const to = dayStart(addDays(day, 1));
    if (end <= from || start >= to) continue;
    const s = start > from ? start : from;
    const e = end < to ? end : to;
    const top = s.getTime() === from.getTime() ? 0 : s.getHours() * 60 + s.getMinutes();
    const bottom = e.getTime() === to.getTime() ? 1440 : e.getHours() * 60 + e.getMinutes();
    out.push({ a, day, top, bottom: Math.max(bottom, top + 10), continues: e < end, continued: s > start });
  }
  return out;
}

/**
 * Side-by-side lanes for overlapping parts of one day: each shown part gets {lane, lanes}. A cluster needing more than
 * `maxLanes` keeps maxLanes − 1 of them and gives the last lane to a marker {top, bottom, count} of the rest.
 */
function layLanes(parts, maxLanes) {
  parts.sort((x, y) => x.top - y.top || y.bottom - x.bottom);
  const shown = [];
  const more = [];
  let cluster = [];
  let clusterEnd = -1;
  let lanes = [];
  const close = () => {
    if (lanes.length <= maxLanes) {
      for (const p of cluster) { p.lanes = lanes.length; shown.push(p); }
    } else {
      const hidden = cluster.filter((p) => p.lane >= maxLanes - 1);
      for (const p of cluster.filter((x) => x.lane < maxLanes - 1)) { p.lanes = maxLanes; shown.push(p); }
      more.push({
        top: Math.min(...hidden.map((p) => p.top)), bottom: Math.max(...hidden.map((p) => p.bottom)), count: hidden.length,
        lane: maxLanes - 1, lanes: maxLanes,
      });
    }
    cluster = [];
    lanes = [];
  };
  for (const p of parts) {
    if (p.top >= clusterEnd) { close(); clusterEnd = -1; }
    let lane = lanes.findIndex((end) => end <= p.top);
    if (lane === -1) { lane = lanes.length; lanes.push(p.bottom); } else lanes[lane] = p.bottom;
    p.lane = lane;
    cluster.push(p);
    clusterEnd = Math.max(clusterEnd, p.bottom);
  }
  close();
  return { shown, more };
}

/** Places a block in its lane and hours. */
function place(el, p, y) {
  el.style.top = `${y(p.top)}px`;
  el.style.height = `${Math.max(20, y(p.bottom) - y(p.top) - 2)}px`;
  el.style.left = `${(p.lane / p.lanes) * 100}%`;
  el.style.width = `calc(${100 / p.lanes}% - 4px)`;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canBook = can('POST /v1/appointments');
  const today = isoDay();
  const state = {
    view: VIEWS.includes(query.get('view')) ? query.get('view') : 'week',
    date: validDay(query.get('date')) || today,
    agent: query.get('agent') || '',
  };

  const agents = await agentsOf(ctx, true);
  const names = byId(agents);
  if (state.agent && !names.has(state.agent)) state.agent = '';

  const agentSelect = select([['', t('calendar.allAgents')], ...agents.map((a) => [a.id, agentLabel(t, a)])], { id: 'cal-agent', value: state.agent });
  const viewSelect = select(VIEWS.map((v) => [v, t(`calendar.view.${v}`)]), { id: 'cal-view', value: state.view });
  const prev = button(t('calendar.previous'), { id: 'cal-prev', on: () => move(-1) });
  const todayButton = button(t('calendar.today'), { id: 'cal-today', on: () => { state.date = today; refresh(); } });
  const next = button(t('calendar.next'), { id: 'cal-next', on: () => move(1) });
  const period = h('h2', { id: 'cal-period', class: 'cal-period', 'aria-live': 'polite' });
  const line = statusLine();
  line.id = 'cal-status';
  const gridBox = h('div', { id: 'cal-grid-box', class: 'cal-grid-box' });
  const listBox = h('div', { id: 'cal-list' });

  root.append(
    pageHeader(t('calendar.title'),
      canBook ? button(t('calendar.new'), { kind: 'primary', write: true, id: 'cal-new', on: () => book() }) : null),
    h('p', { class: 'hint', id: 'cal-zone' }, t('calendar.intro', { zone: browserZone() })),
    agents.length ? '' : h('p', { class: 'notice', id: 'cal-no-agents' }, t('calendar.noAgents'), ' ',
      can('GET /v1/calendar/agents') ? h('a', { href: '#/availability' }, t('calendar.toAvailability')) : null),
    h('div', { class: 'filters cal-toolbar', id: 'cal-toolbar' },
      field(t('calendar.agent'), agentSelect), field(t('calendar.viewLabel'), viewSelect),
      h('div', { class: 'filters-actions cal-nav' }, prev, todayButton, next)),
    period, legend(t), line, gridBox,
    h('section', { class: 'card', 'aria-labelledby': 'cal-list-title' }, h('h2', { id: 'cal-list-title', tabindex: '-1' }, t('calendar.listTitle')), listBox));

  agentSelect.addEventListener('change', () => { state.agent = agentSelect.value; refresh(); });
  viewSelect.addEventListener('change', () => { state.view = viewSelect.value; refresh(); });

  function move(direction) {
    state.date = addDays(state.date, direction * (state.view === 'week' ? 7 : 1));
    refresh();
  }

  let loading = 0;
  async function refresh(message) {
    const days = daysOf(state.view, state.date);
    ctx.setQuery({ view: state.view === 'week' ? '' : state.view, date: state.date === today ? '' : state.date, agent: state.agent });
    const from = dayStart(days[0]);
    const to = dayStart(addDays(days[days.length - 1], 1));
    period.textContent = state.view === 'week'
      ? new Intl.DateTimeFormat(document.documentElement.lang || 'en', { day: 'numeric', month: 'short', year: 'numeric' }).formatRange(from, dayStart(days[6]))
      : longDayText(from);
    period.dataset.from = days[0];
    period.dataset.to = days[days.length - 1];
    const ticket = ++loading;
    gridBox.dataset.ready = 'false';
    if (!message) say(line, t('app.loading'));
    const params = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
    if (state.agent) params.set('agentId', state.agent);
    const answer = await allAppointments(api, params, 2000);
    if (ticket !== loading || !ctx.isCurrent()) return;
    if (answer.error) { say(line, calendarError(t, answer.error), 'error'); return; }
    const items = answer.items;
    drawGrid(days, items);
    drawList(items);
    gridBox.dataset.ready = 'true';
    if (message) say(line, message, 'ok');
    else say(line, items.length ? t('calendar.count', { count: number(items.length) }) : t('calendar.none'));
  }

  function drawGrid(days, items) {
    const parts = items.flatMap((a) => segments(a, days));
    // the hours shown: 07:00–20:00, widened to whatever is booked
    let first = 7;
    let last = 20;
    for (const p of parts) { first = Math.min(first, Math.floor(p.top / 60)); last = Math.max(last, Math.ceil(p.bottom / 60)); }
    const height = (last - first) * HOUR_PX;
    const y = (minutes) => ((minutes - first * 60) / 60) * HOUR_PX;

    const grid = h('div', {
      class: ['cal-grid', `cal-days-${days.length}`], id: 'cal-grid', role: 'region',
      'aria-label': t(state.view === 'week' ? 'calendar.weekOf' : 'calendar.dayOf', { when: period.textContent }),
      dataset: { firstHour: String(first), lastHour: String(last), view: state.view },
    });
    grid.append(h('div', { class: 'cal-corner', 'aria-hidden': 'true' }),
      ...days.map((day) => h('div', { class: ['cal-day-head', day === today ? 'is-today' : null], dataset: { day } },
        h('span', { class: 'cal-day-name' }, dayText(dayStart(day))))));
    const gutter = h('div', { class: 'cal-gutter', 'aria-hidden': 'true' });
    gutter.style.height = `${height}px`;
    for (let hour = first; hour < last; hour++) {
      const mark = h('span', { class: 'cal-hour' }, `${String(hour).padStart(2, '0')}:00`);
      mark.style.top = `${y(hour * 60)}px`;
      gutter.append(mark);
    }
    grid.append(gutter);
    const now = new Date();
    // as many lanes as a column has room for (about 40 px each), at least two
    const columnWidth = ((gridBox.clientWidth || 960) - 56) / days.length;
    const maxLanes = Math.max(2, Math.min(8, Math.floor(columnWidth / 40)));
    for (const day of days) {
      const column = h('div', {
        class: ['cal-day', day === today ? 'is-today' : null], role: 'group', 'aria-label': longDayText(dayStart(day)), dataset: { day },
      });
      column.style.height = `${height}px`;
      const { shown, more } = layLanes(parts.filter((p) => p.day === day), maxLanes);
      for (const p of shown) column.append(eventBlock(p, y, columnWidth / p.lanes));
      for (const m of more) column.append(moreBlock(day, m, y));
      if (day === today) {
        const minutes = now.getHours() * 60 + now.getMinutes();
        if (minutes >= first * 60 && minutes <= last * 60) {
          const mark = h('div', { class: 'cal-now', 'aria-hidden': 'true' });
          mark.style.top = `${y(minutes)}px`;
          column.append(mark);
        }
      }
      // a click on a free spot books there (the half hour under the pointer)
      if (canBook && agents.length) {
        column.addEventListener('click', (event) => {
          if (event.target !== column) return;
          const minutes = first * 60 + Math.floor(((event.offsetY / HOUR_PX) * 60) / 30) * 30;
          const start = dayStart(day);
          start.setHours(Math.floor(minutes / 60), minutes % 60);
          book(start);
        });
      }
      grid.append(column);
    }
    clear(gridBox).append(grid);
  }

  function eventBlock(p, y, width) {
    const a = p.a;
    const who = a.contactName || '';
    const agent = state.agent ? '' : agentName(names, a.agentId);
    const block = h('a', {
      href: `#/calendar/${encodeURIComponent(a.id)}`,
      class: ['cal-event', `status-${a.status}`, p.bottom - p.top < 45 ? 'is-short' : null, width < 90 ? 'is-narrow' : null],
      dataset: { id: a.id, status: a.status, agent: a.agentId, start: a.startsAt, end: a.endsAt },
      'aria-label': t('calendar.eventLabel', {
        when: rangeText(a.startsAt, a.endsAt), title: a.title, status: t(`apptStatus.${a.status}`),
        who: [who, agent].filter(Boolean).join(', ') || '—',
      }),
    },
    h('span', { class: 'cal-event-time' }, h('span', { class: 'cal-event-mark', 'aria-hidden': 'true' }, STATUS_MARKS[a.status] || ''),
      h('span', { class: 'cal-event-hours' }, `${timeText(a.startsAt)}–${timeText(a.endsAt)}`)),
    h('span', { class: 'cal-event-title' }, a.title),
    h('span', { class: 'cal-event-meta' }, [t(`apptStatus.${a.status}`), who, agent].filter(Boolean).join(' · ')));
    place(block, p, y);
    return block;
  }

  /** "+3": more appointments at that time than the column has room for; opens that day, or in a day the list. */
  function moreBlock(day, m, y) {
    const block = button(`+${number(m.count)}`, {
      class: 'cal-more', 'aria-label': t('calendar.more', { count: number(m.count) }), dataset: { day, count: String(m.count) },
      on: () => {
        if (state.view === 'week') { state.view = 'day'; viewSelect.value = 'day'; state.date = day; refresh(); return; }
        listBox.scrollIntoView({ block: 'start' });
        listBox.closest('section').querySelector('h2').focus();
      },
    });
    place(block, m, y);
    return block;
  }

  function drawList(items) {
    const rows = [...items].sort((x, z) => x.startsAt.localeCompare(z.startsAt) || x.id.localeCompare(z.id));
    const columns = [
      { label: t('calendar.when'), cell: (a) => h('span', { class: 'cal-list-when', dataset: { start: a.startsAt } }, rangeText(a.startsAt, a.endsAt)) },
      { label: t('calendar.apptTitle'), cell: (a) => h('a', { href: `#/calendar/${encodeURIComponent(a.id)}`, class: 'cal-list-title' }, a.title) },
      state.agent ? null : { label: t('calendar.agent'), cell: (a) => agentName(names, a.agentId) },
      { label: t('calendar.contact'), cell: (a) => [a.contactName, a.contactPhone].filter(Boolean).join(' · ') },
      { label: t('field.status'), cell: (a) => statusBadge(t, a.status) },
    ].filter(Boolean);
    clear(listBox).append(table({ caption: t('calendar.listCaption', { when: period.textContent }), captionHidden: true, rows, columns, empty: t('calendar.none') }));
  }

  function book(start = null) {
    const at = start || (() => {
      // the next whole hour of the day shown (today: from now on)
      const d = dayStart(state.date);
      const nowHour = new Date();
      if (state.date === today) d.setHours(nowHour.getHours() + 1, 0); else d.setHours(9, 0);
      return d;
    })();
    appointmentDialog(ctx, { agents, agentId: state.agent, start: at }).then(async (appointment) => {
      if (!appointment) return;
      // show the week (or day) it is in
      state.date = isoDay(new Date(appointment.startsAt));
      const words = t('calendar.booked', { title: appointment.title, when: rangeText(appointment.startsAt, appointment.endsAt) });
      ctx.announce(words);
      await refresh(words);
      line.append(' ', h('a', { href: `#/calendar/${encodeURIComponent(appointment.id)}`, id: 'cal-booked-link' }, t('calendar.openIt')));
    });
  }

  await refresh();
}
