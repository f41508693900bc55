// bench/compare: TinyLM vs llama.cpp (llama-bench) natively and vs wllama in headless Chromium, one
// command (bench/compare/run.sh). See bench/compare/README.md for options and what is measured.
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Playwright;
using TinyLM.Compare;
using TinyLM.Formats.SentencePiece;
using TinyLM.Models;
using TinyLM.Tokenizers;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length == 5 && args[0] == "native-run")
    return Native.RunChild(args[1], int.Parse(args[2]), int.Parse(args[3]), int.Parse(args[4]));

var o = Options.Parse(args);
string here = o.Root;
string compare = Path.Combine(here, "bench", "compare");
string modelsDir = Path.Combine(compare, "models");
var report = new Report(o);
report.Machine();
Console.Error.WriteLine($"load average before runs: {Report.LoadAverage()}");

Vocabulary vocabulary = SentencePieceModel.Read(o.Vocab);
Tokenizer tokenizer = Tokenizer.Create(vocabulary);

// 1. Models.
var models = new List<(RandomLlama.Shape Shape, string Type, string Path)>();
foreach (RandomLlama.Shape shape in o.Shapes)
    foreach (string type in o.Types)
        models.Add((shape, type, ModelBuilder.Ensure(modelsDir, shape, type, vocabulary)));

// 2. Bandwidth roofline.
double[] bandwidth = [0, Native.Bandwidth(1), Native.Bandwidth(2)];
report.Bandwidth(bandwidth);

// 3. Native.
if (o.Native)
{
    report.LlamaVersion = Native.LlamaBenchVersion(o.LlamaBench, models[0].Path);
    foreach (var (shape, type, path) in models)
        foreach (int threads in o.Threads)
        {
            var ours = new List<Sample>();
            var peer = new List<Sample>();
            for (int run = 0; run < o.Runs; run++)
            {
                ours.Add(Native.TinyLM(path, threads, o.Prompt, o.Gen));
                peer.Add(Native.LlamaBench(o.LlamaBench, path, threads, o.Prompt, o.Gen));
            }
            report.NativeRow(path, threads, ours, peer, ModelBuilder.BytesPerToken(path), bandwidth[Math.Min(threads, 2)]);
        }
    report.Save();
}

