// A TinyLM kernel thread: a helper Web Worker of tinylm-worker.js that runs chunks of matrix products (and
// the heads of a prompt's attention) on the kernels' shared memory (see tinylm-threads.js). No .NET
// runtime here, only the emitted module.
// Messages in: {module: WebAssembly.Module, memory: shared WebAssembly.Memory, exports: string[], slot}.
// It then serves jobs until the control block's SHUTDOWN is set (a new model), and waits for the next
// message. Message out: 'started' once, when the worker runs.
import { GEN, READY, SHUTDOWN, SLEEPERS, HELPER_CHUNKS, CONTROL_WORDS, runJob, spinPause } from './tinylm-threads.js';

/** Milliseconds a thread spins on the control block after a job before it sleeps in Atomics.wait. */
const SPIN_MS = 4;

function serve({ module, memory, exports, slot }) {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = exports.map(name => instance.exports[name]);
  const ctl = new Int32Array(memory.buffer, 0, CONTROL_WORDS);
  let seen = Atomics.load(ctl, GEN);
  Atomics.add(ctl, READY, 1);
  for (;;) {
    let gen = Atomics.load(ctl, GEN);
    if (gen === seen) {
      // Spin while jobs come in quick succession (a token's products are microseconds apart), then sleep.
      let t0 = performance.now();
      for (let spins = 1; (gen = Atomics.load(ctl, GEN)) === seen; spins++) {
        spinPause();
        if ((spins & 1023) === 0 && performance.now() - t0 > SPIN_MS) {
          Atomics.add(ctl, SLEEPERS, 1);
          Atomics.wait(ctl, GEN, seen);
          Atomics.sub(ctl, SLEEPERS, 1);
          t0 = performance.now();
        }
      }
    }
    seen = gen;
    if (Atomics.load(ctl, SHUTDOWN)) return;
    const ran = runJob(ctl, fns, gen, slot);
    if (ran) Atomics.add(ctl, HELPER_CHUNKS, ran);
  }
}

self.onmessage = event => {
  try {
    serve(event.data);
  } catch (e) {
    postMessage({ error: String(e && e.message || e) });
  }
};
postMessage('started');
