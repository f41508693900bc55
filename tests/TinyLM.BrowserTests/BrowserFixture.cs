using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Playwright;

namespace TinyLM.BrowserTests;

/// <summary>
/// One real <c>tinylm serve</c> process and one Chromium for the whole test collection. Tests open
/// fresh contexts (or persistent ones, for cache tests) against <see cref="BaseUrl"/>.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string RequireVariable = "TINYLM_REQUIRE_BROWSER";
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Chromium flags for this machine's closed network (see the env notes).</summary>
    public static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ];

    private Process? _server;

    public static string? SkipReason => File.Exists(ChromiumPath) || Environment.GetEnvironmentVariable(RequireVariable) == "1"
        ? null
        : $"Chromium not installed at {ChromiumPath} (apt-get install chromium; set {RequireVariable}=1 to fail instead of skipping)";

    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public int Port { get; private set; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public static string Root { get; } = FindRoot();
    public static string CliDll => Path.Combine(Root, "src", "TinyLM.Cli", "bin", Configuration, "net10.0", "TinyLM.Cli.dll");
    public static string AppFolder => Path.Combine(Root, "src", "TinyLM.Cli", "bin", Configuration, "net10.0", "browser", "wwwroot");
    public static string ArtifactsFolder => Path.Combine(Root, "artifacts", "browser-tests");

    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    public async Task InitializeAsync()
    {
        if (SkipReason is not null)
            return;
        Port = FreePort();
        _server = StartServer(Port);
        await WaitForServer(BaseUrl + "/tinylm.js");
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.DisposeAsync();
        Playwright?.Dispose();
        StopServer(_server);
    }

    /// <summary>Starts <c>tinylm serve</c> on <paramref name="port"/>.</summary>
    public static Process StartServer(int port)
    {
        if (!File.Exists(CliDll) || !File.Exists(Path.Combine(AppFolder, "tinylm.js")))
            throw new InvalidOperationException($"Build the CLI first ({CliDll}, {AppFolder}).");
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { CliDll, "serve", "--port", port.ToString(), "--root", AppFolder })
            psi.ArgumentList.Add(a);
        Process p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.OutputDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        return p;
    }

    public static void StopServer(Process? server)
    {
        if (server is null || server.HasExited)
            return;
        server.Kill(entireProcessTree: true);
        server.WaitForExit(10_000);
    }

    public static async Task WaitForServer(string url)
    {
        using var http = new HttpClient();
        for (int i = 0; i < 200; i++)
        {
            try
            {
                if ((await http.GetAsync(url)).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("tinylm serve did not start: " + url);
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "TinyLM.slnx")))
                return dir;
        throw new InvalidOperationException("Cannot find the repository root (TinyLM.slnx).");
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>A fact that needs Chromium (see <see cref="BrowserFixture.SkipReason"/>).</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (BrowserFixture.SkipReason is { } reason)
            Skip = reason;
        Timeout = 180_000;
    }
}

/// <summary>A theory that needs Chromium and the built app (see <see cref="BrowserFactAttribute"/>).</summary>
public sealed class BrowserTheoryAttribute : TheoryAttribute
{
    public BrowserTheoryAttribute()
    {
        if (BrowserFixture.SkipReason is { } reason)
            Skip = reason;
        Timeout = 180_000;
    }
}
