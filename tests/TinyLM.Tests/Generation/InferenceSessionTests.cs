using System.Text;
using TinyLM.Generation;
using TinyLM.Formats.SentencePiece;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Tests.Generation;

public sealed class InferenceSessionTests : IDisposable
{
    private readonly Model _model = Model.Load(TestPaths.DefaultModel);

    public void Dispose() => _model.Dispose();

    private int[] Prompt => _model.Tokenizer.EncodeToIds("Once upon a time, there was a little girl");

    private static async Task<(string Text, GenerationResult Result)> Generate(InferenceSession session, string prompt, GenerationOptions options, CancellationToken ct = default)
    {
        var sb = new StringBuilder();
        await foreach (string piece in session.GenerateAsync(prompt, options, ct))
            sb.Append(piece);
        return (sb.ToString(), session.LastResult!);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(64)]
    public void BatchedPrefill_EqualsTokenByTokenDecode(int batchSize)
    {
        int[] prompt = Prompt;
        using InferenceSession batched = _model.CreateSession(new SessionOptions { BatchSize = batchSize, Threads = 1 });
        float[] all = batched.EvaluateAll(prompt);
        using InferenceSession single = _model.CreateSession(new SessionOptions { BatchSize = 1, Threads = 1 });
        int v = _model.VocabularySize;
        for (int i = 0; i < prompt.Length; i++)
        {
            float[] step = single.Decode(prompt[i]).ToArray();
            Assert.Equal(step, all.AsSpan(i * v, v).ToArray());
        }
        Assert.Equal(prompt.Length, batched.Position);
    }

    /// <summary>
    /// Asked only for the last token's logits, the last layer runs its attention, output projection and FFN for that
    /// token alone (after caching every token's keys and values): the logits are those of <see cref="InferenceSession.EvaluateAll"/>'s
    /// last row, bit for bit, in whole and split batches, and later decode steps (which read the whole KV cache) agree too.
    /// </summary>
    [Theory]
    [InlineData(64)]
    [InlineData(5)]
    public void LastTokenLogits_EqualLastRowOfAllLogits_AndLaterStepsAgree(int batchSize)
    {
        int[] prompt = Prompt;
        int v = _model.VocabularySize;
        using InferenceSession last = _model.CreateSession(new SessionOptions { BatchSize = batchSize, Threads = 1 });
        using InferenceSession all = _model.CreateSession(new SessionOptions { BatchSize = batchSize, Threads = 1 });
        float[] lastLogits = last.Evaluate(prompt).ToArray();
        float[] allLogits = all.EvaluateAll(prompt);
        Assert.Equal(allLogits.AsSpan((prompt.Length - 1) * v, v).ToArray(), lastLogits);
        foreach (int token in new[] { 5, 17, 3 })
            Assert.Equal(all.Decode(token).ToArray(), last.Decode(token).ToArray());
    }

