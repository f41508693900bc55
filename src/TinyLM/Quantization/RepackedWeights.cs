using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TinyLM.Quantization;

/// <summary>
/// A weight matrix's rows repacked once, at model load, into a layout that the native kernels read
/// faster than the file's, with bit-identical results — llama.cpp's CPU "repack" buffers
/// (ggml/src/ggml-cpu/repack.cpp, e.g. <c>ggml_repack_q4_0_to_q4_0_8_bl</c>) do the same:
/// <list type="bullet">
/// <item>Q4_0, Q5_0, Q8_0 and IQ4_NL: the eight-row panels of <see cref="PanelMatMul"/> (Q4_0: raw
/// nibbles dword-interleaved, 160 bytes per block of eight rows instead of 144; Q5_0: the same plus the
/// eight rows' fifth bits, 192 instead of 176, expanded per chunk for a batch; Q8_0: quants + 128
/// dword-interleaved, 288 instead of 272; IQ4_NL: Q4_0's nibbles looked up with <c>vpshufb</c>). With
/// AVX-512BW, Q4_0 and Q5_0 take the sixteen-row panels of <see cref="WidePanelMatMul"/> instead (pairs
/// of those eight-row panels interleaved by 32-byte vector, the same bytes per row).</item>
/// <item>Q2_K … Q6_K: the eight-row panels of <see cref="KQuantPanels"/>, whose lanes keep the eight
/// lane sums of ggml's generic K-quant dots apart (Q2_K, whose dot has no lanes: 704 bytes per block of
/// eight rows instead of 672; Q3_K: 928 instead of 880; Q4_K: 1216 instead of 1152; Q5_K: 1472
/// instead of 1408; Q6_K: 1696 instead of 1680). With AVX-512BW, all five take the sixteen-row
/// panels of <see cref="WideKQuantPanels"/> instead (pairs of those blocks interleaved, the same bytes per row).</item>
/// <item>Q4_1 and Q5_1: <see cref="Q4_1.PanelLayout"/> and <see cref="Q5_1.PanelLayout"/> (scales and
/// mins as floats, Q4_0's nibble panels, Q5_1's fifth bits; 192 and 224 bytes instead of 160 and
/// 192), run against Q8_1 by <see cref="KQuantPanels.MatMul{TPanel}"/>.</item>
/// <item>TQ1_0 and TQ2_0: the ternary panels of <see cref="TernaryPanels"/> (TQ1_0's base-3 bytes
/// decoded once to two-bit fields; 544 bytes per block of eight rows), in sixteen-row pairs with AVX-512BW.</item>
/// </list>
/// All of them serve decode and prefill.
/// </summary>
/// <remarks>
/// Only on x86 CPUs with AVX2 (and AVX-VNNI for Q8_0 and IQ4_NL), natively; the browser keeps the
/// file layout, which its emitted WebAssembly kernels read. Panels cover the leading
/// <see cref="Rows"/> rows (a multiple of eight); the other rows, and ranges that do not start or end
/// on a panel, use the type's <see cref="TensorType.MatMul"/> on the file's bytes, which stay in place.
/// </remarks>
internal sealed unsafe class RepackedWeights
{
    private readonly byte[] _storage;
    private readonly byte* _data;
    private readonly Layout _layout;
    private readonly int _blocks;