// 4. Browser.
if (o.Browser)
{
    string site = Path.Combine(compare, "site", "tinylm");
    PrepareSite(o.CliAppFolder, site, modelsDir);
    using var tinylmServer = new TinyLMServer(o.CliDll, site, FreePort());
    using var peerServer = new StaticServer(FreePort(), new()
    {
        ["/wllama/"] = Path.Combine(compare, "node_modules", "@wllama", "wllama", "esm"),
        ["/models/"] = modelsDir,
    });
    using IPlaywright playwright = await Playwright.CreateAsync();
    // wllama may not generate byte-fallback tokens (see PageEngine.BannedTokens).
    int[] byteTokens = Enumerable.Range(0, vocabulary.Count).Where(i => vocabulary.GetTokenType(i) == TokenType.Byte).ToArray();
    string profiles = Path.Combine(compare, "profiles");
    foreach (var (shape, type, path) in models)
    {
        if (!o.BrowserShapes.Contains(shape) || !o.BrowserTypes.Contains(type))
            continue;
        string url = "/models/" + Path.GetFileName(path);
        (int pp, int gen) = o.PageTokens(shape);
        // wllama's server caps the context at the model's training context and stops a generation there.
        if (pp + gen > shape.ContextLength)
            throw new ArgumentException($"{shape.Name}: page prompt + generated tokens ({pp} + {gen}) exceed its context ({shape.ContextLength}).");
        await using PageEngine ours = await PageEngine.Start(playwright, "TinyLM", tinylmServer.Url, profiles);
        await using PageEngine peer = await PageEngine.Start(playwright, "wllama", peerServer.Url, profiles);
        peer.BannedTokens = byteTokens;
        report.BrowserVersion = ours.BrowserVersion;
        foreach (int threads in o.Threads)
        {
            int ctx = pp + gen + 16;
            string oursLoad = (await ours.Load(url, threads, ctx)).ToString();
            string peerLoad = (await peer.Load(url, threads, ctx)).ToString();
            Console.Error.WriteLine($"  page {Path.GetFileName(path)} t{threads}: TinyLM {oursLoad}; wllama {peerLoad}");
            // Warm-up, then alternate; each run's prompt starts with another word (no prompt-cache reuse).
            // TinyLM's page keeps the prompt prefix shared with the previous generation in its KV cache (here
            // BOS), so it gets one token more to evaluate the same count as wllama (cache_prompt off).
            await ours.Generate(Prompt(tokenizer, Math.Min(pp, 16) + 1, 99), Math.Min(gen, 4));
            await peer.Generate(Prompt(tokenizer, Math.Min(pp, 16), 99), Math.Min(gen, 4));
            // Then let work the warm-ups started in the background (the browsers compile hot WebAssembly again, at
            // low priority) finish before anything is timed: without this pause the first timed run of the
            // engine that runs first took 3–4 times as long (stories110M Q4_K_M, two threads: TinyLM prompt 130–133
            // tokens/s in its first run against 317–369 after 3 s, 430–550 in later runs).
            await Task.Delay(o.SettleMs);
            var a = new List<PageSample>();
            var b = new List<PageSample>();
            for (int run = 0; run < o.Runs; run++)
            {
                a.Add(await ours.Generate(Prompt(tokenizer, pp + 1, run), gen));
                b.Add(await peer.Generate(Prompt(tokenizer, pp, run), gen));
                if (a[^1].PromptTokens != pp || b[^1].PromptTokens != pp || a[^1].GeneratedTokens != gen || b[^1].GeneratedTokens != gen)
                    Console.Error.WriteLine($"    warning: token counts differ from {pp}+{gen}");
                Console.Error.WriteLine($"    run {run}: TinyLM pp {a[^1].PromptTokensPerSecond:0.0} tg {a[^1].DecodeTokensPerSecond:0.0} ({a[^1].PromptTokens}+{a[^1].GeneratedTokens}); wllama pp {b[^1].PromptTokensPerSecond:0.0} tg {b[^1].DecodeTokensPerSecond:0.0} ({b[^1].PromptTokens}+{b[^1].GeneratedTokens})");
            }
            report.BrowserRow(path, threads, a, b, ours.RendererPeakBytes(), peer.RendererPeakBytes(), oursLoad, peerLoad);
        }
        (double ms, bool cached) = await ours.ColdStart(url, 1, 64);
        report.ColdStart(path, ms, cached);
        report.Save();
    }
}

report.Save();
Console.WriteLine(report.Markdown());
Console.Error.WriteLine($"load average after runs: {Report.LoadAverage()}; results: {report.SavedPath}");
return 0;

// A prompt of exactly `tokens` tokens (BOS included) of common one-token words, starting at word `start`.
static string Prompt(Tokenizer tokenizer, int tokens, int start)
{
    string[] words = ["the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "to", "park", "with", "big", "red", "ball", "in", "sun", "day"];
    var sb = new StringBuilder();
    for (int i = start; ; i++)
    {
        string next = (sb.Length == 0 ? "" : " ") + words[i % words.Length];
        int count = tokenizer.CountTokens(sb + next);
        if (count > tokens)
            continue;
        sb.Append(next);
        if (count == tokens)
            return sb.ToString();
    }
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

// The folder `tinylm serve --root` serves: the published browser app and the models, hard-linked
// (no copies of large files), plus an empty page to run the benchmark scripts from.
static void PrepareSite(string app, string site, string modelsDir)
{
    if (Directory.Exists(site))
        Directory.Delete(site, true);
    Directory.CreateDirectory(Path.GetDirectoryName(site)!);
    Native.Run("cp", ["-al", app, site], out _);
    Directory.CreateDirectory(Path.Combine(site, "models"));
    foreach (string model in Directory.GetFiles(modelsDir, "*.gguf"))
        Native.Run("ln", ["-f", model, Path.Combine(site, "models", Path.GetFileName(model))], out _);
    File.WriteAllText(Path.Combine(site, "bench.html"), "<!doctype html><meta charset=utf-8><title>bench</title>");
}
