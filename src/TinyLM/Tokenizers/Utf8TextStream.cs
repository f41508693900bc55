using System.Buffers;

namespace TinyLM.Tokenizers;

/// <summary>
/// Turns the piece bytes of generated tokens (<see cref="Tokenizer.GetPieceBytes"/>) into text as
/// they arrive: a character whose UTF-8 bytes span several tokens (byte-fallback tokens
/// <c>&lt;0xNN&gt;</c>) appears once all its bytes are in. Not thread-safe; use one per generation.
/// </summary>
/// <remarks>
/// Invalid UTF-8 becomes U+FFFD as soon as it is known to be invalid, one U+FFFD per maximal
/// subpart of an ill-formed sequence (Unicode 15, §3.9 "U+FFFD Substitution of Maximal Subparts",
/// the policy <see cref="System.Text.Encoding.UTF8"/> follows, so the concatenated output equals
/// <c>Encoding.UTF8.GetString</c> of all the bytes). For example 0xE2 then 0x28 gives U+FFFD and
/// "(" when the 0x28 arrives. At most three bytes of an unfinished character are held back.
/// Nothing is allocated besides the strings returned (an empty result is <see cref="string.Empty"/>).
/// </remarks>
public sealed class Utf8TextStream
{
    private const int StackChars = 256;

    private int _codePoint;   // bits accumulated from the pending bytes
    private int _have;        // pending bytes, 0..3
    private int _need;        // length of the pending sequence, 2..4
    private byte _lead;       // its first byte

    /// <summary>Appends bytes and returns the text they complete (possibly empty).</summary>
    /// <param name="bytes">The next bytes, e.g. one token's piece.</param>
    /// <returns>The newly completed characters; an incomplete character at the end is kept for later.</returns>
    public string Append(ReadOnlySpan<byte> bytes) => Decode(bytes, flush: false);

    /// <summary>
    /// Ends the stream: returns the bytes held back of an unfinished character as one U+FFFD (or an
    /// empty string when none are held) and resets, so the stream can be reused.
    /// </summary>
    /// <returns>U+FFFD for pending bytes, or an empty string.</returns>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        // Each byte yields at most one char, or two with the one before it (a 4-byte sequence gives a
        // surrogate pair); a pending sequence cut short adds one U+FFFD.
        int max = bytes.Length + 1;
        char[]? rented = null;
        Span<char> chars = max <= StackChars ? stackalloc char[StackChars] : (rented = ArrayPool<char>.Shared.Rent(max));
        try
        {
            int n = 0;
            foreach (byte b in bytes)
                n = Push(b, chars, n);
            if (flush && _have > 0)
            {
                chars[n++] = '\uFFFD';
                _have = 0;
            }
            return n == 0 ? string.Empty : new string(chars[..n]);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<char>.Shared.Return(rented);
        }
    }

    private int Push(byte b, Span<char> chars, int n)
    {
        if (_have > 0)
        {
            // Second bytes are restricted so that overlong forms, surrogates and values past
            // U+10FFFF are rejected at the first byte that shows it (Unicode Table 3-7).
            (byte low, byte high) = _have > 1 ? ((byte)0x80, (byte)0xBF) : _lead switch
            {
                0xE0 => ((byte)0xA0, (byte)0xBF),
                0xED => ((byte)0x80, (byte)0x9F),
                0xF0 => ((byte)0x90, (byte)0xBF),
                0xF4 => ((byte)0x80, (byte)0x8F),
                _ => ((byte)0x80, (byte)0xBF),
            };
            if (b >= low && b <= high)
            {
                _codePoint = (_codePoint << 6) | (b & 0x3F);
                if (++_have < _need)
                    return n;
                _have = 0;
                if (_codePoint >= 0x10000)
                {
                    chars[n++] = (char)(0xD800 + ((_codePoint - 0x10000) >> 10));
                    chars[n++] = (char)(0xDC00 + ((_codePoint - 0x10000) & 0x3FF));
                }
                else
                {
                    chars[n++] = (char)_codePoint;
                }
                return n;
            }
            // The pending bytes are a maximal subpart: one U+FFFD, then this byte starts afresh.
            chars[n++] = '\uFFFD';
            _have = 0;
        }

        switch (b)
        {
            case < 0x80:
                chars[n++] = (char)b;
                break;
            case >= 0xC2 and <= 0xDF:
                Start(b, 2, b & 0x1F);
                break;
            case >= 0xE0 and <= 0xEF:
                Start(b, 3, b & 0x0F);
                break;
            case >= 0xF0 and <= 0xF4:
                Start(b, 4, b & 0x07);
                break;
            default: // continuation byte without a lead, 0xC0, 0xC1, 0xF5-0xFF
                chars[n++] = '\uFFFD';
                break;
        }
        return n;
    }

    private void Start(byte lead, int need, int bits)
    {
        _lead = lead;
        _need = need;
        _have = 1;
        _codePoint = bits;
    }
}
