using System.Reflection;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.Slm;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tokenizers;
using static TinyLM.Tests.Formats.Slm.SlmTestFiles;

namespace TinyLM.Tests.Formats.Slm;

/// <summary>GGUF → .slm → GGUF: bit-identical tensors, equivalent metadata, identical logits.</summary>
public class SlmRoundTripTests
{
    public static TheoryData<GgmlType> WeightTypes()
    {
        var data = new TheoryData<GgmlType>();
        foreach (TensorType t in ModelBudget.Candidates())
            if (SmallShape.EmbeddingLength % t.BlockSize == 0 && SmallShape.FeedForwardLength % t.BlockSize == 0)
                data.Add(t.Type);
        return data;
    }

    [Fact]
    public void Xxh64_MatchesReferenceVectors()
    {
        // From libxxhash 0.8.1 (XXH64, seed 0 unless noted).
        Assert.Equal(0xEF46DB3751D8E999UL, Xxh64.Hash([]));
        Assert.Equal(0xD24EC4F1A98C6E5BUL, Xxh64.Hash("a"u8));
        Assert.Equal(0x44BC2CF5AD770999UL, Xxh64.Hash("abc"u8));
        Assert.Equal(0xBEA9CA8199328908UL, Xxh64.Hash("abc"u8, seed: 1));
        Assert.Equal(0x0B242D361FDA71BCUL, Xxh64.Hash("The quick brown fox jumps over the lazy dog"u8));
        byte[] ramp = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal(0x1FACBE8406CD904BUL, Xxh64.Hash(ramp));
        ulong[] prefixes = [0xef46db3751d8e999, 0xe934a84adb052768, 0xe5c7bb4533bc65dd, 0xffced8604453cc1e, 0x14cc643f630c72d2,
            0x884a173614b81b8d, 0xa948f5f0f6abac2d, 0xc346d2b59b4d8ee1, 0xcbf59c5116ff32b4, 0x0c535d1acafb8ead, 0xe26aa9e2a95f8e4f,
            0xf7c67301db6713f0, 0x6ac1e58032166597, 0x0f7d97507caad693];
        int[] lengths = [0, 1, 3, 4, 7, 8, 15, 31, 32, 33, 63, 64, 100, 255];
        for (int i = 0; i < lengths.Length; i++)
            Assert.Equal(prefixes[i], Xxh64.Hash(ramp.AsSpan(0, lengths[i])));
    }

    [Fact]
    public void Xxh64_InPiecesEqualsOneShot()
    {
        byte[] data = new byte[1000];
        new Random(3).NextBytes(data);
        ulong expected = Xxh64.Hash(data);
        foreach (int piece in new[] { 1, 5, 31, 32, 33, 200 })
        {
            var h = new Xxh64(0);
            for (int i = 0; i < data.Length; i += piece)
                h.Append(data.AsSpan(i, Math.Min(piece, data.Length - i)));
            Assert.Equal(expected, h.GetCurrentHash());
        }
        var z = new Xxh64(0);
        z.Append(data.AsSpan(0, 10));
        z.AppendZeros(77);
        Assert.Equal(Xxh64.Hash([.. data.AsSpan(0, 10), .. new byte[77]]), z.GetCurrentHash());
    }

    [Fact]
    public void DefaultModel_GgufToSlmToGguf_TensorsBitIdenticalMetadataEquivalentLogitsIdentical()
    {
        byte[] gguf = DefaultGguf;
        byte[] slm = ToSlm(gguf);
        byte[] back;
        using (SlmModelFile admitted = Admit(slm))
            back = SlmConverter.ToGguf(admitted).ToArray();
        AssertEquivalent(gguf, back);
        AssertSameLogits(gguf, slm, "Once upon a time, there was a little girl named Lily");
        Assert.Equal(slm, ToSlm(back)); // .slm → GGUF → .slm is a fixed point
    }

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void RandomModel_EveryWeightType_RoundTripsWithIdenticalLogits(GgmlType type)
    {
        byte[] gguf = TinyGguf(type, SmallShape, seed: 11);
        byte[] slm = ToSlm(gguf);
        using (SlmModelFile admitted = Admit(slm))
        {
            Assert.Equal(type, admitted.GetTensor("blk.1.ffn_down.weight").Type);
            AssertEquivalent(gguf, SlmConverter.ToGguf(admitted).ToArray());
        }
        AssertSameLogits(gguf, slm, "Lily and Tom went to the park");
    }

