using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// <see cref="PanelMatMul"/>'s product for 4- and 5-bit block types (unsigned quants below 32: Q4_0,
/// Q5_0) on sixteen-row panels with AVX-512BW: two eight-row panels side by side, so that each 64-byte vector
/// holds sixteen rows' groups of four quants and one <c>vpmaddubsw</c> on a zmm register does the work
/// of two on ymm. .NET 10 exposes no 512-bit <c>vpdpbusd</c> (<c>AvxVnni</c> is 256-bit only, and
/// this class of CPU does not report <c>Avx10v1</c>), so the integer sums take a route that 4-bit
/// quants allow: the int16 pair sums of a block's steps are added in int16 — all eight for quants
/// below 16 (each pair <c>|u₀·y₀ + u₁·y₁| ≤ 2·15·128</c>, eight of them ≤ 30720 &lt; 32768: never
/// saturated, never wrapped), four at a time below 32 (≤ 4·2·31·128 = 31744) — then one
/// <c>vpmaddwd</c> with ones per int16 sum gives each row's int32 <c>Σ u·y</c>: one multiply per
/// 64 bytes plus one or two per block, against one <c>vpdpbusd</c> per 32 bytes.
/// </summary>
/// <remarks>
/// <para>Every output equals <see cref="PanelMatMul"/>'s and so the type's <c>DotReference</c> bit for
/// bit: the same exact integer block sum, the same lane-wise float steps
/// (<see cref="IWidePanelBlocks.Term"/>) over the blocks in order (docs/numerics.md).</para>
/// <para>Layout (<see cref="PackMatrix{T}"/>): record of panel pair q and block ib at
/// <c>(q·nb + ib)·2·PanelBlockBytes</c>: sixteen float scales (rows 16q … 16q + 15), then the two
/// eight-row payloads of <see cref="PanelMatMul.IPanelBlocks.PackQuants"/> interleaved by 32-byte
/// vector (vector v of rows 16q … 16q + 7, then vector v of rows 16q + 8 … 16q + 15). A matrix with an
/// odd number of eight-row panels pads its last pair with zero quants and scales, whose outputs are
/// never stored. A row range that starts or ends in the middle of a pair computes the whole pair and
/// stores its half. Measured on the project's machine (AMD EPYC, AVX-512), Q4_0 2048 × 2048 by 64
/// tokens, one thread: 197 GMAC/s against 125 for the eight-row AVX-VNNI panels.</para>
/// <para>Q5_0 keeps its compact panels (nibbles and fifth bits, <see cref="Q5_0.CompactPanelBlocks"/>) in
/// pairs; a batch expands them chunk by chunk into <see cref="Q5_0.OffsetBlocks"/>' plain quants
/// (<see cref="MatMulPackedExpanded{TCompact, TFull}"/>), as <see cref="PanelMatMul"/> does.</para>
/// <para>Decoding (one token) asks for the cache lines <see cref="KQuantPanels.PrefetchDistance"/> bytes
/// ahead of the record in use: stories110M-shape Q4_0, one thread, 2.56–2.58 → 2.25–2.37 ms per decoded token.</para>
/// </remarks>
internal static unsafe class WidePanelMatMul
{
    /// <summary>A block type whose panel quants are below 32 (<see cref="PanelMatMul.IPanelBlocks.Offset"/> ≤ 16), with its sixteen-row vectors and float steps on Vector512.</summary>
    public interface IWidePanelBlocks : PanelMatMul.IPanelBlocks
    {
        /// <summary>From a sixteen-row payload: vector <paramref name="k"/>, lane i = row i's unsigned quants 4k … 4k + 3.</summary>
        static abstract Vector512<byte> WidePanelQuants(byte* payload, int k);

        /// <summary><see cref="PanelMatMul.IPanelBlocks.Term"/> on sixteen lanes (the same operations per lane).</summary>
        static abstract Vector512<float> Term(Vector512<float> sumi, Vector512<float> dx, Vector512<float> dy);
    }

    /// <summary>Rows per panel (one int32 lane each in a Vector512).</summary>
    public const int PanelRows = 16;

    private const int Q8Bytes = 34;
    private const int ScaleBytes = PanelRows * sizeof(float);

    /// <summary>Whether this CPU runs the sixteen-row product for <typeparamref name="T"/>: AVX-512BW with 512-bit vectors accelerated, quants below 32.</summary>
    public static bool IsSupported<T>() where T : IWidePanelBlocks =>
        Avx512BW.IsSupported && Vector512.IsHardwareAccelerated && T.Offset <= 16 && T.PayloadBytes % 32 == 0;

    /// <summary>Blocks per expanded chunk of <see cref="MatMulPackedExpanded{TCompact, TFull}"/> (32 × 576 bytes for Q5_0: 18 KiB, in L1).</summary>
    public const int ChunkBlocks = 32;

