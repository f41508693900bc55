using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// Matrix products of the 32-element block types against Q8_0 activations on eight-row panels: each
/// block of eight rows stores its row scales as floats and its quants made unsigned
/// (<c>u = q + offset</c>) and interleaved four bytes per row, so that one <c>vpdpbusd</c> (AVX-VNNI)
/// or <c>vpmaddubsw</c>/<c>vpmaddwd</c> pair with a broadcast group of four activation bytes adds
/// into eight int32 lanes, one per row. After eight such steps lane i holds row i's
/// <c>Σ u·y</c> over the block; minus <c>offset·Σy</c> (once per activation block) it is the exact
/// integer block sum of the type's <c>ggml_vec_dot_*_q8_0_generic</c>.
/// </summary>
/// <remarks>
/// <para>The float sums run over the blocks in order, lane by lane, with the type's float steps
/// (<see cref="IPanelBlocks.Term"/>), so every output equals the type's <c>DotReference</c> bit for
/// bit: vectorizing across rows changes no sum's order (docs/numerics.md). The interleaved panel is
/// the layout of llama.cpp's repacked CPU kernels (<c>ggml_gemm_q4_0_8x8_q8_0</c>,
/// ggml/src/ggml-cpu/repack.cpp).</para>
/// <para>Two sources: <see cref="MatMulPacked{T}"/> reads a matrix packed once at load
/// (<see cref="RepackedWeights"/>: Q4_0, Q8_0; decode and prefill), <see cref="MatMul{T}"/> packs the
/// panels of a batch's product from the file layout as it goes (Q5_0, or any of them when not packed
/// at load), up to <see cref="ChunkBlocks"/> blocks at a time (18 KiB, in L1), the float sums carried
/// in the output between chunks. Every token passes over a panel, four at a time (each weight load
/// feeds four tokens).</para>
/// <para>Decoding (one token) asks for the cache lines <see cref="KQuantPanels.PrefetchDistance"/> bytes
/// ahead of the block in use: stories110M-shape Q8_0, one thread, 4.9 → 4.1 ms per decoded token.</para>
/// </remarks>
internal static unsafe class PanelMatMul
{
    /// <summary>A block type of this family: layout, unsigned quants, panel payload and the reference's float steps.</summary>
    public interface IPanelBlocks
    {
        /// <summary>Bytes in one weight block; its float16 scale <c>d</c> is the first two.</summary>
        static abstract int BlockBytes { get; }

        /// <summary>The offset added to every signed quant to make it unsigned (8, 16 or 128).</summary>
        static abstract int Offset { get; }

        /// <summary>The block's 32 quants plus <see cref="Offset"/>, in element order.</summary>
        static abstract Vector256<byte> Quants(ref byte block);

        /// <summary>
        /// One block's contribution to the float sum, lane by lane, in the reference's association:
        /// <c>(sumi·dx)·dy</c> (Q4_0), <c>(dx·dy)·sumi</c> (Q5_0) or <c>sumi·(dx·dy)</c> (Q8_0).
        /// </summary>
        static abstract Vector256<float> Term(Vector256<float> sumi, Vector256<float> dx, Vector256<float> dy);

        /// <summary>Bytes of the quants of one block of eight rows in a panel (after the eight float scales).</summary>
        static abstract int PayloadBytes { get; }

        /// <summary>Writes the quants of one block of eight rows (row i at <c>b0 + i·rowBytes</c>) as a panel payload.</summary>
        static abstract void PackQuants(ref byte b0, int rowBytes, byte* payload);

        /// <summary>From a panel payload: vector <paramref name="k"/>, lane i = row i's unsigned quants 4k … 4k + 3.</summary>
        static abstract Vector256<byte> PanelQuants(byte* payload, int k);
    }

