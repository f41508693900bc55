using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// K-quant (Q2_K … Q6_K) matrix products on eight-row panels (native x86, AVX2; AVX-VNNI fuses the
/// int16 step): the rows of a panel sit in the eight int32 lanes of a vector, and the eight lanes of
/// ggml's generic Q3_K … Q6_K dots (<c>ggml_vec_dot_q3_K_q8_K_generic</c>, <c>…q4_K…</c>,
/// <c>…q5_K…</c>, <c>…q6_K…</c>, ggml/src/ggml-cpu/quants.c: lane l sums <c>scale·q·a</c> over the elements e ≡ l (mod 8) of a
/// super-block, <c>aux32[l]</c>) each get their own accumulator vector. So every float step of the
/// reference — <c>sums[l] += d·aux32[l]</c> per block, Q4_K's and Q5_K's <c>sumf −= dmin·sumi</c>,
/// <c>sumf += sums[l]</c> in lane order — is one vector operation for eight rows, with no horizontal
/// sum anywhere, and every output equals <c>DotReference</c> bit for bit.
/// </summary>
/// <remarks>
/// <para>How a lane's products reach its int32: a weight vector holds, for each row i, four quants of
/// class l at bytes 4i … 4i + 3 — two of one scale group, two of the next. <c>vpmaddubsw</c> against a
/// broadcast group of the four matching activation bytes gives one int16 pair sum per group, and
/// <c>vpmaddwd</c> (<c>vpdpwssd</c>) with the rows' two scales (int16 pairs from
/// <c>vpmovzxbw</c>/<c>vpmovsxbw</c> of bytes stored as pairs) adds both, scaled, into row i's int32.
/// Eight such steps per class and block (Q4_K: 32 nibble vectors, each feeding two steps; Q5_K: the
/// same plus a fifth bit per quant; Q6_K: 64 vectors of 6-bit quants from nibbles and high-bit pairs;
/// Q3_K: 64 vectors of 3-bit quants from two-bit and one-bit planes, through Q6_K's pass). This is
/// llama.cpp's repacking idea (<c>block_q4_Kx8</c>, ggml/src/ggml-cpu/repack.cpp) arranged so that
/// the lanes of the generic dot stay apart (Q2_K's generic dot has no lanes, only one exact integer
/// sum per block). Layouts: <see cref="Q2K"/>, <see cref="Q3K"/>, <see cref="Q4K"/>,
/// <see cref="Q5K"/>, <see cref="Q6K"/> (all five also in pairs, sixteen rows per zmm register, by
/// <see cref="WideKQuantPanels"/>); <see cref="MatMul{TPanel}"/> also runs
/// <see cref="TernaryPanels"/>' layouts.</para>
/// <para>Activations (Q8_K) are rearranged once per call into each layout's element order. Tokens
/// pass over a panel four at a time: each unpacked weight vector feeds four tokens; a single decoded
/// token takes the same code with one.</para>
/// <para>Bounds: Q3_K quants (plus 4) 0–7, Q4_K 0–15, Q5_K 0–31, Q6_K (plus 32) 0–63, against int8
/// activations (also −128): <c>vpmaddubsw</c> pairs within ±16128 (no saturation); the offset pairs
/// <c>32·(a + a')</c> (Q6_K) or <c>4·(a + a')</c> (Q3_K) taken off leave the exact <c>q·a</c> pair;
/// times 6-bit or int8 scales, summed over a block, far inside int32. Q4_K's and Q5_K's pair sums of
/// bsums are within ±4096 for quantized activations (|bsums| ≤ 16·128).</para>
/// </remarks>
internal static unsafe class KQuantPanels
{
    /// <summary>Rows per panel (one int32 lane each).</summary>
    public const int PanelRows = 8;

    private const int QK = KQuants.QK_K;

    /// <summary>Whether this CPU runs the panel products (AVX2).</summary>
    public static bool IsSupported => Avx2.IsSupported;

    [ThreadStatic] private static byte[]? t_activations;

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c>, multiples of <see cref="PanelRows"/>, of a matrix
    /// packed by <see cref="PackMatrix{TPanel}"/> (<typeparamref name="TPanel"/>;
    /// <paramref name="nb"/> blocks per row) times <paramref name="tokens"/> activation rows of the
    /// layout's activation type (Q8_K; Q8_1 for <see cref="Q4_1.PanelLayout"/> and <see cref="Q5_1.PanelLayout"/>):
    /// <c>output[t·outputStride + r]</c>. Operands already checked
    /// (<see cref="TensorTypeChecks.MatMulBlocks"/>); needs <see cref="IsSupported"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMul<TPanel>(byte* packed, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where TPanel : IPanelType
    {
        fixed (byte* pinned = ActivationBuffer<TPanel>(tokens * nb))
        {
            byte* a = Rearrange<TPanel>(activations, tokens * nb, pinned);
            Vector256<float>* sums = stackalloc Vector256<float>[4 * 9];
            ref float o = ref MemoryMarshal.GetReference(output);
            nint tokenBytes = (nint)nb * TPanel.ActivationBytes;
            for (int r = rowStart; r < rowStart + rowCount; r += PanelRows)
            {
                byte* panel = packed + (nint)(r / PanelRows) * nb * TPanel.BlockBytes;
                int t = 0;
                for (; t + 4 <= tokens; t += 4)
                {
                    Clear<Four>(sums);
                    TPanel.Pass<Four>(panel, nb, a + t * tokenBytes, tokenBytes, sums);
                    Store<Four>(sums, ref Unsafe.Add(ref o, (nint)t * outputStride + r), outputStride);
                }
                for (; t < tokens; t++)
                {
                    Clear<One>(sums);
                    TPanel.Pass<One>(panel, nb, a + t * tokenBytes, tokenBytes, sums);
                    Store<One>(sums, ref Unsafe.Add(ref o, (nint)t * outputStride + r), outputStride);
                }
            }
        }
    }

    /// <summary>This thread's buffer for <paramref name="n"/> activation blocks rearranged for <typeparamref name="TPanel"/> (pin it for <see cref="Rearrange{TPanel}"/>).</summary>
    internal static byte[] ActivationBuffer<TPanel>(int n) where TPanel : IPanelType =>
        t_activations is { } b && b.Length >= n * TPanel.ActivationBytes + 32 ? b : t_activations = new byte[Math.Max(n, 256) * TPanel.ActivationBytes + 32];

    /// <summary>Rearranges <paramref name="n"/> activation blocks into <paramref name="pinned"/> (an <see cref="ActivationBuffer{TPanel}"/>), 32-byte aligned; returns where they start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte* Rearrange<TPanel>(ReadOnlySpan<byte> activations, int n, byte* pinned) where TPanel : IPanelType
    {
        byte* a = (byte*)(((nint)pinned + 31) & ~(nint)31);
        ref byte y = ref MemoryMarshal.GetReference(activations);
        for (int i = 0; i < n; i++)
            TPanel.Rearrange(ref Unsafe.Add(ref y, (nint)i * TPanel.SourceBytes), a + (nint)i * TPanel.ActivationBytes);
        return a;
    }

