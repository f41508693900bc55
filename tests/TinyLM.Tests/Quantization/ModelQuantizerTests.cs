using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using TinyLM.Formats.Gguf;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// <see cref="QuantizationMix"/> and <see cref="ModelQuantizer"/> against llama.cpp's own quantizer:
/// the goldens in Goldens/quantize (tools/llamacpp/regen-quantize-goldens.sh, quantize-golden.c) hold,
/// for F32/F16 models our tools write, every file type's per-tensor types, shapes and FNV-1a hashes and
/// the whole output file's hash as llama_model_quantize wrote them. TinyLM must choose the same types
/// and write the same bytes.
/// </summary>
public class ModelQuantizerTests
{
    // --- goldens

    internal sealed record GoldenTensor(string Name, string Type, string Shape, string Hash);

    internal sealed record GoldenFileType(string Name, uint Value, bool Refused, string FileHash, long FileBytes, List<GoldenTensor> Tensors);

    private static string GoldenFolder => Path.Combine(TestPaths.Root, "tests", "TinyLM.Tests", "Quantization", "Goldens", "quantize");

    private static readonly ConcurrentDictionary<string, List<GoldenFileType>> s_goldens = new();

    internal static List<GoldenFileType> LoadGolden(string model) => s_goldens.GetOrAdd(model, m =>
    {
        var result = new List<GoldenFileType>();
        foreach (string line in File.ReadLines(Path.Combine(GoldenFolder, m + ".txt")))
        {
            string[] f = line.Split(' ');
            if (f[0] == "ftype")
            {
                bool refused = f[3] == "error";
                result.Add(new GoldenFileType(f[1], uint.Parse(f[2], CultureInfo.InvariantCulture), refused,
                    refused ? "" : f[4], refused ? 0 : long.Parse(f[5], CultureInfo.InvariantCulture), []));
            }
            else
            {
                result[^1].Tensors.Add(new GoldenTensor(f[0], f[1], f[2], f[3]));
            }
        }
        return result;
    });

    /// <summary>64-bit FNV-1a, as quantize-golden.c hashes.</summary>
    internal static string Fnv1a(ReadOnlySpan<byte> bytes)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (byte b in bytes)
        {
            h ^= b;
            h *= 0x100000001b3UL;
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }

    private static string ShapeText(IReadOnlyList<long> shape)
    {
        int dims = shape.Count;
        while (dims > 1 && shape[dims - 1] == 1)
            dims--;
        return string.Join("x", shape.Take(dims));
    }

    // --- the input models, rebuilt exactly as regen-quantize-goldens.sh builds them

    private static readonly ConcurrentDictionary<string, byte[]> s_models = new();

    internal static byte[] InputModel(string name) => s_models.GetOrAdd(name, n =>
    {
        byte[] bytes;
        if (n == "stories260K")
        {
            bytes = File.ReadAllBytes(TestPaths.DefaultModel);
        }
        else
        {
            Vocabulary vocab;
            using (GgufFile v = GgufFile.Open(TestPaths.DefaultModel))
                vocab = Vocabulary.FromGguf(v.Metadata);
            (RandomLlama.Shape shape, TensorType type) = n switch
            {
                "stories15M" => (RandomLlama.Stories15M, TensorTypes.Get(GgmlType.F32)),
                "stories15M-kv2" => (RandomLlama.Stories15M with { HeadCountKV = 2 }, TensorTypes.Get(GgmlType.F32)),
                "stories15M-256-kv1" => (RandomLlama.Stories15M256 with { HeadCountKV = 1 }, TensorTypes.Get(GgmlType.F32)),
                "stories15M-f16" => (RandomLlama.Stories15M, TensorTypes.Get(GgmlType.F16)),
                _ => throw new ArgumentException(n),
            };
            bytes = RandomLlama.Create(shape, vocab, type, seed: 1).ToArray();
        }
        string expected = File.ReadLines(Path.Combine(GoldenFolder, "models.sha256"))
            .Single(l => l.EndsWith("  " + n + ".gguf", StringComparison.Ordinal)).Split(' ')[0];
        Assert.Equal(expected, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        return bytes;
    });

    /// <summary>
    /// Every file type of every golden model. Bytes are compared for stories15M, stories15M-256-kv1 and
    /// stories260K in every file type, and for the GQA and F16 variants of stories15M in Q4_K_M and
    /// Q8_0 (their other file types compare the types only, to keep the suite quick).
    /// </summary>
    public static TheoryData<string, string, bool> QuantizeCases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (string model in new[] { "stories15M", "stories15M-kv2", "stories15M-256-kv1", "stories15M-f16", "stories260K" })
        {
            bool all = model is "stories15M" or "stories15M-256-kv1" or "stories260K";
            foreach (GoldenFileType ft in LoadGolden(model))
                data.Add(model, ft.Name, all || ft.Name is "Q4_K_M" or "Q8_0");
        }
        return data;
    }

