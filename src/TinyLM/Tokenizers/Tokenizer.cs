using System.Buffers;
using System.Text;

namespace TinyLM.Tokenizers;

/// <summary>
/// Turns text into token ids and back, exactly like llama.cpp's <c>llama_tokenize</c>,
/// <c>llama_token_to_piece</c> and <c>llama_detokenize</c> for the vocabulary's model. Immutable and
/// thread-safe. Shaped like Microsoft.ML.Tokenizers: <see cref="EncodeToIds(string, bool, bool)"/>,
/// <see cref="CountTokens(string, bool, bool)"/>, <see cref="Decode"/>.
/// </summary>
/// <remarks>
/// Text is encoded to UTF-8 first (a lone surrogate becomes U+FFFD, as <see cref="Encoding.UTF8"/>
/// does); <see cref="EncodeUtf8ToIds"/> takes the bytes directly, like <c>llama_tokenize</c>.
/// </remarks>
public abstract class Tokenizer
{
    private const int StackBytes = 1024;

    /// <summary>Only TinyLM defines tokenizers.</summary>
    private protected Tokenizer()
    {
    }

    /// <summary>The vocabulary.</summary>
    public abstract Vocabulary Vocabulary { get; }

    /// <summary>
    /// Creates the tokenizer for the vocabulary's <see cref="Vocabulary.Model"/>: "llama" gives a
    /// <see cref="SentencePieceTokenizer"/>.
    /// </summary>
    /// <param name="vocabulary">The vocabulary.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="vocabulary"/> is null.</exception>
    /// <exception cref="ArgumentException">The vocabulary is inconsistent (see <see cref="Vocabulary"/>).</exception>
    /// <exception cref="NotSupportedException">The model is not "llama" (byte-level BPE "gpt2" and the others are not implemented yet).</exception>
    public static Tokenizer Create(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        return vocabulary.Model switch
        {
            "llama" => new SentencePieceTokenizer(vocabulary),
            _ => throw new NotSupportedException(
                $"Tokenizer model '{vocabulary.Model}' is not supported: TinyLM implements only 'llama' (SentencePiece) so far; byte-level BPE ('gpt2') comes later."),
        };
    }

    /// <summary>
    /// Text to token ids, like llama.cpp's <c>llama_tokenize(vocab, text, add_special, parse_special)</c>.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Add BOS/EOS as the vocabulary asks (<c>add_special</c>).</param>
    /// <param name="parseSpecialTokens">
    /// Match control and unknown tokens' texts (e.g. <c>&lt;s&gt;</c>) in the text (<c>parse_special</c>).
    /// User-defined tokens are always matched.
    /// </param>
    /// <returns>The token ids.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="InvalidOperationException">
    /// The vocabulary asks for BOS/EOS but has none, or it cannot represent a byte of the text (no
    /// byte-fallback token and no unknown token).
    /// </exception>
    public int[] EncodeToIds(string text, bool addSpecialTokens = true, bool parseSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EncodeToIds(text.AsSpan(), addSpecialTokens, parseSpecialTokens);
    }

    /// <summary>Text to token ids; see <see cref="EncodeToIds(string, bool, bool)"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Add BOS/EOS as the vocabulary asks.</param>
    /// <param name="parseSpecialTokens">Match control and unknown tokens' texts in the text.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="InvalidOperationException">As for <see cref="EncodeToIds(string, bool, bool)"/>.</exception>
    public int[] EncodeToIds(ReadOnlySpan<char> text, bool addSpecialTokens = true, bool parseSpecialTokens = false)
    {
        var ids = new List<int>();
        WithUtf8(text, addSpecialTokens, parseSpecialTokens, ids);
        return [.. ids];
    }

    /// <summary>
    /// UTF-8 bytes to token ids, exactly like <c>llama_tokenize</c> on the same bytes (which need not
    /// be valid UTF-8).
    /// </summary>
    /// <param name="utf8Text">The text as UTF-8 bytes.</param>
    /// <param name="addSpecialTokens">Add BOS/EOS as the vocabulary asks.</param>
    /// <param name="parseSpecialTokens">Match control and unknown tokens' texts in the text.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="InvalidOperationException">As for <see cref="EncodeToIds(string, bool, bool)"/>.</exception>
    public int[] EncodeUtf8ToIds(ReadOnlySpan<byte> utf8Text, bool addSpecialTokens = true, bool parseSpecialTokens = false)
    {
        var ids = new List<int>();
        Encode(utf8Text, addSpecialTokens, parseSpecialTokens, ids);
        return [.. ids];
    }

