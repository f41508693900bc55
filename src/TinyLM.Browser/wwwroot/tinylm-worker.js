// The TinyLM Web Worker: runs the .NET engine (TinyLM.Browser) off the page's main thread.
// Protocol (postMessage): requests {id, op, ...}; replies {id, type: 'progress'|'token'|'done'|'error', ...}.
import { dotnet } from './_framework/dotnet.js';
import { acquireModel, TinyLMError } from './tinylm-store.js';

let engine;            // TinyLM.Browser.Interop exports
let modelMeta = null;  // what lm.info reports
const aborted = new Set();
const controllers = new Map();

const runtime = (async () => {
  const { getAssemblyExports, getConfig } = await dotnet.withConfig({ disableIntegrityCheck: false }).create();
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
      info = JSON.parse(engine.Load(model.bytes, model.name, options.contextLength || 0, options.budgetBytes || 0));
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
    const piece = engine.Step();
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
