// The campaign builder, in four steps on one page:
//   1. the message: name, type (a promo, or a voucher per recipient: amount, currency, station, expiry), the channel
//      and one of its approved templates, with a live preview of it filled with sample values the person types
//      (POST /v1/templates/{id}/preview); "Save the draft" creates the campaign (POST /v1/campaigns);
//   2. who gets it: a CSV file (msisdn, then a column per variable) checked by the API first (?dryRun=true: its
//      report per row, nothing stored), then "Import N targets" stores the valid rows (sent as text/csv);
//   3. when: start now or at a date and time, valid until, the quiet hours (the tenant's, others for this campaign,
//      or none) and a throttle (messages per minute);
//   4. review, then start (POST …/start) or schedule (POST …/schedule), which opens the campaign's page.
// `?id=` reopens a draft (or scheduled) campaign at step 2: a reload keeps the work.
import { h, clear, uid } from '../lib/dom.js';
import { number, money, dateTime, endOfDay } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, select, table, details, newKey, linkButton } from '../lib/ui.js';
import { loadChannels, channelLabel, usesPhoneNumbers } from './messaging-shared.js';
import { loadStations } from './stations-cache.js';
import { CURRENCIES, amountProblem } from './wallet-shared.js';
import {
  CAMPAIGN_TYPES, campaignError, postCSV, variableNames, templateLabel, campaignBadge,
} from './campaigns-shared.js';

const TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
// what the preview shows for the two variables a voucher campaign fills in itself
const SAMPLE_CODE = 'K7P2Q';
/** The import problems the console has words for (others show the API's code; its message follows either way). */
const IMPORT_CODES = ['invalid_msisdn', 'missing_variable', 'duplicate', 'opted_out', 'invalid_id'];

/** A radio button with its label after it. */
function radio(name, value, label, { id, checked = false } = {}) {
  const input = h('input', { type: 'radio', name, value, id: id || uid('radio'), checked });
  return { input, el: h('div', { class: 'check' }, input, h('label', { for: input.id }, label)) };
}

