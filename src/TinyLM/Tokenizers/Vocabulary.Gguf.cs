using TinyLM.Formats;
using TinyLM.Formats.Gguf;

namespace TinyLM.Tokenizers;

public sealed partial class Vocabulary
{
    /// <summary>GGUF key <c>tokenizer.ggml.model</c>.</summary>
    public const string ModelKey = "tokenizer.ggml.model";
    /// <summary>GGUF key <c>tokenizer.ggml.pre</c>.</summary>
    public const string PreKey = "tokenizer.ggml.pre";
    /// <summary>GGUF key <c>tokenizer.ggml.tokens</c>.</summary>
    public const string TokensKey = "tokenizer.ggml.tokens";
    /// <summary>GGUF key <c>tokenizer.ggml.scores</c>.</summary>
    public const string ScoresKey = "tokenizer.ggml.scores";
    /// <summary>GGUF key <c>tokenizer.ggml.token_type</c>.</summary>
    public const string TokenTypesKey = "tokenizer.ggml.token_type";
    /// <summary>GGUF key <c>tokenizer.ggml.merges</c>.</summary>
    public const string MergesKey = "tokenizer.ggml.merges";
    /// <summary>GGUF key <c>tokenizer.ggml.bos_token_id</c>.</summary>
    public const string BosTokenIdKey = "tokenizer.ggml.bos_token_id";
    /// <summary>GGUF key <c>tokenizer.ggml.eos_token_id</c>.</summary>
    public const string EosTokenIdKey = "tokenizer.ggml.eos_token_id";
    /// <summary>GGUF key <c>tokenizer.ggml.eot_token_id</c>.</summary>
    public const string EotTokenIdKey = "tokenizer.ggml.eot_token_id";
    /// <summary>GGUF key <c>tokenizer.ggml.eom_token_id</c>.</summary>
    public const string EomTokenIdKey = "tokenizer.ggml.eom_token_id";
    /// <summary>GGUF key <c>tokenizer.ggml.unknown_token_id</c>.</summary>
    public const string UnknownTokenIdKey = "tokenizer.ggml.unknown_token_id";
    /// <summary>GGUF key <c>tokenizer.ggml.seperator_token_id</c> (spelled as in llama.cpp).</summary>
    public const string SeparatorTokenIdKey = "tokenizer.ggml.seperator_token_id";
    /// <summary>GGUF key <c>tokenizer.ggml.padding_token_id</c>.</summary>
    public const string PaddingTokenIdKey = "tokenizer.ggml.padding_token_id";
    /// <summary>GGUF key <c>tokenizer.ggml.add_bos_token</c>.</summary>
    public const string AddBosKey = "tokenizer.ggml.add_bos_token";
    /// <summary>GGUF key <c>tokenizer.ggml.add_eos_token</c>.</summary>
    public const string AddEosKey = "tokenizer.ggml.add_eos_token";
    /// <summary>GGUF key <c>tokenizer.ggml.add_space_prefix</c>.</summary>
    public const string AddSpacePrefixKey = "tokenizer.ggml.add_space_prefix";
    /// <summary>GGUF key <c>tokenizer.chat_template</c>.</summary>
    public const string ChatTemplateKey = "tokenizer.chat_template";
    /// <summary>GGUF key <c>general.name</c> (read for <see cref="GeneralName"/>, never written).</summary>
    public const string GeneralNameKey = "general.name";

