// The TinyLM demo page: pick a model (default, URL, file or drop), load it with progress, generate
// with streaming, sampling controls and live statistics, inspect the model and the model cache.
// All model work happens in TinyLM's Web Worker; this file only draws, at most once per animation
// frame, so the main thread stays free.
import { TinyLM, TinyLMError } from './tinylm.js';

const DEFAULT_MODEL = new URL('models/stories260K.gguf', import.meta.url).href;
const DEFAULT_MODEL_NAME = 'stories260K.gguf';
const MAX_MESSAGES = 6;

const $ = id => document.getElementById(id);
const el = {
  loadDefault: $('load-default'), urlForm: $('url-form'), url: $('model-url'), file: $('model-file'), drop: $('drop-zone'),
  budget: $('budget'), cacheKind: $('cache-kind'), contextLength: $('context-length'), expectedSha: $('expected-sha256'),
  loadStatus: $('load-status'), progress: $('load-progress'), loadStage: $('load-stage'), loadBytes: $('load-bytes'), loadCancel: $('load-cancel'),
  info: $('info'), cacheSummary: $('cache-summary'), cacheList: $('cache-list'), cacheRefresh: $('cache-refresh'), cacheClear: $('cache-clear'),
  form: $('generate-form'), prompt: $('prompt'), generate: $('generate'), stop: $('stop'), continue: $('continue'),
  maxTokens: $('max-tokens'), temperature: $('temperature'), topK: $('top-k'), topP: $('top-p'), minP: $('min-p'),
  repeatPenalty: $('repeat-penalty'), seed: $('seed'), ignoreEos: $('ignore-eos'), stopStrings: $('stop-strings'),
  output: $('output'), state: $('stat-state'), ttft: $('stat-ttft'), tps: $('stat-tps'), tokens: $('stat-tokens'), promptStat: $('stat-prompt'),
  modelMemory: $('stat-model-memory'), uaMemoryLabel: $('stat-ua-memory-label'), uaMemory: $('stat-ua-memory'),
  errors: $('errors'), badgeIsolated: $('badge-isolated'), badgeOffline: $('badge-offline'), badgeNetwork: $('badge-network'),
  updateNotice: $('update-notice'), updateReload: $('update-reload'),
};

let lm = null;             // the loaded model
let state = 'empty';       // 'empty' | 'loading' | 'ready' | 'generating'
let loadController = null;
let generateController = null;

// ---- formatting

