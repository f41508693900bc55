using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TinyLM.Quantization;

/// <summary>
/// A weight matrix's rows repacked once, at model load, into the eight-row panels of
/// <see cref="PanelMatMul"/> (Q4_0: raw nibbles dword-interleaved, 160 bytes per block of eight rows
/// instead of 144; Q8_0: quants + 128 dword-interleaved, 288 bytes instead of 272), so that decode
/// and prefill run the panel kernels without packing per call — llama.cpp's CPU "repack" buffers
/// (<c>ggml_repack_q4_0_to_q4_0_8_bl</c>, ggml/src/ggml-cpu/repack.cpp) do the same. Results are
/// bit-identical to the file layout's kernels.
/// </summary>
/// <remarks>
/// Only on x86 CPUs with AVX2 (and AVX-VNNI for Q8_0), natively; the browser keeps the file layout,
/// which its emitted WebAssembly kernels read. The panels cover the leading <see cref="Rows"/> rows
/// (a multiple of eight); the other rows, and ranges that do not start or end on a panel, use the
/// type's <see cref="TensorType.MatMul"/> on the file's bytes, which stay in place.
/// </remarks>
internal sealed unsafe class PanelWeights
{
    private readonly byte[] _storage;
    private readonly byte* _data;
    private readonly GgmlType _type;
    private readonly int _blocks;

    private PanelWeights(GgmlType type, int rows, int blocks, int blockBytes)
    {
        _type = type;
        Rows = rows;
        _blocks = blocks;
        long bytes = (long)rows / PanelMatMul.PanelRows * blocks * blockBytes;
        // Pinned, 64-byte aligned inside: the kernels take raw pointers.
        _storage = GC.AllocateUninitializedArray<byte>(checked((int)(bytes + 64)), pinned: true);
        _data = (byte*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage)) + 63) & ~(nint)63);
        ByteSize = bytes;
    }

    /// <summary>Rows held as panels (the leading ones; a multiple of eight).</summary>
    public int Rows { get; }

    /// <summary>Bytes of the panels.</summary>
    public long ByteSize { get; }

    /// <summary>Whether <paramref name="type"/> has a panel layout this CPU runs.</summary>
    public static bool Supports(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => PanelMatMul.IsSupported<Q4_0.OffsetBlocks>(),
        GgmlType.Q8_0 => PanelMatMul.IsSupported<Q8_0.PanelBlocks>(),
        _ => false,
    };

    /// <summary>
    /// Packs the whole panels of a matrix of <paramref name="rows"/> × <paramref name="columns"/>
    /// (<paramref name="data"/> in the file's layout), or returns null when the type has no panel layout
    /// on this CPU, there are fewer than eight rows, or the panels would exceed 2 GiB.
    /// </summary>
    public static PanelWeights? TryCreate(TensorType type, ReadOnlySpan<byte> data, int rows, int columns)
    {
        int panelRows = rows & ~(PanelMatMul.PanelRows - 1);
        if (panelRows == 0 || !Supports(type.Type) || columns % 32 != 0 || data.Length < type.RowBytes(columns) * rows)
            return null;
        int nb = columns / 32;
        int blockBytes = type.Type == GgmlType.Q4_0 ? PanelMatMul.PanelBlockBytes<Q4_0.OffsetBlocks>() : PanelMatMul.PanelBlockBytes<Q8_0.PanelBlocks>();
        if ((long)panelRows / PanelMatMul.PanelRows * nb * blockBytes > int.MaxValue - 64)
            return null;
        var panels = new PanelWeights(type.Type, panelRows, nb, blockBytes);
        if (type.Type == GgmlType.Q4_0)
            PanelMatMul.PackMatrix<Q4_0.OffsetBlocks>(data, panelRows, nb, panels._data);
        else
            PanelMatMul.PackMatrix<Q8_0.PanelBlocks>(data, panelRows, nb, panels._data);
        return panels;
    }

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c> of the matrix times <paramref name="tokens"/>
    /// activation rows, as <see cref="TensorType.MatMul"/> (same operands, same checks, same results):
    /// whole panels from the packed rows, the rest from <paramref name="fileRows"/> (the file layout).
    /// </summary>
    public void MatMul(TensorType type, ReadOnlySpan<byte> fileRows, int rowStart, int rowCount, int columns,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        TensorTypeChecks.MatMulBlocks(type, fileRows.Length, rowStart, rowCount, columns, activations.Length, tokens, output.Length, outputStride, 34);
        int end = rowStart + rowCount;
        int p0 = Math.Min((rowStart + PanelMatMul.PanelRows - 1) & ~(PanelMatMul.PanelRows - 1), end);
        int p1 = Math.Max(p0, Math.Min(end, Rows) & ~(PanelMatMul.PanelRows - 1));
        if (p0 > rowStart)
            type.MatMul(fileRows, rowStart, p0 - rowStart, columns, activations, tokens, output, outputStride);
        if (p1 > p0)
        {
            if (_type == GgmlType.Q4_0)
                PanelMatMul.MatMulPacked<Q4_0.OffsetBlocks>(_data, p0, p1 - p0, _blocks, activations, tokens, output, outputStride);
            else
                PanelMatMul.MatMulPacked<Q8_0.PanelBlocks>(_data, p0, p1 - p0, _blocks, activations, tokens, output, outputStride);
        }
        if (end > p1)
            type.MatMul(fileRows, p1, end - p1, columns, activations, tokens, output, outputStride);
    }
}