    private static LlamaFileType ParseGoldenName(string name) =>
        QuantizationMix.TryParse(name, out LlamaFileType t) ? t : throw new InvalidOperationException(name);

    [Theory]
    [MemberData(nameof(QuantizeCases))]
    public void Quantize_SameTypesAndBytesAsLlamaCpp(string model, string fileType, bool compareBytes)
    {
        GoldenFileType golden = LoadGolden(model).Single(g => g.Name == fileType);
        LlamaFileType ft = ParseGoldenName(fileType);
        Assert.Equal(golden.Value, (uint)ft);
        using GgufFile input = GgufFile.Load(InputModel(model), model);
        if (golden.Refused)
        {
            Assert.Throws<ArgumentException>(() => ModelQuantizer.Plan(input, ft));
            return;
        }
        if (!compareBytes)
        {
            Assert.Equal(golden.Tensors.Select(t => (t.Name, t.Type, t.Shape)),
                ModelQuantizer.Plan(input, ft).Select(c => (c.Tensor.Name, TensorTypes.Get(c.TargetType).Name, ShapeText(c.Tensor.Shape))));
            return;
        }
        var output = new MemoryStream();
        ModelQuantizationResult result = ModelQuantizer.Quantize(input, ft, output);
        byte[] bytes = output.ToArray();
        using GgufFile written = GgufFile.Load(bytes, "quantized");
        Assert.Equal(golden.Tensors.Select(t => (t.Name, t.Type, t.Shape)),
            written.Tensors.Select(t => (t.Name, TensorTypes.Get(t.Type).Name, ShapeText(t.Shape))));
        foreach ((GoldenTensor g, GgufTensorInfo t) in golden.Tensors.Zip(written.Tensors))
            Assert.True(g.Hash == Fnv1a(written.GetTensorData(t)), $"{t.Name} ({g.Type}): bytes differ from llama.cpp's");
        Assert.Equal((golden.FileHash, golden.FileBytes), (Fnv1a(bytes), (long)bytes.Length));
        Assert.Equal(golden.Tensors.Count, result.Tensors.Count);
        Assert.Equal((uint)ft, written.Metadata.GetUInt32("general.file_type"));
        Assert.Equal(2u, written.Metadata.GetUInt32("general.quantization_version"));
    }

    /// <summary>The stories15M shape with the 32000-token Llama 2 vocabulary: only the plan (not quantized here).</summary>
    [Fact]
    public void Plan_Stories15MLlama2Vocabulary_SameTypesAsLlamaCpp()
    {
        List<GoldenFileType> goldens = LoadGolden("stories15M-llama2");
        GoldenFileType f32 = goldens.Single(g => g.Name == "ALL_F32");
        var tensors = f32.Tensors.Select(t => new QuantizationTensor(t.Name, t.Shape.Split('x').Select(long.Parse).ToArray(), GgmlType.F32)).ToList();
        Assert.Contains(tensors, t => t.Name == "token_embd.weight" && t.Shape[1] == 32000);
        var info = new QuantizationModelInfo("llama", BlockCount: 6, HeadCount: 6, HeadCountKV: 6, ExpertCount: 0);
        foreach (GoldenFileType golden in goldens)
        {
            IReadOnlyList<TensorQuantizationChoice> plan = QuantizationMix.Plan(ParseGoldenName(golden.Name), info, tensors.AsEnumerable().Reverse());
            if (golden.Refused)
            {
                Assert.Contains(plan, c => c.RequiresImportanceMatrix);
                continue;
            }
            Assert.DoesNotContain(plan, c => c.RequiresImportanceMatrix);
            Assert.Equal(golden.Tensors.Select(t => (t.Name, t.Type)), plan.Select(c => (c.Tensor.Name, TensorTypes.Get(c.TargetType).Name)));
        }
    }

