using System.Text.Json;
using System.Text.Json.Serialization;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Browser;

/// <summary>Options of <c>lm.generate</c>, as the JavaScript API passes them (camelCase JSON).</summary>
internal sealed record GenerateOptions
{
    public int? MaxTokens { get; init; }
    public float? Temperature { get; init; }
    public int? TopK { get; init; }
    public float? TopP { get; init; }
    public float? MinP { get; init; }
    public float? RepeatPenalty { get; init; }
    public int? RepeatLastN { get; init; }
    public float? FrequencyPenalty { get; init; }
    public float? PresencePenalty { get; init; }
    public ulong? Seed { get; init; }
    public string[]? Stop { get; init; }
    public bool? IgnoreEos { get; init; }

    /// <exception cref="ArgumentException">Malformed JSON or a value of the wrong type.</exception>
    public static GenerateOptions Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, BrowserJson.Default.GenerateOptions) ?? new GenerateOptions();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"Invalid generation options: {e.Message}", nameof(json), e);
        }
    }

    public GenerationOptions ToGenerationOptions()
    {
        var d = new GenerationOptions();
        var o = new GenerationOptions
        {
            MaxTokens = MaxTokens ?? d.MaxTokens,
            Temperature = Temperature ?? d.Temperature,
            TopK = TopK ?? d.TopK,
            TopP = TopP ?? d.TopP,
            MinP = MinP ?? d.MinP,
            RepeatPenalty = RepeatPenalty ?? d.RepeatPenalty,
            RepeatLastN = RepeatLastN ?? d.RepeatLastN,
            FrequencyPenalty = FrequencyPenalty ?? d.FrequencyPenalty,
            PresencePenalty = PresencePenalty ?? d.PresencePenalty,
            Seed = Seed ?? d.Seed,
            Stop = Stop ?? [],
            IgnoreEos = IgnoreEos ?? false,
        };
        o.Validate();
        return o;
    }
}

/// <summary>What <c>lm.info</c> reports from the engine's side.</summary>
internal sealed record ModelInfo(string Architecture, string Name, long Parameters, string Quantization, long WeightBytes,
    int TrainedContextLength, int ContextLength, int VocabularySize, long KVCacheBytes, string? ChatTemplate, string Kernels, int Threads, bool RelaxedSimd,
    int WidenedMatrices, int WideQ6_KMatrices)
{
    public static ModelInfo From(Model m, InferenceSession s, int threads, bool relaxedSimd, int widenedMatrices, int wideQ6_KMatrices)
    {
        // The quantization is the type holding most of the weight bytes (as llama.cpp's file type names it).
        string quantization = m.File.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize)).First().Key is GgmlType type
            && TensorTypes.TryGet(type, out TensorType? tt) ? tt.Name.ToUpperInvariant() : "unknown";
        return new ModelInfo(m.Architecture, m.Name, m.ParameterCount, quantization, m.WeightBytes, m.ContextLength,
            s.ContextLength, m.VocabularySize, s.KVCacheBytes, m.Vocabulary.ChatTemplate, s.Kernels.Name, threads, relaxedSimd, widenedMatrices, wideQ6_KMatrices);
    }
}

/// <summary>A finished generation for JavaScript.</summary>
internal sealed record GenerationSummary(string Text, int PromptTokens, int CompletionTokens, string StopReason,
    double PromptMs, double GenerationMs, double TimeToFirstTokenMs, double PromptTokensPerSecond, double TokensPerSecond)
{
    public static GenerationSummary From(GenerationResult r) => new(r.Text, r.Timings.PromptTokens, r.Tokens.Count,
        r.StopReason.ToString(), r.Timings.PromptMilliseconds, r.Timings.GenerationMilliseconds, r.Timings.TimeToFirstTokenMilliseconds,
        r.Timings.PromptTokensPerSecond, r.Timings.GenerationTokensPerSecond);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(GenerateOptions))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(GenerationSummary))]
[JsonSerializable(typeof(ChatMessage[]))]
internal sealed partial class BrowserJson : JsonSerializerContext;
