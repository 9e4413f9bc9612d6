// Sandbox: what the sandbox channels would have sent (their outbox, newest first, filtered by channel), and
// "Simulate a customer message" so a demo can play the customer: the message arrives as if a provider had
// delivered it (same conversation, same agent, same opt-out words). Live frames refresh the outbox.
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, section, field, button, statusLine, say, errorText, table, select } from '../lib/ui.js';
import { openLive, debounce } from '../lib/live.js';
import { loadChannels, channelLabel } from './messaging-shared.js';

// the outbox is read oldest first, so the whole of it is read (up to this many) to show the newest first
const MAX_ENTRIES = 5000;
const SHOWN = 100;

export async function render(ctx) {
  const { t, api, root, query, can } = ctx;
  const channels = (await loadChannels(ctx)).filter((c) => c.kind === 'sandbox');
  const nameOf = (id) => (channels.find((c) => c.id === id) || {}).name || id.slice(0, 8);
  const channel = select([['', t('sandbox.anyChannel')], ...channels.map((c) => [c.id, channelLabel(t, c)])], { id: 'outbox-channel', value: query.get('channelId') || '' });
  const status = statusLine();
  status.id = 'outbox-status';
  const list = h('div', { id: 'outbox-list' });
  const older = button(t('sandbox.older'), { id: 'outbox-older', hidden: true });
  const filters = h('form', { class: 'filters', id: 'outbox-filters' },
    channels.length ? field(t('inbox.channel'), channel) : null,
    h('div', { class: 'filters-actions' }, button(t('sandbox.refresh'), { kind: 'primary', type: 'submit', id: 'outbox-refresh' })));

  root.append(pageHeader(t('sandbox.title')), h('p', { class: 'hint' }, t('sandbox.intro')),
    ...(can('POST /v1/sandbox/inbound') ? [simulate(ctx, channels)] : []),
    section(t('sandbox.outbox'), filters, status, list, older));

  let entries = [];
  // the cursor after the last full page: a refresh reads on from there instead of from the start
  let resumeCursor = null;
  let resumeCount = 0;
  let shown = SHOWN;
  let seq = 0;

  async function load(reset) {
    const mine = ++seq;
    if (reset) { entries = []; resumeCursor = null; resumeCount = 0; shown = SHOWN; }
    let got = entries.slice(0, resumeCount);
    let cursor = resumeCursor;
    if (reset) say(status, t('app.loading'));
    while (got.length < MAX_ENTRIES) {
      const p = new URLSearchParams({ limit: '200' });
      if (channel.value) p.set('channelId', channel.value);
      if (cursor) p.set('cursor', cursor);
      const answer = await api('GET', `/v1/sandbox/outbox?${p}`);
      if (mine !== seq) return;
      if (!answer.ok) { say(status, errorText(t, answer), 'error'); return; }
      got = got.concat(answer.data.items);
      if (!answer.data.nextCursor) break;
      cursor = answer.data.nextCursor;
      resumeCursor = cursor;
      resumeCount = got.length;
    }
    entries = got;
    draw();
  }

  function draw() {
    const newest = entries.slice().reverse().slice(0, shown);
    clear(list).append(table({
      caption: t('sandbox.outbox'), captionHidden: true, rows: newest.map((e) => ({ ...e, id: String(e.id) })), empty: t('sandbox.none'),
      columns: [
        { label: t('field.when'), cell: (e) => h('time', { datetime: e.createdAt }, dateTime(e.createdAt)) },
        { label: t('inbox.channel'), cell: (e) => nameOf(e.channelId) },
        { label: t('sandbox.to'), cell: (e) => h('span', { class: 'mono' }, e.to) },
        { label: t('sandbox.text'), cell: (e) => h('span', { class: 'outbox-body', dataset: { message: e.messageId } }, e.body != null ? e.body : JSON.stringify(e.payload)) },
      ],
    }));
    older.hidden = entries.length <= shown;
    const text = t('sandbox.count', { count: number(entries.length) });
    if (status.textContent !== text) say(status, text);
  }

  filters.addEventListener('submit', (event) => { event.preventDefault(); ctx.setQuery({ channelId: channel.value }); load(true); });
  channel.addEventListener('change', () => { ctx.setQuery({ channelId: channel.value }); load(true); });
  older.addEventListener('click', () => { shown += SHOWN; draw(); });
  await load(true);

  const refresh = debounce(() => { if (ctx.isCurrent()) load(false); }, 400);
  openLive({
    session: ctx.session, tenantId: ctx.isStaff ? ctx.tenantId : null, alive: () => root.isConnected && ctx.isCurrent(),
    onState: (state) => { root.dataset.live = state; },
    // a send (its status moving to sent) is a new outbox row; a customer's message is not
    onEvent: (frame) => { if (frame.direction !== 'inbound') refresh(); },
  });
}

/** The customer's side: a message on a sandbox channel, from any number. */
function simulate(ctx, channels) {
  const { t, api, can } = ctx;
  // the first sandbox channel unless another is picked; without the list (agents) the API's default channel
  const channel = select(channels.map((c) => [c.id, channelLabel(t, c)]), { id: 'sim-channel', value: channels.length ? channels[0].id : '' });
  const from = h('input', { id: 'sim-from', type: 'tel', required: true, autocomplete: 'off', value: '+250788000001' });
  const name = h('input', { id: 'sim-name', autocomplete: 'off', maxlength: '200' });
  const text = h('textarea', { id: 'sim-text', required: true, rows: '2', maxlength: '4096' });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'sim-error' });
  const result = statusLine();
  result.id = 'sim-status';
  const form = h('form', { id: 'sim-form' },
    h('div', { class: 'inline-fields' },
      channels.length ? field(t('inbox.channel'), channel) : null,
      field(t('sandbox.from'), from, { hint: t('field.phoneHint') }),
      field(t('sandbox.profileName'), name)),
    field(t('sandbox.text'), text), error,
    h('div', { class: 'form-actions' }, button(t('sandbox.send'), { kind: 'primary', type: 'submit', write: true, id: 'sim-send' })), result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    const body = { from: from.value.replace(/[\s()-]/g, ''), text: text.value.trim() };
    if (channel.value) body.channelId = channel.value;
    if (name.value.trim()) body.profileName = name.value.trim();
    if (!body.text) { error.textContent = t('inbox.emptyReply'); return; }
    const answer = await api('POST', '/v1/sandbox/inbound', { body });
    if (!answer.ok) { error.textContent = errorText(t, answer); return; }
    text.value = '';
    say(result, t('sandbox.simulated', { from: body.from }), 'ok');
    if (can('GET /v1/conversations')) {
      result.append(' ', h('a', { href: `#/inbox?q=${encodeURIComponent(body.from)}`, id: 'sim-inbox' }, t('sandbox.openInbox')));
    }
    ctx.announce(t('sandbox.simulated', { from: body.from }));
  });
  return section(t('sandbox.simulate'), h('p', { class: 'hint' }, t('sandbox.simulateIntro')), form);
}
