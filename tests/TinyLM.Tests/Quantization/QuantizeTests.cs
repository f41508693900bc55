using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>Every quantizer path gives the bytes of the reference quantizer (test-quantize-fns' "fast vs reference", made exact).</summary>
public class QuantizeTests
{
    public static TheoryData<string> AllTypes() => QuantTestData.AllTypes();

    private static IEnumerable<(string Name, float[] Values)> Rows(TensorType t)
    {
        foreach (var row in QuantTestData.EdgeRows(t.BlockSize))
            yield return row;
        var rng = new Random(11);
        int unit = Math.Max(t.BlockSize, 1);
        foreach (int blocks in new[] { 1, 2, 3, 5, 7, 9, 15, 16, 17, 33, 4096 / 32 + 1 })
            yield return ($"random, {blocks} blocks", QuantTestData.Uniform(rng, blocks * Math.Max(32, t.BlockSize), 3f));
        if (!t.IsQuantized)
            foreach (int n in new[] { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 63, 4097 })
                yield return ($"random, {n} values", QuantTestData.Uniform(rng, n * unit, 3f));
        yield return ("llama.cpp test data", QuantTestData.GenerateData(0, 4096));
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void QuantizeEqualsQuantizeReferenceOnEveryPath(string name)
    {
        TensorType t = QuantTestData.Type(name);
        foreach ((string rowName, float[] x) in Rows(t))
        {
            byte[] expected = QuantTestData.QuantizeReference(t, x);
            foreach ((string path, QuantizeKernel quantize) in KernelPaths.Quantizers(t))
            {
                var actual = new byte[expected.Length + 7];
                Array.Fill(actual, (byte)0xA5);
                quantize(x, actual.AsSpan(0, expected.Length));
                QuantTestData.AssertBytesEqual(expected, actual.AsSpan(0, expected.Length), t.BlockBytes, $"{name} {path} on {rowName}");
                Assert.All(actual[expected.Length..], b => Assert.Equal(0xA5, b));
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void DequantizeEqualsOnEveryPath(string name)
    {
        TensorType t = QuantTestData.Type(name);
        var rng = new Random(5);
        foreach (int n in new[] { 32, 64, 96, 160, 256, 768, 1280, 4096 + 32, 4096 + 32 + 8 })
        {
            if (n % t.BlockSize != 0)
                continue;
            byte[] q = QuantTestData.RandomBlocks(t, n, rng);
            float[] expected = new float[n];
            t.Dequantize(q, expected);
            foreach ((string path, DequantizeKernel dequantize) in KernelPaths.Dequantizers(t))
            {
                float[] actual = new float[n];
                dequantize(q, actual);
                QuantTestData.AssertBitEqual(expected, actual, $"{name} {path}, n = {n}");
            }
        }
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void FloatTypesRoundTripTheirOwnValues(string name)
    {
        TensorType t = QuantTestData.Type(name);
        byte[] q = QuantTestData.RandomBlocks(t, 1000, new Random(9));
        float[] x = new float[1000];
        t.Dequantize(q, x);
        byte[] again = QuantTestData.QuantizeReference(t, x);
        Assert.Equal(q, again);
    }

    [Fact]
    public void Q4_0PacksElementsJAndJPlus16InOneByte()
    {
        float[] x = new float[32];
        x[0] = -8f;  // the largest magnitude: d = -8 / -8 = 1
        x[16] = 7f;  // q = 7 + 8 = 15, high nibble of byte 0
        x[1] = 1f;   // q = 9, low nibble of byte 1
        byte[] q = QuantTestData.QuantizeReference(TensorTypes.Get(GgmlType.Q4_0), x);
        Assert.Equal((ushort)0x3C00, BitConverter.ToUInt16(q, 0)); // d = 1.0 in float16
        Assert.Equal(0xF0, q[2]);
        Assert.Equal(0x89, q[3]);
    }

    [Fact]
    public void Q8_0RoundsTiesAwayFromZero()
    {
        float[] x = new float[32];
        x[0] = 127f; // d = 1, id = 1
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.5f;
        foreach ((string path, QuantizeKernel quantize) in KernelPaths.Quantizers(TensorTypes.Get(GgmlType.Q8_0)))
        {
            byte[] q = new byte[34];
            quantize(x, q);
            Assert.Equal([127, 3, unchecked((byte)-3), 1], q[2..6]);
        }
    }
}
