using System.Text;

namespace TinyLM.Tokenizers;

/// <summary>
/// Turns the piece bytes of generated tokens (<see cref="Tokenizer.GetPieceBytes"/>) into text as
/// they arrive: a character whose UTF-8 bytes span several tokens (byte-fallback tokens
/// <c>&lt;0xNN&gt;</c>) appears once all its bytes are in. Not thread-safe; use one per generation.
/// </summary>
/// <remarks>
/// Invalid UTF-8 becomes U+FFFD as soon as it is known to be invalid, one U+FFFD per maximal invalid
/// subsequence (the Unicode "best practice" that <see cref="UTF8Encoding"/> follows): e.g. 0xE2
/// then 0x28 gives U+FFFD and "(" when the 0x28 arrives. At most three bytes of an unfinished
/// character are held back. Besides the strings returned, nothing is allocated per call.
/// </remarks>
public sealed class Utf8TextStream
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();

    /// <summary>Appends bytes and returns the text they complete (possibly empty).</summary>
    /// <param name="bytes">The next bytes, e.g. one token's piece.</param>
    /// <returns>The newly completed characters; an incomplete character at the end is kept for later.</returns>
    public string Append(ReadOnlySpan<byte> bytes) => Decode(bytes, flush: false);

    /// <summary>
    /// Ends the stream: returns the bytes held back of an unfinished character as U+FFFD (or an empty
    /// string when none are held) and resets, so the stream can be reused.
    /// </summary>
    /// <returns>U+FFFD for pending bytes, or an empty string.</returns>
    public string Flush() => Decode([], flush: true);

    private string Decode(ReadOnlySpan<byte> bytes, bool flush)
    {
        int count = _decoder.GetCharCount(bytes, flush);
        if (count == 0)
        {
            // Still feed the bytes (they start a character) and, on flush, reset the state.
            _decoder.GetChars(bytes, [], flush);
            return string.Empty;
        }
        return string.Create(count, new State(_decoder, bytes, flush), static (chars, state) =>
            state.Decoder.GetChars(state.Bytes, chars, state.Flush));
    }

    private readonly ref struct State(Decoder decoder, ReadOnlySpan<byte> bytes, bool flush)
    {
        public Decoder Decoder { get; } = decoder;
        public ReadOnlySpan<byte> Bytes { get; } = bytes;
        public bool Flush { get; } = flush;
    }
}