    /// <summary>Bytes of one block of sixteen rows: sixteen float scales, then the two interleaved payloads.</summary>
    public static int RecordBytes<T>() where T : IWidePanelBlocks => 2 * PanelMatMul.PanelBlockBytes<T>();

    /// <summary>
    /// Packs every eight-row panel of a matrix (<paramref name="rows"/> rows, a multiple of eight, of
    /// <paramref name="nb"/> blocks of <typeparamref name="T"/>) in pairs; an odd last panel is paired
    /// with zeros. <paramref name="destination"/> holds <c>⌈rows / 16⌉·nb·RecordBytes</c> bytes.
    /// </summary>
    public static void PackMatrix<T>(ReadOnlySpan<byte> weights, int rows, int nb, byte* destination) where T : IWidePanelBlocks
    {
        ref byte w = ref MemoryMarshal.GetReference(weights);
        int half = PanelMatMul.PanelBlockBytes<T>(), record = 2 * half, rowBytes = nb * T.BlockBytes, panels = rows / PanelMatMul.PanelRows;
        byte* a = stackalloc byte[half], b = stackalloc byte[half];
        for (int q = 0; q < (panels + 1) / 2; q++)
            for (int ib = 0; ib < nb; ib++)
            {
                ref byte rowsA = ref Unsafe.Add(ref w, (nint)2 * q * PanelMatMul.PanelRows * rowBytes + ib * T.BlockBytes);
                PanelMatMul.PackBlock<T>(ref rowsA, rowBytes, a);
                if (2 * q + 1 < panels)
                    PanelMatMul.PackBlock<T>(ref Unsafe.Add(ref rowsA, PanelMatMul.PanelRows * rowBytes), rowBytes, b);
                else
                    new Span<byte>(b, half).Clear();
                byte* to = destination + ((nint)q * nb + ib) * record;
                Buffer.MemoryCopy(a, to, 32, 32);
                Buffer.MemoryCopy(b, to + 32, 32, 32);
                for (int v = 0; v < T.PayloadBytes / 32; v++)
                {
                    Buffer.MemoryCopy(a + 32 + 32 * v, to + ScaleBytes + 64 * v, 32, 32);
                    Buffer.MemoryCopy(b + 32 + 32 * v, to + ScaleBytes + 64 * v + 32, 32, 32);
                }
            }
    }

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c>, both multiples of eight, of a matrix packed by
    /// <see cref="PackMatrix{T}"/> times <paramref name="tokens"/> Q8_0 activation rows (any count, one
    /// for decoding): <c>output[t·outputStride + r]</c>. Operands already checked; needs
    /// <see cref="IsSupported{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulPacked<T>(byte* packed, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IWidePanelBlocks
    {
        PanelMatMul.Tables<T>(activations, tokens * nb, out float[] dy, out int[] ys);
        int record = RecordBytes<T>(), end = rowStart + rowCount;
        for (int r = rowStart & ~(PanelRows - 1); r < end; r += PanelRows)
            Compute<T>(packed + (nint)(r / PanelRows) * nb * record, nb, 0, nb, activations, tokens, dy, ys, output, outputStride, r,
                low: r >= rowStart, high: r + PanelRows <= end);
    }

    /// <summary>
    /// <see cref="MatMulPacked{T}"/> for a batch over panel pairs packed in a compact layout
    /// (<typeparamref name="TCompact"/>, Q5_0's): each pair is first expanded, up to
    /// <see cref="ChunkBlocks"/> blocks at a time, into <typeparamref name="TFull"/>'s layout (the same
    /// quants and scales, one plain load per vector), then every token passes over it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulPackedExpanded<TCompact, TFull>(byte* packed, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where TCompact : IWidePanelBlocks where TFull : IWidePanelBlocks
    {
        PanelMatMul.Tables<TFull>(activations, tokens * nb, out float[] dy, out int[] ys);
        int compact = RecordBytes<TCompact>(), full = RecordBytes<TFull>(), end = rowStart + rowCount;
        byte* buffer = stackalloc byte[ChunkBlocks * full + 64];
        byte* panel = (byte*)(((nint)buffer + 63) & ~(nint)63);
        for (int r = rowStart & ~(PanelRows - 1); r < end; r += PanelRows)
        {
            byte* source = packed + (nint)(r / PanelRows) * nb * compact;
            for (int c0 = 0; c0 < nb; c0 += ChunkBlocks)
            {
                int cn = Math.Min(ChunkBlocks, nb - c0);
                for (int ib = 0; ib < cn; ib++)
                {
                    byte* from = source + (nint)(c0 + ib) * compact, to = panel + ib * full;
                    Vector512.Load((float*)from).Store((float*)to);
                    for (int k = 0; k < 8; k++)
                        TCompact.WidePanelQuants(from + ScaleBytes, k).Store(to + ScaleBytes + 64 * k);
                }
                Compute<TFull>(panel, cn, c0, nb, activations, tokens, dy, ys, output, outputStride, r,
                    low: r >= rowStart, high: r + PanelRows <= end);
            }
        }
    }

