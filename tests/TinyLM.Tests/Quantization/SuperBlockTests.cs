using System.Runtime.InteropServices;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// Behaviour of the super-block types (Q2_K … Q8_K, TQ1_0, TQ2_0) and IQ4_NL that the loops over the
/// registry do not spell out: ggml's rounding helpers, layouts, and the quirks kept from ggml.
/// </summary>
public class SuperBlockTests
{
    [Theory]
    [InlineData(0.5f, 0)]
    [InlineData(1.5f, 2)]
    [InlineData(2.5f, 2)]
    [InlineData(-0.5f, 0)]
    [InlineData(-1.5f, -2)]
    [InlineData(-2.5f, -2)]
    [InlineData(3.49f, 3)]
    [InlineData(-4194303f, -4194303)]
    [InlineData(4194303f, 4194303)]
    public void NearestIntRoundsHalfToEvenLikeGgml(float x, int expected) => Assert.Equal(expected, KQuants.NearestInt(x));

    [Fact]
    public void NearestIntOfNaNAndInfinityGivesGgmlsWrappedBits()
    {
        Assert.Equal(0, KQuants.NearestInt(float.NaN));                               // 0x7FC00000: quiet bit only
        Assert.Equal(0x12345, KQuants.NearestInt(BitConverter.Int32BitsToSingle(unchecked((int)0xFFC12345)))); // payload bits
        Assert.Equal(-0x400000, KQuants.NearestInt(float.PositiveInfinity));
    }

    [Theory]
    [InlineData(0.5f, 1L)]
    [InlineData(-0.5f, -1L)]
    [InlineData(1.5f, 2L)]
    [InlineData(2.5f, 3L)]
    [InlineData(0.49999997f, 0L)]
    [InlineData(-1.0f, -1L)]
    [InlineData(8388609f, 8388609L)]
    [InlineData(float.NaN, long.MinValue)]
    [InlineData(float.PositiveInfinity, long.MinValue)]
    [InlineData(1e30f, long.MinValue)]
    public void LRoundFRoundsHalfAwayFromZeroLikeGlibc(float x, long expected) => Assert.Equal(expected, KQuants.LRoundF(x));

    [Fact]
    public void Q8_K_StoresGroupSumsAndZeroBlocks()
    {
        TensorType q8k = TensorTypes.Get(GgmlType.Q8_K);
        float[] x = new float[512];
        var rng = new Random(3);
        for (int i = 0; i < 256; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1);
        x[17] = -3f; // the value of largest magnitude: iscale = -127 / -3, so it quantizes to -127
        foreach ((string path, QuantizeKernel quantize) in KernelPaths.Quantizers(q8k).Append(("QuantizeReference", q8k.QuantizeReference)))
        {
            byte[] q = new byte[2 * 292];
            Array.Fill(q, (byte)0xA5);
            quantize(x, q);
            ReadOnlySpan<BlockQ8_K> b = MemoryMarshal.Cast<byte, BlockQ8_K>(q);
            Assert.Equal(1 / (-127f / -3f), b[0].D);
            sbyte[] qs = MemoryMarshal.Cast<byte, sbyte>(q.AsSpan(4, 256)).ToArray();
            Assert.Equal(-127, qs[17]);
            short[] bsums = MemoryMarshal.Cast<byte, short>(q.AsSpan(260, 32)).ToArray();
            for (int g = 0; g < 16; g++)
                Assert.Equal(qs.Skip(16 * g).Take(16).Sum(v => v), bsums[g]);
            // the all-zero block: d = 0 and zero quants; ggml leaves bsums unwritten, TinyLM zeros them
            Assert.True(q.AsSpan(292, 292).IndexOfAnyExcept((byte)0) < 0, $"{path}: zero block not all zero");
        }
    }

    [Fact]
    public void Q4_K_ScalesAndMinsRoundTripThroughGetScaleMinK4()
    {
        // quantize a row whose sub-blocks have growing ranges, then read the packed 6-bit values back
        // with both unpackers (get_scale_min_k4 and the dot's utmp form)
        float[] x = new float[256];
        for (int j = 0; j < 8; j++)
            for (int l = 0; l < 32; l++)
                x[32 * j + l] = (j + 1) * (l - 8) / 32f;
        byte[] q = QuantTestData.QuantizeReference(TensorTypes.Get(GgmlType.Q4_K), x);
        ReadOnlySpan<byte> packed = q.AsSpan(4, 12);
        Span<byte> utmp = stackalloc byte[16];
        KQuants.UnpackScalesMinsK4(packed, utmp);
        for (int j = 0; j < 8; j++)
        {
            KQuants.GetScaleMinK4(j, packed, out byte sc, out byte m);
            Assert.Equal(sc, utmp[j]);
            Assert.Equal(m, utmp[8 + j]);
            Assert.InRange(sc, 0, 63);
            Assert.InRange(m, 0, 63);
        }
        KQuants.GetScaleMinK4(7, packed, out byte top, out _);
        Assert.Equal(63, top); // the widest sub-block takes the full 6-bit scale
    }

