// The TinyLM Web Worker: runs the .NET engine (TinyLM.Browser) off the page's main thread.
// Protocol (postMessage): requests {id, op, ...}; replies {id, type: 'progress'|'token'|'done'|'error', ...}.
import { dotnet } from './_framework/dotnet.js';
import { acquireModel, TinyLMError } from './tinylm-store.js';
import * as T from './tinylm-threads.js';

let engine;            // TinyLM.Browser.Interop exports
let modelMeta = null;  // what lm.info reports
const aborted = new Set();
const controllers = new Map();

// The engine emits WebAssembly kernels (TinyLM.Kernels.Wasm) that work on the .NET heap in place: we
// keep the runtime's WebAssembly.Memory by wrapping WebAssembly.instantiate/instantiateStreaming while
// dotnet.create() runs (the memory its instance exports), and instantiate the kernels against it.
let dotnetMemory = null;
// A byte view of the .NET runtime's memory, made again only after the memory grew (which detaches the
// buffer the view was on, leaving it 0 bytes long), for the copies between it and the kernel threads'
// shared memory (per product and per KV-cache write) instead of two new views per copy.
let heapView = new Uint8Array(0);
function heapBytes() {
  if (heapView.byteLength === 0) heapView = new Uint8Array(dotnetMemory.buffer);
  return heapView;
}
let kernelFns = [];
let kernelNames = [];
let copyExport = -1;   // the index of the 'copy' kernel (KV-cache writes, mirrored with threads)

// Kernel threads (tinylm-threads.js): helper workers, and the shared memory the matrix products run on
// when the model was loaded with threads > 1.
const helpers = [];
let shared = null;     // { memory, bytes, ctl, fns, threads, work, gen, chunks, helperChunks, attentionJobs, groupJobs, kv, attentionCalls }

/** Threads when the caller does not say: the cores, at most 4 (more rarely pays on small models). */
const defaultThreads = () => Math.max(1, Math.min(navigator.hardwareConcurrency || 1, 4));

/** Starts helper workers until there are `count`; resolves when each runs. */
async function ensureHelpers(count) {
  while (helpers.length < count) {
    const helper = new Worker(new URL('./tinylm-kernel-worker.js', import.meta.url), { type: 'module', name: `tinylm-kernels-${helpers.length + 1}` });
    await new Promise((resolve, reject) => {
      helper.onmessage = e => { if (e.data === 'started') resolve(); };
      helper.onerror = e => reject(new Error(`A kernel thread failed to start: ${e.message || 'error'}`));
    });
    helper.onmessage = e => { if (e.data && e.data.error) console.error(`TinyLM kernel thread: ${e.data.error}`); };
    helpers.push(helper);
  }
}

function stopThreads() {
  if (!shared) return;
  Atomics.store(shared.ctl, T.SHUTDOWN, 1);
  Atomics.add(shared.ctl, T.GEN, 1);
  Atomics.notify(shared.ctl, T.GEN);
  shared = null;
}

const align64 = n => (n + 63) & ~63;

// bench/browser profile: milliseconds and calls per kernel export while `profile` is set (with perCall, also
// each call's milliseconds, the first 64 per export and shape).
let profile = null, profilePerCall = false;
// gapMs: time since the previous kernel of the same step returned (the interpreted C# before this kernel).
let lastKernelEnd = 0;
function timed(f, run, shape = '') {
  const t0 = performance.now();
  run();
  const t1 = performance.now();
  const entry = profile[kernelNames[f] + shape] ??= { ms: 0, calls: 0, gapMs: 0 };
  entry.ms += t1 - t0;
  if (lastKernelEnd > 0) entry.gapMs += t0 - lastKernelEnd;
  lastKernelEnd = t1;
  entry.calls++;
  if (profilePerCall && entry.calls <= 64) (entry.each ??= []).push(Math.round((t1 - t0) * 100) / 100);
}

// True when this engine validates a module using SIMD128 (v128 i8x16.splat).
export const simdSupported = (() => {
  try {
    return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
      10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]));
  } catch { return false; }
})();

