// Pipeline: the tenant's stages as a board, a column per stage with its figures (leads, the deals' worth, the share of
// the leads that reached it and converted since) and its leads as cards (name or masked phone, score and status,
// assignee, next action), filtered by assignee, tag and search. Those who move leads drag a card to another column, or
// use the card's "Move to…" select (the keyboard's way); either asks why, then PUTs the stage, and a refusal is said in
// the dialog. "New lead" opens the lead form (a phone the tenant already has answers its lead, filled in). Those who
// shape the pipeline get the stages editor: a preset (real estate) or names, order and kinds by hand; a stage that
// still holds leads cannot be removed (409 stage_in_use), said with the stages and their leads. Below the board, the
// rules that move leads by themselves, and their editor for those who shape the pipeline (pipeline-rules.js); then who
// receives new leads, in turn, and its editor for the same people (pipeline-assignment.js).
import { h, clear } from '../lib/dom.js';
import { number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, select, section, badge } from '../lib/ui.js';
import {
  STAGE_KINDS, allLeads, stagesOf, peopleOf, personName, assigneeText, leadError, leadName, maskedPhone, newLeadDialog, moveLead,
  scoreBadge, percent, valueText, stageName, leadQuery, whenText,
} from './leads-shared.js';
import { renderRules } from './pipeline-rules.js';
import { renderAssignment } from './pipeline-assignment.js';

const MAX_CARDS = 1000;
const KEY = /^[a-z][a-z0-9_]{0,39}$/;

