// Runs bench/browser in headless Chromium and prints the results as JSON.
//   node --experimental-websocket bench/browser/run.mjs [model.gguf ...] [--tokens 128] [--threads 1] [--only kernels,profile,prefill,decode]
//     [--relaxed 0] (the SIMD128 kernels instead of relaxed SIMD) [--panels 0] (matrices row by row, not in row panels)
//     [--graph 0] (every decode step runs the C# forward pass, no kernel-graph replay)
//     [--widen 0] (Q5_0 matrices run the Q5_0 kernels instead of being widened to Q8_0 at load)
//     [--kernels wasm] (decode: skip the C# fallback); BENCH_SHAPES='q8_0,4096,4096;...' sets the kernel bench's shapes;
//     BENCH_LONG=1 profiles decoding after the 128-token prompt; BENCH_ITERATIONS=N times each kernel N times (default 20)
//     --only first: the first BENCH_RUNS (default 4) 128-token prompts after load, each profiled with every call's time
// Needs the built CLI (dotnet build -c Release publishes the browser app) and /usr/bin/chromium
// (or CHROMIUM=path). The app, this page and the models are copied into a temporary folder that
// `tinylm serve` serves; Chromium is driven over the DevTools protocol.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const cli = join(repo, 'src/TinyLM.Cli/bin/Release/net10.0/TinyLM.Cli.dll');
const app = process.env.TINYLM_APP || join(repo, 'src/TinyLM.Cli/bin/Release/net10.0/browser/wwwroot');   // TINYLM_APP: another build (A/B runs)
const args = process.argv.slice(2);
const ti = args.indexOf('--tokens');
const tokens = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 128;
const hi = args.indexOf('--threads');
const threads = hi >= 0 ? Number(args.splice(hi, 2)[1]) : 1;
const oi = args.indexOf('--only');   // e.g. --only kernels,profile,prefill,decode
const only = oi >= 0 ? args.splice(oi, 2)[1] : '';
const ri = args.indexOf('--relaxed');
const relaxed = ri >= 0 ? args.splice(ri, 2)[1] : '';
const pi = args.indexOf('--panels');
const panels = pi >= 0 ? args.splice(pi, 2)[1] : '';
const gi = args.indexOf('--graph');
const graph = gi >= 0 ? args.splice(gi, 2)[1] : '';
const wi = args.indexOf('--widen');
const widen = wi >= 0 ? args.splice(wi, 2)[1] : '';
const ki = args.indexOf('--kernels');
const decodeKernels = ki >= 0 ? args.splice(ki, 2)[1] : '';
const models = args;

const root = mkdtempSync(join(tmpdir(), 'tinylm-bench-'));
cpSync(app, root, { recursive: true });
for (const f of ['index.html', 'bench.js']) cpSync(join(here, f), join(root, 'bench', f), { recursive: true });
for (const m of models) copyFileSync(m, join(root, basename(m)));

const port = 18000 + Math.floor(Math.random() * 1000), debugPort = port + 1000;
const server = spawn('dotnet', [cli, 'serve', '--port', String(port), '--root', root], { stdio: ['ignore', 'ignore', 'inherit'] });
const chrome = spawn(process.env.CHROMIUM || '/usr/bin/chromium', ['--headless=new', '--no-sandbox', `--remote-debugging-port=${debugPort}`,
  `--user-data-dir=${join(root, '.profile')}`, 'about:blank'], { stdio: 'ignore' });
const sleep = ms => new Promise(r => setTimeout(r, ms));

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try { const r = await fetch(url); if (r.ok) return r; } catch { }
    await sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

try {
  await waitFor(`http://127.0.0.1:${port}/tinylm.js`);
  const targets = await (await waitFor(`http://127.0.0.1:${debugPort}/json/list`)).json();
  const ws = new WebSocket(targets.find(t => t.type === 'page').webSocketDebuggerUrl);
  await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
  let next = 1;
  const pending = new Map();
  ws.onmessage = e => { const m = JSON.parse(e.data); if (pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } };
  const send = (method, params = {}) => new Promise(res => { const id = next++; pending.set(id, res); ws.send(JSON.stringify({ id, method, params })); });
  const query = `models=${models.map(m => basename(m)).join(',')}&tokens=${tokens}&threads=${threads}${only ? `&only=${only}` : ''}${relaxed ? `&relaxed=${relaxed}` : ''}${panels ? `&panels=${panels}` : ''}${graph ? `&graph=${graph}` : ''}${widen ? `&widen=${widen}` : ''}${decodeKernels ? `&kernels=${decodeKernels}` : ''}${process.env.BENCH_SHAPES ? `&shapes=${process.env.BENCH_SHAPES}` : ''}${process.env.BENCH_LONG ? '&long=1' : ''}${process.env.BENCH_ITERATIONS ? `&iterations=${process.env.BENCH_ITERATIONS}` : ''}${process.env.BENCH_RUNS ? `&runs=${process.env.BENCH_RUNS}` : ''}`;
  await send('Page.navigate', { url: `http://127.0.0.1:${port}/bench/index.html?${query}` });
  for (let i = 0; i < 3000; i++) {
    await sleep(500);
    const r = await send('Runtime.evaluate', { expression: 'JSON.stringify(window.benchResult ?? null)', returnByValue: true });
    const value = r.result && r.result.result && r.result.result.value;
    if (value && value !== 'null') { console.log(JSON.stringify(JSON.parse(value), null, 1)); break; }
  }
  ws.close();
} finally {
  chrome.kill();
  server.kill();
  await sleep(300);
  try { rmSync(root, { recursive: true, force: true, maxRetries: 5 }); } catch { }   // Chromium may still be writing its profile
}
