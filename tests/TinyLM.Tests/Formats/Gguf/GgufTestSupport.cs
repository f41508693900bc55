using System.Buffers.Binary;
using System.Text;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using Xunit;

namespace TinyLM.Tests.Formats.Gguf;

/// <summary>
/// Raw little-endian GGUF bytes written field by field, to craft valid and hostile files by hand.
/// <see cref="Position"/> gives the byte offset of the next field, for asserting error offsets.
/// </summary>
internal sealed class RawGguf
{
    private readonly MemoryStream _bytes = new();

    public long Position => _bytes.Length;

    /// <summary>Magic, version, tensor count, KV count.</summary>
    public static RawGguf Header(ulong tensors, ulong kvs, uint version = 3) =>
        new RawGguf().Raw("GGUF"u8).U32(version).U64(tensors).U64(kvs);

    public RawGguf Raw(ReadOnlySpan<byte> bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public RawGguf U8(byte v) => Raw([v]);

    public RawGguf U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        return Raw(b);
    }

    public RawGguf U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return Raw(b);
    }

    public RawGguf I64(long v) => U64((ulong)v);

    /// <summary>A GGUF string: uint64 byte length, UTF-8 bytes.</summary>
    public RawGguf Str(string s) => Str(Encoding.UTF8.GetBytes(s));

    public RawGguf Str(byte[] utf8) => U64((ulong)utf8.Length).Raw(utf8);

    /// <summary>A key with a uint32 value.</summary>
    public RawGguf KVUInt32(string key, uint value) => Str(key).U32((uint)GgufValueType.UInt32).U32(value);

    /// <summary>A key with a string value.</summary>
    public RawGguf KVString(string key, string value) => Str(key).U32((uint)GgufValueType.String).Str(value);

    /// <summary>A tensor info.</summary>
    public RawGguf Tensor(string name, uint type, long[] shape, ulong offset)
    {
        Str(name).U32((uint)shape.Length);
        foreach (long d in shape)
            I64(d);
        return U32(type).U64(offset);
    }

    /// <summary>Zero bytes up to the next multiple of <paramref name="alignment"/>.</summary>
    public RawGguf Pad(int alignment = 32)
    {
        while (Position % alignment != 0)
            U8(0);
        return this;
    }

    public RawGguf Zeros(int count) => Raw(new byte[count]);

    public byte[] ToArray() => _bytes.ToArray();
}

/// <summary>Shared assertions for GGUF tests.</summary>
internal static class GgufAssert
{
    /// <summary>Asserts that loading <paramref name="bytes"/> fails with a reason containing each fragment, at <paramref name="offset"/> when given.</summary>
    public static ModelFormatException LoadFails(byte[] bytes, long? offset, params string[] reasonFragments)
    {
        var e = Assert.Throws<ModelFormatException>(() => GgufFile.Load(bytes, "crafted.gguf").Dispose());
        Assert.Equal("crafted.gguf", e.Source);
        foreach (string fragment in reasonFragments)
            Assert.Contains(fragment, e.Reason, StringComparison.Ordinal);
        if (offset is long o)
            Assert.Equal(o, e.Offset);
        return e;
    }
}
