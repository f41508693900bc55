using System.Buffers;
using System.Text;

namespace TinyLM.Tokenizers;

/// <summary>
/// llama.cpp's SentencePiece ("llama", <c>LLAMA_VOCAB_TYPE_SPM</c>) tokenizer: bigram merges by score,
/// byte fallback to <c>&lt;0xNN&gt;</c> tokens, and llama.cpp's special-token splitting, space prefix
/// and detokenization rules. Immutable and thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Ported from llama.cpp src/llama-vocab.cpp@de3ff815 (<c>llm_tokenizer_spm_session</c>,
/// <c>llama_vocab::impl::tokenize</c>, <c>tokenizer_st_partition</c>, <c>token_to_piece</c>,
/// <c>detokenize</c>). Encoding:
/// </para>
/// <list type="number">
/// <item>The text is split at special tokens, longest text first: user-defined tokens always,
/// control and unknown tokens only when special tokens are parsed. A token with llama.cpp's
/// RSTRIP/LSTRIP attribute (Phi-3's special tokens, see <see cref="Vocabulary.GeneralName"/>) also
/// removes the ASCII whitespace after/before it.</item>
/// <item>With special tokens added and <see cref="Vocabulary.AddBos"/>, BOS comes first.</item>
/// <item>Each text fragment gets a leading space when <see cref="Vocabulary.AddSpacePrefix"/> is set
/// and it is the first fragment or follows a special token; every ASCII space becomes "▁" (U+2581).</item>
/// <item>The fragment is split into UTF-8 characters (the length is taken from the lead byte alone,
/// as llama.cpp does), then the adjacent pair whose concatenation is a token with the highest score
/// is merged, ties going to the leftmost pair, until no pair forms a token. Any token text can
/// merge, whatever its type.</item>
/// <item>Each final symbol that is not a token is emitted as one <c>&lt;0xNN&gt;</c> token per byte
/// (or the one-byte token with that text).</item>
/// </list>
/// <para>
/// Where llama.cpp aborts because a byte has no token (a vocabulary without byte fallback), this
/// tokenizer emits <see cref="Vocabulary.UnknownTokenId"/> once for the symbol, or throws
/// <see cref="InvalidOperationException"/> when there is no unknown token either.
/// </para>
/// <para>
/// Pieces (<see cref="GetPieceBytes"/>): control, unknown and user-defined tokens render as their
/// text (control and unknown only with <c>renderSpecial</c>); normal tokens as their text with "▁"
/// replaced by a space; byte tokens as their byte; unused and undefined tokens as nothing.
/// Decoding (<see cref="Tokenizer.DecodeToBytes"/>) concatenates pieces and removes one leading space
/// from the first token's piece when <see cref="Vocabulary.AddSpacePrefix"/> is set, except when the
/// ids start with BOS and <c>removeSpecial</c> drops it: then the space stays, exactly as in
/// llama.cpp. So with BOS, <c>Decode(EncodeToIds(s))</c> is <c>" " + s</c>; without, it is <c>s</c>.
/// </para>
/// </remarks>
public sealed class SentencePieceTokenizer : Tokenizer
{
    private const TokenAttributes RenderedOnlyWhenSpecial = TokenAttributes.Unknown | TokenAttributes.Control;

    private readonly Vocabulary _vocabulary;
    private readonly Utf8TokenTable _table;
    private readonly float[] _scores;
    private readonly TokenAttributes[] _attributes;
    private readonly int[] _specialTokens;
    private readonly int[] _byteTokens = new int[256];
    private readonly byte[] _pieces;
    private readonly int[] _pieceOffsets;
    private readonly int _bos, _eos, _unk;
    private readonly bool _addBos, _addEos, _addSpacePrefix;