const integer = new Intl.NumberFormat('en-US');
function formatBytes(n) {
  if (!Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
const formatBytesExact = n => `${formatBytes(n)} (${integer.format(n)} bytes)`;
const formatMs = ms => (Number.isFinite(ms) ? `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms` : '—');
const formatRate = r => (Number.isFinite(r) && r > 0 ? `${r.toFixed(1)} tokens/s` : '—');

// ---- page state: which controls are usable

function setState(next) {
  state = next;
  document.body.dataset.state = next;
  const busy = next === 'loading' || next === 'generating';
  for (const control of document.querySelectorAll('[data-needs="idle"]')) control.disabled = busy;
  el.generate.disabled = next !== 'ready';
  el.stop.disabled = next !== 'generating';
  el.loadCancel.disabled = next !== 'loading';
  el.cacheRefresh.disabled = next === 'loading';
  el.cacheClear.disabled = next === 'loading' || el.cacheKind.value === 'none';
  el.output.setAttribute('aria-busy', String(next === 'generating'));
}

// ---- messages: every failure is shown, readable and dismissible; the page stays usable

const ERROR_TITLES = {
  budget: 'Model over budget', integrity: 'Integrity check failed', format: 'Not a valid model file',
  admission: 'Model not admitted', network: 'Network error', http: 'Download failed', quota: 'Storage quota exceeded',
  aborted: 'Cancelled', argument: 'Invalid setting', state: 'Not possible now', worker: 'Worker failed', engine: 'Engine error',
};

function showError(error, context, hint) {
  const code = error instanceof TinyLMError || (error && typeof error.code === 'string') ? error.code : 'unexpected';
  const box = document.createElement('div');
  box.className = 'error';
  box.setAttribute('role', 'alert');
  box.dataset.code = code;
  box.dataset.testid = 'error';
  const body = document.createElement('div');
  body.className = 'error-body';
  const title = document.createElement('div');
  title.className = 'error-title';
  title.textContent = `${ERROR_TITLES[code] ?? 'Unexpected error'}${context ? ` — ${context}` : ''}`;
  const codeLabel = document.createElement('span');
  codeLabel.className = 'error-code';
  codeLabel.textContent = ` [${code}]`;
  title.append(codeLabel);
  const text = document.createElement('div');
  text.className = 'error-text';
  text.dataset.testid = 'error-text';
  text.textContent = (error && error.message) || String(error);
  body.append(title, text);
  if (hint) {
    const help = document.createElement('div');
    help.className = 'error-hint';
    help.textContent = hint;
    body.append(help);
  }
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'error-dismiss';
  dismiss.dataset.testid = 'error-dismiss';
  dismiss.setAttribute('aria-label', 'Dismiss this message');
  dismiss.textContent = '×';
  dismiss.addEventListener('click', () => box.remove());
  box.append(body, dismiss);
  el.errors.append(box);
  while (el.errors.childElementCount > MAX_MESSAGES) el.errors.firstElementChild.remove();
}

window.addEventListener('error', event => showError(event.error ?? event.message, 'in the page'));
window.addEventListener('unhandledrejection', event => showError(event.reason, 'in the page'));

// ---- drawing: at most once per animation frame

let frameScheduled = false;
let pendingProgress = null;
const run = { textNode: null, pending: '', count: 0, start: 0, first: 0, live: false };

function scheduleFrame() {
  if (frameScheduled) return;
  frameScheduled = true;
  // Hidden pages get no animation frames; draw on a timer then.
  if (document.hidden) setTimeout(drawFrame, 200);
  else requestAnimationFrame(drawFrame);
}

function drawFrame() {
  frameScheduled = false;
  if (pendingProgress) { drawProgress(pendingProgress); pendingProgress = null; }
  flushOutput();
  if (run.live) drawLiveStats();
}

function flushOutput() {
  if (!run.pending || !run.textNode) return;
  const o = el.output;
  const atBottom = o.scrollTop + o.clientHeight >= o.scrollHeight - 24;
  run.textNode.appendData(run.pending);
  run.pending = '';
  if (atBottom) o.scrollTop = o.scrollHeight;
}

// ---- loading

const STAGE_TEXT = { download: 'Downloading', verify: 'Verifying (SHA-256)', parse: 'Parsing', ready: 'Ready' };
let stagesSeen = [];

function drawProgress(p) {
  el.loadStatus.dataset.stage = p.stage;
  el.loadStatus.dataset.stages = stagesSeen.join(' ');
  const stage = `${STAGE_TEXT[p.stage] ?? p.stage}${p.stage === 'ready' ? '' : '…'}${p.message ? ` (${p.message})` : ''}`;
  if (el.loadStage.textContent !== stage) el.loadStage.textContent = stage; // a live region: announce changes only
  if (p.total > 0) {
    el.progress.max = p.total;
    el.progress.value = Math.min(p.loaded, p.total);
    el.loadBytes.textContent = `${formatBytes(p.loaded)} of ${formatBytes(p.total)}`;
  } else {
    el.progress.removeAttribute('value'); // indeterminate
    el.loadBytes.textContent = formatBytes(p.loaded);
  }
}

const range = (min, max, show) => (Number.isFinite(max) && max < Number.MAX_SAFE_INTEGER ? `from ${show(min)} to ${show(max)}` : `at least ${show(min)}`);

function readInteger(input, label, min, max = Infinity) {
  const text = input.value.trim();
  const value = Number(text);
  if (text === '' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new TinyLMError('argument', `${label} must be a whole number ${range(min, max, n => integer.format(n))}; found '${input.value}'.`);
  }
  return value;
}

function readNumber(input, label, min, max = Infinity) {
  const text = input.value.trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new TinyLMError('argument', `${label} must be a number ${range(min, max, String)}; found '${input.value}'.`);
  }
  return value;
}

function loadOptions() {
  const options = {
    budgetBytes: readInteger(el.budget, 'Budget', 1),
    cache: el.cacheKind.value,
    contextLength: readInteger(el.contextLength, 'Context length', 0, 1 << 20),
  };
  const sha = el.expectedSha.value.trim();
  if (sha) {
    if (!/^[0-9a-fA-F]{64}$/.test(sha)) throw new TinyLMError('argument', `Expected SHA-256 must be 64 hex digits; found '${sha}'.`);
    options.expectedSha256 = sha.toLowerCase();
  }
  return options;
}

async function loadModel(source, label) {
  if (state === 'loading' || state === 'generating') return;
  let options;
  try {
    options = loadOptions();
  } catch (e) {
    showError(e, `loading ${label}`);
    return;
  }
  setState('loading');
  stagesSeen = [];
  el.loadStatus.dataset.stage = '';
  el.loadStatus.dataset.stages = '';
  el.progress.max = 1;
  el.progress.value = 0;
  el.loadStage.textContent = `Starting ${label}…`;
  el.loadBytes.textContent = '';
  const controller = new AbortController();
  loadController = controller;
  let next;
  try {
    next = await TinyLM.load(source, {
      ...options,
      signal: controller.signal,
      onProgress: p => {
        if (!stagesSeen.includes(p.stage)) stagesSeen.push(p.stage);
        pendingProgress = p;
        scheduleFrame();
      },
    });
  } catch (e) {
    pendingProgress = null;
    el.loadStatus.dataset.stage = 'failed';
    if (controller.signal.aborted) {
      el.loadStage.textContent = `Loading ${label} was cancelled.`;
    } else {
      el.loadStage.textContent = `Loading ${label} failed.`;
      showError(e, `loading ${label}`);
    }
    el.loadBytes.textContent = lm ? `Still loaded: ${lm.info.name}.` : '';
    setState(lm ? 'ready' : 'empty');
    return;
  } finally {
    loadController = null;
  }
  if (controller.signal.aborted) {
    // Cancelled after the bytes arrived, while the engine was parsing: drop the new model.
    next.unload().catch(() => {});
    el.loadStatus.dataset.stage = 'failed';
    el.loadStage.textContent = `Loading ${label} was cancelled.`;
    el.loadBytes.textContent = lm ? `Still loaded: ${lm.info.name}.` : '';
    setState(lm ? 'ready' : 'empty');
    return;
  }
  // The new model is ready: only now let the previous one go (a failed load keeps it usable).
  const previous = lm;
  lm = next;
  previous?.unload().catch(e => showError(e, 'unloading the previous model'));
  pendingProgress = null;
  drawProgress({ stage: 'ready', loaded: lm.info.bytes, total: lm.info.bytes, message: lm.info.fromCache ? 'from cache' : undefined });
  el.loadStage.textContent = `Ready: ${lm.info.name}`;
  drawInfo(lm.info);
  setState('ready');
  refreshCache();
  measureMemory();
}

/** Forgets the model after its worker failed: the page goes back to "no model". */
function dropModel() {
  const dead = lm;
  lm = null;
  dead?.unload().catch(() => {});
  for (const dd of el.info.querySelectorAll('dd[data-field]')) dd.textContent = '—';
  el.modelMemory.textContent = '—';
  el.loadStatus.dataset.stage = '';
  el.loadStage.textContent = 'No model loaded: the engine stopped. Load a model again.';
  el.loadBytes.textContent = '';
}

function drawInfo(info) {
  const values = {
    name: info.name,
    architecture: info.architecture,
    parameters: `${integer.format(info.parameters)}`,
    quantization: info.quantization,
    bytes: formatBytesExact(info.bytes),
    weightBytes: formatBytesExact(info.weightBytes),
    contextLength: `${integer.format(info.contextLength)} tokens`,
    trainedContextLength: `${integer.format(info.trainedContextLength)} tokens`,
    kvCacheBytes: formatBytesExact(info.kvCacheBytes),
    vocabularySize: `${integer.format(info.vocabularySize)} tokens`,
    chatTemplate: info.chatTemplate ? 'yes' : 'none',
    source: info.source,
    cacheStatus: `${info.cacheStatus}${info.fromCache ? ' (loaded from cache)' : ''}`,
    sha256: info.sha256,
  };
  for (const dd of el.info.querySelectorAll('dd[data-field]')) {
    const v = values[dd.dataset.field];
    dd.textContent = v === undefined || v === null || v === '' ? '—' : v;
  }
  if (info.chatTemplate) el.info.querySelector('dd[data-field="chatTemplate"]').title = info.chatTemplate;
  el.modelMemory.textContent = `${formatBytes(info.bytes)} model + ${formatBytes(info.kvCacheBytes)} KV cache = ${formatBytes(info.bytes + info.kvCacheBytes)}`;
}

el.loadDefault.addEventListener('click', () => loadModel(DEFAULT_MODEL, DEFAULT_MODEL_NAME));

el.urlForm.addEventListener('submit', event => {
  event.preventDefault();
  const text = el.url.value.trim();
  let url;
  try {
    url = new URL(text, document.baseURI);
    if (!text || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new Error();
  } catch {
    showError(new TinyLMError('argument', `Enter an http(s) URL of a model; found '${text}'.`), 'loading a URL');
    return;
  }
  loadModel(url.href, url.pathname.split('/').pop() || url.href);
});

el.file.addEventListener('change', () => {
  const file = el.file.files?.[0];
  el.file.value = ''; // the same file can be chosen again
  if (file) loadModel(file, file.name || 'the chosen file');
});

el.loadCancel.addEventListener('click', () => loadController?.abort());

// Drag and drop: a file (or a link) dropped on the zone loads; drops elsewhere never navigate away.
const carriesFiles = event => [...(event.dataTransfer?.types ?? [])].some(t => t === 'Files' || t === 'text/uri-list');
window.addEventListener('dragover', event => { if (carriesFiles(event)) event.preventDefault(); });
window.addEventListener('drop', event => { if (carriesFiles(event)) event.preventDefault(); });
el.drop.addEventListener('dragenter', event => { if (carriesFiles(event)) el.drop.dataset.over = 'true'; });
el.drop.addEventListener('dragover', event => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = state === 'loading' || state === 'generating' ? 'none' : 'copy';
});
el.drop.addEventListener('dragleave', event => { if (!el.drop.contains(event.relatedTarget)) delete el.drop.dataset.over; });
el.drop.addEventListener('drop', event => {
  event.preventDefault();
  event.stopPropagation();
  delete el.drop.dataset.over;
  const file = event.dataTransfer?.files?.[0];
  if (file) { loadModel(file, file.name || 'the dropped file'); return; }
  const link = event.dataTransfer?.getData('text/uri-list')?.split('\n').find(l => l && !l.startsWith('#'))?.trim();
  if (link) { el.url.value = link; el.urlForm.requestSubmit(); }
});

// ---- generation

function unescapeStop(line) {
  return line.replace(/\\([nrt\\])/g, (_, c) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c]);
}

