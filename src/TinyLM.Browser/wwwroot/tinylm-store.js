// The TinyLM model store: downloads a model with progress, verifies it, and keeps it offline in
// browser storage (IndexedDB by default; the Cache API or the origin private file system on request).
// Runs in the TinyLM worker (acquireModel) and on the page (cacheApi, as TinyLM.cache).
//
// What is cached: URL sources only (http/https), keyed by the resolved absolute URL without its
// fragment. Files, Blobs and ArrayBuffers are already in memory and are never cached.
// Every entry keeps its size and SHA-256; both are checked on every read, and an entry that fails
// (corrupted, truncated, missing data) is deleted and the model downloaded again.
// A download is stored only once complete and verified, so an interrupted one leaves nothing behind.
// Storage failures (full quota, storage unavailable) never fail a load: the model runs from memory.
//
// Layout per backend (all named 'tinylm-models'):
//   indexeddb  database, object stores 'entries' (metadata, keyPath 'key') and 'data' (a Blob per key),
//              written in one transaction.
//   cache      Cache API cache; the request URL is the key, the response body the model, and the
//              metadata rides in response headers (X-TinyLM-Size, -Sha256, -Name, -Stored-At).
//   opfs       directory; per entry '<sha256 of key>.bin' (the model) and '<sha256 of key>.json'
//              (metadata, written after the data).

// --- errors and helpers ---

/** An error with a code: 'budget', 'network', 'http', 'integrity', 'quota', 'aborted', 'argument', ... */
export class TinyLMError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'TinyLMError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** Hex SHA-256 of bytes (an ArrayBuffer or a view). */
export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, '0')).join('');
}

export const DEFAULT_BUDGET_BYTES = 33554432;
const KINDS = ['indexeddb', 'cache', 'opfs', 'none'];
const STORE_NAME = 'tinylm-models';

/** "1054336 bytes (1.01 MiB)". */
function size(n) {
  return `${n} bytes (${(n / 1048576).toFixed(2)} MiB)`;
}

function describe(e) {
  return e && e.name && e.message ? `${e.name}: ${e.message}` : String(e && e.message || e);
}

function isQuotaError(e) {
  return !!e && (e.name === 'QuotaExceededError' || e.code === 22);
}

function abortedError(what) {
  return new TinyLMError('aborted', `${what} aborted.`);
}

function checkKind(kind) {
  if (!KINDS.includes(kind)) throw new TinyLMError('argument', `Unknown cache kind '${kind}'. Known: ${KINDS.join(', ')}.`);
}

/** The cache key of a URL: absolute, without its fragment. Relative URLs resolve against this global's location. */
function keyOf(url) {
  let u;
  try {
    u = new URL(url, self.location.href);
  } catch {
    throw new TinyLMError('argument', `Not a valid URL: '${url}'.`);
  }
  u.hash = '';
  return u.href;
}

/** The file name at the end of a URL's path (percent-decoded when well-formed), else its host. */
function fileName(url) {
  const last = url.pathname.split('/').pop() || '';
  try {
    return decodeURIComponent(last) || url.host;
  } catch {
    return last;
  }
}

let persistenceRequested = false;

/**
 * Asks the browser (once) to keep this origin's storage under pressure. Only windows have
 * navigator.storage.persist(); in a worker this does nothing. The answer does not matter.
 */
export function requestPersistence() {
  if (persistenceRequested || typeof navigator === 'undefined' || typeof navigator.storage?.persist !== 'function') return;
  persistenceRequested = true;
  navigator.storage.persist().catch(() => {});
}

/**
 * Reads a byte stream into one buffer: straight into a preallocated buffer when the size is known
 * (no copy), else into chunks joined once at the end. `overLimit(bytes)` makes the error thrown as
 * soon as more than `limit` bytes arrive. The result may be shorter than `expected`: callers check.
 */