    /// <summary>The number of tokens <see cref="EncodeToIds(string, bool, bool)"/> gives.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Count BOS/EOS as the vocabulary asks.</param>
    /// <param name="parseSpecialTokens">Match control and unknown tokens' texts in the text.</param>
    /// <returns>The token count.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="InvalidOperationException">As for <see cref="EncodeToIds(string, bool, bool)"/>.</exception>
    public int CountTokens(string text, bool addSpecialTokens = true, bool parseSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        return CountTokens(text.AsSpan(), addSpecialTokens, parseSpecialTokens);
    }

    /// <summary>The number of tokens <see cref="EncodeToIds(ReadOnlySpan{char}, bool, bool)"/> gives.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Count BOS/EOS as the vocabulary asks.</param>
    /// <param name="parseSpecialTokens">Match control and unknown tokens' texts in the text.</param>
    /// <returns>The token count.</returns>
    /// <exception cref="InvalidOperationException">As for <see cref="EncodeToIds(string, bool, bool)"/>.</exception>
    public int CountTokens(ReadOnlySpan<char> text, bool addSpecialTokens = true, bool parseSpecialTokens = false)
    {
        var ids = new List<int>();
        WithUtf8(text, addSpecialTokens, parseSpecialTokens, ids);
        return ids.Count;
    }

    /// <summary>
    /// The bytes of one token's piece, exactly like
    /// <c>llama_token_to_piece(vocab, id, buf, len, lstrip: 0, special: renderSpecial)</c>: no leading
    /// space is removed. Not necessarily valid UTF-8 (a byte-fallback token is one byte); feed
    /// successive pieces to a <see cref="Utf8TextStream"/> to get text.
    /// </summary>
    /// <param name="tokenId">The token id.</param>
    /// <param name="renderSpecial">Render control and unknown tokens as their text; otherwise they are empty.</param>
    /// <returns>The piece, valid as long as the tokenizer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="tokenId"/> is not in [0, <see cref="Vocabulary.Count"/>).</exception>
    public abstract ReadOnlySpan<byte> GetPieceBytes(int tokenId, bool renderSpecial = false);

    /// <summary>
    /// Token ids to text, like <c>llama_detokenize(vocab, ids, ..., remove_special, unparse_special: renderSpecial)</c>
    /// followed by UTF-8 decoding (invalid bytes become U+FFFD).
    /// </summary>
    /// <remarks>
    /// With a space prefix (SentencePiece), one leading space is removed from the first token's piece,
    /// except when the ids start with a BOS that <paramref name="removeSpecial"/> drops: llama.cpp
    /// keeps the space then, so <c>Decode([BOS, "▁Hello"])</c> is " Hello" and <c>Decode(["▁Hello"])</c>
    /// is "Hello". A trailing EOS is dropped only when the vocabulary adds EOS.
    /// </remarks>
    /// <param name="ids">The token ids.</param>
    /// <param name="removeSpecial">Drop a leading BOS and a trailing EOS when the vocabulary adds them.</param>
    /// <param name="renderSpecial">Render control and unknown tokens as their text.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in [0, <see cref="Vocabulary.Count"/>).</exception>
    public string Decode(IReadOnlyList<int> ids, bool removeSpecial = true, bool renderSpecial = false) =>
        Encoding.UTF8.GetString(DecodeToBytes(ids, removeSpecial, renderSpecial));

    /// <summary>Token ids to the exact bytes <c>llama_detokenize</c> writes; see <see cref="Decode"/>.</summary>
    /// <param name="ids">The token ids.</param>
    /// <param name="removeSpecial">Drop a leading BOS and a trailing EOS when the vocabulary adds them.</param>
    /// <param name="renderSpecial">Render control and unknown tokens as their text.</param>
    /// <returns>The bytes (not necessarily valid UTF-8).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in [0, <see cref="Vocabulary.Count"/>).</exception>
    public abstract byte[] DecodeToBytes(IReadOnlyList<int> ids, bool removeSpecial = true, bool renderSpecial = false);

    /// <summary>Appends the ids of <paramref name="utf8Text"/> to <paramref name="output"/>.</summary>
    private protected abstract void Encode(ReadOnlySpan<byte> utf8Text, bool addSpecialTokens, bool parseSpecialTokens, List<int> output);

    private void WithUtf8(ReadOnlySpan<char> text, bool addSpecialTokens, bool parseSpecialTokens, List<int> output)
    {
        int max = Encoding.UTF8.GetByteCount(text);
        byte[]? rented = null;
        Span<byte> buffer = max <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            int n = Encoding.UTF8.GetBytes(text, buffer);
            Encode(buffer[..n], addSpecialTokens, parseSpecialTokens, output);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }
}
