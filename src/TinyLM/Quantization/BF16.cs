using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TinyLM.Kernels;

namespace TinyLM.Quantization;

/// <summary>
/// BF16: bfloat16 (the upper half of a binary32), one element per 2-byte block, little-endian. Dots
/// take BF16 activations, convert both rows to float exactly and accumulate their products in double as ggml's portable kernel.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1): <c>ggml_fp32_to_bf16_row_ref</c>
/// and <c>ggml_bf16_to_fp32_row</c> (ggml/src/ggml.c), over <c>ggml_compute_fp32_to_bf16</c> /
/// <c>ggml_compute_bf16_to_fp32</c> (ggml/src/ggml-impl.h): round to nearest even, NaN made quiet
/// (<c>bits | 64</c>), subnormals kept (ggml's AVX512-BF16 row conversion flushes them; the
/// reference does not). The dot is the portable (non-SIMD) form of <c>ggml_vec_dot_bf16</c>
/// (ggml/src/ggml-cpu/vec.cpp): each product rounded to float, accumulated in double in index order.
/// </remarks>
public sealed class BF16 : TensorType
{
    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.BF16;
    /// <inheritdoc/>
    public override string Name => "bf16";
    /// <inheritdoc/>
    public override int BlockSize => 1;
    /// <inheritdoc/>
    public override int BlockBytes => 2;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.BF16;

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_bf16_to_fp32_row</c> (Vector256 or Vector128 when accelerated, same bits).</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int n = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        if (Vector256.IsHardwareAccelerated)
            DequantizeVector256(source, destination, n);
        else if (Vector128.IsHardwareAccelerated)
            DequantizeVector128(source, destination, n);
        else
            DequantizeScalar(source, destination, n);
    }

    /// <summary>Scalar form of <see cref="Dequantize"/> over <paramref name="n"/> checked values.</summary>
    internal static void DequantizeScalar(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        ReadOnlySpan<ushort> x = MemoryMarshal.Cast<byte, ushort>(source);
        for (int i = 0; i < n; i++)
            destination[i] = HalfConversions.Bf16ToFp32(x[i]);
    }

    /// <summary>Vector256 form of <see cref="Dequantize"/> over <paramref name="n"/> checked values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DequantizeVector256(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        ref ushort px = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(source));
        ref float py = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            (Vector256<uint> lo, Vector256<uint> hi) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
            HalfConversions.Bf16ToFp32(lo).StoreUnsafe(ref py, (nuint)i);
            HalfConversions.Bf16ToFp32(hi).StoreUnsafe(ref py, (nuint)(i + 8));
        }
        for (; i < n; i++)
            destination[i] = HalfConversions.Bf16ToFp32(Unsafe.Add(ref px, i));
    }

    /// <summary>Vector128 form of <see cref="Dequantize"/> over <paramref name="n"/> checked values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void DequantizeVector128(ReadOnlySpan<byte> source, Span<float> destination, int n)
    {
        ref ushort px = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(source));
        ref float py = ref MemoryMarshal.GetReference(destination);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            (Vector128<uint> lo, Vector128<uint> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref px, (nuint)i));
            HalfConversions.Bf16ToFp32(lo).StoreUnsafe(ref py, (nuint)i);
            HalfConversions.Bf16ToFp32(hi).StoreUnsafe(ref py, (nuint)(i + 4));
        }
        for (; i < n; i++)
            destination[i] = HalfConversions.Bf16ToFp32(Unsafe.Add(ref px, i));
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_fp32_to_bf16_row_ref</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int n = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<ushort> y = MemoryMarshal.Cast<byte, ushort>(destination);
        for (int i = 0; i < n; i++)
            y[i] = HalfConversions.Fp32ToBf16(source[i]);
    }

    /// <inheritdoc/>
    /// <remarks>The vector form of <c>ggml_compute_fp32_to_bf16</c>; same bits as <see cref="QuantizeReference"/>.</remarks>
    public override void Quantize(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int n = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        if (Vector256.IsHardwareAccelerated)
            QuantizeVector256(source, destination, n);
        else if (Vector128.IsHardwareAccelerated)
            QuantizeVector128(source, destination, n);
        else
            QuantizeReference(source, destination);
    }

    /// <summary>Vector256 form of <see cref="Quantize"/> over <paramref name="n"/> checked values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeVector256(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        Span<ushort> y = MemoryMarshal.Cast<byte, ushort>(destination);
        ref float px = ref MemoryMarshal.GetReference(source);
        ref ushort py = ref MemoryMarshal.GetReference(y);
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            Vector256<uint> lo = HalfConversions.Fp32ToBf16(Vector256.LoadUnsafe(ref px, (nuint)i));
            Vector256<uint> hi = HalfConversions.Fp32ToBf16(Vector256.LoadUnsafe(ref px, (nuint)(i + 8)));
            Vector256.Narrow(lo, hi).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
            y[i] = HalfConversions.Fp32ToBf16(source[i]);
    }

    /// <summary>Vector128 form of <see cref="Quantize"/> over <paramref name="n"/> checked values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeVector128(ReadOnlySpan<float> source, Span<byte> destination, int n)
    {
        Span<ushort> y = MemoryMarshal.Cast<byte, ushort>(destination);
        ref float px = ref MemoryMarshal.GetReference(source);
        ref ushort py = ref MemoryMarshal.GetReference(y);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            Vector128<uint> lo = HalfConversions.Fp32ToBf16(Vector128.LoadUnsafe(ref px, (nuint)i));
            Vector128<uint> hi = HalfConversions.Fp32ToBf16(Vector128.LoadUnsafe(ref px, (nuint)(i + 4)));
            Vector128.Narrow(lo, hi).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
            y[i] = HalfConversions.Fp32ToBf16(source[i]);
    }

    /// <inheritdoc/>
    /// <remarks>Port of ggml's portable <c>ggml_vec_dot_bf16</c> (ggml/src/ggml-cpu/vec.cpp without SIMD):
    /// both elements converted to float exactly, their float product accumulated in double, in index
    /// order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, 2);
        ReadOnlySpan<ushort> x = MemoryMarshal.Cast<byte, ushort>(weights)[..count];
        ReadOnlySpan<ushort> y = MemoryMarshal.Cast<byte, ushort>(activations)[..count];
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
            sum += HalfConversions.Bf16ToFp32(x[i]) * HalfConversions.Bf16ToFp32(y[i]);
        return (float)sum;
    }

    /// <inheritdoc/>
    /// <remarks>Conversions and products in SIMD, added to the double sum in index order: the same
    /// bits as <see cref="DotReference"/>.</remarks>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, 2);
        if (Vector256.IsHardwareAccelerated)
            return DotVector256(weights, activations, count);
        if (Vector128.IsHardwareAccelerated)
            return DotVector128(weights, activations, count);
        return DotReference(weights, activations, count);
    }

    /// <inheritdoc/>
    /// <remarks>With AVX, eight rows per pass (<see cref="FloatRows"/>), each output the same bits as
    /// <see cref="Dot"/> of its row pair.</remarks>
    public override void MatMul(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        TensorTypeChecks.MatMulBlocks(this, weights.Length, rowStart, rowCount, cols, activations.Length, tokens, output.Length, outputStride, 2);
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
            FloatRows.MatMulAvx<FloatRows.BF16Elements>(this, weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
        else
            base.MatMul(weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
    }

    /// <summary>Vector256 form of <see cref="Dot"/> over <paramref name="n"/> checked elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector256(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        ref ushort px = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(weights));
        ref ushort py = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(activations));
        double sum = 0;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            (Vector256<uint> xl, Vector256<uint> xh) = Vector256.Widen(Vector256.LoadUnsafe(ref px, (nuint)i));
            (Vector256<uint> yl, Vector256<uint> yh) = Vector256.Widen(Vector256.LoadUnsafe(ref py, (nuint)i));
            sum = GgmlFloat.AddInOrder(sum, HalfConversions.Bf16ToFp32(xl) * HalfConversions.Bf16ToFp32(yl));
            sum = GgmlFloat.AddInOrder(sum, HalfConversions.Bf16ToFp32(xh) * HalfConversions.Bf16ToFp32(yh));
        }
        for (; i < n; i++)
            sum += HalfConversions.Bf16ToFp32(Unsafe.Add(ref px, i)) * HalfConversions.Bf16ToFp32(Unsafe.Add(ref py, i));
        return (float)sum;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="n"/> checked elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int n)
    {
        ref ushort px = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(weights));
        ref ushort py = ref Unsafe.As<byte, ushort>(ref MemoryMarshal.GetReference(activations));
        double sum = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            (Vector128<uint> xl, Vector128<uint> xh) = Vector128.Widen(Vector128.LoadUnsafe(ref px, (nuint)i));
            (Vector128<uint> yl, Vector128<uint> yh) = Vector128.Widen(Vector128.LoadUnsafe(ref py, (nuint)i));
            sum = GgmlFloat.AddInOrder(sum, HalfConversions.Bf16ToFp32(xl) * HalfConversions.Bf16ToFp32(yl));
            sum = GgmlFloat.AddInOrder(sum, HalfConversions.Bf16ToFp32(xh) * HalfConversions.Bf16ToFp32(yh));
        }
        for (; i < n; i++)
            sum += HalfConversions.Bf16ToFp32(Unsafe.Add(ref px, i)) * HalfConversions.Bf16ToFp32(Unsafe.Add(ref py, i));
        return (float)sum;
    }
}
