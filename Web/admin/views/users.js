// People of the tenant: create (with roles; a station operator is bound to a station and holds no other role),
// change roles (PUT /v1/users/{id}/roles), bind to a station and deactivate / reactivate (PATCH /v1/users/{id}).
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, table, badge, select, dialog, checkbox, confirmAction } from '../lib/ui.js';
import { loadStations } from './stations-cache.js';

// The roles a tenant's people can hold (platform roles belong to users without a tenant).
export const TENANT_ROLES = ['tenant_admin', 'agent', 'station_operator'];

/** Role checkboxes where station_operator excludes the others (the gateway refuses the mix). */
function rolePicker(t, current, stations, currentStation, legendText) {
  const boxes = TENANT_ROLES.map((role) => ({ role, ...checkbox(t(`role.${role}`), { name: 'roles', value: role, checked: current.includes(role), id: `role-${role}-${Math.random().toString(36).slice(2, 7)}` }) }));
  const station = select([['', t('users.noStation')], ...stations.map((s) => [s.id, `${s.name} (${s.engencode})`])], { value: currentStation || '' });
  const stationField = field(t('field.station'), station, { hint: t('users.stationHint') });
  const sync = () => {
    const operator = boxes.find((b) => b.role === 'station_operator').input.checked;
    for (const b of boxes) if (b.role !== 'station_operator') { b.input.disabled = operator; if (operator) b.input.checked = false; }
    station.required = operator;
  };
  for (const b of boxes) b.input.addEventListener('change', sync);
  sync();
  const el = h('div', {},
    h('fieldset', { class: 'roles' }, h('legend', {}, legendText), boxes.map((b) => b.el), h('p', { class: 'hint' }, t('users.operatorAlone'))),
    stationField);
  return { el, station, roles: () => boxes.filter((b) => b.input.checked).map((b) => b.role) };
}

