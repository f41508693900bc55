using TinyLM.Kernels.Wasm;

namespace TinyLM.Tests.Kernels.Wasm;

public class Leb128Tests
{
    [Theory]
    [InlineData(0ul, new byte[] { 0x00 })]
    [InlineData(1ul, new byte[] { 0x01 })]
    [InlineData(63ul, new byte[] { 0x3F })]
    [InlineData(64ul, new byte[] { 0x40 })]
    [InlineData(127ul, new byte[] { 0x7F })]
    [InlineData(128ul, new byte[] { 0x80, 0x01 })]
    [InlineData(255ul, new byte[] { 0xFF, 0x01 })]
    [InlineData(300ul, new byte[] { 0xAC, 0x02 })]
    [InlineData(16383ul, new byte[] { 0xFF, 0x7F })]
    [InlineData(16384ul, new byte[] { 0x80, 0x80, 0x01 })]
    [InlineData(624485ul, new byte[] { 0xE5, 0x8E, 0x26 })]
    [InlineData(0x0FFFFFFFul, new byte[] { 0xFF, 0xFF, 0xFF, 0x7F })]
    [InlineData(0x10000000ul, new byte[] { 0x80, 0x80, 0x80, 0x80, 0x01 })]
    [InlineData(uint.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(ulong.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    public void Unsigned_IsShortestEncoding(ulong value, byte[] expected) =>
        Assert.Equal(expected, Leb128.Unsigned(value));

    [Theory]
    [InlineData(0L, new byte[] { 0x00 })]
    [InlineData(1L, new byte[] { 0x01 })]
    [InlineData(-1L, new byte[] { 0x7F })]
    [InlineData(63L, new byte[] { 0x3F })]
    [InlineData(64L, new byte[] { 0xC0, 0x00 })]
    [InlineData(-64L, new byte[] { 0x40 })]
    [InlineData(-65L, new byte[] { 0xBF, 0x7F })]
    [InlineData(127L, new byte[] { 0xFF, 0x00 })]
    [InlineData(128L, new byte[] { 0x80, 0x01 })]
    [InlineData(-128L, new byte[] { 0x80, 0x7F })]
    [InlineData(-129L, new byte[] { 0xFF, 0x7E })]
    [InlineData(-123456L, new byte[] { 0xC0, 0xBB, 0x78 })]
    [InlineData(int.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x07 })]
    [InlineData(int.MinValue, new byte[] { 0x80, 0x80, 0x80, 0x80, 0x78 })]
    [InlineData(long.MaxValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00 })]
    [InlineData(long.MinValue, new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F })]
    public void Signed_IsShortestEncoding(long value, byte[] expected) =>
        Assert.Equal(expected, Leb128.Signed(value));

    [Fact]
    public void RoundTrips_ManyValues()
    {
        var random = new Random(5);
        for (int i = 0; i < 20_000; i++)
        {
            int bits = random.Next(0, 65);
            ulong u = bits == 0 ? 0 : (ulong)random.NextInt64() >> (64 - bits) | (bits == 64 ? 1ul << 63 : 0);
            Assert.Equal(u, DecodeUnsigned(Leb128.Unsigned(u)));
            long s = (long)u;
            Assert.Equal(s, DecodeSigned(Leb128.Signed(s)));
            Assert.Equal(-s, DecodeSigned(Leb128.Signed(-s)));
        }
    }

    private static ulong DecodeUnsigned(byte[] bytes)
    {
        ulong value = 0;
        int shift = 0;
        for (int i = 0; i < bytes.Length; i++, shift += 7)
        {
            value |= (ulong)(bytes[i] & 0x7F) << shift;
            Assert.Equal(i < bytes.Length - 1, (bytes[i] & 0x80) != 0);
        }
        return value;
    }

    private static long DecodeSigned(byte[] bytes)
    {
        long value = 0;
        int shift = 0;
        foreach (byte b in bytes)
        {
            value |= (long)(b & 0x7F) << shift;
            shift += 7;
        }
        if (shift < 64 && (bytes[^1] & 0x40) != 0)
            value |= -1L << shift;
        return value;
    }
}