    /// <summary>
    /// Reads the vocabulary from GGUF metadata the way llama.cpp's <c>llama_vocab::impl::load</c>
    /// (src/llama-vocab.cpp@de3ff815) does, but strictly: every problem llama.cpp would only warn
    /// about is an error.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Keys: <c>tokenizer.ggml.model</c> (required), <c>.pre</c>, <c>.tokens</c> (required, at least
    /// one), <c>.scores</c> (Float32 or Int32 array), <c>.token_type</c> (Int32 array, values 0..6),
    /// <c>.merges</c> (required for BPE models), the <c>.bos/.eos/.eot/.eom/.unknown/.seperator/.padding_token_id</c>
    /// ids (any integer type), <c>.add_bos_token</c>, <c>.add_eos_token</c>, <c>.add_space_prefix</c>,
    /// <c>tokenizer.chat_template</c>, and <c>general.name</c> (<see cref="GeneralName"/>).
    /// </para>
    /// <para>
    /// Absent ids and flags take llama.cpp's per-model defaults; for "llama": BOS 1, EOS 2, UNK 0,
    /// add BOS true, add EOS false, add space prefix true. A default id outside the vocabulary is
    /// disabled (-1), as llama.cpp does. Unlike llama.cpp, which warns and keeps the default, a
    /// declared id outside the vocabulary is an error; and the scores and token types must have
    /// exactly one element per token (llama.cpp accepts longer arrays).
    /// </para>
    /// </remarks>
    /// <param name="metadata">The GGUF metadata.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    /// <exception cref="ModelFormatException">
    /// A required key is missing; a key has the wrong type; the model is unknown or has no
    /// vocabulary ("none", "no_vocab"); an array's length differs from the token count; a token type
    /// is outside 0..6 or a BYTE token's text is not <c>&lt;0xNN&gt;</c>; an id is outside the
    /// vocabulary; BPE merges are missing. The exception names the key and its byte offset.
    /// </exception>
    public static Vocabulary FromGguf(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string model = metadata.GetString(ModelKey);
        string? pre = metadata.GetString(PreKey, null);
        if (model is "none" or "no_vocab")
            throw Error(metadata, ModelKey, $"expected a tokenizer model with a vocabulary, found '{model}'");
        if (!ModelDefaults.TryGet(model, out ModelDefaults defaults))
            throw Error(metadata, ModelKey, $"expected a tokenizer model llama.cpp knows ({ModelDefaults.KnownNames}), found '{model}'");

        string[] tokens = metadata.GetStringArray(TokensKey);
        int n = tokens.Length;
        if (n == 0)
            throw Error(metadata, TokensKey, "expected at least one token, found none");

        float[] scores = [];
        if (metadata.TryGetValue(ScoresKey, out GgufValue? scoreValue))
        {
            scores = scoreValue.Type == GgufValueType.Array && scoreValue.ElementType == GgufValueType.Int32
                ? Array.ConvertAll((int[])scoreValue.Value, x => (float)x)
                : metadata.GetSingleArray(ScoresKey);
            CheckLength(metadata, ScoresKey, scores.Length, n);
        }

        TokenType[] types = [];
        if (metadata.TryGetValue(TokenTypesKey, out GgufValue? typeValue))
        {
            if (typeValue.Type != GgufValueType.Array || typeValue.ElementType != GgufValueType.Int32)
                throw Error(metadata, TokenTypesKey, $"expected array[int32], found {typeValue.Describe()}");
            int[] raw = (int[])typeValue.Value;
            CheckLength(metadata, TokenTypesKey, raw.Length, n);
            types = new TokenType[n];
            for (int i = 0; i < n; i++)
            {
                if (raw[i] is < 0 or > (int)TokenType.Byte)
                    throw Error(metadata, TokenTypesKey, $"token {i}: expected a token type in [0, 6], found {raw[i]}");
                types[i] = (TokenType)raw[i];
                if (types[i] == TokenType.Byte && !IsByteTokenText(tokens[i]))
                    throw Error(metadata, TokenTypesKey, $"token {i} has type BYTE: expected text <0xNN>, found '{tokens[i]}'");
            }
        }

        string[]? merges = metadata.ContainsKey(MergesKey) ? metadata.GetStringArray(MergesKey) : null;
        if (merges is null && defaults.RequiresMerges && pre != "kimi-k2")
            throw Error(metadata, MergesKey, $"expected BPE merges for tokenizer model '{model}', found none");

        bool addBos = metadata.GetBool(AddBosKey, defaults.AddBos);
        if (defaults.ForceAddBos)
            addBos = true;

        return new Vocabulary
        {
            Model = model,
            Pre = pre,
            Tokens = tokens,
            Scores = scores,
            TokenTypes = types,
            Merges = merges,
            BosTokenId = ReadId(metadata, BosTokenIdKey, defaults.Bos, n),
            EosTokenId = ReadId(metadata, EosTokenIdKey, defaults.Eos, n),
            EotTokenId = ReadId(metadata, EotTokenIdKey, -1, n),
            EomTokenId = ReadId(metadata, EomTokenIdKey, -1, n),
            UnknownTokenId = ReadId(metadata, UnknownTokenIdKey, defaults.Unknown, n),
            SeparatorTokenId = ReadId(metadata, SeparatorTokenIdKey, defaults.Separator, n),
            PaddingTokenId = ReadId(metadata, PaddingTokenIdKey, defaults.Padding, n),
            AddBos = addBos,
            AddEos = metadata.GetBool(AddEosKey, defaults.AddEos),
            AddSpacePrefix = metadata.GetBool(AddSpacePrefixKey, defaults.AddSpacePrefix),
            ChatTemplate = metadata.GetString(ChatTemplateKey, null),
            GeneralName = metadata.GetString(GeneralNameKey, null),
        };
    }