/** A datetime-local value (the person's time) as an ISO instant, or '' when empty or not a time. */
function instantOf(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/** An ISO instant as a datetime-local value in the person's time. */
function localValue(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const [all, stations] = await Promise.all([loadChannels(ctx, { fresh: true }), loadStations(ctx)]);
  if (!ctx.isCurrent()) return;
  // campaigns go to phone numbers: WhatsApp, SMS and the sandbox
  const channels = all.filter((c) => usesPhoneNumbers(c.kind));
  let campaign = null;
  const back = h('p', { class: 'breadcrumb' }, h('a', { href: '#/campaigns', id: 'campaign-new-back' }, t('campaignNew.back')));
  root.append(back, pageHeader(t('campaignNew.title')), h('p', { class: 'hint' }, t('campaignNew.intro')));

  if (query.get('id')) {
    const found = await api('GET', `/v1/campaigns/${encodeURIComponent(query.get('id'))}`);
    if (!ctx.isCurrent()) return;
    if (!found.ok) { root.append(h('p', { class: 'form-error', role: 'alert', id: 'campaign-new-error' }, campaignError(t, found))); return; }
    campaign = found.data;
    if (!['draft', 'scheduled'].includes(campaign.status)) {
      root.append(h('p', { class: 'notice', id: 'campaign-new-done' }, t('campaignNew.notEditable', { status: t(`campaignStatus.${campaign.status}`) }), ' ',
        h('a', { href: `#/campaigns/${encodeURIComponent(campaign.id)}` }, t('campaignNew.openCampaign'))));
      return;
    }
  }

  // ---------------------------------------------------------------- 1. the message

  const name = h('input', { id: 'campaign-name', required: true, maxlength: '200', autocomplete: 'off' });
  const type = select(CAMPAIGN_TYPES.map((x) => [x, t(`campaignType.${x}`)]), { id: 'campaign-type', value: 'promo' });
  const amount = h('input', { id: 'voucher-amount', inputmode: 'decimal', autocomplete: 'off', maxlength: '16' });
  const currency = select(Object.keys(CURRENCIES).map((c) => [c, c]), { id: 'voucher-currency', value: 'RWF' });
  const station = select([['', t('campaignNew.anyStation')], ...stations.map((s) => [s.id, `${s.name} (${s.engencode})`])], { id: 'voucher-station', value: '' });
  const expiry = h('input', { id: 'voucher-expiry', type: 'date' });
  const voucherBox = h('fieldset', { id: 'campaign-voucher', hidden: true },
    h('legend', {}, t('campaignNew.voucher')),
    h('p', { class: 'hint' }, t('campaignNew.voucherHint')),
    h('div', { class: 'inline-fields' }, field(t('field.amount'), amount), field(t('campaignNew.currency'), currency)),
    stations.length ? field(t('campaignNew.station'), station) : null,
    field(t('campaignNew.voucherExpiry'), expiry, { hint: t('campaignNew.voucherExpiryHint') }));
  const channel = select([['', t('campaignNew.pickChannel')], ...channels.map((c) => [c.id, channelLabel(t, c)])], { id: 'campaign-channel', value: '' });
  const template = select([['', t('campaignNew.pickTemplate')]], { id: 'campaign-template', value: '', disabled: true });
  const templateNote = h('p', { class: 'hint', id: 'campaign-template-note', role: 'status' });
  const templateBody = h('pre', { class: 'template-body', id: 'campaign-template-body', hidden: true });
  const variablesBox = h('div', { id: 'preview-vars', class: 'inline-fields' });
  const previewText = h('p', { class: 'template-preview', id: 'preview-text', 'aria-live': 'polite' });
  const previewError = h('p', { class: 'form-error', role: 'alert', id: 'preview-error' });
  const previewBox = h('div', { class: 'preview-box', id: 'campaign-preview', hidden: true },
    h('h3', {}, t('campaignNew.preview')), h('p', { class: 'hint' }, t('campaignNew.previewHint')), variablesBox, previewText, previewError);
  const createError = h('p', { class: 'form-error', role: 'alert', id: 'campaign-error' });
  const create = can('POST /v1/campaigns') ? button(t('campaignNew.create'), { kind: 'primary', type: 'submit', write: true, id: 'campaign-create' }) : null;
  const created = statusLine();
  created.id = 'campaign-created';
  const messageForm = h('form', { id: 'campaign-form', novalidate: true },
    field(t('field.name'), name, { hint: t('campaignNew.nameHint') }),
    field(t('campaigns.type'), type),
    voucherBox,
    field(t('campaigns.channel'), channel),
    field(t('campaignNew.template'), template), templateNote, templateBody,
    previewBox, createError, h('div', { class: 'form-actions' }, create), created);

  // ---------------------------------------------------------------- 2. who gets it

  const columnsHint = h('p', { id: 'targets-columns' });
  const sample = h('a', { id: 'targets-sample', download: 'campaign-targets-sample.csv' }, t('campaignNew.sample'));
  const fileInput = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', id: 'targets-file' });
  const summary = statusLine('status-line summary');
  summary.id = 'targets-summary';
  const countsBox = h('div', { id: 'targets-counts' });
  const problemsBox = h('div', { id: 'targets-problems' });
  const importButton = can('POST /v1/campaigns/{id}/targets')
    ? button(t('campaignNew.importNone'), { kind: 'primary', write: true, id: 'targets-import', disabled: true }) : null;
  const outcome = statusLine();
  outcome.id = 'targets-outcome';
  const total = h('p', { id: 'targets-total', class: 'summary' });
  const targetsStep = section(t('campaignNew.step2'),
    columnsHint, h('p', {}, sample),
    field(t('campaignNew.file'), fileInput, { hint: t('campaignNew.fileHint') }),
    summary, countsBox, problemsBox, h('div', { class: 'form-actions' }, importButton), outcome, total);
  targetsStep.id = 'targets-step';

  // ---------------------------------------------------------------- 3. when

  const startNow = radio('start-mode', 'now', t('campaignNew.startNow'), { id: 'start-now', checked: true });
  const startLater = radio('start-mode', 'at', t('campaignNew.startAt'), { id: 'start-later' });
  const startAt = h('input', { id: 'start-at', type: 'datetime-local', disabled: true });
  const validUntil = h('input', { id: 'valid-until', type: 'datetime-local' });
  const quietTenant = radio('quiet-mode', 'tenant', t('campaignNew.quietTenant'), { id: 'quiet-tenant', checked: true });
  const quietOwn = radio('quiet-mode', 'own', t('campaignNew.quietOwn'), { id: 'quiet-own' });
  const quietIgnore = radio('quiet-mode', 'ignore', t('campaignNew.quietIgnore'), { id: 'quiet-ignore' });
  const quietStart = h('input', { id: 'quiet-start', type: 'time', value: '21:00', disabled: true });
  const quietEnd = h('input', { id: 'quiet-end', type: 'time', value: '07:00', disabled: true });
  const perMinute = h('input', { id: 'per-minute', type: 'number', min: '1', max: '100000', step: '1', inputmode: 'numeric' });
  const scheduleStep = section(t('campaignNew.step3'),
    h('fieldset', { class: 'choices' }, h('legend', {}, t('campaignNew.when')), startNow.el, startLater.el),
    field(t('campaignNew.startTime'), startAt, { hint: t('campaignNew.localTime') }),
    field(t('campaignNew.validUntil'), validUntil, { hint: t('campaignNew.validUntilHint') }),
    h('fieldset', { class: 'choices', id: 'quiet-choice' }, h('legend', {}, t('campaignNew.quietHours')),
      h('p', { class: 'hint' }, t('campaignNew.quietHint')), quietTenant.el, quietOwn.el, quietIgnore.el),
    h('div', { class: 'inline-fields' }, field(t('campaignNew.quietFrom'), quietStart), field(t('campaignNew.quietTo'), quietEnd)),
    field(t('campaignNew.perMinute'), perMinute, { hint: t('campaignNew.perMinuteHint') }));
  scheduleStep.id = 'schedule-step';

  // ---------------------------------------------------------------- 4. review and start

  const review = h('div', { id: 'campaign-review' });
  const launch = button(t('campaignNew.launchNow'), { kind: 'primary', write: true, id: 'campaign-launch' });
  const launchError = h('p', { class: 'form-error', role: 'alert', id: 'launch-error' });
  const canLaunch = can('POST /v1/campaigns/{id}/start') || can('POST /v1/campaigns/{id}/schedule');
  const reviewStep = section(t('campaignNew.step4'), review, launchError, canLaunch ? h('div', { class: 'form-actions' }, launch) : null);
  reviewStep.id = 'review-step';
  for (const step of [targetsStep, scheduleStep, reviewStep]) step.hidden = true;

  const messageStep = section(t('campaignNew.step1'), messageForm);
  messageStep.id = 'message-step';
  root.append(messageStep, targetsStep, scheduleStep, reviewStep);

  // ---------------------------------------------------------------- the template and its preview

  let templates = [];
  let chosen = null;
  let templatesRun = 0;
  const isVoucher = () => type.value === 'voucher';
  // as the platform fills them: the code, and the amount as "5000 RWF"
  const sampleOf = (i) => (i === 0 ? SAMPLE_CODE : `${amount.value.trim() || '5000'} ${currency.value}`);

  async function loadTemplates(keep = '') {
    const mine = ++templatesRun;
    templates = [];
    chosen = null;
    clear(template).append(h('option', { value: '' }, t('campaignNew.pickTemplate')));
    template.disabled = true;
    templateNote.textContent = '';
    showTemplate();
    if (!channel.value) return;
    say(templateNote, t('app.loading'));
    const answer = await api('GET', `/v1/templates?channelId=${encodeURIComponent(channel.value)}&status=approved&limit=200`);
    if (mine !== templatesRun || !ctx.isCurrent()) return;
    if (!answer.ok) { say(templateNote, campaignError(t, answer), 'error'); return; }
    templates = answer.data.items;
    template.append(...templates.map((x) => h('option', { value: x.id }, templateLabel(x))));
    template.disabled = Boolean(campaign) || !templates.length;
    if (!templates.length) {
      clear(templateNote).append(t('campaignNew.noTemplates'), ' ',
        can('GET /v1/templates') ? h('a', { href: '#/templates', id: 'campaign-to-templates' }, t('campaignNew.toTemplates')) : null);
      return;
    }
    say(templateNote, '');
    if (keep && templates.some((x) => x.id === keep)) template.value = keep;
    else if (templates.length === 1) template.value = templates[0].id;
    pickTemplate();
  }

  function pickTemplate() {
    chosen = templates.find((x) => x.id === template.value) || null;
    showTemplate();
    showColumns();
  }

  function showTemplate() {
    clear(variablesBox);
    previewText.textContent = '';
    previewError.textContent = '';
    templateBody.hidden = !chosen;
    previewBox.hidden = !chosen;
    if (!chosen) return;
    templateBody.textContent = [chosen.header && chosen.header.text, chosen.body, chosen.footer].filter(Boolean).join('\n\n');
    variableNames(chosen.variableCount).forEach((label, i) => {
      const filled = isVoucher() && i < 2;
      const input = h('input', {
        class: 'preview-var', id: `preview-var-${i + 1}`, autocomplete: 'off', maxlength: '200', dataset: { index: String(i + 1) },
        readOnly: filled, value: filled ? sampleOf(i) : '',
      });
      input.addEventListener('input', schedulePreview);
      variablesBox.append(field(filled ? t(i === 0 ? 'campaignNew.varCode' : 'campaignNew.varAmount', { name: label }) : label, input));
    });
    preview();
  }

  let previewTimer = null;
  let previewRun = 0;
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 300);
  }

  async function preview() {
    if (!chosen) return;
    const mine = ++previewRun;
    const values = [...variablesBox.querySelectorAll('.preview-var')].map((i) => i.value);
    // trailing empty values are not sent: the API names the first variable that is missing
    while (values.length && !values[values.length - 1].trim()) values.pop();
    if (chosen.variableCount && !values.length) {
      // nothing typed yet: nothing to say
      previewText.textContent = '';
      previewError.textContent = '';
      previewError.dataset.code = '';
      return;
    }
    previewBox.dataset.ready = 'false';
    const answer = await api('POST', `/v1/templates/${encodeURIComponent(chosen.id)}/preview`, { body: { variables: values } });
    if (mine !== previewRun || !ctx.isCurrent()) return;
    previewBox.dataset.ready = 'true';
    if (!answer.ok) {
      previewText.textContent = '';
      previewError.textContent = campaignError(t, answer);
      previewError.dataset.code = (answer.error && answer.error.code) || '';
      return;
    }
    previewError.textContent = '';
    previewError.dataset.code = '';
    previewText.textContent = answer.data.text;
  }

  function shapeType() {
    voucherBox.hidden = !isVoucher();
    showTemplate();
    showColumns();
  }

  type.addEventListener('change', shapeType);
  channel.addEventListener('change', () => loadTemplates());
  template.addEventListener('change', pickTemplate);
  amount.addEventListener('input', () => {
    const filledAmount = variablesBox.querySelector('#preview-var-2');
    if (filledAmount && isVoucher()) { filledAmount.value = sampleOf(1); schedulePreview(); }
  });
  currency.addEventListener('change', () => amount.dispatchEvent(new Event('input')));

  // ---------------------------------------------------------------- creating the draft

  /** The campaign's body from step 1, or a problem in words (and the field to focus). */
  function draftBody() {
    if (!name.value.trim()) return { problem: t('campaignNew.needName'), focus: name };
    if (!channel.value) return { problem: t('campaignNew.needChannel'), focus: channel };
    if (!chosen) return { problem: t('campaignNew.needTemplate'), focus: template };
    const body = { name: name.value.trim(), type: type.value, channelId: channel.value, templateId: chosen.id };
    if (isVoucher()) {
      const wrong = amountProblem(amount.value.trim(), currency.value);
      if (wrong) return { problem: t(wrong, { currency: currency.value }), focus: amount };
      body.voucher = { amount: amount.value.trim(), currency: currency.value };
      if (station.value) body.voucher.stationScope = station.value;
      if (expiry.value) body.voucher.expiresAt = endOfDay(expiry.value);
    }
    return { body };
  }

  const createKey = newKey();
  messageForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (campaign || !create) return;
    createError.textContent = '';
    createError.dataset.code = '';
    const { body, problem, focus } = draftBody();
    if (problem) { createError.textContent = problem; focus.focus(); return; }
    create.disabled = true;
    const answer = await api('POST', '/v1/campaigns', { body, idempotencyKey: createKey });
    if (!ctx.isCurrent()) return;
    create.disabled = false;
    if (!answer.ok) {
      createError.textContent = campaignError(t, answer);
      createError.dataset.code = (answer.error && answer.error.code) || '';
      return;
    }
    campaign = answer.data;
    ctx.setQuery({ id: campaign.id });
    const words = t('campaignNew.created', { name: campaign.name });
    say(created, words, 'ok');
    ctx.announce(words);
    opened();
    fileInput.focus();
  });

  /** The draft exists: step 1 is what it is, the other steps open. */
  function opened() {
    for (const control of [name, type, amount, currency, station, expiry, channel, template]) control.disabled = true;
    if (create) create.hidden = true;
    messageStep.dataset.id = campaign.id;
    for (const step of [targetsStep, scheduleStep, reviewStep]) step.hidden = false;
    showColumns();
    showTotal();
    drawReview();
  }

  // ---------------------------------------------------------------- the targets' file

  function showColumns() {
    const count = chosen ? chosen.variableCount : 0;
    const first = isVoucher() ? 3 : 1;
    const own = variableNames(count).slice(first - 1);
    columnsHint.textContent = own.length
      ? t(isVoucher() ? 'campaignNew.columnsVoucher' : 'campaignNew.columns', { columns: own.join(', ') })
      : t(isVoucher() ? 'campaignNew.columnsVoucherNone' : 'campaignNew.columnsNone');
    const header = ['msisdn', ...own.map((_, i) => `var${i + first}`)];
    const rows = [['+250788000001', ...own.map(() => 'Aline')], ['+250788000002', ...own.map(() => 'Jean')]];
    const text = `${[header, ...rows].map((r) => r.join(',')).join('\r\n')}\r\n`;
    if (sample.href) URL.revokeObjectURL(sample.href);
    sample.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  }

  function showTotal() {
    const n = Number((campaign.counts || {}).total || 0);
    total.dataset.total = String(n);
    total.textContent = n ? t('campaignNew.total', { count: number(n) }) : t('campaignNew.totalNone');
  }

  let file = null;          // the File chosen, with the key its import uses (a retry does not import it twice)
  let checked = null;       // the dry run's report for that file
  let checkRun = 0;

  fileInput.addEventListener('change', async () => {
    const picked = fileInput.files && fileInput.files[0];
    checked = null;
    clear(countsBox);
    clear(problemsBox);
    say(outcome, '');
    if (importButton) { importButton.disabled = true; importButton.textContent = t('campaignNew.importNone'); }
    if (!picked) { file = null; say(summary, ''); return; }
    file = { blob: picked, name: picked.name, key: newKey() };
    const mine = ++checkRun;
    say(summary, t('campaignNew.checking', { name: picked.name }));
    const answer = await postCSV(ctx, `/v1/campaigns/${encodeURIComponent(campaign.id)}/targets?dryRun=true`, picked);
    if (mine !== checkRun || !ctx.isCurrent()) return;
    if (!answer.ok) { say(summary, campaignError(t, answer), 'error'); return; }
    checked = answer.data;
    showReport(checked);
    const accepted = checked.accepted || 0;
    say(summary, t(accepted ? 'campaignNew.checked' : 'campaignNew.checkedNone', {
      rows: number(checked.rows), accepted: number(accepted), problems: number((checked.problems || []).length),
    }), accepted ? 'ok' : 'error');
    if (importButton) {
      importButton.textContent = t('campaignNew.importN', { count: number(accepted) });
      importButton.dataset.count = String(accepted);
      importButton.disabled = !accepted;
    }
  });

  /** The report's counts as tiles and its problems as a table: row, number, problem. */
  function showReport(report) {
    const tile = (key) => h('div', { class: 'total', dataset: { count: key, value: String(report[key] || 0) } },
      h('dt', {}, t(`importCount.${key}`)), h('dd', {}, number(report[key] || 0)));
    clear(countsBox).append(h('dl', { class: 'totals' }, ['rows', 'accepted', 'duplicates', 'rejected', 'optedOut'].map(tile)));
    const problems = report.problems || [];
    clear(problemsBox).append(problems.length ? table({
      caption: t('campaignNew.problems', { count: number(problems.length) }),
      rows: problems,
      columns: [
        { label: t('campaignNew.row'), className: 'num', cell: (p) => h('span', { class: 'problem-row' }, String(p.row)) },
        { label: t('campaignNew.number'), cell: (p) => h('span', { class: 'problem-msisdn mono' }, p.msisdn || '—') },
        {
          label: t('campaignNew.problem'),
          cell: (p) => h('span', { class: 'problem-code', dataset: { code: p.code } },
            h('strong', {}, IMPORT_CODES.includes(p.code) ? t(`importProblem.${p.code}`) : p.code),
            p.message ? [' ', h('span', { class: 'problem-message' }, p.message)] : null),
        },
      ],
    }) : h('p', { class: 'empty', id: 'targets-no-problems' }, t('campaignNew.noProblems')));
    for (const tr of problemsBox.querySelectorAll('tbody tr')) {
      const p = problems[tr.rowIndex - 1];
      if (p) { tr.dataset.row = String(p.row); tr.dataset.code = p.code; tr.classList.add(p.code === 'opted_out' ? 'row-held' : 'row-bad'); }
    }
  }

  if (importButton) {
    importButton.addEventListener('click', async () => {
      if (!file || !checked || importButton.disabled) return;
      importButton.disabled = true;
      say(outcome, t('campaignNew.importing'));
      const answer = await postCSV(ctx, `/v1/campaigns/${encodeURIComponent(campaign.id)}/targets`, file.blob, { idempotencyKey: file.key });
      if (!ctx.isCurrent()) return;
      if (!answer.ok) { importButton.disabled = false; say(outcome, campaignError(t, answer), 'error'); return; }
      const report = answer.data;
      showReport(report);
      checked = null;
      importButton.textContent = t('campaignNew.imported');
      const words = t('campaignNew.importedN', { count: number(report.accepted || 0), refused: number((report.rejected || 0) + (report.duplicates || 0)) });
      say(outcome, words, 'ok');
      ctx.announce(words);
      const again = await api('GET', `/v1/campaigns/${encodeURIComponent(campaign.id)}`);
      if (!ctx.isCurrent()) return;
      if (again.ok) campaign = again.data;
      showTotal();
      drawReview();
    });
  }

  // ---------------------------------------------------------------- when, and the review

  function shapeSchedule() {
    startAt.disabled = !startLater.input.checked;
    quietStart.disabled = !quietOwn.input.checked;
    quietEnd.disabled = !quietOwn.input.checked;
    launch.textContent = startLater.input.checked ? t('campaignNew.launchLater') : t('campaignNew.launchNow');
    drawReview();
  }
  for (const control of [startNow.input, startLater.input, quietTenant.input, quietOwn.input, quietIgnore.input]) control.addEventListener('change', shapeSchedule);
  for (const control of [startAt, validUntil, quietStart, quietEnd, perMinute]) control.addEventListener('input', drawReview);

  /** What step 3 says: {metadata, validUntil, startAt} or a problem in words (and the field to focus). */
  function plan() {
    const metadata = { ...((campaign && campaign.metadata) || {}) };
    delete metadata.quietHours;
    delete metadata.ignoreQuietHours;
    delete metadata.perMinute;
    if (quietOwn.input.checked) {
      if (!TIME.test(quietStart.value) || !TIME.test(quietEnd.value)) return { problem: t('campaignNew.badQuiet'), focus: quietStart };
      metadata.quietHours = { start: quietStart.value, end: quietEnd.value };
    }
    if (quietIgnore.input.checked) metadata.ignoreQuietHours = true;
    if (perMinute.value !== '') {
      const n = Number(perMinute.value);
      if (!Number.isInteger(n) || n < 1) return { problem: t('campaignNew.badPerMinute'), focus: perMinute };
      metadata.perMinute = n;
    }
    const until = instantOf(validUntil.value);
    if (validUntil.value && !until) return { problem: t('campaignNew.badValidUntil'), focus: validUntil };
    let start = '';
    if (startLater.input.checked) {
      start = instantOf(startAt.value);
      if (!start) return { problem: t('campaignNew.needStart'), focus: startAt };
      if (new Date(start).getTime() <= Date.now()) return { problem: t('campaignNew.pastStart'), focus: startAt };
    }
    if (until && new Date(until).getTime() <= Math.max(Date.now(), start ? new Date(start).getTime() : 0)) {
      return { problem: t('campaignNew.badValidUntil'), focus: validUntil };
    }
    return { metadata, validUntil: until, startAt: start };
  }

  function drawReview() {
    if (!campaign) return;
    const p = plan();
    const quiet = quietOwn.input.checked ? t('campaignNew.quietOwnText', { start: quietStart.value, end: quietEnd.value })
      : quietIgnore.input.checked ? t('campaignNew.quietIgnoreText') : t('campaignNew.quietTenantText');
    const voucher = campaign.voucher;
    clear(review).append(details([
      [t('field.name'), h('span', { id: 'review-name' }, campaign.name)],
      [t('field.status'), campaignBadge(t, campaign.status)],
      [t('campaigns.type'), t(`campaignType.${campaign.type}`)],
      [t('campaignNew.voucher'), voucher ? money(voucher.amount, voucher.currency) : null],
      [t('campaigns.channel'), channel.options[channel.selectedIndex] ? channel.options[channel.selectedIndex].textContent : ''],
      [t('campaignNew.template'), chosen ? templateLabel(chosen) : ''],
      [t('campaignNew.targets'), h('span', { id: 'review-targets' }, number(Number((campaign.counts || {}).total || 0)))],
      [t('campaignNew.when'), h('span', { id: 'review-start' }, startLater.input.checked ? (p.startAt ? dateTime(p.startAt) : '—') : t('campaignNew.startNow'))],
      [t('campaignNew.validUntil'), h('span', { id: 'review-valid' }, p.validUntil ? dateTime(p.validUntil) : t('campaignNew.noEnd'))],
      [t('campaignNew.quietHours'), h('span', { id: 'review-quiet' }, quiet)],
      [t('campaignNew.perMinute'), h('span', { id: 'review-rate' }, perMinute.value ? number(Number(perMinute.value)) : t('campaignNew.defaultRate'))],
    ]));
  }

  const launchKey = newKey();
  launch.addEventListener('click', async () => {
    launchError.textContent = '';
    launchError.dataset.code = '';
    const p = plan();
    if (p.problem) { launchError.textContent = p.problem; p.focus.focus(); return; }
    launch.disabled = true;
    try {
      const patch = { metadata: p.metadata };
      if (p.validUntil) patch.validUntil = p.validUntil;
      const saved = await api('PATCH', `/v1/campaigns/${encodeURIComponent(campaign.id)}`, { body: patch });
      if (!ctx.isCurrent()) return;
      if (!saved.ok) return refused(saved);
      campaign = saved.data;
      const answer = p.startAt
        ? await api('POST', `/v1/campaigns/${encodeURIComponent(campaign.id)}/schedule`, { body: { startAt: p.startAt }, idempotencyKey: `${launchKey}-schedule` })
        : await api('POST', `/v1/campaigns/${encodeURIComponent(campaign.id)}/start`, { idempotencyKey: `${launchKey}-start` });
      if (!ctx.isCurrent()) return;
      if (!answer.ok) return refused(answer);
      const words = t(p.startAt ? 'campaignNew.scheduled' : 'campaignNew.started', { name: answer.data.name });
      ctx.announce(words);
      ctx.navigate(`#/campaigns/${encodeURIComponent(answer.data.id)}?${p.startAt ? 'scheduled' : 'started'}=1`);
    } finally {
      launch.disabled = false;
    }
  });

  function refused(answer) {
    launchError.textContent = campaignError(t, answer);
    launchError.dataset.code = (answer.error && answer.error.code) || '';
  }

  // ---------------------------------------------------------------- a draft reopened

  if (campaign) {
    name.value = campaign.name;
    type.value = campaign.type;
    voucherBox.hidden = !isVoucher();
    if (campaign.voucher) {
      amount.value = campaign.voucher.amount || '';
      if (campaign.voucher.currency) currency.value = campaign.voucher.currency;
      if (campaign.voucher.stationScope) station.value = campaign.voucher.stationScope;
      if (campaign.voucher.expiresAt) expiry.value = String(campaign.voucher.expiresAt).slice(0, 10);
    }
    channel.value = campaign.channelId;
    const meta = campaign.metadata || {};
    if (meta.quietHours) { quietOwn.input.checked = true; quietStart.value = meta.quietHours.start; quietEnd.value = meta.quietHours.end; }
    if (meta.ignoreQuietHours) quietIgnore.input.checked = true;
    if (meta.perMinute) perMinute.value = String(meta.perMinute);
    if (campaign.validUntil) validUntil.value = localValue(campaign.validUntil);
    if (campaign.startAt) { startLater.input.checked = true; startAt.value = localValue(campaign.startAt); }
    await loadTemplates(campaign.templateId);
    if (!ctx.isCurrent()) return;
    if (!chosen) {
      // the template is no longer approved: its name is still what the draft uses
      const own = await api('GET', `/v1/templates/${encodeURIComponent(campaign.templateId)}`);
      if (own.ok) { chosen = own.data; template.append(h('option', { value: chosen.id }, templateLabel(chosen))); template.value = chosen.id; showTemplate(); }
    }
    say(created, t('campaignNew.reopened', { name: campaign.name }));
    opened();
    shapeSchedule();
    root.append(h('p', {}, linkButton(t('campaignNew.openCampaign'), `#/campaigns/${encodeURIComponent(campaign.id)}`, { id: 'campaign-new-open' })));
  } else if (channels.length === 1) {
    channel.value = channels[0].id;
    await loadTemplates();
  }
}