// True when this engine runs relaxed SIMD's integer dot products as the standard defines them (a signed,
// b in [0, 127]): i32x4.relaxed_dot_i8x16_i7x16_add_s (plus c) and i16x8.relaxed_dot_i8x16_i7x16_s, each
// checked on one lane, since an early implementation (V8 11.3 behind a flag) computed something else. The
// emitted Q8_0/Q4_0/Q5_0/Q4_K/Q6_K products then use them.
export const relaxedSimdSupported = (() => {
  try {
    const lanes = x => [...x, ...new Array(16 - x.length).fill(0)];
    const run = body => {   // a module whose function f() → i32 is body (no locals)
      const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 0x7f, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0,
        10, body.length + 2, 1, body.length, ...body]);
      return WebAssembly.validate(bytes) ? new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f() : null;
    };
    const a = [0x80, 0x7f, 0xff, 5], b = [127, 3, 0, 7], c = [0xe8, 0x03, 0, 0];
    // lane 0: -128·127 + 127·3 + 0 + 5·7 + 1000, then -128·127 + 127·3
    const dot32 = run([0, 0xfd, 12, ...lanes(a), 0xfd, 12, ...lanes(b), 0xfd, 12, ...lanes(c), 0xfd, 0x93, 2, 0xfd, 0x1b, 0, 11]);
    const dot16 = run([0, 0xfd, 12, ...lanes(a), 0xfd, 12, ...lanes(b), 0xfd, 0x92, 2, 0xfd, 0x18, 0, 11]);
    return dot32 === -14840 && dot16 === -15875;
  } catch { return false; }
})();
// Query-key multiply-adds (context rows × heads × head size × query rows) from which an attention call
// splits its heads across the threads: a hand-off costs some microseconds, and one head's scores and
// values at this size about as much (a 12-head, 64-channel layer at a 43-token context).
const SPLIT_ATTENTION_MACS = 32 * 1024;

let relaxedSimd = relaxedSimdSupported;   // per load: the 'relaxedSimd' option can turn it off
let rowPanels = true;                     // per load: the 'rowPanels' option
let decodeGraph = true;                   // per load: the 'decodeGraph' option
let widenQ5_0 = true;                     // per load: the 'widenQ5_0' option
let widenQ6_K = true;                     // per load: the 'widenQ6_K' option
let widenTQ1_0 = true;                    // per load: the 'widenTQ1_0' option
let splitAttentionMacs = SPLIT_ATTENTION_MACS;   // per load: the 'splitAttentionMacs' option
// Kernel graphs (WasmKernels, IKernelGraphHost): a decode step's kernel calls, recorded in C# and replayed
// here in one call from C#; per call the helper that runs it, its export, and its arguments as
// base + positionOffset × delta.
const graphs = new Map();
let nextGraph = 1, graphSteps = 0;

