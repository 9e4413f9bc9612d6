// Who receives new leads (GET/PUT /v1/assignment), shown on the pipeline page below its rules: the people new leads go
// to, in turn, each on duty or not and narrowed by languages (the lead's locale's language), tags (any one shared) and
// regions (any case); an empty list lets any lead through. Everyone who reads the pipeline sees the list (a person named
// from the tenant's users, the people cache, or by id where the page cannot read people). Those who shape the pipeline
// get the editor: add a person (picked from the tenant's users, or by id for those who cannot list them), remove,
// reorder, on duty, the three lists comma-separated; the API judges them and a refusal is said as it gave it.
import { h, clear } from '../lib/dom.js';
import { field, button, statusLine, say, select, checkbox, badge, errorText } from '../lib/ui.js';
import { personName, leadError } from './leads-shared.js';
import { personSpan } from './people-cache.js';
import { isUUID } from '../lib/campaign.js';

// refusals with a sentence of their own; invalid_members (a language code, too many…) is said in the API's words
const ERRORS = { invalid_tags: 'leadError.invalid_tags', invalid_region: 'leadError.invalid_region' };

const same = (a, b) => String(a).toLowerCase() === String(b).toLowerCase();

/** "sw, EN ,, en" → ["sw", "en"]: trimmed, empty entries and repeats left out (languages in lower case). */
export function listOf(text, lower = false) {
  const out = [];
  for (const part of String(text || '').split(',')) {
    const value = lower ? part.trim().toLowerCase() : part.trim();
    if (value && !out.some((x) => (lower ? x === value : x.toLowerCase() === value.toLowerCase()))) out.push(value);
  }
  return out;
}

/** A member's name: "You", a person of the tenant, else what the people cache knows (or the id). */
function nameOf(ctx, people, userId) {
  const { t } = ctx;
  if (ctx.me && same(ctx.me.id, userId)) return h('span', { class: 'person' }, t('assignment.you', { name: ctx.me.name || ctx.me.email }));
  const found = people.find((u) => same(u.id, userId));
  if (found) return h('span', { class: 'person' }, personName(found));
  return personSpan(ctx, h, String(userId).toLowerCase());
}

/** Draws the assignment into `box`; `people` are the tenant's users the page may list ([] when it cannot). */
export async function renderAssignment(ctx, box, people) {
  const { t, api, can } = ctx;
  box.dataset.ready = 'false';
  const answer = await api('GET', '/v1/assignment');
  if (!ctx.isCurrent()) return;
  if (!answer.ok) {
    clear(box).append(h('p', { class: 'form-error', id: 'assignment-load-error' }, errorText(t, answer)));
    box.dataset.ready = 'true';
    return;
  }
  const members = answer.data.members;
  const any = t('assignment.any');
  const words = (list) => (list.length ? list.join(', ') : any);
  const list = members.length
    ? h('ol', { class: 'assign-list', id: 'assignment-list' }, members.map((m) => h('li', {
      dataset: { userId: String(m.userId).toLowerCase(), onDuty: String(m.onDuty) },
    },
    h('strong', { class: 'assign-list-name' }, nameOf(ctx, people, m.userId)), ' ',
    badge(t(m.onDuty ? 'assignment.onDuty' : 'assignment.offDuty'), m.onDuty ? 'active' : 'inactive'), ' ',
    h('span', { class: 'assign-list-text' },
      h('span', { class: 'assign-list-languages' }, t('assignment.languagesOf', { list: words(m.languages) })), ' · ',
      h('span', { class: 'assign-list-tags' }, t('assignment.tagsOf', { list: words(m.tags) })), ' · ',
      h('span', { class: 'assign-list-regions' }, t('assignment.regionsOf', { list: words(m.regions) }))))))
    : h('p', { class: 'empty', id: 'assignment-none' }, t('assignment.none'));
  const canWrite = can('PUT /v1/assignment');
  clear(box).append(...[
    h('p', { class: 'hint' }, t('assignment.intro')), list,
    canWrite ? editor(ctx, box, people, members) : h('p', { class: 'hint', id: 'assignment-readonly' }, t('assignment.readOnly')),
  ]);
  box.dataset.ready = 'true';
}