function generateOptions() {
  const options = {
    maxTokens: readInteger(el.maxTokens, 'Max tokens', -1, 1 << 20),
    temperature: readNumber(el.temperature, 'Temperature', 0),
    topK: readInteger(el.topK, 'Top-k', 0, 1 << 20),
    topP: readNumber(el.topP, 'Top-p', 0, 1),
    minP: readNumber(el.minP, 'Min-p', 0, 1),
    repeatPenalty: readNumber(el.repeatPenalty, 'Repeat penalty', 0),
    seed: readInteger(el.seed, 'Seed', 0),
  };
  if (options.maxTokens === 0) throw new TinyLMError('argument', "Max tokens must be -1 or at least 1; found '0'.");
  const stop = el.stopStrings.value.split('\n').map(l => l.replace(/\r$/, '')).filter(l => l.length > 0).map(unescapeStop);
  if (stop.length) options.stop = stop;
  if (el.ignoreEos.checked) options.ignoreEos = true;
  return options;
}

const STOP_TEXT = {
  EndOfSequence: 'done: end of text', MaxTokens: 'done: max tokens', StopString: 'done: stop string',
  ContextFull: 'done: context full', Cancelled: 'stopped (cancelled)',
};

function setGenerationStatus(kind, text, stopReason) {
  el.state.dataset.state = kind;
  el.state.textContent = text;
  if (stopReason) el.state.dataset.stopReason = stopReason;
  else delete el.state.dataset.stopReason;
}

