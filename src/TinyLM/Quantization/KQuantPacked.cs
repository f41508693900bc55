using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// AVX2 dots of Q4_K and Q6_K weights against Q8_K activations that work on the packed blocks
/// (nibbles and high bits) directly, without unpacking a block to one int8 per element first, and
/// still give the eight int32 lanes of ggml's generic dots (<c>ggml_vec_dot_q4_K_q8_K_generic</c>,
/// <c>ggml_vec_dot_q6_K_q8_K_generic</c>, ggml/src/ggml-cpu/quants.c): lane l sums
/// <c>scale · q8[e] · q[e]</c> over the elements e ≡ l (mod 8) of a block. The float steps that follow
/// are the reference's: <c>sums[l] += d · (float)aux32[l]</c> per block, <c>sumf −= dmin · (float)sumi</c>
/// for the mins, and finally <c>sumf += sums[l]</c> in lane order.
/// </summary>
/// <remarks>
/// <para>How the lanes come out of <c>vpmaddubsw</c>, which adds products of adjacent bytes: in every
/// 16-byte half of a 32-element vector, elements p and p + 8 (the same lane class) are moved side by
/// side (<see cref="PairOrder"/>), both in the weights (one <c>vpshufb</c> on the packed bytes, which
/// moves their low and high nibbles together) and in the activations (once per call, see
/// <see cref="PairActivations"/>). <c>vpmaddubsw</c> then gives int16 k = the class-k sum of two
/// elements, for k = 0–7 in each half. The sums of two scale groups are interleaved
/// (<c>vpunpcklwd</c>/<c>vpunpckhwd</c>) and <c>vpmaddwd</c> with the pair of scales gives int32 class
/// sums, classes 0–3 and 4–7 in two accumulators whose halves are added at the end of the block. The
/// integer sums are exact, so the lanes equal the reference's <c>aux32</c>; this is llama.cpp's AVX2
/// <c>ggml_vec_dot_q4_K_q8_K</c>/<c>ggml_vec_dot_q6_K_q8_K</c> (ggml/src/ggml-cpu/arch/x86/quants.c)
/// with the reduction order of the generic code.</para>
/// <para>Bounds: Q4_K quants are 0–15, Q6_K quants 0–63, so <c>vpmaddubsw</c> of a quant pair with any
/// two int8 activations (also −128) stays within ±2·63·128 = 16128; the Q6_K offset is taken off as
/// <c>q·a − 32·a</c> per pair, within ±8192; times an int8 or 6-bit scale the int32 sums cannot
/// overflow.</para>
/// </remarks>
internal static unsafe class KQuantPacked
{
    private const int QK = KQuants.QK_K;
    private const int Q8Bytes = 292;

    /// <summary>A K-quant block layout with a direct lane kernel.</summary>
    public interface IPackedBlocks
    {
        /// <summary>Bytes in one weight block.</summary>
        static abstract int BlockBytes { get; }

        /// <summary>Byte offset of the float16 super-block scale <c>d</c>.</summary>
        static abstract int DOffset { get; }

        /// <summary>True when the type has mins: the dot subtracts <c>dmin·Σ bsums·m</c>.</summary>
        static abstract bool HasMins { get; }

        /// <summary>
        /// The eight lanes <c>aux32</c> of one block against a Q8_K block whose quants are in
        /// <see cref="PairOrder"/> (<paramref name="q8"/>); with mins, also four int32 whose sum is the
        /// reference's <c>sumi = Σ bsums[j]·m[j/2]</c> (<paramref name="bsums"/>: the activation
        /// block's 16 group sums, any int16).
        /// </summary>
        static abstract Vector256<int> Lanes(ref byte block, ref sbyte q8, Vector256<short> bsums, out Vector128<int> minProducts);
    }

    /// <summary>Bytes p and p + 8 of each 16-byte half side by side: <c>vpmaddubsw</c> then sums one lane class.</summary>
    private static Vector256<byte> PairOrder => Vector256.Create(
        (byte)0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
        0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);

