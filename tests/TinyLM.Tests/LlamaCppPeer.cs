using System.Diagnostics;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Sampling;
using TinyLM.Tests.Models;

namespace TinyLM.Tests;

/// <summary>
/// The llama.cpp reference peer installed by tools/llamacpp/setup.sh: the prebuilt binaries of npm
/// node-llama-cpp 3.22.1, programs compiled against them in tools/llamacpp/build, and llama.cpp's
/// source (with its vocabulary GGUF files) in tools/llamacpp/llama.cpp. Tests that need it use
/// <see cref="LlamaCppFactAttribute"/> / <see cref="LlamaCppTheoryAttribute"/>: skipped with a
/// message when the peer is absent, unless TINYLM_REQUIRE_LLAMACPP=1 (set by .ci/run), in which
/// case they run and fail.
/// </summary>
internal static class LlamaCppPeer
{
    public const string RequireVariable = "TINYLM_REQUIRE_LLAMACPP";

    public static string BuildFolder => Path.Combine(TestPaths.LlamaCpp, "build");

    public static string ModelsFolder => Path.Combine(TestPaths.LlamaCpp, "llama.cpp", "models");

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    private static bool Installed => Directory.Exists(ModelsFolder) && File.Exists(Path.Combine(BuildFolder, "llama-reference"));

    /// <summary>Why llama.cpp tests are skipped, or null when they run.</summary>
    public static string? SkipReason => Installed || Required
        ? null
        : $"llama.cpp peer not installed (run tools/llamacpp/setup.sh; set {RequireVariable}=1 to fail instead of skipping)";

    /// <summary>llama.cpp's models folder; fails the test when absent.</summary>
    public static string RequireModelsFolder() => Directory.Exists(ModelsFolder) ? ModelsFolder
        : throw new InvalidOperationException($"{ModelsFolder} not found: run tools/llamacpp/setup.sh.");

    /// <summary>Names of the ggml-vocab-*.gguf files, or one placeholder when absent (so a required run fails).</summary>
    public static TheoryData<string> VocabFileNames()
    {
        var data = new TheoryData<string>();
        if (!Directory.Exists(ModelsFolder))
        {
            data.Add("(models folder missing)");
            return data;
        }
        foreach (string path in Directory.GetFiles(ModelsFolder, "ggml-vocab-*.gguf").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    /// <summary>Runs a program of the build folder; returns stdout, throws on failure.</summary>
    public static string Run(string program, params string[] args)
    {
        string path = Path.Combine(BuildFolder, program);
        if (!File.Exists(path))
            throw new InvalidOperationException($"{path} not found: run tools/llamacpp/setup.sh.");
        var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(300_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException(program);
        }
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{program} exited with {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>
    /// Runs llama.cpp (portable x64 CPU backend) greedily on <paramref name="model"/> and checks that
    /// TinyLM's prompt tokens, prompt logits, every step's logits and the greedy tokens are identical.
    /// </summary>
    /// <returns>The number of greedy tokens compared.</returns>
    public static int AssertGreedyBitIdentical(string model, string prompt, int tokens, string workFolder)
    {
        Run("llama-reference", model, prompt, tokens.ToString(), Path.Combine(workFolder, "out"), "--step-logits", (tokens - 1).ToString(), "--cpu-variant", "x64");
        LlamaCppGolden live = LlamaCppGolden.Load(workFolder, "out");
        using Model m = Model.Load(model);
        Assert.Equal(live.PromptTokens, m.Tokenizer.EncodeToIds(prompt));
        using InferenceSession s = m.CreateSession();
        ReadOnlySpan<float> logits = s.Evaluate(live.PromptTokens);
        Assert.Equal(live.PromptLogits[^1], logits.ToArray());
        var ours = new List<int>();
        for (int i = 0; i < live.GeneratedTokens.Length; i++)
        {
            int next = Sampler.ArgMax(logits);
            ours.Add(next);
            if (i < live.GeneratedTokens.Length - 1)
            {
                logits = s.Decode(next);
                Assert.Equal(live.StepLogits[i], logits.ToArray());
            }
        }
        Assert.Equal(live.GeneratedTokens, ours);
        return ours.Count;
    }
}

/// <summary>A fact that needs the llama.cpp peer (see <see cref="LlamaCppPeer"/>).</summary>
public sealed class LlamaCppFactAttribute : FactAttribute
{
    /// <summary>Skips when the peer is absent and not required.</summary>
    public LlamaCppFactAttribute()
    {
        if (LlamaCppPeer.SkipReason is { } reason)
            Skip = reason;
    }
}

/// <summary>A theory that needs the llama.cpp peer (see <see cref="LlamaCppPeer"/>).</summary>
public sealed class LlamaCppTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips when the peer is absent and not required.</summary>
    public LlamaCppTheoryAttribute()
    {
        if (LlamaCppPeer.SkipReason is { } reason)
            Skip = reason;
    }
}