function drawLiveStats() {
  const now = performance.now();
  el.tokens.textContent = integer.format(run.count);
  el.ttft.textContent = run.first ? formatMs(run.first - run.start) : `${formatMs(now - run.start)}…`;
  el.tps.textContent = run.count > 1 ? formatRate((run.count - 1) / ((now - run.first) / 1000)) : '—';
}

function drawResult(result) {
  el.tokens.textContent = integer.format(result.completionTokens);
  el.ttft.textContent = formatMs(result.timeToFirstTokenMs);
  el.tps.textContent = formatRate(result.tokensPerSecond);
  el.promptStat.textContent = `${integer.format(result.promptTokens)} tokens, ${formatMs(result.promptMs)} (${formatRate(result.promptTokensPerSecond)})`;
}

/** The output is a transcript: each prompt (muted), then its generated text, the latest marked data-testid="generated". */
function startTranscriptPiece(prompt, keep) {
  if (!keep) el.output.replaceChildren();
  for (const previous of el.output.querySelectorAll('[data-testid="generated"]')) delete previous.dataset.testid;
  if (prompt) {
    const echo = document.createElement('span');
    echo.className = 'echo';
    echo.textContent = prompt;
    el.output.append(echo);
  }
  const generated = document.createElement('span');
  generated.className = 'generated';
  generated.dataset.testid = 'generated';
  run.textNode = document.createTextNode('');
  generated.append(run.textNode);
  el.output.append(generated);
}

