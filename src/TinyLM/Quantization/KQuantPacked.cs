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
/// <para>How the lanes come out of the integer multiply-adds: every run of 32 elements is put in
/// <em>class order</em> (<see cref="ToClassOrder"/>): int32 l of the vector holds the four elements
/// l, l + 8, l + 16, l + 24, which all belong to lane l. This is done for the weights with one byte
/// permutation of the packed bytes (it moves low and high nibbles, or the high-bit pairs, together)
/// and for the activations once per call (<see cref="ClassOrderActivations"/>). Then
/// <c>vpmaddubsw</c> adds two products of one lane, and <c>vpmaddwd</c> (<c>vpdpwssd</c> with
/// AVX-VNNI) multiplies by the scales and adds the other two into int32 l: the eight lanes of
/// <c>aux32</c>, in order, with no reduction at the end. The integer sums are exact, so the lanes
/// equal the reference's. llama.cpp's AVX2 <c>ggml_vec_dot_q4_K_q8_K</c>/<c>ggml_vec_dot_q6_K_q8_K</c>
/// (ggml/src/ggml-cpu/arch/x86/quants.c) use the same instructions but reduce across the lanes.</para>
/// <para>The permutation is one <c>vpermb</c> with AVX-512 VBMI, else <c>vpermd</c> + <c>vpshufb</c>.</para>
/// <para>Two schedules (<see cref="MatMulAvx2{T}"/>): decoding unpacks and multiplies in one pass in
/// registers (<see cref="IPackedBlocks.FusedLanes"/>), four rows per activation block with the next
/// four rows prefetched; prefill unpacks each weight block once (<see cref="IPackedBlocks.Prepare"/>)
/// and keeps it in registers while up to 64 tokens pass over it. Both take every output's float
/// steps in the reference's order, so all paths give the same bits as <c>DotReference</c>.</para>
/// <para>Bounds: Q4_K quants are 0–15, Q6_K quants 0–63, so <c>vpmaddubsw</c> of a quant pair with any
/// two int8 activations (also −128) stays within ±2·63·128 = 16128; the Q6_K offset is taken off as
/// <c>q·a − 32·a</c> per pair, within ±8192; times an int8 or 6-bit scale the int32 sums cannot
/// overflow.</para>
/// </remarks>
internal static unsafe class KQuantPacked
{
    private const int QK = KQuants.QK_K;

    /// <summary>A K-quant block layout with direct lane kernels.</summary>
    public interface IPackedBlocks
    {
        /// <summary>Bytes in one weight block.</summary>
        static abstract int BlockBytes { get; }

        /// <summary>Byte offset of the float16 super-block scale <c>d</c> (<c>dmin</c> follows it when <see cref="HasMins"/>).</summary>
        static abstract int DOffset { get; }

        /// <summary>True when the type has mins: the dot subtracts <c>dmin·Σ bsums·m</c>.</summary>
        static abstract bool HasMins { get; }

        /// <summary>True when the quants carry an offset of 32 (Q6_K): each product is <c>(q − 32)·a</c>.</summary>
        static abstract bool Offset32 { get; }

        /// <summary>
        /// Unpacks the quants of one block into eight class-ordered runs of 32 (unsigned, without the
        /// offset), the scales each run is multiplied by (int16, as <c>vpmaddwd</c> pairs them) and,
        /// with mins, each min twice (against the 16 group sums of the activation block).
        /// </summary>
        static abstract void Prepare(ref byte block, ref PreparedBlock prepared);

        /// <summary>
        /// <see cref="Prepare"/> and <see cref="Lanes{T}"/> in one pass, in registers: the lanes of one
        /// block against class-ordered activations <paramref name="q8"/>, and with mins the eight int32
        /// partials of <c>Σ bsums[j]·m[j/2]</c> (<paramref name="bsums"/>: the activation block's group sums).
        /// With <see cref="Offset32"/>, <paramref name="offsets"/> holds <c>vpmaddubsw(32, a)</c> of the
        /// eight activation runs (<see cref="Offsets"/>), shared by the rows that meet the same block.
        /// </summary>
        static abstract Vector256<int> FusedLanes(ref byte block, ref sbyte q8, ref short offsets, Vector256<short> bsums, out Vector256<int> minProducts);
    }

