using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TinyLM.Tests.Cli;

/// <summary><c>tinylm serve</c> as a real process: headers, MIME types, compression, binding.</summary>
public sealed class ServeTests : IAsyncLifetime
{
    private Process? _server;
    private readonly HttpClient _http = new(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None });
    private int _port;

    private static string Configuration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";

    /// <summary>The browser app the CLI build publishes next to the CLI.</summary>
    private static string AppFolder => Path.Combine(TestPaths.Root, "src", "TinyLM.Cli", "bin", Configuration, "net10.0", "browser", "wwwroot");

    private string Url(string path) => $"http://127.0.0.1:{_port}{path}";

    public async Task InitializeAsync()
    {
        using (var l = new TcpListener(IPAddress.Loopback, 0))
        {
            l.Start();
            _port = ((IPEndPoint)l.LocalEndpoint).Port;
        }
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "TinyLM.Cli.dll"), "serve", "--port", _port.ToString(), "--root", AppFolder })
            psi.ArgumentList.Add(a);
        _server = Process.Start(psi)!;
        _server.BeginErrorReadLine();
        _server.BeginOutputReadLine();
        for (int i = 0; i < 200; i++)
        {
            try
            {
                if ((await _http.GetAsync(Url("/tinylm.js"))).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("tinylm serve did not start");
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            _server.WaitForExit(10_000);
        }
        _http.Dispose();
        return Task.CompletedTask;
    }

    private async Task<HttpResponseMessage> Get(string path, string? acceptEncoding = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, Url(path));
        if (acceptEncoding is not null)
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task EveryResponse_CarriesCrossOriginIsolationHeaders()
    {
        foreach (string path in new[] { "/", "/tinylm.js", "/models/stories260K.gguf", "/does-not-exist" })
        {
            HttpResponseMessage r = await Get(path);
            Assert.Equal("same-origin", r.Headers.GetValues("Cross-Origin-Opener-Policy").Single());
            Assert.Equal("require-corp", r.Headers.GetValues("Cross-Origin-Embedder-Policy").Single());
        }
    }

    [Fact]
    public async Task MimeTypes_AreCorrect()
    {
        string wasm = Directory.GetFiles(Path.Combine(AppFolder, "_framework"), "dotnet.native.*.wasm").Select(Path.GetFileName).Single()!;
        Assert.Equal("application/wasm", (await Get("/_framework/" + wasm)).Content.Headers.ContentType!.MediaType);
        Assert.Equal("text/javascript", (await Get("/tinylm.js")).Content.Headers.ContentType!.MediaType);
        Assert.Equal("text/html", (await Get("/")).Content.Headers.ContentType!.MediaType);
        Assert.Equal("application/octet-stream", (await Get("/models/stories260K.gguf")).Content.Headers.ContentType!.MediaType);
        Assert.Equal(File.ReadAllBytes(TestPaths.DefaultModel), await (await Get("/models/stories260K.gguf")).Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Get("/does-not-exist")).StatusCode);
    }

    [Fact]
    public async Task Compression_UsesPrecompressedBrotliForTheRuntime()
    {
        string wasm = Directory.GetFiles(Path.Combine(AppFolder, "_framework"), "dotnet.native.*.wasm").Select(Path.GetFileName).Single()!;
        HttpResponseMessage br = await Get("/_framework/" + wasm, "gzip, br");
        Assert.Equal("br", br.Content.Headers.ContentEncoding.Single());
        byte[] body = await br.Content.ReadAsByteArrayAsync();
        Assert.Equal(new FileInfo(Path.Combine(AppFolder, "_framework", wasm + ".br")).Length, body.Length);
        Assert.Contains("immutable", br.Headers.CacheControl!.ToString());
        HttpResponseMessage plain = await Get("/_framework/" + wasm);
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        Assert.Equal(new FileInfo(Path.Combine(AppFolder, "_framework", wasm)).Length, (await plain.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task BindsToLoopbackOnly()
    {
        string? other = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))?.ToString();
        if (other is null)
            return; // no other interface to try on this machine
        using var tcp = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => tcp.ConnectAsync(other, _port));
    }

    [Fact]
    public void MissingApp_OneLineError()
    {
        var (code, _, stderr) = CliRunner.Run("serve", "--root", Path.GetTempPath(), "--port", "0");
        Assert.Equal(1, code);
        Assert.Contains("tinylm.js missing", stderr);
    }
}
