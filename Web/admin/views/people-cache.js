// Who a subject is (`<user id>`, `apikey:<id>`, `service:<name>`, `rule:<id>` of the pipeline), in words, for
// timelines and the audit trail. One lookup per person, shared by every page, and only for those who may read users.
import { isUUID } from '../lib/campaign.js';

const cache = new Map();

export function personLabel(ctx, subject) {
  if (!subject) return Promise.resolve('');
  if (subject.startsWith('apikey:')) return Promise.resolve(ctx.t('people.apiKey', { id: subject.slice(7, 15) }));
  if (subject.startsWith('service:')) return Promise.resolve(ctx.t('people.service', { name: subject.slice(8) }));
  if (subject.startsWith('rule:')) return Promise.resolve(ctx.t('people.rule'));
  if (!isUUID(subject) || !ctx.can('GET /v1/users/{id}')) return Promise.resolve(subject);
  const key = `${ctx.tenantId}:${subject}`;
  if (!cache.has(key)) {
    cache.set(key, ctx.api('GET', `/v1/users/${encodeURIComponent(subject)}`)
      .then((r) => (r.ok ? (r.data.name ? `${r.data.name} (${r.data.email})` : r.data.email) : subject)));
  }
  return cache.get(key);
}

/** A span showing the subject at once, replaced by the person's name when it is known. */
export function personSpan(ctx, h, subject, format = (label) => label) {
  const span = h('span', { class: 'person' }, format(subject));
  personLabel(ctx, subject).then((label) => { span.textContent = format(label); });
  return span;
}
