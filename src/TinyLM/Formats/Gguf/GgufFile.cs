using TinyLM.Quantization;

namespace TinyLM.Formats.Gguf;

/// <summary>
/// A parsed GGUF file (v2 or v3): header, metadata, tensor infos, and the data section, read in
/// place from a <see cref="ModelBuffer"/> (memory-mapped natively, a pinned array in the browser).
/// </summary>
/// <remarks>
/// <para>
/// Format: ggml/include/gguf.h and ggml/src/gguf.cpp (llama.cpp). The reader validates before it
/// allocates or reads: magic, version, counts against the bytes left, string and array lengths,
/// nesting depth, known tensor types, dimension products and byte sizes with overflow checks, rows
/// divisible by the block size, power-of-two alignment, duplicate keys and tensor names, and tensor
/// data inside the file and not overlapping. Any violation throws <see cref="ModelFormatException"/>
/// with the byte offset of the offending field.
/// </para>
/// <para>Where TinyLM's reader differs from llama.cpp's (each a deliberate choice):</para>
/// <list type="bullet">
/// <item>Keys and tensor names must be non-empty, valid UTF-8. String values with invalid UTF-8 are
/// accepted (llama.cpp accepts any bytes) and decoded with U+FFFD replacement characters.</item>
/// <item>Bool values must be the byte 0 or 1 (llama.cpp reads any non-zero byte as true).</item>
/// <item>Arrays of arrays are read (llama.cpp rejects them), up to <see cref="MaxArrayDepth"/> levels.</item>
/// <item>Strings are limited to <see cref="MaxStringBytes"/> (llama.cpp: 1 GiB); arrays to
/// <see cref="MaxArrayLength"/> elements, as in llama.cpp; <c>general.alignment</c> must be a uint32
/// power of two up to <see cref="MaxAlignment"/>.</item>
/// <item>Tensors need 1 to <see cref="MaxDimensions"/> dimensions (llama.cpp also reads 0 as a
/// scalar, but never writes it). Dimensions of size 0 are allowed, as in llama.cpp; the product of
/// the non-zero dimensions must fit in an int64, so element and row counts are always representable.</item>
/// <item>Tensor offsets must be multiples of the alignment, inside the data section, and must not
/// overlap; unlike llama.cpp they need not be in file order nor contiguous. Padding after the last
/// tensor is optional (llama.cpp's model loader, src/llama-model-loader.h, checks only offset + size against the file size).</item>
/// <item>Tensor names longer than llama.cpp's limit (63 bytes) are read; <see cref="GgufWriter"/>
/// refuses them.</item>
/// <item>A file without tensors may end without padding (gguf-py writes such files); its
/// <see cref="DataOffset"/> is then the file length.</item>
/// </list>
/// </remarks>
public sealed unsafe class GgufFile : IModelFile
{
    /// <summary>The GGUF magic, "GGUF" as little-endian uint32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Default data alignment in bytes when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>Largest accepted <c>general.alignment</c>, in bytes (2^30; any power of two up to it is accepted).</summary>
    public const int MaxAlignment = 1 << 30;

    /// <summary>Most dimensions a tensor may have (ggml's <c>GGML_MAX_DIMS</c>).</summary>
    public const int MaxDimensions = 4;

    /// <summary>
    /// Most levels of array nesting in a metadata value: a plain array is level 1, an array of arrays
    /// level 2 (candle's reader caps nesting the same way; llama.cpp reads no nested arrays).
    /// </summary>
    public const int MaxArrayDepth = 8;

    /// <summary>
    /// Longest string (key, value or tensor name) in UTF-8 bytes: 256 MiB, below .NET's largest string
    /// (llama.cpp's <c>GGUF_MAX_STRING_LENGTH</c> is 1 GiB, which a .NET string cannot hold).
    /// </summary>
    public const int MaxStringBytes = 1 << 28;

    /// <summary>Most elements in one metadata array (llama.cpp's <c>GGUF_MAX_ARRAY_ELEMENTS</c>, 2^30).</summary>
    public const int MaxArrayLength = 1 << 30;

    private readonly Dictionary<string, GgufTensorInfo> _byName;
    private readonly bool _ownsBuffer;

