// Calls: the voice calls the provider reported, newest first, filtered by status, sentiment, the days they were
// recorded and a lead (found by its phone, or named by the lead page's link), a page at a time (cursor paging:
// previous / next); a call opens on its own page (call.js). An agent sees only the calls of the leads assigned to them
// (the API says so). Below, for those who manage it, the voice provider's webhook: the URL to paste at Vapi, and a new
// secret made there (shown once; the old URL and secret stop working at once).
import { h, clear } from '../lib/dom.js';
import { number, dateTime } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, table, select, details, dialog, confirmAction, copyText } from '../lib/ui.js';
import { isUUID } from '../lib/campaign.js';
import { copyField } from './channel.js';
import { maskedPhone, phoneOf } from './leads-shared.js';
import { STATUSES, SENTIMENTS, durationText, callStatusBadge, sentimentText, callError } from './calls-shared.js';

const SIZES = [10, 25, 50, 100];
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The start of a local calendar day (YYYY-MM-DD), `plus` days later, as an ISO instant. */
function dayStart(day, plus = 0) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y, m - 1, d + plus).toISOString();
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;

  const status = select([['', t('calls.anyStatus')], ...STATUSES.map((s) => [s, t(`callStatus.${s}`)])],
    { id: 'calls-status-filter', value: STATUSES.includes(query.get('status')) ? query.get('status') : '' });
  const sentiment = select([['', t('calls.anySentiment')], ...SENTIMENTS.map((s) => [s, t(`sentiment.${s}`)])],
    { id: 'calls-sentiment', value: SENTIMENTS.includes(query.get('sentiment')) ? query.get('sentiment') : '' });
  const from = h('input', { id: 'calls-from', type: 'date', value: DAY.test(query.get('from') || '') ? query.get('from') : '' });
  const to = h('input', { id: 'calls-to', type: 'date', value: DAY.test(query.get('to') || '') ? query.get('to') : '' });
  const lead = h('input', { id: 'calls-lead', type: 'search', maxlength: '24', autocomplete: 'off', placeholder: '+254712345678' });
  const size = select(SIZES.map((n) => [String(n), number(n)]), { id: 'calls-size', value: SIZES.includes(Number(query.get('size'))) ? query.get('size') : '25' });
  const form = h('form', { class: 'filters', id: 'calls-filters' },
    field(t('field.status'), status), field(t('calls.sentiment'), sentiment),
    field(t('calls.from'), from), field(t('calls.to'), to, { hint: t('calls.datesHint') }),
    field(t('calls.lead'), lead, { hint: t('calls.leadHint') }),
    field(t('leads.perPage'), size),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'calls-apply' }),
      button(t('action.reset'), {
        id: 'calls-reset',
        on: () => { status.value = ''; sentiment.value = ''; from.value = ''; to.value = ''; lead.value = ''; first(); },
      })));
  const line = statusLine();
  line.id = 'calls-status';
  const list = h('div', { id: 'calls-list', class: 'market-list' });
  const prev = button(t('action.previous'), { id: 'calls-prev', disabled: true });
  const next = button(t('action.next'), { id: 'calls-next', disabled: true });
  const pageLabel = h('span', { class: 'pager-label', id: 'calls-page' });

  root.append(
    pageHeader(t('calls.title')),
    h('p', { class: 'hint' }, t('calls.intro')),
    form, line, list,
    h('nav', { class: 'pager', 'aria-label': t('calls.paging') }, prev, pageLabel, next));

  // the lead the filter names, and its phone as the field shows it
  let leadId = isUUID(query.get('lead') || '') ? query.get('lead') : '';
  let leadPhone = '';
  if (leadId) {
    const named = await api('GET', `/v1/leads/${encodeURIComponent(leadId)}`);
    if (named.ok) { leadPhone = named.data.phone; lead.value = leadPhone; }
  }

  /** The lead of the phone typed in the filter: true when found (or none asked for); says why not otherwise. */
  async function findLead() {
    const phone = phoneOf(lead.value);
    if (!phone) { leadId = ''; leadPhone = ''; return true; }
    if (leadId && phone === leadPhone) return true;
    const answer = await api('GET', `/v1/leads?limit=20&q=${encodeURIComponent(phone)}`);
    if (!ctx.isCurrent()) return false;
    if (!answer.ok) { say(line, callError(t, answer), 'error'); return false; }
    const found = answer.data.items.find((l) => (l.phones && l.phones.length ? l.phones : [l.phone]).includes(phone));
    if (!found) { say(line, t('calls.noLead', { phone }), 'error'); clear(list); return false; }
    leadId = found.id;
    leadPhone = phone;
    return true;
  }

  let cursors = [];
  let current = null;
  let nextCursor = null;

  async function load() {
    ctx.setQuery({
      status: status.value, sentiment: sentiment.value, from: from.value, to: to.value, lead: leadId, size: size.value === '25' ? '' : size.value,
    });
    const params = new URLSearchParams();
    if (status.value) params.set('status', status.value);
    if (sentiment.value) params.set('sentiment', sentiment.value);
    if (from.value) params.set('from', dayStart(from.value));
    if (to.value) params.set('to', dayStart(to.value, 1));
    if (leadId) params.set('leadId', leadId);
    params.set('limit', size.value);
    if (current) params.set('cursor', current);
    say(line, t('app.loading'));
    list.dataset.ready = 'false';
    const answer = await api('GET', `/v1/calls?${params}`);
    if (!ctx.isCurrent()) return;
    if (!answer.ok) { say(line, callError(t, answer), 'error'); clear(list); return; }
    nextCursor = answer.data.nextCursor || null;
    const filtered = Boolean(status.value || sentiment.value || from.value || to.value || leadId);
    draw(answer.data.items, filtered);
    prev.disabled = cursors.length === 0;
    next.disabled = !nextCursor;
    pageLabel.textContent = t('leads.page', { page: number(cursors.length + 1) });
    list.dataset.ready = 'true';
    say(line, answer.data.items.length ? t('calls.count', { count: number(answer.data.items.length) }) : '');
  }

  function draw(items, filtered) {
    clear(list).append(table({
      caption: t('calls.caption'), captionHidden: true, rows: items, empty: filtered || cursors.length ? t('calls.none') : t('calls.noneYet'),
      columns: [
        { label: t('calls.when'), cell: (c) => h('a', { href: `#/calls/${encodeURIComponent(c.id)}`, class: 'calls-when' }, dateTime(c.startedAt || c.createdAt)) },
        { label: t('calls.direction'), cell: (c) => t(`callDirection.${c.direction}`) },
        { label: t('field.status'), cell: (c) => h('span', { class: 'calls-status', dataset: { status: c.status } }, callStatusBadge(t, c.status)) },
        {
          label: t('calls.customer'),
          cell: (c) => (c.leadId
            ? h('a', { href: `#/leads/${encodeURIComponent(c.leadId)}`, class: 'calls-lead mono' }, maskedPhone(c.customerNumber) || t('calls.theLead'))
            : h('span', { class: 'mono' }, maskedPhone(c.customerNumber))),
        },
        { label: t('calls.duration'), className: 'num', cell: (c) => durationText(c.durationSeconds) },
        { label: t('calls.sentiment'), cell: (c) => h('span', { class: 'calls-sentiment', dataset: { sentiment: c.sentiment || '' } }, sentimentText(t, c.sentiment)) },
        { label: t('calls.dispositions'), cell: (c) => h('span', { class: 'calls-dispositions mono' }, c.dispositions.map((d) => d.code).join(', ')) },
        { label: t('calls.summary'), cell: (c) => h('span', { class: 'calls-summary' }, c.summary || '') },
      ],
    }));
  }

  async function first() {
    cursors = [];
    current = null;
    if (from.value && to.value && from.value > to.value) { say(line, t('calls.badRange'), 'error'); return; }
    if (await findLead()) await load();
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); first(); });
  size.addEventListener('change', () => first());
  prev.addEventListener('click', () => { current = cursors.pop() || null; load(); });
  next.addEventListener('click', () => { if (!nextCursor) return; cursors.push(current); current = nextCursor; load(); });
  await load();
  if (can('GET /v1/voice/settings')) await voiceSettings(ctx);
}

