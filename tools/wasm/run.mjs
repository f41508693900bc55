// Validates, instantiates and runs WebAssembly modules for TinyLM's tests (V8 via Node 20+).
//
//   node tools/wasm/run.mjs job.json        run a job, print the results as JSON on stdout
//   node tools/wasm/run.mjs -               read the job from stdin
//   node tools/wasm/run.mjs --features      print {"relaxedSimd": "exact" | "differs" | "absent"}
//   node tools/wasm/run.mjs --validate a.wasm [b.wasm...]
//                                           print {"file", "valid", "error"} per module
//
// A job is {"cases": [case...]}. Each case compiles one module and runs steps in order:
//   {"name": "add",
//    "module": "add.wasm",                  path, relative to the job file's folder
//    "expectInvalid": false,                true: only check that validation fails
//    "memory": {"initial": 1, "maximum": 2, "shared": true},   imported as env.memory (optional)
//    "memoryExport": "memory",              or read/write the module's exported memory
//    "steps": [
//      {"write": {"offset": 0, "base64": "..."}},
//      {"call": {"export": "add", "args": [{"type": "i32", "value": "1"}], "results": ["i32"]}},
//      {"read": {"offset": 0, "length": 16}}]}
// Values are strings: i32 and i64 in decimal, f32 and f64 as the hex bits of the IEEE value
// ("0x3f800000"), so NaN payloads, -0 and infinities survive JSON.
// The output is {"cases": [{"name", "valid", "error", "steps": [...]}]}: a call step gives
// {"results": [...]} or {"trap": "RuntimeError: ..."}, a read step {"base64": "..."}.
// Host functions importable as env.*: host_triple(i32) -> i32 and host_add_f64(f64, f64) -> f64.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { dirname, resolve } from 'node:path';

// Relaxed SIMD (the kernels' i32x4.relaxed_dot_i8x16_i7x16_add_s and i16x8.relaxed_dot_i8x16_i7x16_s) is on
// by default from V8 11.4 (Chromium 114, Node 22); Node 20 (V8 11.3) has it behind a flag, set here before
// anything compiles, but computes the first differently (2·Σ a·b, ignoring the accumulator):
// relaxedSimdState() checks one lane of each as tinylm-worker.js does, and the tests skip relaxed-SIMD
// modules unless it is "exact".
function relaxedSimdModule(i16) {
  const a = [0x80, 0x7f, 0xff, 5], b = [127, 3, 0, 7], c = [0xe8, 0x03, 0, 0];
  const lanes = (x) => [...x, ...new Array(12).fill(0)];
  const body = i16
    ? [0, 0xfd, 12, ...lanes(a), 0xfd, 12, ...lanes(b), 0xfd, 0x92, 2, 0xfd, 0x18, 0, 11]   // -128·127 + 127·3 = -15875
    : [0, 0xfd, 12, ...lanes(a), 0xfd, 12, ...lanes(b), 0xfd, 12, ...lanes(c), 0xfd, 0x93, 2, 0xfd, 0x1b, 0, 11];   // … + 0 + 5·7 + 1000 = -14840
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 0x7f, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0,
    10, body.length + 2, 1, body.length, ...body]);
}
if (!WebAssembly.validate(relaxedSimdModule(false)))
  setFlagsFromString('--experimental-wasm-relaxed-simd');
function relaxedSimdState() {
  const run = (bytes) => new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f();
  if (!WebAssembly.validate(relaxedSimdModule(false)) || !WebAssembly.validate(relaxedSimdModule(true))) return 'absent';
  return run(relaxedSimdModule(false)) === -14840 && run(relaxedSimdModule(true)) === -15875 ? 'exact' : 'differs';
}

const scratch = new DataView(new ArrayBuffer(8));

function toWasm(type, value) {
  switch (type) {
    case 'i32': return Number(value) | 0;
    case 'i64': return BigInt.asIntN(64, BigInt(value));
    case 'f32': scratch.setUint32(0, Number(BigInt(value))); return scratch.getFloat32(0);
    case 'f64': scratch.setBigUint64(0, BigInt(value)); return scratch.getFloat64(0);
    default: throw new Error(`unsupported value type ${type}`);
  }
}

