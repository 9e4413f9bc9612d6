// Audit: who changed what and when in the tenant, per service (GET /v1/gateway/audit, GET /v1/vouchers/audit,
// GET /v1/calendar-booking/audit), filterable by target type and id and by actor, newest first, with each change's
// before/after.
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, select } from '../lib/ui.js';
import { personSpan } from './people-cache.js';

// Each service's tables that have audit rows (target types).
const SERVICES = {
  gateway: ['tenants', 'users', 'user_roles', 'api_keys'],
  vouchers: ['stations', 'vouchers'],
  'calendar-booking': ['agents', 'blocks', 'appointments'],
};

const show = (value) => (value === undefined ? '' : value === null ? '∅' : typeof value === 'object' ? JSON.stringify(value) : String(value));

/** Rows of [field, before, after] from either shape the services store: {field: {before, after}} or {before: {}, after: {}}. */
export function diffRows(diff) {
  if (!diff || typeof diff !== 'object') return [['', undefined, diff]];
  const isObject = (x) => x && typeof x === 'object' && !Array.isArray(x);
  if (('before' in diff || 'after' in diff) && (isObject(diff.before) || isObject(diff.after))) {
    const before = diff.before || {};
    const after = diff.after || {};
    return [...new Set([...Object.keys(before), ...Object.keys(after)])].map((k) => [k, before[k], after[k]]);
  }
  return Object.entries(diff).map(([k, v]) => (isObject(v) && ('before' in v || 'after' in v) ? [k, v.before, v.after] : [k, undefined, v]));
}

export async function render(ctx) {
  const { t, api, root, can, query } = ctx;
  const services = Object.keys(SERVICES).filter((s) => can(`GET /v1/${s}/audit`));
  const service = select(services.map((s) => [s, t(`audit.service.${s}`)]), { id: 'audit-service', value: query.get('service') || services[0] });
  const targetType = select([], { id: 'audit-type' });
  const targetId = h('input', { id: 'audit-target', autocomplete: 'off', spellcheck: 'false', value: query.get('targetId') || '' });
  const actor = h('input', { id: 'audit-actor', autocomplete: 'off', spellcheck: 'false', value: query.get('actor') || '' });
  const fillTypes = (value) => {
    clear(targetType).append(h('option', { value: '' }, t('audit.anyType')),
      ...SERVICES[service.value].map((type) => h('option', { value: type, selected: type === value }, t(`audit.type.${type}`))));
  };
  fillTypes(query.get('targetType') || '');
  const form = h('form', { class: 'filters', id: 'audit-filters' },
    field(t('audit.serviceLabel'), service), field(t('audit.targetType'), targetType),
    field(t('audit.targetId'), targetId), field(t('audit.actor'), actor, { hint: t('audit.actorHint') }),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit' })));
  const status = statusLine();
  const list = h('ol', { class: 'audit-list', id: 'audit-list' });
  const more = button(t('action.loadMore'), { hidden: true, id: 'audit-more' });
  root.append(pageHeader(t('audit.title')), form, status, list, more);


  let cursor = null;
  let count = 0;

  async function load(reset) {
    if (reset) { cursor = null; count = 0; clear(list); }
    const params = new URLSearchParams({ limit: '50' });
    if (targetType.value) params.set('targetType', targetType.value);
    if (targetId.value.trim()) params.set('targetId', targetId.value.trim());
    if (actor.value.trim()) params.set('actor', actor.value.trim());
    if (cursor) params.set('cursor', cursor);
    ctx.setQuery({ service: service.value, targetType: targetType.value, targetId: targetId.value.trim(), actor: actor.value.trim() });
    say(status, t('app.loading'));
    const answer = await api('GET', `/v1/${service.value}/audit?${params}`);
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    for (const entry of answer.data.items) list.append(item(entry));
    count += answer.data.items.length;
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    say(status, count ? t('audit.count', { count: number(count) }) : t('audit.none'));
  }

  function item(entry) {
    const rows = diffRows(entry.diff);
    return h('li', { class: 'audit-entry card', dataset: { id: String(entry.id) } },
      h('p', { class: 'audit-head' },
        h('strong', {}, entry.action), ' ',
        h('span', {}, t('audit.on', { type: t(`audit.type.${entry.targetType}`) === `audit.type.${entry.targetType}` ? entry.targetType : t(`audit.type.${entry.targetType}`) })), ' ',
        targetLink(entry)),
      h('p', { class: 'hint' }, personSpan(ctx, h, entry.actor, (actor) => t('audit.byAt', { actor, when: dateTime(entry.createdAt) })),
        entry.requestId ? ` · ${t('audit.request', { id: entry.requestId })}` : ''),
      rows.length ? h('details', { open: rows.length <= 4 }, h('summary', {}, t('audit.changes', { count: number(rows.length) })),
        h('div', { class: 'table-wrap' }, h('table', { class: 'data diff' },
          h('caption', { class: 'visually-hidden' }, t('audit.changesOf', { action: entry.action })),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('audit.field')), h('th', { scope: 'col' }, t('audit.before')), h('th', { scope: 'col' }, t('audit.after')))),
          h('tbody', {}, rows.map(([k, before, after]) => h('tr', {},
            h('th', { scope: 'row' }, k),
            h('td', { 'data-label': t('audit.before'), class: 'before' }, show(before)),
            h('td', { 'data-label': t('audit.after'), class: 'after' }, show(after)))))))) : null);
  }

  function targetLink(entry) {
    const id = entry.targetId;
    if (entry.targetType === 'vouchers' && can('GET /v1/vouchers/{id}')) return h('a', { href: `#/vouchers/${encodeURIComponent(id)}`, class: 'mono' }, id);
    if (entry.targetType === 'stations' && can('GET /v1/stations/{id}')) return h('a', { href: `#/stations/${encodeURIComponent(id)}`, class: 'mono' }, id);
    if (entry.targetType === 'appointments' && can('GET /v1/appointments/{id}')) return h('a', { href: `#/calendar/${encodeURIComponent(id)}`, class: 'mono' }, id);
    return h('span', { class: 'mono' }, id);
  }

  service.addEventListener('change', () => { fillTypes(''); load(true); });
  form.addEventListener('submit', (event) => { event.preventDefault(); load(true); });
  more.addEventListener('click', () => load(false));
  if (!services.length) return say(status, t('page.forbiddenBody'), 'error');
  await load(true);
}
