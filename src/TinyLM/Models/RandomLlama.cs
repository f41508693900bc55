using TinyLM.Formats.Gguf;
using TinyLM.Formats.Llama2c;
using TinyLM.Quantization;
using TinyLM.Sampling;
using TinyLM.Tokenizers;

namespace TinyLM.Models;

/// <summary>
/// Builds Llama models with deterministic random weights around a real vocabulary, in the shapes of
/// well-known small models — the test and benchmark models that TinyLM and llama.cpp both run.
/// </summary>
/// <remarks>
/// Weights are uniform with standard deviation 1/√cols (token embedding: 1; output: 3/√n_embd, so
/// logits spread over a few units and greedy choices are not near-ties), norm gains 1 ± 0.1, all
/// drawn from <see cref="XorShiftRandom"/> seeded with <c>seed</c>: the same arguments give the same
/// bytes on every machine. Matrices are quantized with the type's <see cref="TensorType.QuantizeReference"/>.
/// </remarks>
public static class RandomLlama
{
    /// <summary>A model shape.</summary>
    /// <param name="Name">Name written to <c>general.name</c>.</param>
    /// <param name="EmbeddingLength">n_embd.</param>
    /// <param name="BlockCount">n_layer.</param>
    /// <param name="HeadCount">n_head.</param>
    /// <param name="HeadCountKV">n_head_kv.</param>
    /// <param name="FeedForwardLength">n_ff.</param>
    /// <param name="ContextLength">n_ctx_train.</param>
    public sealed record Shape(string Name, int EmbeddingLength, int BlockCount, int HeadCount, int HeadCountKV, int FeedForwardLength, int ContextLength);

    /// <summary>stories15M (llama2.c): dim 288, 6 layers, 6 heads, FFN 768, context 256.</summary>
    public static readonly Shape Stories15M = new("stories15M", 288, 6, 6, 6, 768, 256);

    /// <summary>
    /// The stories15M layout with every row a multiple of 256, for the super-block types (Q2_K … Q6_K,
    /// TQ1_0, TQ2_0), which stories15M's 288 columns do not fit: dim 256, 6 layers, 4 heads (head size
    /// 64), FFN 768, context 256.
    /// </summary>
    public static readonly Shape Stories15M256 = new("stories15M-256", 256, 6, 4, 4, 768, 256);

    /// <summary>stories110M (llama2.c): dim 768, 12 layers, 12 heads, FFN 2048, context 1024.</summary>
    public static readonly Shape Stories110M = new("stories110M", 768, 12, 12, 12, 2048, 1024);

    /// <summary>SmolLM-135M: dim 576, 30 layers, 9 heads, 3 KV heads, FFN 1536, context 2048.</summary>
    public static readonly Shape SmolLM135M = new("SmolLM-135M", 576, 30, 9, 3, 1536, 2048);

    /// <summary>TinyLlama-1.1B: dim 2048, 22 layers, 32 heads, 4 KV heads, FFN 5632, context 2048.</summary>
    public static readonly Shape TinyLlama1B = new("TinyLlama-1.1B", 2048, 22, 32, 4, 5632, 2048);

    /// <summary>The named shapes, by lower-case name.</summary>
    public static IReadOnlyDictionary<string, Shape> Shapes { get; } = new Dictionary<string, Shape>(StringComparer.OrdinalIgnoreCase)
    {
        ["stories15m"] = Stories15M,
        ["stories15m-256"] = Stories15M256,
        ["stories110m"] = Stories110M,
        ["smollm-135m"] = SmolLM135M,
        ["tinyllama-1.1b"] = TinyLlama1B,
    };

