// Model acquisition for the TinyLM worker: download with progress, budget, SHA-256.
// (Minimal version: no persistent cache yet.)

export class TinyLMError extends Error {
  constructor(code, message, details) {
    super(message);
    this.name = 'TinyLMError';
    this.code = code;
    if (details) this.details = details;
  }
}

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('');
}

export async function acquireModel(source, { expectedSha256, budgetBytes = 33554432, onProgress = () => {}, signal } = {}) {
  let bytes, name;
  if (typeof source === 'string') {
    const url = new URL(source, self.location.href);
    name = url.pathname.split('/').pop() || url.href;
    const response = await fetch(url, { signal });
    if (!response.ok) throw new TinyLMError('http', `Download of ${url.href} failed: HTTP ${response.status} ${response.statusText}`);
    const total = Number(response.headers.get('Content-Length')) || 0;
    if (total > budgetBytes) {
      throw new TinyLMError('budget', `${name} is ${total} bytes, over the budget of ${budgetBytes} bytes.`);
    }
    const reader = response.body.getReader();
    const chunks = [];
    let loaded = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      loaded += value.byteLength;
      if (loaded > budgetBytes) throw new TinyLMError('budget', `${name} exceeds the budget of ${budgetBytes} bytes.`);
      chunks.push(value);
      onProgress({ stage: 'download', loaded, total });
    }
    bytes = new Uint8Array(loaded);
    let at = 0;
    for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  } else {
    const blob = source instanceof Blob ? source : new Blob([source]);
    name = source.name || 'model';
    if (blob.size > budgetBytes) throw new TinyLMError('budget', `${name} is ${blob.size} bytes, over the budget of ${budgetBytes} bytes.`);
    bytes = new Uint8Array(await blob.arrayBuffer());
    onProgress({ stage: 'download', loaded: bytes.byteLength, total: bytes.byteLength });
  }
  onProgress({ stage: 'verify', loaded: bytes.byteLength, total: bytes.byteLength });
  const sha256 = await sha256Hex(bytes);
  if (expectedSha256 && expectedSha256.toLowerCase() !== sha256) {
    throw new TinyLMError('integrity', `${name}: SHA-256 ${sha256} does not match the expected ${expectedSha256}.`);
  }
  return { bytes, sha256, name, fromCache: false, cacheStatus: 'disabled', warnings: [] };
}

export const cacheApi = {
  async list() { return []; },
  async delete() { return false; },
  async clear() {},
};
