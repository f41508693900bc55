// TinyLM's offline app shell: a service worker that keeps the page, its scripts, the .NET runtime
// (_framework) and the default model available with the network off.
//
// Strategy, for same-origin GET requests only (everything else goes straight to the network):
// - fingerprinted runtime files (_framework/name.<hash>.ext): cache first; their content never changes;
// - everything else (the page, app.js, tinylm*.js, _framework/dotnet.js, the default model, ...):
//   network first, so that an online page always gets the current version, with the cached copy as
//   the fallback when the network fails;
// - anything else (other model files, wherever they are, data the page fetches) is not touched:
//   the model cache (tinylm-store.js: IndexedDB/Cache/OPFS) keeps models;
// - only complete 200 responses are stored (never 206, errors, redirects or opaque responses), as
//   whole Response objects, so their headers stay, among them COOP/COEP: a page served from here
//   is cross-origin isolated offline too.
// The shell is precached on install: the files below plus the runtime files that the boot manifest
// inside _framework/dotnet.js lists (the default model is precached too, so the app works offline
// even when the model cache is off or empty). When a new dotnet.js arrives, runtime files it no longer
// lists are dropped. Caches of older shell versions are deleted on activate.

// Bump when the shell list or the strategy changes: activation then deletes the older caches.
const VERSION = 'v2';
const PREFIX = 'tinylm-shell-';
const CACHE = `${PREFIX}${VERSION}`;
const SCOPE = new URL(self.registration.scope);
const DEFAULT_MODEL = 'models/stories260K.gguf';
const SHELL = ['./', 'index.html', 'app.js', 'app.css', 'manifest.webmanifest', 'icon.svg',
  'tinylm.js', 'tinylm-worker.js', 'tinylm-store.js', 'tinylm-threads.js', 'tinylm-kernel-worker.js', '_framework/dotnet.js', DEFAULT_MODEL];

const at = path => new URL(path, SCOPE).href;
const FRAMEWORK = at('_framework/');
const BOOT = at('_framework/dotnet.js');
const PRECACHED_MODELS = new Set([at(DEFAULT_MODEL)]);
/** Paths of the app itself: pages, scripts, styles, icons, the manifest, runtime files. */
const APP_FILE = /(\/|\.(html|js|mjs|css|json|webmanifest|svg|png|ico|wasm|dat))$/;

/** A response worth keeping: complete, successful, same-origin, not redirected. */
const storable = response => response && response.status === 200 && response.type === 'basic' && !response.redirected;

/** Runtime file names listed by the boot manifest embedded in dotnet.js (between json-start/json-end). */
function frameworkFiles(dotnetJs) {
  const start = dotnetJs.indexOf('/*json-start*/');
  const end = dotnetJs.indexOf('/*json-end*/');
  if (start < 0 || end < start) return null;
  let boot;
  try {
    boot = JSON.parse(dotnetJs.slice(start + '/*json-start*/'.length, end));
  } catch {
    return null;
  }
  const names = new Set();
  const visit = node => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      if (typeof node.name === 'string' && !node.name.includes('/') && !node.name.includes('..')) names.add(node.name);
      Object.values(node).forEach(visit);
    }
  };
  visit(boot.resources);
  return [...names].map(name => FRAMEWORK + name);
}

async function put(cache, request, response) {
  if (storable(response)) await cache.put(request, response);
}

async function precache() {
  const cache = await caches.open(CACHE);
  // The page and the unversioned scripts: revalidated, so that a new worker stores current copies.
  const shell = await Promise.all(SHELL.map(async path => {
    const request = new Request(at(path), { cache: 'no-cache' });
    const response = await fetch(request);
    if (!storable(response)) throw new Error(`Precaching ${request.url} failed: HTTP ${response.status}`);
    return [request, response];
  }));
  const [, boot] = shell.find(([request]) => request.url === BOOT);
  const files = frameworkFiles(await boot.clone().text());
  // Without a boot manifest (another .NET version may keep it elsewhere), the runtime files are
  // still stored, on their first use (cache first).
  if (!files) console.warn('TinyLM service worker: no boot manifest in _framework/dotnet.js; runtime files are cached when first used.');
  // Fingerprinted files: the HTTP cache may answer (their names change with their content).
  const runtime = await Promise.all((files ?? []).map(async url => {
    const cached = await cache.match(url);
    if (cached) return null;
    const response = await fetch(url);
    if (!storable(response)) throw new Error(`Precaching ${url} failed: HTTP ${response.status}`);
    return [url, response];
  }));
  await Promise.all([...shell, ...runtime.filter(Boolean)].map(([request, response]) => cache.put(request, response)));
  if (files) await pruneFramework(cache, files);
}

/** Drops cached runtime files that the current boot manifest no longer lists. */
async function pruneFramework(cache, files) {
  const keep = new Set([...files, BOOT]);
  for (const request of await cache.keys()) {
    if (request.url.startsWith(FRAMEWORK) && !keep.has(request.url)) await cache.delete(request);
  }
}

self.addEventListener('install', event => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener('activate', event => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

const fingerprinted = url => url.startsWith(FRAMEWORK) && url !== BOOT;

async function cacheFirst(event, url) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(url, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(event.request);
  if (storable(response)) event.waitUntil(cache.put(url, response.clone()));
  return response;
}

async function networkFirst(event, url) {
  const cache = await caches.open(CACHE);
  const request = event.request;
  try {
    const response = await fetch(request);
    if (storable(response)) {
      const copy = response.clone();
      event.waitUntil((async () => {
        if (url === BOOT) {
          const files = frameworkFiles(await copy.clone().text());
          if (files) await pruneFramework(cache, files);
        }
        await put(cache, url, copy);
      })());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(url, { ignoreVary: true })
      ?? (request.mode === 'navigate' ? await cache.match(url, { ignoreSearch: true, ignoreVary: true }) ?? await cache.match(at('./'), { ignoreVary: true }) : undefined);
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener('fetch', event => {
  const request = event.request;
  if (request.method !== 'GET' || request.headers.has('range')) return;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || !url.href.startsWith(SCOPE.href)) return;
  const key = url.origin + url.pathname; // the query string is not part of the key
  if (key === at('sw.js') || !(request.mode === 'navigate' || APP_FILE.test(url.pathname) || PRECACHED_MODELS.has(key))) return;
  event.respondWith(fingerprinted(key) ? cacheFirst(event, key) : networkFirst(event, key));
});