    /// <summary>
    /// Writes the vocabulary's keys as llama.cpp's converter writes them for a SentencePiece vocabulary
    /// (convert_hf_to_gguf.py <c>_set_vocab_sentencepiece</c> and gguf-py <c>SpecialVocab.add_to_gguf</c>),
    /// replacing keys already present and removing this vocabulary's keys that it does not set.
    /// </summary>
    /// <remarks>
    /// Written: <c>tokenizer.ggml.model</c>; <c>.pre</c> when not null; <c>.tokens</c>; <c>.scores</c>
    /// (Float32) and <c>.token_type</c> (Int32) when not empty; <c>.merges</c> when not null; each
    /// special token id that is not -1 (UInt32); <c>.add_bos_token</c> and <c>.add_eos_token</c>;
    /// <c>.add_space_prefix</c> only when it differs from llama.cpp's default for the model (the
    /// converter writes it only when the Hugging Face config sets <c>add_prefix_space</c>, and
    /// llama.cpp's own ggml-vocab-llama-spm.gguf has none); <c>tokenizer.chat_template</c> when not null.
    /// An id of -1 cannot be written: reading the metadata back gives the model's default id.
    /// </remarks>
    /// <param name="metadata">The metadata to write into.</param>
    /// <exception cref="ArgumentNullException"><paramref name="metadata"/> is null.</exception>
    /// <exception cref="InvalidOperationException">The vocabulary is inconsistent (see <see cref="Vocabulary"/>).</exception>
    public void WriteTo(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (FindInconsistency() is string problem)
            throw new InvalidOperationException($"The vocabulary is inconsistent: {problem}.");

        metadata.Set(ModelKey, GgufValue.FromString(Model));
        SetOrRemove(metadata, PreKey, Pre is null ? null : GgufValue.FromString(Pre));
        metadata.Set(TokensKey, GgufValue.FromArray(_tokens.ToArray()));
        SetOrRemove(metadata, ScoresKey, _scores.Length == 0 ? null : GgufValue.FromArray(_scores.ToArray()));
        SetOrRemove(metadata, TokenTypesKey, _types.Length == 0 ? null : GgufValue.FromArray(Array.ConvertAll(_types, t => (int)t)));
        SetOrRemove(metadata, MergesKey, Merges is null ? null : GgufValue.FromArray(Merges.ToArray()));
        SetId(metadata, BosTokenIdKey, BosTokenId);
        SetId(metadata, EosTokenIdKey, EosTokenId);
        SetId(metadata, EotTokenIdKey, EotTokenId);
        SetId(metadata, EomTokenIdKey, EomTokenId);
        SetId(metadata, UnknownTokenIdKey, UnknownTokenId);
        SetId(metadata, SeparatorTokenIdKey, SeparatorTokenId);
        SetId(metadata, PaddingTokenIdKey, PaddingTokenId);
        metadata.Set(AddBosKey, GgufValue.FromBool(AddBos));
        metadata.Set(AddEosKey, GgufValue.FromBool(AddEos));
        bool defaultPrefix = ModelDefaults.TryGet(Model, out ModelDefaults d) && d.AddSpacePrefix;
        SetOrRemove(metadata, AddSpacePrefixKey, AddSpacePrefix == defaultPrefix ? null : GgufValue.FromBool(AddSpacePrefix));
        SetOrRemove(metadata, ChatTemplateKey, ChatTemplate is null ? null : GgufValue.FromString(ChatTemplate));
    }

