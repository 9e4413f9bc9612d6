// "Try it": talk to an agent as a customer would, before it goes live (a draft) or after. Each of the agent's
// turns shows what it did: the tools it called and what they answered, the sources it used, who answered (the
// offline responder or a model), tokens, cost and time. Earlier sessions with this agent are listed to reopen.
// `#/agents/:id/try?session=…` reopens one.
import { h, clear } from '../lib/dom.js';
import { dateTimeShort, number, money } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, select } from '../lib/ui.js';
import { statusBadge } from './agents.js';

const CHANNELS = ['webchat', 'whatsapp', 'sms', 'telegram', 'instagram', 'email'];
/** Hand-off reasons the engine gives itself (a model may give its own words, shown as they are). */
const REASONS = ['asked_for_person', 'tool_rounds_exhausted'];
const SOURCE_KINDS = ['faq', 'knowledge'];

/** A reply's cost: exact in micro-USD when the calls were priced, else minor units of its currency; null: free. */
export function replyCost(reply) {
  if (!reply) return null;
  const trim = (text) => text.replace(/0+$/, '').replace(/\.$/, '');
  if (reply.costMicros != null && reply.costMicros > 0) return money(trim((reply.costMicros / 1e6).toFixed(6)), 'USD');
  if (reply.costMinor == null || !reply.costCurrency || reply.costMinor === 0) return null;
  return money(trim((reply.costMinor / 100).toFixed(2)), reply.costCurrency);
}

