// Kernel threads in the page: the control block that tinylm-worker.js (the engine's worker) and the
// helper workers (tinylm-kernel-worker.js) share, and the chunk-claiming loop both run.
//
// The kernels' shared WebAssembly.Memory starts with a control block of 32-bit words (CONTROL_BYTES);
// the model's tensor bytes follow at MIRROR_BASE, then the operands of the running job.
// A job is one matrix product split into CHUNKS chunks of CHUNK_ROWS rows, or (KIND = ATTENTION) one
// attention call split into chunks of CHUNK_ROWS heads (every head has its own scores row and output
// channels, so the chunks never touch the same bytes). The engine's worker writes the arguments with
// plain stores, resets DONE, sets CLAIM to (generation << 8 | 0) and then GEN to the generation with
// Atomics.store, which publishes the arguments to a thread that reads the new GEN with Atomics.load
// (the JavaScript memory model's synchronizes-with); every thread claims chunks by compare-and-swap on
// CLAIM, and only while CLAIM still carries the generation it woke for. When every chunk is done the
// engine's worker closes the job (CLAIM = generation << 8 | MAX_CHUNKS) before it writes the next
// job's arguments, so a thread that wakes late, and may read arguments half of the next job's, finds
// no chunk to claim. Each finished chunk adds 1 to DONE; the engine's worker returns when DONE = CHUNKS.
// Every row is computed by the same code whichever thread claims it: results do not depend on the
// number of threads.
//
// A group job (KIND = GROUP) is the products of up to MAX_GROUP matrices with the same activations (a layer's
// query, key and value projections; its FFN gate and up): per matrix m, GROUP_WORDS words from GROUP + m·GROUP_WORDS
// (G_FN … G_FIRST_CHUNK) and its chunks numbered after the previous matrix's, so one hand-off and one wait at the
// end serve them all.
//
// The words sit on separate 128-byte groups of cache lines: GEN (with SLEEPERS, READY, SHUTDOWN), which
// idle helpers spin on; CLAIM and DONE, which every thread of a job updates; the job's arguments (and the
// group's table), which only the engine's worker writes; HELPER_CHUNKS, which helpers add to. Writing the
// arguments then never takes a line from a spinning helper.
export const GEN = 0, SLEEPERS = 1, READY = 2, SHUTDOWN = 3,
  CLAIM = 32, DONE = 33,
  CHUNKS = 64, CHUNK_ROWS = 65, FN = 66, W = 67, ROW_BYTES = 68, ROWS = 69, ACT = 70, ACT_ROW_BYTES = 71, TOKENS = 72,
  OUT = 73, BLOCKS = 74, SCRATCH = 75, SCRATCH_STRIDE = 76, KIND = 77, SCALE = 78, CONTEXT = 79, ACCUMULATORS = 80, GROUP_COUNT = 81,
  HELPER_CHUNKS = 96, GROUP = 128, CONTROL_WORDS = 160;

/** A group job's words per matrix (from GROUP + m·GROUP_WORDS): its export, weights, row bytes, rows, outputs, blocks, rows per chunk, first chunk. */
export const G_FN = 0, G_W = 1, G_ROW_BYTES = 2, G_ROWS = 3, G_OUT = 4, G_BLOCKS = 5, G_CHUNK_ROWS = 6, G_FIRST_CHUNK = 7, GROUP_WORDS = 8;

/** Most matrices in a group job. */
export const MAX_GROUP = 3;

// SCALE holds a float's bits: these convert without allocating (an attention job per layer and decode step).
const bitsFloat = new Float32Array(1), bitsInt = new Int32Array(bitsFloat.buffer);
/** The bits of the float `x` as an int32 (for SCALE). */
export function floatBits(x) { bitsFloat[0] = x; return bitsInt[0]; }
/** The float whose bits are the int32 `bits`. */
export function bitsToFloat(bits) { bitsInt[0] = bits; return bitsFloat[0]; }

/** KIND values: a matrix product (its arguments in W … SCRATCH_STRIDE), an attention call, or a group of products. */
export const MATMUL = 0, ATTENTION = 1, GROUP_MATMUL = 2;

/** Bytes reserved for the control block (one page, so the mirror starts page-aligned). */
export const CONTROL_BYTES = 65536;
/** Where the model's tensor bytes start in the shared memory. */
export const MIRROR_BASE = CONTROL_BYTES;
/** Most chunks per job (CLAIM keeps the chunk index in its low 8 bits). */
export const MAX_CHUNKS = 255;

/**
 * One step of a spin-wait: `Atomics.pause()` (the CPU's spin-loop hint, x86 `pause`) where the engine has it (Chromium 133+),
 * so that a thread waiting for a job or for the last chunk leaves the core's execution resources to the thread doing the
 * work when both share a physical core, as this machine's two vCPUs behave (stories110M Q4_K_M, two threads, 128-token
 * prompt, three alternated rounds: 402–484 → 454–546 tokens/s; decode after it 113–125 → 131–164 tokens/s).
 */
export const spinPause = typeof Atomics.pause === 'function' ? () => Atomics.pause() : () => {};

/**
 * Claims and runs chunks of generation `gen` until none is left; `slot` selects the thread's scratch
 * area. Returns the number of chunks this thread ran.
 */