export async function render(ctx) {
  const { t, api, root, can, query } = ctx;
  const canCreate = can('POST /v1/users');
  const canPatch = can('PATCH /v1/users/{id}');
  const canRoles = can('PUT /v1/users/{id}/roles');
  const stations = await loadStations(ctx);
  const stationName = (id) => (stations.find((s) => s.id === id) || {}).name || (id ? id.slice(0, 8) : '');

  const roleFilter = select([['', t('users.anyRole')], ...TENANT_ROLES.map((r) => [r, t(`role.${r}`)])], { id: 'users-role', value: query.get('role') || '' });
  const stationFilter = select([['', t('vouchers.anyStation')], ...stations.map((s) => [s.id, s.name])], { id: 'users-station', value: query.get('stationId') || '' });
  const status = statusLine();
  const list = h('div', { id: 'users-list' });
  const more = button(t('action.loadMore'), { hidden: true });
  const form = h('form', { class: 'filters' }, field(t('field.role'), roleFilter), field(t('field.station'), stationFilter),
    h('div', { class: 'filters-actions' }, button(t('action.apply'), { kind: 'primary', type: 'submit' })));
  root.append(
    pageHeader(t('users.title'), canCreate ? button(t('users.create'), { kind: 'primary', write: true, id: 'user-create', on: createUser }) : null),
    form, status, list, more);

  let users = [];
  let cursor = null;

  async function load(reset = true) {
    if (reset) { users = []; cursor = null; }
    ctx.setQuery({ role: roleFilter.value, stationId: stationFilter.value });
    const params = new URLSearchParams({ limit: '100' });
    if (roleFilter.value) params.set('role', roleFilter.value);
    if (stationFilter.value) params.set('stationId', stationFilter.value);
    if (cursor) params.set('cursor', cursor);
    say(status, t('app.loading'));
    const answer = await api('GET', `/v1/users?${params}`);
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    users = users.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    draw();
  }

  function draw() {
    // the filters are applied here too, so the page is right even where the API ignores them
    const rows = users.filter((u) => (!roleFilter.value || u.roles.includes(roleFilter.value)) && (!stationFilter.value || u.stationId === stationFilter.value));
    const columns = [
      { label: t('field.name'), cell: (u) => u.name || '—' },
      { label: t('field.email'), cell: (u) => u.email },
      { label: t('field.roles'), cell: (u) => (u.roles.length ? u.roles.map((r) => t(`role.${r}`)).join(', ') : t('users.noRoles')) },
      { label: t('field.station'), cell: (u) => (u.stationId ? h('a', { href: `#/stations/${encodeURIComponent(u.stationId)}` }, stationName(u.stationId)) : '—') },
      { label: t('field.status'), cell: (u) => badge(t(u.active ? 'users.active' : 'users.inactive'), u.active ? 'active' : 'inactive') },
      { label: t('users.lastSeen'), cell: (u) => (u.lastSeenAt ? dateTime(u.lastSeenAt) : t('users.never')) },
    ];
    if (canPatch || canRoles) {
      columns.push({
        label: t('field.actions'), cell: (u) => (u.id === ctx.me.id ? h('span', { class: 'hint' }, t('users.you')) : h('div', { class: 'row-actions' },
          canRoles ? button(t('users.editRoles'), { write: true, on: () => editRoles(u), 'aria-label': t('users.editRolesNamed', { name: u.email }) }) : null,
          canPatch ? button(t(u.active ? 'users.deactivate' : 'users.reactivate'), {
            write: true, kind: u.active ? 'danger-quiet' : 'secondary', on: () => toggle(u),
            'aria-label': t(u.active ? 'users.deactivateNamed' : 'users.reactivateNamed', { name: u.email }),
          }) : null)),
      });
    }
    clear(list).append(table({ caption: t('users.caption'), captionHidden: true, columns, rows, empty: t('users.none') }));
    say(status, t('users.count', { count: number(rows.length) }));
  }

  function createUser() {
    const name = h('input', { name: 'name', autocomplete: 'off', maxlength: '200', id: 'user-name' });
    const email = h('input', { name: 'email', type: 'email', required: true, autocomplete: 'off', id: 'user-email' });
    const password = h('input', { name: 'password', type: 'password', required: true, minlength: '10', maxlength: '72', autocomplete: 'new-password', id: 'user-password' });
    const picker = rolePicker(t, [], stations, '', t('field.roles'));
    dialog({
      t, title: t('users.createTitle'), submitLabel: t('users.create'),
      body: h('div', {}, field(t('field.name'), name), field(t('field.email'), email),
        field(t('field.password'), password, { hint: t('users.passwordHint') }), picker.el),
      onSubmit: async ({ close, fail }) => {
        const roles = picker.roles();
        if (roles.includes('station_operator') && !picker.station.value) return fail(t('error.station_required'));
        const body = { email: email.value.trim(), password: password.value, name: name.value.trim(), roles };
        if (picker.station.value) body.stationId = picker.station.value;
        const answer = await api('POST', '/v1/users', { body });
        if (!answer.ok) return fail(errorText(t, answer));
        close(answer.data);
        ctx.announce(t('users.created', { email: answer.data.email }));
        load();
      },
    });
  }

  function editRoles(user) {
    const picker = rolePicker(t, user.roles, stations, user.stationId, t('field.roles'));
    dialog({
      t, title: t('users.rolesTitle', { name: user.email }), submitLabel: t('action.save'), body: picker.el,
      onSubmit: async ({ close, fail }) => {
        const roles = picker.roles();
        if (roles.includes('station_operator') && !picker.station.value) return fail(t('error.station_required'));
        // bind to the station first: the gateway makes someone an operator only once they have a station
        if (picker.station.value && picker.station.value !== (user.stationId || '')) {
          const bound = await api('PATCH', `/v1/users/${encodeURIComponent(user.id)}`, { body: { stationId: picker.station.value } });
          if (!bound.ok) return fail(errorText(t, bound));
        }
        const same = roles.length === user.roles.length && roles.every((r) => user.roles.includes(r));
        if (!same) {
          const answer = await api('PUT', `/v1/users/${encodeURIComponent(user.id)}/roles`, { body: { roles } });
          if (!answer.ok) return fail(errorText(t, answer));
        }
        close(true);
        ctx.announce(t('users.saved', { email: user.email }));
        load();
      },
    });
  }

  async function toggle(user) {
    const deactivate = user.active;
    const done = await confirmAction({
      t, destructive: deactivate,
      title: t(deactivate ? 'users.deactivateTitle' : 'users.reactivateTitle', { name: user.email }),
      message: t(deactivate ? 'users.deactivateBody' : 'users.reactivateBody'),
      confirmLabel: t(deactivate ? 'users.deactivate' : 'users.reactivate'),
      onConfirm: async () => {
        const answer = await api('PATCH', `/v1/users/${encodeURIComponent(user.id)}`, { body: { active: !deactivate } });
        return answer.ok ? null : errorText(t, answer);
      },
    });
    if (!done) return;
    ctx.announce(t(deactivate ? 'users.deactivated' : 'users.reactivated', { email: user.email }));
    load();
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  more.addEventListener('click', () => load(false));
  await load();
}