async function generate() {
  if (state !== 'ready' || !lm) return;
  let options;
  try {
    options = generateOptions();
  } catch (e) {
    showError(e, 'reading the sampling settings');
    return;
  }
  const prompt = el.prompt.value;
  const keep = el.continue.checked;
  // Every generation starts from a fresh context; continuing means sending the whole transcript
  // again (the engine reuses the tokens it shares with the previous prompt instead of evaluating them).
  const fullPrompt = (keep ? el.output.textContent : '') + prompt;
  const controller = new AbortController();
  generateController = controller;
  setState('generating');
  startTranscriptPiece(prompt, keep);
  Object.assign(run, { pending: '', count: 0, start: performance.now(), first: 0, live: true });
  el.promptStat.textContent = '—';
  setGenerationStatus('generating', 'generating…');
  drawLiveStats();
  let result = null;
  try {
    const iterator = lm.generate(fullPrompt, { ...options, signal: controller.signal });
    let step;
    while (!(step = await iterator.next()).done) {
      if (run.count === 0) run.first = performance.now();
      run.count++;
      run.pending += step.value;
      scheduleFrame();
    }
    result = step.value;
    setGenerationStatus(result.stopReason === 'Cancelled' ? 'cancelled' : 'done', STOP_TEXT[result.stopReason] ?? `done: ${result.stopReason}`, result.stopReason);
  } catch (e) {
    if (e instanceof TinyLMError && e.code === 'aborted') {
      result = e.details?.result ?? null;
      setGenerationStatus('cancelled', STOP_TEXT.Cancelled, 'Cancelled');
    } else {
      setGenerationStatus('error', 'failed (see the message above)');
      const full = keep && e instanceof TinyLMError && e.code === 'state' && /context/i.test(e.message);
      showError(e, 'generating', full ? "The text above no longer fits in the model's context: uncheck 'Continue the text above' to start again." : undefined);
      if (e instanceof TinyLMError && e.code === 'worker') dropModel(); // the worker is gone: load a model again
    }
  } finally {
    generateController = null;
    run.live = false;
    flushOutput();
    if (result) drawResult(result);
    else drawLiveStats();
    setState(lm ? 'ready' : 'empty');
  }
  measureMemory();
}

