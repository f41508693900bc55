using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// <see cref="KQuantPanels"/>' products for Q2_K … Q6_K on sixteen-row panels with AVX-512BW:
/// two eight-row panel blocks side by side, so that every 64-byte vector holds sixteen rows' lanes and
/// each <c>vpmaddubsw</c>/<c>vpmaddwd</c> on a zmm register does the work of two on ymm — the same
/// step for the eight-row layout's work, as <see cref="WidePanelMatMul"/> does for Q4_0 and Q5_0.
/// <see cref="MatMul{T}"/> also runs <see cref="TernaryPanels"/>' TQ1_0 and TQ2_0 pairs (their pass is there).
/// </summary>
/// <remarks>
/// <para>Every output equals the eight-row panels' and so the type's <c>DotReference</c> bit for bit:
/// the same integer steps per lane class and the same float steps per lane, in the same order
/// (ggml's generic dots, <c>ggml_vec_dot_q2_K_q8_K_generic</c> … <c>…q6_K…</c>,
/// ggml/src/ggml-cpu/quants.c). .NET 10 has no 512-bit <c>vpdpwssd</c>, so each scaled step is a
/// <c>vpmaddwd</c> and a <c>vpaddd</c>.</para>
/// <para>Layout (<see cref="PackMatrix{T}"/>): the record of panel pair q and super-block i, at
/// <c>(q·nb + i)·2·BlockBytes</c>, is the two eight-row blocks (rows 16q … 16q + 7, then 16q + 8 …
/// 16q + 15) interleaved chunk by chunk: the 16-byte scale and min pairs
/// (<see cref="IWidePanelType.PairedStart"/> … <see cref="IWidePanelType.PairedEnd"/>) by 16 bytes,
/// everything else (float scales, quant vectors) by 32, so that an eight-row block's byte o is at
/// 2·o in the record and every load takes both halves at once. An odd last panel is paired with zeros
/// (outputs never stored); a row range that starts or ends inside a pair computes the pair and stores
/// its half.</para>
/// <para>A decoding pass (one token) asks for the cache lines <see cref="KQuantPanels.PrefetchDistance"/>
/// bytes ahead of the record in use: measured on a stories110M-shape Q4_K_M model, one thread, a
/// decoded token took 3.3–3.8 ms without and 2.3–2.4 ms with it (16 KiB ahead: the same; 32 KiB: 2.7–3.0).</para>
/// </remarks>
internal static unsafe class WideKQuantPanels
{
    /// <summary>Rows per panel (one int32 lane each in a Vector512).</summary>
    public const int PanelRows = WidePanelMatMul.PanelRows;

    /// <summary>Whether this CPU runs the sixteen-row products: AVX-512BW with 512-bit vectors accelerated.</summary>
    public static bool IsSupported => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>A K-quant panel layout with a sixteen-row pass.</summary>
    public interface IWidePanelType : KQuantPanels.IPanelType
    {
        /// <summary>Start of the bytes of an eight-row block held as 16-byte vectors (the rows' scale pairs), interleaved by 16 bytes.</summary>
        static abstract int PairedStart { get; }

        /// <summary>End of the bytes interleaved by 16 (the rest go by 32).</summary>
        static abstract int PairedEnd { get; }

        /// <summary>
        /// <see cref="KQuantPanels.IPanelType.Pass{TTokens}"/> on a pair of panels (records of
        /// 2·BlockBytes): each token's nine sixteen-lane vectors of <paramref name="sums"/>.
        /// </summary>
        static abstract void WidePass<TTokens>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where TTokens : KQuantPanels.ITokens;
    }

