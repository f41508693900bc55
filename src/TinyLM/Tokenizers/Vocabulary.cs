using System.Collections.ObjectModel;

namespace TinyLM.Tokenizers;

/// <summary>
/// A tokenizer vocabulary as llama.cpp loads it from the GGUF <c>tokenizer.*</c> keys: token texts,
/// scores, token types, BPE merges, special token ids and the add-BOS/EOS/space-prefix flags.
/// Immutable and thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// Build one with <see cref="FromGguf"/>, <see cref="Formats.SentencePiece.SentencePieceModel"/>,
/// <see cref="Formats.Llama2c.Llama2cTokenizer"/>, or an object initializer. The properties hold the
/// values as declared; token ids of -1 mean "none". <see cref="Scores"/> and
/// <see cref="TokenTypes"/> are either empty (the key is absent: llama.cpp then uses score 0 and
/// type <see cref="TokenType.Normal"/>) or hold one element per token. Collections passed to the
/// initializer are copied.
/// </para>
/// <para>
/// Like llama.cpp (src/llama-vocab.cpp@de3ff815, <c>llama_vocab::impl::load</c>), the vocabulary
/// derives on first use: the text-to-id map (a duplicated text maps to its last id; an empty text is
/// stored as <c>[EMPTY_i]</c>), per-token attributes adjusted by text (EOT/EOM/FIM detection, control
/// tokens named "unused"), the end-of-generation set, and the special-token list used to split text
/// before tokenization. A vocabulary built with an initializer is checked at that point; members that
/// need the derived data throw <see cref="InvalidOperationException"/> when it is inconsistent.
/// </para>
/// </remarks>
public sealed partial class Vocabulary
{
    private readonly string _model = "";
    private readonly string[] _tokens = [];
    private readonly ReadOnlyCollection<string> _tokensView = ReadOnlyCollection<string>.Empty;
    private readonly float[] _scores = [];
    private readonly ReadOnlyCollection<float> _scoresView = ReadOnlyCollection<float>.Empty;
    private readonly TokenType[] _types = [];
    private readonly ReadOnlyCollection<TokenType> _typesView = ReadOnlyCollection<TokenType>.Empty;
    private readonly ReadOnlyCollection<string>? _mergesView;
    private readonly Lazy<ResolvedVocabulary> _resolved;

