using TinyLM.Sampling;

namespace TinyLM.Generation;

/// <summary>Options of one <see cref="InferenceSession.GenerateAsync"/> call: sampling plus stop conditions.</summary>
public sealed record GenerationOptions : SamplingOptions
{
    /// <summary>Most tokens to generate (llama.cpp <c>n_predict</c>); -1 means until EOS or the context is full. Default 256.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Generation stops when the text contains one of these; the stop string is not returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Keep generating past end-of-generation tokens (EOS/EOT). Default false.</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Add the vocabulary's BOS (and EOS) when the session is empty, as llama.cpp's <c>add_special</c>. Default true.</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>Recognize special-token text such as <c>&lt;s&gt;</c> in the prompt (llama.cpp <c>parse_special</c>). Default false.</summary>
    public bool ParseSpecialTokens { get; init; }

    /// <inheritdoc/>
    public override void Validate()
    {
        base.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTokens, -1);
        ArgumentNullException.ThrowIfNull(Stop);
        foreach (string s in Stop)
            if (string.IsNullOrEmpty(s))
                throw new ArgumentException("Stop strings must not be empty.", nameof(Stop));
    }
}
