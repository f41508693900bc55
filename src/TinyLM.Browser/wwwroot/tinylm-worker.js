// The TinyLM Web Worker: runs the .NET engine (TinyLM.Browser) off the page's main thread.
// Protocol (postMessage): requests {id, op, ...}; replies {id, type: 'progress'|'token'|'done'|'error', ...}.
import { dotnet } from './_framework/dotnet.js';
import { acquireModel, TinyLMError } from './tinylm-store.js';

let engine;            // TinyLM.Browser.Interop exports
let modelMeta = null;  // what lm.info reports
const aborted = new Set();
const controllers = new Map();

// The engine emits WebAssembly kernels (TinyLM.Kernels.Wasm) that work on the .NET heap in place: we
// keep the runtime's WebAssembly.Memory by wrapping WebAssembly.instantiate/instantiateStreaming while
// dotnet.create() runs (the memory its instance exports), and instantiate the kernels against it.
let dotnetMemory = null;
let kernelFns = [];
let kernelNames = [];

// bench/browser profile: milliseconds and calls per kernel export while `profile` is set.
let profile = null;
function timed(f, run, shape = '') {
  const t0 = performance.now();
  run();
  const entry = profile[kernelNames[f] + shape] ??= { ms: 0, calls: 0 };
  entry.ms += performance.now() - t0;
  entry.calls++;
}

// True when this engine validates a module using SIMD128 (v128 i8x16.splat).
export const simdSupported = (() => {
  try {
    return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
      10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]));
  } catch { return false; }
})();

const kernelImports = {
  compile(bytes, names) {
    try {
      if (!dotnetMemory) return 'the .NET runtime memory was not captured';
      const module = new WebAssembly.Module(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
      const instance = new WebAssembly.Instance(module, { env: { memory: dotnetMemory } });
      kernelNames = names.split(',');
      kernelFns = kernelNames.map(n => instance.exports[n]);
      return '';
    } catch (e) {
      return String(e && e.message || e);
    }
  },
  call3: (f, a, b, c) => { if (profile) timed(f, () => kernelFns[f](a, b, c)); else kernelFns[f](a, b, c); },
  call10: (f, a, b, c, d, e, g, h, i, j, k) => {
    if (profile) timed(f, () => kernelFns[f](a, b, c, d, e, g, h, i, j, k), ` rows=${c} k=${j} tokens=${g}`); else kernelFns[f](a, b, c, d, e, g, h, i, j, k);
  },
  argMax: (f, p, n) => {
    if (!profile) return kernelFns[f](p, n);
    let r;
    timed(f, () => { r = kernelFns[f](p, n); });
    return r;
  },
  rmsNorm: (f, x, w, eps, y, n, rows) => { if (profile) timed(f, () => kernelFns[f](x, w, eps, y, n, rows)); else kernelFns[f](x, w, eps, y, n, rows); },
  attention: (f, q, k, v, o, s, tokens, start, heads, kvHeads, headDim, scale, context, h0, h1) => {
    const run = () => kernelFns[f](q, k, v, o, s, tokens, start, heads, kvHeads, headDim, scale, context, h0, h1);
    if (profile) timed(f, run); else run();
  },
};

function captureMemory(result) {
  const instance = result instanceof WebAssembly.Instance ? result : result && result.instance;
  const memory = instance && instance.exports && instance.exports.memory;
  if (!dotnetMemory && memory instanceof WebAssembly.Memory) dotnetMemory = memory;
  return result;
}

const runtime = (async () => {
  const { instantiate, instantiateStreaming } = WebAssembly;
  WebAssembly.instantiate = function (...args) { return instantiate.apply(this, args).then(captureMemory); };
  if (instantiateStreaming)
    WebAssembly.instantiateStreaming = function (...args) { return instantiateStreaming.apply(this, args).then(captureMemory); };
  let api;
  try {
    api = await dotnet.withConfig({ disableIntegrityCheck: false }).create();
  } finally {
    WebAssembly.instantiate = instantiate;
    if (instantiateStreaming) WebAssembly.instantiateStreaming = instantiateStreaming;
  }
  const { getAssemblyExports, getConfig, setModuleImports } = api;
  setModuleImports('tinylm-kernels', kernelImports);
  const exports = await getAssemblyExports(getConfig().mainAssemblyName);
  engine = exports.TinyLM.Browser.Interop;
})();

// A macrotask boundary, so that an 'abort' message is handled between two tokens.
function nextTask() {
  return new Promise(resolve => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(0);
  });
}

function toError(e) {
  if (e instanceof TinyLMError) return { name: e.name, code: e.code, message: e.message };
  if (e && e.name === 'AbortError') return { name: 'AbortError', code: 'aborted', message: 'Aborted.' };
  const text = String(e && e.message || e);
  const bar = text.indexOf('|');
  if (bar > 0 && /^[A-Za-z]+$/.test(text.slice(0, bar))) {
    const kind = text.slice(0, bar);
    const code = kind === 'ModelFormatException' ? 'format' : kind === 'ModelAdmissionException' ? 'admission'
      : kind.startsWith('Argument') ? 'argument' : kind === 'InvalidOperationException' ? 'state' : 'engine';
    return { name: kind, code, message: text.slice(bar + 1) };
  }
  return { name: (e && e.name) || 'Error', code: 'engine', message: text };
}

