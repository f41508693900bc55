using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q4_K block (ggml's <c>block_q4_K</c>, ggml/src/ggml-common.h): 256 weights in 8 sub-blocks of
/// 32, each with a 6-bit scale and a 6-bit min, themselves scaled by two float16 values; 144 bytes,
/// 4.5 bits per weight. Weight e of sub-block j is <c>D·sc_j·q_e − DMin·m_j</c>.
/// </summary>
/// <remarks>Sub-blocks 2k and 2k+1 share bytes 32k–32k+31 of <see cref="Qs"/>: low nibbles for 2k,
/// high nibbles for 2k+1. <see cref="Scales"/> packs the 6-bit values as <c>get_scale_min_k4</c> reads them.</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    /// <summary>Super-block scale for the quantized scales (ggml: <c>ggml_half d</c>).</summary>
    public Half D;

    /// <summary>Super-block scale for the quantized mins (ggml: <c>ggml_half dmin</c>).</summary>
    public Half DMin;

    /// <summary>Scales and mins, 6 bits each (ggml: <c>uint8_t scales[K_SCALE_SIZE]</c>).</summary>
    public fixed byte Scales[12];

    /// <summary>4-bit quants (ggml: <c>uint8_t qs[QK_K/2]</c>).</summary>
    public fixed byte Qs[128];
}