    private static void SetOrRemove(GgufMetadata metadata, string key, GgufValue? value)
    {
        if (value is null)
            metadata.Remove(key);
        else
            metadata.Set(key, value);
    }

    private static void SetId(GgufMetadata metadata, string key, int id) =>
        SetOrRemove(metadata, key, id < 0 ? null : GgufValue.FromUInt32((uint)id));

    private static int ReadId(GgufMetadata metadata, string key, int defaultId, int count)
    {
        if (!metadata.TryGetValue(key, out GgufValue? value))
            return defaultId < count ? defaultId : -1;
        long id;
        try
        {
            id = value.AsInt64();
        }
        catch (InvalidCastException e)
        {
            throw Error(metadata, key, e.Message);
        }
        if (id < 0 || id >= count)
            throw Error(metadata, key, $"expected a token id in [0, {count}), found {id}");
        return (int)id;
    }

    private static void CheckLength(GgufMetadata metadata, string key, int length, int count)
    {
        if (length != count)
            throw Error(metadata, key, $"expected {count} elements (one per token), found {length}");
    }

    private static ModelFormatException Error(GgufMetadata metadata, string key, string reason) =>
        new(metadata.Source, metadata.OffsetOf(key), $"metadata key '{key}': {reason}");

    /// <summary>
    /// llama.cpp's defaults per <c>tokenizer.ggml.model</c> (<c>llama_vocab::impl::load</c>): special ids
    /// and flags used when the keys are absent.
    /// </summary>
    private readonly record struct ModelDefaults(
        int Bos, int Eos, int Unknown, int Separator, int Padding,
        bool AddBos, bool AddEos, bool AddSpacePrefix, bool RequiresMerges, bool ForceAddBos)
    {
        public const string KnownNames = "llama, gpt2, bert, t5, rwkv, plamo2, gemma4, hybriddna, whitespace, test";

        public static bool TryGet(string model, out ModelDefaults defaults)
        {
            defaults = model switch
            {
                "llama" => new(1, 2, 0, -1, -1, AddBos: true, AddEos: false, AddSpacePrefix: true, RequiresMerges: false, ForceAddBos: false),
                "gpt2" or "hybriddna" or "whitespace" => new(11, 11, -1, -1, -1, false, false, false, RequiresMerges: true, false),
                "gemma4" => new(-1, -1, -1, -1, -1, false, false, false, RequiresMerges: true, ForceAddBos: true),
                "bert" => new(101, -1, 100, 102, 0, AddBos: true, false, false, false, false),
                "t5" => new(-1, 1, 2, -1, 0, false, AddEos: true, false, false, false),
                "rwkv" or "test" => new(-1, -1, -1, -1, -1, false, false, false, false, false),
                "plamo2" => new(1, 2, 0, -1, 3, false, false, false, false, false),
                _ => default,
            };
            return model is "llama" or "gpt2" or "hybriddna" or "whitespace" or "gemma4" or "bert" or "t5" or "rwkv" or "test" or "plamo2";
        }
    }
}
