// What the insurance pages share: the review's statuses, the words for the service's refusals, a customer's label,
// and sending a document: its type read from its first bytes here as the service reads it (PDF, PNG, JPEG, WebP, at
// most 10 MiB), then the file itself as the request's body.
import { h } from '../lib/dom.js';
import { badge, errorText, newKey } from '../lib/ui.js';
import en from '../strings/en.js';

export const STATUSES = ['pending', 'needs_changes', 'approved'];
export const MAX_BYTES = 10 * 1024 * 1024;
export const ACCEPT = '.pdf,.png,.jpg,.jpeg,.webp,application/pdf,image/png,image/jpeg,image/webp';

export function statusBadge(t, status) {
  const kinds = { pending: 'issued', needs_changes: 'expired', approved: 'active' };
  return h('span', { class: 'insurance-status', dataset: { status } }, badge(t(`insuranceStatus.${status}`), kinds[status] || 'inactive'));
}

export function insuranceError(t, result) {
  const code = result && result.error && result.error.code;
  if (code && `insuranceError.${code}` in en) return t(`insuranceError.${code}`);
  return errorText(t, result);
}

/** "Amina Njeri · +254712345678", or the buyer's name, or the phone. */
export function customerOf(q, buyers) {
  const buyer = q.buyerId && buyers ? buyers.get(q.buyerId) : null;
  const name = q.customerName || (buyer && buyer.name) || '';
  const phone = q.customerPhone || (buyer && buyer.phone) || '';
  return [name, phone].filter(Boolean).join(' · ') || String(q.buyerId || '').slice(0, 8);
}

/** "1.2 MB", "640 kB", "312 B". */
export function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${bytes} B`;
}

/** The type the bytes are (as the service decides it), or null. */
export function sniff(bytes) {
  const starts = (sig, at = 0) => sig.every((b, i) => bytes[at + i] === b);
  const ascii = (text) => [...text].map((c) => c.charCodeAt(0));
  if (starts(ascii('%PDF-'))) {
    const tail = String.fromCharCode(...bytes.slice(Math.max(0, bytes.length - 1024)));
    return tail.includes('%%EOF') ? 'application/pdf' : null;
  }
  if (bytes.length >= 24 && starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) && starts(ascii('IHDR'), 12)) return 'image/png';
  if (bytes.length >= 4 && starts([0xFF, 0xD8, 0xFF])) return 'image/jpeg';
  if (bytes.length >= 16 && starts(ascii('RIFF')) && starts(ascii('WEBP'), 8)) return 'image/webp';
  return null;
}

/**
 * Sends one file to a quote. Resolves to {ok, document} or {ok: false, message}: a file too large, empty or of
 * another type is refused here in plain words before anything is sent (the service checks it again).
 */
export async function upload(ctx, quoteId, file) {
  const { t } = ctx;
  if (!file.size) return { ok: false, message: t('insurance.emptyFile', { name: file.name }) };
  if (file.size > MAX_BYTES) return { ok: false, message: t('insurance.tooLarge', { name: file.name }) };
  // the head decides the type, the tail whether a PDF is whole (as the service reads them)
  const whole = file.size <= 1056;
  const head = new Uint8Array(await file.slice(0, whole ? file.size : 32).arrayBuffer());
  const tail = whole ? new Uint8Array(0) : new Uint8Array(await file.slice(file.size - 1024).arrayBuffer());
  const type = sniff(whole ? head : Uint8Array.from([...head, ...tail]));
  if (!type) return { ok: false, message: t('insurance.wrongType', { name: file.name }) };
  const key = newKey();
  const send = () => {
    const headers = { 'Content-Type': type, 'Idempotency-Key': key };
    if (ctx.session.accessToken) headers.Authorization = `Bearer ${ctx.session.accessToken}`;
    if (ctx.isStaff && ctx.tenantId) headers['X-Tenant-ID'] = ctx.tenantId;
    return fetch(`/v1/insurance-quotes/${encodeURIComponent(quoteId)}/documents?filename=${encodeURIComponent(file.name)}`,
      { method: 'POST', headers, body: file, credentials: 'same-origin' });
  };
  let response;
  try {
    response = await send();
    if (response.status === 401) {
      // the access token expired: any call through the session renews it (or shows the sign-in screen)
      const again = await ctx.api('GET', '/v1/auth/me');
      if (!again.ok) return { ok: false, message: t('error.unauthorized') };
      response = await send();
    }
  } catch {
    return { ok: false, message: t('error.offline') };
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return { ok: true, document: data };
  const error = (data && data.error) || { code: `http_${response.status}`, message: '' };
  return { ok: false, message: insuranceError(t, { status: response.status, error }) };
}