    [Fact]
    public void Plan_Q4_K_M_Stories15M_FollowsLlamaCppMix()
    {
        using GgufFile input = GgufFile.Load(InputModel("stories15M"), "stories15M");
        Dictionary<string, TensorQuantizationChoice> plan = ModelQuantizer.Plan(input, LlamaFileType.MostlyQ4_K_M).ToDictionary(c => c.Tensor.Name);
        // output.weight: Q6_K, which 288 columns do not fit -> Q8_0.
        Assert.Equal(GgmlType.Q8_0, plan["output.weight"].TargetType);
        // ffn_down rows are 768 = 3 * 256: Q4_K, Q6_K in use_more_bits layers (2 and 5 of 6).
        Assert.Equal([GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q4_K, GgmlType.Q4_K, GgmlType.Q6_K],
            Enumerable.Range(0, 6).Select(l => plan[$"blk.{l}.ffn_down.weight"].TargetType));
        // attn_v: Q6_K in the same layers, falling back to Q8_0 (288 columns); others Q4_K -> Q5_0.
        Assert.Equal(GgmlType.Q8_0, plan["blk.2.attn_v.weight"].TargetType);
        Assert.True(plan["blk.2.attn_v.weight"].FellBack);
        Assert.Equal(GgmlType.Q5_0, plan["blk.0.attn_q.weight"].TargetType);
        Assert.Equal(GgmlType.F32, plan["blk.0.attn_norm.weight"].TargetType);
        Assert.False(plan["blk.0.attn_norm.weight"].Converts);
    }

    [Theory]
    [InlineData(288, GgmlType.Q4_K, GgmlType.Q5_0)]
    [InlineData(288, GgmlType.Q5_K, GgmlType.Q5_1)]
    [InlineData(288, GgmlType.Q6_K, GgmlType.Q8_0)]
    [InlineData(288, GgmlType.Q2_K, GgmlType.Q4_0)]
    [InlineData(288, GgmlType.Q3_K, GgmlType.Q4_0)]
    [InlineData(64, GgmlType.TQ1_0, GgmlType.Q4_0)]
    [InlineData(64, GgmlType.TQ2_0, GgmlType.Q4_0)]
    [InlineData(172, GgmlType.Q6_K, GgmlType.F16)]
    [InlineData(172, GgmlType.Q8_0, GgmlType.F16)]
    [InlineData(512, GgmlType.Q4_K, GgmlType.Q4_K)]
    [InlineData(96, GgmlType.Q4_0, GgmlType.Q4_0)]
    public void Fallback_RowsNotDivisibleIntoBlocks_LlamaCppChoice(long columns, GgmlType target, GgmlType expected) =>
        Assert.Equal(expected, QuantizationMix.Fallback(columns, target));

    [Theory]
    [InlineData("Q4_K_M", LlamaFileType.MostlyQ4_K_M)]
    [InlineData("q4_k_m", LlamaFileType.MostlyQ4_K_M)]
    [InlineData("q4_k", LlamaFileType.MostlyQ4_K_M)]
    [InlineData("Q3_K", LlamaFileType.MostlyQ3_K_M)]
    [InlineData("q5_k", LlamaFileType.MostlyQ5_K_M)]
    [InlineData("q2_k_s", LlamaFileType.MostlyQ2_K_S)]
    [InlineData("tq1_0", LlamaFileType.MostlyTQ1_0)]
    [InlineData("Q8_0", LlamaFileType.MostlyQ8_0)]
    [InlineData("f16", LlamaFileType.MostlyF16)]
    [InlineData("all_f32", LlamaFileType.AllF32)]
    public void TryParse_LlamaQuantizeNamesIgnoringCase(string name, LlamaFileType expected)
    {
        Assert.True(QuantizationMix.TryParse(name, out LlamaFileType t));
        Assert.Equal(expected, t);
    }

