using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// TQ1_0 and TQ2_0 (ternary) matrix products on eight-row panels, natively (AVX2; AVX-VNNI for the
/// one-instruction step), run by <see cref="KQuantPanels.MatMul{TPanel}"/>; with AVX-512BW on pairs of
/// them, sixteen rows per zmm register, run by <see cref="WideKQuantPanels.MatMul{T}"/>. ggml's generic ternary
/// dots (<c>ggml_vec_dot_tq1_0_q8_K_generic</c>, <c>ggml_vec_dot_tq2_0_q8_K_generic</c>,
/// ggml/src/ggml-cpu/quants.c) have no lanes: per block one exact integer <c>sumi = Σ (t − 1)·a</c>
/// (t the trit, 0–2), then <c>sumf += (float)sumi·(d·dy)</c>. So the rows sit in the int32 lanes
/// and each row's products add in any order: <c>vpdpbusd</c> of four trits per row against a
/// broadcast group of four activation bytes, starting from <c>−Σa</c> (the offset 1), 64 steps per
/// block. Every output equals the type's <c>DotReference</c> bit for bit.
/// </summary>
/// <remarks>
/// <para>Both types share one panel block (544 bytes; TQ2_0's eight file blocks are 528, TQ1_0's 432):
/// the eight rows' <c>d</c> as floats, then sixteen vectors of two-bit fields at 32 + 32·p: row i,
/// byte b, bits 2j … 2j + 1 hold the trit of element 4·(4p + j) + b. TQ1_0's base-3 bytes are decoded
/// once at load (<see cref="TQ1.Decode"/>), so its products cost what TQ2_0's do. Activations: the
/// Q8_K quants as they are, <c>−Σa</c> (int32, from the quants) and <c>d</c>.</para>
/// <para>Bounds: trits 0–3 (a TQ2_0 field may hold 3) against int8 activations: four products per
/// step within ±1536, 64 steps per block, far inside int32.</para>
/// </remarks>
internal static unsafe class TernaryPanels
{
    /// <summary>Bytes of one panel block (eight rows × one 256-element block).</summary>
    public const int Bytes = 544;

    private const int QuantsOffset = 32, ActivationBytes = 288, SumOffset = 256, ActivationDOffset = 260;

    /// <summary>TQ1_0 blocks (54 bytes) in the ternary panel layout.</summary>
    public readonly struct TQ1 : WideKQuantPanels.IWidePanelType
    {
        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static int ActivationBytes => TernaryPanels.ActivationBytes;
        /// <inheritdoc/>
        public static int SourceBytes => 292;

        /// <inheritdoc/>
        public static void PackBlock(ref byte b0, int rowBytes, byte* record) => Pack<TQ1>(ref b0, rowBytes, record);

        /// <summary>The block's trits in element order (<see cref="TQ1_0.TritOf"/>) and its <c>d</c>.</summary>
        internal static float Decode(ref byte block, byte* t)
        {
            ref BlockTQ1_0 x = ref Unsafe.As<byte, BlockTQ1_0>(ref block);
            for (int e = 0; e < KQuants.QK_K; e++)
                t[e] = (byte)TQ1_0.TritOf(ref x, e);
            return HalfConversions.Fp16ToFp32(x.D);
        }

        /// <inheritdoc/>
        public static void Rearrange(ref byte source, byte* destination) => TernaryPanels.Rearrange(ref Unsafe.As<byte, BlockQ8_K>(ref source), destination);

        /// <inheritdoc/>
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : KQuantPanels.ITokens =>
            TernaryPanels.Pass<T>(panel, nb, a, tokenBytes, sums);

        /// <inheritdoc/>
        public static int PairedStart => 0;
        /// <inheritdoc/>
        public static int PairedEnd => 0;

        /// <inheritdoc/>
        public static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : KQuantPanels.ITokens =>
            TernaryPanels.WidePass<T>(panel, nb, a, tokenBytes, sums);
    }

    /// <summary>TQ2_0 blocks (66 bytes) in the ternary panel layout.</summary>
    public readonly struct TQ2 : WideKQuantPanels.IWidePanelType
    {
        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static int ActivationBytes => TernaryPanels.ActivationBytes;
        /// <inheritdoc/>
        public static int SourceBytes => 292;

        /// <inheritdoc/>
        /// <remarks>Element e: bits 2·((e % 128) / 32) of <c>qs</c> byte 32·(e / 128) + e % 32, as <c>dequantize_row_tq2_0</c> reads it.</remarks>
        public static void PackBlock(ref byte b0, int rowBytes, byte* record) => Pack<TQ2>(ref b0, rowBytes, record);

        /// <summary>The block's two-bit fields in element order and its <c>d</c>.</summary>
        internal static float Decode(ref byte block, byte* t)
        {
            for (int e = 0; e < KQuants.QK_K; e++)
                t[e] = (byte)((Unsafe.Add(ref block, 32 * (e / 128) + e % 32) >> (2 * ((e % 128) / 32))) & 3);
            return HalfConversions.Fp16ToFp32(Unsafe.As<byte, BlockTQ2_0>(ref block).D);
        }

        /// <inheritdoc/>
        public static void Rearrange(ref byte source, byte* destination) => TernaryPanels.Rearrange(ref Unsafe.As<byte, BlockQ8_K>(ref source), destination);

        /// <inheritdoc/>
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : KQuantPanels.ITokens =>
            TernaryPanels.Pass<T>(panel, nb, a, tokenBytes, sums);

        /// <inheritdoc/>
        public static int PairedStart => 0;
        /// <inheritdoc/>
        public static int PairedEnd => 0;

        /// <inheritdoc/>
        public static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : KQuantPanels.ITokens =>
            TernaryPanels.WidePass<T>(panel, nb, a, tokenBytes, sums);
    }

