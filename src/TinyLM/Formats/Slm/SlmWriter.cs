using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Formats.Slm;

/// <summary>
/// Writes an <c>.slm</c> v1 file (docs/slm-format.md) in the canonical layout: header, directory,
/// tokenizer section, metadata section (each at a multiple of 8 bytes), then the tensor payloads in
/// directory order, each at a multiple of <see cref="Alignment"/> and zero-padded to it.
/// </summary>
/// <remarks>
/// <para>
/// Streaming: tensor data is kept by reference (<see cref="ReadOnlyMemory{T}"/>, e.g. over a
/// memory-mapped source file) and copied to the output once; only the header, directory and the two
/// small sections are built in memory. The payload checksums need one read of each tensor before
/// writing; the whole-file checksum is computed while writing and the header is written last (one
/// seek back) on seekable streams, or in a dry pass first on other streams.
/// </para>
/// <para>
/// The writer checks what it can know alone (names, types, shapes, sizes, reserved keys); the
/// architecture's tensor manifest is checked when the file is read back (admission). The
/// tied-output flag is set when no tensor is named <c>output.weight</c>. Not thread-safe.
/// </para>
/// </remarks>
public sealed class SlmWriter
{
    /// <summary>The default alignment of tensor payloads in bytes.</summary>
    public const int DefaultAlignment = 64;