    /// <summary>
    /// Panel payload of eight Vector256 of unsigned bytes (256 bytes per block): vector k, lane i =
    /// row i's <see cref="IPanelBlocks.Quants"/> 4k … 4k + 3 (an 8×8 transpose of dwords).
    /// </summary>
    public static void PackUnsigned<T>(ref byte b0, int rowBytes, byte* payload) where T : IPanelBlocks
    {
        ref byte b1 = ref Unsafe.Add(ref b0, rowBytes), b2 = ref Unsafe.Add(ref b1, rowBytes), b3 = ref Unsafe.Add(ref b2, rowBytes);
        ref byte b4 = ref Unsafe.Add(ref b3, rowBytes), b5 = ref Unsafe.Add(ref b4, rowBytes), b6 = ref Unsafe.Add(ref b5, rowBytes), b7 = ref Unsafe.Add(ref b6, rowBytes);
        Vector256<int> q0 = T.Quants(ref b0).AsInt32(), q1 = T.Quants(ref b1).AsInt32(), q2 = T.Quants(ref b2).AsInt32(), q3 = T.Quants(ref b3).AsInt32();
        Vector256<int> q4 = T.Quants(ref b4).AsInt32(), q5 = T.Quants(ref b5).AsInt32(), q6 = T.Quants(ref b6).AsInt32(), q7 = T.Quants(ref b7).AsInt32();
        Vector256<long> t0 = Avx2.UnpackLow(q0, q1).AsInt64(), t1 = Avx2.UnpackHigh(q0, q1).AsInt64();
        Vector256<long> t2 = Avx2.UnpackLow(q2, q3).AsInt64(), t3 = Avx2.UnpackHigh(q2, q3).AsInt64();
        Vector256<long> t4 = Avx2.UnpackLow(q4, q5).AsInt64(), t5 = Avx2.UnpackHigh(q4, q5).AsInt64();
        Vector256<long> t6 = Avx2.UnpackLow(q6, q7).AsInt64(), t7 = Avx2.UnpackHigh(q6, q7).AsInt64();
        Vector256<long> s0 = Avx2.UnpackLow(t0, t2), s1 = Avx2.UnpackHigh(t0, t2), s2 = Avx2.UnpackLow(t1, t3), s3 = Avx2.UnpackHigh(t1, t3);
        Vector256<long> s4 = Avx2.UnpackLow(t4, t6), s5 = Avx2.UnpackHigh(t4, t6), s6 = Avx2.UnpackLow(t5, t7), s7 = Avx2.UnpackHigh(t5, t7);
        Avx2.Permute2x128(s0, s4, 0x20).AsByte().Store(payload);
        Avx2.Permute2x128(s1, s5, 0x20).AsByte().Store(payload + 32);
        Avx2.Permute2x128(s2, s6, 0x20).AsByte().Store(payload + 64);
        Avx2.Permute2x128(s3, s7, 0x20).AsByte().Store(payload + 96);
        Avx2.Permute2x128(s0, s4, 0x31).AsByte().Store(payload + 128);
        Avx2.Permute2x128(s1, s5, 0x31).AsByte().Store(payload + 160);
        Avx2.Permute2x128(s2, s6, 0x31).AsByte().Store(payload + 192);
        Avx2.Permute2x128(s3, s7, 0x31).AsByte().Store(payload + 224);
    }

    /// <summary>
    /// Panel payload of the 16 nibble bytes at <paramref name="qsOffset"/> of each of eight rows' blocks
    /// (128 bytes, Q4_0 and Q5_0): vector m, lane i = row i's bytes 4m … 4m + 3, whose low nibbles are
    /// elements 4m … 4m + 3 and high nibbles elements 16 + 4m … (read back by <see cref="NibbleQuants"/>).
    /// </summary>
    public static void PackNibbles(ref byte b0, int rowBytes, int qsOffset, byte* payload)
    {
        // Rows i and i + 4 side by side, then a 4×4 transpose of dwords in each 128-bit lane.
        Vector256<int> a0 = Row2(ref b0, 0), a1 = Row2(ref b0, 1), a2 = Row2(ref b0, 2), a3 = Row2(ref b0, 3);
        Vector256<long> t0 = Avx2.UnpackLow(a0, a1).AsInt64(), t1 = Avx2.UnpackHigh(a0, a1).AsInt64();
        Vector256<long> t2 = Avx2.UnpackLow(a2, a3).AsInt64(), t3 = Avx2.UnpackHigh(a2, a3).AsInt64();
        Avx2.UnpackLow(t0, t2).AsByte().Store(payload);
        Avx2.UnpackHigh(t0, t2).AsByte().Store(payload + 32);
        Avx2.UnpackLow(t1, t3).AsByte().Store(payload + 64);
        Avx2.UnpackHigh(t1, t3).AsByte().Store(payload + 96);

        Vector256<int> Row2(ref byte b0, int i) => Vector256.Create(
            Vector128.LoadUnsafe(ref Unsafe.Add(ref b0, i * rowBytes + qsOffset)),
            Vector128.LoadUnsafe(ref Unsafe.Add(ref b0, (i + 4) * rowBytes + qsOffset))).AsInt32();
    }

