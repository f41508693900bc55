using System.Runtime.InteropServices;
using System.Text;

namespace TinyLM.Compare;

/// <summary>Collects the measurements and renders them as markdown (stdout and bench/compare/results/).</summary>
internal sealed class Report(Options options)
{
    private readonly StringBuilder _native = new();
    private readonly StringBuilder _browser = new();
    private readonly StringBuilder _cold = new();
    private readonly string _date = DateTime.Now.ToString("yyyy-MM-dd");
    private readonly string _loadBefore = LoadAverage();
    private string _machine = "";
    private double[] _bandwidth = [];

    public string? LlamaVersion { get; set; }
    public string? BrowserVersion { get; set; }
    public string SavedPath { get; private set; } = "";

    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double Median(IEnumerable<double> values)
    {
        double[] v = values.Where(x => !double.IsNaN(x)).OrderBy(x => x).ToArray();
        return v.Length == 0 ? double.NaN : v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    private static string F(double v) => double.IsNaN(v) ? "n/a" : v >= 100 ? v.ToString("0") : v >= 10 ? v.ToString("0.0") : v.ToString("0.00");

    private static string Mb(long bytes) => bytes <= 0 ? "n/a" : (bytes / 1e6).ToString("0");

    private static string Name(string path) => ModelBuilder.Label(path);

    public void Machine()
    {
        string cpu = "?", flags = "";
        long memKb = 0;
        foreach (string line in File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo") : [])
        {
            if (line.StartsWith("model name", StringComparison.Ordinal) && cpu == "?")
                cpu = line[(line.IndexOf(':') + 1)..].Trim();
            if (line.StartsWith("flags", StringComparison.Ordinal) && flags.Length == 0)
                flags = line;
        }
        foreach (string line in File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo") : [])
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                memKb = long.Parse(line[9..].Trim().Split(' ')[0]);
        string os = File.Exists("/etc/os-release") ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?[12..].Trim('"') ?? "" : RuntimeInformation.OSDescription;
        bool avx2 = flags.Contains(" avx2", StringComparison.Ordinal), avx512 = flags.Contains(" avx512f", StringComparison.Ordinal);
        _machine = $"{cpu}, {Environment.ProcessorCount} cores, AVX2 {(avx2 ? "yes" : "no")}, AVX-512 {(avx512 ? "yes" : "no")}, {memKb / 1024.0 / 1024.0:0} GiB, {os}, {RuntimeInformation.FrameworkDescription}";
    }

    public void Bandwidth(double[] gbps) => _bandwidth = gbps;

    public void NativeRow(string path, int threads, List<Sample> ours, List<Sample> peer, double bytesPerToken, double bandwidth)
    {
        double opp = Median(ours.Select(s => s.PromptTokensPerSecond)), ppp = Median(peer.Select(s => s.PromptTokensPerSecond));
        double otg = Median(ours.Select(s => s.DecodeTokensPerSecond)), ptg = Median(peer.Select(s => s.DecodeTokensPerSecond));
        double roof = bandwidth * 1e9 / bytesPerToken;
        string row = $"| {Name(path)} | {new FileInfo(path).Length / 1e6:0.0} | {threads} | {F(opp)} | {F(ppp)} | {opp / ppp:0.00} | {F(otg)} | {F(ptg)} | {otg / ptg:0.00} | {F(roof)} | {otg / roof:P0} | {ptg / roof:P0} | {Mb(ours.Max(s => s.PeakBytes))} / {Mb(peer.Max(s => s.PeakBytes))} |";
        _native.AppendLine(row);
        Console.Error.WriteLine(row);
    }

    public void BrowserRow(string path, int threads, List<PageSample> ours, List<PageSample> peer, long oursPeak, long peerPeak, string oursLoad, string peerLoad)
    {
        double opp = Median(ours.Select(s => s.PromptTokensPerSecond)), ppp = Median(peer.Select(s => s.PromptTokensPerSecond));
        double otg = Median(ours.Select(s => s.DecodeTokensPerSecond)), ptg = Median(peer.Select(s => s.DecodeTokensPerSecond));
        string note = threads == 1 ? "" : string.Join("; ",
            oursLoad.Contains("\"threads\":null", StringComparison.Ordinal) ? "TinyLM page single-threaded (threads option accepted, ignored)" : "TinyLM page threads as its info reports",
            peerLoad.Contains("\"multithread\":true", StringComparison.Ordinal) ? "wllama multi-threaded" : "wllama NOT multi-threaded");
        string tokens = $"{ours[0].PromptTokens}+{ours[0].GeneratedTokens} / {peer[0].PromptTokens}+{peer[0].GeneratedTokens}";
        string row = $"| {Name(path)} | {threads} | {F(opp)} | {F(ppp)} | {opp / ppp:0.00} | {F(otg)} | {F(ptg)} | {otg / ptg:0.00} | {tokens} | {Mb(oursPeak)} / {Mb(peerPeak)} | {note} |";
        _browser.AppendLine(row);
        Console.Error.WriteLine(row);
    }

    public void ColdStart(string path, double ms, bool fromCache)
    {
        string line = $"| {Name(path)} | {ms:0} | {(fromCache ? "yes" : "NO")} |";
        _cold.AppendLine(line);
        Console.Error.WriteLine(line);
    }

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"## bench/compare, {_date}, commit {Commit()}");
        sb.AppendLine();
        sb.AppendLine($"Machine: {_machine}. Load average (1/5/15 min) before: {_loadBefore}; after: {LoadAverage()}.");
        sb.AppendLine($"Peers: {LlamaVersion ?? "llama-bench not run"}; wllama 3.8.1 (npm); Chromium {BrowserVersion ?? "not run"} headless.");
        sb.AppendLine($"Command: `bash bench/compare/run.sh {string.Join(' ', Environment.GetCommandLineArgs().Skip(1))}`; medians of {options.Runs} alternating runs.");
        if (_bandwidth.Length == 3)
            sb.AppendLine($"Memory read bandwidth: {_bandwidth[1]:0.0} GB/s on 1 thread, {_bandwidth[2]:0.0} GB/s on 2 threads.");
        if (_native.Length > 0)
        {
            sb.AppendLine();
            sb.AppendLine($"Native, tokens/s: pp = {options.Prompt}-token prompt, tg = {options.Gen} decoded tokens (no sampling, as llama-bench); roofline = bandwidth ÷ bytes read per token (weights without the token embedding, plus the F16 KV cache at position 64); peak RSS in MB.");
            sb.AppendLine();
            sb.AppendLine("| model | MB | threads | pp TinyLM | pp llama-bench | ratio | tg TinyLM | tg llama-bench | ratio | tg roofline | TinyLM share | llama-bench share | peak RSS TinyLM / llama-bench |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
            sb.Append(_native);
        }
        if (_browser.Length > 0)
        {
            sb.AppendLine();
            sb.AppendLine("Headless Chromium, tokens/s as each engine reports them (prompt tokens ÷ prompt time; generated tokens ÷ time after the prompt, greedy sampling included); peak RSS of the page's renderer process in MB.");
            sb.AppendLine();
            sb.AppendLine("| model | threads | pp TinyLM | pp wllama | ratio | tg TinyLM | tg wllama | ratio | tokens (prompt+gen) TinyLM / wllama | peak RSS TinyLM / wllama | note |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
            sb.Append(_browser);
        }
        if (_cold.Length > 0)
        {
            sb.AppendLine();
            sb.AppendLine("TinyLM cold start in the page, model cached (second load): navigation start → first generated token, ms.");
            sb.AppendLine();
            sb.AppendLine("| model | ms | from cache |");
            sb.AppendLine("|---|---|---|");
            sb.Append(_cold);
        }
        return sb.ToString();
    }

    public void Save()
    {
        string dir = Path.Combine(options.Root, "bench", "compare", "results");
        Directory.CreateDirectory(dir);
        SavedPath = Path.Combine(dir, $"{_date}-{Commit()}.md");
        File.WriteAllText(SavedPath, Markdown());
    }

    private string Commit()
    {
        try
        {
            string sha = Native.Run("git", ["-C", options.Root, "rev-parse", "--short", "HEAD"], out _).Trim();
            string dirty = Native.Run("git", ["-C", options.Root, "status", "--porcelain", "--untracked-files=no", "--", "src"], out _).Trim();
            return dirty.Length > 0 ? sha + "-dirty" : sha;
        }
        catch (Exception)
        {
            return "unknown";
        }
    }
}
