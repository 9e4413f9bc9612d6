// The steps editor of a sequence (sequence-edit.js): an ordered list of steps, each with its delay (after entry for
// the first, after the step before for the others; typed in minutes, hours or days, sent in minutes), its action and
// the action's fields — send a message (one of the channel's approved templates and its variables, where
// {{lead.name}} is the lead's name), move the lead to a stage, book a meeting (a calendar and a service type), or
// make a call (what it is about). Steps are added, removed and moved up or down; the API judges the rest (the
// ranges, the template's channel) and its refusal is said as it gave it. Read-only people see the same fields,
// disabled, without the controls that change them.
import { h, clear, uid } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { field, button, select } from '../lib/ui.js';
import { templateLabel, variableNames } from './campaigns-shared.js';
import { agentLabel } from './calendar-shared.js';
import { ACTIONS, UNITS, MAX_STEPS, delayParts } from './sequences-shared.js';

/**
 * `steps`: the sequence's steps now; `stages` [{key, name}]; `calendars` (calendar-booking's agents);
 * `editable`: whether the person may change them. Answers {el, read, setTemplates, count}:
 * read() → {steps} or {problem, focus}; setTemplates(list) fills every message step's template picker.
 */
export function stepsEditor(ctx, { steps = [], stages = [], calendars = [], editable = true }) {
  const { t } = ctx;
  const rows = h('ol', { class: 'seq-steps', id: 'sequence-steps' });
  const empty = h('p', { class: 'empty', id: 'sequence-no-steps', hidden: true }, t('sequence.noSteps'));
  const add = editable ? button(t('sequence.addStep'), { id: 'sequence-add-step', write: true, on: () => focusRow(addRow(null)) }) : null;
  let templates = [];

  function renumber() {
    const all = [...rows.children];
    all.forEach((row, i) => row.number(i, all.length));
    empty.hidden = all.length > 0;
    if (add) add.disabled = all.length >= MAX_STEPS;
  }

  function focusRow(row) {
    if (row) row.querySelector('.seq-delay').focus();
  }

  function addRow(step) {
    const s = step || { delayMinutes: rows.children.length ? 1440 : 0, action: 'send_message' };
    const titleId = uid('step');
    const disabled = !editable;

    // the delay: an amount and its unit
    const parts = delayParts(s.delayMinutes);
    const amount = h('input', {
      class: 'seq-delay', type: 'number', min: '0', step: '1', inputmode: 'numeric', value: String(parts.amount), disabled,
    });
    const unit = select(UNITS.slice().reverse().map(([u]) => [u, t(`sequence.unit.${u}`)]), { class: 'seq-delay-unit', value: parts.unit, disabled });
    const delayField = field(t('sequence.delayFirst'), amount);
    const action = select(ACTIONS.map((a) => [a, t(`sequenceAction.${a}`)]), { class: 'seq-action', value: s.action, disabled });

    // send_message: the template and its variables
    const template = select([['', t('sequence.pickTemplate')]], { class: 'seq-template', disabled });
    const templateBody = h('pre', { class: 'template-body seq-template-body', hidden: true });
    const variables = h('div', { class: 'seq-variables inline-fields' });
    const templateNote = h('p', { class: 'hint seq-template-note' });
    const typed = (s.variables || []).slice();
    const messageBox = h('div', { class: 'seq-fields', dataset: { action: 'send_message' } },
      field(t('sequence.template'), template), templateNote, templateBody, variables,
      h('p', { class: 'hint seq-lead-name-hint' }, t('sequence.leadNameHint')));

    // update_stage: the stage
    const stage = stages.length
      ? select([['', t('sequence.pickStage')], ...stages.map((x) => [x.key, x.name])], { class: 'seq-stage', value: s.stage || '', disabled })
      : h('input', { class: 'seq-stage', maxlength: '40', autocomplete: 'off', value: s.stage || '', disabled });
    if (stages.length && s.stage && !stages.some((x) => x.key === s.stage)) stage.append(h('option', { value: s.stage, selected: true }, s.stage));
    const stageBox = h('div', { class: 'seq-fields', dataset: { action: 'update_stage' } }, field(t('sequence.stage'), stage));

    // schedule_meeting: the calendar and a service type
    const calendar = select([['', t('sequence.pickCalendar')], ...calendars.map((a) => [a.id, agentLabel(t, a)])],
      { class: 'seq-calendar', value: s.calendarAgentId || '', disabled });
    if (s.calendarAgentId && !calendars.some((a) => a.id === s.calendarAgentId)) {
      calendar.append(h('option', { value: s.calendarAgentId, selected: true }, String(s.calendarAgentId).slice(0, 8)));
    }
    const servicesId = uid('services');
    const services = h('datalist', { id: servicesId });
    const service = h('input', { class: 'seq-service', maxlength: '40', autocomplete: 'off', list: servicesId, value: s.serviceType || '', disabled });
    const fillServices = () => {
      const chosen = calendars.find((a) => a.id === calendar.value);
      clear(services).append(...Object.keys((chosen && chosen.serviceDurations) || {}).sort().map((name) => h('option', { value: name })));
    };
    calendar.addEventListener('change', fillServices);
    fillServices();
    const meetingBox = h('div', { class: 'seq-fields', dataset: { action: 'schedule_meeting' } },
      calendars.length ? null : h('p', { class: 'hint seq-no-calendars' }, t('sequence.noCalendars')),
      h('div', { class: 'inline-fields inline-top' },
        field(t('sequence.calendar'), calendar),
        field(t('sequence.serviceType'), service, { hint: t('sequence.serviceHint') })), services);

    // make_call: what it is about
    const purpose = h('textarea', { class: 'seq-purpose', rows: '2', maxlength: '500', disabled }, s.purpose || '');
    const callBox = h('div', { class: 'seq-fields', dataset: { action: 'make_call' } },
      field(t('sequence.purpose'), purpose, { hint: t('sequence.purposeHint') }));

    const boxes = [messageBox, stageBox, meetingBox, callBox];
    const shape = () => {
      for (const box of boxes) box.hidden = box.dataset.action !== action.value;
      row.dataset.action = action.value;
    };

    /** The variables' inputs for the chosen template's {{1}}… (what was typed kept by position). */
    const drawVariables = () => {
      clear(variables);
      const chosen = templates.find((x) => x.id === template.value);
      templateBody.hidden = !chosen;
      templateBody.textContent = chosen ? [chosen.header && chosen.header.text, chosen.body, chosen.footer].filter(Boolean).join('\n\n') : '';
      // a template no longer listed (not approved now): the variables the step has
      const count = chosen ? chosen.variableCount || 0 : (template.value ? typed.length : 0);
      variableNames(count).forEach((label, i) => {
        const input = h('input', {
          class: 'seq-variable', maxlength: '1024', autocomplete: 'off', value: typed[i] || '', disabled, dataset: { index: String(i + 1) },
          placeholder: i === 0 ? '{{lead.name}}' : '',
        });
        input.addEventListener('input', () => { typed[i] = input.value; });
        variables.append(field(label, input));
      });
    };
    const fillTemplates = () => {
      const keep = template.value || s.templateId || '';
      clear(template).append(h('option', { value: '' }, t('sequence.pickTemplate')),
        ...templates.map((x) => h('option', { value: x.id }, templateLabel(x))));
      if (keep && !templates.some((x) => x.id === keep)) {
        template.append(h('option', { value: keep }, t('sequence.templateGone', { id: String(keep).slice(0, 8) })));
      }
      template.value = keep;
      templateNote.textContent = templates.length ? '' : t('sequence.noTemplates');
      drawVariables();
    };
    template.addEventListener('change', drawVariables);
    action.addEventListener('change', shape);

    const title = h('h3', { id: titleId, class: 'seq-step-title' });
    const controls = editable ? h('div', { class: 'rule-row-actions seq-step-actions' },
      button('↑', {
        class: 'btn btn-secondary seq-up', 'aria-label': t('sequence.up'), title: t('sequence.up'),
        on: () => { if (row.previousElementSibling) { rows.insertBefore(row, row.previousElementSibling); renumber(); row.querySelector('.seq-up').focus(); } },
      }),
      button('↓', {
        class: 'btn btn-secondary seq-down', 'aria-label': t('sequence.down'), title: t('sequence.down'),
        on: () => { if (row.nextElementSibling) { rows.insertBefore(row.nextElementSibling, row); renumber(); row.querySelector('.seq-down').focus(); } },
      }),
      button(t('sequence.removeStep'), {
        class: 'btn btn-danger-quiet seq-remove',
        on: () => {
          const next = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          renumber();
          if (next) next.querySelector('.seq-delay').focus(); else add.focus();
        },
      })) : null;

    const row = h('li', { class: 'seq-step rule-row', 'aria-labelledby': titleId },
      title,
      h('div', { class: 'inline-fields inline-top seq-step-head' }, delayField, field(t('sequence.unit'), unit), field(t('sequence.action'), action)),
      boxes, controls);

    /** Its place: the title, the delay's label (after entry, or after the step before) and which moves make sense. */
    row.number = (index, total) => {
      row.dataset.index = String(index);
      title.textContent = t('sequence.stepN', { n: number(index + 1) });
      delayField.querySelector('label').textContent = index === 0 ? t('sequence.delayFirst') : t('sequence.delayNext', { n: number(index) });
      if (controls) {
        controls.querySelector('.seq-up').disabled = index === 0;
        controls.querySelector('.seq-down').disabled = index === total - 1;
      }
      row.classList.remove('seq-step-bad');
      row.removeAttribute('aria-invalid');
    };
    row.fillTemplates = fillTemplates;

    /** What the API is sent for this step, or {problem, focus}. */
    row.read = (n) => {
      const text = amount.value.trim();
      if (!/^\d+$/.test(text)) return { problem: t('sequence.badDelay', { n }), focus: amount };
      const size = (UNITS.find(([u]) => u === unit.value) || UNITS[2])[1];
      const value = { delayMinutes: Number(text) * size, action: action.value };
      if (action.value === 'send_message') {
        if (!template.value) return { problem: t('sequence.needTemplate', { n }), focus: template };
        value.templateId = template.value;
        const inputs = [...variables.querySelectorAll('.seq-variable')];
        const missing = inputs.find((i) => !i.value.trim());
        if (missing) return { problem: t('sequence.needVariable', { n, name: `{{${missing.dataset.index}}}` }), focus: missing };
        if (inputs.length) value.variables = inputs.map((i) => i.value);
      } else if (action.value === 'update_stage') {
        if (!stage.value.trim()) return { problem: t('sequence.needStage', { n }), focus: stage };
        value.stage = stage.value.trim();
      } else if (action.value === 'schedule_meeting') {
        if (!calendar.value) return { problem: t('sequence.needCalendar', { n }), focus: calendar };
        value.calendarAgentId = calendar.value;
        if (service.value.trim()) value.serviceType = service.value.trim();
      } else if (purpose.value.trim()) {
        value.purpose = purpose.value.trim();
      }
      return { step: value };
    };

    shape();
    fillTemplates();
    rows.append(row);
    renumber();
    return row;
  }

  for (const step of steps) addRow(step);
  renumber();

  return {
    el: h('div', { class: 'seq-steps-editor' }, rows, empty, add ? h('div', { class: 'form-actions' }, add) : null),
    count: () => rows.children.length,
    setTemplates(list) {
      templates = list;
      for (const row of rows.children) row.fillTemplates();
    },
    /** Marks the step the API named (steps[i] in its message) and moves to it. */
    markBad(index) {
      const row = rows.children[index];
      if (!row) return;
      row.classList.add('seq-step-bad');
      row.setAttribute('aria-invalid', 'true');
      row.scrollIntoView({ block: 'center' });
    },
    read() {
      const out = [];
      for (const [i, row] of [...rows.children].entries()) {
        const answer = row.read(number(i + 1));
        if (answer.problem) return answer;
        out.push(answer.step);
      }
      return { steps: out };
    },
  };
}
