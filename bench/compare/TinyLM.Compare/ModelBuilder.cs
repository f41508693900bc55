using TinyLM.Formats.Gguf;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Sampling;
using TinyLM.Tokenizers;

namespace TinyLM.Compare;

/// <summary>
/// Writes the benchmark models: random-weight Llama models in the shapes of <see cref="RandomLlama"/>,
/// with the same random draws in the same order (so a Q8_0 or Q4_0 file is byte-identical to
/// <c>tinylm random-model</c>'s), rows quantized in parallel; and Q4_K_M / Q5_K_M, made as llama.cpp
/// makes them: the F32 model of the shape (same draws) quantized by TinyLM's <see cref="ModelQuantizer"/>
/// with <see cref="LlamaFileType.MostlyQ4_K_M"/> or <see cref="LlamaFileType.MostlyQ5_K_M"/>
/// (llama.cpp's <c>llama_model_quantize</c>, byte for byte).
/// </summary>
internal static class ModelBuilder
{
    /// <summary>The types the harness knows: a single matrix type, or "q4_k_m" / "q5_k_m" (llama.cpp mixes).</summary>
    public static readonly string[] KnownTypes = ["q8_0", "q4_0", "q4_k_m", "q5_k_m"];

    /// <summary>The llama.cpp mix a harness type names, or null for a single matrix type.</summary>
    private static LlamaFileType? Mix(string type) => type switch
    {
        "q4_k_m" => LlamaFileType.MostlyQ4_K_M,
        "q5_k_m" => LlamaFileType.MostlyQ5_K_M,
        _ => null,
    };

    // Files of ModelQuantizer carry this suffix, so Q4_K_M files of the earlier hand-assembled mix
    // (named without it) are never reused.
    private const string QuantizerSuffix = "-mq";

    /// <summary>Returns the cached model path, building it first when missing.</summary>
    public static string Ensure(string modelsDir, RandomLlama.Shape shape, string type, Vocabulary vocabulary)
    {
        Directory.CreateDirectory(modelsDir);
        LlamaFileType? fileType = Mix(type);
        bool mix = fileType is not null;
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
                ModelQuantizer.Quantize(input, fileType!.Value, tmp);
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

    // The engine's own random model (RandomLlama): the same bytes as `tinylm random-model`.
    private static GgufWriter Create(RandomLlama.Shape shape, Vocabulary vocabulary, string typeName, ulong seed) =>
        RandomLlama.Create(shape, vocabulary,
            TensorTypes.TryParse(typeName, out TensorType? t) ? t : throw new ArgumentException($"Unknown type '{typeName}'."), seed);

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
