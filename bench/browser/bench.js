// TinyLM in-page benchmark: (1) matrix-vector GB/s of weights for the engine's emitted WebAssembly
// kernel and for the C# fallback, over large Q8_0 and Q4_0 matrices; (2) decode tokens/s of models
// with kernels 'wasm' and 'managed'. Results go to #out and window.benchResult (read by run.mjs).
import { TinyLM } from '/tinylm.js';

const params = new URLSearchParams(location.search);
const models = (params.get('models') || '').split(',').filter(Boolean);
const tokens = Number(params.get('tokens') || 128);
const out = document.getElementById('out');
const lines = [];
const log = line => { lines.push(line); out.textContent = lines.join('\n'); };

function workerCall(worker, op, payload) {
  return new Promise((resolve, reject) => {
    const id = Math.random();
    worker.addEventListener('message', function on(e) {
      if (e.data.id !== id) return;
      worker.removeEventListener('message', on);
      if (e.data.type === 'error') reject(new Error(e.data.error.message)); else resolve(e.data.result);
    });
    worker.postMessage({ id, op, ...payload });
  });
}

async function kernels() {
  const worker = new Worker('/tinylm-worker.js', { type: 'module' });
  const results = [];
  for (const [type, rows, cols] of [['q8_0', 4096, 4096], ['q4_0', 4096, 4096], ['f32', 1024, 4096]]) {
    const r = await workerCall(worker, 'benchMatMul', { type, rows, cols, iterations: 20 });
    r.wasmGBs = r.bytes / r.wasmMs / 1e6;
    r.managedGBs = r.bytes / r.managedMs / 1e6;
    log(`${type} [${rows}x${cols}] ${(r.bytes / 1048576).toFixed(1)} MiB: wasm ${r.wasmMs.toFixed(2)} ms = ${r.wasmGBs.toFixed(2)} GB/s; ` +
      `C# ${r.managedMs.toFixed(1)} ms = ${r.managedGBs.toFixed(3)} GB/s; equal=${r.equal}`);
    results.push(r);
  }
  worker.terminate();
  return results;
}

async function decode() {
  const results = [];
  for (const model of models) {
    for (const kernels of ['wasm', 'managed']) {
      const lm = await TinyLM.load('/' + model, { cache: 'none', kernels, budgetBytes: 1 << 30 });
      let step, text = '';
      const it = lm.generate('Once upon a time', { maxTokens: tokens, temperature: 0, ignoreEos: true });
      while (!(step = await it.next()).done) text += step.value;
      const r = { model, kernels: lm.info.kernels, promptTokensPerSecond: step.value.promptTokensPerSecond, tokensPerSecond: step.value.tokensPerSecond, completionTokens: step.value.completionTokens, text };
      log(`${model} ${r.kernels}: decode ${r.tokensPerSecond.toFixed(1)} tok/s (${r.completionTokens} tokens), prompt ${r.promptTokensPerSecond.toFixed(1)} tok/s`);
      results.push(r);
      await lm.unload();
    }
  }
  return results;
}

try {
  const k = await kernels();
  const d = await decode();
  window.benchResult = { kernels: k, decode: d, userAgent: navigator.userAgent };
} catch (e) {
  log('error: ' + (e && e.stack || e));
  window.benchResult = { error: String(e && e.message || e) };
}