    /// <summary>Creates a vocabulary; set the properties with an object initializer.</summary>
    public Vocabulary() =>
        _resolved = new Lazy<ResolvedVocabulary>(() => VocabularyResolver.Resolve(this), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// <c>tokenizer.ggml.model</c>: "llama" (SentencePiece, llama.cpp <c>LLAMA_VOCAB_TYPE_SPM</c>),
    /// "gpt2" (byte-level BPE), or another name llama.cpp knows ("bert", "t5", "rwkv", ...).
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public required string Model
    {
        get => _model;
        init => _model = value ?? throw new ArgumentNullException(nameof(Model));
    }

    /// <summary><c>tokenizer.ggml.pre</c>, the pre-tokenizer name ("default" for SentencePiece), or null when absent.</summary>
    public string? Pre { get; init; }

    /// <summary><c>tokenizer.ggml.tokens</c>: the token texts, indexed by token id (SentencePiece pieces keep "▁" for a space).</summary>
    /// <exception cref="ArgumentNullException">Set to null, or an element is null.</exception>
    public required IReadOnlyList<string> Tokens
    {
        get => _tokensView;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Tokens));
            _tokens = [.. value];
            if (Array.FindIndex(_tokens, t => t is null) is int i and >= 0)
                throw new ArgumentNullException(nameof(Tokens), $"Token {i} is null.");
            _tokensView = Array.AsReadOnly(_tokens);
        }
    }

    /// <summary>Number of tokens (llama.cpp <c>n_tokens</c>).</summary>
    public int Count => _tokens.Length;

    /// <summary>
    /// <c>tokenizer.ggml.scores</c>: the SentencePiece score of each token (higher merges first), or
    /// empty when absent (llama.cpp then uses 0). Use <see cref="GetScore"/> for the effective value.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public IReadOnlyList<float> Scores
    {
        get => _scoresView;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Scores));
            _scores = [.. value];
            _scoresView = Array.AsReadOnly(_scores);
        }
    }

    /// <summary>
    /// <c>tokenizer.ggml.token_type</c>: the type of each token, or empty when absent (llama.cpp then
    /// treats every token as <see cref="TokenType.Normal"/>). Use <see cref="GetTokenType"/> for the
    /// effective value.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public IReadOnlyList<TokenType> TokenTypes
    {
        get => _typesView;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(TokenTypes));
            _types = [.. value];
            _typesView = Array.AsReadOnly(_types);
        }
    }

    /// <summary><c>tokenizer.ggml.merges</c>: BPE merges ("a b", by rank), or null when absent (SentencePiece has none).</summary>
    public IReadOnlyList<string>? Merges
    {
        get => _mergesView;
        init => _mergesView = value is null ? null : Array.AsReadOnly(value.ToArray());
    }

    /// <summary><c>tokenizer.ggml.bos_token_id</c> (llama.cpp <c>special_bos_id</c>), or -1.</summary>
    public int BosTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.eos_token_id</c> (<c>special_eos_id</c>), or -1.</summary>
    public int EosTokenId { get; init; } = -1;

    /// <summary>
    /// <c>tokenizer.ggml.eot_token_id</c> (<c>special_eot_id</c>) as declared, or -1. When -1, llama.cpp
    /// still detects an end-of-turn token by its text (<c>&lt;|eot_id|&gt;</c>, <c>&lt;|im_end|&gt;</c>, ...);
    /// <see cref="IsEndOfGeneration"/> includes it.
    /// </summary>
    public int EotTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.eom_token_id</c> (<c>special_eom_id</c>) as declared, or -1.</summary>
    public int EomTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.unknown_token_id</c> (<c>special_unk_id</c>), or -1.</summary>
    public int UnknownTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.seperator_token_id</c> (sic; <c>special_sep_id</c>), or -1.</summary>
    public int SeparatorTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.padding_token_id</c> (<c>special_pad_id</c>), or -1.</summary>
    public int PaddingTokenId { get; init; } = -1;

    /// <summary><c>tokenizer.ggml.add_bos_token</c>: prepend <see cref="BosTokenId"/> when encoding with special tokens.</summary>
    public bool AddBos { get; init; }

    /// <summary><c>tokenizer.ggml.add_eos_token</c>: append <see cref="EosTokenId"/> when encoding with special tokens.</summary>
    public bool AddEos { get; init; }

    /// <summary>
    /// <c>tokenizer.ggml.add_space_prefix</c>: SentencePiece's <c>add_dummy_prefix</c>, a space before
    /// the text (and after each special token); decoding removes it again. llama.cpp's default is true
    /// for "llama" and false for BPE vocabularies.
    /// </summary>
    public bool AddSpacePrefix { get; init; }

    /// <summary><c>tokenizer.chat_template</c>: the Jinja chat template, or null when absent.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>
    /// <c>general.name</c> of the model file, or null. Not a tokenizer key, but llama.cpp sets token
    /// attributes by it: when the lower-cased name contains "phi-3" or "phi3", every special token
    /// except <c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c> and <c>&lt;|endoftext|&gt;</c> (and including
    /// <c>&lt;/s&gt;</c>) swallows the whitespace that follows it in the text; with "modern-bert",
    /// <c>[MASK]</c> swallows the whitespace before it. <see cref="WriteTo"/> does not write it.
    /// </summary>
    public string? GeneralName { get; init; }

    /// <summary>The effective score of a token: <see cref="Scores"/>[id], or 0 when there are no scores.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not in [0, <see cref="Count"/>).</exception>
    public float GetScore(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, Count);
        return _scores.Length == 0 ? 0f : _scores[id];
    }

    /// <summary>The effective type of a token: <see cref="TokenTypes"/>[id], or <see cref="TokenType.Normal"/> when there are no types.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="id"/> is not in [0, <see cref="Count"/>).</exception>
    public TokenType GetTokenType(int id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, Count);
        return _types.Length == 0 ? TokenType.Normal : _types[id];
    }

    /// <summary>
    /// The id of the token whose text is exactly <paramref name="token"/> (llama.cpp
    /// <c>llama_vocab::text_to_token</c>; a duplicated text gives its last id), or null.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The vocabulary is inconsistent (see <see cref="Vocabulary"/>).</exception>
    public int? TokenToId(string token) => TryGetId(token, out int id) ? id : null;

    /// <summary>Looks up a token id by its exact text, like <see cref="TokenToId"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The vocabulary is inconsistent.</exception>
    public bool TryGetId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        return Resolved.Ids.TryGetValue(token, out id);
    }

    /// <summary>
    /// True when <paramref name="id"/> ends generation (llama.cpp <c>llama_vocab_is_eog</c>): EOS, EOT
    /// and EOM (declared or detected by text), tokens whose text is one llama.cpp lists
    /// (<c>&lt;/s&gt;</c>, <c>&lt;|eot_id|&gt;</c>, <c>&lt;|im_end|&gt;</c>, <c>&lt;end_of_turn&gt;</c>, ...)
    /// and the FIM pad/repo/file-separator tokens. False for -1 and ids out of range.
    /// </summary>
    /// <exception cref="InvalidOperationException">The vocabulary is inconsistent.</exception>
    public bool IsEndOfGeneration(int id) => id >= 0 && Resolved.EndOfGeneration.Contains(id);

    /// <summary>All end-of-generation token ids (see <see cref="IsEndOfGeneration"/>), ascending.</summary>
    /// <exception cref="InvalidOperationException">The vocabulary is inconsistent.</exception>
    public IReadOnlyList<int> EndOfGenerationTokenIds => Resolved.EndOfGenerationIds;

    /// <summary>The derived data; throws <see cref="InvalidOperationException"/> when the vocabulary is inconsistent.</summary>
    internal ResolvedVocabulary Resolved => _resolved.Value;

    /// <summary>The raw arrays (no copies) for the resolver and tokenizers.</summary>
    internal string[] TokenArray => _tokens;
    internal float[] ScoreArray => _scores;
    internal TokenType[] TypeArray => _types;

    /// <summary>The first inconsistency of the declared values, or null when they are consistent.</summary>
    internal string? FindInconsistency()
    {
        if (_model.Length == 0)
            return "the model name is empty";
        if (_tokens.Length == 0)
            return "expected at least one token, found none";
        if (_scores.Length != 0 && _scores.Length != _tokens.Length)
            return $"expected {_tokens.Length} scores (one per token) or none, found {_scores.Length}";
        if (_types.Length != 0 && _types.Length != _tokens.Length)
            return $"expected {_tokens.Length} token types (one per token) or none, found {_types.Length}";
        for (int i = 0; i < _types.Length; i++)
        {
            TokenType t = _types[i];
            if (t is < TokenType.Undefined or > TokenType.Byte)
                return $"token {i}: expected a token type in [0, 6], found {(int)t}";
            if (t == TokenType.Byte && !IsByteTokenText(_tokens[i]))
                return $"token {i}: expected a byte token text <0xNN>, found '{_tokens[i]}'";
        }
        foreach ((string name, int id) in SpecialIds())
            if (id < -1 || id >= _tokens.Length)
                return $"{name}: expected a token id in [0, {_tokens.Length}) or -1, found {id}";
        return null;
    }

    internal IEnumerable<(string Name, int Id)> SpecialIds()
    {
        yield return (nameof(BosTokenId), BosTokenId);
        yield return (nameof(EosTokenId), EosTokenId);
        yield return (nameof(EotTokenId), EotTokenId);
        yield return (nameof(EomTokenId), EomTokenId);
        yield return (nameof(UnknownTokenId), UnknownTokenId);
        yield return (nameof(SeparatorTokenId), SeparatorTokenId);
        yield return (nameof(PaddingTokenId), PaddingTokenId);
    }

    /// <summary>True for SentencePiece byte-fallback texts: <c>&lt;0x</c>, two hex digits, <c>&gt;</c>.</summary>
    internal static bool IsByteTokenText(string text) =>
        text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>'
        && char.IsAsciiHexDigit(text[3]) && char.IsAsciiHexDigit(text[4]);
}
