using System.Buffers.Binary;
using System.Text;

namespace TinyLM.Kernels.Wasm;

/// <summary>
/// LEB128 encoders of the WebAssembly binary format (core spec 2.0, 5.2.2 "Integers"): unsigned
/// for <c>u32</c> indices, sizes and counts; signed for the immediates of <c>i32.const</c>
/// (<c>s32</c>), <c>i64.const</c> (<c>s64</c>) and block type indices (<c>s33</c>). Each writes
/// the shortest encoding, as every toolchain does.
/// </summary>
internal static class Leb128
{
    /// <summary>Most bytes of an encoded 64-bit value.</summary>
    public const int MaxBytes = 10;

    /// <summary>Writes <paramref name="value"/> as unsigned LEB128; returns the byte count.</summary>
    public static int WriteUnsigned(Span<byte> destination, ulong value)
    {
        int n = 0;
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            if (value != 0)
                b |= 0x80;
            destination[n++] = b;
        }
        while (value != 0);
        return n;
    }

    /// <summary>Writes <paramref name="value"/> as signed LEB128; returns the byte count.</summary>
    public static int WriteSigned(Span<byte> destination, long value)
    {
        int n = 0;
        while (true)
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7; // arithmetic shift keeps the sign
            bool done = (value == 0 && (b & 0x40) == 0) || (value == -1 && (b & 0x40) != 0);
            destination[n++] = done ? b : (byte)(b | 0x80);
            if (done)
                return n;
        }
    }

    /// <summary>The unsigned encoding as a new array (tests, messages).</summary>
    public static byte[] Unsigned(ulong value)
    {
        Span<byte> buffer = stackalloc byte[MaxBytes];
        return buffer[..WriteUnsigned(buffer, value)].ToArray();
    }

    /// <summary>The signed encoding as a new array (tests, messages).</summary>
    public static byte[] Signed(long value)
    {
        Span<byte> buffer = stackalloc byte[MaxBytes];
        return buffer[..WriteSigned(buffer, value)].ToArray();
    }
}

/// <summary>A growable little-endian byte buffer with the primitive encodings of the binary format.</summary>
internal sealed class WasmBinaryWriter
{
    private byte[] _data;
    private int _length;

    public WasmBinaryWriter(int capacity = 256) => _data = new byte[Math.Max(capacity, 16)];

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => _data.AsSpan(0, _length);

    public void Clear() => _length = 0;

    public void WriteByte(byte value)
    {
        Ensure(1);
        _data[_length++] = value;
    }

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_data.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary><c>u32</c>: unsigned LEB128.</summary>
    public void WriteU32(uint value)
    {
        Ensure(Leb128.MaxBytes);
        _length += Leb128.WriteUnsigned(_data.AsSpan(_length), value);
    }

    /// <summary><c>s32</c>, <c>s33</c> or <c>s64</c>: signed LEB128.</summary>
    public void WriteSigned(long value)
    {
        Ensure(Leb128.MaxBytes);
        _length += Leb128.WriteSigned(_data.AsSpan(_length), value);
    }

    /// <summary><c>f32</c>: the 4 bytes of the IEEE 754 bit pattern, little-endian (NaN payloads kept).</summary>
    public void WriteF32(float value)
    {
        Ensure(4);
        BinaryPrimitives.WriteInt32LittleEndian(_data.AsSpan(_length), BitConverter.SingleToInt32Bits(value));
        _length += 4;
    }

    /// <summary><c>f64</c>: the 8 bytes of the IEEE 754 bit pattern, little-endian (NaN payloads kept).</summary>
    public void WriteF64(double value)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_data.AsSpan(_length), BitConverter.DoubleToInt64Bits(value));
        _length += 8;
    }

    /// <summary><c>name</c>: the UTF-8 byte count as <c>u32</c>, then the bytes.</summary>
    public void WriteName(string name)
    {
        int count = Encoding.UTF8.GetByteCount(name);
        WriteU32((uint)count);
        Ensure(count);
        _length += Encoding.UTF8.GetBytes(name, _data.AsSpan(_length));
    }

    /// <summary>Writes another buffer prefixed with its length as <c>u32</c> (sections, function bodies).</summary>
    public void WriteSized(WasmBinaryWriter content)
    {
        WriteU32((uint)content.Length);
        WriteBytes(content.WrittenSpan);
    }

    private void Ensure(int count)
    {
        if (_length + count <= _data.Length)
            return;
        int size = _data.Length;
        while (size < _length + count)
            size = checked(size * 2);
        Array.Resize(ref _data, size);
    }
}
