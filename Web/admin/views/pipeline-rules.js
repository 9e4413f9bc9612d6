// The pipeline's rules (GET/PUT /v1/pipeline/rules), shown on the pipeline page: what moves leads by itself, a
// sentence per rule in the order they are tried, for everyone who reads the pipeline (so a person dragging cards knows
// what else moves them). Those who shape the pipeline get the editor: add, remove and reorder rules, each with its
// name, trigger (a score reached or fallen below, days without contact, or an event), the threshold or the event the
// trigger needs, the stages it moves leads out of (none: any open stage), the stage it moves them to, and whether it
// is on. The rules are the API's to judge: a refusal is said as it gave it, nothing saved.
import { h, clear, uid } from '../lib/dom.js';
import { field, button, statusLine, say, select, checkbox, badge, errorText } from '../lib/ui.js';
import { stageName } from './leads-shared.js';

export const TRIGGERS = ['score_at_least', 'score_below', 'inactive_days', 'event'];
export const EVENTS = [
  'message_received', 'conversation_closed', 'opted_out', 'opted_in', 'appointment_booked', 'appointment_cancelled',
  'appointment_completed', 'appointment_missed', 'purchase',
];
// refusals with a sentence of their own; the others (a rule's threshold, say) are said in the API's words
const ERRORS = { unknown_stage: 'autoRules.unknownStage', 'invalid_rules.name': 'autoRules.badName' };

/** "When the score reaches 45, leads in New or Contacted move to Qualified." */
export function ruleText(t, rule, stages) {
  const when = t(`autoRules.when.${rule.trigger}`, { threshold: rule.threshold ?? '', event: rule.event ? t(`crmEvent.${rule.event}`) : '' });
  const names = rule.fromStages.map((key) => stageName(stages, key));
  const from = names.length
    ? new Intl.ListFormat(document.documentElement.lang || 'en', { type: 'disjunction' }).format(names) : t('autoRules.anyOpen');
  return t('autoRules.sentence', { when, from, to: stageName(stages, rule.toStage) });
}

/** Draws the rules into `box` for `stages` (the pipeline's now); again after a save. */
export async function renderRules(ctx, box, stages) {
  const { t, api, can } = ctx;
  const answer = await api('GET', '/v1/pipeline/rules');
  if (!ctx.isCurrent()) return;
  if (!answer.ok) { clear(box).append(h('p', { class: 'form-error', id: 'rules-load-error' }, errorText(t, answer))); return; }
  const rules = answer.data.rules;
  const list = rules.length
    ? h('ol', { class: 'rule-list', id: 'rules-list' }, rules.map((r) => h('li', { dataset: { id: r.id, enabled: String(r.enabled) } },
      h('strong', { class: 'rule-list-name' }, r.name), ' ', r.enabled ? null : badge(t('autoRules.off'), 'inactive'), ' ',
      h('span', { class: 'rule-list-text' }, ruleText(t, r, stages)))))
    : h('p', { class: 'empty', id: 'rules-none' }, t('autoRules.none'));
  clear(box).append(...[h('p', { class: 'hint' }, t('autoRules.intro')), list, can('PUT /v1/pipeline/rules') ? editor(ctx, box, stages, rules) : null].filter(Boolean));
  box.dataset.ready = 'true';
}