    internal GgufFile(ModelBuffer buffer, bool ownsBuffer, uint version, int alignment, long dataOffset,
        GgufMetadata metadata, List<GgufTensorInfo> tensors)
    {
        Buffer = buffer;
        _ownsBuffer = ownsBuffer;
        Version = version;
        Alignment = alignment;
        DataOffset = dataOffset;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The bytes of the file.</summary>
    public ModelBuffer Buffer { get; }

    /// <summary>File path or buffer name.</summary>
    public string Source => Buffer.Name;

    /// <summary>GGUF version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Alignment of tensor data in bytes (<c>general.alignment</c>, default 32).</summary>
    public int Alignment { get; }

    /// <summary>
    /// Absolute byte offset of the data section: the end of the tensor infos rounded up to
    /// <see cref="Alignment"/>, or the file length for a file without tensors that ends unpadded.
    /// </summary>
    public long DataOffset { get; }

    /// <summary>The metadata key/value pairs.</summary>
    public GgufMetadata Metadata { get; }

    /// <summary>The tensor infos in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary><c>general.architecture</c>, or null when absent (vocabulary-only files may lack it).</summary>
    public string? Architecture => Metadata.GetString("general.architecture", null);

    /// <summary>Maps and parses a file.</summary>
    /// <exception cref="ModelFormatException">The file is not a valid GGUF file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static GgufFile Open(string path)
    {
        ModelBuffer buffer = OperatingSystem.IsBrowser() || OperatingSystem.IsWasi() ? ModelBuffer.ReadFile(path) : ModelBuffer.MapFile(path);
        try
        {
            return GgufReader.Read(buffer, ownsBuffer: true);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Parses GGUF bytes held in memory (pinned until the file is disposed).</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid GGUF file.</exception>
    public static GgufFile Load(byte[] data, string name = "<memory>")
    {
        ModelBuffer buffer = ModelBuffer.FromArray(data, name);
        try
        {
            return GgufReader.Read(buffer, ownsBuffer: true);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Parses GGUF bytes in <paramref name="buffer"/>; the caller keeps ownership of the buffer.</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid GGUF file.</exception>
    public static GgufFile Load(ModelBuffer buffer) => GgufReader.Read(buffer, ownsBuffer: false);

    /// <summary>Finds a tensor by name, or null.</summary>
    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Finds a tensor by name.</summary>
    /// <exception cref="ModelFormatException">No tensor has that name.</exception>
    public GgufTensorInfo GetTensor(string name) =>
        FindTensor(name) ?? throw new ModelFormatException(Source, -1, $"expected tensor '{name}', found none");

    /// <summary>Size of the file in bytes.</summary>
    public long FileSize => Buffer.Length;

    /// <summary>Absolute byte offset of a tensor's data: <see cref="DataOffset"/> + the tensor's offset.</summary>
    public long GetTensorFileOffset(GgufTensorInfo tensor) => DataOffset + tensor.Offset;

    /// <summary>Address of a tensor's data.</summary>
    public byte* GetTensorPointer(GgufTensorInfo tensor) => Buffer.Pointer + DataOffset + tensor.Offset;

    /// <inheritdoc/>
    public void ReleasePages(byte* start, long length) => Buffer.ReleasePages(start, length);

    /// <inheritdoc/>
    public bool IsWritable => Buffer.IsWritable;

    /// <summary>A tensor's data bytes.</summary>
    /// <exception cref="NotSupportedException">The tensor is 2 GiB or larger (use <see cref="GetTensorPointer"/>).</exception>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor) =>
        tensor.ByteSize <= int.MaxValue
            ? new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)tensor.ByteSize)
            : throw new NotSupportedException($"Tensor {tensor.Name} is {tensor.ByteSize} bytes, too large for a span.");

    /// <summary>Dequantizes a whole tensor to float (tools and tests; not the token path).</summary>
    public float[] ReadAsSingles(GgufTensorInfo tensor)
    {
        var values = new float[checked((int)tensor.ElementCount)];
        TensorTypes.Get(tensor.Type).Dequantize(GetTensorData(tensor), values);
        return values;
    }

    /// <summary>Releases the buffer if this file owns it.</summary>
    public void Dispose()
    {
        if (_ownsBuffer)
            Buffer.Dispose();
    }
}