    private readonly List<Pending> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Creates a writer.</summary>
    /// <param name="architecture">The architecture id.</param>
    /// <param name="hyperparameters">The header's hyperparameters.</param>
    /// <param name="tokenizer">The tokenizer section.</param>
    /// <param name="alignment">Payload alignment: a power of two from 8 to 65536.</param>
    /// <exception cref="ArgumentException">An argument is invalid.</exception>
    public SlmWriter(SlmArchitecture architecture, SlmHyperparameters hyperparameters, SlmTokenizer tokenizer, int alignment = DefaultAlignment)
    {
        ArgumentNullException.ThrowIfNull(hyperparameters);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (architecture != SlmArchitecture.Llama)
            throw new ArgumentException($"Architecture {architecture} is not defined in .slm v1.", nameof(architecture));
        if (alignment < SlmHeader.MinAlignment || alignment > SlmHeader.MaxAlignment || !BitOperations.IsPow2(alignment))
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, $"The alignment must be a power of two from {SlmHeader.MinAlignment} to {SlmHeader.MaxAlignment}.");
        Architecture = architecture;
        Hyperparameters = hyperparameters;
        Tokenizer = tokenizer;
        Alignment = alignment;
    }

    /// <summary>The architecture id.</summary>
    public SlmArchitecture Architecture { get; }

    /// <summary>The header's hyperparameters.</summary>
    public SlmHyperparameters Hyperparameters { get; }

    /// <summary>The tokenizer section.</summary>
    public SlmTokenizer Tokenizer { get; }

    /// <summary>Payload alignment in bytes.</summary>
    public int Alignment { get; }

    /// <summary>Keys for the metadata section (no key the header or tokenizer stands for; see <see cref="SlmFile.IsReservedKey"/>).</summary>
    public GgufMetadata Metadata { get; } = new("<slm writer>");

    /// <summary>Adds a tensor; <paramref name="data"/> is kept by reference until written.</summary>
    /// <param name="name">Unique name of 1 to 63 UTF-8 bytes without NUL.</param>
    /// <param name="type">A registered type.</param>
    /// <param name="shape">1 to 4 dimensions, innermost first, each at least 1; <c>shape[0]</c> a multiple of the block size.</param>
    /// <param name="data">Exactly the tensor's bytes.</param>
    /// <exception cref="ArgumentException">A check above fails.</exception>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(name);
        byte[] nameBytes;
        try
        {
            nameBytes = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(name);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"Tensor name '{name}' is not valid UTF-16.", nameof(name), e);
        }
        if (nameBytes.Length is 0 or >= SlmHeader.NameBytes || nameBytes.Contains((byte)0))
            throw new ArgumentException($"Tensor name '{name}' must be 1 to {SlmHeader.NameBytes - 1} UTF-8 bytes without NUL.", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        if (!TensorTypes.TryGet(type, out TensorType? t))
            throw new ArgumentException($"Tensor type {type} is not registered.", nameof(type));
        if (shape.Length is < 1 or > 4)
            throw new ArgumentException($"Tensor '{name}' needs 1 to 4 dimensions, found {shape.Length}.", nameof(shape));
        long elements = 1;
        foreach (long d in shape)
        {
            if (d < 1 || elements > long.MaxValue / d)
                throw new ArgumentException($"Tensor '{name}' dimensions must be at least 1 with a product that fits in an int64.", nameof(shape));
            elements *= d;
        }
        if (shape[0] % t.BlockSize != 0)
            throw new ArgumentException($"Tensor '{name}' row length {shape[0]} is not a multiple of the {t.Name} block size {t.BlockSize}.", nameof(shape));
        long bytes = checked(elements / t.BlockSize * t.BlockBytes);
        if (data.Length != bytes)
            throw new ArgumentException($"Tensor '{name}' ({t.Name} [{string.Join(", ", shape.ToArray())}]) needs {bytes} bytes, got {data.Length}.", nameof(data));
        _names.Add(name);
        _tensors.Add(new Pending(name, nameBytes, type, shape.ToArray(), data));
    }

    /// <summary>The size of the file <see cref="WriteTo(Stream)"/> would write, in bytes (no payload is read).</summary>
    /// <exception cref="InvalidOperationException">No tensor was added.</exception>
    /// <exception cref="ArgumentException">The tokenizer or metadata cannot be stored.</exception>
    public long ComputeFileSize() => Plan(checksums: false).Header.FileSize;

    /// <summary>Writes the file to a stream from its current position.</summary>
    /// <exception cref="InvalidOperationException">No tensor was added.</exception>
    /// <exception cref="ArgumentException">The stream is not writable, or the tokenizer or metadata cannot be stored.</exception>
    /// <exception cref="IOException">The stream fails.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        Layout layout = Plan(checksums: true);
        Span<byte> header = stackalloc byte[SlmHeader.Size];
        if (stream.CanSeek)
        {
            long start = stream.Position;
            ulong fileChecksum = WriteCore(stream, layout);
            (layout.Header with { FileChecksum = fileChecksum }).Write(header);
            long end = stream.Position;
            stream.Position = start;
            stream.Write(header);
            stream.Position = end;
        }
        else
        {
            ulong fileChecksum = WriteCore(null, layout);
            (layout.Header with { FileChecksum = fileChecksum }).Write(header);
            stream.Write(header);
            WriteCore(stream, layout, skipHeader: true);
        }
        stream.Flush();
    }

    /// <summary>Writes the file to a path (created or overwritten); nothing is created when the plan fails.</summary>
    /// <exception cref="InvalidOperationException">No tensor was added.</exception>
    /// <exception cref="ArgumentException">The tokenizer or metadata cannot be stored.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Plan(checksums: false);
        using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
        WriteTo(file);
    }

    /// <summary>The file as a byte array.</summary>
    /// <exception cref="InvalidOperationException">No tensor was added, or the file would not fit in an array.</exception>
    /// <exception cref="ArgumentException">The tokenizer or metadata cannot be stored.</exception>
    public byte[] ToArray()
    {
        long size = ComputeFileSize();
        if (size > Array.MaxLength)
            throw new InvalidOperationException($"The .slm file would be {size} bytes, more than an array holds; write it to a stream.");
        var bytes = new byte[size];
        using var stream = new MemoryStream(bytes, writable: true);
        WriteTo(stream);
        return bytes;
    }

    private sealed record Pending(string Name, byte[] NameBytes, GgmlType Type, long[] Shape, ReadOnlyMemory<byte> Data);

    private sealed record Layout(SlmHeader Header, byte[] Directory, byte[] Tokenizer, byte[] Metadata, long[] Offsets);

    private Layout Plan(bool checksums)
    {
        if (_tensors.Count == 0)
            throw new InvalidOperationException("An .slm file needs at least one tensor.");
        if (_tensors.Count > SlmHeader.MaxTensors)
            throw new InvalidOperationException($"An .slm file holds at most {SlmHeader.MaxTensors} tensors.");
        byte[] tokenizer = Tokenizer.Encode();
        byte[] metadata = SlmMetadataSection.Encode(Metadata, SlmLlama.Name);
        long directoryOffset = SlmHeader.Size;
        long tokenizerOffset = AlignUp(directoryOffset + (long)_tensors.Count * SlmHeader.EntrySize, SlmHeader.SectionAlignment);
        long metadataOffset = AlignUp(tokenizerOffset + tokenizer.Length, SlmHeader.SectionAlignment);
        long dataOffset = AlignUp(metadataOffset + metadata.Length, Alignment);
        var offsets = new long[_tensors.Count];
        long cursor = dataOffset;
        for (int i = 0; i < offsets.Length; i++)
        {
            offsets[i] = cursor;
            cursor = AlignUp(checked(cursor + _tensors[i].Data.Length), Alignment);
        }

        var directory = new byte[_tensors.Count * SlmHeader.EntrySize];
        for (int i = 0; i < _tensors.Count; i++)
        {
            Pending t = _tensors[i];
            Span<byte> e = directory.AsSpan(i * SlmHeader.EntrySize, SlmHeader.EntrySize);
            t.NameBytes.CopyTo(e);
            BinaryPrimitives.WriteUInt32LittleEndian(e[64..], (uint)t.Type);
            BinaryPrimitives.WriteUInt32LittleEndian(e[68..], (uint)t.Shape.Length);
            for (int d = 0; d < 4; d++)
                BinaryPrimitives.WriteUInt64LittleEndian(e[(72 + 8 * d)..], d < t.Shape.Length ? (ulong)t.Shape[d] : 1UL);
            BinaryPrimitives.WriteUInt64LittleEndian(e[104..], (ulong)offsets[i]);
            BinaryPrimitives.WriteUInt64LittleEndian(e[112..], (ulong)t.Data.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(e[120..], checksums ? Xxh64.Hash(t.Data.Span) : 0);
        }

        var header = new SlmHeader
        {
            FileSize = cursor,
            Architecture = Architecture,
            Flags = _names.Contains("output.weight") ? SlmFlags.None : SlmFlags.TiedOutput,
            Alignment = Alignment,
            TensorCount = _tensors.Count,
            DirectoryOffset = directoryOffset,
            DirectoryChecksum = Xxh64.Hash(directory),
            TokenizerOffset = tokenizerOffset,
            TokenizerLength = tokenizer.Length,
            TokenizerChecksum = Xxh64.Hash(tokenizer),
            MetadataOffset = metadataOffset,
            MetadataLength = metadata.Length,
            MetadataChecksum = Xxh64.Hash(metadata),
            DataOffset = dataOffset,
            FileChecksum = 0,
            Hyperparameters = Hyperparameters,
        };
        return new Layout(header, directory, tokenizer, metadata, offsets);
    }

    /// <summary>
    /// Writes (or, with a null stream, only hashes) the file with both header checksum fields zero and
    /// returns the whole-file checksum.
    /// </summary>
    private ulong WriteCore(Stream? stream, Layout layout, bool skipHeader = false)
    {
        var hash = new Xxh64(0);
        long position = 0;
        void Put(ReadOnlySpan<byte> bytes)
        {
            hash.Append(bytes);
            stream?.Write(bytes);
            position += bytes.Length;
        }
        void PadTo(long target)
        {
            ReadOnlySpan<byte> zeros = stackalloc byte[512];
            while (position < target)
                Put(zeros[..(int)Math.Min(zeros.Length, target - position)]);
        }

        Span<byte> header = stackalloc byte[SlmHeader.Size];
        layout.Header.Write(header);
        header.Slice(SlmHeader.HeaderChecksumAt, 8).Clear();
        if (skipHeader)
            position = SlmHeader.Size;
        else
            Put(header);
        Put(layout.Directory);
        PadTo(layout.Header.TokenizerOffset);
        Put(layout.Tokenizer);
        PadTo(layout.Header.MetadataOffset);
        Put(layout.Metadata);
        for (int i = 0; i < _tensors.Count; i++)
        {
            PadTo(layout.Offsets[i]);
            Put(_tensors[i].Data.Span);
        }
        PadTo(layout.Header.FileSize);
        return hash.GetCurrentHash();
    }

    private static long AlignUp(long value, int alignment) => checked(value + alignment - 1) / alignment * alignment;
}
