// The admin console: sign-in, the shell (header, menu, tenant choice for platform staff) and a hash router that
// loads one module per page from ./views/. What a person sees follows `session.can('METHOD /path')`, i.e. the
// gateway's route table as GET /v1/auth/me reports it; the API refuses the rest anyway.
import { Session, ApiError } from '../shared/session.js';
import { makeT, pickLanguage, rememberLanguage } from '../shared/i18n.js';
import en from './strings/en.js';
import { h, clear } from './lib/dom.js';
import { setLocale } from './lib/format.js';
import { button, field, select } from './lib/ui.js';

const LANGUAGES = ['en', 'fr', 'sw', 'rw'];
const language = pickLanguage(LANGUAGES);
const t = await makeT(en, {
  fr: () => import('./strings/fr.js'),
  sw: () => import('./strings/sw.js'),
  rw: () => import('./strings/rw.js'),
}, language);
setLocale(language);
document.documentElement.lang = language;
document.title = t('app.title');

// The pages. `needs`: any one of these operations lets the person see the page (and its menu item);
// `tenant: false`: the page does not act on one tenant (staff need not have picked one).
const ROUTES = [
  { path: 'dashboard', nav: 'nav.dashboard', needs: ['GET /v1/voucher-metrics'], view: () => import('./views/dashboard.js') },
  { path: 'analytics', nav: 'nav.analytics', needs: ['GET /v1/analytics/daily'], view: () => import('./views/analytics.js') },
  { path: 'stations', nav: 'nav.stations', needs: ['GET /v1/stations'], view: () => import('./views/stations.js') },
  { path: 'stations/:id', needs: ['GET /v1/stations/{id}'], view: () => import('./views/station.js') },
  { path: 'vouchers', nav: 'nav.vouchers', needs: ['GET /v1/vouchers'], view: () => import('./views/vouchers.js') },
  { path: 'vouchers/bulk', needs: ['POST /v1/vouchers/bulk'], view: () => import('./views/bulk.js') },
  { path: 'vouchers/:id', needs: ['GET /v1/vouchers/{id}'], view: () => import('./views/voucher.js') },
  { path: 'inbox', nav: 'nav.inbox', needs: ['GET /v1/conversations'], view: () => import('./views/inbox.js') },
  { path: 'inbox/:id', needs: ['GET /v1/conversations/{id}'], view: () => import('./views/inbox.js') },
  { path: 'channels', nav: 'nav.channels', needs: ['GET /v1/channels'], view: () => import('./views/channels.js') },
  { path: 'channels/:id', needs: ['GET /v1/channels/{id}'], view: () => import('./views/channel.js') },
  { path: 'sandbox', nav: 'nav.sandbox', needs: ['GET /v1/sandbox/outbox'], view: () => import('./views/sandbox.js') },
  { path: 'messaging-analytics', nav: 'nav.messagingAnalytics', needs: ['GET /v1/messaging/analytics'], view: () => import('./views/messaging-analytics.js') },
  { path: 'messaging-settings', nav: 'nav.messagingSettings', needs: ['GET /v1/messaging/settings', 'GET /v1/opt-outs'], view: () => import('./views/messaging-settings.js') },
  { path: 'campaigns', nav: 'nav.campaigns', needs: ['GET /v1/campaigns'], view: () => import('./views/campaigns.js') },
  { path: 'campaigns/new', needs: ['POST /v1/campaigns'], view: () => import('./views/campaign-new.js') },
  { path: 'campaigns/:id', needs: ['GET /v1/campaigns/{id}'], view: () => import('./views/campaign-view.js') },
  { path: 'templates', nav: 'nav.templates', needs: ['GET /v1/templates'], view: () => import('./views/templates.js') },
  { path: 'sequences', nav: 'nav.sequences', needs: ['GET /v1/sequences'], view: () => import('./views/sequences.js') },
  { path: 'sequences/new', needs: ['POST /v1/sequences'], view: () => import('./views/sequence-edit.js') },
  { path: 'sequences/:id', needs: ['GET /v1/sequences/{id}'], view: () => import('./views/sequence-edit.js') },
  { path: 'agents', nav: 'nav.agents', needs: ['GET /v1/agents'], view: () => import('./views/agents.js') },
  { path: 'agents/:id', needs: ['GET /v1/agents/{id}'], view: () => import('./views/agent.js') },
  { path: 'agents/:id/try', needs: ['GET /v1/agents/{id}', 'POST /v1/agent/sessions'], view: () => import('./views/agent-try.js') },
  { path: 'faqs', nav: 'nav.faqs', needs: ['GET /v1/faqs'], view: () => import('./views/faqs.js') },
  { path: 'knowledge', nav: 'nav.knowledge', needs: ['GET /v1/knowledge'], view: () => import('./views/knowledge.js') },
  { path: 'costs', nav: 'nav.costs', needs: ['GET /v1/agent/costs'], view: () => import('./views/costs.js') },
  { path: 'wallet', nav: 'nav.wallet', needs: ['GET /v1/wallet/accounts'], view: () => import('./views/wallet.js') },
  { path: 'wallet/:id', needs: ['GET /v1/wallet/accounts/{id}'], view: () => import('./views/wallet-account.js') },
  { path: 'marketplace', nav: 'nav.marketplace', needs: ['GET /v1/vendors'], view: () => import('./views/marketplace.js') },
  { path: 'marketplace/products', needs: ['GET /v1/products'], view: () => import('./views/marketplace-products.js') },
  { path: 'marketplace/buyers', needs: ['GET /v1/buyers'], view: () => import('./views/marketplace-buyers.js') },
  { path: 'marketplace/commission', needs: ['GET /v1/commission-schedules'], view: () => import('./views/marketplace-commission.js') },
  { path: 'marketplace/intents', needs: ['GET /v1/intents'], view: () => import('./views/marketplace-intents.js') },
  { path: 'marketplace/intents/:id', needs: ['GET /v1/intents/{id}'], view: () => import('./views/marketplace-intent.js') },
  { path: 'marketplace/purchases', needs: ['GET /v1/purchases'], view: () => import('./views/marketplace-purchases.js') },
  { path: 'marketplace/purchases/:id', needs: ['GET /v1/purchases/{id}'], view: () => import('./views/marketplace-purchase.js') },
  { path: 'insurance', nav: 'nav.insurance', needs: ['GET /v1/insurance-quotes'], view: () => import('./views/insurance.js') },
  { path: 'insurance/:id', needs: ['GET /v1/insurance-quotes/{id}'], view: () => import('./views/insurance-quote.js') },
  { path: 'billing', nav: 'nav.billing', needs: ['GET /v1/credits'], view: () => import('./views/billing.js') },
  { path: 'calendar', nav: 'nav.calendar', needs: ['GET /v1/appointments'], view: () => import('./views/calendar.js') },
  { path: 'calendar/:id', needs: ['GET /v1/appointments/{id}'], view: () => import('./views/appointment.js') },
  { path: 'availability', nav: 'nav.availability', needs: ['GET /v1/calendar/agents'], view: () => import('./views/availability.js') },
  { path: 'bookings', nav: 'nav.bookings', needs: ['GET /v1/appointments'], view: () => import('./views/bookings.js') },
  { path: 'connections', nav: 'nav.connections', needs: ['GET /v1/calendar/connections'], view: () => import('./views/connections.js') },
  { path: 'pipeline', nav: 'nav.pipeline', needs: ['GET /v1/pipeline'], view: () => import('./views/pipeline.js') },
  { path: 'leads', nav: 'nav.leads', needs: ['GET /v1/leads'], view: () => import('./views/leads.js') },
  { path: 'leads/:id', needs: ['GET /v1/leads/{id}'], view: () => import('./views/lead.js') },
  { path: 'calls', nav: 'nav.calls', needs: ['GET /v1/calls'], view: () => import('./views/calls.js') },
  { path: 'calls/:id', needs: ['GET /v1/calls/{id}'], view: () => import('./views/call.js') },
  { path: 'customers', nav: 'nav.customers', needs: ['GET /v1/customers'], view: () => import('./views/customers.js') },
  { path: 'users', nav: 'nav.users', needs: ['GET /v1/users'], view: () => import('./views/users.js') },
  { path: 'api-keys', nav: 'nav.apiKeys', needs: ['GET /v1/api-keys'], view: () => import('./views/apikeys.js') },
  { path: 'tenants', nav: 'nav.tenants', needs: ['GET /v1/tenants'], tenant: false, view: () => import('./views/tenants.js') },
  { path: 'audit', nav: 'nav.audit', needs: ['GET /v1/gateway/audit', 'GET /v1/vouchers/audit'], view: () => import('./views/audit.js') },
  { path: 'tenant', staffOnly: true, tenant: false, view: () => import('./views/tenant.js') },
];

