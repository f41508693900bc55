using System.Diagnostics;

namespace TinyLM.BrowserTests;

/// <summary>
/// A <c>tinylm serve</c> of its own, on a fixed port, over a private copy of the browser app: a test
/// can change files (a new version of the app) and stop the server (offline) without touching the
/// shared fixture.
/// </summary>
public sealed class UiServer : IAsyncDisposable
{
    private Process? _process;

    private UiServer(string root, int port)
    {
        Root = root;
        Port = port;
    }

    /// <summary>The served copy of the app.</summary>
    public string Root { get; }
    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";

    public static async Task<UiServer> StartAsync()
    {
        string root = Path.Combine(Path.GetTempPath(), $"tinylm-ui-app-{Guid.NewGuid():N}");
        foreach (string file in Directory.EnumerateFiles(BrowserFixture.AppFolder, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(root, Path.GetRelativePath(BrowserFixture.AppFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        var server = new UiServer(root, BrowserFixture.FreePort());
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { BrowserFixture.CliDll, "serve", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--root", root })
            psi.ArgumentList.Add(a);
        server._process = Process.Start(psi)!;
        server._process.BeginErrorReadLine();
        server._process.BeginOutputReadLine();
        await BrowserFixture.WaitForServer(server.BaseUrl + "/tinylm.js");
        return server;
    }

    /// <summary>Replaces a served file (and drops its precompressed copies, which would win otherwise).</summary>
    public void WriteText(string relativePath, string text)
    {
        string path = Path.Combine(Root, relativePath);
        File.Delete(path + ".br");
        File.Delete(path + ".gz");
        File.WriteAllText(path, text);
    }

    public string ReadText(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    /// <summary>Stops the server: its origin is then unreachable.</summary>
    public void Stop() => BrowserFixture.StopServer(_process);

    public ValueTask DisposeAsync()
    {
        Stop();
        _process?.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        return ValueTask.CompletedTask;
    }
}
