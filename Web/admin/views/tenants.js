// Tenants (super_admin): create, suspend / reactivate (PATCH status), change plan (PATCH plan), and act on one.
import { h, clear } from '../lib/dom.js';
import { dateTime, number } from '../lib/format.js';
import { pageHeader, field, button, statusLine, say, errorText, table, badge, select, dialog, confirmAction } from '../lib/ui.js';

export const PLANS = ['lite', 'pro', 'enterprise'];
const CURRENCIES = ['RWF', 'UGX', 'BIF', 'KES', 'TZS', 'ETB', 'SSP', 'CDF', 'NGN', 'GHS', 'ZAR', 'USD', 'EUR', 'GBP'];
const LANGUAGES = ['en', 'fr', 'sw', 'rw'];

const slugOf = (name) => name.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);

export async function render(ctx) {
  const { t, api, root, can } = ctx;
  const canCreate = can('POST /v1/tenants');
  const canPatch = can('PATCH /v1/tenants/{id}');
  const status = statusLine();
  const list = h('div', { id: 'tenants-list' });
  const more = button(t('action.loadMore'), { hidden: true });
  root.append(
    pageHeader(t('tenants.title'), canCreate ? button(t('tenants.create'), { kind: 'primary', write: true, id: 'tenant-create', on: create }) : null),
    status, list, more);

  let tenants = [];
  let cursor = null;

  async function load(reset = true) {
    if (reset) { tenants = []; cursor = null; }
    say(status, t('app.loading'));
    const answer = await api('GET', `/v1/tenants?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!answer.ok) return say(status, errorText(t, answer), 'error');
    tenants = tenants.concat(answer.data.items);
    cursor = answer.data.nextCursor || null;
    more.hidden = !cursor;
    draw();
  }

  function draw() {
    const columns = [
      { label: t('field.name'), cell: (x) => h('span', {}, x.name, x.id === ctx.tenantId ? h('span', { class: 'hint' }, ` (${t('tenants.current')})`) : null) },
      { label: t('tenants.slug'), cell: (x) => h('code', {}, x.slug) },
      { label: t('tenants.plan'), cell: (x) => t(`plan.${x.plan}`) },
      { label: t('field.status'), cell: (x) => badge(t(`tenantStatus.${x.status}`), x.status === 'suspended' ? 'void' : 'active') },
      { label: t('tenants.currency'), cell: (x) => x.currency },
      { label: t('field.created'), cell: (x) => dateTime(x.createdAt) },
      {
        label: t('field.actions'), cell: (x) => h('div', { class: 'row-actions' },
          x.id !== ctx.tenantId ? button(t('tenants.actOn'), { on: () => actOn(x), 'aria-label': t('tenants.actOnNamed', { name: x.name }) }) : null,
          canPatch ? button(t('tenants.changePlan'), { write: true, on: () => changePlan(x), 'aria-label': t('tenants.changePlanNamed', { name: x.name }) }) : null,
          canPatch ? button(t(x.status === 'suspended' ? 'tenants.reactivate' : 'tenants.suspend'), {
            write: true, kind: x.status === 'suspended' ? 'secondary' : 'danger-quiet', on: () => toggle(x),
            'aria-label': t(x.status === 'suspended' ? 'tenants.reactivateNamed' : 'tenants.suspendNamed', { name: x.name }),
          }) : null),
      },
    ];
    clear(list).append(table({ caption: t('tenants.caption'), captionHidden: true, columns, rows: tenants, empty: t('tenants.none') }));
    say(status, t('tenants.count', { count: number(tenants.length) }));
  }

  function actOn(tenant) {
    ctx.setTenant(tenant.id, tenant.name);
    ctx.announce(t('tenant.chosen', { name: tenant.name }));
    ctx.navigate('#/dashboard');
  }

  function create() {
    const name = h('input', { required: true, maxlength: '200', autocomplete: 'off', id: 'tenant-name-input' });
    const slug = h('input', { required: true, pattern: '[a-z0-9][a-z0-9-]{1,62}', autocomplete: 'off', id: 'tenant-slug' });
    let slugEdited = false;
    name.addEventListener('input', () => { if (!slugEdited) slug.value = slugOf(name.value); });
    slug.addEventListener('input', () => { slugEdited = true; });
    const currency = select(CURRENCIES.map((c) => [c, c]), { value: 'RWF', id: 'tenant-currency' });
    const timeZone = h('input', { value: 'Africa/Kigali', autocomplete: 'off', id: 'tenant-tz' });
    const language = select(LANGUAGES.map((l) => [l, t(`language.${l}`)]), { value: 'en', id: 'tenant-language' });
    const plan = select(PLANS.map((p) => [p, t(`plan.${p}`)]), { value: 'lite', id: 'tenant-plan' });
    const countries = h('input', { autocomplete: 'off', placeholder: 'RW, KE', id: 'tenant-countries' });
    dialog({
      t, title: t('tenants.createTitle'), submitLabel: t('tenants.create'),
      body: h('div', {}, field(t('field.name'), name), field(t('tenants.slug'), slug, { hint: t('tenants.slugHint') }),
        field(t('tenants.countries'), countries, { hint: t('tenants.countriesHint') }),
        field(t('tenants.currency'), currency), field(t('tenants.timeZone'), timeZone), field(t('field.language'), language), field(t('tenants.plan'), plan)),
      onSubmit: async ({ close, fail }) => {
        const body = {
          name: name.value.trim(), slug: slug.value.trim(), currency: currency.value, timeZone: timeZone.value.trim() || 'Africa/Kigali',
          language: language.value, plan: plan.value,
          countries: countries.value.split(/[\s,;]+/).map((c) => c.trim().toUpperCase()).filter(Boolean),
        };
        const answer = await api('POST', '/v1/tenants', { body });
        if (!answer.ok) return fail(errorText(t, answer));
        close(answer.data);
        ctx.announce(t('tenants.created', { name: answer.data.name }));
        load();
      },
    });
  }

  function changePlan(tenant) {
    const plan = select(PLANS.map((p) => [p, t(`plan.${p}`)]), { value: tenant.plan, id: 'tenant-plan-change' });
    dialog({
      t, title: t('tenants.planTitle', { name: tenant.name }), submitLabel: t('action.save'),
      body: h('div', {}, field(t('tenants.plan'), plan, { hint: t('tenants.planHint') })),
      onSubmit: async ({ close, fail }) => {
        if (plan.value === tenant.plan) return close(false);
        const answer = await api('PATCH', `/v1/tenants/${encodeURIComponent(tenant.id)}`, { body: { plan: plan.value } });
        if (!answer.ok) return fail(errorText(t, answer));
        close(true);
        ctx.announce(t('tenants.planChanged', { name: tenant.name, plan: t(`plan.${plan.value}`) }));
        load();
      },
    });
  }

  async function toggle(tenant) {
    const suspend = tenant.status !== 'suspended';
    const done = await confirmAction({
      t, destructive: suspend,
      title: t(suspend ? 'tenants.suspendTitle' : 'tenants.reactivateTitle', { name: tenant.name }),
      message: t(suspend ? 'tenants.suspendBody' : 'tenants.reactivateBody'),
      confirmLabel: t(suspend ? 'tenants.suspend' : 'tenants.reactivate'),
      onConfirm: async () => {
        const answer = await api('PATCH', `/v1/tenants/${encodeURIComponent(tenant.id)}`, { body: { status: suspend ? 'suspended' : 'active' } });
        return answer.ok ? null : errorText(t, answer);
      },
    });
    if (!done) return;
    ctx.announce(t(suspend ? 'tenants.suspended' : 'tenants.reactivated', { name: tenant.name }));
    load();
  }

  more.addEventListener('click', () => load(false));
  await load();
}
