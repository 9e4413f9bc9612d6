// Availability: one calendar (agent: a person, or a resource such as a van) at a time, picked from the tenant's; for
// the planners, "New calendar" (name, kind, time zone, service durations) and its edit. Its schedule: weekly hours per
// weekday (several intervals a day), date overrides (closed, or special hours), buffers before and after, minimum
// notice, a maximum per day and the slot step, in the calendar's own zone, saved whole (PUT /v1/availability/rules;
// a refusal is shown next to the form with the field it names marked). Time off (blocks): listed, added, deleted.
// And the free slots of the next seven days for a duration, in the viewer's zone. Those who may not plan see the
// schedule in words.
import { h, clear } from '../lib/dom.js';
import { dateTime, isoDay, addDays, number } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, select, details, dialog, checkbox, confirmAction, newKey } from '../lib/ui.js';
import { personSpan } from './people-cache.js';
import {
  KINDS, agentsOf, forgetAgents, agentLabel, calendarError, zoneChoices, browserZone, apiZone, dayStart, dayText, longDayText, timeText,
  instantOf, minutesText, rangeText,
} from './calendar-shared.js';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];
const PREVIEW_MINUTES = [15, 30, 45, 60, 90, 120];

/** "Monday" for an ISO weekday (1 = Monday); 2024-01-01 was a Monday. */
const weekdayName = (n) => new Intl.DateTimeFormat(document.documentElement.lang || 'en', { weekday: 'long' }).format(new Date(2024, 0, n));
/** The API's "24:00" (the end of the day) is 00:00 in a time input, and back. */
const toInput = (time) => (time === '24:00' ? '00:00' : time);
const fromInputEnd = (time) => (time === '00:00' ? '24:00' : time);
/** "08:00–12:00, 14:00–24:00". */
const intervalsText = (list) => list.map((i) => `${i.start}–${i.end}`).join(', ');

