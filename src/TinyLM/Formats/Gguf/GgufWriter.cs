using TinyLM.Quantization;

namespace TinyLM.Formats.Gguf;

/// <summary>
/// Builds a GGUF v3 file: metadata in insertion order, tensor infos, then aligned tensor data.
/// </summary>
public sealed class GgufWriter
{
    /// <summary>Metadata to write. <c>general.alignment</c>, when set, sets the data alignment.</summary>
    public GgufMetadata Metadata { get; } = new("<writer>");

    /// <summary>Adds a tensor. <paramref name="data"/> must be exactly the tensor's byte size.</summary>
    /// <param name="name">Tensor name, unique.</param>
    /// <param name="type">Element type; must be registered in <see cref="TensorTypes"/>.</param>
    /// <param name="shape">Dimensions, innermost first (ggml <c>ne</c>); 1 to 4 of them.</param>
    /// <param name="data">The tensor bytes.</param>
    /// <exception cref="ArgumentException">Duplicate name, bad shape, or wrong data size.</exception>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data) => throw new NotImplementedException();

    /// <summary>Adds an F32 tensor.</summary>
    public void AddTensor(string name, ReadOnlySpan<long> shape, float[] values) => throw new NotImplementedException();

    /// <summary>Writes the file to a stream.</summary>
    public void WriteTo(Stream stream) => throw new NotImplementedException();

    /// <summary>Writes the file to a path (created or overwritten).</summary>
    public void WriteTo(string path) => throw new NotImplementedException();

    /// <summary>The file as a byte array.</summary>
    public byte[] ToArray() => throw new NotImplementedException();
}
