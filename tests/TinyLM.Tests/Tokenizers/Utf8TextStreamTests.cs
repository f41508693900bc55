using System.Text;
using TinyLM.Tokenizers;
using Xunit;

namespace TinyLM.Tests.Tokenizers;

public class Utf8TextStreamTests
{
    [Fact]
    public void Ascii_PassesThroughImmediately()
    {
        var stream = new Utf8TextStream();
        Assert.Equal("Hello", stream.Append("Hello"u8));
        Assert.Equal(", world", stream.Append(", world"u8));
        Assert.Equal("", stream.Append([]));
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public void MultiByteCharacterSplitAcrossAppends_AppearsWhenComplete()
    {
        byte[] e = "\u00e9"u8.ToArray();      // 2 bytes
        byte[] euro = "\u20ac"u8.ToArray();   // 3 bytes
        var stream = new Utf8TextStream();
        Assert.Equal("a", stream.Append([(byte)'a', e[0]]));
        Assert.Equal("\u00e9", stream.Append([e[1]]));
        Assert.Equal("", stream.Append(euro.AsSpan(0, 1)));
        Assert.Equal("", stream.Append(euro.AsSpan(1, 1)));
        Assert.Equal("\u20acb", stream.Append([euro[2], (byte)'b']));
    }

    [Fact]
    public void EmojiFromFourByteTokens_AppearsOnceAllFourArrive()
    {
        Tokenizer tokenizer = VocabTestData.Llama2Tokenizer;
        int[] ids = tokenizer.EncodeToIds("\U0001F600!", addSpecialTokens: false);
        // "▁", four byte-fallback tokens, "!"
        Assert.Equal([29871, 243, 162, 155, 131, 29991], ids);

        var stream = new Utf8TextStream();
        var outputs = ids.Select(id => stream.Append(tokenizer.GetPieceBytes(id))).ToList();
        Assert.Equal([" ", "", "", "", "\U0001F600", "!"], outputs);
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public void InvalidBytes_BecomeReplacementCharacters_AsSoonAsKnownInvalid()
    {
        var stream = new Utf8TextStream();
        Assert.Equal("\uFFFD", stream.Append([0xFF]));           // never valid
        Assert.Equal("\uFFFD", stream.Append([0x80]));           // lone continuation byte
        Assert.Equal("", stream.Append([0xE2]));                 // may start a character
        Assert.Equal("\uFFFD(", stream.Append([0x28]));          // ...but "(" is not a continuation
        Assert.Equal("", stream.Append([0xF0, 0x9F]));
        Assert.Equal("\uFFFDA", stream.Append([(byte)'A']));     // one U+FFFD for the maximal invalid subpart
        Assert.Equal("\uFFFD\uFFFD", stream.Append([0xC0, 0xAF])); // overlong encodings are invalid byte by byte
        Assert.Equal("\uFFFD\uFFFD\uFFFD", stream.Append([0xED, 0xA0, 0x80])); // encoded surrogate
    }

    [Fact]
    public void Flush_EmitsPendingBytesAsReplacement_AndResets()
    {
        var stream = new Utf8TextStream();
        Assert.Equal("x", stream.Append([(byte)'x', 0xE2, 0x82]));
        Assert.Equal("\uFFFD", stream.Flush());
        Assert.Equal("", stream.Flush());
        // After the reset the old pending bytes are gone: 0xAC alone is invalid, not the end of "€".
        Assert.Equal("\uFFFD", stream.Append([0xAC]));
        Assert.Equal("\u20ac", stream.Append("\u20ac"u8));
    }

    [Fact]
    public void StreamingEveryVectorTokenByToken_EqualsDecodingAllPieces()
    {
        Tokenizer tokenizer = VocabTestData.Llama2Tokenizer;
        foreach ((byte[] input, _) in VocabTestData.SpmVectors)
        {
            int[] ids = tokenizer.EncodeUtf8ToIds(input, addSpecialTokens: false);
            var stream = new Utf8TextStream();
            var streamed = new StringBuilder();
            var all = new List<byte>();
            foreach (int id in ids)
            {
                streamed.Append(stream.Append(tokenizer.GetPieceBytes(id)));
                all.AddRange(tokenizer.GetPieceBytes(id).ToArray());
            }
            streamed.Append(stream.Flush());
            Assert.Equal(Encoding.UTF8.GetString(all.ToArray()), streamed.ToString());
            // Pieces keep the space prefix: the stream gives " " + text (Decode removes it).
            Assert.Equal(ids.Length == 0 ? "" : " " + Encoding.UTF8.GetString(input), streamed.ToString());
        }
    }

    [Fact]
    public void RandomBytesInRandomChunks_DecodeLikeUtf8Encoding()
    {
        var random = new Random(99);
        byte[] valid = "a\u00e9\u20ac\U0001F600"u8.ToArray();
        for (int iteration = 0; iteration < 300; iteration++)
        {
            byte[] bytes = new byte[random.Next(0, 64)];
            for (int i = 0; i < bytes.Length; i++)
                bytes[i] = random.Next(4) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)random.Next(0x80, 0xC0),
                    _ => valid[random.Next(valid.Length)],
                };
            var stream = new Utf8TextStream();
            var text = new StringBuilder();
            for (int at = 0; at < bytes.Length;)
            {
                int n = Math.Min(random.Next(1, 5), bytes.Length - at);
                text.Append(stream.Append(bytes.AsSpan(at, n)));
                at += n;
            }
            text.Append(stream.Flush());
            Assert.Equal(Encoding.UTF8.GetString(bytes), text.ToString());
        }
    }

    [Fact]
    public void Append_AllocatesNothingWhenNoCharacterCompletes()
    {
        var stream = new Utf8TextStream();
        stream.Append([0xF0, 0x9F]);
        stream.Flush();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            stream.Append([0xF0]);
            stream.Append([0x9F]);
            stream.Append([0x98]);
            stream.Flush();
        }
        long after = GC.GetAllocatedBytesForCurrentThread();
        // Flush returns a one-char string each time; the Appends return string.Empty.
        Assert.True(after - before <= 100 * 32, $"{after - before} bytes allocated");
    }
}