    [Fact]
    public void TwoThreads_GiveIdenticalLogits()
    {
        using InferenceSession one = _model.CreateSession(new SessionOptions { Threads = 1 });
        using InferenceSession two = _model.CreateSession(new SessionOptions { Threads = 2 });
        Assert.Equal(one.EvaluateAll(Prompt), two.EvaluateAll(Prompt));
        Assert.Equal(2, two.Threads);
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("q4_K")]
    public void TwoThreads_LongPrompt_GiveIdenticalLogits(string type)
    {
        // 80 tokens × 288 (K-quants: 256) channels: large enough that the norms, the activation conversions and SwiGLU
        // of the batch are split over the threads too (Blocks.RowsJob), and the matrices are panels.
        Vocabulary vocabulary = SentencePieceModel.Read(Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model"));
        Assert.True(TensorTypes.TryParse(type, out TensorType? t));
        using Model model = Model.Load(RandomLlama.Create(type == "q4_K" ? RandomLlama.Stories15M256 : RandomLlama.Stories15M, vocabulary, t, seed: 3).ToArray(), "random");
        var rng = new Random(4);
        int[] prompt = Enumerable.Range(0, 80).Select(i => i == 0 ? 1 : rng.Next(model.VocabularySize)).ToArray();
        using InferenceSession one = model.CreateSession(new SessionOptions { Threads = 1, BatchSize = 80 });
        using InferenceSession two = model.CreateSession(new SessionOptions { Threads = 2, BatchSize = 80 });
        float[] expected = one.EvaluateAll(prompt);
        Assert.Equal(expected, two.EvaluateAll(prompt));
        Assert.Equal(one.Decode(5).ToArray(), two.Decode(5).ToArray());
    }

    [Fact]
    public void TruncateAndReevaluate_ReproducesLogits()
    {
        using InferenceSession s = _model.CreateSession();
        int[] prompt = Prompt;
        float[] first = s.Evaluate(prompt).ToArray();
        s.Truncate(3);
        Assert.Equal(3, s.Position);
        Assert.Equal(first, s.Evaluate(prompt.AsSpan(3)).ToArray());
        s.Reset();
        Assert.Equal(0, s.Position);
        Assert.Equal(first, s.Evaluate(prompt).ToArray());
    }

    [Fact]
    public void EvaluatePastContext_ThrowsInvalidOperation()
    {
        using InferenceSession s = _model.CreateSession(new SessionOptions { ContextLength = 8 });
        s.Evaluate([1, 2, 3, 4, 5, 6]);
        var e = Assert.Throws<InvalidOperationException>(() => s.Evaluate([7, 8, 9]));
        Assert.Contains("context length 8", e.Message);
        Assert.Equal(6, s.Position);
    }

    [Fact]
    public void BadTokenOrEmptyInput_ThrowsArgumentException()
    {
        using InferenceSession s = _model.CreateSession();
        Assert.Throws<ArgumentException>(() => s.Evaluate([_model.VocabularySize]));
        Assert.Throws<ArgumentException>(() => s.Evaluate([-1]));
        Assert.Throws<ArgumentException>(() => s.Evaluate([]));
        Assert.Equal(0, s.Position);
    }

    [Fact]
    public async Task Generate_StopsAtMaxTokensAndReportsTimings()
    {
        using InferenceSession s = _model.CreateSession();
        var (text, r) = await Generate(s, "Once upon a time", new GenerationOptions { MaxTokens = 10, Temperature = 0, IgnoreEos = true });
        Assert.Equal(StopReason.MaxTokens, r.StopReason);
        Assert.Equal(10, r.Tokens.Count);
        Assert.Equal(text, r.Text);
        Assert.Equal(_model.Tokenizer.EncodeToIds("Once upon a time").Length, r.Timings.PromptTokens);
        Assert.Equal(10, r.Timings.GeneratedTokens);
        Assert.True(r.Timings.PromptMilliseconds > 0 && r.Timings.GenerationMilliseconds > 0);
        Assert.True(r.Timings.GenerationTokensPerSecond > 0);
    }

    [Fact]
    public async Task Generate_SameSeedSameText_DifferentSeedDifferentText()
    {
        async Task<string> Run(ulong seed)
        {
            using InferenceSession s = _model.CreateSession();
            return (await Generate(s, "Once upon a time", new GenerationOptions { MaxTokens = 60, Temperature = 1.0f, Seed = seed, IgnoreEos = true })).Text;
        }
        string a = await Run(5);
        Assert.Equal(a, await Run(5));
        Assert.NotEqual(a, await Run(6));
    }

    [Fact]
    public async Task Generate_StopString_EndsBeforeIt()
    {
        using InferenceSession reference = _model.CreateSession();
        var (full, _) = await Generate(reference, "Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0 });
        int at = full.IndexOf("Lily", StringComparison.Ordinal);
        Assert.True(at > 0, full);
        using InferenceSession s = _model.CreateSession();
        var (text, r) = await Generate(s, "Once upon a time", new GenerationOptions { MaxTokens = 40, Temperature = 0, Stop = ["Lily"] });
        Assert.Equal(StopReason.StopString, r.StopReason);
        Assert.Equal(full[..at], text);
    }

    [Fact]
    public async Task Generate_ContextFull_Stops()
    {
        using InferenceSession s = _model.CreateSession(new SessionOptions { ContextLength = 16 });
        var (_, r) = await Generate(s, "Once upon a time", new GenerationOptions { MaxTokens = 100, Temperature = 0, IgnoreEos = true });
        Assert.Equal(StopReason.ContextFull, r.StopReason);
        Assert.Equal(16, s.Position); // every KV slot used
        Assert.Equal(17, s.Tokens.Count); // plus the last sampled token, returned but not evaluated
    }

    [Fact]
    public async Task Generate_PromptTooLong_ThrowsInvalidOperation()
    {
        using InferenceSession s = _model.CreateSession(new SessionOptions { ContextLength = 4 });
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Generate(s, "Once upon a time there was a girl", new GenerationOptions()));
    }

    [Fact]
    public async Task Generate_Cancelled_StopsWithinOneToken()
    {
        using InferenceSession s = _model.CreateSession();
        using var cts = new CancellationTokenSource();
        int pieces = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (string _ in s.GenerateAsync("Once upon a time", new GenerationOptions { MaxTokens = 200, IgnoreEos = true }, cts.Token))
                if (++pieces == 3)
                    cts.Cancel();
        });
        Assert.Equal(StopReason.Cancelled, s.LastResult!.StopReason);
        Assert.InRange(s.LastResult.Tokens.Count, 3, 4);
    }

    [Fact]
    public async Task Generate_ContinuesAConversation()
    {
        using InferenceSession s = _model.CreateSession();
        var options = new GenerationOptions { MaxTokens = 8, Temperature = 0, IgnoreEos = true };
        var (first, r1) = await Generate(s, "Once upon a time", options);
        int afterFirst = s.Tokens.Count;
        var (second, _) = await Generate(s, " The end.", options);
        Assert.True(s.Tokens.Count > afterFirst + 8);
        Assert.Equal(1, s.Tokens.Count(t => t == _model.Vocabulary.BosTokenId));
        Assert.NotEmpty(first + second);
        Assert.Equal(8, r1.Tokens.Count);
    }

    [Fact]
    public async Task Generate_WhileRunning_ThrowsInvalidOperation()
    {
        using InferenceSession s = _model.CreateSession();
        await using var e = s.GenerateAsync("Once", new GenerationOptions { MaxTokens = 5 }).GetAsyncEnumerator();
        Assert.True(await e.MoveNextAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (string _ in s.GenerateAsync("Again")) { }
        });
    }

    [Fact]
    public void RewindToCommonPrefix_KeepsSharedTokensAndGivesTheSameLogits()
    {
        using InferenceSession s = _model.CreateSession();
        int[] a = _model.Tokenizer.EncodeToIds("Once upon a time, there was a dog");
        int[] b = _model.Tokenizer.EncodeToIds("Once upon a time, there was a cat named Tom");
        s.Evaluate(a);
        int shared = 0;
        while (a[shared] == b[shared]) shared++;
        Assert.Equal(shared, s.RewindToCommonPrefix(b));
        float[] reused = s.Evaluate(b.AsSpan(shared)).ToArray();
        using InferenceSession fresh = _model.CreateSession();
        Assert.Equal(fresh.Evaluate(b).ToArray(), reused);
        // The same sequence again keeps all but the last token, so there is always something to evaluate.
        Assert.Equal(b.Length - 1, s.RewindToCommonPrefix(b));
    }

    [Fact]
    public void TextGeneration_StepsEndWithNullAndFreeTheSession()
    {
        using InferenceSession s = _model.CreateSession();
        using (TextGeneration g = s.StartGeneration("Once upon a time", new GenerationOptions { MaxTokens = 3, Temperature = 0 }))
        {
            Assert.Throws<InvalidOperationException>(() => s.StartGeneration("again"));
            int steps = 0;
            while (g.Step() is not null) steps++;
            Assert.True(g.IsCompleted);
            Assert.Null(g.Step());
            Assert.Equal(3, g.Result!.Tokens.Count);
            Assert.InRange(steps, 3, 4);
            Assert.Same(g.Result, s.LastResult);
        }
        using (TextGeneration cancelled = s.StartGeneration(" more", new GenerationOptions { MaxTokens = 50 }))
        {
            cancelled.Step();
            cancelled.Cancel();
            Assert.Equal(StopReason.Cancelled, cancelled.Result!.StopReason);
            Assert.Null(cancelled.Step());
        }
        using TextGeneration zero = s.StartGeneration(" x", new GenerationOptions { MaxTokens = 0 });
        Assert.Null(zero.Step());
        Assert.Empty(zero.Result!.Tokens);
        Assert.Throws<ArgumentException>(() => s.StartGeneration([_model.VocabularySize]));
    }
}
