// TinyLM: language models in the page, on WebAssembly, in a Web Worker. No server, nothing leaves the device.
//
//   import { TinyLM } from './tinylm.js';
//   const lm = await TinyLM.load('models/stories260K.gguf', { onProgress: p => console.log(p) });
//   for await (const chunk of lm.generate('Once upon a time', { maxTokens: 64 })) out.textContent += chunk;
//
// See tinylm.d.ts for the whole API.
import { cacheApi, requestPersistence, TinyLMError } from './tinylm-store.js';

export { TinyLMError };

const DEFAULT_BUDGET = 33554432;
let nextId = 1;

class Channel {
  constructor(worker) {
    this.worker = worker;
    this.pending = new Map();
    worker.onmessage = event => {
      const m = event.data;
      const entry = this.pending.get(m.id);
      if (!entry) return;
      if (m.type === 'error') { this.pending.delete(m.id); entry.reject(rebuildError(m.error)); }
      else if (m.type === 'done') { this.pending.delete(m.id); entry.resolve(m.result); }
      else entry.onEvent?.(m);
    };
    worker.onerror = event => {
      const error = new TinyLMError('worker', `The TinyLM worker failed: ${event.message || 'unknown error'}`);
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
    };
  }

  close() {
    this.closed = true;
    const error = new TinyLMError('state', 'The model was unloaded.');
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
    this.worker.terminate();
  }

  request(op, payload = {}, { onEvent, transfer = [], signal } = {}) {
    const id = nextId++;
    if (this.closed) return Promise.reject(new TinyLMError('state', 'The model was unloaded.'));
    return new Promise((resolve, reject) => {
      if (signal?.aborted) { reject(new TinyLMError('aborted', 'Aborted.')); return; }
      this.pending.set(id, { resolve, reject, onEvent });
      signal?.addEventListener('abort', () => this.worker.postMessage({ op: 'abort', target: id }), { once: true });
      this.worker.postMessage({ id, op, ...payload }, transfer);
    });
  }
}

function rebuildError(e) {
  return new TinyLMError(e.code || 'engine', e.message, e.name && e.name !== 'TinyLMError' ? { kind: e.name } : undefined);
}

function resolveUrl(source) {
  try {
    return new URL(source, globalThis.document?.baseURI ?? location.href).href;
  } catch {
    throw new TinyLMError('argument', `Not a valid URL: '${source}'.`);
  }
}

function checkOptions(options, allowed, what) {
  if (options === null || typeof options !== 'object') throw new TinyLMError('argument', `${what} must be an object.`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TinyLMError('argument', `Unknown ${what} option '${key}'. Known: ${allowed.join(', ')}.`);
  }
}

const LOAD_OPTIONS = ['onProgress', 'cache', 'expectedSha256', 'budgetBytes', 'threads', 'signal', 'contextLength', 'kernels', 'relaxedSimd', 'rowPanels', 'decodeGraph', 'widenQ5_0', 'widenQ6_K', 'widenTQ1_0', 'splitAttentionMacs'];
const GENERATE_OPTIONS = ['maxTokens', 'temperature', 'topK', 'topP', 'minP', 'repeatPenalty', 'repeatLastN',
  'frequencyPenalty', 'presencePenalty', 'seed', 'stop', 'ignoreEos', 'signal'];

/** A loaded model, running in its own worker. */
export class TinyLM {
  #channel;
  #info;
  #busy = false;

