// What the CRM pages share (pipeline.js, leads.js, lead.js): agent-core's vocabulary for leads (statuses, treatments,
// timeline kinds, the five extraction features), a lead's name in words (its name, else its phone masked as the API
// masks it), the tenant's stages and people for pickers and names, every lead a filter names (pages followed), the
// words for the CRM's refusals, and the dialogs for a new lead and for a move to another stage (with its reason).
import { h } from '../lib/dom.js';
import { money, dateTime } from '../lib/format.js';
import { field, dialog, select, badge, errorText, confirmAction, checkbox } from '../lib/ui.js';
import { loadAll } from '../lib/cached-list.js';
import { CURRENCIES, decimalOf, amountProblem } from './wallet-shared.js';
import en from '../strings/en.js';

export const STATUSES = ['hot', 'warm', 'cold', 'converted', 'lost'];
export const TREATMENTS = ['automated_chat', 'automated_call', 'manual_follow_up', 'hold'];
export const FEATURES = ['intent', 'urgency', 'budget', 'fit', 'engagement'];
export const STAGE_KINDS = ['open', 'won', 'lost'];
/** The score's three parts and their most: the latest extraction, behaviour, recent contact. */
export const COMPONENTS = [['base', 50], ['behavior', 30], ['engagement', 20]];
/** A mark per timeline kind, shown beside its name (the name says it too). */
export const KIND_MARKS = {
  created: '✚', merged: '⇄', updated: '✎', note: '✍', stage_changed: '→', assigned: '☺', score_changed: '↕', extraction: '★',
  message: '✉', call: '☎', appointment: '◷', opt_out: '⊘', opt_in: '✓', purchase: '¤',
};

/** "+2547********78": the phone with its middle hidden (PhoneNumber.masked). */
export function maskedPhone(e164) {
  const text = String(e164 || '');
  if (text.length <= 6) return text;
  return `${text.slice(0, 4)}${'*'.repeat(text.length - 6)}${text.slice(-2)}`;
}

/** The lead's name, else its masked phone. */
export const leadName = (lead) => lead.name || maskedPhone(lead.phone);

/** The lead's status as a coloured badge with its word (hot, warm, cold, converted, lost). */
export function statusBadge(t, status) {
  return h('span', { class: 'lead-status', dataset: { status } }, badge(t(`leadStatus.${status}`), `lead-${status}`));
}

/** "35%" in the reader's language. */
export function percent(share) {
  return new Intl.NumberFormat(document.documentElement.lang || 'en', { style: 'percent', maximumFractionDigits: 0 }).format(share || 0);
}

/** A stage's worth ({KES: minor units}) in words: "1,500.00 KES", several currencies joined. */
export function valueText(value) {
  const parts = Object.entries(value || {}).filter(([, minor]) => Number(minor)).map(([currency, minor]) => money(decimalOf(minor, currency), currency));
  return parts.join(' + ');
}

export const dealText = (deal) => (deal ? money(deal.amount, deal.currency) : '');

/** The tenant's stages, [{key, name, kind}], and the presets it may start from. */
export async function stagesOf(api) {
  const answer = await api('GET', '/v1/pipeline/stages');
  if (!answer.ok) return { stages: [], presets: [], error: answer };
  return { stages: answer.data.stages, presets: answer.data.presets || [], error: null };
}

export const stageName = (stages, key) => (stages.find((s) => s.key === key) || {}).name || key;

/** The tenant's people a lead may be assigned to (active, not station operators); [] for those who cannot list them. */
export async function peopleOf(ctx) {
  const users = await loadAll(ctx, '/v1/users', 'GET /v1/users');
  return users.filter((u) => u.active !== false && !(u.roles || []).includes('station_operator'))
    .sort((a, b) => (a.name || a.email).localeCompare(b.name || b.email));
}

export const personName = (u) => (u.name ? `${u.name} (${u.email})` : u.email);