const app = document.getElementById('app');
const announcer = document.getElementById('announcer');
const state = { tenantId: null, tenantName: '', lastEmail: '', renders: 0, shell: null };

const session = new Session({ onExpired: () => showSignIn({ expired: true }) });

const me = () => session.me;
const isOperator = () => Boolean(me() && me().roles.includes('station_operator'));
// platform staff have no tenant of their own and name the one they act on in X-Tenant-ID
const isStaff = () => Boolean(me() && !me().tenantId);
const tenantId = () => (isStaff() ? state.tenantId : me() && me().tenantId);
const tenantKey = () => `sokoni.admin.tenant.${me().id}`;

/** Every API call of the console. Tenant calls of staff carry X-Tenant-ID; /v1/auth and /v1/tenants never do. */
async function api(method, path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (isStaff() && state.tenantId && !headers['X-Tenant-ID'] && !/^\/v1\/(auth|tenants)([/?]|$)/.test(path)) {
    headers['X-Tenant-ID'] = state.tenantId;
  }
  try {
    return await session.api(method, path, { ...options, headers });
  } catch {
    // fetch failed: no network (session.api throws only then)
    return { status: 0, ok: false, data: null, error: { code: 'offline', message: '' }, headers: new Headers() };
  }
}

function announce(text) {
  announcer.textContent = '';
  // a fresh text node each time, so the same words are announced twice in a row
  setTimeout(() => { announcer.textContent = text; }, 50);
}