    /// <summary>Vector <paramref name="k"/> of a <see cref="PackNibbles"/> payload: lane i = row i's nibbles 4k … 4k + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> NibbleQuants(byte* payload, int k) => k < 4
        ? Vector256.Load(payload + 32 * k) & Vector256.Create((byte)0x0F)
        : (Vector256.Load(payload + 32 * (k - 4)).AsUInt16() >> 4).AsByte() & Vector256.Create((byte)0x0F);

    /// <summary>Blocks per packed chunk when a panel is packed per call (8 rows × 64 blocks ≤ 18 KiB with the scales).</summary>
    public const int ChunkBlocks = 64;

    /// <summary>Rows per panel (one int32 lane each in a Vector256).</summary>
    public const int PanelRows = 8;

    private const int Q8Bytes = 34;
    private const int ScaleBytes = PanelRows * sizeof(float);

    /// <summary>Fewest tokens for which packing a panel per call pays off (measured: from two tokens on it is faster than the four-token tiles; a single decoded token keeps the streaming kernels).</summary>
    public const int MinTokens = 2;

    /// <summary>
    /// Whether this CPU runs the panel product for <typeparamref name="T"/>: AVX-VNNI for any offset,
    /// plain AVX2 when <c>u·y</c> pairs fit <c>vpmaddubsw</c>'s int16 (quants below 64).
    /// </summary>
    public static bool IsSupported<T>() where T : IPanelBlocks => AvxVnni.IsSupported || Avx2.IsSupported && T.Offset <= 32;

    /// <summary>Bytes of one block of eight rows in a panel: eight float scales, then the payload.</summary>
    public static int PanelBlockBytes<T>() where T : IPanelBlocks => ScaleBytes + T.PayloadBytes;

    /// <summary>
    /// Runs the leading whole panels of rows <c>[rowStart, rowStart + rowCount)</c> when the product is
    /// large enough (<see cref="MinTokens"/>) and the CPU supports it; returns how many rows it computed
    /// (a multiple of <see cref="PanelRows"/>, possibly 0), the caller computes the rest.
    /// </summary>
    public static int MatMulLeadingPanels<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IPanelBlocks
    {
        int rows = rowCount & ~(PanelRows - 1);
        if (tokens < MinTokens || rows == 0 || !IsSupported<T>())
            return 0;
        MatMul<T>(weights, rowStart, rows, nb, activations, tokens, output, outputStride);
        return rows;
    }

    [ThreadStatic] private static float[]? t_scales;
    [ThreadStatic] private static int[]? t_offsets;

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c> (a multiple of <see cref="PanelRows"/>) of weights of
    /// type <typeparamref name="T"/> in their file layout (<paramref name="nb"/> blocks per row), packed
    /// here chunk by chunk, times <paramref name="tokens"/> Q8_0 activation rows:
    /// <c>output[t·outputStride + r]</c>. Operands already checked (<see cref="TensorTypeChecks.MatMulBlocks"/>);
    /// needs <see cref="IsSupported{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMul<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IPanelBlocks
    {
        if (rowCount % PanelRows != 0)
            throw new ArgumentOutOfRangeException(nameof(rowCount), rowCount, "Panel rows come in groups of eight.");
        Tables<T>(activations, tokens * nb, out float[] dy, out int[] ys);
        int record = PanelBlockBytes<T>();
        byte* buffer = stackalloc byte[ChunkBlocks * (ScaleBytes + 256) + 32];
        byte* panel = (byte*)(((nint)buffer + 31) & ~(nint)31);
        ref byte w = ref MemoryMarshal.GetReference(weights);
        int blockBytes = T.BlockBytes, rowBytes = nb * blockBytes;
        for (int r = rowStart; r < rowStart + rowCount; r += PanelRows)
        {
            ref byte rows = ref Unsafe.Add(ref w, (nint)r * rowBytes);
            for (int c0 = 0; c0 < nb; c0 += ChunkBlocks)
            {
                int cn = Math.Min(ChunkBlocks, nb - c0);
                for (int ib = 0; ib < cn; ib++)
                    PackBlock<T>(ref Unsafe.Add(ref rows, (c0 + ib) * blockBytes), rowBytes, panel + ib * record);
                Compute<T>(panel, cn, c0, nb, activations, tokens, dy, ys, output, outputStride, r);
            }
        }
    }

