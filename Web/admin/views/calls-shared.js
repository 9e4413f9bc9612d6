// What the voice-call pages share (calls.js, call.js): agent-core's words for a call (statuses, sentiments), a
// duration or a transcript offset as m:ss, what a call cost, its status as a badge, and the words for the calls'
// refusals.
import { money } from '../lib/format.js';
import { badge, errorText } from '../lib/ui.js';
import en from '../strings/en.js';

export const STATUSES = ['completed', 'in-progress', 'no-answer', 'busy', 'failed'];
export const SENTIMENTS = ['positive', 'neutral', 'negative'];

/** 95 000 ms → "1:35", an hour or more → "1:02:03". */
export function clock(ms) {
  const total = Math.max(0, Math.floor(Number(ms || 0) / 1000));
  const [hours, minutes, seconds] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const pad = (n) => String(n).padStart(2, '0');
  return hours ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
}

export const durationText = (seconds) => (seconds == null ? '' : clock(seconds * 1000));

/** What the provider charged (millionths of the currency), "0.1234 USD"; '' when it said nothing. */
export function costText(call) {
  if (call.costMicros == null) return '';
  const text = (call.costMicros / 1e6).toFixed(6).replace(/0{1,4}$/, '');
  return money(text, call.costCurrency || 'USD');
}

export const callStatusBadge = (t, status) => badge(t(`callStatus.${status}`), `call-${status}`);

export const sentimentText = (t, sentiment) => (sentiment ? t(`sentiment.${sentiment}`) : '');

/** Words for a refusal of the calls' API (its own sentence for agent-core's codes), else the console's usual ones. */
export function callError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `callError.${code}` in en) return t(`callError.${code}`);
  return errorText(t, result);
}