    /// <summary>Builds the tokenizer's tables for a "llama" vocabulary.</summary>
    /// <param name="vocabulary">The vocabulary; its <see cref="Vocabulary.Model"/> must be "llama".</param>
    /// <exception cref="ArgumentNullException"><paramref name="vocabulary"/> is null.</exception>
    /// <exception cref="ArgumentException">The model is not "llama", or the vocabulary is inconsistent.</exception>
    public SentencePieceTokenizer(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Model != "llama")
            throw new ArgumentException($"Expected a 'llama' (SentencePiece) vocabulary, found '{vocabulary.Model}'.", nameof(vocabulary));
        if (vocabulary.FindInconsistency() is string problem)
            throw new ArgumentException($"The vocabulary is inconsistent: {problem}.", nameof(vocabulary));

        _vocabulary = vocabulary;
        ResolvedVocabulary resolved = vocabulary.Resolved;
        int n = vocabulary.Count;
        _table = new Utf8TokenTable(resolved.Texts);
        _scores = vocabulary.ScoreArray.Length == n ? vocabulary.ScoreArray : new float[n];
        _attributes = resolved.Attributes;
        _specialTokens = resolved.SpecialTokens;
        _bos = vocabulary.BosTokenId;
        _eos = vocabulary.EosTokenId;
        _unk = vocabulary.UnknownTokenId;
        _addBos = vocabulary.AddBos;
        _addEos = vocabulary.AddEos;
        _addSpacePrefix = vocabulary.AddSpacePrefix;

        // llama_vocab::byte_to_token: "<0xNN>", else the one-byte text.
        Span<byte> hex = stackalloc byte[6];
        for (int b = 0; b < 256; b++)
        {
            Encoding.ASCII.GetBytes($"<0x{b:X2}>", hex);
            int id = _table.Find(hex);
            _byteTokens[b] = id >= 0 ? id : _table.Find([(byte)b]);
        }

