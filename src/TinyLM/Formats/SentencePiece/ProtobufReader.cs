using System.Buffers.Binary;

namespace TinyLM.Formats.SentencePiece;

/// <summary>Protocol Buffers wire types (protobuf encoding spec).</summary>
internal enum WireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

/// <summary>
/// A minimal, validating reader of the Protocol Buffers wire format over one message's bytes: tags,
/// varints (at most 10 bytes, no overflow), fixed32, length-delimited fields checked against the
/// bytes left, and skipping of unknown fields. Groups (wire types 3 and 4, unused by SentencePiece)
/// are rejected. Errors are <see cref="ModelFormatException"/>s with absolute offsets.
/// </summary>
internal ref struct ProtobufReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _source;
    private readonly long _baseOffset;
    private int _position;

    /// <param name="data">The message bytes.</param>
    /// <param name="source">File or buffer name for errors.</param>
    /// <param name="baseOffset">Offset of <paramref name="data"/> in the file, for errors.</param>
    public ProtobufReader(ReadOnlySpan<byte> data, string source, long baseOffset)
    {
        _data = data;
        _source = source;
        _baseOffset = baseOffset;
    }

    /// <summary>True when the whole message has been read.</summary>
    public readonly bool AtEnd => _position >= _data.Length;

    /// <summary>Absolute offset of the next byte.</summary>
    public readonly long Offset => _baseOffset + _position;

    /// <summary>Reads a field tag: field number (1..2^29-1) and wire type.</summary>
    public (int Field, WireType Wire) ReadTag()
    {
        long at = Offset;
        ulong tag = ReadVarint();
        ulong field = tag >> 3;
        var wire = (WireType)(int)(tag & 7);
        if (field == 0 || field > (1 << 29) - 1)
            throw Error(at, $"expected a field number in [1, 2^29), found {field}");
        if (wire is WireType.StartGroup or WireType.EndGroup or > WireType.Fixed32)
            throw Error(at, $"field {field}: expected wire type 0, 1, 2 or 5, found {(int)wire}");
        return ((int)field, wire);
    }

    /// <summary>Reads a base-128 varint of at most 10 bytes whose value fits in 64 bits.</summary>
    public ulong ReadVarint()
    {
        long at = Offset;
        ulong value = 0;
        for (int i = 0; i < 10; i++)
        {
            if (_position >= _data.Length)
                throw Error(at, $"expected a varint, found the end of the data after {i} byte(s)");
            byte b = _data[_position++];
            if (i == 9 && b > 1)
                throw Error(at, $"expected a varint that fits in 64 bits, found a 10th byte 0x{b:X2}");
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
                return value;
        }
        throw Error(at, "expected a varint of at most 10 bytes, found more");
    }

    /// <summary>Reads an <c>int32</c> field value (a varint whose low 32 bits are the two's-complement value).</summary>
    public int ReadInt32() => unchecked((int)ReadVarint());

    /// <summary>Reads a <c>bool</c> field value.</summary>
    public bool ReadBool() => ReadVarint() != 0;

    /// <summary>Reads a little-endian fixed32 as a <c>float</c>.</summary>
    public float ReadSingle()
    {
        Require(4, "a fixed32");
        float v = BinaryPrimitives.ReadSingleLittleEndian(_data.Slice(_position, 4));
        _position += 4;
        return v;
    }

    /// <summary>Reads a length-delimited field's bytes; <paramref name="offset"/> is their absolute offset.</summary>
    public ReadOnlySpan<byte> ReadLengthDelimited(out long offset)
    {
        long at = Offset;
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
            throw Error(at, $"expected a length of at most {_data.Length - _position} (the bytes left), found {length}");
        offset = Offset;
        ReadOnlySpan<byte> bytes = _data.Slice(_position, (int)length);
        _position += (int)length;
        return bytes;
    }

    /// <summary>Skips a field's value of the given wire type.</summary>
    public void Skip(WireType wire)
    {
        switch (wire)
        {
            case WireType.Varint: ReadVarint(); break;
            case WireType.Fixed64: Require(8, "a fixed64"); _position += 8; break;
            case WireType.Fixed32: Require(4, "a fixed32"); _position += 4; break;
            case WireType.LengthDelimited: ReadLengthDelimited(out _); break;
            default: throw Error(Offset, $"expected wire type 0, 1, 2 or 5, found {(int)wire}");
        }
    }

    /// <summary>Throws unless the field has the expected wire type.</summary>
    public readonly void Expect(int field, WireType actual, WireType expected, long tagOffset)
    {
        if (actual != expected)
            throw Error(tagOffset, $"field {field}: expected wire type {(int)expected}, found {(int)actual}");
    }

    /// <summary>A <see cref="ModelFormatException"/> at an absolute offset.</summary>
    public readonly ModelFormatException Error(long offset, string reason) => new(_source, offset, reason);

    private readonly void Require(int count, string what)
    {
        if (_data.Length - _position < count)
            throw Error(Offset, $"expected {what} ({count} bytes), found {_data.Length - _position} byte(s) left");
    }
}
