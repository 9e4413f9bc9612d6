// One agent: its settings ("Edit", "Archive" / "Activate"), its prompt versions per channel type (chat, sms, voice;
// versions never change, one is active: "Activate" a newer one, "Roll back to" an older one) with "Add a version",
// and a side-by-side diff of any two versions of a channel type (old on the left, new on the right; added and
// removed lines are marked in words and signs, not by colour alone).
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, badge, details, dialog, confirmAction, select } from '../lib/ui.js';
import { personSpan } from './people-cache.js';
import { agentForm, kindName, languageNames, toolNames, statusBadge } from './agents.js';

const CHANNEL_TYPES = ['chat', 'sms', 'voice'];
const SEMVER = /^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$/;

/** [major, minor, patch] of "1.2.0", or null. */
const parts = (v) => (SEMVER.test(v) ? v.split('.').map(Number) : null);
/** Negative, zero or positive as a is older than, the same as or newer than b. */
export function compareVersions(a, b) {
  const x = parts(a) || [0, 0, 0];
  const y = parts(b) || [0, 0, 0];
  for (let i = 0; i < 3; i += 1) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}
/** The next patch version after the newest of `versions` ("1.0.0" when there is none). */
export function nextPatch(versions) {
  const newest = versions.filter((v) => parts(v)).sort(compareVersions).pop();
  if (!newest) return '1.0.0';
  const [major, minor, patch] = parts(newest);
  return `${major}.${minor}.${patch + 1}`;
}

/**
 * The API's diff lines as rows of a side-by-side view: a same line on both sides; a run of removed lines next to
 * the run of added lines that replaced it, padded with empty cells.
 */
export function sideBySide(lines) {
  const rows = [];
  let removed = [];
  let added = [];
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i += 1) {
      rows.push({ left: i < removed.length ? { change: 'removed', text: removed[i] } : null, right: i < added.length ? { change: 'added', text: added[i] } : null });
    }
    removed = [];
    added = [];
  };
  for (const line of lines) {
    if (line.change === 'removed') removed.push(line.text);
    else if (line.change === 'added') added.push(line.text);
    else { flush(); rows.push({ left: { change: 'same', text: line.text }, right: { change: 'same', text: line.text } }); }
  }
  flush();
  return rows;
}