function editor(ctx, box, stages, rules) {
  const { t, api } = ctx;
  const rows = h('ol', { class: 'rule-rows', id: 'rules-rows' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'rules-error' });
  const status = statusLine();
  status.id = 'rules-status';

  const addRow = (rule) => {
    const r = rule || { name: '', trigger: 'score_at_least', threshold: null, event: null, fromStages: [], toStage: stages[0] ? stages[0].key : '', enabled: true };
    const name = h('input', { class: 'rule-name', maxlength: '80', autocomplete: 'off', value: r.name });
    const trigger = select(TRIGGERS.map((x) => [x, t(`autoRules.trigger.${x}`)]), { class: 'rule-trigger', value: r.trigger });
    const threshold = h('input', { class: 'rule-threshold', type: 'number', step: '1', inputmode: 'numeric', value: r.threshold ?? '' });
    const thresholdField = field(t('autoRules.score'), threshold);
    const event = select(EVENTS.map((x) => [x, t(`crmEvent.${x}`)]), { class: 'rule-event', value: r.event || EVENTS[0] });
    const eventField = field(t('autoRules.event'), event);
    const from = stages.map((s) => checkbox(s.name, { class: 'rule-from', value: s.key, checked: r.fromStages.includes(s.key) }));
    const to = select(stages.map((s) => [s.key, s.name]), { class: 'rule-to', value: r.toStage });
    const enabled = checkbox(t('autoRules.enabled'), { class: 'rule-enabled', checked: r.enabled });
    // the trigger says which input it needs: a score (0–100), days (1–365) or an event
    const shape = () => {
      const kind = trigger.value;
      eventField.hidden = kind !== 'event';
      thresholdField.hidden = kind === 'event';
      thresholdField.querySelector('label').textContent = t(kind === 'inactive_days' ? 'autoRules.days' : 'autoRules.score');
      threshold.min = kind === 'inactive_days' ? '1' : '0';
      threshold.max = kind === 'inactive_days' ? '365' : '100';
    };
    trigger.addEventListener('change', shape);
    shape();
    const legendId = uid('rule');
    const row = h('li', { class: 'rule-row', dataset: { id: r.id || '' }, 'aria-labelledby': legendId },
      h('div', { class: 'rule-fields' },
        field(t('autoRules.name'), name), field(t('autoRules.triggerLabel'), trigger), thresholdField, eventField,
        field(t('autoRules.to'), to)),
      h('fieldset', { class: 'rule-from-stages' }, h('legend', { id: legendId }, t('autoRules.from')), from.map((c) => c.el)),
      h('div', { class: 'rule-row-actions' }, enabled.el,
        button('↑', { class: 'btn btn-secondary rule-up', 'aria-label': t('stages.up'), title: t('stages.up'), on: () => { if (row.previousElementSibling) { rows.insertBefore(row, row.previousElementSibling); row.querySelector('.rule-up').focus(); } } }),
        button('↓', { class: 'btn btn-secondary rule-down', 'aria-label': t('stages.down'), title: t('stages.down'), on: () => { if (row.nextElementSibling) { rows.insertBefore(row.nextElementSibling, row); row.querySelector('.rule-down').focus(); } } }),
        button(t('stages.remove'), { class: 'btn btn-danger-quiet rule-remove', write: true, on: () => { row.remove(); add.focus(); } })));
    // what the API is sent for this row
    row.rule = () => {
      const kind = trigger.value;
      const value = {
        name: name.value.trim(), trigger: kind,
        threshold: kind === 'event' || threshold.value === '' ? null : Number(threshold.value),
        event: kind === 'event' ? event.value : null,
        fromStages: from.filter((c) => c.input.checked).map((c) => c.input.value),
        toStage: to.value, enabled: enabled.input.checked,
      };
      return r.id ? { id: r.id, ...value } : value;
    };
    rows.append(row);
    return name;
  };
  for (const r of rules) addRow(r);
  const add = button(t('autoRules.add'), { id: 'rules-add', write: true, on: () => addRow(null).focus() });
  const save = button(t('autoRules.save'), { kind: 'primary', type: 'submit', id: 'rules-save', write: true });
  const form = h('form', { id: 'rules-form', novalidate: true },
    h('h3', {}, t('autoRules.editTitle')), rows, h('div', { class: 'form-actions' }, add, save), error, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    error.dataset.code = '';
    say(status, '');
    save.disabled = true;
    const answer = await api('PUT', '/v1/pipeline/rules', { body: { rules: [...rows.querySelectorAll('.rule-row')].map((row) => row.rule()) } });
    save.disabled = false;
    if (!answer.ok) {
      const code = (answer.error && answer.error.code) || '';
      error.textContent = ERRORS[code] ? t(ERRORS[code]) : errorText(t, answer);
      error.dataset.code = code;
      return;
    }
    await renderRules(ctx, box, stages);
    const words = t('autoRules.saved', { count: answer.data.rules.length });
    say(box.querySelector('#rules-status'), words, 'ok');
    ctx.announce(words);
  });
  return form;
}
