using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Formats.Slm;

/// <summary>
/// One 128-byte entry of the <c>.slm</c> tensor directory, as decoded by the parse stage
/// (docs/slm-format.md, "Tensor directory"). <see cref="Offset"/> and <see cref="ByteSize"/> are the
/// raw fields: the validate stage checks them against the file.
/// </summary>
public sealed class SlmTensorEntry
{
    internal SlmTensorEntry(int index, long entryOffset, string name, GgmlType type, long[] shape, ulong offset, ulong byteSize, ulong checksum)
    {
        Index = index;
        EntryOffset = entryOffset;
        Name = name;
        Type = type;
        Shape = shape;
        Offset = offset;
        ByteSize = byteSize;
        Checksum = checksum;
        long elements = 1;
        foreach (long d in shape)
            elements = checked(elements * d);
        ElementCount = elements;
    }

    /// <summary>Position in the directory.</summary>
    public int Index { get; }

    /// <summary>Absolute byte offset of this entry in the file.</summary>
    public long EntryOffset { get; }

    /// <summary>Tensor name (GGUF's, e.g. <c>blk.0.attn_q.weight</c>).</summary>
    public string Name { get; }

    /// <summary>ggml type id (registered in <see cref="TensorTypes"/>).</summary>
    public GgmlType Type { get; }

    /// <summary>Dimensions, innermost first (ggml <c>ne</c>), 1 to 4 of them, each at least 1.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Absolute byte offset of the payload (raw field).</summary>
    public ulong Offset { get; }

    /// <summary>Payload size in bytes (raw field).</summary>
    public ulong ByteSize { get; }

    /// <summary>XXH64 of the payload (raw field).</summary>
    public ulong Checksum { get; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>The shape as text, innermost first, e.g. <c>[288, 32000]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>The entry as a GGUF tensor info whose offset is absolute (for a validated entry).</summary>
    internal GgufTensorInfo ToTensorInfo() =>
        new(Name, Type, Shape.ToArray(), (long)Math.Min(Offset, long.MaxValue), (long)Math.Min(ByteSize, long.MaxValue));

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Type} {ShapeText}";
}
