// Whole lists a page needs for pickers and names (stations, channels): read page by page up to 1,000 items, kept
// a minute per tenant and path, so moving between pages does not read them again.
const cache = new Map();

/** Every item of `path` (a list endpoint with `limit`/`cursor`), or [] when `permission` is not the caller's. */
export async function loadAll(ctx, path, permission, { fresh = false } = {}) {
  if (!ctx.can(permission)) return [];
  const key = `${ctx.tenantId || ''} ${path}`;
  const hit = cache.get(key);
  if (!fresh && hit && Date.now() - hit.at < 60_000) return hit.items;
  let items = [];
  let cursor = null;
  do {
    const result = await ctx.api('GET', `${path}?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!result.ok) break;
    items = items.concat(result.data.items);
    cursor = result.data.nextCursor || null;
  } while (cursor && items.length < 1000);
  cache.set(key, { at: Date.now(), items });
  return items;
}

/** Drops the kept lists of `path` (after a change to one of its items). */
export function forget(path) {
  for (const key of cache.keys()) if (key.endsWith(` ${path}`)) cache.delete(key);
}
