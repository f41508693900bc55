using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One TQ2_0 block (ggml's <c>block_tq2_0</c>, ggml/src/ggml-common.h): 256 ternary weights at 2 bits
/// each with one float16 scale; 66 bytes, 2.0625 bits per weight. Weight e is <c>D·(q_e − 1)</c>,
/// q_e ∈ {0, 1, 2}.
/// </summary>
/// <remarks>In each run of 128 elements, byte m of the run's 32 bytes of <see cref="Qs"/> holds
/// elements m, m + 32, m + 64, m + 96 in bits 0–1, 2–3, 4–5, 6–7.</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockTQ2_0
{
    /// <summary>2-bit quants (ggml: <c>uint8_t qs[QK_K/4]</c>).</summary>
    public fixed byte Qs[64];

    /// <summary>Scale (ggml: <c>ggml_half d</c>).</summary>
    public Half D;
}

/// <summary>
/// TQ2_0: ternary super-blocks of 256 at 2 bits per weight (<see cref="BlockTQ2_0"/>, BitNet b1.58 and
/// TriLMs); dots take Q8_K activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1): <c>quantize_row_tq2_0_ref</c>
/// (what <c>quantize_tq2_0</c> runs) and <c>dequantize_row_tq2_0</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_tq2_0_q8_K_generic</c> (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class TQ2_0 : TensorType
{
    private const int QK = KQuants.QK_K;
    private const int Bytes = 66;
    private const int Q8Bytes = 292;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.TQ2_0;
    /// <inheritdoc/>
    public override string Name => "tq2_0";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_K;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_tq2_0</c>: <c>y = (float)(q − 1)·d</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockTQ2_0> x = MemoryMarshal.Cast<byte, BlockTQ2_0>(source);
        int y = 0;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ2_0 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            for (int j = 0; j < 64; j += 32)
                for (int l = 0; l < 4; ++l)
                    for (int m = 0; m < 32; ++m)
                    {
                        int q = (b.Qs[j + m] >> (l * 2)) & 3;
                        destination[y++] = (float)(q - 1) * d;
                    }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_tq2_0_ref</c>: <c>d = amax</c>,
    /// <c>q = lroundf(x / d) + 1</c> (glibc <c>lroundf</c>, half away from zero).</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockTQ2_0> y = MemoryMarshal.Cast<byte, BlockTQ2_0>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            ref BlockTQ2_0 yb = ref y[i];
            float amax = 0.0f; // absolute max
            for (int j = 0; j < QK; j++)
            {
                float a = MathF.Abs(x[j]);
                amax = amax > a ? amax : a; // MAX(amax, fabsf(v))
            }
            float d = amax;
            float id = d != 0 ? 1.0f / d : 0.0f;
            yb.D = HalfConversions.Fp32ToHalf(d);
            int o = 0;
            for (int j = 0; j < 64; j += 32)
            {
                for (int m = 0; m < 32; ++m)
                {
                    int q = 0;
                    for (int n = 0; n < 4; ++n)
                    {
                        // -1, 0, 1 -> 0, 1, 2
                        int xi = unchecked((int)KQuants.LRoundF(x[o + m + n * 32] * id) + 1);
                        q += (xi & 3) << (2 * n);
                    }
                    yb.Qs[j + m] = (byte)q;
                }
                o += 4 * 32;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_tq2_0_q8_K_generic</c>: per block
    /// <c>sumf += (float)sumi·(dy·dx)</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockTQ2_0> x = MemoryMarshal.Cast<byte, BlockTQ2_0>(weights);
        ReadOnlySpan<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        float sumf = 0.0f;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ2_0 xb = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_K yb = ref MemoryMarshal.GetReference(y.Slice(i, 1));
            int sumi = 0;
            for (int j = 0; j < 64; j += 32)
                for (int l = 0; l < 4; ++l)
                    for (int k = 0; k < 32; ++k)
                        sumi += yb.Qs[j * 4 + l * 32 + k] * (((xb.Qs[j + k] >> (l * 2)) & 3) - 1);
            float d = yb.D * HalfConversions.Fp16ToFp32(xb.D);
            sumf += sumi * d;
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
        ref BlockTQ2_0 x = ref Unsafe.As<byte, BlockTQ2_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0.0f;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ2_0 xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int j = 0; j < 64; j += 32)
            {
                Vector256<byte> q = Vector256.LoadUnsafe(ref xb.Qs[j]);
                for (int l = 0; l < 4; ++l)
                {
                    Vector256<byte> u = (q.AsUInt16() >> (2 * l)).AsByte() & Vector256.Create((byte)3);
                    acc += BlockDot.MultiplyAddUnsigned256(u, Vector256.LoadUnsafe(ref yb.Qs[j * 4 + l * 32]), 1);
                }
            }
            float d = yb.D * HalfConversions.Fp16ToFp32(xb.D);
            sumf += Vector256.Sum(acc) * d;
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockTQ2_0 x = ref Unsafe.As<byte, BlockTQ2_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        Vector128<sbyte> one = Vector128.Create((sbyte)1);
        float sumf = 0.0f;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ2_0 xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector128<int> acc = Vector128<int>.Zero;
            for (int j = 0; j < 64; j += 16)
            {
                Vector128<byte> q = Vector128.LoadUnsafe(ref xb.Qs[j]);
                int o = (j & ~31) * 4 + (j & 31);
                for (int l = 0; l < 4; ++l)
                    acc += BlockDot.MultiplyAdd128(KQuantDot.Bits(q, 2 * l, 3).AsSByte() - one, Vector128.LoadUnsafe(ref yb.Qs[o + l * 32]));
            }
            float d = yb.D * HalfConversions.Fp16ToFp32(xb.D);
            sumf += Vector128.Sum(acc) * d;
        }
        return sumf;
    }
}
