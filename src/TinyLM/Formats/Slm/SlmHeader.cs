using System.Buffers.Binary;

namespace TinyLM.Formats.Slm;

/// <summary>Architecture ids of the <c>.slm</c> header (docs/slm-format.md, "Architectures").</summary>
/// <remarks>Ids 2 (qwen2), 3 (gemma), 4 (phi3) and 5 (gptneox) are reserved for later versions; a v1 reader refuses them.</remarks>
public enum SlmArchitecture : uint
{
    /// <summary>The Llama family (<c>general.architecture</c> = <c>llama</c>).</summary>
    Llama = 1,
}

/// <summary>Header flags (docs/slm-format.md, "Header").</summary>
[Flags]
public enum SlmFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>The output projection is <c>token_embd.weight</c>: the file has no <c>output.weight</c>.</summary>
    TiedOutput = 1,
}

/// <summary>RoPE scaling of the header (<c>{arch}.rope.scaling.type</c>).</summary>
public enum SlmRopeScaling : uint
{
    /// <summary>No scaling; the factor is 1.</summary>
    None = 0,

    /// <summary>Linear position scaling: positions are multiplied by 1 / factor.</summary>
    Linear = 1,
}

/// <summary>
/// The fixed hyperparameters of a Llama-family model, as stored in the <c>.slm</c> header at bytes
/// 120–175. Each property names the GGUF key it stands for (<c>{arch}</c> = the architecture name).
/// </summary>
public sealed record SlmHyperparameters
{
    /// <summary>n_vocab: tokens in the vocabulary and rows of <c>token_embd.weight</c>.</summary>
    public required uint VocabularySize { get; init; }

    /// <summary><c>{arch}.context_length</c> (n_ctx_train), in tokens.</summary>
    public required uint ContextLength { get; init; }

    /// <summary><c>{arch}.embedding_length</c> (n_embd).</summary>
    public required uint EmbeddingLength { get; init; }

    /// <summary><c>{arch}.block_count</c> (n_layer).</summary>
    public required uint BlockCount { get; init; }

    /// <summary><c>{arch}.feed_forward_length</c> (n_ff).</summary>
    public required uint FeedForwardLength { get; init; }

    /// <summary><c>{arch}.attention.head_count</c> (n_head).</summary>
    public required uint HeadCount { get; init; }

    /// <summary><c>{arch}.attention.head_count_kv</c> (n_head_kv).</summary>
    public required uint HeadCountKV { get; init; }

    /// <summary><c>{arch}.attention.key_length</c> (n_embd_head_k): channels per key/query head.</summary>
    public required uint KeyLength { get; init; }

    /// <summary><c>{arch}.attention.value_length</c> (n_embd_head_v): channels per value head.</summary>
    public required uint ValueLength { get; init; }

    /// <summary><c>{arch}.rope.dimension_count</c> (n_rot).</summary>
    public required uint RopeDimensionCount { get; init; }

    /// <summary><c>{arch}.attention.layer_norm_rms_epsilon</c> (f_norm_rms_eps).</summary>
    public required float LayerNormRmsEpsilon { get; init; }

    /// <summary><c>{arch}.rope.freq_base</c>.</summary>
    public required float RopeFreqBase { get; init; }

    /// <summary><c>{arch}.rope.scaling.type</c>.</summary>
    public required SlmRopeScaling RopeScaling { get; init; }

    /// <summary><c>{arch}.rope.scaling.factor</c> (1 when <see cref="RopeScaling"/> is none).</summary>
    public required float RopeScalingFactor { get; init; }
}

