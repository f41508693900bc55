using TinyLM.Formats.Gguf;
using TinyLM.Tokenizers;

namespace TinyLM.Formats.Slm;

/// <summary>Tokenizer kinds of the <c>.slm</c> tokenizer section.</summary>
public enum SlmTokenizerKind : uint
{
    /// <summary>SentencePiece (<c>tokenizer.ggml.model</c> = <c>llama</c>, llama.cpp SPM).</summary>
    SentencePiece = 1,

    /// <summary>Byte-level BPE (<c>tokenizer.ggml.model</c> = <c>gpt2</c>).</summary>
    BytePairEncoding = 2,
}

/// <summary>
/// The tokenizer section of an <c>.slm</c> file (docs/slm-format.md, "Tokenizer section"): the
/// <c>tokenizer.*</c> keys of a GGUF file as declared there, so that writing them back gives the
/// same <see cref="Vocabulary"/>. Absent keys stay absent (ids of -1, flags of null, lists of null).
/// </summary>
public sealed class SlmTokenizer
{
    /// <summary>Most tokens the section may hold (2^24).</summary>
    public const int MaxTokens = 1 << 24;

    /// <summary>Most merges the section may hold (2^26).</summary>
    public const int MaxMerges = 1 << 26;

    internal const int FixedBytes = 44;
    private const uint HasPre = 1, HasScores = 2, HasTypes = 4, HasMerges = 8, HasChatTemplate = 16;
    private const int AddBosShift = 8, AddEosShift = 10, AddSpacePrefixShift = 12;
    private const uint KnownFlags = 0x1F | (3u << AddBosShift) | (3u << AddEosShift) | (3u << AddSpacePrefixShift);

    /// <summary>The tokenizer kind (<c>tokenizer.ggml.model</c>).</summary>
    public required SlmTokenizerKind Kind { get; init; }

    /// <summary><c>tokenizer.ggml.pre</c>, or null when absent.</summary>
    public string? Pre { get; init; }

    /// <summary><c>tokenizer.ggml.tokens</c>.</summary>
    public required IReadOnlyList<string> Tokens { get; init; }

    /// <summary><c>tokenizer.ggml.scores</c> (one per token), or null when absent.</summary>
    public IReadOnlyList<float>? Scores { get; init; }

    /// <summary><c>tokenizer.ggml.token_type</c> (one per token), or null when absent.</summary>
    public IReadOnlyList<TokenType>? TokenTypes { get; init; }

    /// <summary><c>tokenizer.ggml.merges</c>, or null when absent.</summary>
    public IReadOnlyList<string>? Merges { get; init; }

    /// <summary><c>tokenizer.ggml.bos_token_id</c>, or -1 when absent.</summary>
    public int BosTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.eos_token_id</c>, or -1 when absent.</summary>
    public int EosTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.eot_token_id</c>, or -1 when absent.</summary>
    public int EotTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.eom_token_id</c>, or -1 when absent.</summary>
    public int EomTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.unknown_token_id</c>, or -1 when absent.</summary>
    public int UnknownTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.seperator_token_id</c>, or -1 when absent.</summary>
    public int SeparatorTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.padding_token_id</c>, or -1 when absent.</summary>
    public int PaddingTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.add_bos_token</c>, or null when absent.</summary>
    public bool? AddBos { get; init; }

    /// <summary><c>tokenizer.ggml.add_eos_token</c>, or null when absent.</summary>
    public bool? AddEos { get; init; }

    /// <summary><c>tokenizer.ggml.add_space_prefix</c>, or null when absent.</summary>
    public bool? AddSpacePrefix { get; init; }

    /// <summary><c>tokenizer.chat_template</c>, or null when absent.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>The <c>tokenizer.ggml.model</c> name: <c>llama</c> or <c>gpt2</c>.</summary>
    public string ModelName => Kind == SlmTokenizerKind.SentencePiece ? "llama" : "gpt2";

    /// <summary>The GGUF keys this section stands for (never stored in the metadata section).</summary>
    public static IReadOnlyList<string> Keys { get; } =
    [
        Vocabulary.ModelKey, Vocabulary.PreKey, Vocabulary.TokensKey, Vocabulary.ScoresKey, Vocabulary.TokenTypesKey,
        Vocabulary.MergesKey, Vocabulary.BosTokenIdKey, Vocabulary.EosTokenIdKey, Vocabulary.EotTokenIdKey,
        Vocabulary.EomTokenIdKey, Vocabulary.UnknownTokenIdKey, Vocabulary.SeparatorTokenIdKey,
        Vocabulary.PaddingTokenIdKey, Vocabulary.AddBosKey, Vocabulary.AddEosKey, Vocabulary.AddSpacePrefixKey,
        Vocabulary.ChatTemplateKey,
    ];

