// One voucher: details, its card image and QR (signed, expiring links from the API), its event timeline, and
// "send to customer" (through messaging), "mark sent" / "void" with a reason for those allowed to change vouchers.
import { h, clear } from '../lib/dom.js';
import { money, dateTime } from '../lib/format.js';
import { pageHeader, section, button, errorText, badge, details, confirmAction, linkButton, newKey } from '../lib/ui.js';
import { personSpan } from './people-cache.js';

/** The image link as a path on this origin (the API may name the gateway by another host name than the page's). */
function sameOrigin(url) {
  try {
    const u = new URL(url, location.href);
    return u.pathname.startsWith('/v1/voucher-images/') ? u.pathname + u.search : null;
  } catch { return null; }
}

/** An image rendered by a background job: retried a few times while it is still being drawn. */
function voucherImage(url, alt, className, t) {
  const src = sameOrigin(url);
  if (!src) return h('p', { class: 'empty' }, t('voucher.noImage'));
  const note = h('p', { class: 'hint', role: 'status' });
  const img = h('img', { alt, class: className, loading: 'lazy', decoding: 'async' });
  let tries = 0;
  img.addEventListener('error', () => {
    if (++tries > 5) { note.textContent = t('voucher.imageFailed'); img.hidden = true; return; }
    note.textContent = t('voucher.imagePending');
    setTimeout(() => { img.src = `${src}&retry=${tries}`; }, 1500 * tries);
  });
  img.addEventListener('load', () => { note.textContent = ''; });
  img.src = src;
  return h('figure', { class: 'voucher-image' }, img, note,
    h('figcaption', {}, h('a', { href: src, download: '', class: 'download' }, t('voucher.download', { what: alt }))));
}

