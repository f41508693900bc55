using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using TinyLM.Formats.Gguf;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Formats.Slm;

/// <summary>
/// An <c>.slm</c> file that passed the parse stage of admission (docs/slm-format.md): its header,
/// tensor directory, tokenizer section and metadata section, decoded from bytes read in place. It
/// cannot generate: only <see cref="Admit"/>, after <see cref="Validate"/>, yields the
/// <see cref="SlmModelFile"/> that <see cref="Model.Load(SlmModelFile, bool)"/> accepts.
/// </summary>
/// <remarks>
/// Stages, each a method: <see cref="Parse(ModelBuffer, bool)"/> (and <see cref="Open"/>,
/// <see cref="Load(byte[], string)"/>), <see cref="CheckBudget"/>, <see cref="Validate"/>, then
/// <see cref="Admit"/>. Every refusal is a <see cref="ModelAdmissionException"/> whose
/// <see cref="ModelAdmissionException.Error"/> names one documented error state; no other exception
/// escapes for any input bytes. Checks precede allocation: counts are compared with the bytes that
/// hold them, offsets and sizes with overflow-safe arithmetic.
/// </remarks>
public sealed unsafe class SlmFile : IDisposable
{
    private readonly ModelBuffer _buffer;
    private readonly bool _ownsBuffer;
    private readonly Dictionary<string, SlmTensorEntry> _byName;
    private ValidatedView? _validated;

    private SlmFile(ModelBuffer buffer, bool ownsBuffer, SlmHeader header, List<SlmTensorEntry> tensors, SlmTokenizer tokenizer, GgufMetadata metadata)
    {
        _buffer = buffer;
        _ownsBuffer = ownsBuffer;
        Header = header;
        Tensors = tensors;
        Tokenizer = tokenizer;
        MetadataSection = metadata;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        ParameterCount = tensors.Sum(t => t.ElementCount);
    }

    /// <summary>File path or buffer name.</summary>
    public string Source => _buffer.Name;

    /// <summary>The bytes of the file.</summary>
    public ModelBuffer Buffer => _buffer;

    /// <summary>The header.</summary>
    public SlmHeader Header { get; }

    /// <summary>The tensor directory, in file order.</summary>
    public IReadOnlyList<SlmTensorEntry> Tensors { get; }

    /// <summary>The tokenizer section.</summary>
    public SlmTokenizer Tokenizer { get; }

    /// <summary>The metadata section: GGUF keys that neither the header nor the tokenizer section stand for.</summary>
    public GgufMetadata MetadataSection { get; }

    /// <summary>Total elements of all tensors.</summary>
    public long ParameterCount { get; }

    /// <summary>The architecture's <c>general.architecture</c> name.</summary>
    public string ArchitectureName => SlmLlama.Name;

    /// <summary>True once <see cref="Validate"/> has passed.</summary>
    public bool IsValidated => _validated is not null;

    /// <summary>True when <paramref name="buffer"/> starts with the <c>.slm</c> magic.</summary>
    public static bool HasMagic(ModelBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return buffer.Length >= 8 && buffer.GetSpan(0, 8).SequenceEqual(SlmHeader.Magic);
    }

    /// <summary>True when <paramref name="bytes"/> start with the <c>.slm</c> magic.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> bytes) => bytes.Length >= 8 && bytes[..8].SequenceEqual(SlmHeader.Magic);