// ---------------------------------------------------------------- sign-in, expiry, station operators

function closeDialogs() {
  for (const d of document.querySelectorAll('dialog[open]')) d.close();
}

/** The sign-in screen; `expired` says why and keeps the page the person was on (the hash is left alone). */
function showSignIn({ expired = false } = {}) {
  closeDialogs();
  state.shell = null;
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, value: state.lastEmail || '' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'signin-error' });
  const submit = button(t('signin.submit'), { kind: 'primary', type: 'submit', id: 'signin-submit' });
  // shown only when this email and password open accounts in several organisations (409 tenant_required)
  const tenant = h('select', { name: 'tenant', id: 'signin-tenant' });
  const tenantField = field(t('signin.tenant'), tenant);
  tenantField.hidden = true;
  email.addEventListener('input', () => { tenantField.hidden = true; });
  const form = h('form', { class: 'signin-form', id: 'signin-form', 'aria-describedby': 'signin-error' },
    field(t('field.email'), email), field(t('field.password'), password), tenantField, error, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await session.login(email.value.trim(), password.value, tenantField.hidden ? null : tenant.value);
      if (!session.me) throw new ApiError(0, 'me_failed', t('error.generic'));
      state.lastEmail = session.me.email;
      await signedIn();
    } catch (e) {
      error.textContent = signInError(e);
      if (e.code === 'tenant_required') {
        clear(tenant).append(...e.tenants.map((choice) => h('option', { value: choice.slug }, choice.name)));
        tenantField.hidden = false;
        tenant.focus();
      } else {
        password.select();
      }
    } finally {
      submit.disabled = false;
    }
  });
  const title = expired ? t('expired.title') : t('signin.title');
  clear(app).append(h('main', { id: 'main', class: 'signin', tabindex: '-1' },
    h('div', { class: 'signin-card', dataset: { screen: expired ? 'expired' : 'signin' } },
      h('p', { class: 'brand brand-large' }, t('app.brand'), ' ', h('span', {}, t('app.console'))),
      h('h1', { id: expired ? 'expired-title' : 'signin-title' }, title),
      expired ? h('p', { class: 'notice', role: 'status' }, t('expired.body')) : null,
      form)));
  document.title = `${title} · ${t('app.title')}`;
  (expired && email.value ? password : email).focus();
}

function signInError(e) {
  if (e instanceof TypeError) return t('error.offline');
  if (e.status === 429) return t('signin.locked', { seconds: e.retryAfter || 60 });
  if (e.code === 'invalid_credentials') return t('signin.invalid');
  if (e.code === 'tenant_suspended') return t('error.tenant_suspended');
  if (e.code === 'tenant_required') return t('signin.chooseTenant');
  return e.message || t('error.generic');
}