async function readStream(stream, { expected = 0, limit, overLimit, onChunk, signal }) {
  const reader = stream.getReader();
  let buffer = expected > 0 ? new Uint8Array(expected) : null;
  let chunks = buffer ? null : [];
  let loaded = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw new DOMException('Aborted.', 'AbortError');
      const { done, value } = await reader.read();
      if (done) break;
      const next = loaded + value.byteLength;
      if (next > limit) throw overLimit(next);
      if (buffer && next > buffer.byteLength) { chunks = [buffer.subarray(0, loaded)]; buffer = null; }
      if (buffer) buffer.set(value, loaded);
      else chunks.push(value);
      loaded = next;
      onChunk?.(loaded);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
  if (buffer) return loaded === buffer.byteLength ? buffer : buffer.slice(0, loaded);
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  return bytes;
}

function validMeta(meta) {
  return !!meta && typeof meta.key === 'string' && Number.isSafeInteger(meta.size) && meta.size >= 0
    && typeof meta.sha256 === 'string' && /^[0-9a-f]{64}$/.test(meta.sha256);
}

function publicEntry(meta, kind) {
  return { key: meta.key, url: meta.url ?? meta.key, name: meta.name ?? '', size: meta.size, sha256: meta.sha256, storedAt: meta.storedAt ?? '', kind };
}

// --- backend: IndexedDB ---

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve, reject) => {
      if (typeof indexedDB === 'undefined') { reject(new Error('IndexedDB is not available here.')); return; }
      const request = indexedDB.open(STORE_NAME, 1);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains('entries')) db.createObjectStore('entries', { keyPath: 'key' });
        if (!db.objectStoreNames.contains('data')) db.createObjectStore('data');
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => { db.close(); dbPromise = null; };
        db.onclose = () => { dbPromise = null; };
        resolve(db);
      };
      request.onerror = () => reject(request.error);
    });
    dbPromise.catch(() => { dbPromise = null; });
  }
  return dbPromise;
}

/** Runs `work(tx)` in one transaction; resolves with `work`'s returned thunk evaluated after commit. */
async function transact(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(['entries', 'data'], mode, { durability: 'relaxed' });
    const result = work(tx);
    tx.oncomplete = () => resolve(result?.());
    tx.onabort = () => reject(tx.error || new DOMException('The transaction was aborted.', 'AbortError'));
  });
}

const indexedDbBackend = {
  available: () => typeof indexedDB !== 'undefined',
  async open(key) {
    const { meta, blob } = await transact('readonly', tx => {
      const m = tx.objectStore('entries').get(key);
      const d = tx.objectStore('data').get(key);
      return () => ({ meta: m.result, blob: d.result });
    });
    if (meta === undefined) return null;
    return { meta, body: blob instanceof Blob ? blob.stream() : null };
  },
  async put(meta, bytes) {
    const blob = new Blob([bytes], { type: 'application/octet-stream' });
    await transact('readwrite', tx => {
      tx.objectStore('data').put(blob, meta.key);
      tx.objectStore('entries').put(meta);
    });
  },
  async delete(key) {
    return transact('readwrite', tx => {
      const found = tx.objectStore('entries').count(key);
      tx.objectStore('entries').delete(key);
      tx.objectStore('data').delete(key);
      return () => found.result > 0;
    });
  },
  async list() {
    return transact('readonly', tx => {
      const all = tx.objectStore('entries').getAll();
      return () => all.result;
    });
  },
  async clear() {
    await transact('readwrite', tx => {
      tx.objectStore('entries').clear();
      tx.objectStore('data').clear();
    });
  },
};

// --- backend: Cache API ---

const HEADER = { size: 'X-TinyLM-Size', sha256: 'X-TinyLM-Sha256', name: 'X-TinyLM-Name', storedAt: 'X-TinyLM-Stored-At' };

function cacheStorage() {
  if (typeof caches === 'undefined') throw new Error('The Cache API is not available here (it needs a secure context).');
  return caches;
}

