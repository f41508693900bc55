using TinyLM.Quantization;

namespace TinyLM.Formats.Gguf;

/// <summary>
/// One tensor of a GGUF file: name, element type, shape and where its data lies.
/// </summary>
/// <remarks>
/// <see cref="Shape"/> follows ggml's <c>ne</c> order: <c>Shape[0]</c> is the innermost (contiguous)
/// dimension, so a weight matrix with <c>rows</c> outputs and <c>cols</c> inputs has shape
/// <c>[cols, rows]</c>, and <c>token_embd.weight</c> is <c>[n_embd, n_vocab]</c>.
/// </remarks>
public sealed class GgufTensorInfo
{
    /// <summary>Creates a tensor info. Readers validate every field before calling this.</summary>
    public GgufTensorInfo(string name, GgmlType type, long[] shape, long offset, long byteSize)
    {
        Name = name;
        Type = type;
        Shape = shape;
        Offset = offset;
        ByteSize = byteSize;
        long rows = 1;
        for (int i = 1; i < shape.Length; i++) rows = checked(rows * shape[i]);
        Rows = rows;
        ElementCount = shape.Length == 0 ? 1 : checked(shape[0] * rows);
    }

    /// <summary>Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public GgmlType Type { get; }

    /// <summary>Dimensions, innermost first (ggml <c>ne</c>).</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Offset of the data from the start of the data section, in bytes.</summary>
    public long Offset { get; }

    /// <summary>Size of the data in bytes.</summary>
    public long ByteSize { get; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Elements per row: <c>Shape[0]</c>.</summary>
    public long Columns => Shape.Count > 0 ? Shape[0] : 1;

    /// <summary>Number of rows: the product of the outer dimensions (<c>Shape[1..]</c>), even when <c>Shape[0]</c> is 0.</summary>
    public long Rows { get; }

    /// <summary>The shape as text, innermost first, e.g. <c>[288, 32000]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {Type} {ShapeText}";
}
