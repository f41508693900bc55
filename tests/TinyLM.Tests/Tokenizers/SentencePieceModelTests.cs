using System.Text;
using TinyLM.Formats;
using TinyLM.Formats.SentencePiece;
using TinyLM.Tokenizers;
using Xunit;

namespace TinyLM.Tests.Tokenizers;

public class SentencePieceModelTests
{
    [Fact]
    public void Read_Llama2Model_GivesTheLlama2Vocabulary()
    {
        Vocabulary v = SentencePieceModel.Read(VocabTestData.PathOf("llama2", "tokenizer.model"));
        Assert.Equal(32000, v.Count);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], v.Tokens.Take(4));
        Assert.Equal("\u2581\u2581", v.Tokens[259]);
        Assert.Equal(-1e9f, v.Scores[259]);
        Assert.Equal(-1f, v.Scores[260]);
        Assert.Equal("\u7ed9", v.Tokens[31999]);
        Assert.Equal(-31740f, v.Scores[31999]);
        Assert.Equal(1, v.TokenTypes.Count(t => t == TokenType.Unknown));
        Assert.Equal(2, v.TokenTypes.Count(t => t == TokenType.Control));
        Assert.Equal(256, v.TokenTypes.Count(t => t == TokenType.Byte));
        Assert.Equal(32000 - 259, v.TokenTypes.Count(t => t == TokenType.Normal));
        Assert.Equal((1, 2, 0, -1), (v.BosTokenId, v.EosTokenId, v.UnknownTokenId, v.PaddingTokenId)); // pad_id -1 is a 10-byte varint
        Assert.True(v.AddSpacePrefix);
        Assert.True(v.AddBos);
        Assert.False(v.AddEos);
    }

    [Fact]
    public void Read_SmallModel_TakesPiecesScoresTypesAndSpecFields()
    {
        byte[] model = Model(
            [("<pad>", 0, 3), ("<unk>", 0, 2), ("a", -1, null), ("<u>", -2, 4), ("x", -3, 5), ("<0x41>", 0, 6)],
            unk: 1, bos: -1, eos: 0, pad: 0, addDummyPrefix: false);
        Vocabulary v = SentencePieceModel.Read(model, "small.model");
        Assert.Equal(["<pad>", "<unk>", "a", "<u>", "x", "<0x41>"], v.Tokens);
        Assert.Equal([0f, 0, -1, -2, -3, 0], v.Scores);
        Assert.Equal([TokenType.Control, TokenType.Unknown, TokenType.Normal, TokenType.UserDefined, TokenType.Unused, TokenType.Byte], v.TokenTypes);
        Assert.Equal((-1, 0, 1, 0), (v.BosTokenId, v.EosTokenId, v.UnknownTokenId, v.PaddingTokenId));
        Assert.False(v.AddBos);
        Assert.False(v.AddSpacePrefix);
    }

    [Fact]
    public void Read_SkipsUnknownFieldsOfEveryWireType()
    {
        var extra = new ProtoWriter();
        extra.Varint(99, 12345).Fixed64(98).Fixed32(97, 1.5f).Bytes(96, [1, 2, 3]);
        byte[] plain = Model([("<unk>", 0, 2), ("a", -1, null)]);
        byte[] withExtras = [.. extra.ToArray(), .. plain, .. extra.ToArray()];
        Vocabulary a = SentencePieceModel.Read(plain, "a");
        Vocabulary b = SentencePieceModel.Read(withExtras, "b");
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.Equal(a.Scores, b.Scores);
        Assert.Equal(a.TokenTypes, b.TokenTypes);
    }

    [Fact]
    public void Read_EveryTruncationOfASmallModel_ThrowsModelFormatException()
    {
        byte[] model = Model([("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), ("\u2581a", -1.5f, null), ("<0x00>", 0, 6)]);
        SentencePieceModel.Read(model, "full");
        for (int length = 0; length < model.Length; length++)
            AssertFormatError(model.AsSpan(0, length).ToArray(), $"truncated to {length}");
    }

    [Fact]
    public void Read_TruncatedLlama2Model_ThrowsModelFormatException()
    {
        byte[] model = VocabTestData.ReadBytes("llama2", "tokenizer.model");
        // Every truncation of the first 8 pieces followed by the file's own trainer and normalizer
        // specs (parsing all 32000 pieces for each cut would take seconds)...
        int specsAt = TopLevelFieldOffsets(model).First(f => f.Field != 1).Offset;
        int eightPieces = TopLevelFieldOffsets(model).Where(f => f.Field == 1).ElementAt(8).Offset;
        byte[] small = [.. model.AsSpan(0, eightPieces), .. model.AsSpan(specsAt)];
        Assert.Equal(8, SentencePieceModel.Read(small, "small").Count);
        for (int length = 0; length < small.Length; length++)
            AssertFormatError(small[..length], $"small model truncated to {length}");
        // ...and the whole file cut at a few places.
        var random = new Random(5);
        foreach (int length in new[] { 0, 1, 2, specsAt, specsAt + 1, model.Length - 1 }.Concat(Enumerable.Range(0, 8).Select(_ => random.Next(model.Length))))
            AssertFormatError(model.AsSpan(0, length).ToArray(), $"truncated to {length}");
    }

    /// <summary>The (field number, offset) of each top-level field of a well-formed message.</summary>
    private static IEnumerable<(int Field, int Offset)> TopLevelFieldOffsets(byte[] message)
    {
        int position = 0;
        while (position < message.Length)
        {
            int at = position;
            ulong tag = ReadVarint(message, ref position);
            Assert.Equal(2UL, tag & 7); // every top-level ModelProto field is length-delimited
            int length = (int)ReadVarint(message, ref position);
            position += length;
            yield return ((int)(tag >> 3), at);
        }
    }

    private static ulong ReadVarint(byte[] data, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
    }

    public static TheoryData<string, byte[]> MalformedMessages() => new()
    {
        { "varint longer than 10 bytes", [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01] },
        { "varint over 64 bits", [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02] },
        { "tag varint cut", [0x80] },
        { "field number 0", [0x02, 0x00] },
        { "field number above 2^29", [0xF8, 0xFF, 0xFF, 0xFF, 0x1F, 0x00] },
        { "group wire type", [0x0B, 0x0C] },
        { "wire type 7", [0x0F] },
        { "huge length", [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F] },
        { "length 2^63", [0x0A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01] },
        { "pieces with wire type varint", [0x08, 0x01] },
        { "piece text with wire type fixed32", [0x0A, 0x05, 0x0D, 0x00, 0x00, 0x00, 0x00] },
        { "score with wire type varint", [0x0A, 0x05, 0x0A, 0x01, 0x61, 0x10, 0x01] },
        { "score cut", [0x0A, 0x05, 0x0A, 0x01, 0x61, 0x15, 0x00] },
        { "fixed64 cut", [0x09, 0x00, 0x00] },
        { "piece text not UTF-8", [0x0A, 0x03, 0x0A, 0x01, 0xFF] },
        { "empty piece text", [0x0A, 0x02, 0x0A, 0x00] },
        { "piece without text", [0x0A, 0x02, 0x18, 0x01] },
        { "piece type 0", [0x0A, 0x05, 0x0A, 0x01, 0x61, 0x18, 0x00] },
        { "piece type 7", [0x0A, 0x05, 0x0A, 0x01, 0x61, 0x18, 0x07] },
        { "piece type -1", [0x0A, 0x0E, 0x0A, 0x01, 0x61, 0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01] },
        { "empty data", [] },
    };

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public void Read_MalformedProtobuf_ThrowsModelFormatException(string what, byte[] data) =>
        AssertFormatError(data, what);

    [Theory]
    [InlineData("no pieces")]
    [InlineData("byte piece with other text")]
    [InlineData("unk id out of range")]
    [InlineData("unk id -1")]
    [InlineData("bos id out of range")]
    [InlineData("eos id -2")]
    [InlineData("pad id out of range")]
    [InlineData("no trainer spec")]
    [InlineData("no normalizer spec")]
    public void Read_InconsistentModel_ThrowsModelFormatException(string what)
    {
        (string, float, int?)[] two = [("<unk>", 0, 2), ("a", -1, null)];
        byte[] data = what switch
        {
            "no pieces" => Model([]),
            "byte piece with other text" => Model([("<unk>", 0, 2), ("<0xZZ>", 0, 6)]),
            "unk id out of range" => Model(two, unk: 2),
            "unk id -1" => Model(two, unk: -1),
            "bos id out of range" => Model(two, bos: 5),
            "eos id -2" => Model(two, eos: -2),
            "pad id out of range" => Model(two, pad: 2),
            "no trainer spec" => Model(two, trainerSpec: false),
            "no normalizer spec" => Model(two, normalizerSpec: false),
            _ => throw new ArgumentException(what),
        };
        AssertFormatError(data, what);
    }

    [Fact]
    public void Read_RandomCorruption_ThrowsOnlyModelFormatException()
    {
        byte[] small = Model([("<unk>", 0, 2), ("<s>", 0, 3), ("\u2581hello", -1, null), ("<0x0A>", 0, 6)], bos: 1, eos: -1);
        var random = new Random(11);
        for (int iteration = 0; iteration < 5000; iteration++)
        {
            byte[] data = small.ToArray();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
                data[random.Next(data.Length)] = (byte)random.Next(256);
            try
            {
                SentencePieceModel.Read(data, "fuzz");
            }
            catch (ModelFormatException)
            {
            }
        }
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => SentencePieceModel.Read(Path.Combine(Path.GetTempPath(), "no-such-tinylm-tokenizer.model")));
        Assert.ThrowsAny<ArgumentException>(() => SentencePieceModel.Read(""));
    }

    private static void AssertFormatError(byte[] data, string what)
    {
        try
        {
            SentencePieceModel.Read(data, "bad.model");
        }
        catch (ModelFormatException e)
        {
            Assert.Equal("bad.model", e.Source);
            Assert.InRange(e.Offset, -1, data.Length);
            return;
        }
        Assert.Fail($"{what}: expected ModelFormatException, none thrown");
    }

    /// <summary>A serialized ModelProto: pieces (text, score, type or null for the default), trainer and normalizer specs.</summary>
    internal static byte[] Model((string Text, float Score, int? Type)[] pieces, int? unk = null, int? bos = null, int? eos = null,
        int? pad = null, bool? addDummyPrefix = null, bool trainerSpec = true, bool normalizerSpec = true)
    {
        var model = new ProtoWriter();
        foreach ((string text, float score, int? type) in pieces)
        {
            var piece = new ProtoWriter();
            piece.Bytes(1, Encoding.UTF8.GetBytes(text)).Fixed32(2, score);
            if (type is int t)
                piece.Varint(3, t);
            model.Bytes(1, piece.ToArray());
        }
        if (trainerSpec)
        {
            var trainer = new ProtoWriter();
            trainer.Varint(3, 2).Varint(4, pieces.Length);
            if (unk is int u) trainer.Varint(40, u);
            if (bos is int b) trainer.Varint(41, b);
            if (eos is int e) trainer.Varint(42, e);
            if (pad is int p) trainer.Varint(43, p);
            model.Bytes(2, trainer.ToArray());
        }
        if (normalizerSpec)
        {
            var normalizer = new ProtoWriter();
            normalizer.Bytes(1, "identity"u8.ToArray());
            if (addDummyPrefix is bool d) normalizer.Varint(3, d ? 1 : 0);
            model.Bytes(3, normalizer.ToArray());
        }
        return model.ToArray();
    }
}

/// <summary>Writes protobuf fields, for building test inputs.</summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _bytes = [];

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        Raw((ulong)value);
        return this;
    }

    public ProtoWriter Fixed32(int field, float value)
    {
        Tag(field, 5);
        _bytes.AddRange(BitConverter.GetBytes(value));
        return this;
    }

    public ProtoWriter Fixed64(int field)
    {
        Tag(field, 1);
        _bytes.AddRange(new byte[8]);
        return this;
    }

    public ProtoWriter Bytes(int field, byte[] value)
    {
        Tag(field, 2);
        Raw((ulong)value.Length);
        _bytes.AddRange(value);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    private void Tag(int field, int wire) => Raw(((ulong)field << 3) | (uint)wire);

    private void Raw(ulong value)
    {
        while (value >= 0x80)
        {
            _bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        _bytes.Add((byte)value);
    }
}
