// Campaign ids. The API wants a UUID; people think in names ("csv-2025-03-01-march-drivers"). The id is the
// name-based UUID (RFC 4122 version 5) of tenant + name, so the same file issued twice under the same name lands in
// the same campaign, where each recipient key gets one voucher only: a re-upload never issues twice.
//   Python: uuid.uuid5(uuid.NAMESPACE_URL, f"sokoni:campaign:{tenant_id}:{name}")

const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUUID = (text) => UUID.test(String(text).trim());

function hexToBytes(hex) {
  const clean = hex.replace(/-/g, '');
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(clean.slice(i * 2, i * 2 + 2), 16));
}

// crypto.subtle exists only in secure contexts (HTTPS, loopback); plain SHA-1 covers a phone on a LAN address.
function sha1(bytes) {
  const words = [];
  const length = bytes.length;
  const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
  padded.set(bytes);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 4, length * 8);
  view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
  let [a0, b0, c0, d0, e0] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const rotl = (x, n) => (x << n) | (x >>> (32 - n));
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) words[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 80; i++) words[i] = rotl(words[i - 3] ^ words[i - 8] ^ words[i - 14] ^ words[i - 16], 1);
    let [a, b, c, d, e] = [a0, b0, c0, d0, e0];
    for (let i = 0; i < 80; i++) {
      const [f, k] = i < 20 ? [(b & c) | (~b & d), 0x5a827999] : i < 40 ? [b ^ c ^ d, 0x6ed9eba1]
        : i < 60 ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc] : [b ^ c ^ d, 0xca62c1d6];
      const temp = (rotl(a, 5) + f + e + k + words[i]) | 0;
      [e, d, c, b, a] = [d, c, rotl(b, 30), a, temp];
    }
    [a0, b0, c0, d0, e0] = [(a0 + a) | 0, (b0 + b) | 0, (c0 + c) | 0, (d0 + d) | 0, (e0 + e) | 0];
  }
  const out = new Uint8Array(20);
  const outView = new DataView(out.buffer);
  [a0, b0, c0, d0, e0].forEach((w, i) => outView.setUint32(i * 4, w >>> 0));
  return out;
}

async function digest(bytes) {
  if (globalThis.crypto && crypto.subtle) return new Uint8Array(await crypto.subtle.digest('SHA-1', bytes));
  return sha1(bytes);
}

export async function uuid5(name, namespace = NAMESPACE_URL) {
  const nameBytes = new TextEncoder().encode(name);
  const input = new Uint8Array(16 + nameBytes.length);
  input.set(hexToBytes(namespace));
  input.set(nameBytes, 16);
  const hash = (await digest(input)).slice(0, 16);
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The campaign id for what the person typed: a UUID as it is, anything else named within the tenant. */
export async function campaignId(text, tenantId) {
  const value = String(text).trim();
  if (isUUID(value)) return value.toLowerCase();
  return uuid5(`sokoni:campaign:${tenantId}:${value}`);
}

/** The default campaign name for a file: csv-<day>-<file name without extension, tidied>. */
export function defaultCampaignName(fileName, day) {
  const base = fileName.replace(/\.[^.]*$/, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return `csv-${day}-${base || 'file'}`;
}
