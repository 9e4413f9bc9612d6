// A sequence, new (#/sequences/new) or saved (#/sequences/:id): its name, channel and trigger (by hand, a lead
// entering a stage, a lead's score reaching a threshold, or days without contact — with the trigger's one
// parameter), and its steps (sequence-steps.js). "Create the sequence" sends it (POST /v1/sequences) and opens its
// page; there the channel and the trigger are what they are, and "Save" sends the name and the steps
// (PATCH /v1/sequences/{id}). "Pause" and "Activate" change its status. A refusal is said as the API gave it (it
// names the step and the field), the step it names marked. Below: who is in it (sequence-enrollments.js).
import { h, clear } from '../lib/dom.js';
import { number, dateTime } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, select, details, newKey } from '../lib/ui.js';
import { loadChannels, channelLabel, usesPhoneNumbers } from './messaging-shared.js';
import { stagesOf, stageName } from './leads-shared.js';
import { agentsOf } from './calendar-shared.js';
import { personSpan } from './people-cache.js';
import { stepsEditor } from './sequence-steps.js';
import { enrollmentsPart } from './sequence-enrollments.js';
import { TRIGGERS, idOf, sequenceBadge, sequenceError, triggerText } from './sequences-shared.js';

export async function render(ctx) {
  const { t, api, root, params, query, can } = ctx;
  const isNew = !params.id;
  const canWrite = isNew ? can('POST /v1/sequences') : can('PATCH /v1/sequences/{id}');
  const back = h('p', { class: 'breadcrumb' }, h('a', { href: '#/sequences', id: 'sequence-back' }, t('sequence.back')));

  const [all, loadedStages, calendars, one] = await Promise.all([
    loadChannels(ctx, { fresh: isNew }),
    can('GET /v1/pipeline/stages') ? stagesOf(api) : Promise.resolve({ stages: [] }),
    agentsOf(ctx),
    isNew ? Promise.resolve(null) : api('GET', `/v1/sequences/${encodeURIComponent(params.id)}`),
  ]);
  if (!ctx.isCurrent()) return;
  if (one && !one.ok) {
    root.append(back, pageHeader(t('sequence.title')), h('p', { class: 'form-error', role: 'alert', id: 'sequence-load-error' }, sequenceError(t, one)));
    return;
  }
  let sequence = one ? one.data : null;
  const stages = loadedStages.stages || [];
  // sequences message leads on their phone numbers: WhatsApp, SMS and the sandbox
  const channels = all.filter((c) => usesPhoneNumbers(c.kind) || (sequence && c.id === sequence.channelId));

  // ---------------------------------------------------------------- the head: title, status, counts

  const header = pageHeader(sequence ? sequence.name : t('sequence.newTitle'));
  const actions = h('div', { class: 'page-actions', id: 'sequence-actions' });
  header.append(actions);
  const summary = h('div', { class: 'sequence-summary', id: 'sequence-summary' });
  const line = statusLine();
  line.id = 'sequence-line';

  // ---------------------------------------------------------------- the form

  const name = h('input', { id: 'sequence-name', required: true, maxlength: '200', autocomplete: 'off', value: sequence ? sequence.name : '', disabled: !canWrite });
  const channel = select([['', t('sequence.pickChannel')], ...channels.map((c) => [c.id, channelLabel(t, c)])],
    { id: 'sequence-channel', value: sequence ? sequence.channelId : '', disabled: !isNew || !canWrite });
  if (sequence && !channels.some((c) => c.id === sequence.channelId)) {
    channel.append(h('option', { value: sequence.channelId, selected: true }, String(sequence.channelId).slice(0, 8)));
  }
  const fixed = !isNew || !canWrite;
  const trigger = select(TRIGGERS.map((x) => [x, t(`sequenceTrigger.${x}`)]), { id: 'sequence-trigger', value: sequence ? sequence.trigger : 'manual', disabled: fixed });
  const triggerStage = stages.length
    ? select([['', t('sequence.pickStage')], ...stages.map((x) => [x.key, x.name])], { id: 'sequence-trigger-stage', value: (sequence && sequence.triggerStage) || '', disabled: fixed })
    : h('input', { id: 'sequence-trigger-stage', maxlength: '40', autocomplete: 'off', value: (sequence && sequence.triggerStage) || '', disabled: fixed });
  if (stages.length && sequence && sequence.triggerStage && !stages.some((x) => x.key === sequence.triggerStage)) {
    triggerStage.append(h('option', { value: sequence.triggerStage, selected: true }, sequence.triggerStage));
  }
  const triggerScore = h('input', {
    id: 'sequence-trigger-score', type: 'number', min: '0', max: '100', step: '1', inputmode: 'numeric',
    value: sequence && sequence.triggerScore != null ? String(sequence.triggerScore) : '', disabled: fixed,
  });
  const triggerDays = h('input', {
    id: 'sequence-trigger-days', type: 'number', min: '1', max: '3650', step: '1', inputmode: 'numeric',
    value: sequence && sequence.triggerInactiveDays != null ? String(sequence.triggerInactiveDays) : '', disabled: fixed,
  });
  const stageField = field(t('sequence.triggerStage'), triggerStage, { hint: t('sequence.triggerStageHint') });
  const scoreField = field(t('sequence.triggerScore'), triggerScore, { hint: t('sequence.triggerScoreHint') });
  const daysField = field(t('sequence.triggerDays'), triggerDays, { hint: t('sequence.triggerDaysHint') });
  const triggerField = field(t('sequence.trigger'), trigger, { hint: t('sequenceTrigger.hint.manual') });
  const triggerHint = triggerField.querySelector('.hint');
  const shapeTrigger = () => {
    stageField.hidden = trigger.value !== 'stage_change';
    scoreField.hidden = trigger.value !== 'lead_score';
    daysField.hidden = trigger.value !== 'inactivity';
    triggerHint.textContent = t(`sequenceTrigger.hint.${trigger.value}`);
  };
  trigger.addEventListener('change', shapeTrigger);
  shapeTrigger();

  const steps = stepsEditor(ctx, { steps: sequence ? sequence.steps : [null], stages, calendars, editable: canWrite });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'sequence-error' });
  const save = canWrite
    ? button(isNew ? t('sequence.create') : t('sequence.save'), { kind: 'primary', type: 'submit', write: true, id: 'sequence-save' }) : null;
  const settings = section(t('sequence.settings'),
    field(t('field.name'), name),
    field(t('sequence.channel'), channel, { hint: isNew ? t('sequence.channelHint') : t('sequence.fixedHint') }),
    triggerField, stageField, scoreField, daysField);
  settings.id = 'sequence-settings';
  const stepsSection = section(t('sequence.steps'),
    h('p', { class: 'hint' }, t(isNew ? 'sequence.stepsIntro' : 'sequence.stepsIntroSaved')), steps.el);
  stepsSection.id = 'sequence-steps-section';
  const form = h('form', { id: 'sequence-form', novalidate: true }, settings, stepsSection,
    h('div', { class: 'form-actions sequence-save-bar' }, save), error);

  root.append(back, header, summary, line, form);
  if (query.get('created') && sequence) say(line, t('sequence.created', { name: sequence.name }), 'ok');

  // ---------------------------------------------------------------- the templates of the channel

  let templatesRun = 0;
  async function loadTemplates() {
    const mine = ++templatesRun;
    if (!channel.value || !can('GET /v1/templates')) { steps.setTemplates([]); return; }
    const answer = await api('GET', `/v1/templates?${new URLSearchParams({ channelId: channel.value, status: 'approved', limit: '200' })}`);
    if (mine !== templatesRun || !ctx.isCurrent()) return;
    const list = answer.ok ? answer.data.items.slice() : [];
    // a saved step's template that is no longer approved is still the one it sends: named all the same
    const wanted = new Set(((sequence && sequence.steps) || []).map((s) => s.templateId).filter(Boolean));
    for (const templateId of wanted) {
      if (list.some((x) => x.id === templateId) || !can('GET /v1/templates/{id}')) continue;
      const found = await api('GET', `/v1/templates/${encodeURIComponent(templateId)}`);
      if (found.ok) list.push(found.data);
    }
    if (mine !== templatesRun || !ctx.isCurrent()) return;
    steps.setTemplates(list);
    form.dataset.templates = String(list.length);
  }
  channel.addEventListener('change', loadTemplates);

  // ---------------------------------------------------------------- the head's facts and the status button

  function drawHead() {
    if (!sequence) return;
    header.querySelector('h1').textContent = sequence.name;
    header.querySelector('h1').dataset.id = idOf(sequence);
    clear(summary).append(details([
      [t('field.status'), h('span', { id: 'sequence-status', dataset: { status: sequence.status } }, sequenceBadge(t, sequence.status))],
      [t('sequence.trigger'), h('span', { id: 'sequence-trigger-text', dataset: { trigger: sequence.trigger } },
        triggerText(t, sequence, (key) => stageName(stages, key)))],
      [t('sequences.enrolled'), h('span', { id: 'sequence-counts', dataset: { enrolled: String(sequence.enrolled), active: String(sequence.active) } },
        t('sequence.counts', { enrolled: number(sequence.enrolled), active: number(sequence.active) }))],
      [t('field.created'), h('span', {}, dateTime(sequence.createdAt), ' · ', personSpan(ctx, h, sequence.createdBy))],
    ]));
    clear(actions);
    if (canWrite) {
      const pausing = sequence.status === 'active';
      actions.append(button(pausing ? t('sequence.pause') : t('sequence.activate'), {
        kind: pausing ? 'secondary' : 'primary', write: true, id: 'sequence-toggle', dataset: { write: '', to: pausing ? 'paused' : 'active' },
        on: () => setStatus(pausing ? 'paused' : 'active'),
      }));
    }
  }

  async function setStatus(status) {
    const toggle = actions.querySelector('#sequence-toggle');
    if (toggle) toggle.disabled = true;
    const answer = await api('PATCH', `/v1/sequences/${encodeURIComponent(idOf(sequence))}`, { body: { status } });
    if (!ctx.isCurrent()) return;
    if (toggle) toggle.disabled = false;
    if (!answer.ok) { say(line, sequenceError(t, answer), 'error'); line.dataset.code = (answer.error && answer.error.code) || ''; return; }
    sequence = answer.data;
    drawHead();
    const words = t(status === 'paused' ? 'sequence.pausedNow' : 'sequence.activeNow', { name: sequence.name });
    say(line, words, 'ok');
    line.dataset.code = '';
    ctx.announce(words);
  }

  /** Reads the sequence again (its counts move as leads enter and finish). */
  async function reread() {
    const again = await api('GET', `/v1/sequences/${encodeURIComponent(idOf(sequence))}`);
    if (!ctx.isCurrent() || !again.ok) return;
    sequence = again.data;
    drawHead();
  }

  // ---------------------------------------------------------------- saving

  /** The body to send, or {problem, focus}. */
  function body() {
    if (!name.value.trim()) return { problem: t('sequence.needName'), focus: name };
    const read = steps.read();
    if (read.problem) return read;
    if (!isNew) return { value: { name: name.value.trim(), steps: read.steps } };
    if (!channel.value) return { problem: t('sequence.needChannel'), focus: channel };
    const value = { name: name.value.trim(), channelId: channel.value, trigger: trigger.value, steps: read.steps };
    const whole = (input) => (/^\d+$/.test(input.value.trim()) ? Number(input.value.trim()) : null);
    if (trigger.value === 'stage_change') {
      if (!triggerStage.value.trim()) return { problem: t('sequence.needTriggerStage'), focus: triggerStage };
      value.triggerStage = triggerStage.value.trim();
    } else if (trigger.value === 'lead_score') {
      if (whole(triggerScore) === null) return { problem: t('sequence.needTriggerScore'), focus: triggerScore };
      value.triggerScore = whole(triggerScore);
    } else if (trigger.value === 'inactivity') {
      if (whole(triggerDays) === null) return { problem: t('sequence.needTriggerDays'), focus: triggerDays };
      value.triggerInactiveDays = whole(triggerDays);
    }
    return { value };
  }

  // one key per attempt: a retry after a lost answer creates once; after a refusal (nothing made) a new one
  let createKey = newKey();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!save) return;
    error.textContent = '';
    error.dataset.code = '';
    say(line, '');
    const { value, problem, focus } = body();
    if (problem) { error.textContent = problem; focus.focus(); return; }
    save.disabled = true;
    const answer = isNew
      ? await api('POST', '/v1/sequences', { body: value, idempotencyKey: createKey })
      : await api('PATCH', `/v1/sequences/${encodeURIComponent(idOf(sequence))}`, { body: value });
    if (!ctx.isCurrent()) return;
    save.disabled = false;
    if (!answer.ok) {
      if (answer.status !== 0) createKey = newKey();
      error.textContent = sequenceError(t, answer);
      error.dataset.code = (answer.error && answer.error.code) || '';
      const named = /steps\[(\d+)\]/.exec((answer.error && answer.error.message) || '');
      if (named) steps.markBad(Number(named[1]));
      return;
    }
    if (isNew) {
      ctx.announce(t('sequence.created', { name: answer.data.name }));
      ctx.navigate(`#/sequences/${encodeURIComponent(idOf(answer.data))}?created=1`);
      return;
    }
    sequence = answer.data;
    drawHead();
    const words = t('sequence.saved', { name: sequence.name });
    say(line, words, 'ok');
    ctx.announce(words);
  });

  drawHead();
  await loadTemplates();
  if (!ctx.isCurrent()) return;
  if (isNew && channels.length === 1) {
    channel.value = channels[0].id;
    await loadTemplates();
  }
  if (!ctx.isCurrent() || !sequence) return;

  // ---------------------------------------------------------------- who is in it

  await enrollmentsPart(ctx, { root, sequence: () => sequence, stages, changed: reread });
}
