namespace TinyLM.Generation;

/// <summary>Why generation ended.</summary>
public enum StopReason
{
    /// <summary>An end-of-generation token (EOS/EOT) was sampled.</summary>
    EndOfSequence,
    /// <summary><see cref="GenerationOptions.MaxTokens"/> tokens were generated.</summary>
    MaxTokens,
    /// <summary>A stop string appeared.</summary>
    StopString,
    /// <summary>The KV cache is full (<see cref="SessionOptions.ContextLength"/>).</summary>
    ContextFull,
    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>Durations and rates of one generation, as llama.cpp's <c>llama_perf_context</c> reports them.</summary>
/// <param name="PromptTokens">Prompt tokens evaluated (prefill).</param>
/// <param name="PromptMilliseconds">Wall time of the prefill, in ms.</param>
/// <param name="GeneratedTokens">Tokens sampled.</param>
/// <param name="GenerationMilliseconds">Wall time from the end of the prefill to the last token, in ms (decode and sampling).</param>
/// <param name="TimeToFirstTokenMilliseconds">Wall time from the call to the first sampled token, in ms.</param>
public sealed record GenerationTimings(int PromptTokens, double PromptMilliseconds, int GeneratedTokens,
    double GenerationMilliseconds, double TimeToFirstTokenMilliseconds)
{
    /// <summary>Prefill rate, tokens per second.</summary>
    public double PromptTokensPerSecond => PromptMilliseconds > 0 ? PromptTokens * 1000.0 / PromptMilliseconds : 0;

    /// <summary>Decode rate, tokens per second (first sampled token excluded, as it comes from the prefill's logits).</summary>
    public double GenerationTokensPerSecond => GenerationMilliseconds > 0 && GeneratedTokens > 1
        ? (GeneratedTokens - 1) * 1000.0 / GenerationMilliseconds : 0;
}

/// <summary>The outcome of one generation.</summary>
/// <param name="Text">The generated text (without the prompt and without a stop string).</param>
/// <param name="Tokens">The generated token ids.</param>
/// <param name="StopReason">Why it ended.</param>
/// <param name="Timings">Durations and rates.</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> Tokens, StopReason StopReason, GenerationTimings Timings);