// ---------------------------------------------------------------- the voice provider's webhook

async function voiceSettings(ctx) {
  const { t, api, root, can } = ctx;
  const canRotate = can('POST /v1/voice/settings');
  const box = h('div', { id: 'voice-settings' });
  const line = statusLine();
  line.id = 'voice-status';
  root.append(section(t('voice.title'), h('p', { class: 'hint' }, t('voice.intro')), box, line));

  function draw(settings) {
    const parts = settings ? [
      copyField(t, t('voice.webhookUrl'), `${location.origin}${settings.webhookPath}`, { id: 'voice-url', hint: t('voice.urlHint') }),
      details([
        [t('voice.provider'), settings.provider === 'vapi' ? 'Vapi' : settings.provider],
        [t('voice.secret'), h('code', { class: 'masked', id: 'voice-secret-hint' }, settings.secretHint)],
        [t('field.updated'), dateTime(settings.updatedAt)],
      ]),
    ] : [h('p', { class: 'empty', id: 'voice-none' }, t('voice.none'))];
    if (canRotate) {
      parts.push(h('div', { class: 'form-actions' },
        button(settings ? t('voice.rotate') : t('voice.setUp'), { kind: settings ? 'secondary' : 'primary', write: true, id: 'voice-rotate', on: () => rotate(Boolean(settings)) })));
    }
    clear(box).append(...parts);
    box.dataset.ready = 'true';
  }

  async function rotate(replacing) {
    let made = null;
    const make = async () => {
      const answer = await api('POST', '/v1/voice/settings');
      if (!answer.ok) return callError(t, answer);
      made = answer.data;
      return null;
    };
    if (replacing) {
      const done = await confirmAction({ t, title: t('voice.rotateTitle'), message: t('voice.rotateBody'), confirmLabel: t('voice.rotate'), onConfirm: make });
      if (!done) return;
    } else {
      const problem = await make();
      if (problem) { say(line, problem, 'error'); return; }
    }
    const secret = made.secret;
    draw({ ...made, secret: undefined });
    say(line, t('voice.made'), 'ok');
    showOnce(secret);
  }

  /** The secret, once. Nothing keeps it after the dialog closes. */
  function showOnce(secret) {
    const value = h('input', { readOnly: true, value: secret, id: 'voice-secret', class: 'mono', spellcheck: 'false', autocomplete: 'off' });
    const copied = statusLine();
    const copy = button(t('voice.copy'), {
      id: 'voice-secret-copy', kind: 'primary',
      on: async () => say(copied, (await copyText(value.value, value)) ? t('keys.copied') : t('voice.copyFailed')),
    });
    const d = dialog({
      t, title: t('voice.onceTitle'), cancelLabel: t('keys.done'),
      body: h('div', { id: 'voice-once' }, h('p', { class: 'notice' }, t('voice.onceBody')),
        field(t('voice.secret'), value), h('div', { class: 'form-actions' }, copy), copied),
    });
    d.el.querySelector('.dialog-actions .btn').id = 'voice-secret-done';
    value.addEventListener('focus', () => value.select());
    d.done.then(() => { value.value = ''; ctx.announce(t('voice.made')); });
    value.focus();
  }

  const answer = await api('GET', '/v1/voice/settings');
  if (!ctx.isCurrent()) return;
  if (answer.ok) draw(answer.data);
  else if (answer.error && answer.error.code === 'voice_not_set_up') draw(null);
  else say(line, callError(t, answer), 'error');
}