    private int[] Ids => [BosTokenId, EosTokenId, EotTokenId, EomTokenId, UnknownTokenId, SeparatorTokenId, PaddingTokenId];

    private static readonly string[] s_idKeys =
    [
        Vocabulary.BosTokenIdKey, Vocabulary.EosTokenIdKey, Vocabulary.EotTokenIdKey, Vocabulary.EomTokenIdKey,
        Vocabulary.UnknownTokenIdKey, Vocabulary.SeparatorTokenIdKey, Vocabulary.PaddingTokenIdKey,
    ];

    /// <summary>Reads the declared <c>tokenizer.*</c> keys of GGUF metadata.</summary>
    /// <exception cref="ModelFormatException">The keys do not form a valid vocabulary (<see cref="Vocabulary.FromGguf"/>), or a score is not finite.</exception>
    /// <exception cref="NotSupportedException">The tokenizer model is neither <c>llama</c> nor <c>gpt2</c>.</exception>
    public static SlmTokenizer FromGguf(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        Vocabulary.FromGguf(metadata); // every key valid, ids in range, lengths equal
        string model = metadata.GetString(Vocabulary.ModelKey);
        SlmTokenizerKind kind = model switch
        {
            "llama" => SlmTokenizerKind.SentencePiece,
            "gpt2" => SlmTokenizerKind.BytePairEncoding,
            _ => throw new NotSupportedException($"Tokenizer model '{model}' cannot be stored in .slm v1 (llama or gpt2 only)."),
        };
        float[]? scores = null;
        if (metadata.TryGetValue(Vocabulary.ScoresKey, out GgufValue? s))
        {
            scores = s.ElementType == GgufValueType.Int32 && s.Value is int[] ints ? Array.ConvertAll(ints, x => (float)x) : s.AsSingleArray();
            int bad = Array.FindIndex(scores, x => !float.IsFinite(x));
            if (bad >= 0)
                throw new ModelFormatException(metadata.Source, metadata.OffsetOf(Vocabulary.ScoresKey), $"metadata key '{Vocabulary.ScoresKey}': token {bad}: expected a finite score, found {scores[bad]}");
        }
        int[] ids = new int[s_idKeys.Length];
        for (int i = 0; i < ids.Length; i++)
            ids[i] = metadata.TryGetValue(s_idKeys[i], out GgufValue? v) ? (int)v.AsInt64() : -1;
        bool? Flag(string key) => metadata.ContainsKey(key) ? metadata.GetBool(key, false) : null;
        return new SlmTokenizer
        {
            Kind = kind,
            Pre = metadata.GetString(Vocabulary.PreKey, null),
            Tokens = metadata.GetStringArray(Vocabulary.TokensKey),
            Scores = scores,
            TokenTypes = metadata.ContainsKey(Vocabulary.TokenTypesKey)
                ? Array.ConvertAll(metadata.GetInt32Array(Vocabulary.TokenTypesKey), x => (TokenType)x) : null,
            Merges = metadata.ContainsKey(Vocabulary.MergesKey) ? metadata.GetStringArray(Vocabulary.MergesKey) : null,
            BosTokenId = ids[0],
            EosTokenId = ids[1],
            EotTokenId = ids[2],
            EomTokenId = ids[3],
            UnknownTokenId = ids[4],
            SeparatorTokenId = ids[5],
            PaddingTokenId = ids[6],
            AddBos = Flag(Vocabulary.AddBosKey),
            AddEos = Flag(Vocabulary.AddEosKey),
            AddSpacePrefix = Flag(Vocabulary.AddSpacePrefixKey),
            ChatTemplate = metadata.GetString(Vocabulary.ChatTemplateKey, null),
        };
    }

