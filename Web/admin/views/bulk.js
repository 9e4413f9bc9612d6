// Bulk issue from a CSV file (msisdn, amount, optional stationScope and expiresAt; header row). Every row is
// checked here and then by the API (POST /v1/vouchers/bulk/validate, which issues nothing) before the
// "Issue N vouchers" button is enabled; POST /v1/vouchers/bulk refuses the whole file if any row is wrong anyway.
//
// recipientKey = the phone number (E.164): one voucher per customer per campaign. A phone number twice in one
// file is an error, and issuing the same file again under the same campaign name issues nothing twice.
import { h, clear } from '../lib/dom.js';
import { parseCSV, mapHeader } from '../lib/csv.js';
import { campaignId, defaultCampaignName, isUUID } from '../lib/campaign.js';
import { isoDay, endOfDay, money, number } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, table, newKey, linkButton } from '../lib/ui.js';
import { E164, normalisePhone } from './issue.js';
import { loadStations } from './stations-cache.js';

const MAX_ROWS = 10000;
const AMOUNT = /^[0-9]+(\.[0-9]+)?$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const SAMPLE = 'msisdn,amount,stationScope,expiresAt\r\n+250788000001,5000,,\r\n+250788000002,10000,,2030-12-31\r\n';
const SHOWN_ROWS = 200;
// recipients per request: 2,000 of them stay well under the gateway's 1 MB body limit
const CHUNK = 2000;
const chunks = (items) => Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));

/** The row's expiry as an ISO instant, or an error key. A bare day means "valid through that day". */
function expiry(text) {
  if (!text) return { value: undefined };
  let date;
  if (DAY.test(text)) date = new Date(endOfDay(text));
  else if (/^\d{4}-\d{2}-\d{2}T/.test(text)) date = new Date(text);
  else return { error: 'bulk.badExpiry' };
  if (Number.isNaN(date.getTime())) return { error: 'bulk.badExpiry' };
  if (date.getTime() <= Date.now()) return { error: 'bulk.pastExpiry' };
  if (date.getTime() > Date.now() + 3650 * 86400000) return { error: 'bulk.farExpiry' };
  return { value: date.toISOString() };
}

/** Reads the file's records into rows with their own problems (client-side checks only). */
export function checkRows(records, stations) {
  const problems = [];
  if (!records.length) return { rows: [], problems: ['bulk.empty'] };
  const { columns, unknown, missing } = mapHeader(records[0].fields);
  if (missing.length) return { rows: [], problems: [['bulk.missingColumns', { columns: missing.join(', ') }]] };
  const body = records.slice(1);
  if (!body.length) return { rows: [], problems: ['bulk.noRows'] };
  if (body.length > MAX_ROWS) return { rows: [], problems: [['bulk.tooMany', { max: number(MAX_ROWS) }]] };
  const seen = new Map();
  const byCode = new Map(stations.map((s) => [s.engencode.toLowerCase(), s]));
  const rows = body.map(({ line, fields }) => {
    const cell = (c) => (c in columns ? (fields[columns[c]] || '').trim() : '');
    const row = { line, typed: cell('msisdn'), msisdn: normalisePhone(cell('msisdn')), amount: cell('amount'), station: cell('stationScope'), expires: cell('expiresAt'), errors: [] };
    if (!row.msisdn) row.errors.push(['bulk.noPhone']);
    else if (!E164.test(row.msisdn)) row.errors.push(['bulk.badPhone', { value: cell('msisdn') }]);
    else if (seen.has(row.msisdn)) row.errors.push(['bulk.duplicate', { line: seen.get(row.msisdn) }]);
    else seen.set(row.msisdn, line);
    if (!row.amount) row.errors.push(['bulk.noAmount']);
    else if (!AMOUNT.test(row.amount) || Number(row.amount) <= 0) row.errors.push(['bulk.badAmount', { value: row.amount }]);
    if (row.station) {
      // a station's id, or its code as people know it
      const known = isUUID(row.station) ? { id: row.station.toLowerCase() } : byCode.get(row.station.toLowerCase());
      if (known) row.stationScope = known.id; else row.errors.push(['bulk.unknownStation', { value: row.station }]);
    }
    const e = expiry(row.expires);
    if (e.error) row.errors.push([e.error, { value: row.expires }]); else row.expiresAt = e.value;
    return row;
  });
  if (unknown.length) problems.push(['bulk.ignoredColumns', { columns: unknown.join(', ') }]);
  return { rows, problems };
}

function recipient(row, fileName) {
  const r = { recipientKey: row.msisdn, msisdn: row.msisdn, amount: row.amount, metadata: { source: fileName, line: row.line } };
  if (row.stationScope) r.stationScope = row.stationScope;
  if (row.expiresAt) r.expiresAt = row.expiresAt;
  return r;
}

