// One redemption attempt and how its answer is read. An attempt's Idempotency-Key is made before the first send
// and kept with it, so sending it again (after a timeout, offline, a reload) can never redeem twice: the server
// answers a repeated key with the first answer.

const TIMEOUT_MS = 15_000;

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID needs a secure context; the same v4 layout from getRandomValues otherwise
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** body is {code} or {qr}; label is what the cashier sees for it (the code, or "QR"). */
export function newAttempt(userId, body, label) {
  return { key: uuid(), userId, body, label, createdAt: new Date().toISOString() };
}

function retryAfterOf(result) {
  const value = Number(result.headers?.get?.('Retry-After'));
  return Number.isFinite(value) && value > 0 ? value : null;
}

/**
 * Sends an attempt once. Answers one of
 *   {state: 'ok', redemption, replayed}
 *   {state: 'refused', status, code, message, retryAfter}   the server said no (final, except too_many_attempts)
 *   {state: 'pending', reason?, retryAfter?}                no answer: offline, timeout, gateway/service down, signed out
 */
export async function send(session, attempt) {
  if (!navigator.onLine) return { state: 'pending' };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  let result;
  try {
    result = await session.api('POST', '/v1/redemptions', {
      body: attempt.body, idempotencyKey: attempt.key, signal: abort.signal,
    });
  } catch {
    // network failure or timeout: the request may or may not have arrived; the key makes resending safe
    return { state: 'pending' };
  } finally {
    clearTimeout(timer);
  }
  if (result.ok) {
    return { state: 'ok', redemption: result.data, replayed: result.headers?.get?.('Idempotent-Replayed') === 'true' };
  }
  const code = result.error?.code ?? `http_${result.status}`;
  // no decision was made: the service is unreachable behind the gateway, the key is still being processed,
  // the session could not be renewed, or the gateway's rate limit (not the guessing lock) said wait
  if (result.status === 401) return { state: 'pending', reason: 'auth' }; // signed out meanwhile: sent after signing in
  if (result.status >= 500 || result.status === 408 || code === 'idempotency_key_in_use'
    || (result.status === 429 && code !== 'too_many_attempts')) {
    return { state: 'pending', retryAfter: retryAfterOf(result) };
  }
  const message = result.error?.message ?? '';
  return { state: 'refused', status: result.status, code, message, retryAfter: retryAfterOf(result) };
}
