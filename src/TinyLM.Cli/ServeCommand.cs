using System.CommandLine;
using System.IO.Compression;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TinyLM.Cli;

/// <summary>
/// <c>tinylm serve</c>: serves the browser app (the published TinyLM.Browser: demo page, tinylm.js,
/// worker, .NET runtime, default model) with ASP.NET Core minimal hosting, bound to 127.0.0.1 by
/// default, with correct MIME types, compression and the cross-origin isolation headers
/// (COOP/COEP) that multi-threaded WebAssembly needs.
/// </summary>
internal static class ServeCommand
{
    /// <summary>Where the CLI build puts the published browser app (see TinyLM.Cli.csproj).</summary>
    public static string DefaultRoot => Path.Combine(AppContext.BaseDirectory, "browser", "wwwroot");

    public static Command Create()
    {
        var host = new Option<string>("--host") { Description = "Address to bind (default 127.0.0.1: this machine only).", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 picks a free one).", DefaultValueFactory = _ => 8080 };
        var root = new Option<string?>("--root") { Description = "Folder to serve (default: the browser app built with the CLI)." };
        var noIsolation = new Option<bool>("--no-isolation") { Description = "Do not send COOP/COEP (the page then runs single-threaded)." };
        var cmd = new Command("serve", "Serve the TinyLM browser app (demo page and JS API) on http://127.0.0.1:8080.");
        foreach (Option o in new Option[] { host, port, root, noIsolation })
            cmd.Options.Add(o);
        cmd.SetAction((parse, cancel) => CliCommon.Guard(parse, async () =>
        {
            string folder = Path.GetFullPath(parse.GetValue(root) ?? DefaultRoot);
            if (!File.Exists(Path.Combine(folder, "tinylm.js")))
                throw new InvalidOperationException($"No TinyLM browser app in {folder} (tinylm.js missing): build the CLI (it publishes src/TinyLM.Browser), or pass --root.");
            if (!IPAddress.TryParse(parse.GetValue(host), out IPAddress? address))
                throw new ArgumentException($"--host must be an IP address, found '{parse.GetValue(host)}'.");
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535)
                throw new ArgumentException($"--port must be 0..65535, found {p}.");
            await using WebApplication app = Build(folder, address, p, !parse.GetValue(noIsolation));
            await app.StartAsync(cancel);
            string url = app.Urls.First();
            Console.Error.WriteLine($"TinyLM browser app: {url}/  (serving {folder}; Ctrl+C to stop)");
            await app.WaitForShutdownAsync(cancel);
            return 0;
        }));
        return cmd;
    }

    /// <summary>Builds the web application (exposed for tests).</summary>
    public static WebApplication Build(string folder, IPAddress address, int port, bool isolation)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = folder, WebRootPath = folder });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        builder.Services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json", "application/wasm", "image/svg+xml", "text/plain"];
        });
        builder.Services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        WebApplication app = builder.Build();

        app.Use(async (context, next) =>
        {
            IHeaderDictionary h = context.Response.Headers;
            if (isolation)
            {
                h["Cross-Origin-Opener-Policy"] = "same-origin";
                h["Cross-Origin-Embedder-Policy"] = "require-corp";
                h["Cross-Origin-Resource-Policy"] = "same-origin";
            }
            h["X-Content-Type-Options"] = "nosniff";
            await next();
        });
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".wasm"] = "application/wasm";
        types.Mappings[".js"] = "text/javascript";
        types.Mappings[".mjs"] = "text/javascript";
        types.Mappings[".json"] = "application/json";
        types.Mappings[".gguf"] = "application/octet-stream";
        types.Mappings[".slm"] = "application/octet-stream";
        types.Mappings[".dat"] = "application/octet-stream";
        types.Mappings[".webmanifest"] = "application/manifest+json";
        types.Mappings[".br"] = "application/octet-stream";
        types.Mappings[".gz"] = "application/octet-stream";
        var files = new PhysicalFileProvider(folder);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        // Serve the publish step's precompressed copy (file.br, file.gz) when the client accepts it;
        // anything else is compressed on the fly.
        app.Use(async (context, next) =>
        {
            PathString path = context.Request.Path;
            string accept = context.Request.Headers.AcceptEncoding.ToString();
            if (HttpMethods.IsGet(context.Request.Method) && path.HasValue && types.TryGetContentType(path.Value, out string? contentType))
            {
                foreach ((string encoding, string suffix) in new[] { ("br", ".br"), ("gzip", ".gz") })
                {
                    if (!accept.Contains(encoding, StringComparison.OrdinalIgnoreCase) || !files.GetFileInfo(path.Value + suffix).Exists)
                        continue;
                    context.Request.Path = path + suffix;
                    context.Response.OnStarting(() =>
                    {
                        context.Response.Headers.ContentEncoding = encoding;
                        context.Response.Headers.ContentType = contentType;
                        context.Response.Headers.Vary = "Accept-Encoding";
                        return Task.CompletedTask;
                    });
                    break;
                }
            }
            await next();
        });
        app.UseResponseCompression();
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = types,
            ServeUnknownFileTypes = false,
            OnPrepareResponse = ctx =>
            {
                // Fingerprinted runtime files never change; everything else is revalidated.
                bool fingerprinted = ctx.Context.Request.Path.StartsWithSegments("/_framework") && !ctx.File.Name.StartsWith("dotnet.js", StringComparison.Ordinal);
                ctx.Context.Response.Headers.CacheControl = fingerprinted ? "public, max-age=31536000, immutable" : "no-cache";
            },
        });
        return app;
    }
}
