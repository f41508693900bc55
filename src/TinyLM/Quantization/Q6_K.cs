using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q6_K block (ggml's <c>block_q6_K</c>, ggml/src/ggml-common.h): 256 weights in 16 groups of 16,
/// each with an int8 scale, under one float16 scale; 210 bytes, 6.5625 bits per weight. Weight e of
/// group j is <c>D·Scales[j]·(q_e − 32)</c> with 6-bit q_e.
/// </summary>
/// <remarks>In each half of 128 elements, byte l of <see cref="Ql"/> holds elements l (low nibble)
/// and l + 64 (high nibble), byte l + 32 holds l + 32 and l + 96; byte l of <see cref="Qh"/> holds
/// the two high bits of elements l, l + 32, l + 64, l + 96 (bits 0–1, 2–3, 4–5, 6–7).</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    /// <summary>Low 4 bits of the quants (ggml: <c>uint8_t ql[QK_K/2]</c>).</summary>
    public fixed byte Ql[128];

    /// <summary>High 2 bits of the quants (ggml: <c>uint8_t qh[QK_K/4]</c>).</summary>
    public fixed byte Qh[64];

    /// <summary>Group scales (ggml: <c>int8_t scales[QK_K/16]</c>).</summary>
    public fixed sbyte Scales[16];

    /// <summary>Super-block scale (ggml: <c>ggml_half d</c>).</summary>
    public Half D;
}

