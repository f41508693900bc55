using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;
using TinyLM.Formats.SentencePiece;
using TinyLM.Tokenizers;

namespace TinyLM.Formats.Llama2c;

/// <summary>
/// Reads a llama2.c <c>tokenizer.bin</c> into the "llama" <see cref="Vocabulary"/> that llama.cpp's
/// SentencePiece conversion of the same vocabulary gives.
/// </summary>
/// <remarks>
/// <para>
/// Format (llama2.c <c>tokenizer.py</c> <c>export</c>, read by <c>run.c</c> <c>build_tokenizer</c>),
/// little endian: int32 <c>max_token_length</c>, then per token float32 score, int32 byte length and
/// that many bytes. The token count is not stored: it is the checkpoint's <c>vocab_size</c>.
/// </para>
/// <para>
/// The export changed SentencePiece's pieces; this reader maps them back: the piece
/// <c>"\n&lt;s&gt;\n"</c> becomes <c>&lt;s&gt;</c>, <c>"\n&lt;/s&gt;\n"</c> becomes <c>&lt;/s&gt;</c>, and every
/// ASCII space becomes the space marker "▁" (U+2581). Token types are those SentencePiece reports
/// for the Llama pieces, as the converter writes them: <c>&lt;unk&gt;</c> UNKNOWN, <c>&lt;s&gt;</c>
/// and <c>&lt;/s&gt;</c> CONTROL, <c>&lt;0xNN&gt;</c> (upper-case hex) BYTE, every other piece NORMAL.
/// BOS is 1, EOS 2 and UNK 0 (llama2.c's and llama.cpp's defaults; an id outside the vocabulary is
/// -1), BOS is added, EOS is not, the space prefix is on, and the pre-tokenizer is "default".
/// </para>
/// </remarks>
public static class Llama2cTokenizer
{
    /// <summary>Reads a <c>tokenizer.bin</c> file.</summary>
    /// <param name="path">The file path.</param>
    /// <param name="vocabSize">The checkpoint's <c>vocab_size</c>, or null to read tokens up to the end of the file.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is less than 1.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="ModelFormatException">The file is malformed (see <see cref="Read(ReadOnlySpan{byte}, string, int?)"/>).</exception>
    public static Vocabulary Read(string path, int? vocabSize = null) =>
        Read(SentencePieceModel.ReadFile(path), path, vocabSize);

    /// <summary>Reads <c>tokenizer.bin</c> bytes.</summary>
    /// <param name="data">The file's bytes.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <param name="vocabSize">The checkpoint's <c>vocab_size</c>, or null to read tokens up to the end of the data.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is less than 1.</exception>
    /// <exception cref="ModelFormatException">
    /// The header or a token record is truncated; <c>max_token_length</c> or a length is negative; a
    /// token is longer than <c>max_token_length</c> or than the bytes left; a token is not UTF-8; there
    /// are no tokens; with <paramref name="vocabSize"/>, bytes remain after the last token.
    /// </exception>
    public static Vocabulary Read(ReadOnlySpan<byte> data, string source, int? vocabSize = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (vocabSize is int size)
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(vocabSize));

        if (data.Length < 4)
            throw new ModelFormatException(source, 0, $"expected a 4-byte max_token_length, found {data.Length} byte(s)");
        int maxTokenLength = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (maxTokenLength < 0)
            throw new ModelFormatException(source, 0, $"expected a non-negative max_token_length, found {maxTokenLength}");

        // Each token takes at least 8 bytes, which bounds the count before anything is allocated.
        int capacity = Math.Min(vocabSize ?? int.MaxValue, (data.Length - 4) / 8);
        var tokens = new List<string>(capacity);
        var scores = new List<float>(capacity);
        var types = new List<TokenType>(capacity);
        int position = 4;
        while (vocabSize is int expected ? tokens.Count < expected : position < data.Length)
        {
            int index = tokens.Count;
            if (data.Length - position < 8)
                throw new ModelFormatException(source, position,
                    $"token {index}: expected a score and a length (8 bytes), found {data.Length - position} byte(s)");
            float score = BinaryPrimitives.ReadSingleLittleEndian(data[position..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(data[(position + 4)..]);
            if (length < 0 || length > maxTokenLength)
                throw new ModelFormatException(source, position + 4,
                    $"token {index}: expected a length in [0, {maxTokenLength}] (max_token_length), found {length}");
            position += 8;
            if (length > data.Length - position)
                throw new ModelFormatException(source, position - 4,
                    $"token {index}: expected {length} bytes of text, found {data.Length - position} byte(s) left");
            ReadOnlySpan<byte> bytes = data.Slice(position, length);
            if (!Utf8.IsValid(bytes))
                throw new ModelFormatException(source, position, $"token {index}: expected UTF-8 text, found invalid bytes");
            position += length;

            string piece = Encoding.UTF8.GetString(bytes) switch
            {
                "\n<s>\n" => "<s>",
                "\n</s>\n" => "</s>",
                string text => text.Replace(' ', '\u2581'),
            };
            tokens.Add(piece);
            scores.Add(score);
            types.Add(TypeOf(piece));
        }
        if (position < data.Length)
            throw new ModelFormatException(source, position,
                $"expected the end of the data after {tokens.Count} tokens (vocab_size), found {data.Length - position} more byte(s)");
        if (tokens.Count == 0)
            throw new ModelFormatException(source, position, "expected at least one token, found none");

        int n = tokens.Count;
        return new Vocabulary
        {
            Model = "llama",
            Pre = "default",
            Tokens = tokens,
            Scores = scores,
            TokenTypes = types,
            BosTokenId = n > 1 ? 1 : -1,
            EosTokenId = n > 2 ? 2 : -1,
            UnknownTokenId = 0,
            AddBos = n > 1,
            AddEos = false,
            AddSpacePrefix = true,
        };
    }

    private static TokenType TypeOf(string piece) => piece switch
    {
        "<unk>" => TokenType.Unknown,
        "<s>" or "</s>" => TokenType.Control,
        _ when piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && char.IsAsciiHexDigitUpper(piece[3]) && char.IsAsciiHexDigitUpper(piece[4]) => TokenType.Byte,
        _ => TokenType.Normal,
    };
}