    /// <summary>
    /// True when <paramref name="key"/> is a GGUF key that the header or tokenizer section stands for
    /// (so the metadata section must not hold it): <c>general.architecture</c>, <c>general.alignment</c>,
    /// the <c>{arch}.*</c> hyperparameter keys, and the <c>tokenizer.*</c> keys of <see cref="SlmTokenizer.Keys"/>.
    /// </summary>
    public static bool IsReservedKey(string key, string architectureName)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key is "general.architecture" or "general.alignment" || SlmTokenizer.Keys.Contains(key))
            return true;
        return key.StartsWith(architectureName + ".", StringComparison.Ordinal)
            && SlmLlama.KeySuffixes.Contains(key[(architectureName.Length + 1)..]);
    }

    /// <summary>Maps (natively) or reads (browser) a file and parses it.</summary>
    /// <exception cref="ModelAdmissionException">The parse stage refused the file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SlmFile Open(string path)
    {
        ModelBuffer buffer = OperatingSystem.IsBrowser() || OperatingSystem.IsWasi() ? ModelBuffer.ReadFile(path) : ModelBuffer.MapFile(path);
        try
        {
            return Parse(buffer, ownsBuffer: true);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Parses bytes in memory (pinned until the file is disposed).</summary>
    /// <exception cref="ModelAdmissionException">The parse stage refused the bytes.</exception>
    public static SlmFile Load(byte[] data, string name = "<memory>")
    {
        ModelBuffer buffer = ModelBuffer.FromArray(data, name);
        try
        {
            return Parse(buffer, ownsBuffer: true);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The parse stage: checks the header (magic, version, size, header checksum, fields, section
    /// ranges), verifies the directory, tokenizer and metadata checksums, and decodes them.
    /// </summary>
    /// <param name="buffer">The file bytes.</param>
    /// <param name="ownsBuffer">Dispose <paramref name="buffer"/> with the file (on success; on failure the caller keeps it).</param>
    /// <exception cref="ModelAdmissionException">The file was refused (stage <see cref="AdmissionStage.Parse"/>).</exception>
    public static SlmFile Parse(ModelBuffer buffer, bool ownsBuffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        string source = buffer.Name;
        long length = buffer.Length;
        ReadOnlySpan<byte> All(long offset, long count) => new(buffer.Pointer + offset, checked((int)count));

        if (length < 8)
            Fail(AdmissionError.Truncated, 0, $"expected at least the 8-byte magic, found a file of {length} bytes");
        if (!HasMagic(buffer))
            Fail(AdmissionError.BadMagic, 0, $"expected the .slm magic 89 53 4C 4D 0D 0A 1A 0A, found {Convert.ToHexString(All(0, 8))}");
        if (length < 12)
            Fail(AdmissionError.Truncated, length, $"expected the version at byte 8, found a file of {length} bytes");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(All(8, 4));
        if (version != SlmHeader.CurrentVersion)
            Fail(AdmissionError.UnsupportedVersion, 8, $"expected version {SlmHeader.CurrentVersion}, found {version}");
        if (length < SlmHeader.Size)
            Fail(AdmissionError.Truncated, length, $"expected the {SlmHeader.Size}-byte header, found a file of {length} bytes");
        ReadOnlySpan<byte> h = All(0, SlmHeader.Size);
        ulong headerHash = Xxh64.Hash(h[..SlmHeader.HeaderChecksumAt]);
        SlmHeader header = SlmHeader.Read(h);
        if (header.HeaderChecksum != headerHash)
            Fail(AdmissionError.HeaderChecksumMismatch, SlmHeader.HeaderChecksumAt, $"expected header_checksum {headerHash:X16} (XXH64 of bytes 0-247), found {header.HeaderChecksum:X16}");
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(h[SlmHeader.HeaderSizeAt..]);
        if (headerSize != SlmHeader.Size)
            Fail(AdmissionError.InvalidHeader, SlmHeader.HeaderSizeAt, $"expected header_size {SlmHeader.Size}, found {headerSize}");
        if (header.FileSize < SlmHeader.Size)
            Fail(AdmissionError.InvalidHeader, SlmHeader.FileSizeAt, $"expected file_size of at least {SlmHeader.Size}, found {header.FileSize}");
        if (length < header.FileSize)
            Fail(AdmissionError.Truncated, length, $"expected {header.FileSize} bytes (file_size), found {length}");
        if (length > header.FileSize)
            Fail(AdmissionError.TrailingData, header.FileSize, $"expected {header.FileSize} bytes (file_size), found {length}");
        if (header.Architecture != SlmArchitecture.Llama)
            Fail(AdmissionError.UnknownArchitecture, SlmHeader.ArchitectureAt, $"expected architecture 1 (llama), found {(uint)header.Architecture}");
        if ((header.Flags & ~SlmFlags.TiedOutput) != 0)
            Fail(AdmissionError.InvalidHeader, SlmHeader.FlagsAt, $"expected flags with only bit 0 (tied output) defined, found 0x{(uint)header.Flags:X8}");
        int a = header.Alignment;
        if (a < SlmHeader.MinAlignment || a > SlmHeader.MaxAlignment || !BitOperations.IsPow2(a))
            Fail(AdmissionError.InvalidHeader, SlmHeader.AlignmentAt, $"expected an alignment that is a power of two from {SlmHeader.MinAlignment} to {SlmHeader.MaxAlignment}, found {(uint)a}");
        if (header.TensorCount < 1 || header.TensorCount > SlmHeader.MaxTensors)
            Fail(AdmissionError.InvalidHeader, SlmHeader.TensorCountAt, $"expected a tensor count of 1 to {SlmHeader.MaxTensors}, found {(uint)header.TensorCount}");
        int reserved = h[SlmHeader.ReservedAt..SlmHeader.HeaderChecksumAt].IndexOfAnyExcept((byte)0);
        if (reserved >= 0)
            Fail(AdmissionError.InvalidHeader, SlmHeader.ReservedAt + reserved, "expected reserved header bytes 176-247 to be zero, found a non-zero byte");

        // --- sections: header < directory < tokenizer < metadata < data <= file_size
        long fileSize = header.FileSize;
        long directoryLength = (long)header.TensorCount * SlmHeader.EntrySize;
        long directoryEnd = Section("directory", SlmHeader.DirectoryOffsetAt, SlmHeader.TensorCountAt, header.DirectoryOffset, directoryLength, SlmHeader.Size, SlmHeader.SectionAlignment);
        long tokenizerEnd = Section("tokenizer", SlmHeader.TokenizerOffsetAt, SlmHeader.TokenizerLengthAt, header.TokenizerOffset, header.TokenizerLength, directoryEnd, SlmHeader.SectionAlignment);
        long metadataEnd = Section("metadata", SlmHeader.MetadataOffsetAt, SlmHeader.MetadataLengthAt, header.MetadataOffset, header.MetadataLength, tokenizerEnd, SlmHeader.SectionAlignment);
        Section("data", SlmHeader.DataOffsetAt, SlmHeader.DataOffsetAt, header.DataOffset, 0, metadataEnd, a);
        if (header.TokenizerLength < SlmTokenizer.FixedBytes)
            Fail(AdmissionError.SectionOutOfRange, SlmHeader.TokenizerLengthAt, $"expected a tokenizer section of at least {SlmTokenizer.FixedBytes} bytes, found {header.TokenizerLength}");
        if (header.MetadataLength < 4)
            Fail(AdmissionError.SectionOutOfRange, SlmHeader.MetadataLengthAt, $"expected a metadata section of at least 4 bytes (its key count), found {header.MetadataLength}");

        long Section(string name, int fieldAt, int lengthAt, long offset, long size, long notBefore, int alignment)
        {
            if (size < 0 || size > fileSize)
                Fail(AdmissionError.SectionOutOfRange, lengthAt, $"expected a {name} length within the file ({fileSize} bytes), found {(ulong)size}");
            if (offset < notBefore || offset > fileSize - size)
                Fail(AdmissionError.SectionOutOfRange, fieldAt, $"expected the {name} section within [{notBefore}, {fileSize}] ({size} bytes, after the previous section), found offset {(ulong)offset}");
            if (offset % alignment != 0)
                Fail(AdmissionError.SectionOutOfRange, fieldAt, $"expected the {name} offset to be a multiple of {alignment}, found {offset}");
            return offset + size;
        }

        // --- checksums of the decoded regions, then decoding
        ReadOnlySpan<byte> directory = All(header.DirectoryOffset, directoryLength);
        ReadOnlySpan<byte> tokenizerBytes = All(header.TokenizerOffset, header.TokenizerLength);
        ReadOnlySpan<byte> metadataBytes = All(header.MetadataOffset, header.MetadataLength);
        CheckHash(AdmissionError.DirectoryChecksumMismatch, SlmHeader.DirectoryChecksumAt, "directory_checksum", directory, header.DirectoryChecksum);
        CheckHash(AdmissionError.TokenizerChecksumMismatch, SlmHeader.TokenizerChecksumAt, "tokenizer_checksum", tokenizerBytes, header.TokenizerChecksum);
        CheckHash(AdmissionError.MetadataChecksumMismatch, SlmHeader.MetadataChecksumAt, "metadata_checksum", metadataBytes, header.MetadataChecksum);

        void CheckHash(AdmissionError error, int fieldAt, string field, ReadOnlySpan<byte> bytes, ulong stored)
        {
            ulong actual = Xxh64.Hash(bytes);
            if (actual != stored)
                Fail(error, fieldAt, $"expected {field} {actual:X16} (XXH64 of the section), found {stored:X16}");
        }

        SlmTokenizer tokenizer = SlmTokenizer.Decode(tokenizerBytes, header.TokenizerOffset, source);
        GgufMetadata metadata = SlmMetadataSection.Decode(metadataBytes, header.MetadataOffset, source, SlmLlama.Name);
        var tensors = new List<SlmTensorEntry>(header.TensorCount);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < header.TensorCount; i++)
        {
            long at = header.DirectoryOffset + (long)i * SlmHeader.EntrySize;
            SlmTensorEntry entry = ReadEntry(i, at, directory.Slice(i * SlmHeader.EntrySize, SlmHeader.EntrySize));
            if (!names.Add(entry.Name))
                Fail(AdmissionError.DuplicateTensorName, at, $"expected unique tensor names, found '{entry.Name}' again (entry {i})");
            tensors.Add(entry);
        }
        return new SlmFile(buffer, ownsBuffer, header, tensors, tokenizer, metadata);

        SlmTensorEntry ReadEntry(int index, long at, ReadOnlySpan<byte> e)
        {
            ReadOnlySpan<byte> nameField = e[..SlmHeader.NameBytes];
            int nul = nameField.IndexOf((byte)0);
            if (nul < 1)
                Fail(AdmissionError.InvalidTensorEntry, at, $"entry {index}: expected a name of 1 to {SlmHeader.NameBytes - 1} bytes ended by NUL, found {(nul == 0 ? "an empty name" : "no NUL")}");
            if (nameField[nul..].IndexOfAnyExcept((byte)0) >= 0)
                Fail(AdmissionError.InvalidTensorEntry, at + nul, $"entry {index}: expected NUL padding after the name, found a non-zero byte");
            if (!Utf8.IsValid(nameField[..nul]))
                Fail(AdmissionError.InvalidTensorEntry, at, $"entry {index}: expected a name in valid UTF-8, found invalid bytes");
            string name = Encoding.UTF8.GetString(nameField[..nul]);
            uint rawType = BinaryPrimitives.ReadUInt32LittleEndian(e[64..]);
            if (!TensorTypes.TryGet((GgmlType)rawType, out TensorType? type))
                Fail(AdmissionError.UnsupportedTensorType, at + 64, $"tensor '{name}': expected a registered type ({string.Join(", ", TensorTypes.All.Select(t => $"{t.Name}={(uint)t.Type}"))}), found {rawType}");
            uint dims = BinaryPrimitives.ReadUInt32LittleEndian(e[68..]);
            if (dims is < 1 or > 4)
                Fail(AdmissionError.InvalidTensorEntry, at + 68, $"tensor '{name}': expected 1 to 4 dimensions, found {dims}");
            var shape = new long[dims];
            long product = 1;
            for (int d = 0; d < 4; d++)
            {
                ulong ne = BinaryPrimitives.ReadUInt64LittleEndian(e[(72 + 8 * d)..]);
                if (d >= dims)
                {
                    if (ne != 1)
                        Fail(AdmissionError.InvalidTensorEntry, at + 72 + 8 * d, $"tensor '{name}': expected unused dimension {d} to be 1, found {ne}");
                    continue;
                }
                if (ne < 1 || ne > (ulong)(long.MaxValue / product))
                    Fail(AdmissionError.InvalidTensorEntry, at + 72 + 8 * d, $"tensor '{name}': expected dimension {d} of at least 1 with a product of dimensions that fits in an int64, found {ne}");
                shape[d] = (long)ne;
                product *= (long)ne;
            }
            return new SlmTensorEntry(index, at, name, type!.Type, shape,
                BinaryPrimitives.ReadUInt64LittleEndian(e[104..]), BinaryPrimitives.ReadUInt64LittleEndian(e[112..]), BinaryPrimitives.ReadUInt64LittleEndian(e[120..]));
        }

        [DoesNotReturn]
        void Fail(AdmissionError error, long offset, string reason) =>
            throw new ModelAdmissionException(AdmissionStage.Parse, error, source, offset, reason);
    }

    /// <summary>The budget stage: refuses the file when it is larger than <paramref name="budgetBytes"/>.</summary>
    /// <param name="budgetBytes">Largest accepted file size in bytes, at least 1 (browser default: <see cref="ModelBudget.BrowserDefaultBytes"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budgetBytes"/> is below 1.</exception>
    /// <exception cref="ModelAdmissionException">The file is over the budget (<see cref="AdmissionError.BudgetExceeded"/>); the message names both sizes and a type that would fit.</exception>
    public void CheckBudget(long budgetBytes) =>
        ModelBudget.Check(Source, Header.FileSize, Tensors.Select(t => t.ToTensorInfo()).ToArray(), budgetBytes);

    /// <summary>
    /// The validate stage: hyperparameters, tokenizer against the hyperparameters, each tensor's byte
    /// size, alignment and bounds, overlaps, the architecture's tensor manifest (names and shapes),
    /// payload checksums, finite payload values, and the whole-file checksum, in that order.
    /// Idempotent: a file that passed is not checked again.
    /// </summary>
    /// <exception cref="ModelAdmissionException">The file was refused (stage <see cref="AdmissionStage.Validate"/>).</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public void Validate()
    {
        if (_validated is not null)
            return;
        _validated = new Validator(this).Run();
    }

    /// <summary>
    /// Admits the file: runs <see cref="Validate"/> if it has not passed, then returns the model file
    /// that generation accepts. The result shares this file's buffer; disposing it disposes this file.
    /// </summary>
    /// <exception cref="ModelAdmissionException">Validation refused the file.</exception>
    public SlmModelFile Admit()
    {
        Validate();
        return SlmModelFile.Create(this, _validated!.Metadata, _validated.Tensors);
    }

    /// <summary>Address of a byte of the file.</summary>
    internal byte* Pointer(long offset) => _buffer.Pointer + offset;

    /// <summary>Disposes the buffer if this file owns it.</summary>
    public void Dispose()
    {
        if (_ownsBuffer)
            _buffer.Dispose();
    }

    /// <summary>What validation produces: the GGUF key view and the tensor infos.</summary>
    internal sealed record ValidatedView(GgufMetadata Metadata, IReadOnlyList<GgufTensorInfo> Tensors);

    /// <summary>The validate stage, in the order the spec lists.</summary>
    private sealed class Validator(SlmFile file)
    {
        private readonly SlmHeader _h = file.Header;
        private readonly string _source = file.Source;

        public ValidatedView Run()
        {
            GgufMetadata view = BuildView();
            LlamaConfig config = CheckHyperparameters(view);
            CheckTokenizer(view);
            CheckTensorBounds();
            CheckManifest(config);
            CheckTensorChecksums();
            CheckFinite();
            CheckFileChecksum();
            return new ValidatedView(view, file.Tensors.Select(t => t.ToTensorInfo()).ToArray());
        }

        /// <summary>general.architecture, the metadata section, the header's llama.* keys, the tokenizer's keys.</summary>
        private GgufMetadata BuildView()
        {
            var view = new GgufMetadata(_source);
            view.Set("general.architecture", GgufValue.FromString(SlmLlama.Name), SlmHeader.ArchitectureAt);
            foreach ((string key, GgufValue value) in file.MetadataSection)
                view.Set(key, value, file.MetadataSection.OffsetOf(key));
            SlmHyperparameters p = _h.Hyperparameters;
            if (p.RopeScaling is not (SlmRopeScaling.None or SlmRopeScaling.Linear))
                Fail(AdmissionError.HyperparametersInvalid, SlmHeader.RopeScalingAt, $"expected rope_scaling_type 0 (none) or 1 (linear), found {(uint)p.RopeScaling}");
            if (p.RopeScaling == SlmRopeScaling.None && BitConverter.SingleToUInt32Bits(p.RopeScalingFactor) != BitConverter.SingleToUInt32Bits(1f))
                Fail(AdmissionError.HyperparametersInvalid, SlmHeader.RopeScalingFactorAt, $"expected rope_scaling_factor 1.0 without scaling, found {p.RopeScalingFactor}");
            SlmLlama.WriteTo(view, p);
            file.Tokenizer.WriteTo(view, _h.TokenizerOffset);
            return view;
        }

        private LlamaConfig CheckHyperparameters(GgufMetadata view)
        {
            uint vocab = _h.Hyperparameters.VocabularySize;
            if (vocab is 0 or > SlmTokenizer.MaxTokens)
                Fail(AdmissionError.HyperparametersInvalid, SlmHeader.VocabularySizeAt, $"expected a vocabulary size of 1 to {SlmTokenizer.MaxTokens}, found {vocab}");
            try
            {
                return LlamaConfig.FromGguf(view, (int)vocab);
            }
            catch (ModelFormatException e)
            {
                Fail(AdmissionError.HyperparametersInvalid, e.Offset, e.Reason);
                return null!;
            }
        }

        private void CheckTokenizer(GgufMetadata view)
        {
            int count = file.Tokenizer.Tokens.Count;
            if (count != _h.Hyperparameters.VocabularySize)
                Fail(AdmissionError.TokenizerInvalid, _h.TokenizerOffset + 8, $"expected {_h.Hyperparameters.VocabularySize} tokens (vocabulary_size), found {count}");
            try
            {
                Vocabulary v = Vocabulary.FromGguf(view);
                if (v.FindInconsistency() is string problem)
                    Fail(AdmissionError.TokenizerInvalid, _h.TokenizerOffset, $"expected a consistent vocabulary, found {problem}");
            }
            catch (ModelFormatException e)
            {
                Fail(AdmissionError.TokenizerInvalid, _h.TokenizerOffset, e.Reason);
            }
        }

        private void CheckTensorBounds()
        {
            long fileSize = _h.FileSize, data = _h.DataOffset;
            foreach (SlmTensorEntry t in file.Tensors)
            {
                TensorType type = TensorTypes.Get(t.Type);
                if (t.Shape[0] % type.BlockSize != 0)
                    Fail(AdmissionError.TensorSizeMismatch, t.EntryOffset + 72, $"tensor '{t.Name}': expected a row length that is a multiple of the {type.Name} block size {type.BlockSize}, found {t.Shape[0]}");
                long rows = t.ElementCount / t.Shape[0];
                long blocks = t.Shape[0] / type.BlockSize;
                UInt128 expected = (UInt128)(ulong)rows * (ulong)blocks * (ulong)type.BlockBytes;
                if (expected != t.ByteSize)
                    Fail(AdmissionError.TensorSizeMismatch, t.EntryOffset + 112, $"tensor '{t.Name}': expected byte_size {expected} ({type.Name} {t.ShapeText}), found {t.ByteSize}");
                if (t.Offset % (ulong)_h.Alignment != 0)
                    Fail(AdmissionError.MisalignedTensor, t.EntryOffset + 104, $"tensor '{t.Name}': expected an offset that is a multiple of the alignment {_h.Alignment}, found {t.Offset}");
                if (t.Offset < (ulong)data || t.Offset > (ulong)fileSize || t.ByteSize > (ulong)fileSize - t.Offset)
                    Fail(AdmissionError.TensorOutOfRange, t.EntryOffset + 104, $"tensor '{t.Name}': expected its {t.ByteSize} bytes within the data region [{data}, {fileSize}), found offset {t.Offset}");
            }
            SlmTensorEntry[] order = file.Tensors.OrderBy(t => t.Offset).ThenBy(t => t.Index).ToArray();
            for (int i = 1; i < order.Length; i++)
            {
                SlmTensorEntry p = order[i - 1], t = order[i];
                if (t.Offset < p.Offset + p.ByteSize)
                {
                    SlmTensorEntry later = t.Index > p.Index ? t : p, other = later == t ? p : t;
                    Fail(AdmissionError.TensorOverlap, later.EntryOffset + 104, $"tensor '{later.Name}': expected bytes that overlap no other tensor, found [{later.Offset}, {later.Offset + later.ByteSize}) overlapping '{other.Name}' at [{other.Offset}, {other.Offset + other.ByteSize})");
                }
            }
        }

        private void CheckManifest(LlamaConfig config)
        {
            bool tied = _h.HasTiedOutput;
            Dictionary<string, SlmLlama.Expected> manifest = SlmLlama.Manifest(config, tied);
            foreach (SlmTensorEntry t in file.Tensors)
            {
                if (!manifest.TryGetValue(t.Name, out SlmLlama.Expected expected))
                {
                    string why = t.Name == "output.weight" && tied ? " (the tied-output flag says the output is token_embd.weight)" : "";
                    Fail(AdmissionError.UnexpectedTensor, t.EntryOffset, $"expected only the tensors of a {config.BlockCount}-layer llama model, found '{t.Name}'{why}");
                }
                if (!t.Shape.SequenceEqual(expected.Shape))
                    Fail(AdmissionError.ShapeMismatch, t.EntryOffset + 68, $"tensor '{t.Name}': expected shape [{string.Join(", ", expected.Shape)}] from the hyperparameters, found {t.ShapeText}");
            }
            foreach ((string name, SlmLlama.Expected expected) in manifest)
                if (expected.Required && !file._byName.ContainsKey(name))
                    Fail(AdmissionError.MissingTensor, SlmHeader.DirectoryOffsetAt, $"expected tensor '{name}' [{string.Join(", ", expected.Shape)}], found none{(name == "output.weight" ? " (the tied-output flag is not set)" : "")}");
        }

        private void CheckTensorChecksums()
        {
            foreach (SlmTensorEntry t in file.Tensors)
            {
                ulong actual = HashRange((long)t.Offset, (long)t.ByteSize);
                if (actual != t.Checksum)
                    Fail(AdmissionError.TensorChecksumMismatch, t.EntryOffset + 120, $"tensor '{t.Name}': expected checksum {actual:X16} (XXH64 of its {t.ByteSize} bytes), found {t.Checksum:X16}");
            }
        }

        private ulong HashRange(long offset, long count)
        {
            var h = new Xxh64(0);
            while (count > 0)
            {
                int n = (int)Math.Min(count, 1 << 30);
                h.Append(new ReadOnlySpan<byte>(file.Pointer(offset), n));
                offset += n;
                count -= n;
            }
            return h.GetCurrentHash();
        }

        private void CheckFinite()
        {
            float[] row = [];
            foreach (SlmTensorEntry t in file.Tensors)
            {
                TensorType type = TensorTypes.Get(t.Type);
                long cols = t.Shape[0], rows = t.ElementCount / cols;
                if (cols > int.MaxValue / 2)
                    Fail(AdmissionError.TensorSizeMismatch, t.EntryOffset + 72, $"tensor '{t.Name}': expected rows of at most {int.MaxValue / 2} elements, found {cols}");
                long rowBytes = type.RowBytes(cols);
                if (row.Length < cols)
                    row = new float[cols];
                Span<float> values = row.AsSpan(0, (int)cols);
                for (long r = 0; r < rows; r++)
                {
                    long at = (long)t.Offset + r * rowBytes;
                    type.Dequantize(new ReadOnlySpan<byte>(file.Pointer(at), (int)rowBytes), values);
                    int bad = FirstNonFinite(values);
                    if (bad >= 0)
                        Fail(AdmissionError.NonFiniteValue, at + (long)(bad / type.BlockSize) * type.BlockBytes,
                            $"tensor '{t.Name}': expected finite values, found {values[bad]} at element {r * cols + bad} (row {r}, column {bad})");
                }
            }
        }

        private static int FirstNonFinite(ReadOnlySpan<float> v)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(v);
                for (int k = 0; k < vectors.Length; k++, i += Vector<float>.Count)
                    if (!Vector.EqualsAll(vectors[k] - vectors[k], Vector<float>.Zero))
                        break;
            }
            for (; i < v.Length; i++)
                if (!float.IsFinite(v[i]))
                    return i;
            return -1;
        }

        private void CheckFileChecksum()
        {
            Span<byte> header = stackalloc byte[SlmHeader.Size];
            new ReadOnlySpan<byte>(file.Pointer(0), SlmHeader.Size).CopyTo(header);
            header.Slice(SlmHeader.FileChecksumAt, 8).Clear();
            header.Slice(SlmHeader.HeaderChecksumAt, 8).Clear();
            var h = new Xxh64(0);
            h.Append(header);
            long offset = SlmHeader.Size, count = _h.FileSize - SlmHeader.Size;
            while (count > 0)
            {
                int n = (int)Math.Min(count, 1 << 30);
                h.Append(new ReadOnlySpan<byte>(file.Pointer(offset), n));
                offset += n;
                count -= n;
            }
            ulong actual = h.GetCurrentHash();
            if (actual != _h.FileChecksum)
                Fail(AdmissionError.FileChecksumMismatch, SlmHeader.FileChecksumAt, $"expected file_checksum {actual:X16} (XXH64 of the file with both checksum fields zero), found {_h.FileChecksum:X16}");
        }

        [DoesNotReturn]
        private void Fail(AdmissionError error, long offset, string reason) =>
            throw new ModelAdmissionException(AdmissionStage.Validate, error, _source, offset, reason);
    }
}
