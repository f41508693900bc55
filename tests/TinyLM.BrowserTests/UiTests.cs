using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TinyLM.BrowserTests;

/// <summary>The demo page (index.html, app.js) and its offline app shell (sw.js) in a real Chromium.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class UiTests(BrowserFixture fx, ITestOutputHelper output)
{
    private const string Prompt = "Once upon a time";

    /// <summary>Records every long task (over 50 ms on the main thread) from the page's first script on.</summary>
    private const string LongTaskObserver = @"
        window.__longTasks = [];
        new PerformanceObserver(list => {
            for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration, name: e.name });
        }).observe({ type: 'longtask', buffered: true });";

    /// <summary>
    /// The default model loads through the page and greedy generation shows exactly the native
    /// engine's text, with statistics and the model info panel. Meanwhile no main-thread task may
    /// exceed 50 ms (see <see cref="AssertNoMainThreadTaskOver50msAsync"/>).
    /// </summary>
    [BrowserFact]
    public async Task Ui_LoadDefaultAndGenerateGreedy_ShowsTheNativeText_NoMainThreadTaskOver50ms()
    {
        UiDriver ui = await UiDriver.OpenAsync(fx.Browser, fx.BaseUrl, output.WriteLine, initScript: LongTaskObserver);
        try
        {
            UiMainThreadTrace trace = await UiMainThreadTrace.StartAsync(ui.Context, ui.Page);
            double start = await ui.Page.EvaluateAsync<double>("() => performance.now()");
            await ui.LoadDefaultAsync();
            Assert.Equal("download verify parse ready", await ui.ById("load-status").GetAttributeAsync("data-stages"));
            Assert.Equal("ready", await ui.ById("load-status").GetAttributeAsync("data-stage"));

            await ui.SetSamplingAsync(64, temperature: 0);
            string text = await ui.GenerateAsync(Prompt);
            double end = await ui.Page.EvaluateAsync<double>("() => performance.now()");

            Assert.Equal(UiDriver.NativeGreedy(Prompt, 64), text);
            Assert.Equal("MaxTokens", await ui.ById("stat-state").GetAttributeAsync("data-stop-reason"));
            Assert.Equal("64", await ui.ById("stat-tokens").TextContentAsync());
            Assert.Matches(@"^\d+(\.\d)? ms$", await ui.ById("stat-ttft").TextContentAsync());
            Assert.Matches(@"^\d+\.\d tokens/s$", await ui.ById("stat-tps").TextContentAsync());

            // The model info panel shows lm.info.
            Dictionary<string, string> info = await ui.Page.EvaluateAsync<Dictionary<string, string>>(
                "() => Object.fromEntries([...document.querySelectorAll('#info dd[data-field]')].map(d => [d.dataset.field, d.textContent]))");
            Assert.Equal("llama", info["architecture"]);
            Assert.Equal("260,032", info["parameters"]);
            Assert.Equal("F32", info["quantization"]);
            Assert.Equal("512 tokens", info["contextLength"]);
            Assert.Matches("^[0-9a-f]{64}$", info["sha256"]);
            Assert.Contains($"({new FileInfo(UiDriver.DefaultModelPath).Length.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes)", info["bytes"]);
            Assert.Matches(@"KV cache", await ui.ById("stat-model-memory").TextContentAsync() ?? "");
            Assert.Empty(await ui.ErrorsAsync());

            await AssertNoMainThreadTaskOver50msAsync(ui, trace, start, end);
        }
        finally
        {
            await ui.Context.CloseAsync();
        }
        Assert.Empty(ui.ForeignRequests());
    }

    /// <summary>
    /// The PerformanceObserver's long tasks that start between <paramref name="start"/> and
    /// <paramref name="end"/> (performance.now(), taken after the trace started): none may hold the main thread for over 50 ms. On a loaded machine a task
    /// can take over 50 ms of wall time while the thread waits for a CPU; the trace of the main thread
    /// tells those apart: each reported long task must have used at most 50 ms of CPU time, and no
    /// task in the trace may exceed that either.
    /// </summary>
    private async Task AssertNoMainThreadTaskOver50msAsync(UiDriver ui, UiMainThreadTrace trace, double start, double end)
    {
        const double limitMs = 50;
        UiMainThreadTrace.MainThreadTask[] traced = await trace.StopAsync(minimumMs: 10);
        JsonElement entries = await ui.Page.EvaluateAsync<JsonElement>("() => window.__longTasks");
        var longTasks = entries.EnumerateArray()
            .Select(t => (Start: t.GetProperty("start").GetDouble(), Duration: t.GetProperty("duration").GetDouble()))
            .Where(t => t.Start >= start && t.Start <= end).ToArray();
        output.WriteLine($"{longTasks.Length} long task(s) in {end - start:0} ms of loading and generating; traced tasks over 10 ms:");
        foreach (UiMainThreadTrace.MainThreadTask t in traced)
            output.WriteLine($"  at {t.StartMs:0} ms: {t.DurationMs:0.0} ms wall, {t.CpuMs:0.0} ms CPU");
        foreach ((double s, double d) in longTasks)
        {
            // The traced task that overlaps the reported one most (the two clocks agree to about 1 ms).
            UiMainThreadTrace.MainThreadTask? match = traced
                .Select(t => (Task: t, Overlap: Math.Min(t.StartMs + t.DurationMs, s + d + 5) - Math.Max(t.StartMs, s - 5)))
                .Where(x => x.Overlap > 0).OrderByDescending(x => x.Overlap).Select(x => (UiMainThreadTrace.MainThreadTask?)x.Task).FirstOrDefault();
            Assert.True(match is not null, $"The long task at {s:0} ms ({d:0} ms) is not in the trace.");
            Assert.True(match.Value.CpuMs <= limitMs,
                $"The long task at {s:0} ms held the main thread for {d:0} ms, {match.Value.CpuMs:0.0} ms of it on a CPU (over {limitMs} ms).");
        }
        UiMainThreadTrace.MainThreadTask[] busy = [.. traced.Where(t => t.StartMs >= start && t.StartMs <= end && !(t.CpuMs <= limitMs))];
        Assert.True(busy.Length == 0, $"{busy.Length} main-thread task(s) used over {limitMs} ms of CPU time.");
    }

    [BrowserFact]
    public async Task Ui_Stop_EndsTheGenerationPromptly_AndTheNextOneWorks()
    {
        UiDriver ui = await UiDriver.OpenAsync(fx.Browser, fx.BaseUrl, output.WriteLine);
        try
        {
            await ui.ById("context-length").FillAsync("4096");
            await ui.LoadDefaultAsync();
            await ui.SetSamplingAsync(-1, ignoreEos: true);
            await ui.StartGenerationAsync(Prompt);
            await ui.Page.WaitForFunctionAsync("() => Number(document.getElementById('stat-tokens').textContent.replace(/[^0-9]/g, '')) >= 20",
                null, new() { Timeout = 30_000, PollingInterval = 10 });
            Assert.Equal("generating", await ui.StateAsync());

            await ui.Page.Locator("#badge-offline[data-ok='true']").WaitForAsync(new() { Timeout = 30_000 });
            Directory.CreateDirectory(BrowserFixture.ArtifactsFolder);
            await ui.Page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ArtifactsFolder, "demo-mid-generation.png"), FullPage = true });

            var clock = Stopwatch.StartNew();
            await ui.ById("stop").ClickAsync();
            await ui.WaitForStateAsync("ready");
            TimeSpan stopTime = clock.Elapsed;
            string stopped = await ui.GeneratedTextAsync();
            Assert.Equal("cancelled", await ui.ById("stat-state").GetAttributeAsync("data-state"));
            Assert.Equal("Cancelled", await ui.ById("stat-state").GetAttributeAsync("data-stop-reason"));
            Assert.Contains("cancelled", await ui.ById("stat-state").TextContentAsync());
            Assert.True(stopTime < TimeSpan.FromSeconds(2), $"Stop took {stopTime.TotalMilliseconds:0} ms.");
            await Task.Delay(500);
            Assert.Equal(stopped, await ui.GeneratedTextAsync());
            Assert.Empty(await ui.ErrorsAsync());
            output.WriteLine($"stopped after {await ui.ById("stat-tokens").TextContentAsync()} tokens in {stopTime.TotalMilliseconds:0} ms");

            await ui.SetSamplingAsync(32, temperature: 0);
            Assert.Equal(UiDriver.NativeGreedy(Prompt, 32), await ui.GenerateAsync(Prompt));
            Assert.Equal("MaxTokens", await ui.ById("stat-state").GetAttributeAsync("data-stop-reason"));
        }
        finally
        {
            await ui.Context.CloseAsync();
        }
        Assert.Empty(ui.ForeignRequests());
    }

    [BrowserFact]
    public async Task Ui_Errors_AreShownReadably_AndThePageStaysUsable()
    {
        UiDriver ui = await UiDriver.OpenAsync(fx.Browser, fx.BaseUrl, output.WriteLine, serviceWorker: false);
        try
        {
            byte[] model = await File.ReadAllBytesAsync(UiDriver.DefaultModelPath);

            // A truncated GGUF through the file picker: a format error.
            await ui.ById("model-file").SetInputFilesAsync(new FilePayload { Name = "half.gguf", MimeType = "application/octet-stream", Buffer = model[..(model.Length / 2)] });
            string format = await ui.WaitForErrorAsync("format");
            output.WriteLine($"format: {format}");
            Assert.False(string.IsNullOrWhiteSpace(format));
            await ui.WaitForStateAsync("empty");
            Assert.True(await ui.ById("load-default").IsEnabledAsync());
            Assert.Equal("failed", await ui.ById("load-status").GetAttributeAsync("data-stage"));
            await ui.DismissErrorsAsync();
            Assert.Empty(await ui.ErrorsAsync());

            // The default model still loads and generates.
            await ui.LoadDefaultAsync();
            await ui.SetSamplingAsync(16, temperature: 0);
            string greedy16 = UiDriver.NativeGreedy(Prompt, 16);
            Assert.Equal(greedy16, await ui.GenerateAsync(Prompt));

            // A budget below the model's size: a budget error naming both sizes; the loaded model stays.
            const int budget = 100_000;
            await ui.ById("budget").FillAsync(budget.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await ui.ById("load-default").ClickAsync();
            string over = await ui.WaitForErrorAsync("budget");
            output.WriteLine($"budget: {over}");
            string digits = DigitGroups().Replace(over, "$1");
            Assert.Contains(model.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), digits);
            Assert.Contains(budget.ToString(System.Globalization.CultureInfo.InvariantCulture), digits);
            await ui.WaitForStateAsync("ready");
            Assert.Equal(greedy16, await ui.GenerateAsync(Prompt));

            // An invalid setting: a readable message, nothing breaks.
            await ui.ById("max-tokens").FillAsync("0");
            await ui.ById("generate").ClickAsync();
            Assert.Contains("Max tokens", await ui.WaitForErrorAsync("argument"));
            Assert.Equal("ready", await ui.StateAsync());

            // Another model, by drag and drop, with the budget restored.
            await ui.DismissErrorsAsync();
            await ui.ById("budget").FillAsync("33554432");
            await ui.DropFileAsync("dropped.gguf", model);
            Assert.Equal("loading", await ui.StateAsync());
            await ui.WaitForStateAsync("ready");
            Assert.Equal("dropped.gguf", await ui.Page.Locator("#info dd[data-field='source']").TextContentAsync());
            await ui.SetSamplingAsync(16, temperature: 0);
            Assert.Equal(greedy16, await ui.GenerateAsync(Prompt));
            Assert.Empty(await ui.ErrorsAsync());
        }
        finally
        {
            await ui.Context.CloseAsync();
        }
        Assert.Empty(ui.ForeignRequests());
    }

    /// <summary>
    /// The offline app shell, in a persistent profile. Online, the service worker installs and takes
    /// control, and a new version of the page still reaches the browser on reload (network first).
    /// Then, with the network off and the server stopped, the reloaded page (the new version) stays
    /// cross-origin isolated, loads the default model and generates. Every request of the context
    /// (page, TinyLM worker, service worker) goes to the page's origin.
    /// </summary>
    [BrowserFact]
    public async Task Ui_Offline_ReloadedPageLoadsTheModelAndGenerates_AllRequestsOnTheOrigin()
    {
        await using UiServer server = await UiServer.StartAsync();
        string profile = Path.Combine(Path.GetTempPath(), $"tinylm-ui-profile-{Guid.NewGuid():N}");
        IBrowserContext? context = null;
        try
        {
            context = await fx.Playwright.Chromium.LaunchPersistentContextAsync(profile, new()
            {
                ExecutablePath = BrowserFixture.ChromiumPath,
                Headless = true,
                Args = BrowserFixture.ChromiumArgs,
                ViewportSize = new() { Width = 1280, Height = 900 },
            });
            IPage page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
            var ui = new UiDriver(context, page, server.BaseUrl) { Log = output.WriteLine };

            // Online: the service worker installs (precaching the shell) and takes control; the model loads.
            await ui.GotoAsync();
            await page.Locator("#badge-offline[data-ok='true']").WaitForAsync(new() { Timeout = 30_000 });
            await page.WaitForFunctionAsync("() => navigator.serviceWorker.controller !== null", null, new() { Timeout = 30_000 });
            await ui.LoadDefaultAsync();
            var online = ui.Requests;
            Assert.Contains(online, r => r.By == "service-worker" && r.Url.Contains("/_framework/dotnet.native.", StringComparison.Ordinal));
            Assert.Contains(online, r => r.By == "page" && r.Url.EndsWith("/tinylm-worker.js", StringComparison.Ordinal));
            Assert.Contains(online, r => r.By == "page" && r.Url.EndsWith("/models/stories260K.gguf", StringComparison.Ordinal));

            // A new version of the page, online: the service worker does not hold the old one back.
            const string marker = "<meta name=\"tinylm-test-version\" content=\"2\">";
            server.WriteText("index.html", server.ReadText("index.html").Replace("<title>", marker + "<title>", StringComparison.Ordinal));
            await page.ReloadAsync();
            await ui.WaitForAppAsync();
            Assert.Equal(1, await page.Locator("meta[name='tinylm-test-version']").CountAsync());

            // Offline, with the server gone too: the reloaded page (the new version) works from the caches.
            server.Stop();
            await context.SetOfflineAsync(true);
            await page.ReloadAsync();
            await ui.WaitForAppAsync();
            Assert.Equal(1, await page.Locator("meta[name='tinylm-test-version']").CountAsync());
            Assert.True(await page.EvaluateAsync<bool>("() => crossOriginIsolated"), "The page served offline must stay cross-origin isolated.");
            Assert.Equal("Offline", await ui.ById("badge-network").TextContentAsync());
            await ui.LoadDefaultAsync();
            await ui.SetSamplingAsync(32, temperature: 0);
            Assert.Equal(UiDriver.NativeGreedy(Prompt, 32), await ui.GenerateAsync(Prompt));
            Assert.Empty(await ui.ErrorsAsync());
            foreach (var r in ui.Requests.DistinctBy(r => (r.Url, r.By)))
                output.WriteLine($"{r.By} {r.Type} {r.Url}");
            Assert.Empty(ui.ForeignRequests());
        }
        finally
        {
            if (context is not null)
                await context.CloseAsync();
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Digit group separators ("1,056,768", "1 056 768") to drop before looking for a number.</summary>
    [GeneratedRegex(@"(\d)[,\u00a0\u202f ](?=\d{3})")]
    private static partial Regex DigitGroups();
}