/// <summary>
/// Q6_K: 6-bit K-quant super-blocks of 256 with int8 scales per 16 (<see cref="BlockQ6_K"/>); dots take
/// Q8_K activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q6_K_ref</c> (what <c>quantize_q6_K</c> runs without an importance matrix) and
/// <c>dequantize_row_q6_K</c> (ggml/src/ggml-quants.c), <c>ggml_vec_dot_q6_K_q8_K_generic</c>
/// (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q6_K : TensorType
{
    private const int QK = KQuants.QK_K;
    private const int Bytes = 210;
    private const int Q8Bytes = 292;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q6_K;
    /// <inheritdoc/>
    public override string Name => "q6_K";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_K;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q6_K</c>: <c>y = d·sc·(q − 32)</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ6_K> x = MemoryMarshal.Cast<byte, BlockQ6_K>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ6_K b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            int y = i * QK, ql = 0, qh = 0, sc = 0;
            for (int n = 0; n < QK; n += 128)
            {
                for (int l = 0; l < 32; ++l)
                {
                    int @is = l / 16;
                    sbyte q1 = (sbyte)(((b.Ql[ql + l + 0] & 0xF) | (((b.Qh[qh + l] >> 0) & 3) << 4)) - 32);
                    sbyte q2 = (sbyte)(((b.Ql[ql + l + 32] & 0xF) | (((b.Qh[qh + l] >> 2) & 3) << 4)) - 32);
                    sbyte q3 = (sbyte)(((b.Ql[ql + l + 0] >> 4) | (((b.Qh[qh + l] >> 4) & 3) << 4)) - 32);
                    sbyte q4 = (sbyte)(((b.Ql[ql + l + 32] >> 4) | (((b.Qh[qh + l] >> 6) & 3) << 4)) - 32);
                    destination[y + l + 0] = d * b.Scales[sc + @is + 0] * q1;
                    destination[y + l + 32] = d * b.Scales[sc + @is + 2] * q2;
                    destination[y + l + 64] = d * b.Scales[sc + @is + 4] * q3;
                    destination[y + l + 96] = d * b.Scales[sc + @is + 6] * q4;
                }
                y += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q6_K_ref</c>: per group of 16, <c>make_qx_quants</c> (nmax 32,
    /// x²-weighted, 19 trial scales), then int8 scales against <c>−128 / max_scale</c> and a final
    /// requantization with the rounded scales; a block whose scales are all below
    /// <c>GROUP_MAX_EPS</c> is written as zeros.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ6_K> y = MemoryMarshal.Cast<byte, BlockQ6_K>(destination);
        Span<sbyte> L = stackalloc sbyte[QK];
        Span<float> scales = stackalloc float[QK / 16];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            ref BlockQ6_K yb = ref y[i];
            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QK / 16; ++ib)
            {
                float scale = KQuants.MakeQxQuants(16, 32, x.Slice(16 * ib, 16), L.Slice(16 * ib, 16), 1);
                scales[ib] = scale;
                float absScale = MathF.Abs(scale);
                if (absScale > maxAbsScale)
                {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }

            if (maxAbsScale < KQuants.GroupMaxEps)
            {
                MemoryMarshal.AsBytes(y.Slice(i, 1)).Clear();
                yb.D = HalfConversions.Fp32ToHalf(0.0f);
                continue;
            }

            float iscale = -128.0f / maxScale;
            yb.D = HalfConversions.Fp32ToHalf(1 / iscale);
            for (int ib = 0; ib < QK / 16; ++ib)
                yb.Scales[ib] = (sbyte)KQuants.Min(127, KQuants.NearestInt(iscale * scales[ib]));

            for (int j = 0; j < QK / 16; ++j)
            {
                float d = HalfConversions.Fp16ToFp32(yb.D) * yb.Scales[j];
                if (d == 0)
                    continue;
                for (int ii = 0; ii < 16; ++ii)
                {
                    int l = KQuants.NearestInt(x[16 * j + ii] / d);
                    l = KQuants.Max(-32, KQuants.Min(31, l));
                    L[16 * j + ii] = (sbyte)(l + 32);
                }
            }

            int ql = 0, qh = 0;
            for (int j = 0; j < QK; j += 128)
            {
                for (int l = 0; l < 32; ++l)
                {
                    byte q1 = (byte)(L[j + l + 0] & 0xF);
                    byte q2 = (byte)(L[j + l + 32] & 0xF);
                    byte q3 = (byte)(L[j + l + 64] & 0xF);
                    byte q4 = (byte)(L[j + l + 96] & 0xF);
                    yb.Ql[ql + l + 0] = (byte)(q1 | (q3 << 4));
                    yb.Ql[ql + l + 32] = (byte)(q2 | (q4 << 4));
                    yb.Qh[qh + l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
                }
                ql += 64;
                qh += 32;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q6_K_q8_K_generic</c>: per block, eight int32 lanes
    /// <c>aux32[l]</c> (elements ≡ l mod 8, times their group scale) and <c>sums[l] += d·aux32[l]</c>
    /// with <c>d = dx·dy</c>; finally <c>sumf += sums[l]</c> in lane order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ6_K> x = MemoryMarshal.Cast<byte, BlockQ6_K>(weights);
        ReadOnlySpan<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        Span<sbyte> aux8 = stackalloc sbyte[QK];
        Span<short> aux16 = stackalloc short[8];
        Span<float> sums = stackalloc float[8];
        Span<int> aux32 = stackalloc int[8];
        sums.Clear();
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockQ6_K xb = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_K yb = ref MemoryMarshal.GetReference(y.Slice(i, 1));
            aux32.Clear();
            int a = 0, q4 = 0, qh = 0;
            for (int j = 0; j < QK; j += 128)
            {
                for (int l = 0; l < 32; ++l)
                {
                    aux8[a + l + 0] = (sbyte)(((xb.Ql[q4 + l + 0] & 0xF) | (((xb.Qh[qh + l] >> 0) & 3) << 4)) - 32);
                    aux8[a + l + 32] = (sbyte)(((xb.Ql[q4 + l + 32] & 0xF) | (((xb.Qh[qh + l] >> 2) & 3) << 4)) - 32);
                    aux8[a + l + 64] = (sbyte)(((xb.Ql[q4 + l + 0] >> 4) | (((xb.Qh[qh + l] >> 4) & 3) << 4)) - 32);
                    aux8[a + l + 96] = (sbyte)(((xb.Ql[q4 + l + 32] >> 4) | (((xb.Qh[qh + l] >> 6) & 3) << 4)) - 32);
                }
                a += 128;
                q4 += 64;
                qh += 32;
            }
            a = 0;
            int q8 = 0, @is = 0;
            for (int j = 0; j < QK / 16; ++j)
            {
                int scale = xb.Scales[@is++];
                for (int k = 0; k < 2; k++)
                {
                    for (int l = 0; l < 8; ++l) aux16[l] = (short)(yb.Qs[q8 + l] * aux8[a + l]);
                    for (int l = 0; l < 8; ++l) aux32[l] += scale * aux16[l];
                    q8 += 8; a += 8;
                }
            }
            float d = HalfConversions.Fp16ToFp32(xb.D) * yb.D;
            for (int l = 0; l < 8; ++l) sums[l] += d * aux32[l];
        }
        for (int l = 0; l < 8; ++l) sumf += sums[l];
        return sumf;
    }

    /// <inheritdoc/>
    /// <remarks>With AVX2 <see cref="KQuantPacked.DotAvx2{T}"/> on the packed blocks, else <see cref="KQuantDot.Dot{T}"/>
    /// (Vector128 lane sums); the same bits as <see cref="DotReference"/>.</remarks>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        if (!Avx2.IsSupported)
            return KQuantDot.Dot<LaneBlocks>(this, weights, activations, count);
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        return KQuantPacked.DotAvx2<KQuantPacked.Q6K>(weights, activations, nb);
    }

    /// <inheritdoc/>
    /// <remarks>With AVX2 <see cref="KQuantPacked.MatMulAvx2{T}"/>, else <see cref="KQuantDot.MatMul{T}"/>: every output
    /// equals <see cref="Dot"/> of its row pair.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count or index is negative, <paramref name="cols"/>
    /// is not a multiple of 256, or <paramref name="outputStride"/> is below <c>rowStart + rowCount</c>.</exception>
    /// <exception cref="ArgumentException">The weights, activations or output are too short.</exception>
    public override void MatMul(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        if (!Avx2.IsSupported)
        {
            KQuantDot.MatMul<LaneBlocks>(this, weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
            return;
        }
        int nb = TensorTypeChecks.MatMulBlocks(this, weights.Length, rowStart, rowCount, cols, activations.Length, tokens, output.Length, outputStride, Q8Bytes);
        KQuantPacked.MatMulAvx2<KQuantPacked.Q6K>(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);
    }

    /// <summary>How a Q6_K block feeds the lane sums of <see cref="KQuantDot"/>: quants minus 32, int8 scales.</summary>
    internal readonly struct LaneBlocks : KQuantDot.ILaneBlocks
    {
        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static bool Groups32 => false;
        /// <inheritdoc/>
        public static bool HasMins => false;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte block, Span<sbyte> aux8, Span<int> scales, Span<int> mins, out float d, out float dmin)
        {
            ref BlockQ6_K xb = ref Unsafe.As<byte, BlockQ6_K>(ref block);
            ref byte a = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetReference(aux8));
            Vector128<byte> offset = Vector128.Create((byte)32);
            for (int half = 0; half < 2; half++)
                for (int c = 0; c < 32; c += 16)
                {
                    Vector128<byte> l0 = Vector128.LoadUnsafe(ref xb.Ql[64 * half + c]);
                    Vector128<byte> l1 = Vector128.LoadUnsafe(ref xb.Ql[64 * half + 32 + c]);
                    Vector128<byte> h = Vector128.LoadUnsafe(ref xb.Qh[32 * half + c]);
                    nuint o = (nuint)(128 * half + c);
                    ((KQuantDot.Bits(l0, 0, 0xF) | (KQuantDot.Bits(h, 0, 3) << 4)) - offset).StoreUnsafe(ref a, o);
                    ((KQuantDot.Bits(l1, 0, 0xF) | (KQuantDot.Bits(h, 2, 3) << 4)) - offset).StoreUnsafe(ref a, o + 32);
                    ((KQuantDot.Bits(l0, 4, 0xF) | (KQuantDot.Bits(h, 4, 3) << 4)) - offset).StoreUnsafe(ref a, o + 64);
                    ((KQuantDot.Bits(l1, 4, 0xF) | (KQuantDot.Bits(h, 6, 3) << 4)) - offset).StoreUnsafe(ref a, o + 96);
                }
            for (int j = 0; j < 16; j++)
                scales[j] = xb.Scales[j];
            d = HalfConversions.Fp16ToFp32(xb.D);
            dmin = 0;
        }
    }
}
