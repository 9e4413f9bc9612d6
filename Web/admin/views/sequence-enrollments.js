// Who is in a sequence (on its page, sequence-edit.js). Those who may see customers' numbers (the tenant's admin,
// support; not data_ops, not read-only staff) get the enrolled leads, oldest first, a page at a time: phone, name
// (a link to the lead's page), status and why they left, the next step and when, who enrolled them, and each one's
// log (expandable: step, action, outcome, detail, time), read again while one of them is still active (every 2 s
// when a step is due).
// Those who may enrol get "Enrol a lead": a lead found by name, phone or email (GET /v1/leads?q=), or by its id,
// entered by hand (POST …/enrollments); a refusal (opted out, paused…) is said with its reason.
import { h, clear } from '../lib/dom.js';
import { number, dateTime, dateTimeShort } from '../lib/format.js';
import { section, field, button, statusLine, say, table, select, badge } from '../lib/ui.js';
import { isUUID } from '../lib/campaign.js';
import { maskedPhone, stageName } from './leads-shared.js';
import { personSpan } from './people-cache.js';
import { enrollmentBadge, sequenceError } from './sequences-shared.js';

export const POLL_MS = 2000;
const SLOW_MS = 30000;
const PAGE = 50;
const OUTCOMES = ['started', 'done', 'failed'];
const LOG_ACTIONS = ['enrolled', 'send_message', 'update_stage', 'schedule_meeting', 'make_call', 'completed', 'exited'];

/** "By hand (Aline)", "Stage change": who or what enrolled the lead. */
function enrolledByText(ctx, by) {
  const { t } = ctx;
  const text = String(by || '');
  if (text.startsWith('manual:')) return personSpan(ctx, h, text.slice(7), (who) => t('enrollment.byHand', { who }));
  return h('span', {}, t(`enrollment.by.${text}`) === `enrollment.by.${text}` ? text : t(`enrollment.by.${text}`));
}

/**
 * The enrolled leads and the enrol control into `root`. `sequence()` answers the sequence now (its steps name the
 * next step); `stages` for the leads' stage names; `changed()` runs after an enrolment or a change of the list (the
 * page reads the sequence's counts again).
 */
