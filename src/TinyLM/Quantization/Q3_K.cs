using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q3_K block (ggml's <c>block_q3_K</c>, ggml/src/ggml-common.h): 256 weights in 16 groups of 16,
/// each with a 6-bit scale, under one float16 scale; 110 bytes, 3.4375 bits per weight. Weight e of
/// group j is <c>D·(sc_j − 32)·(q_e − 4)</c> with 3-bit q_e.
/// </summary>
/// <remarks>In each half of 128 elements, byte l of <see cref="Qs"/> holds the low two bits of
/// elements l, l + 32, l + 64, l + 96; bit k of byte l of <see cref="HMask"/> is the high bit of
/// element 32k + l. <see cref="Scales"/> packs the sixteen 6-bit scales (low nibbles in bytes 0–7,
/// high pairs in bytes 8–11).</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K
{
    /// <summary>High bits of the quants (ggml: <c>uint8_t hmask[QK_K/8]</c>).</summary>
    public fixed byte HMask[32];

    /// <summary>Low 2 bits of the quants (ggml: <c>uint8_t qs[QK_K/4]</c>).</summary>
    public fixed byte Qs[64];

    /// <summary>Scales, 6 bits each (ggml: <c>uint8_t scales[12]</c>).</summary>
    public fixed byte Scales[12];

    /// <summary>Super-block scale (ggml: <c>ggml_half d</c>).</summary>
    public Half D;
}

/// <summary>
/// Q3_K: 3-bit K-quant super-blocks of 256 with 6-bit scales per 16 (<see cref="BlockQ3_K"/>); dots take
/// Q8_K activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q3_K_ref</c> (what <c>quantize_q3_K</c> runs without an importance matrix) and
/// <c>dequantize_row_q3_K</c> (ggml/src/ggml-quants.c), <c>ggml_vec_dot_q3_K_q8_K_generic</c>
/// (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q3_K : TensorType
{
    private const int QK = KQuants.QK_K;
    private const int Bytes = 110;
    private const int Q8Bytes = 292;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q3_K;
    /// <inheritdoc/>
    public override string Name => "q3_K";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_K;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q3_K</c>: <c>y = d·(sc − 32)·(q − 4)</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ3_K> x = MemoryMarshal.Cast<byte, BlockQ3_K>(source);
        Span<int> scales = stackalloc int[16];
        int y = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ3_K b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float dAll = HalfConversions.Fp16ToFp32(b.D);
            KQuants.UnpackScalesQ3K(MemoryMarshal.CreateReadOnlySpan(ref b.Scales[0], 12), scales);
            int q = 0, @is = 0;
            int m = 1;
            for (int n = 0; n < QK; n += 128)
            {
                int shift = 0;
                for (int j = 0; j < 4; ++j)
                {
                    float dl = dAll * scales[@is++];
                    for (int l = 0; l < 16; ++l)
                        destination[y++] = dl * (((b.Qs[q + l + 0] >> shift) & 3) - ((b.HMask[l + 0] & m) != 0 ? 0 : 4));
                    dl = dAll * scales[@is++];
                    for (int l = 0; l < 16; ++l)
                        destination[y++] = dl * (((b.Qs[q + l + 16] >> shift) & 3) - ((b.HMask[l + 16] & m) != 0 ? 0 : 4));
                    shift += 2;
                    m <<= 1;
                }
                q += 32;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q3_K_ref</c>: per group of 16, <c>make_q3_quants</c> (nmax 4,
    /// with its x²-weighted refinement), then 6-bit scales against <c>−32 / max_scale</c> and a final
    /// requantization with the rounded scales.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ3_K> y = MemoryMarshal.Cast<byte, BlockQ3_K>(destination);
        Span<sbyte> L = stackalloc sbyte[QK];
        Span<float> scales = stackalloc float[QK / 16];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            ref BlockQ3_K yb = ref y[i];
            float maxScale = 0;
            float amax = 0;
            for (int j = 0; j < QK / 16; ++j)
            {
                scales[j] = KQuants.MakeQ3Quants(16, 4, x.Slice(16 * j, 16), L.Slice(16 * j, 16), true);
                float scale = MathF.Abs(scales[j]);
                if (scale > amax)
                {
                    amax = scale; maxScale = scales[j];
                }
            }

            for (int j = 0; j < 12; j++) yb.Scales[j] = 0;
            if (maxScale != 0)
            {
                float iscale = -32.0f / maxScale;
                for (int j = 0; j < QK / 16; ++j)
                {
                    sbyte l = (sbyte)KQuants.NearestInt(iscale * scales[j]);
                    l = (sbyte)(KQuants.Max(-32, KQuants.Min(31, l)) + 32);
                    if (j < 8)
                        yb.Scales[j] = (byte)(l & 0xF);
                    else
                        yb.Scales[j - 8] |= (byte)((l & 0xF) << 4);
                    l >>= 4;
                    yb.Scales[j % 4 + 8] |= (byte)(l << (2 * (j / 4)));
                }
                yb.D = HalfConversions.Fp32ToHalf(1 / iscale);
            }
            else
            {
                yb.D = HalfConversions.Fp32ToHalf(0.0f);
            }

            for (int j = 0; j < QK / 16; ++j)
            {
                sbyte sc = (sbyte)(j < 8 ? yb.Scales[j] & 0xF : yb.Scales[j - 8] >> 4);
                sc = (sbyte)(((byte)sc | (((yb.Scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
                float d = HalfConversions.Fp16ToFp32(yb.D) * sc;
                if (d == 0)
                    continue;
                for (int ii = 0; ii < 16; ++ii)
                {
                    int l = KQuants.NearestInt(x[16 * j + ii] / d);
                    l = KQuants.Max(-4, KQuants.Min(3, l));
                    L[16 * j + ii] = (sbyte)(l + 4);
                }
            }

            for (int j = 0; j < QK / 8; j++) yb.HMask[j] = 0;
            // We put the high-bit for the 1st 8 quants into bit 0, the next 8 into bit 1, etc.
            int m = 0;
            int hm = 1;
            for (int j = 0; j < QK; ++j)
            {
                if (L[j] > 3)
                {
                    yb.HMask[m] |= (byte)hm;
                    L[j] -= 4;
                }
                if (++m == QK / 8)
                {
                    m = 0; hm = (byte)(hm << 1);
                }
            }
            for (int j = 0; j < QK; j += 128)
                for (int l = 0; l < 32; ++l)
                    yb.Qs[j / 4 + l] = (byte)((byte)L[j + l] | ((byte)L[j + l + 32] << 2) | ((byte)L[j + l + 64] << 4) | ((byte)L[j + l + 96] << 6));
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q3_K_q8_K_generic</c>: per block, eight int32 lanes
    /// <c>aux32[l]</c> (elements ≡ l mod 8, times their group scale − 32) and
    /// <c>sums[l] += d·aux32[l]</c> with <c>d = dx·dy</c>; finally <c>sumf += sums[l]</c> in lane order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ3_K> x = MemoryMarshal.Cast<byte, BlockQ3_K>(weights);
        ReadOnlySpan<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        Span<sbyte> aux8 = stackalloc sbyte[QK];
        Span<short> aux16 = stackalloc short[8];
        Span<float> sums = stackalloc float[8];
        Span<int> aux32 = stackalloc int[8];
        Span<int> scales = stackalloc int[16];
        sums.Clear();
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockQ3_K xb = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_K yb = ref MemoryMarshal.GetReference(y.Slice(i, 1));
            aux32.Clear();
            int a = 0, q3 = 0;
            int m = 1;
            for (int j = 0; j < QK; j += 128)
            {
                for (int shift = 0; shift < 8; shift += 2)
                {
                    for (int l = 0; l < 32; ++l) aux8[a + l] = (sbyte)((xb.Qs[q3 + l] >> shift) & 3);
                    for (int l = 0; l < 32; ++l) aux8[a + l] -= (sbyte)((xb.HMask[l] & m) != 0 ? 0 : 4);
                    a += 32; m <<= 1;
                }
                q3 += 32;
            }
            a = 0;
            KQuants.UnpackScalesQ3K(MemoryMarshal.CreateReadOnlySpan(ref xb.Scales[0], 12), scales);
            int q8 = 0;
            for (int j = 0; j < QK / 16; ++j)
            {
                for (int k = 0; k < 2; k++)
                {
                    for (int l = 0; l < 8; ++l) aux16[l] = (short)(yb.Qs[q8 + l] * aux8[a + l]);
                    for (int l = 0; l < 8; ++l) aux32[l] += scales[j] * aux16[l];
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
    /// <remarks><see cref="KQuantDot.Dot{T}"/>: AVX2 or Vector128 lane sums, the same bits as <see cref="DotReference"/>.</remarks>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count) =>
        KQuantDot.Dot<LaneBlocks>(this, weights, activations, count);

    /// <inheritdoc/>
    /// <remarks><see cref="KQuantDot.MatMul{T}"/>: every output equals <see cref="Dot"/> of its row pair.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count or index is negative, <paramref name="cols"/>
    /// is not a multiple of 256, or <paramref name="outputStride"/> is below <c>rowStart + rowCount</c>.</exception>
    /// <exception cref="ArgumentException">The weights, activations or output are too short.</exception>
    public override void MatMul(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) =>
        KQuantDot.MatMul<LaneBlocks>(this, weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);

    /// <summary>How a Q3_K block feeds the lane sums of <see cref="KQuantDot"/>: quants minus 4, scales minus 32.</summary>
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
            ref BlockQ3_K xb = ref Unsafe.As<byte, BlockQ3_K>(ref block);
            ref byte a = ref Unsafe.As<sbyte, byte>(ref MemoryMarshal.GetReference(aux8));
            Vector128<byte> h0 = Vector128.LoadUnsafe(ref xb.HMask[0]), h1 = Vector128.LoadUnsafe(ref xb.HMask[16]);
            Vector128<byte> four = Vector128.Create((byte)4);
            for (int half = 0; half < 2; half++)
            {
                Vector128<byte> q0 = Vector128.LoadUnsafe(ref xb.Qs[32 * half]), q1 = Vector128.LoadUnsafe(ref xb.Qs[32 * half + 16]);
                for (int k = 0; k < 4; k++)
                {
                    int bit = 4 * half + k;
                    nuint o = (nuint)(128 * half + 32 * k);
                    (KQuantDot.Bits(q0, 2 * k, 3) - (four & ~(KQuantDot.Bits(h0, bit, 1) << 2))).StoreUnsafe(ref a, o);
                    (KQuantDot.Bits(q1, 2 * k, 3) - (four & ~(KQuantDot.Bits(h1, bit, 1) << 2))).StoreUnsafe(ref a, o + 16);
                }
            }
            KQuants.UnpackScalesQ3K(MemoryMarshal.CreateReadOnlySpan(ref xb.Scales[0], 12), scales);
            d = HalfConversions.Fp16ToFp32(xb.D);
            dmin = 0;
        }
    }
}
