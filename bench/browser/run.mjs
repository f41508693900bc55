// Runs bench/browser in headless Chromium and prints the results as JSON.
//   node --experimental-websocket bench/browser/run.mjs [model.gguf ...] [--tokens 128] [--threads 1] [--only kernels,profile,prefill,decode]
//     [--relaxed 0] (the SIMD128 kernels instead of relaxed SIMD) [--panels 0] (matrices row by row, not in row panels)
//     [--graph 0] (every decode step runs the C# forward pass, no kernel-graph replay)
//     [--widen 0] (Q5_0 matrices run the Q5_0 kernels instead of being widened to Q8_0 at load)
//     [--kernels wasm] (decode: skip the C# fallback); BENCH_SHAPES='q8_0,4096,4096;...' sets the kernel bench's shapes;
//     BENCH_LONG=1 profiles decoding after the 128-token prompt; BENCH_ITERATIONS=N times each kernel N times (default 20)
//     BENCH_CPUPROFILE=1 samples every worker with V8's profiler (BENCH_CPUPROFILE_US interval, default 100) and prints
//     each one's top functions by self time (BENCH_CPUPROFILE_TOP, default 30)
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
  const pending = new Map(), profiled = [];
  const send = (method, params = {}, sessionId) => new Promise(res => {
    const id = next++;
    pending.set(id, res);
    ws.send(JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params }));
  });
  // BENCH_CPUPROFILE=1: V8's sampling profiler in every worker (the engine's and the kernel threads) over the timed
  // generation of --only decode (bench.js asks through window.benchProfile); prints each worker's top functions by
  // self time (wasm functions by their names).
  const cpuProfile = !!process.env.BENCH_CPUPROFILE;
  const autoAttach = sessionId => send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: true }, sessionId);
  ws.onmessage = e => {
    const m = JSON.parse(e.data);
    if (pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); return; }
    if (m.method === 'Target.attachedToTarget') {
      const { sessionId, targetInfo } = m.params;
      profiled.push({ sessionId, url: targetInfo.url });
      (async () => {
        await send('Profiler.enable', {}, sessionId);
        await send('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPUPROFILE_US || 100) }, sessionId);
        await autoAttach(sessionId);
        await send('Runtime.runIfWaitingForDebugger', {}, sessionId);
      })();
    }
  };
  if (cpuProfile) await autoAttach();
  async function reportProfiles() {
    for (const { sessionId, url } of profiled) {
      const r = await send('Profiler.stop', {}, sessionId);
      const profile = r.result && r.result.profile;
      if (!profile) { console.log(`CPU profile of ${basename(url)}: none (${JSON.stringify(r.error ?? r).slice(0, 200)})`); continue; }
      const self = new Map(), byId = new Map(profile.nodes.map(n => [n.id, n]));
      let total = 0;
      for (let i = 0; i < profile.samples.length; i++) {
        const n = byId.get(profile.samples[i]), us = profile.timeDeltas[i + 1] ?? 0;
        const name = `${n.callFrame.functionName || '(anonymous)'} ${basename(n.callFrame.url || '')}`.trim();
        self.set(name, (self.get(name) ?? 0) + us);
        total += us;
      }
      console.log(`CPU profile of ${basename(url)}: ${(total / 1000).toFixed(0)} ms sampled; self time by function:`);
      for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.BENCH_CPUPROFILE_TOP || 30)))
        console.log(`  ${(us / 1000).toFixed(1).padStart(9)} ms ${(100 * us / total).toFixed(1).padStart(5)} %  ${name}`);
    }
  }
  const query = `models=${models.map(m => basename(m)).join(',')}&tokens=${tokens}&threads=${threads}${only ? `&only=${only}` : ''}${relaxed ? `&relaxed=${relaxed}` : ''}${panels ? `&panels=${panels}` : ''}${graph ? `&graph=${graph}` : ''}${widen ? `&widen=${widen}` : ''}${decodeKernels ? `&kernels=${decodeKernels}` : ''}${process.env.BENCH_SHAPES ? `&shapes=${process.env.BENCH_SHAPES}` : ''}${process.env.BENCH_LONG ? '&long=1' : ''}${process.env.BENCH_ITERATIONS ? `&iterations=${process.env.BENCH_ITERATIONS}` : ''}${process.env.BENCH_RUNS ? `&runs=${process.env.BENCH_RUNS}` : ''}${cpuProfile ? '&cpuprofile=1' : ''}`;
  await send('Page.navigate', { url: `http://127.0.0.1:${port}/bench/index.html?${query}` });
  for (let i = 0; i < 30000; i++) {
    await sleep(cpuProfile ? 20 : 500);
    if (cpuProfile) {
      const a = await send('Runtime.evaluate', { expression: 'window.benchProfile ?? null', returnByValue: true });
      const ask = a.result && a.result.result && a.result.result.value;
      if (ask === 'start') for (const { sessionId } of profiled) await send('Profiler.start', {}, sessionId);
      if (ask === 'stop') await reportProfiles();
      if (ask) await send('Runtime.evaluate', { expression: 'window.benchProfile = null' });
    }
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
