using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One IQ4_NL block (ggml's <c>block_iq4_nl</c>, ggml/src/ggml-common.h): 32 weights as 4-bit indices
/// into the non-linear table <c>kvalues_iq4nl</c> with one float16 scale; 18 bytes, 4.5 bits per
/// weight. Weight j is <c>D · kvalues[q_j]</c>, where byte j of <see cref="Qs"/> holds q_j in its low
/// nibble and q_{j+16} in its high nibble.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_NL
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>).</summary>
    public Half D;

    /// <summary>Table indices (ggml: <c>uint8_t qs[QK4_NL/2]</c>).</summary>
    public fixed byte Qs[16];
}

/// <summary>
/// IQ4_NL: 4-bit non-linear blocks of 32 (<see cref="BlockIQ4_NL"/>); dots take Q8_0 activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1): <c>quantize_row_iq4_nl_ref</c>
/// (<c>quantize_row_iq4_nl_impl</c> with <c>ntry = −1</c>, no importance matrix; also ggml's CPU
/// <c>from_float</c>) and <c>dequantize_row_iq4_nl</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_iq4_nl_q8_0_generic</c> (ggml/src/ggml-cpu/quants.c), table <c>kvalues_iq4nl</c>
/// (ggml/src/ggml-common.h). llama-quantize uses <c>quantize_iq4_nl</c> instead (<c>ntry = 7</c>,
/// a search over 15 scales), which writes other bytes; files from either dequantize and dot alike.
/// Quirk kept from ggml: a block whose values are all below <c>GROUP_MAX_EPS</c> in magnitude gets
/// <c>d = 0</c> and the indices of the previous block of the same call (ggml leaves its index
/// buffer unwritten; for the first block of a call ggml's are uninitialized stack bytes, TinyLM's
/// zeros). Every such block dequantizes to ±0.
/// </remarks>
public sealed unsafe class IQ4_NL : TensorType
{
    private const int QK = 32;
    private const int Bytes = 18;
    private const int Q8Bytes = 34;

    /// <summary>ggml's <c>kvalues_iq4nl</c>: the 16 levels of an index.</summary>
    internal static ReadOnlySpan<sbyte> KValues => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.IQ4_NL;
    /// <inheritdoc/>
    public override string Name => "iq4_nl";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_0;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_iq4_nl</c>: <c>y[j] = d · kvalues[q_j]</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockIQ4_NL> x = MemoryMarshal.Cast<byte, BlockIQ4_NL>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockIQ4_NL b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            for (int j = 0; j < QK / 2; ++j)
            {
                destination[i * QK + j] = d * KValues[b.Qs[j] & 0xf];
                destination[i * QK + j + QK / 2] = d * KValues[b.Qs[j] >> 4];
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_iq4_nl_ref</c>: <c>d = max / kvalues[0]</c> for the value of
    /// largest magnitude, nearest table level per element (<c>best_index_int8</c>), then the
    /// x²-weighted least-squares scale <c>Σ w·q·x / Σ w·q²</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockIQ4_NL> y = MemoryMarshal.Cast<byte, BlockIQ4_NL>(destination);
        Span<byte> L = stackalloc byte[QK]; // kept across blocks, as in ggml
        L.Clear();
        for (int ibl = 0; ibl < nb; ++ibl)
        {
            ReadOnlySpan<float> xb = source.Slice(QK * ibl, QK);
            ref BlockIQ4_NL yb = ref y[ibl];
            // quantize_row_iq4_nl_impl(QK4_NL, 32, ..., quant_weights = NULL, ntry = -1)
            float scale;
            float amax = 0, max = 0;
            for (int j = 0; j < QK; ++j)
            {
                float ax = MathF.Abs(xb[j]);
                if (ax > amax)
                {
                    amax = ax; max = xb[j];
                }
            }
            if (amax < KQuants.GroupMaxEps)
            {
                scale = 0;
            }
            else
            {
                float d = max / KValues[0];
                float id = 1 / d;
                float sumqx = 0, sumq2 = 0;
                for (int j = 0; j < QK; ++j)
                {
                    float w = xb[j] * xb[j];
                    float al = id * xb[j];
                    int l = BestIndex(al);
                    L[j] = (byte)l;
                    float q = KValues[l];
                    sumqx += w * q * xb[j];
                    sumq2 += w * q * q;
                }
                d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
                // ntry = -1: the loop over itry in [1, -1] is empty
                scale = d;
            }
            yb.D = HalfConversions.Fp32ToHalf(scale);
            for (int j = 0; j < 16; ++j)
                yb.Qs[j] = (byte)(L[j] | (L[16 + j] << 4));
        }
    }

