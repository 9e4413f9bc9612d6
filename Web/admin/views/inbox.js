// Inbox: the tenant's conversations (latest activity first) filtered by status, channel and words, with unread
// counts and cursor paging; beside them (instead of them, on a phone) the open conversation's thread in sequence
// order, each outbound message with its delivery tick, a reply box for people who answer customers, and
// escalate / hand back to the AI / close. Frames of the live socket (lib/live.js) refresh both, debounced; without
// a socket the page polls.
import { h, clear } from '../lib/dom.js';
import { dateTimeShort, number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, select, confirmAction, newKey } from '../lib/ui.js';
import { openLive, debounce } from '../lib/live.js';
import { CONVERSATION_STATUSES, loadChannels, channelLabel, conversationBadge, tick, problem, senderLabel, contactName } from './messaging-shared.js';

const PAGE = 30;
// the thread shows this many of the latest messages at first; "Earlier messages" adds as many again
const THREAD = 200;

/** Sets a live region's text only when it changes: a refresh every few seconds must not repeat itself aloud. */
function sayOnce(el, text, kind = '') {
  if (el.textContent !== text || el.dataset.kind !== kind) say(el, text, kind);
}

export async function render(ctx) {
  const { t, api, root, params, query, can } = ctx;
  const openId = params.id || null;
  const canChange = can('PATCH /v1/conversations/{id}');
  const canReply = can('POST /v1/messages');

  // ---- the list and its filters

  const status = select([['', t('inbox.anyStatus')], ...CONVERSATION_STATUSES.map((s) => [s, t(`conversationStatus.${s}`)])],
    { id: 'inbox-status', value: query.get('status') || '' });
  const channel = select([['', t('inbox.anyChannel')]], { id: 'inbox-channel' });
  const channelField = field(t('inbox.channel'), channel);
  const search = h('input', { type: 'search', id: 'inbox-q', autocomplete: 'off', maxlength: '100', value: query.get('q') || '' });
  // (on a phone an open thread replaces the list, and with it the filters: `data-open`)
  const filters = h('form', { class: 'filters', id: 'inbox-filters', role: 'search', 'aria-label': t('inbox.filters'), dataset: openId ? { open: '' } : undefined },
    field(t('field.status'), status), channelField, field(t('inbox.search'), search, { hint: t('inbox.searchHint') }),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit', id: 'inbox-apply' })));
  const listStatus = statusLine();
  listStatus.id = 'inbox-count';
  const list = h('ul', { class: 'conversation-list', id: 'conversations', 'aria-label': t('inbox.conversations') });
  const more = button(t('action.loadMore'), { id: 'conversations-more', hidden: true });
  const liveState = h('p', { class: 'live-state', id: 'live-state', role: 'status', 'aria-live': 'polite' });

  const filterValues = () => ({ status: status.value, channelId: channel.value, q: search.value.trim() });
  const filterQuery = () => new URLSearchParams(Object.entries(filterValues()).filter(([, v]) => v)).toString();
  const link = (id) => { const qs = filterQuery(); return `#/inbox/${encodeURIComponent(id)}${qs ? `?${qs}` : ''}`; };

  let items = [];
  let cursor = null;
  let listSeq = 0;

  /** `reset`: the first page for the filters; `more`: the next page; `refresh`: again as many as are shown. */
  async function loadList(mode) {
    const seq = ++listSeq;
    const p = new URLSearchParams(Object.entries(filterValues()).filter(([, v]) => v));
    p.set('limit', String(mode === 'refresh' ? Math.min(200, Math.max(PAGE, items.length)) : PAGE));
    if (mode === 'more' && cursor) p.set('cursor', cursor);
    if (mode !== 'refresh') say(listStatus, t('app.loading'));
    const answer = await api('GET', `/v1/conversations?${p}`);
    if (seq !== listSeq) return;
    if (!answer.ok) { sayOnce(listStatus, errorText(t, answer), 'error'); return; }
    items = mode === 'more' ? items.concat(answer.data.items) : answer.data.items;
    cursor = answer.data.nextCursor || null;
    drawList();
  }

  function drawList() {
    // a redrawn list keeps the keyboard where it was
    const focused = list.contains(document.activeElement) ? document.activeElement.closest('li')?.dataset.id : null;
    clear(list).append(...items.map(conversationItem));
    more.hidden = !cursor;
    sayOnce(listStatus, items.length ? t('inbox.count', { count: number(items.length) }) : t('inbox.none'));
    if (focused) list.querySelector(`li[data-id="${CSS.escape(focused)}"] a`)?.focus();
  }

  function conversationItem(c) {
    const unread = c.unreadCount > 0;
    return h('li', { class: ['conversation', unread ? 'is-unread' : null], dataset: { id: c.id, status: c.status, unread: String(c.unreadCount) } },
      h('a', { href: link(c.id), 'aria-current': c.id === openId ? 'true' : null },
        h('span', { class: 'conversation-top' },
          h('span', { class: 'conversation-who' }, contactName(c.contact)),
          unread ? h('span', { class: 'unread-count' }, h('span', { 'aria-hidden': 'true' }, number(c.unreadCount)),
            h('span', { class: 'visually-hidden' }, t('inbox.unread', { count: number(c.unreadCount) }))) : null),
        h('span', { class: 'conversation-meta' }, t(`channelKind.${c.channelKind}`), ' ', conversationBadge(t, c.status)),
        c.lastMessagePreview ? h('span', { class: 'conversation-preview' }, c.lastMessagePreview) : null,
        h('time', { class: 'conversation-time', datetime: c.lastMessageAt }, dateTimeShort(c.lastMessageAt))));
  }

  // ---- the open thread

  const threadHead = h('div', { class: 'thread-head', id: 'thread-head' });
  const threadStatus = statusLine();
  threadStatus.id = 'thread-status';
  const messages = h('ol', { class: 'thread', id: 'messages', role: 'log', 'aria-label': t('inbox.thread'), tabindex: '0' });
  const earlier = button(t('inbox.earlier'), { id: 'thread-earlier', hidden: true });
  const replyText = h('textarea', { id: 'reply-text', name: 'text', rows: '3', maxlength: '4096', required: true });
  const replySend = button(t('inbox.send'), { kind: 'primary', type: 'submit', write: true, id: 'reply-send' });
  const replyForm = canReply && openId ? h('form', { class: 'reply-form', id: 'reply-form' },
    field(t('inbox.reply'), replyText, { hint: t('inbox.replyHint') }), h('div', { class: 'form-actions' }, replySend)) : null;

  let conversation = null;
  let from = 0;                 // the thread shows the messages after this sequence number
  const shown = new Map();      // message id → {li, key}: a refresh touches only what changed
  let threadSeq = 0;
  let marking = false;

  async function loadThread({ first = false } = {}) {
    const seq = ++threadSeq;
    const id = encodeURIComponent(openId);
    const answer = await api('GET', `/v1/conversations/${id}`);
    if (seq !== threadSeq) return;
    if (!answer.ok) { sayOnce(threadStatus, errorText(t, answer), 'error'); if (first) clear(threadHead).append(h('h2', { id: 'thread-title' }, t('inbox.thread'))); return; }
    const c = answer.data;
    if (first) from = Math.max(0, c.messageCount - THREAD);
    let all = [];
    let after = from;
    // pages of 200 in sequence order, each after the last one read
    for (let page = 0; page < 50; page += 1) {
      const result = await api('GET', `/v1/conversations/${id}/messages?after=${after}&limit=200`);
      if (seq !== threadSeq) return;
      if (!result.ok) { sayOnce(threadStatus, errorText(t, result), 'error'); return; }
      all = all.concat(result.data.items);
      if (!result.data.nextCursor || !result.data.items.length) break;
      after = result.data.items[result.data.items.length - 1].sequenceNo;
    }
    const statusChanged = !conversation || conversation.status !== c.status;
    conversation = c;
    if (statusChanged) drawHead();
    drawMessages(all, first);
    earlier.hidden = from === 0;
    await markRead();
  }

  // opening the thread reads it: unread goes to zero for everyone (only for those who may change conversations)
  async function markRead() {
    if (!canChange || marking || !conversation || conversation.unreadCount === 0) return;
    marking = true;
    const result = await api('PATCH', `/v1/conversations/${encodeURIComponent(openId)}`, { body: { read: true } });
    marking = false;
    if (!result.ok) return;
    conversation = result.data;
    const listed = items.find((x) => x.id === openId);
    if (listed && listed.unreadCount) { listed.unreadCount = 0; drawList(); }
  }

  function drawHead() {
    const c = conversation;
    const actions = [];
    if (canChange && c.status === 'ai_active') actions.push(button(t('inbox.escalate'), { write: true, id: 'conv-escalate', on: () => change('human_escalated') }));
    if (canChange && c.status === 'human_escalated') actions.push(button(t('inbox.handBack'), { write: true, id: 'conv-handback', on: () => change('ai_active') }));
    if (canChange && c.status !== 'closed') actions.push(button(t('inbox.close'), { write: true, kind: 'danger-quiet', id: 'conv-close', on: closeConversation }));
    const where = [c.contact.address !== contactName(c.contact) ? c.contact.address : null, t(`channelKind.${c.channelKind}`)].filter(Boolean).join(' · ');
    // (the DOM's own append writes null as text: what does not apply is left out)
    clear(threadHead).append(...[
      h('h2', { id: 'thread-title', tabindex: '-1' }, contactName(c.contact)),
      h('p', { class: 'thread-where' }, where, ' ', h('span', { id: 'thread-state' }, conversationBadge(t, c.status))),
      c.contact.optedOut ? h('p', { class: 'notice' }, t('inbox.optedOut')) : null,
      c.status === 'closed' ? h('p', { class: 'notice', id: 'thread-closed' }, t('inbox.closedNote')) : null,
      c.status === 'ai_active' && canReply ? h('p', { class: 'hint' }, t('inbox.aiNote')) : null,
      actions.length ? h('div', { class: 'row-actions', id: 'thread-actions' }, actions) : null,
    ].filter(Boolean));
    // a closed conversation takes no reply: the customer's next message opens a new one
    if (replyForm) replyForm.hidden = c.status === 'closed';
  }

  const messageKey = (m) => [m.status, m.errorCode, m.statusReason, m.holdUntil].join('|');

  function drawMessages(all, first) {
    const atEnd = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 48;
    let added = false;
    for (const m of all) {
      const seen = shown.get(m.id);
      if (seen && seen.key === messageKey(m)) continue;
      const li = messageItem(m);
      if (seen) {
        seen.li.replaceWith(li);
      } else {
        // in sequence order, wherever it belongs (a message is never stored out of order, but one may commit late)
        const next = [...messages.children].find((el) => Number(el.dataset.seq) > m.sequenceNo);
        messages.insertBefore(li, next || null);
        added = true;
      }
      shown.set(m.id, { li, key: messageKey(m) });
    }
    if (!all.length && !messages.children.length) messages.append(h('li', { class: 'empty', dataset: { seq: '0' } }, t('inbox.noMessages')));
    else if (all.length) messages.querySelector('li.empty')?.remove();
    // follow the conversation unless the person scrolled up to read
    if (first || (added && atEnd)) messages.scrollTop = messages.scrollHeight;
  }

  function messageItem(m) {
    const outbound = m.direction === 'outbound';
    return h('li', {
      class: ['msg', `msg-${m.direction}`, `msg-by-${m.sender}`],
      dataset: { id: m.id, seq: String(m.sequenceNo), direction: m.direction, sender: m.sender, status: m.status },
    },
    h('p', { class: 'msg-head' },
      h('span', { class: 'msg-sender' }, senderLabel(t, m, contactName(conversation.contact))), ' ',
      h('time', { datetime: m.createdAt }, dateTimeShort(m.createdAt)),
      outbound ? ' ' : null, outbound ? tick(t, m.status) : null),
    h('p', { class: 'msg-body' }, m.body != null ? m.body : t('inbox.nonText', { kind: m.kind })),
    // the agent's choices, as the customer saw them (buttons, a list, numbered lines)
    outbound && m.payload && Array.isArray(m.payload.options) && m.payload.options.length
      ? h('ul', { class: 'msg-options', 'aria-label': t('inbox.options') }, m.payload.options.map((o) => h('li', {}, o.title)))
      : null,
    outbound ? problem(t, m) : null);
  }

  async function change(to) {
    const result = await api('PATCH', `/v1/conversations/${encodeURIComponent(openId)}`, { body: { status: to } });
    if (!result.ok) return say(threadStatus, errorText(t, result), 'error');
    const text = t(`inbox.changed.${to}`);
    say(threadStatus, text, 'ok');
    ctx.announce(text);
    await Promise.all([loadThread(), loadList('refresh')]);
    threadHead.querySelector('h2')?.focus();
  }

  async function closeConversation() {
    const done = await confirmAction({
      t, title: t('inbox.closeTitle', { name: contactName(conversation.contact) }), message: t('inbox.closeBody'), confirmLabel: t('inbox.close'),
      onConfirm: async () => {
        const result = await api('PATCH', `/v1/conversations/${encodeURIComponent(openId)}`, { body: { status: 'closed' } });
        return result.ok ? null : errorText(t, result);
      },
    });
    if (!done) return;
    say(threadStatus, t('inbox.changed.closed'), 'ok');
    ctx.announce(t('inbox.changed.closed'));
    await Promise.all([loadThread(), loadList('refresh')]);
    threadHead.querySelector('h2')?.focus();
  }

  // one key per reply the person means to send once; a retry after a lost connection reuses it
  let replyKey = newKey();
  if (replyForm) {
    replyText.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); replyForm.requestSubmit(); }
    });
    replyForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = replyText.value.trim();
      if (!text) { say(threadStatus, t('inbox.emptyReply'), 'error'); replyText.focus(); return; }
      replySend.disabled = true;
      const result = await api('POST', '/v1/messages', { body: { conversationId: openId, text }, idempotencyKey: replyKey });
      replySend.disabled = false;
      if (!result.ok) {
        if (result.status >= 400 && result.status < 500) replyKey = newKey();
        say(threadStatus, errorText(t, result), 'error');
        return;
      }
      replyKey = newKey();
      replyText.value = '';
      say(threadStatus, t('inbox.replied'), 'ok');
      await loadThread();
      messages.scrollTop = messages.scrollHeight;
      replyText.focus();
    });
  }

  earlier.addEventListener('click', () => {
    from = Math.max(0, from - THREAD);
    clear(messages);
    shown.clear();
    loadThread();
  });

  // ---- the page

  const threadPane = openId
    ? h('section', { class: 'inbox-thread card', id: 'thread', 'aria-labelledby': 'thread-title' },
      h('p', { class: 'inbox-back' }, h('a', { href: `#/inbox${filterQuery() ? `?${filterQuery()}` : ''}`, id: 'inbox-back' }, t('inbox.back'))),
      threadHead, earlier, messages, threadStatus, replyForm)
    : h('section', { class: 'inbox-thread inbox-placeholder card', 'aria-label': t('inbox.thread') }, h('p', { class: 'empty' }, t('inbox.choose')));
  root.append(
    pageHeader(t('inbox.title')),
    liveState,
    filters,
    h('div', { class: 'inbox', dataset: openId ? { open: '' } : undefined },
      h('section', { class: 'inbox-list', 'aria-label': t('inbox.conversations') }, listStatus, list, more),
      threadPane));

  const reset = () => {
    ctx.setQuery(filterValues());
    return loadList('reset');
  };
  filters.addEventListener('submit', (event) => { event.preventDefault(); reset(); });
  status.addEventListener('change', reset);
  channel.addEventListener('change', reset);
  more.addEventListener('click', () => loadList('more'));

  const channels = await loadChannels(ctx);
  for (const c of channels) channel.append(h('option', { value: c.id }, channelLabel(t, c)));
  channel.value = query.get('channelId') || '';
  // people who may not list channels (agents) filter by status and words only
  channelField.hidden = !channels.length;
  await Promise.all([loadList('reset'), openId ? loadThread({ first: true }) : null]);

  // live: any change refreshes the list; the thread only for its own conversation (or when events may be missing)
  let threadDue = false;
  const refresh = debounce(() => {
    if (!ctx.isCurrent()) return;
    loadList('refresh');
    if (openId && threadDue) loadThread();
    threadDue = false;
  }, 300);
  openLive({
    session: ctx.session,
    tenantId: ctx.isStaff ? ctx.tenantId : null,
    alive: () => root.isConnected && ctx.isCurrent(),
    onState: (state) => {
      root.dataset.live = state;
      liveState.dataset.state = state;
      liveState.textContent = t(`live.${state}`);
    },
    onEvent: (frame) => {
      if (!frame.conversationId || frame.conversationId === openId) threadDue = true;
      refresh();
    },
  });
}