async function load(id, { source, options }) {
  const controller = new AbortController();
  controllers.set(id, controller);
  const progress = p => postMessage({ id, type: 'progress', ...p });
  try {
    const model = await acquireModel(source, { ...options, signal: controller.signal, onProgress: progress });
    progress({ stage: 'parse', loaded: model.bytes.byteLength, total: model.bytes.byteLength });
    await runtime;
    if (controller.signal.aborted) throw new TinyLMError('aborted', 'Loading aborted.');
    let info;
    try {
      const kernels = options.kernels ?? (simdSupported ? 'wasm' : 'managed');
      if (kernels === 'wasm' && !simdSupported) throw new TinyLMError('argument', "kernels: 'wasm' needs WebAssembly SIMD, which this browser lacks.");
      info = JSON.parse(engine.Load(model.bytes, model.name, options.contextLength || 0, options.budgetBytes || 0, kernels));
    } catch (e) {
      // Not a model (e.g. an HTML error page served with 200): keep it out of the cache.
      if (/^ModelFormatException\|/.test(String(e && e.message))) await model.discard();
      throw e;
    }
    modelMeta = { ...info, bytes: model.bytes.byteLength, sha256: model.sha256, source: model.name,
      fromCache: model.fromCache, cacheStatus: model.cacheStatus };
    progress({ stage: 'ready', loaded: model.bytes.byteLength, total: model.bytes.byteLength });
    postMessage({ id, type: 'done', result: { info: modelMeta, warnings: model.warnings } });
  } finally {
    controllers.delete(id);
  }
}

async function generate(id, { prompt, options }) {
  await runtime;
  engine.Start(prompt, JSON.stringify(options || {}));
  for (;;) {
    if (aborted.has(id)) { engine.Cancel(); break; }
    const t0 = profile && performance.now();
    const piece = engine.Step();
    if (profile) {
      const kind = profile.steps.count === 0 ? 'first' : 'decode';
      profile.steps[kind] += performance.now() - t0;
      profile.steps.count++;
    }
    if (piece === null || piece === undefined) break;
    if (piece.length > 0) postMessage({ id, type: 'token', text: piece });
    await nextTask();
  }
  postMessage({ id, type: 'done', result: JSON.parse(engine.Result()) });
}

const handlers = {
  load,
  generate,
  async tokenize(id, { text, addSpecial, parseSpecial }) {
    await runtime;
    postMessage({ id, type: 'done', result: Array.from(engine.Tokenize(text, !!addSpecial, !!parseSpecial)) });
  },
  async detokenize(id, { ids }) {
    await runtime;
    postMessage({ id, type: 'done', result: engine.Detokenize(Int32Array.from(ids)) });
  },
  async chatPrompt(id, { messages }) {
    await runtime;
    postMessage({ id, type: 'done', result: engine.ChatPrompt(JSON.stringify(messages)) });
  },
  // bench/browser: emitted vs C# matrix-vector product (not part of tinylm.js).
  async benchMatMul(id, { type, rows, cols, iterations }) {
    await runtime;
    postMessage({ id, type: 'done', result: JSON.parse(engine.BenchMatMul(type, rows, cols, iterations)) });
  },
  // bench/browser: start (reset) or read the per-kernel profile (not part of tinylm.js).
  async profile(id, { enable }) {
    const result = profile;
    profile = enable ? { steps: { first: 0, decode: 0, count: 0 } } : null;
    postMessage({ id, type: 'done', result: { profile: result, crossOriginIsolated: self.crossOriginIsolated } });
  },
  // bench/browser: milliseconds of the C# steps of a token outside the kernels.
  async benchPhases(id, { iterations }) {
    await runtime;
    postMessage({ id, type: 'done', result: JSON.parse(engine.BenchPhases(iterations)) });
  },
  async unload(id) {
    await runtime;
    engine.Unload();
    modelMeta = null;
    postMessage({ id, type: 'done', result: true });
  },
};

// Operations run one after another (the engine is single-threaded); 'abort' jumps the queue.
let queue = Promise.resolve();

self.onmessage = event => {
  const message = event.data;
  if (message.op === 'abort') {
    aborted.add(message.target);
    controllers.get(message.target)?.abort();
    return;
  }
  queue = queue.then(async () => {
    const handler = handlers[message.op];
    try {
      if (!handler) throw new TinyLMError('argument', `Unknown operation ${message.op}.`);
      if (aborted.has(message.id)) throw new TinyLMError('aborted', 'Aborted.');
      await handler(message.id, message);
    } catch (e) {
      postMessage({ id: message.id, type: 'error', error: toError(e) });
    } finally {
      aborted.delete(message.id);
    }
  });
};