        // The token_to_piece cache (special = true).
        _pieceOffsets = new int[n + 1];
        var pieces = new ArrayBufferWriter<byte>(Math.Max(256, n * 8));
        for (int id = 0; id < n; id++)
        {
            WritePiece(id, resolved.Texts[id], pieces);
            _pieceOffsets[id + 1] = pieces.WrittenCount;
        }
        _pieces = pieces.WrittenSpan.ToArray();
    }

    /// <inheritdoc/>
    public override Vocabulary Vocabulary => _vocabulary;

    /// <inheritdoc/>
    public override ReadOnlySpan<byte> GetPieceBytes(int tokenId, bool renderSpecial = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokenId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(tokenId, _attributes.Length);
        if (!renderSpecial && (_attributes[tokenId] & RenderedOnlyWhenSpecial) != 0)
            return [];
        return _pieces.AsSpan(_pieceOffsets[tokenId], _pieceOffsets[tokenId + 1] - _pieceOffsets[tokenId]);
    }

    /// <inheritdoc/>
    public override byte[] DecodeToBytes(IReadOnlyList<int> ids, bool removeSpecial = true, bool renderSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        int start = 0, end = ids.Count;
        bool removeSpace = _addSpacePrefix;
        if (removeSpecial && _addBos && _bos >= 0 && end > 0 && ids[0] == _bos)
        {
            removeSpace = false;
            start = 1;
        }
        if (removeSpecial && _addEos && _eos >= 0 && end > start && ids[end - 1] == _eos)
            end--;

        long total = 0;
        bool strip = removeSpace;
        for (int i = start; i < end; i++)
        {
            ReadOnlySpan<byte> piece = Piece(ids, i, renderSpecial);
            total += piece.Length - (strip && piece.Length > 0 && piece[0] == (byte)' ' ? 1 : 0);
            strip = false;
        }
        if (total > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(ids), "The decoded text exceeds the maximum array length.");

        var result = new byte[total];
        int at = 0;
        strip = removeSpace;
        for (int i = start; i < end; i++)
        {
            ReadOnlySpan<byte> piece = Piece(ids, i, renderSpecial);
            if (strip && piece.Length > 0 && piece[0] == (byte)' ')
                piece = piece[1..];
            strip = false;
            piece.CopyTo(result.AsSpan(at));
            at += piece.Length;
        }
        return result;
    }

    private ReadOnlySpan<byte> Piece(IReadOnlyList<int> ids, int index, bool renderSpecial)
    {
        int id = ids[index];
        if ((uint)id >= (uint)_attributes.Length)
            throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id at index {index} is not in [0, {_attributes.Length}).");
        return GetPieceBytes(id, renderSpecial);
    }

    /// <summary>llama_vocab::impl::token_to_piece for the cache (special = true, lstrip = 0).</summary>
    private void WritePiece(int id, string text, ArrayBufferWriter<byte> output)
    {
        TokenAttributes attribute = _attributes[id];
        ReadOnlySpan<byte> bytes = _table[id];
        if ((attribute & (TokenAttributes.Unknown | TokenAttributes.Control | TokenAttributes.UserDefined)) != 0)
        {
            output.Write(bytes);
        }
        else if ((attribute & TokenAttributes.Normal) != 0)
        {
            // llama_unescape_whitespace: every "▁" becomes " ".
            ReadOnlySpan<byte> marker = "\u2581"u8;
            while (true)
            {
                int at = bytes.IndexOf(marker);
                if (at < 0)
                    break;
                output.Write(bytes[..at]);
                output.Write(" "u8);
                bytes = bytes[(at + marker.Length)..];
            }
            output.Write(bytes);
        }
        else if ((attribute & TokenAttributes.Byte) != 0)
        {
            // token_to_byte: the two hex digits of "<0xNN>" (the vocabulary checked the form).
            output.Write([(byte)Convert.ToInt32(text.Substring(3, 2), 16)]);
        }
    }

    private protected override void Encode(ReadOnlySpan<byte> text, bool addSpecialTokens, bool parseSpecialTokens, List<int> output)
    {
        List<Fragment> fragments = Partition(text, parseSpecialTokens);

        // OG tokenizer behaviour: encode("", add_special) gives [BOS]; a space is prefixed to the first
        // fragment and to every fragment after a special token.
        bool previousIsSpecial = true;
        if (addSpecialTokens && _addBos)
        {
            if (_bos < 0)
                throw new InvalidOperationException("The vocabulary asks to add BOS but has no BOS token.");
            output.Add(_bos);
        }

        byte[]? escaped = null;
        try
        {
            foreach (Fragment fragment in fragments)
            {
                if (fragment.Token >= 0)
                {
                    output.Add(fragment.Token);
                    previousIsSpecial = true;
                    continue;
                }

                ReadOnlySpan<byte> raw = text.Slice(fragment.Offset, fragment.Length);
                int needed = (raw.Length + 1) * 3;
                if (escaped is null || escaped.Length < needed)
                {
                    if (escaped is not null)
                        ArrayPool<byte>.Shared.Return(escaped);
                    escaped = ArrayPool<byte>.Shared.Rent(needed);
                }
                int length = Escape(raw, _addSpacePrefix && previousIsSpecial, escaped);
                EncodeFragment(escaped.AsSpan(0, length), output);
                previousIsSpecial = false;
            }
        }
        finally
        {
            if (escaped is not null)
                ArrayPool<byte>.Shared.Return(escaped);
        }

        if (addSpecialTokens && _addEos)
        {
            if (_eos < 0)
                throw new InvalidOperationException("The vocabulary asks to add EOS but has no EOS token.");
            output.Add(_eos);
        }
    }

    /// <summary>Optional space prefix, then llama_escape_whitespace: every ASCII space becomes "▁".</summary>
    private static int Escape(ReadOnlySpan<byte> raw, bool prefixSpace, Span<byte> destination)
    {
        ReadOnlySpan<byte> marker = "\u2581"u8;
        int at = 0;
        if (prefixSpace)
        {
            marker.CopyTo(destination);
            at = marker.Length;
        }
        while (true)
        {
            int space = raw.IndexOf((byte)' ');
            if (space < 0)
                break;
            raw[..space].CopyTo(destination[at..]);
            at += space;
            marker.CopyTo(destination[at..]);
            at += marker.Length;
            raw = raw[(space + 1)..];
        }
        raw.CopyTo(destination[at..]);
        return at + raw.Length;
    }

    /// <summary>tokenizer_st_partition: splits the text at special tokens, longest first.</summary>
    private List<Fragment> Partition(ReadOnlySpan<byte> text, bool parseSpecialTokens)
    {
        var fragments = new List<Fragment>();
        if (text.IsEmpty)
            return fragments;
        fragments.Add(new Fragment(-1, 0, text.Length));

        List<Fragment>? pieces = null;
        foreach (int id in _specialTokens)
        {
            if (!parseSpecialTokens && (_attributes[id] & RenderedOnlyWhenSpecial) != 0)
                continue;
            ReadOnlySpan<byte> needle = _table[id];
            bool lstrip = (_attributes[id] & TokenAttributes.LStrip) != 0;
            bool rstrip = (_attributes[id] & TokenAttributes.RStrip) != 0;
            for (int f = 0; f < fragments.Count; f++)
            {
                Fragment fragment = fragments[f];
                if (fragment.Token >= 0)
                    continue;
                int end = fragment.Offset + fragment.Length;
                int found = text[fragment.Offset..end].IndexOf(needle);
                if (found < 0)
                    continue;

                pieces ??= [];
                pieces.Clear();
                int position = fragment.Offset;
                while (true)
                {
                    int match = position + found;
                    int leftEnd = match;
                    while (lstrip && leftEnd > position && IsCSpace(text[leftEnd - 1]))
                        leftEnd--;
                    if (leftEnd > position)
                        pieces.Add(new Fragment(-1, position, leftEnd - position));
                    pieces.Add(new Fragment(id, 0, 0));
                    position = match + needle.Length;
                    while (rstrip && position < end && IsCSpace(text[position]))
                        position++;
                    if (position >= end)
                        break;
                    found = text[position..end].IndexOf(needle);
                    if (found < 0)
                    {
                        pieces.Add(new Fragment(-1, position, end - position));
                        break;
                    }
                }
                fragments.RemoveAt(f);
                fragments.InsertRange(f, pieces);
                f += pieces.Count - 1;
            }
        }
        return fragments;
    }

    /// <summary>llm_tokenizer_spm_session::tokenize on one escaped fragment.</summary>
    private void EncodeFragment(ReadOnlySpan<byte> text, List<int> output)
    {
        if (text.IsEmpty)
            return;
        Symbol[] symbols = ArrayPool<Symbol>.Shared.Rent(text.Length);
        var queue = new BigramQueue(text.Length + 16);
        try
        {
            // Split into UTF-8 characters by the lead byte (unicode_len_utf8), clamped to the end.
            int count = 0;
            for (int offset = 0; offset < text.Length; count++)
            {
                int length = Math.Min(Utf8SequenceLength(text[offset]), text.Length - offset);
                symbols[count] = new Symbol
                {
                    Prev = count - 1,
                    Next = offset + length == text.Length ? -1 : count + 1,
                    Start = offset,
                    Length = length,
                };
                offset += length;
            }

            for (int i = 1; i < count; i++)
                TryAddBigram(text, symbols, ref queue, i - 1, i);

            while (queue.TryPop(out Bigram bigram))
            {
                ref Symbol left = ref symbols[bigram.Left];
                ref Symbol right = ref symbols[bigram.Right];
                if (left.Length == 0 || right.Length == 0 || left.Length + right.Length != bigram.Size)
                    continue; // one of them was merged since

                left.Length += right.Length;
                right.Length = 0;
                left.Next = right.Next;
                if (right.Next >= 0)
                    symbols[right.Next].Prev = bigram.Left;

                TryAddBigram(text, symbols, ref queue, left.Prev, bigram.Left);
                TryAddBigram(text, symbols, ref queue, bigram.Left, left.Next);
            }

            // resegment: a merged symbol is always a token (it was merged because it is one), so
            // llama.cpp's rev_merge fallback never applies; other symbols become byte tokens.
            for (int i = 0; i != -1; i = symbols[i].Next)
            {
                ReadOnlySpan<byte> symbol = text.Slice(symbols[i].Start, symbols[i].Length);
                int id = _table.Find(symbol);
                if (id >= 0)
                    output.Add(id);
                else
                    AddBytes(symbol, output);
            }
        }
        finally
        {
            ArrayPool<Symbol>.Shared.Return(symbols);
            queue.Dispose();
        }
    }

    private void TryAddBigram(ReadOnlySpan<byte> text, Symbol[] symbols, ref BigramQueue queue, int left, int right)
    {
        if (left == -1 || right == -1)
            return;
        int size = symbols[left].Length + symbols[right].Length;
        int id = _table.Find(text.Slice(symbols[left].Start, size));
        if (id < 0)
            return;
        queue.Push(new Bigram(left, right, _scores[id], size));
    }

    private void AddBytes(ReadOnlySpan<byte> symbol, List<int> output)
    {
        foreach (byte b in symbol)
        {
            if (_byteTokens[b] >= 0)
                continue;
            if (_unk < 0)
                throw new InvalidOperationException(
                    $"The vocabulary cannot represent byte 0x{b:X2}: it has neither a <0x{b:X2}> token nor an unknown token.");
            output.Add(_unk);
            return;
        }
        foreach (byte b in symbol)
            output.Add(_byteTokens[b]);
    }

    /// <summary>isspace in the C locale: space, \t, \n, \v, \f, \r.</summary>
    private static bool IsCSpace(byte b) => b is (byte)' ' or (>= 0x09 and <= 0x0D);

    /// <summary>unicode_len_utf8: 1 for 0x00-0xBF, 2 for 0xC0-0xDF, 3 for 0xE0-0xEF, 4 for 0xF0-0xFF.</summary>
    private static int Utf8SequenceLength(byte lead) => (lead >> 4) switch
    {
        < 12 => 1,
        12 or 13 => 2,
        14 => 3,
        _ => 4,
    };

    private readonly record struct Fragment(int Token, int Offset, int Length);

    private struct Symbol
    {
        public int Prev;
        public int Next;
        public int Start;
        public int Length;
    }

    private readonly record struct Bigram(int Left, int Right, float Score, int Size)
    {
        /// <summary>llm_bigram_spm::comparator reversed: higher score first, then the leftmost.</summary>
        public bool ComesBefore(in Bigram other) => Score > other.Score || (Score == other.Score && Left < other.Left);
    }

    /// <summary>A binary max-heap of bigrams on pooled storage (std::priority_queue with llm_bigram_spm::comparator).</summary>
    private struct BigramQueue(int capacity) : IDisposable
    {
        private Bigram[] _items = ArrayPool<Bigram>.Shared.Rent(capacity);
        private int _count;

        public void Push(in Bigram item)
        {
            if (_count == _items.Length)
            {
                Bigram[] larger = ArrayPool<Bigram>.Shared.Rent(_items.Length * 2);
                _items.AsSpan(0, _count).CopyTo(larger);
                ArrayPool<Bigram>.Shared.Return(_items);
                _items = larger;
            }
            int i = _count++;
            while (i > 0)
            {
                int parent = (i - 1) / 2;
                if (!item.ComesBefore(_items[parent]))
                    break;
                _items[i] = _items[parent];
                i = parent;
            }
            _items[i] = item;
        }

        public bool TryPop(out Bigram top)
        {
            if (_count == 0)
            {
                top = default;
                return false;
            }
            top = _items[0];
            Bigram last = _items[--_count];
            int i = 0;
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= _count)
                    break;
                if (child + 1 < _count && _items[child + 1].ComesBefore(_items[child]))
                    child++;
                if (!_items[child].ComesBefore(last))
                    break;
                _items[i] = _items[child];
                i = child;
            }
            if (_count > 0)
                _items[i] = last;
            return true;
        }

        public void Dispose()
        {
            if (_items.Length > 0)
                ArrayPool<Bigram>.Shared.Return(_items);
            _items = [];
        }
    }
}