/// <summary>
/// The 256-byte header of an <c>.slm</c> file (docs/slm-format.md, "Header"): every field, as read.
/// </summary>
public sealed record SlmHeader
{
    /// <summary>The magic: <c>89 53 4C 4D 0D 0A 1A 0A</c> ("\x89SLM\r\n\x1A\n").</summary>
    public static ReadOnlySpan<byte> Magic => [0x89, 0x53, 0x4C, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The format version this reader and writer implement.</summary>
    public const uint CurrentVersion = 1;

    /// <summary>Header size in bytes.</summary>
    public const int Size = 256;

    /// <summary>Directory entry size in bytes.</summary>
    public const int EntrySize = 128;

    /// <summary>Bytes of a tensor name field (names are 1 to 63 UTF-8 bytes, NUL-padded).</summary>
    public const int NameBytes = 64;

    /// <summary>Smallest accepted alignment in bytes.</summary>
    public const int MinAlignment = 8;

    /// <summary>Largest accepted alignment in bytes.</summary>
    public const int MaxAlignment = 1 << 16;

    /// <summary>Most tensors a file may hold.</summary>
    public const int MaxTensors = 1 << 20;

    /// <summary>Alignment of the directory, tokenizer and metadata sections.</summary>
    public const int SectionAlignment = 8;

    // Field offsets (docs/slm-format.md, "Header").
    internal const int VersionAt = 8, HeaderSizeAt = 12, FileSizeAt = 16, ArchitectureAt = 24, FlagsAt = 28,
        AlignmentAt = 32, TensorCountAt = 36, DirectoryOffsetAt = 40, DirectoryChecksumAt = 48,
        TokenizerOffsetAt = 56, TokenizerLengthAt = 64, TokenizerChecksumAt = 72,
        MetadataOffsetAt = 80, MetadataLengthAt = 88, MetadataChecksumAt = 96, DataOffsetAt = 104,
        FileChecksumAt = 112, HyperparametersAt = 120, ReservedAt = 176, HeaderChecksumAt = 248;

    // Hyperparameter offsets.
    internal const int VocabularySizeAt = 120, ContextLengthAt = 124, EmbeddingLengthAt = 128, BlockCountAt = 132,
        FeedForwardLengthAt = 136, HeadCountAt = 140, HeadCountKVAt = 144, KeyLengthAt = 148, ValueLengthAt = 152,
        RopeDimensionCountAt = 156, RmsEpsilonAt = 160, RopeFreqBaseAt = 164, RopeScalingAt = 168, RopeScalingFactorAt = 172;

    /// <summary><c>version</c>: 1.</summary>
    public uint Version { get; init; } = CurrentVersion;

    /// <summary><c>file_size</c>: the file's length in bytes.</summary>
    public required long FileSize { get; init; }

    /// <summary><c>architecture</c>.</summary>
    public required SlmArchitecture Architecture { get; init; }

    /// <summary><c>flags</c>.</summary>
    public required SlmFlags Flags { get; init; }

    /// <summary><c>alignment</c>: of the data region and every tensor offset, a power of two from 8 to 65536.</summary>
    public required int Alignment { get; init; }

    /// <summary><c>tensor_count</c>: directory entries.</summary>
    public required int TensorCount { get; init; }

    /// <summary><c>directory_offset</c>.</summary>
    public required long DirectoryOffset { get; init; }

    /// <summary><c>directory_checksum</c>: XXH64 of the directory's <c>tensor_count</c> × 128 bytes.</summary>
    public required ulong DirectoryChecksum { get; init; }

    /// <summary><c>tokenizer_offset</c>.</summary>
    public required long TokenizerOffset { get; init; }

    /// <summary><c>tokenizer_length</c>.</summary>
    public required long TokenizerLength { get; init; }

    /// <summary><c>tokenizer_checksum</c>: XXH64 of the tokenizer section.</summary>
    public required ulong TokenizerChecksum { get; init; }

    /// <summary><c>metadata_offset</c>.</summary>
    public required long MetadataOffset { get; init; }

    /// <summary><c>metadata_length</c>.</summary>
    public required long MetadataLength { get; init; }

    /// <summary><c>metadata_checksum</c>: XXH64 of the metadata section.</summary>
    public required ulong MetadataChecksum { get; init; }

    /// <summary><c>data_offset</c>: start of the data region (tensor payloads).</summary>
    public required long DataOffset { get; init; }

    /// <summary><c>file_checksum</c>: XXH64 of the whole file with the two checksum fields of the header read as zero.</summary>
    public required ulong FileChecksum { get; init; }

    /// <summary>The hyperparameters (bytes 120–175).</summary>
    public required SlmHyperparameters Hyperparameters { get; init; }

    /// <summary><c>header_checksum</c>: XXH64 of header bytes 0–247.</summary>
    public ulong HeaderChecksum { get; init; }

    /// <summary>True when <see cref="SlmFlags.TiedOutput"/> is set.</summary>
    public bool HasTiedOutput => (Flags & SlmFlags.TiedOutput) != 0;

    /// <summary>Encodes the header; <c>header_checksum</c> is computed, <see cref="HeaderChecksum"/> ignored.</summary>
    internal void Write(Span<byte> h)
    {
        h[..Size].Clear();
        Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h[VersionAt..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HeaderSizeAt..], Size);
        BinaryPrimitives.WriteInt64LittleEndian(h[FileSizeAt..], FileSize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[ArchitectureAt..], (uint)Architecture);
        BinaryPrimitives.WriteUInt32LittleEndian(h[FlagsAt..], (uint)Flags);
        BinaryPrimitives.WriteInt32LittleEndian(h[AlignmentAt..], Alignment);
        BinaryPrimitives.WriteInt32LittleEndian(h[TensorCountAt..], TensorCount);
        BinaryPrimitives.WriteInt64LittleEndian(h[DirectoryOffsetAt..], DirectoryOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[DirectoryChecksumAt..], DirectoryChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(h[TokenizerOffsetAt..], TokenizerOffset);
        BinaryPrimitives.WriteInt64LittleEndian(h[TokenizerLengthAt..], TokenizerLength);
        BinaryPrimitives.WriteUInt64LittleEndian(h[TokenizerChecksumAt..], TokenizerChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(h[MetadataOffsetAt..], MetadataOffset);
        BinaryPrimitives.WriteInt64LittleEndian(h[MetadataLengthAt..], MetadataLength);
        BinaryPrimitives.WriteUInt64LittleEndian(h[MetadataChecksumAt..], MetadataChecksum);
        BinaryPrimitives.WriteInt64LittleEndian(h[DataOffsetAt..], DataOffset);
        BinaryPrimitives.WriteUInt64LittleEndian(h[FileChecksumAt..], FileChecksum);
        SlmHyperparameters p = Hyperparameters;
        BinaryPrimitives.WriteUInt32LittleEndian(h[VocabularySizeAt..], p.VocabularySize);
        BinaryPrimitives.WriteUInt32LittleEndian(h[ContextLengthAt..], p.ContextLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[EmbeddingLengthAt..], p.EmbeddingLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[BlockCountAt..], p.BlockCount);
        BinaryPrimitives.WriteUInt32LittleEndian(h[FeedForwardLengthAt..], p.FeedForwardLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HeadCountAt..], p.HeadCount);
        BinaryPrimitives.WriteUInt32LittleEndian(h[HeadCountKVAt..], p.HeadCountKV);
        BinaryPrimitives.WriteUInt32LittleEndian(h[KeyLengthAt..], p.KeyLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[ValueLengthAt..], p.ValueLength);
        BinaryPrimitives.WriteUInt32LittleEndian(h[RopeDimensionCountAt..], p.RopeDimensionCount);
        BinaryPrimitives.WriteSingleLittleEndian(h[RmsEpsilonAt..], p.LayerNormRmsEpsilon);
        BinaryPrimitives.WriteSingleLittleEndian(h[RopeFreqBaseAt..], p.RopeFreqBase);
        BinaryPrimitives.WriteUInt32LittleEndian(h[RopeScalingAt..], (uint)p.RopeScaling);
        BinaryPrimitives.WriteSingleLittleEndian(h[RopeScalingFactorAt..], p.RopeScalingFactor);
        BinaryPrimitives.WriteUInt64LittleEndian(h[HeaderChecksumAt..], Xxh64.Hash(h[..HeaderChecksumAt]));
    }

    /// <summary>Decodes the fields of a header (no checks; <see cref="SlmFile.Parse"/> checks them).</summary>
    internal static SlmHeader Read(ReadOnlySpan<byte> h) => new()
    {
        Version = BinaryPrimitives.ReadUInt32LittleEndian(h[VersionAt..]),
        FileSize = BinaryPrimitives.ReadInt64LittleEndian(h[FileSizeAt..]),
        Architecture = (SlmArchitecture)BinaryPrimitives.ReadUInt32LittleEndian(h[ArchitectureAt..]),
        Flags = (SlmFlags)BinaryPrimitives.ReadUInt32LittleEndian(h[FlagsAt..]),
        Alignment = BinaryPrimitives.ReadInt32LittleEndian(h[AlignmentAt..]),
        TensorCount = BinaryPrimitives.ReadInt32LittleEndian(h[TensorCountAt..]),
        DirectoryOffset = BinaryPrimitives.ReadInt64LittleEndian(h[DirectoryOffsetAt..]),
        DirectoryChecksum = BinaryPrimitives.ReadUInt64LittleEndian(h[DirectoryChecksumAt..]),
        TokenizerOffset = BinaryPrimitives.ReadInt64LittleEndian(h[TokenizerOffsetAt..]),
        TokenizerLength = BinaryPrimitives.ReadInt64LittleEndian(h[TokenizerLengthAt..]),
        TokenizerChecksum = BinaryPrimitives.ReadUInt64LittleEndian(h[TokenizerChecksumAt..]),
        MetadataOffset = BinaryPrimitives.ReadInt64LittleEndian(h[MetadataOffsetAt..]),
        MetadataLength = BinaryPrimitives.ReadInt64LittleEndian(h[MetadataLengthAt..]),
        MetadataChecksum = BinaryPrimitives.ReadUInt64LittleEndian(h[MetadataChecksumAt..]),
        DataOffset = BinaryPrimitives.ReadInt64LittleEndian(h[DataOffsetAt..]),
        FileChecksum = BinaryPrimitives.ReadUInt64LittleEndian(h[FileChecksumAt..]),
        Hyperparameters = new SlmHyperparameters
        {
            VocabularySize = BinaryPrimitives.ReadUInt32LittleEndian(h[VocabularySizeAt..]),
            ContextLength = BinaryPrimitives.ReadUInt32LittleEndian(h[ContextLengthAt..]),
            EmbeddingLength = BinaryPrimitives.ReadUInt32LittleEndian(h[EmbeddingLengthAt..]),
            BlockCount = BinaryPrimitives.ReadUInt32LittleEndian(h[BlockCountAt..]),
            FeedForwardLength = BinaryPrimitives.ReadUInt32LittleEndian(h[FeedForwardLengthAt..]),
            HeadCount = BinaryPrimitives.ReadUInt32LittleEndian(h[HeadCountAt..]),
            HeadCountKV = BinaryPrimitives.ReadUInt32LittleEndian(h[HeadCountKVAt..]),
            KeyLength = BinaryPrimitives.ReadUInt32LittleEndian(h[KeyLengthAt..]),
            ValueLength = BinaryPrimitives.ReadUInt32LittleEndian(h[ValueLengthAt..]),
            RopeDimensionCount = BinaryPrimitives.ReadUInt32LittleEndian(h[RopeDimensionCountAt..]),
            LayerNormRmsEpsilon = BinaryPrimitives.ReadSingleLittleEndian(h[RmsEpsilonAt..]),
            RopeFreqBase = BinaryPrimitives.ReadSingleLittleEndian(h[RopeFreqBaseAt..]),
            RopeScaling = (SlmRopeScaling)BinaryPrimitives.ReadUInt32LittleEndian(h[RopeScalingAt..]),
            RopeScalingFactor = BinaryPrimitives.ReadSingleLittleEndian(h[RopeScalingFactorAt..]),
        },
        HeaderChecksum = BinaryPrimitives.ReadUInt64LittleEndian(h[HeaderChecksumAt..]),
    };
}
