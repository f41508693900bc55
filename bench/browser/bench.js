// TinyLM in-page benchmark: (1) matrix-vector GB/s of weights for the engine's emitted WebAssembly
// kernel and for the C# fallback, over large Q8_0 and Q4_0 matrices; (2) decode tokens/s of models
// with kernels 'wasm' and 'managed', and prompt tokens/s over a 128-token prompt; (3) a profile of
// the emitted kernels per decoded token and the C# steps between them. Results go to #out and
// window.benchResult (read by run.mjs).
import { TinyLM } from '/tinylm.js';

const params = new URLSearchParams(location.search);
const models = (params.get('models') || '').split(',').filter(Boolean);
const tokens = Number(params.get('tokens') || 128);
const threads = Number(params.get('threads') || 1);   // kernel threads for the prefill, profile and wasm decode runs
const relaxedSimd = params.get('relaxed') !== '0';     // relaxed=0: the SIMD128 kernels (A/B of relaxed SIMD)
const rowPanels = params.get('panels') !== '0';         // panels=0: matrices row by row (A/B of the row panels)
const decodeGraph = params.get('graph') !== '0';        // graph=0: every decode step runs the C# forward pass (A/B of kernel graphs)
const widenQ5_0 = params.get('widen') !== '0';          // widen=0: Q5_0 matrices run the Q5_0 kernels (A/B of widening them to Q8_0)
const decodeKernels = (params.get('kernels') || 'wasm,managed').split(',');
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
  const shapes = params.get('shapes') ? params.get('shapes').split(';').map(x => { const [t, r, c] = x.split(','); return [t, Number(r), Number(c)]; }) : [['q8_0', 4096, 4096], ['q8_0', 1536, 576], ['q4_0', 4096, 4096], ['q4_0', 1536, 576], ['q5_0', 4096, 4096],
    ['q5_0', 1536, 576], ['q4_1', 4096, 4096], ['q5_1', 4096, 4096], ['iq4_nl', 4096, 4096], ['q2_K', 4096, 4096], ['q3_K', 4096, 4096],
    ['q4_K', 4096, 4096], ['q5_K', 4096, 4096], ['q6_K', 4096, 4096], ['tq1_0', 4096, 4096], ['tq2_0', 4096, 4096],
    ['f32', 1024, 4096], ['f16', 1024, 4096], ['bf16', 1024, 4096]];
  for (const [type, rows, cols] of shapes) {
    // the quantized types (all have panel products) run with relaxed SIMD (when the browser has it) and without, row by row and in panels
    const variants = !['f32', 'f16', 'bf16'].includes(type)
      ? [[false, false], [true, false], [false, true], [true, true]] : [[true, false]];
    for (const [relaxed, panels] of variants) {
      const r = await workerCall(worker, 'benchMatMul', { type, rows, cols, iterations: Number(params.get('iterations') || 20), relaxed, panels });
      r.wasmGBs = r.bytes / r.wasmMs / 1e6;
      r.managedGBs = r.bytes / r.managedMs / 1e6;
      log(`${type} [${rows}x${cols}] ${(r.bytes / 1048576).toFixed(1)} MiB${r.relaxedSimd ? ' relaxed' : ''}${r.panels ? ' panels' : ''}: wasm ${r.wasmMs.toFixed(3)} ms = ${r.wasmGBs.toFixed(2)} GB/s; ` +
        `C# ${r.managedMs.toFixed(1)} ms = ${r.managedGBs.toFixed(3)} GB/s; equal=${r.equal}`);
      results.push(r);
    }
  }
  worker.terminate();
  return results;
}

// A prompt of 128 tokens in the Llama 2 vocabulary (BOS included).
const longPrompt = 'Once upon a time, in a small village at the edge of a great forest, there lived a little girl named Lily. ' +
  'She loved to play outside with her dog, a big brown dog called Max. Every morning they ran to the river, where the water ' +
  'was cold and clear, and they watched the fish swim. One day Lily saw a shiny stone under the water. She reached for it, ' +
  'but the stone was too deep. Max barked and jumped in, and soon he came back with the stone in his mouth. Lily was so happy ' +
  'that she hugged him and said thank you.';

const firstWords = ['Once', 'Long', 'Many', 'Some', 'Years', 'Ages', 'Days', 'Weeks'];
const variant = i => firstWords[i % firstWords.length] + longPrompt.slice(4);

