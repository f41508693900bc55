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
/// still what llama.cpp produces.
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
        var (live, dir) = RunPeer(TestPaths.DefaultModel, "Once upon a time", 128, "--all-prompt-logits", "--step-logits", "128");
        try
        {
            LlamaCppGolden committed = LlamaCppGolden.Load("stories260K-f32");
            Assert.Equal(committed.PromptTokens, live.PromptTokens);
            Assert.Equal(committed.GeneratedTokens, live.GeneratedTokens);
            Assert.Equal(committed.GeneratedText, live.GeneratedText);
            for (int i = 0; i < live.PromptLogits.Length; i++)
                Assert.True(LlamaCppGolden.MaxAbsDiff(live.PromptLogits[i], committed.PromptLogits[i]) <= 1e-5);
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
            string prompt = "The little dog ran to the park";
            LlamaCppPeer.Run("llama-reference", model, prompt, "48", Path.Combine(dir, "out"));
            LlamaCppGolden live = Load(Path.Combine(dir, "out"));
            using Model m = Model.Load(model);
            Assert.Equal(live.PromptTokens, m.Tokenizer.EncodeToIds(prompt));
            using InferenceSession s = m.CreateSession();
            ReadOnlySpan<float> logits = s.Evaluate(live.PromptTokens);
            double diff = LlamaCppGolden.MaxAbsDiff(logits, live.PromptLogits[^1]);
            output.WriteLine($"{type}, {kvHeads} KV heads: max logit diff {diff:E2}");
            Assert.True(diff <= 5e-3, $"logits differ by {diff:E2}");
            var ours = new List<int>();
            for (int i = 0; i < live.GeneratedTokens.Length; i++)
            {
                int next = Sampler.ArgMax(logits);
                ours.Add(next);
                if (i < live.GeneratedTokens.Length - 1)
                    logits = s.Decode(next);
            }
            Assert.Equal(live.GeneratedTokens, ours);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