    /// <summary>
    /// Packs every whole panel of a matrix (<paramref name="rows"/> rows of <paramref name="nb"/> blocks
    /// of <typeparamref name="T"/>): panel p, block ib at <c>(p·nb + ib)·PanelBlockBytes</c>.
    /// </summary>
    public static void PackMatrix<T>(ReadOnlySpan<byte> weights, int rows, int nb, byte* destination) where T : IPanelBlocks
    {
        ref byte w = ref MemoryMarshal.GetReference(weights);
        int blockBytes = T.BlockBytes, rowBytes = nb * blockBytes, record = PanelBlockBytes<T>();
        for (int p = 0; p < rows / PanelRows; p++)
            for (int ib = 0; ib < nb; ib++)
                PackBlock<T>(ref Unsafe.Add(ref w, (nint)p * PanelRows * rowBytes + ib * blockBytes), rowBytes, destination + ((nint)p * nb + ib) * record);
    }

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c>, both multiples of <see cref="PanelRows"/>, of a matrix
    /// packed by <see cref="PackMatrix{T}"/> times <paramref name="tokens"/> Q8_0 activation rows (any
    /// count, one for decoding): <c>output[t·outputStride + r]</c>. Operands already checked.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulPacked<T>(byte* packed, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IPanelBlocks
    {
        Tables<T>(activations, tokens * nb, out float[] dy, out int[] ys);
        int record = PanelBlockBytes<T>();
        for (int r = rowStart; r < rowStart + rowCount; r += PanelRows)
            Compute<T>(packed + (nint)(r / PanelRows) * nb * record, nb, 0, nb, activations, tokens, dy, ys, output, outputStride, r);
    }

    /// <summary>
    /// <see cref="MatMulPacked{T}"/> for a batch over panels packed in a compact layout
    /// (<typeparamref name="TCompact"/>, e.g. Q5_0's): each panel is first expanded, up to
    /// <see cref="ChunkBlocks"/> blocks at a time, into <typeparamref name="TFull"/>'s layout (the same
    /// quants and scales, one plain load per vector), then every token passes over it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulPackedExpanded<TCompact, TFull>(byte* packed, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where TCompact : IPanelBlocks where TFull : IPanelBlocks
    {
        Tables<TFull>(activations, tokens * nb, out float[] dy, out int[] ys);
        int compact = PanelBlockBytes<TCompact>(), full = PanelBlockBytes<TFull>();
        byte* buffer = stackalloc byte[ChunkBlocks * (ScaleBytes + 256) + 32];
        byte* panel = (byte*)(((nint)buffer + 31) & ~(nint)31);
        for (int r = rowStart; r < rowStart + rowCount; r += PanelRows)
        {
            byte* source = packed + (nint)(r / PanelRows) * nb * compact;
            for (int c0 = 0; c0 < nb; c0 += ChunkBlocks)
            {
                int cn = Math.Min(ChunkBlocks, nb - c0);
                for (int ib = 0; ib < cn; ib++)
                {
                    byte* from = source + (nint)(c0 + ib) * compact, to = panel + ib * full;
                    Vector256.Load((float*)from).Store((float*)to);
                    for (int k = 0; k < 8; k++)
                        TCompact.PanelQuants(from + ScaleBytes, k).Store(to + ScaleBytes + 32 * k);
                }
                Compute<TFull>(panel, cn, c0, nb, activations, tokens, dy, ys, output, outputStride, r);
            }
        }
    }