async function prefill() {
  const results = [];
  for (const model of models) {
    const lm = await TinyLM.load('/' + model, { cache: 'none', kernels: 'wasm', budgetBytes: 1 << 30, threads, relaxedSimd, rowPanels, decodeGraph, widenQ5_0 });
    const promptTokens = (await lm.tokenize(longPrompt, { addSpecial: true })).length;
    const runs = [], evaluated = [];
    for (let i = 0; i < 6; i++) {
      // a different first word each run: the session keeps a common prefix of the previous prompt
      const it = lm.generate(variant(i), { maxTokens: 1, temperature: 0 });
      let step;
      while (!(step = await it.next()).done) { }
      if (i > 0) {   // the first run warms the kernels up
        runs.push(step.value.promptTokensPerSecond);
        evaluated.push(step.value.promptTokens);
      }
    }
    const sorted = [...runs].sort((a, b) => a - b);
    const r = { model, promptTokens, evaluated, promptTokensPerSecond: sorted[2], best: sorted[4], runs };
    log(`${model} wasm: prompt ${promptTokens} tokens (${evaluated.join(', ')} evaluated): ${r.promptTokensPerSecond.toFixed(1)} tok/s (runs ${runs.map(v => v.toFixed(1)).join(', ')})`);
    results.push(r);
    await lm.unload();
  }
  return results;
}

// Milliseconds per decoded token in each emitted kernel (by export and shape), and what remains (C#).
async function profile() {
  const results = [];
  for (const model of models) {
    const worker = new Worker('/tinylm-worker.js', { type: 'module' });
    await workerCall(worker, 'load', { source: new URL('/' + model, location.href).href, options: { cache: 'none', kernels: 'wasm', budgetBytes: 1 << 30, threads, relaxedSimd, rowPanels, decodeGraph, widenQ5_0 } });
    await workerCall(worker, 'profile', { enable: true });
    // long=1: after the 128-token prompt (attention over 128 + positions), else after four words
    await workerCall(worker, 'generate', { prompt: params.get('long') === '1' ? longPrompt : 'Once upon a time', options: { maxTokens: tokens, temperature: 0, ignoreEos: true } });
    const { profile: p, crossOriginIsolated, kernelThreads } = await workerCall(worker, 'profile', { enable: false });
    const decoded = p.steps.count - 1;
    const perToken = p.steps.decode / decoded;
    const ops = Object.entries(p).filter(([k]) => k !== 'steps')
      .map(([op, v]) => ({ op, calls: v.calls, msTotal: v.ms, gapMsTotal: v.gapMs }))
      .sort((a, b) => b.msTotal - a.msTotal);
    const kernelMs = ops.reduce((a, o) => a + o.msTotal, 0);
    // the same over the 128-token prompt (one step: prefill and the first token), after a warm-up run
    await workerCall(worker, 'generate', { prompt: variant(1), options: { maxTokens: 1, temperature: 0 } });
    await workerCall(worker, 'profile', { enable: true });
    await workerCall(worker, 'generate', { prompt: variant(2), options: { maxTokens: 1, temperature: 0 } });
    const { profile: pp } = await workerCall(worker, 'profile', { enable: false });
    const prefillOps = Object.entries(pp).filter(([k]) => k !== 'steps').map(([op, v]) => ({ op, calls: v.calls, ms: v.ms })).sort((a, b) => b.ms - a.ms);
    const prefill = { stepMs: pp.steps.first, kernelMs: prefillOps.reduce((a, o) => a + o.ms, 0), ops: prefillOps };
    // last: it instantiates a kernel module of its own, which replaces the model's in this worker
    const phases = await workerCall(worker, 'benchPhases', { iterations: 200 });
    log(`  prefill step ${prefill.stepMs.toFixed(1)} ms, kernels ${prefill.kernelMs.toFixed(1)} ms: ` + prefillOps.slice(0, 8).map(o => `${o.op} ${o.ms.toFixed(1)}`).join('; '));
    worker.terminate();
    // kernel time includes the prompt's first step; spread per decoded token approximately
    const r = { model, crossOriginIsolated, kernelThreads, decodeMsPerToken: perToken, firstStepMs: p.steps.first,
      kernelMsPerStep: kernelMs / p.steps.count, ops: ops.map(o => ({ ...o, msPerStep: o.msTotal / p.steps.count, gapMsPerStep: o.gapMsTotal / p.steps.count })), phases, prefill };
    log(`${model} profile: ${perToken.toFixed(3)} ms/token, kernels ${(kernelMs / p.steps.count).toFixed(3)} ms/step (isolated=${crossOriginIsolated})`);
    for (const o of r.ops) log(`  ${o.op}: ${o.msPerStep.toFixed(4)} ms/step (${(o.calls / p.steps.count).toFixed(1)} calls), C# before it ${o.gapMsPerStep.toFixed(4)} ms/step`);
    log(`  C# phases: ${JSON.stringify(phases)}`);
    results.push(r);
  }
  return results;
}

