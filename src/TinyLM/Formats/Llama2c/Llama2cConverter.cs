using System.Runtime.InteropServices;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Formats.Llama2c;

/// <summary>
/// Converts a llama2.c checkpoint and its vocabulary into a GGUF <c>llama</c> model that TinyLM and
/// llama.cpp both load (the job of llama.cpp's examples/convert-llama2c-to-ggml).
/// </summary>
public static class Llama2cConverter
{
    /// <summary>
    /// Builds the GGUF: <c>general.*</c>, the <c>llama.*</c> hyperparameters (RMS epsilon 1e-5 and RoPE
    /// base 10000, as llama2.c's run.c hard-codes), the vocabulary's <c>tokenizer.*</c> keys, and the
    /// tensors under llama.cpp's names. No <c>output.weight</c> is written when the classifier is shared.
    /// </summary>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="vocabulary">Its vocabulary; must have <see cref="Llama2cCheckpoint.VocabSize"/> tokens.</param>
    /// <param name="name">Value of <c>general.name</c>.</param>
    /// <param name="matrixType">Type of the weight matrices (F32 by default). A matrix whose rows do not
    /// divide into blocks of that type stays F32; norm gains are always F32.</param>
    /// <returns>A writer holding the model; call <see cref="GgufWriter.WriteTo(string)"/>.</returns>
    /// <exception cref="ArgumentException">The vocabulary size differs from the checkpoint's.</exception>
    public static GgufWriter ToGguf(Llama2cCheckpoint checkpoint, Vocabulary vocabulary, string name, TensorType? matrixType = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Count != checkpoint.VocabSize)
            throw new ArgumentException($"The vocabulary has {vocabulary.Count} tokens, the checkpoint expects {checkpoint.VocabSize}.", nameof(vocabulary));
        matrixType ??= TensorTypes.Get(GgmlType.F32);
        Llama2cCheckpoint c = checkpoint;
        var w = new GgufWriter();
        GgufMetadata m = w.Metadata;
        m.Set("general.architecture", GgufValue.FromString("llama"));
        m.Set("general.name", GgufValue.FromString(name));
        m.Set("general.file_type", GgufValue.FromUInt32(FileType(matrixType)));
        if (matrixType.IsQuantized)
            m.Set("general.quantization_version", GgufValue.FromUInt32(2));
        m.Set("llama.context_length", GgufValue.FromUInt32((uint)c.SeqLen));
        m.Set("llama.embedding_length", GgufValue.FromUInt32((uint)c.Dim));
        m.Set("llama.block_count", GgufValue.FromUInt32((uint)c.Layers));
        m.Set("llama.feed_forward_length", GgufValue.FromUInt32((uint)c.HiddenDim));
        m.Set("llama.rope.dimension_count", GgufValue.FromUInt32((uint)c.HeadSize));
        m.Set("llama.attention.head_count", GgufValue.FromUInt32((uint)c.Heads));
        m.Set("llama.attention.head_count_kv", GgufValue.FromUInt32((uint)c.KVHeads));
        m.Set("llama.attention.layer_norm_rms_epsilon", GgufValue.FromFloat32(1e-5f));
        m.Set("llama.rope.freq_base", GgufValue.FromFloat32(10000f));
        vocabulary.WriteTo(m);

        void Matrix(string tensor, ReadOnlySpan<float> values, int rows, int cols)
        {
            TensorType type = cols % matrixType.BlockSize == 0 ? matrixType : TensorTypes.Get(GgmlType.F32);
            var bytes = new byte[checked(type.RowBytes(cols) * rows)];
            if (type.Type == GgmlType.F32)
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
            else
                for (int r = 0; r < rows; r++)
                    type.QuantizeReference(values.Slice(r * cols, cols), bytes.AsSpan((int)(r * type.RowBytes(cols)), (int)type.RowBytes(cols)));
            w.AddTensor(tensor, type.Type, [cols, rows], bytes);
        }

        void Vector(string tensor, ReadOnlySpan<float> values) => w.AddTensor(tensor, [values.Length], values.ToArray());

        Matrix("token_embd.weight", c.TokenEmbedding, c.VocabSize, c.Dim);
        Vector("output_norm.weight", c.FinalNorm);
        if (!c.SharedClassifier)
            Matrix("output.weight", c.Classifier, c.VocabSize, c.Dim);
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk.{l}.";
            Vector(p + "attn_norm.weight", c.AttentionNorm(l));
            Matrix(p + "attn_q.weight", c.Wq(l), c.Dim, c.Dim);
            Matrix(p + "attn_k.weight", c.Wk(l), c.KVDim, c.Dim);
            Matrix(p + "attn_v.weight", c.Wv(l), c.KVDim, c.Dim);
            Matrix(p + "attn_output.weight", c.Wo(l), c.Dim, c.Dim);
            Vector(p + "ffn_norm.weight", c.FfnNorm(l));
            Matrix(p + "ffn_gate.weight", c.W1(l), c.HiddenDim, c.Dim);
            Matrix(p + "ffn_down.weight", c.W2(l), c.Dim, c.HiddenDim);
            Matrix(p + "ffn_up.weight", c.W3(l), c.HiddenDim, c.Dim);
        }
        return w;
    }

    /// <summary>
    /// <c>general.file_type</c> (llama.cpp <c>enum llama_ftype</c>) for a file whose matrices are
    /// <paramref name="type"/>: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q4_1 3, MOSTLY_Q8_0 7,
    /// MOSTLY_Q5_0 8, MOSTLY_Q5_1 9, MOSTLY_BF16 32.
    /// </summary>
    public static uint FileType(TensorType type) => type.Type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q4_1 => 3,
        GgmlType.Q8_0 => 7,
        GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9,
        GgmlType.Q2_K => 10,
        GgmlType.Q3_K => 12, // LLAMA_FTYPE_MOSTLY_Q3_K_M, llama-model-loader's guess for Q3_K files
        GgmlType.Q4_K => 15, // Q4_K_M
        GgmlType.Q5_K => 17, // Q5_K_M
        GgmlType.Q6_K => 18,
        GgmlType.IQ4_NL => 25,
        GgmlType.BF16 => 32,
        GgmlType.TQ1_0 => 36,
        GgmlType.TQ2_0 => 37,
        _ => throw new ArgumentException($"No llama.cpp file type for {type.Name} matrices.", nameof(type)),
    };
}
