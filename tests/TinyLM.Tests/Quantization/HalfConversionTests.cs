using System.Runtime.Intrinsics;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>The float16/bfloat16 ports of ggml-impl.h and the C conversions the reference quantizers use.</summary>
public class HalfConversionTests
{
    private static IEnumerable<float> InterestingFloats()
    {
        uint[] bits =
        [
            0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC12345, 0x7F800001, 0x7FBFFFFF,
            0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x00000001, 0x807FFFFF, 0x477FE000, 0x477FEFFF, 0x477FF000,
            0x47800000, 0x33000000, 0x33000001, 0x387FC000, 0x38800000, 0x3F801000, 0x3F803000, 0xBF801000,
            0x3F808000, 0x3F818000, 0xBF808000, 0x3F80FFFF, 0x3F7FFFFF, 0x33800000, 0x337FFFFF, 0x38000000,
        ];
        foreach (uint b in bits)
            yield return BitConverter.UInt32BitsToSingle(b);
        var rng = new Random(7);
        for (int i = 0; i < 200_000; i++)
            yield return BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));
        for (int i = 0; i < 100_000; i++)
            yield return (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-30, 20)));
    }

    [Fact]
    public void Fp16ToFp32EqualsHalfConversionForEveryBitPattern()
    {
        for (int h = 0; h < 65536; h++)
        {
            float ours = HalfConversions.Fp16ToFp32((ushort)h);
            float net = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            if (float.IsNaN(net))
                Assert.True(float.IsNaN(ours), $"0x{h:X4}");
            else
                Assert.True(QuantTestData.BitEqual(net, ours), $"0x{h:X4}: expected {net:R}, found {ours:R}");
        }
    }

    [Fact]
    public void Fp32ToFp16RoundsToNearestEvenAndCanonicalizesNaN()
    {
        foreach (float f in InterestingFloats())
        {
            ushort ours = HalfConversions.Fp32ToFp16(f);
            if (float.IsNaN(f))
                Assert.Equal((ushort)((BitConverter.SingleToUInt32Bits(f) >> 16) & 0x8000 | 0x7E00), ours);
            else
                Assert.Equal(BitConverter.HalfToUInt16Bits((Half)f), ours);
        }
    }

    [Fact]
    public void Fp32ToBf16RoundsToNearestEvenAndQuietsNaN()
    {
        Assert.Equal(0x3F80, HalfConversions.Fp32ToBf16(BitConverter.UInt32BitsToSingle(0x3F808000))); // tie to even: down
        Assert.Equal(0x3F82, HalfConversions.Fp32ToBf16(BitConverter.UInt32BitsToSingle(0x3F818000))); // tie to even: up
        Assert.Equal(0x3F81, HalfConversions.Fp32ToBf16(BitConverter.UInt32BitsToSingle(0x3F808001))); // above the tie
        Assert.Equal(0x7F80, HalfConversions.Fp32ToBf16(BitConverter.UInt32BitsToSingle(0x7F7FFFFF))); // FLT_MAX overflows
        Assert.Equal(0x7FC0, HalfConversions.Fp32ToBf16(BitConverter.UInt32BitsToSingle(0x7F800001))); // signalling NaN made quiet
        Assert.Equal(0x0001, HalfConversions.Fp32ToBf16(BitConverter.UInt32BitsToSingle(0x00008000 + 1))); // subnormals kept
        foreach (float f in InterestingFloats())
        {
            ushort b = HalfConversions.Fp32ToBf16(f);
            float back = HalfConversions.Bf16ToFp32(b);
            if (float.IsNaN(f))
                Assert.True(float.IsNaN(back));
            else if (float.IsFinite(back))
                Assert.True(Math.Abs((double)back - f) <= Math.Abs((double)f) * (1.0 / 256) + Math.Pow(2, -134), $"{f:R} -> {back:R}");
        }
    }

    [Fact]
    public void VectorConversionsEqualScalarConversions()
    {
        for (int h = 0; h < 65536; h += 8)
        {
            var bits = Vector256.Create((uint)h, (uint)h + 1, (uint)h + 2, (uint)h + 3, (uint)h + 4, (uint)h + 5, (uint)h + 6, (uint)h + 7);
            Vector256<float> v256 = HalfConversions.Fp16ToFp32(bits);
            Vector128<float> v128 = HalfConversions.Fp16ToFp32(bits.GetLower());
            for (int k = 0; k < 8; k++)
                Assert.True(QuantTestData.BitEqual(HalfConversions.Fp16ToFp32((ushort)(h + k)), v256.GetElement(k)), $"0x{h + k:X4}");
            for (int k = 0; k < 4; k++)
                Assert.True(QuantTestData.BitEqual(HalfConversions.Fp16ToFp32((ushort)(h + k)), v128.GetElement(k)), $"0x{h + k:X4}");
        }
        float[] values = InterestingFloats().ToArray();
        for (int i = 0; i + 8 <= values.Length; i += 8)
        {
            var v = Vector256.Create(values.AsSpan(i, 8));
            Vector256<uint> f16 = HalfConversions.Fp32ToFp16(v), bf16 = HalfConversions.Fp32ToBf16(v);
            Vector128<uint> f16x4 = HalfConversions.Fp32ToFp16(v.GetLower()), bf16x4 = HalfConversions.Fp32ToBf16(v.GetLower());
            for (int k = 0; k < 8; k++)
            {
                Assert.Equal(HalfConversions.Fp32ToFp16(values[i + k]), f16.GetElement(k));
                Assert.Equal(HalfConversions.Fp32ToBf16(values[i + k]), bf16.GetElement(k));
            }
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(HalfConversions.Fp32ToFp16(values[i + k]), f16x4.GetElement(k));
                Assert.Equal(HalfConversions.Fp32ToBf16(values[i + k]), bf16x4.GetElement(k));
            }
        }
    }

    [Fact]
    public void RoundFRoundsHalfAwayFromZero()
    {
        Assert.Equal(1f, CConversions.RoundF(0.5f));
        Assert.Equal(-1f, CConversions.RoundF(-0.5f));
        Assert.Equal(3f, CConversions.RoundF(2.5f));
        Assert.Equal(-3f, CConversions.RoundF(-2.5f));
        Assert.Equal(0f, CConversions.RoundF(0.49999997f));
        Assert.Equal(8388609f, CConversions.RoundF(8388609f));
        var rng = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            float x = i < 1000 ? (i - 500) * 0.5f : (float)((rng.NextDouble() * 2 - 1) * 300);
            float expected = (float)Math.Round((double)x, MidpointRounding.AwayFromZero);
            Assert.Equal(expected, CConversions.RoundF(x));
            Assert.Equal(expected, QuantVectors.RoundAway(Vector256.Create(x)).GetElement(3));
            Assert.Equal(expected, QuantVectors.RoundAway(Vector128.Create(x)).GetElement(1));
        }
    }

    [Fact]
    public void TruncateToInt32FollowsX86ConversionResults()
    {
        Assert.Equal(-2, CConversions.TruncateToInt32(-2.7f));
        Assert.Equal(16, CConversions.TruncateToInt32(16.99f));
        Assert.Equal(int.MinValue, CConversions.TruncateToInt32(float.NaN));
        Assert.Equal(int.MinValue, CConversions.TruncateToInt32(float.PositiveInfinity));
        Assert.Equal(int.MinValue, CConversions.TruncateToInt32(float.NegativeInfinity));
        Assert.Equal(int.MinValue, CConversions.TruncateToInt32(3e9f));
        Assert.Equal(int.MinValue, CConversions.TruncateToInt32(-2147483648f));
        Assert.Equal(2147483520, CConversions.TruncateToInt32(2147483520f));
        Assert.Equal(0, (sbyte)CConversions.TruncateToInt32(float.PositiveInfinity)); // (int8_t)inf on x86
    }
}