/** The assignee in words: "You", a person's name, or the id's start when the page cannot read people. */
export function assigneeText(ctx, people, id) {
  if (!id) return ctx.t('leads.unassigned');
  if (ctx.me && String(ctx.me.id).toLowerCase() === String(id).toLowerCase()) return ctx.t('leads.you');
  const found = people.find((u) => String(u.id).toLowerCase() === String(id).toLowerCase());
  return found ? (found.name || found.email) : String(id).slice(0, 8);
}

/** Words for a refusal of the CRM (its own sentence for agent-core's codes), else the console's usual ones. */
export function leadError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `leadError.${code}` in en) return t(`leadError.${code}`);
  return errorText(t, result);
}

/** The API's query for a filter object (empty values left out). */
export function leadQuery(filter) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value) params.set(key, value);
  return params;
}

/** Every lead the filter names, newest first, page by page up to `max`: {items, truncated, error}. */
export async function allLeads(api, params, max = 1000) {
  let items = [];
  let cursor = null;
  do {
    const query = new URLSearchParams(params);
    query.set('limit', '200');
    if (cursor) query.set('cursor', cursor);
    const answer = await api('GET', `/v1/leads?${query}`);
    if (!answer.ok) return { items, truncated: false, error: answer };
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
  } while (cursor && items.length < max);
  return { items: items.slice(0, max), truncated: Boolean(cursor) || items.length > max, error: null };
}

/** "+254 712-345 678" as the API takes it: spaces, dashes, dots and brackets dropped. */
export const phoneOf = (text) => String(text || '').replace(/[\s\-.()]/g, '');

/** The words of a comma-separated list, trimmed, without empties or repeats. */
export const wordsOf = (text) => [...new Set(String(text || '').split(',').map((w) => w.trim()).filter(Boolean))];

/** A datetime-local value ("2026-12-09T10:30") of an ISO instant, in the viewer's zone. */
export function localInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The deal's amount and currency fields; `read()` gives {value} (a Money or null) or {problem} (words). */
export function dealFields(t, deal, currency = 'KES') {
  const amount = h('input', { id: 'lead-deal-amount', inputmode: 'decimal', autocomplete: 'off', maxlength: '16', value: deal ? deal.amount : '' });
  const code = select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'lead-deal-currency', value: deal ? deal.currency : currency });
  const el = h('div', { class: 'inline-fields' }, field(t('leads.dealValue'), amount, { hint: t('leads.dealHint') }), field(t('leads.currency'), code));
  const read = () => {
    const text = amount.value.trim().replace(/,/g, '');
    if (!text) return { value: null };
    if (!/^\d{1,13}(\.\d+)?$/.test(text)) return { problem: t('leadError.invalid_dealValue') };
    const problem = amountProblem(text, code.value);
    // zero is a deal worth nothing yet: allowed here (amountProblem refuses it for payments)
    if (problem && !(problem === 'wallet.badAmount' && /^0+(\.0+)?$/.test(text))) return { problem: t('leadError.invalid_dealValue') };
    const exponent = CURRENCIES[code.value] ?? 0;
    const [whole, fraction = ''] = text.split('.');
    const normal = exponent ? `${BigInt(whole)}.${fraction.padEnd(exponent, '0')}` : String(BigInt(whole));
    return { value: { amount: normal, currency: code.value } };
  };
  return { el, amount, code, read };
}

/**
 * The "New lead" dialog. Resolves to {lead, created} (created false: the phone already had this lead, which the API
 * filled in with what it lacked), or undefined when cancelled.
 */