    /// <summary>Per token and block: the activation scale dy and offset·Σy (kept per thread; grows, never shrinks).</summary>
    internal static void Tables<T>(ReadOnlySpan<byte> activations, int n, out float[] dy, out int[] ys) where T : IPanelBlocks
    {
        dy = t_scales is { } s && s.Length >= n ? s : t_scales = new float[Math.Max(n, 4096)];
        ys = t_offsets is { } o && o.Length >= n ? o : t_offsets = new int[Math.Max(n, 4096)];
        ref BlockQ8_0 a = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        for (int i = 0; i < n; i++)
        {
            ref BlockQ8_0 yb = ref Unsafe.Add(ref a, i);
            dy[i] = HalfConversions.Fp16ToFp32(yb.D);
            ys[i] = T.Offset * SumOfQuants(ref yb);
        }
    }

    /// <summary>One block of eight rows: the eight scales as floats, then <see cref="IPanelBlocks.PackQuants"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PackBlock<T>(ref byte b0, int rowBytes, byte* record) where T : IPanelBlocks
    {
        ref byte b1 = ref Unsafe.Add(ref b0, rowBytes), b2 = ref Unsafe.Add(ref b1, rowBytes), b3 = ref Unsafe.Add(ref b2, rowBytes);
        ref byte b4 = ref Unsafe.Add(ref b3, rowBytes), b5 = ref Unsafe.Add(ref b4, rowBytes), b6 = ref Unsafe.Add(ref b5, rowBytes), b7 = ref Unsafe.Add(ref b6, rowBytes);
        HalfConversions.Fp16ToFp32(Vector256.Create(
            (uint)Unsafe.ReadUnaligned<ushort>(ref b0), Unsafe.ReadUnaligned<ushort>(ref b1), Unsafe.ReadUnaligned<ushort>(ref b2), Unsafe.ReadUnaligned<ushort>(ref b3),
            Unsafe.ReadUnaligned<ushort>(ref b4), Unsafe.ReadUnaligned<ushort>(ref b5), Unsafe.ReadUnaligned<ushort>(ref b6), Unsafe.ReadUnaligned<ushort>(ref b7)))
            .Store((float*)record);
        T.PackQuants(ref b0, rowBytes, record + ScaleBytes);
    }