export async function render(ctx) {
  const { t, api, root } = ctx;
  const fileInput = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', id: 'bulk-file' });
  const campaign = h('input', { id: 'bulk-campaign', required: true, maxlength: '120', autocomplete: 'off' });
  const campaignIdText = h('output', { id: 'bulk-campaign-id', for: 'bulk-campaign', class: 'mono' });
  const summary = statusLine('status-line summary');
  summary.id = 'bulk-summary';
  const problemsBox = h('div', { id: 'bulk-problems' });
  const errorsBox = h('div', { id: 'bulk-errors-box' });
  const preview = h('div', { id: 'bulk-preview' });
  const issue = button(t('bulk.issueNone'), { kind: 'primary', write: true, id: 'bulk-issue', disabled: true });
  const outcome = statusLine();
  outcome.id = 'bulk-outcome';
  const sample = h('a', { href: URL.createObjectURL(new Blob([SAMPLE], { type: 'text/csv' })), download: 'sokoni-vouchers-sample.csv' }, t('bulk.sample'));

  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/vouchers' }, t('voucher.back'))),
    pageHeader(t('bulk.title')),
    section(t('bulk.fileStep'),
      h('p', {}, t('bulk.columns')),
      h('ul', { class: 'plain' }, ['msisdn', 'amount', 'stationScope', 'expiresAt'].map((c) => h('li', {}, h('code', {}, c), ' — ', t(`bulk.column.${c}`)))),
      h('p', {}, t('bulk.oneEach'), ' ', sample),
      field(t('bulk.file'), fileInput)),
    section(t('bulk.campaignStep'),
      field(t('bulk.campaignName'), campaign, { hint: t('bulk.campaignHint') }),
      h('p', { class: 'hint' }, t('bulk.campaignId'), ' ', campaignIdText)),
    section(t('bulk.checkStep'), summary, problemsBox, errorsBox, preview,
      h('div', { class: 'form-actions' }, issue), outcome));

  const stations = await loadStations(ctx);
  let file = null;            // {name, text}
  let campaignEdited = false;
  let checked = null;         // what passed the checks: {bodies, key}
  let run = 0;
  // the campaign and file just issued: a check that comes late (a keystroke's timer, an event during the issue)
  // must not offer the same file again
  let issued = null;
  const fingerprint = () => `${campaign.value.trim()}\n${file ? file.text : ''}`;

  let issuing = false;
  let checkAfterIssue = false;

  async function check() {
    // a change while the file is being issued is checked once that is over (it must not drop the plan in use)
    if (issuing) { checkAfterIssue = true; return; }
    // nothing changed since this file was issued: its outcome stays on screen, and it is not offered again
    if (issued !== null && issued === fingerprint()) return;
    const mine = ++run;
    checked = null;
    issue.disabled = true;
    issue.textContent = t('bulk.issueNone');
    clear(problemsBox); clear(errorsBox); clear(preview); say(outcome, '');
    const id = campaign.value.trim() ? await campaignId(campaign.value, ctx.tenantId) : '';
    if (mine !== run) return;
    campaignIdText.textContent = id;
    if (!file) return say(summary, t('bulk.chooseFile'));
    const parsed = parseCSV(file.text);
    if (parsed.error) return showProblems([['bulk.unclosedQuote', { line: parsed.error.line }]], true);
    const { rows, problems } = checkRows(parsed.records, stations);
    if (!rows.length) return showProblems(problems, true);
    if (!id) return say(summary, t('bulk.needCampaign'), 'error');
    say(summary, t('bulk.checking', { count: number(rows.length) }));

    // the API checks what passed here (its own rules: currency decimals, station scope, limits)
    const good = rows.filter((r) => !r.errors.length);
    let serverChecked = false;
    if (good.length) {
      // every recipient carries its own amount; the request's (a required default) must not fail on its own,
      // so it is a whole number (valid in every currency) rather than a row's amount that may have bad decimals
      const whole = good.find((r) => /^[0-9]+$/.test(r.amount));
      const bodies = chunks(good).map((part) => ({
        campaignId: id, amount: whole ? whole.amount : '1', recipients: part.map((r) => recipient(r, file.name)),
      }));
      for (const [n, body] of bodies.entries()) {
        const answer = await api('POST', '/v1/vouchers/bulk/validate', { body });
        if (mine !== run) return;
        if (answer.ok) {
          serverChecked = true;
          for (const e of answer.data.errors || []) {
            const row = good[n * CHUNK + e.index];
            if (row) row.errors.push(['bulk.server', { field: e.field || '', message: serverMessage(t, e) }]);
          }
        } else if (answer.status === 404 || answer.status === 405) {
          problems.push(['bulk.noServerCheck']);
          break;
        } else {
          showProblems(problems, false);
          return say(summary, errorText(t, answer), 'error');
        }
      }
      checked = { bodies, key: newKey() };
    }
    if (mine !== run) return;
    showProblems(problems, false);
    const bad = rows.filter((r) => r.errors.length);
    showErrors(bad);
    showPreview(rows);
    if (bad.length) {
      checked = null;
      say(summary, t('bulk.hasErrors', { bad: number(bad.length), count: number(rows.length) }), 'error');
    } else {
      say(summary, t(serverChecked ? 'bulk.allGood' : 'bulk.allGoodLocal', { count: number(rows.length) }), 'ok');
      issue.textContent = t('bulk.issueN', { count: number(rows.length) });
      issue.disabled = false;
    }
  }

  function showProblems(problems, fatal) {
    clear(problemsBox);
    if (!problems.length) return;
    problemsBox.append(h('ul', { class: fatal ? 'problems form-error' : 'problems' },
      problems.map((p) => h('li', {}, Array.isArray(p) ? t(p[0], p[1]) : t(p)))));
    if (fatal) say(summary, t('bulk.cannotRead'), 'error');
  }

  function rowErrors(row) {
    return row.errors.map(([key, params]) => t(key, params)).join(' ');
  }

  function showErrors(bad) {
    clear(errorsBox);
    if (!bad.length) return;
    errorsBox.append(h('div', {}, h('h3', {}, t('bulk.errorsTitle', { count: number(bad.length) })),
      h('ul', { class: 'row-errors', id: 'bulk-errors' }, bad.slice(0, SHOWN_ROWS).map((r) =>
        h('li', { dataset: { line: String(r.line) } }, h('strong', {}, t('bulk.line', { line: r.line })), ' ', rowErrors(r)))),
      bad.length > SHOWN_ROWS ? h('p', { class: 'hint' }, t('bulk.moreErrors', { count: number(bad.length - SHOWN_ROWS) })) : null));
  }

  function showPreview(rows) {
    const names = new Map(stations.map((s) => [s.id, s.name]));
    clear(preview).append(table({
      caption: rows.length > SHOWN_ROWS ? t('bulk.previewFirst', { count: SHOWN_ROWS, total: number(rows.length) }) : t('bulk.preview'),
      rows: rows.slice(0, SHOWN_ROWS),
      columns: [
        { label: t('bulk.lineColumn'), className: 'num', cell: (r) => String(r.line) },
        { label: t('field.phone'), cell: (r) => (E164.test(r.msisdn) ? r.msisdn : r.typed) },
        { label: t('field.amount'), className: 'num', cell: (r) => (AMOUNT.test(r.amount) ? money(r.amount) : r.amount) },
        { label: t('field.stationScope'), cell: (r) => (r.stationScope ? names.get(r.stationScope) || r.station : '—') },
        { label: t('field.expires'), cell: (r) => r.expires || t('bulk.defaultExpiry') },
        { label: t('bulk.check'), cell: (r) => (r.errors.length ? h('span', { class: 'cell-error' }, rowErrors(r)) : h('span', { class: 'cell-ok' }, t('bulk.ok'))) },
      ],
    }));
    for (const tr of preview.querySelectorAll('tbody tr')) {
      const row = rows[tr.rowIndex - 1];
      if (row && row.errors.length) tr.classList.add('row-bad');
    }
  }

  let timer = null;
  fileInput.addEventListener('change', async () => {
    // the file's check covers the campaign name too: a name's pending check would only redraw the same answer
    clearTimeout(timer);
    const chosen = fileInput.files[0];
    if (!chosen) { file = null; return check(); }
    file = { name: chosen.name, text: await chosen.text() };
    if (!campaignEdited || !campaign.value.trim()) campaign.value = defaultCampaignName(chosen.name, isoDay());
    check();
  });
  campaign.addEventListener('input', () => {
    campaignEdited = true;
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  });

  issue.addEventListener('click', async () => {
    const plan = checked;
    if (!plan || issuing) return;
    issuing = true;
    issue.disabled = true;
    try {
      await issueAll(plan);
    } finally {
      issuing = false;
      if (checkAfterIssue) { checkAfterIssue = false; check(); }
    }
  });

  async function issueAll(plan) {
    say(outcome, t('bulk.issuing'));
    // in parts of CHUNK (the request body limit); each part is one transaction, and a retry of the whole file
    // issues only what is missing (recipient keys are unique per campaign)
    let created = 0;
    let existing = 0;
    for (const [n, body] of plan.bodies.entries()) {
      if (plan.bodies.length > 1) say(outcome, t('bulk.issuingPart', { part: n + 1, parts: plan.bodies.length }));
      const answer = await api('POST', '/v1/vouchers/bulk', { body, idempotencyKey: `${plan.key}-${n}` });
      if (!answer.ok) {
        issue.disabled = answer.status >= 400 && answer.status < 500;
        const done = created ? ` ${t('bulk.partlyDone', { created: number(created) })}` : '';
        say(outcome, errorText(t, answer) + done, 'error');
        if (answer.status === 422) checkAfterIssue = true;
        return;
      }
      created += answer.data.created;
      existing += answer.data.existing;
    }
    const text = t('bulk.done', { created: number(created), existing: number(existing) });
    say(outcome, text, 'ok');
    ctx.announce(text);
    issue.textContent = t('bulk.issuedButton');
    issued = fingerprint();
    outcome.after(h('p', { id: 'bulk-done-link' }, linkButton(t('bulk.seeVouchers'), `#/vouchers?campaign=${encodeURIComponent(plan.bodies[0].campaignId)}`)));
    checked = null;
  }

  check();
}

function serverMessage(t, e) {
  const key = `error.${e.code}`;
  const text = t(key);
  return text === key ? e.message || e.code : text;
}
