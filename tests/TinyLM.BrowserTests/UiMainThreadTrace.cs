using System.Text.Json;
using Microsoft.Playwright;

namespace TinyLM.BrowserTests;

/// <summary>
/// A Chromium trace (CDP <c>Tracing</c>, categories <c>toplevel</c> and <c>blink.user_timing</c>) of a
/// page's main thread: each task's wall time (<c>dur</c>) and the CPU time the thread spent in it
/// (<c>tdur</c>). A long task that the page's PerformanceObserver reports can thereby be told apart:
/// work of the page (CPU time over the limit), or a thread that waited for a CPU on a loaded machine
/// (wall time over the limit, CPU time far below it).
/// </summary>
public sealed class UiMainThreadTrace
{
    private const string ClockMark = "tinylm-ui-trace-clock";
    private readonly ICDPSession _cdp;
    private readonly List<JsonElement> _events = [];
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private double _markStartMs;

    private UiMainThreadTrace(ICDPSession cdp)
    {
        _cdp = cdp;
    }

    /// <summary>One main-thread task: start and wall duration in the page's clock (performance.now()), CPU time.</summary>
    public readonly record struct MainThreadTask(double StartMs, double DurationMs, double CpuMs);

    /// <summary>Starts tracing <paramref name="page"/> and places a clock mark to map trace time to performance.now().</summary>
    public static async Task<UiMainThreadTrace> StartAsync(IBrowserContext context, IPage page)
    {
        ICDPSession cdp = await context.NewCDPSessionAsync(page);
        var trace = new UiMainThreadTrace(cdp);
        cdp.Event("Tracing.dataCollected").OnEvent += (_, e) =>
        {
            if (e is not JsonElement data)
                return;
            lock (trace._events)
            {
                foreach (JsonElement v in data.GetProperty("value").EnumerateArray())
                    trace._events.Add(v.Clone());
            }
        };
        cdp.Event("Tracing.tracingComplete").OnEvent += (_, e) =>
        {
            if (e is JsonElement done && done.TryGetProperty("dataLossOccurred", out JsonElement loss) && loss.GetBoolean())
                trace._complete.TrySetException(new InvalidOperationException("The trace buffer overflowed: events were lost."));
            else
                trace._complete.TrySetResult();
        };
        await cdp.SendAsync("Tracing.start", new()
        {
            ["transferMode"] = "ReportEvents",
            ["traceConfig"] = new Dictionary<string, object>
            {
                ["recordMode"] = "recordAsMuchAsPossible",
                ["traceBufferSizeInKb"] = 256 * 1024,
                ["includedCategories"] = new[] { "toplevel", "blink.user_timing" },
            },
        });
        trace._markStartMs = await page.EvaluateAsync<double>($"() => performance.mark('{ClockMark}').startTime");
        return trace;
    }

    /// <summary>Ends tracing and returns the main thread's tasks longer than <paramref name="minimumMs"/> (wall time).</summary>
    public async Task<MainThreadTask[]> StopAsync(double minimumMs)
    {
        await _cdp.SendAsync("Tracing.end");
        await _complete.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await _cdp.DetachAsync();
        JsonElement[] events;
        lock (_events)
            events = [.. _events];
        JsonElement mark = events.First(e => e.GetProperty("name").GetString() == ClockMark);
        long pid = mark.GetProperty("pid").GetInt64(), tid = mark.GetProperty("tid").GetInt64();
        double offsetUs = mark.GetProperty("ts").GetDouble() - _markStartMs * 1000;
        return [.. events
            .Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("name").GetString() == "ThreadControllerImpl::RunTask"
                && e.GetProperty("pid").GetInt64() == pid && e.GetProperty("tid").GetInt64() == tid
                && e.TryGetProperty("dur", out JsonElement d) && d.GetDouble() >= minimumMs * 1000)
            .Select(e => new MainThreadTask(
                (e.GetProperty("ts").GetDouble() - offsetUs) / 1000,
                e.GetProperty("dur").GetDouble() / 1000,
                e.TryGetProperty("tdur", out JsonElement t) ? t.GetDouble() / 1000 : double.NaN))];
    }
}
