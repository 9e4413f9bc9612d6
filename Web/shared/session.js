// One signed-in session for the web apps. The access token lives in this module's memory only; the refresh
// token is an HttpOnly, SameSite=Strict cookie scoped to /v1/auth that no script can read. Sending the header
// `X-Sokoni-Client: web` asks the gateway to use that cookie instead of a token in the body; the custom header
// also forces a CORS preflight, so another site cannot make the browser refresh or log out on its behalf.

const WEB_CLIENT = { 'X-Sokoni-Client': 'web' };
// Refresh this long before the access token expires, so a request never races the expiry.
const REFRESH_MARGIN_MS = 60_000;

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return text; }
}

function errorOf(status, data) {
  const error = data && typeof data === 'object' && data.error;
  return error ? { code: error.code, message: error.message } : { code: `http_${status}`, message: `HTTP ${status}` };
}

export class Session {
  #accessToken = null;
  #refreshTimer = null;
  #refreshing = null;

  constructor({ onExpired = () => {}, tenantHeader = () => null } = {}) {
    this.onExpired = onExpired;
    // staff act on a tenant they pick: the app tells the session which one (an id, never a secret)
    this.tenantHeader = tenantHeader;
    this.me = null;
  }

  get signedIn() { return this.#accessToken !== null; }
  /** The current access token, for the one place that cannot send it as a header: a WebSocket's first frame. */
  get accessToken() { return this.#accessToken; }

  /**
   * Signs in. `tenant` (a slug) is needed only after a 409 `tenant_required`, whose error carries `tenants`:
   * the organisations this email and password both open.
   */
  async login(email, password, tenant = null) {
    const response = await fetch('/v1/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...WEB_CLIENT },
      body: JSON.stringify(tenant === null ? { email, password } : { email, password, tenant }),
      credentials: 'same-origin',
    });
    const data = await readBody(response);
    if (!response.ok) {
      const { code, message } = errorOf(response.status, data);
      const error = new ApiError(response.status, code, message, Number(response.headers.get('Retry-After')) || null);
      if (code === 'tenant_required') error.tenants = data.error.tenants || [];
      throw error;
    }
    await this.#adopt(data);
  }

  /** Restores a session from the refresh cookie (after a reload): true when it worked. */
  async resume() {
    try {
      return await this.#refresh();
    } catch {
      return false;
    }
  }

  async logout() {
    clearTimeout(this.#refreshTimer);
    this.#accessToken = null;
    this.me = null;
    try {
      await fetch('/v1/auth/logout', { method: 'POST', headers: WEB_CLIENT, credentials: 'same-origin' });
    } catch { /* offline: the cookie is cleared next time; the token is gone from memory already */ }
  }

  /** Whether the gateway's route table lets this caller call `METHOD /path` (as written in the API documents). */
  can(operation) {
    return Boolean(this.me && this.me.allowed && this.me.allowed.includes(operation));
  }

  /**
   * Calls the API. Answers {status, ok, data, error, headers}; throws only when the network fails (offline).
   * A 401 refreshes once and retries; when that fails the session has expired (`onExpired`).
   */
  async api(method, path, { body, headers = {}, idempotencyKey, signal } = {}) {
    const send = () => {
      const all = { ...headers };
      if (this.#accessToken) all.Authorization = `Bearer ${this.#accessToken}`;
      const tenant = this.tenantHeader();
      if (tenant && !all['X-Tenant-ID']) all['X-Tenant-ID'] = tenant;
      if (idempotencyKey) all['Idempotency-Key'] = idempotencyKey;
      if (body !== undefined) all['Content-Type'] = 'application/json';
      return fetch(path, {
        method, headers: all, signal, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    };
    let response = await send();
    if (response.status === 401 && this.#accessToken) {
      const refreshed = await this.#refresh().catch(() => false);
      if (!refreshed) {
        this.#expire();
      } else {
        response = await send();
      }
    }
    const data = await readBody(response);
    return {
      status: response.status,
      ok: response.ok,
      data: response.ok ? data : null,
      error: response.ok ? null : errorOf(response.status, data),
      headers: response.headers,
    };
  }

  #expire() {
    clearTimeout(this.#refreshTimer);
    this.#accessToken = null;
    this.me = null;
    this.onExpired();
  }

  // one refresh at a time: concurrent 401s share it (a refresh token is single-use)
  #refresh() {
    if (!this.#refreshing) {
      this.#refreshing = (async () => {
        const post = () => fetch('/v1/auth/refresh', { method: 'POST', headers: WEB_CLIENT, credentials: 'same-origin' });
        let response = await post();
        if (response.status === 401) {
          // another tab may have rotated the shared cookie a moment ago: try once more with the new one
          await new Promise((resolve) => setTimeout(resolve, 300));
          response = await post();
        }
        if (!response.ok) return false;
        await this.#adopt(await readBody(response));
        return true;
      })().finally(() => { this.#refreshing = null; });
    }
    return this.#refreshing;
  }

  async #adopt(pair) {
    this.#accessToken = pair.accessToken;
    clearTimeout(this.#refreshTimer);
    const delay = Math.max(5_000, pair.expiresIn * 1000 - REFRESH_MARGIN_MS);
    this.#refreshTimer = setTimeout(() => {
      this.#refresh().then((ok) => { if (!ok) this.#expire(); }, () => { /* offline: retried on the next 401 */ });
    }, delay);
    const me = await fetch('/v1/auth/me', { headers: { Authorization: `Bearer ${this.#accessToken}` } });
    this.me = me.ok ? await me.json() : null;
  }
}
