using System.Buffers.Binary;
using TinyLM.Formats;
using TinyLM.Formats.Slm;
using TinyLM.Models;
using TinyLM.Quantization;
using static TinyLM.Tests.Formats.Slm.SlmTestFiles;

namespace TinyLM.Tests.Formats.Slm;

/// <summary>Each documented admission error state, produced by a file crafted to reach exactly that check.</summary>
public class SlmAdmissionTests
{
    private static void AssertRefused(byte[] slm, AdmissionStage stage, AdmissionError error, long? offset = null, string? text = null)
    {
        ModelAdmissionException e = Refusal(slm);
        Assert.True(e.Error == error, $"expected {error}, got {e.Error}: {e.Message}");
        Assert.Equal(stage, e.Stage);
        Assert.Equal("hostile.slm", e.Source);
        if (offset is long o)
            Assert.Equal(o, e.Offset);
        if (text is not null)
            Assert.Contains(text, e.Message);
    }

    [Fact]
    public void Valid_PassesEveryStage()
    {
        byte[] slm = TinySlm(GgmlType.Q4_0);
        using SlmFile f = SlmFile.Load(slm);
        f.CheckBudget(slm.Length);
        f.Validate();
        Assert.True(f.IsValidated);
        using SlmModelFile admitted = f.Admit();
        Assert.Equal("llama", admitted.Metadata.GetString("general.architecture"));
        Assert.Equal(32u, admitted.Metadata.GetUInt32("llama.embedding_length"));
        Assert.Equal(SlmHeader.EmbeddingLengthAt, admitted.Metadata.OffsetOf("llama.embedding_length"));
    }

    [Fact]
    public void Truncated_AtEveryPosition()
    {
        byte[] slm = TinySlm(GgmlType.Q4_0);
        for (int n = 0; n < slm.Length; n += n < 4096 ? 1 : 61)
        {
            ModelAdmissionException e = Refusal(slm[..n]);
            Assert.True(e.Error == AdmissionError.Truncated, $"length {n}: {e.Message}");
            Assert.Equal(AdmissionStage.Parse, e.Stage);
        }
    }

    [Fact]
    public void TrailingData() =>
        AssertRefused([.. TinySlm(), 0], AdmissionStage.Parse, AdmissionError.TrailingData, offset: TinySlm().Length);

    [Fact]
    public void BadMagic()
    {
        byte[] slm = TinySlm();
        slm[1] = (byte)'X';
        AssertRefused(slm, AdmissionStage.Parse, AdmissionError.BadMagic, offset: 0);
        AssertRefused(DefaultGguf, AdmissionStage.Parse, AdmissionError.BadMagic, offset: 0, text: "4747554603000000");
    }