function metaFromResponse(key, response) {
  const h = response.headers;
  const sizeText = h.get(HEADER.size);
  return {
    key,
    url: key,
    name: decodeURIComponent(h.get(HEADER.name) || ''),
    size: sizeText !== null && /^\d+$/.test(sizeText) ? Number(sizeText) : -1,
    sha256: h.get(HEADER.sha256) || '',
    storedAt: h.get(HEADER.storedAt) || '',
  };
}

const cacheApiBackend = {
  available: () => typeof caches !== 'undefined',
  async open(key) {
    const storage = cacheStorage();
    if (!(await storage.has(STORE_NAME))) return null;
    const response = await (await storage.open(STORE_NAME)).match(key);
    if (!response) return null;
    return { meta: metaFromResponse(key, response), body: response.body };
  },
  async put(meta, bytes) {
    const cache = await cacheStorage().open(STORE_NAME);
    await cache.put(meta.key, new Response(bytes, {
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(meta.size),
        [HEADER.size]: String(meta.size),
        [HEADER.sha256]: meta.sha256,
        [HEADER.name]: encodeURIComponent(meta.name),
        [HEADER.storedAt]: meta.storedAt,
      },
    }));
  },
  async delete(key) {
    const storage = cacheStorage();
    if (!(await storage.has(STORE_NAME))) return false;
    return (await storage.open(STORE_NAME)).delete(key);
  },
  async list() {
    const storage = cacheStorage();
    if (!(await storage.has(STORE_NAME))) return [];
    const cache = await storage.open(STORE_NAME);
    const metas = [];
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      if (response) metas.push(metaFromResponse(request.url, response));
    }
    return metas;
  },
  async clear() {
    await cacheStorage().delete(STORE_NAME);
  },
};

// --- backend: origin private file system ---

async function opfsDirectory(create) {
  if (typeof navigator === 'undefined' || typeof navigator.storage?.getDirectory !== 'function') {
    throw new Error('The origin private file system is not available here.');
  }
  const root = await navigator.storage.getDirectory();
  try {
    return await root.getDirectoryHandle(STORE_NAME, { create });
  } catch (e) {
    if (!create && e.name === 'NotFoundError') return null;
    throw e;
  }
}

async function opfsFile(directory, name) {
  try {
    return await directory.getFileHandle(name);
  } catch (e) {
    if (e.name === 'NotFoundError') return null;
    throw e;
  }
}

async function opfsRemove(directory, name) {
  try {
    await directory.removeEntry(name);
    return true;
  } catch (e) {
    if (e.name === 'NotFoundError') return false;
    throw e;
  }
}

async function opfsNames(key) {
  const id = await sha256Hex(new TextEncoder().encode(key));
  return { data: `${id}.bin`, meta: `${id}.json` };
}

async function opfsWrite(directory, name, content) {
  const handle = await directory.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  try {
    await writable.write(content);
    await writable.close();
  } catch (e) {
    await writable.abort().catch(() => {});
    throw e;
  }
}

const opfsBackend = {
  available: () => typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function',
  async open(key) {
    const directory = await opfsDirectory(false);
    if (!directory) return null;
    const names = await opfsNames(key);
    const metaHandle = await opfsFile(directory, names.meta);
    if (!metaHandle) return null;
    let meta;
    try {
      meta = JSON.parse(await (await metaHandle.getFile()).text());
    } catch {
      meta = { key };
    }
    if (meta?.key !== key) meta = { key };
    const dataHandle = await opfsFile(directory, names.data);
    return { meta, body: dataHandle ? (await dataHandle.getFile()).stream() : null };
  },
  async put(meta, bytes) {
    const directory = await opfsDirectory(true);
    const names = await opfsNames(meta.key);
    // The metadata goes last: an entry without it does not exist, whatever happens to the data.
    await opfsRemove(directory, names.meta);
    await opfsWrite(directory, names.data, bytes);
    await opfsWrite(directory, names.meta, JSON.stringify(meta));
  },
  async delete(key) {
    const directory = await opfsDirectory(false);
    if (!directory) return false;
    const names = await opfsNames(key);
    const found = await opfsRemove(directory, names.meta);
    await opfsRemove(directory, names.data);
    return found;
  },
  async list() {
    const directory = await opfsDirectory(false);
    if (!directory) return [];
    const metas = [];
    for await (const [name, handle] of directory.entries()) {
      if (handle.kind !== 'file' || !name.endsWith('.json')) continue;
      try {
        const meta = JSON.parse(await (await handle.getFile()).text());
        if (validMeta(meta)) metas.push(meta);
      } catch {
        // An unreadable metadata file is no entry; the next load of its URL replaces it.
      }
    }
    return metas;
  },
  async clear() {
    const root = await navigator.storage.getDirectory();
    try {
      await root.removeEntry(STORE_NAME, { recursive: true });
    } catch (e) {
      if (e.name !== 'NotFoundError') throw e;
    }
  },
};

