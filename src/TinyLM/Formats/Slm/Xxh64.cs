using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace TinyLM.Formats.Slm;

/// <summary>
/// XXH64 (Yann Collet, xxHash 0.8, "XXH64 algorithm description" in doc/xxhash_spec.md of
/// Cyan4973/xxHash): the checksum of every <c>.slm</c> region, with seed 0. Implemented in C# because
/// the browser runtime has no hashing library without NuGet packages.
/// </summary>
/// <remarks>
/// Test vectors (seed 0): <c>""</c> → <c>EF46DB3751D8E999</c>, <c>"a"</c> → <c>D24EC4F1A98C6E5B</c>,
/// <c>"abc"</c> → <c>44BC2CF5AD770999</c>; docs/slm-format.md lists more. Use <see cref="Hash"/> for one
/// span, or <see cref="Append"/> and <see cref="GetCurrentHash"/> to hash data given in pieces (the
/// result equals <see cref="Hash"/> of the concatenation). A mutable struct: pass it by reference.
/// </remarks>
public struct Xxh64
{
    private const ulong P1 = 11400714785074694791UL;
    private const ulong P2 = 14029467366897019727UL;
    private const ulong P3 = 1609587929392839161UL;
    private const ulong P4 = 9650029242287828579UL;
    private const ulong P5 = 2870177450012600261UL;

    private ulong _v1, _v2, _v3, _v4;
    private ulong _total;
    private readonly ulong _seed;
    private Stripe _buffer;
    private int _buffered;
    private bool _initialized;

    [InlineArray(32)]
    private struct Stripe
    {
        private byte _element;
    }

    /// <summary>Starts a hash with <paramref name="seed"/> (<c>.slm</c> uses 0).</summary>
    public Xxh64(ulong seed)
    {
        _seed = seed;
        Reset();
    }

    /// <summary>XXH64 of <paramref name="data"/>.</summary>
    public static ulong Hash(ReadOnlySpan<byte> data, ulong seed = 0)
    {
        var h = new Xxh64(seed);
        h.Append(data);
        return h.GetCurrentHash();
    }

    private void Reset()
    {
        _v1 = unchecked(_seed + P1 + P2);
        _v2 = unchecked(_seed + P2);
        _v3 = _seed;
        _v4 = unchecked(_seed - P1);
        _total = 0;
        _buffered = 0;
        _initialized = true;
    }

    /// <summary>Appends bytes.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (!_initialized)
            Reset();
        _total += (ulong)data.Length;
        Span<byte> buffer = _buffer;
        if (_buffered > 0)
        {
            int take = Math.Min(32 - _buffered, data.Length);
            data[..take].CopyTo(buffer[_buffered..]);
            _buffered += take;
            data = data[take..];
            if (_buffered < 32)
                return;
            Stripes(buffer);
            _buffered = 0;
        }
        int whole = data.Length & ~31;
        if (whole > 0)
        {
            Stripes(data[..whole]);
            data = data[whole..];
        }
        data.CopyTo(buffer);
        _buffered = data.Length;
    }

    /// <summary>Appends <paramref name="count"/> zero bytes.</summary>
    public void AppendZeros(long count)
    {
        ReadOnlySpan<byte> zeros = stackalloc byte[256];
        while (count > 0)
        {
            int n = (int)Math.Min(count, zeros.Length);
            Append(zeros[..n]);
            count -= n;
        }
    }

    private void Stripes(ReadOnlySpan<byte> data)
    {
        ulong v1 = _v1, v2 = _v2, v3 = _v3, v4 = _v4;
        for (int i = 0; i < data.Length; i += 32)
        {
            v1 = Round(v1, BinaryPrimitives.ReadUInt64LittleEndian(data[i..]));
            v2 = Round(v2, BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 8)..]));
            v3 = Round(v3, BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 16)..]));
            v4 = Round(v4, BinaryPrimitives.ReadUInt64LittleEndian(data[(i + 24)..]));
        }
        (_v1, _v2, _v3, _v4) = (v1, v2, v3, v4);
    }

    /// <summary>The hash of everything appended so far (appending may continue).</summary>
    public readonly ulong GetCurrentHash()
    {
        ulong h;
        ulong v1 = _initialized ? _v1 : unchecked(_seed + P1 + P2);
        if (_total >= 32)
        {
            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(_v2, 7) + BitOperations.RotateLeft(_v3, 12) + BitOperations.RotateLeft(_v4, 18);
            h = Merge(h, v1);
            h = Merge(h, _v2);
            h = Merge(h, _v3);
            h = Merge(h, _v4);
        }
        else
        {
            h = unchecked(_seed + P5);
        }
        h += _total;
        ReadOnlySpan<byte> rest = ((ReadOnlySpan<byte>)_buffer)[.._buffered];
        while (rest.Length >= 8)
        {
            h ^= Round(0, BinaryPrimitives.ReadUInt64LittleEndian(rest));
            h = BitOperations.RotateLeft(h, 27) * P1 + P4;
            rest = rest[8..];
        }
        if (rest.Length >= 4)
        {
            h ^= BinaryPrimitives.ReadUInt32LittleEndian(rest) * P1;
            h = BitOperations.RotateLeft(h, 23) * P2 + P3;
            rest = rest[4..];
        }
        foreach (byte b in rest)
        {
            h ^= b * P5;
            h = BitOperations.RotateLeft(h, 11) * P1;
        }
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;
    }

    private static ulong Round(ulong acc, ulong input) => BitOperations.RotateLeft(acc + input * P2, 31) * P1;

    private static ulong Merge(ulong acc, ulong v) => (acc ^ Round(0, v)) * P1 + P4;
}
