// One lead: its name (or masked phone), phones, status and score; the score explained (its three parts as bars with
// what each means, and the latest extraction's features and reasoning); every extraction; the details; the timeline
// (newest first, a page at a time). For those who work leads: edit the details, move to another stage (with the
// reason), add a note, record an extraction by hand (five features, 1 to 3). For those who manage leads: assign to a
// person, and merge another lead (found by its phone) into this one. A call in the timeline opens its page (call.js),
// and the details link to the lead's calls (calls.js); a move a pipeline rule made is marked with the rule's name.
import { h, clear } from '../lib/dom.js';
import { number, dateTime } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, details, table, select, dialog, badge, checkbox } from '../lib/ui.js';
import { isUUID } from '../lib/campaign.js';
import { personLabel } from './people-cache.js';
import {
  TREATMENTS, FEATURES, COMPONENTS, KIND_MARKS, stagesOf, peopleOf, personName, assigneeText, leadError, leadName, moveLead,
  statusBadge, stageName, dealText, dealFields, wordsOf, localInput, phoneOf, whenText,
} from './leads-shared.js';

const TIMELINE_PAGE = 20;
const UUIDS = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

export async function render(ctx) {
  const { t, api, root, params, query, can } = ctx;
  const id = params.id;
  const canEdit = can('PATCH /v1/leads/{id}');
  const canMove = can('PUT /v1/leads/{id}/stage');
  const canNote = can('POST /v1/leads/{id}/notes');
  const canExtract = can('POST /v1/leads/{id}/extractions');
  const canAssign = can('PUT /v1/leads/{id}/assign');
  const canMerge = can('POST /v1/leads/merge');

  const [people, loaded] = await Promise.all([peopleOf(ctx), stagesOf(api)]);
  const stages = loaded.stages;

  const head = h('div', { id: 'lead-head' });
  const line = statusLine();
  line.id = 'lead-line';
  const detailsBox = h('div', { id: 'lead-details' });
  const workBox = h('div', { id: 'lead-work' });
  const scoreBox = h('div', { id: 'lead-score' });
  const extractionsBox = h('div', { id: 'lead-extractions' });
  const timelineBox = h('ol', { class: 'timeline lead-timeline', id: 'lead-timeline' });
  const more = button(t('action.loadMore'), { id: 'lead-timeline-more', hidden: true });
  const noteBox = h('div', { id: 'lead-note-box' });

  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/pipeline', id: 'lead-to-pipeline' }, t('lead.backPipeline')), ' · ',
      h('a', { href: '#/leads', id: 'lead-to-list' }, t('lead.backList'))),
    head, line,
    h('div', { class: 'grid-2' },
      h('section', { class: 'card', 'aria-labelledby': 'lead-details-title' }, h('h2', { id: 'lead-details-title' }, t('lead.details')), detailsBox),
      h('section', { class: 'card', 'aria-labelledby': 'lead-work-title' }, h('h2', { id: 'lead-work-title' }, t('lead.work')), workBox)),
    h('section', { class: 'card', 'aria-labelledby': 'lead-score-title' }, h('h2', { id: 'lead-score-title' }, t('lead.scoreTitle')), scoreBox),
    section(t('lead.extractions'), extractionsBox),
    h('section', { class: 'card', 'aria-labelledby': 'lead-timeline-title' },
      h('h2', { id: 'lead-timeline-title' }, t('lead.timeline')), noteBox, timelineBox, more));

  let lead = null;
  let extractions = [];
  let timelineCursor = null;

  /** Reads the lead, its extractions and the timeline's first page again, and draws them; false when it is not there. */
  async function reload(message, kind = 'ok') {
    const [one, ex] = await Promise.all([
      api('GET', `/v1/leads/${encodeURIComponent(id)}`),
      api('GET', `/v1/extractions?leadId=${encodeURIComponent(id)}&limit=100`),
    ]);
    if (!ctx.isCurrent()) return false;
    if (!one.ok) {
      clear(head).append(pageHeader(t('lead.title')));
      say(line, leadError(t, one), 'error');
      for (const box of [detailsBox, workBox, scoreBox, extractionsBox, noteBox, timelineBox]) clear(box);
      return false;
    }
    lead = one.data;
    extractions = ex.ok ? ex.data.items : [];
    // a merged lead's id answers the lead it was merged into: the address names that one
    if (String(lead.id).toLowerCase() !== String(id).toLowerCase()) {
      history.replaceState(null, '', `#/leads/${encodeURIComponent(lead.id)}`);
      if (!message) { message = t('lead.mergedInto'); kind = ''; }
    }
    drawHead();
    drawDetails();
    drawWork();
    drawScore();
    drawExtractions();
    drawNoteForm();
    await loadTimeline(true);
    if (message) say(line, message, kind);
    return true;
  }

  // ---------------------------------------------------------------- head and details

  function drawHead() {
    const actions = [
      canEdit ? button(t('action.edit'), { write: true, id: 'lead-edit', on: edit }) : null,
      canMerge ? button(t('lead.merge'), { write: true, id: 'lead-merge', on: merge }) : null,
    ];
    const header = pageHeader(leadName(lead), actions);
    header.querySelector('h1').dataset.id = lead.id;
    clear(head).append(header,
      h('div', { class: 'lead-summary', id: 'lead-summary' },
        h('span', { class: 'lead-big-score', id: 'lead-score-value', dataset: { score: String(lead.score) } }, t('lead.scoreOf', { score: number(lead.score) })),
        h('span', { id: 'lead-status-badge' }, statusBadge(t, lead.status)),
        h('span', { class: 'lead-stage-now', id: 'lead-stage-now', dataset: { stage: lead.stage } }, t('lead.inStage', { stage: stageName(stages, lead.stage) })),
        h('ul', { class: 'lead-phones', id: 'lead-phones', 'aria-label': t('lead.phones') },
          (lead.phones && lead.phones.length ? lead.phones : [lead.phone]).map((p) => h('li', { class: 'mono', dataset: { phone: p } }, p)))));
  }

  function drawDetails() {
    clear(detailsBox).append(details([
      [t('field.name'), lead.name || '—'],
      [t('field.email'), lead.email || ''],
      [t('leads.company'), lead.company || ''],
      [t('leads.stage'), h('span', { id: 'lead-stage-name' }, `${stageName(stages, lead.stage)} · ${t('lead.since', { when: dateTime(lead.stageEnteredAt) })}`)],
      [t('leads.assignee'), h('span', { id: 'lead-assignee', dataset: { id: lead.assigneeId || '' } }, assigneeText(ctx, people, lead.assigneeId))],
      [t('lead.treatment'), t(`treatment.${lead.treatment}`)],
      [t('leads.nextAction'), h('span', { id: 'lead-next' }, whenText(lead.nextActionAt) || '—')],
      [t('leads.tags'), h('span', { id: 'lead-tags' }, (lead.tags || []).join(', ') || '—')],
      [t('leads.dealValue'), h('span', { id: 'lead-deal' }, dealText(lead.dealValue) || '—')],
      [t('lead.optIn'), lead.optIn ? t('lead.yes') : t('lead.no')],
      [t('lead.locale'), lead.locale || ''],
      [t('leads.region'), h('span', { id: 'lead-region' }, lead.region || '—')],
      [t('lead.source'), t(`leadSource.${lead.source}`)],
      [t('lead.activity'), t('lead.activityCounts', { replies: number(lead.replies), clicks: number(lead.clicks), bookings: number(lead.bookings) })],
      [t('lead.lastContact'), whenText(lead.lastContactAt) || t('lead.never')],
      [t('lead.calls'), can('GET /v1/calls') ? h('a', { href: `#/calls?lead=${encodeURIComponent(lead.id)}`, id: 'lead-calls' }, t('lead.seeCalls')) : null],
      [t('leads.createdAt'), dateTime(lead.createdAt)],
    ]));
  }

  // ---------------------------------------------------------------- moving and assigning

  function drawWork() {
    const parts = [];
    if (canMove) {
      const to = select([['', t('pipeline.moveTo')], ...stages.filter((s) => s.key !== lead.stage).map((s) => [s.key, s.name])], { id: 'lead-move-to' });
      const go = button(t('leads.move'), { write: true, id: 'lead-move', kind: 'primary' });
      go.addEventListener('click', async () => {
        if (!to.value) { say(line, t('lead.chooseStage'), 'error'); to.focus(); return; }
        const moved = await moveLead(ctx, lead, to.value, stages);
        if (!moved) return;
        const words = t('pipeline.moved', { name: leadName(moved), stage: stageName(stages, moved.stage) });
        ctx.announce(words);
        await reload(words);
      });
      parts.push(h('div', { class: 'inline-fields', id: 'lead-move-form' }, field(t('lead.moveStage'), to), go));
    } else {
      parts.push(h('p', {}, t('lead.inStage', { stage: stageName(stages, lead.stage) })));
    }
    if (canAssign) {
      parts.push(h('div', { class: 'form-actions' }, button(t('lead.assign'), { write: true, id: 'lead-assign', on: assign })));
    }
    if (!canMove && !canAssign) parts.push(h('p', { class: 'hint' }, t('lead.readOnly')));
    clear(workBox).append(...parts);
  }

  function assign() {
    const choice = people.length
      ? select([['', t('leads.unassigned')], ...people.map((u) => [u.id, personName(u)])], { id: 'assign-to', value: lead.assigneeId || '' })
      : h('input', { id: 'assign-to', autocomplete: 'off', maxlength: '36', value: lead.assigneeId || '', placeholder: t('lead.userIdPlaceholder') });
    const reason = h('textarea', { id: 'assign-reason', rows: '2', maxlength: '300' });
    dialog({
      t, title: t('lead.assignTitle', { name: leadName(lead) }), submitLabel: t('lead.assign'),
      body: h('div', {}, field(t('leads.assignee'), choice, people.length ? {} : { hint: t('lead.userIdHint') }), field(t('lead.assignReason'), reason, { hint: t('lead.assignReasonHint') })),
      onSubmit: async ({ close, fail }) => {
        const to = choice.value.trim();
        if (to && !isUUID(to)) return fail(t('lead.badUserId'));
        const body = { assigneeId: to ? to.toLowerCase() : null };
        if (reason.value.trim()) body.reason = reason.value.trim();
        const answer = await api('PUT', `/v1/leads/${encodeURIComponent(lead.id)}/assign`, { body });
        if (!answer.ok) return fail(leadError(t, answer));
        close(answer.data);
      },
    }).done.then(async (assigned) => {
      if (!assigned) return;
      const words = assigned.assigneeId
        ? t('lead.assigned', { name: assigneeText(ctx, people, assigned.assigneeId) }) : t('lead.unassignedNow');
      ctx.announce(words);
      await reload(words);
    });
  }

  // ---------------------------------------------------------------- editing

  function edit() {
    const name = h('input', { id: 'edit-name', maxlength: '200', autocomplete: 'off', value: lead.name || '' });
    const email = h('input', { id: 'edit-email', type: 'email', maxlength: '254', autocomplete: 'off', value: lead.email || '' });
    const company = h('input', { id: 'edit-company', maxlength: '200', autocomplete: 'off', value: lead.company || '' });
    const treatment = select(TREATMENTS.map((x) => [x, t(`treatment.${x}`)]), { id: 'edit-treatment', value: lead.treatment });
    const next = h('input', { id: 'edit-next', type: 'datetime-local', value: localInput(lead.nextActionAt) });
    const tags = h('input', { id: 'edit-tags', maxlength: '600', autocomplete: 'off', value: (lead.tags || []).join(', ') });
    const region = h('input', { id: 'edit-region', maxlength: '100', autocomplete: 'off', value: lead.region || '' });
    const deal = dealFields(t, lead.dealValue);
    const optIn = checkbox(t('leads.optInLabel'), { id: 'edit-optin', checked: lead.optIn });
    const closed = ['converted', 'lost'].includes(lead.status);
    const status = select([['', t('lead.statusFromScore')], ['converted', t('leadStatus.converted')], ['lost', t('leadStatus.lost')]],
      { id: 'edit-status', value: closed ? lead.status : '' });
    dialog({
      t, title: t('lead.editTitle', { name: leadName(lead) }), submitLabel: t('action.save'),
      body: h('div', { id: 'lead-edit-form' },
        field(t('field.name'), name), field(t('field.email'), email), field(t('leads.company'), company),
        field(t('lead.treatment'), treatment), field(t('leads.nextAction'), next),
        field(t('leads.tags'), tags, { hint: t('leads.tagsHint') }), field(t('leads.region'), region, { hint: t('leads.regionHint') }),
        deal.el, optIn.el,
        field(t('lead.closeAs'), status, { hint: t('lead.closeAsHint') })),
      onSubmit: async ({ close, fail }) => {
        const money = deal.read();
        if (money.problem) return fail(money.problem);
        const body = {};
        const text = (input, old) => {
          const value = input.value.trim();
          if (value === (old || '')) return undefined;
          return value || null;
        };
        for (const [key, input] of [['name', name], ['email', email], ['company', company], ['region', region]]) {
          const value = text(input, lead[key]);
          if (value !== undefined) body[key] = value;
        }
        if (treatment.value !== lead.treatment) body.treatment = treatment.value;
        if (next.value !== localInput(lead.nextActionAt)) body.nextActionAt = next.value ? new Date(next.value).toISOString() : null;
        const tagList = wordsOf(tags.value);
        if (tagList.join('\n') !== (lead.tags || []).join('\n')) body.tags = tagList;
        const oldDeal = lead.dealValue ? `${lead.dealValue.amount} ${lead.dealValue.currency}` : '';
        const newDeal = money.value ? `${money.value.amount} ${money.value.currency}` : '';
        if (oldDeal !== newDeal) body.dealValue = money.value;
        if (optIn.input.checked !== lead.optIn) body.optIn = optIn.input.checked;
        if (status.value && status.value !== lead.status) body.status = status.value;
        if (!Object.keys(body).length) return close(null);
        const answer = await api('PATCH', `/v1/leads/${encodeURIComponent(lead.id)}`, { body });
        if (!answer.ok) return fail(leadError(t, answer));
        close(answer.data);
      },
    }).done.then(async (saved) => {
      if (!saved) return;
      const words = t('lead.saved');
      ctx.announce(words);
      await reload(words);
    });
  }

  // ---------------------------------------------------------------- merging

  function merge() {
    const phone = h('input', { id: 'merge-phone', type: 'search', maxlength: '24', autocomplete: 'off', placeholder: '+254712345678' });
    const find = button(t('lead.mergeFind'), { id: 'merge-find' });
    const results = h('div', { id: 'merge-results', 'aria-live': 'polite' });
    let picked = null;
    const search = async () => {
      const q = phoneOf(phone.value);
      picked = null;
      if (q.replace(/\D/g, '').length < 4) { clear(results).append(h('p', { class: 'hint' }, t('lead.mergeTooShort'))); return; }
      const answer = await api('GET', `/v1/leads?limit=20&q=${encodeURIComponent(q)}`);
      if (!answer.ok) { clear(results).append(h('p', { class: 'form-error' }, leadError(t, answer))); return; }
      const others = answer.data.items.filter((l) => l.id !== lead.id);
      if (!others.length) { clear(results).append(h('p', { class: 'empty', id: 'merge-none' }, t('lead.mergeNone'))); return; }
      clear(results).append(h('fieldset', { class: 'merge-choices' }, h('legend', {}, t('lead.mergePick')),
        others.map((l) => {
          const radio = h('input', { type: 'radio', name: 'merge-other', value: l.id, id: `merge-${l.id}`, class: 'merge-choice' });
          radio.addEventListener('change', () => { picked = l; });
          return h('div', { class: 'check' }, radio, h('label', { for: radio.id },
            `${leadName(l)} · ${(l.phones && l.phones.length ? l.phones : [l.phone]).join(', ')} · ${stageName(stages, l.stage)} · ${t('leads.scoreValue', { score: l.score })}`));
        })));
    };
    find.addEventListener('click', search);
    phone.addEventListener('keydown', (event) => { if (event.key === 'Enter') { event.preventDefault(); search(); } });
    dialog({
      t, title: t('lead.mergeTitle', { name: leadName(lead) }), submitLabel: t('lead.mergeSubmit'), destructive: true,
      body: h('div', {}, h('p', {}, t('lead.mergeBody', { name: leadName(lead) })),
        h('div', { class: 'inline-fields' }, field(t('lead.mergePhone'), phone), find), results),
      onSubmit: async ({ close, fail }) => {
        if (!picked) return fail(t('lead.mergeChoose'));
        const answer = await api('POST', '/v1/leads/merge', { body: { survivorId: lead.id, otherId: picked.id } });
        if (!answer.ok) return fail(leadError(t, answer));
        close({ lead: answer.data, other: picked });
      },
    }).done.then(async (merged) => {
      if (!merged) return;
      const words = t('lead.merged', { other: leadName(merged.other) });
      ctx.announce(words);
      await reload(words);
    });
  }

  // ---------------------------------------------------------------- the score explained

  function drawScore() {
    const c = lead.scoreComponents || { base: 0, behavior: 0, engagement: 0 };
    const latest = extractions.find((e) => e.isLatest) || null;
    const meanings = {
      base: latest ? t('score.baseFrom', { total: latest.total }) : t('score.baseNone'),
      behavior: t('score.behaviorFrom', { replies: number(lead.replies), clicks: number(lead.clicks), bookings: number(lead.bookings) }),
      engagement: lead.lastContactAt ? t('score.engagementFrom', { when: dateTime(lead.lastContactAt) }) : t('score.engagementNone'),
    };
    const bars = h('dl', { class: 'score-parts', id: 'score-parts' }, COMPONENTS.map(([key, max]) => {
      const value = c[key] || 0;
      const fill = h('span', { class: 'score-fill' });
      fill.style.width = `${Math.max(0, Math.min(100, (value / max) * 100))}%`;
      return h('div', { class: 'score-part', dataset: { component: key, value: String(value), max: String(max) } },
        h('dt', {}, t(`score.${key}`)),
        h('dd', { class: 'score-bar-cell' },
          h('span', {
            class: 'score-bar', role: 'meter', 'aria-valuemin': '0', 'aria-valuemax': String(max), 'aria-valuenow': String(value),
            'aria-label': t(`score.${key}`),
          }, fill),
          h('span', { class: 'score-number' }, t('score.outOf', { value: number(value), max: number(max) }))),
        h('dd', { class: 'hint score-meaning' }, t(`score.${key}Meaning`), ' ', meanings[key]));
    }));
    const total = h('p', { class: 'score-total', id: 'score-total' },
      t('score.total', { base: number(c.base), behavior: number(c.behavior), engagement: number(c.engagement), score: number(lead.score) }));
    const latestBox = latest ? h('div', { id: 'score-latest', dataset: { id: latest.id, total: String(latest.total), temperature: latest.temperature } },
      h('h3', {}, t('score.latest', { when: dateTime(latest.createdAt) })),
      h('ul', { class: 'feature-list', id: 'score-features' }, FEATURES.map((f) => h('li', { dataset: { feature: f, value: String(latest.features[f]) } },
        h('span', { class: 'feature-name' }, t(`feature.${f}`)), ' ',
        h('span', { class: ['feature-level', `feature-level-${latest.features[f]}`] }, t('feature.level', { level: t(`level.${latest.features[f]}`), value: latest.features[f] }))))),
      h('p', { class: 'score-extraction-total' }, t('score.extractionTotal', { total: latest.total, temperature: t(`leadStatus.${latest.temperature}`) })),
      h('p', { class: 'score-reasoning', id: 'score-reasoning' }, latest.reasoning),
      h('p', { class: 'hint' }, t('score.by', { source: t(`extractionSource.${latest.source}`) })))
      : h('p', { class: 'empty', id: 'score-no-extraction' }, t('score.noExtraction'));
    clear(scoreBox).append(h('p', { class: 'hint' }, t('score.intro')), bars, total, latestBox, canExtract ? extractionForm() : null);
  }

  function extractionForm() {
    const selects = FEATURES.map((f) => ({
      f,
      el: select([1, 2, 3].map((n) => [String(n), t('feature.level', { level: t(`level.${n}`), value: n })]), { id: `ex-${f}`, value: '2' }),
    }));
    const submit = button(t('score.record'), { kind: 'primary', type: 'submit', write: true, id: 'ex-submit' });
    const error = h('p', { class: 'form-error', role: 'alert', id: 'ex-error' });
    const form = h('form', { id: 'ex-form', class: 'extraction-form' },
      h('h3', {}, t('score.recordTitle')), h('p', { class: 'hint' }, t('score.recordHint')),
      h('div', { class: 'inline-fields' }, selects.map(({ f, el }) => field(t(`feature.${f}`), el, { className: 'feature-field' }))),
      error, h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const body = { source: 'person' };
      for (const { f, el } of selects) body[f] = Number(el.value);
      submit.disabled = true;
      const before = lead.score;
      const answer = await api('POST', `/v1/leads/${encodeURIComponent(lead.id)}/extractions`, { body });
      submit.disabled = false;
      if (!answer.ok) { error.textContent = leadError(t, answer); return; }
      const { extraction, lead: after } = answer.data;
      const words = t('score.recorded', {
        total: extraction.total, temperature: t(`leadStatus.${extraction.temperature}`), from: number(before), to: number(after.score),
      });
      ctx.announce(words);
      await reload(words);
    });
    return form;
  }

  function drawExtractions() {
    clear(extractionsBox).append(table({
      caption: t('lead.extractions'), captionHidden: true, rows: extractions, empty: t('lead.noExtractions'),
      columns: [
        { label: t('lead.when'), cell: (e) => dateTime(e.createdAt) },
        ...FEATURES.map((f) => ({ label: t(`feature.${f}`), className: 'num', cell: (e) => String(e.features[f]) })),
        { label: t('lead.extractionTotal'), className: 'num', cell: (e) => h('span', { class: 'ex-total' }, `${e.total}/15`) },
        { label: t('field.status'), cell: (e) => h('span', {}, statusBadge(t, e.temperature), e.isLatest ? [' ', badge(t('lead.latest'), 'default')] : null) },
        { label: t('lead.source'), cell: (e) => t(`extractionSource.${e.source}`) },
        { label: t('lead.reasoning'), cell: (e) => h('span', { class: 'ex-reasoning' }, e.reasoning) },
      ],
    }));
  }

  // ---------------------------------------------------------------- the timeline

  function drawNoteForm() {
    if (!canNote) { clear(noteBox); return; }
    const text = h('textarea', { id: 'note-text', rows: '3', maxlength: '1000', required: true });
    const submit = button(t('lead.addNote'), { kind: 'primary', type: 'submit', write: true, id: 'note-submit' });
    const error = h('p', { class: 'form-error', role: 'alert', id: 'note-error' });
    const form = h('form', { id: 'note-form', class: 'note-form', novalidate: true }, field(t('lead.note'), text), error, h('div', { class: 'form-actions' }, submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      const value = text.value.trim();
      if (!value) { error.textContent = t('lead.noteEmpty'); text.focus(); return; }
      submit.disabled = true;
      const answer = await api('POST', `/v1/leads/${encodeURIComponent(lead.id)}/notes`, { body: { text: value } });
      submit.disabled = false;
      if (!answer.ok) { error.textContent = leadError(t, answer); return; }
      text.value = '';
      const words = t('lead.noteAdded');
      ctx.announce(words);
      await loadTimeline(true);
      say(line, words, 'ok');
      text.focus();
    });
    clear(noteBox).append(form);
  }

  async function loadTimeline(reset) {
    if (reset) timelineCursor = null;
    const answer = await api('GET', `/v1/leads/${encodeURIComponent(id)}/activity?limit=${TIMELINE_PAGE}${timelineCursor ? `&cursor=${encodeURIComponent(timelineCursor)}` : ''}`);
    if (!ctx.isCurrent()) return;
    if (reset) clear(timelineBox);
    if (!answer.ok) { timelineBox.append(h('li', { class: 'form-error' }, leadError(t, answer))); more.hidden = true; return; }
    timelineCursor = answer.data.nextCursor || null;
    more.hidden = !timelineCursor;
    timelineBox.append(...answer.data.items.map(event));
    timelineBox.dataset.count = String(timelineBox.children.length);
  }

  function actorSpan(subject) {
    const mine = ctx.me && subject && String(subject).toLowerCase() === String(ctx.me.id).toLowerCase();
    const span = h('span', { class: 'lead-event-actor' }, mine ? t('leads.you') : subject);
    if (!mine) personLabel(ctx, subject).then((label) => { span.textContent = label; });
    return span;
  }

  function event(item) {
    const known = item.kind in KIND_MARKS;
    // people's ids in a summary (an assignment) read as their names when the page knows them
    const summary = item.summary.replace(UUIDS, (uuid) => {
      const found = people.find((u) => u.id.toLowerCase() === uuid.toLowerCase());
      return found ? (found.name || found.email) : uuid;
    });
    return h('li', { class: ['lead-event', `lead-event-${item.kind}`], dataset: { kind: item.kind, id: String(item.id) } },
      h('p', { class: 'timeline-head' },
        h('span', { class: 'lead-event-mark', 'aria-hidden': 'true' }, known ? KIND_MARKS[item.kind] : '•'), ' ',
        h('strong', { class: 'lead-event-kind' }, known ? t(`activity.${item.kind}`) : item.kind),
        // a move no person made: a rule's (named), or a purchase's
        item.data && item.data.automatic === true
          ? [' ', h('span', { class: 'lead-event-rule', dataset: { rule: item.data.rule || '' } },
            badge(item.data.ruleName ? t('lead.byRule', { rule: item.data.ruleName }) : t('lead.automatic'), 'default'))] : null),
      h('p', { class: 'lead-event-summary' }, summary),
      // a call's events open the call's page
      item.data && typeof item.data.call === 'string' && can('GET /v1/calls/{id}')
        ? h('p', {}, h('a', { href: `#/calls/${encodeURIComponent(item.data.call)}`, class: 'lead-event-call' }, t('lead.openCall'))) : null,
      h('p', { class: 'hint' }, actorSpan(item.actor), ' · ', h('time', { datetime: item.createdAt }, dateTime(item.createdAt))));
  }

  more.addEventListener('click', () => loadTimeline(false));

  if (await reload()) {
    if (query.get('created')) say(line, t('leads.created', { name: leadName(lead) }), 'ok');
    else if (query.get('existing')) say(line, t('leads.existing', { name: leadName(lead) }), 'ok');
    if (query.get('created') || query.get('existing')) ctx.setQuery({});
  }
}
