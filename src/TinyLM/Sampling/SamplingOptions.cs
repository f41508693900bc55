namespace TinyLM.Sampling;

/// <summary>
/// How the next token is chosen from the logits. Defaults are llama.cpp's (<c>common_params_sampling</c>)
/// except the seed, which is fixed so that runs are reproducible unless a seed is given.
/// </summary>
/// <remarks>
/// The chain, in order (as llama.cpp's default sampler chain): repetition/frequency/presence
/// penalties over the last <see cref="RepeatLastN"/> tokens → top-k → top-p → min-p → temperature →
/// a draw with <see cref="XorShiftRandom"/>. A temperature of 0 (or below) is greedy: the penalties
/// apply, then the first index of the largest logit wins.
/// </remarks>
public record SamplingOptions
{
    /// <summary>Softmax temperature; ≤ 0 selects greedy decoding. Default 0.8.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep only the k most likely tokens; ≤ 0 disables. Default 40.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Nucleus sampling (Holtzman et al., 2019): keep the smallest set whose probability reaches p; 1 disables. Default 0.95.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Keep tokens with probability at least <c>MinP × p_max</c>; 0 disables. Default 0.05.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Repetition penalty (Keskar et al., 2019, CTRL): positive logits of recent tokens are divided by it, negative ones multiplied; 1 disables. Default 1.</summary>
    public float RepeatPenalty { get; init; } = 1f;

    /// <summary>How many recent tokens the penalties look at; 0 disables, −1 means the whole context. Default 64.</summary>
    public int RepeatLastN { get; init; } = 64;

    /// <summary>Subtracted from a recent token's logit once per occurrence (OpenAI's frequency_penalty). Default 0.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>Subtracted once from the logit of any recent token (OpenAI's presence_penalty). Default 0.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Seed of the sampler's random generator; the same seed gives the same tokens everywhere. Default 42.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range or not finite.</exception>
    public virtual void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok)
                throw new ArgumentOutOfRangeException(name, value, rule);
        }
        Check(float.IsFinite(Temperature), nameof(Temperature), Temperature, "must be finite");
        Check(TopP is >= 0f and <= 1f, nameof(TopP), TopP, "must be in [0, 1]");
        Check(MinP is >= 0f and <= 1f, nameof(MinP), MinP, "must be in [0, 1]");
        Check(float.IsFinite(RepeatPenalty) && RepeatPenalty > 0f, nameof(RepeatPenalty), RepeatPenalty, "must be positive");
        Check(RepeatLastN >= -1, nameof(RepeatLastN), RepeatLastN, "must be -1 or more");
        Check(float.IsFinite(FrequencyPenalty), nameof(FrequencyPenalty), FrequencyPenalty, "must be finite");
        Check(float.IsFinite(PresencePenalty), nameof(PresencePenalty), PresencePenalty, "must be finite");
    }
}
