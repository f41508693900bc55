using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Tests.Models;

/// <summary>Loading models: hyperparameters and tensor manifest checked against each other.</summary>
public class ModelLoadTests
{
    private static byte[] DefaultModelBytes => File.ReadAllBytes(TestPaths.DefaultModel);

    /// <summary>Rewrites the default model with a change to its metadata or tensors.</summary>
    private static byte[] Rewrite(Action<GgufMetadata>? metadata = null, Func<GgufTensorInfo, bool>? keep = null,
        Func<GgufTensorInfo, (long[] Shape, byte[] Data)?>? replace = null)
    {
        using GgufFile f = GgufFile.Load(DefaultModelBytes);
        var w = new GgufWriter();
        foreach ((string k, GgufValue v) in f.Metadata)
            w.Metadata.Set(k, v);
        metadata?.Invoke(w.Metadata);
        foreach (GgufTensorInfo t in f.Tensors)
        {
            if (keep is not null && !keep(t))
                continue;
            (long[] Shape, byte[] Data)? r = replace?.Invoke(t);
            w.AddTensor(t.Name, t.Type, r?.Shape ?? t.Shape.ToArray(), r?.Data ?? f.GetTensorData(t).ToArray());
        }
        return w.ToArray();
    }

    [Fact]
    public void DefaultModel_LoadsWithExpectedConfig()
    {
        using var m = (Llama)Model.Load(TestPaths.DefaultModel);
        LlamaConfig c = m.Config;
        Assert.Equal((64, 5, 8, 4, 8, 172, 512, 512), (c.EmbeddingLength, c.BlockCount, c.HeadCount, c.HeadCountKV, c.HeadDimension, c.FeedForwardLength, c.ContextLength, c.VocabularySize));
        Assert.Equal(1e-5f, c.LayerNormRmsEpsilon);
        Assert.True(m.HasTiedOutput);
        Assert.Equal("llama", m.Architecture);
        Assert.Equal("stories260K", m.Name);
        Assert.Equal(260_032, m.ParameterCount);
    }

    [Theory]
    [InlineData("llama.embedding_length")]
    [InlineData("llama.block_count")]
    [InlineData("llama.attention.head_count")]
    [InlineData("llama.attention.layer_norm_rms_epsilon")]
    [InlineData("general.architecture")]
    public void MissingKey_ThrowsNamingIt(string key)
    {
        byte[] bytes = Rewrite(m => m.Remove(key));
        var e = Assert.Throws<ModelFormatException>(() => Model.Load(bytes, "bad.gguf"));
        Assert.Contains(key, e.Message);
        Assert.Equal("bad.gguf", e.Source);
    }

    [Theory]
    [InlineData("llama.attention.head_count", 7u, "divisor")]
    [InlineData("llama.attention.head_count_kv", 3u, "divisor")]
    [InlineData("llama.block_count", 0u, "expected 1..")]
    [InlineData("llama.block_count", 6u, "blk.5")]
    [InlineData("llama.embedding_length", 65u, "divisor")]
    [InlineData("llama.embedding_length", 128u, "rope.dimension_count")]
    [InlineData("llama.rope.dimension_count", 4u, "n_rot == n_embd_head")]
    [InlineData("llama.feed_forward_length", 100u, "expected shape")]
    public void InconsistentHyperparameters_Throw(string key, uint value, string reasonPart)
    {
        byte[] bytes = Rewrite(m => m.Set(key, GgufValue.FromUInt32(value)));
        var e = Assert.Throws<ModelFormatException>(() => Model.Load(bytes));
        Assert.Contains(reasonPart, e.Message);
    }

    [Fact]
    public void WrongKeyType_Throws()
    {
        byte[] bytes = Rewrite(m => m.Set("llama.block_count", GgufValue.FromString("five")));
        var e = Assert.Throws<ModelFormatException>(() => Model.Load(bytes));
        Assert.Contains("llama.block_count", e.Message);
    }

    [Fact]
    public void UnsupportedArchitectureOrRopeScaling_Throw()
    {
        Assert.Contains("found 'mamba'", Assert.Throws<ModelFormatException>(() =>
            Model.Load(Rewrite(m => m.Set("general.architecture", GgufValue.FromString("mamba"))))).Message);
        Assert.Contains("yarn", Assert.Throws<ModelFormatException>(() =>
            Model.Load(Rewrite(m => m.Set("llama.rope.scaling.type", GgufValue.FromString("yarn"))))).Message);
    }

