using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Tokenizers;
using Xunit;

namespace TinyLM.Tests.Tokenizers;

public class VocabularyTests
{
    [Fact]
    public void Llama2_HasTheDeclaredIdsAndFlags()
    {
        Vocabulary v = VocabTestData.Llama2;
        Assert.Equal("llama", v.Model);
        Assert.Equal("default", v.Pre);
        Assert.Equal(32000, v.Count);
        Assert.Equal((1, 2, 0, -1, -1, -1), (v.BosTokenId, v.EosTokenId, v.UnknownTokenId, v.PaddingTokenId, v.EotTokenId, v.SeparatorTokenId));
        Assert.True(v.AddBos);
        Assert.False(v.AddEos);
        Assert.True(v.AddSpacePrefix);
        Assert.Null(v.Merges);
        Assert.Null(v.ChatTemplate);
        Assert.Equal(15043, v.TokenToId("\u2581Hello"));
        Assert.Null(v.TokenToId("Hello world"));
        Assert.True(v.TryGetId("<0x0A>", out int newline) && newline == 13);
    }

    [Fact]
    public void IsEndOfGeneration_IsTrueOnlyForEos_InLlama2()
    {
        Vocabulary v = VocabTestData.Llama2;
        Assert.Equal([2], v.EndOfGenerationTokenIds);
        Assert.True(v.IsEndOfGeneration(2));
        Assert.False(v.IsEndOfGeneration(1));
        Assert.False(v.IsEndOfGeneration(-1));
        Assert.False(v.IsEndOfGeneration(32000));
    }

    [Fact]
    public void IsEndOfGeneration_DetectsChatEndTokensByText_LikeLlamaCpp()
    {
        var v = new Vocabulary
        {
            Model = "llama", Tokens = ["<unk>", "<s>", "</s>", "<|im_end|>", "<|endoftext|>", "<|fim_pad|>", "hi"],
            TokenTypes = [TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.Normal, TokenType.Control, TokenType.Normal, TokenType.Normal],
            BosTokenId = 1, EosTokenId = 2, UnknownTokenId = 0,
        };
        Assert.Equal([2, 3, 4, 5], v.EndOfGenerationTokenIds);
        // Detected end tokens become control tokens: not rendered and split out when parsing special tokens.
        Tokenizer tokenizer = Tokenizer.Create(v);
        Assert.True(tokenizer.GetPieceBytes(3).IsEmpty);
        Assert.Equal([3], tokenizer.EncodeToIds("<|im_end|>", addSpecialTokens: false, parseSpecialTokens: true));
        // A declared EOT is end-of-generation too.
        var declared = new Vocabulary { Model = "llama", Tokens = ["a", "b", "c"], EotTokenId = 1 };
        Assert.Equal([1], declared.EndOfGenerationTokenIds);
    }

    [Fact]
    public void TokenToId_DuplicatedTextGivesTheLastId_AndEmptyTextIsRenamed()
    {
        var v = new Vocabulary { Model = "llama", Tokens = ["a", "b", "a", ""] };
        Assert.Equal(2, v.TokenToId("a"));
        Assert.Null(v.TokenToId(""));
        Assert.Equal(3, v.TokenToId("[EMPTY_3]"));
    }

    [Fact]
    public void Initializer_CopiesCollections()
    {
        var tokens = new List<string> { "a", "b" };
        var scores = new List<float> { -1, -2 };
        var v = new Vocabulary { Model = "llama", Tokens = tokens, Scores = scores };
        tokens[0] = "z";
        scores[0] = 5;
        Assert.Equal("a", v.Tokens[0]);
        Assert.Equal(-1f, v.GetScore(0));
        Assert.Throws<NotSupportedException>(() => ((IList<string>)v.Tokens)[0] = "z");
        Assert.Throws<ArgumentNullException>(() => new Vocabulary { Model = "llama", Tokens = ["a", null!] });
    }

