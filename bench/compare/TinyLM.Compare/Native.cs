using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using TinyLM.Generation;
using TinyLM.Models;

namespace TinyLM.Compare;

/// <summary>One measurement: prompt and decode tokens/s, peak resident memory in bytes.</summary>
internal sealed record Sample(double PromptTokensPerSecond, double DecodeTokensPerSecond, long PeakBytes);

/// <summary>
/// Native measurements. TinyLM runs in a child process of this harness (<c>native-run</c>) so that each
/// run starts cold, as llama-bench does, and its peak RSS is its own; both are measured like llama-bench:
/// pp = one batch of N random tokens (BOS first) into an empty KV cache; tg = N single-token decodes
/// from an empty cache, random tokens, no sampling; a warm-up run first; load time excluded.
/// </summary>
internal static class Native
{
    /// <summary>The child: loads the model, warms up, measures once, prints one JSON line.</summary>
    public static int RunChild(string model, int threads, int prompt, int gen)
    {
        using Model m = Model.Load(model, long.MaxValue);
        using InferenceSession s = m.CreateSession(new SessionOptions { ContextLength = Math.Max(prompt, gen) + 16, Threads = threads, BatchSize = Math.Max(prompt, 1) });
        var rng = new Random(1234);
        int vocab = m.VocabularySize, bos = m.Vocabulary.BosTokenId >= 0 ? m.Vocabulary.BosTokenId : 1;
        int[] tokens = new int[prompt];
        tokens[0] = bos;
        for (int i = 1; i < prompt; i++)
            tokens[i] = rng.Next(vocab);

        double Prompt()
        {
            s.Reset();
            long t0 = Stopwatch.GetTimestamp();
            s.Evaluate(tokens);
            return prompt / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        double Decode(int n)
        {
            s.Reset();
            int token = bos;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < n; i++)
            {
                s.Decode(token);
                token = rng.Next(vocab);
            }
            return n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }

        // Warm-up: the JIT's tiers settle within a few batches and tokens.
        Prompt();
        Decode(Math.Min(gen, 32));
        double pp = Prompt();
        double tg = Decode(gen);
        Console.WriteLine(JsonSerializer.Serialize(new { pp, tg, threads = s.Threads, peak = PeakRss(), kv = s.KVCacheBytes }));
        return 0;
    }

    /// <summary>Runs the child once and parses its line; peak memory is the child's VmHWM.</summary>
    public static Sample TinyLM(string model, int threads, int prompt, int gen)
    {
        string self = Environment.ProcessPath!;
        var args = new List<string>();
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            args.Add(typeof(Native).Assembly.Location);
        args.AddRange(["native-run", model, threads.ToString(CultureInfo.InvariantCulture), prompt.ToString(CultureInfo.InvariantCulture), gen.ToString(CultureInfo.InvariantCulture)]);
        string output = Run(self, args, out _);
        using JsonDocument d = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        JsonElement r = d.RootElement;
        return new Sample(r.GetProperty("pp").GetDouble(), r.GetProperty("tg").GetDouble(), r.GetProperty("peak").GetInt64());
    }

    /// <summary>
    /// One llama-bench run: <c>-p N -n N -t T -r 1 -o json</c> (llama-bench itself warms up first);
    /// peak memory from <c>/usr/bin/time</c> when present.
    /// </summary>
    public static Sample LlamaBench(string llamaBench, string model, int threads, int prompt, int gen)
    {
        string timeFile = Path.GetTempFileName();
        var args = new List<string> { "-f", "%M", "-o", timeFile, llamaBench, "-m", model, "-p", prompt.ToString(CultureInfo.InvariantCulture), "-n", gen.ToString(CultureInfo.InvariantCulture), "-t", threads.ToString(CultureInfo.InvariantCulture), "-r", "1", "-o", "json" };
        bool timed = File.Exists("/usr/bin/time");
        string output = timed ? Run("/usr/bin/time", args, out _) : Run(llamaBench, args.Skip(5).ToList(), out _);
        long peak = 0;
        if (timed && long.TryParse(File.ReadAllText(timeFile).Trim().Split('\n')[^1], out long kb))
            peak = kb * 1024;
        File.Delete(timeFile);
        using JsonDocument d = JsonDocument.Parse(output);
        double pp = double.NaN, tg = double.NaN;
        foreach (JsonElement e in d.RootElement.EnumerateArray())
        {
            if (e.GetProperty("n_prompt").GetInt32() > 0)
                pp = e.GetProperty("avg_ts").GetDouble();
            else
                tg = e.GetProperty("avg_ts").GetDouble();
        }
        return new Sample(pp, tg, peak);
    }

    /// <summary>llama-bench's build line (commit and backend) from one tiny run's JSON.</summary>
    public static string LlamaBenchVersion(string llamaBench, string model)
    {
        string output = Run(llamaBench, ["-m", model, "-p", "0", "-n", "1", "-r", "1", "-o", "json"], out _);
        using JsonDocument d = JsonDocument.Parse(output);
        JsonElement e = d.RootElement[0];
        return $"llama.cpp build {e.GetProperty("build_number")} ({e.GetProperty("build_commit").GetString()}), {e.GetProperty("backends").GetString()}";
    }

    /// <summary>This process's peak resident set (VmHWM), in bytes; 0 where /proc is absent.</summary>
    public static long PeakRss(int pid = 0)
    {
        string status = pid == 0 ? "/proc/self/status" : $"/proc/{pid}/status";
        try
        {
            foreach (string line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
        }
        return 0;
    }

    /// <summary>Runs a process to completion; throws with its stderr when it fails.</summary>
    public static string Run(string file, IEnumerable<string> args, out string stderr)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        stderr = err.Result;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', psi.ArgumentList)} exited {p.ExitCode}: {stderr.Trim()}");
        return stdout;
    }

    /// <summary>
    /// Memory read bandwidth in GB/s (10⁹ bytes/s): each thread sums its share of a 1 GiB buffer with
    /// 256-bit loads; the best of several passes.
    /// </summary>
    public static unsafe double Bandwidth(int threads)
    {
        const long size = 1L << 30;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc((nuint)size, 64);
        try
        {
            new Span<byte>(buffer, (int)size).Fill(1);
            long share = size / threads;
            double best = 0;
            for (int pass = 0; pass < 6; pass++)
            {
                using var start = new Barrier(threads + 1);
                var workers = new Thread[threads];
                for (int t = 0; t < threads; t++)
                {
                    byte* from = buffer + t * share;
                    workers[t] = new Thread(() =>
                    {
                        start.SignalAndWait();
                        Vector256<long> a = default, b = default, c = default, d = default;
                        for (long i = 0; i < share; i += 128)
                        {
                            a += Vector256.Load((long*)(from + i));
                            b += Vector256.Load((long*)(from + i + 32));
                            c += Vector256.Load((long*)(from + i + 64));
                            d += Vector256.Load((long*)(from + i + 96));
                        }
                        GC.KeepAlive(Vector256.Sum(a + b + c + d));
                    });
                    workers[t].Start();
                }
                start.SignalAndWait();
                long t0 = Stopwatch.GetTimestamp();
                foreach (Thread w in workers)
                    w.Join();
                best = Math.Max(best, share * threads / Stopwatch.GetElapsedTime(t0).TotalSeconds / 1e9);
            }
            return best;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }
}
