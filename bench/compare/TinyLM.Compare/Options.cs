using System.Globalization;
using TinyLM.Models;

namespace TinyLM.Compare;

/// <summary>Command-line options of the harness (see bench/compare/README.md).</summary>
internal sealed class Options
{
    public string Root { get; private set; } = FindRoot();
    public List<RandomLlama.Shape> Shapes { get; private set; } = [RandomLlama.Stories15M, RandomLlama.SmolLM135M, RandomLlama.Stories110M, RandomLlama.TinyLlama1B];
    public List<string> Types { get; private set; } = ["q8_0", "q4_0", "q4_k_m"];
    public List<RandomLlama.Shape> BrowserShapes { get; private set; } = [RandomLlama.Stories15M, RandomLlama.SmolLM135M];
    public List<string> BrowserTypes { get; private set; } = ["q8_0", "q4_0", "q4_k_m"];
    public List<int> Threads { get; private set; } = [1, 2];
    public int Runs { get; private set; } = 3;
    public int Prompt { get; private set; } = 128;
    public int Gen { get; private set; } = 128;
    public int? PagePrompt { get; private set; }
    public int? PageGen { get; private set; }
    /// <summary>Milliseconds to wait after the page warm-ups, before the timed runs (--settle-ms).</summary>
    public int SettleMs { get; private set; } = 3000;
    public bool Native { get; private set; } = true;
    public bool Browser { get; private set; } = true;
    public bool Quick { get; private set; }
    public string Vocab { get; private set; } = "";
    public string LlamaBench { get; private set; } = "";
    public string CliDll => Path.Combine(Root, "src", "TinyLM.Cli", "bin", "Release", "net10.0", "TinyLM.Cli.dll");
    public string CliAppFolder => Path.Combine(Root, "src", "TinyLM.Cli", "bin", "Release", "net10.0", "browser", "wwwroot");

    /// <summary>
    /// Prompt and generated tokens in the page: 128 and 128 on stories15M, 32 and 32 on larger shapes
    /// (the C# engine runs interpreted in the page today), 32 and 32 with --quick; --page-prompt and
    /// --page-gen override.
    /// </summary>
    public (int Prompt, int Gen) PageTokens(RandomLlama.Shape shape)
    {
        int d = Quick || shape.EmbeddingLength > RandomLlama.Stories15M.EmbeddingLength ? 32 : 128;
        return (PagePrompt ?? d, PageGen ?? d);
    }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        bool browserShapesSet = false, browserTypesSet = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            List<string> ListOf() => [.. Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
            List<RandomLlama.Shape> ShapesOf() => ListOf().Select(s => RandomLlama.Shapes.TryGetValue(s, out RandomLlama.Shape? v) ? v
                : throw new ArgumentException($"Unknown shape '{s}'; known: stories15M, SmolLM-135M, stories110M, TinyLlama-1.1B.")).ToList();
            List<string> TypesOf() => ListOf().Select(t => ModelBuilder.KnownTypes.Contains(t.ToLowerInvariant()) ? t.ToLowerInvariant()
                : throw new ArgumentException($"Unknown type '{t}'; known: {string.Join(", ", ModelBuilder.KnownTypes)}.")).ToList();
            int Int() => int.Parse(Next(), CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--quick": o.Quick = true; break;
                case "--shapes": o.Shapes = ShapesOf(); break;
                case "--types": o.Types = TypesOf(); break;
                case "--browser-shapes": o.BrowserShapes = ShapesOf(); browserShapesSet = true; break;
                case "--browser-types": o.BrowserTypes = TypesOf(); browserTypesSet = true; break;
                case "--threads": o.Threads = ListOf().Select(t => int.Parse(t, CultureInfo.InvariantCulture)).ToList(); break;
                case "--runs": o.Runs = Int(); break;
                case "--prompt": o.Prompt = Int(); break;
                case "--gen": o.Gen = Int(); break;
                case "--page-prompt": o.PagePrompt = Int(); break;
                case "--page-gen": o.PageGen = Int(); break;
                case "--settle-ms": o.SettleMs = Int(); break;
                case "--no-native": o.Native = false; break;
                case "--no-browser": o.Browser = false; break;
                case "--vocab": o.Vocab = Next(); break;
                case "--llama-bench": o.LlamaBench = Next(); break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'. See bench/compare/README.md.");
            }
        }
        if (o.Quick)
        {
            if (!args.Contains("--shapes"))
                o.Shapes = [RandomLlama.Stories15M];
            if (!args.Contains("--types"))
                o.Types = ["q8_0", "q4_0"];
            if (!args.Contains("--runs"))
                o.Runs = 2;
        }
        // The browser set never exceeds the built set.
        o.BrowserShapes = browserShapesSet ? o.BrowserShapes : o.BrowserShapes.Where(o.Shapes.Contains).ToList();
        o.BrowserTypes = browserTypesSet ? o.BrowserTypes : o.BrowserTypes.Where(o.Types.Contains).ToList();
        foreach (RandomLlama.Shape s in o.BrowserShapes.Where(s => !o.Shapes.Contains(s)))
            o.Shapes.Add(s);
        foreach (string t in o.BrowserTypes.Where(t => !o.Types.Contains(t)))
            o.Types.Add(t);
        if (o.Vocab.Length == 0)
            o.Vocab = Path.GetFullPath(Path.Combine(o.Root, "..", "shared", "vocab", "llama2", "tokenizer.model"));
        if (o.LlamaBench.Length == 0)
            o.LlamaBench = Path.Combine(o.Root, "bench", "compare", "llama-build", "bin", "llama-bench");
        if (!File.Exists(o.Vocab))
            throw new ArgumentException($"No vocabulary at {o.Vocab}: pass --vocab PATH/tokenizer.model (the Llama 2 SentencePiece model).");
        if (o.Native && !File.Exists(o.LlamaBench))
            throw new ArgumentException($"No llama-bench at {o.LlamaBench}: run bench/compare/build-llama-bench.sh, or pass --llama-bench, or --no-native.");
        if (o.Browser && !File.Exists(Path.Combine(o.CliAppFolder, "tinylm.js")))
            throw new ArgumentException($"No browser app at {o.CliAppFolder}: build the CLI (dotnet build src/TinyLM.Cli -c Release), or --no-browser.");
        return o;
    }

    private static string FindRoot()
    {
        foreach (string start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
            for (string? dir = start; dir is not null; dir = Path.GetDirectoryName(dir))
                if (File.Exists(Path.Combine(dir, "TinyLM.slnx")))
                    return dir;
        throw new InvalidOperationException("Cannot find the repository root (TinyLM.slnx).");
    }
}