/** The calendar dialog: a new one (`agent` null) or changes to one. Resolves to the saved agent, or undefined. */
function agentDialog(ctx, agent = null) {
  const { t, api } = ctx;
  const name = h('input', { id: 'cal-agent-name', required: true, maxlength: '200', autocomplete: 'off', value: agent ? agent.name : '' });
  const kind = select(KINDS.map((k) => [k, t(`calendarKind.${k}`)]), { id: 'cal-agent-kind', value: agent ? agent.kind : 'person' });
  const zones = zoneChoices(agent ? agent.timeZone : null);
  const preferred = agent ? agent.timeZone : (zones.includes(browserZone()) ? browserZone() : 'Africa/Nairobi');
  const zone = select(zones.map((z) => [z, z.replace(/_/g, ' ')]), { id: 'cal-agent-zone', value: preferred });
  const email = h('input', { id: 'cal-agent-email', type: 'email', maxlength: '254', autocomplete: 'off', value: agent && agent.email ? agent.email : '' });
  const rows = h('ul', { class: 'plain-list duration-rows', id: 'cal-agent-durations' });
  const addRow = (service = '', minutes = '') => {
    const serviceInput = h('input', { class: 'duration-name', maxlength: '60', autocomplete: 'off', value: service, 'aria-label': t('agentCal.serviceName') });
    const minutesInput = h('input', {
      class: 'duration-minutes', type: 'number', min: '5', max: '1440', step: '1', inputmode: 'numeric', value: String(minutes), 'aria-label': t('agentCal.serviceMinutes'),
    });
    const row = h('li', { class: 'duration-row' }, serviceInput, minutesInput,
      button(t('rules.remove'), { kind: 'danger-quiet', class: 'btn btn-danger-quiet duration-remove', on: () => row.remove() }));
    rows.append(row);
    return serviceInput;
  };
  for (const [service, minutes] of Object.entries((agent && agent.serviceDurations) || {}).sort((a, b) => a[0].localeCompare(b[0]))) addRow(service, minutes);
  const active = agent ? checkbox(t('agentCal.active'), { id: 'cal-agent-active', checked: agent.active }) : null;
  const key = newKey();
  return dialog({
    t, title: agent ? t('agentCal.editTitle', { name: agent.name }) : t('agentCal.newTitle'),
    submitLabel: agent ? t('action.save') : t('agentCal.create'),
    body: h('div', { id: 'cal-agent-form' },
      field(t('field.name'), name, { hint: t('agentCal.nameHint') }),
      field(t('agentCal.kind'), kind),
      field(t('agentCal.zone'), zone, { hint: t('agentCal.zoneHint') }),
      field(t('agentCal.email'), email),
      h('fieldset', {}, h('legend', {}, t('agentCal.durations')), h('p', { class: 'hint' }, t('agentCal.durationsHint')), rows,
        button(t('agentCal.addService'), { id: 'cal-agent-add-service', on: () => addRow().focus() })),
      active ? active.el : null),
    onSubmit: async ({ close, fail }) => {
      if (!name.value.trim()) return fail(t('agentCal.needName'));
      const durations = {};
      for (const row of rows.querySelectorAll('.duration-row')) {
        const service = row.querySelector('.duration-name').value.trim();
        const minutes = row.querySelector('.duration-minutes').value.trim();
        if (!service && !minutes) continue;
        if (!service || !/^\d+$/.test(minutes) || Number(minutes) < 5 || Number(minutes) > 1440) return fail(t('agentCal.badDuration'));
        durations[service] = Number(minutes);
      }
      const body = { name: name.value.trim(), kind: kind.value, timeZone: zone.value, serviceDurations: durations };
      if (email.value.trim()) body.email = email.value.trim();
      if (active) body.active = active.input.checked;
      const result = agent
        ? await api('PATCH', `/v1/calendar/agents/${encodeURIComponent(agent.id)}`, { body })
        : await api('POST', '/v1/calendar/agents', { body, idempotencyKey: key });
      if (!result.ok) return fail(calendarError(t, result));
      forgetAgents();
      close(result.data);
      return undefined;
    },
  }).done;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/calendar/agents');
  const canEdit = can('PATCH /v1/calendar/agents/{id}');
  const canPlan = can('PUT /v1/availability/rules');
  const canBlock = can('POST /v1/availability/blocks');
  const canUnblock = can('DELETE /v1/availability/blocks/{id}');

  let agents = await agentsOf(ctx, true);
  let agent = agents.find((a) => a.id === query.get('agent')) || agents[0] || null;

  const agentSelect = select([], { id: 'avail-agent' });
  const fillAgents = () => {
    clear(agentSelect).append(...agents.map((a) => h('option', { value: a.id, selected: agent && a.id === agent.id }, agentLabel(t, a))));
  };
  fillAgents();
  const line = statusLine();
  line.id = 'avail-status';
  const card = h('div', { id: 'agent-card' });
  const rulesBox = h('div', { id: 'rules-box' });
  const blocksBox = h('div', { id: 'blocks-box' });
  const previewBox = h('div', { id: 'preview-box' });
  const picker = h('div', { class: 'filters', id: 'avail-picker' }, field(t('calendar.agent'), agentSelect));
  const empty = h('p', { class: 'empty', id: 'avail-none' }, t('agentCal.none'));
  const parts = h('div', { id: 'avail-parts' },
    card,
    section(t('rules.title'), rulesBox),
    section(t('blocks.title'), blocksBox),
    section(t('preview.title'), previewBox));

  root.append(
    pageHeader(t('availability.title'),
      canCreate ? button(t('agentCal.new'), { kind: 'primary', write: true, id: 'agent-create', on: create }) : null),
    h('p', { class: 'hint' }, t('availability.intro')),
    picker, line, empty, parts);

  agentSelect.addEventListener('change', () => {
    agent = agents.find((a) => a.id === agentSelect.value) || null;
    show();
  });

  async function show(message) {
    picker.hidden = !agent;
    empty.hidden = Boolean(agent);
    parts.hidden = !agent;
    ctx.setQuery({ agent: agent ? agent.id : '' });
    if (!agent) return;
    drawCard();
    if (message) say(line, message, 'ok'); else say(line, '');
    await loadRules();
    await Promise.all([loadBlocks(), loadPreview()]);
  }

  async function reloadAgents(id, message) {
    agents = await agentsOf(ctx, true);
    agent = agents.find((a) => a.id === id) || agents[0] || null;
    fillAgents();
    await show(message);
  }

  function create() {
    agentDialog(ctx).then(async (made) => {
      if (!made) return;
      const words = t('agentCal.created', { name: made.name });
      ctx.announce(words);
      await reloadAgents(made.id, words);
    });
  }

  // ---------------------------------------------------------------- the calendar itself

  function drawCard() {
    const a = agent;
    const services = Object.entries(a.serviceDurations || {}).sort((x, y) => x[0].localeCompare(y[0]));
    clear(card).append(h('div', { class: 'card', dataset: { agent: a.id } },
      h('div', { class: 'page-header' }, h('h2', { id: 'agent-title' }, a.name),
        canEdit ? button(t('action.edit'), { write: true, id: 'agent-edit', on: edit }) : null),
      details([
        [t('agentCal.kind'), t(`calendarKind.${a.kind}`)],
        [t('agentCal.zone'), h('span', { id: 'agent-zone' }, a.timeZone)],
        [t('agentCal.durations'), h('span', { id: 'agent-services' }, services.length
          ? services.map(([name, minutes]) => `${name} · ${minutesText(t, number(minutes))}`).join(', ') : t('agentCal.noServices'))],
        [t('agentCal.email'), a.email || ''],
        [t('field.status'), a.active ? t('agentCal.isActive') : t('calendar.inactive')],
        [t('agentCal.id'), h('span', { class: 'mono', id: 'agent-id' }, a.id)],
      ])));
  }

  function edit() {
    agentDialog(ctx, agent).then(async (saved) => {
      if (!saved) return;
      const words = t('agentCal.saved', { name: saved.name });
      ctx.announce(words);
      await reloadAgents(saved.id, words);
    });
  }

  // ---------------------------------------------------------------- weekly hours and the rest of the schedule

  let schedule = null;

  /** Whether an answer asked for `id` may still be drawn (the person may have picked another calendar meanwhile). */
  const still = (id) => ctx.isCurrent() && agent && agent.id === id;

  async function loadRules() {
    const id = agent.id;
    const answer = await api('GET', `/v1/availability/rules?agentId=${encodeURIComponent(id)}`);
    if (!still(id)) return;
    if (!answer.ok) { clear(rulesBox).append(h('p', { class: 'form-error', role: 'alert' }, calendarError(t, answer))); return; }
    schedule = answer.data.schedule;
    if (canPlan) drawRulesForm(); else drawRulesText();
  }

  function drawRulesText() {
    const s = schedule;
    const weekly = WEEKDAYS.map((d) => [weekdayName(d), intervalsText(s.weekly.filter((r) => r.weekday === d).sort((a, b) => a.start.localeCompare(b.start))) || t('rules.closed')]);
    const overrides = [...s.overrides].sort((a, b) => a.date.localeCompare(b.date))
      .map((o) => [longDayText(dayStart(o.date)), o.intervals.length ? intervalsText(o.intervals) : t('rules.closedAllDay')]);
    clear(rulesBox).append(
      h('p', { class: 'hint' }, t('rules.inZone', { zone: s.timeZone })),
      h('div', { id: 'rules-text' },
        h('h3', {}, t('rules.weekly')), details(weekly),
        h('h3', {}, t('rules.overrides')), overrides.length ? details(overrides) : h('p', { class: 'empty' }, t('rules.noOverrides')),
        h('h3', {}, t('rules.settings')), details([
          [t('rules.bufferBefore'), minutesText(t, number(s.bufferBeforeMinutes))],
          [t('rules.bufferAfter'), minutesText(t, number(s.bufferAfterMinutes))],
          [t('rules.notice'), minutesText(t, number(s.minimumNoticeMinutes))],
          [t('rules.maxPerDay'), s.maxPerDay == null ? t('rules.noLimit') : number(s.maxPerDay)],
          [t('rules.step'), s.slotStepMinutes == null ? t('rules.stepDuration') : minutesText(t, number(s.slotStepMinutes))],
        ])));
  }

  /** One interval's row: from, until, remove. */
  function intervalRow(where, interval = { start: '09:00', end: '17:00' }) {
    const start = h('input', { type: 'time', class: 'iv-start', required: true, value: interval.start, 'aria-label': t('rules.from', { where }) });
    const end = h('input', { type: 'time', class: 'iv-end', required: true, value: toInput(interval.end), 'aria-label': t('rules.until', { where }) });
    const row = h('li', { class: 'rules-interval' }, start, h('span', { 'aria-hidden': 'true' }, '–'), end,
      button(t('rules.remove'), { class: 'btn btn-danger-quiet iv-remove', write: true, dataset: { write: '' }, 'aria-label': t('rules.removeNamed', { where }), on: () => { row.remove(); } }));
    return row;
  }

  function intervalList(where, intervals) {
    const list = h('ul', { class: 'rules-intervals' }, intervals.map((i) => intervalRow(where, i)));
    const add = button(t('rules.addHours'), { class: 'btn btn-secondary rules-add', dataset: { write: '' }, 'aria-label': t('rules.addHoursNamed', { where }), on: () => {
      const last = [...list.querySelectorAll('.iv-end')].pop();
      const from = last && last.value && last.value !== '00:00' ? last.value : '09:00';
      const [hh, mm] = from.split(':').map(Number);
      const until = `${String(Math.min(23, hh + 2)).padStart(2, '0')}:${String(mm).padStart(2, '0')}`;
      const row = intervalRow(where, { start: from, end: until });
      list.append(row);
      row.querySelector('.iv-start').focus();
    } });
    return { list, add };
  }

  function overrideRow(override = { date: '', intervals: [] }) {
    const date = h('input', { type: 'date', class: 'override-date', required: true, value: override.date, 'aria-label': t('rules.overrideDate') });
    const closed = checkbox(t('rules.closedAllDay'), { class: 'override-closed', checked: !override.intervals.length });
    const where = () => (date.value ? longDayText(dayStart(date.value)) : t('rules.overrideDate'));
    const { list, add } = intervalList(where(), override.intervals);
    const hours = h('div', { class: 'override-hours' }, list, add);
    const sync = () => {
      hours.hidden = closed.input.checked;
      if (!closed.input.checked && !list.children.length) list.append(intervalRow(where()));
    };
    closed.input.addEventListener('change', sync);
    hours.hidden = closed.input.checked;
    const row = h('li', { class: 'override-row' },
      h('div', { class: 'override-head' }, field(t('rules.overrideDate'), date), closed.el,
        button(t('rules.removeDate'), { class: 'btn btn-danger-quiet override-remove', dataset: { write: '' }, on: () => row.remove() })),
      hours);
    return row;
  }

  function drawRulesForm() {
    const s = schedule;
    const zones = zoneChoices(s.timeZone);
    const zone = select(zones.map((z) => [z, z.replace(/_/g, ' ')]), { id: 'rules-zone', value: s.timeZone });
    const days = h('div', { class: 'rules-days', id: 'rules-weekly' }, WEEKDAYS.map((d) => {
      const { list, add } = intervalList(weekdayName(d), s.weekly.filter((r) => r.weekday === d).sort((a, b) => a.start.localeCompare(b.start)));
      return h('div', { class: 'rules-day', dataset: { weekday: String(d) } }, h('span', { class: 'rules-day-name' }, weekdayName(d)), list, add);
    }));
    const overrides = h('ul', { class: 'override-list', id: 'rules-overrides' },
      [...s.overrides].sort((a, b) => a.date.localeCompare(b.date)).map((o) => overrideRow(o)));
    const addOverride = button(t('rules.addDate'), { id: 'override-add', dataset: { write: '' }, on: () => {
      const row = overrideRow({ date: addDays(isoDay(), 1), intervals: [] });
      overrides.append(row);
      row.querySelector('.override-date').focus();
    } });
    const whole = (id, value) => ({ input: h('input', { id, type: 'number', min: '0', step: '1', inputmode: 'numeric', value: value == null ? '' : String(value) }) });
    const before = whole('rules-buffer-before', s.bufferBeforeMinutes);
    const after = whole('rules-buffer-after', s.bufferAfterMinutes);
    const notice = whole('rules-notice', s.minimumNoticeMinutes);
    const maxPerDay = whole('rules-max', s.maxPerDay);
    const step = whole('rules-step', s.slotStepMinutes);
    const error = h('p', { class: 'form-error', role: 'alert', id: 'rules-error' });
    const saved = statusLine();
    saved.id = 'rules-status';
    const save = button(t('rules.save'), { kind: 'primary', type: 'submit', write: true, id: 'rules-save' });
    const form = h('form', { id: 'rules-form', class: 'rules-form', novalidate: true, 'aria-describedby': 'rules-error' },
      field(t('rules.zone'), zone, { hint: t('rules.zoneHint') }),
      h('fieldset', {}, h('legend', {}, t('rules.weekly')), h('p', { class: 'hint' }, t('rules.weeklyHint')), days),
      h('fieldset', {}, h('legend', {}, t('rules.overrides')), h('p', { class: 'hint' }, t('rules.overridesHint')), overrides, addOverride),
      h('fieldset', { class: 'inline-fields rules-settings' }, h('legend', {}, t('rules.settings')),
        field(t('rules.bufferBefore'), before.input, { hint: t('rules.minutesHint') }),
        field(t('rules.bufferAfter'), after.input, { hint: t('rules.minutesHint') }),
        field(t('rules.notice'), notice.input, { hint: t('rules.noticeHint') }),
        field(t('rules.maxPerDay'), maxPerDay.input, { hint: t('rules.maxPerDayHint') }),
        field(t('rules.step'), step.input, { hint: t('rules.stepHint') })),
      error, h('div', { class: 'form-actions' }, save), saved);
    clear(rulesBox).append(form);

    const fieldInputs = {
      timeZone: [zone], bufferBeforeMinutes: [before.input], bufferAfterMinutes: [after.input], minimumNoticeMinutes: [notice.input],
      maxPerDay: [maxPerDay.input], slotStepMinutes: [step.input],
    };

    /** Marks the inputs a refusal names (`weekly[2].end`, `overrides[0].intervals[1].start`, `bufferAfterMinutes`). */
    function mark(inputs) {
      for (const input of inputs) input.setAttribute('aria-invalid', 'true');
      if (inputs[0]) inputs[0].focus();
    }

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      say(saved, '');
      for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
      const weekly = [];
      const weeklyRows = [];
      for (const day of days.querySelectorAll('.rules-day')) {
        for (const row of day.querySelectorAll('.rules-interval')) {
          const start = row.querySelector('.iv-start');
          const end = row.querySelector('.iv-end');
          if (!start.value || !end.value) { error.textContent = t('rules.needTimes'); return mark([start.value ? end : start]); }
          weekly.push({ weekday: Number(day.dataset.weekday), start: start.value, end: fromInputEnd(end.value) });
          weeklyRows.push(row);
        }
      }
      const dated = [];
      const datedRows = [];
      for (const row of overrides.querySelectorAll('.override-row')) {
        const date = row.querySelector('.override-date');
        if (!date.value) { error.textContent = t('rules.needDate'); return mark([date]); }
        const closed = row.querySelector('.override-closed').checked;
        const intervals = [];
        for (const iv of closed ? [] : row.querySelectorAll('.rules-interval')) {
          const start = iv.querySelector('.iv-start');
          const end = iv.querySelector('.iv-end');
          if (!start.value || !end.value) { error.textContent = t('rules.needTimes'); return mark([start.value ? end : start]); }
          intervals.push({ start: start.value, end: fromInputEnd(end.value) });
        }
        dated.push({ date: date.value, intervals });
        datedRows.push(row);
      }
      const count = (input, optional) => {
        const text = input.value.trim();
        if (!text) return optional ? null : 0;
        return /^\d+$/.test(text) ? Number(text) : NaN;
      };
      const body = {
        timeZone: zone.value, weekly, overrides: dated,
        bufferBeforeMinutes: count(before.input), bufferAfterMinutes: count(after.input), minimumNoticeMinutes: count(notice.input),
      };
      const max = count(maxPerDay.input, true);
      const every = count(step.input, true);
      if (max !== null) body.maxPerDay = max;
      if (every !== null) body.slotStepMinutes = every;
      const bad = Object.entries({ ...body, maxPerDay: max, slotStepMinutes: every }).find(([, v]) => Number.isNaN(v));
      if (bad) { error.textContent = t('rules.needWhole'); return mark(fieldInputs[bad[0]]); }
      save.disabled = true;
      const result = await api('PUT', '/v1/availability/rules', { body: { agentId: agent.id, schedule: body } });
      save.disabled = false;
      if (!result.ok) {
        const message = calendarError(t, result);
        // the refusal names the field as a JSON path: point at it
        const path = /^(weekly|overrides)\[(\d+)\](?:\.intervals\[(\d+)\])?(?:\.(\w+))?/.exec(result.error.message || '')
          || /^(\w+):/.exec(result.error.message || '');
        let inputs = [];
        let where = '';
        if (path && path[1] === 'weekly' && weeklyRows[Number(path[2])]) {
          const row = weeklyRows[Number(path[2])];
          inputs = path[4] === 'end' ? [row.querySelector('.iv-end')] : path[4] ? [row.querySelector('.iv-start')] : [row.querySelector('.iv-start'), row.querySelector('.iv-end')];
          where = weekdayName(weekly[Number(path[2])].weekday);
        } else if (path && path[1] === 'overrides' && datedRows[Number(path[2])]) {
          const row = datedRows[Number(path[2])];
          where = longDayText(dayStart(dated[Number(path[2])].date));
          const iv = path[3] != null ? row.querySelectorAll('.rules-interval')[Number(path[3])] : null;
          inputs = iv ? [iv.querySelector(path[4] === 'start' ? '.iv-start' : '.iv-end')] : [row.querySelector('.override-date')];
        } else if (path && fieldInputs[path[1]]) {
          inputs = fieldInputs[path[1]];
          where = inputs[0].closest('.field').querySelector('label').textContent;
        }
        error.textContent = result.error.code === 'invalid_schedule'
          ? `${where ? t('rules.refusedAt', { where }) : t('rules.refused')} ${result.error.message}` : message;
        error.dataset.code = result.error.code || '';
        return mark(inputs.filter(Boolean));
      }
      schedule = result.data.schedule;
      const zoneChanged = schedule.timeZone !== agent.timeZone;
      const words = t('rules.saved');
      ctx.announce(words);
      if (zoneChanged) { await reloadAgents(agent.id, words); return undefined; }
      drawRulesForm();
      say(rulesBox.querySelector('#rules-status'), words, 'ok');
      await loadPreview();
      return undefined;
    });
  }

  // ---------------------------------------------------------------- time off

  async function loadBlocks(message) {
    const from = dayStart(isoDay());
    const to = dayStart(addDays(isoDay(), 365));
    const id = agent.id;
    const answer = await api('GET', `/v1/availability/blocks?agentId=${encodeURIComponent(id)}&from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`);
    if (!still(id)) return;
    const list = h('div', { id: 'blocks-list' });
    const status = statusLine();
    status.id = 'blocks-status';
    if (!answer.ok) {
      clear(blocksBox).append(h('p', { class: 'form-error', role: 'alert' }, calendarError(t, answer)));
      return;
    }
    const columns = [
      { label: t('blocks.from'), cell: (b) => h('span', { class: 'block-from', dataset: { start: b.startsAt } }, `${dayText(b.startsAt)}, ${timeText(b.startsAt)}`) },
      { label: t('blocks.until'), cell: (b) => h('span', { class: 'block-until', dataset: { end: b.endsAt } }, `${dayText(b.endsAt)}, ${timeText(b.endsAt)}`) },
      { label: t('field.reason'), cell: (b) => h('span', { class: 'block-reason' }, b.reason || '') },
      { label: t('blocks.by'), cell: (b) => h('span', {}, personSpan(ctx, h, b.createdBy), ' · ', dateTime(b.createdAt)) },
    ];
    if (canUnblock) {
      columns.push({
        label: t('field.actions'), cell: (b) => h('div', { class: 'row-actions' }, button(t('blocks.delete'), {
          kind: 'danger-quiet', dataset: { write: '', action: 'delete-block', block: b.id },
          'aria-label': t('blocks.deleteNamed', { when: rangeText(b.startsAt, b.endsAt) }), on: () => unblock(b),
        })),
      });
    }
    list.append(table({ caption: t('blocks.caption'), captionHidden: true, columns, rows: answer.data.items, empty: t('blocks.none') }));
    clear(blocksBox).append(h('p', { class: 'hint' }, t('blocks.intro', { zone: browserZone() })), status, list, canBlock ? blockForm() : '');
    if (message) say(status, message, 'ok');
  }

  function blockForm() {
    const tomorrow = addDays(isoDay(), 1);
    const fromDay = h('input', { type: 'date', id: 'block-from-date', required: true, value: tomorrow });
    const fromTime = h('input', { type: 'time', id: 'block-from-time', required: true, value: '09:00' });
    const toDay = h('input', { type: 'date', id: 'block-to-date', required: true, value: tomorrow });
    const toTime = h('input', { type: 'time', id: 'block-to-time', required: true, value: '17:00' });
    const reason = h('input', { id: 'block-reason', maxlength: '500', autocomplete: 'off' });
    const error = h('p', { class: 'form-error', role: 'alert', id: 'block-error' });
    const submit = button(t('blocks.add'), { kind: 'primary', type: 'submit', write: true, id: 'block-add' });
    // one key per attempt: a double click or a retry after a lost answer adds the time off once
    let key = newKey();
    const form = h('form', { class: 'block-form', id: 'block-form' },
      h('h3', {}, t('blocks.addTitle')),
      h('div', { class: 'inline-fields' }, field(t('blocks.fromDate'), fromDay), field(t('blocks.fromTime'), fromTime),
        field(t('blocks.toDate'), toDay), field(t('blocks.toTime'), toTime)),
      field(t('field.reason'), reason, { hint: t('blocks.reasonHint') }),
      error, h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const start = instantOf(fromDay.value, fromTime.value);
      const end = instantOf(toDay.value, toTime.value);
      if (!start || !end) { error.textContent = t('blocks.needTimes'); return; }
      if (end <= start) { error.textContent = t('blocks.endBeforeStart'); return; }
      const body = { agentId: agent.id, startsAt: start.toISOString(), endsAt: end.toISOString() };
      if (reason.value.trim()) body.reason = reason.value.trim();
      submit.disabled = true;
      const result = await api('POST', '/v1/availability/blocks', { body, idempotencyKey: key });
      submit.disabled = false;
      if (!result.ok) {
        if (result.status >= 400 && result.status < 500) key = newKey();
        error.textContent = calendarError(t, result);
        return;
      }
      key = newKey();
      const words = t('blocks.added', { when: rangeText(result.data.startsAt, result.data.endsAt) });
      ctx.announce(words);
      await Promise.all([loadBlocks(words), loadPreview()]);
    });
    return form;
  }

  function unblock(b) {
    confirmAction({
      t, title: t('blocks.deleteTitle'), message: t('blocks.deleteBody', { when: rangeText(b.startsAt, b.endsAt) }), confirmLabel: t('blocks.delete'),
      onConfirm: async () => {
        const result = await api('DELETE', `/v1/availability/blocks/${encodeURIComponent(b.id)}`);
        return result.ok ? null : calendarError(t, result);
      },
    }).then(async (done) => {
      if (!done) return;
      const words = t('blocks.deleted');
      ctx.announce(words);
      await Promise.all([loadBlocks(words), loadPreview()]);
    });
  }

  // ---------------------------------------------------------------- free slots of the next seven days

  let previewMinutes = null;

  async function loadPreview() {
    const services = Object.entries(agent.serviceDurations || {}).sort((x, y) => x[0].localeCompare(y[0]));
    const choices = [...services.map(([name, minutes]) => [String(minutes), `${name} · ${minutesText(t, number(minutes))}`]),
      ...PREVIEW_MINUTES.map((m) => [String(m), minutesText(t, number(m))])];
    if (!previewMinutes || !choices.some(([v]) => v === previewMinutes)) previewMinutes = choices[0][0];
    const duration = select(choices, { id: 'preview-duration', value: previewMinutes });
    const status = statusLine();
    status.id = 'preview-status';
    const slotsBox = h('div', { id: 'preview-slots', dataset: { ready: 'false' } });
    clear(previewBox).append(
      h('div', { class: 'filters' }, field(t('preview.duration'), duration, { hint: t('preview.hint', { zone: browserZone() }) })),
      status, slotsBox);
    duration.addEventListener('change', () => { previewMinutes = duration.value; loadPreview(); });
    const zone = apiZone(browserZone());
    const id = agent.id;
    const answer = await api('GET', `/v1/availability?agentId=${encodeURIComponent(id)}&duration=${previewMinutes}&tz=${encodeURIComponent(zone)}`);
    // another calendar or another duration was asked for meanwhile: that answer draws instead
    if (!still(id) || !slotsBox.isConnected) return;
    if (!answer.ok) { say(status, calendarError(t, answer), 'error'); return; }
    const byDay = new Map();
    for (const slot of answer.data.slots) {
      const day = isoDay(new Date(slot.startsAt));
      if (!byDay.has(day)) byDay.set(day, []);
      byDay.get(day).push(slot);
    }
    slotsBox.append(...[...byDay.entries()].map(([day, slots]) => h('div', { class: 'preview-day', dataset: { day } },
      h('h3', {}, longDayText(dayStart(day))),
      h('ul', { class: 'preview-list' }, slots.map((s) => h('li', {},
        h('span', { class: 'preview-slot', dataset: { start: s.startsAt, end: s.endsAt }, title: rangeText(s.startsAt, s.endsAt) }, timeText(s.startsAt))))))));
    slotsBox.dataset.ready = 'true';
    slotsBox.dataset.count = String(answer.data.slots.length);
    say(status, answer.data.slots.length
      ? t('preview.count', { count: number(answer.data.slots.length), days: number(byDay.size) })
      : (schedule && !schedule.weekly.length && !schedule.overrides.length ? t('preview.noRules') : t('preview.none')));
  }

  await show();
}
