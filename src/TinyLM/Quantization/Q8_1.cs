using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q8_1 block (ggml's <c>block_q8_1</c>, ggml/src/ggml-common.h): 32 values as int8 with a
/// float16 scale and a float16 <c>d · Σ qs</c>; 36 bytes, 9 bits per weight. Value j is
/// <c>D · Qs[j]</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>, delta).</summary>
    public Half D;

    /// <summary><c>d · Σ qs[j]</c> (ggml: <c>ggml_half s</c>), used by the Q4_1 and Q5_1 dots for their minimum term.</summary>
    public Half S;

    /// <summary>Quants (ggml: <c>int8_t qs[QK8_1]</c>).</summary>
    public fixed sbyte Qs[32];
}

/// <summary>
/// Q8_1: 8-bit blocks of 32 with scale and scaled sum (<see cref="BlockQ8_1"/>); the activation type
/// of Q4_1 and Q5_1 dots, so <see cref="Quantize"/> runs for every such matmul.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1): <c>quantize_row_q8_1_ref</c>
/// (ggml/src/ggml-quants.c). ggml has no <c>dequantize_row_q8_1</c> and no Q8_1 weight dot
/// (<c>type_traits_cpu[GGML_TYPE_Q8_1]</c> in ggml/src/ggml-cpu/ggml-cpu.c sets only
/// <c>from_float</c> and <c>vec_dot_type = Q8_1</c>); TinyLM defines <see cref="Dequantize"/> as
/// <c>qs[j] · d</c> and the Q8_1·Q8_1 dot like <c>ggml_vec_dot_q8_0_q8_0_generic</c>:
/// <c>sumf += sumi · (dx · dy)</c>, ignoring <c>s</c>.
/// </remarks>
public sealed unsafe class Q8_1 : TensorType
{
    private const int QK = 32;
    private const int Bytes = 36;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q8_1;
    /// <inheritdoc/>
    public override string Name => "q8_1";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_1;