export async function render(ctx) {
  const { t, api, root, params, can } = ctx;
  const id = params.id;
  const [answer, events] = await Promise.all([
    api('GET', `/v1/vouchers/${encodeURIComponent(id)}`),
    api('GET', `/v1/vouchers/${encodeURIComponent(id)}/events`),
  ]);
  if (!answer.ok) {
    root.append(pageHeader(t('voucher.title')), h('p', { class: 'form-error', role: 'alert' }, errorText(t, answer)),
      h('p', {}, h('a', { href: '#/vouchers' }, t('voucher.back'))));
    return;
  }
  const v = answer.data;
  const canChange = can('POST /v1/vouchers/{id}/transitions');
  const actions = [];
  if (can('POST /v1/vouchers/{id}/send') && (v.status === 'issued' || v.status === 'sent')) {
    actions.push(button(t('voucher.send'), { write: true, kind: 'primary', id: 'voucher-send', on: send }));
  }
  if (canChange && v.status === 'issued') actions.push(button(t('voucher.markSent'), { write: true, id: 'voucher-sent', on: () => move('sent') }));
  if (canChange && (v.status === 'issued' || v.status === 'sent')) actions.push(button(t('voucher.void'), { write: true, kind: 'danger', id: 'voucher-void', on: () => move('void') }));
  if (can('GET /v1/vouchers/audit')) actions.push(linkButton(t('audit.forThis'), `#/audit?service=vouchers&targetType=vouchers&targetId=${encodeURIComponent(v.id)}`));

  let stationName = null;
  const stationIds = [v.stationScope, v.redeemedStationId].filter(Boolean);
  const names = {};
  if (stationIds.length && can('GET /v1/stations/{id}')) {
    await Promise.all([...new Set(stationIds)].map(async (sid) => {
      const r = await api('GET', `/v1/stations/${encodeURIComponent(sid)}`);
      names[sid] = r.ok ? r.data.name : sid;
    }));
  }
  const stationLink = (sid) => (sid ? h('a', { href: `#/stations/${encodeURIComponent(sid)}` }, names[sid] || sid) : null);
  stationName = v.stationScope ? stationLink(v.stationScope) : t('vouchers.anyStationShort');

  root.append(
    h('p', { class: 'breadcrumb' }, h('a', { href: '#/vouchers' }, t('voucher.back'))),
    pageHeader(t('voucher.titleCode', { code: v.code }), actions),
    h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite', id: 'voucher-status' }),
    h('div', { class: 'grid-2' },
      section(t('voucher.details'), details([
        [t('field.code'), h('span', { class: 'code' }, v.code)],
        [t('field.status'), badge(t(`voucherStatus.${v.status}`), v.status)],
        [t('field.amount'), money(v.amount, v.currency)],
        [t('field.phone'), v.msisdn],
        [t('field.stationScope'), stationName],
        [t('field.campaign'), v.campaignId],
        [t('field.recipientKey'), v.recipientKey],
        [t('field.issued'), dateTime(v.issuedAt)],
        [t('field.sent'), dateTime(v.sentAt)],
        [t('field.redeemed'), dateTime(v.redeemedAt)],
        [t('voucher.redeemedAt'), stationLink(v.redeemedStationId)],
        [t('field.expires'), dateTime(v.expiresAt)],
        [t('field.createdBy'), v.createdBy ? personSpan(ctx, h, v.createdBy) : null],
      ])),
      section(t('voucher.images'), h('div', { class: 'images' },
        voucherImage(v.cardURL, t('voucher.card', { code: v.code }), 'card-image', t),
        voucherImage(v.qrURL, t('voucher.qr', { code: v.code }), 'qr-image', t)))),
    section(t('voucher.timeline'), timeline(ctx, events, names)));

  // through messaging: the card as an image; the voucher turns `sent` when messaging reports the message sent
  async function send() {
    const idempotencyKey = newKey();
    const done = await confirmAction({
      t, destructive: false, title: t('voucher.sendTitle', { code: v.code }), message: t('voucher.sendBody', { phone: v.msisdn }),
      confirmLabel: t('voucher.send'),
      onConfirm: async () => {
        const r = await api('POST', `/v1/vouchers/${encodeURIComponent(v.id)}/send`, { idempotencyKey });
        return r.ok ? null : errorText(t, r);
      },
    });
    if (!done) return;
    ctx.announce(t('voucher.sending', { code: v.code }));
    // the report usually arrives within seconds: show the new status when it has
    setTimeout(() => { if (location.hash.includes(v.id)) ctx.navigate(location.hash); }, 3000);
  }

  async function move(to) {
    const done = await confirmAction({
      t, reason: true, destructive: to === 'void',
      title: t(to === 'void' ? 'voucher.voidTitle' : 'voucher.sentTitle', { code: v.code }),
      message: t(to === 'void' ? 'voucher.voidBody' : 'voucher.sentBody'),
      confirmLabel: t(to === 'void' ? 'voucher.void' : 'voucher.markSent'),
      onConfirm: async (reason) => {
        const r = await api('POST', `/v1/vouchers/${encodeURIComponent(v.id)}/transitions`, { body: { to, reason } });
        return r.ok ? null : errorText(t, r);
      },
    });
    if (!done) return;
    ctx.announce(t(to === 'void' ? 'voucher.voided' : 'voucher.markedSent', { code: v.code }));
    ctx.navigate(location.hash);
  }
}

function timeline(ctx, events, names) {
  const { t } = ctx;
  if (!events.ok) return h('p', { class: 'form-error' }, errorText(t, events));
  if (!events.data.items.length) return h('p', { class: 'empty' }, t('voucher.noEvents'));
  return h('ol', { class: 'timeline', id: 'voucher-events' }, events.data.items.map((e) => {
    const context = e.context && typeof e.context === 'object' ? Object.entries(e.context) : [];
    return h('li', { dataset: { event: e.eventType } },
      h('p', { class: 'timeline-head' }, badge(t(`event.${e.eventType}`), e.eventType), ' ',
        h('time', { datetime: e.createdAt }, dateTime(e.createdAt))),
      e.actor ? h('p', { class: 'hint' }, personSpan(ctx, h, e.actor, (actor) => t('voucher.by', { actor }))) : null,
      e.stationId ? h('p', { class: 'hint' }, t('voucher.atStation', { station: names[e.stationId] || e.stationId })) : null,
      context.length ? h('dl', { class: 'context' }, context.map(([k, val]) => h('div', {}, h('dt', {}, k),
        h('dd', {}, typeof val === 'object' ? JSON.stringify(val) : String(val))))) : null);
  }));
}
