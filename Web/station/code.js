// Voucher codes, normalised exactly as the API does (Services/Vouchers/Sources/Domain/VoucherCode.swift):
// upper-case, drop spaces and dashes, then 5 characters from an alphabet that has no look-alikes
// (no 0/O, no 1/I/L), so there is nothing to map them to: such a code is simply not a code.
export const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const LENGTH = 5;

/** The code the API would read, or null when it cannot be one (the API would answer 422 invalid_code). */
export function normalizeCode(text) {
  const cleaned = [...String(text).toUpperCase()].filter((c) => c !== ' ' && c !== '-');
  if (cleaned.length !== LENGTH || !cleaned.every((c) => ALPHABET.includes(c))) return null;
  return cleaned.join('');
}

/** What the cashier has typed so far, cleaned the same way (for showing it back while typing). */
export function cleanTyping(text) {
  return String(text).toUpperCase().replace(/[ -]/g, '');
}

/** A scanned QR looks like `SKV1:<code>:<signature>`; anything else is not ours (the API checks the signature). */
export function looksLikeVoucherQR(text) {
  return /^SKV1:[^:]+:[^:]+$/.test(String(text).trim());
}