function editor(ctx, box, people, members) {
  const { t, api } = ctx;
  const canList = ctx.can('GET /v1/users');
  const rows = h('ol', { class: 'assign-rows', id: 'assignment-rows' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'assignment-error' });
  const status = statusLine();
  status.id = 'assignment-status';

  const inRows = () => [...rows.querySelectorAll('.assign-row')].map((row) => row.dataset.userId);

  const addRow = (m) => {
    const userId = String(m.userId).toLowerCase();
    const name = nameOf(ctx, people, userId);
    const duty = checkbox(t('assignment.onDuty'), { class: 'assign-duty', checked: m.onDuty });
    const languages = h('input', { class: 'assign-languages', maxlength: '100', autocomplete: 'off', value: m.languages.join(', '), placeholder: t('assignment.anyPlaceholder') });
    const tags = h('input', { class: 'assign-tags', maxlength: '1300', autocomplete: 'off', value: m.tags.join(', '), placeholder: t('assignment.anyPlaceholder') });
    const regions = h('input', { class: 'assign-regions', maxlength: '3100', autocomplete: 'off', value: m.regions.join(', '), placeholder: t('assignment.anyPlaceholder') });
    const row = h('li', { class: 'assign-row', dataset: { userId } },
      h('p', { class: 'assign-row-name' }, name),
      h('div', { class: 'assign-fields' },
        field(t('assignment.languages'), languages, { hint: t('assignment.languagesHint') }),
        field(t('assignment.tags'), tags, { hint: t('assignment.tagsHint') }),
        field(t('assignment.regions'), regions, { hint: t('assignment.regionsHint') })),
      h('div', { class: 'assign-row-actions' }, duty.el,
        button('↑', { class: 'btn btn-secondary assign-up', 'aria-label': t('assignment.up'), title: t('assignment.up'), on: () => { if (row.previousElementSibling) { rows.insertBefore(row, row.previousElementSibling); row.querySelector('.assign-up').focus(); } } }),
        button('↓', { class: 'btn btn-secondary assign-down', 'aria-label': t('assignment.down'), title: t('assignment.down'), on: () => { if (row.nextElementSibling) { rows.insertBefore(row.nextElementSibling, row); row.querySelector('.assign-down').focus(); } } }),
        button(t('assignment.remove'), { class: 'btn btn-danger-quiet assign-remove', write: true, on: () => { row.remove(); drawPicker(); (picker || add).focus(); } })));
    // what the API is sent for this row
    row.member = () => ({
      userId, onDuty: duty.input.checked,
      languages: listOf(languages.value, true), tags: listOf(tags.value), regions: listOf(regions.value),
    });
    rows.append(row);
    return languages;
  };
  for (const m of members) addRow(m);

  // the person to add: the tenant's users not yet in the list, or an id typed by those who cannot list them
  let picker = null;
  const personId = canList ? null : h('input', { id: 'assignment-person-id', class: 'mono', maxlength: '36', autocomplete: 'off', spellcheck: 'false' });
  const pickerBox = h('div', { class: 'assign-picker' });
  function drawPicker() {
    if (!canList) return;
    const taken = inRows();
    const left = people.filter((u) => !taken.some((id) => same(id, u.id)));
    picker = select(left.length ? left.map((u) => [String(u.id).toLowerCase(), personName(u)]) : [['', t('assignment.nobodyLeft')]], { id: 'assignment-person' });
    picker.disabled = !left.length;
    add.disabled = !left.length;
    clear(pickerBox).append(field(t('assignment.person'), picker));
  }
  const add = button(t('assignment.add'), {
    id: 'assignment-add', write: true,
    on: () => {
      error.textContent = '';
      error.dataset.code = '';
      const id = canList ? picker.value : personId.value.trim().toLowerCase();
      if (!id) return;
      if (!canList && !isUUID(id)) { error.textContent = t('assignment.badId'); personId.focus(); return; }
      if (inRows().some((x) => same(x, id))) { error.textContent = t('assignment.already'); return; }
      const focus = addRow({ userId: id, onDuty: true, languages: [], tags: [], regions: [] });
      if (personId) personId.value = '';
      drawPicker();
      focus.focus();
    },
  });
  drawPicker();
  const adder = h('div', { class: 'inline-fields', id: 'assignment-adder' },
    canList ? pickerBox : field(t('assignment.personId'), personId, { hint: t('assignment.personIdHint') }), add);
  const save = button(t('assignment.save'), { kind: 'primary', type: 'submit', id: 'assignment-save', write: true });
  const form = h('form', { id: 'assignment-form', novalidate: true },
    h('h3', {}, t('assignment.editTitle')), h('p', { class: 'hint' }, t('assignment.editIntro')),
    rows, adder, h('div', { class: 'form-actions' }, save), error, status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    error.dataset.code = '';
    say(status, '');
    save.disabled = true;
    const body = { members: [...rows.querySelectorAll('.assign-row')].map((row) => row.member()) };
    const answer = await api('PUT', '/v1/assignment', { body });
    save.disabled = false;
    if (!answer.ok) {
      const code = (answer.error && answer.error.code) || '';
      error.textContent = ERRORS[code] ? leadError(t, answer) : errorText(t, answer);
      error.dataset.code = code;
      return;
    }
    await renderAssignment(ctx, box, people);
    const words = t('assignment.saved', { count: answer.data.members.length });
    const again = box.querySelector('#assignment-status');
    if (again) say(again, words, 'ok');
    ctx.announce(words);
  });
  return form;
}