    [Fact]
    public void MissingTensor_ThrowsNamingIt()
    {
        byte[] bytes = Rewrite(keep: t => t.Name != "blk.3.ffn_up.weight");
        Assert.Contains("blk.3.ffn_up.weight", Assert.Throws<ModelFormatException>(() => Model.Load(bytes)).Message);
    }

    [Fact]
    public void MisshapenTensor_ThrowsWithExpectedAndFound()
    {
        byte[] bytes = Rewrite(replace: t => t.Name == "blk.0.attn_k.weight" ? ([32, 64], new byte[32 * 64 * 4]) : null);
        var e = Assert.Throws<ModelFormatException>(() => Model.Load(bytes));
        Assert.Contains("blk.0.attn_k.weight", e.Message);
        Assert.Contains("expected shape [64, 32], found [32, 64]", e.Message);
    }

    [Fact]
    public void UnexpectedTensor_IsRejectedLikeLlamaCpp()
    {
        using GgufFile f = GgufFile.Load(DefaultModelBytes);
        var w = new GgufWriter();
        foreach ((string k, GgufValue v) in f.Metadata) w.Metadata.Set(k, v);
        foreach (GgufTensorInfo t in f.Tensors) w.AddTensor(t.Name, t.Type, t.Shape.ToArray(), f.GetTensorData(t).ToArray());
        w.AddTensor("blk.0.attn_qkv.weight", [64], new float[64]);
        Assert.Contains("blk.0.attn_qkv.weight", Assert.Throws<ModelFormatException>(() => Model.Load(w.ToArray())).Message);
    }

    [Fact]
    public void NonFiniteNormWeights_Throw()
    {
        byte[] nan = new byte[64 * 4];
        BitConverter.TryWriteBytes(nan.AsSpan(8), float.NaN);
        byte[] bytes = Rewrite(replace: t => t.Name == "output_norm.weight" ? ([64], nan) : null);
        Assert.Contains("finite", Assert.Throws<ModelFormatException>(() => Model.Load(bytes)).Message);
    }

    [Fact]
    public void VocabularyOnlyFile_CannotGenerate()
    {
        var w = new GgufWriter();
        using (GgufFile f = GgufFile.Load(DefaultModelBytes))
            foreach ((string k, GgufValue v) in f.Metadata.Where(p => p.Key.StartsWith("tokenizer.", StringComparison.Ordinal)))
                w.Metadata.Set(k, v);
        Assert.Contains("vocabulary-only", Assert.Throws<ModelFormatException>(() => Model.Load(w.ToArray())).Message);
    }

    [Fact]
    public void EveryTruncation_ThrowsModelFormatException()
    {
        byte[] bytes = DefaultModelBytes;
        for (int n = 0; n < bytes.Length; n += bytes.Length / 97 + 1)
            Assert.Throws<ModelFormatException>(() => Model.Load(bytes[..n], "trunc.gguf"));
    }

    [Theory]
    [InlineData("q8_0")]
    [InlineData("f16")]
    public void ConvertedToOtherTypes_StillGeneratesSensibly(string type)
    {
        using var ckpt = TinyLM.Formats.Llama2c.Llama2cCheckpoint.Open(Path.Combine(TestPaths.TestData, "stories260K", "stories260K.bin"));
        var vocab = TinyLM.Formats.Llama2c.Llama2cTokenizer.Read(Path.Combine(TestPaths.TestData, "stories260K", "tok512.bin"), ckpt.VocabSize);
        Assert.True(TensorTypes.TryParse(type, out TensorType? t));
        byte[] bytes = TinyLM.Formats.Llama2c.Llama2cConverter.ToGguf(ckpt, vocab, "s", t).ToArray();
        using Model m = Model.Load(bytes);
        using var f = GgufFile.Load(bytes);
        // Rows of 172 (w2's columns) do not divide into 32-element blocks: that matrix stays F32.
        Assert.Equal(type == "q8_0" ? GgmlType.F32 : GgmlType.F16, f.GetTensor("blk.0.ffn_down.weight").Type);
        Assert.Equal(t.Type, f.GetTensor("blk.0.attn_q.weight").Type);
        using var s = m.CreateSession();
        int[] prompt = m.Tokenizer.EncodeToIds("Once upon a time");
        int next = TinyLM.Sampling.Sampler.ArgMax(s.Evaluate(prompt));
        Assert.Equal(",", System.Text.Encoding.UTF8.GetString(m.Tokenizer.GetPieceBytes(next)));
    }
}