function showOperator() {
  clear(app).append(h('main', { id: 'main', class: 'signin', tabindex: '-1' },
    h('div', { class: 'signin-card', dataset: { screen: 'operator' } },
      h('p', { class: 'brand brand-large' }, t('app.brand'), ' ', h('span', {}, t('app.console'))),
      h('h1', {}, t('operator.title')),
      h('p', {}, t('operator.body')),
      h('p', {}, h('a', { href: '/station/', class: 'btn btn-primary', id: 'station-link' }, t('operator.open'))),
      h('p', {}, button(t('action.signOut'), { on: signOut, id: 'signout' })))));
  document.title = `${t('operator.title')} · ${t('app.title')}`;
  app.querySelector('h1').focus?.();
}

async function signOut() {
  await session.logout();
  state.tenantId = null;
  state.tenantName = '';
  history.replaceState(null, '', '#/');
  showSignIn();
}

/** After sign-in or a restored session: the right screen for who this is, then the page in the address. */
async function signedIn() {
  if (isOperator()) return showOperator();
  if (isStaff()) {
    const remembered = localStorage.getItem(tenantKey());
    if (remembered !== state.tenantId) { state.tenantId = remembered; state.tenantName = ''; }
    if (state.tenantId) await loadTenantName();
  }
  buildShell();
  await route();
}

async function loadTenantName() {
  if (!session.can('GET /v1/tenants/{id}')) return;
  const result = await api('GET', `/v1/tenants/${encodeURIComponent(state.tenantId)}`);
  state.tenantName = result.ok ? result.data.name : '';
}

function setTenant(id, name = '') {
  state.tenantId = id;
  state.tenantName = name;
  if (id) localStorage.setItem(tenantKey(), id); else localStorage.removeItem(tenantKey());
  buildShell();
}

// ---------------------------------------------------------------- the shell

function allowed(r) {
  if (r.staffOnly) return isStaff();
  return r.needs.some((op) => session.can(op));
}

function buildShell() {
  const toggle = h('button', {
    type: 'button', class: 'menu-toggle', 'aria-expanded': 'false', 'aria-controls': 'nav', id: 'menu-toggle',
  }, h('span', { class: 'menu-icon', 'aria-hidden': 'true' }), h('span', {}, t('nav.menu')));
  const nav = h('nav', { id: 'nav', class: 'sidebar', 'aria-label': t('nav.label') });
  const links = ROUTES.filter((r) => r.nav && allowed(r)).map((r) => h('li', {},
    h('a', { href: `#/${r.path}`, dataset: { route: r.path } }, t(r.nav))));
  const tenantBlock = isStaff() ? h('div', { class: 'tenant-block' },
    h('p', { class: 'tenant-label' }, t('tenant.current')),
    h('p', { class: 'tenant-name', id: 'tenant-name' }, state.tenantId ? (state.tenantName || state.tenantId) : t('tenant.none')),
    h('a', { href: '#/tenant', class: 'tenant-change' }, t('tenant.change'))) : null;
  const languageSelect = select(LANGUAGES.map((l) => [l, t(`language.${l}`)]), { value: language, id: 'language' });
  languageSelect.addEventListener('change', () => { rememberLanguage(languageSelect.value); location.reload(); });
  nav.append(...[tenantBlock, links.length ? h('ul', { class: 'nav-list' }, links) : null,
    h('div', { class: 'nav-footer' }, field(t('field.language'), languageSelect))].filter(Boolean));
  toggle.addEventListener('click', () => setMenu(toggle.getAttribute('aria-expanded') !== 'true'));
  const who = me().name || me().email;
  const header = h('header', { class: 'topbar' },
    toggle,
    h('a', { href: '#/', class: 'brand' }, t('app.brand'), ' ', h('span', {}, t('app.console'))),
    h('div', { class: 'topbar-user' },
      h('span', { class: 'who', id: 'who' }, who),
      button(t('action.signOut'), { kind: 'quiet', on: signOut, id: 'signout' })));
  const skip = h('a', { href: '#main', class: 'skip-link' }, t('nav.skip'));
  // the skip link must not change the hash route: move focus instead
  skip.addEventListener('click', (event) => { event.preventDefault(); document.getElementById('main').focus(); });
  const main = h('main', { id: 'main', tabindex: '-1' });
  clear(app).append(skip, header, h('div', { class: 'layout' }, nav, main));
  state.shell = { main, nav, toggle };
}