export async function render(ctx) {
  const { t, api, root, params, query } = ctx;
  const id = encodeURIComponent(params.id);
  const answer = await api('GET', `/v1/agents/${id}`);
  if (!answer.ok) {
    root.append(pageHeader(t('try.title')), h('p', { class: 'form-error', role: 'alert' }, errorText(t, answer)),
      h('p', {}, h('a', { href: '#/agents' }, t('agent.back'))));
    return;
  }
  const agent = answer.data;
  const status = statusLine();
  status.id = 'try-status';

  // a new session: the channel it answers as, the customer's number (the voucher tool looks vouchers up by it)
  // and their language
  const channel = select(CHANNELS.map((c) => [c, t(`channelKind.${c}`)]), { id: 'try-channel', value: 'webchat' });
  const customer = h('input', { id: 'try-customer', maxlength: '200', autocomplete: 'off', value: '+250788000111', inputmode: 'tel' });
  const language = select([['', t('try.anyLanguage')], ...agent.languages.map((l) => [l, t(`agentLanguage.${l}`)])], { id: 'try-language', value: '' });
  const start = button(t('try.start'), { kind: 'primary', write: true, id: 'try-start', type: 'submit' });
  const startForm = h('form', { class: 'try-start', id: 'try-start-form' },
    field(t('try.channel'), channel), field(t('try.customer'), customer, { hint: t('try.customerHint') }), field(t('try.language'), language),
    h('div', { class: 'form-actions' }, start));

  const sessionList = h('ul', { class: 'try-sessions', id: 'try-sessions', 'aria-label': t('try.sessions') });
  const log = h('ol', { class: 'thread', id: 'try-log', role: 'log', 'aria-label': t('try.conversation'), tabindex: '0' });
  const text = h('textarea', { id: 'try-text', maxlength: '4000', rows: '2', required: true });
  const send = button(t('try.send'), { kind: 'primary', write: true, id: 'try-send', type: 'submit' });
  const chatForm = h('form', { class: 'reply-form', id: 'try-form', hidden: true },
    field(t('try.message'), text, { hint: t('try.messageHint') }), h('div', { class: 'form-actions' }, send));
  const chatHead = h('p', { class: 'hint', id: 'try-session-head' }, t('try.noSession'));

  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: `#/agents/${id}` }, agent.name)),
    pageHeader(t('try.titleFor', { name: agent.name })),
    h('p', { class: 'hint', id: 'try-live' }, statusBadge(t, agent.status), ' ',
      t(agent.status === 'active' ? 'try.liveNote' : agent.status === 'draft' ? 'try.draftNote' : 'try.archivedNote')),
    status,
    h('div', { class: 'try-layout' },
      h('div', { class: 'try-side' },
        agent.status !== 'archived' ? section(t('try.new'), startForm) : null,
        section(t('try.sessions'), sessionList)),
      h('section', { class: 'card try-chat', 'aria-labelledby': 'try-chat-title' },
        h('h2', { id: 'try-chat-title' }, t('try.conversation')), chatHead, log, chatForm)));

  let session = null;

  function trace(turn) {
    const r = turn.reply || {};
    const rows = [];
    const add = (label, value, key) => {
      if (value == null || value === '' || (Array.isArray(value) && !value.length)) return;
      rows.push(h('div', { class: 'trace-row', dataset: { trace: key } }, h('dt', {}, label), h('dd', {}, value)));
    };
    add(t('try.answeredBy'), turn.answeredBy === 'offline' ? t('try.offline') : turn.answeredBy, 'answered-by');
    add(t('try.tools'), (r.toolCalls || []).map((c) => h('span', { class: 'trace-tool' }, h('code', {}, `${c.name}(${c.arguments})`), ' → ', c.result)), 'tools');
    add(t('try.sources'), (r.sources || []).map((s) => h('span', { class: 'trace-source' }, `${SOURCE_KINDS.includes(s.kind) ? t(`try.sourceKind.${s.kind}`) : s.kind}: ${s.title}`)), 'sources');
    add(t('try.options'), (r.options || []).map((o) => h('span', { class: 'trace-option' }, o.title)), 'options');
    if (r.handoff) add(t('try.handoff'), r.handoffReason ? (REASONS.includes(r.handoffReason) ? t(`try.handoffReason.${r.handoffReason}`) : r.handoffReason) : t('try.yes'), 'handoff');
    add(t('try.language'), r.language ? t(`agentLanguage.${r.language}`) : null, 'language');
    add(t('try.tokens'), r.tokens != null ? number(r.tokens) : null, 'tokens');
    add(t('try.cost'), replyCost(r) || t('try.free'), 'cost');
    add(t('try.time'), turn.latencyMs != null ? t('try.ms', { ms: number(turn.latencyMs) }) : null, 'time');
    return h('dl', { class: 'trace' }, rows);
  }

  function turnItem(m) {
    const mine = m.sender === 'user';
    return h('li', { class: ['msg', mine ? 'msg-outbound' : 'msg-by-agent'], dataset: { turn: String(m.turn), sender: m.sender } },
      h('p', { class: 'msg-head' }, h('span', { class: 'msg-sender' }, mine ? t('try.you') : agent.name), ' ',
        h('time', { datetime: m.createdAt }, dateTimeShort(m.createdAt))),
      h('p', { class: 'msg-body' }, m.text != null ? m.text : t('try.noWords')),
      mine ? null : trace(m));
  }

  function show(turns) {
    for (const m of turns) {
      if (log.querySelector(`[data-turn="${m.turn}"]`)) continue;
      const after = [...log.children].find((li) => Number(li.dataset.turn) > m.turn);
      log.insertBefore(turnItem(m), after || null);
    }
    log.querySelector('.empty')?.remove();
    if (!log.children.length) log.append(h('li', { class: 'empty' }, t('try.empty')));
    log.scrollTop = log.scrollHeight;
  }

  async function open(sessionId) {
    const got = await api('GET', `/v1/agent/sessions/${encodeURIComponent(sessionId)}`);
    if (!got.ok) return say(status, errorText(t, got), 'error');
    session = got.data;
    clear(log);
    show(session.messages || []);
    chatHead.textContent = t('try.sessionHead', {
      channel: t(`channelKind.${session.channelKind}`), customer: session.customerAddress, when: dateTimeShort(session.createdAt),
    });
    chatForm.hidden = agent.status === 'archived';
    for (const li of sessionList.children) li.toggleAttribute('aria-current', li.dataset.id === session.id);
    if (query.get('session') !== session.id) ctx.setQuery({ session: session.id });
  }

  async function loadSessions() {
    const got = await api('GET', `/v1/agent/sessions?agentId=${id}&limit=20`);
    if (!got.ok) return say(status, errorText(t, got), 'error');
    clear(sessionList);
    if (!got.data.items.length) sessionList.append(h('li', { class: 'empty' }, t('try.noSessions')));
    for (const s of got.data.items) {
      sessionList.append(h('li', { dataset: { id: s.id } },
        h('a', { href: `#/agents/${id}/try?session=${encodeURIComponent(s.id)}`, on: { click: (e) => { e.preventDefault(); open(s.id); } } },
          t('try.sessionItem', { when: dateTimeShort(s.createdAt), channel: t(`channelKind.${s.channelKind}`), turns: number(s.turns) }))));
    }
  }

  startForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    start.disabled = true;
    const body = { agentId: agent.id, channelKind: channel.value };
    if (customer.value.trim()) body.customerAddress = customer.value.trim();
    if (language.value) body.language = language.value;
    const made = await api('POST', '/v1/agent/sessions', { body });
    start.disabled = false;
    if (!made.ok) return say(status, errorText(t, made), 'error');
    say(status, t('try.started'), 'ok');
    await loadSessions();
    await open(made.data.id);
    text.focus();
  });

  chatForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const words = text.value.trim();
    if (!words || !session) return;
    send.disabled = true;
    say(status, t('try.thinking'));
    const body = { text: words };
    if (session.language) body.language = session.language;
    const sent = await api('POST', `/v1/agent/sessions/${encodeURIComponent(session.id)}/messages`, { body });
    send.disabled = false;
    if (!sent.ok) return say(status, errorText(t, sent), 'error');
    text.value = '';
    show([sent.data.message, sent.data.reply]);
    say(status, t('try.answered', { name: agent.name }), 'ok');
    text.focus();
  });
  // Enter sends, Shift+Enter starts a new line
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); chatForm.requestSubmit(); }
  });

  await loadSessions();
  if (query.get('session')) await open(query.get('session'));
}