/** A stage key from its name: "Calificación financiera" → "calificacion_financiera". */
export function keyOf(name) {
  const base = String(name).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  const key = /^[a-z]/.test(base) ? base : `stage_${base}`;
  return key.slice(0, 40).replace(/_+$/, '') || 'stage';
}

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const canCreate = can('POST /v1/leads');
  const canMove = can('PUT /v1/leads/{id}/stage');
  const canStages = can('PUT /v1/pipeline/stages');
  const canRules = can('GET /v1/pipeline/rules');
  const canAssignment = can('GET /v1/assignment');

  const [people, loaded] = await Promise.all([peopleOf(ctx), stagesOf(api)]);
  let stages = loaded.stages;
  const presets = loaded.presets;

  const assignee = people.length ? select([['', t('leads.anyAssignee')], ['none', t('leads.unassigned')], ...people.map((u) => [u.id, personName(u)])],
    { id: 'pl-assignee', value: query.get('assignee') || '' }) : null;
  const tag = h('input', { id: 'pl-tag', maxlength: '40', autocomplete: 'off', value: query.get('tag') || '' });
  const search = h('input', { id: 'pl-q', type: 'search', maxlength: '100', autocomplete: 'off', value: query.get('q') || '' });
  const form = h('form', { class: 'filters', id: 'pl-filters' },
    assignee ? field(t('leads.assignee'), assignee) : null,
    field(t('leads.tag'), tag), field(t('leads.search'), search, { hint: t('leads.searchHint') }),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'pl-apply' }),
      button(t('action.reset'), { id: 'pl-reset', on: () => { if (assignee) assignee.value = ''; tag.value = ''; search.value = ''; refresh(); } })));
  const line = statusLine();
  line.id = 'pl-status';
  const board = h('div', { id: 'pl-board', class: 'pl-board-box' });
  const editorBox = h('div', { id: 'stages-editor' });
  const rulesBox = h('div', { id: 'rules-box' });
  const assignmentBox = h('div', { id: 'assignment-box' });

  root.append(
    pageHeader(t('pipeline.title'),
      canCreate ? button(t('leads.new'), { kind: 'primary', write: true, id: 'pl-new', on: () => create() }) : null,
      h('a', { href: '#/leads', class: 'btn btn-secondary', id: 'pl-to-leads' }, t('pipeline.toList'))),
    h('p', { class: 'hint' }, canMove ? t('pipeline.introMove') : t('pipeline.intro')),
    form, line, board,
    canRules ? section(t('autoRules.title'), rulesBox) : null,
    canAssignment ? section(t('assignment.title'), assignmentBox) : null,
    canStages ? section(t('stages.title'), editorBox) : null);

  let figures = [];
  let leads = [];
  let dragged = null;

  function filter() {
    const f = { tag: tag.value.trim(), q: search.value.trim() };
    // "none" is shown by the page (the API filters by a person, not by nobody)
    if (assignee && assignee.value && assignee.value !== 'none') f.assigneeId = assignee.value;
    return f;
  }

  let loading = 0;
  async function refresh(message, kind = 'ok') {
    ctx.setQuery({ assignee: assignee ? assignee.value : '', tag: tag.value.trim(), q: search.value.trim() });
    const ticket = ++loading;
    board.dataset.ready = 'false';
    if (!message) say(line, t('app.loading'));
    const [pipe, list] = await Promise.all([api('GET', '/v1/pipeline'), allLeads(api, leadQuery(filter()), MAX_CARDS)]);
    if (ticket !== loading || !ctx.isCurrent()) return;
    if (!pipe.ok) { say(line, leadError(t, pipe), 'error'); return; }
    if (list.error) { say(line, leadError(t, list.error), 'error'); return; }
    figures = pipe.data.stages;
    stages = figures.map(({ key, name, kind }) => ({ key, name, kind }));
    leads = assignee && assignee.value === 'none' ? list.items.filter((l) => !l.assigneeId) : list.items;
    drawBoard();
    board.dataset.ready = 'true';
    const filtered = Object.values(filter()).some(Boolean) || (assignee && assignee.value === 'none');
    if (message) say(line, message, kind);
    else if (list.truncated) say(line, t('pipeline.truncated', { count: number(leads.length) }));
    else say(line, filtered ? t('pipeline.countFiltered', { count: number(leads.length) }) : t('pipeline.count', { count: number(leads.length) }));
  }

  function drawBoard() {
    const byStage = new Map(stages.map((s) => [s.key, []]));
    for (const lead of leads) if (byStage.has(lead.stage)) byStage.get(lead.stage).push(lead);
    clear(board).append(h('div', { class: 'pl-board', id: 'pl-columns', role: 'list', 'aria-label': t('pipeline.boardLabel') },
      figures.map((f) => column(f, byStage.get(f.key) || []))));
  }

  function column(f, cards) {
    const titleId = `pl-col-title-${f.key}`;
    const list = h('ul', { class: 'pl-cards', 'aria-labelledby': titleId }, cards.map((lead) => card(lead)));
    const col = h('section', {
      class: ['pl-column', `pl-kind-${f.kind}`], role: 'listitem', 'aria-labelledby': titleId,
      dataset: { stage: f.key, kind: f.kind, count: String(f.leads), shown: String(cards.length) },
    },
    h('div', { class: 'pl-column-head' },
      h('h2', { id: titleId, class: 'pl-column-name' }, f.name, f.kind !== 'open' ? [' ', badge(t(`stageKind.${f.kind}`), `stage-${f.kind}`)] : null),
      h('dl', { class: 'pl-figures' },
        h('div', { class: 'pl-figure pl-count' }, h('dt', {}, t('pipeline.leads')), h('dd', {}, number(f.leads))),
        h('div', { class: 'pl-figure pl-value' }, h('dt', {}, t('pipeline.value')), h('dd', {}, valueText(f.value) || '—')),
        h('div', { class: 'pl-figure pl-conversion', dataset: { conversion: String(f.conversion) } },
          h('dt', {}, t('pipeline.conversion')), h('dd', {}, percent(f.conversion))))),
    cards.length ? list : h('p', { class: 'pl-empty empty' }, t('pipeline.emptyColumn')));
    if (canMove) {
      col.addEventListener('dragover', (event) => {
        if (!dragged || dragged.stage === f.key) return;
        event.preventDefault();
        if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
        col.classList.add('is-over');
      });
      col.addEventListener('dragleave', (event) => { if (!col.contains(event.relatedTarget)) col.classList.remove('is-over'); });
      col.addEventListener('drop', (event) => {
        event.preventDefault();
        col.classList.remove('is-over');
        const id = (event.dataTransfer && event.dataTransfer.getData('text/plain')) || (dragged && dragged.id);
        const lead = leads.find((l) => l.id === id);
        dragged = null;
        if (lead && lead.stage !== f.key) move(lead, f.key);
      });
    }
    return col;
  }

  function card(lead) {
    const who = leadName(lead);
    const facts = [
      h('span', { class: 'pl-card-assignee' }, t('pipeline.assignedTo', { name: assigneeText(ctx, people, lead.assigneeId) })),
      lead.nextActionAt ? h('span', { class: 'pl-card-next', dataset: { at: lead.nextActionAt } }, t('pipeline.nextAt', { when: whenText(lead.nextActionAt) })) : null,
    ];
    const item = h('li', {
      class: 'pl-card', dataset: { id: lead.id, stage: lead.stage, score: String(lead.score), status: lead.status },
      draggable: canMove ? 'true' : null,
    },
    h('a', { href: `#/leads/${encodeURIComponent(lead.id)}`, class: 'pl-card-name' }, who),
    lead.name ? h('span', { class: 'pl-card-phone mono' }, maskedPhone(lead.phone)) : null,
    scoreBadge(t, lead),
    h('span', { class: 'pl-card-facts' }, facts),
    (lead.tags || []).length ? h('span', { class: 'pl-card-tags' }, lead.tags.map((x) => h('span', { class: 'tag' }, x))) : null,
    canMove ? moveSelect(lead, who) : null);
    if (canMove) {
      item.addEventListener('dragstart', (event) => {
        dragged = lead;
        if (event.dataTransfer) { event.dataTransfer.setData('text/plain', lead.id); event.dataTransfer.effectAllowed = 'move'; }
        item.classList.add('is-dragged');
      });
      item.addEventListener('dragend', () => {
        item.classList.remove('is-dragged');
        for (const c of board.querySelectorAll('.pl-column.is-over')) c.classList.remove('is-over');
      });
    }
    return item;
  }

  function moveSelect(lead, who) {
    const choice = select([['', t('pipeline.moveTo')], ...stages.filter((s) => s.key !== lead.stage).map((s) => [s.key, s.name])], {
      class: 'pl-move', 'aria-label': t('pipeline.moveLabel', { name: who }), dataset: { write: '' },
    });
    choice.addEventListener('change', async () => {
      const to = choice.value;
      if (!to) return;
      await move(lead, to);
      // still on the board (cancelled or refused): back to "Move to…"
      if (choice.isConnected) choice.value = '';
    });
    return choice;
  }

  async function move(lead, to) {
    const moved = await moveLead(ctx, lead, to, stages);
    if (!moved) return;
    const words = t('pipeline.moved', { name: leadName(moved), stage: stageName(stages, moved.stage) });
    ctx.announce(words);
    await refresh(words);
    // the card keeps the keyboard's place: focus its select in the new column
    const again = board.querySelector(`.pl-card[data-id="${moved.id}"] .pl-move`);
    if (again) again.focus();
  }

  function create() {
    newLeadDialog(ctx, { stages, people }).then(async (result) => {
      if (!result) return;
      const { lead, created } = result;
      const words = created ? t('leads.created', { name: leadName(lead) }) : t('leads.existing', { name: leadName(lead) });
      ctx.announce(words);
      await refresh(words);
      line.dataset.outcome = created ? 'created' : 'existing';
      line.dataset.lead = lead.id;
      line.append(' ', h('a', { href: `#/leads/${encodeURIComponent(lead.id)}`, id: 'pl-created-link' }, t('leads.openIt')));
    });
  }

  // ---------------------------------------------------------------- the stages editor

  function drawEditor() {
    const error = h('p', { class: 'form-error', role: 'alert', id: 'stages-error' });
    const status = statusLine();
    status.id = 'stages-status';
    const presetSelect = select(presets.map((p) => [p, t(`pipelinePreset.${p}`)]), { id: 'stages-preset', value: presets.includes('real_estate') ? 'real_estate' : presets[0] });
    const applyPreset = button(t('stages.applyPreset'), { id: 'stages-apply-preset', write: true });
    const rows = h('ol', { class: 'stage-rows', id: 'stages-rows' });
    const addRow = (stage) => {
      const isNew = !stage;
      const s = stage || { key: '', name: '', kind: 'open' };
      const name = h('input', { class: 'stage-name', required: true, maxlength: '80', autocomplete: 'off', value: s.name, 'aria-label': t('stages.name') });
      const key = h('input', {
        class: 'stage-key mono', maxlength: '40', autocomplete: 'off', value: s.key, readOnly: !isNew, 'aria-label': t('stages.key'),
        placeholder: isNew ? t('stages.keyAuto') : null,
      });
      const kind = select(STAGE_KINDS.map((k) => [k, t(`stageKind.${k}`)]), { class: 'stage-kind', value: s.kind, 'aria-label': t('stages.kind') });
      const row = h('li', { class: 'stage-row', dataset: { key: s.key, new: isNew ? 'true' : 'false' } },
        name, key, kind,
        h('span', { class: 'stage-row-actions' },
          button('↑', { class: 'btn btn-secondary stage-up', 'aria-label': t('stages.up'), title: t('stages.up'), on: () => { if (row.previousElementSibling) { rows.insertBefore(row, row.previousElementSibling); row.querySelector('.stage-up').focus(); } } }),
          button('↓', { class: 'btn btn-secondary stage-down', 'aria-label': t('stages.down'), title: t('stages.down'), on: () => { if (row.nextElementSibling) { rows.insertBefore(row.nextElementSibling, row); row.querySelector('.stage-down').focus(); } } }),
          button(t('stages.remove'), { class: 'btn btn-danger-quiet stage-remove', write: true, on: () => { row.remove(); add.focus(); } })));
      rows.append(row);
      return name;
    };
    for (const s of stages) addRow(s);
    const add = button(t('stages.add'), { id: 'stages-add', write: true, on: () => addRow(null).focus() });
    const save = button(t('stages.save'), { kind: 'primary', type: 'submit', id: 'stages-save', write: true });
    const editor = h('form', { id: 'stages-form', novalidate: true },
      h('p', { class: 'hint' }, t('stages.intro')),
      h('div', { class: 'stage-head', 'aria-hidden': 'true' }, h('span', {}, t('stages.name')), h('span', {}, t('stages.key')), h('span', {}, t('stages.kind'))),
      rows, h('div', { class: 'form-actions' }, add, save));
    const presetForm = h('div', { class: 'inline-fields', id: 'stages-presets' },
      field(t('stages.preset'), presetSelect, { hint: t('stages.presetHint') }), applyPreset);

    async function put(body, done) {
      error.textContent = '';
      say(status, '');
      const answer = await api('PUT', '/v1/pipeline/stages', { body });
      if (!answer.ok) {
        error.textContent = stagesError(answer, body);
        error.dataset.code = (answer.error && answer.error.code) || '';
        return;
      }
      stages = answer.data.stages;
      await refresh();
      drawEditor();
      if (canRules) await renderRules(ctx, rulesBox, stages);
      const words = done(answer.data.stages);
      say(editorBox.querySelector('#stages-status'), words, 'ok');
      ctx.announce(words);
    }

    applyPreset.addEventListener('click', () => put({ preset: presetSelect.value }, () => t('stages.presetApplied', { preset: t(`pipelinePreset.${presetSelect.value}`) })));
    editor.addEventListener('submit', (event) => {
      event.preventDefault();
      const list = [];
      for (const row of rows.querySelectorAll('.stage-row')) {
        const name = row.querySelector('.stage-name');
        const key = row.querySelector('.stage-key');
        if (!name.value.trim()) { error.textContent = t('stages.needName'); name.focus(); return; }
        const k = key.value.trim() || keyOf(name.value.trim());
        if (!KEY.test(k)) { error.textContent = t('stages.badKey'); key.focus(); return; }
        if (list.some((s) => s.key === k)) { error.textContent = t('stages.sameKey', { key: k }); key.focus(); return; }
        list.push({ key: k, name: name.value.trim(), kind: row.querySelector('.stage-kind').value });
      }
      if (list.length < 2 || list.length > 20) { error.textContent = t('stages.count'); return; }
      if (!STAGE_KINDS.every((k) => list.some((s) => s.kind === k))) { error.textContent = t('stages.kinds'); return; }
      put({ stages: list }, () => t('stages.saved'));
    });
    clear(editorBox).append(presetForm, editor, error, status);
  }

  /** A refusal of a new pipeline in words; for stage_in_use, which stages still hold how many leads. */
  function stagesError(answer, body) {
    const code = answer.error && answer.error.code;
    if (code !== 'stage_in_use') return leadError(t, answer);
    const kept = body.stages ? body.stages.map((s) => s.key) : null;
    const held = figures.filter((f) => f.leads > 0 && (kept ? !kept.includes(f.key) : true));
    // a preset's keys are not known here: the server's sentence names the first stage that holds leads
    const named = held.length && kept ? held : held.filter((f) => (answer.error.message || '').includes(`stage ${f.key}:`));
    const list = (named.length ? named : held).map((f) => t('stages.heldBy', { stage: f.name, count: number(f.leads) })).join(', ');
    return list ? t('leadError.stage_in_use_named', { stages: list }) : t('leadError.stage_in_use');
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); refresh(); });
  await refresh();
  if (canStages) drawEditor();
  if (canRules) await renderRules(ctx, rulesBox, stages);
  if (canAssignment) await renderAssignment(ctx, assignmentBox, people);
}
