// Platform staff pick the tenant they act on: from the list when they may read it (super_admin), else by its id
// (checked with a read of that tenant's stations or vouchers). Only the id is remembered (localStorage), per user.
import { h } from '../lib/dom.js';
import { isUUID } from '../lib/campaign.js';
import { pageHeader, section, field, button, statusLine, say, errorText, select } from '../lib/ui.js';

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const status = statusLine();
  const next = ctx.next && !ctx.next.startsWith('#/tenant') ? ctx.next : '#/';
  root.append(pageHeader(t('tenant.title')), h('p', {}, t(ctx.tenantId ? 'tenant.introChange' : 'tenant.intro')));

  const done = (id, name) => {
    ctx.setTenant(id, name);
    ctx.announce(t('tenant.chosen', { name: name || id }));
    ctx.navigate(next);
  };

  if (can('GET /v1/tenants')) {
    let tenants = [];
    let cursor = null;
    do {
      const answer = await api('GET', `/v1/tenants?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      if (!answer.ok) { root.append(h('p', { class: 'form-error', role: 'alert' }, errorText(t, answer))); return; }
      tenants = tenants.concat(answer.data.items);
      cursor = answer.data.nextCursor || null;
    } while (cursor && tenants.length < 2000);
    const choice = select(tenants.map((x) => [x.id, `${x.name} (${x.slug})${x.status === 'suspended' ? ` — ${t('tenantStatus.suspended')}` : ''}`]),
      { id: 'tenant-select', value: ctx.tenantId || '' });
    const form = h('form', { class: 'inline-form', id: 'tenant-form' }, field(t('tenant.pick'), choice),
      button(t('tenant.use'), { kind: 'primary', type: 'submit', id: 'tenant-use' }));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const picked = tenants.find((x) => x.id === choice.value);
      if (picked) done(picked.id, picked.name);
    });
    root.append(section(t('tenant.list'), tenants.length ? form : h('p', { class: 'empty' }, t('tenants.none'))), status);
    return;
  }

  // support, data_ops and readonly cannot list tenants: they name one by its id
  const input = h('input', { id: 'tenant-id', required: true, autocomplete: 'off', spellcheck: 'false', class: 'mono', value: ctx.tenantId || '' });
  const form = h('form', { class: 'inline-form', id: 'tenant-form' }, field(t('tenant.id'), input, { hint: t('tenant.idHint') }),
    button(t('tenant.use'), { kind: 'primary', type: 'submit', id: 'tenant-use' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const id = input.value.trim().toLowerCase();
    if (!isUUID(id)) return say(status, t('tenant.badId'), 'error');
    // a read the person may make, with that tenant named: an unknown tenant answers 404 tenant_not_found
    const probe = can('GET /v1/stations') ? '/v1/stations?limit=1' : '/v1/vouchers?limit=1';
    say(status, t('app.loading'));
    const answer = await api('GET', probe, { headers: { 'X-Tenant-ID': id } });
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    done(id, '');
  });
  root.append(section(t('tenant.byId'), form), status);
}