function setMenu(open) {
  if (!state.shell) return;
  state.shell.toggle.setAttribute('aria-expanded', String(open));
  state.shell.nav.classList.toggle('open', open);
}

// Close the phone menu with Escape, back on its button.
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && state.shell && state.shell.nav.classList.contains('open')) {
    setMenu(false);
    state.shell.toggle.focus();
  }
});

// ---------------------------------------------------------------- routing

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs = ''] = raw.split('?');
  return { path: path.replace(/\/+$/, ''), query: new URLSearchParams(qs) };
}

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const r of ROUTES) {
    const pattern = r.path.split('/');
    if (pattern.length !== parts.length) continue;
    const params = {};
    if (pattern.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = decodeURIComponent(parts[i])), true) : p === parts[i]))) {
      return { route: r, params };
    }
  }
  return null;
}

async function route() {
  if (!session.me || isOperator()) return;
  if (!state.shell) buildShell();
  const { path, query } = parseHash();
  const render = ++state.renders;
  setMenu(false);
  if (!path) {
    const first = ROUTES.find((r) => r.nav && allowed(r));
    if (first) { history.replaceState(null, '', `#/${first.path}`); return route(); }
  }
  let found = match(path);
  const { main, nav } = state.shell;
  for (const a of nav.querySelectorAll('a[data-route]')) {
    const current = path === a.dataset.route || path.startsWith(`${a.dataset.route}/`);
    if (current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const container = h('div', { class: 'page', dataset: { page: found ? found.route.path : 'none' } });
  clear(main).append(container);
  if (!found) return simplePage(container, t('page.notFound'), t('page.notFoundBody'), 'not-found');
  if (!allowed(found.route)) return simplePage(container, t('page.forbidden'), t('page.forbiddenBody'), 'forbidden');
  // staff pick a tenant first; the tenant page then brings them back here
  if (found.route.tenant !== false && isStaff() && !state.tenantId) {
    found = { route: ROUTES.find((r) => r.path === 'tenant'), params: {}, next: location.hash };
    container.dataset.page = 'tenant';
  }
  try {
    const module = await found.route.view();
    if (render !== state.renders) return;
    await module.render({
      t, language, session, api, announce, root: container, params: found.params, query, isStaff: isStaff(),
      me: me(), tenantId: tenantId(), tenantName: state.tenantName, next: found.next || query.get('next') || '',
      can: (op) => session.can(op),
      navigate,
      // filters live in the address (shareable, kept across the expired screen) without reloading the page
      setQuery: (params) => {
        const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null)).toString();
        history.replaceState(null, '', `#/${path}${qs ? `?${qs}` : ''}`);
      },
      setTenant,
      isCurrent: () => render === state.renders,
    });
  } catch (e) {
    if (render !== state.renders) return;
    clear(container);
    simplePage(container, t('page.error'), e instanceof TypeError ? t('error.offline') : String(e.message || e));
  }
  if (render !== state.renders) return;
  // the page has its data (tests and tools wait for this)
  container.dataset.ready = 'true';
  const heading = container.querySelector('h1');
  document.title = `${heading ? heading.textContent : ''} · ${t('app.title')}`;
  // move focus to the new page's title so screen readers start there (not on the very first page)
  if (state.renders > 1 && heading) heading.focus();
}

/** Goes to a page; to the same address again it renders afresh (a hash that does not change fires no event). */
function navigate(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function simplePage(container, title, body, kind = 'error') {
  container.dataset.page = kind;
  container.dataset.ready = 'true';
  container.append(h('h1', { tabindex: '-1', class: 'page-title' }, title), h('p', {}, body));
  document.title = `${title} · ${t('app.title')}`;
}

window.addEventListener('hashchange', () => { if (session.me) route(); });

// ---------------------------------------------------------------- start

clear(app).append(h('main', { id: 'main', class: 'signin' }, h('p', { class: 'loading', role: 'status' }, t('app.loading'))));
if (await session.resume()) {
  state.lastEmail = session.me ? session.me.email : '';
  if (session.me) await signedIn(); else showSignIn();
} else {
  showSignIn();
}
