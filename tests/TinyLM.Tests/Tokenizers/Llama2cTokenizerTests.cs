using System.Buffers.Binary;
using System.Text;
using TinyLM.Formats;
using TinyLM.Formats.Llama2c;
using TinyLM.Tokenizers;
using Xunit;

namespace TinyLM.Tests.Tokenizers;

public class Llama2cTokenizerTests
{
    [Fact]
    public void TokenizerBin_GivesTheSameVocabularyAsTokenizerModel()
    {
        Vocabulary bin = VocabTestData.Llama2FromBin;
        Vocabulary model = VocabTestData.Llama2;
        Assert.Equal(model.Tokens, bin.Tokens);
        Assert.Equal(model.Scores, bin.Scores);
        Assert.Equal(model.TokenTypes, bin.TokenTypes);
        Assert.Equal(
            (model.Model, model.Pre, model.BosTokenId, model.EosTokenId, model.UnknownTokenId, model.PaddingTokenId, model.AddBos, model.AddEos, model.AddSpacePrefix),
            (bin.Model, bin.Pre, bin.BosTokenId, bin.EosTokenId, bin.UnknownTokenId, bin.PaddingTokenId, bin.AddBos, bin.AddEos, bin.AddSpacePrefix));
    }

    [Fact]
    public void Read_WithoutVocabSize_ReadsTokensToTheEnd()
    {
        Vocabulary v = Llama2cTokenizer.Read(VocabTestData.ReadBytes("llama2", "tokenizer.bin"), "tokenizer.bin");
        Assert.Equal(32000, v.Count);
        Vocabulary tok512 = Llama2cTokenizer.Read(Path.Combine(TestPaths.TestData, "stories260K", "tok512.bin"));
        Assert.Equal(512, tok512.Count);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], tok512.Tokens.Take(4));
        Assert.Equal("\u2581t", tok512.Tokens[259]);
        Assert.Equal(256, tok512.TokenTypes.Count(t => t == TokenType.Byte));
        Tokenizer tokenizer = Tokenizer.Create(tok512);
        Assert.Equal("Once upon a time", tokenizer.Decode(tokenizer.EncodeToIds("Once upon a time", addSpecialTokens: false)));
    }

    [Fact]
    public void Read_MapsTheExportConventionsBack()
    {
        byte[] data = Bin(16, ("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0), ("<0x0A>", 0), (" hello world", -1), ("<0xab>", -2), ("\n", -3));
        Vocabulary v = Llama2cTokenizer.Read(data, "t.bin");
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x0A>", "\u2581hello\u2581world", "<0xab>", "\n"], v.Tokens);
        Assert.Equal([TokenType.Unknown, TokenType.Control, TokenType.Control, TokenType.Byte, TokenType.Normal, TokenType.Normal, TokenType.Normal], v.TokenTypes);
        Assert.Equal([0f, 0, 0, 0, -1, -2, -3], v.Scores);
        Assert.Equal((1, 2, 0, true, false, true), (v.BosTokenId, v.EosTokenId, v.UnknownTokenId, v.AddBos, v.AddEos, v.AddSpacePrefix));
    }

    [Fact]
    public void Read_EveryTruncation_ThrowsWithVocabSize_AndInsideARecordWithout()
    {
        (string, float)[] tokens = [("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0), (" a", -1), ("bc", -2)];
        byte[] data = Bin(6, tokens);
        var boundaries = new HashSet<int> { 4 };
        int at = 4;
        foreach ((string text, _) in tokens)
            boundaries.Add(at += 8 + Encoding.UTF8.GetByteCount(text));
        for (int length = 0; length < data.Length; length++)
        {
            byte[] cut = data[..length];
            AssertFormatError(() => Llama2cTokenizer.Read(cut, "bad.bin", tokens.Length), $"truncated to {length}");
            if (!boundaries.Contains(length) || length == 4)
                AssertFormatError(() => Llama2cTokenizer.Read(cut, "bad.bin"), $"truncated to {length}, no vocab size");
            else
                Assert.True(Llama2cTokenizer.Read(cut, "ok.bin").Count < tokens.Length);
        }
    }

    [Fact]
    public void Read_TruncatedLlama2TokenizerBin_Throws()
    {
        byte[] data = VocabTestData.ReadBytes("llama2", "tokenizer.bin");
        var random = new Random(3);
        // Cuts in the header and the first records, in the last records, and at random places; every
        // cut of a small file is checked above (parsing all 32000 records per cut would take seconds).
        foreach (int length in Enumerable.Range(0, 200).Concat(Enumerable.Range(data.Length - 12, 12)).Concat(Enumerable.Range(0, 8).Select(_ => random.Next(data.Length))))
            AssertFormatError(() => Llama2cTokenizer.Read(data.AsSpan(0, length), "bad.bin", 32000), $"truncated to {length}");
    }

    public static TheoryData<string, byte[], int?> MalformedFiles() => new()
    {
        { "negative max_token_length", Header(-1), null },
        { "no tokens", Header(4), null },
        { "negative length", [.. Header(4), .. Record(0, -1)], null },
        { "length above max_token_length", [.. Bin(2, ("abc", 0))], null },
        { "huge length", [.. Header(int.MaxValue), .. Record(0, int.MaxValue), 0x61], null },
        { "length past the end", [.. Header(8), .. Record(0, 5), 0x61, 0x62], null },
        { "invalid UTF-8", [.. Header(4), .. Record(0, 2), 0xC3, 0x28], null },
        { "trailing bytes after vocab_size tokens", [.. Bin(4, ("a", 0), ("b", 0)), 0x00], 1 },
        { "fewer tokens than vocab_size", Bin(4, ("a", 0), ("b", 0)), 3 },
        { "trailing partial record", [.. Bin(4, ("a", 0)), 0, 0, 0], null },
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void Read_MalformedFile_ThrowsModelFormatException(string what, byte[] data, int? vocabSize) =>
        AssertFormatError(() => Llama2cTokenizer.Read(data, "bad.bin", vocabSize), what);

    [Fact]
    public void Read_RandomCorruption_ThrowsOnlyModelFormatException()
    {
        byte[] data = Bin(10, ("<unk>", 0), ("\n<s>\n", 0), ("\n</s>\n", 0), (" hello", -1), ("\u00e9t\u00e9", -2));
        var random = new Random(17);
        for (int iteration = 0; iteration < 5000; iteration++)
        {
            byte[] corrupt = data.ToArray();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
                corrupt[random.Next(corrupt.Length)] = (byte)random.Next(256);
            int? vocabSize = random.Next(2) == 0 ? null : 5;
            try
            {
                Llama2cTokenizer.Read(corrupt, "fuzz", vocabSize);
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    [Fact]
    public void Read_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Llama2cTokenizer.Read(Bin(4, ("a", 0)), "t", 0));
        Assert.Throws<ArgumentNullException>(() => Llama2cTokenizer.Read(Bin(4, ("a", 0)), null!));
        Assert.Throws<FileNotFoundException>(() => Llama2cTokenizer.Read(Path.Combine(Path.GetTempPath(), "no-such-tinylm-tokenizer.bin")));
    }

    private static void AssertFormatError(Action read, string what)
    {
        try
        {
            read();
        }
        catch (ModelFormatException e)
        {
            Assert.Equal("bad.bin", e.Source);
            return;
        }
        Assert.Fail($"{what}: expected ModelFormatException, none thrown");
    }

    private static byte[] Header(int maxTokenLength)
    {
        byte[] header = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(header, maxTokenLength);
        return header;
    }

    private static byte[] Record(float score, int length)
    {
        byte[] record = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(record, score);
        BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(4), length);
        return record;
    }

    /// <summary>A tokenizer.bin: max_token_length, then (score, length, UTF-8 bytes) per token.</summary>
    private static byte[] Bin(int maxTokenLength, params (string Text, float Score)[] tokens)
    {
        var bytes = new List<byte>(Header(maxTokenLength));
        foreach ((string text, float score) in tokens)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            bytes.AddRange(Record(score, utf8.Length));
            bytes.AddRange(utf8);
        }
        return [.. bytes];
    }
}