export function runJob(ctl, fns, gen, slot) {
  if (ctl[KIND] === ATTENTION) return runAttention(ctl, fns, gen);
  if (ctl[KIND] === GROUP_MATMUL) return runGroup(ctl, fns, gen, slot);
  const tag = gen << 8;
  const fn = fns[ctl[FN]];
  const chunks = ctl[CHUNKS], chunkRows = ctl[CHUNK_ROWS];
  const w = ctl[W], rowBytes = ctl[ROW_BYTES], rows = ctl[ROWS];
  const act = ctl[ACT], actRowBytes = ctl[ACT_ROW_BYTES], tokens = ctl[TOKENS];
  const out = ctl[OUT], blocks = ctl[BLOCKS];
  const scratch = ctl[SCRATCH] + slot * ctl[SCRATCH_STRIDE];
  let ran = 0;
  for (let chunk; (chunk = claim(ctl, tag, chunks)) >= 0; ran++) {
    const r0 = chunk * chunkRows;
    // scratch | 1 after this thread's first chunk: the K-quant kernels find the activations they prepared then
    // (WasmKernelModule, matmul_{type}) instead of preparing them again for every chunk
    fn(w + r0 * rowBytes, rowBytes, Math.min(chunkRows, rows - r0), act, actRowBytes, tokens, out + r0 * 4, rows, blocks, ran > 0 ? scratch | 1 : scratch);
    Atomics.add(ctl, DONE, 1);
  }
  return ran;
}

/**
 * The group job: chunk c belongs to the last matrix whose G_FIRST_CHUNK ≤ c. A thread's chunk reuses the activations
 * its previous chunk of this job prepared when both run the same export (the same preparation), as runJob's do.
 */
function runGroup(ctl, fns, gen, slot) {
  const tag = gen << 8;
  const chunks = ctl[CHUNKS], count = ctl[GROUP_COUNT];
  const act = ctl[ACT], actRowBytes = ctl[ACT_ROW_BYTES], tokens = ctl[TOKENS];
  const scratch = ctl[SCRATCH] + slot * ctl[SCRATCH_STRIDE];
  let ran = 0, prepared = -1;
  for (let chunk; (chunk = claim(ctl, tag, chunks)) >= 0; ran++) {
    let at = GROUP;
    for (let m = 1; m < count && chunk >= ctl[GROUP + m * GROUP_WORDS + G_FIRST_CHUNK]; m++) at = GROUP + m * GROUP_WORDS;
    const f = ctl[at + G_FN], rows = ctl[at + G_ROWS], rowBytes = ctl[at + G_ROW_BYTES], chunkRows = ctl[at + G_CHUNK_ROWS];
    const r0 = (chunk - ctl[at + G_FIRST_CHUNK]) * chunkRows;
    fns[f](ctl[at + G_W] + r0 * rowBytes, rowBytes, Math.min(chunkRows, rows - r0), act, actRowBytes, tokens, ctl[at + G_OUT] + r0 * 4, rows,
      ctl[at + G_BLOCKS], prepared === f ? scratch | 1 : scratch);
    prepared = f;
    Atomics.add(ctl, DONE, 1);
  }
  return ran;
}

/**
 * The attention job: the emitted attention(q, keys, values, out, scores, accumulators, tokens, start, heads,
 * kvHeads, headDim, scale, context, headStart, headEnd) over chunks of CHUNK_ROWS heads; the operands'
 * addresses in W, ROW_BYTES, ROWS, ACT, ACT_ROW_BYTES, ACCUMULATORS, the shape in TOKENS, OUT (start), BLOCKS
 * (heads), SCRATCH (kvHeads), SCRATCH_STRIDE (headDim), CONTEXT, and the scale's float bits in SCALE. Every
 * head has its own scores row and sums, so chunks of different heads never write the same bytes.
 */
function runAttention(ctl, fns, gen) {
  const tag = gen << 8;
  const fn = fns[ctl[FN]];
  const chunks = ctl[CHUNKS], headsPerChunk = ctl[CHUNK_ROWS];
  const q = ctl[W], k = ctl[ROW_BYTES], v = ctl[ROWS], o = ctl[ACT], s = ctl[ACT_ROW_BYTES];
  const acc = ctl[ACCUMULATORS];
  const tokens = ctl[TOKENS], start = ctl[OUT], heads = ctl[BLOCKS];
  const kvHeads = ctl[SCRATCH], headDim = ctl[SCRATCH_STRIDE], context = ctl[CONTEXT];
  const scale = bitsToFloat(ctl[SCALE]);
  let ran = 0;
  for (let chunk; (chunk = claim(ctl, tag, chunks)) >= 0; ran++) {
    const h0 = chunk * headsPerChunk;
    fn(q, k, v, o, s, acc, tokens, start, heads, kvHeads, headDim, scale, context, h0, Math.min(heads, h0 + headsPerChunk));
    Atomics.add(ctl, DONE, 1);
  }
  return ran;
}

/** Claims the next chunk of the job tagged `tag` (of `chunks`), or returns −1 when none is left. */
function claim(ctl, tag, chunks) {
  for (;;) {
    const c = Atomics.load(ctl, CLAIM);
    if ((c & ~0xFF) !== tag) return -1;   // a newer job (or none): nothing of ours is left
    const chunk = c & 0xFF;
    if (chunk >= chunks) return -1;
    if (Atomics.compareExchange(ctl, CLAIM, c, c + 1) === c) return chunk;
  }
}