    /// <summary><c>best_index_int8(16, kvalues_iq4nl, x)</c>: the nearest level, the lower one on ties.</summary>
    private static int BestIndex(float x)
    {
        ReadOnlySpan<sbyte> val = KValues;
        if (x <= val[0]) return 0;
        if (x >= val[15]) return 15;
        int ml = 0, mu = 15;
        while (mu - ml > 1)
        {
            int mav = (ml + mu) / 2;
            if (x < val[mav]) mu = mav; else ml = mav;
        }
        return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_iq4_nl_q8_0_generic</c>: per block
    /// <c>sumf += (dy·dx)·(sumi1 + sumi2)</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockIQ4_NL> x = MemoryMarshal.Cast<byte, BlockIQ4_NL>(weights);
        ReadOnlySpan<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockIQ4_NL xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_0 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            float d = HalfConversions.Fp16ToFp32(yb.D) * HalfConversions.Fp16ToFp32(xb.D);
            int sumi1 = 0, sumi2 = 0;
            for (int j = 0; j < QK / 2; ++j)
            {
                sumi1 += yb.Qs[j + 0] * KValues[xb.Qs[j] & 0xf];
                sumi2 += yb.Qs[j + QK / 2] * KValues[xb.Qs[j] >> 4];
            }
            sumf += d * (sumi1 + sumi2);
        }
        return sumf;
    }

    /// <inheritdoc/>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        if (Avx2.IsSupported)
            return DotAvx2(weights, activations, nb);
        if (Vector128.IsHardwareAccelerated)
            return DotVector128(weights, activations, nb);
        return DotReference(weights, activations, count);
    }

    /// <summary>
    /// IQ4_NL in <see cref="PanelMatMul"/>'s eight-row panels (repacked at load, <see cref="RepackedWeights"/>):
    /// the raw nibbles dword-interleaved as Q4_0's (128 bytes per block of eight rows), each vector
    /// looked up with <c>vpshufb</c> into the table plus 128 (unsigned, 1–241: <c>vpdpbusd</c>, so
    /// AVX-VNNI). The float step is the reference's <c>(dy·dx)·sumi</c>.
    /// </summary>
    internal readonly struct PanelBlocks : PanelMatMul.IPanelBlocks
    {
        public static int BlockBytes => Bytes;

        public static int Offset => 128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Quants(ref byte block) => Lookup(BlockDot.Nibbles256(ref Unsafe.Add(ref block, 2)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Term(Vector256<float> sumi, Vector256<float> dx, Vector256<float> dy) => (dx * dy) * sumi;

        public static int PayloadBytes => 128;

        public static void PackQuants(ref byte b0, int rowBytes, byte* payload) => PanelMatMul.PackNibbles(ref b0, rowBytes, 2, payload);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelQuants(byte* payload, int k) => Lookup(PanelMatMul.NibbleQuants(payload, k));

        /// <summary>Table value + 128 of each nibble (0–15) of <paramref name="q"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<byte> Lookup(Vector256<byte> q)
        {
            Vector128<byte> t = Vector128.Create(KValues).AsByte() ^ Vector128.Create((byte)0x80);
            return Avx2.Shuffle(Vector256.Create(t, t), q);
        }
    }

    /// <summary>AVX2 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotAvx2(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockIQ4_NL x = ref Unsafe.As<byte, BlockIQ4_NL>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        Vector128<sbyte> t = Vector128.Create(KValues);
        Vector256<sbyte> table = Vector256.Create(t, t);
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockIQ4_NL x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
            ref BlockQ8_0 y0 = ref Unsafe.Add(ref y, ib), y1 = ref Unsafe.Add(ref y, ib + 1), y2 = ref Unsafe.Add(ref y, ib + 2), y3 = ref Unsafe.Add(ref y, ib + 3);
            Vector128<float> sumi = Vector128.ConvertToSingle(BlockDot.Sum4(
                BlockSum256(ref x0, ref y0, table), BlockSum256(ref x1, ref y1, table), BlockSum256(ref x2, ref y2, table), BlockSum256(ref x3, ref y3, table)));
            Vector256<float> d = BlockDot.Scales8(Bits(x0.D), Bits(x1.D), Bits(x2.D), Bits(x3.D), Bits(y0.D), Bits(y1.D), Bits(y2.D), Bits(y3.D));
            Vector128<float> s = (d.GetUpper() * d.GetLower()) * sumi;
            sumf += s.GetElement(0);
            sumf += s.GetElement(1);
            sumf += s.GetElement(2);
            sumf += s.GetElement(3);
        }
        for (; ib < nb; ib++)
        {
            ref BlockIQ4_NL xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            float d = HalfConversions.Fp16ToFp32(yb.D) * HalfConversions.Fp16ToFp32(xb.D);
            sumf += d * Vector256.Sum(BlockSum256(ref xb, ref yb, table));
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockIQ4_NL x = ref Unsafe.As<byte, BlockIQ4_NL>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        Vector128<sbyte> table = Vector128.Create(KValues);
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockIQ4_NL xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            BlockDot.Nibbles128(ref xb.Qs[0], out Vector128<byte> lo, out Vector128<byte> hi);
            Vector128<int> p =
                BlockDot.MultiplyAdd128(Vector128.Shuffle(table, lo.AsSByte()), Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128(Vector128.Shuffle(table, hi.AsSByte()), Vector128.LoadUnsafe(ref yb.Qs[16]));
            float d = HalfConversions.Fp16ToFp32(yb.D) * HalfConversions.Fp16ToFp32(xb.D);
            sumf += d * Vector128.Sum(p);
        }
        return sumf;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockIQ4_NL x, ref BlockQ8_0 y, Vector256<sbyte> table) =>
        BlockDot.MultiplyAddSigned256(Avx2.Shuffle(table, BlockDot.Nibbles256(ref x.Qs[0]).AsSByte()), Vector256.LoadUnsafe(ref y.Qs[0]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);
}