    /// <summary>
    /// Copies the quants of <paramref name="blocks"/> Q8_K blocks into <paramref name="destination"/>
    /// (256 bytes per block) in <see cref="PairOrder"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PairActivations(ref BlockQ8_K y, int blocks, ref sbyte destination)
    {
        Vector256<byte> order = PairOrder;
        for (int b = 0; b < blocks; b++)
        {
            ref sbyte q = ref Unsafe.Add(ref y, b).Qs[0];
            ref sbyte d = ref Unsafe.Add(ref destination, b * QK);
            for (int c = 0; c < QK; c += 32)
                Avx2.Shuffle(Vector256.LoadUnsafe(ref q, (nuint)c).AsByte(), order).AsSByte().StoreUnsafe(ref d, (nuint)c);
        }
    }

    /// <summary>The 16 group sums <c>bsums</c> of a Q8_K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> BSums(ref BlockQ8_K y) => Vector256.LoadUnsafe(ref y.BSums[0]);

    /// <summary><c>acc + vpmaddwd(a, b)</c>, fused as <c>vpdpwssd</c> with AVX-VNNI (exact either way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<short> a, Vector256<short> b) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, a, b) : acc + Avx2.MultiplyAddAdjacent(a, b);

    /// <summary>
    /// Classes 0–3 of both halves in <paramref name="lo"/>, 4–7 in <paramref name="hi"/> → the eight
    /// lanes in order: <c>[lo.low + lo.high, hi.low + hi.high]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Combine(Vector256<int> lo, Vector256<int> hi) =>
        Avx2.Permute2x128(lo, hi, 0x20) + Avx2.Permute2x128(lo, hi, 0x31);

