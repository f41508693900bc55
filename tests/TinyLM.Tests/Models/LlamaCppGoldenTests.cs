using System.Security.Cryptography;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.SentencePiece;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Sampling;
using TinyLM.Tokenizers;
using Xunit.Abstractions;

namespace TinyLM.Tests.Models;

/// <summary>
/// TinyLM against llama.cpp's own output (goldens regenerated from the prebuilt llama.cpp, portable
/// x86-64 CPU backend, by tools/llamacpp/regen-model-goldens.sh): same prompt tokens, same greedy
/// continuation, and logits equal bit for bit — TinyLM reproduces that backend's arithmetic
/// exactly (docs/numerics.md), so the tolerance is zero for every type.
/// </summary>
public class LlamaCppGoldenTests(ITestOutputHelper output)
{
    private static readonly Lazy<Vocabulary> s_llama2Vocabulary = new(() =>
        SentencePieceModel.Read(Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model")));

    private static readonly Lazy<Vocabulary> s_stories260KVocabulary = new(() =>
    {
        using GgufFile f = GgufFile.Open(TestPaths.DefaultModel);
        return Vocabulary.FromGguf(f.Metadata);
    });

    [Fact]
    public void Stories260K_PromptLogitsAndGreedy128_MatchLlamaCpp()
    {
        LlamaCppGolden g = LlamaCppGolden.Load("stories260K-f32");
        Assert.Equal(g.ModelSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(TestPaths.DefaultModel))));
        using Model model = Model.Load(TestPaths.DefaultModel);
        Assert.Equal(g.PromptTokens, model.Tokenizer.EncodeToIds(g.Prompt));
        using InferenceSession session = model.CreateSession(new SessionOptions { Threads = 1 });

        float[] all = session.EvaluateAll(g.PromptTokens);
        double worst = 0;
        for (int p = 0; p < g.PromptTokens.Length; p++)
            worst = Math.Max(worst, LlamaCppGolden.MaxAbsDiff(all.AsSpan(p * g.VocabularySize, g.VocabularySize), g.PromptLogits[p]));
        output.WriteLine($"prompt logits: max |TinyLM - llama.cpp| = {worst:E2}");
        Assert.True(worst == 0, $"prompt logits differ from llama.cpp by {worst:E2}");

        var tokens = new List<int>();
        double worstStep = 0;
        ReadOnlySpan<float> logits = session.Logits;
        for (int i = 0; i < g.GeneratedTokens.Length; i++)
        {
            int next = Sampler.ArgMax(logits);
            tokens.Add(next);
            Assert.True(next == g.GeneratedTokens[i], $"token {i}: TinyLM {next}, llama.cpp {g.GeneratedTokens[i]}");
            if (i == g.GeneratedTokens.Length - 1)
                break;
            logits = session.Decode(next);
            if (i < g.StepLogits.Length)
                worstStep = Math.Max(worstStep, LlamaCppGolden.MaxAbsDiff(logits, g.StepLogits[i]));
        }
        output.WriteLine($"decode logits over {g.StepLogits.Length} steps: max diff {worstStep:E2}");
        Assert.True(worstStep == 0, $"decode logits differ from llama.cpp by {worstStep:E2}");
        byte[] pieces = tokens.SelectMany(t => model.Tokenizer.GetPieceBytes(t).ToArray()).ToArray();
        Assert.Equal(g.GeneratedText, System.Text.Encoding.UTF8.GetString(pieces));
    }

    [Fact]
    public async Task Stories260K_GenerateAsyncGreedy_StreamsLlamaCppText()
    {
        LlamaCppGolden g = LlamaCppGolden.Load("stories260K-f32");
        using Model model = Model.Load(TestPaths.DefaultModel);
        using InferenceSession session = model.CreateSession(new SessionOptions { Threads = 1 });
        var text = new System.Text.StringBuilder();
        await foreach (string piece in session.GenerateAsync(g.Prompt, new GenerationOptions { Temperature = 0, MaxTokens = g.GeneratedTokens.Length }))
            text.Append(piece);
        Assert.Equal(g.GeneratedText, text.ToString());
        int[] expected = g.GeneratedTokens.Where(t => !model.Vocabulary.IsEndOfGeneration(t)).ToArray();
        Assert.Equal(expected, session.LastResult!.Tokens);
    }

    public static TheoryData<int, string> RandomModels()
    {
        var data = new TheoryData<int, string>();
        foreach (int kv in new[] { 6, 2 })
            foreach (string type in new[] { "f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "iq4_nl" })
                data.Add(kv, type);
        return data;
    }

    /// <summary>
    /// The super-block types (rows of 256), in the stories15M-256 shape with 4 and 2 KV heads and the
    /// 512-token vocabulary of stories260K (small embedding and output matrices keep the reference
    /// quantization of each model quick).
    /// </summary>
    public static TheoryData<int, string> RandomSuperBlockModels()
    {
        var data = new TheoryData<int, string>();
        foreach (int kv in new[] { 4, 2 })
            foreach (string type in new[] { "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "tq1_0", "tq2_0" })
                data.Add(kv, type);
        return data;
    }

    [Theory]
    [MemberData(nameof(RandomSuperBlockModels))]
    public void RandomStories15M256Shape_Greedy64AndLogits_MatchLlamaCppExactly(int kvHeads, string type) =>
        CheckRandomModel($"stories15M-256-kv{kvHeads}-{type}", RandomLlama.Stories15M256 with { HeadCountKV = kvHeads }, s_stories260KVocabulary.Value, type);

    [Theory]
    [MemberData(nameof(RandomModels))]
    public void RandomStories15MShape_Greedy64AndLogits_MatchLlamaCppExactly(int kvHeads, string type) =>
        CheckRandomModel($"stories15M-kv{kvHeads}-{type}", RandomLlama.Stories15M with { HeadCountKV = kvHeads }, s_llama2Vocabulary.Value, type);

    private void CheckRandomModel(string goldenName, RandomLlama.Shape shape, Vocabulary vocabulary, string type)
    {
        LlamaCppGolden g = LlamaCppGolden.Load(goldenName);
        Assert.True(TensorTypes.TryParse(type, out TensorType? t));
        byte[] bytes = RandomLlama.Create(shape, vocabulary, t, seed: 1).ToArray();
        Assert.Equal(g.ModelSha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        using Model model = Model.Load(bytes, g.Name);
        Assert.Equal(g.PromptTokens, model.Tokenizer.EncodeToIds(g.Prompt));
        using InferenceSession session = model.CreateSession(new SessionOptions { Threads = 2 });
        ReadOnlySpan<float> logits = session.Evaluate(g.PromptTokens);
        double diff = LlamaCppGolden.MaxAbsDiff(logits, g.PromptLogits[^1]);
        output.WriteLine($"{g.Name}: last prompt logits max diff {diff:E2}");
        Assert.True(diff == 0, $"{g.Name}: prompt logits differ from llama.cpp by {diff:E2}");
        for (int i = 0; i < g.GeneratedTokens.Length; i++)
        {
            int next = Sampler.ArgMax(logits);
            Assert.True(next == g.GeneratedTokens[i], $"{g.Name}: token {i}: TinyLM {next}, llama.cpp {g.GeneratedTokens[i]}");
            if (i == g.GeneratedTokens.Length - 1)
                break;
            logits = session.Decode(next);
            if (i < g.StepLogits.Length)
                Assert.True(LlamaCppGolden.MaxAbsDiff(logits, g.StepLogits[i]) == 0, $"{g.Name}: decode step {i} logits differ");
        }
    }
}
