using System.Text.Json;
using Microsoft.Playwright;

namespace TinyLM.BrowserTests;

/// <summary>One progress event of TinyLM.load.</summary>
public sealed record StoreProgress(string Stage, long Loaded, long Total, string? Message);

/// <summary>What one TinyLM.load (or acquireModel) call in the page gave.</summary>
public sealed record StoreLoad(bool Ok, string? Code, string Message, JsonElement Info, string? Text,
    IReadOnlyList<StoreProgress> Progress, IReadOnlyList<string> Warnings)
{
    public string CacheStatus => Info.GetProperty("cacheStatus").GetString()!;
    public bool FromCache => Info.GetProperty("fromCache").GetBoolean();
    public string Sha256 => Info.GetProperty("sha256").GetString()!;
    public IEnumerable<StoreProgress> Downloads => Progress.Where(p => p.Stage == "download");

    public override string ToString() => Ok ? $"ok {CacheStatus}" : $"{Code}: {Message}";

    public static StoreLoad FromJson(JsonElement e)
    {
        bool ok = e.GetProperty("ok").GetBoolean();
        var progress = e.TryGetProperty("progress", out JsonElement p)
            ? p.EnumerateArray().Select(x => new StoreProgress(x.GetProperty("stage").GetString()!, x.GetProperty("loaded").GetInt64(),
                x.GetProperty("total").GetInt64(), x.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null)).ToList()
            : [];
        var warnings = e.TryGetProperty("warnings", out JsonElement w) ? w.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
        return new StoreLoad(ok, ok ? null : e.GetProperty("code").GetString(), ok ? "" : e.GetProperty("message").GetString()!,
            ok ? e.GetProperty("info") : default, ok && e.TryGetProperty("text", out JsonElement t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null,
            progress, warnings);
    }
}

/// <summary>
/// A page on the app's origin that runs no script of its own (not the demo page, whose scripts could
/// load models themselves; service workers are blocked by the contexts the tests open), drives
/// tinylm.js and counts the requests for .gguf files, including those the TinyLM worker makes.
/// </summary>
public sealed class StorePage
{
    /// <summary>
    /// The document the tests run in: tinylm.js itself, shown as text by the real server (with its
    /// COOP/COEP headers). A document fulfilled by a Playwright route would have no address space, and
    /// Chromium then blocks its requests to the loopback test servers (local network access).
    /// </summary>
    public const string DocumentPath = "/tinylm.js";

    private readonly List<string> _modelRequests = [];

    private StorePage(IPage page) => Page = page;

    public IPage Page { get; }

    /// <summary>Opens the page in <paramref name="context"/> (reusing its first empty tab).</summary>
    public static async Task<StorePage> OpenAsync(IBrowserContext context, string baseUrl)
    {
        IPage page = context.Pages.FirstOrDefault(p => p.Url == "about:blank") ?? await context.NewPageAsync();
        var store = new StorePage(page);
        await page.RouteAsync("**/*.gguf", async r =>
        {
            store.Count(r.Request.Url);
            await r.ContinueAsync();
        });
        await page.GotoAsync(baseUrl + DocumentPath);
        return store;
    }

    private void Count(string url)
    {
        lock (_modelRequests)
            _modelRequests.Add(url);
    }

    /// <summary>Requests for .gguf files so far that went through this page's routes.</summary>
    public int ModelRequests
    {
        get
        {
            lock (_modelRequests)
                return _modelRequests.Count;
        }
    }

    /// <summary>Answers requests for <paramref name="url"/> with <paramref name="handler"/> (counted) until the returned function runs.</summary>
    public async Task<Func<Task>> OverrideAsync(string url, Func<IRoute, Task> handler)
    {
        Func<IRoute, Task> wrapped = r =>
        {
            Count(r.Request.Url);
            return handler(r);
        };
        await Page.RouteAsync(url, wrapped);
        return () => Page.UnrouteAsync(url, wrapped);
    }

    /// <summary>
    /// TinyLM.load(source, options) in the page; with <paramref name="generate"/>, 8 greedy tokens after
    /// "Once upon a time". <paramref name="sourceKind"/> 'file' or 'buffer' fetches the URL first and
    /// passes a File or ArrayBuffer. <paramref name="abortAt"/> aborts once that many bytes arrived.
    /// </summary>
    public async Task<StoreLoad> LoadAsync(string source, object? options = null, bool generate = false, string sourceKind = "url", long abortAt = 0)
    {
        JsonElement r = await Page.EvaluateAsync<JsonElement>(@"async ({ source, options, generate, sourceKind, abortAt }) => {
            const { TinyLM } = await import('/tinylm.js');
            const progress = [], warnings = [];
            const warn = console.warn;
            console.warn = (...args) => { warnings.push(args.join(' ')); warn.apply(console, args); };
            const controller = new AbortController();
            const opts = { ...options, onProgress: p => {
                progress.push(p);
                if (abortAt && p.stage === 'download' && p.loaded >= abortAt) controller.abort();
            } };
            if (abortAt) opts.signal = controller.signal;
            try {
                let src = source;
                if (sourceKind !== 'url') {
                    const buffer = await (await fetch(source)).arrayBuffer();
                    src = sourceKind === 'file' ? new File([buffer], 'local.gguf') : buffer;
                }
                const lm = await TinyLM.load(src, opts);
                let text = null;
                if (generate) {
                    text = '';
                    for await (const piece of lm.generate('Once upon a time', { maxTokens: 8, temperature: 0 })) text += piece;
                }
                const info = lm.info;
                await lm.unload();
                return { ok: true, info, text, progress, warnings };
            } catch (e) {
                return { ok: false, code: e.code ?? e.name, message: String(e.message), progress, warnings };
            } finally {
                console.warn = warn;
            }
        }", new { source, options = options ?? new { }, generate, sourceKind, abortAt });
        return StoreLoad.FromJson(r);
    }

    /// <summary>acquireModel(source, options) from tinylm-store.js in the page: the store without the worker and engine (sources as in <see cref="LoadAsync"/>).</summary>
    public async Task<StoreLoad> AcquireAsync(string source, object? options = null, string sourceKind = "url")
    {
        JsonElement r = await Page.EvaluateAsync<JsonElement>(@"async ({ source, options, sourceKind }) => {
            const { acquireModel } = await import('/tinylm-store.js');
            const progress = [];
            try {
                let src = source;
                if (sourceKind !== 'url') {
                    const buffer = await (await fetch(source)).arrayBuffer();
                    src = sourceKind === 'file' ? new File([buffer], 'local.gguf') : buffer;
                }
                const m = await acquireModel(src, { ...options, onProgress: p => progress.push(p) });
                return { ok: true, info: { cacheStatus: m.cacheStatus, fromCache: m.fromCache, sha256: m.sha256, bytes: m.bytes.byteLength }, progress, warnings: m.warnings };
            } catch (e) {
                return { ok: false, code: e.code ?? e.name, message: String(e.message), progress };
            }
        }", new { source, options = options ?? new { }, sourceKind });
        return StoreLoad.FromJson(r);
    }

    /// <summary>TinyLM.cache.list(kind).</summary>
    public async Task<JsonElement[]> ListAsync(string kind)
    {
        JsonElement r = await Page.EvaluateAsync<JsonElement>("async kind => (await import('/tinylm.js')).TinyLM.cache.list(kind)", kind);
        return r.EnumerateArray().ToArray();
    }

    /// <summary>TinyLM.cache.delete(key, kind).</summary>
    public Task<bool> DeleteAsync(string key, string kind) =>
        Page.EvaluateAsync<bool>("async ([key, kind]) => (await import('/tinylm.js')).TinyLM.cache.delete(key, kind)", new[] { key, kind });

    /// <summary>TinyLM.cache.clear(kind).</summary>
    public Task ClearAsync(string kind) =>
        Page.EvaluateAsync("async kind => (await import('/tinylm.js')).TinyLM.cache.clear(kind)", kind);

    /// <summary>
    /// Damages the stored bytes of <paramref name="key"/> behind the store's back, the way a disk or
    /// another script could: 'flip' changes one byte in the middle, 'truncate' keeps the first half.
    /// The metadata (size, SHA-256) stays as it was.
    /// </summary>
    public Task CorruptAsync(string kind, string key, string how) => Page.EvaluateAsync(@"async ({ kind, key, how }) => {
        const damage = bytes => {
            if (how === 'truncate') return bytes.slice(0, bytes.length >> 1);
            bytes[bytes.length >> 1] ^= 0x40;
            return bytes;
        };
        if (kind === 'indexeddb') {
            const db = await new Promise((resolve, reject) => {
                const r = indexedDB.open('tinylm-models');
                r.onsuccess = () => resolve(r.result);
                r.onerror = () => reject(r.error);
            });
            const blob = await new Promise((resolve, reject) => {
                const r = db.transaction('data').objectStore('data').get(key);
                r.onsuccess = () => resolve(r.result);
                r.onerror = () => reject(r.error);
            });
            const bytes = damage(new Uint8Array(await blob.arrayBuffer()));
            await new Promise((resolve, reject) => {
                const tx = db.transaction('data', 'readwrite');
                tx.objectStore('data').put(new Blob([bytes]), key);
                tx.oncomplete = resolve;
                tx.onabort = () => reject(tx.error);
            });
            db.close();
        } else if (kind === 'cache') {
            const cache = await caches.open('tinylm-models');
            const response = await cache.match(key);
            const bytes = damage(new Uint8Array(await response.arrayBuffer()));
            await cache.put(key, new Response(bytes, { headers: response.headers }));
        } else {
            const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('tinylm-models');
            let data = null;
            for await (const [name, handle] of dir.entries()) if (name.endsWith('.bin')) data = handle;
            const file = await data.getFile();
            const writable = await data.createWritable({ keepExistingData: true });
            if (how === 'truncate') {
                await writable.truncate(file.size >> 1);
            } else {
                const at = file.size >> 1;
                const old = new Uint8Array(await file.slice(at, at + 1).arrayBuffer());
                await writable.write({ type: 'write', position: at, data: new Uint8Array([old[0] ^ 0x40]) });
            }
            await writable.close();
        }
    }", new { kind, key, how });
}