    /// <summary>Q4_K lane kernel (<see cref="BlockQ4_K"/>).</summary>
    public readonly struct Q4K : IPackedBlocks
    {
        /// <inheritdoc/>
        public static int BlockBytes => 144;
        /// <inheritdoc/>
        public static int DOffset => 0;
        /// <inheritdoc/>
        public static bool HasMins => true;

        /// <inheritdoc/>
        /// <remarks>
        /// Qs bytes 32k–32k+31 hold sub-block 2k in their low nibbles and 2k+1 in their high nibbles:
        /// one shuffle of the packed bytes orders both; the two sub-blocks' class sums are interleaved
        /// and scaled by the pair <c>(sc[2k], sc[2k+1])</c> in one <c>vpmaddwd</c>. The 6-bit scales
        /// and mins are unpacked as <c>get_scale_min_k4</c> reads them (four 32-bit masks, as
        /// llama.cpp's <c>utmp</c>).
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Lanes(ref byte block, ref sbyte q8, Vector256<short> bsums, out Vector128<int> minProducts)
        {
            ref BlockQ4_K x = ref Unsafe.As<byte, BlockQ4_K>(ref block);
            uint u0 = Unsafe.ReadUnaligned<uint>(ref x.Scales[0]);
            uint u1 = Unsafe.ReadUnaligned<uint>(ref x.Scales[4]);
            uint u2 = Unsafe.ReadUnaligned<uint>(ref x.Scales[8]);
            uint sc0 = u0 & 0x3f3f3f3f, sc1 = (u2 & 0x0f0f0f0f) | (((u0 >> 6) & 0x03030303) << 4);
            uint mn0 = u1 & 0x3f3f3f3f, mn1 = ((u2 >> 4) & 0x0f0f0f0f) | (((u1 >> 6) & 0x03030303) << 4);
            // int16 scales 0–7 then mins 0–7; int32 k (k < 4) is the scale pair of sub-blocks 2k, 2k+1.
            Vector128<byte> packed = Vector128.Create(sc0, sc1, mn0, mn1).AsByte();
            Vector256<int> sm = Avx2.ConvertToVector256Int16(packed).AsInt32();
            // bsums[j]·m[j/2]: the mins doubled up against the 16 group sums (exact for any int16 sums).
            Vector256<int> mp = Avx2.MultiplyAddAdjacent(bsums, Avx2.ConvertToVector256Int16(Ssse3.Shuffle(packed, MinPairs)).AsInt16());
            minProducts = mp.GetLower() + mp.GetUpper();

            Vector256<byte> order = PairOrder, mask = Vector256.Create((byte)0x0F);
            Vector256<int> lo = Vector256<int>.Zero, hi = Vector256<int>.Zero;
            for (int k = 0; k < 4; k++)
            {
                Vector256<byte> q = Avx2.Shuffle(Vector256.LoadUnsafe(ref x.Qs[32 * k]), order);
                Vector256<short> pl = Avx2.MultiplyAddAdjacent(q & mask, Vector256.LoadUnsafe(ref q8, (nuint)(64 * k)));
                Vector256<short> ph = Avx2.MultiplyAddAdjacent((q.AsUInt16() >> 4).AsByte() & mask, Vector256.LoadUnsafe(ref q8, (nuint)(64 * k + 32)));
                Vector256<short> s = Avx2.PermuteVar8x32(sm, Vector256.Create(k)).AsInt16();
                lo = MultiplyAdd(lo, Avx2.UnpackLow(pl, ph), s);
                hi = MultiplyAdd(hi, Avx2.UnpackHigh(pl, ph), s);
            }
            return Combine(lo, hi);
        }

        /// <summary>Bytes 8–15 (the mins) each twice.</summary>
        private static Vector128<byte> MinPairs => Vector128.Create((byte)8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    }

    /// <summary>Q6_K lane kernel (<see cref="BlockQ6_K"/>).</summary>
    public readonly struct Q6K : IPackedBlocks
    {
        /// <inheritdoc/>
        public static int BlockBytes => 210;
        /// <inheritdoc/>
        public static int DOffset => 208;
        /// <inheritdoc/>
        public static bool HasMins => false;

        /// <inheritdoc/>
        /// <remarks>
        /// Per half of 128 elements, the shuffled <c>ql</c> and <c>qh</c> bytes give the 6-bit quants of
        /// the four runs of 32 (<c>q = (ql &amp; 15) | ((qh &gt;&gt; 2m) &amp; 3) &lt;&lt; 4</c>); a run's low
        /// 16-byte half is one scale group and its high half the next, so runs m and m + 1 are
        /// interleaved and scaled by per-half scale pairs built with one shuffle each (scale in the
        /// high byte of an int16, then an arithmetic shift by 8 to sign-extend).
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Lanes(ref byte block, ref sbyte q8, Vector256<short> bsums, out Vector128<int> minProducts)
        {
            ref BlockQ6_K x = ref Unsafe.As<byte, BlockQ6_K>(ref block);
            minProducts = default;
            Vector256<byte> scales = Vector256.Create(Vector128.LoadUnsafe(ref Unsafe.As<sbyte, byte>(ref x.Scales[0])));
            Vector256<byte> order = PairOrder, mask = Vector256.Create((byte)0x0F), high = Vector256.Create((byte)0x30);
            Vector256<sbyte> offset = Vector256.Create((sbyte)32);
            Vector256<int> lo = Vector256<int>.Zero, hi = Vector256<int>.Zero;
            for (int h = 0; h < 2; h++)
            {
                Vector256<byte> l0 = Avx2.Shuffle(Vector256.LoadUnsafe(ref x.Ql[64 * h]), order);
                Vector256<byte> l1 = Avx2.Shuffle(Vector256.LoadUnsafe(ref x.Ql[64 * h + 32]), order);
                Vector256<byte> qh = Avx2.Shuffle(Vector256.LoadUnsafe(ref x.Qh[32 * h]), order);
                Vector256<byte> q0 = (l0 & mask) | ((qh.AsUInt16() << 4).AsByte() & high);
                Vector256<byte> q1 = (l1 & mask) | ((qh.AsUInt16() << 2).AsByte() & high);
                Vector256<byte> q2 = ((l0.AsUInt16() >> 4).AsByte() & mask) | (qh & high);
                Vector256<byte> q3 = ((l1.AsUInt16() >> 4).AsByte() & mask) | ((qh.AsUInt16() >> 2).AsByte() & high);
                ref sbyte a = ref Unsafe.Add(ref q8, 128 * h);
                Vector256<short> p0 = Products(q0, Vector256.LoadUnsafe(ref a, 0), offset);
                Vector256<short> p1 = Products(q1, Vector256.LoadUnsafe(ref a, 32), offset);
                Vector256<short> p2 = Products(q2, Vector256.LoadUnsafe(ref a, 64), offset);
                Vector256<short> p3 = Products(q3, Vector256.LoadUnsafe(ref a, 96), offset);
                Vector256<short> s01 = ScalePairs(scales, h == 0 ? Scales0 : Scales2);
                Vector256<short> s23 = ScalePairs(scales, h == 0 ? Scales1 : Scales3);
                lo = MultiplyAdd(lo, Avx2.UnpackLow(p0, p1), s01);
                hi = MultiplyAdd(hi, Avx2.UnpackHigh(p0, p1), s01);
                lo = MultiplyAdd(lo, Avx2.UnpackLow(p2, p3), s23);
                hi = MultiplyAdd(hi, Avx2.UnpackHigh(p2, p3), s23);
            }
            return Combine(lo, hi);
        }

        /// <summary>Class sums of <c>(q − 32)·a</c>: <c>vpmaddubsw(q, a) − vpmaddubsw(32, a)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<short> Products(Vector256<byte> q, Vector256<sbyte> a, Vector256<sbyte> offset) =>
            Avx2.MultiplyAddAdjacent(q, a) - Avx2.MultiplyAddAdjacent(offset.AsByte(), a);

        /// <summary>int16 pairs of scales picked by <paramref name="control"/> (scale into the high byte, then sign-extended).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<short> ScalePairs(Vector256<byte> scales, Vector256<byte> control) =>
            Avx2.ShiftRightArithmetic(Avx2.Shuffle(scales, control).AsInt16(), 8);

        // Groups of run m in half h: 8h + 2m (low 16 bytes) and 8h + 2m + 1 (high 16 bytes); the
        // int16 pairs are (run m, run m + 1): lane A (g, g + 2), lane B (g + 1, g + 3).
        private static Vector256<byte> Scales0 => Control(0);
        private static Vector256<byte> Scales1 => Control(4);
        private static Vector256<byte> Scales2 => Control(8);
        private static Vector256<byte> Scales3 => Control(12);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<byte> Control(byte g) => Vector256.Create(
            0x80, g, 0x80, (byte)(g + 2), 0x80, g, 0x80, (byte)(g + 2), 0x80, g, 0x80, (byte)(g + 2), 0x80, g, 0x80, (byte)(g + 2),
            0x80, (byte)(g + 1), 0x80, (byte)(g + 3), 0x80, (byte)(g + 1), 0x80, (byte)(g + 3), 0x80, (byte)(g + 1), 0x80, (byte)(g + 3), 0x80, (byte)(g + 1), 0x80, (byte)(g + 3));
    }

    /// <summary>
    /// AVX2 dot of <paramref name="nb"/> checked blocks, each activation block put in
    /// <see cref="PairOrder"/> on the way: the float steps of the generic reference.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotAvx2<T>(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb) where T : IPackedBlocks
    {
        ref byte x = ref MemoryMarshal.GetReference(weights);
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        sbyte* q8 = stackalloc sbyte[QK];
        Vector256<float> sums = Vector256<float>.Zero;
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            ref byte xb = ref Unsafe.Add(ref x, i * T.BlockBytes);
            PairActivations(ref yb, 1, ref *q8);
            Vector256<int> aux32 = T.Lanes(ref xb, ref *q8, T.HasMins ? BSums(ref yb) : default, out Vector128<int> minProducts);
            float d = HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref xb, T.DOffset))) * yb.D;
            sums += Vector256.Create(d) * Vector256.ConvertToSingle(aux32);
            if (T.HasMins)
            {
                float dmin = HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref xb, T.DOffset + 2))) * yb.D;
                sumf -= dmin * Sum(minProducts);
            }
        }
        return KQuantDot.AddLanes(sumf, sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Sum(Vector128<int> v)
    {
        Vector128<int> s = v + Sse2.Shuffle(v, 0b01_00_11_10);
        return (s + Sse2.Shuffle(s, 0b10_11_00_01)).ToScalar();
    }

    /// <summary>Activation bytes of a <see cref="MatMulAvx2{T}"/> call kept on the stack; more are rented.</summary>
    private const int StackActivationBytes = 16 * 1024;

    /// <summary>
    /// AVX2 matrix product over checked operands with <paramref name="nb"/> blocks per row: the
    /// activations are put in <see cref="PairOrder"/> once, then groups of four weight rows run
    /// against one token at a time (each activation load serves four rows; the next group's blocks
    /// are prefetched), every output taking exactly the float steps of <see cref="DotAvx2{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulAvx2<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IPackedBlocks
    {
        int pairedBytes = tokens * nb * QK;
        byte[]? rented = null;
        Span<byte> paired = pairedBytes <= StackActivationBytes
            ? stackalloc byte[pairedBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(pairedBytes));
        ref BlockQ8_K a = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        ref sbyte p = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(paired));
        PairActivations(ref a, tokens * nb, ref p);

        ref byte w = ref MemoryMarshal.GetReference(weights);
        int rowBytes = nb * T.BlockBytes, end = rowStart + rowCount, r = rowStart;
        nint ahead = 4 * (nint)rowBytes;
        for (; r + 4 <= end; r += 4)
        {
            ref byte x0 = ref Unsafe.Add(ref w, r * rowBytes);
            for (int t = 0; t < tokens; t++)
            {
                ref BlockQ8_K y = ref Unsafe.Add(ref a, t * nb);
                ref sbyte q8 = ref Unsafe.Add(ref p, t * nb * QK);
                Vector256<float> sums0 = Vector256<float>.Zero, sums1 = Vector256<float>.Zero, sums2 = Vector256<float>.Zero, sums3 = Vector256<float>.Zero;
                Vector128<float> sumf = Vector128<float>.Zero;
                for (int i = 0; i < nb; i++)
                {
                    ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
                    ref sbyte q8b = ref Unsafe.Add(ref q8, i * QK);
                    ref byte xb0 = ref Unsafe.Add(ref x0, i * T.BlockBytes);
                    ref byte xb1 = ref Unsafe.Add(ref xb0, rowBytes), xb2 = ref Unsafe.Add(ref xb1, rowBytes), xb3 = ref Unsafe.Add(ref xb2, rowBytes);
                    Prefetch<T>(ref xb0, ahead);
                    Prefetch<T>(ref xb1, ahead);
                    Prefetch<T>(ref xb2, ahead);
                    Prefetch<T>(ref xb3, ahead);
                    Vector256<short> bsums = T.HasMins ? BSums(ref yb) : default;
                    Vector256<int> aux0 = T.Lanes(ref xb0, ref q8b, bsums, out Vector128<int> m0);
                    Vector256<int> aux1 = T.Lanes(ref xb1, ref q8b, bsums, out Vector128<int> m1);
                    Vector256<int> aux2 = T.Lanes(ref xb2, ref q8b, bsums, out Vector128<int> m2);
                    Vector256<int> aux3 = T.Lanes(ref xb3, ref q8b, bsums, out Vector128<int> m3);
                    Vector128<float> dy = Vector128.Create(yb.D);
                    // d and dmin of the four rows in one conversion: lanes 0–3 d, 4–7 dmin.
                    Vector256<float> dx = HalfConversions.Fp16ToFp32(Vector256.Create(
                        (uint)Half(ref xb0, T.DOffset), Half(ref xb1, T.DOffset), Half(ref xb2, T.DOffset), Half(ref xb3, T.DOffset),
                        T.HasMins ? Half(ref xb0, T.DOffset + 2) : 0u, T.HasMins ? Half(ref xb1, T.DOffset + 2) : 0u,
                        T.HasMins ? Half(ref xb2, T.DOffset + 2) : 0u, T.HasMins ? Half(ref xb3, T.DOffset + 2) : 0u));
                    Vector128<float> d = dx.GetLower() * dy;
                    sums0 += Vector256.Create(d.GetElement(0)) * Vector256.ConvertToSingle(aux0);
                    sums1 += Vector256.Create(d.GetElement(1)) * Vector256.ConvertToSingle(aux1);
                    sums2 += Vector256.Create(d.GetElement(2)) * Vector256.ConvertToSingle(aux2);
                    sums3 += Vector256.Create(d.GetElement(3)) * Vector256.ConvertToSingle(aux3);
                    if (T.HasMins)
                    {
                        Vector128<int> sumi = Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(m0, m1), Ssse3.HorizontalAdd(m2, m3));
                        sumf -= dx.GetUpper() * dy * Vector128.ConvertToSingle(sumi);
                    }
                }
                ref float o = ref output[t * outputStride + r];
                o = KQuantDot.AddLanes(sumf.GetElement(0), sums0);
                Unsafe.Add(ref o, 1) = KQuantDot.AddLanes(sumf.GetElement(1), sums1);
                Unsafe.Add(ref o, 2) = KQuantDot.AddLanes(sumf.GetElement(2), sums2);
                Unsafe.Add(ref o, 3) = KQuantDot.AddLanes(sumf.GetElement(3), sums3);
            }
        }
        for (; r < end; r++)
        {
            ref byte x = ref Unsafe.Add(ref w, r * rowBytes);
            for (int t = 0; t < tokens; t++)
            {
                ref BlockQ8_K y = ref Unsafe.Add(ref a, t * nb);
                ref sbyte q8 = ref Unsafe.Add(ref p, t * nb * QK);
                Vector256<float> sums = Vector256<float>.Zero;
                float sumf = 0;
                for (int i = 0; i < nb; i++)
                {
                    ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
                    ref byte xb = ref Unsafe.Add(ref x, i * T.BlockBytes);
                    Vector256<int> aux32 = T.Lanes(ref xb, ref Unsafe.Add(ref q8, i * QK), T.HasMins ? BSums(ref yb) : default, out Vector128<int> minProducts);
                    float d = HalfConversions.Fp16ToFp32(Half(ref xb, T.DOffset)) * yb.D;
                    sums += Vector256.Create(d) * Vector256.ConvertToSingle(aux32);
                    if (T.HasMins)
                        sumf -= HalfConversions.Fp16ToFp32(Half(ref xb, T.DOffset + 2)) * yb.D * Sum(minProducts);
                }
                output[t * outputStride + r] = KQuantDot.AddLanes(sumf, sums);
            }
        }
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Half(ref byte block, int offset) => Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, offset));

    /// <summary>Asks for the cache lines of the block <paramref name="ahead"/> bytes on (raw pointers: prefetching never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<T>(ref byte block, nint ahead) where T : IPackedBlocks
    {
        byte* b = (byte*)Unsafe.AsPointer(ref block) + ahead;
        for (int o = 0; o < T.BlockBytes; o += 64)
            Sse.Prefetch0(b + o);
    }
}