    /// <summary>One weight block ready for <see cref="Lanes{T}"/>: quants, scales, mins.</summary>
    public struct PreparedBlock
    {
        /// <summary>Run j: elements 32j–32j+31 in class order, as unsigned bytes.</summary>
        public Runs Quants;

        /// <summary>The int16 scales of run j: the first int16 of each int32 for elements 0–15 of the run, the second for 16–31.</summary>
        public RunScales Scales;

        /// <summary><c>m[j/2]</c> for j = 0–15, against <c>bsums[j]</c> (types with mins).</summary>
        public Vector256<short> Mins;
    }

    /// <summary>Eight class-ordered runs of quants.</summary>
    [InlineArray(8)]
    public struct Runs
    {
        private Vector256<byte> _run;
    }

    /// <summary>The scales of eight runs.</summary>
    [InlineArray(8)]
    public struct RunScales
    {
        private Vector256<short> _scales;
    }

    /// <summary>Byte 4l + k of the result is byte l + 8k of the input (AVX-512 VBMI <c>vpermb</c>).</summary>
    private static Vector256<byte> ClassBytes { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create(
        (byte)0, 8, 16, 24, 1, 9, 17, 25, 2, 10, 18, 26, 3, 11, 19, 27,
        4, 12, 20, 28, 5, 13, 21, 29, 6, 14, 22, 30, 7, 15, 23, 31); }