    /// <summary>
    /// One panel pair (<paramref name="blocks"/> packed blocks, the activations' blocks
    /// <c>[c0, c0 + blocks)</c>) for every token, four tokens at a time: rows r … r + 15, of which rows
    /// r … r + 7 are stored when <paramref name="low"/> and rows r + 8 … r + 15 when
    /// <paramref name="high"/>. The float sums start at zero when <paramref name="c0"/> is 0, else
    /// continue from those outputs (blocks in order either way).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Compute<T>(byte* panel, int blocks, int c0, int nb, ReadOnlySpan<byte> activations, int tokens,
        float[] dyTable, int[] ysTable, Span<float> output, int outputStride, int r, bool low, bool high) where T : IWidePanelBlocks
    {
        int record = RecordBytes<T>();
        bool first = c0 == 0;
        ref float dy = ref MemoryMarshal.GetArrayDataReference(dyTable);
        ref int ys = ref MemoryMarshal.GetArrayDataReference(ysTable);
        ref byte y = ref MemoryMarshal.GetReference(activations);
        ref float o0 = ref MemoryMarshal.GetReference(output);
        int t = 0;
        for (; t + 4 <= tokens; t += 4)
        {
            ref float out0 = ref Unsafe.Add(ref o0, (nint)t * outputStride + r);
            ref float out1 = ref Unsafe.Add(ref out0, outputStride);
            ref float out2 = ref Unsafe.Add(ref out1, outputStride);
            ref float out3 = ref Unsafe.Add(ref out2, outputStride);
            Vector512<float> s0 = first ? Vector512<float>.Zero : Load(ref out0, low, high);
            Vector512<float> s1 = first ? Vector512<float>.Zero : Load(ref out1, low, high);
            Vector512<float> s2 = first ? Vector512<float>.Zero : Load(ref out2, low, high);
            Vector512<float> s3 = first ? Vector512<float>.Zero : Load(ref out3, low, high);
            int k0 = t * nb + c0;
            ref byte y0 = ref Unsafe.Add(ref y, (nint)k0 * Q8Bytes + 2);
            ref byte y1 = ref Unsafe.Add(ref y0, nb * Q8Bytes);
            ref byte y2 = ref Unsafe.Add(ref y1, nb * Q8Bytes);
            ref byte y3 = ref Unsafe.Add(ref y2, nb * Q8Bytes);
            for (int ib = 0; ib < blocks; ib++)
            {
                byte* p = panel + ib * record, q = p + ScaleBytes;
                Vector512<byte> w0 = T.WidePanelQuants(q, 0), w1 = T.WidePanelQuants(q, 1), w2 = T.WidePanelQuants(q, 2), w3 = T.WidePanelQuants(q, 3);
                Vector512<byte> w4 = T.WidePanelQuants(q, 4), w5 = T.WidePanelQuants(q, 5), w6 = T.WidePanelQuants(q, 6), w7 = T.WidePanelQuants(q, 7);
                Vector512<float> dx = Vector512.Load((float*)p);
                nint at = (nint)ib * Q8Bytes;
                int k = k0 + ib;
                s0 += T.Term(Sums<T>(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y0, at), Unsafe.Add(ref ys, k)), dx, Vector512.Create(Unsafe.Add(ref dy, k)));
                s1 += T.Term(Sums<T>(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y1, at), Unsafe.Add(ref ys, k + nb)), dx, Vector512.Create(Unsafe.Add(ref dy, k + nb)));
                s2 += T.Term(Sums<T>(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y2, at), Unsafe.Add(ref ys, k + 2 * nb)), dx, Vector512.Create(Unsafe.Add(ref dy, k + 2 * nb)));
                s3 += T.Term(Sums<T>(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y3, at), Unsafe.Add(ref ys, k + 3 * nb)), dx, Vector512.Create(Unsafe.Add(ref dy, k + 3 * nb)));
            }
            Store(s0, ref out0, low, high);
            Store(s1, ref out1, low, high);
            Store(s2, ref out2, low, high);
            Store(s3, ref out3, low, high);
        }
        for (; t < tokens; t++)
        {
            ref float out0 = ref Unsafe.Add(ref o0, (nint)t * outputStride + r);
            Vector512<float> s0 = first ? Vector512<float>.Zero : Load(ref out0, low, high);
            int k0 = t * nb + c0;
            ref byte y0 = ref Unsafe.Add(ref y, (nint)k0 * Q8Bytes + 2);
            for (int ib = 0; ib < blocks; ib++)
            {
                byte* p = panel + ib * record, q = p + ScaleBytes;
                if (tokens == 1)
                    KQuantPanels.Prefetch(p + KQuantPanels.PrefetchDistance, record);
                s0 += T.Term(Sums<T>(T.WidePanelQuants(q, 0), T.WidePanelQuants(q, 1), T.WidePanelQuants(q, 2), T.WidePanelQuants(q, 3),
                        T.WidePanelQuants(q, 4), T.WidePanelQuants(q, 5), T.WidePanelQuants(q, 6), T.WidePanelQuants(q, 7),
                        ref Unsafe.Add(ref y0, (nint)ib * Q8Bytes), Unsafe.Add(ref ys, k0 + ib)),
                    Vector512.Load((float*)p), Vector512.Create(Unsafe.Add(ref dy, k0 + ib)));
            }
            Store(s0, ref out0, low, high);
        }
    }

    /// <summary>Loads the sixteen rows' sums carried in the output, or only the eight of them inside the requested rows (the others 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(ref float output, bool low, bool high) =>
        low && high ? Vector512.LoadUnsafe(ref output)
        : low ? Vector512.Create(Vector256.LoadUnsafe(ref output), Vector256<float>.Zero)
        : Vector512.Create(Vector256<float>.Zero, Vector256.LoadUnsafe(ref output, 8));

    /// <summary>Stores the sixteen rows' sums, or only the eight of them inside the requested rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store(Vector512<float> sums, ref float output, bool low, bool high)
    {
        if (low && high)
            sums.StoreUnsafe(ref output);
        else if (low)
            sums.GetLower().StoreUnsafe(ref output);
        else
            sums.GetUpper().StoreUnsafe(ref output, 8);
    }

    /// <summary>
    /// Sixteen rows' exact integer block sums <c>Σ (u − offset)·y</c> for one activation block
    /// (<paramref name="yq"/>: its 32 quants; <paramref name="offsetSum"/>: offset·Σy): the steps'
    /// int16 pair sums added in int16 — all eight for quants below 16 (bounded by 16·15·128 = 30720),
    /// four at a time below 32 (8·31·128 = 31744) — then widened by <c>vpmaddwd</c> with ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sums<T>(Vector512<byte> w0, Vector512<byte> w1, Vector512<byte> w2, Vector512<byte> w3,
        Vector512<byte> w4, Vector512<byte> w5, Vector512<byte> w6, Vector512<byte> w7, ref byte yq, int offsetSum) where T : IWidePanelBlocks
    {
        Vector512<short> a = Avx512BW.MultiplyAddAdjacent(w0, Group(ref yq, 0)) + Avx512BW.MultiplyAddAdjacent(w1, Group(ref yq, 4));
        Vector512<short> b = Avx512BW.MultiplyAddAdjacent(w2, Group(ref yq, 8)) + Avx512BW.MultiplyAddAdjacent(w3, Group(ref yq, 12));
        a += Avx512BW.MultiplyAddAdjacent(w4, Group(ref yq, 16)) + Avx512BW.MultiplyAddAdjacent(w5, Group(ref yq, 20));
        b += Avx512BW.MultiplyAddAdjacent(w6, Group(ref yq, 24)) + Avx512BW.MultiplyAddAdjacent(w7, Group(ref yq, 28));
        Vector512<int> sums = T.Offset <= 8
            ? Avx512BW.MultiplyAddAdjacent(a + b, Vector512<short>.One)
            : Avx512BW.MultiplyAddAdjacent(a, Vector512<short>.One) + Avx512BW.MultiplyAddAdjacent(b, Vector512<short>.One);
        return Avx512F.ConvertToVector512Single(sums - Vector512.Create(offsetSum));
    }

    /// <summary>Activation quants <c>j … j + 3</c> repeated in every int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Group(ref byte yq, int j) => Vector512.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref yq, j))).AsSByte();

    /// <summary>
    /// Vector <paramref name="k"/> of a sixteen-row payload of <see cref="PanelMatMul.PackNibbles"/> pairs:
    /// lane i = row i's nibbles 4k … 4k + 3 (low nibbles of vector k for k &lt; 4, high nibbles of vector k − 4 after).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> NibbleQuants(byte* payload, int k) => k < 4
        ? Vector512.Load(payload + 64 * k) & Vector512.Create((byte)0x0F)
        : (Vector512.Load(payload + 64 * (k - 4)).AsUInt16() >> 4).AsByte() & Vector512.Create((byte)0x0F);
}
