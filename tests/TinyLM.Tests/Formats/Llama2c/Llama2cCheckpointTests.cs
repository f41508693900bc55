using System.Buffers.Binary;
using TinyLM.Formats;
using TinyLM.Formats.Llama2c;

namespace TinyLM.Tests.Formats.Llama2c;

public class Llama2cCheckpointTests
{
    private static string Stories260K => Path.Combine(TestPaths.TestData, "stories260K", "stories260K.bin");

    [Fact]
    public void Open_Stories260K_ReadsHeader()
    {
        using Llama2cCheckpoint c = Llama2cCheckpoint.Open(Stories260K);
        Assert.Equal((0, 64, 172, 5, 8, 4, 512, 512), (c.Version, c.Dim, c.HiddenDim, c.Layers, c.Heads, c.KVHeads, c.VocabSize, c.SeqLen));
        Assert.True(c.SharedClassifier);
        Assert.Equal(8, c.HeadSize);
        Assert.Equal(32, c.KVDim);
        Assert.Equal(512 * 64, c.TokenEmbedding.Length);
        Assert.Equal(32 * 64, c.Wk(4).Length);
        Assert.All(c.FinalNorm.ToArray(), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void EveryTruncation_ThrowsModelFormatException()
    {
        byte[] bytes = File.ReadAllBytes(Stories260K);
        foreach (int n in new[] { 0, 1, 27, 28, 100, bytes.Length / 2, bytes.Length - 4, bytes.Length - 1 })
        {
            var e = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Load(bytes[..n], "trunc.bin"));
            Assert.Equal("trunc.bin", e.Source);
        }
    }

    [Theory]
    [InlineData(0, 0, "dim")]
    [InlineData(0, -5, "dim")]
    [InlineData(3, 7, "n_heads")]
    [InlineData(4, 3, "n_kv_heads")]
    [InlineData(2, int.MaxValue, "n_layers")]
    [InlineData(5, 0, "vocab_size")]
    [InlineData(6, 0, "seq_len")]
    [InlineData(1, 1 << 20, "expected")]
    public void HostileHeader_ThrowsWithFieldOffset(int field, int value, string reasonPart)
    {
        byte[] bytes = File.ReadAllBytes(Stories260K);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * field), value);
        var e = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Load(bytes, "bad.bin"));
        Assert.Contains(reasonPart, e.Reason);
    }

    [Fact]
    public void NegativeVocab_MeansSeparateClassifier()
    {
        byte[] bytes = File.ReadAllBytes(Stories260K);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), -512);
        byte[] withClassifier = [.. bytes, .. new byte[512 * 64 * 4]];
        using Llama2cCheckpoint c = Llama2cCheckpoint.Load(withClassifier);
        Assert.False(c.SharedClassifier);
        Assert.Equal(512, c.VocabSize);
        Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Load(bytes));
    }
}
