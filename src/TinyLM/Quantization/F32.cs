using System.Runtime.InteropServices;
using TinyLM.Kernels;

namespace TinyLM.Quantization;

/// <summary>
/// F32: IEEE 754 binary32, one element per 4-byte block, little-endian. Dots take F32 activations
/// and sum as <see cref="GgmlFloat.Dot"/>.
/// </summary>
/// <remarks>
/// ggml's <c>type_traits[GGML_TYPE_F32]</c> has no conversion (a copy); the dot is ggml's portable
/// <c>ggml_vec_dot_f32</c> (ggml/src/ggml-cpu/vec.cpp without <c>GGML_SIMD</c>): float products
/// accumulated in double, in index order — the same bits on every machine.
/// </remarks>
public sealed class F32 : TensorType
{
    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.F32;
    /// <inheritdoc/>
    public override string Name => "f32";
    /// <inheritdoc/>
    public override int BlockSize => 1;
    /// <inheritdoc/>
    public override int BlockBytes => 4;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.F32;

    /// <inheritdoc/>
    /// <remarks>A copy.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int n = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        MemoryMarshal.Cast<byte, float>(source)[..n].CopyTo(destination);
    }

    /// <inheritdoc/>
    /// <remarks>A copy.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        MemoryMarshal.AsBytes(source).CopyTo(destination);
    }

    /// <inheritdoc/>
    /// <remarks><see cref="GgmlFloat.Dot"/> of the two rows (ggml_vec_dot_f32, portable form).</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, 4);
        return GgmlFloat.DotReference(MemoryMarshal.Cast<byte, float>(weights)[..count], MemoryMarshal.Cast<byte, float>(activations));
    }

    /// <inheritdoc/>
    /// <remarks><see cref="GgmlFloat.Dot"/>: SIMD products, the same sum as <see cref="DotReference"/>.</remarks>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, 4);
        return GgmlFloat.Dot(MemoryMarshal.Cast<byte, float>(weights)[..count], MemoryMarshal.Cast<byte, float>(activations));
    }

    /// <inheritdoc/>
    /// <remarks>With AVX, eight rows per pass (<see cref="FloatRows"/>), each output the same bits as
    /// <see cref="Dot"/> of its row pair.</remarks>
    public override void MatMul(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        TensorTypeChecks.MatMulBlocks(this, weights.Length, rowStart, rowCount, cols, activations.Length, tokens, output.Length, outputStride, 4);
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
            FloatRows.MatMulAvx<FloatRows.F32Elements>(this, weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
        else
            base.MatMul(weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
    }
}
