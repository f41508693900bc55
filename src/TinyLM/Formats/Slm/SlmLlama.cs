using TinyLM.Formats.Gguf;
using TinyLM.Models;

namespace TinyLM.Formats.Slm;

/// <summary>
/// The Llama architecture in <c>.slm</c> terms: which GGUF keys the header's hyperparameters stand
/// for, how to read them from a GGUF file and write them back, and the tensor manifest (names and
/// shapes) that admission checks (docs/slm-format.md, "Architectures").
/// </summary>
internal static class SlmLlama
{
    public const string Name = Llama.ArchitectureName;

    /// <summary>Key suffixes after <c>llama.</c> that the header stands for.</summary>
    public static readonly string[] KeySuffixes =
    [
        "context_length", "embedding_length", "block_count", "feed_forward_length", "attention.head_count",
        "attention.head_count_kv", "attention.key_length", "attention.value_length", "rope.dimension_count",
        "attention.layer_norm_rms_epsilon", "rope.freq_base", "rope.scaling.type", "rope.scaling.factor", "rope.scale_linear",
    ];

    /// <summary>Reads the hyperparameters of a GGUF Llama model (validated as <see cref="LlamaConfig.FromGguf"/> does).</summary>
    /// <exception cref="ModelFormatException">A key is missing or invalid, or <c>token_embd.weight</c> is misshapen.</exception>
    public static SlmHyperparameters FromGguf(IModelFile file)
    {
        GgufMetadata m = file.Metadata;
        GgufTensorInfo embd = file.GetTensor("token_embd.weight");
        if (embd.Shape.Count != 2 || embd.Shape[1] is <= 0 or > SlmTokenizerMaxVocabulary)
            throw new ModelFormatException(file.Source, -1, $"tensor 'token_embd.weight': expected shape [n_embd, n_vocab], found {embd.ShapeText}");
        LlamaConfig c = LlamaConfig.FromGguf(m, (int)embd.Shape[1]);
        const string a = Name + ".";
        float factor = m.ContainsKey(a + "rope.scaling.factor") ? m.GetSingle(a + "rope.scaling.factor") : m.GetSingle(a + "rope.scale_linear", 1f);
        bool linear = c.RopeFreqScale != 1f;
        if (linear && 1f / factor != c.RopeFreqScale)
            throw new ModelFormatException(file.Source, m.OffsetOf(a + "rope.scaling.factor"), $"expected the RoPE scale 1/factor, found factor {factor} and scale {c.RopeFreqScale}");
        return new SlmHyperparameters
        {
            VocabularySize = (uint)c.VocabularySize,
            ContextLength = (uint)c.ContextLength,
            EmbeddingLength = (uint)c.EmbeddingLength,
            BlockCount = (uint)c.BlockCount,
            FeedForwardLength = (uint)c.FeedForwardLength,
            HeadCount = (uint)c.HeadCount,
            HeadCountKV = (uint)c.HeadCountKV,
            KeyLength = (uint)c.HeadDimension,
            ValueLength = (uint)c.HeadDimension,
            RopeDimensionCount = (uint)c.RopeDimensionCount,
            LayerNormRmsEpsilon = c.LayerNormRmsEpsilon,
            RopeFreqBase = c.RopeFreqBase,
            RopeScaling = linear ? SlmRopeScaling.Linear : SlmRopeScaling.None,
            RopeScalingFactor = linear ? factor : 1f,
        };
    }

    private const int SlmTokenizerMaxVocabulary = SlmTokenizer.MaxTokens;

    /// <summary>Writes the <c>llama.*</c> keys of the header, each with the byte offset of its header field.</summary>
    public static void WriteTo(GgufMetadata m, SlmHyperparameters p)
    {
        const string a = Name + ".";
        void U(string key, uint v, int at) => m.Set(a + key, GgufValue.FromUInt32(v), at);
        void F(string key, float v, int at) => m.Set(a + key, GgufValue.FromFloat32(v), at);
        U("context_length", p.ContextLength, SlmHeader.ContextLengthAt);
        U("embedding_length", p.EmbeddingLength, SlmHeader.EmbeddingLengthAt);
        U("block_count", p.BlockCount, SlmHeader.BlockCountAt);
        U("feed_forward_length", p.FeedForwardLength, SlmHeader.FeedForwardLengthAt);
        U("attention.head_count", p.HeadCount, SlmHeader.HeadCountAt);
        U("attention.head_count_kv", p.HeadCountKV, SlmHeader.HeadCountKVAt);
        U("attention.key_length", p.KeyLength, SlmHeader.KeyLengthAt);
        U("attention.value_length", p.ValueLength, SlmHeader.ValueLengthAt);
        U("rope.dimension_count", p.RopeDimensionCount, SlmHeader.RopeDimensionCountAt);
        F("attention.layer_norm_rms_epsilon", p.LayerNormRmsEpsilon, SlmHeader.RmsEpsilonAt);
        F("rope.freq_base", p.RopeFreqBase, SlmHeader.RopeFreqBaseAt);
        if (p.RopeScaling == SlmRopeScaling.Linear)
        {
            m.Set(a + "rope.scaling.type", GgufValue.FromString("linear"), SlmHeader.RopeScalingAt);
            F("rope.scaling.factor", p.RopeScalingFactor, SlmHeader.RopeScalingFactorAt);
        }
    }

    /// <summary>One tensor of the manifest: its shape (ggml <c>ne</c> order) and whether it must be present.</summary>
    public readonly record struct Expected(long[] Shape, bool Required);

    /// <summary>
    /// The tensors of a Llama model with configuration <paramref name="c"/> (llama.cpp
    /// src/models/llama.cpp; TinyLM's <see cref="Llama"/> binds the same list).
    /// </summary>
    public static Dictionary<string, Expected> Manifest(LlamaConfig c, bool tiedOutput)
    {
        long e = c.EmbeddingLength, v = c.VocabularySize, f = c.FeedForwardLength;
        long q = (long)c.HeadCount * c.HeadDimension, kv = (long)c.HeadCountKV * c.HeadDimension;
        var m = new Dictionary<string, Expected>(StringComparer.Ordinal)
        {
            ["token_embd.weight"] = new([e, v], true),
            ["output_norm.weight"] = new([e], true),
            ["rope_freqs.weight"] = new([c.RopeDimensionCount / 2], false),
        };
        if (!tiedOutput)
            m["output.weight"] = new([e, v], true);
        for (int l = 0; l < c.BlockCount; l++)
        {
            string p = $"blk.{l}.";
            m[p + "attn_norm.weight"] = new([e], true);
            m[p + "attn_q.weight"] = new([e, q], true);
            m[p + "attn_k.weight"] = new([e, kv], true);
            m[p + "attn_v.weight"] = new([e, kv], true);
            m[p + "attn_output.weight"] = new([q, e], true);
            m[p + "ffn_norm.weight"] = new([e], true);
            m[p + "ffn_gate.weight"] = new([e, f], true);
            m[p + "ffn_up.weight"] = new([e, f], true);
            m[p + "ffn_down.weight"] = new([f, e], true);
            m[p + "attn_q.bias"] = new([q], false);
            m[p + "attn_k.bias"] = new([kv], false);
            m[p + "attn_v.bias"] = new([kv], false);
            m[p + "attn_output.bias"] = new([e], false);
            m[p + "ffn_gate.bias"] = new([f], false);
            m[p + "ffn_up.bias"] = new([f], false);
            m[p + "ffn_down.bias"] = new([e], false);
        }
        return m;
    }
}