// The first prompts after load (bench/browser --only first): BENCH_RUNS (default 4) runs of the 128-token prompt
// on a freshly loaded model, each profiled, with every call's milliseconds of the costliest kernels; a first run
// slower than the later ones shows where (BENCHMARKS.md, "The harness's first timed run").
async function first() {
  const results = [];
  const count = Number(params.get('runs') || 4);
  for (const model of models) {
    const worker = new Worker('/tinylm-worker.js', { type: 'module' });
    await workerCall(worker, 'load', { source: new URL('/' + model, location.href).href, options: { cache: 'none', kernels: 'wasm', budgetBytes: 1 << 30, threads, relaxedSimd, rowPanels, decodeGraph, widenQ5_0 } });
    const runs = [];
    for (let i = 0; i < count; i++) {
      await workerCall(worker, 'profile', { enable: true, perCall: true });
      const t0 = performance.now();
      await workerCall(worker, 'generate', { prompt: variant(i), options: { maxTokens: 1, temperature: 0 } });
      const wallMs = performance.now() - t0;
      const { profile: p } = await workerCall(worker, 'profile', { enable: false });
      const ops = Object.entries(p).filter(([k]) => k !== 'steps').map(([op, v]) => ({ op, calls: v.calls, ms: v.ms, gapMs: v.gapMs, each: v.each }))
        .sort((a, b) => b.ms - a.ms);
      const kernelMs = ops.reduce((a, o) => a + o.ms, 0);
      log(`${model} run ${i}: ${wallMs.toFixed(1)} ms, step ${p.steps.first.toFixed(1)} ms, kernels ${kernelMs.toFixed(1)} ms: ` +
        ops.slice(0, 6).map(o => `${o.op} ${o.ms.toFixed(1)}`).join('; '));
      runs.push({ wallMs, stepMs: p.steps.first, kernelMs, ops: ops.slice(0, 8) });
    }
    worker.terminate();
    results.push({ model, threads, runs });
  }
  return results;
}

// Asks run.mjs to start or stop its CPU profiles (it polls window.benchProfile) and waits until it has.
async function handOff(what) {
  window.benchProfile = what;
  while (window.benchProfile === what) await new Promise(r => setTimeout(r, 20));
}

async function decode() {
  const results = [];
  for (const model of models) {
    for (const kernels of decodeKernels) {
      const lm = await TinyLM.load('/' + model, { cache: 'none', kernels, budgetBytes: 1 << 30, threads: kernels === 'wasm' ? threads : 1, relaxedSimd, rowPanels, decodeGraph, widenQ5_0 });
      let step, text = '';
      const prompt = params.get('long') === '1' ? longPrompt : 'Once upon a time';
      // cpuprofile=1 (run.mjs BENCH_CPUPROFILE): a warm-up generation (its prompt's first word differs, so that the
      // timed one's prompt is computed again), then run.mjs samples the workers over the timed one
      if (params.get('cpuprofile') === '1') {
        const warm = lm.generate(params.get('long') === '1' ? variant(1) : 'The end', { maxTokens: tokens, temperature: 0, ignoreEos: true });
        while (!(await warm.next()).done) { }
        await handOff('start');
      }
      const it = lm.generate(prompt, { maxTokens: tokens, temperature: 0, ignoreEos: true });
      while (!(step = await it.next()).done) text += step.value;
      if (params.get('cpuprofile') === '1') await handOff('stop');
      const r = { model, kernels: lm.info.kernels, promptTokensPerSecond: step.value.promptTokensPerSecond, tokensPerSecond: step.value.tokensPerSecond, completionTokens: step.value.completionTokens, graphSteps: step.value.graphSteps, text };
      r.relaxedSimd = lm.info.relaxedSimd;
      log(`${model} ${r.kernels}${r.relaxedSimd ? ' relaxed' : ''}: decode ${r.tokensPerSecond.toFixed(1)} tok/s (${r.completionTokens} tokens, ${r.graphSteps} from the kernel graph), prompt ${r.promptTokensPerSecond.toFixed(1)} tok/s`);
      results.push(r);
      await lm.unload();
    }
  }
  return results;
}

try {
  const only = params.get('only');
  const k = !only || only.includes('kernels') ? await kernels() : null;
  const p = !only || only.includes('profile') ? await profile() : null;
  const pp = !only || only.includes('prefill') ? await prefill() : null;
  const d = !only || only.includes('decode') ? await decode() : null;
  const f = only && only.includes('first') ? await first() : null;   // not in the default set
  window.benchResult = { kernels: k, profile: p, prefill: pp, decode: d, first: f, userAgent: navigator.userAgent };
} catch (e) {
  log('error: ' + (e && e.stack || e));
  window.benchResult = { error: String(e && e.message || e) };
}