el.form.addEventListener('submit', event => {
  event.preventDefault();
  generate();
});
el.stop.addEventListener('click', () => generateController?.abort());
el.prompt.addEventListener('keydown', event => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    generate();
  }
});
document.addEventListener('keydown', event => {
  if (event.key === 'Escape') (generateController ?? loadController)?.abort();
});

// ---- memory: what lm.info says the model holds (drawn with the model info), and what the
// browser can measure

let measuring = false;
function heapText() {
  const m = performance.memory;
  return `${formatBytes(m.usedJSHeapSize)} used of ${formatBytes(m.totalJSHeapSize)}`;
}

async function measureMemory() {
  if (globalThis.crossOriginIsolated && typeof performance.measureUserAgentSpecificMemory === 'function') {
    if (measuring) return;
    measuring = true;
    // The browser answers after its next garbage collection (up to about 20 s); meanwhile, the
    // main thread's heap if the browser reports it.
    if (el.uaMemory.dataset.source !== 'measureUserAgentSpecificMemory') {
      if (performance.memory) {
        el.uaMemoryLabel.textContent = 'JavaScript heap, main thread only (performance.memory); whole page: measuring…';
        el.uaMemory.textContent = heapText();
      } else {
        el.uaMemoryLabel.textContent = 'Page and its workers (performance.measureUserAgentSpecificMemory)';
        el.uaMemory.textContent = 'measuring…';
      }
    }
    try {
      const m = await performance.measureUserAgentSpecificMemory();
      el.uaMemoryLabel.textContent = 'Page and its workers (performance.measureUserAgentSpecificMemory)';
      el.uaMemory.textContent = formatBytesExact(m.bytes);
      el.uaMemory.dataset.source = 'measureUserAgentSpecificMemory';
    } catch (e) {
      el.uaMemory.textContent = `not available: ${e.message}`;
    } finally {
      measuring = false;
    }
  } else if (performance.memory) {
    el.uaMemoryLabel.textContent = 'JavaScript heap, main thread only (performance.memory)';
    el.uaMemory.textContent = heapText();
    el.uaMemory.dataset.source = 'memory';
  } else {
    el.uaMemoryLabel.textContent = 'Browser memory';
    el.uaMemory.textContent = 'not measurable in this browser';
  }
}

// ---- the model cache

let clearArmed = 0;