    /// <summary>A K-quant panel layout: its block, its activation layout and its pass over a panel.</summary>
    public interface IPanelType
    {
        /// <summary>Bytes of one panel block (eight rows × one super-block).</summary>
        static abstract int BlockBytes { get; }

        /// <summary>Bytes of one rearranged activation block (a multiple of 32).</summary>
        static abstract int ActivationBytes { get; }

        /// <summary>Writes one panel block from block i of eight rows in the file layout (row r at <c>b0 + r·rowBytes</c>).</summary>
        static abstract void PackBlock(ref byte b0, int rowBytes, byte* record);

        /// <summary>Bytes of one activation block as the product receives it (Q8_K: 292; Q8_1: 36).</summary>
        static abstract int SourceBytes { get; }

        /// <summary>Writes one activation block (<see cref="SourceBytes"/> at <paramref name="source"/>) in this layout's activation form.</summary>
        static abstract void Rearrange(ref byte source, byte* destination);

        /// <summary>
        /// One panel (<c>nb</c> blocks) against <c>TTokens.Count</c> tokens (activations at
        /// <paramref name="a"/>, a token every <paramref name="tokenBytes"/>): adds each token's
        /// reference float steps into its nine vectors of <paramref name="sums"/> (class sums 0–7,
        /// then <c>sumf</c>), blocks in order.
        /// </summary>
        static abstract void Pass<TTokens>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where TTokens : ITokens;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear<T>(Vector256<float>* sums) where T : ITokens
    {
        for (int s = 0; s < 9 * T.Count; s++)
            sums[s] = Vector256<float>.Zero;
    }

    /// <summary>Each token's eight outputs: <c>sumf</c>, then the class sums added in lane order (the reference's last loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(Vector256<float>* sums, ref float output, int outputStride) where T : ITokens
    {
        for (int t = 0; t < T.Count; t++)
        {
            Vector256<float>* s = sums + 9 * t;
            Vector256<float> result = s[8];
            for (int l = 0; l < 8; l++)
                result += s[l];
            result.StoreUnsafe(ref Unsafe.Add(ref output, (nint)t * outputStride));
        }
    }

    /// <summary>A layout read by <see cref="Q6K"/>'s pass (scales per 16 elements, offset quants): how it unpacks a lane class.</summary>
    public interface ISixteenGroups
    {
        /// <summary>
        /// The 64 products steps of lane class <paramref name="l"/> of the block at <paramref name="w"/>
        /// (vectors (k, l), k = 0–7) into the tokens' accumulators (scale pairs at <paramref name="sc"/>).
        /// </summary>
        static abstract void Class<T>(byte* w, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
            ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : ITokens;
    }

    /// <summary>Tokens per pass over a panel, as a type so that the JIT specializes the passes.</summary>
    public interface ITokens
    {
        /// <summary>Tokens per pass: 1 or 4.</summary>
        static abstract int Count { get; }
    }

    /// <summary>One token per pass.</summary>
    public readonly struct One : ITokens
    {
        /// <inheritdoc/>
        public static int Count => 1;
    }

    /// <summary>Four tokens per pass.</summary>
    public readonly struct Four : ITokens
    {
        /// <inheritdoc/>
        public static int Count => 4;
    }

    /// <summary>
    /// Packs every whole panel of a matrix in its file layout (<paramref name="rows"/> rows of
    /// <paramref name="nb"/> blocks of <paramref name="fileBlockBytes"/>): panel p, block i at
    /// <c>(p·nb + i)·</c><typeparamref name="TPanel"/><c>.BlockBytes</c>.
    /// </summary>
    internal static void PackMatrix<TPanel>(ReadOnlySpan<byte> weights, int rows, int nb, int fileBlockBytes, byte* destination) where TPanel : IPanelType
    {
        ref byte w = ref MemoryMarshal.GetReference(weights);
        int rowBytes = nb * fileBlockBytes;
        for (int p = 0; p < rows / PanelRows; p++)
            for (int i = 0; i < nb; i++)
                TPanel.PackBlock(ref Unsafe.Add(ref w, (nint)p * PanelRows * rowBytes + i * fileBlockBytes), rowBytes,
                    destination + ((nint)p * nb + i) * TPanel.BlockBytes);
    }

