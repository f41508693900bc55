namespace TinyLM.Quantization;

/// <summary>
/// One ggml tensor element type, described once: its block layout (<see cref="BlockSize"/> elements in
/// <see cref="BlockBytes"/> bytes), conversion between float and blocks, and the dot product of a
/// weight row with an activation row that was converted to <see cref="VecDotType"/>.
/// </summary>
/// <remarks>
/// Mirrors one entry of ggml's <c>type_traits</c> / <c>type_traits_cpu</c> tables (ggml/src/ggml.c,
/// ggml/src/ggml-cpu/ggml-cpu.c). Each concrete type lives in its own file next to its block struct,
/// its scalar reference (ported from ggml-quants.c) and its SIMD kernels, and registers itself in
/// <see cref="TensorTypes"/>. Instances are immutable singletons and thread-safe.
/// </remarks>
public abstract class TensorType
{
    /// <summary>The ggml type value stored in GGUF tensor infos.</summary>
    public abstract GgmlType Type { get; }

    /// <summary>ggml's name for the type (<c>ggml_type_name</c>), e.g. <c>q4_0</c>, <c>f16</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Number of elements in one block (1 for F32, F16 and BF16).</summary>
    public abstract int BlockSize { get; }

    /// <summary>Number of bytes in one block.</summary>
    public abstract int BlockBytes { get; }

    /// <summary>
    /// Type the activation row is converted to before <see cref="Dot"/> (ggml's <c>vec_dot_type</c>):
    /// for example <see cref="GgmlType.Q8_0"/> for Q4_0 weights, <see cref="GgmlType.F16"/> for F16.
    /// </summary>
    public abstract GgmlType VecDotType { get; }

    /// <summary>True for block-quantized types (block size above 1).</summary>
    public bool IsQuantized => BlockSize > 1;

    /// <summary>Bits per weight: <c>8 * BlockBytes / BlockSize</c>.</summary>
    public double BitsPerWeight => 8.0 * BlockBytes / BlockSize;

    /// <summary>Bytes needed for a row of <paramref name="elements"/> values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="elements"/> is negative, not a
    /// multiple of <see cref="BlockSize"/>, or the byte count overflows.</exception>
    public long RowBytes(long elements)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elements);
        if (elements % BlockSize != 0)
            throw new ArgumentOutOfRangeException(nameof(elements), elements, $"{Name} rows must be a multiple of {BlockSize} elements.");
        return checked(elements / BlockSize * BlockBytes);
    }

    /// <summary>
    /// Converts blocks to float (ggml's <c>dequantize_row_*</c> / <c>to_float</c>).
    /// </summary>
    /// <param name="source">Blocks: <c>RowBytes(destination.Length)</c> bytes.</param>
    /// <param name="destination">Values; length a multiple of <see cref="BlockSize"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not a whole number of
    /// blocks, or <paramref name="source"/> is shorter than their bytes.</exception>
    public abstract void Dequantize(ReadOnlySpan<byte> source, Span<float> destination);

    /// <summary>
    /// Converts floats to blocks exactly as ggml's reference <c>quantize_row_*_ref</c> does (scalar,
    /// bit-exact with llama.cpp).
    /// </summary>
    /// <param name="source">Values; length a multiple of <see cref="BlockSize"/>.</param>
    /// <param name="destination">Blocks: <c>RowBytes(source.Length)</c> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not a whole number of blocks,
    /// or <paramref name="destination"/> is shorter than their bytes.</exception>
    public abstract void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination);

    /// <summary>
    /// Converts floats to blocks; the fast path used for activations. Produces the same bytes as
    /// <see cref="QuantizeReference"/>.
    /// </summary>
    /// <param name="source">Values; length a multiple of <see cref="BlockSize"/>.</param>
    /// <param name="destination">Blocks: <c>RowBytes(source.Length)</c> bytes.</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not a whole number of blocks,
    /// or <paramref name="destination"/> is shorter than their bytes.</exception>
    public virtual void Quantize(ReadOnlySpan<float> source, Span<byte> destination) => QuantizeReference(source, destination);

    /// <summary>
    /// Scalar reference dot product of one weight row with one activation row (ggml's
    /// <c>ggml_vec_dot_*_generic</c>), with TinyLM's fixed summation order.
    /// </summary>
    /// <param name="weights">Weight row in this type: <c>RowBytes(count)</c> bytes.</param>
    /// <param name="activations">Activation row in <see cref="VecDotType"/>.</param>
    /// <param name="count">Number of elements, a multiple of <see cref="BlockSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or not a
    /// multiple of <see cref="BlockSize"/>.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="count"/> elements need.</exception>
    public abstract float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count);

    /// <summary>
    /// The fast dot product (SIMD where available). Returns exactly the same value as
    /// <see cref="DotReference"/>: integer block sums are exact and float accumulation follows the
    /// same order in every kernel.
    /// </summary>
    /// <param name="weights">Weight row in this type: <c>RowBytes(count)</c> bytes.</param>
    /// <param name="activations">Activation row in <see cref="VecDotType"/>.</param>
    /// <param name="count">Number of elements, a multiple of <see cref="BlockSize"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or not a
    /// multiple of <see cref="BlockSize"/>.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="count"/> elements need.</exception>
    public abstract float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count);

    /// <summary>
    /// Matrix product of rows <c>[rowStart, rowStart + rowCount)</c> of a weight matrix with a batch
    /// of activation rows: <c>output[t * outputStride + r] = Dot(weights row r, activations row t)</c>.
    /// </summary>
    /// <param name="weights">The whole weight matrix, <c>[rows, cols]</c> in this type, row-major.</param>
    /// <param name="rowStart">First row to compute.</param>
    /// <param name="rowCount">Number of rows to compute.</param>
    /// <param name="cols">Elements per row.</param>
    /// <param name="activations"><c>[tokens, cols]</c> in <see cref="VecDotType"/>, row-major.</param>
    /// <param name="tokens">Number of activation rows.</param>
    /// <param name="output"><c>[tokens, outputStride]</c> floats.</param>
    /// <param name="outputStride">Distance between output rows, in floats (at least the matrix row count).</param>
    /// <remarks>Each output element equals <see cref="Dot"/> of its row pair, whatever the tiling.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count or index is negative, <paramref name="cols"/>
    /// is not a multiple of <see cref="BlockSize"/>, or <paramref name="outputStride"/> is below
    /// <c>rowStart + rowCount</c>.</exception>
    /// <exception cref="ArgumentException">The weights, activations or output are too short.</exception>
    public virtual void MatMul(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        TensorType activationType = TensorTypes.Get(VecDotType);
        TensorTypeChecks.MatMulBlocks(this, weights.Length, rowStart, rowCount, cols, activations.Length, tokens, output.Length, outputStride, activationType.BlockBytes);
        MatMulByDots(weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
    }

    /// <summary>The generic <see cref="MatMul"/> over checked operands: one <see cref="Dot"/> per output.</summary>
    internal void MatMulByDots(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        int rowBytes = (int)RowBytes(cols);
        int actBytes = (int)TensorTypes.Get(VecDotType).RowBytes(cols);
        for (int r = rowStart; r < rowStart + rowCount; r++)
        {
            ReadOnlySpan<byte> w = weights.Slice(r * rowBytes, rowBytes);
            for (int t = 0; t < tokens; t++)
                output[t * outputStride + r] = Dot(w, activations.Slice(t * actBytes, actBytes), cols);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Name;
}
