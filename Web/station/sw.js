// Service worker for the Station app (scope /station/). The app shell opens without a connection:
// - /station/ HTML: network first (it names the current asset version), the cached copy when offline;
// - /assets/<version>/… : cache first (such a URL never changes its content);
// - /v1/… (the API) and everything else: not touched, never cached (answers are per person and per moment).
const CACHE = 'sokoni-station-v1';
const SHELL = ['/station/', '/station/manifest.webmanifest'];
const VERSIONED = /^\/assets\/[0-9a-f]{12}\//;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    // versioned assets of older deployments are dead weight: keep only those the current HTML names
    const cache = await caches.open(CACHE);
    const html = await cache.match('/station/');
    const current = html && (await html.clone().text()).match(/\/assets\/([0-9a-f]{12})\//)?.[1];
    if (current) {
      for (const request of await cache.keys()) {
        const path = new URL(request.url).pathname;
        if (VERSIONED.test(path) && !path.startsWith(`/assets/${current}/`)) await cache.delete(request);
      }
    }
    await self.clients.claim();
  })());
});

// The page loaded its modules before this worker controlled it; it sends their URLs so the shell also opens offline.
self.addEventListener('message', (event) => {
  const urls = (event.data?.cache ?? []).filter((u) => {
    try {
      const url = new URL(u);
      return url.origin === self.location.origin && VERSIONED.test(url.pathname);
    } catch {
      return false;
    }
  });
  event.waitUntil(caches.open(CACHE).then(async (cache) => {
    for (const u of urls) if (!(await cache.match(u))) await cache.add(u).catch(() => {});
  }));
});

async function networkFirst(request, key) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/')) return; // the API: always the network, never stored
  const page = url.pathname === '/station/' || url.pathname === '/station/index.html'
    || (request.mode === 'navigate' && url.pathname.startsWith('/station/'));
  if (page) {
    event.respondWith(networkFirst(request, '/station/'));
  } else if (url.pathname === '/station/manifest.webmanifest') {
    event.respondWith(networkFirst(request, url.pathname));
  } else if (VERSIONED.test(url.pathname)) {
    event.respondWith(cacheFirst(request));
  }
});