const noneBackend = { available: () => false };

const BACKENDS = { indexeddb: indexedDbBackend, cache: cacheApiBackend, opfs: opfsBackend, none: noneBackend };

// --- acquiring a model ---

/**
 * The bytes of a model, from the cache or the network (URL), a File/Blob, or an ArrayBuffer.
 * Checks the budget before reading when the size is known (else while streaming), verifies
 * `expectedSha256` and every cached entry's own size and SHA-256, and stores URL downloads in `cache`.
 * Progress: stage 'download' (network, file, or cache with message 'from cache'), then 'verify'.
 * Resolves to { bytes, sha256, name, fromCache, cacheStatus, warnings, discard }; `discard()` deletes
 * the cache entry of this URL (the worker calls it when the bytes turn out not to be a model).
 * Rejects with a TinyLMError: 'argument', 'budget', 'http', 'network', 'aborted', 'integrity'.
 */
export async function acquireModel(source, { cache = 'indexeddb', expectedSha256, budgetBytes = DEFAULT_BUDGET_BYTES, onProgress = () => {}, signal } = {}) {
  checkKind(cache);
  if (!(Number.isSafeInteger(budgetBytes) && budgetBytes > 0)) throw new TinyLMError('argument', `budgetBytes must be a positive integer, found ${budgetBytes}.`);
  let expected = null;
  if (expectedSha256 !== undefined && expectedSha256 !== null) {
    if (typeof expectedSha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(expectedSha256)) {
      throw new TinyLMError('argument', `expectedSha256 must be 64 hexadecimal digits, found '${expectedSha256}'.`);
    }
    expected = expectedSha256.toLowerCase();
  }
  if (signal?.aborted) throw abortedError('Loading');
  const progress = p => { try { onProgress(p); } catch { /* a failing callback does not stop the load */ } };
  const context = { budgetBytes, expected, progress, signal, warnings: [] };
  if (typeof source === 'string' || source instanceof URL) return acquireUrl(keyOf(source), cache, context);
  if (source instanceof Blob || source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return acquireLocal(source, cache, context);
  throw new TinyLMError('argument', 'The model source must be a URL, a File/Blob or an ArrayBuffer.');
}

function budgetError(name, bytes, budgetBytes, where) {
  return new TinyLMError('budget',
    `${name}${where} is ${size(bytes)}, over the budget of ${size(budgetBytes)}: choose a smaller quantization (e.g. Q4_0 instead of Q8_0 or F16) or a smaller model, or raise budgetBytes.`,
    { bytes, budgetBytes });
}

function budgetStreamError(name, bytes, budgetBytes) {
  return new TinyLMError('budget',
    `${name} was stopped after ${size(bytes)} (the server did not send its size): over the budget of ${size(budgetBytes)}. Choose a smaller quantization or model, or raise budgetBytes.`,
    { bytes, budgetBytes });
}

async function verify(bytes, name, { expected, progress }) {
  progress({ stage: 'verify', loaded: bytes.byteLength, total: bytes.byteLength });
  const sha256 = await sha256Hex(bytes);
  if (expected && sha256 !== expected) {
    throw new TinyLMError('integrity', `${name}: SHA-256 ${sha256} does not match the expected ${expected}; nothing was stored.`, { sha256, expected });
  }
  return sha256;
}

async function acquireLocal(source, cache, context) {
  const { budgetBytes, progress, signal } = context;
  const name = source instanceof File ? source.name : 'model';
  let bytes;
  if (source instanceof Blob) {
    if (source.size > budgetBytes) throw budgetError(name, source.size, budgetBytes, '');
    try {
      bytes = await readStream(source.stream(), {
        expected: source.size, limit: budgetBytes, signal,
        overLimit: n => budgetError(name, n, budgetBytes, ''),
        onChunk: loaded => progress({ stage: 'download', loaded, total: source.size }),
      });
    } catch (e) {
      if (e instanceof TinyLMError) throw e;
      if (signal?.aborted || e?.name === 'AbortError') throw abortedError(`Reading ${name}`);
      throw new TinyLMError('network', `Reading ${name} failed: ${describe(e)}.`);
    }
    if (bytes.byteLength !== source.size) throw new TinyLMError('network', `Reading ${name} gave ${bytes.byteLength} of its ${source.size} bytes.`);
  } else {
    bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    if (bytes.byteLength > budgetBytes) throw budgetError(name, bytes.byteLength, budgetBytes, '');
    progress({ stage: 'download', loaded: bytes.byteLength, total: bytes.byteLength });
  }
  const sha256 = await verify(bytes, name, context);
  const cacheStatus = cache === 'none' ? 'disabled' : 'not-stored: only URL sources are cached';
  return { bytes, sha256, name, fromCache: false, cacheStatus, warnings: context.warnings, discard: async () => false };
}

async function acquireUrl(key, cache, context) {
  const url = new URL(key);
  const name = fileName(url);
  let cacheStatus = cache === 'none' ? 'disabled' : 'not-stored: only http(s) URLs are cached';
  let backend = cache !== 'none' && /^https?:$/.test(url.protocol) ? BACKENDS[cache] : null;
  if (backend && !backend.available()) {
    cacheStatus = `not-stored: ${cache} is not available here`;
    context.warnings.push(`${name} is not cached: the ${cache} storage is not available in this browser or context.`);
    backend = null;
  }
  const discard = async () => {
    if (!backend) return false;
    try { return await backend.delete(key); } catch { return false; }
  };
  let refetched = false;
  if (backend) {
    const cached = await readCached(backend, cache, key, name, context);
    if (cached.bytes) {
      return { bytes: cached.bytes, sha256: cached.sha256, name: cached.name || name, fromCache: true, cacheStatus: 'hit', warnings: context.warnings, discard };
    }
    refetched = cached.dropped;
  }
  const bytes = await download(url, name, context);
  const sha256 = await verify(bytes, name, context);
  // An abort that came after the last byte still means: not wanted, so not stored.
  if (context.signal?.aborted) throw abortedError(`Download of ${key}`);
  if (backend) {
    const meta = { key, url: key, name, size: bytes.byteLength, sha256, storedAt: new Date().toISOString() };
    cacheStatus = await store(backend, cache, meta, bytes, context);
    if (cacheStatus === 'stored' && refetched) cacheStatus = 'refetched';
  }
  return { bytes, sha256, name, fromCache: false, cacheStatus, warnings: context.warnings, discard };
}

/**
 * Reads and checks a cached entry. Returns { bytes, sha256, name } for a good entry, { dropped: true }
 * when a bad entry was deleted or the entry has another checksum than expected (then it stays until
 * a matching download replaces it), {} on a miss (or when the storage cannot be read).
 */
async function readCached(backend, kind, key, name, { budgetBytes, expected, progress, signal, warnings }) {
  let entry;
  try {
    entry = await backend.open(key);
  } catch (e) {
    warnings.push(`The ${kind} model cache could not be read (${describe(e)}); downloading ${key}.`);
    return {};
  }
  if (!entry) return {};
  const { meta } = entry;
  let problem = null, bytes = null;
  if (!validMeta(meta)) {
    problem = 'its size and checksum are missing or invalid';
  } else if (meta.size > budgetBytes) {
    entry.body?.cancel().catch(() => {});
    throw budgetError(meta.name || name, meta.size, budgetBytes, ` (cached in ${kind})`);
  } else if (expected && meta.sha256 !== expected) {
    // Another version of the model: kept until a download that matches replaces it.
    entry.body?.cancel().catch(() => {});
    const warning = `The cached copy of ${key} (${kind}) has SHA-256 ${meta.sha256}, not the expected ${expected}: downloading the model again.`;
    warnings.push(warning);
    progress({ stage: 'download', loaded: 0, total: 0, message: warning });
    return { dropped: true };
  } else if (!entry.body) {
    problem = 'its data is missing';
  } else {
    const tooLong = new Error('more bytes than recorded');
    try {
      bytes = await readStream(entry.body, {
        expected: meta.size, limit: meta.size, signal, overLimit: () => tooLong,
        onChunk: loaded => progress({ stage: 'download', loaded, total: meta.size, message: 'from cache' }),
      });
    } catch (e) {
      if (signal?.aborted) throw abortedError('Loading');
      problem = e === tooLong ? `it holds more than the recorded ${meta.size} bytes` : `reading it failed (${describe(e)})`;
    }
    if (bytes && !problem) {
      if (meta.size === 0) progress({ stage: 'download', loaded: 0, total: 0, message: 'from cache' });
      if (bytes.byteLength !== meta.size) {
        problem = `it holds ${bytes.byteLength} bytes, not the recorded ${meta.size}`;
      } else {
        progress({ stage: 'verify', loaded: bytes.byteLength, total: bytes.byteLength, message: 'from cache' });
        const sha256 = await sha256Hex(bytes);
        if (sha256 === meta.sha256) return { bytes, sha256, name: meta.name };
        problem = `its SHA-256 is ${sha256}, not the recorded ${meta.sha256}`;
      }
    }
  }
  try {
    await backend.delete(key);
  } catch (e) {
    warnings.push(`The bad cached copy of ${key} could not be deleted (${describe(e)}).`);
  }
  const warning = `The cached copy of ${key} (${kind}) was unusable: ${problem}. It was deleted and the model is downloaded again.`;
  warnings.push(warning);
  progress({ stage: 'download', loaded: 0, total: 0, message: warning });
  return { dropped: true };
}

/** Downloads a URL with progress into one buffer (preallocated when the length is known and exact). */
async function download(url, name, { budgetBytes, progress, signal }) {
  let loaded = 0, total = 0;
  const failed = e => {
    if (e instanceof TinyLMError) return e;
    if (signal?.aborted || e?.name === 'AbortError') return new TinyLMError('aborted', `Download of ${url.href} aborted after ${loaded} bytes; nothing was stored.`, { loaded, total });
    return new TinyLMError('network', `Download of ${url.href} failed after ${loaded}${total ? ` of ${total}` : ''} bytes (${describe(e)}); nothing was stored. Try again.`, { loaded, total });
  };
  let response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    const error = failed(e);
    if (error.code === 'network' && url.origin !== self.location.origin) {
      error.message += ` A model on another origin must be served with CORS (Access-Control-Allow-Origin).`;
    }
    throw error;
  }
  if (!response.ok) {
    response.body?.cancel().catch(() => {});
    throw new TinyLMError('http', `Download of ${url.href} failed: HTTP ${response.status} ${response.statusText}.`, { status: response.status });
  }
  // Content-Length counts the bytes on the wire: the model's size only without a content encoding.
  // Cross-origin responses hide Content-Encoding; the browser itself fails a body cut short there.
  const encoding = (response.headers.get('Content-Encoding') || 'identity').toLowerCase();
  const lengthText = response.headers.get('Content-Length');
  const declared = encoding === 'identity' && lengthText !== null && /^\d+$/.test(lengthText) ? Number(lengthText) : 0;
  total = declared;
  if (declared > budgetBytes) {
    response.body?.cancel().catch(() => {});
    throw budgetError(name, declared, budgetBytes, '');
  }
  let bytes;
  try {
    if (!response.body) throw new Error('the response has no body');
    progress({ stage: 'download', loaded: 0, total });
    bytes = await readStream(response.body, {
      expected: declared, limit: budgetBytes, signal,
      overLimit: n => declared ? budgetError(name, n, budgetBytes, ' (more than its Content-Length)') : budgetStreamError(name, n, budgetBytes),
      onChunk: n => { loaded = n; progress({ stage: 'download', loaded: n, total }); },
    });
  } catch (e) {
    throw failed(e);
  }
  const exact = response.type === 'basic' || response.type === 'default';
  if (declared && exact && bytes.byteLength !== declared) {
    throw new TinyLMError('network', `Download of ${url.href} was cut short: ${bytes.byteLength} of ${declared} bytes (Content-Length); nothing was stored. Try again.`, { loaded: bytes.byteLength, total: declared });
  }
  return bytes;
}

