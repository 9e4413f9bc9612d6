// API keys of the tenant: create (the whole key is shown once, in the dialog, with a copy button; closing the
// dialog drops it from the page and from memory: the API never shows it again), list (prefix only) and revoke.
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, table, badge, dialog, checkbox, confirmAction, copyText, newKey } from '../lib/ui.js';

// The roles a key may act with (platform roles, service and station_operator are refused by the gateway).
const SCOPES = ['tenant_admin', 'agent'];

export const masked = (key) => `sk_${key.prefix}_${'•'.repeat(12)}`;

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/api-keys');
  const canRevoke = can('DELETE /v1/api-keys/{id}');
  const status = statusLine();
  const list = h('div', { id: 'keys-list' });
  root.append(
    pageHeader(t('keys.title'), canCreate ? button(t('keys.create'), { kind: 'primary', write: true, id: 'key-create', on: create }) : null),
    h('p', { class: 'hint' }, t('keys.intro')),
    status, list);

  async function load() {
    say(status, t('app.loading'));
    const answer = await api('GET', '/v1/api-keys');
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    const keys = answer.data.items;
    const columns = [
      { label: t('field.name'), cell: (k) => k.name },
      { label: t('keys.key'), cell: (k) => h('code', { class: 'masked' }, masked(k)) },
      { label: t('keys.scopes'), cell: (k) => k.scopes.map((r) => t(`role.${r}`)).join(', ') },
      { label: t('field.created'), cell: (k) => dateTime(k.createdAt) },
      { label: t('keys.lastUsed'), cell: (k) => (k.lastUsedAt ? dateTime(k.lastUsedAt) : t('users.never')) },
      { label: t('field.status'), cell: (k) => (k.revokedAt ? badge(t('keys.revokedOn', { when: dateTime(k.revokedAt) }), 'void') : badge(t('keys.live'), 'active')) },
    ];
    if (canRevoke) {
      columns.push({
        label: t('field.actions'), cell: (k) => (k.revokedAt ? '—' : button(t('keys.revoke'), {
          write: true, kind: 'danger-quiet', on: () => revoke(k), 'aria-label': t('keys.revokeNamed', { name: k.name }),
        })),
      });
    }
    clear(list).append(table({ caption: t('keys.caption'), captionHidden: true, columns, rows: keys, empty: t('keys.none') }));
    say(status, t('keys.count', { count: number(keys.length) }));
  }

  function create() {
    const name = h('input', { name: 'name', required: true, maxlength: '100', autocomplete: 'off', id: 'key-name' });
    const boxes = SCOPES.map((role) => ({ role, ...checkbox(t(`role.${role}`), { value: role, checked: role === 'tenant_admin', id: `scope-${role}` }) }));
    let idempotencyKey = newKey();
    const d = dialog({
      t, title: t('keys.createTitle'), submitLabel: t('keys.create'),
      body: h('div', {}, field(t('field.name'), name, { hint: t('keys.nameHint') }),
        h('fieldset', { class: 'roles' }, h('legend', {}, t('keys.scopes')), boxes.map((b) => b.el))),
      onSubmit: async ({ close, fail }) => {
        const scopes = boxes.filter((b) => b.input.checked).map((b) => b.role);
        if (!scopes.length) return fail(t('keys.needScope'));
        const answer = await api('POST', '/v1/api-keys', { body: { name: name.value.trim(), scopes }, idempotencyKey });
        if (!answer.ok) { if (answer.status < 500) idempotencyKey = newKey(); return fail(errorText(t, answer)); }
        close(answer.data);
      },
    });
    d.done.then((created) => {
      if (!created) return;
      load();
      showOnce(created);
    });
  }

  /** The key, once. Nothing keeps it after the dialog closes. */
  function showOnce(created) {
    let secret = created.key;
    created.key = undefined;
    const value = h('input', { readOnly: true, value: secret, id: 'new-key', class: 'mono', spellcheck: 'false', autocomplete: 'off' });
    const copied = statusLine();
    const copy = button(t('keys.copy'), {
      id: 'key-copy', kind: 'primary',
      on: async () => say(copied, (await copyText(value.value, value)) ? t('keys.copied') : t('keys.copyFailed')),
    });
    const d = dialog({
      t, title: t('keys.onceTitle', { name: created.name }), cancelLabel: t('keys.done'),
      body: h('div', { id: 'key-once' }, h('p', { class: 'notice' }, t('keys.onceBody')),
        field(t('keys.key'), value), h('div', { class: 'form-actions' }, copy), copied),
    });
    d.el.querySelector('.dialog-actions .btn').id = 'key-done';
    value.addEventListener('focus', () => value.select());
    d.done.then(() => {
      value.value = '';
      secret = null;
      ctx.announce(t('keys.created', { name: created.name }));
    });
    value.focus();
  }

  async function revoke(key) {
    const done = await confirmAction({
      t, title: t('keys.revokeTitle', { name: key.name }), message: t('keys.revokeBody'), confirmLabel: t('keys.revoke'),
      onConfirm: async () => {
        const answer = await api('DELETE', `/v1/api-keys/${encodeURIComponent(key.id)}`);
        return answer.ok ? null : errorText(t, answer);
      },
    });
    if (!done) return;
    ctx.announce(t('keys.revoked', { name: key.name }));
    load();
  }

  await load();
}