    [Fact]
    public void Writer_Layout_IsCanonicalAndAligned()
    {
        foreach (int alignment in new[] { 8, 32, 64, 4096 })
        {
            byte[] slm = ToSlm(TinyGguf(GgmlType.Q4_0), alignment);
            using SlmFile f = SlmFile.Load(slm);
            SlmHeader h = f.Header;
            Assert.Equal(slm.Length, h.FileSize);
            Assert.Equal(alignment, h.Alignment);
            Assert.Equal(SlmHeader.Size, h.DirectoryOffset);
            Assert.Equal(0, h.TokenizerOffset % 8);
            Assert.Equal(0, h.DataOffset % alignment);
            Assert.All(f.Tensors, t => Assert.Equal(0UL, t.Offset % (ulong)alignment));
            Assert.Equal(0, h.FileSize % alignment);
            Assert.False(h.HasTiedOutput);
            f.Validate();
        }
    }

    [Fact]
    public void Writer_NonSeekableStream_WritesTheSameBytes()
    {
        using GgufFile g = GgufFile.Load(TinyGguf(GgmlType.Q8_0));
        SlmWriter w = SlmConverter.FromModelFile(g);
        byte[] expected = w.ToArray();
        using var sink = new NonSeekableStream();
        w.WriteTo(sink);
        Assert.Equal(expected, sink.Inner.ToArray());
        Assert.Equal(expected.Length, w.ComputeFileSize());
    }

    [Fact]
    public void Writer_TiedOutput_SetsFlagAndLoads()
    {
        byte[] gguf;
        using (GgufFile f = GgufFile.Load(TinyGguf(GgmlType.F32)))
        {
            var w = new GgufWriter();
            foreach ((string k, GgufValue v) in f.Metadata)
                w.Metadata.Set(k, v);
            foreach (GgufTensorInfo t in f.Tensors.Where(t => t.Name != "output.weight"))
                w.AddTensor(t.Name, t.Type, t.Shape.ToArray(), f.GetTensorData(t).ToArray());
            gguf = w.ToArray();
        }
        byte[] slm = ToSlm(gguf);
        using (SlmFile parsed = SlmFile.Load(slm))
            Assert.True(parsed.Header.HasTiedOutput);
        using var model = (Llama)Model.Load(slm, "tied.slm");
        Assert.True(model.HasTiedOutput);
        AssertSameLogits(gguf, slm, "Once upon a time");
    }