    [Fact]
    public void UnsupportedVersion()
    {
        byte[] slm = TinySlm();
        SetU32(slm, SlmHeader.VersionAt, 2);
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.UnsupportedVersion, offset: 8);
    }

    [Fact]
    public void HeaderChecksumMismatch()
    {
        byte[] slm = TinySlm();
        slm[SlmHeader.ContextLengthAt] ^= 1;
        AssertRefused(slm, AdmissionStage.Parse, AdmissionError.HeaderChecksumMismatch, offset: SlmHeader.HeaderChecksumAt);
    }

    [Theory]
    [InlineData(SlmHeader.HeaderSizeAt, 128u)]
    [InlineData(SlmHeader.FlagsAt, 2u)]
    [InlineData(SlmHeader.AlignmentAt, 48u)]
    [InlineData(SlmHeader.AlignmentAt, 4u)]
    [InlineData(SlmHeader.TensorCountAt, 0u)]
    [InlineData(SlmHeader.ReservedAt + 5, 1u)]
    public void InvalidHeader(int field, uint value)
    {
        byte[] slm = TinySlm();
        SetU32(slm, field, value);
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.InvalidHeader, offset: field);
    }

    [Fact]
    public void UnknownArchitecture()
    {
        byte[] slm = TinySlm();
        SetU32(slm, SlmHeader.ArchitectureAt, 2); // qwen2: reserved for a later version
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.UnknownArchitecture, offset: SlmHeader.ArchitectureAt);
    }

    [Theory]
    [InlineData(SlmHeader.DirectoryOffsetAt, 1L << 40)]
    [InlineData(SlmHeader.DirectoryOffsetAt, 100L)]
    [InlineData(SlmHeader.TokenizerOffsetAt, 4L)]
    [InlineData(SlmHeader.MetadataLengthAt, -1L)]
    [InlineData(SlmHeader.DataOffsetAt, 64L)]
    public void SectionOutOfRange(int field, long value)
    {
        byte[] slm = TinySlm();
        SetU64(slm, field, (ulong)value);
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.SectionOutOfRange);
    }

    [Fact]
    public void SectionOutOfRange_DataOffsetMisaligned()
    {
        byte[] slm = TinySlm();
        SetU64(slm, SlmHeader.DataOffsetAt, U64(slm, SlmHeader.DataOffsetAt) + 8);
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.SectionOutOfRange, offset: SlmHeader.DataOffsetAt, text: "multiple of 64");
    }

    [Theory]
    [InlineData(SlmHeader.DirectoryOffsetAt, SlmHeader.DirectoryChecksumAt, AdmissionError.DirectoryChecksumMismatch)]
    [InlineData(SlmHeader.TokenizerOffsetAt, SlmHeader.TokenizerChecksumAt, AdmissionError.TokenizerChecksumMismatch)]
    [InlineData(SlmHeader.MetadataOffsetAt, SlmHeader.MetadataChecksumAt, AdmissionError.MetadataChecksumMismatch)]
    public void SectionChecksumMismatch(int offsetField, int checksumField, AdmissionError error)
    {
        byte[] slm = TinySlm();
        slm[U64(slm, offsetField) + 2] ^= 0x10;
        SealHeader(slm);
        AssertRefused(slm, AdmissionStage.Parse, error, offset: checksumField);
    }

    [Fact]
    public void TokenizerMalformed()
    {
        byte[] slm = TinySlm();
        long tok = (long)U64(slm, SlmHeader.TokenizerOffsetAt);
        SetU32(slm, tok, 9); // tokenizer kind
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.TokenizerMalformed, offset: tok);
        slm = TinySlm();
        SetU32(slm, tok + 16, 512); // BOS id outside the 512 tokens
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.TokenizerMalformed, offset: tok + 16);
        slm = TinySlm();
        SetU32(slm, tok + 44, 0xFFFFFF); // length of token 0
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.TokenizerMalformed, offset: tok + 44);
    }

    [Fact]
    public void MetadataMalformed()
    {
        byte[] slm = TinySlm();
        long meta = (long)U64(slm, SlmHeader.MetadataOffsetAt);
        SetU32(slm, meta, 1_000_000); // key count beyond the section
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.MetadataMalformed, offset: meta);
        slm = TinySlm();
        // Rename general.file_type to a key of the same length that the header stands for.
        int at = slm.AsSpan((int)meta).IndexOf("general.file_type"u8);
        "llama.block_count"u8.CopyTo(slm.AsSpan((int)meta + at));
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.MetadataMalformed, offset: meta + at - 4, text: "llama.block_count");
    }

    [Fact]
    public void InvalidTensorEntry()
    {
        byte[] slm = TinySlm();
        long e = Entry(slm, "output_norm.weight");
        SetName(slm, e, "");
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.InvalidTensorEntry, offset: e);
        slm = TinySlm();
        SetU32(slm, e + 68, 5); // five dimensions
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.InvalidTensorEntry, offset: e + 68);
        slm = TinySlm();
        SetU64(slm, e + 80, 2); // unused dimension 1 must be 1
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.InvalidTensorEntry, offset: e + 80);
    }

    [Fact]
    public void UnsupportedTensorType()
    {
        byte[] slm = TinySlm();
        long e = Entry(slm, "blk.0.attn_q.weight");
        SetU32(slm, e + 64, (uint)GgmlType.IQ2_XXS);
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.UnsupportedTensorType, offset: e + 64);
    }

    [Fact]
    public void DuplicateTensorName()
    {
        byte[] slm = TinySlm();
        long e = Entry(slm, "blk.0.ffn_norm.weight");
        SetName(slm, e, "blk.0.attn_norm.weight");
        AssertRefused(Reseal(slm), AdmissionStage.Parse, AdmissionError.DuplicateTensorName, text: "blk.0.attn_norm.weight");
    }

    [Fact]
    public void BudgetExceeded_NamesBothSizesAndTheHighestPrecisionTypeThatFits()
    {
        byte[] slm = TinySlm(GgmlType.F32);
        using SlmFile f = SlmFile.Load(slm, "big.slm");
        var tensors = f.Tensors.Select(t => new TinyLM.Formats.Gguf.GgufTensorInfo(t.Name, t.Type, t.Shape.ToArray(), 0, (long)t.ByteSize)).ToArray();
        long f16 = ModelBudget.EstimateFileBytes(slm.Length, tensors, TensorTypes.Get(GgmlType.F16));
        long q8 = ModelBudget.EstimateFileBytes(slm.Length, tensors, TensorTypes.Get(GgmlType.Q8_0));
        Assert.True(q8 < f16 && f16 < slm.Length);

        var e = Assert.Throws<ModelAdmissionException>(() => f.CheckBudget(f16));
        Assert.Equal((AdmissionStage.Budget, AdmissionError.BudgetExceeded), (e.Stage, e.Error));
        Assert.Contains($"{slm.Length:N0} bytes", e.Message);
        Assert.Contains($"budget of {f16:N0} bytes", e.Message);
        Assert.Contains("quantized to f16", e.Message);
        Assert.Contains("quantized to q8_0", Assert.Throws<ModelAdmissionException>(() => f.CheckBudget(f16 - 1)).Message);
        Assert.Contains("no registered type fits", Assert.Throws<ModelAdmissionException>(() => f.CheckBudget(1000)).Message);
        f.CheckBudget(slm.Length);
        Assert.Equal(AdmissionError.BudgetExceeded, Assert.Throws<ModelAdmissionException>(() => Model.Load(slm, "big.slm", f16)).Error);
        Assert.Equal(AdmissionError.BudgetExceeded, Assert.Throws<ModelAdmissionException>(() => Model.Load(TinyGguf(GgmlType.F32), "big.gguf", 1000)).Error);
        Assert.DoesNotContain(ModelBudget.Candidates(), t => t.Type == GgmlType.Q8_1);
        Assert.Equal(GgmlType.F32, ModelBudget.Candidates()[0].Type);
    }

    [Fact]
    public void HyperparametersInvalid()
    {
        byte[] slm = TinySlm();
        SetU32(slm, SlmHeader.HeadCountKVAt, 3); // not a divisor of 4 heads
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.HyperparametersInvalid, offset: SlmHeader.HeadCountKVAt);
        slm = TinySlm();
        SetU32(slm, SlmHeader.RopeScalingAt, 7);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.HyperparametersInvalid, offset: SlmHeader.RopeScalingAt);
        slm = TinySlm();
        BinaryPrimitives.WriteSingleLittleEndian(slm.AsSpan(SlmHeader.RmsEpsilonAt), float.NaN);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.HyperparametersInvalid, offset: SlmHeader.RmsEpsilonAt);
    }

    [Fact]
    public void TokenizerInvalid()
    {
        byte[] slm = TinySlm();
        SetU32(slm, SlmHeader.VocabularySizeAt, 511);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.TokenizerInvalid, text: "expected 511 tokens");
        slm = TinySlm();
        long tok = (long)U64(slm, SlmHeader.TokenizerOffsetAt);
        SetU32(slm, tok, 2); // BPE without merges
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.TokenizerInvalid, text: "merges");
    }

    [Fact]
    public void TensorSizeMismatch()
    {
        byte[] slm = TinySlm();
        long e = Entry(slm, "output_norm.weight");
        SetU64(slm, e + 112, U64(slm, e + 112) + 4);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.TensorSizeMismatch, offset: e + 112);
        slm = TinySlm(GgmlType.Q4_0);
        e = Entry(slm, "blk.0.attn_q.weight");
        SetU64(slm, e + 72, 16); // row of 16 is not a whole Q4_0 block
        SetU64(slm, e + 80, 64);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.TensorSizeMismatch, offset: e + 72);
    }

    [Fact]
    public void MisalignedTensor()
    {
        byte[] slm = TinySlm();
        long e = Entry(slm, "blk.0.attn_k.weight");
        SetU64(slm, e + 104, U64(slm, e + 104) + 4);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.MisalignedTensor, offset: e + 104);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TensorOutOfRange(bool pastEnd)
    {
        byte[] slm = TinySlm();
        long e = Entry(slm, "blk.0.attn_v.weight");
        SetU64(slm, e + 104, pastEnd ? (ulong)slm.Length - 64 : U64(slm, SlmHeader.DataOffsetAt) - 64);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.TensorOutOfRange, offset: e + 104);
    }

    [Fact]
    public void TensorOverlap()
    {
        byte[] slm = TinySlm();
        long q = Entry(slm, "blk.0.attn_q.weight"), k = Entry(slm, "blk.0.attn_k.weight");
        SetU64(slm, k + 104, U64(slm, q + 104) + 64);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.TensorOverlap, offset: k + 104, text: "blk.0.attn_q.weight");
    }

    [Fact]
    public void UnexpectedTensor()
    {
        byte[] slm = TinySlm();
        long e = Entry(slm, "blk.0.attn_v.weight");
        SetName(slm, e, "blk.0.attn_qkv.weight");
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.UnexpectedTensor, offset: e);
        slm = TinySlm();
        SetU32(slm, SlmHeader.FlagsAt, (uint)SlmFlags.TiedOutput); // but output.weight is present
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.UnexpectedTensor, text: "tied-output");
    }

    [Fact]
    public void MissingTensor()
    {
        byte[] slm = TinySlm();
        // attn_q.bias has the shape of attn_norm.weight ([32]) here: the renamed file lacks attn_norm.
        SetName(slm, Entry(slm, "blk.0.attn_norm.weight"), "blk.0.attn_q.bias");
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.MissingTensor, text: "blk.0.attn_norm.weight");
    }

    [Fact]
    public void ShapeMismatch()
    {
        byte[] slm = TinySlm(GgmlType.F32);
        long e = Entry(slm, "blk.0.attn_q.weight");
        SetU64(slm, e + 72, 16); // [16, 64]: same bytes as [32, 32]
        SetU64(slm, e + 80, 64);
        AssertRefused(Reseal(slm), AdmissionStage.Validate, AdmissionError.ShapeMismatch, offset: e + 68, text: "[32, 32]");
    }

    [Fact]
    public void TensorChecksumMismatch()
    {
        byte[] slm = TinySlm(GgmlType.Q8_0);
        long at = PayloadOffset(slm, "blk.0.ffn_up.weight");
        slm[at + 5] ^= 0x40;
        Reseal(slm, tensors: false);
        AssertRefused(slm, AdmissionStage.Validate, AdmissionError.TensorChecksumMismatch, offset: Entry(slm, "blk.0.ffn_up.weight") + 120);
    }

    [Theory]
    [InlineData(GgmlType.F32, "output_norm.weight", 12, new byte[] { 0x00, 0x00, 0xC0, 0x7F })] // NaN
    [InlineData(GgmlType.F32, "blk.0.attn_q.weight", 40, new byte[] { 0x00, 0x00, 0x80, 0xFF })] // -Inf
    [InlineData(GgmlType.F16, "blk.0.ffn_down.weight", 6, new byte[] { 0x00, 0x7C })] // +Inf
    [InlineData(GgmlType.BF16, "token_embd.weight", 2, new byte[] { 0xC1, 0x7F })] // NaN
    [InlineData(GgmlType.Q8_0, "blk.0.attn_output.weight", 34, new byte[] { 0x00, 0x7E })] // NaN scale of block 1
    public void NonFiniteValue(GgmlType type, string tensor, int byteInPayload, byte[] bytes)
    {
        byte[] slm = TinySlm(type);
        long at = PayloadOffset(slm, tensor) + byteInPayload;
        bytes.CopyTo(slm, at);
        ModelAdmissionException e = Refusal(Reseal(slm));
        Assert.Equal((AdmissionStage.Validate, AdmissionError.NonFiniteValue), (e.Stage, e.Error));
        Assert.Contains(tensor, e.Message);
        TensorType t = TensorTypes.Get(type);
        Assert.Equal(PayloadOffset(slm, tensor) + byteInPayload / t.BlockBytes * t.BlockBytes, e.Offset);
    }

    [Fact]
    public void FileChecksumMismatch()
    {
        byte[] slm = TinySlm();
        SetU64(slm, SlmHeader.FileChecksumAt, U64(slm, SlmHeader.FileChecksumAt) ^ 1);
        SealHeader(slm);
        AssertRefused(slm, AdmissionStage.Validate, AdmissionError.FileChecksumMismatch, offset: SlmHeader.FileChecksumAt);
        slm = TinySlm();
        long padding = (long)U64(slm, SlmHeader.MetadataOffsetAt) + (long)U64(slm, SlmHeader.MetadataLengthAt);
        Assert.True(padding < (long)U64(slm, SlmHeader.DataOffsetAt));
        slm[padding] = 0xAA; // a padding byte: no section checksum covers it
        SealHeader(slm);
        AssertRefused(slm, AdmissionStage.Validate, AdmissionError.FileChecksumMismatch);
    }

    [Fact]
    public void ManifestMismatch()
    {
        byte[] slm = TinySlm();
        using SlmFile f = SlmFile.Load(slm, "tiny.slm");
        SlmManifest m = SlmManifest.Describe(f, "tiny.slm", null, "tiny.gguf", "gguf", 123, null, "0.1.0");
        SlmManifest read = SlmManifest.Parse(m.ToJson(), "tiny.slm.json");
        read.CheckAgainst(f);
        Assert.Equal(m.TensorTypes, read.TensorTypes);
        Assert.Equal(m with { TensorTypes = read.TensorTypes }, read);
        Assert.Equal("not-claimed", read.Quality);
        Assert.Equal("unknown", read.License);
        var e = Assert.Throws<ModelAdmissionException>(() => (read with { ByteSize = 5 }).CheckAgainst(f));
        Assert.Equal(AdmissionError.ManifestMismatch, e.Error);
        Assert.Equal(AdmissionError.ManifestMismatch, Assert.Throws<ModelAdmissionException>(() => (read with { FileChecksum = 5 }).CheckAgainst(f)).Error);
        Assert.Equal(AdmissionError.ManifestMismatch, Assert.Throws<ModelAdmissionException>(() => SlmManifest.Parse("{\"format\": 1}", "x.json")).Error);
    }

    [Fact]
    public void EveryErrorState_IsDocumentedInTheSpec()
    {
        string spec = File.ReadAllText(Path.Combine(TestPaths.Root, "docs", "slm-format.md"));
        foreach (AdmissionError error in Enum.GetValues<AdmissionError>())
            Assert.Contains($"`{error}`", spec);
    }
}