    /// <summary>
    /// Writes the declared keys into GGUF metadata as llama.cpp's converter types them: strings,
    /// Float32 scores, Int32 token types, UInt32 ids, Bool flags.
    /// </summary>
    /// <param name="metadata">The metadata to add to.</param>
    /// <param name="offset">Byte offset recorded for every key (the tokenizer section's), or -1.</param>
    public void WriteTo(GgufMetadata metadata, long offset = -1)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        metadata.Set(Vocabulary.ModelKey, GgufValue.FromString(ModelName), offset);
        if (Pre is not null)
            metadata.Set(Vocabulary.PreKey, GgufValue.FromString(Pre), offset);
        metadata.Set(Vocabulary.TokensKey, GgufValue.FromArray(Tokens.ToArray()), offset);
        if (Scores is not null)
            metadata.Set(Vocabulary.ScoresKey, GgufValue.FromArray(Scores.ToArray()), offset);
        if (TokenTypes is not null)
            metadata.Set(Vocabulary.TokenTypesKey, GgufValue.FromArray(TokenTypes.Select(t => (int)t).ToArray()), offset);
        if (Merges is not null)
            metadata.Set(Vocabulary.MergesKey, GgufValue.FromArray(Merges.ToArray()), offset);
        int[] ids = Ids;
        for (int i = 0; i < ids.Length; i++)
            if (ids[i] >= 0)
                metadata.Set(s_idKeys[i], GgufValue.FromUInt32((uint)ids[i]), offset);
        if (AddBos is bool addBos)
            metadata.Set(Vocabulary.AddBosKey, GgufValue.FromBool(addBos), offset);
        if (AddEos is bool addEos)
            metadata.Set(Vocabulary.AddEosKey, GgufValue.FromBool(addEos), offset);
        if (AddSpacePrefix is bool prefix)
            metadata.Set(Vocabulary.AddSpacePrefixKey, GgufValue.FromBool(prefix), offset);
        if (ChatTemplate is not null)
            metadata.Set(Vocabulary.ChatTemplateKey, GgufValue.FromString(ChatTemplate), offset);
    }

    /// <summary>Encodes the section (docs/slm-format.md, "Tokenizer section").</summary>
    /// <exception cref="ArgumentException">The lists have the wrong lengths, an id is outside the vocabulary, or a count exceeds the format's caps.</exception>
    internal byte[] Encode()
    {
        int n = Tokens.Count;
        if (n is 0 or > MaxTokens)
            throw new ArgumentException($"The tokenizer needs 1 to {MaxTokens} tokens, found {n}.");
        if (Scores is not null && Scores.Count != n || TokenTypes is not null && TokenTypes.Count != n)
            throw new ArgumentException("The tokenizer's scores and token types need one element per token.");
        if (Merges is not null && Merges.Count > MaxMerges)
            throw new ArgumentException($"The tokenizer has {Merges.Count} merges; .slm holds at most {MaxMerges}.");
        if (Ids.Any(id => id < -1 || id >= n))
            throw new ArgumentException($"A special token id is outside the vocabulary of {n} tokens.");
        uint flags = (Pre is null ? 0 : HasPre) | (Scores is null ? 0 : HasScores) | (TokenTypes is null ? 0 : HasTypes)
            | (Merges is null ? 0 : HasMerges) | (ChatTemplate is null ? 0 : HasChatTemplate)
            | Tri(AddBos) << AddBosShift | Tri(AddEos) << AddEosShift | Tri(AddSpacePrefix) << AddSpacePrefixShift;
        var w = new SectionWriter();
        w.UInt32((uint)Kind);
        w.UInt32(flags);
        w.UInt32((uint)n);
        w.UInt32((uint)(Merges?.Count ?? 0));
        foreach (int id in Ids)
            w.Int32(id);
        if (Pre is not null)
            w.String(Pre);
        foreach (string t in Tokens)
            w.String(t);
        if (Scores is not null)
            foreach (float s in Scores)
                w.Single(s);
        if (TokenTypes is not null)
            foreach (TokenType t in TokenTypes)
                w.Byte((byte)t);
        if (Merges is not null)
            foreach (string m in Merges)
                w.String(m);
        if (ChatTemplate is not null)
            w.String(ChatTemplate);
        return w.ToArray();
    }

    private static uint Tri(bool? v) => v switch { null => 0u, false => 1u, true => 2u };

    /// <summary>Decodes and checks the section; failures are <see cref="AdmissionError.TokenizerMalformed"/>.</summary>
    internal static SlmTokenizer Decode(ReadOnlySpan<byte> section, long fileOffset, string source)
    {
        var r = new SectionReader(section, fileOffset, source, AdmissionError.TokenizerMalformed);
        long kindAt = r.FileOffset;
        uint kind = r.UInt32("the tokenizer kind");
        if (kind is not (1 or 2))
            r.FailAt(kindAt, $"expected tokenizer kind 1 (SentencePiece) or 2 (BPE), found {kind}");
        long flagsAt = r.FileOffset;
        uint flags = r.UInt32("the tokenizer flags");
        if ((flags & ~KnownFlags) != 0 || ((flags >> AddBosShift) & 3) == 3 || ((flags >> AddEosShift) & 3) == 3 || ((flags >> AddSpacePrefixShift) & 3) == 3)
            r.FailAt(flagsAt, $"expected flags with only the documented bits set, found 0x{flags:X8}");
        long countAt = r.FileOffset;
        uint n = r.UInt32("the token count");
        if (n is 0 or > MaxTokens)
            r.FailAt(countAt, $"expected a token count of 1 to {MaxTokens}, found {n}");
        long mergesAt = r.FileOffset;
        uint mergeCount = r.UInt32("the merge count");
        if ((flags & HasMerges) == 0 && mergeCount != 0 || mergeCount > MaxMerges)
            r.FailAt(mergesAt, $"expected a merge count of 0 to {MaxMerges}, and 0 without the merges flag, found {mergeCount}");
        var ids = new int[7];
        for (int i = 0; i < ids.Length; i++)
        {
            long at = r.FileOffset;
            ids[i] = r.Int32("a special token id");
            if (ids[i] < -1 || ids[i] >= n)
                r.FailAt(at, $"expected {s_idKeys[i]} to be -1 (absent) or a token id below {n}, found {ids[i]}");
        }
        string? pre = (flags & HasPre) != 0 ? r.String("the pre-tokenizer name") : null;
        // Each token takes at least its 4-byte length; check the count against the bytes left before allocating.
        if (n > r.Remaining / 4)
            r.FailAt(countAt, $"expected {n} tokens, found room for at most {r.Remaining / 4} in the {r.Remaining} bytes left");
        var tokens = new string[n];
        for (int i = 0; i < tokens.Length; i++)
            tokens[i] = r.String($"token {i}");
        float[]? scores = null;
        if ((flags & HasScores) != 0)
        {
            long at = r.FileOffset;
            ReadOnlySpan<byte> raw = r.Take(checked((int)n * 4), "the scores");
            scores = new float[n];
            for (int i = 0; i < scores.Length; i++)
            {
                scores[i] = BitConverter.Int32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]));
                if (!float.IsFinite(scores[i]))
                    r.FailAt(at + i * 4, $"expected finite token scores, found {scores[i]} for token {i}");
            }
        }
        TokenType[]? types = null;
        if ((flags & HasTypes) != 0)
        {
            long at = r.FileOffset;
            ReadOnlySpan<byte> raw = r.Take((int)n, "the token types");
            types = new TokenType[n];
            for (int i = 0; i < types.Length; i++)
            {
                if (raw[i] > (byte)TokenType.Byte)
                    r.FailAt(at + i, $"expected a token type 0 to 6 for token {i}, found {raw[i]}");
                types[i] = (TokenType)raw[i];
            }
        }
        string[]? merges = null;
        if ((flags & HasMerges) != 0)
        {
            if (mergeCount > r.Remaining / 4)
                r.FailAt(mergesAt, $"expected {mergeCount} merges, found room for at most {r.Remaining / 4}");
            merges = new string[mergeCount];
            for (int i = 0; i < merges.Length; i++)
                merges[i] = r.String($"merge {i}");
        }
        string? chatTemplate = (flags & HasChatTemplate) != 0 ? r.String("the chat template") : null;
        if (r.Remaining != 0)
            r.Fail($"expected the end of the tokenizer section, found {r.Remaining} more bytes");
        return new SlmTokenizer
        {
            Kind = (SlmTokenizerKind)kind,
            Pre = pre,
            Tokens = tokens,
            Scores = scores,
            TokenTypes = types,
            Merges = merges,
            BosTokenId = ids[0],
            EosTokenId = ids[1],
            EotTokenId = ids[2],
            EomTokenId = ids[3],
            UnknownTokenId = ids[4],
            SeparatorTokenId = ids[5],
            PaddingTokenId = ids[6],
            AddBos = FromTri((flags >> AddBosShift) & 3),
            AddEos = FromTri((flags >> AddEosShift) & 3),
            AddSpacePrefix = FromTri((flags >> AddSpacePrefixShift) & 3),
            ChatTemplate = chatTemplate,
        };
    }

    private static bool? FromTri(uint v) => v switch { 0 => null, 1 => false, _ => true };
}
