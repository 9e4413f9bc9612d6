// What the messaging pages share: the channel kinds and what each needs, the tenant's channels (kept for a minute),
// a message's delivery tick, and who sent it.
import { loadAll, forget } from '../lib/cached-list.js';
import { h } from '../lib/dom.js';
import { dateTimeShort } from '../lib/format.js';
import { badge } from '../lib/ui.js';

export const KINDS = ['whatsapp', 'instagram', 'sms', 'telegram', 'email', 'webchat', 'sandbox'];
export const CONVERSATION_STATUSES = ['ai_active', 'human_escalated', 'closed'];

// Per kind, as ChannelRules and ChannelKind.requiredSecrets in the messaging service have them: the settings
// (`required` ones are refused when missing) and the secrets (all of them required when the channel is created).
export const KIND_FIELDS = {
  whatsapp: { config: [{ name: 'phoneNumberId', required: true }, { name: 'businessAccountId' }], secrets: ['accessToken', 'appSecret', 'verifyToken'] },
  instagram: { config: [{ name: 'pageId', required: true }], secrets: ['accessToken', 'appSecret', 'verifyToken'] },
  sms: { config: [{ name: 'accountSid', required: true }, { name: 'fromNumber', type: 'tel' }, { name: 'messagingServiceSid' }], secrets: ['authToken'] },
  telegram: { config: [{ name: 'botUsername' }], secrets: ['botToken', 'secretToken'] },
  email: { config: [{ name: 'fromEmail', required: true, type: 'email' }, { name: 'mailProvider', options: ['sendgrid', 'mailgun'] }], secrets: ['apiKey'] },
  webchat: { config: [{ name: 'allowedOrigins', list: true }, { name: 'verifyPhone', flag: true }], secrets: [] },
  sandbox: { config: [], secrets: [] },
};

/** Whether recipients on this kind are phone numbers (E.164), as the API checks them. */
export const usesPhoneNumbers = (kind) => kind === 'whatsapp' || kind === 'sms' || kind === 'sandbox';

/** The tenant's channels (up to 1,000), for pickers and names; [] for those who may not list them. */
export const loadChannels = (ctx, options) => loadAll(ctx, '/v1/channels', 'GET /v1/channels', options);

export function forgetChannels() {
  forget('/v1/channels');
}

/** "Shop WhatsApp (WhatsApp)" for a picker. */
export function channelLabel(t, channel) {
  return `${channel.name} (${t(`channelKind.${channel.kind}`)})`;
}

export function conversationBadge(t, status) {
  return badge(t(`conversationStatus.${status}`), status);
}

// What the tick of an outbound message looks like per status (read is the delivered mark in blue, by CSS).
const MARKS = {
  queued: '○', pending: '○', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '✗', queued_throttled: '◷', blocked: '⊘',
};

/** The delivery mark of an outbound message, with its status in words for screen readers and pointers. */
export function tick(t, status) {
  const words = t(`messageStatus.${status}`);
  return h('span', { class: ['tick', `tick-${status}`], dataset: { status }, title: words },
    h('span', { 'aria-hidden': 'true' }, MARKS[status] || '•'), h('span', { class: 'visually-hidden' }, words));
}

/** Why a message waits, was refused or failed: the provider's or the policy's code and reason, visible. */
export function problem(t, message) {
  const held = message.status === 'queued_throttled';
  if (!['failed', 'blocked'].includes(message.status) && !held) return null;
  return h('p', { class: 'msg-problem', dataset: { kind: held ? 'held' : 'error' } },
    message.errorCode ? h('code', { class: 'msg-code' }, message.errorCode) : null,
    message.errorCode && message.statusReason ? ' ' : null,
    message.statusReason || (message.errorCode ? null : t(`messageStatus.${message.status}`)),
    held && message.holdUntil ? ` ${t('inbox.heldUntil', { when: dateTimeShort(message.holdUntil) })}` : null);
}

/** Who wrote a message, in words: the customer's name, the AI agent, a person of the business, Sokoni itself. */
export function senderLabel(t, message, contactName) {
  if (message.sender === 'user') return contactName || t('sender.user');
  return t(`sender.${message.sender}`);
}

/** What a contact is called: their name, the name their app gives, else their address. */
export function contactName(contact) {
  return (contact && (contact.name || contact.profileName || contact.address)) || '';
}
