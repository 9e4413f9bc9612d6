// Redemption attempts waiting for an answer, kept in IndexedDB so they survive a reload or a flat battery.
// Each record: {key, userId, body: {code}|{qr}, label, createdAt, pendingSince?, notBefore?}. `key` is the
// Idempotency-Key, made before the first send and reused on every retry, so the server redeems at most once
// whatever happens. No token is ever stored here: sending needs a signed-in session.
const DB = 'sokoni-station';
const STORE = 'attempts';

// Without IndexedDB (some private modes) attempts live in memory: a reload loses them, but never redeems twice.
const memory = new Map();
let opened = null;

function db() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'key' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  }).catch(() => null);
  return opened;
}

async function run(mode, work, fallback) {
  const database = await db();
  if (!database) return fallback();
  return new Promise((resolve, reject) => {
    const tx = database.transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

export const queue = {
  put: (attempt) => run('readwrite', (store) => store.put(attempt), () => memory.set(attempt.key, structuredClone(attempt))),
  remove: (key) => run('readwrite', (store) => store.delete(key), () => memory.delete(key)),
  /** One user's attempts (all users' without an id), oldest first: answers come back in the order typed. */
  async all(userId) {
    const items = (await run('readonly', (store) => store.getAll(), () => [...memory.values()])) ?? [];
    return items.filter((a) => userId === undefined || a.userId === userId)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  },
};