    [Theory]
    [InlineData("tq1_0")]
    [InlineData("tq2_0")]
    public void TernaryTypesRoundTripTernaryValues(string name)
    {
        // values in {-d, 0, d} come back exactly: tq1_0 packs five trits per byte (four in qh), tq2_0 four
        TensorType t = QuantTestData.Type(name);
        var rng = new Random(7);
        float[] x = new float[3 * 256];
        for (int i = 0; i < x.Length; i++)
            x[i] = (rng.Next(3) - 1) * 0.75f;
        x[0] = 0.75f;
        x[256] = -0.75f;
        x[512] = 0.75f;
        float[] y = new float[x.Length];
        t.Dequantize(QuantTestData.QuantizeReference(t, x), y);
        QuantTestData.AssertBitEqual(x.Select(v => v == 0 ? 0f : v).ToArray(), y.Select(v => v == 0 ? 0f : v).ToArray(), name);
    }

    [Fact]
    public void IQ4_NL_ExactTableLevelsRoundTrip()
    {
        // a block holding the 16 levels of kvalues_iq4nl times 0.5 (with -127·0.5 the largest magnitude)
        // quantizes to its own levels: d = 0.5 and every index exact
        sbyte[] levels = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
        float[] x = new float[32];
        for (int j = 0; j < 32; j++)
            x[j] = 0.5f * levels[j % 16];
        float[] y = new float[32];
        TensorType t = TensorTypes.Get(GgmlType.IQ4_NL);
        byte[] q = QuantTestData.QuantizeReference(t, x);
        Assert.Equal((Half)0.5f, BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(q, 0)));
        t.Dequantize(q, y);
        QuantTestData.AssertBitEqual(x, y, "iq4_nl");
    }

    [Fact]
    public void IQ4_NL_AllZeroBlockKeepsThePreviousIndicesAsGgmlDoes()
    {
        // quantize_row_iq4_nl_ref leaves its index buffer unwritten for a block below GROUP_MAX_EPS:
        // the block gets d = 0 and the previous block's indices
        TensorType t = TensorTypes.Get(GgmlType.IQ4_NL);
        var rng = new Random(9);
        float[] x = new float[64];
        for (int j = 0; j < 32; j++)
            x[j] = (float)(rng.NextDouble() * 2 - 1);
        byte[] q = QuantTestData.QuantizeReference(t, x);
        Assert.Equal(0, BitConverter.ToUInt16(q, 18));
        Assert.Equal(q.AsSpan(2, 16).ToArray(), q.AsSpan(20, 16).ToArray());
        float[] y = new float[64];
        t.Dequantize(q, y);
        Assert.All(y[32..], v => Assert.Equal(0f, MathF.Abs(v)));
    }

    [Theory]
    [MemberData(nameof(QuantTestData.SuperBlockTypes), MemberType = typeof(QuantTestData))]
    public void SuperBlockDotEqualsDequantizedDotWithinRounding(string name)
    {
        // the integer dot against Q8_K equals Σ dequantized weight · dequantized activation up to float
        // rounding: checks the element order of unpacking against the dequantizer's
        TensorType t = QuantTestData.Type(name), q8k = TensorTypes.Get(GgmlType.Q8_K);
        var rng = new Random(13);
        const int n = 1024;
        byte[] w = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, n, 1f));
        byte[] a = QuantTestData.QuantizeReference(q8k, QuantTestData.Uniform(rng, n, 1f));
        float[] wf = new float[n], af = new float[n];
        t.Dequantize(w, wf);
        q8k.Dequantize(a, af);
        double expected = 0, magnitude = 0;
        for (int i = 0; i < n; i++)
        {
            expected += (double)wf[i] * af[i];
            magnitude += Math.Abs((double)wf[i] * af[i]);
        }
        Assert.InRange(t.Dot(w, a, n), expected - 1e-5 * magnitude, expected + 1e-5 * magnitude);
    }
}
