// One channel: its settings and which secrets are set (hints only), how to connect it (the webhook URL to paste at
// the provider, or the web chat's script tag), "Edit", "Bind an agent" (which archives the open conversations) and a
// test send that shows the message it made and where its delivery stands.
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, badge, details, dialog, copyText, newKey, select } from '../lib/ui.js';
import { channelForm } from './channel-form.js';
import { KIND_FIELDS, usesPhoneNumbers, forgetChannels, tick, problem } from './messaging-shared.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// a test message is followed until it leaves the queue, for at most this many seconds
const FOLLOW_SECONDS = 20;
const SETTLED = new Set(['sent', 'delivered', 'read', 'failed', 'blocked', 'queued_throttled']);

/** A read-only copy of some text with a Copy button and a line saying it was copied (calls.js shows one too). */
export function copyField(t, label, value, { id, multiline = false, hint } = {}) {
  const input = multiline
    ? h('textarea', { id, readOnly: true, rows: '2', class: 'mono', spellcheck: 'false', value })
    : h('input', { id, readOnly: true, class: 'mono', spellcheck: 'false', value });
  input.addEventListener('focus', () => input.select());
  const copied = statusLine('copy-status');
  const copy = button(t('channels.copy'), {
    id: `${id}-copy`, 'aria-label': t('channels.copyNamed', { what: label }),
    on: async () => say(copied, (await copyText(input.value, input)) ? t('channels.copied') : t('channels.copyFailed')),
  });
  return h('div', { class: 'copy-field' }, field(label, input, { hint }), h('div', { class: 'form-actions' }, copy), copied);
}

/** The one line a site pastes to show the chat widget (the widget finds its channel by the public id). */
export function widgetTag(publicId) {
  return `<script src="${location.origin}/webchat/widget.js" data-channel="${publicId}" async></script>`;
}