    [Fact]
    public void Writer_RefusesReservedMetadataKeysAndBadNames()
    {
        using GgufFile g = GgufFile.Load(TinyGguf(GgmlType.F32));
        SlmWriter w = SlmConverter.FromModelFile(g);
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('x', 64), GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("output.weight", GgmlType.F32, [1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("odd", GgmlType.Q4_0, [16], new byte[9]));
        w.Metadata.Set("llama.embedding_length", GgufValue.FromUInt32(7));
        Assert.Throws<ArgumentException>(() => w.ToArray());
    }

    [Fact]
    public void ModelLoad_BytesAndPath_DetectSlmByMagic()
    {
        byte[] slm = TinySlm(GgmlType.Q4_0);
        using (Model m = Model.Load(slm, "tiny.slm"))
            Assert.IsType<SlmModelFile>(m.File);
        string path = Path.Combine(Path.GetTempPath(), $"tinylm-{Guid.NewGuid():N}.slm");
        File.WriteAllBytes(path, slm);
        try
        {
            using Model m = Model.Load(path);
            Assert.Equal("llama", m.Architecture);
            Assert.Equal(512, m.VocabularySize);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void AdmittedFile_HasNoPublicConstructor_AndOnlyAdmitCreatesIt()
    {
        Assert.Empty(typeof(SlmModelFile).GetConstructors(BindingFlags.Public | BindingFlags.Instance));
        Assert.DoesNotContain(typeof(Model).GetMethods(BindingFlags.Public | BindingFlags.Static),
            m => m.Name == "Load" && m.GetParameters().Any(p => p.ParameterType == typeof(SlmFile) || p.ParameterType == typeof(IModelFile)));
        byte[] slm = TinySlm();
        slm[^1] ^= 1; // padding byte: only the whole-file checksum sees it
        Reseal(slm, file: false);
        using SlmFile parsed = SlmFile.Load(slm);
        var e = Assert.Throws<ModelAdmissionException>(() => parsed.Admit());
        Assert.Equal(AdmissionError.FileChecksumMismatch, e.Error);
        Assert.False(parsed.IsValidated);
        Assert.Equal(AdmissionError.FileChecksumMismatch, Assert.Throws<ModelAdmissionException>(() => Model.Load(slm, "bad.slm")).Error);
    }

    // --- helpers

    private static void AssertEquivalent(byte[] originalGguf, byte[] roundTripGguf)
    {
        using GgufFile a = GgufFile.Load(originalGguf), b = GgufFile.Load(roundTripGguf);
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        foreach (GgufTensorInfo t in a.Tensors)
        {
            GgufTensorInfo u = b.GetTensor(t.Name);
            Assert.Equal(t.Type, u.Type);
            Assert.Equal(t.Shape, u.Shape);
            Assert.True(a.GetTensorData(t).SequenceEqual(b.GetTensorData(u)), $"tensor {t.Name} differs");
        }
        int vocab = (int)a.GetTensor("token_embd.weight").Shape[1];
        Assert.Equal(LlamaConfig.FromGguf(a.Metadata, vocab), LlamaConfig.FromGguf(b.Metadata, vocab));
        Vocabulary va = Vocabulary.FromGguf(a.Metadata), vb = Vocabulary.FromGguf(b.Metadata);
        Assert.Equal(va.Model, vb.Model);
        Assert.Equal(va.Pre, vb.Pre);
        Assert.Equal(va.Tokens, vb.Tokens);
        Assert.Equal(va.Scores, vb.Scores);
        Assert.Equal(va.TokenTypes, vb.TokenTypes);
        Assert.Equal(va.Merges, vb.Merges);
        Assert.Equal((va.BosTokenId, va.EosTokenId, va.EotTokenId, va.EomTokenId, va.UnknownTokenId, va.SeparatorTokenId, va.PaddingTokenId),
            (vb.BosTokenId, vb.EosTokenId, vb.EotTokenId, vb.EomTokenId, vb.UnknownTokenId, vb.SeparatorTokenId, vb.PaddingTokenId));
        Assert.Equal((va.AddBos, va.AddEos, va.AddSpacePrefix, va.ChatTemplate), (vb.AddBos, vb.AddEos, vb.AddSpacePrefix, vb.ChatTemplate));
        // Every key that neither the header nor the tokenizer section stands for is carried unchanged.
        foreach ((string key, GgufValue value) in a.Metadata)
        {
            if (SlmFile.IsReservedKey(key, "llama"))
                continue;
            Assert.True(b.Metadata.TryGetValue(key, out GgufValue? v), $"key {key} lost");
            Assert.Equal(value.Type, v.Type);
            Assert.Equal(value.ToDisplayString(int.MaxValue), v.ToDisplayString(int.MaxValue));
        }
    }

    private static void AssertSameLogits(byte[] gguf, byte[] slm, string prompt)
    {
        using Model a = Model.Load(gguf, "model.gguf"), b = Model.Load(slm, "model.slm");
        Assert.IsType<SlmModelFile>(b.File);
        int[] tokens = a.Tokenizer.EncodeToIds(prompt);
        Assert.Equal(tokens, b.Tokenizer.EncodeToIds(prompt));
        using InferenceSession sa = a.CreateSession(new SessionOptions { Threads = 1 }), sb = b.CreateSession(new SessionOptions { Threads = 1 });
        float[] la = sa.EvaluateAll(tokens), lb = sb.EvaluateAll(tokens);
        Assert.Equal(la.Length, lb.Length);
        for (int i = 0; i < la.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(la[i]) == BitConverter.SingleToInt32Bits(lb[i]), $"logit {i}: {la[i]} vs {lb[i]}");
    }

    private sealed class NonSeekableStream : Stream
    {
        public MemoryStream Inner { get; } = new();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Inner.Write(buffer, offset, count);
    }
}
