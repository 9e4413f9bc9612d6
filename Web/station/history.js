// The station's redemptions, from GET /v1/redemptions?mine=true (newest first, paged by cursor).
import { startOfToday } from './format.js';

const PAGE = 100;

async function* pages(session, maxPages) {
  let cursor = null;
  for (let n = 0; n < maxPages; n++) {
    const query = new URLSearchParams({ mine: 'true', limit: String(PAGE) });
    if (cursor) query.set('cursor', cursor);
    const result = await session.api('GET', `/v1/redemptions?${query}`);
    if (!result.ok) throw new Error(result.error?.message ?? `HTTP ${result.status}`);
    yield result.data.items;
    cursor = result.data.nextCursor;
    if (!cursor) return;
  }
}

/** Today's (device's local day) redemptions at this station, newest first. */
export async function loadToday(session) {
  const start = startOfToday();
  const today = [];
  for await (const items of pages(session, 50)) {
    const fresh = items.filter((item) => new Date(item.redeemedAt) >= start);
    today.push(...fresh);
    if (fresh.length < items.length) break; // reached yesterday
  }
  return today;
}

/** This station's redemption of `code`, if it is among the recent ones (to say when an "already used" one was). */
export async function findRedemption(session, code, today = []) {
  const known = today.find((item) => item.code === code);
  if (known) return known;
  try {
    for await (const items of pages(session, 5)) {
      const found = items.find((item) => item.code === code);
      if (found) return found;
    }
  } catch { /* not knowing when is no reason to hide the refusal */ }
  return null;
}
