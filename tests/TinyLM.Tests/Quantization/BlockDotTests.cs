using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>The SIMD building blocks of the block dots against their scalar meaning.</summary>
public class BlockDotTests
{
    [Fact]
    public void HighBitsSpreadEachBitOfQhToItsElement()
    {
        var rng = new Random(31);
        for (int i = 0; i < 2000; i++)
        {
            uint qh = i < 32 ? 1u << i : (uint)rng.NextInt64(0, 1L << 32);
            BlockDot.HighBits128(qh, out Vector128<byte> lo, out Vector128<byte> hi);
            Vector256<byte> all = Avx2.IsSupported ? BlockDot.HighBits256(qh) : Vector256.Create(lo, hi);
            for (int j = 0; j < 32; j++)
            {
                byte expected = (byte)(((qh >> j) & 1) << 4);
                Assert.Equal(expected, j < 16 ? lo.GetElement(j) : hi.GetElement(j - 16));
                Assert.Equal(expected, all.GetElement(j));
            }
        }
    }

    [Fact]
    public void NibblesPutElementJAndJPlus16InByteJ()
    {
        byte[] qs = Enumerable.Range(0, 16).Select(j => (byte)(j | (15 - j) << 4)).ToArray();
        BlockDot.Nibbles128(ref qs[0], out Vector128<byte> lo, out Vector128<byte> hi);
        Vector256<byte> all = BlockDot.Nibbles256(ref qs[0]);
        for (int j = 0; j < 16; j++)
        {
            Assert.Equal(j, lo.GetElement(j));
            Assert.Equal(15 - j, hi.GetElement(j));
            Assert.Equal(j, all.GetElement(j));
            Assert.Equal(15 - j, all.GetElement(j + 16));
        }
    }

    [Fact]
    public void MultiplyAddsSumToTheExactIntegerDot()
    {
        var rng = new Random(37);
        var x = new sbyte[32];
        var y = new sbyte[32];
        var u = new byte[32];
        for (int i = 0; i < 2000; i++)
        {
            for (int j = 0; j < 32; j++)
            {
                x[j] = i % 3 == 0 ? (rng.Next(2) == 0 ? sbyte.MinValue : sbyte.MaxValue) : (sbyte)rng.Next(-128, 128);
                y[j] = i % 5 == 0 ? sbyte.MinValue : (sbyte)rng.Next(-128, 128);
                u[j] = (byte)rng.Next(32);
            }
            int signed = 0, unsigned = 0, offset8 = 0, offset16 = 0;
            for (int j = 0; j < 32; j++)
            {
                signed += x[j] * y[j];
                unsigned += u[j] * y[j];
                offset8 += ((u[j] & 15) - 8) * y[j];
                offset16 += (u[j] - 16) * y[j];
            }
            Vector128<sbyte> x0 = Vector128.Create(x.AsSpan(0, 16)), x1 = Vector128.Create(x.AsSpan(16, 16));
            Vector128<sbyte> y0 = Vector128.Create(y.AsSpan(0, 16)), y1 = Vector128.Create(y.AsSpan(16, 16));
            Assert.Equal(signed, Vector128.Sum(BlockDot.MultiplyAdd128(x0, y0) + BlockDot.MultiplyAdd128(x1, y1)));
            (Vector128<short> xl, Vector128<short> xh) = Vector128.Widen(x0);
            (Vector128<short> yl, Vector128<short> yh) = Vector128.Widen(y0);
            Assert.Equal(
                Vector128.Sum(BlockDot.MultiplyAddPairs(xl, yl) + BlockDot.MultiplyAddPairs(xh, yh)),
                Vector128.Sum(BlockDot.MultiplyAddPortable(xl, yl) + BlockDot.MultiplyAddPortable(xh, yh)));
            if (Avx2.IsSupported)
            {
                Vector256<sbyte> xv = Vector256.Create(x), yv = Vector256.Create(y);
                Vector256<byte> uv = Vector256.Create(u);
                Assert.Equal(signed, Vector256.Sum(BlockDot.MultiplyAddSigned256(xv, yv)));
                Assert.Equal(unsigned, Vector256.Sum(BlockDot.MultiplyAddUnsigned256(uv, yv, 0)));
                Assert.Equal(offset8, Vector256.Sum(BlockDot.MultiplyAddUnsigned256(uv & Vector256.Create((byte)15), yv, 8)));
                Assert.Equal(offset16, Vector256.Sum(BlockDot.MultiplyAddUnsigned256(uv, yv, 16)));
                Vector256<int> p = BlockDot.MultiplyAddSigned256(xv, yv);
                Vector128<int> four = BlockDot.Sum4(p, p * 2, p * 3, -p);
                Assert.Equal(Vector128.Create(signed, 2 * signed, 3 * signed, -signed), four);
            }
        }
    }
}