export async function render(ctx) {
  const { t, api, root, params, query, can } = ctx;
  const id = encodeURIComponent(params.id);
  const answer = await api('GET', `/v1/agents/${id}`);
  if (!answer.ok) {
    root.append(pageHeader(t('agent.title')), h('p', { class: 'form-error', role: 'alert' }, errorText(t, answer)),
      h('p', {}, h('a', { href: '#/agents' }, t('agent.back'))));
    return;
  }
  const agent = answer.data;
  const canEdit = can('PATCH /v1/agents/{id}');
  const canAddPrompt = can('POST /v1/agents/{id}/prompts');
  const canActivate = can('POST /v1/agents/{id}/prompts/{version}/activate');
  const canDiff = can('GET /v1/agents/{id}/prompts/diff');
  const status = statusLine();
  status.id = 'agent-status';
  const actions = [];
  if (can('POST /v1/agent/sessions') && agent.status !== 'archived') {
    actions.push(h('a', { href: `#/agents/${id}/try`, class: ['btn', 'btn-primary'], id: 'agent-try' }, t('try.open')));
  }
  if (canEdit) {
    actions.push(button(t('action.edit'), { write: true, id: 'agent-edit', on: edit }));
    if (agent.status !== 'active') actions.push(button(t(agent.status === 'draft' ? 'agent.goLive' : 'agent.activate'), { write: true, id: 'agent-activate', on: () => setStatus('active') }));
    if (agent.status !== 'archived') actions.push(button(t('agent.archive'), { write: true, kind: 'danger-quiet', id: 'agent-archive', on: () => setStatus('archived') }));
  }
  const policy = agent.policy || {};
  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/agents' }, t('agent.back'))),
    pageHeader(agent.name, actions),
    status,
    section(t('agent.details'), h('div', { id: 'agent-details' }, details([
      [t('agents.kind'), kindName(t, agent.kind)],
      [t('agents.product'), agent.product || t('agent.noProduct')],
      [t('agents.languages'), languageNames(t, agent.languages)],
      [t('agents.tone'), t('agents.toneOption', { tone: t(`tone.${agent.tone}`), what: t(`toneHint.${agent.tone}`) })],
      [t('agents.tools'), toolNames(t, agent.tools)],
      [t('agents.default'), agent.isDefault ? badge(t('agents.default'), 'default') : t('agent.notDefault')],
      [t('field.status'), statusBadge(t, agent.status)],
      [t('agents.handoffWords'), policy.handoffKeywords && policy.handoffKeywords.length ? policy.handoffKeywords.join(', ') : t('agent.noWords')],
      [t('agents.maxLength'), policy.maxAnswerLength ? t('agent.characters', { count: number(policy.maxAnswerLength) }) : t('agent.noLimit')],
      [t('field.created'), dateTime(agent.createdAt)],
      [t('field.updated'), dateTime(agent.updatedAt)],
    ]))));
  if (query.get('created')) say(status, t('agents.createdHere', { name: agent.name }), 'ok');
  else if (query.get('saved')) say(status, t('agents.saved', { name: agent.name }), 'ok');
  if (query.toString()) ctx.setQuery({});

  function edit() {
    agentForm(ctx, agent).then((saved) => {
      if (!saved) return;
      ctx.announce(t('agents.saved', { name: saved.name }));
      ctx.navigate(`#/agents/${id}?saved=1`);
    });
  }

  async function setStatus(next) {
    const archiving = next === 'archived';
    const done = await confirmAction({
      t, title: t(archiving ? 'agent.archiveTitle' : 'agent.activateTitle', { name: agent.name }),
      message: t(archiving ? 'agent.archiveBody' : 'agent.activateBody'),
      confirmLabel: t(archiving ? 'agent.archive' : 'agent.activate'), destructive: archiving,
      onConfirm: async () => {
        const result = await api('PATCH', `/v1/agents/${id}`, { body: { status: next } });
        return result.ok ? null : errorText(t, result);
      },
    });
    if (!done) return;
    ctx.announce(t('agents.saved', { name: agent.name }));
    ctx.navigate(`#/agents/${id}?saved=1`);
  }

  // ------------------------------------------------------------ channels (messaging's binding is the truth)
  if (can('GET /v1/channels')) await channelsSection();

  async function channelsSection() {
    const box = h('div', { id: 'agent-channels' });
    const channelStatus = statusLine();
    channelStatus.id = 'agent-channels-status';
    root.append(section(t('agent.channels'), h('p', { class: 'hint' }, t('agent.channelsIntro')), channelStatus, box));
    const listed = await api('GET', '/v1/channels?limit=200');
    if (!listed.ok) return say(channelStatus, errorText(t, listed), 'error');
    const channels = listed.data.items;
    const bound = channels.filter((c) => c.agentId === agent.id);
    const canBind = can('PUT /v1/channels/{id}/agent');
    clear(box).append(bound.length
      ? h('ul', { class: 'agent-channel-list' }, bound.map((c) => h('li', { dataset: { id: c.id } },
        h('a', { href: `#/channels/${encodeURIComponent(c.id)}` }, c.name), ' ', t(`channelKind.${c.kind}`),
        canBind ? [' ', button(t('agent.unbind'), { write: true, kind: 'danger-quiet', on: () => relink(c, null) })] : null)))
      : h('p', { class: 'empty', id: 'agent-no-channels' }, agent.isDefault ? t('agent.noChannelsDefault') : t('agent.noChannels')));
    const others = channels.filter((c) => c.agentId !== agent.id);
    if (canBind && others.length && agent.status !== 'archived') {
      const pick = select(others.map((c) => [c.id, `${c.name} (${t(`channelKind.${c.kind}`)})`]), { id: 'agent-bind-channel' });
      box.append(h('div', { class: 'form-row' }, field(t('agent.bindChannel'), pick),
        button(t('agent.bind'), { write: true, id: 'agent-bind', on: () => relink(others.find((c) => c.id === pick.value), agent.id) })));
    }
  }

  // binding or unbinding archives the channel's open conversations: said first, and how many after
  function relink(c, agentId) {
    const reason = h('textarea', { id: 'agent-bind-reason', required: true, maxlength: '500', rows: '2' });
    const d = dialog({
      t, title: t(agentId ? 'agent.bindTitle' : 'agent.unbindTitle', { channel: c.name, name: agent.name }),
      submitLabel: t(agentId ? 'agent.bind' : 'agent.unbind'), destructive: true,
      body: h('div', {}, h('p', { class: 'notice' }, t('channel.bindBody')), field(t('field.reason'), reason)),
      onSubmit: async ({ close, fail }) => {
        if (!reason.value.trim()) return fail(t('error.reasonRequired'));
        const result = await api('PUT', `/v1/channels/${encodeURIComponent(c.id)}/agent`, { body: { agentId, reason: reason.value.trim() } });
        if (!result.ok) return fail(errorText(t, result));
        close(result.data);
      },
    });
    d.done.then((result) => {
      if (!result) return;
      ctx.announce(t('channel.bound', { count: number(result.archivedConversations) }));
      ctx.navigate(`#/agents/${id}?saved=1`);
    });
  }

  if (!can('GET /v1/agents/{id}/prompts')) return;

  // ------------------------------------------------------------ prompt versions
  const promptStatus = statusLine();
  promptStatus.id = 'prompts-status';
  const promptBox = h('div', { id: 'prompts' });
  const addButton = canAddPrompt ? button(t('prompts.add'), { kind: 'primary', write: true, id: 'prompt-add', on: () => addVersion() }) : null;
  const diffBox = h('div', { id: 'diff-area' });
  root.append(
    section(t('prompts.title'), h('p', { class: 'hint' }, t('prompts.intro')),
      addButton ? h('div', { class: 'form-actions' }, addButton) : null, promptStatus, promptBox),
    diffBox);

  let versions = [];
  const ofType = (type) => versions.filter((v) => v.channelType === type);
  const activeOf = (type) => ofType(type).find((v) => v.active);

  async function loadPrompts() {
    const got = await api('GET', `/v1/agents/${id}/prompts`);
    if (!got.ok) { say(promptStatus, errorText(t, got), 'error'); return; }
    versions = got.data.items.slice().sort((a, b) => (a.channelType === b.channelType ? compareVersions(b.version, a.version) : 0));
    clear(promptBox).append(...CHANNEL_TYPES.map(drawType));
    drawDiffForm();
  }

  function drawType(type) {
    const list = ofType(type);
    const active = activeOf(type);
    const headingId = `prompts-${type}-title`;
    return h('section', { class: 'prompt-group', id: `prompts-${type}`, 'aria-labelledby': headingId },
      h('h3', { id: headingId }, t(`channelType.${type}`)),
      list.length ? h('ul', { class: 'prompt-list' }, list.map((v) => drawVersion(v, active))) : h('p', { class: 'empty' }, t('prompts.none')));
  }

  function drawVersion(v, active) {
    const older = active && compareVersions(v.version, active.version) < 0;
    const label = older ? t('prompts.rollBack', { version: v.version }) : t('prompts.activate', { version: v.version });
    return h('li', { class: ['prompt-version', v.active ? 'is-active' : null], dataset: { version: v.version, channelType: v.channelType, active: String(v.active) } },
      h('div', { class: 'prompt-head' },
        h('span', { class: 'prompt-number mono' }, v.version),
        v.active ? badge(t('prompts.active'), 'active') : null,
        h('span', { class: 'hint' }, personSpan(ctx, h, v.createdBy, (who) => t('prompts.by', { who, when: dateTime(v.createdAt) }))),
        !v.active && canActivate ? button(label, {
          write: true, kind: older ? 'danger-quiet' : 'secondary',
          dataset: { write: '', action: older ? 'rollback' : 'activate' },
          on: () => activate(v, older),
        }) : null),
      v.notes ? h('p', { class: 'prompt-notes' }, v.notes) : null,
      h('details', { class: 'prompt-body' }, h('summary', {}, t('prompts.showBody')), h('pre', { class: 'mono' }, v.body)));
  }

  async function activate(v, older) {
    const done = await confirmAction({
      t, title: older ? t('prompts.rollBackTitle', { version: v.version, type: t(`channelType.${v.channelType}`) })
        : t('prompts.activateTitle', { version: v.version, type: t(`channelType.${v.channelType}`) }),
      message: t(older ? 'prompts.rollBackBody' : 'prompts.activateBody', { active: (activeOf(v.channelType) || {}).version || '—' }),
      confirmLabel: older ? t('prompts.rollBack', { version: v.version }) : t('prompts.activate', { version: v.version }),
      destructive: older,
      onConfirm: async () => {
        const result = await api('POST', `/v1/agents/${id}/prompts/${encodeURIComponent(v.version)}/activate?channelType=${encodeURIComponent(v.channelType)}`);
        return result.ok ? null : errorText(t, result);
      },
    });
    if (!done) return;
    await loadPrompts();
    const words = t(older ? 'prompts.rolledBack' : 'prompts.activated', { version: v.version, type: t(`channelType.${v.channelType}`) });
    say(promptStatus, words, 'ok');
    ctx.announce(words);
  }

  function addVersion() {
    const type = select(CHANNEL_TYPES.map((x) => [x, t(`channelType.${x}`)]), { id: 'prompt-type', value: 'chat' });
    const version = h('input', { id: 'prompt-version', required: true, maxlength: '20', autocomplete: 'off', spellcheck: 'false', class: 'mono', pattern: SEMVER.source });
    const text = h('textarea', { id: 'prompt-body', required: true, maxlength: '32000', rows: '10', spellcheck: 'true' });
    const notes = h('textarea', { id: 'prompt-notes', maxlength: '2000', rows: '2' });
    let versionTouched = false;
    let bodyTouched = false;
    version.addEventListener('input', () => { versionTouched = true; });
    text.addEventListener('input', () => { bodyTouched = true; });
    // the next patch version and the active text of the chosen type, until the person types their own
    const suggest = () => {
      if (!versionTouched) version.value = nextPatch(ofType(type.value).map((v) => v.version));
      if (!bodyTouched) text.value = (activeOf(type.value) || {}).body || '';
    };
    type.addEventListener('change', suggest);
    suggest();
    const d = dialog({
      t, title: t('prompts.addTitle', { name: agent.name }), submitLabel: t('prompts.addSubmit'),
      body: h('div', { id: 'prompt-form' },
        h('p', { class: 'hint' }, t('prompts.immutable')),
        field(t('prompts.channelType'), type),
        field(t('prompts.version'), version, { hint: t('prompts.versionHint') }),
        field(t('prompts.body'), text, { hint: t('prompts.bodyHint') }),
        field(t('prompts.notes'), notes, { hint: t('prompts.notesHint') })),
      onSubmit: async ({ close, fail }) => {
        const v = version.value.trim();
        if (!SEMVER.test(v)) return fail(t('error.invalid_version'));
        if (!text.value.trim()) return fail(t('prompts.needBody'));
        const payload = { channelType: type.value, version: v, body: text.value };
        if (notes.value.trim()) payload.notes = notes.value.trim();
        const result = await api('POST', `/v1/agents/${id}/prompts`, { body: payload });
        if (!result.ok) return fail(errorText(t, result));
        close(result.data);
      },
    });
    d.done.then(async (created) => {
      if (!created) return;
      await loadPrompts();
      const words = t(created.active ? 'prompts.addedActive' : 'prompts.added', { version: created.version, type: t(`channelType.${created.channelType}`) });
      say(promptStatus, words, 'ok');
      ctx.announce(words);
    });
  }

  // ------------------------------------------------------------ the diff of two versions
  let diffType = 'chat';
  function drawDiffForm() {
    if (!canDiff) return;
    const types = CHANNEL_TYPES.filter((x) => ofType(x).length >= 2);
    if (!types.length) {
      clear(diffBox).append(section(t('diff.title'), h('p', { class: 'empty', id: 'diff-none' }, t('diff.needTwo'))));
      return;
    }
    if (!types.includes(diffType)) [diffType] = types;
    const type = select(types.map((x) => [x, t(`channelType.${x}`)]), { id: 'diff-type', value: diffType });
    const from = h('select', { id: 'diff-from' });
    const to = h('select', { id: 'diff-to' });
    const fill = () => {
      const list = ofType(type.value).map((v) => v.version);
      clear(from).append(...list.map((v) => h('option', { value: v }, v)));
      clear(to).append(...list.map((v) => h('option', { value: v }, v)));
      // newest against the one before it
      [to.value] = list;
      from.value = list[1];
    };
    fill();
    type.addEventListener('change', () => { diffType = type.value; fill(); });
    const result = h('div', { id: 'diff-result', 'aria-live': 'polite' });
    const error = h('p', { class: 'form-error', role: 'alert', id: 'diff-error' });
    const compare = button(t('diff.compare'), { kind: 'primary', type: 'submit', id: 'diff-compare' });
    const form = h('form', { id: 'diff-form', class: 'inline-fields' },
      field(t('prompts.channelType'), type), field(t('diff.from'), from), field(t('diff.to'), to), compare);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      compare.disabled = true;
      const qs = new URLSearchParams({ from: from.value, to: to.value, channelType: type.value });
      const got = await api('GET', `/v1/agents/${id}/prompts/diff?${qs}`);
      compare.disabled = false;
      if (!got.ok) { clear(result); error.textContent = errorText(t, got); return; }
      drawDiff(result, got.data, type.value);
    });
    clear(diffBox).append(section(t('diff.title'), h('p', { class: 'hint' }, t('diff.intro')), form, error, result));
  }

  function drawDiff(box, diff, type) {
    const rows = sideBySide(diff.lines);
    const addedCount = diff.lines.filter((l) => l.change === 'added').length;
    const removedCount = diff.lines.filter((l) => l.change === 'removed').length;
    const cell = (side, which) => {
      if (!side) return [h('td', { class: 'diff-sign diff-empty', 'aria-hidden': 'true' }), h('td', { class: 'diff-text diff-empty' }, h('span', { class: 'visually-hidden' }, t('diff.nothing')))];
      const sign = side.change === 'added' ? '+' : side.change === 'removed' ? '−' : '';
      const spoken = side.change === 'same' ? '' : t(`diff.${side.change}`);
      return [
        h('td', { class: ['diff-sign', `diff-${side.change}`], 'aria-hidden': 'true' }, sign),
        h('td', { class: ['diff-text', `diff-${side.change}`], dataset: { side: which, change: side.change } },
          spoken ? h('span', { class: 'visually-hidden' }, `${spoken}: `) : null,
          h('span', { class: 'diff-line' }, side.text === '' ? '\u00a0' : side.text)),
      ];
    };
    const captionId = 'diff-caption';
    clear(box).append(
      h('p', { id: 'diff-summary', class: 'summary' }, t('diff.summary', {
        from: diff.from, to: diff.to, type: t(`channelType.${type}`), added: number(addedCount), removed: number(removedCount),
      })),
      ...(addedCount || removedCount ? [] : [h('p', { class: 'empty' }, t('diff.same'))]),
      h('div', { class: 'table-wrap', role: 'region', 'aria-labelledby': captionId, tabindex: '0' },
        h('table', { class: 'prompt-diff', id: 'prompt-diff' },
          h('caption', { id: captionId, class: 'visually-hidden' }, t('diff.caption', { from: diff.from, to: diff.to })),
          h('colgroup', {}, h('col', { class: 'diff-sign-col' }), h('col', {}), h('col', { class: 'diff-sign-col' }), h('col', {})),
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col', colspan: '2' }, t('diff.old', { version: diff.from })),
            h('th', { scope: 'col', colspan: '2' }, t('diff.new', { version: diff.to })))),
          h('tbody', {}, rows.map((r) => h('tr', {}, cell(r.left, 'old'), cell(r.right, 'new')))))));
  }

  await loadPrompts();
}
