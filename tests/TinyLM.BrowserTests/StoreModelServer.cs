using System.Net;

namespace TinyLM.BrowserTests;

/// <summary>
/// A second origin (another port) serving the default model with CORS, for what <c>tinylm serve</c>
/// and Playwright routes cannot do: <c>/chunked/…</c> sends no Content-Length (chunked), <c>/slow/…</c>
/// sends 64 KiB every 500 ms, <c>/cut/…</c> announces the whole length, sends a third and resets the
/// connection. Counts the requests per path.
/// </summary>
public sealed class StoreModelServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly byte[] _model;
    private readonly Task _loop;
    private readonly Dictionary<string, int> _requests = [];

    public StoreModelServer(byte[] model)
    {
        _model = model;
        Port = BrowserFixture.FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    /// <summary>Origin of this server, e.g. http://127.0.0.1:41234.</summary>
    public string Origin => $"http://127.0.0.1:{Port}";

    /// <summary>Requests seen for <paramref name="path"/> (e.g. "/chunked/stories260K.gguf").</summary>
    public int Requests(string path)
    {
        lock (_requests)
            return _requests.GetValueOrDefault(path);
    }

    private async Task AcceptLoop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => Serve(context));
        }
    }

    private async Task Serve(HttpListenerContext context)
    {
        HttpListenerResponse response = context.Response;
        string path = context.Request.Url!.AbsolutePath;
        lock (_requests)
            _requests[path] = _requests.GetValueOrDefault(path) + 1;
        try
        {
            response.Headers["Access-Control-Allow-Origin"] = "*";
            response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
            response.ContentType = "application/octet-stream";
            string mode = path.Split('/', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            if (!path.EndsWith(".gguf", StringComparison.Ordinal) || mode is not ("chunked" or "slow" or "cut"))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            Stream output = response.OutputStream;
            const int Chunk = 65536;
            if (mode == "chunked")
            {
                response.SendChunked = true;
                for (int at = 0; at < _model.Length; at += Chunk)
                    await output.WriteAsync(_model.AsMemory(at, Math.Min(Chunk, _model.Length - at)));
                response.Close();
            }
            else if (mode == "slow")
            {
                response.ContentLength64 = _model.Length;
                for (int at = 0; at < _model.Length; at += Chunk)
                {
                    await output.WriteAsync(_model.AsMemory(at, Math.Min(Chunk, _model.Length - at)));
                    await output.FlushAsync();
                    await Task.Delay(500);
                }
                response.Close();
            }
            else
            {
                response.ContentLength64 = _model.Length;
                await output.WriteAsync(_model.AsMemory(0, _model.Length / 3));
                await output.FlushAsync();
                await Task.Delay(100);
                response.Abort();
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The browser went away (an aborted download): nothing to do.
            response.Abort();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _loop.Wait(5000);
        }
        catch (AggregateException)
        {
        }
    }
}