    [Fact]
    public void MissingScoresAndTypes_DefaultToZeroAndNormal()
    {
        var v = new Vocabulary { Model = "llama", Tokens = ["a", "b"] };
        Assert.Empty(v.Scores);
        Assert.Empty(v.TokenTypes);
        Assert.Equal(0f, v.GetScore(1));
        Assert.Equal(TokenType.Normal, v.GetTokenType(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => v.GetScore(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => v.GetTokenType(-1));
    }

    [Fact]
    public void InconsistentVocabulary_ThrowsInvalidOperation_WhenUsed()
    {
        var v = new Vocabulary { Model = "llama", Tokens = ["a", "b"], TokenTypes = [TokenType.Normal] };
        Assert.Throws<InvalidOperationException>(() => v.TokenToId("a"));
        Assert.Throws<InvalidOperationException>(() => v.IsEndOfGeneration(0));
        Assert.Throws<InvalidOperationException>(() => v.WriteTo(new GgufMetadata()));
        var badByte = new Vocabulary { Model = "llama", Tokens = ["<0xZZ>"], TokenTypes = [TokenType.Byte] };
        Assert.Throws<InvalidOperationException>(() => badByte.TokenToId("a"));
    }

    [Fact]
    public void WriteTo_WritesTheKeysOfLlamaCppsOwnLlamaSpmVocabulary()
    {
        // models/ggml-vocab-llama-spm.gguf (llama.cpp) holds exactly these tokenizer keys, in this order.
        var metadata = new GgufMetadata();
        VocabTestData.Llama2.WriteTo(metadata);
        Assert.Equal(
        [
            "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
            "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
            "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
        ], metadata.Keys);
        Assert.Equal(GgufValueType.String, metadata["tokenizer.ggml.model"].Type);
        Assert.Equal(GgufValueType.String, metadata["tokenizer.ggml.tokens"].ElementType);
        Assert.Equal(GgufValueType.Float32, metadata["tokenizer.ggml.scores"].ElementType);
        Assert.Equal(GgufValueType.Int32, metadata["tokenizer.ggml.token_type"].ElementType);
        Assert.Equal(GgufValueType.UInt32, metadata["tokenizer.ggml.bos_token_id"].Type);
        Assert.Equal(GgufValueType.Bool, metadata["tokenizer.ggml.add_bos_token"].Type);
        Assert.Equal([2, 3, 3, 6], metadata.GetInt32Array("tokenizer.ggml.token_type")[..4]);
        Assert.Equal(-1e9f, metadata.GetSingleArray("tokenizer.ggml.scores")[259]);
    }

    [Fact]
    public void FromGguf_OfWriteTo_RoundTrips()
    {
        Vocabulary original = VocabTestData.Llama2;
        var metadata = new GgufMetadata();
        original.WriteTo(metadata);
        Vocabulary read = Vocabulary.FromGguf(metadata);
        AssertSameVocabulary(original, read);

        var full = new Vocabulary
        {
            Model = "llama", Pre = "default", Tokens = ["<unk>", "<s>", "</s>", "<pad>", "<|eot|>", "a"],
            Scores = [0, 0, 0, 0, 0, -1.5f], TokenTypes = [TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.Control, TokenType.Control, TokenType.Normal],
            BosTokenId = 1, EosTokenId = 2, UnknownTokenId = 0, PaddingTokenId = 3, EotTokenId = 4, EomTokenId = 4, SeparatorTokenId = 3,
            AddBos = false, AddEos = true, AddSpacePrefix = false, ChatTemplate = "{{ messages }}",
        };
        var m2 = new GgufMetadata();
        full.WriteTo(m2);
        Assert.Equal(GgufValueType.Bool, m2[Vocabulary.AddSpacePrefixKey].Type); // differs from the llama default: written
        AssertSameVocabulary(full, Vocabulary.FromGguf(m2));

        var merges = new Vocabulary { Model = "gpt2", Pre = "gpt-2", Tokens = ["a", "b", "ab"], Merges = ["a b"] };
        var m3 = new GgufMetadata();
        merges.WriteTo(m3);
        Vocabulary read3 = Vocabulary.FromGguf(m3);
        Assert.Equal(["a b"], read3.Merges!);
        Assert.Equal(-1, read3.BosTokenId); // the gpt2 default 11 is outside the 3 tokens: disabled
    }

    [Fact]
    public void WriteTo_ReplacesAndRemovesExistingTokenizerKeys()
    {
        var metadata = new GgufMetadata();
        metadata.Set("general.architecture", GgufValue.FromString("llama"));
        metadata.Set(Vocabulary.PaddingTokenIdKey, GgufValue.FromUInt32(7));
        metadata.Set(Vocabulary.ChatTemplateKey, GgufValue.FromString("old"));
        metadata.Set(Vocabulary.ModelKey, GgufValue.FromString("gpt2"));
        new Vocabulary { Model = "llama", Tokens = ["a", "b", "c"], BosTokenId = 1 }.WriteTo(metadata);
        Assert.False(metadata.ContainsKey(Vocabulary.PaddingTokenIdKey));
        Assert.False(metadata.ContainsKey(Vocabulary.ChatTemplateKey));
        Assert.False(metadata.ContainsKey(Vocabulary.ScoresKey));
        Assert.False(metadata.ContainsKey(Vocabulary.EosTokenIdKey));
        Assert.Equal("llama", metadata.GetString(Vocabulary.ModelKey));
        Assert.Equal("llama", metadata.GetString("general.architecture"));
    }

    [Fact]
    public void FromGguf_AppliesLlamaCppsDefaults_DisablingIdsOutsideTheVocabulary()
    {
        var metadata = new GgufMetadata();
        metadata.Set(Vocabulary.ModelKey, GgufValue.FromString("llama"));
        metadata.Set(Vocabulary.TokensKey, GgufValue.FromArray(new[] { "<unk>", "<s>" }));
        Vocabulary v = Vocabulary.FromGguf(metadata);
        Assert.Equal((1, -1, 0), (v.BosTokenId, v.EosTokenId, v.UnknownTokenId));
        Assert.True(v.AddBos);
        Assert.False(v.AddEos);
        Assert.True(v.AddSpacePrefix);
        Assert.Null(v.Pre);
        Assert.Empty(v.Scores);
        Assert.Empty(v.TokenTypes);
    }

    [Fact]
    public void FromGguf_ReadsGeneralName_AndWriteToLeavesIt()
    {
        var metadata = Minimal();
        metadata.Set(Vocabulary.GeneralNameKey, GgufValue.FromString("Phi3"));
        Vocabulary v = Vocabulary.FromGguf(metadata);
        Assert.Equal("Phi3", v.GeneralName);
        var written = new GgufMetadata();
        v.WriteTo(written);
        Assert.False(written.ContainsKey(Vocabulary.GeneralNameKey));
    }

    [Fact]
    public void FromGguf_AcceptsInt32ScoresAndAnyIntegerIdType()
    {
        var metadata = Minimal();
        metadata.Set(Vocabulary.ScoresKey, GgufValue.FromArray(new[] { 0, -1, -2 }));
        metadata.Set(Vocabulary.BosTokenIdKey, GgufValue.FromInt64(2));
        metadata.Set(Vocabulary.EosTokenIdKey, GgufValue.FromUInt8(1));
        Vocabulary v = Vocabulary.FromGguf(metadata);
        Assert.Equal([0f, -1f, -2f], v.Scores);
        Assert.Equal((2, 1), (v.BosTokenId, v.EosTokenId));
    }

    public static TheoryData<string, string, string> HostileMetadata() => new()
    {
        { "missing model", Vocabulary.ModelKey, "remove" },
        { "model not a string", Vocabulary.ModelKey, "u32" },
        { "unknown model", Vocabulary.ModelKey, "str:klingon" },
        { "model without vocabulary", Vocabulary.ModelKey, "str:none" },
        { "missing tokens", Vocabulary.TokensKey, "remove" },
        { "tokens not strings", Vocabulary.TokensKey, "i32[3]" },
        { "tokens a scalar", Vocabulary.TokensKey, "str:a" },
        { "no tokens", Vocabulary.TokensKey, "str[0]" },
        { "too few scores", Vocabulary.ScoresKey, "f32[2]" },
        { "too many scores", Vocabulary.ScoresKey, "f32[4]" },
        { "scores of strings", Vocabulary.ScoresKey, "str[3]" },
        { "scores a scalar", Vocabulary.ScoresKey, "f32" },
        { "token types of uint8", Vocabulary.TokenTypesKey, "u8[3]" },
        { "token types of float", Vocabulary.TokenTypesKey, "f32[3]" },
        { "too few token types", Vocabulary.TokenTypesKey, "i32[2]" },
        { "token type 7", Vocabulary.TokenTypesKey, "types:1,7,1" },
        { "token type -1", Vocabulary.TokenTypesKey, "types:1,-1,1" },
        { "byte type on a normal text", Vocabulary.TokenTypesKey, "types:1,6,1" },
        { "bos id out of range", Vocabulary.BosTokenIdKey, "u32:3" },
        { "eos id huge", Vocabulary.EosTokenIdKey, "u64:18446744073709551615" },
        { "unknown id negative", Vocabulary.UnknownTokenIdKey, "i32:-1" },
        { "padding id a string", Vocabulary.PaddingTokenIdKey, "str:0" },
        { "eot id a float", Vocabulary.EotTokenIdKey, "f32" },
        { "add_bos not a bool", Vocabulary.AddBosKey, "u32" },
        { "add_space_prefix not a bool", Vocabulary.AddSpacePrefixKey, "str:yes" },
        { "chat template not a string", Vocabulary.ChatTemplateKey, "u32" },
        { "general.name not a string", Vocabulary.GeneralNameKey, "u32" },
        { "pre not a string", Vocabulary.PreKey, "u32" },
        { "merges not strings", Vocabulary.MergesKey, "i32[3]" },
    };

    [Theory]
    [MemberData(nameof(HostileMetadata))]
    public void FromGguf_HostileMetadata_ThrowsModelFormatExceptionNamingKeyAndOffset(string what, string key, string change)
    {
        GgufMetadata metadata = Minimal();
        Apply(metadata, key, change);
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Vocabulary.FromGguf(metadata));
        Assert.Contains(key, e.Message);
        Assert.Equal("test.gguf", e.Source);
        if (change != "remove")
            Assert.Equal(OffsetOf(key), e.Offset);
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void FromGguf_BpeModelWithoutMerges_Throws()
    {
        var metadata = Minimal();
        metadata.Set(Vocabulary.ModelKey, GgufValue.FromString("gpt2"), 100);
        ModelFormatException e = Assert.Throws<ModelFormatException>(() => Vocabulary.FromGguf(metadata));
        Assert.Contains(Vocabulary.MergesKey, e.Message);
    }

    private static GgufMetadata Minimal()
    {
        var metadata = new GgufMetadata("test.gguf");
        metadata.Set(Vocabulary.ModelKey, GgufValue.FromString("llama"), OffsetOf(Vocabulary.ModelKey));
        metadata.Set(Vocabulary.TokensKey, GgufValue.FromArray(new[] { "<unk>", "<s>", "</s>" }), OffsetOf(Vocabulary.TokensKey));
        return metadata;
    }

    /// <summary>A made-up byte offset per key, to check that errors report where the key was read.</summary>
    private static long OffsetOf(string key) => 1000 + (key.GetHashCode(StringComparison.Ordinal) & 0xFFFF);

    private static void Apply(GgufMetadata metadata, string key, string change)
    {
        if (change == "remove")
        {
            metadata.Remove(key);
            return;
        }
        GgufValue value = change switch
        {
            "u32" => GgufValue.FromUInt32(1),
            "f32" => GgufValue.FromFloat32(1),
            "i32[3]" => GgufValue.FromArray(new[] { 1, 1, 1 }),
            "i32[2]" => GgufValue.FromArray(new[] { 1, 1 }),
            "u8[3]" => GgufValue.FromArray(new byte[] { 1, 1, 1 }),
            "f32[2]" => GgufValue.FromArray(new float[2]),
            "f32[3]" => GgufValue.FromArray(new float[3]),
            "f32[4]" => GgufValue.FromArray(new float[4]),
            "str[0]" => GgufValue.FromArray(Array.Empty<string>()),
            "str[3]" => GgufValue.FromArray(new[] { "a", "b", "c" }),
            _ when change.StartsWith("str:", StringComparison.Ordinal) => GgufValue.FromString(change[4..]),
            _ when change.StartsWith("u32:", StringComparison.Ordinal) => GgufValue.FromUInt32(uint.Parse(change[4..])),
            _ when change.StartsWith("u64:", StringComparison.Ordinal) => GgufValue.FromUInt64(ulong.Parse(change[4..])),
            _ when change.StartsWith("i32:", StringComparison.Ordinal) => GgufValue.FromInt32(int.Parse(change[4..])),
            _ when change.StartsWith("types:", StringComparison.Ordinal) => GgufValue.FromArray(change[6..].Split(',').Select(int.Parse).ToArray()),
            _ => throw new ArgumentException(change),
        };
        metadata.Set(key, value, OffsetOf(key));
    }

    private static void AssertSameVocabulary(Vocabulary expected, Vocabulary actual)
    {
        Assert.Equal(expected.Model, actual.Model);
        Assert.Equal(expected.Pre, actual.Pre);
        Assert.Equal(expected.Tokens, actual.Tokens);
        Assert.Equal(expected.Scores, actual.Scores);
        Assert.Equal(expected.TokenTypes, actual.TokenTypes);
        Assert.Equal(expected.Merges, actual.Merges);
        Assert.Equal(
            (expected.BosTokenId, expected.EosTokenId, expected.EotTokenId, expected.EomTokenId, expected.UnknownTokenId, expected.SeparatorTokenId, expected.PaddingTokenId),
            (actual.BosTokenId, actual.EosTokenId, actual.EotTokenId, actual.EomTokenId, actual.UnknownTokenId, actual.SeparatorTokenId, actual.PaddingTokenId));
        Assert.Equal((expected.AddBos, expected.AddEos, expected.AddSpacePrefix), (actual.AddBos, actual.AddEos, actual.AddSpacePrefix));
        Assert.Equal(expected.ChatTemplate, actual.ChatTemplate);
    }
}