const kernelImports = {
  relaxedSimd: () => relaxedSimd,
  rowPanels: () => rowPanels,
  decodeGraph: () => decodeGraph,
  widenQ5_0: () => widenQ5_0,
  widenQ6_K: () => widenQ6_K,
  widenTQ1_0: () => widenTQ1_0,
  installGraph(words, deltas) {
    const f32 = new Float32Array(1), i32 = new Int32Array(f32.buffer);
    const calls = [];
    for (let i = 0; i < words.length;) {
      const kind = words[i], fn = words[i + 1], count = words[i + 2], floatMask = words[i + 3];
      i += 4;
      const base = new Float64Array(count), delta = new Int32Array(count);
      for (let j = 0; j < count; j++, i++) {
        if ((floatMask >> j) & 1) { i32[0] = words[i]; base[j] = f32[0]; } else base[j] = words[i];
        delta[j] = deltas[i];
      }
      calls.push({ kind, fn, base, delta, floatMask, args: new Array(count) });
    }
    const handle = nextGraph++;
    graphs.set(handle, calls);
    return handle;
  },
  runGraph(handle, offset) {
    const calls = graphs.get(handle);
    if (!calls) throw new Error(`No kernel graph ${handle}.`);
    for (const c of calls) {
      const { base, delta, args } = c;
      for (let j = 0; j < args.length; j++) args[j] = ((c.floatMask >> j) & 1) ? base[j] : (base[j] + offset * delta[j]) | 0;
      graphHelpers[c.kind](c.fn, ...args);
    }
    graphSteps++;
  },
  releaseGraph(handle) { graphs.delete(handle); },
  compile(bytes, names) {
    try {
      if (!dotnetMemory) return 'the .NET runtime memory was not captured';
      const module = new WebAssembly.Module(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
      const instance = new WebAssembly.Instance(module, { env: { memory: dotnetMemory } });
      kernelNames = names.split(',');
      copyExport = kernelNames.indexOf('copy');
      kernelFns = kernelNames.map(n => instance.exports[n]);
      graphs.clear();   // their export indices were the previous module's
      return '';
    } catch (e) {
      return String(e && e.message || e);
    }
  },
  // Copies the model's tensor bytes into a new shared memory and runs the module there, here and in
  // threads − 1 helpers (WasmKernels.StartThreads).
  startThreads(bytes, names, segments, threads) {
    try {
      stopThreads();
      if (helpers.length < threads - 1) return `${threads - 1} kernel threads were needed, ${helpers.length} are running`;
      // segments: .NET address, length, … — laid out one after another from MIRROR_BASE, each from a
      // 64-byte boundary (WasmKernels.StartThreads computes the same offsets)
      let mirrorLength = 0;
      for (let i = 0; i < segments.length; i += 2) mirrorLength = align64(mirrorLength + segments[i + 1]);
      const work = align64(T.MIRROR_BASE + mirrorLength);
      const initial = Math.ceil((work + (1 << 20)) / 65536);
      if (initial > 65536) return 'the model does not fit in a 4 GiB shared memory';
      const memory = new WebAssembly.Memory({ initial, maximum: 65536, shared: true });
      for (let i = 0, at = T.MIRROR_BASE; i < segments.length; i += 2) {
        new Uint8Array(memory.buffer, at, segments[i + 1]).set(new Uint8Array(dotnetMemory.buffer, segments[i], segments[i + 1]));
        at = align64(at + segments[i + 1]);
      }
      const module = new WebAssembly.Module(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
      const exports = names.split(',');
      const instance = new WebAssembly.Instance(module, { env: { memory } });
      // bytes: a view of the whole shared memory, made again when ensureBytes grows it
      shared = { memory, bytes: new Uint8Array(memory.buffer), ctl: new Int32Array(memory.buffer, 0, T.CONTROL_WORDS), fns: exports.map(n => instance.exports[n]),
        threads, work, gen: 0, chunks: 0, helperChunks: 0, attentionJobs: 0, groupJobs: 0, kv: [], attentionCalls: 0 };
      for (let i = 0; i < threads - 1; i++) helpers[i].postMessage({ module, memory, exports, slot: i + 1 });
      return '';
    } catch (e) {
      shared = null;
      return String(e && e.message || e);
    }
  },
  parallelMatMul(f, weightOffset, rowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratchBytes) {
    if (profile) timed(f, () => parallelMatMul(f, weightOffset, rowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratchBytes),
      ` rows=${rows} k=${blocks} tokens=${tokens} threads=${shared.threads}`);
    else parallelMatMul(f, weightOffset, rowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratchBytes);
  },
  // count (≤ T.MAX_GROUP) products with the same activations, then per matrix its export, mirror offset, row bytes,
  // rows, output (.NET address), output stride, blocks and scratch bytes; unused matrices' words are 0
  parallelMatMulGroup(count, act, actRowBytes, tokens, ...matrices) {
    if (profile) timed(matrices[0], () => parallelMatMulGroup(count, act, actRowBytes, tokens, matrices),
      ` group of ${count} rows=${matrices.filter((_, i) => i % 8 === 3).slice(0, count).join('+')} k=${matrices[6]} tokens=${tokens} threads=${shared.threads}`);
    else parallelMatMulGroup(count, act, actRowBytes, tokens, matrices);
  },
  call3: (f, a, b, c) => {
    if (profile) timed(f, () => kernelFns[f](a, b, c)); else kernelFns[f](a, b, c);
    if (f === copyExport && shared && shared.kv.length) writeThrough(a, c * 4);   // copy(destination, source, floats)
  },
  call8: (f, a, b, c, d, e, g, h, i) => { if (profile) timed(f, () => kernelFns[f](a, b, c, d, e, g, h, i)); else kernelFns[f](a, b, c, d, e, g, h, i); },
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
  attention: (f, q, k, v, o, s, acc, tokens, start, heads, kvHeads, headDim, scale, context, h0, h1) => {
    // With threads, all the heads of a call with enough work split across them (see parallelAttention):
    // decided here, per call, so that a replayed decode graph splits once its context has grown. A decode
    // step without grouped-query heads splits too now that its value pass takes eight rows at a time: two
    // Node 26 workers with 6 heads each take 43–45 µs where one with 12 takes 75 (64 channels, 192
    // positions, a layer's weights streamed between calls); the page's profile (stories110M Q4_K_M after a
    // 128-token prompt) 0.87 ms of attention per decode step against 1.07–1.22.
    const split = shared !== null && h0 === 0 && h1 === heads && heads >= 2 && heads <= T.MAX_CHUNKS
      && (start + tokens) * heads * headDim * tokens >= splitAttentionMacs;
    const run = () => {
      if (!split || !parallelAttention(f, q, k, v, o, tokens, start, heads, kvHeads, headDim, scale, context))
        kernelFns[f](q, k, v, o, s, acc, tokens, start, heads, kvHeads, headDim, scale, context, h0, h1);
    };
    if (profile) timed(f, run, split ? ` threads=${shared.threads}` : ''); else run();
  },
};

// WasmKernels.CallKind: the helper that runs each kind of recorded call (a group's first word is its count, recorded
// as the call's function).
const graphHelpers = [kernelImports.call3, kernelImports.call8, kernelImports.call10, kernelImports.rmsNorm, kernelImports.attention,
  kernelImports.parallelMatMul, kernelImports.parallelMatMulGroup];

function parallelMatMul(f, weightOffset, rowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratchBytes) {
  const { ctl, threads } = shared;
  // Operands after the mirror: activations, outputs [tokens, rows], one scratch area per thread.
  const actBytes = tokens * actRowBytes, scratchStride = align64(scratchBytes + 16);
  const actAt = shared.work, outAt = align64(actAt + actBytes), scratchAt = align64(outAt + tokens * rows * 4);
  const end = scratchAt + threads * scratchStride;
  if (!ensureBytes(end)) throw new RangeError(`The kernel threads' shared memory cannot grow to ${end} bytes.`);
  const heap = heapBytes();
  shared.bytes.set(heap.subarray(act, act + actBytes), actAt);

  // Chunks of a multiple of 8 rows (a matrix in row panels is addressed by whole panels, WasmWeightPanels);
  // at most MAX_CHUNKS. A decode step's product (one token, tens of microseconds): one chunk per thread,
  // since every further chunk costs both threads more than it balances (stories110M Q4_K_M, 2 threads: a
  // 768 × 768 Q4_K product's own share 26.5–30 µs in four chunks per thread, 18.5 µs in one; decode 132–143
  // → 152–158 tokens/s). A prompt's product (milliseconds): about four per thread, so that a thread the OS
  // preempts costs little (the same prompt speed as one per thread; sixteen measured no better on SmolLM-135M).
  // A thread's later chunks of a K-quant product reuse the activations its first chunk prepared (runJob passes
  // scratch | 1): stories110M Q4_K_M, two threads, 128-token prompt, alternated runs: 455–497 → 471–528 tokens/s;
  // twelve chunks per thread with it, 469–500.
  const chunkRows = productChunkRows(rows, tokens, threads);
  const chunks = Math.ceil(rows / chunkRows);
  ctl[T.KIND] = T.MATMUL;
  ctl[T.FN] = f;
  ctl[T.W] = T.MIRROR_BASE + weightOffset;
  ctl[T.ROW_BYTES] = rowBytes;
  ctl[T.ROWS] = rows;
  ctl[T.ACT] = actAt;
  ctl[T.ACT_ROW_BYTES] = actRowBytes;
  ctl[T.TOKENS] = tokens;
  ctl[T.OUT] = outAt;
  ctl[T.BLOCKS] = blocks;
  ctl[T.SCRATCH] = (scratchAt + 15) & ~15;
  ctl[T.SCRATCH_STRIDE] = scratchStride;
  runShared(chunks, chunkRows);
  copyOutputs(heap, outAt, rows, tokens, out, outStride);
}

/** Rows per chunk of a product (parallelMatMul's rule above): a multiple of 8, at most MAX_CHUNKS chunks. */
function productChunkRows(rows, tokens, threads) {
  const perThread = tokens === 1 ? 1 : 4;
  return Math.max(8, Math.ceil(rows / (perThread * threads) / 8) * 8, Math.ceil(rows / T.MAX_CHUNKS / 8) * 8);
}

/** Copies a product's outputs [tokens, rows] from the shared memory at `from` to the .NET address `out`, `outStride` floats a row. */
function copyOutputs(heap, from, rows, tokens, out, outStride) {
  const rowsBytes = rows * 4;
  for (let t = 0; t < tokens; t++) heap.set(shared.bytes.subarray(from + t * rowsBytes, from + (t + 1) * rowsBytes), out + t * outStride * 4);
}

/**
 * Several products with the same activations as one job (T.GROUP_MATMUL): the activations copied once, every
 * matrix's chunks claimed from one counter, one wait at the end (a layer's Q, K and V; its FFN gate and up).
 * `m` holds eight words per matrix: export, mirror offset, row bytes, rows, output, output stride, blocks, scratch bytes.
 */
function parallelMatMulGroup(count, act, actRowBytes, tokens, m) {
  const { ctl, threads } = shared;
  const actBytes = tokens * actRowBytes;
  let at = align64(shared.work + actBytes), scratchBytes = 0;
  const outAt = [];
  for (let i = 0; i < count; i++) {
    outAt.push(at);
    at = align64(at + tokens * m[8 * i + 3] * 4);
    scratchBytes = Math.max(scratchBytes, m[8 * i + 7]);
  }
  const scratchStride = align64(scratchBytes + 16), scratchAt = at, end = scratchAt + threads * scratchStride;
  if (!ensureBytes(end)) throw new RangeError(`The kernel threads' shared memory cannot grow to ${end} bytes.`);
  const heap = heapBytes();
  shared.bytes.set(heap.subarray(act, act + actBytes), shared.work);
  // per matrix, chunks as parallelMatMul makes them for one product
  let chunks = 0;
  for (let i = 0; i < count; i++) {
    const rows = m[8 * i + 3];
    const chunkRows = productChunkRows(rows, tokens, threads);
    const g = T.GROUP + i * T.GROUP_WORDS;
    ctl[g + T.G_FN] = m[8 * i];
    ctl[g + T.G_W] = T.MIRROR_BASE + m[8 * i + 1];
    ctl[g + T.G_ROW_BYTES] = m[8 * i + 2];
    ctl[g + T.G_ROWS] = rows;
    ctl[g + T.G_OUT] = outAt[i];
    ctl[g + T.G_BLOCKS] = m[8 * i + 6];
    ctl[g + T.G_CHUNK_ROWS] = chunkRows;
    ctl[g + T.G_FIRST_CHUNK] = chunks;
    chunks += Math.ceil(rows / chunkRows);
  }
  if (chunks > T.MAX_CHUNKS) throw new RangeError(`A group of products needs ${chunks} chunks, more than ${T.MAX_CHUNKS}.`);
  ctl[T.KIND] = T.GROUP_MATMUL;
  ctl[T.GROUP_COUNT] = count;
  ctl[T.ACT] = shared.work;
  ctl[T.ACT_ROW_BYTES] = actRowBytes;
  ctl[T.TOKENS] = tokens;
  ctl[T.SCRATCH] = (scratchAt + 15) & ~15;
  ctl[T.SCRATCH_STRIDE] = scratchStride;
  runShared(chunks, 0);
  shared.groupJobs++;
  for (let i = 0; i < count; i++) copyOutputs(heap, outAt[i], m[8 * i + 3], tokens, m[8 * i + 4], m[8 * i + 5]);
}

/**
 * Runs the job whose arguments are in the control block as `chunks` chunks of `chunkRows` rows (or heads)
 * on this thread and the helpers, and returns when every chunk is done.
 */
function runShared(chunks, chunkRows) {
  const { ctl } = shared;
  const gen = shared.gen = (shared.gen + 1) & 0xFFFFFF;
  ctl[T.CHUNKS] = chunks;
  ctl[T.CHUNK_ROWS] = chunkRows;
  Atomics.store(ctl, T.DONE, 0);
  Atomics.store(ctl, T.CLAIM, gen << 8);
  Atomics.store(ctl, T.GEN, gen);
  if (Atomics.load(ctl, T.SLEEPERS) > 0) Atomics.notify(ctl, T.GEN);
  T.runJob(ctl, shared.fns, gen, 0);
  // A helper is finishing its chunk; one that trapped would never finish, so give up after a minute.
  for (let spins = 1, t0 = performance.now(); Atomics.load(ctl, T.DONE) < chunks; spins++) {
    T.spinPause();
    if ((spins & 0xFFFF) === 0 && performance.now() - t0 > 60000) throw new Error('A kernel thread stopped responding.');
  }
  // Closed: a helper that woke for this job only now finds no chunk left (see tinylm-threads.js).
  Atomics.store(ctl, T.CLAIM, gen << 8 | T.MAX_CHUNKS);
  shared.chunks += chunks;
}

/**
 * Attention with its heads split across the threads (kernelImports.attention): the queries go to the
 * shared memory, the keys and values are read from the layer's KV-cache mirrors there (kvMirror), and
 * the output comes back. The heads form one chunk per thread for a decode step (one query row: more
 * chunks cost more than they balance, as for the matrix products) and one per head for a prompt. Each
 * head runs the same code on any thread, so the results do not depend on the split. False (nothing run)
 * when the shared memory cannot grow to hold the mirrors: the call then runs on this thread.
 */
function parallelAttention(f, q, k, v, o, tokens, start, heads, kvHeads, headDim, scale, context) {
  const { ctl, threads } = shared;
  const rowBytes = kvHeads * headDim * 4, cacheBytes = context * rowBytes, written = (start + tokens) * rowBytes;
  const kAt = kvMirror(k, cacheBytes, written), vAt = kAt < 0 ? -1 : kvMirror(v, cacheBytes, written);
  if (vAt < 0) return false;
  const qBytes = tokens * heads * headDim * 4, sBytes = heads * context * 4, accBytes = heads * headDim * 8;
  const qAt = shared.work, oAt = align64(qAt + qBytes), sAt = align64(oAt + qBytes), accAt = align64(sAt + sBytes);
  if (!ensureBytes(accAt + accBytes)) return false;
  const heap = heapBytes();
  shared.bytes.set(heap.subarray(q, q + qBytes), qAt);
  ctl[T.KIND] = T.ATTENTION;
  ctl[T.FN] = f;
  ctl[T.W] = qAt;
  ctl[T.ROW_BYTES] = kAt;
  ctl[T.ROWS] = vAt;
  ctl[T.ACT] = oAt;
  ctl[T.ACT_ROW_BYTES] = sAt;
  ctl[T.TOKENS] = tokens;
  ctl[T.OUT] = start;
  ctl[T.BLOCKS] = heads;
  ctl[T.SCRATCH] = kvHeads;
  ctl[T.SCRATCH_STRIDE] = headDim;
  ctl[T.CONTEXT] = context;
  ctl[T.SCALE] = T.floatBits(scale);
  ctl[T.ACCUMULATORS] = accAt;
  const headsPerChunk = tokens === 1 ? Math.ceil(heads / threads) : 1;
  runShared(Math.ceil(heads / headsPerChunk), headsPerChunk);
  shared.attentionJobs++;
  heap.set(shared.bytes.subarray(oAt, oAt + qBytes), o);
  return true;
}

/** Grows the shared memory to at least `end` bytes; false when it cannot (its 4 GiB maximum, or the system's memory). */
function ensureBytes(end) {
  const memory = shared.memory;
  if (end <= shared.bytes.byteLength) return true;
  try {
    memory.grow(Math.ceil((end - shared.bytes.byteLength) / 65536));
    shared.bytes = new Uint8Array(memory.buffer);
    return true;
  } catch {
    return false;
  }
}

// KV-cache mirrors. With threads, a layer's key cache and value cache each get a region of the shared
// memory the first time an attention over them splits: the rows written so far are copied then, and from
// then on every write of the copy kernel into the cache (the engine writes its KV caches with that kernel
// only: Kcur and Vcur of each step, Llama.Forward) is made in the region too (writeThrough). Attention
// reads only rows the session has written, so a region stays exact even when a new session's cache takes
// the same .NET addresses. A region no split attention has read in the last 4 × (regions) calls (four
// steps of a session that reads them all) goes to the next new cache of the same size (a session that
// ended, or one that is not running: it copies its rows again when it runs). shared.work, the jobs'
// operands, follows the regions.

/**
 * The shared-memory address of the mirror of the cache of `bytes` bytes at .NET address `at` (`written`: its
 * bytes in use), or −1 when the shared memory cannot grow to hold a new one.
 */
function kvMirror(at, bytes, written) {
  const kv = shared.kv, round = ++shared.attentionCalls;
  let r = kv.find(x => x.from === at && x.bytes === bytes);
  if (!r) {
    r = kv.find(x => x.bytes === bytes && round - x.used > 4 * kv.length);
    if (!r) {
      const to = align64(shared.work);
      if (!ensureBytes(to + bytes)) return -1;
      shared.work = align64(to + bytes);
      r = { to, bytes };
      kv.push(r);
    }
    r.from = at;
    shared.bytes.set(heapBytes().subarray(at, at + written), r.to);
  }
  r.used = round;
  return r.to;
}

/** Repeats in the KV-cache mirrors a write of `bytes` bytes at .NET address `at` (the copy kernel's destination). */
function writeThrough(at, bytes) {
  for (const r of shared.kv) {
    const lo = Math.max(at, r.from), hi = Math.min(at + bytes, r.from + r.bytes);
    if (lo < hi) shared.bytes.set(heapBytes().subarray(lo, hi), r.to + (lo - r.from));
  }
}

/** Chunks run so far (matrix products and attention), how many of them the helper workers ran, the attention jobs and the group jobs. */
function threadStats() {
  return shared ? { threads: shared.threads, chunks: shared.chunks, helperChunks: Atomics.load(shared.ctl, T.HELPER_CHUNKS), attentionJobs: shared.attentionJobs,
    groupJobs: shared.groupJobs }
    : { threads: 1, chunks: 0, helperChunks: 0, attentionJobs: 0, groupJobs: 0 };
}

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

// A macrotask boundary, so that an 'abort' message is handled between two tokens: a message to ourselves on one
// MessageChannel made once (making a channel per token took 15–17 ms of 128 tokens in the worker's CPU profile,
// bench/browser BENCH_CPUPROFILE).
// Each message wakes the oldest waiter (messages arrive in order), so overlapping generations each get theirs.
const taskChannel = new MessageChannel(), taskWaiters = [];
taskChannel.port1.onmessage = () => taskWaiters.shift()();
/** Tokens and milliseconds of generation after which the worker passes a macrotask boundary (an abort waits about this long at most). */
const TASK_TOKENS = 8, TASK_MS = 25;
function nextTask() {
  return new Promise(resolve => {
    taskWaiters.push(resolve);
    taskChannel.port2.postMessage(0);
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
    const warnings = [...(model.warnings || [])];
    try {
      const kernels = options.kernels ?? (simdSupported ? 'wasm' : 'managed');
      if (kernels === 'wasm' && !simdSupported) throw new TinyLMError('argument', "kernels: 'wasm' needs WebAssembly SIMD, which this browser lacks.");
      const threads = await kernelThreads(options.threads ?? defaultThreads(), kernels, warnings);
      relaxedSimd = relaxedSimdSupported && options.relaxedSimd !== false;
      rowPanels = options.rowPanels !== false;
      decodeGraph = options.decodeGraph !== false;
      widenQ5_0 = options.widenQ5_0 !== false;
      widenQ6_K = options.widenQ6_K !== false;
      widenTQ1_0 = options.widenTQ1_0 !== false;
      splitAttentionMacs = options.splitAttentionMacs ?? SPLIT_ATTENTION_MACS;
      if (options.relaxedSimd === true && !relaxedSimdSupported)
        warnings.push('relaxedSimd: requested, but this browser lacks WebAssembly relaxed SIMD (or its integer dot product differs); the SIMD128 kernels run.');
      info = JSON.parse(engine.Load(model.bytes, model.name, options.contextLength || 0, options.budgetBytes || 0, kernels, threads));
    } catch (e) {
      // Not a model (e.g. an HTML error page served with 200): keep it out of the cache.
      if (/^ModelFormatException\|/.test(String(e && e.message))) await model.discard();
      throw e;
    }
    modelMeta = { ...info, bytes: model.bytes.byteLength, sha256: model.sha256, source: model.name,
      fromCache: model.fromCache, cacheStatus: model.cacheStatus };
    progress({ stage: 'ready', loaded: model.bytes.byteLength, total: model.bytes.byteLength });
    postMessage({ id, type: 'done', result: { info: modelMeta, warnings } });
  } finally {
    controllers.delete(id);
  }
}

/** The kernel threads to run: `requested` when the page can share memory, else 1 (with a warning). */
async function kernelThreads(requested, kernels, warnings) {
  if (requested <= 1) return 1;
  const why = kernels !== 'wasm' ? "the 'managed' kernels run on one thread"
    : !self.crossOriginIsolated ? 'the page is not cross-origin isolated (serve it with COOP: same-origin and COEP: require-corp, as tinylm serve does)'
    : null;
  if (why) {
    warnings.push(`threads: ${requested} requested, running on 1 because ${why}.`);
    return 1;
  }
  try {
    await ensureHelpers(requested - 1);
    return requested;
  } catch (e) {
    warnings.push(`threads: ${requested} requested, running on 1: ${e.message}`);
    return 1;
  }
}

async function generate(id, { prompt, options }) {
  await runtime;
  const before = threadStats(), graphStepsBefore = graphSteps;
  engine.Start(prompt, JSON.stringify(options || {}));
  let lastTask = performance.now(), sinceTask = 0;
  for (;;) {
    if (aborted.has(id)) { engine.Cancel(); break; }
    const t0 = profile && performance.now();
    lastKernelEnd = 0;
    const piece = engine.Step();
    if (profile) {
      const kind = profile.steps.count === 0 ? 'first' : 'decode';
      profile.steps[kind] += performance.now() - t0;
      profile.steps.count++;
    }
    if (piece === null || piece === undefined) break;
    if (piece.length > 0) postMessage({ id, type: 'token', text: piece });
    // a macrotask boundary (for 'abort') every TASK_TOKENS tokens or TASK_MS milliseconds, not every token: each
    // one left the worker idle for some 0.2–0.4 ms (BENCH_CPUPROFILE, stories110M Q4_K_M, two threads: 66 ms idle
    // in 128 tokens with a boundary per token, 33 with one per 8, each including about 20 of the profiler's hand-off)
    if (++sinceTask >= TASK_TOKENS || performance.now() - lastTask >= TASK_MS) {
      await nextTask();
      lastTask = performance.now();
      sinceTask = 0;
    }
  }
  const result = JSON.parse(engine.Result());
  const after = threadStats();
  result.kernelThreads = { threads: after.threads, chunks: after.chunks - before.chunks, helperChunks: after.helperChunks - before.helperChunks,
    attentionJobs: after.attentionJobs - before.attentionJobs, groupJobs: after.groupJobs - before.groupJobs };
  result.graphSteps = graphSteps - graphStepsBefore;
  postMessage({ id, type: 'done', result });
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
  // TinyLM.BrowserTests: the emitted products against the C# reference in this browser (not part of tinylm.js).
  async checkMatMul(id, { type, rows, cols, tokens, raw, relaxed, panels }) {
    relaxedSimd = relaxedSimdSupported && relaxed !== false;
    await runtime;
    postMessage({ id, type: 'done', result: JSON.parse(engine.CheckMatMul(type, rows, cols, tokens, !!raw, !!panels)) });
  },
  // bench/browser: emitted vs C# matrix-vector product (not part of tinylm.js).
  async benchMatMul(id, { type, rows, cols, iterations, relaxed, panels }) {
    relaxedSimd = relaxedSimdSupported && relaxed !== false;
    await runtime;
    postMessage({ id, type: 'done', result: JSON.parse(engine.BenchMatMul(type, rows, cols, iterations, !!panels)) });
  },
  // bench/browser: start (reset) or read the per-kernel profile (not part of tinylm.js).
  async profile(id, { enable, perCall }) {
    const result = profile;
    profile = enable ? { steps: { first: 0, decode: 0, count: 0 } } : null;
    profilePerCall = !!perCall;
    postMessage({ id, type: 'done', result: { profile: result, crossOriginIsolated: self.crossOriginIsolated, kernelThreads: threadStats() } });
  },
  // bench/browser: milliseconds of the C# steps of a token outside the kernels.
  async benchPhases(id, { iterations }) {
    await runtime;
    postMessage({ id, type: 'done', result: JSON.parse(engine.BenchPhases(iterations)) });
  },
  async unload(id) {
    await runtime;
    engine.Unload();
    graphs.clear();
    stopThreads();
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