function fromWasm(type, value) {
  switch (type) {
    case 'i32': return String(value | 0);
    case 'i64': return BigInt.asIntN(64, value).toString();
    case 'f32': scratch.setFloat32(0, value); return '0x' + scratch.getUint32(0).toString(16);
    case 'f64': scratch.setFloat64(0, value); return '0x' + scratch.getBigUint64(0).toString(16);
    default: throw new Error(`unsupported value type ${type}`);
  }
}

const hostFunctions = {
  host_triple: (x) => Math.imul(x, 3),
  host_add_f64: (a, b) => a + b,
};

function compile(bytes) {
  const valid = WebAssembly.validate(bytes);
  try {
    return { valid, module: new WebAssembly.Module(bytes), error: null };
  } catch (e) {
    return { valid, module: null, error: String(e) };
  }
}

function runCase(spec, baseDir) {
  const bytes = readFileSync(resolve(baseDir, spec.module));
  const { valid, module, error } = compile(bytes);
  const out = { name: spec.name, valid: valid && module !== null, error, steps: [] };
  if (!out.valid || spec.expectInvalid) return out;

  const env = { ...hostFunctions };
  let memory = null;
  if (spec.memory) {
    const d = { initial: spec.memory.initial };
    if (spec.memory.maximum !== undefined && spec.memory.maximum !== null) d.maximum = spec.memory.maximum;
    if (spec.memory.shared) d.shared = true;
    memory = new WebAssembly.Memory(d);
    env.memory = memory;
  }
  let instance;
  try {
    instance = new WebAssembly.Instance(module, { env });
  } catch (e) {
    out.valid = true;
    out.error = 'instantiate: ' + String(e);
    out.instantiateFailed = true;
    return out;
  }
  if (spec.memoryExport) memory = instance.exports[spec.memoryExport];

  for (const step of spec.steps ?? []) {
    if (step.write) {
      new Uint8Array(memory.buffer).set(Buffer.from(step.write.base64, 'base64'), step.write.offset);
      out.steps.push({});
    } else if (step.read) {
      const view = new Uint8Array(memory.buffer, step.read.offset, step.read.length);
      out.steps.push({ base64: Buffer.from(view).toString('base64') });
    } else if (step.call) {
      const c = step.call;
      const fn = instance.exports[c.export];
      if (typeof fn !== 'function') {
        out.steps.push({ trap: `no exported function '${c.export}'` });
        continue;
      }
      try {
        const r = fn(...(c.args ?? []).map((a) => toWasm(a.type, a.value)));
        const types = c.results ?? [];
        const values = types.length === 0 ? [] : types.length === 1 ? [r] : r;
        out.steps.push({ results: types.map((t, i) => fromWasm(t, values[i])) });
      } catch (e) {
        out.steps.push({ trap: String(e) });
      }
    } else {
      throw new Error('unknown step ' + JSON.stringify(step));
    }
  }
  return out;
}

const args = process.argv.slice(2);
if (args[0] === '--features') {
  process.stdout.write(JSON.stringify({ node: process.version, relaxedSimd: relaxedSimdState() }) + '\n');
} else if (args[0] === '--validate') {
  const results = args.slice(1).map((file) => {
    const { valid, module, error } = compile(readFileSync(file));
    return { file, valid: valid && module !== null, error };
  });
  process.stdout.write(JSON.stringify(results) + '\n');
  process.exit(results.every((r) => r.valid) ? 0 : 1);
} else if (args.length === 1) {
  const text = args[0] === '-' ? readFileSync(0, 'utf8') : readFileSync(args[0], 'utf8');
  const baseDir = args[0] === '-' ? process.cwd() : dirname(resolve(args[0]));
  const job = JSON.parse(text);
  const result = { node: process.version, cases: job.cases.map((c) => runCase(c, baseDir)) };
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  process.stderr.write('usage: node run.mjs JOB.json | - | --validate FILE.wasm...\n');
  process.exit(2);
}