async function refreshCache() {
  const kind = el.cacheKind.value;
  setState(state); // the clear button depends on the backend
  if (kind === 'none') {
    el.cacheSummary.textContent = 'Caching is off: new loads are not stored. Pick a backend to see its models.';
    el.cacheList.replaceChildren();
    return;
  }
  try {
    const entries = await TinyLM.cache.list(kind);
    const items = entries.map(entry => {
      const li = document.createElement('li');
      li.dataset.key = entry.key;
      const label = document.createElement('span');
      label.className = 'cache-name';
      label.textContent = `${entry.name || entry.url || entry.key} — ${formatBytes(entry.size)}`;
      label.title = [entry.url, entry.sha256 && `SHA-256 ${entry.sha256}`, entry.storedAt && `stored ${entry.storedAt}`].filter(Boolean).join('\n');
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Delete';
      remove.dataset.testid = 'cache-delete';
      remove.setAttribute('aria-label', `Delete ${entry.name || entry.key} from the cache`);
      remove.addEventListener('click', async () => {
        remove.disabled = true;
        try {
          await TinyLM.cache.delete(entry.key, entry.kind || kind);
        } catch (e) {
          showError(e, `deleting ${entry.name || entry.key} from the cache`);
        }
        refreshCache();
      });
      li.append(label, remove);
      return li;
    });
    el.cacheList.replaceChildren(...items);
    const total = entries.reduce((sum, e) => sum + (e.size || 0), 0);
    let summary = entries.length ? `${entries.length} model${entries.length === 1 ? '' : 's'}, ${formatBytes(total)}` : 'No models cached';
    summary += ` in ${el.cacheKind.selectedOptions[0].textContent}.`;
    try {
      const estimate = await navigator.storage?.estimate?.();
      if (estimate?.quota) summary += ` Origin storage: ${formatBytes(estimate.usage ?? 0)} used of ${formatBytes(estimate.quota)}.`;
    } catch { /* the estimate is optional */ }
    el.cacheSummary.textContent = summary;
  } catch (e) {
    el.cacheSummary.textContent = 'The cache could not be read.';
    showError(e, 'listing the model cache');
  }
}

el.cacheRefresh.addEventListener('click', refreshCache);
el.cacheKind.addEventListener('change', refreshCache);
el.cacheClear.addEventListener('click', async () => {
  // Two presses within 4 s: no blocking confirm() dialog.
  if (performance.now() - clearArmed > 4000) {
    clearArmed = performance.now();
    el.cacheClear.textContent = 'Press again to clear';
    setTimeout(() => { el.cacheClear.textContent = 'Clear this cache'; }, 4000);
    return;
  }
  clearArmed = 0;
  el.cacheClear.textContent = 'Clear this cache';
  try {
    await TinyLM.cache.clear(el.cacheKind.value);
  } catch (e) {
    showError(e, 'clearing the model cache');
  }
  refreshCache();
});

// ---- status badges and the offline app shell

function setBadge(badge, text, ok) {
  badge.textContent = text;
  if (ok === undefined) delete badge.dataset.ok;
  else badge.dataset.ok = String(ok);
}

function drawNetwork() {
  setBadge(el.badgeNetwork, navigator.onLine ? 'Online' : 'Offline', navigator.onLine ? undefined : false);
}

async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) {
    setBadge(el.badgeOffline, 'Offline use: not supported here', false);
    return;
  }
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    // A first install takes control silently; a later one means a new version of the app.
    if (hadController) el.updateNotice.hidden = false;
  });
  try {
    const registration = await navigator.serviceWorker.register(new URL('sw.js', import.meta.url), { scope: new URL('./', import.meta.url).href });
    const installing = registration.installing;
    if (!registration.active && installing) {
      setBadge(el.badgeOffline, 'Offline use: installing…');
      installing.addEventListener('statechange', () => {
        if (installing.state === 'redundant' && !registration.active) setBadge(el.badgeOffline, 'Offline use: install failed', false);
      });
    }
    await navigator.serviceWorker.ready;
    setBadge(el.badgeOffline, 'Offline-ready', true);
  } catch (e) {
    setBadge(el.badgeOffline, 'Offline use: unavailable', false);
    console.warn('TinyLM: service worker registration failed:', e);
  }
}

el.updateReload.addEventListener('click', () => location.reload());
window.addEventListener('online', drawNetwork);
window.addEventListener('offline', drawNetwork);

setBadge(el.badgeIsolated, globalThis.crossOriginIsolated ? 'Cross-origin isolated' : 'Not cross-origin isolated', Boolean(globalThis.crossOriginIsolated));
drawNetwork();
setState('empty');
setGenerationStatus('idle', 'idle');
refreshCache();
registerServiceWorker();
document.documentElement.dataset.app = 'ready';
