using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q2_K block (ggml's <c>block_q2_K</c>, ggml/src/ggml-common.h): 256 weights in 16 groups of 16,
/// each with a 4-bit scale and a 4-bit min, themselves scaled by two float16 values; 84 bytes,
/// 2.625 bits per weight. Weight e of group j is <c>D·sc_j·q_e − DMin·m_j</c>.
/// </summary>
/// <remarks>In each half of 128 elements, byte l of <see cref="Qs"/> holds elements l, l + 32,
/// l + 64, l + 96 in bits 0–1, 2–3, 4–5, 6–7; byte j of <see cref="Scales"/> holds group j's scale
/// (low nibble) and min (high nibble).</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K
{
    /// <summary>Scales and mins, 4 bits each (ggml: <c>uint8_t scales[QK_K/16]</c>).</summary>
    public fixed byte Scales[16];

    /// <summary>2-bit quants (ggml: <c>uint8_t qs[QK_K/4]</c>).</summary>
    public fixed byte Qs[64];

    /// <summary>Super-block scale for the quantized scales (ggml: <c>ggml_half d</c>).</summary>
    public Half D;

    /// <summary>Super-block scale for the quantized mins (ggml: <c>ggml_half dmin</c>).</summary>
    public Half DMin;
}

/// <summary>
/// Q2_K: 2-bit K-quant super-blocks of 256 with 4-bit scales and mins per 16 (<see cref="BlockQ2_K"/>);
/// dots take Q8_K activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q2_K_ref</c> (what <c>quantize_q2_K</c> runs without an importance matrix) and
/// <c>dequantize_row_q2_K</c> (ggml/src/ggml-quants.c), <c>ggml_vec_dot_q2_K_q8_K_generic</c>
/// (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q2_K : TensorType
{
    private const int QK = KQuants.QK_K;
    private const int Bytes = 84;
    private const int Q8Bytes = 292;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q2_K;
    /// <inheritdoc/>
    public override string Name => "q2_K";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_K;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q2_K</c>: <c>y = d·sc·q − dmin·m</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ2_K> x = MemoryMarshal.Cast<byte, BlockQ2_K>(source);
        int y = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ2_K b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            float min = HalfConversions.Fp16ToFp32(b.DMin);
            int q = 0, @is = 0;
            for (int n = 0; n < QK; n += 128)
            {
                int shift = 0;
                for (int j = 0; j < 4; ++j)
                {
                    int sc = b.Scales[@is++];
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l) destination[y++] = dl * ((b.Qs[q + l] >> shift) & 3) - ml;
                    sc = b.Scales[@is++];
                    dl = d * (sc & 0xF); ml = min * (sc >> 4);
                    for (int l = 0; l < 16; ++l) destination[y++] = dl * ((b.Qs[q + l + 16] >> shift) & 3) - ml;
                    shift += 2;
                }
                q += 32;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q2_K_ref</c>: per group of 16, <c>make_qkx2_quants</c> (nmax 3,
    /// weights |x|, absolute error, 16 trial scales), then 4-bit scales and mins against
    /// <c>max/15</c> and a final requantization with the rounded values.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ2_K> y = MemoryMarshal.Cast<byte, BlockQ2_K>(destination);
        Span<byte> L = stackalloc byte[QK];
        Span<byte> Laux = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> mins = stackalloc float[QK / 16];
        Span<float> scales = stackalloc float[QK / 16];
        const float q4scale = 15.0f;
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            ref BlockQ2_K yb = ref y[i];
            float maxScale = 0; // as we are deducting the min, scales are always positive
            float maxMin = 0;
            for (int j = 0; j < QK / 16; ++j)
            {
                for (int l = 0; l < 16; ++l) weights[l] = MathF.Abs(x[16 * j + l]);
                scales[j] = KQuants.MakeQkx2Quants(16, 3, x.Slice(16 * j, 16), weights, L.Slice(16 * j, 16), out mins[j], Laux, -0.5f, 0.1f, 15, true);
                float scale = scales[j];
                if (scale > maxScale)
                    maxScale = scale;
                float min = mins[j];
                if (min > maxMin)
                    maxMin = min;
            }

            if (maxScale > 0)
            {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < QK / 16; ++j)
                    yb.Scales[j] = (byte)KQuants.NearestInt(iscale * scales[j]);
                yb.D = HalfConversions.Fp32ToHalf(maxScale / q4scale);
            }
            else
            {
                for (int j = 0; j < QK / 16; ++j) yb.Scales[j] = 0;
                yb.D = HalfConversions.Fp32ToHalf(0.0f);
            }
            if (maxMin > 0)
            {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < QK / 16; ++j)
                {
                    int l = KQuants.NearestInt(iscale * mins[j]);
                    yb.Scales[j] |= (byte)(l << 4);
                }
                yb.DMin = HalfConversions.Fp32ToHalf(maxMin / q4scale);
            }
            else
            {
                yb.DMin = HalfConversions.Fp32ToHalf(0.0f);
            }
            for (int j = 0; j < QK / 16; ++j)
            {
                float d = HalfConversions.Fp16ToFp32(yb.D) * (yb.Scales[j] & 0xF);
                if (d == 0) continue;
                float dm = HalfConversions.Fp16ToFp32(yb.DMin) * (yb.Scales[j] >> 4);
                for (int ii = 0; ii < 16; ++ii)
                {
                    int l = KQuants.NearestInt(KQuants.AddFirstNaN(x[16 * j + ii], dm) / d);
                    l = KQuants.Max(0, KQuants.Min(3, l));
                    L[16 * j + ii] = (byte)l;
                }
            }

            for (int j = 0; j < QK; j += 128)
                for (int l = 0; l < 32; ++l)
                    yb.Qs[j / 4 + l] = (byte)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q2_K_q8_K_generic</c>: per block the integer sums
    /// <c>isum = Σ sc·Σ q8·q</c> and <c>summs = Σ bsums·m</c>, then
    /// <c>sumf += dall·isum − dmin·summs</c> with <c>dall = dy·dx</c>, <c>dmin = dy·dmin_x</c>.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ2_K> x = MemoryMarshal.Cast<byte, BlockQ2_K>(weights);
        ReadOnlySpan<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockQ2_K xb = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_K yb = ref MemoryMarshal.GetReference(y.Slice(i, 1));
            int summs = 0;
            for (int j = 0; j < 16; ++j)
                summs += yb.BSums[j] * (xb.Scales[j] >> 4);
            float dall = yb.D * HalfConversions.Fp16ToFp32(xb.D);
            float dmin = yb.D * HalfConversions.Fp16ToFp32(xb.DMin);
            int isum = 0, @is = 0, q2 = 0, q8 = 0;
            for (int k = 0; k < QK / 128; ++k)
            {
                int shift = 0;
                for (int j = 0; j < 4; ++j)
                {
                    int d = xb.Scales[@is++] & 0xF;
                    int isuml = 0;
                    for (int l = 0; l < 16; ++l) isuml += yb.Qs[q8 + l] * ((xb.Qs[q2 + l] >> shift) & 3);
                    isum += d * isuml;
                    d = xb.Scales[@is++] & 0xF;
                    isuml = 0;
                    for (int l = 16; l < 32; ++l) isuml += yb.Qs[q8 + l] * ((xb.Qs[q2 + l] >> shift) & 3);
                    isum += d * isuml;
                    shift += 2;
                    q8 += 32;
                }
                q2 += 32;
            }
            sumf += dall * isum - dmin * summs;
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

    /// <summary>AVX2 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotAvx2(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ2_K x = ref Unsafe.As<byte, BlockQ2_K>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        Vector256<byte> three = Vector256.Create((byte)3);
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ2_K xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector128<byte> sc = Vector128.LoadUnsafe(ref xb.Scales[0]);
            Vector256<short> mins = Avx2.ConvertToVector256Int16((sc.AsUInt16() >> 4).AsByte() & Vector128.Create((byte)0xF));
            Vector256<short> scales = Avx2.ConvertToVector256Int16(sc & Vector128.Create((byte)0xF));
            int summs = Vector256.Sum(Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref yb.BSums[0]), mins));
            Vector256<int> acc = Vector256<int>.Zero;
            for (int k = 0; k < 2; k++)
            {
                Vector256<byte> q2 = Vector256.LoadUnsafe(ref xb.Qs[32 * k]);
                for (int j = 0; j < 4; j++)
                {
                    Vector256<byte> a = (q2.AsUInt16() >> (2 * j)).AsByte() & three;
                    Vector256<short> p = Avx2.MultiplyAddAdjacent(a, Vector256.LoadUnsafe(ref yb.Qs[128 * k + 32 * j]));
                    // elements 0-15 take scale 8k+2j, 16-31 take scale 8k+2j+1
                    int s0 = scales.GetElement(8 * k + 2 * j), s1 = scales.GetElement(8 * k + 2 * j + 1);
                    acc += Avx2.MultiplyAddAdjacent(p, Vector256.Create(Vector128.Create((short)s0), Vector128.Create((short)s1)));
                }
            }
            int isum = Vector256.Sum(acc);
            float dall = yb.D * HalfConversions.Fp16ToFp32(xb.D);
            float dmin = yb.D * HalfConversions.Fp16ToFp32(xb.DMin);
            sumf += dall * isum - dmin * summs;
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ2_K x = ref Unsafe.As<byte, BlockQ2_K>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ2_K xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector128<byte> sc = Vector128.LoadUnsafe(ref xb.Scales[0]);
            (Vector128<short> m0, Vector128<short> m1) = Vector128.Widen(KQuantDot.Bits(sc, 4, 0xF).AsSByte());
            int summs = Vector128.Sum(BlockDot.MultiplyAddPairs(Vector128.LoadUnsafe(ref yb.BSums[0]), m0) +
                                      BlockDot.MultiplyAddPairs(Vector128.LoadUnsafe(ref yb.BSums[8]), m1));
            Vector128<int> acc = Vector128<int>.Zero;
            int @is = 0;
            for (int k = 0; k < 2; k++)
            {
                Vector128<byte> qa = Vector128.LoadUnsafe(ref xb.Qs[32 * k]), qb = Vector128.LoadUnsafe(ref xb.Qs[32 * k + 16]);
                for (int j = 0; j < 4; j++)
                {
                    int o = 128 * k + 32 * j;
                    acc += BlockDot.MultiplyAdd128(KQuantDot.Bits(qa, 2 * j, 3).AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[o])) * Vector128.Create(xb.Scales[@is++] & 0xF);
                    acc += BlockDot.MultiplyAdd128(KQuantDot.Bits(qb, 2 * j, 3).AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[o + 16])) * Vector128.Create(xb.Scales[@is++] & 0xF);
                }
            }
            int isum = Vector128.Sum(acc);
            float dall = yb.D * HalfConversions.Fp16ToFp32(xb.D);
            float dmin = yb.D * HalfConversions.Fp16ToFp32(xb.DMin);
            sumf += dall * isum - dmin * summs;
        }
        return sumf;
    }
}