    /// <inheritdoc/>
    /// <remarks>TinyLM's definition (ggml has none): <c>y[j] = qs[j] · d</c>, as <c>dequantize_row_q8_0</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ8_1> x = MemoryMarshal.Cast<byte, BlockQ8_1>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_1 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            for (int j = 0; j < QK; ++j)
                destination[i * QK + j] = b.Qs[j] * d;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q8_1_ref</c>: as Q8_0, plus <c>s = fp16(Σ qs · d)</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ8_1> y = MemoryMarshal.Cast<byte, BlockQ8_1>(destination);
        for (int i = 0; i < nb; i++)
            QuantizeBlockReference(source.Slice(i * QK, QK), ref y[i]);
    }

    private static void QuantizeBlockReference(ReadOnlySpan<float> x, ref BlockQ8_1 y)
    {
        float amax = 0.0f; // absolute max
        for (int j = 0; j < QK; j++)
        {
            float a = MathF.Abs(x[j]);
            amax = amax > a ? amax : a; // MAX(amax, fabsf(v))
        }

        float d = amax / ((1 << 7) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;

        y.D = HalfConversions.Fp32ToHalf(d);

        int sum = 0;
        for (int j = 0; j < QK / 2; ++j)
        {
            float v0 = x[j] * id;
            float v1 = x[QK / 2 + j] * id;

            y.Qs[j] = (sbyte)CConversions.TruncateToInt32(CConversions.RoundF(v0));
            y.Qs[QK / 2 + j] = (sbyte)CConversions.TruncateToInt32(CConversions.RoundF(v1));

            sum += y.Qs[j];
            sum += y.Qs[QK / 2 + j];
        }

        y.S = HalfConversions.Fp32ToHalf(sum * d);
    }

    /// <inheritdoc/>
    /// <remarks>Vector256 or Vector128 per block; a block holding NaN, infinity or a scale whose
    /// inverse overflows takes the scalar reference, so the bytes always equal
    /// <see cref="QuantizeReference"/>.</remarks>
    public override void Quantize(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        if (Vector256.IsHardwareAccelerated)
            QuantizeVector256(source, destination, nb);
        else if (Vector128.IsHardwareAccelerated)
            QuantizeVector128(source, destination, nb);
        else
            QuantizeReference(source, destination);
    }

    /// <summary>Vector256 form of <see cref="Quantize"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeVector256(ReadOnlySpan<float> source, Span<byte> destination, int nb)
    {
        Span<BlockQ8_1> y = MemoryMarshal.Cast<byte, BlockQ8_1>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> xb = source.Slice(i * QK, QK);
            ref BlockQ8_1 yb = ref y[i];
            if (!QuantVectors.TryScale256(xb, out float d, out float id, out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3))
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            yb.D = HalfConversions.Fp32ToHalf(d);
            QuantVectors.RoundToInt8x32(v0, v1, v2, v3, id, out int sum).StoreUnsafe(ref yb.Qs[0]);
            yb.S = HalfConversions.Fp32ToHalf(sum * d);
        }
    }

    /// <summary>Vector128 form of <see cref="Quantize"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeVector128(ReadOnlySpan<float> source, Span<byte> destination, int nb)
    {
        Span<BlockQ8_1> y = MemoryMarshal.Cast<byte, BlockQ8_1>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> xb = source.Slice(i * QK, QK);
            ref BlockQ8_1 yb = ref y[i];
            if (!QuantVectors.TryScale128(xb, out float d, out float id))
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            yb.D = HalfConversions.Fp32ToHalf(d);
            QuantVectors.RoundToInt8x16(xb.Slice(0, 16), id, out int sum0).StoreUnsafe(ref yb.Qs[0]);
            QuantVectors.RoundToInt8x16(xb.Slice(16, 16), id, out int sum1).StoreUnsafe(ref yb.Qs[16]);
            yb.S = HalfConversions.Fp32ToHalf((sum0 + sum1) * d);
        }
    }

    /// <inheritdoc/>
    /// <remarks>TinyLM's definition (ggml has no Q8_1 weight dot), shaped as
    /// <c>ggml_vec_dot_q8_0_q8_0_generic</c>: per block <c>sumf += sumi · (dx · dy)</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Bytes);
        ReadOnlySpan<BlockQ8_1> x = MemoryMarshal.Cast<byte, BlockQ8_1>(weights);
        ReadOnlySpan<BlockQ8_1> y = MemoryMarshal.Cast<byte, BlockQ8_1>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockQ8_1 xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_1 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            int sumi = 0;
            for (int j = 0; j < QK; j++)
                sumi += xb.Qs[j] * yb.Qs[j];
            sumf += sumi * (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D));
        }
        return sumf;
    }

    /// <inheritdoc/>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Bytes);
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
        ref BlockQ8_1 x = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockQ8_1 x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
            ref BlockQ8_1 y0 = ref Unsafe.Add(ref y, ib), y1 = ref Unsafe.Add(ref y, ib + 1), y2 = ref Unsafe.Add(ref y, ib + 2), y3 = ref Unsafe.Add(ref y, ib + 3);
            Vector128<float> sumi = Vector128.ConvertToSingle(BlockDot.Sum4(
                BlockSum256(ref x0, ref y0), BlockSum256(ref x1, ref y1), BlockSum256(ref x2, ref y2), BlockSum256(ref x3, ref y3)));
            Vector256<float> d = BlockDot.Scales8(Bits(x0.D), Bits(x1.D), Bits(x2.D), Bits(x3.D), Bits(y0.D), Bits(y1.D), Bits(y2.D), Bits(y3.D));
            Vector128<float> t = sumi * (d.GetLower() * d.GetUpper());
            sumf += t.GetElement(0);
            sumf += t.GetElement(1);
            sumf += t.GetElement(2);
            sumf += t.GetElement(3);
        }
        for (; ib < nb; ib++)
        {
            ref BlockQ8_1 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_1 yb = ref Unsafe.Add(ref y, ib);
            int sumi = Vector256.Sum(BlockSum256(ref xb, ref yb));
            sumf += sumi * (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D));
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ8_1 x = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockQ8_1 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_1 yb = ref Unsafe.Add(ref y, ib);
            Vector128<int> p =
                BlockDot.MultiplyAdd128(Vector128.LoadUnsafe(ref xb.Qs[0]), Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128(Vector128.LoadUnsafe(ref xb.Qs[16]), Vector128.LoadUnsafe(ref yb.Qs[16]));
            int sumi = Vector128.Sum(p);
            sumf += sumi * (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D));
        }
        return sumf;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ8_1 x, ref BlockQ8_1 y) =>
        BlockDot.MultiplyAddSigned256(Vector256.LoadUnsafe(ref x.Qs[0]), Vector256.LoadUnsafe(ref y.Qs[0]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);
}