export async function render(ctx) {
  const { t, api, root, params, query, can } = ctx;
  const answer = await api('GET', `/v1/channels/${encodeURIComponent(params.id)}`);
  if (!answer.ok) {
    root.append(pageHeader(t('channel.title')), h('p', { class: 'form-error', role: 'alert' }, errorText(t, answer)),
      h('p', {}, h('a', { href: '#/channels' }, t('channel.back'))));
    return;
  }
  const c = answer.data;
  const status = statusLine();
  status.id = 'channel-status';
  const actions = [];
  if (can('PATCH /v1/channels/{id}')) actions.push(button(t('action.edit'), { write: true, id: 'channel-edit', on: edit }));
  if (can('PUT /v1/channels/{id}/agent')) actions.push(button(t('channel.bindAgent'), { write: true, id: 'channel-bind', on: bind }));

  const configPairs = KIND_FIELDS[c.kind].config.map((spec) => {
    const value = c.config[spec.name];
    // (a checkbox's label is a sentence: the details name it shortly)
    if (spec.flag) return [t(`channelFieldShort.${spec.name}`), value ? t('channel.yes') : t('channel.no')];
    if (spec.list) return [t(`channelField.${spec.name}`), value && value.length ? h('ul', { class: 'plain', id: `channel-${spec.name}-list` }, value.map((v) => h('li', { class: 'mono' }, v))) : t('channel.none')];
    if (spec.options) return [t(`channelField.${spec.name}`), value ? t(`channelOption.${value}`) : null];
    return [t(`channelField.${spec.name}`), value ? h('span', { class: 'mono' }, value) : null];
  });
  const secretNames = KIND_FIELDS[c.kind].secrets;
  const secrets = secretNames.length
    ? h('dl', { class: 'details', id: 'channel-secrets' }, secretNames.map((name) => h('div', { dataset: { secret: name } },
      h('dt', {}, t(`secret.${name}`)),
      h('dd', {}, c.secretHints[name] ? h('code', { class: 'masked' }, c.secretHints[name]) : h('span', { class: 'cell-error' }, t('channel.secretMissing'))))))
    : h('p', { class: 'empty', id: 'channel-secrets' }, t('channels.noSecrets'));

  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/channels' }, t('channel.back'))),
    pageHeader(c.name, actions),
    status,
    h('div', { class: 'grid-2' },
      section(t('channel.details'), details([
        [t('channels.kind'), t(`channelKind.${c.kind}`)],
        [t('field.status'), badge(t(`channelStatus.${c.status}`), c.status === 'active' ? 'active' : 'inactive')],
        [t('channel.publicId'), h('code', { id: 'channel-public-id' }, c.publicId)],
        [t('channels.agent'), c.agentId ? h('code', { id: 'channel-agent-id' }, c.agentId) : t('channels.noAgent')],
        ...configPairs,
        [t('field.created'), dateTime(c.createdAt)],
        [t('field.updated'), dateTime(c.updatedAt)],
      ])),
      section(t('channels.secrets'), h('p', { class: 'hint' }, t('channel.secretsIntro')), secrets)),
    // (nothing to show is null: left out, since the DOM's own append would write it as text)
    ...[connect(), testSend()].filter(Boolean));
  // what the change that drew this page again did (created, saved, an agent bound), said once and dropped from the address
  if (query.get('created')) say(status, t('channel.createdHere', { name: c.name }), 'ok');
  else if (query.get('saved')) say(status, t('channels.saved', { name: c.name }), 'ok');
  else if (query.has('archived')) say(status, t('channel.bound', { count: number(Number(query.get('archived')) || 0) }), 'ok');
  if (query.toString()) ctx.setQuery({});

  function connect() {
    if (c.kind === 'webchat') {
      return section(t('channel.connectWebchat'),
        h('p', {}, t('channel.webchatHow')),
        copyField(t, t('channel.scriptTag'), widgetTag(c.publicId), { id: 'webchat-snippet', multiline: true }),
        h('p', { class: 'hint' }, c.config.allowedOrigins && c.config.allowedOrigins.length
          ? t('channel.originsSome', { origins: c.config.allowedOrigins.join(', ') }) : t('channel.originsNone')));
    }
    if (c.kind === 'sandbox' || !c.webhookUrl) {
      return section(t('channel.connect'), h('p', {}, t('channel.sandboxHow'), ' ',
        can('GET /v1/sandbox/outbox') ? h('a', { href: '#/sandbox' }, t('channel.openSandbox')) : null));
    }
    return section(t('channel.connect'),
      copyField(t, t('channel.webhookUrl'), c.webhookUrl, { id: 'webhook-url' }),
      h('p', { id: 'webhook-where' }, t(`channel.where.${c.kind}`)));
  }

  function testSend() {
    if (!can('POST /v1/messages') || c.kind === 'webchat') return null;
    const phone = usesPhoneNumbers(c.kind);
    const to = h('input', { id: 'test-to', required: true, autocomplete: 'off', maxlength: '200', type: phone ? 'tel' : 'text', placeholder: phone ? '+250788123456' : '' });
    const text = h('textarea', { id: 'test-text', required: true, rows: '2', maxlength: '4096' });
    const send = button(t('channel.testSend'), { kind: 'primary', type: 'submit', write: true, id: 'test-send' });
    const result = h('div', { id: 'test-result', 'aria-live': 'polite' });
    const error = h('p', { class: 'form-error', role: 'alert', id: 'test-error' });
    const form = h('form', { id: 'test-form' },
      h('p', { class: 'hint' }, t('channel.testIntro')),
      field(t('channel.testTo'), to, { hint: t(`channel.toHint.${phone ? 'phone' : c.kind}`) }),
      field(t('channel.testText'), text), error, h('div', { class: 'form-actions' }, send));
    let key = newKey();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      error.textContent = '';
      send.disabled = true;
      const address = phone ? to.value.replace(/[\s()-]/g, '') : to.value.trim();
      const sent = await api('POST', '/v1/messages', { body: { channelId: c.id, to: address, text: text.value.trim() }, idempotencyKey: key });
      send.disabled = false;
      if (!sent.ok) { if (sent.status >= 400 && sent.status < 500) key = newKey(); error.textContent = errorText(t, sent); return; }
      key = newKey();
      ctx.announce(t('channel.testQueued'));
      follow(sent.data, result);
    });
    return section(t('channel.test'), form, result);
  }

  /** Shows the test message and reads it again each second until it has left the queue. */
  async function follow(receipt, box) {
    const draw = (m) => clear(box).append(h('div', { class: 'test-message card', dataset: { id: m.id, status: m.status } },
      h('p', { class: 'msg-head' }, t('channel.testMessage', { id: m.id }), ' ', tick(t, m.status), ' ',
        h('span', { class: 'test-status' }, t(`messageStatus.${m.status}`))),
      m.body ? h('p', { class: 'msg-body' }, m.body) : null,
      problem(t, m),
      m.conversationId && can('GET /v1/conversations/{id}')
        ? h('p', {}, h('a', { href: `#/inbox/${encodeURIComponent(m.conversationId)}`, id: 'test-conversation' }, t('channel.openConversation'))) : null));
    draw({ id: receipt.id, status: receipt.status || 'queued' });
    if (!can('GET /v1/messages/{id}')) return;
    for (let second = 0; second < FOLLOW_SECONDS && root.isConnected; second += 1) {
      const got = await api('GET', `/v1/messages/${encodeURIComponent(receipt.id)}`);
      if (got.ok) {
        draw(got.data);
        if (SETTLED.has(got.data.status)) return;
      }
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
    }
  }

  function edit() {
    channelForm(ctx, c).then((saved) => {
      if (!saved) return;
      forgetChannels();
      ctx.announce(t('channels.saved', { name: saved.name }));
      ctx.navigate(`#/channels/${encodeURIComponent(c.id)}?saved=1`);
    });
  }

  async function bind() {
    // the tenant's agents by name when they can be listed, else the agent's id typed in
    const listed = can('GET /v1/agents') ? await api('GET', '/v1/agents?limit=200') : null;
    const agents = listed && listed.ok ? listed.data.items.filter((a) => a.status !== 'archived' || a.id === c.agentId) : null;
    const agent = agents
      ? select([['', t('channel.noAgent')], ...agents.map((a) => [a.id, a.status === 'draft' ? t('channel.draftAgent', { name: a.name }) : a.name])],
        { id: 'bind-agent', value: c.agentId || '' })
      : h('input', { id: 'bind-agent', autocomplete: 'off', spellcheck: 'false', maxlength: '36', class: 'mono', value: c.agentId || '' });
    const reason = h('textarea', { id: 'bind-reason', name: 'reason', required: true, maxlength: '500', rows: '2' });
    const d = dialog({
      t, title: t('channel.bindTitle', { name: c.name }), submitLabel: t('channel.bindAgent'), destructive: true,
      body: h('div', {}, h('p', { class: 'notice' }, t('channel.bindBody')),
        field(t('channels.agent'), agent, { hint: t(agents ? 'channel.bindAgentPick' : 'channel.bindAgentHint') }), field(t('field.reason'), reason)),
      onSubmit: async ({ close, fail }) => {
        const agentId = agent.value.trim();
        if (agentId && !UUID.test(agentId)) return fail(t('channels.badAgent'));
        if (!reason.value.trim()) return fail(t('error.reasonRequired'));
        const result = await api('PUT', `/v1/channels/${encodeURIComponent(c.id)}/agent`, { body: { agentId: agentId || null, reason: reason.value.trim() } });
        if (!result.ok) return fail(errorText(t, result));
        close(result.data);
      },
    });
    d.done.then((result) => {
      if (!result) return;
      forgetChannels();
      ctx.announce(t('channel.bound', { count: number(result.archivedConversations) }));
      ctx.navigate(`#/channels/${encodeURIComponent(c.id)}?archived=${result.archivedConversations}`);
    });
  }
}