export function newLeadDialog(ctx, { stages, people, stage = '' }) {
  const { t, api, can } = ctx;
  const phone = h('input', { id: 'lead-phone', type: 'tel', required: true, maxlength: '24', autocomplete: 'off', placeholder: '+254712345678' });
  const name = h('input', { id: 'lead-name', maxlength: '200', autocomplete: 'off' });
  const email = h('input', { id: 'lead-email', type: 'email', maxlength: '254', autocomplete: 'off' });
  const company = h('input', { id: 'lead-company', maxlength: '200', autocomplete: 'off' });
  const stageSelect = select(stages.map((s) => [s.key, s.name]), { id: 'lead-stage', value: stage || (stages[0] ? stages[0].key : '') });
  const showAssignee = people.length && can('PUT /v1/leads/{id}/assign');
  const assignee = showAssignee ? select([['', ctx.t('leads.unassigned')], ...people.map((u) => [u.id, personName(u)])], { id: 'lead-assignee' }) : null;
  const tags = h('input', { id: 'lead-tags', maxlength: '600', autocomplete: 'off' });
  const region = h('input', { id: 'lead-region', maxlength: '100', autocomplete: 'off' });
  const next = h('input', { id: 'lead-next', type: 'datetime-local' });
  const deal = dealFields(t, null);
  const optIn = checkbox(t('leads.optInLabel'), { id: 'lead-optin' });
  const body = h('div', { id: 'lead-form' },
    field(t('leads.phone'), phone, { hint: t('leads.phoneHint') }),
    field(t('field.name'), name), field(t('field.email'), email), field(t('leads.company'), company),
    field(t('leads.stage'), stageSelect),
    assignee ? field(t('leads.assignee'), assignee) : null,
    field(t('leads.tags'), tags, { hint: t('leads.tagsHint') }),
    field(t('leads.region'), region, { hint: t('leads.regionHint') }),
    field(t('leads.nextAction'), next),
    deal.el, optIn.el);
  return dialog({
    t, title: t('leads.newTitle'), submitLabel: t('leads.create'), body,
    onSubmit: async ({ close, fail }) => {
      const number = phoneOf(phone.value);
      if (!/^\+\d{6,15}$/.test(number)) { phone.focus(); return fail(t('leadError.invalid_phone')); }
      const money = deal.read();
      if (money.problem) { deal.amount.focus(); return fail(money.problem); }
      const payload = { phone: number, source: 'manual' };
      if (name.value.trim()) payload.name = name.value.trim();
      if (email.value.trim()) payload.email = email.value.trim();
      if (company.value.trim()) payload.company = company.value.trim();
      if (stageSelect.value) payload.stage = stageSelect.value;
      if (assignee && assignee.value) payload.assigneeId = assignee.value;
      const tagList = wordsOf(tags.value);
      if (tagList.length) payload.tags = tagList;
      if (region.value.trim()) payload.region = region.value.trim();
      if (next.value) payload.nextActionAt = new Date(next.value).toISOString();
      if (money.value) payload.dealValue = money.value;
      if (optIn.input.checked) payload.optIn = true;
      const answer = await api('POST', '/v1/leads', { body: payload });
      if (!answer.ok) return fail(leadError(t, answer));
      close({ lead: answer.data, created: answer.status === 201 });
    },
  }).done;
}

/**
 * Asks why, then moves the lead to `to` (PUT /v1/leads/{id}/stage). A refusal stays in the dialog, in words.
 * Resolves to the moved lead, or null when cancelled.
 */
export async function moveLead(ctx, lead, to, stages) {
  const { t, api } = ctx;
  let moved = null;
  const done = await confirmAction({
    t, destructive: false, reason: true,
    title: t('leads.moveTitle', { name: leadName(lead) }),
    message: t('leads.moveBody', { from: stageName(stages, lead.stage), to: stageName(stages, to) }),
    confirmLabel: t('leads.move'),
    onConfirm: async (reason) => {
      const answer = await api('PUT', `/v1/leads/${encodeURIComponent(lead.id)}/stage`, { body: { stage: to, reason } });
      if (!answer.ok) return leadError(t, answer);
      moved = answer.data;
      return null;
    },
  });
  return done ? moved : null;
}

/** "Score 45" with the status badge beside it. */
export function scoreBadge(t, lead) {
  return h('span', { class: 'lead-score', dataset: { score: String(lead.score), status: lead.status } },
    h('span', { class: 'lead-score-value' }, t('leads.scoreValue', { score: lead.score })), ' ', statusBadge(t, lead.status));
}

export const whenText = (iso) => (iso ? dateTime(iso) : '');
