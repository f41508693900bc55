using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;

namespace TinyLM.Formats.Slm;

/// <summary>
/// Reads little-endian fields from one section of an <c>.slm</c> file, checking every read against
/// the bytes left; a failure throws <see cref="ModelAdmissionException"/> (stage Parse) with the
/// section's error state and the absolute file offset of the field.
/// </summary>
internal ref struct SectionReader(ReadOnlySpan<byte> data, long fileOffset, string source, AdmissionError error)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public readonly int Position => _pos;

    public readonly int Remaining => _data.Length - _pos;

    public readonly long FileOffset => fileOffset + _pos;

    public ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count < 0 || count > Remaining)
            Fail($"expected {what} ({count} bytes), found only {Remaining} bytes left in the section");
        ReadOnlySpan<byte> span = _data.Slice(_pos, count);
        _pos += count;
        return span;
    }

    public uint UInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

    public int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));

    public ulong UInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public float Single(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));

    /// <summary>A count that must fit in the bytes left at <paramref name="minBytesEach"/> bytes per element.</summary>
    public int Count(string what, int minBytesEach, int max)
    {
        long at = FileOffset;
        uint n = UInt32(what);
        long fits = minBytesEach == 0 ? max : Math.Min(max, Remaining / minBytesEach);
        if (n > fits)
            FailAt(at, $"expected {what} of at most {fits} (the bytes left allow {Remaining / Math.Max(1, minBytesEach)}, the format {max}), found {n}");
        return (int)n;
    }

    /// <summary>A string: uint32 byte length, then that many bytes of valid UTF-8.</summary>
    public string String(string what)
    {
        long at = FileOffset;
        uint length = UInt32($"the length of {what}");
        if (length > Remaining)
            FailAt(at, $"expected {what} of {length} bytes, found only {Remaining} bytes left in the section");
        ReadOnlySpan<byte> bytes = Take((int)length, what);
        if (!Utf8.IsValid(bytes))
            FailAt(at + 4, $"expected {what} in valid UTF-8, found invalid bytes");
        return Encoding.UTF8.GetString(bytes);
    }

    [DoesNotReturn]
    public readonly void Fail(string reason) => FailAt(FileOffset, reason);

    [DoesNotReturn]
    public readonly void FailAt(long offset, string reason) =>
        throw new ModelAdmissionException(AdmissionStage.Parse, error, source, offset, reason);
}

/// <summary>Little-endian output for the sections the writer builds in memory.</summary>
internal sealed class SectionWriter
{
    private readonly MemoryStream _stream = new();
    private readonly byte[] _scratch = new byte[8];

    public long Length => _stream.Length;

    public byte[] ToArray() => _stream.ToArray();

    public void Bytes(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);

    public void Byte(byte v) => _stream.WriteByte(v);

    public void UInt32(uint v)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_scratch, v);
        _stream.Write(_scratch, 0, 4);
    }

    public void Int32(int v) => UInt32((uint)v);

    public void UInt64(ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_scratch, v);
        _stream.Write(_scratch, 0, 8);
    }

    public void Single(float v) => UInt32(BitConverter.SingleToUInt32Bits(v));

    /// <summary>uint32 byte length, then the UTF-8 bytes.</summary>
    public void String(string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        UInt32((uint)bytes.Length);
        _stream.Write(bytes);
    }
}