export async function enrollmentsPart(ctx, { root, sequence, stages = [], changed = () => {} }) {
  const { t, api, can } = ctx;
  const id = encodeURIComponent(sequence().id);
  const canList = can('GET /v1/sequences/{id}/enrollments');
  const canEnrol = can('POST /v1/sequences/{id}/enrollments');
  if (!canList && !canEnrol) return;

  // ---------------------------------------------------------------- enrol a lead

  let enrolForm = null;
  if (canEnrol) {
    const canSearch = can('GET /v1/leads');
    const q = h('input', { id: 'enrol-q', type: 'search', maxlength: '100', autocomplete: 'off' });
    const find = button(t('enrollment.find'), { id: 'enrol-find', type: 'submit' });
    const lead = select([], { id: 'enrol-lead' });
    const leadField = field(t('enrollment.lead'), lead);
    leadField.hidden = true;
    const go = button(t('enrollment.enrol'), { kind: 'primary', id: 'enrol-submit', write: true, disabled: true });
    const line = statusLine();
    line.id = 'enrol-line';
    enrolForm = h('form', { class: 'filters enrol-form', id: 'enrol-form', novalidate: true },
      field(canSearch ? t('enrollment.search') : t('enrollment.leadId'), q, { hint: canSearch ? t('enrollment.searchHint') : t('enrollment.leadIdHint') }),
      h('div', { class: 'filters-actions' }, find),
      leadField,
      h('div', { class: 'filters-actions' }, go));
    let found = [];

    const label = (l) => [l.name || t('enrollment.noName'), maskedPhone(l.phone), l.stage ? stageName(stages, l.stage) : ''].filter(Boolean).join(' · ');

    enrolForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = q.value.trim();
      say(line, '');
      line.dataset.code = '';
      found = [];
      clear(lead);
      leadField.hidden = true;
      go.disabled = true;
      if (!text) { say(line, t('enrollment.needSearch'), 'error'); q.focus(); return; }
      find.disabled = true;
      say(line, t('app.loading'));
      let answer;
      if (isUUID(text)) {
        // a lead's id: that lead (its name when it may be read)
        answer = can('GET /v1/leads/{id}') ? await api('GET', `/v1/leads/${encodeURIComponent(text)}`) : null;
        found = answer && answer.ok ? [answer.data] : [{ id: text.toLowerCase(), phone: '', name: text.toLowerCase() }];
        answer = null;
      } else if (canSearch) {
        // (encodeURIComponent, not URLSearchParams: the API reads a + in the query as a +, not as a space)
        answer = await api('GET', `/v1/leads?q=${encodeURIComponent(text)}&limit=20`);
        if (answer.ok) found = answer.data.items;
      }
      find.disabled = false;
      if (!ctx.isCurrent()) return;
      if (answer && !answer.ok) { say(line, sequenceError(t, answer), 'error'); return; }
      if (!found.length) { say(line, t('enrollment.noneFound'), 'error'); return; }
      lead.append(...found.map((l) => h('option', { value: l.id }, label(l))));
      leadField.hidden = false;
      go.disabled = false;
      say(line, t('enrollment.found', { count: number(found.length) }));
      lead.focus();
    });

    go.addEventListener('click', async () => {
      const chosen = found.find((l) => l.id === lead.value);
      if (!chosen) return;
      go.disabled = true;
      say(line, t('enrollment.enrolling'));
      line.dataset.code = '';
      const answer = await api('POST', `/v1/sequences/${id}/enrollments`, { body: { leadId: chosen.id } });
      go.disabled = false;
      if (!ctx.isCurrent()) return;
      if (!answer.ok) {
        say(line, sequenceError(t, answer), 'error');
        line.dataset.code = (answer.error && answer.error.code) || '';
        return;
      }
      const fresh = answer.data && answer.data.enrolled === 'new';
      const words = t(fresh ? 'enrollment.enrolledNew' : 'enrollment.enrolledAlready', { name: chosen.name || maskedPhone(chosen.phone) });
      say(line, words, 'ok');
      line.dataset.code = fresh ? 'new' : 'already';
      ctx.announce(words);
      changed();
      if (canList) await load(true);
    });
    enrolForm.append(line);
  }

  // ---------------------------------------------------------------- the enrolled leads

  const list = h('div', { id: 'enrollments-list', class: 'market-list' });
  const listLine = statusLine();
  listLine.id = 'enrollments-line';
  const more = button(t('action.loadMore'), { id: 'enrollments-more', hidden: true });
  const part = section(t('enrollment.title'),
    canList ? h('p', { class: 'hint' }, t('enrollment.intro')) : null,
    enrolForm ? h('div', { class: 'enrol-box' }, h('h3', {}, t('enrollment.enrolTitle')), enrolForm) : null,
    canList ? [listLine, list, more] : null);
  part.id = 'sequence-enrollments';
  root.append(part);
  if (!canList) return;

  let items = [];
  let cursor = null;
  let loaded = false;
  const open = new Set();

  const actionWords = (a) => (LOG_ACTIONS.includes(a) ? t(`enrollmentLog.${a}`) : a);

  function logList(e) {
    return h('ol', { class: 'enrollment-log-list' }, (e.logs || []).map((entry) => h('li', {
      class: 'enrollment-log-entry',
      dataset: { action: entry.action, outcome: entry.outcome, step: entry.step != null ? String(entry.step) : '' },
    },
    h('span', { class: 'enrollment-log-step' }, entry.step != null ? t('sequence.stepN', { n: number(entry.step + 1) }) : '—'), ' · ',
    h('strong', { class: 'enrollment-log-action' }, actionWords(entry.action)), ' ',
    badge(OUTCOMES.includes(entry.outcome) ? t(`enrollmentOutcome.${entry.outcome}`) : entry.outcome, `outcome-${entry.outcome}`),
    // (who enrolled the lead is in its own column)
    entry.detail && entry.action !== 'enrolled' ? [' ', h('span', { class: 'enrollment-log-detail' }, entry.detail)] : null,
    ' ', h('time', { class: 'enrollment-log-at hint', datetime: entry.at, title: dateTime(entry.at) }, dateTimeShort(entry.at)))));
  }

  function nextText(e) {
    if (e.status !== 'active') return '—';
    const step = (sequence().steps || [])[e.step];
    return h('span', { class: 'enrollment-next', dataset: { step: String(e.step) } },
      t('sequence.stepN', { n: number(e.step + 1) }), step ? ` · ${t(`sequenceAction.${step.action}`)}` : '',
      e.nextAt ? h('span', { class: 'hint enrollment-next-at' }, ' ', t('enrollment.at', { when: dateTimeShort(e.nextAt) })) : null);
  }

  function draw() {
    clear(list).append(table({
      caption: t('enrollment.title'), captionHidden: true, rows: items, empty: t('enrollment.none'),
      columns: [
        { label: t('leads.phone'), cell: (e) => h('span', { class: 'enrollment-phone mono' }, e.phone) },
        {
          label: t('field.name'),
          cell: (e) => h('a', { href: `#/leads/${encodeURIComponent(e.leadId)}`, class: 'enrollment-lead' }, e.leadName || t('enrollment.openLead')),
        },
        {
          label: t('field.status'),
          cell: (e) => h('div', {}, enrollmentBadge(t, e.status),
            e.exitReason ? h('p', { class: 'hint enrollment-exit', dataset: { reason: e.exitReason } },
              t(`enrollmentExit.${e.exitReason}`) === `enrollmentExit.${e.exitReason}` ? e.exitReason : t(`enrollmentExit.${e.exitReason}`)) : null),
        },
        { label: t('enrollment.next'), cell: nextText },
        {
          label: t('enrollment.enrolled'),
          cell: (e) => h('div', { class: 'enrollment-by' }, h('span', { class: 'enrollment-at' }, dateTimeShort(e.createdAt)),
            h('p', { class: 'hint' }, enrolledByText(ctx, e.enrolledBy))),
        },
        {
          label: t('enrollment.log'),
          cell: (e) => {
            const box = h('details', { class: 'enrollment-log', open: open.has(e.id) },
              h('summary', {}, t('enrollment.logCount', { count: number((e.logs || []).length) })), logList(e));
            box.addEventListener('toggle', () => { if (box.open) open.add(e.id); else open.delete(e.id); });
            return box;
          },
        },
      ],
    }));
    for (const tr of list.querySelectorAll('tbody tr')) {
      const e = items[tr.rowIndex - 1];
      if (e) Object.assign(tr.dataset, { lead: e.leadId, status: e.status });
    }
  }

  /** Reads the list again: the first page (reset) or the next one; while following, as many as are shown. */
  async function load(reset) {
    const want = reset ? Math.max(items.length, 1) : 0;
    let got = reset ? [] : items;
    let next = reset ? null : cursor;
    list.dataset.ready = 'false';
    do {
      const params = new URLSearchParams({ limit: String(PAGE) });
      if (next) params.set('cursor', next);
      const answer = await api('GET', `/v1/sequences/${id}/enrollments?${params}`);
      if (!ctx.isCurrent()) return;
      if (!answer.ok) { say(listLine, sequenceError(t, answer), 'error'); list.dataset.ready = 'true'; return; }
      got = got.concat(answer.data.items);
      next = answer.data.nextCursor || null;
    } while (reset && next && got.length < want);
    const before = signature(items);
    items = got;
    cursor = next;
    more.hidden = !cursor;
    draw();
    list.dataset.ready = 'true';
    list.dataset.active = String(items.filter((e) => e.status === 'active').length);
    say(listLine, items.length ? t('enrollment.shown', { count: number(items.length) }) : '');
    if (loaded && before !== signature(items)) changed();
    loaded = true;
    follow();
  }

  const signature = (all) => all.map((e) => `${e.id}:${e.status}:${(e.logs || []).length}`).join(',');

  let timer = null;
  /**
   * Reads the list again while a lead in it is active: every POLL_MS when a step is due soon, else at most every
   * SLOW_MS (a lead may still reply and leave); stops with the page.
   */
  function follow() {
    if (timer) return;
    const active = items.filter((e) => e.status === 'active');
    if (!active.length) { list.dataset.live = 'false'; return; }
    list.dataset.live = 'true';
    const soonest = Math.min(...active.map((e) => (e.nextAt ? new Date(e.nextAt).getTime() : Date.now())));
    const delay = Math.min(SLOW_MS, Math.max(POLL_MS, soonest - Date.now()));
    timer = setTimeout(async () => {
      timer = null;
      if (!ctx.isCurrent() || !root.isConnected) return;
      await load(true);
    }, delay);
  }

  more.addEventListener('click', () => load(false));
  await load(true);
}
