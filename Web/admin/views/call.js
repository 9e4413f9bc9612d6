// One voice call: what the provider reported (summary, direction, status, times, duration, cost, sentiment, why it
// ended), the recording, the lead of the number (its page) and the booking when the call made one, the transcript
// line by line with speaker and offset (with a recording, a line plays it from there), and the dispositions people
// recorded. Those who work leads add one (a code and a note); a refusal is said as the API gave it.
import { h, clear } from '../lib/dom.js';
import { dateTime } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, details } from '../lib/ui.js';
import { personSpan } from './people-cache.js';
import { leadName, maskedPhone } from './leads-shared.js';
import { clock, durationText, costText, callStatusBadge, sentimentText, callError } from './calls-shared.js';

/** Codes offered as one types (any code of lower-case letters, digits and _ is taken). */
const CODES = ['interested', 'not_interested', 'call_back', 'viewing_booked', 'wrong_number', 'voicemail'];

export async function render(ctx) {
  const { t, api, root, params, can } = ctx;
  const id = encodeURIComponent(params.id);
  const back = h('p', { class: 'breadcrumb' }, h('a', { href: '#/calls', id: 'call-to-list' }, t('call.back')));
  const [one, transcript] = await Promise.all([api('GET', `/v1/calls/${id}`), api('GET', `/v1/calls/${id}/transcript`)]);
  if (!one.ok) {
    root.append(back, pageHeader(t('call.title')), h('p', { class: 'form-error', role: 'alert', id: 'call-error' }, callError(t, one)));
    return;
  }
  let call = one.data;
  const found = call.leadId && can('GET /v1/leads/{id}') ? await api('GET', `/v1/leads/${encodeURIComponent(call.leadId)}`) : null;
  const lead = found && found.ok ? found.data : null;
  const who = lead ? leadName(lead) : maskedPhone(call.customerNumber) || t('call.unknownNumber');

  // (the console's policy may keep it from playing a provider's address: the link opens it in a tab then)
  const audio = call.recordingUrl ? h('audio', { id: 'call-audio', controls: true, preload: 'none', src: call.recordingUrl }) : null;
  const line = statusLine();
  line.id = 'call-line';
  const header = pageHeader(t('call.titleWith', { who }));
  header.querySelector('h1').dataset.id = call.id;
  const dispositionsBox = h('div', { id: 'call-dispositions-box' });

  root.append(back, header, line,
    h('p', { class: 'call-summary', id: 'call-summary' }, call.summary || t('call.noSummary')),
    h('div', { class: 'grid-2' },
      section(t('call.details'), facts()),
      section(t('call.recording'), audio
        ? [audio, h('p', {}, h('a', { href: call.recordingUrl, id: 'call-recording-link', target: '_blank', rel: 'noopener noreferrer' }, t('call.openRecording')))]
        : h('p', { class: 'empty', id: 'call-no-recording' }, t('call.noRecording')))),
    section(t('call.transcript'), audio ? h('p', { class: 'hint' }, t('call.transcriptHint')) : null, transcriptList()),
    section(t('call.dispositions'), dispositionsBox, can('POST /v1/calls/{id}/dispositions') ? dispositionForm() : null));
  drawDispositions();

  function facts() {
    const leadLink = call.leadId
      ? h('a', { href: `#/leads/${encodeURIComponent(call.leadId)}`, id: 'call-lead' }, who)
      : h('span', { id: 'call-lead' }, who);
    return details([
      [t('calls.direction'), h('span', { id: 'call-direction' }, t(`callDirection.${call.direction}`))],
      [t('field.status'), h('span', { id: 'call-status', dataset: { status: call.status } }, callStatusBadge(t, call.status))],
      [t('calls.customer'), leadLink],
      [t('call.number'), call.customerNumber ? h('span', { class: 'mono', id: 'call-number' }, call.customerNumber) : null],
      // the booking the call made, when the API names it
      [t('call.booking'), call.appointmentId ? h('a', { href: `#/calendar/${encodeURIComponent(call.appointmentId)}`, id: 'call-booking' }, t('call.openBooking')) : null],
      [t('call.started'), h('span', { id: 'call-started' }, dateTime(call.startedAt))],
      [t('call.ended'), h('span', { id: 'call-ended' }, dateTime(call.endedAt))],
      [t('calls.duration'), h('span', { id: 'call-duration' }, durationText(call.durationSeconds))],
      [t('call.cost'), h('span', { id: 'call-cost' }, costText(call))],
      [t('calls.sentiment'), h('span', { id: 'call-sentiment', dataset: { sentiment: call.sentiment || '' } }, sentimentText(t, call.sentiment) || t('call.noSentiment'))],
      [t('call.endedReason'), call.endedReason ? h('span', { class: 'mono', id: 'call-ended-reason' }, call.endedReason) : null],
      [t('call.score'), call.scoreDelta != null ? h('span', { id: 'call-score' }, t('call.scoreDelta', { delta: call.scoreDelta > 0 ? `+${call.scoreDelta}` : call.scoreDelta })) : null],
      [t('call.recorded'), dateTime(call.createdAt)],
    ]);
  }

  function transcriptList() {
    if (!transcript.ok) return h('p', { class: 'form-error', role: 'alert', id: 'call-transcript-error' }, callError(t, transcript));
    const lines = transcript.data.lines;
    if (!lines.length) return h('p', { class: 'empty', id: 'call-no-transcript' }, t('call.noTranscript'));
    return h('ol', { class: 'transcript', id: 'call-transcript' }, lines.map((l) => {
      const parts = [
        h('span', { class: 'transcript-time mono' }, clock(l.offsetMs)), ' ',
        h('strong', { class: 'transcript-speaker' }, t(`speaker.${l.speaker}`)), ' ',
        h('span', { class: 'transcript-text' }, l.text),
      ];
      const seek = () => { audio.currentTime = l.offsetMs / 1000; audio.play().catch(() => {}); };
      return h('li', { class: ['transcript-line', `transcript-${l.speaker}`], dataset: { speaker: l.speaker, offset: String(l.offsetMs), line: String(l.line) } },
        audio ? h('button', { type: 'button', class: 'transcript-seek', title: t('call.playFrom', { time: clock(l.offsetMs) }), on: { click: seek } }, parts) : parts);
    }));
  }

  function drawDispositions() {
    const list = call.dispositions;
    clear(dispositionsBox).append(list.length
      ? h('ul', { class: 'dispositions', id: 'call-dispositions' }, list.map((d) => h('li', { class: 'disposition', dataset: { code: d.code } },
        h('strong', { class: 'disposition-code mono' }, d.code),
        d.notes ? [' ', h('span', { class: 'disposition-notes' }, d.notes)] : null,
        h('p', { class: 'hint' }, personSpan(ctx, h, d.actor), ' · ', h('time', { datetime: d.createdAt || '' }, dateTime(d.createdAt))))))
      : h('p', { class: 'empty', id: 'call-no-dispositions' }, t('call.noDispositions')));
  }

  function dispositionForm() {
    const code = h('input', { id: 'disposition-code', maxlength: '40', autocomplete: 'off', spellcheck: 'false', list: 'disposition-codes' });
    const notes = h('textarea', { id: 'disposition-notes', rows: '2', maxlength: '2000' });
    const submit = button(t('call.addDisposition'), { kind: 'primary', type: 'submit', write: true, id: 'disposition-submit' });
    const error = h('p', { class: 'form-error', role: 'alert', id: 'disposition-error' });
    const form = h('form', { id: 'disposition-form', class: 'disposition-form', novalidate: true },
      h('h3', {}, t('call.addTitle')),
      field(t('call.code'), code, { hint: t('call.codeHint') }),
      h('datalist', { id: 'disposition-codes' }, CODES.map((c) => h('option', { value: c }))),
      field(t('call.notes'), notes), error, h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      error.dataset.code = '';
      if (!code.value.trim()) { error.textContent = t('call.codeEmpty'); code.focus(); return; }
      // the code's form is the API's to judge: its refusal is shown as it gave it
      const body = { code: code.value.trim() };
      if (notes.value.trim()) body.notes = notes.value.trim();
      submit.disabled = true;
      const answer = await api('POST', `/v1/calls/${id}/dispositions`, { body });
      submit.disabled = false;
      if (!answer.ok) {
        error.textContent = callError(t, answer);
        error.dataset.code = (answer.error && answer.error.code) || '';
        code.focus();
        return;
      }
      call = answer.data;
      drawDispositions();
      code.value = '';
      notes.value = '';
      const words = t('call.disposed', { code: body.code });
      say(line, words, 'ok');
      ctx.announce(words);
    });
    return form;
  }
}
