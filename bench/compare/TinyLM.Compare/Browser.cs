using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;

namespace TinyLM.Compare;

/// <summary>
/// A small static file server for the peer's page (wllama): the files of npm @wllama/wllama under
/// /wllama/, the benchmark models under /models/, an empty page at /bench.html, every response with
/// COOP/COEP (so the page is cross-origin isolated and wllama can start its threads).
/// </summary>
internal sealed class StaticServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, string> _roots;

    public StaticServer(int port, Dictionary<string, string> roots)
    {
        _roots = roots;
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _ = Task.Run(Loop);
    }

    public string Url { get; }

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext c;
            try
            {
                c = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            _ = Task.Run(() => Serve(c));
        }
    }

    private async Task Serve(HttpListenerContext c)
    {
        HttpListenerRequest q = c.Request;
        HttpListenerResponse r = c.Response;
        try
        {
            r.Headers["Cross-Origin-Opener-Policy"] = "same-origin";
            r.Headers["Cross-Origin-Embedder-Policy"] = "require-corp";
            r.Headers["Cross-Origin-Resource-Policy"] = "same-origin";
            r.Headers["Cache-Control"] = "no-cache";
            string path = Uri.UnescapeDataString(q.Url!.AbsolutePath);
            bool head = q.HttpMethod == "HEAD";
            if (q.HttpMethod != "GET" && !head)
            {
                r.StatusCode = 405;
                return;
            }
            if (path == "/favicon.ico")
            {
                r.StatusCode = 204;
                return;
            }
            if (path == "/bench.html")
            {
                byte[] html = "<!doctype html><meta charset=utf-8><title>bench</title>"u8.ToArray();
                r.ContentType = "text/html; charset=utf-8";
                r.ContentLength64 = html.Length;
                if (!head)
                    await r.OutputStream.WriteAsync(html);
                return;
            }
            string? file = null;
            foreach ((string prefix, string dir) in _roots)
            {
                if (!path.StartsWith(prefix, StringComparison.Ordinal))
                    continue;
                string candidate = Path.GetFullPath(Path.Combine(dir, path[prefix.Length..]));
                if (candidate.StartsWith(Path.GetFullPath(dir), StringComparison.Ordinal) && File.Exists(candidate))
                    file = candidate;
            }
            if (file is null)
            {
                // The page must never read an error page as data: say what was missing.
                Console.Error.WriteLine($"    static server: 404 {q.HttpMethod} {path}");
                r.StatusCode = 404;
                return;
            }
            r.ContentType = Path.GetExtension(file) switch
            {
                ".js" or ".mjs" => "text/javascript",
                ".wasm" => "application/wasm",
                ".json" => "application/json",
                ".html" => "text/html; charset=utf-8",
                _ => "application/octet-stream",
            };
            r.Headers["Accept-Ranges"] = "bytes";
            await using FileStream f = File.OpenRead(file);
            long start = 0, length = f.Length;
            if (q.Headers["Range"] is string range)
            {
                // One range, "bytes=a-b", "bytes=a-" or "bytes=-n" (what fetch-based downloaders send).
                if (!TryParseRange(range, f.Length, out start, out length))
                {
                    r.StatusCode = 416;
                    r.Headers["Content-Range"] = $"bytes */{f.Length}";
                    return;
                }
                r.StatusCode = 206;
                r.Headers["Content-Range"] = $"bytes {start}-{start + length - 1}/{f.Length}";
            }
            r.ContentLength64 = length;
            if (head)
                return;
            f.Position = start;
            byte[] buffer = new byte[1 << 20];
            for (long left = length; left > 0;)
            {
                int n = await f.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)));
                if (n == 0)
                    break;
                await r.OutputStream.WriteAsync(buffer.AsMemory(0, n));
                left -= n;
            }
        }
        catch (Exception)
        {
            // A closed page; nothing to do.
        }
        finally
        {
            try
            {
                r.Close();
            }
            catch (Exception)
            {
            }
        }
    }

    private static bool TryParseRange(string header, long size, out long start, out long length)
    {
        start = 0;
        length = 0;
        if (!header.StartsWith("bytes=", StringComparison.Ordinal) || header.Contains(',', StringComparison.Ordinal))
            return false;
        string[] ab = header[6..].Split('-');
        if (ab.Length != 2)
            return false;
        long end;
        if (ab[0].Length == 0)
        {
            if (!long.TryParse(ab[1], CultureInfo.InvariantCulture, out long suffix) || suffix <= 0)
                return false;
            start = Math.Max(0, size - suffix);
            end = size - 1;
        }
        else
        {
            if (!long.TryParse(ab[0], CultureInfo.InvariantCulture, out start))
                return false;
            end = ab[1].Length == 0 ? size - 1 : long.TryParse(ab[1], CultureInfo.InvariantCulture, out long e) ? Math.Min(e, size - 1) : -1;
        }
        if (start < 0 || start >= size || end < start)
            return false;
        length = end - start + 1;
        return true;
    }

    public void Dispose() => _listener.Close();
}