    private RepackedWeights(Layout layout, int rows, int blocks, long bytes)
    {
        _layout = layout;
        Rows = rows;
        _blocks = blocks;
        // Pinned, 64-byte aligned inside: the kernels take raw pointers.
        _storage = GC.AllocateUninitializedArray<byte>(checked((int)(bytes + 64)), pinned: true);
        _data = (byte*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage)) + 63) & ~(nint)63);
        ByteSize = bytes;
    }

    /// <summary>Rows held repacked (the leading ones, a multiple of eight).</summary>
    public int Rows { get; }

    /// <summary>Rows per panel of the layout: 8, or 16 for <see cref="WidePanelMatMul"/>'s.</summary>
    public int PanelRows => PanelMatMul.PanelRows * _layout.PanelGroup;

    /// <summary>Bytes of the repacked rows.</summary>
    public long ByteSize { get; }

    /// <summary>Packs whole panels: <c>rows</c> (a multiple of eight) of <c>nb</c> file blocks into <c>destination</c>.</summary>
    private delegate void PanelPacker(ReadOnlySpan<byte> data, int rows, int nb, byte* destination);

    /// <summary>Rows <c>[rowStart, rowStart + rowCount)</c>, whole panels, of packed weights times <c>tokens</c> activation rows.</summary>
    private delegate void PanelProduct(byte* packed, int rowStart, int rowCount, int nb, ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride);

    /// <summary>
    /// A repacked layout: bytes per block of eight rows, its packer, its products for one token and for a
    /// batch, and how many eight-row panels it stores together (2: an odd last panel is padded to a pair).
    /// </summary>
    private sealed record Layout(int BlockBytes, PanelPacker Pack, PanelProduct Decode, PanelProduct Batch, int PanelGroup = 1);

    /// <summary>The repacked layout of <paramref name="type"/> on this CPU (sixteen-row panels where supported, unless <paramref name="wide"/> is false), or null.</summary>
    private static Layout? LayoutOf(GgmlType type, bool wide = true) => type switch
    {
        GgmlType.Q4_0 when wide && WidePanelMatMul.IsSupported<Q4_0.OffsetBlocks>() => WidePanels<Q4_0.OffsetBlocks>(),
        GgmlType.Q4_0 when PanelMatMul.IsSupported<Q4_0.OffsetBlocks>() => Panels<Q4_0.OffsetBlocks>(),
        GgmlType.Q8_0 when PanelMatMul.IsSupported<Q8_0.PanelBlocks>() => Panels<Q8_0.PanelBlocks>(),
        GgmlType.IQ4_NL when PanelMatMul.IsSupported<IQ4_NL.PanelBlocks>() => Panels<IQ4_NL.PanelBlocks>(),
        // Q5_0's compact panels are expanded chunk by chunk for a batch.
        GgmlType.Q5_0 when wide && WidePanelMatMul.IsSupported<Q5_0.CompactPanelBlocks>() => WidePanels<Q5_0.CompactPanelBlocks>() with
        {
            Batch = WidePanelMatMul.MatMulPackedExpanded<Q5_0.CompactPanelBlocks, Q5_0.OffsetBlocks>,
        },
        GgmlType.Q5_0 when PanelMatMul.IsSupported<Q5_0.CompactPanelBlocks>() => Panels<Q5_0.CompactPanelBlocks>() with
        {
            Batch = PanelMatMul.MatMulPackedExpanded<Q5_0.CompactPanelBlocks, Q5_0.OffsetBlocks>,
        },
        GgmlType.Q4_1 when KQuantPanels.IsSupported => SuperBlockPanels<Q4_1.PanelLayout>(20),
        GgmlType.Q5_1 when KQuantPanels.IsSupported => SuperBlockPanels<Q5_1.PanelLayout>(24),
        GgmlType.Q2_K when wide && WideKQuantPanels.IsSupported => WideSuperBlockPanels<KQuantPanels.Q2K>(84),
        GgmlType.Q3_K when wide && WideKQuantPanels.IsSupported => WideSuperBlockPanels<KQuantPanels.Q3K>(110),
        GgmlType.Q2_K when KQuantPanels.IsSupported => SuperBlockPanels<KQuantPanels.Q2K>(84),
        GgmlType.Q3_K when KQuantPanels.IsSupported => SuperBlockPanels<KQuantPanels.Q3K>(110),
        GgmlType.Q4_K when wide && WideKQuantPanels.IsSupported => WideSuperBlockPanels<KQuantPanels.Q4K>(144),
        GgmlType.Q5_K when wide && WideKQuantPanels.IsSupported => WideSuperBlockPanels<KQuantPanels.Q5K>(176),
        GgmlType.Q6_K when wide && WideKQuantPanels.IsSupported => WideSuperBlockPanels<KQuantPanels.Q6K>(210),
        GgmlType.Q4_K when KQuantPanels.IsSupported => SuperBlockPanels<KQuantPanels.Q4K>(144),
        GgmlType.Q5_K when KQuantPanels.IsSupported => SuperBlockPanels<KQuantPanels.Q5K>(176),
        GgmlType.Q6_K when KQuantPanels.IsSupported => SuperBlockPanels<KQuantPanels.Q6K>(210),
        GgmlType.TQ1_0 when wide && WideKQuantPanels.IsSupported => WideSuperBlockPanels<TernaryPanels.TQ1>(54),
        GgmlType.TQ2_0 when wide && WideKQuantPanels.IsSupported => WideSuperBlockPanels<TernaryPanels.TQ2>(66),
        GgmlType.TQ1_0 when KQuantPanels.IsSupported => SuperBlockPanels<TernaryPanels.TQ1>(54),
        GgmlType.TQ2_0 when KQuantPanels.IsSupported => SuperBlockPanels<TernaryPanels.TQ2>(66),
        _ => null,
    };

    private static Layout Panels<T>() where T : PanelMatMul.IPanelBlocks =>
        new(PanelMatMul.PanelBlockBytes<T>(), PanelMatMul.PackMatrix<T>, PanelMatMul.MatMulPacked<T>, PanelMatMul.MatMulPacked<T>);

    private static Layout WidePanels<T>() where T : WidePanelMatMul.IWidePanelBlocks =>
        new(PanelMatMul.PanelBlockBytes<T>(), WidePanelMatMul.PackMatrix<T>, WidePanelMatMul.MatMulPacked<T>, WidePanelMatMul.MatMulPacked<T>, PanelGroup: 2);

    private static Layout SuperBlockPanels<T>(int fileBlockBytes) where T : KQuantPanels.IPanelType =>
        new(T.BlockBytes, (data, rows, nb, destination) => KQuantPanels.PackMatrix<T>(data, rows, nb, fileBlockBytes, destination),
            KQuantPanels.MatMul<T>, KQuantPanels.MatMul<T>);

    private static Layout WideSuperBlockPanels<T>(int fileBlockBytes) where T : WideKQuantPanels.IWidePanelType =>
        new(T.BlockBytes, (data, rows, nb, destination) => WideKQuantPanels.PackMatrix<T>(data, rows, nb, fileBlockBytes, destination),
            WideKQuantPanels.MatMul<T>, WideKQuantPanels.MatMul<T>, PanelGroup: 2);

    /// <summary>Whether <paramref name="type"/> has a repacked layout this CPU runs.</summary>
    public static bool Supports(GgmlType type) => LayoutOf(type) is not null;

    /// <summary>
    /// Repacks a matrix of <paramref name="rows"/> × <paramref name="columns"/> (<paramref name="data"/>
    /// in the file's layout), or returns null when the type has no repacked layout on this CPU, there
    /// are too few rows (panels: eight), or the result would exceed 2 GiB. <paramref name="wide"/>
    /// false keeps eight-row panels where sixteen-row ones are supported (tests of both).
    /// </summary>
    public static RepackedWeights? TryCreate(TensorType type, ReadOnlySpan<byte> data, int rows, int columns, bool wide = true)
    {
        if (LayoutOf(type.Type, wide) is not { } layout || columns % type.BlockSize != 0 || data.Length < type.RowBytes(columns) * rows)
            return null;
        int nb = columns / type.BlockSize;
        int panelRows = rows & ~(PanelMatMul.PanelRows - 1);
        int panelCount = panelRows / PanelMatMul.PanelRows, stored = (panelCount + layout.PanelGroup - 1) / layout.PanelGroup * layout.PanelGroup;
        long panelBytes = (long)stored * nb * layout.BlockBytes;
        if (panelRows == 0 || panelBytes > int.MaxValue - 64)
            return null;
        var panels = new RepackedWeights(layout, panelRows, nb, panelBytes);
        layout.Pack(data, panelRows, nb, panels._data);
        return panels;
    }

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c> of the matrix times <paramref name="tokens"/>
    /// activation rows, as <see cref="TensorType.MatMul"/> (same operands, same checks, same results):
    /// from the repacked rows, the rest (rows outside whole panels) from
    /// <paramref name="fileRows"/> (the file layout).
    /// </summary>
    public void MatMul(TensorType type, ReadOnlySpan<byte> fileRows, int rowStart, int rowCount, int columns,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        TensorType activationType = TensorTypes.Get(type.VecDotType);
        TensorTypeChecks.MatMulBlocks(type, fileRows.Length, rowStart, rowCount, columns, activations.Length, tokens, output.Length, outputStride, activationType.BlockBytes);
        int end = rowStart + rowCount;
        int p0 = Math.Min((rowStart + PanelMatMul.PanelRows - 1) & ~(PanelMatMul.PanelRows - 1), end);
        int p1 = Math.Max(p0, Math.Min(end, Rows) & ~(PanelMatMul.PanelRows - 1));
        if (p0 > rowStart)
            type.MatMul(fileRows, rowStart, p0 - rowStart, columns, activations, tokens, output, outputStride);
        if (p1 > p0)
            (tokens == 1 ? _layout.Decode : _layout.Batch)(_data, p0, p1 - p0, _blocks, activations, tokens, output, outputStride);
        if (end > p1)
            type.MatMul(fileRows, p1, end - p1, columns, activations, tokens, output, outputStride);
    }
}
