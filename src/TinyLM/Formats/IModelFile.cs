using TinyLM.Formats.Gguf;

namespace TinyLM.Formats;

/// <summary>
/// A model file whose tensors can be bound by an architecture: its metadata as GGUF keys, its tensor
/// infos, and the address of each tensor's bytes. Implemented by <see cref="GgufFile"/> and by
/// <see cref="Slm.SlmModelFile"/> (an admitted <c>.slm</c> file, which only the admission pipeline creates).
/// </summary>
/// <remarks>
/// An <c>.slm</c> file presents its fixed header and tokenizer section as the equivalent
/// <c>general.*</c>, <c>{arch}.*</c> and <c>tokenizer.*</c> keys, so architectures and
/// <see cref="Tokenizers.Vocabulary.FromGguf"/> read both formats the same way. Thread-safe for reads.
/// </remarks>
public unsafe interface IModelFile : IDisposable
{
    /// <summary>File path or buffer name, used in error messages.</summary>
    string Source { get; }

    /// <summary>Size of the file in bytes.</summary>
    long FileSize { get; }

    /// <summary><c>general.architecture</c>, or null when absent.</summary>
    string? Architecture { get; }

    /// <summary>The metadata as GGUF key/value pairs.</summary>
    GgufMetadata Metadata { get; }

    /// <summary>The tensor infos in file order.</summary>
    IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Finds a tensor by name, or null.</summary>
    GgufTensorInfo? FindTensor(string name);

    /// <summary>Finds a tensor by name.</summary>
    /// <exception cref="ModelFormatException">No tensor has that name.</exception>
    GgufTensorInfo GetTensor(string name);

    /// <summary>Absolute byte offset of a tensor's data in the file.</summary>
    long GetTensorFileOffset(GgufTensorInfo tensor);

    /// <summary>Address of a tensor's data (valid while the file is not disposed).</summary>
    byte* GetTensorPointer(GgufTensorInfo tensor);

    /// <summary>
    /// Hints that the file's bytes in <c>[start, start + length)</c> (inside a tensor's data) need not
    /// stay in memory: see <see cref="ModelBuffer.ReleasePages"/>. The bytes stay readable.
    /// </summary>
    void ReleasePages(byte* start, long length);

    /// <summary>True when the tensor bytes may be rearranged in place (<see cref="ModelBuffer.IsWritable"/>).</summary>
    bool IsWritable { get; }

    /// <summary>A tensor's data bytes.</summary>
    /// <exception cref="NotSupportedException">The tensor is 2 GiB or larger.</exception>
    ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor);
}