/** Stores a verified download; returns the cacheStatus. Never throws: the model is in memory either way. */
async function store(backend, kind, meta, bytes, { progress, warnings }) {
  requestPersistence();
  try {
    await backend.put(meta, bytes);
    return 'stored';
  } catch (e) {
    try { await backend.delete(meta.key); } catch { /* nothing more to undo */ }
    let status, warning;
    if (isQuotaError(e)) {
      const sizes = await quotaDetail(meta.size);
      status = `not-stored: quota exceeded (${sizes})`;
      warning = `${meta.name} was not stored in ${kind}: the storage quota is exceeded (${sizes}). It runs from memory and will be downloaded again next time; free space with TinyLM.cache.delete() or TinyLM.cache.clear().`;
    } else {
      status = `not-stored: ${describe(e)}`;
      warning = `${meta.name} was not stored in ${kind} (${describe(e)}). It runs from memory and will be downloaded again next time.`;
    }
    warnings.push(warning);
    progress({ stage: 'verify', loaded: meta.size, total: meta.size, message: warning });
    return status;
  }
}

async function quotaDetail(modelBytes) {
  let text = `model ${size(modelBytes)}`;
  try {
    const { usage, quota } = await navigator.storage.estimate();
    if (Number.isFinite(usage) && Number.isFinite(quota)) text += `; this site uses ${size(usage)} of its quota of ${size(quota)}`;
  } catch {
    // No estimate in this browser: the model's size alone.
  }
  return text;
}