    /// <summary>AVX2 form, first step: int32 0, 2, 4, 6 (elements ≡ 0–3) to the low half, 1, 3, 5, 7 to the high half.</summary>
    private static Vector256<int> ClassDwords { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7); }

    /// <summary>AVX2 form, second step: gather bytes l, l + 4, l + 8, l + 12 of each half.</summary>
    private static Vector256<byte> ClassInLane { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector256.Create(
        (byte)0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
        0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15); }

    /// <summary>32 bytes in class order: int32 l holds bytes l, l + 8, l + 16, l + 24.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> ToClassOrder(Vector256<byte> v) => Avx512Vbmi.VL.IsSupported
        ? Avx512Vbmi.VL.PermuteVar32x8(v, ClassBytes)
        : Avx2.Shuffle(Avx2.PermuteVar8x32(v.AsInt32(), ClassDwords).AsByte(), ClassInLane);

    /// <summary>
    /// Copies the quants of <paramref name="blocks"/> Q8_K blocks into <paramref name="destination"/>
    /// (256 bytes per block), each run of 32 in class order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ClassOrderActivations(ref BlockQ8_K y, int blocks, ref sbyte destination)
    {
        for (int b = 0; b < blocks; b++)
        {
            ref sbyte q = ref Unsafe.Add(ref y, b).Qs[0];
            ref sbyte d = ref Unsafe.Add(ref destination, b * QK);
            for (int c = 0; c < QK; c += 32)
                ToClassOrder(Vector256.LoadUnsafe(ref q, (nuint)c).AsByte()).AsSByte().StoreUnsafe(ref d, (nuint)c);
        }
    }

    /// <summary><c>acc + vpmaddwd(a, b)</c>, fused as <c>vpdpwssd</c> with AVX-VNNI (exact either way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<short> a, Vector256<short> b) =>
        AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, a, b) : acc + Avx2.MultiplyAddAdjacent(a, b);

    /// <summary>
    /// The eight lanes <c>aux32</c> of a prepared block against a class-ordered Q8_K block
    /// <paramref name="q8"/>: <c>Σ_j scales_j · (q_j [− 32]) · a_j</c> per lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Lanes<T>(ref PreparedBlock w, ref sbyte q8) where T : IPackedBlocks
    {
        Vector256<int> acc = Run<T>(Vector256<int>.Zero, ref w, ref q8, 0);
        acc = Run<T>(acc, ref w, ref q8, 1);
        acc = Run<T>(acc, ref w, ref q8, 2);
        acc = Run<T>(acc, ref w, ref q8, 3);
        acc = Run<T>(acc, ref w, ref q8, 4);
        acc = Run<T>(acc, ref w, ref q8, 5);
        acc = Run<T>(acc, ref w, ref q8, 6);
        return Run<T>(acc, ref w, ref q8, 7);
    }

    /// <summary>Run <paramref name="j"/> of <see cref="Lanes{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Run<T>(Vector256<int> acc, ref PreparedBlock w, ref sbyte q8, int j) where T : IPackedBlocks
    {
        Vector256<sbyte> a = Vector256.LoadUnsafe(ref q8, (nuint)(32 * j));
        return MultiplyAdd(acc, Products<T>(w.Quants[j], a), w.Scales[j]);
    }

    /// <summary><c>vpmaddubsw(q, a)</c>, minus <c>vpmaddubsw(32, a)</c> for quants with the offset 32: pair sums of <c>(q [− 32])·a</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Products<T>(Vector256<byte> q, Vector256<sbyte> a) where T : IPackedBlocks
    {
        Vector256<short> p = Avx2.MultiplyAddAdjacent(q, a);
        if (T.Offset32)
            p -= Avx2.MultiplyAddAdjacent(Vector256.Create((byte)32), a);
        return p;
    }

    /// <summary><c>vpmaddubsw(32, a)</c> of the eight class-ordered runs of one activation block: <c>32·(a + a')</c> per pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Offsets(ref sbyte q8, ref short offsets)
    {
        Vector256<byte> offset = Vector256.Create((byte)32);
        for (int j = 0; j < 8; j++)
            Avx2.MultiplyAddAdjacent(offset, Vector256.LoadUnsafe(ref q8, (nuint)(32 * j))).StoreUnsafe(ref offsets, (nuint)(16 * j));
    }

    /// <summary>The reference's <c>sumi = Σ bsums[j]·m[j/2]</c> as eight int32 partials (exact for any int16 sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MinProducts(ref PreparedBlock w, ref BlockQ8_K y) =>
        Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref y.BSums[0]), w.Mins);

    /// <summary>Q4_K blocks (<see cref="BlockQ4_K"/>).</summary>
    public readonly struct Q4K : IPackedBlocks
    {
        /// <inheritdoc/>
        public static int BlockBytes => 144;
        /// <inheritdoc/>
        public static int DOffset => 0;
        /// <inheritdoc/>
        public static bool HasMins => true;
        /// <inheritdoc/>
        public static bool Offset32 => false;

        /// <inheritdoc/>
        /// <remarks>
        /// Qs bytes 32k–32k+31 hold run 2k in their low nibbles and run 2k+1 in their high nibbles: one
        /// permutation of the packed bytes orders both. The 6-bit scales and mins are unpacked as
        /// <c>get_scale_min_k4</c> reads them (four 32-bit masks, as llama.cpp's <c>utmp</c>).
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Prepare(ref byte block, ref PreparedBlock w)
        {
            ref BlockQ4_K x = ref Unsafe.As<byte, BlockQ4_K>(ref block);
            PrepareFrom(ScalesAndMins(ref x), ClassOrderedChunk(ref x, 0), ClassOrderedChunk(ref x, 1), ClassOrderedChunk(ref x, 2), ClassOrderedChunk(ref x, 3), ref w);
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> FusedLanes(ref byte block, ref sbyte q8, ref short offsets, Vector256<short> bsums, out Vector256<int> minProducts)
        {
            ref BlockQ4_K x = ref Unsafe.As<byte, BlockQ4_K>(ref block);
            return FusedFrom(ScalesAndMins(ref x), ClassOrderedChunk(ref x, 0), ClassOrderedChunk(ref x, 1), ClassOrderedChunk(ref x, 2), ClassOrderedChunk(ref x, 3),
                ref q8, bsums, out minProducts);
        }

        /// <summary>
        /// The eight 6-bit scales (bytes 0–7) and mins (bytes 8–15) as <c>get_scale_min_k4</c> reads
        /// them (four 32-bit masks, as llama.cpp's <c>utmp</c>).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector128<byte> ScalesAndMins(ref BlockQ4_K x)
        {
            uint u0 = Unsafe.ReadUnaligned<uint>(ref x.Scales[0]);
            uint u1 = Unsafe.ReadUnaligned<uint>(ref x.Scales[4]);
            uint u2 = Unsafe.ReadUnaligned<uint>(ref x.Scales[8]);
            uint sc0 = u0 & 0x3f3f3f3f, sc1 = (u2 & 0x0f0f0f0f) | (((u0 >> 6) & 0x03030303) << 4);
            uint mn0 = u1 & 0x3f3f3f3f, mn1 = ((u2 >> 4) & 0x0f0f0f0f) | (((u1 >> 6) & 0x03030303) << 4);
            return Vector128.Create(sc0, sc1, mn0, mn1).AsByte();
        }

        /// <summary>Qs bytes 32k–32k+31 in class order: runs 2k (low nibbles) and 2k+1 (high nibbles).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<byte> ClassOrderedChunk(ref BlockQ4_K x, int k) => ToClassOrder(Vector256.LoadUnsafe(ref x.Qs[32 * k]));

        /// <summary><see cref="Prepare"/> from the unpacked scales and mins and the four class-ordered chunks.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void PrepareFrom(Vector128<byte> scalesAndMins, Vector256<byte> c0, Vector256<byte> c1, Vector256<byte> c2, Vector256<byte> c3, ref PreparedBlock w)
        {
            // Bytes 0–7 scales, 8–15 mins; int16 j of every 128-bit half: scale j.
            Vector256<byte> scales = Vector256.Create(Sse41.ConvertToVector128Int16(scalesAndMins).AsByte());
            w.Mins = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scalesAndMins, MinPairs)).AsInt16();
            PrepareChunk(c0, ref w, scales, 0);
            PrepareChunk(c1, ref w, scales, 1);
            PrepareChunk(c2, ref w, scales, 2);
            PrepareChunk(c3, ref w, scales, 3);
        }

        /// <summary>Runs 2k (low nibbles of chunk <paramref name="q"/>) and 2k+1 (high nibbles) and their scales.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PrepareChunk(Vector256<byte> q, ref PreparedBlock w, Vector256<byte> scales, int k)
        {
            Vector256<byte> mask = Vector256.Create((byte)0x0F);
            w.Quants[2 * k] = q & mask;
            w.Quants[2 * k + 1] = (q.AsUInt16() >> 4).AsByte() & mask;
            w.Scales[2 * k] = Avx2.Shuffle(scales, Broadcast16((byte)(2 * k))).AsInt16();
            w.Scales[2 * k + 1] = Avx2.Shuffle(scales, Broadcast16((byte)(2 * k + 1))).AsInt16();
        }

        /// <summary><see cref="FusedLanes"/> from the unpacked scales and mins and the four class-ordered chunks.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<int> FusedFrom(Vector128<byte> scalesAndMins, Vector256<byte> c0, Vector256<byte> c1, Vector256<byte> c2, Vector256<byte> c3,
            ref sbyte q8, Vector256<short> bsums, out Vector256<int> minProducts)
        {
            Vector256<byte> scales = Vector256.Create(Sse41.ConvertToVector128Int16(scalesAndMins).AsByte());
            minProducts = Avx2.MultiplyAddAdjacent(bsums, Avx2.ConvertToVector256Int16(Ssse3.Shuffle(scalesAndMins, MinPairs)).AsInt16());
            Vector256<int> acc = FusedChunk(Vector256<int>.Zero, c0, ref q8, scales, 0);
            acc = FusedChunk(acc, c1, ref q8, scales, 1);
            acc = FusedChunk(acc, c2, ref q8, scales, 2);
            return FusedChunk(acc, c3, ref q8, scales, 3);
        }

        /// <summary>Runs 2k and 2k+1 of <see cref="FusedLanes"/> from class-ordered chunk <paramref name="q"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> FusedChunk(Vector256<int> acc, Vector256<byte> q, ref sbyte q8, Vector256<byte> scales, int k)
        {
            Vector256<byte> mask = Vector256.Create((byte)0x0F);
            Vector256<short> pl = Avx2.MultiplyAddAdjacent(q & mask, Vector256.LoadUnsafe(ref q8, (nuint)(64 * k)));
            Vector256<short> ph = Avx2.MultiplyAddAdjacent((q.AsUInt16() >> 4).AsByte() & mask, Vector256.LoadUnsafe(ref q8, (nuint)(64 * k + 32)));
            acc = MultiplyAdd(acc, pl, Avx2.Shuffle(scales, Broadcast16((byte)(2 * k))).AsInt16());
            return MultiplyAdd(acc, ph, Avx2.Shuffle(scales, Broadcast16((byte)(2 * k + 1))).AsInt16());
        }

        /// <summary>Bytes 8–15 (the mins) each twice, zero-extended to int16 by the caller.</summary>
        internal static Vector128<byte> MinPairs { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => Vector128.Create((byte)8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15); }

        /// <summary>vpshufb control repeating int16 <paramref name="j"/> of each half.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static Vector256<byte> Broadcast16(byte j) =>
            Vector256.Create((ushort)(2 * j | (2 * j + 1) << 8)).AsByte();
    }

    /// <summary>Q6_K blocks (<see cref="BlockQ6_K"/>).</summary>
    public readonly struct Q6K : IPackedBlocks
    {
        /// <inheritdoc/>
        public static int BlockBytes => 210;
        /// <inheritdoc/>
        public static int DOffset => 208;
        /// <inheritdoc/>
        public static bool HasMins => false;
        /// <inheritdoc/>
        public static bool Offset32 => true;

        /// <inheritdoc/>
        /// <remarks>
        /// Per half h of 128 elements, the permuted <c>ql</c> and <c>qh</c> bytes give the 6-bit quants
        /// of runs 4h + m, m = 0–3 (<c>q = (ql &amp; 15) | ((qh &gt;&gt; 2m) &amp; 3) &lt;&lt; 4</c>, ql's high
        /// nibbles for m ≥ 2). Elements 0–15 of run 4h + m are scale group 8h + 2m, 16–31 group 8h + 2m + 1:
        /// in class order these are the first and second int16 of each int32 after <c>vpmaddubsw</c>, so
        /// the run's scale vector is that pair of int8 scales sign-extended, in every int32.
        /// </remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Prepare(ref byte block, ref PreparedBlock w)
        {
            ref BlockQ6_K x = ref Unsafe.As<byte, BlockQ6_K>(ref block);
            Vector256<int> scales = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref x.Scales[0])).AsInt32();
            PrepareHalf(ref x, ref w, scales, 0);
            PrepareHalf(ref x, ref w, scales, 1);
        }

        /// <summary>Runs 4h–4h+3 and their scales.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void PrepareHalf(ref BlockQ6_K x, ref PreparedBlock w, Vector256<int> scales, int h)
        {
            Quants(ref x, h, out w.Quants[4 * h], out w.Quants[4 * h + 1], out w.Quants[4 * h + 2], out w.Quants[4 * h + 3]);
            w.Scales[4 * h] = Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h)).AsInt16();
            w.Scales[4 * h + 1] = Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h + 1)).AsInt16();
            w.Scales[4 * h + 2] = Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h + 2)).AsInt16();
            w.Scales[4 * h + 3] = Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h + 3)).AsInt16();
        }

        /// <summary>The 6-bit quants of runs 4h + m, m = 0–3, in class order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Quants(ref BlockQ6_K x, int h, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3)
        {
            Vector256<byte> mask = Vector256.Create((byte)0x0F), high = Vector256.Create((byte)0x30);
            Vector256<byte> l0 = ToClassOrder(Vector256.LoadUnsafe(ref x.Ql[64 * h]));
            Vector256<byte> l1 = ToClassOrder(Vector256.LoadUnsafe(ref x.Ql[64 * h + 32]));
            Vector256<byte> qh = ToClassOrder(Vector256.LoadUnsafe(ref x.Qh[32 * h]));
            q0 = (l0 & mask) | ((qh.AsUInt16() << 4).AsByte() & high);
            q1 = (l1 & mask) | ((qh.AsUInt16() << 2).AsByte() & high);
            q2 = ((l0.AsUInt16() >> 4).AsByte() & mask) | (qh & high);
            q3 = ((l1.AsUInt16() >> 4).AsByte() & mask) | ((qh.AsUInt16() >> 2).AsByte() & high);
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> FusedLanes(ref byte block, ref sbyte q8, ref short offsets, Vector256<short> bsums, out Vector256<int> minProducts)
        {
            ref BlockQ6_K x = ref Unsafe.As<byte, BlockQ6_K>(ref block);
            minProducts = default;
            Vector256<int> scales = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref x.Scales[0])).AsInt32();
            Vector256<int> acc = FusedHalf(Vector256<int>.Zero, ref x, ref q8, ref offsets, scales, 0);
            return FusedHalf(acc, ref x, ref q8, ref offsets, scales, 1);
        }

        /// <summary>Runs 4h–4h+3 of <see cref="FusedLanes"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> FusedHalf(Vector256<int> acc, ref BlockQ6_K x, ref sbyte q8, ref short offsets, Vector256<int> scales, int h)
        {
            Quants(ref x, h, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3);
            ref sbyte a = ref Unsafe.Add(ref q8, 128 * h);
            ref short o = ref Unsafe.Add(ref offsets, 64 * h);
            acc = MultiplyAdd(acc, Avx2.MultiplyAddAdjacent(q0, Vector256.LoadUnsafe(ref a, 0)) - Vector256.LoadUnsafe(ref o, 0), Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h)).AsInt16());
            acc = MultiplyAdd(acc, Avx2.MultiplyAddAdjacent(q1, Vector256.LoadUnsafe(ref a, 32)) - Vector256.LoadUnsafe(ref o, 16), Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h + 1)).AsInt16());
            acc = MultiplyAdd(acc, Avx2.MultiplyAddAdjacent(q2, Vector256.LoadUnsafe(ref a, 64)) - Vector256.LoadUnsafe(ref o, 32), Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h + 2)).AsInt16());
            return MultiplyAdd(acc, Avx2.MultiplyAddAdjacent(q3, Vector256.LoadUnsafe(ref a, 96)) - Vector256.LoadUnsafe(ref o, 48), Avx2.PermuteVar8x32(scales, Vector256.Create(4 * h + 3)).AsInt16());
        }
    }

    /// <summary>
    /// AVX2 dot of <paramref name="nb"/> checked blocks, each activation block put in class order on
    /// the way: the float steps of the generic reference.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotAvx2<T>(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb) where T : IPackedBlocks
    {
        ref byte x = ref MemoryMarshal.GetReference(weights);
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        sbyte* q8 = stackalloc sbyte[QK];
        PreparedBlock w = default;
        Vector256<float> sums = Vector256<float>.Zero;
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            ref byte xb = ref Unsafe.Add(ref x, i * T.BlockBytes);
            ClassOrderActivations(ref yb, 1, ref *q8);
            T.Prepare(ref xb, ref w);
            float d = HalfConversions.Fp16ToFp32(Half(ref xb, T.DOffset)) * yb.D;
            sums += Vector256.Create(d) * Vector256.ConvertToSingle(Lanes<T>(ref w, ref *q8));
            if (T.HasMins)
                sumf -= HalfConversions.Fp16ToFp32(Half(ref xb, T.DOffset + 2)) * yb.D * Vector256.Sum(MinProducts(ref w, ref yb));
        }
        return KQuantDot.AddLanes(sumf, sums);
    }

    /// <summary>Tokens whose float accumulators one prefill pass of <see cref="MatMulAvx2{T}"/> keeps on the stack.</summary>
    private const int PassTokens = 64;

    /// <summary>
    /// AVX2 matrix product over checked operands with <paramref name="nb"/> blocks per row; every output
    /// takes exactly the float steps of <see cref="DotAvx2{T}"/>. The activations are put in class
    /// order once per call. One token (decode): groups of four rows against each activation block,
    /// the next group's blocks prefetched. Several tokens (prefill): each weight block is prepared
    /// once for up to 64 tokens, whose accumulators live on the stack.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulAvx2<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IPackedBlocks
    {
        const int StackBytes = 16 * 1024;
        int orderedBytes = tokens * nb * QK;
        byte[]? rented = null;
        Span<byte> ordered = orderedBytes <= StackBytes
            ? stackalloc byte[orderedBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(orderedBytes));
        ref BlockQ8_K a = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        ref sbyte p = ref Unsafe.As<byte, sbyte>(ref MemoryMarshal.GetReference(ordered));
        ClassOrderActivations(ref a, tokens * nb, ref p);
        Vector256<float>* sums = stackalloc Vector256<float>[PassTokens];
        float* sumf = stackalloc float[PassTokens];
        if (tokens >= 4)
            Prefill<T>(weights, rowStart, rowCount, nb, ref a, ref p, tokens, output, outputStride, sums, sumf);
        else
            Decode<T>(weights, rowStart, rowCount, nb, ref a, ref p, tokens, output, outputStride, sums, sumf);
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>Rows in groups of four against one token at a time, prefetching the next group.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Decode<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ref BlockQ8_K a, ref sbyte p, int tokens, Span<float> output, int outputStride, Vector256<float>* sums, float* sumf) where T : IPackedBlocks
    {
        ref byte w = ref MemoryMarshal.GetReference(weights);
        int rowBytes = nb * T.BlockBytes, end = rowStart + rowCount, r = rowStart;
        nint ahead = 4 * (nint)rowBytes;
        short* offsets = stackalloc short[QK / 2];
        for (; r + 4 <= end; r += 4)
        {
            ref byte x0 = ref Unsafe.Add(ref w, r * rowBytes);
            for (int t = 0; t < tokens; t++)
            {
                ref BlockQ8_K y = ref Unsafe.Add(ref a, t * nb);
                ref sbyte q8 = ref Unsafe.Add(ref p, t * nb * QK);
                Vector256<float> sums0 = Vector256<float>.Zero, sums1 = Vector256<float>.Zero, sums2 = Vector256<float>.Zero, sums3 = Vector256<float>.Zero;
                Vector128<float> sumf4 = Vector128<float>.Zero;
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
                    Vector256<short> bsums = T.HasMins ? Vector256.LoadUnsafe(ref yb.BSums[0]) : default;
                    if (T.Offset32)
                        Offsets(ref q8b, ref *offsets);
                    Vector256<int> aux0 = T.FusedLanes(ref xb0, ref q8b, ref *offsets, bsums, out Vector256<int> m0);
                    Vector256<int> aux1 = T.FusedLanes(ref xb1, ref q8b, ref *offsets, bsums, out Vector256<int> m1);
                    Vector256<int> aux2 = T.FusedLanes(ref xb2, ref q8b, ref *offsets, bsums, out Vector256<int> m2);
                    Vector256<int> aux3 = T.FusedLanes(ref xb3, ref q8b, ref *offsets, bsums, out Vector256<int> m3);
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
                        Vector128<int> sumi = BlockDot.Sum4(m0, m1, m2, m3);
                        sumf4 -= dx.GetUpper() * dy * Vector128.ConvertToSingle(sumi);
                    }
                }
                ref float o = ref output[t * outputStride + r];
                o = KQuantDot.AddLanes(sumf4.GetElement(0), sums0);
                Unsafe.Add(ref o, 1) = KQuantDot.AddLanes(sumf4.GetElement(1), sums1);
                Unsafe.Add(ref o, 2) = KQuantDot.AddLanes(sumf4.GetElement(2), sums2);
                Unsafe.Add(ref o, 3) = KQuantDot.AddLanes(sumf4.GetElement(3), sums3);
            }
        }
        for (; r < end; r++)
            RowTokens<T>(ref Unsafe.Add(ref w, r * rowBytes), nb, ref a, ref p, 0, tokens, output, outputStride, r, sums, sumf);
    }

    /// <summary>Each row against all tokens, each weight block prepared once per pass of up to 64 tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Prefill<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ref BlockQ8_K a, ref sbyte p, int tokens, Span<float> output, int outputStride, Vector256<float>* sums, float* sumf) where T : IPackedBlocks
    {
        ref byte w = ref MemoryMarshal.GetReference(weights);
        int rowBytes = nb * T.BlockBytes;
        for (int t0 = 0; t0 < tokens; t0 += PassTokens)
        {
            int tn = Math.Min(PassTokens, tokens - t0);
            for (int r = rowStart; r < rowStart + rowCount; r++)
                RowTokens<T>(ref Unsafe.Add(ref w, r * rowBytes), nb, ref a, ref p, t0, tn, output, outputStride, r, sums, sumf);
        }
    }

    /// <summary>One row against tokens <paramref name="t0"/>.. (at most 64), each weight block prepared once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowTokens<T>(ref byte x, int nb, ref BlockQ8_K a, ref sbyte p, int t0, int tn,
        Span<float> output, int outputStride, int r, Vector256<float>* sums, float* sumf) where T : IPackedBlocks
    {
        for (int t = 0; t < tn; t++)
        {
            sums[t] = Vector256<float>.Zero;
            sumf[t] = 0;
        }
        PreparedBlock wb = default;
        for (int i = 0; i < nb; i++)
        {
            ref byte xb = ref Unsafe.Add(ref x, i * T.BlockBytes);
            T.Prepare(ref xb, ref wb);
            float dx = HalfConversions.Fp16ToFp32(Half(ref xb, T.DOffset));
            float dmx = T.HasMins ? HalfConversions.Fp16ToFp32(Half(ref xb, T.DOffset + 2)) : 0;
            // The prepared block in locals (registers when there are enough) for the token loop.
            Vector256<byte> q0 = wb.Quants[0], q1 = wb.Quants[1], q2 = wb.Quants[2], q3 = wb.Quants[3];
            Vector256<byte> q4 = wb.Quants[4], q5 = wb.Quants[5], q6 = wb.Quants[6], q7 = wb.Quants[7];
            Vector256<short> s0 = wb.Scales[0], s1 = wb.Scales[1], s2 = wb.Scales[2], s3 = wb.Scales[3];
            Vector256<short> s4 = wb.Scales[4], s5 = wb.Scales[5], s6 = wb.Scales[6], s7 = wb.Scales[7];
            Vector256<short> mins = wb.Mins;
            for (int t = 0; t < tn; t++)
            {
                int k = (t0 + t) * nb + i;
                ref BlockQ8_K yb = ref Unsafe.Add(ref a, k);
                ref sbyte q8 = ref Unsafe.Add(ref p, k * QK);
                Vector256<int> acc = MultiplyAdd(Vector256<int>.Zero, Products<T>(q0, Vector256.LoadUnsafe(ref q8, 0)), s0);
                acc = MultiplyAdd(acc, Products<T>(q1, Vector256.LoadUnsafe(ref q8, 32)), s1);
                acc = MultiplyAdd(acc, Products<T>(q2, Vector256.LoadUnsafe(ref q8, 64)), s2);
                acc = MultiplyAdd(acc, Products<T>(q3, Vector256.LoadUnsafe(ref q8, 96)), s3);
                acc = MultiplyAdd(acc, Products<T>(q4, Vector256.LoadUnsafe(ref q8, 128)), s4);
                acc = MultiplyAdd(acc, Products<T>(q5, Vector256.LoadUnsafe(ref q8, 160)), s5);
                acc = MultiplyAdd(acc, Products<T>(q6, Vector256.LoadUnsafe(ref q8, 192)), s6);
                acc = MultiplyAdd(acc, Products<T>(q7, Vector256.LoadUnsafe(ref q8, 224)), s7);
                sums[t] += Vector256.Create(dx * yb.D) * Vector256.ConvertToSingle(acc);
                if (T.HasMins)
                    sumf[t] -= dmx * yb.D * Vector256.Sum(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref yb.BSums[0]), mins));
            }
        }
        for (int t = 0; t < tn; t++)
            output[(t0 + t) * outputStride + r] = KQuantDot.AddLanes(sumf[t], sums[t]);
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