    /// <summary>
    /// Packs every eight-row panel of a matrix in its file layout (<paramref name="rows"/> rows, a
    /// multiple of eight, of <paramref name="nb"/> blocks of <paramref name="fileBlockBytes"/>) in
    /// pairs; <paramref name="destination"/> holds <c>⌈rows / 16⌉·nb·2·BlockBytes</c> bytes.
    /// </summary>
    internal static void PackMatrix<T>(ReadOnlySpan<byte> weights, int rows, int nb, int fileBlockBytes, byte* destination) where T : IWidePanelType
    {
        ref byte w = ref MemoryMarshal.GetReference(weights);
        int half = T.BlockBytes, rowBytes = nb * fileBlockBytes, panels = rows / KQuantPanels.PanelRows;
        byte* a = stackalloc byte[half], b = stackalloc byte[half];
        for (int q = 0; q < (panels + 1) / 2; q++)
            for (int i = 0; i < nb; i++)
            {
                ref byte rowsA = ref Unsafe.Add(ref w, (nint)2 * q * KQuantPanels.PanelRows * rowBytes + i * fileBlockBytes);
                T.PackBlock(ref rowsA, rowBytes, a);
                if (2 * q + 1 < panels)
                    T.PackBlock(ref Unsafe.Add(ref rowsA, KQuantPanels.PanelRows * rowBytes), rowBytes, b);
                else
                    new Span<byte>(b, half).Clear();
                byte* to = destination + ((nint)q * nb + i) * 2 * half;
                for (int o = 0; o < half;)
                {
                    int chunk = o >= T.PairedStart && o < T.PairedEnd ? 16 : 32;
                    Buffer.MemoryCopy(a + o, to + 2 * o, chunk, chunk);
                    Buffer.MemoryCopy(b + o, to + 2 * o + chunk, chunk, chunk);
                    o += chunk;
                }
            }
    }

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c>, multiples of eight, of a matrix packed by
    /// <see cref="PackMatrix{T}"/> times <paramref name="tokens"/> Q8_K activation rows, as
    /// <see cref="KQuantPanels.MatMul{TPanel}"/>. Operands already checked; needs <see cref="IsSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMul<T>(byte* packed, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IWidePanelType
    {
        fixed (byte* pinned = KQuantPanels.ActivationBuffer<T>(tokens * nb))
        {
            byte* a = KQuantPanels.Rearrange<T>(activations, tokens * nb, pinned);
            Vector512<float>* sums = stackalloc Vector512<float>[4 * 9];
            ref float o = ref MemoryMarshal.GetReference(output);
            nint tokenBytes = (nint)nb * T.ActivationBytes;
            int end = rowStart + rowCount;
            for (int r = rowStart & ~(PanelRows - 1); r < end; r += PanelRows)
            {
                byte* panel = packed + (nint)(r / PanelRows) * nb * 2 * T.BlockBytes;
                bool low = r >= rowStart, high = r + PanelRows <= end;
                int t = 0;
                for (; t + 4 <= tokens; t += 4)
                {
                    Clear(sums, 4);
                    T.WidePass<KQuantPanels.Four>(panel, nb, a + t * tokenBytes, tokenBytes, sums);
                    Store(sums, 4, ref Unsafe.Add(ref o, (nint)t * outputStride + r), outputStride, low, high);
                }
                for (; t < tokens; t++)
                {
                    Clear(sums, 1);
                    T.WidePass<KQuantPanels.One>(panel, nb, a + t * tokenBytes, tokenBytes, sums);
                    Store(sums, 1, ref Unsafe.Add(ref o, (nint)t * outputStride + r), outputStride, low, high);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear(Vector512<float>* sums, int tokens)
    {
        for (int s = 0; s < 9 * tokens; s++)
            sums[s] = Vector512<float>.Zero;
    }

    /// <summary>Each token's sixteen outputs (<c>sumf</c>, then the class sums in lane order), or the eight of them inside the requested rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float>* sums, int tokens, ref float output, int outputStride, bool low, bool high)
    {
        for (int t = 0; t < tokens; t++)
        {
            Vector512<float>* s = sums + 9 * t;
            Vector512<float> result = s[8];
            for (int l = 0; l < 8; l++)
                result += s[l];
            WidePanelMatMul.Store(result, ref Unsafe.Add(ref output, (nint)t * outputStride), low, high);
        }
    }

    /// <summary>
    /// <see cref="KQuantPanels.Q4K"/>'s pass (or Q5_K's, <typeparamref name="TBits"/> =
    /// <see cref="KQuantPanels.Q5K"/>) on sixteen rows: the mins' term, then per lane class the four
    /// nibble vectors' scaled steps and <c>sums[l] += d·acc</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Q4KPass<T, TBits>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums)
        where T : KQuantPanels.ITokens where TBits : KQuantPanels.IPanelType
    {
        const int DOffset = 2 * KQuantPanels.Q4K.DOffset, DMinOffset = 2 * KQuantPanels.Q4K.DMinOffset;
        const int ScalesOffset = 2 * KQuantPanels.Q4K.ScalesOffset, MinsOffset = 2 * KQuantPanels.Q4K.MinsOffset, QuantsOffset = 2 * KQuantPanels.Q4K.QuantsOffset;
        const int ActivationDOffset = KQuantPanels.Q4K.ActivationDOffset;
        int record = 2 * TBits.BlockBytes, activationBytes = KQuantPanels.Q4K.ActivationBytes;
        Vector512<byte> mask = Vector512.Create((byte)0x0F);
        for (int i = 0; i < nb; i++)
        {
            byte* w = panel + (nint)i * record;
            if (T.Count == 1)
                KQuantPanels.Prefetch(w + KQuantPanels.PrefetchDistance, record);
            byte* a0 = a + (nint)i * activationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
            Vector512<float> dx = Vector512.Load((float*)(w + DOffset)), dmx = Vector512.Load((float*)(w + DMinOffset));
            Vector512<float> dy0 = Vector512.Create(*(float*)(a0 + ActivationDOffset));
            Vector512<float> dy1 = T.Count > 1 ? Vector512.Create(*(float*)(a1 + ActivationDOffset)) : default;
            Vector512<float> dy2 = T.Count > 1 ? Vector512.Create(*(float*)(a2 + ActivationDOffset)) : default;
            Vector512<float> dy3 = T.Count > 1 ? Vector512.Create(*(float*)(a3 + ActivationDOffset)) : default;

            Vector512<short> m0 = Pairs(w + MinsOffset), m1 = Pairs(w + MinsOffset + 32), m2 = Pairs(w + MinsOffset + 64), m3 = Pairs(w + MinsOffset + 96);
            sums[8] -= dmx * dy0 * Vector512.ConvertToSingle(MinSums(a0, m0, m1, m2, m3));
            if (T.Count > 1)
            {
                sums[17] -= dmx * dy1 * Vector512.ConvertToSingle(MinSums(a1, m0, m1, m2, m3));
                sums[26] -= dmx * dy2 * Vector512.ConvertToSingle(MinSums(a2, m0, m1, m2, m3));
                sums[35] -= dmx * dy3 * Vector512.ConvertToSingle(MinSums(a3, m0, m1, m2, m3));
            }

            Vector512<short> s0 = Pairs(w + ScalesOffset), s1 = Pairs(w + ScalesOffset + 32), s2 = Pairs(w + ScalesOffset + 64), s3 = Pairs(w + ScalesOffset + 96);
            Vector512<float> d0 = dx * dy0, d1 = dx * dy1, d2 = dx * dy2, d3 = dx * dy3;
            byte* q = w + QuantsOffset;
            for (int l = 0; l < 8; l++)
            {
                Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero, acc2 = Vector512<int>.Zero, acc3 = Vector512<int>.Zero;
                NibbleStep<T, TBits>(q, 0, l, mask, s0, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                NibbleStep<T, TBits>(q, 1, l, mask, s1, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                NibbleStep<T, TBits>(q, 2, l, mask, s2, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                NibbleStep<T, TBits>(q, 3, l, mask, s3, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                AddClass<T>(sums, l, d0, d1, d2, d3, acc0, acc1, acc2, acc3);
            }
        }
    }

    /// <summary>Nibble vector (k, l) of sixteen rows (Q5_K: plus the fifth bits) into the tokens' class-l accumulators, as the eight-row pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NibbleStep<T, TBits>(byte* q, int k, int l, Vector512<byte> mask, Vector512<short> scales, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector512<int> acc0, ref Vector512<int> acc1, ref Vector512<int> acc2, ref Vector512<int> acc3) where T : KQuantPanels.ITokens where TBits : KQuantPanels.IPanelType
    {
        Vector512<byte> packed = Vector512.Load(q + 64 * (8 * k + l));
        Vector512<byte> lo = packed & mask, hi = (packed.AsUInt16() >> 4).AsByte() & mask;
        if (TBits.BlockBytes == KQuantPanels.Q5K.Bytes)
        {
            const int BitsOffset = 2 * (KQuantPanels.Q4K.Bytes - KQuantPanels.Q4K.QuantsOffset);
            Vector512<ushort> bits = Vector512.Load((ushort*)(q + BitsOffset + 64 * (2 * k + l / 4))) >> (2 * (l % 4));
            Vector512<byte> fifth = Vector512.Create((byte)0x10);
            lo |= (bits << 4).AsByte() & fifth;
            hi |= (bits << 3).AsByte() & fifth;
        }
        // Low and high nibbles' pair sums added in int16 (≤ 15872), then one multiply by the scale pairs.
        int at = 8 * (8 * k + l);
        acc0 = MultiplyAdd(acc0, Avx512BW.MultiplyAddAdjacent(lo, Group(a0, at)) + Avx512BW.MultiplyAddAdjacent(hi, Group(a0, at + 4)), scales);
        if (T.Count > 1)
        {
            acc1 = MultiplyAdd(acc1, Avx512BW.MultiplyAddAdjacent(lo, Group(a1, at)) + Avx512BW.MultiplyAddAdjacent(hi, Group(a1, at + 4)), scales);
            acc2 = MultiplyAdd(acc2, Avx512BW.MultiplyAddAdjacent(lo, Group(a2, at)) + Avx512BW.MultiplyAddAdjacent(hi, Group(a2, at + 4)), scales);
            acc3 = MultiplyAdd(acc3, Avx512BW.MultiplyAddAdjacent(lo, Group(a3, at)) + Avx512BW.MultiplyAddAdjacent(hi, Group(a3, at + 4)), scales);
        }
    }

    /// <summary>Per row: <c>Σ_k m·B</c> over the four group pairs against one token's pair sums (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> MinSums(byte* a, Vector512<short> m0, Vector512<short> m1, Vector512<short> m2, Vector512<short> m3)
    {
        byte* b = a + KQuantPanels.Q4K.PairSumsOffset;
        Vector512<int> s = Avx512BW.MultiplyAddAdjacent(m0, Vector512.Create(*(int*)b).AsInt16());
        s = MultiplyAdd(s, m1, Vector512.Create(*(int*)(b + 4)).AsInt16());
        s = MultiplyAdd(s, m2, Vector512.Create(*(int*)(b + 8)).AsInt16());
        return MultiplyAdd(s, m3, Vector512.Create(*(int*)(b + 12)).AsInt16());
    }

    /// <summary>
    /// <see cref="KQuantPanels.Q6K"/>'s pass on sixteen rows (or Q3_K's, <typeparamref name="TBits"/> =
    /// <see cref="KQuantPanels.Q3K"/>: its two-bit and hmask planes, offset 4): per lane class its sixteen
    /// vectors of unsigned quants, offset pairs taken off, times the int8 scale pairs, then <c>sums[l] += d·acc</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Q6KPass<T, TBits>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums)
        where T : KQuantPanels.ITokens where TBits : KQuantPanels.IPanelType
    {
        const int ScalesOffset = 2 * KQuantPanels.Q6K.ScalesOffset, DOffset = 2 * KQuantPanels.Q6K.DOffset;
        const int ActivationDOffset = KQuantPanels.Q6K.ActivationDOffset;
        int record = 2 * TBits.BlockBytes, activationBytes = KQuantPanels.Q6K.ActivationBytes;
        bool q3 = TBits.BlockBytes == KQuantPanels.Q3K.Bytes;
        for (int i = 0; i < nb; i++)
        {
            byte* w = panel + (nint)i * record;
            if (T.Count == 1)
                KQuantPanels.Prefetch(w + KQuantPanels.PrefetchDistance, record);
            byte* a0 = a + (nint)i * activationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
            Vector512<float> dx = Vector512.Load((float*)(w + DOffset));
            Vector512<float> d0 = dx * Vector512.Create(*(float*)(a0 + ActivationDOffset));
            Vector512<float> d1 = T.Count > 1 ? dx * Vector512.Create(*(float*)(a1 + ActivationDOffset)) : default;
            Vector512<float> d2 = T.Count > 1 ? dx * Vector512.Create(*(float*)(a2 + ActivationDOffset)) : default;
            Vector512<float> d3 = T.Count > 1 ? dx * Vector512.Create(*(float*)(a3 + ActivationDOffset)) : default;
            sbyte* sc = (sbyte*)(w + ScalesOffset);
            for (int l = 0; l < 8; l++)
            {
                Vector512<int> acc0 = Vector512<int>.Zero, acc1 = Vector512<int>.Zero, acc2 = Vector512<int>.Zero, acc3 = Vector512<int>.Zero;
                if (q3)
                {
                    Vector512<byte> h = Vector512.Load(w + 2 * KQuantPanels.Q3K.HighOffset + 64 * l);
                    Q3KQuarter<T>(w, h, 0, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                    Q3KQuarter<T>(w, h, 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                }
                else
                {
                    Q6KQuarter<T>(w, 0, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                    Q6KQuarter<T>(w, 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                }
                AddClass<T>(sums, l, d0, d1, d2, d3, acc0, acc1, acc2, acc3);
            }
        }
    }

    /// <summary>Q3_K vectors (4m … 4m + 3, l) of sixteen rows from one low-bit vector and the hmask vector <paramref name="h"/>, as the eight-row pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q3KQuarter<T>(byte* w, Vector512<byte> h, int m, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector512<int> acc0, ref Vector512<int> acc1, ref Vector512<int> acc2, ref Vector512<int> acc3) where T : KQuantPanels.ITokens
    {
        Vector512<ushort> low = Vector512.Load((ushort*)(w + 2 * KQuantPanels.Q3K.LowOffset + 64 * (8 * m + l)));
        Vector512<ushort> high = h.AsUInt16() >> (4 * m);
        Vector512<byte> three = Vector512.Create((byte)3), four = Vector512.Create((byte)4);
        int k = 4 * m;
        Step6<T>((low.AsByte() & three) | ((high << 2).AsByte() & four), k, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        Step6<T>(((low >> 2).AsByte() & three) | ((high << 1).AsByte() & four), k + 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        Step6<T>(((low >> 4).AsByte() & three) | (high.AsByte() & four), k + 2, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        Step6<T>(((low >> 6).AsByte() & three) | ((high >> 1).AsByte() & four), k + 3, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
    }

    /// <summary>Vectors (4m … 4m + 3, l) of sixteen rows: two nibble vectors and one of high-bit pairs, as the eight-row pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Q6KQuarter<T>(byte* w, int m, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector512<int> acc0, ref Vector512<int> acc1, ref Vector512<int> acc2, ref Vector512<int> acc3) where T : KQuantPanels.ITokens
    {
        const int LowOffset = 2 * KQuantPanels.Q6K.LowOffset, HighOffset = 2 * KQuantPanels.Q6K.HighOffset;
        Vector512<byte> mask = Vector512.Create((byte)0x0F), high = Vector512.Create((byte)0x30);
        Vector512<byte> h = Vector512.Load(w + HighOffset + 64 * (8 * m + l));
        Vector512<byte> p0 = Vector512.Load(w + LowOffset + 64 * (8 * (2 * m) + l));
        Vector512<byte> p1 = Vector512.Load(w + LowOffset + 64 * (8 * (2 * m + 1) + l));
        int k = 4 * m;
        Step6<T>((p0 & mask) | ((h.AsUInt16() << 4).AsByte() & high), k, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        Step6<T>(((p0.AsUInt16() >> 4).AsByte() & mask) | ((h.AsUInt16() << 2).AsByte() & high), k + 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        Step6<T>((p1 & mask) | (h & high), k + 2, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        Step6<T>(((p1.AsUInt16() >> 4).AsByte() & mask) | ((h.AsUInt16() >> 2).AsByte() & high), k + 3, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
    }

    /// <summary>Vector (k, l) of unsigned quants: <c>(q − offset)·a</c> pairs (Q6_K 32, Q3_K 4: the activations' offset pairs) times the sixteen rows' scale pairs of k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step6<T>(Vector512<byte> q, int k, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector512<int> acc0, ref Vector512<int> acc1, ref Vector512<int> acc2, ref Vector512<int> acc3) where T : KQuantPanels.ITokens
    {
        Vector512<short> scales = Avx512BW.ConvertToVector512Int16(Vector256.Load(sc + 32 * k));
        int at = 32 * k + 4 * l, off = KQuantPanels.Q6K.OffsetsOffset + at;
        acc0 = MultiplyAdd(acc0, Avx512BW.MultiplyAddAdjacent(q, Group(a0, at)) - Group(a0, off).AsInt16(), scales);
        if (T.Count > 1)
        {
            acc1 = MultiplyAdd(acc1, Avx512BW.MultiplyAddAdjacent(q, Group(a1, at)) - Group(a1, off).AsInt16(), scales);
            acc2 = MultiplyAdd(acc2, Avx512BW.MultiplyAddAdjacent(q, Group(a2, at)) - Group(a2, off).AsInt16(), scales);
            acc3 = MultiplyAdd(acc3, Avx512BW.MultiplyAddAdjacent(q, Group(a3, at)) - Group(a3, off).AsInt16(), scales);
        }
    }

    /// <summary>
    /// <see cref="KQuantPanels.Q2K"/>'s pass on sixteen rows: per group pair the eight quant vectors'
    /// int16 pair sums added (≤ 6144) and multiplied by the scales, the mins against the bsums, then
    /// <c>sumf += dall·isum − dmin·summs</c> per block (no lanes: one exact integer sum per row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Q2KPass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : KQuantPanels.ITokens
    {
        const int Record = 2 * KQuantPanels.Q2K.Bytes, DOffset = 2 * KQuantPanels.Q2K.DOffset, DMinOffset = 2 * KQuantPanels.Q2K.DMinOffset;
        const int ScalesOffset = 2 * KQuantPanels.Q2K.ScalesOffset, QuantsOffset = 2 * KQuantPanels.Q2K.QuantsOffset;
        const int BSumsOffset = KQuantPanels.Q2K.BSumsOffset, ActivationDOffset = KQuantPanels.Q2K.ActivationDOffset;
        int activationBytes = KQuantPanels.Q2K.ActivationBytes;
        Vector512<short> low = Vector512.Create((short)0x0F);
        Vector512<byte> three = Vector512.Create((byte)3);
        for (int i = 0; i < nb; i++)
        {
            byte* w = panel + (nint)i * Record;
            if (T.Count == 1)
                KQuantPanels.Prefetch(w + KQuantPanels.PrefetchDistance, Record);
            byte* a0 = a + (nint)i * activationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
            Vector512<int> isum0 = Vector512<int>.Zero, isum1 = Vector512<int>.Zero, isum2 = Vector512<int>.Zero, isum3 = Vector512<int>.Zero;
            Vector512<int> summs0 = Vector512<int>.Zero, summs1 = Vector512<int>.Zero, summs2 = Vector512<int>.Zero, summs3 = Vector512<int>.Zero;
            for (int k = 0; k < 8; k++)
            {
                Vector512<short> raw = Pairs(w + ScalesOffset + 32 * k);
                Vector512<short> scales = raw & low, mins = (raw.AsUInt16() >> 4).AsInt16();
                int bs = BSumsOffset + 4 * k;
                summs0 = MultiplyAdd(summs0, mins, Group(a0, bs).AsInt16());
                if (T.Count > 1)
                {
                    summs1 = MultiplyAdd(summs1, mins, Group(a1, bs).AsInt16());
                    summs2 = MultiplyAdd(summs2, mins, Group(a2, bs).AsInt16());
                    summs3 = MultiplyAdd(summs3, mins, Group(a3, bs).AsInt16());
                }
                Vector512<ushort> p0 = Vector512.Load((ushort*)(w + QuantsOffset + 128 * k)), p1 = Vector512.Load((ushort*)(w + QuantsOffset + 128 * k + 64));
                Vector512<byte> q0 = p0.AsByte() & three, q1 = (p0 >> 2).AsByte() & three, q2 = (p0 >> 4).AsByte() & three, q3 = (p0 >> 6).AsByte() & three;
                Vector512<byte> q4 = p1.AsByte() & three, q5 = (p1 >> 2).AsByte() & three, q6 = (p1 >> 4).AsByte() & three, q7 = (p1 >> 6).AsByte() & three;
                int at = 32 * k;
                isum0 = MultiplyAdd(isum0, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a0 + at), scales);
                if (T.Count > 1)
                {
                    isum1 = MultiplyAdd(isum1, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a1 + at), scales);
                    isum2 = MultiplyAdd(isum2, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a2 + at), scales);
                    isum3 = MultiplyAdd(isum3, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a3 + at), scales);
                }
            }
            Vector512<float> dx = Vector512.Load((float*)(w + DOffset)), dmx = Vector512.Load((float*)(w + DMinOffset));
            sums[8] += Term(dx, dmx, *(float*)(a0 + ActivationDOffset), isum0, summs0);
            if (T.Count > 1)
            {
                sums[17] += Term(dx, dmx, *(float*)(a1 + ActivationDOffset), isum1, summs1);
                sums[26] += Term(dx, dmx, *(float*)(a2 + ActivationDOffset), isum2, summs2);
                sums[35] += Term(dx, dmx, *(float*)(a3 + ActivationDOffset), isum3, summs3);
            }
        }
    }

    /// <summary>One Q2_K block's <c>dall·isum − dmin·summs</c> for sixteen rows (the reference's float steps).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Term(Vector512<float> dx, Vector512<float> dmx, float dy, Vector512<int> isum, Vector512<int> summs)
    {
        Vector512<float> y = Vector512.Create(dy);
        return y * dx * Vector512.ConvertToSingle(isum) - y * dmx * Vector512.ConvertToSingle(summs);
    }

    /// <summary><c>Σ_j vpmaddubsw(q_j, group of four at a + 4j)</c> in int16 for eight quant vectors (Q2_K's, which share their scales; the ternary steps); the caller bounds the sum within int16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<short> PairSums8(Vector512<byte> q0, Vector512<byte> q1, Vector512<byte> q2, Vector512<byte> q3,
        Vector512<byte> q4, Vector512<byte> q5, Vector512<byte> q6, Vector512<byte> q7, byte* a) =>
        Avx512BW.MultiplyAddAdjacent(q0, Group(a, 0)) + Avx512BW.MultiplyAddAdjacent(q1, Group(a, 4))
        + (Avx512BW.MultiplyAddAdjacent(q2, Group(a, 8)) + Avx512BW.MultiplyAddAdjacent(q3, Group(a, 12)))
        + (Avx512BW.MultiplyAddAdjacent(q4, Group(a, 16)) + Avx512BW.MultiplyAddAdjacent(q5, Group(a, 20))
        + (Avx512BW.MultiplyAddAdjacent(q6, Group(a, 24)) + Avx512BW.MultiplyAddAdjacent(q7, Group(a, 28))));

    /// <summary>The reference's <c>sums[l] += d·aux32[l]</c> for the tokens of a pass, sixteen rows at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddClass<T>(Vector512<float>* sums, int l, Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        Vector512<int> acc0, Vector512<int> acc1, Vector512<int> acc2, Vector512<int> acc3) where T : KQuantPanels.ITokens
    {
        sums[l] += d0 * Vector512.ConvertToSingle(acc0);
        if (T.Count > 1)
        {
            sums[9 + l] += d1 * Vector512.ConvertToSingle(acc1);
            sums[18 + l] += d2 * Vector512.ConvertToSingle(acc2);
            sums[27 + l] += d3 * Vector512.ConvertToSingle(acc3);
        }
    }

    /// <summary>Sixteen rows' 6-bit scale or min pairs (32 bytes: eight rows', then the other eight's) as int16, zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Pairs(byte* p) => Avx512BW.ConvertToVector512Int16(Vector256.Load(p)).AsInt16();

    /// <summary><c>acc + vpmaddwd(a, b)</c> (no 512-bit <c>vpdpwssd</c> in .NET 10).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> MultiplyAdd(Vector512<int> acc, Vector512<short> a, Vector512<short> b) => acc + Avx512BW.MultiplyAddAdjacent(a, b);

    /// <summary>Four bytes at <paramref name="at"/> repeated in every int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Group(byte* a, int at) => Vector512.Create(*(int*)(a + at)).AsSByte();
}