    /// <summary>
    /// Q4_K panels: per block the eight rows' <c>d</c> and <c>dmin</c> as floats (bytes 0, 32), the
    /// scale pairs (64) and min pairs (128) of the four group pairs k (16 bytes each: row i at 2i,
    /// 2i + 1), then the 32 nibble vectors (k, l) at 192 + 32·(8k + l) (<see cref="Element"/>).
    /// Activations: the 256 quants in the vectors' order (8 bytes per (k, l): the low-nibble group of
    /// four, then the high one), the pair sums <c>bsums[2j] + bsums[2j + 1]</c> as int16 (256), <c>d</c> (272).
    /// </summary>
    public readonly struct Q4K : WideKQuantPanels.IWidePanelType
    {
        /// <summary>Bytes of one Q4_K panel block (5.6 % more than eight file blocks).</summary>
        public const int Bytes = 1216;
        internal const int DOffset = 0, DMinOffset = 32, ScalesOffset = 64, MinsOffset = 128, QuantsOffset = 192;
        internal const int PairSumsOffset = 256, ActivationDOffset = 272;

        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static int ActivationBytes => 288;
        /// <inheritdoc/>
        public static int SourceBytes => 292;

        /// <inheritdoc/>
        public static int PairedStart => ScalesOffset;
        /// <inheritdoc/>
        public static int PairedEnd => QuantsOffset;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : ITokens =>
            WideKQuantPanels.Q4KPass<T, Q4K>(panel, nb, a, tokenBytes, sums);

        /// <summary>
        /// The element (0–255) of a super-block held by vector (<paramref name="k"/>, <paramref name="l"/>)
        /// at byte <paramref name="b"/> (0–3) of a row, in its low (<paramref name="high"/> false) or high
        /// nibble — also the activation byte it meets.
        /// </summary>
        public static int Element(int k, int l, int b, bool high) => 64 * k + 32 * (b >> 1) + 8 * (b & 1) + l + (high ? 16 : 0);

        /// <summary>One panel block from block i of eight rows (row r at <c>b0 + r·rowBytes</c>).</summary>
        public static void PackBlock(ref byte b0, int rowBytes, byte* record) => PackBlock(ref b0, rowBytes, record, 16, -1);

        /// <summary>
        /// <see cref="PackBlock(ref byte, int, byte*)"/> for a Q4_K-like block whose <c>qs</c> are at
        /// <paramref name="qsOffset"/> and, with <paramref name="qhOffset"/> ≥ 0 (Q5_K), fifth bits at
        /// <paramref name="qhOffset"/> (element e: bit e / 32 of byte e % 32), stored as <see cref="Q5K"/> lays them out.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void PackBlock(ref byte b0, int rowBytes, byte* record, int qsOffset, int qhOffset)
        {
            if (qhOffset >= 0)
                new Span<byte>(record + Bytes, Q5K.Bytes - Bytes).Clear();
            byte* q = stackalloc byte[qhOffset >= 0 ? QK : 0];
            for (int r = 0; r < PanelRows; r++)
            {
                ref byte xb = ref Unsafe.Add(ref b0, r * rowBytes);
                ref BlockQ4_K x = ref Unsafe.As<byte, BlockQ4_K>(ref xb); // d, dmin and the scales are laid out alike
                ((float*)(record + DOffset))[r] = HalfConversions.Fp16ToFp32(x.D);
                ((float*)(record + DMinOffset))[r] = HalfConversions.Fp16ToFp32(x.DMin);
                Vector128<byte> scalesAndMins = KQuantPacked.Q4K.ScalesAndMins(ref x);
                for (int k = 0; k < 4; k++)
                {
                    record[ScalesOffset + 16 * k + 2 * r] = scalesAndMins.GetElement(2 * k);
                    record[ScalesOffset + 16 * k + 2 * r + 1] = scalesAndMins.GetElement(2 * k + 1);
                    record[MinsOffset + 16 * k + 2 * r] = scalesAndMins.GetElement(8 + 2 * k);
                    record[MinsOffset + 16 * k + 2 * r + 1] = scalesAndMins.GetElement(8 + 2 * k + 1);
                    // qs bytes 32k … in class order: dword l = bytes c0 … c3 of elements 64k + l + {0, 8, 16,
                    // 24} (low nibbles) and the same + 32 (high). Row r's four bytes of vector (k, l) are
                    // c0 | c2 << 4, c1 | c3 << 4 of the low nibbles, then the same of the high ones.
                    Vector256<uint> c = KQuantPacked.ToClassOrder(Vector256.LoadUnsafe(ref Unsafe.Add(ref xb, qsOffset + 32 * k))).AsUInt32();
                    Vector256<uint> lo = c & Vector256.Create(0x0F0F0F0Fu), hi = (c >> 4) & Vector256.Create(0x0F0F0F0Fu);
                    Vector256<uint> packed = (lo & Vector256.Create(0xFFFFu)) | ((lo >> 12) & Vector256.Create(0xFFF0u))
                        | ((hi & Vector256.Create(0xFFFFu)) | ((hi >> 12) & Vector256.Create(0xFFF0u))) << 16;
                    for (int l = 0; l < 8; l++)
                        *(uint*)(record + QuantsOffset + 32 * (8 * k + l) + 4 * r) = packed.GetElement(l);
                }
                if (qhOffset >= 0)
                {
                    // Q5_K's fifth bit of element e: bit e / 32 of qh[e % 32].
                    for (int e = 0; e < QK; e++)
                        q[e] = (byte)((Unsafe.Add(ref xb, qhOffset + e % 32) >> (e / 32)) & 1);
                    for (int k = 0; k < 4; k++)
                        for (int l = 0; l < 8; l++)
                            for (int b = 0; b < 4; b++)
                                record[Bytes + 32 * (2 * k + l / 4) + 4 * r + b] |=
                                    (byte)((q[Element(k, l, b, false)] | q[Element(k, l, b, true)] << 1) << (2 * (l % 4)));
                }
            }
        }

        /// <inheritdoc/>
        /// <remarks>Class order (int32 l of run j: elements 32j + l + {0, 8, 16, 24}); int16 2l + h of runs
        /// 2k and 2k + 1 interleaved are the four bytes of (k, l, h). The pair sums are exact for
        /// quantized activations (|bsums| ≤ 16·128).</remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Rearrange(ref byte source, byte* destination) => Rearrange(ref Unsafe.As<byte, BlockQ8_K>(ref source), destination);

        /// <inheritdoc cref="Rearrange(ref byte, byte*)"/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Rearrange(ref BlockQ8_K y, byte* d)
        {
            for (int k = 0; k < 4; k++)
            {
                Vector256<short> even = KQuantPacked.ToClassOrder(Vector256.LoadUnsafe(ref y.Qs[64 * k]).AsByte()).AsInt16();
                Vector256<short> odd = KQuantPacked.ToClassOrder(Vector256.LoadUnsafe(ref y.Qs[64 * k + 32]).AsByte()).AsInt16();
                Vector256<short> lo = Avx2.UnpackLow(even, odd), hi = Avx2.UnpackHigh(even, odd);
                Avx2.Permute2x128(lo, hi, 0x20).AsByte().Store(d + 64 * k);
                Avx2.Permute2x128(lo, hi, 0x31).AsByte().Store(d + 64 * k + 32);
            }
            Ssse3.HorizontalAdd(Vector128.LoadUnsafe(ref y.BSums[0]), Vector128.LoadUnsafe(ref y.BSums[8])).Store((short*)(d + PairSumsOffset));
            *(float*)(d + ActivationDOffset) = y.D;
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : ITokens =>
            Pass<T, Q4K>(panel, nb, a, tokenBytes, sums);

        /// <summary><see cref="Pass{T}"/> for Q4_K, or Q5_K (<typeparamref name="TBits"/> = <see cref="Q5K"/>: fifth bits after the nibbles).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Pass<T, TBits>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : ITokens where TBits : IPanelType
        {
            Vector256<byte> mask = Vector256.Create((byte)0x0F);
            for (int i = 0; i < nb; i++)
            {
                byte* w = panel + (nint)i * TBits.BlockBytes;
                if (T.Count == 1)
                    Prefetch(w + PrefetchDistance, TBits.BlockBytes);
                byte* a0 = a + (nint)i * ActivationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
                Vector256<float> dx = Vector256.Load((float*)(w + DOffset)), dmx = Vector256.Load((float*)(w + DMinOffset));
                Vector256<float> dy0 = Vector256.Create(*(float*)(a0 + ActivationDOffset));
                Vector256<float> dy1 = T.Count > 1 ? Vector256.Create(*(float*)(a1 + ActivationDOffset)) : default;
                Vector256<float> dy2 = T.Count > 1 ? Vector256.Create(*(float*)(a2 + ActivationDOffset)) : default;
                Vector256<float> dy3 = T.Count > 1 ? Vector256.Create(*(float*)(a3 + ActivationDOffset)) : default;

                // sumf −= (dmin·dy)·sumi, sumi = Σ_k m(2k)·B(2k) + m(2k+1)·B(2k+1) per row.
                Vector256<short> m0 = Avx2.ConvertToVector256Int16(w + MinsOffset), m1 = Avx2.ConvertToVector256Int16(w + MinsOffset + 16);
                Vector256<short> m2 = Avx2.ConvertToVector256Int16(w + MinsOffset + 32), m3 = Avx2.ConvertToVector256Int16(w + MinsOffset + 48);
                sums[8] -= dmx * dy0 * Vector256.ConvertToSingle(MinSums(a0, m0, m1, m2, m3));
                if (T.Count > 1)
                {
                    sums[17] -= dmx * dy1 * Vector256.ConvertToSingle(MinSums(a1, m0, m1, m2, m3));
                    sums[26] -= dmx * dy2 * Vector256.ConvertToSingle(MinSums(a2, m0, m1, m2, m3));
                    sums[35] -= dmx * dy3 * Vector256.ConvertToSingle(MinSums(a3, m0, m1, m2, m3));
                }

                Vector256<short> s0 = Avx2.ConvertToVector256Int16(w + ScalesOffset), s1 = Avx2.ConvertToVector256Int16(w + ScalesOffset + 16);
                Vector256<short> s2 = Avx2.ConvertToVector256Int16(w + ScalesOffset + 32), s3 = Avx2.ConvertToVector256Int16(w + ScalesOffset + 48);
                Vector256<float> d0 = dx * dy0, d1 = dx * dy1, d2 = dx * dy2, d3 = dx * dy3;
                byte* q = w + QuantsOffset;
                for (int l = 0; l < 8; l++)
                {
                    Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero, acc2 = Vector256<int>.Zero, acc3 = Vector256<int>.Zero;
                    Vector<T, TBits>(q, 0, l, mask, s0, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                    Vector<T, TBits>(q, 1, l, mask, s1, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                    Vector<T, TBits>(q, 2, l, mask, s2, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                    Vector<T, TBits>(q, 3, l, mask, s3, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                    AddClass<T>(sums, l, d0, d1, d2, d3, acc0, acc1, acc2, acc3);
                }
            }
        }

        /// <summary>
        /// Nibble vector (<paramref name="k"/>, <paramref name="l"/>): its low nibbles, then its high ones
        /// (with Q5_K each plus its fifth bit · 16, from the bit vector after the nibbles), into the
        /// tokens' class-l accumulators.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Vector<T, TBits>(byte* q, int k, int l, Vector256<byte> mask, Vector256<short> scales, byte* a0, byte* a1, byte* a2, byte* a3,
            ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : ITokens where TBits : IPanelType
        {
            Vector256<byte> packed = Vector256.Load(q + 32 * (8 * k + l));
            Vector256<byte> lo = packed & mask, hi = (packed.AsUInt16() >> 4).AsByte() & mask;
            if (TBits.BlockBytes == Q5K.Bytes)
            {
                // Bits 2j and 2j + 1 (j = l % 4) of each byte: the fifth bits of its low and high nibble.
                Vector256<ushort> bits = Vector256.Load((ushort*)(q + (Bytes - QuantsOffset) + 32 * (2 * k + l / 4))) >> (2 * (l % 4));
                Vector256<byte> fifth = Vector256.Create((byte)0x10);
                lo |= (bits << 4).AsByte() & fifth;
                hi |= (bits << 3).AsByte() & fifth;
            }
            // The low and high nibbles' pair sums belong to the same two groups: added in int16
            // (|two pairs| ≤ 2·2·31·128 = 15872), then one multiply by the scale pairs.
            int at = 8 * (8 * k + l);
            acc0 = MultiplyAdd(acc0, Avx2.MultiplyAddAdjacent(lo, Group(a0, at)) + Avx2.MultiplyAddAdjacent(hi, Group(a0, at + 4)), scales);
            if (T.Count > 1)
            {
                acc1 = MultiplyAdd(acc1, Avx2.MultiplyAddAdjacent(lo, Group(a1, at)) + Avx2.MultiplyAddAdjacent(hi, Group(a1, at + 4)), scales);
                acc2 = MultiplyAdd(acc2, Avx2.MultiplyAddAdjacent(lo, Group(a2, at)) + Avx2.MultiplyAddAdjacent(hi, Group(a2, at + 4)), scales);
                acc3 = MultiplyAdd(acc3, Avx2.MultiplyAddAdjacent(lo, Group(a3, at)) + Avx2.MultiplyAddAdjacent(hi, Group(a3, at + 4)), scales);
            }
        }

        /// <summary>Per row: <c>Σ_k m·B</c> over the four group pairs against one token's pair sums (exact).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> MinSums(byte* a, Vector256<short> m0, Vector256<short> m1, Vector256<short> m2, Vector256<short> m3)
        {
            byte* b = a + PairSumsOffset;
            Vector256<int> s = Avx2.MultiplyAddAdjacent(m0, Vector256.Create(*(int*)b).AsInt16());
            s = MultiplyAdd(s, m1, Vector256.Create(*(int*)(b + 4)).AsInt16());
            s = MultiplyAdd(s, m2, Vector256.Create(*(int*)(b + 8)).AsInt16());
            return MultiplyAdd(s, m3, Vector256.Create(*(int*)(b + 12)).AsInt16());
        }
    }

    /// <summary>
    /// Q5_K panels: <see cref="Q4K"/>'s block (the quants' low four bits as its nibbles; Q5_K's scales
    /// and mins are Q4_K's) followed by 256 bytes of fifth bits: vector (k, m) at 1216 + 32·(2k + m),
    /// row i, byte b: bits 2j and 2j + 1 are the fifth bits of the low and high nibble of byte b of row
    /// i in nibble vector (k, 4m + j). 1472 bytes, 4.5 % more than eight file blocks. The activations
    /// and the pass are Q4_K's, each nibble plus its fifth bit · 16 (quants 0–31), the reference being
    /// <c>ggml_vec_dot_q5_K_q8_K_generic</c> (the same lanes and float steps as Q4_K's).
    /// </summary>
    public readonly struct Q5K : WideKQuantPanels.IWidePanelType
    {
        /// <summary>Bytes of one Q5_K panel block.</summary>
        public const int Bytes = Q4K.Bytes + 256;

        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static int ActivationBytes => Q4K.ActivationBytes;
        /// <inheritdoc/>
        public static int SourceBytes => 292;

        /// <inheritdoc/>
        public static int PairedStart => Q4K.PairedStart;
        /// <inheritdoc/>
        public static int PairedEnd => Q4K.PairedEnd;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : ITokens =>
            WideKQuantPanels.Q4KPass<T, Q5K>(panel, nb, a, tokenBytes, sums);

        /// <summary>One panel block from block i of eight rows (row r at <c>b0 + r·rowBytes</c>; <c>qh</c> at 16, <c>qs</c> at 48).</summary>
        public static void PackBlock(ref byte b0, int rowBytes, byte* record) => Q4K.PackBlock(ref b0, rowBytes, record, 48, 16);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Rearrange(ref byte source, byte* destination) => Q4K.Rearrange(ref source, destination);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : ITokens =>
            Q4K.Pass<T, Q5K>(panel, nb, a, tokenBytes, sums);
    }

    /// <summary>
    /// Q6_K panels: per block the eight rows' <c>d</c> as floats (byte 0), the int8 scale pairs of the
    /// eight group pairs k (groups 2k, 2k + 1; at 32 + 16k, row i at 2i, 2i + 1), then the quants of
    /// the 64 vectors (k, l) — row i, byte b: element 32k + 8b + l, i.e. int32 l of run k in class
    /// order — as nibbles (at 160 + 32·(8·(k/2) + l), low nibble for even k) and high-bit pairs (at
    /// 1184 + 32·(8·(k/4) + l), bits 2·(k % 4)). 1696 bytes, 1 % more than eight file blocks.
    /// Activations: the 256 class-ordered quants, <c>vpmaddubsw(32, ·)</c> of each run (256: the offset
    /// pairs <c>32·(a + a')</c> taken off every product pair, as <c>q − 32</c> needs), <c>d</c> (512).
    /// </summary>
    public readonly struct Q6K : WideKQuantPanels.IWidePanelType, ISixteenGroups
    {
        /// <summary>Bytes of one Q6_K panel block.</summary>
        public const int Bytes = 1696;
        internal const int DOffset = 0, ScalesOffset = 32, LowOffset = 160, HighOffset = 1184;
        internal const int OffsetsOffset = 256, ActivationDOffset = 512;

        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static int ActivationBytes => 544;
        /// <inheritdoc/>
        public static int SourceBytes => 292;

        /// <inheritdoc/>
        public static int PairedStart => ScalesOffset;
        /// <inheritdoc/>
        public static int PairedEnd => LowOffset;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : ITokens =>
            WideKQuantPanels.Q6KPass<T, Q6K>(panel, nb, a, tokenBytes, sums);

        /// <summary>One panel block from block i of eight rows (row r at <c>b0 + r·rowBytes</c>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void PackBlock(ref byte b0, int rowBytes, byte* record)
        {
            new Span<byte>(record, Bytes).Clear();
            byte* q = stackalloc byte[QK];
            for (int r = 0; r < PanelRows; r++)
            {
                ref BlockQ6_K x = ref Unsafe.As<byte, BlockQ6_K>(ref Unsafe.Add(ref b0, r * rowBytes));
                ((float*)(record + DOffset))[r] = HalfConversions.Fp16ToFp32(x.D);
                for (int k = 0; k < 8; k++)
                {
                    record[ScalesOffset + 16 * k + 2 * r] = (byte)x.Scales[2 * k];
                    record[ScalesOffset + 16 * k + 2 * r + 1] = (byte)x.Scales[2 * k + 1];
                }
                // dequantize_row_q6_K's order: per half h, ql[64h + l (+ 32)] nibbles and qh[32h + l] bit pairs.
                for (int h = 0; h < 2; h++)
                    for (int l = 0; l < 32; l++)
                    {
                        int l0 = x.Ql[64 * h + l], l1 = x.Ql[64 * h + l + 32], qh = x.Qh[32 * h + l];
                        q[128 * h + l] = (byte)((l0 & 0xF) | (qh & 3) << 4);
                        q[128 * h + l + 32] = (byte)((l1 & 0xF) | ((qh >> 2) & 3) << 4);
                        q[128 * h + l + 64] = (byte)((l0 >> 4) | ((qh >> 4) & 3) << 4);
                        q[128 * h + l + 96] = (byte)((l1 >> 4) | ((qh >> 6) & 3) << 4);
                    }
                // Row r's four bytes of vector (k, l) are dword l of run k in class order.
                Vector256<byte> nibble = Vector256.Create((byte)0x0F), pair = Vector256.Create((byte)0x03);
                for (int m = 0; m < 2; m++)
                {
                    Vector256<byte> r0 = Run(q, 4 * m), r1 = Run(q, 4 * m + 1), r2 = Run(q, 4 * m + 2), r3 = Run(q, 4 * m + 3);
                    Vector256<byte> high = (Shr4(r0) & pair) | ((Shr4(r1) & pair).AsUInt16() << 2).AsByte()
                        | ((Shr4(r2) & pair).AsUInt16() << 4).AsByte() | ((Shr4(r3) & pair).AsUInt16() << 6).AsByte();
                    StoreDwords((r0 & nibble) | ((r1 & nibble).AsUInt16() << 4).AsByte(), record + LowOffset + 32 * 8 * (2 * m), r);
                    StoreDwords((r2 & nibble) | ((r3 & nibble).AsUInt16() << 4).AsByte(), record + LowOffset + 32 * 8 * (2 * m + 1), r);
                    StoreDwords(high, record + HighOffset + 32 * 8 * m, r);
                }
            }
        }

        /// <summary>Run k (elements 32k …) of decoded quants in class order.</summary>
        private static Vector256<byte> Run(byte* q, int k) => KQuantPacked.ToClassOrder(Vector256.Load(q + 32 * k));

        /// <summary>Each byte shifted right by four.</summary>
        private static Vector256<byte> Shr4(Vector256<byte> v) => (v.AsUInt16() >> 4).AsByte() & Vector256.Create((byte)0x0F);

        /// <summary>Dword l of <paramref name="v"/> to row <paramref name="r"/>'s slot of vector l at <paramref name="vectors"/> (32 bytes each).</summary>
        private static void StoreDwords(Vector256<byte> v, byte* vectors, int r)
        {
            Vector256<uint> d = v.AsUInt32();
            for (int l = 0; l < 8; l++)
                *(uint*)(vectors + 32 * l + 4 * r) = d.GetElement(l);
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Rearrange(ref byte source, byte* d) => Rearrange(ref Unsafe.As<byte, BlockQ8_K>(ref source), d, 32);

        /// <summary><see cref="Rearrange(ref byte, byte*)"/> with the offset pairs <c>offset·(a + a')</c> (Q6_K 32, Q3_K 4).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Rearrange(ref BlockQ8_K y, byte* d, byte quantOffset)
        {
            Vector256<byte> offset = Vector256.Create(quantOffset);
            for (int k = 0; k < 8; k++)
            {
                Vector256<byte> run = KQuantPacked.ToClassOrder(Vector256.LoadUnsafe(ref y.Qs[32 * k]).AsByte());
                run.Store(d + 32 * k);
                Avx2.MultiplyAddAdjacent(offset, run.AsSByte()).AsByte().Store(d + OffsetsOffset + 32 * k);
            }
            *(float*)(d + ActivationDOffset) = y.D;
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : ITokens =>
            Pass<T, Q6K>(panel, nb, a, tokenBytes, sums);

        /// <summary><see cref="Pass{T}"/> for Q6_K, or Q3_K (<typeparamref name="TBits"/> = <see cref="Q3K"/>: its own quant planes, offset 4).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Pass<T, TBits>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : ITokens where TBits : IPanelType, ISixteenGroups
        {
            for (int i = 0; i < nb; i++)
            {
                byte* w = panel + (nint)i * TBits.BlockBytes;
                if (T.Count == 1)
                    Prefetch(w + PrefetchDistance, TBits.BlockBytes);
                byte* a0 = a + (nint)i * ActivationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
                Vector256<float> dx = Vector256.Load((float*)(w + DOffset));
                Vector256<float> d0 = dx * Vector256.Create(*(float*)(a0 + ActivationDOffset));
                Vector256<float> d1 = T.Count > 1 ? dx * Vector256.Create(*(float*)(a1 + ActivationDOffset)) : default;
                Vector256<float> d2 = T.Count > 1 ? dx * Vector256.Create(*(float*)(a2 + ActivationDOffset)) : default;
                Vector256<float> d3 = T.Count > 1 ? dx * Vector256.Create(*(float*)(a3 + ActivationDOffset)) : default;
                sbyte* sc = (sbyte*)(w + ScalesOffset);
                for (int l = 0; l < 8; l++)
                {
                    Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero, acc2 = Vector256<int>.Zero, acc3 = Vector256<int>.Zero;
                    TBits.Class<T>(w, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
                    AddClass<T>(sums, l, d0, d1, d2, d3, acc0, acc1, acc2, acc3);
                }
            }
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Class<T>(byte* w, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
            ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : ITokens
        {
            Quarter<T>(w, 0, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Quarter<T>(w, 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        }

        /// <summary>Vectors (4m … 4m + 3, l): two nibble vectors and one of high-bit pairs into the tokens' class-l accumulators.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Quarter<T>(byte* w, int m, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
            ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : ITokens
        {
            Vector256<byte> mask = Vector256.Create((byte)0x0F), high = Vector256.Create((byte)0x30);
            Vector256<byte> h = Vector256.Load(w + HighOffset + 32 * (8 * m + l));
            Vector256<byte> p0 = Vector256.Load(w + LowOffset + 32 * (8 * (2 * m) + l));
            Vector256<byte> p1 = Vector256.Load(w + LowOffset + 32 * (8 * (2 * m + 1) + l));
            int k = 4 * m;
            Step6<T>((p0 & mask) | ((h.AsUInt16() << 4).AsByte() & high), k, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Step6<T>(((p0.AsUInt16() >> 4).AsByte() & mask) | ((h.AsUInt16() << 2).AsByte() & high), k + 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Step6<T>((p1 & mask) | (h & high), k + 2, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Step6<T>(((p1.AsUInt16() >> 4).AsByte() & mask) | ((h.AsUInt16() >> 2).AsByte() & high), k + 3, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        }

        /// <summary>
        /// Vector (k, l) of unsigned quants <paramref name="q"/> into the tokens' class-l accumulators:
        /// <c>(q − offset)·a</c> pairs (the activations' offset pairs taken off) times the scale pairs of k.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Step6<T>(Vector256<byte> q, int k, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
            ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : ITokens
        {
            Vector256<short> scales = Avx2.ConvertToVector256Int16(sc + 16 * k);
            int at = 32 * k + 4 * l, off = OffsetsOffset + at;
            acc0 = MultiplyAdd(acc0, Avx2.MultiplyAddAdjacent(q, Group(a0, at)) - Group(a0, off).AsInt16(), scales);
            if (T.Count > 1)
            {
                acc1 = MultiplyAdd(acc1, Avx2.MultiplyAddAdjacent(q, Group(a1, at)) - Group(a1, off).AsInt16(), scales);
                acc2 = MultiplyAdd(acc2, Avx2.MultiplyAddAdjacent(q, Group(a2, at)) - Group(a2, off).AsInt16(), scales);
                acc3 = MultiplyAdd(acc3, Avx2.MultiplyAddAdjacent(q, Group(a3, at)) - Group(a3, off).AsInt16(), scales);
            }
        }
    }

    /// <summary>
    /// Q2_K panels. ggml's generic Q2_K dot (<c>ggml_vec_dot_q2_K_q8_K_generic</c>) has no lanes: per
    /// block one exact integer <c>isum = Σ_g (scale_g &amp; 15)·Σ q·a</c> and <c>summs = Σ_g bsums_g·(scale_g
    /// &gt;&gt; 4)</c>, then <c>sumf += dall·isum − dmin·summs</c> (<c>dall = dy·d</c>, <c>dmin = dy·dmin</c>).
    /// So the rows sit in the lanes and each row's products add in any order: vector (k, v) (group
    /// pair k = groups 2k and 2k + 1, v = 0–7) holds for row i, bytes 4i … 4i + 3, elements
    /// 32k + 2v, 32k + 2v + 1 (group 2k) and 32k + 16 + 2v, 32k + 17 + 2v (group 2k + 1);
    /// <c>vpmaddubsw</c> then <c>vpdpwssd</c> with the two groups' scales. Block (704 bytes, 4.8 % more
    /// than eight file blocks): <c>d</c> and <c>dmin</c> as floats (0, 32), the raw scale bytes of each
    /// group pair (64 + 16k, row i at 2i, 2i + 1: scale in the low nibble, min in the high), the two-bit
    /// quants (192 + 32·(2k + v/4), bits 2·(v % 4)). Activations: the quants in the vectors' order, the
    /// raw bsums (256), <c>d</c> (288).
    /// </summary>
    public readonly struct Q2K : WideKQuantPanels.IWidePanelType
    {
        /// <summary>Bytes of one Q2_K panel block.</summary>
        public const int Bytes = 704;
        internal const int DOffset = 0, DMinOffset = 32, ScalesOffset = 64, QuantsOffset = 192;
        internal const int BSumsOffset = 256, ActivationDOffset = 288;

        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static int ActivationBytes => 320;
        /// <inheritdoc/>
        public static int SourceBytes => 292;

        /// <inheritdoc/>
        public static int PairedStart => ScalesOffset;
        /// <inheritdoc/>
        public static int PairedEnd => QuantsOffset;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : ITokens =>
            WideKQuantPanels.Q2KPass<T>(panel, nb, a, tokenBytes, sums);

        /// <summary>One panel block from block i of eight rows (row r at <c>b0 + r·rowBytes</c>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void PackBlock(ref byte b0, int rowBytes, byte* record)
        {
            new Span<byte>(record, Bytes).Clear();
            byte* q = stackalloc byte[QK];
            for (int r = 0; r < PanelRows; r++)
            {
                ref BlockQ2_K x = ref Unsafe.As<byte, BlockQ2_K>(ref Unsafe.Add(ref b0, r * rowBytes));
                ((float*)(record + DOffset))[r] = HalfConversions.Fp16ToFp32(x.D);
                ((float*)(record + DMinOffset))[r] = HalfConversions.Fp16ToFp32(x.DMin);
                // Element e: bits 2·((e % 128) / 32) of qs[32·(e / 128) + e % 32].
                for (int e = 0; e < QK; e++)
                    q[e] = (byte)((x.Qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3);
                for (int k = 0; k < 8; k++)
                {
                    record[ScalesOffset + 16 * k + 2 * r] = x.Scales[2 * k];
                    record[ScalesOffset + 16 * k + 2 * r + 1] = x.Scales[2 * k + 1];
                    for (int v = 0; v < 8; v++)
                        for (int b = 0; b < 4; b++)
                            record[QuantsOffset + 32 * (2 * k + v / 4) + 4 * r + b] |= (byte)(q[32 * k + 16 * (b >> 1) + 2 * v + (b & 1)] << (2 * (v % 4)));
                }
            }
        }

        /// <inheritdoc/>
        /// <remarks>Run k (elements 32k …): its two halves' int16 pairs interleaved are the groups of four of (k, v).</remarks>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Rearrange(ref byte source, byte* d)
        {
            ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref source);
            for (int k = 0; k < 8; k++)
            {
                Vector128<short> first = Vector128.LoadUnsafe(ref y.Qs[32 * k]).AsInt16(), second = Vector128.LoadUnsafe(ref y.Qs[32 * k + 16]).AsInt16();
                Vector256.Create(Sse2.UnpackLow(first, second), Sse2.UnpackHigh(first, second)).AsByte().Store(d + 32 * k);
            }
            Vector256.LoadUnsafe(ref y.BSums[0]).Store((short*)(d + BSumsOffset));
            *(float*)(d + ActivationDOffset) = y.D;
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : ITokens
        {
            Vector256<short> low = Vector256.Create((short)0x0F);
            Vector256<byte> three = Vector256.Create((byte)3);
            for (int i = 0; i < nb; i++)
            {
                byte* w = panel + (nint)i * Bytes;
                if (T.Count == 1)
                    Prefetch(w + PrefetchDistance, Bytes);
                byte* a0 = a + (nint)i * ActivationBytes, a1 = a0 + tokenBytes, a2 = a1 + tokenBytes, a3 = a2 + tokenBytes;
                Vector256<int> isum0 = Vector256<int>.Zero, isum1 = Vector256<int>.Zero, isum2 = Vector256<int>.Zero, isum3 = Vector256<int>.Zero;
                Vector256<int> summs0 = Vector256<int>.Zero, summs1 = Vector256<int>.Zero, summs2 = Vector256<int>.Zero, summs3 = Vector256<int>.Zero;
                for (int k = 0; k < 8; k++)
                {
                    Vector256<short> raw = Avx2.ConvertToVector256Int16(w + ScalesOffset + 16 * k);
                    Vector256<short> scales = raw & low, mins = (raw.AsUInt16() >> 4).AsInt16();
                    int bs = BSumsOffset + 4 * k;
                    summs0 = MultiplyAdd(summs0, mins, Group(a0, bs).AsInt16());
                    if (T.Count > 1)
                    {
                        summs1 = MultiplyAdd(summs1, mins, Group(a1, bs).AsInt16());
                        summs2 = MultiplyAdd(summs2, mins, Group(a2, bs).AsInt16());
                        summs3 = MultiplyAdd(summs3, mins, Group(a3, bs).AsInt16());
                    }
                    Vector256<ushort> p0 = Vector256.Load((ushort*)(w + QuantsOffset + 64 * k)), p1 = Vector256.Load((ushort*)(w + QuantsOffset + 64 * k + 32));
                    // The eight vectors share the scale pairs: their int16 pair sums added first
                    // (|eight pairs| ≤ 8·2·3·128 = 6144), then one multiply by the scales.
                    Vector256<byte> q0 = p0.AsByte() & three, q1 = (p0 >> 2).AsByte() & three, q2 = (p0 >> 4).AsByte() & three, q3 = (p0 >> 6).AsByte() & three;
                    Vector256<byte> q4 = p1.AsByte() & three, q5 = (p1 >> 2).AsByte() & three, q6 = (p1 >> 4).AsByte() & three, q7 = (p1 >> 6).AsByte() & three;
                    int at = 32 * k;
                    isum0 = MultiplyAdd(isum0, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a0 + at), scales);
                    if (T.Count > 1)
                    {
                        isum1 = MultiplyAdd(isum1, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a1 + at), scales);
                        isum2 = MultiplyAdd(isum2, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a2 + at), scales);
                        isum3 = MultiplyAdd(isum3, PairSums8(q0, q1, q2, q3, q4, q5, q6, q7, a3 + at), scales);
                    }
                }
                // sumf += dall·isum − dmin·summs, dall = dy·d, dmin = dy·dmin; kept in the sumf vector of each token.
                Vector256<float> dx = Vector256.Load((float*)(w + DOffset)), dmx = Vector256.Load((float*)(w + DMinOffset));
                sums[8] += Term(dx, dmx, *(float*)(a0 + ActivationDOffset), isum0, summs0);
                if (T.Count > 1)
                {
                    sums[17] += Term(dx, dmx, *(float*)(a1 + ActivationDOffset), isum1, summs1);
                    sums[26] += Term(dx, dmx, *(float*)(a2 + ActivationDOffset), isum2, summs2);
                    sums[35] += Term(dx, dmx, *(float*)(a3 + ActivationDOffset), isum3, summs3);
                }
            }
        }

        /// <summary>One block's <c>dall·isum − dmin·summs</c> for eight rows (the reference's float steps).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<float> Term(Vector256<float> dx, Vector256<float> dmx, float dy, Vector256<int> isum, Vector256<int> summs)
        {
            Vector256<float> y = Vector256.Create(dy);
            return y * dx * Vector256.ConvertToSingle(isum) - y * dmx * Vector256.ConvertToSingle(summs);
        }
    }

    /// <summary>
    /// Q3_K panels, read by <see cref="Q6K"/>'s pass: per block the eight rows' <c>d</c> as floats (byte
    /// 0), the scale pairs of the eight group pairs k as int8 <c>scale − 32</c> (at 32 + 16k, row i at 2i,
    /// 2i + 1), then the unsigned quants <c>u = q + 4</c> (0–7; <c>q = (qs bits) − (hmask bit ? 0 : 4)</c>)
    /// of the 64 vectors (k, l) — row i, byte b: element 32k + 8b + l, as for Q6_K — in two planes: the
    /// low two bits (at 160 + 32·(8·(k/4) + l), bits 2·(k % 4)) and the hmask bits (at 672 + 32·l, bit
    /// k). 928 bytes, 5.5 % more than eight file blocks (880). Activations: Q6_K's with the offset pairs
    /// <c>4·(a + a')</c>. The reference is <c>ggml_vec_dot_q3_K_q8_K_generic</c> (lanes, scales per 16
    /// elements and float steps as Q6_K's).
    /// </summary>
    public readonly struct Q3K : WideKQuantPanels.IWidePanelType, ISixteenGroups
    {
        /// <summary>Bytes of one Q3_K panel block.</summary>
        public const int Bytes = 928;
        internal const int DOffset = 0, ScalesOffset = 32, LowOffset = 160, HighOffset = 672;

        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static int ActivationBytes => Q6K.ActivationBytes;
        /// <inheritdoc/>
        public static int SourceBytes => 292;

        /// <inheritdoc/>
        public static int PairedStart => ScalesOffset;
        /// <inheritdoc/>
        public static int PairedEnd => LowOffset;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void WidePass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector512<float>* sums) where T : ITokens =>
            WideKQuantPanels.Q6KPass<T, Q3K>(panel, nb, a, tokenBytes, sums);

        /// <summary>One panel block from block i of eight rows (row r at <c>b0 + r·rowBytes</c>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void PackBlock(ref byte b0, int rowBytes, byte* record)
        {
            new Span<byte>(record, Bytes).Clear();
            Span<int> scales = stackalloc int[16];
            byte* q = stackalloc byte[QK];
            for (int r = 0; r < PanelRows; r++)
            {
                ref BlockQ3_K x = ref Unsafe.As<byte, BlockQ3_K>(ref Unsafe.Add(ref b0, r * rowBytes));
                ((float*)(record + DOffset))[r] = HalfConversions.Fp16ToFp32(x.D);
                KQuants.UnpackScalesQ3K(MemoryMarshal.CreateReadOnlySpan(ref x.Scales[0], 12), scales);
                for (int k = 0; k < 8; k++)
                {
                    record[ScalesOffset + 16 * k + 2 * r] = (byte)(sbyte)scales[2 * k];
                    record[ScalesOffset + 16 * k + 2 * r + 1] = (byte)(sbyte)scales[2 * k + 1];
                }
                // Element e: bits 2·((e % 128) / 32) of qs[32·(e / 128) + e % 32], hmask bit e / 32 of byte e % 32.
                for (int e = 0; e < QK; e++)
                    q[e] = (byte)((x.Qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3 | ((x.HMask[e % 32] >> (e / 32)) & 1) << 2);
                for (int k = 0; k < 8; k++)
                    for (int l = 0; l < 8; l++)
                        for (int b = 0; b < 4; b++)
                        {
                            int v = q[32 * k + 8 * b + l], at = 4 * r + b;
                            record[LowOffset + 32 * (8 * (k / 4) + l) + at] |= (byte)((v & 3) << (2 * (k % 4)));
                            record[HighOffset + 32 * l + at] |= (byte)((v >> 2) << k);
                        }
            }
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Rearrange(ref byte source, byte* destination) => Q6K.Rearrange(ref Unsafe.As<byte, BlockQ8_K>(ref source), destination, 4);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : ITokens =>
            Q6K.Pass<T, Q3K>(panel, nb, a, tokenBytes, sums);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Class<T>(byte* w, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
            ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : ITokens
        {
            Vector256<byte> h = Vector256.Load(w + HighOffset + 32 * l);
            Quarter<T>(w, h, 0, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Quarter<T>(w, h, 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        }

        /// <summary>Vectors (4m … 4m + 3, l) from one low-bit vector and the hmask vector <paramref name="h"/> into the tokens' class-l accumulators.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Quarter<T>(byte* w, Vector256<byte> h, int m, int l, sbyte* sc, byte* a0, byte* a1, byte* a2, byte* a3,
            ref Vector256<int> acc0, ref Vector256<int> acc1, ref Vector256<int> acc2, ref Vector256<int> acc3) where T : ITokens
        {
            Vector256<ushort> low = Vector256.Load((ushort*)(w + LowOffset + 32 * (8 * m + l)));
            Vector256<ushort> high = h.AsUInt16() >> (4 * m);
            Vector256<byte> three = Vector256.Create((byte)3), four = Vector256.Create((byte)4);
            int k = 4 * m;
            Q6K.Step6<T>((low.AsByte() & three) | ((high << 2).AsByte() & four), k, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Q6K.Step6<T>(((low >> 2).AsByte() & three) | ((high << 1).AsByte() & four), k + 1, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Q6K.Step6<T>(((low >> 4).AsByte() & three) | (high.AsByte() & four), k + 2, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
            Q6K.Step6<T>(((low >> 6).AsByte() & three) | ((high >> 1).AsByte() & four), k + 3, l, sc, a0, a1, a2, a3, ref acc0, ref acc1, ref acc2, ref acc3);
        }
    }

    /// <summary>
    /// <c>Σ_j vpmaddubsw(q_j, group of four at a + 4j)</c> in int16 for eight quant vectors that share
    /// their scales (Q2_K's; the caller bounds the sum within int16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> PairSums8(Vector256<byte> q0, Vector256<byte> q1, Vector256<byte> q2, Vector256<byte> q3,
        Vector256<byte> q4, Vector256<byte> q5, Vector256<byte> q6, Vector256<byte> q7, byte* a) =>
        Avx2.MultiplyAddAdjacent(q0, Group(a, 0)) + Avx2.MultiplyAddAdjacent(q1, Group(a, 4))
        + (Avx2.MultiplyAddAdjacent(q2, Group(a, 8)) + Avx2.MultiplyAddAdjacent(q3, Group(a, 12)))
        + (Avx2.MultiplyAddAdjacent(q4, Group(a, 16)) + Avx2.MultiplyAddAdjacent(q5, Group(a, 20))
        + (Avx2.MultiplyAddAdjacent(q6, Group(a, 24)) + Avx2.MultiplyAddAdjacent(q7, Group(a, 28))));

    /// <summary>The reference's <c>sums[l] += d·aux32[l]</c> for the tokens of a pass, eight rows at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddClass<T>(Vector256<float>* sums, int l, Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3,
        Vector256<int> acc0, Vector256<int> acc1, Vector256<int> acc2, Vector256<int> acc3) where T : ITokens
    {
        sums[l] += d0 * Vector256.ConvertToSingle(acc0);
        if (T.Count > 1)
        {
            sums[9 + l] += d1 * Vector256.ConvertToSingle(acc1);
            sums[18 + l] += d2 * Vector256.ConvertToSingle(acc2);
            sums[27 + l] += d3 * Vector256.ConvertToSingle(acc3);
        }
    }

    /// <summary>Bytes ahead of the block in use that a decoding pass asks the caches for (the panels are read in address order).</summary>
    internal const int PrefetchDistance = 8192;

    /// <summary>Asks for the cache lines of <paramref name="bytes"/> at <paramref name="p"/> (prefetching never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Prefetch(byte* p, int bytes)
    {
        for (int o = 0; o < bytes; o += 64)
            Sse.Prefetch0(p + o);
    }

    /// <summary><c>acc + vpmaddwd(a, b)</c> (<see cref="KQuantPacked.MultiplyAdd"/>: <c>vpdpwssd</c> with AVX-VNNI).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MultiplyAdd(Vector256<int> acc, Vector256<short> a, Vector256<short> b) => KQuantPacked.MultiplyAdd(acc, a, b);

    /// <summary>
    /// <c>acc + Σ₄ u·a</c> per int32 lane: unsigned bytes <paramref name="u"/> against the four signed
    /// activation bytes at <paramref name="a"/>, broadcast — <c>vpdpbusd</c>, or <c>vpmaddubsw</c> +
    /// <c>vpmaddwd</c> when the products' pairs fit int16 (the callers' quants are below 64).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> Dot4(Vector256<int> acc, Vector256<byte> u, byte* a)
    {
        Vector256<sbyte> g = Group(a, 0);
        return AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(acc, u, g)
            : acc + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(u, g), Vector256<short>.One);
    }

    /// <summary>Four bytes at <paramref name="at"/> repeated in every int32 lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Group(byte* a, int at) => Vector256.Create(*(int*)(a + at)).AsSByte();
}
