using System.Runtime.CompilerServices;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>Block layouts and registry entries against ggml's <c>block_*</c> structs and <c>type_traits</c> tables.</summary>
public class TensorTypeLayoutTests
{
    public static TheoryData<string> AllTypes() => QuantTestData.AllTypes();

    [Fact]
    public void BlockStructSizesEqualBlockBytes()
    {
        Assert.Equal(TensorTypes.Get(GgmlType.Q4_0).BlockBytes, Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q4_1).BlockBytes, Unsafe.SizeOf<BlockQ4_1>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q5_0).BlockBytes, Unsafe.SizeOf<BlockQ5_0>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q5_1).BlockBytes, Unsafe.SizeOf<BlockQ5_1>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q8_0).BlockBytes, Unsafe.SizeOf<BlockQ8_0>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q8_1).BlockBytes, Unsafe.SizeOf<BlockQ8_1>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q8_K).BlockBytes, Unsafe.SizeOf<BlockQ8_K>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q2_K).BlockBytes, Unsafe.SizeOf<BlockQ2_K>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q3_K).BlockBytes, Unsafe.SizeOf<BlockQ3_K>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q4_K).BlockBytes, Unsafe.SizeOf<BlockQ4_K>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q5_K).BlockBytes, Unsafe.SizeOf<BlockQ5_K>());
        Assert.Equal(TensorTypes.Get(GgmlType.Q6_K).BlockBytes, Unsafe.SizeOf<BlockQ6_K>());
        Assert.Equal(TensorTypes.Get(GgmlType.TQ1_0).BlockBytes, Unsafe.SizeOf<BlockTQ1_0>());
        Assert.Equal(TensorTypes.Get(GgmlType.TQ2_0).BlockBytes, Unsafe.SizeOf<BlockTQ2_0>());
        Assert.Equal(TensorTypes.Get(GgmlType.IQ4_NL).BlockBytes, Unsafe.SizeOf<BlockIQ4_NL>());
        Assert.Equal(sizeof(float), TensorTypes.Get(GgmlType.F32).BlockBytes);
        Assert.Equal(TensorTypes.Get(GgmlType.F16).BlockBytes, Unsafe.SizeOf<Half>());
        Assert.Equal(sizeof(ushort), TensorTypes.Get(GgmlType.BF16).BlockBytes);
    }

    [Theory]
    // name, ggml type, block size, block bytes, vec_dot_type (ggml.c type_traits, ggml-cpu.c type_traits_cpu)
    [InlineData("f32", GgmlType.F32, 1, 4, GgmlType.F32)]
    [InlineData("f16", GgmlType.F16, 1, 2, GgmlType.F16)]
    [InlineData("bf16", GgmlType.BF16, 1, 2, GgmlType.BF16)]
    [InlineData("q8_0", GgmlType.Q8_0, 32, 34, GgmlType.Q8_0)]
    [InlineData("q8_1", GgmlType.Q8_1, 32, 36, GgmlType.Q8_1)]
    [InlineData("q4_0", GgmlType.Q4_0, 32, 18, GgmlType.Q8_0)]
    [InlineData("q4_1", GgmlType.Q4_1, 32, 20, GgmlType.Q8_1)]
    [InlineData("q5_0", GgmlType.Q5_0, 32, 22, GgmlType.Q8_0)]
    [InlineData("q5_1", GgmlType.Q5_1, 32, 24, GgmlType.Q8_1)]
    [InlineData("q8_K", GgmlType.Q8_K, 256, 292, GgmlType.Q8_K)]
    [InlineData("q2_K", GgmlType.Q2_K, 256, 84, GgmlType.Q8_K)]
    [InlineData("q3_K", GgmlType.Q3_K, 256, 110, GgmlType.Q8_K)]
    [InlineData("q4_K", GgmlType.Q4_K, 256, 144, GgmlType.Q8_K)]
    [InlineData("q5_K", GgmlType.Q5_K, 256, 176, GgmlType.Q8_K)]
    [InlineData("q6_K", GgmlType.Q6_K, 256, 210, GgmlType.Q8_K)]
    [InlineData("tq1_0", GgmlType.TQ1_0, 256, 54, GgmlType.Q8_K)]
    [InlineData("tq2_0", GgmlType.TQ2_0, 256, 66, GgmlType.Q8_K)]
    [InlineData("iq4_nl", GgmlType.IQ4_NL, 32, 18, GgmlType.Q8_0)]
    public void RegistryEntryMatchesGgmlTypeTraits(string name, GgmlType type, int blockSize, int blockBytes, GgmlType vecDotType)
    {
        TensorType t = TensorTypes.Get(type);
        Assert.Equal(name, t.Name);
        Assert.Equal(type, t.Type);
        Assert.Equal(blockSize, t.BlockSize);
        Assert.Equal(blockBytes, t.BlockBytes);
        Assert.Equal(vecDotType, t.VecDotType);
        Assert.True(TensorTypes.TryParse(name.ToUpperInvariant(), out TensorType? parsed));
        Assert.Same(t, parsed);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void ConversionsRejectPartialBlocksAndShortRows(string name)
    {
        TensorType t = QuantTestData.Type(name);
        int n = 2 * Math.Max(t.BlockSize, 16);
        var row = new byte[t.RowBytes(n)];
        var act = new byte[TensorTypes.Get(t.VecDotType).RowBytes(n)];
        var x = new float[n];
        Assert.Throws<ArgumentException>("destination", () => t.QuantizeReference(x, row.AsSpan(0, row.Length - 1)));
        Assert.Throws<ArgumentException>("destination", () => t.Quantize(x, row.AsSpan(0, row.Length - 1)));
        Assert.Throws<ArgumentException>("source", () => t.Dequantize(row.AsSpan(0, row.Length - 1), x));
        Assert.Throws<ArgumentException>("weights", () => t.Dot(row.AsSpan(0, row.Length - 1), act, n));
        Assert.Throws<ArgumentException>("activations", () => t.DotReference(row, act.AsSpan(0, act.Length - 1), n));
        Assert.Throws<ArgumentOutOfRangeException>("count", () => t.Dot(row, act, -t.BlockSize));
        if (t.IsQuantized)
        {
            Assert.Throws<ArgumentException>("source", () => t.QuantizeReference(x.AsSpan(0, n - 1), row));
            Assert.Throws<ArgumentException>("destination", () => t.Dequantize(row, x.AsSpan(0, n - 1)));
            Assert.Throws<ArgumentOutOfRangeException>("count", () => t.Dot(row, act, n - 1));
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void EmptyRowsConvertAndDotToZero(string name)
    {
        TensorType t = QuantTestData.Type(name);
        t.QuantizeReference([], []);
        t.Quantize([], []);
        t.Dequantize([], []);
        Assert.Equal(0f, t.Dot([], [], 0));
        Assert.Equal(0f, t.DotReference([], [], 0));
    }
}
