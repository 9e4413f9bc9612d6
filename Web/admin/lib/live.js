// Live messaging events of the tenant (`/v1/messaging/live`): a WebSocket whose first frame carries the access token
// (a browser cannot set headers on a socket), then frames that name what changed — a message stored, a status
// moved, a conversation escalated or closed. They name rows only; the page reads them through the API as usual.
// A closed socket is opened again with backoff, and while there is none the page is asked to refresh every few
// seconds instead, so it stays current when sockets are blocked (a proxy, an old gateway) or the token is not at hand.

const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
export const POLL_MS = 5_000;
// how often the connection checks that its page is still on screen (a route change or sign-out drops the page)
const WATCH_MS = 1_000;

/** The socket's address on this origin: https → wss, http → ws. */
export function liveURL() {
  return `${location.origin.replace(/^http/, 'ws')}/v1/messaging/live`;
}

/**
 * Opens the live connection of one page. `onEvent(frame)` runs for every frame that says something changed (and,
 * while polling, with `{type: 'poll'}`); `onState(state)` with `connecting`, `live`, `reconnecting` or `polling`;
 * `alive()` false ends it (the page is gone). `tenantId`: for platform staff, the tenant they act on.
 * Returns {close}.
 */
export function openLive({ session, tenantId = null, onEvent, onState = () => {}, alive = () => true, pollMs = POLL_MS }) {
  let socket = null;
  let attempt = 0;
  let everReady = false;
  let ended = false;
  let pollTimer = null;
  let retryTimer = null;
  let state = '';

  const setState = (next) => {
    if (next === state) return;
    state = next;
    onState(next);
  };

  const startPolling = () => {
    if (pollTimer) return;
    pollTimer = setInterval(() => { if (alive()) onEvent({ type: 'poll' }); }, pollMs);
  };
  const stopPolling = () => { clearInterval(pollTimer); pollTimer = null; };

  const watchdog = setInterval(() => { if (!alive()) close(); }, WATCH_MS);

  function close() {
    ended = true;
    clearInterval(watchdog);
    clearTimeout(retryTimer);
    stopPolling();
    if (socket) { const s = socket; socket = null; s.close(1000, 'page closed'); }
  }

  function retryLater() {
    if (ended) return;
    const delay = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    retryTimer = setTimeout(connect, delay);
  }

  function connect() {
    if (ended) return;
    // the token travels in the socket's first frame: a browser cannot set headers on a WebSocket
    const token = session.accessToken;
    const permitted = session.can('GET /v1/messaging/live');
    if (!token || !permitted || typeof WebSocket === 'undefined') {
      // nothing to authenticate with (or no socket to open): polling is all there is, so no retries
      setState('polling');
      startPolling();
      return;
    }
    setState(everReady ? 'reconnecting' : 'connecting');
    let opened = false;
    let current;
    try {
      current = new WebSocket(liveURL());
    } catch {
      // refused before it started (a policy, a bad address): poll, and try again later
      setState('polling');
      startPolling();
      retryLater();
      return;
    }
    socket = current;
    current.addEventListener('open', () => {
      opened = true;
      current.send(JSON.stringify(tenantId ? { type: 'auth', token, tenantId } : { type: 'auth', token }));
    });
    current.addEventListener('message', (event) => {
      if (ended || socket !== current) return;
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      if (!frame || typeof frame !== 'object') return;
      if (frame.type === 'ready') {
        attempt = 0;
        stopPolling();
        setState('live');
        // back after a gap: whatever happened meanwhile is only in the database
        if (everReady) onEvent({ type: 'resync' });
        everReady = true;
        return;
      }
      onEvent(frame);
    });
    current.addEventListener('close', () => {
      if (socket !== current) return;
      socket = null;
      if (ended) return;
      // keep the page current while there is no socket: a socket that never opened falls back to polling at once
      startPolling();
      setState(opened && everReady ? 'reconnecting' : 'polling');
      retryLater();
    });
  }

  connect();
  return { close };
}

/** Calls `fn` once, `ms` after the last of a burst of calls (a reply and its status changes are one refresh). */
export function debounce(fn, ms = 250) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
