using TinyLM.Formats.SentencePiece;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Sampling;
using Xunit.Abstractions;

namespace TinyLM.Tests.Models;

/// <summary>
/// Runs llama.cpp itself (tools/llamacpp/llama-reference, linked to node-llama-cpp's prebuilt
/// libllama) next to TinyLM on models TinyLM wrote, and compares greedy tokens and logits. Unlike
/// <see cref="LlamaCppGoldenTests"/>, nothing is recorded: this also proves the committed goldens are
/// still what llama.cpp produces. With llama.cpp's portable CPU backend (x64) the match is exact;
/// with the SIMD backend it picks for this CPU (AVX2, FMA) the logits agree by NMSE.
/// </summary>
public class LlamaCppLiveTests(ITestOutputHelper output)
{
    private static (LlamaCppGolden Golden, string Dir) RunPeer(string model, string prompt, int n, params string[] extra)
    {
        string dir = Directory.CreateTempSubdirectory("tinylm-live-").FullName;
        string prefix = Path.Combine(dir, "out");
        LlamaCppPeer.Run("llama-reference", [model, prompt, n.ToString(), prefix, .. extra]);
        return (Load(prefix), dir);
    }

    private static LlamaCppGolden Load(string prefix) => LlamaCppGolden.Load(Path.GetDirectoryName(prefix)!, Path.GetFileName(prefix));

    [LlamaCppFact]
    public void Stories260K_LiveLlamaCpp_SameGreedyTokensAndGoldensAreCurrent()
    {
        var (live, dir) = RunPeer(TestPaths.DefaultModel, "Once upon a time", 128, "--all-prompt-logits", "--step-logits", "128", "--cpu-variant", "x64");
        try
        {
            LlamaCppGolden committed = LlamaCppGolden.Load("stories260K-f32");
            Assert.Equal(committed.PromptTokens, live.PromptTokens);
            Assert.Equal(committed.GeneratedTokens, live.GeneratedTokens);
            Assert.Equal(committed.GeneratedText, live.GeneratedText);
            for (int i = 0; i < live.PromptLogits.Length; i++)
                Assert.Equal(committed.PromptLogits[i], live.PromptLogits[i]);
            for (int i = 0; i < live.StepLogits.Length; i++)
                Assert.Equal(committed.StepLogits[i], live.StepLogits[i]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [LlamaCppTheory]
    [InlineData("q4_0", 2)]
    [InlineData("q8_0", 6)]
    public void RandomModel_LiveLlamaCpp_SameGreedyTokens(string type, int kvHeads)
    {
        Assert.True(TensorTypes.TryParse(type, out TensorType? t));
        var vocab = SentencePieceModel.Read(Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model"));
        // A seed other than the goldens' so that this is a fresh comparison.
        byte[] bytes = RandomLlama.Create(RandomLlama.Stories15M with { HeadCountKV = kvHeads }, vocab, t, seed: 77).ToArray();
        string dir = Directory.CreateTempSubdirectory("tinylm-live-").FullName;
        string model = Path.Combine(dir, "model.gguf");
        File.WriteAllBytes(model, bytes);
        try
        {
            int count = LlamaCppPeer.AssertGreedyBitIdentical(model, "The little dog ran to the park", 48, dir);
            output.WriteLine($"{type}, {kvHeads} KV heads: {count} greedy tokens and all logits bit-identical");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// Against the SIMD backend llama.cpp selects on this CPU (AVX2 with FMA), whose float sums run in
    /// another order: logits agree by NMSE (mse / mse(reference, 0), as llama.cpp's test-backend-ops).
    /// F32 weights: only summation order differs, NMSE below 1e-9. Quantized weights: a last-bit
    /// difference can move an activation across a Q8 rounding boundary, so a few positions may differ
    /// by about 1e-3 relative; NMSE below 1e-3 still rejects any real error (a wrong RoPE, GQA mapping
    /// or block layout gives NMSE near 1).
    /// </summary>
    [LlamaCppTheory]
    [InlineData("f32", 1e-9)]
    [InlineData("q4_0", 1e-3)]
    [InlineData("q5_1", 1e-3)]
    public void NativeSimdLlamaCpp_PromptLogitsAgreeByNmse(string type, double bound)
    {
        string dir = Directory.CreateTempSubdirectory("tinylm-live-").FullName;
        try
        {
            string model = TestPaths.DefaultModel;
            if (type != "f32")
            {
                Assert.True(TensorTypes.TryParse(type, out TensorType? t));
                var vocab = SentencePieceModel.Read(Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model"));
                model = Path.Combine(dir, "model.gguf");
                File.WriteAllBytes(model, RandomLlama.Create(RandomLlama.Stories15M, vocab, t, seed: 5).ToArray());
            }
            string prompt = "Once upon a time there was a dragon who lived in a cave";
            LlamaCppPeer.Run("llama-reference", model, prompt, "1", Path.Combine(dir, "out"), "--all-prompt-logits");
            LlamaCppGolden live = Load(Path.Combine(dir, "out"));
            using Model m = Model.Load(model);
            using InferenceSession s = m.CreateSession();
            float[] all = s.EvaluateAll(live.PromptTokens);
            int v = m.VocabularySize;
            double worst = 0;
            for (int p = 0; p < live.PromptTokens.Length; p++)
                worst = Math.Max(worst, LlamaCppGolden.Nmse(all.AsSpan(p * v, v), live.PromptLogits[p]));
            output.WriteLine($"{type}: worst NMSE over {live.PromptTokens.Length} positions vs llama.cpp's SIMD backend: {worst:E2}");
            Assert.True(worst < bound, $"NMSE {worst:E2} >= {bound:E0}");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
