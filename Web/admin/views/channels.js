// Channels: where the tenant's customers write from (WhatsApp, SMS, web chat, …), oldest first, and "New channel"
// for those allowed to connect one. A new channel opens on its own page, which says how to connect it.
import { h, clear } from '../lib/dom.js';
import { dateTime, number, shortId } from '../lib/format.js';
import { pageHeader, button, statusLine, say, errorText, table, badge } from '../lib/ui.js';
import { channelForm } from './channel-form.js';
import { forgetChannels } from './messaging-shared.js';

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/channels');
  const status = statusLine();
  status.id = 'channels-status';
  const list = h('div', { id: 'channels-list' });
  const more = button(t('action.loadMore'), { id: 'channels-more', hidden: true });
  root.append(
    pageHeader(t('channels.title'), canCreate ? button(t('channels.create'), { kind: 'primary', write: true, id: 'channel-create', on: create }) : null),
    h('p', { class: 'hint' }, t('channels.intro')),
    status, list, more);

  let items = [];
  let cursor = null;

  async function load(reset) {
    if (reset) { items = []; cursor = null; }
    say(status, t('app.loading'));
    const answer = await api('GET', `/v1/channels?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    items = items.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    clear(list).append(table({
      caption: t('channels.caption'), captionHidden: true, rows: items, empty: t('channels.none'),
      columns: [
        { label: t('field.name'), cell: (c) => h('a', { href: `#/channels/${encodeURIComponent(c.id)}` }, c.name) },
        { label: t('channels.kind'), cell: (c) => t(`channelKind.${c.kind}`) },
        { label: t('field.status'), cell: (c) => badge(t(`channelStatus.${c.status}`), c.status === 'active' ? 'active' : 'inactive') },
        { label: t('channels.agent'), cell: (c) => (c.agentId ? h('span', { class: 'mono', title: c.agentId }, shortId(c.agentId)) : t('channels.noAgent')) },
        { label: t('field.created'), cell: (c) => dateTime(c.createdAt) },
      ],
    }));
    say(status, t('channels.count', { count: number(items.length) }));
  }

  function create() {
    channelForm(ctx, null).then((channel) => {
      if (!channel) return;
      forgetChannels();
      ctx.announce(t('channels.created', { name: channel.name }));
      ctx.navigate(`#/channels/${encodeURIComponent(channel.id)}?created=1`);
    });
  }

  more.addEventListener('click', () => load(false));
  await load(true);
}