  constructor(channel, info) {
    this.#channel = channel;
    this.#info = info;
    this.chat = { completions: { create: request => this.#chatCompletion(request) } };
  }

  /** Model cache shared by all TinyLM instances of this origin. */
  static cache = cacheApi;

  /** Loads a model (URL, File/Blob or ArrayBuffer) into a new worker. */
  static async load(source, options = {}) {
    checkOptions(options, LOAD_OPTIONS, 'load');
    const { onProgress, signal, ...rest } = options;
    const budgetBytes = rest.budgetBytes ?? DEFAULT_BUDGET;
    if (!(Number.isInteger(budgetBytes) && budgetBytes > 0)) throw new TinyLMError('argument', 'budgetBytes must be a positive integer.');
    if (rest.kernels !== undefined && rest.kernels !== 'wasm' && rest.kernels !== 'managed') throw new TinyLMError('argument', "kernels must be 'wasm' or 'managed'.");
    if (rest.relaxedSimd !== undefined && typeof rest.relaxedSimd !== 'boolean') throw new TinyLMError('argument', 'relaxedSimd must be true or false.');
    if (rest.rowPanels !== undefined && typeof rest.rowPanels !== 'boolean') throw new TinyLMError('argument', 'rowPanels must be true or false.');
    if (rest.decodeGraph !== undefined && typeof rest.decodeGraph !== 'boolean') throw new TinyLMError('argument', 'decodeGraph must be true or false.');
    if (rest.widenQ5_0 !== undefined && typeof rest.widenQ5_0 !== 'boolean') throw new TinyLMError('argument', 'widenQ5_0 must be true or false.');
    if (rest.widenQ6_K !== undefined && typeof rest.widenQ6_K !== 'boolean') throw new TinyLMError('argument', 'widenQ6_K must be true or false.');
    if (rest.widenTQ1_0 !== undefined && typeof rest.widenTQ1_0 !== 'boolean') throw new TinyLMError('argument', 'widenTQ1_0 must be true or false.');
    if (rest.splitAttentionMacs !== undefined && !(Number.isSafeInteger(rest.splitAttentionMacs) && rest.splitAttentionMacs >= 0)) throw new TinyLMError('argument', 'splitAttentionMacs must be a non-negative integer.');
    if (rest.threads !== undefined && !(Number.isInteger(rest.threads) && rest.threads >= 1 && rest.threads <= 64)) throw new TinyLMError('argument', 'threads must be an integer from 1 to 64.');
    if (!(typeof source === 'string' || source instanceof URL || source instanceof Blob || source instanceof ArrayBuffer || ArrayBuffer.isView(source))) {
      throw new TinyLMError('argument', 'source must be a URL, a File/Blob or an ArrayBuffer.');
    }
    // URLs resolve against the page (the cache key is the absolute URL), not the worker script.
    const payload = typeof source === 'string' || source instanceof URL ? resolveUrl(source) : ArrayBuffer.isView(source) ? source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength) : source;
    const worker = new Worker(new URL('./tinylm-worker.js', import.meta.url), { type: 'module', name: 'tinylm' });
    const channel = new Channel(worker);
    try {
      const result = await channel.request('load', {
        source: payload,
        options: { cache: rest.cache ?? 'indexeddb', expectedSha256: rest.expectedSha256, budgetBytes, threads: rest.threads, contextLength: rest.contextLength ?? 0, kernels: rest.kernels, relaxedSimd: rest.relaxedSimd, rowPanels: rest.rowPanels, decodeGraph: rest.decodeGraph, widenQ5_0: rest.widenQ5_0, widenQ6_K: rest.widenQ6_K, widenTQ1_0: rest.widenTQ1_0, splitAttentionMacs: rest.splitAttentionMacs },
      }, { onEvent: m => m.type === 'progress' && onProgress?.({ stage: m.stage, loaded: m.loaded, total: m.total, message: m.message }), signal });
      for (const w of result.warnings || []) console.warn(`TinyLM: ${w}`);
      // Only a window can ask for persistent storage (the worker cannot); the answer does not matter.
      if (result.info.cacheStatus === 'stored' || result.info.cacheStatus === 'refetched') requestPersistence();
      return new TinyLM(channel, result.info);
    } catch (e) {
      worker.terminate();
      throw e;
    }
  }

  /** Architecture, parameters, quantization, bytes, checksum, context length, ... */
  get info() { return this.#info; }

  /**
   * Streams the text generated after `prompt` (each call starts from a fresh context; the tokens it
   * shares with the previous prompt are not evaluated again). The iterator's return value is the
   * result (token counts, timings).
   */
  async *generate(prompt, options = {}) {
    return yield* this.#stream(prompt, options);
  }

  async *#stream(prompt, options) {
    if (!this.#info) throw new TinyLMError('state', 'The model was unloaded.');
    if (typeof prompt !== 'string') throw new TinyLMError('argument', 'prompt must be a string.');
    checkOptions(options, GENERATE_OPTIONS, 'generate');
    if (this.#busy) throw new TinyLMError('state', 'A generation is already running on this model.');
    this.#busy = true;
    const { signal, ...engineOptions } = options;
    const queue = [];
    let wake = null;
    const done = this.#channel.request('generate', { prompt, options: engineOptions }, {
      onEvent: m => { if (m.type === 'token') { queue.push(m.text); wake?.(); } },
      signal,
    });
    let finished = false, result, failure;
    done.then(r => { finished = true; result = r; wake?.(); }, e => { finished = true; failure = e; wake?.(); });
    signal?.addEventListener('abort', () => wake?.(), { once: true });
    try {
      // After an abort nothing more is yielded, even text already on its way from the worker
      // (the worker itself stops within one token).
      for (;;) {
        while (queue.length && !signal?.aborted) yield queue.shift();
        if (finished || signal?.aborted) break;
        await new Promise(r => { wake = r; });
        wake = null;
      }
      if (signal?.aborted) {
        await done.catch(() => {});
        throw new TinyLMError('aborted', 'Generation aborted.', { result });
      }
      if (failure) throw failure;
      return result;
    } finally {
      this.#busy = false;
    }
  }

  async #chatCompletion({ messages, stream = false, ...options }) {
    if (!Array.isArray(messages) || messages.length === 0) throw new TinyLMError('argument', 'messages must be a non-empty array.');
    const { max_tokens, temperature, top_p, seed, stop, signal } = options;
    const mapped = { maxTokens: max_tokens, temperature, topP: top_p, seed, stop: typeof stop === 'string' ? [stop] : stop, signal };
    Object.keys(mapped).forEach(k => mapped[k] === undefined && delete mapped[k]);
    if (!this.#info) throw new TinyLMError('state', 'The model was unloaded.');
    const prompt = await this.#channel.request('chatPrompt', { messages });
    const id = `chatcmpl-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.#info.name;
    const finish = r => r.stopReason === 'MaxTokens' || r.stopReason === 'ContextFull' ? 'length' : 'stop';
    const iterator = this.#stream(prompt, mapped);
    if (stream) {
      return (async function* () {
        let step;
        while (!(step = await iterator.next()).done) {
          yield { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant', content: step.value }, finish_reason: null }] };
        }
        const r = step.value;
        yield { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: {}, finish_reason: finish(r) }],
          usage: { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens } };
      })();
    }
    let step, text = '';
    while (!(step = await iterator.next()).done) text += step.value;
    const r = step.value;
    return { id, object: 'chat.completion', created, model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish(r) }],
      usage: { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens } };
  }

  /** Token ids of a text. */
  tokenize(text, { addSpecial = false, parseSpecial = false } = {}) {
    return this.#channel.request('tokenize', { text, addSpecial, parseSpecial });
  }

  /** Text of token ids. */
  detokenize(ids) {
    return this.#channel.request('detokenize', { ids: Array.from(ids) });
  }

  /** Frees the model and stops the worker. */
  async unload() {
    if (!this.#info) return;
    this.#info = null;
    try { await this.#channel.request('unload'); } finally { this.#channel.close(); }
  }
}

export default TinyLM;