    /// <summary>
    /// One panel (<paramref name="blocks"/> packed blocks, the activations' blocks
    /// <c>[c0, c0 + blocks)</c>) for every token, four tokens at a time: the float sums start at zero when
    /// <paramref name="c0"/> is 0, else continue from the output (blocks in order either way).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Compute<T>(byte* panel, int blocks, int c0, int nb, ReadOnlySpan<byte> activations, int tokens,
        float[] dyTable, int[] ysTable, Span<float> output, int outputStride, int r) where T : IPanelBlocks
    {
        int record = PanelBlockBytes<T>();
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
            Vector256<float> s0 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref out0);
            Vector256<float> s1 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref out1);
            Vector256<float> s2 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref out2);
            Vector256<float> s3 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref out3);
            int k0 = t * nb + c0;
            ref byte y0 = ref Unsafe.Add(ref y, (nint)k0 * Q8Bytes + 2);
            ref byte y1 = ref Unsafe.Add(ref y0, nb * Q8Bytes);
            ref byte y2 = ref Unsafe.Add(ref y1, nb * Q8Bytes);
            ref byte y3 = ref Unsafe.Add(ref y2, nb * Q8Bytes);
            for (int ib = 0; ib < blocks; ib++)
            {
                byte* p = panel + ib * record, q = p + ScaleBytes;
                Vector256<byte> w0 = T.PanelQuants(q, 0), w1 = T.PanelQuants(q, 1), w2 = T.PanelQuants(q, 2), w3 = T.PanelQuants(q, 3);
                Vector256<byte> w4 = T.PanelQuants(q, 4), w5 = T.PanelQuants(q, 5), w6 = T.PanelQuants(q, 6), w7 = T.PanelQuants(q, 7);
                Vector256<float> dx = Vector256.Load((float*)p);
                nint at = (nint)ib * Q8Bytes;
                int k = k0 + ib;
                s0 += T.Term(Sums(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y0, at), Unsafe.Add(ref ys, k)), dx, Vector256.Create(Unsafe.Add(ref dy, k)));
                s1 += T.Term(Sums(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y1, at), Unsafe.Add(ref ys, k + nb)), dx, Vector256.Create(Unsafe.Add(ref dy, k + nb)));
                s2 += T.Term(Sums(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y2, at), Unsafe.Add(ref ys, k + 2 * nb)), dx, Vector256.Create(Unsafe.Add(ref dy, k + 2 * nb)));
                s3 += T.Term(Sums(w0, w1, w2, w3, w4, w5, w6, w7, ref Unsafe.Add(ref y3, at), Unsafe.Add(ref ys, k + 3 * nb)), dx, Vector256.Create(Unsafe.Add(ref dy, k + 3 * nb)));
            }
            s0.StoreUnsafe(ref out0);
            s1.StoreUnsafe(ref out1);
            s2.StoreUnsafe(ref out2);
            s3.StoreUnsafe(ref out3);
        }
        for (; t < tokens; t++)
        {
            ref float out0 = ref Unsafe.Add(ref o0, (nint)t * outputStride + r);
            Vector256<float> s0 = first ? Vector256<float>.Zero : Vector256.LoadUnsafe(ref out0);
            int k0 = t * nb + c0;
            ref byte y0 = ref Unsafe.Add(ref y, (nint)k0 * Q8Bytes + 2);
            for (int ib = 0; ib < blocks; ib++)
            {
                byte* p = panel + ib * record, q = p + ScaleBytes;
                if (tokens == 1)
                    KQuantPanels.Prefetch(p + KQuantPanels.PrefetchDistance, record);
                s0 += T.Term(Sums(T.PanelQuants(q, 0), T.PanelQuants(q, 1), T.PanelQuants(q, 2), T.PanelQuants(q, 3),
                        T.PanelQuants(q, 4), T.PanelQuants(q, 5), T.PanelQuants(q, 6), T.PanelQuants(q, 7),
                        ref Unsafe.Add(ref y0, (nint)ib * Q8Bytes), Unsafe.Add(ref ys, k0 + ib)),
                    Vector256.Load((float*)p), Vector256.Create(Unsafe.Add(ref dy, k0 + ib)));
            }
            s0.StoreUnsafe(ref out0);
        }
    }

    /// <summary>
    /// Eight rows' exact integer block sums <c>Σ (u − offset)·y</c> for one activation block
    /// (<paramref name="yq"/>: its 32 quants; <paramref name="offsetSum"/>: offset·Σy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Sums(Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7, ref byte yq, int offsetSum)
    {
        Vector256<int> even, odd;
        if (AvxVnni.IsSupported)
        {
            even = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, w0, Group(ref yq, 0));
            odd = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, w1, Group(ref yq, 4));
            even = AvxVnni.MultiplyWideningAndAdd(even, w2, Group(ref yq, 8));
            odd = AvxVnni.MultiplyWideningAndAdd(odd, w3, Group(ref yq, 12));
            even = AvxVnni.MultiplyWideningAndAdd(even, w4, Group(ref yq, 16));
            odd = AvxVnni.MultiplyWideningAndAdd(odd, w5, Group(ref yq, 20));
            even = AvxVnni.MultiplyWideningAndAdd(even, w6, Group(ref yq, 24));
            odd = AvxVnni.MultiplyWideningAndAdd(odd, w7, Group(ref yq, 28));
        }
        else
        {
            // Quants below 64 (checked by IsSupported): |u·y pair| ≤ 2·63·128 fits int16.
            Vector256<short> ones = Vector256<short>.One;
            even = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w0, Group(ref yq, 0)) + Avx2.MultiplyAddAdjacent(w2, Group(ref yq, 8)), ones)
                + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w4, Group(ref yq, 16)), ones)
                + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w6, Group(ref yq, 24)), ones);
            odd = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w1, Group(ref yq, 4)), ones)
                + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w3, Group(ref yq, 12)), ones)
                + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w5, Group(ref yq, 20)), ones)
                + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w7, Group(ref yq, 28)), ones);
        }
        return Vector256.ConvertToSingle(even + odd - Vector256.Create(offsetSum));
    }

    /// <summary>Activation quants <c>j … j + 3</c> repeated in every int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Group(ref byte yq, int j) => Vector256.Create(Unsafe.ReadUnaligned<int>(ref Unsafe.Add(ref yq, j))).AsSByte();

    /// <summary>Σy of an activation block (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SumOfQuants(ref BlockQ8_0 yb) =>
        Vector256.Sum(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256<byte>.One, Vector256.LoadUnsafe(ref yb.Qs[0])), Vector256<short>.One));
}