/// <summary>
/// Q4_K: 4-bit K-quant super-blocks of 256 with per-32 scales and mins (<see cref="BlockQ4_K"/>); dots
/// take Q8_K activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q4_K_ref</c> (what <c>quantize_q4_K</c> runs without an importance matrix) and
/// <c>dequantize_row_q4_K</c> (ggml/src/ggml-quants.c), <c>ggml_vec_dot_q4_K_q8_K_generic</c>
/// (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q4_K : TensorType
{
    private const int QK = KQuants.QK_K;
    private const int Bytes = 144;
    private const int Q8Bytes = 292;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q4_K;
    /// <inheritdoc/>
    public override string Name => "q4_K";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_K;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q4_K</c>: <c>y = d·sc·q − dmin·m</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ4_K> x = MemoryMarshal.Cast<byte, BlockQ4_K>(source);
        int o = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ4_K b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ReadOnlySpan<byte> scales = MemoryMarshal.CreateReadOnlySpan(ref b.Scales[0], KQuants.KScaleSize);
            float d = HalfConversions.Fp16ToFp32(b.D);
            float min = HalfConversions.Fp16ToFp32(b.DMin);
            int q = 0, @is = 0;
            for (int j = 0; j < QK; j += 64)
            {
                KQuants.GetScaleMinK4(@is + 0, scales, out byte sc, out byte m);
                float d1 = d * sc; float m1 = min * m;
                KQuants.GetScaleMinK4(@is + 1, scales, out sc, out m);
                float d2 = d * sc; float m2 = min * m;
                for (int l = 0; l < 32; ++l) destination[o++] = d1 * (b.Qs[q + l] & 0xF) - m1;
                for (int l = 0; l < 32; ++l) destination[o++] = d2 * (b.Qs[q + l] >> 4) - m2;
                q += 32; @is += 2;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q4_K_ref</c>: per sub-block of 32, <c>make_qkx2_quants</c>
    /// (nmax 15, weights <c>av_x + |x|</c>, 21 trial scales), then 6-bit scales and mins against
    /// <c>max/63</c> and a final requantization with the rounded scales.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ4_K> y = MemoryMarshal.Cast<byte, BlockQ4_K>(destination);
        Span<byte> L = stackalloc byte[QK];
        Span<byte> Laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[QK / 32];
        Span<float> scales = stackalloc float[QK / 32];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            ref BlockQ4_K yb = ref y[i];
            float maxScale = 0; // as we are deducting the min, scales are always positive
            float maxMin = 0;
            for (int j = 0; j < QK / 32; ++j)
            {
                ReadOnlySpan<float> xj = x.Slice(32 * j, 32);
                float sumX2 = 0;
                for (int l = 0; l < 32; ++l) sumX2 += xj[l] * xj[l];
                float avX = MathF.Sqrt(sumX2 / 32);
                for (int l = 0; l < 32; ++l) weights[l] = avX + MathF.Abs(xj[l]);
                scales[j] = KQuants.MakeQkx2Quants(32, 15, xj, weights, L.Slice(32 * j, 32), out mins[j], Laux, -1.0f, 0.1f, 20, false);
                float scale = scales[j];
                if (scale > maxScale)
                    maxScale = scale;
                float min = mins[j];
                if (min > maxMin)
                    maxMin = min;
            }

            float invScale = maxScale > 0 ? 63.0f / maxScale : 0.0f;
            float invMin = maxMin > 0 ? 63.0f / maxMin : 0.0f;
            for (int j = 0; j < QK / 32; ++j)
            {
                byte ls = (byte)KQuants.NearestInt(invScale * scales[j]);
                byte lm = (byte)KQuants.NearestInt(invMin * mins[j]);
                ls = (byte)KQuants.Min(63, ls);
                lm = (byte)KQuants.Min(63, lm);
                if (j < 4)
                {
                    yb.Scales[j] = ls;
                    yb.Scales[j + 4] = lm;
                }
                else
                {
                    yb.Scales[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                    yb.Scales[j - 4] |= (byte)((ls >> 4) << 6);
                    yb.Scales[j - 0] |= (byte)((lm >> 4) << 6);
                }
            }
            yb.D = HalfConversions.Fp32ToHalf(maxScale / 63.0f);
            yb.DMin = HalfConversions.Fp32ToHalf(maxMin / 63.0f);

            ReadOnlySpan<byte> packed = MemoryMarshal.CreateReadOnlySpan(ref yb.Scales[0], KQuants.KScaleSize);
            for (int j = 0; j < QK / 32; ++j)
            {
                KQuants.GetScaleMinK4(j, packed, out byte sc, out byte m);
                float d = HalfConversions.Fp16ToFp32(yb.D) * sc;
                if (d == 0) continue;
                float dm = HalfConversions.Fp16ToFp32(yb.DMin) * m;
                for (int ii = 0; ii < 32; ++ii)
                {
                    int l = KQuants.NearestInt(KQuants.AddFirstNaN(x[32 * j + ii], dm) / d);
                    l = KQuants.Max(0, KQuants.Min(15, l));
                    L[32 * j + ii] = (byte)l;
                }
            }

            int q = 0;
            for (int j = 0; j < QK; j += 64)
            {
                for (int l = 0; l < 32; ++l) yb.Qs[q + l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
                q += 32;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q4_K_q8_K_generic</c>: per block, eight int32 lanes
    /// <c>aux32[l]</c> (elements ≡ l mod 8, times their sub-block scale), <c>sums[l] += d·aux32[l]</c>
    /// with <c>d = dx·dy</c>, and <c>sumf −= dmin·Σ bsums·m</c>; finally <c>sumf += sums[l]</c> in lane order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ4_K> x = MemoryMarshal.Cast<byte, BlockQ4_K>(weights);
        ReadOnlySpan<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        Span<byte> utmp = stackalloc byte[16]; // scales in bytes 0-7, mins in 8-15
        Span<sbyte> aux8 = stackalloc sbyte[QK];
        Span<short> aux16 = stackalloc short[8];
        Span<float> sums = stackalloc float[8];
        Span<int> aux32 = stackalloc int[8];
        sums.Clear();
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockQ4_K xb = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_K yb = ref MemoryMarshal.GetReference(y.Slice(i, 1));
            aux32.Clear();
            int a = 0, q4 = 0;
            for (int j = 0; j < QK / 64; ++j)
            {
                for (int l = 0; l < 32; ++l) aux8[a + l] = (sbyte)(xb.Qs[q4 + l] & 0xF);
                a += 32;
                for (int l = 0; l < 32; ++l) aux8[a + l] = (sbyte)(xb.Qs[q4 + l] >> 4);
                a += 32; q4 += 32;
            }
            KQuants.UnpackScalesMinsK4(MemoryMarshal.CreateReadOnlySpan(ref xb.Scales[0], KQuants.KScaleSize), utmp);

            int sumi = 0;
            for (int j = 0; j < QK / 16; ++j) sumi += yb.BSums[j] * utmp[8 + j / 2];
            a = 0;
            int q8 = 0, @is = 0;
            for (int j = 0; j < QK / 32; ++j)
            {
                int scale = utmp[@is++];
                for (int k = 0; k < 4; k++)
                {
                    for (int l = 0; l < 8; ++l) aux16[l] = (short)(yb.Qs[q8 + l] * aux8[a + l]);
                    for (int l = 0; l < 8; ++l) aux32[l] += scale * aux16[l];
                    q8 += 8; a += 8;
                }
            }
            float d = HalfConversions.Fp16ToFp32(xb.D) * yb.D;
            for (int l = 0; l < 8; ++l) sums[l] += d * aux32[l];
            float dmin = HalfConversions.Fp16ToFp32(xb.DMin) * yb.D;
            sumf -= dmin * sumi;
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
        return KQuantPacked.DotAvx2<KQuantPacked.Q4K>(weights, activations, nb);
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
        KQuantPacked.MatMulAvx2<KQuantPacked.Q4K>(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);
    }

    /// <summary>How a Q4_K block feeds the lane sums of <see cref="KQuantDot"/>.</summary>
    internal readonly struct LaneBlocks : KQuantDot.ILaneBlocks
    {
        /// <inheritdoc/>
        public static int BlockBytes => Bytes;
        /// <inheritdoc/>
        public static bool Groups32 => true;
        /// <inheritdoc/>
        public static bool HasMins => true;

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Unpack(ref byte block, Span<sbyte> aux8, Span<int> scales, Span<int> mins, out float d, out float dmin)
        {
            ref BlockQ4_K xb = ref Unsafe.As<byte, BlockQ4_K>(ref block);
            ref byte a = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetReference(aux8));
            for (int j = 0; j < 4; j++)
            {
                Vector128<byte> v0 = Vector128.LoadUnsafe(ref xb.Qs[32 * j]), v1 = Vector128.LoadUnsafe(ref xb.Qs[32 * j + 16]);
                KQuantDot.Bits(v0, 0, 0xF).StoreUnsafe(ref a, (nuint)(64 * j));
                KQuantDot.Bits(v1, 0, 0xF).StoreUnsafe(ref a, (nuint)(64 * j + 16));
                KQuantDot.Bits(v0, 4, 0xF).StoreUnsafe(ref a, (nuint)(64 * j + 32));
                KQuantDot.Bits(v1, 4, 0xF).StoreUnsafe(ref a, (nuint)(64 * j + 48));
            }
            ReadOnlySpan<byte> packed = MemoryMarshal.CreateReadOnlySpan(ref xb.Scales[0], KQuants.KScaleSize);
            for (int j = 0; j < 8; j++)
            {
                KQuants.GetScaleMinK4(j, packed, out byte sc, out byte m);
                scales[j] = sc;
                mins[j] = m;
            }
            d = HalfConversions.Fp16ToFp32(xb.D);
            dmin = HalfConversions.Fp16ToFp32(xb.DMin);
        }
    }
}
