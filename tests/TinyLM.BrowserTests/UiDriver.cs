using System.Text;
using Microsoft.Playwright;
using TinyLM.Generation;
using TinyLM.Models;

namespace TinyLM.BrowserTests;

/// <summary>
/// Drives the demo page (index.html, app.js) through its stable <c>data-testid</c> attributes, and
/// logs every request of its browser context (page, TinyLM worker, service worker).
/// </summary>
public sealed class UiDriver
{
    public const string DefaultModelFile = "stories260K.gguf";
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly List<(string Url, string By, string Type)> _requests = [];

    public UiDriver(IBrowserContext context, IPage page, string baseUrl)
    {
        Context = context;
        Page = page;
        BaseUrl = baseUrl;
        Context.Request += (_, r) =>
        {
            string by;
            try
            {
                _ = r.Frame;
                by = "page"; // the page or its dedicated workers
            }
            catch (PlaywrightException)
            {
                by = "service-worker"; // service worker requests have no frame
            }
            lock (_requests)
                _requests.Add((r.Url, by, r.ResourceType));
        };
    }

    /// <summary>Receives one line per step with its duration.</summary>
    public Action<string>? Log { get; set; }

    private async Task Timed(string step, Func<Task> body)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await body();
        Log?.Invoke($"{step}: {clock.ElapsedMilliseconds} ms");
    }

    public IBrowserContext Context { get; }
    public IPage Page { get; }
    public string BaseUrl { get; }

    /// <summary>Requests so far of the context (page, dedicated and service workers): URL, who asked ("page": the page or its dedicated workers; "service-worker"), resource type.</summary>
    public IReadOnlyList<(string Url, string By, string Type)> Requests
    {
        get
        {
            lock (_requests)
                return [.. _requests];
        }
    }

    public static string DefaultModelPath => Path.Combine(BrowserFixture.Root, "models", DefaultModelFile);

    /// <summary>
    /// Opens a fresh context on the demo page; <paramref name="log"/> receives step timings; <paramref name="initScript"/> runs before the page's own
    /// scripts; without <paramref name="serviceWorker"/> the offline app shell is not installed (less
    /// work for tests that do not need it).
    /// </summary>
    public static async Task<UiDriver> OpenAsync(IBrowser browser, string baseUrl, Action<string>? log, string? initScript = null, bool serviceWorker = true)
    {
        IBrowserContext context = await browser.NewContextAsync(new()
        {
            ViewportSize = new() { Width = 1280, Height = 900 },
            ServiceWorkers = serviceWorker ? ServiceWorkerPolicy.Allow : ServiceWorkerPolicy.Block,
        });
        if (initScript is not null)
            await context.AddInitScriptAsync(initScript);
        IPage page = await context.NewPageAsync();
        var ui = new UiDriver(context, page, baseUrl) { Log = log };
        await ui.GotoAsync();
        return ui;
    }

    /// <summary>Navigates to the page and waits until app.js has wired it.</summary>
    public Task GotoAsync() => Timed("open the page", async () =>
    {
        await Page.GotoAsync(BaseUrl + "/");
        await WaitForAppAsync();
    });

    public Task WaitForAppAsync() => Page.WaitForSelectorAsync("html[data-app='ready']", new() { Timeout = (float)s_wait.TotalMilliseconds });

    public ILocator ById(string testId) => Page.GetByTestId(testId);

    public Task<string> StateAsync() => Page.EvaluateAsync<string>("() => document.body.dataset.state");

    public Task WaitForStateAsync(string state) =>
        Page.WaitForFunctionAsync("s => document.body.dataset.state === s", state, new() { Timeout = (float)s_wait.TotalMilliseconds, PollingInterval = 25 });

    /// <summary>Presses "Load stories260K" and waits for the model to be ready.</summary>
    public Task LoadDefaultAsync() => Timed("load the default model", async () =>
    {
        await ById("load-default").ClickAsync();
        await WaitForStateAsync("ready");
    });

    public async Task SetSamplingAsync(int maxTokens, double? temperature = null, bool ignoreEos = false)
    {
        await ById("max-tokens").FillAsync(maxTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (temperature is double t)
            await ById("temperature").FillAsync(t.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await ById("ignore-eos").SetCheckedAsync(ignoreEos);
    }

    /// <summary>Presses Generate (without waiting for the end).</summary>
    public async Task StartGenerationAsync(string prompt)
    {
        await ById("prompt").FillAsync(prompt);
        await ById("generate").ClickAsync();
        await Page.WaitForFunctionAsync("() => document.body.dataset.state === 'generating' || document.getElementById('stat-state').dataset.state !== 'idle'",
            null, new() { Timeout = (float)s_wait.TotalMilliseconds, PollingInterval = 10 });
    }

    /// <summary>Generates with the current settings and returns the streamed text shown on the page.</summary>
    public async Task<string> GenerateAsync(string prompt)
    {
        await Timed("generate", async () =>
        {
            await StartGenerationAsync(prompt);
            await WaitForStateAsync("ready");
        });
        return await GeneratedTextAsync();
    }

    public Task<string> GeneratedTextAsync() => Page.EvaluateAsync<string>("() => document.querySelector('[data-testid=generated]')?.textContent ?? ''");

    public Task<int> LiveTokenCountAsync() => Page.EvaluateAsync<int>("() => Number(document.getElementById('stat-tokens').textContent.replace(/[^0-9]/g, '')) || 0");

    /// <summary>The visible error messages as (code, text).</summary>
    public async Task<(string Code, string Text)[]> ErrorsAsync()
    {
        var errors = await Page.EvaluateAsync<string[][]>(
            "() => [...document.querySelectorAll('#errors .error')].map(e => [e.dataset.code, e.textContent])");
        return [.. errors.Select(e => (e[0], e[1]))];
    }

    /// <summary>Waits for an error message with <paramref name="code"/> and returns its text.</summary>
    public async Task<string> WaitForErrorAsync(string code)
    {
        ILocator error = Page.Locator($"#errors .error[data-code='{code}']");
        await error.WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = (float)s_wait.TotalMilliseconds });
        return await error.Locator(".error-text").TextContentAsync() ?? "";
    }

    /// <summary>Dismisses every visible message.</summary>
    public async Task DismissErrorsAsync()
    {
        ILocator buttons = Page.Locator("#errors .error-dismiss");
        while (await buttons.CountAsync() > 0)
            await buttons.First.ClickAsync();
    }

    /// <summary>Drops <paramref name="bytes"/> as a file named <paramref name="name"/> on the drop zone.</summary>
    public async Task DropFileAsync(string name, byte[] bytes)
    {
        IJSHandle transfer = await Page.EvaluateHandleAsync(@"([name, base64]) => {
            const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
            return dt;
        }", new object[] { name, Convert.ToBase64String(bytes) });
        var args = new Dictionary<string, object> { ["dataTransfer"] = transfer };
        await ById("drop-zone").DispatchEventAsync("dragenter", args);
        await ById("drop-zone").DispatchEventAsync("dragover", args);
        await ById("drop-zone").DispatchEventAsync("drop", args);
    }

    /// <summary>Requests that left the page's origin.</summary>
    public string[] ForeignRequests()
    {
        string origin = new Uri(BaseUrl).GetLeftPart(UriPartial.Authority);
        return [.. Requests.Select(r => r.Url).Where(u => !u.StartsWith(origin + "/", StringComparison.Ordinal) && u != origin)];
    }

    /// <summary>The native engine's greedy text for <paramref name="prompt"/> (what the page must show at temperature 0).</summary>
    public static string NativeGreedy(string prompt, int tokens)
    {
        using Model m = Model.Load(DefaultModelPath);
        using InferenceSession s = m.CreateSession();
        using TextGeneration g = s.StartGeneration(prompt, new GenerationOptions { MaxTokens = tokens, Temperature = 0 });
        var text = new StringBuilder();
        for (string? piece; (piece = g.Step()) is not null;)
            text.Append(piece);
        return text.ToString();
    }
}
