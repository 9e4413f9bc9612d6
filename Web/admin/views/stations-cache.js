// The tenant's stations for pickers and names (up to 1,000), kept for a minute per tenant.
const cache = new Map();

export async function loadStations(ctx, { fresh = false } = {}) {
  if (!ctx.can('GET /v1/stations')) return [];
  const key = ctx.tenantId || '';
  const hit = cache.get(key);
  if (!fresh && hit && Date.now() - hit.at < 60_000) return hit.items;
  let items = [];
  let cursor = null;
  do {
    const result = await ctx.api('GET', `/v1/stations?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!result.ok) break;
    items = items.concat(result.data.items);
    cursor = result.data.nextCursor || null;
  } while (cursor && items.length < 1000);
  cache.set(key, { at: Date.now(), items });
  return items;
}

export function forgetStations() {
  cache.clear();
}
