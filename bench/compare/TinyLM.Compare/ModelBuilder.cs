using TinyLM.Formats.Gguf;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Sampling;
using TinyLM.Tokenizers;

namespace TinyLM.Compare;

/// <summary>
/// Writes the benchmark models: random-weight Llama models in the shapes of <see cref="RandomLlama"/>,
/// with the same random draws in the same order (so a Q8_0 or Q4_0 file is byte-identical to
/// <c>tinylm random-model</c>'s), rows quantized in parallel; and Q4_K_M, made as llama.cpp makes it:
/// the F32 model of the shape (same draws) quantized by TinyLM's <see cref="ModelQuantizer"/> with
/// <see cref="LlamaFileType.MostlyQ4_K_M"/> (llama.cpp's <c>llama_model_quantize</c>, byte for byte).
/// </summary>
internal static class ModelBuilder
{
    /// <summary>The types the harness knows: a single matrix type, or "q4_k_m" (a llama.cpp mix).</summary>
    public static readonly string[] KnownTypes = ["q8_0", "q4_0", "q4_k_m"];

    // Files of ModelQuantizer carry this suffix, so Q4_K_M files of the earlier hand-assembled mix
    // (named without it) are never reused.
    private const string QuantizerSuffix = "-mq";

    /// <summary>Returns the cached model path, building it first when missing.</summary>
    public static string Ensure(string modelsDir, RandomLlama.Shape shape, string type, Vocabulary vocabulary)
    {
        Directory.CreateDirectory(modelsDir);
        bool mix = type == "q4_k_m";
        string path = Path.Combine(modelsDir, $"{shape.Name}-{type.ToUpperInvariant()}{(mix ? QuantizerSuffix : "")}.gguf");
        if (File.Exists(path))
            return path;
        var started = System.Diagnostics.Stopwatch.StartNew();
        string tmp = path + ".tmp";
        if (mix)
        {
            string f32 = path + ".f32.tmp";
            try
            {
                Create(shape, vocabulary, "f32", seed: 1).WriteTo(f32);
                using GgufFile input = GgufFile.Open(f32);
                ModelQuantizer.Quantize(input, LlamaFileType.MostlyQ4_K_M, tmp);
            }
            finally
            {
                File.Delete(f32);
            }
        }
        else
        {
            Create(shape, vocabulary, type, seed: 1).WriteTo(tmp);
        }
        File.Move(tmp, path, overwrite: true);
        Console.Error.WriteLine($"  built {Path.GetFileName(path)} ({new FileInfo(path).Length / 1e6:0.0} MB) in {started.Elapsed.TotalSeconds:0.0} s");
        return path;
    }

    /// <summary>"stories15M Q4_K_M" for a harness model file.</summary>
    public static string Label(string path) => Stem(path).Replace("-Q", " Q", StringComparison.Ordinal);

    private static string Stem(string path)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        return name.EndsWith(QuantizerSuffix, StringComparison.Ordinal) ? name[..^QuantizerSuffix.Length] : name;
    }

    private static GgufWriter Create(RandomLlama.Shape shape, Vocabulary vocabulary, string typeName, ulong seed)
    {
        int dim = shape.EmbeddingLength, ff = shape.FeedForwardLength, heads = shape.HeadCount, kvHeads = shape.HeadCountKV;
        int kvDim = kvHeads * (dim / heads), vocab = vocabulary.Count, layers = shape.BlockCount;
        var rng = new XorShiftRandom(seed);
        var w = new GgufWriter();
        GgufMetadata m = w.Metadata;
        TensorType type = TensorTypes.TryParse(typeName, out TensorType? t) ? t : throw new ArgumentException($"Unknown type '{typeName}'.");
        uint fileType = Formats.Llama2c.Llama2cConverter.FileType(type);
        m.Set("general.architecture", GgufValue.FromString("llama"));
        m.Set("general.name", GgufValue.FromString($"{shape.Name} random (seed {seed})"));
        m.Set("general.file_type", GgufValue.FromUInt32(fileType));
        m.Set("general.quantization_version", GgufValue.FromUInt32(2));
        m.Set("llama.context_length", GgufValue.FromUInt32((uint)shape.ContextLength));
        m.Set("llama.embedding_length", GgufValue.FromUInt32((uint)dim));
        m.Set("llama.block_count", GgufValue.FromUInt32((uint)layers));
        m.Set("llama.feed_forward_length", GgufValue.FromUInt32((uint)ff));
        m.Set("llama.rope.dimension_count", GgufValue.FromUInt32((uint)(dim / heads)));
        m.Set("llama.attention.head_count", GgufValue.FromUInt32((uint)heads));
        m.Set("llama.attention.head_count_kv", GgufValue.FromUInt32((uint)kvHeads));
        m.Set("llama.attention.layer_norm_rms_epsilon", GgufValue.FromFloat32(1e-5f));
        m.Set("llama.rope.freq_base", GgufValue.FromFloat32(10000f));
        vocabulary.WriteTo(m);

        // Same draws, same order as RandomLlama.Create; only the quantization runs in parallel.
        void Matrix(string name, int rows, int cols, float std)
        {
            float a = std * MathF.Sqrt(3f);
            var values = new float[checked((long)rows * cols)];
            for (long i = 0; i < values.LongLength; i++)
                values[i] = (2f * rng.NextSingle() - 1f) * a;
            int rowBytes = (int)type.RowBytes(cols);
            var bytes = new byte[checked((long)rowBytes * rows)];
            Parallel.For(0, rows, r => type.QuantizeReference(values.AsSpan(r * cols, cols), bytes.AsSpan(r * rowBytes, rowBytes)));
            w.AddTensor(name, type.Type, [cols, rows], bytes);
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
        Matrix("output.weight", vocab, dim, 3f / MathF.Sqrt(dim));
        for (int l = 0; l < layers; l++)
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

    /// <summary>
    /// Bytes a decode step reads: every weight matrix except the token embedding (one row of it), plus
    /// the KV cache at the mean position of a 128-token decode (64), at F16 (2 bytes, as llama.cpp stores it).
    /// </summary>
    public static double BytesPerToken(string path, int meanPosition = 64)
    {
        using GgufFile f = GgufFile.Open(path);
        double bytes = 0;
        long embdRows = 1;
        foreach (GgufTensorInfo t in f.Tensors)
        {
            if (t.Name == "token_embd.weight")
            {
                embdRows = t.Rows;
                bytes += (double)t.ByteSize / embdRows;
            }
            else
                bytes += t.ByteSize;
        }
        RandomLlama.Shape s = ShapeOf(path);
        long kvDim = (long)s.HeadCountKV * (s.EmbeddingLength / s.HeadCount);
        return bytes + 2.0 * s.BlockCount * kvDim * meanPosition * 2;
    }

    /// <summary>The shape a harness model file was built in (from its file name).</summary>
    public static RandomLlama.Shape ShapeOf(string path)
    {
        string name = Stem(path);
        return RandomLlama.Shapes[name[..name.LastIndexOf('-')]];
    }
}