    /// <summary>One panel block from block i of eight rows (row r at <c>b0 + r·rowBytes</c>), each row's block decoded first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Pack<TType>(ref byte b0, int rowBytes, byte* record) where TType : struct, KQuantPanels.IPanelType
    {
        new Span<byte>(record, Bytes).Clear();
        byte* t = stackalloc byte[KQuants.QK_K];
        for (int r = 0; r < KQuantPanels.PanelRows; r++)
        {
            ref byte block = ref Unsafe.Add(ref b0, r * rowBytes);
            ((float*)record)[r] = typeof(TType) == typeof(TQ1) ? TQ1.Decode(ref block, t) : TQ2.Decode(ref block, t);
            for (int e = 0; e < KQuants.QK_K; e++)
            {
                int v = e / 4, b = e % 4;
                record[QuantsOffset + 32 * (v / 4) + 4 * r + b] |= (byte)(t[e] << (2 * (v % 4)));
            }
        }
    }

    /// <summary>The quants as they are, <c>−Σa</c> (exact, from the quants) and <c>d</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rearrange(ref BlockQ8_K y, byte* d)
    {
        Vector256<int> sum = Vector256<int>.Zero;
        for (int c = 0; c < KQuants.QK_K; c += 32)
        {
            Vector256<sbyte> q = Vector256.LoadUnsafe(ref y.Qs[c]);
            q.Store((sbyte*)(d + c));
            sum += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256<byte>.One, q), Vector256<short>.One);
        }
        *(int*)(d + SumOffset) = -Vector256.Sum(sum);
        *(float*)(d + ActivationDOffset) = y.D;
    }

    /// <summary>One panel against the tokens of a pass: per block and token, the integer sum from <c>−Σa</c>, then <c>sumf += (float)sumi·(d·dy)</c> (in the token's <c>sumf</c> vector).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : KQuantPanels.ITokens
    {
        Vector256<byte> three = Vector256.Create((byte)3);
        for (int i = 0; i < nb; i++)
        {
            byte* w = panel + (nint)i * Bytes;
            if (T.Count == 1)
                KQuantPanels.Prefetch(w + KQuantPanels.PrefetchDistance, Bytes);
            byte* a0 = a + (nint)i * ActivationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
            Vector256<int> even0 = Vector256.Create(*(int*)(a0 + SumOffset)), odd0 = Vector256<int>.Zero;
            Vector256<int> even1 = T.Count > 1 ? Vector256.Create(*(int*)(a1 + SumOffset)) : default, odd1 = Vector256<int>.Zero;
            Vector256<int> even2 = T.Count > 1 ? Vector256.Create(*(int*)(a2 + SumOffset)) : default, odd2 = Vector256<int>.Zero;
            Vector256<int> even3 = T.Count > 1 ? Vector256.Create(*(int*)(a3 + SumOffset)) : default, odd3 = Vector256<int>.Zero;
            for (int p = 0; p < 16; p++)
            {
                Vector256<ushort> plane = Vector256.Load((ushort*)(w + QuantsOffset + 32 * p));
                int at = 16 * p;
                Step<T>(plane.AsByte() & three, at, a0, a1, a2, a3, ref even0, ref even1, ref even2, ref even3);
                Step<T>((plane >> 2).AsByte() & three, at + 4, a0, a1, a2, a3, ref odd0, ref odd1, ref odd2, ref odd3);
                Step<T>((plane >> 4).AsByte() & three, at + 8, a0, a1, a2, a3, ref even0, ref even1, ref even2, ref even3);
                Step<T>((plane >> 6).AsByte() & three, at + 12, a0, a1, a2, a3, ref odd0, ref odd1, ref odd2, ref odd3);
            }
            Vector256<float> dx = Vector256.Load((float*)w);
            sums[8] += Vector256.ConvertToSingle(even0 + odd0) * (dx * Vector256.Create(*(float*)(a0 + ActivationDOffset)));
            if (T.Count > 1)
            {
                sums[17] += Vector256.ConvertToSingle(even1 + odd1) * (dx * Vector256.Create(*(float*)(a1 + ActivationDOffset)));
                sums[26] += Vector256.ConvertToSingle(even2 + odd2) * (dx * Vector256.Create(*(float*)(a2 + ActivationDOffset)));
                sums[35] += Vector256.ConvertToSingle(even3 + odd3) * (dx * Vector256.Create(*(float*)(a3 + ActivationDOffset)));
            }
        }
    }

    /// <summary>
    /// <see cref="Pass{T}"/> on a pair of panels (<see cref="WideKQuantPanels"/>' layout: sixteen rows per
    /// zmm register) with AVX-512BW, which has no 512-bit <c>vpdpbusd</c> in .NET 10: each step's
    /// <c>vpmaddubsw</c> pair sums are added in int16, 32 steps per int16 sum (pairs within ±2·3·128 =
    /// 768, 32 of them ±24576), then widened by <c>vpmaddwd</c> with ones — the same exact <c>sumi</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : KQuantPanels.ITokens
    {
        const int Record = 2 * Bytes;
        Vector512<byte> three = Vector512.Create((byte)3);
        for (int i = 0; i < nb; i++)
        {
            byte* w = panel + (nint)i * Record;
            if (T.Count == 1)
                KQuantPanels.Prefetch(w + KQuantPanels.PrefetchDistance, Record);
            byte* a0 = a + (nint)i * ActivationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
            Vector512<int> sumi0 = Vector512.Create(*(int*)(a0 + SumOffset));
            Vector512<int> sumi1 = T.Count > 1 ? Vector512.Create(*(int*)(a1 + SumOffset)) : default;
            Vector512<int> sumi2 = T.Count > 1 ? Vector512.Create(*(int*)(a2 + SumOffset)) : default;
            Vector512<int> sumi3 = T.Count > 1 ? Vector512.Create(*(int*)(a3 + SumOffset)) : default;
            for (int half = 0; half < 2; half++)
            {
                Vector512<short> s0 = Vector512<short>.Zero, s1 = Vector512<short>.Zero, s2 = Vector512<short>.Zero, s3 = Vector512<short>.Zero;
                // Two planes per step of eight: their steps' groups of four are consecutive (16 activation bytes per plane).
                for (int p = 8 * half; p < 8 * half + 8; p += 2)
                {
                    Vector512<ushort> plane0 = Vector512.Load((ushort*)(w + 2 * QuantsOffset + 64 * p));
                    Vector512<ushort> plane1 = Vector512.Load((ushort*)(w + 2 * QuantsOffset + 64 * (p + 1)));
                    Vector512<byte> t0 = plane0.AsByte() & three, t1 = (plane0 >> 2).AsByte() & three, t2 = (plane0 >> 4).AsByte() & three, t3 = (plane0 >> 6).AsByte() & three;
                    Vector512<byte> t4 = plane1.AsByte() & three, t5 = (plane1 >> 2).AsByte() & three, t6 = (plane1 >> 4).AsByte() & three, t7 = (plane1 >> 6).AsByte() & three;
                    int at = 16 * p;
                    s0 += WideKQuantPanels.PairSums8(t0, t1, t2, t3, t4, t5, t6, t7, a0 + at);
                    if (T.Count > 1)
                    {
                        s1 += WideKQuantPanels.PairSums8(t0, t1, t2, t3, t4, t5, t6, t7, a1 + at);
                        s2 += WideKQuantPanels.PairSums8(t0, t1, t2, t3, t4, t5, t6, t7, a2 + at);
                        s3 += WideKQuantPanels.PairSums8(t0, t1, t2, t3, t4, t5, t6, t7, a3 + at);
                    }
                }
                sumi0 += Avx512BW.MultiplyAddAdjacent(s0, Vector512<short>.One);
                if (T.Count > 1)
                {
                    sumi1 += Avx512BW.MultiplyAddAdjacent(s1, Vector512<short>.One);
                    sumi2 += Avx512BW.MultiplyAddAdjacent(s2, Vector512<short>.One);
                    sumi3 += Avx512BW.MultiplyAddAdjacent(s3, Vector512<short>.One);
                }
            }
            Vector512<float> dx = Vector512.Load((float*)w);
            sums[8] += Vector512.ConvertToSingle(sumi0) * (dx * Vector512.Create(*(float*)(a0 + ActivationDOffset)));
            if (T.Count > 1)
            {
                sums[17] += Vector512.ConvertToSingle(sumi1) * (dx * Vector512.Create(*(float*)(a1 + ActivationDOffset)));
                sums[26] += Vector512.ConvertToSingle(sumi2) * (dx * Vector512.Create(*(float*)(a2 + ActivationDOffset)));
                sums[35] += Vector512.ConvertToSingle(sumi3) * (dx * Vector512.Create(*(float*)(a3 + ActivationDOffset)));
            }
        }
    }

    /// <summary>Trits <paramref name="t"/> (four per row) against each token's activation bytes at <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T>(Vector256<byte> t, int at, byte* a0, byte* a1, byte* a2, byte* a3,
        ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : KQuantPanels.ITokens
    {
        acc0 = KQuantPanels.Dot4(acc0, t, a0 + at);
        if (T.Count > 1)
        {
            acc1 = KQuantPanels.Dot4(acc1, t, a1 + at);
            acc2 = KQuantPanels.Dot4(acc2, t, a2 + at);
            acc3 = KQuantPanels.Dot4(acc3, t, a3 + at);
        }
    }
}
