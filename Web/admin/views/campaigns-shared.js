// What the campaign pages share (campaigns.js, campaign-new.js, campaign-view.js, templates.js): messaging's words
// for campaigns, targets and templates (statuses as badges), a campaign's counts read as a funnel, the words for
// their refusals, a CSV file sent as it is (text/csv: the session's API helper sends JSON only) and a CSV the API
// writes handed to the person as a download.
import { h } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { badge, errorText } from '../lib/ui.js';
import en from '../strings/en.js';

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'paused', 'done', 'cancelled'];
export const CAMPAIGN_TYPES = ['promo', 'voucher'];
export const TARGET_STATUSES = ['queued', 'queued_throttled', 'sent', 'delivered', 'read', 'failed', 'opted_out', 'expired', 'cancelled'];
export const TEMPLATE_STATUSES = ['pending', 'approved', 'rejected', 'paused', 'disabled'];
export const TEMPLATE_CATEGORIES = ['marketing', 'utility', 'authentication'];
export const TEMPLATE_LANGUAGES = ['en', 'en_US', 'en_GB', 'fr', 'sw', 'rw'];
export const HEADER_TYPES = ['text', 'image', 'document'];
export const BUTTON_TYPES = ['quick_reply', 'url', 'phone_number'];

/** What each status lets a person do (the API refuses the rest with 409 invalid_transition). */
export const ACTIONS = {
  draft: ['start', 'cancel'],
  scheduled: ['start', 'cancel'],
  running: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  done: [],
  cancelled: [],
};

export const campaignBadge = (t, status) =>
  h('span', { class: 'campaign-status', dataset: { status } }, badge(t(`campaignStatus.${status}`), `campaign-${status}`));

export const targetBadge = (t, status) =>
  h('span', { class: 'target-status', dataset: { status } }, badge(t(`targetStatus.${status}`), `target-${status}`));

export const templateBadge = (t, status) =>
  h('span', { class: 'template-status', dataset: { status } }, badge(t(`templateStatus.${status}`), `template-${status}`));

const count = (counts, key) => Number((counts || {})[key] || 0);

/**
 * The funnel of a campaign's counts (each target counted once, in its current status): waiting to go, then sent
 * (everything that left, delivered and read included), delivered (read included), read; and the ends that are not
 * the funnel's: failed, opted out, expired.
 */
export function funnel(counts) {
  const read = count(counts, 'read');
  const delivered = count(counts, 'delivered') + read;
  const sent = count(counts, 'sent') + delivered;
  return [
    { key: 'queued', value: count(counts, 'queued') + count(counts, 'queued_throttled') },
    { key: 'sent', value: sent },
    { key: 'delivered', value: delivered },
    { key: 'read', value: read },
    { key: 'failed', value: count(counts, 'failed') },
    { key: 'opted_out', value: count(counts, 'opted_out') },
    { key: 'expired', value: count(counts, 'expired') },
  ];
}

/** How many of the campaign's targets have gone out (sent, delivered or read). */
export const reached = (counts) => count(counts, 'sent') + count(counts, 'delivered') + count(counts, 'read');

/** "12 / 40": reached of all targets. */
export const progressText = (counts) => `${number(reached(counts))} / ${number(count(counts, 'total'))}`;

/**
 * Words for a refusal of the campaigns' or templates' API: the console's own sentence for the codes it knows, the
 * API's own words for the rest (they name the variable missing, the transition refused…), else the usual ones.
 */
export function campaignError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `campaignError.${code}` in en) return t(`campaignError.${code}`);
  if (!result || result.status === 0 || result.status === 403 || result.status === 429) return errorText(t, result);
  const message = result.error && result.error.message;
  if (message && !String(code || '').startsWith('http_')) return message;
  return errorText(t, result);
}

/**
 * Sends a CSV file (a File or a string) as `text/csv` with the session's token, as the session's API helper would
 * (which sends JSON only); answers like it: {status, ok, data, error}.
 */
export async function postCSV(ctx, path, file, { idempotencyKey } = {}) {
  const send = () => {
    const headers = { 'Content-Type': 'text/csv' };
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    if (ctx.session.accessToken) headers.Authorization = `Bearer ${ctx.session.accessToken}`;
    if (ctx.isStaff && ctx.tenantId) headers['X-Tenant-ID'] = ctx.tenantId;
    return fetch(path, { method: 'POST', headers, body: file, credentials: 'same-origin' });
  };
  let response;
  try {
    response = await send();
    if (response.status === 401) {
      // the access token expired: any call through the session renews it (or shows the sign-in screen)
      const again = await ctx.api('GET', '/v1/auth/me');
      if (!again.ok) return { status: 401, ok: false, data: null, error: { code: 'unauthorized', message: '' } };
      response = await send();
    }
  } catch {
    return { status: 0, ok: false, data: null, error: { code: 'offline', message: '' } };
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return { status: response.status, ok: true, data, error: null };
  const error = (data && data.error) || { code: `http_${response.status}`, message: '' };
  return { status: response.status, ok: false, data: null, error };
}

/**
 * Reads a CSV the API writes (GET with `Accept: text/csv`) into the hidden link `download` and clicks it. Answers
 * null, or the failed answer.
 */
export async function downloadCSV(ctx, path, download, fileName) {
  const result = await ctx.api('GET', path, { headers: { Accept: 'text/csv' } });
  if (!result.ok) return result;
  const text = typeof result.data === 'string' ? result.data : '';
  if (download.href) URL.revokeObjectURL(download.href);
  const file = new Blob([text], { type: 'text/csv;charset=utf-8' });
  download.href = URL.createObjectURL(file);
  download.dataset.bytes = String(file.size);
  download.dataset.rows = String(Math.max(0, text.split(/\r?\n/).filter(Boolean).length - 1));
  download.download = fileName;
  download.hidden = false;
  download.click();
  return null;
}

/** A template's variables as the API numbers them: {{1}}, {{2}} … up to `n`. */
export const variableNames = (n) => Array.from({ length: Math.max(0, n || 0) }, (_, i) => `{{${i + 1}}}`);

/** The highest {{n}} in a text (0 when none): how many variables a body needs. */
export function variablesIn(text) {
  let most = 0;
  for (const match of String(text || '').matchAll(/\{\{\s*(\d+)\s*\}\}/g)) most = Math.max(most, Number(match[1]));
  return most;
}

/** "Summer promo (Sandbox, en)" for a picker. */
export const templateLabel = (template) => `${template.name} (${template.language})`;
