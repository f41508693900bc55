using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q4_1 block (ggml's <c>block_q4_1</c>, ggml/src/ggml-common.h): 32 weights as 4-bit values
/// with a float16 scale and minimum; 20 bytes, 5 bits per weight. Weight j is <c>D · q_j + M</c>,
/// where byte j of <see cref="Qs"/> holds q_j in its low nibble and q_{j+16} in its high nibble.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>, delta).</summary>
    public Half D;

    /// <summary>Minimum (ggml: <c>ggml_half m</c>).</summary>
    public Half M;

    /// <summary>Nibbles (ggml: <c>uint8_t qs[QK4_1 / 2]</c>).</summary>
    public fixed byte Qs[16];
}

/// <summary>
/// Q4_1: 4-bit blocks of 32 with scale and minimum (<see cref="BlockQ4_1"/>); dots take Q8_1 activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q4_1_ref</c> and <c>dequantize_row_q4_1</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_q4_1_q8_1_generic</c> (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q4_1 : TensorType
{
    private const int QK = 32;
    private const int Bytes = 20;
    private const int Q8Bytes = 36;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q4_1;
    /// <inheritdoc/>
    public override string Name => "q4_1";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_1;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q4_1</c>: <c>y[j] = q_j · d + m</c> (multiply, then add).</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ4_1> x = MemoryMarshal.Cast<byte, BlockQ4_1>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ4_1 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            float m = HalfConversions.Fp16ToFp32(b.M);
            for (int j = 0; j < QK / 2; ++j)
            {
                int x0 = b.Qs[j] & 0x0F;
                int x1 = b.Qs[j] >> 4;
                destination[i * QK + j + 0] = x0 * d + m;
                destination[i * QK + j + QK / 2] = x1 * d + m;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q4_1_ref</c>: <c>d = (max − min) / 15</c>,
    /// <c>q = MIN(15, (int8_t)((x − min) / d + 0.5f))</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ4_1> y = MemoryMarshal.Cast<byte, BlockQ4_1>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            float min = float.MaxValue;
            float max = -float.MaxValue;

            for (int j = 0; j < QK; j++)
            {
                float v = x[j];
                if (v < min) min = v;
                if (v > max) max = v;
            }

            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;

            y[i].D = HalfConversions.Fp32ToHalf(d);
            y[i].M = HalfConversions.Fp32ToHalf(min);

            for (int j = 0; j < QK / 2; ++j)
            {
                float x0 = (x[0 + j] - min) * id;
                float x1 = (x[QK / 2 + j] - min) * id;

                byte xi0 = (byte)Math.Min(15, (int)(sbyte)CConversions.TruncateToInt32(x0 + 0.5f));
                byte xi1 = (byte)Math.Min(15, (int)(sbyte)CConversions.TruncateToInt32(x1 + 0.5f));

                y[i].Qs[j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q4_1_q8_1_generic</c>: per block
    /// <c>sumf += (dx · dy) · sumi + mx · sy</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ4_1> x = MemoryMarshal.Cast<byte, BlockQ4_1>(weights);
        ReadOnlySpan<BlockQ8_1> y = MemoryMarshal.Cast<byte, BlockQ8_1>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockQ4_1 xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_1 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            int sumi0 = 0;
            int sumi1 = 0;
            for (int j = 0; j < QK / 2; ++j)
            {
                int v0 = xb.Qs[j] & 0x0F;
                int v1 = xb.Qs[j] >> 4;
                sumi0 += v0 * yb.Qs[j];
                sumi1 += v1 * yb.Qs[j + QK / 2];
            }
            int sumi = sumi0 + sumi1;
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi
                + HalfConversions.Fp16ToFp32(xb.M) * HalfConversions.Fp16ToFp32(yb.S);
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
        ref BlockQ4_1 x = ref Unsafe.As<byte, BlockQ4_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockQ4_1 x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
            ref BlockQ8_1 y0 = ref Unsafe.Add(ref y, ib), y1 = ref Unsafe.Add(ref y, ib + 1), y2 = ref Unsafe.Add(ref y, ib + 2), y3 = ref Unsafe.Add(ref y, ib + 3);
            Vector128<float> sumi = Vector128.ConvertToSingle(BlockDot.Sum4(
                BlockSum256(ref x0, ref y0), BlockSum256(ref x1, ref y1), BlockSum256(ref x2, ref y2), BlockSum256(ref x3, ref y3)));
            Vector256<float> d = BlockDot.Scales8(Bits(x0.D), Bits(x1.D), Bits(x2.D), Bits(x3.D), Bits(y0.D), Bits(y1.D), Bits(y2.D), Bits(y3.D));
            Vector256<float> ms = BlockDot.Scales8(Bits(x0.M), Bits(x1.M), Bits(x2.M), Bits(x3.M), Bits(y0.S), Bits(y1.S), Bits(y2.S), Bits(y3.S));
            Vector128<float> t = (d.GetLower() * d.GetUpper()) * sumi + ms.GetLower() * ms.GetUpper();
            sumf += t.GetElement(0);
            sumf += t.GetElement(1);
            sumf += t.GetElement(2);
            sumf += t.GetElement(3);
        }
        for (; ib < nb; ib++)
        {
            ref BlockQ4_1 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_1 yb = ref Unsafe.Add(ref y, ib);
            int sumi = Vector256.Sum(BlockSum256(ref xb, ref yb));
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi
                + HalfConversions.Fp16ToFp32(xb.M) * HalfConversions.Fp16ToFp32(yb.S);
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ4_1 x = ref Unsafe.As<byte, BlockQ4_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockQ4_1 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_1 yb = ref Unsafe.Add(ref y, ib);
            BlockDot.Nibbles128(ref xb.Qs[0], out Vector128<byte> lo, out Vector128<byte> hi);
            Vector128<int> p =
                BlockDot.MultiplyAdd128(lo.AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128(hi.AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[16]));
            int sumi = Vector128.Sum(p);
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi
                + HalfConversions.Fp16ToFp32(xb.M) * HalfConversions.Fp16ToFp32(yb.S);
        }
        return sumf;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ4_1 x, ref BlockQ8_1 y) =>
        BlockDot.MultiplyAddUnsigned256(BlockDot.Nibbles256(ref x.Qs[0]), Vector256.LoadUnsafe(ref y.Qs[0]), 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);
}