    /// <summary>Builds the model.</summary>
    /// <param name="shape">Dimensions.</param>
    /// <param name="vocabulary">Vocabulary written into the file; its size sets n_vocab.</param>
    /// <param name="matrixType">Type of every weight matrix (norm gains stay F32); rows must divide into its blocks.</param>
    /// <param name="seed">Random seed.</param>
    /// <param name="tiedOutput">Write no <c>output.weight</c>: the output projection is the token embedding (SmolLM, Qwen2, Gemma).</param>
    /// <returns>A writer holding the model.</returns>
    /// <exception cref="ArgumentException">The shape is inconsistent or rows do not divide into blocks.</exception>
    public static GgufWriter Create(Shape shape, Vocabulary vocabulary, TensorType matrixType, ulong seed, bool tiedOutput = false)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(matrixType);
        int dim = shape.EmbeddingLength, ff = shape.FeedForwardLength, heads = shape.HeadCount, kvHeads = shape.HeadCountKV;
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0)
            throw new ArgumentException($"Inconsistent shape {shape}.", nameof(shape));
        if (dim % matrixType.BlockSize != 0 || ff % matrixType.BlockSize != 0)
            throw new ArgumentException($"{matrixType.Name} needs rows divisible by {matrixType.BlockSize}; {shape.Name} has {dim} and {ff}.", nameof(matrixType));
        int kvDim = kvHeads * (dim / heads), vocab = vocabulary.Count;
        var rng = new XorShiftRandom(seed);

        var w = new GgufWriter();
        GgufMetadata m = w.Metadata;
        m.Set("general.architecture", GgufValue.FromString("llama"));
        m.Set("general.name", GgufValue.FromString($"{shape.Name} random (seed {seed})"));
        m.Set("general.file_type", GgufValue.FromUInt32(Llama2cConverter.FileType(matrixType)));
        if (matrixType.IsQuantized)
            m.Set("general.quantization_version", GgufValue.FromUInt32(2));
        m.Set("llama.context_length", GgufValue.FromUInt32((uint)shape.ContextLength));
        m.Set("llama.embedding_length", GgufValue.FromUInt32((uint)dim));
        m.Set("llama.block_count", GgufValue.FromUInt32((uint)shape.BlockCount));
        m.Set("llama.feed_forward_length", GgufValue.FromUInt32((uint)ff));
        m.Set("llama.rope.dimension_count", GgufValue.FromUInt32((uint)(dim / heads)));
        m.Set("llama.attention.head_count", GgufValue.FromUInt32((uint)heads));
        m.Set("llama.attention.head_count_kv", GgufValue.FromUInt32((uint)kvHeads));
        m.Set("llama.attention.layer_norm_rms_epsilon", GgufValue.FromFloat32(1e-5f));
        m.Set("llama.rope.freq_base", GgufValue.FromFloat32(10000f));
        vocabulary.WriteTo(m);

        void Matrix(string name, int rows, int cols, float std)
        {
            float a = std * MathF.Sqrt(3f);
            var row = new float[cols];
            int rowBytes = (int)matrixType.RowBytes(cols);
            var bytes = new byte[checked((long)rowBytes * rows)];
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                    row[c] = (2f * rng.NextSingle() - 1f) * a;
                matrixType.QuantizeReference(row, bytes.AsSpan(r * rowBytes, rowBytes));
            }
            w.AddTensor(name, matrixType.Type, [cols, rows], bytes);
        }

        void Gain(string name)
        {
            var g = new float[dim];
            for (int i = 0; i < dim; i++)
                g[i] = 1f + 0.2f * (rng.NextSingle() - 0.5f);
            w.AddTensor(name, [dim], g);
        }

        Matrix("token_embd.weight", vocab, dim, 1f);
        Gain("output_norm.weight");
        if (!tiedOutput)
            Matrix("output.weight", vocab, dim, 3f / MathF.Sqrt(dim));
        for (int l = 0; l < shape.BlockCount; l++)
        {
            string p = $"blk.{l}.";
            Gain(p + "attn_norm.weight");
            Matrix(p + "attn_q.weight", dim, dim, 1f / MathF.Sqrt(dim));
            Matrix(p + "attn_k.weight", kvDim, dim, 1f / MathF.Sqrt(dim));
            Matrix(p + "attn_v.weight", kvDim, dim, 1f / MathF.Sqrt(dim));
            Matrix(p + "attn_output.weight", dim, dim, 1f / MathF.Sqrt(dim));
            Gain(p + "ffn_norm.weight");
            Matrix(p + "ffn_gate.weight", ff, dim, 1f / MathF.Sqrt(dim));
            Matrix(p + "ffn_down.weight", dim, ff, 1f / MathF.Sqrt(ff));
            Matrix(p + "ffn_up.weight", ff, dim, 1f / MathF.Sqrt(dim));
        }
        return w;
    }
}
