using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Formats.Slm;

/// <summary>
/// An admitted <c>.slm</c> file: it passed parsing and validation, so its tensors can be bound and
/// run. Its metadata is the GGUF key view of the header (<c>general.architecture</c>,
/// <c>llama.*</c>), the tokenizer section (<c>tokenizer.*</c>) and the metadata section, so
/// <see cref="Models.Model"/> and <see cref="Tokenizers.Vocabulary.FromGguf"/> read it as they read GGUF.
/// </summary>
/// <remarks>
/// There is no public constructor: <see cref="SlmFile.Admit"/> is the only way to obtain one, and a
/// <see cref="Models.Model"/> can be built from an <c>.slm</c> file only through it — a file that was not
/// admitted cannot generate. Tensor offsets in <see cref="Tensors"/> are absolute file offsets.
/// Disposing this object disposes the <see cref="SlmFile"/> it came from.
/// </remarks>
public sealed unsafe class SlmModelFile : IModelFile
{
    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private SlmModelFile(SlmFile file, GgufMetadata metadata, IReadOnlyList<GgufTensorInfo> tensors)
    {
        File = file;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Creates the admitted file; only <see cref="SlmFile.Admit"/> calls this, after validation.</summary>
    internal static SlmModelFile Create(SlmFile file, GgufMetadata metadata, IReadOnlyList<GgufTensorInfo> tensors)
    {
        if (!file.IsValidated)
            throw new InvalidOperationException("Only a validated .slm file can be admitted.");
        return new SlmModelFile(file, metadata, tensors);
    }

    /// <summary>The parsed and validated file (header, directory, sections).</summary>
    public SlmFile File { get; }

    /// <summary>The header.</summary>
    public SlmHeader Header => File.Header;

    /// <inheritdoc/>
    public string Source => File.Source;

    /// <inheritdoc/>
    public long FileSize => File.Header.FileSize;

    /// <inheritdoc/>
    public string? Architecture => File.ArchitectureName;

    /// <inheritdoc/>
    public GgufMetadata Metadata { get; }

    /// <inheritdoc/>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <inheritdoc/>
    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    /// <inheritdoc/>
    public GgufTensorInfo GetTensor(string name) =>
        FindTensor(name) ?? throw new ModelFormatException(Source, -1, $"expected tensor '{name}', found none");

    /// <inheritdoc/>
    public long GetTensorFileOffset(GgufTensorInfo tensor) => tensor.Offset;

    /// <inheritdoc/>
    public byte* GetTensorPointer(GgufTensorInfo tensor) => File.Pointer(tensor.Offset);

    /// <inheritdoc/>
    public void ReleasePages(byte* start, long length) => File.Buffer.ReleasePages(start, length);

    /// <inheritdoc/>
    public bool IsWritable => File.Buffer.IsWritable;

    /// <inheritdoc/>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor) =>
        tensor.ByteSize <= int.MaxValue
            ? new ReadOnlySpan<byte>(GetTensorPointer(tensor), (int)tensor.ByteSize)
            : throw new NotSupportedException($"Tensor {tensor.Name} is {tensor.ByteSize} bytes, too large for a span.");

    /// <summary>Dequantizes a whole tensor to float (tools and tests).</summary>
    public float[] ReadAsSingles(GgufTensorInfo tensor)
    {
        var values = new float[checked((int)tensor.ElementCount)];
        TensorTypes.Get(tensor.Type).Dequantize(GetTensorData(tensor), values);
        return values;
    }

    /// <summary>Disposes the underlying <see cref="SlmFile"/>.</summary>
    public void Dispose() => File.Dispose();
}