// --- TinyLM.cache ---

function backendFor(kind) {
  checkKind(kind);
  return BACKENDS[kind];
}

/**
 * The model cache of this origin (TinyLM.cache). `kind` defaults to 'indexeddb'. A storage this
 * browser or context does not have (e.g. the Cache API outside a secure context) holds no entries.
 */
export const cacheApi = {
  /** Entries { key, url, name, size, sha256, storedAt, kind }, oldest first. */
  async list(kind = 'indexeddb') {
    const backend = backendFor(kind);
    if (!backend.available()) return [];
    const metas = await backend.list();
    return metas.map(m => publicEntry(m, kind)).sort((a, b) => a.storedAt < b.storedAt ? -1 : a.storedAt > b.storedAt ? 1 : 0);
  },
  /** Deletes the entry of a URL (absolute, or relative to this page); true when there was one. */
  async delete(key, kind = 'indexeddb') {
    const backend = backendFor(kind);
    if (typeof key !== 'string' && !(key instanceof URL)) throw new TinyLMError('argument', 'key must be a URL string.');
    if (!backend.available()) return false;
    return backend.delete(keyOf(key));
  },
  /** Deletes every entry of one kind of storage. */
  async clear(kind = 'indexeddb') {
    const backend = backendFor(kind);
    if (backend.available()) await backend.clear();
  },
};