    [Theory]
    [InlineData("q4_k_x")]
    [InlineData("iq2_xxs")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_UnknownName_False(string? name) => Assert.False(QuantizationMix.TryParse(name, out _));

    [Fact]
    public void TensorOrder_LayersNumericallyThenNames()
    {
        string[] names = ["blk.10.attn_q.weight", "blk.2.ffn_up.weight", "token_embd.weight", "blk.2.attn_k.weight", "output.weight"];
        Assert.Equal(["output.weight", "token_embd.weight", "blk.2.attn_k.weight", "blk.2.ffn_up.weight", "blk.10.attn_q.weight"],
            names.Order(QuantizationMix.TensorOrder));
    }

    [Fact]
    public void Quantize_ThreadCount_SameBytes()
    {
        using GgufFile input = GgufFile.Load(InputModel("stories15M"), "stories15M");
        var one = new MemoryStream();
        var three = new MemoryStream();
        ModelQuantizationResult a = ModelQuantizer.Quantize(input, LlamaFileType.MostlyQ4_K_M, one, new ModelQuantizerOptions { Threads = 1 });
        ModelQuantizationResult b = ModelQuantizer.Quantize(input, LlamaFileType.MostlyQ4_K_M, three, new ModelQuantizerOptions { Threads = 3 });
        Assert.True(one.ToArray().AsSpan().SequenceEqual(three.ToArray()));
        Assert.Equal(a.Tensors.Select(t => t.Rmse), b.Tensors.Select(t => t.Rmse));
    }

    [Fact]
    public void Quantize_ReportsRmseOfWrittenTensors()
    {
        using GgufFile input = GgufFile.Load(InputModel("stories260K"), "stories260K");
        var output = new MemoryStream();
        var seen = new List<TensorQuantizationReport>();
        ModelQuantizationResult result = ModelQuantizer.Quantize(input, LlamaFileType.MostlyQ4_0, output, onTensor: seen.Add);
        Assert.Equal(result.Tensors, seen);
        using GgufFile written = GgufFile.Load(output.ToArray(), "q4_0");
        foreach (TensorQuantizationReport r in result.Tensors)
        {
            GgufTensorInfo w = written.GetTensor(r.Name);
            if (r.SourceType == r.TargetType)
            {
                Assert.Null(r.Rmse);
                continue;
            }
            float[] x = input.ReadAsSingles(input.GetTensor(r.Name)), y = written.ReadAsSingles(w);
            double sum = 0;
            for (int i = 0; i < x.Length; i++)
                sum += ((double)y[i] - x[i]) * ((double)y[i] - x[i]);
            double rmse = Math.Sqrt(sum / x.Length);
            Assert.True(Math.Abs(rmse - r.Rmse!.Value) <= 1e-9 * rmse, $"{r.Name}: {r.Rmse} vs {rmse}");
            Assert.True(rmse > 0 && rmse < 0.1, $"{r.Name}: RMSE {rmse}");
            Assert.Equal(w.ByteSize, r.TargetBytes);
        }
        Assert.Equal(result.Tensors.Sum(t => t.TargetBytes), result.TargetBytes);
        Assert.True(result.TargetBitsPerWeight < result.SourceBitsPerWeight);
    }

    [Fact]
    public void Quantize_AlreadyQuantizedInput_Refused()
    {
        using GgufFile input = GgufFile.Load(InputModel("stories260K"), "stories260K");
        var q8 = new MemoryStream();
        ModelQuantizer.Quantize(input, LlamaFileType.MostlyQ8_0, q8);
        using GgufFile quantized = GgufFile.Load(q8.ToArray(), "q8_0.gguf");
        var e = Assert.Throws<NotSupportedException>(() => ModelQuantizer.Quantize(quantized, LlamaFileType.MostlyQ4_0, new MemoryStream()));
        Assert.Contains("already q8_0", e.Message);
        // Nothing to convert (Q8_0 again): allowed, a copy, as in llama.cpp.
        ModelQuantizationResult same = ModelQuantizer.Quantize(quantized, LlamaFileType.MostlyQ8_0, new MemoryStream());
        Assert.All(same.Tensors, t => Assert.Null(t.Rmse));
    }

    [Fact]
    public void Quantize_Q4_K_M_TinyLMLoadsAndRuns()
    {
        using GgufFile input = GgufFile.Load(InputModel("stories260K"), "stories260K");
        var output = new MemoryStream();
        ModelQuantizer.Quantize(input, LlamaFileType.MostlyQ4_K_M, output);
        using Model m = Model.Load(output.ToArray());
        using var s = m.CreateSession();
        ReadOnlySpan<float> logits = s.Evaluate(m.Tokenizer.EncodeToIds("Once upon a time"));
        Assert.Equal(m.VocabularySize, logits.Length);
        foreach (float v in logits)
            Assert.True(float.IsFinite(v));
    }
}
