// Kernel threads in the page: the control block that tinylm-worker.js (the engine's worker) and the
// helper workers (tinylm-kernel-worker.js) share, and the chunk-claiming loop both run.
//
// The kernels' shared WebAssembly.Memory starts with a control block of 32-bit words (CONTROL_BYTES);
// the model's tensor bytes follow at MIRROR_BASE, then the operands of the running job.
// A job is one matrix product split into CHUNKS chunks of CHUNK_ROWS rows, or (KIND = ATTENTION) one
// attention call split into chunks of CHUNK_ROWS heads (every head has its own scores row and output
// channels, so the chunks never touch the same bytes). The engine's worker writes
// the arguments, resets DONE, sets CLAIM to (generation << 8 | 0) and then GEN to the generation;
// every thread claims chunks by compare-and-swap on CLAIM, and only while CLAIM still carries the
// generation it woke for, so a thread that wakes late can never run a chunk of a newer job with
// arguments of an older one (the arguments of job g + 1 are written only after every chunk of job g
// is done). Each finished chunk adds 1 to DONE; the engine's worker returns when DONE = CHUNKS.
// Every row is computed by the same code whichever thread claims it: results do not depend on the
// number of threads.

export const GEN = 0, CLAIM = 1, DONE = 2, SLEEPERS = 3, READY = 4, SHUTDOWN = 5, CHUNKS = 6, CHUNK_ROWS = 7,
  FN = 8, W = 9, ROW_BYTES = 10, ROWS = 11, ACT = 12, ACT_ROW_BYTES = 13, TOKENS = 14, OUT = 15, BLOCKS = 16,
  SCRATCH = 17, SCRATCH_STRIDE = 18, HELPER_CHUNKS = 19, KIND = 20, SCALE = 21, CONTEXT = 22, ACCUMULATORS = 23, CONTROL_WORDS = 32;

/** KIND values: a matrix product (its arguments in W … SCRATCH_STRIDE) or an attention call. */
export const MATMUL = 0, ATTENTION = 1;

/** Bytes reserved for the control block (one page, so the mirror starts page-aligned). */
export const CONTROL_BYTES = 65536;
/** Where the model's tensor bytes start in the shared memory. */
export const MIRROR_BASE = CONTROL_BYTES;
/** Most chunks per job (CLAIM keeps the chunk index in its low 8 bits). */
export const MAX_CHUNKS = 255;

/**
 * Claims and runs chunks of generation `gen` until none is left; `slot` selects the thread's scratch
 * area. Returns the number of chunks this thread ran.
 */
export function runJob(ctl, fns, gen, slot) {
  if (Atomics.load(ctl, KIND) === ATTENTION) return runAttention(ctl, fns, gen);
  const tag = gen << 8;
  const fn = fns[Atomics.load(ctl, FN)];
  const chunks = Atomics.load(ctl, CHUNKS), chunkRows = Atomics.load(ctl, CHUNK_ROWS);
  const w = Atomics.load(ctl, W), rowBytes = Atomics.load(ctl, ROW_BYTES), rows = Atomics.load(ctl, ROWS);
  const act = Atomics.load(ctl, ACT), actRowBytes = Atomics.load(ctl, ACT_ROW_BYTES), tokens = Atomics.load(ctl, TOKENS);
  const out = Atomics.load(ctl, OUT), blocks = Atomics.load(ctl, BLOCKS);
  const scratch = Atomics.load(ctl, SCRATCH) + slot * Atomics.load(ctl, SCRATCH_STRIDE);
  let ran = 0;
  for (let chunk; (chunk = claim(ctl, tag, chunks)) >= 0; ran++) {
    const r0 = chunk * chunkRows;
    fn(w + r0 * rowBytes, rowBytes, Math.min(chunkRows, rows - r0), act, actRowBytes, tokens, out + r0 * 4, rows, blocks, scratch);
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
  const fn = fns[Atomics.load(ctl, FN)];
  const chunks = Atomics.load(ctl, CHUNKS), headsPerChunk = Atomics.load(ctl, CHUNK_ROWS);
  const q = Atomics.load(ctl, W), k = Atomics.load(ctl, ROW_BYTES), v = Atomics.load(ctl, ROWS), o = Atomics.load(ctl, ACT), s = Atomics.load(ctl, ACT_ROW_BYTES);
  const acc = Atomics.load(ctl, ACCUMULATORS);
  const tokens = Atomics.load(ctl, TOKENS), start = Atomics.load(ctl, OUT), heads = Atomics.load(ctl, BLOCKS);
  const kvHeads = Atomics.load(ctl, SCRATCH), headDim = Atomics.load(ctl, SCRATCH_STRIDE), context = Atomics.load(ctl, CONTEXT);
  const scale = new Float32Array(new Int32Array([Atomics.load(ctl, SCALE)]).buffer)[0];
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
