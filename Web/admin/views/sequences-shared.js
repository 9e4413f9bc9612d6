// What the sequence pages share (sequences.js, sequence-edit.js, sequence-steps.js, sequence-enrollments.js):
// messaging's words for multi-step sequences (triggers, actions, statuses as badges), a delay in minutes read as
// minutes, hours or days, a trigger with its one parameter in a sentence, and the words for the API's refusals.
import { h } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { badge, errorText } from '../lib/ui.js';
import en from '../strings/en.js';

export const TRIGGERS = ['manual', 'stage_change', 'lead_score', 'inactivity'];
export const ACTIONS = ['send_message', 'update_stage', 'schedule_meeting', 'make_call'];
/** The API's limits (NewSequence): 1 to 20 steps, each delay up to a year. */
export const MAX_STEPS = 20;
/** A delay's units, in minutes, largest first. */
export const UNITS = [['days', 1440], ['hours', 60], ['minutes', 1]];

/** A sequence's id as the console writes it in addresses and data attributes (the API may answer upper case). */
export const idOf = (sequence) => String(sequence.id || '').toLowerCase();

export const sequenceBadge = (t, status) =>
  h('span', { class: 'sequence-status', dataset: { status } }, badge(t(`sequenceStatus.${status}`), `sequence-${status}`));

export const enrollmentBadge = (t, status) =>
  h('span', { class: 'enrollment-status', dataset: { status } }, badge(t(`enrollmentStatus.${status}`), `enrollment-${status}`));

/** A delay in minutes as {amount, unit}: the largest unit it is a whole number of (0 is 0 minutes). */
export function delayParts(minutes) {
  const value = Number(minutes) || 0;
  if (!value) return { amount: 0, unit: 'minutes' };
  const [unit, size] = UNITS.find(([, n]) => value % n === 0);
  return { amount: value / size, unit };
}

/** The trigger with its parameter: "Manual", "When a lead enters Qualified", "When the score reaches 60"… */
export function triggerText(t, sequence, stageName = (key) => key) {
  switch (sequence.trigger) {
    case 'stage_change': return t('sequenceTrigger.text.stage_change', { stage: stageName(sequence.triggerStage || '') });
    case 'lead_score': return t('sequenceTrigger.text.lead_score', { score: number(sequence.triggerScore ?? 0) });
    case 'inactivity': return t('sequenceTrigger.text.inactivity', { days: number(sequence.triggerInactiveDays ?? 0) });
    default: return t('sequenceTrigger.text.manual');
  }
}

/**
 * Words for a refusal of the sequences' API: the console's own sentence for the codes it knows (a paused sequence,
 * a lead who opted out…), the API's own words for the rest (they say which step and which field is wrong).
 */
export function sequenceError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `sequenceError.${code}` in en) return t(`sequenceError.${code}`);
  if (!result || result.status === 0 || result.status === 403 || result.status === 429) return errorText(t, result);
  const message = result.error && result.error.message;
  if (message && !String(code || '').startsWith('http_')) return message;
  return errorText(t, result);
}