/// <summary>Prompt tokens/s, decode tokens/s and token counts reported by one in-page generation.</summary>
internal sealed record PageSample(double PromptTokensPerSecond, double DecodeTokensPerSecond, int PromptTokens, int GeneratedTokens);

/// <summary>
/// One engine in its own headless Chromium (a persistent profile, so storage survives pages): loads a
/// model in a page and generates; the renderer processes' peak RSS is read from /proc.
/// </summary>
internal sealed class PageEngine : IAsyncDisposable
{
    public static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ];

    private readonly IBrowserContext _context;
    private readonly string _profile;
    private IPage? _page;

    private PageEngine(string name, IBrowserContext context, string profile, string baseUrl)
    {
        Name = name;
        _context = context;
        _profile = profile;
        BaseUrl = baseUrl;
    }

    /// <summary>"TinyLM" or "wllama".</summary>
    public string Name { get; }

    public string BaseUrl { get; }

    public static async Task<PageEngine> Start(IPlaywright playwright, string name, string baseUrl, string profilesDir)
    {
        string profile = Path.Combine(profilesDir, $"{name}-{Environment.ProcessId}");
        if (Directory.Exists(profile))
            Directory.Delete(profile, true);
        Directory.CreateDirectory(profile);
        IBrowserContext context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ChromiumArgs,
        });
        return new PageEngine(name, context, profile, baseUrl);
    }

    /// <summary>
    /// Token ids wllama may not generate: the byte-fallback tokens (&lt;0x00&gt; … &lt;0xFF&gt;). A random-weight
    /// model picks them often, their bytes need not form UTF-8, and wllama 3.8.1 serializes each result with
    /// nlohmann::json's strict <c>dump()</c>, which throws on invalid UTF-8 — the worker then reads the glue
    /// header "GLUE" as the reply length (<c>Invalid typed array length: 1163217991</c>). Banning them costs
    /// a 256-entry logit bias per token; the work per token is otherwise unchanged.
    /// </summary>
    public IReadOnlyList<int> BannedTokens { get; set; } = [];

    // The page's recent console errors and warnings (wllama's native log among them), for error reports.
    private readonly Queue<string> _log = new();

    private void Log(string line)
    {
        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > 20)
                _log.Dequeue();
        }
    }

    private string RecentLog()
    {
        lock (_log)
            return string.Join("\n", _log);
    }

    /// <summary>
    /// Opens a fresh page and loads the model in it (replacing the previous page, whose engine is
    /// exited first). <paramref name="contextLength"/> is the context the runs need. wllama's server caps
    /// each slot at the model's training context and stops a generation that fills it (the caller keeps
    /// prompt + generated tokens within it; wllama 3.8.1's <c>kv_overrides</c> cannot lift it: it aborts
    /// in <c>common_model_params_to_llama</c>, the override list not being terminated).
    /// </summary>
    public async Task<JsonElement> Load(string modelUrl, int threads, int contextLength)
    {
        if (_page is not null)
        {
            try
            {
                await _page.EvaluateAsync("async () => { await window.__w?.exit(); await window.__lm?.unload?.(); }");
            }
            catch (PlaywrightException)
            {
            }
            await _page.CloseAsync();
        }
        _page = await _context.NewPageAsync();
        _page.SetDefaultTimeout(0);
        _page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
                Log($"[{Name} console.{m.Type}] {m.Text}");
        };
        _page.PageError += (_, e) => Log($"[{Name} page error] {e}");
        _page.Response += (_, r) =>
        {
            if (r.Status >= 400)
                Log($"[{Name}] HTTP {r.Status} {r.Url}");
        };
        await _page.GotoAsync(BaseUrl + "/bench.html");
        string script = Name == "TinyLM"
            ? """
              async ([model, threads, ctx]) => {
                const { TinyLM } = await import('/tinylm.js');
                const t0 = performance.now();
                const lm = await TinyLM.load(model, { budgetBytes: 4e9, threads, cache: 'none', contextLength: ctx });
                window.__lm = lm;
                return { loadMs: performance.now() - t0, isolated: crossOriginIsolated, quantization: lm.info.quantization, threads: lm.info.threads ?? null };
              }
              """
            : """
              async ([model, threads, ctx]) => {
                const { Wllama, LoggerWithoutDebug } = await import('/wllama/index.js');
                const w = new Wllama({ default: new URL('/wllama/wasm/wllama.wasm', location.href).href }, { logger: LoggerWithoutDebug });
                const t0 = performance.now();
                const response = await fetch(model);
                if (!response.ok) throw new Error(`GET ${model}: HTTP ${response.status}`);
                const blob = await response.blob();
                // One sequence (as TinyLM and llama-bench); no GPU in this browser.
                const params = { n_threads: threads, n_ctx: ctx, n_batch: 512, n_parallel: 1, n_gpu_layers: 0 };
                await w.loadModel([blob], params);
                window.__w = w;
                const info = w.getLoadedContextInfo();
                return { loadMs: performance.now() - t0, isolated: crossOriginIsolated, threads: w.getNumThreads(), multithread: w.isMultithread(), n_ctx: info.n_ctx, n_ctx_train: info.n_ctx_train };
              }
              """;
        try
        {
            return await _page.EvaluateAsync<JsonElement>(script, new object[] { BaseUrl + modelUrl, threads, contextLength });
        }
        catch (PlaywrightException e)
        {
            throw new InvalidOperationException($"{Name} failed to load {modelUrl}: {e.Message.Split('\n')[0]}\n{RecentLog()}", e);
        }
    }

    /// <summary>Greedy generation of <paramref name="gen"/> tokens after <paramref name="prompt"/>, end of text ignored.</summary>
    public async Task<PageSample> Generate(string prompt, int gen)
    {
        try
        {
            if (Name == "TinyLM")
            {
                JsonElement r = await _page!.EvaluateAsync<JsonElement>("""
                    async ([prompt, gen]) => {
                      const it = window.__lm.generate(prompt, { maxTokens: gen, temperature: 0, ignoreEos: true });
                      for (;;) { const x = await it.next(); if (x.done) return x.value; }
                    }
                    """, new object[] { prompt, gen });
                return new PageSample(r.GetProperty("promptTokensPerSecond").GetDouble(), r.GetProperty("tokensPerSecond").GetDouble(),
                    r.GetProperty("promptTokens").GetInt32(), r.GetProperty("completionTokens").GetInt32());
            }
            JsonElement t = await _page!.EvaluateAsync<JsonElement>("""
                async ([prompt, gen, banned]) => {
                  const logit_bias = {};
                  for (const id of banned) logit_bias[id] = false; // false: never (llama-server's ban)
                  const r = await window.__w.createCompletion({ prompt, max_tokens: gen, temperature: 0, ignore_eos: true, cache_prompt: false, stream: false, logit_bias });
                  return r.timings;
                }
                """, new object[] { prompt, gen, BannedTokens.ToArray() });
            return new PageSample(t.GetProperty("prompt_per_second").GetDouble(), t.GetProperty("predicted_per_second").GetDouble(),
                t.GetProperty("prompt_n").GetInt32(), t.GetProperty("predicted_n").GetInt32());
        }
        catch (PlaywrightException e)
        {
            throw new InvalidOperationException($"{Name} failed to generate: {e.Message.Split('\n')[0]}\n{RecentLog()}", e);
        }
    }

    /// <summary>
    /// TinyLM only: stores the model in the page's cache (IndexedDB), then opens a new page and measures
    /// from navigation start to the first generated token, the model read from the cache (the HTTP cache
    /// is warm too). Returns milliseconds and whether the model came from the cache.
    /// </summary>
    public async Task<(double Ms, bool FromCache)> ColdStart(string modelUrl, int threads, int contextLength)
    {
        if (_page is not null)
            await _page.CloseAsync();
        _page = null;
        IPage first = await _context.NewPageAsync();
        first.SetDefaultTimeout(0);
        await first.GotoAsync(BaseUrl + "/bench.html");
        const string load = """
            async ([model, threads, ctx]) => {
              const { TinyLM } = await import('/tinylm.js');
              const lm = await TinyLM.load(model, { budgetBytes: 4e9, threads, cache: 'indexeddb', contextLength: ctx });
              const fromCache = lm.info.fromCache;
              const it = lm.generate('Once upon a time', { maxTokens: 1, temperature: 0 });
              await it.next();
              const t = performance.now();
              for (;;) { const x = await it.next(); if (x.done) break; }
              await lm.unload();
              return { ms: t, fromCache };
            }
            """;
        object[] args = [BaseUrl + modelUrl, threads, contextLength];
        await first.EvaluateAsync<JsonElement>(load, args);
        await first.CloseAsync();
        IPage second = await _context.NewPageAsync();
        second.SetDefaultTimeout(0);
        await second.GotoAsync(BaseUrl + "/bench.html");
        JsonElement r = await second.EvaluateAsync<JsonElement>(load, args);
        await second.CloseAsync();
        return (r.GetProperty("ms").GetDouble(), r.GetProperty("fromCache").GetBoolean());
    }

    /// <summary>Largest peak RSS (VmHWM) among this browser's renderer processes, in bytes.</summary>
    public long RendererPeakBytes()
    {
        var parents = new Dictionary<int, int>();
        var cmdlines = new Dictionary<int, string>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid))
                continue;
            try
            {
                string cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                int ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                parents[pid] = ppid;
                cmdlines[pid] = cmd;
            }
            catch (Exception)
            {
            }
        }
        int root = cmdlines.FirstOrDefault(kv => kv.Value.Contains("--user-data-dir=" + _profile, StringComparison.Ordinal) && !kv.Value.Contains("--type=", StringComparison.Ordinal)).Key;
        if (root == 0)
            return 0;
        bool Descends(int pid)
        {
            for (int i = 0; i < 10 && parents.TryGetValue(pid, out int p); i++, pid = p)
                if (p == root)
                    return true;
            return false;
        }
        return cmdlines.Where(kv => kv.Value.Contains("--type=renderer", StringComparison.Ordinal) && Descends(kv.Key))
            .Select(kv => Native.PeakRss(kv.Key)).DefaultIfEmpty(0).Max();
    }

    /// <summary>The browser's version string.</summary>
    public string BrowserVersion => _context.Browser?.Version ?? "";

    public async ValueTask DisposeAsync()
    {
        await _context.CloseAsync();
        try
        {
            Directory.Delete(_profile, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Starts and stops <c>tinylm serve</c> (the product's server) on a folder prepared by the harness.</summary>
internal sealed class TinyLMServer : IDisposable
{
    private readonly Process _process;

    public TinyLMServer(string cliDll, string root, int port)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { cliDll, "serve", "--port", port.ToString(CultureInfo.InvariantCulture), "--root", root })
            psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, _) => { };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        Url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient();
        for (int i = 0; i < 300; i++)
        {
            try
            {
                if (http.GetAsync(Url + "/tinylm.js").Result.IsSuccessStatusCode)
                    return;
            }
            catch (AggregateException)
            {
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException("tinylm serve did not start");
    }

    public string Url { get; }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
        _process.Dispose();
    }
}
