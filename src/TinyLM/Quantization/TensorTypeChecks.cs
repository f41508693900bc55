namespace TinyLM.Quantization;

/// <summary>
/// Argument checks shared by the <see cref="TensorType"/> implementations: they run once per call,
/// before any unchecked SIMD load, and throw the <see cref="ArgumentException"/> family.
/// </summary>
internal static class TensorTypeChecks
{
    /// <summary>
    /// Checks a float span of <paramref name="elements"/> values against a block span of
    /// <paramref name="bytes"/> bytes and returns the number of blocks.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="elements"/> is not a multiple of the block
    /// size, or <paramref name="bytes"/> is shorter than the row.</exception>
    public static int Blocks(TensorType type, int elements, int bytes, string valuesName, string blocksName)
    {
        int blockSize = type.BlockSize;
        if (elements % blockSize != 0)
            throw new ArgumentException($"{type.Name} needs a multiple of {blockSize} values, found {elements}.", valuesName);
        int blocks = elements / blockSize;
        long need = (long)blocks * type.BlockBytes;
        if (bytes < need)
            throw new ArgumentException($"{type.Name} row of {elements} values needs {need} bytes, found {bytes}.", blocksName);
        return blocks;
    }

    /// <summary>
    /// Checks the operands of a dot product and returns the number of blocks in
    /// <paramref name="count"/> elements.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative or not a
    /// multiple of the block size.</exception>
    /// <exception cref="ArgumentException">A row is shorter than <paramref name="count"/> elements need.</exception>
    public static int DotBlocks(TensorType type, int count, int weightBytes, int activationBytes, int activationBlockBytes)
    {
        int blockSize = type.BlockSize;
        if (count < 0 || count % blockSize != 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"{type.Name} dot needs a non-negative multiple of {blockSize} elements.");
        int blocks = count / blockSize;
        long needW = (long)blocks * type.BlockBytes;
        if (weightBytes < needW)
            throw new ArgumentException($"{type.Name} weight row of {count} elements needs {needW} bytes, found {weightBytes}.", "weights");
        long needA = (long)blocks * activationBlockBytes;
        if (activationBytes < needA)
            throw new ArgumentException($"{type.VecDotType} activation row of {count} elements needs {needA} bytes, found {activationBytes}.", "activations");
        return blocks;
    }

    /// <summary>
    /// Checks the operands of <see cref="TensorType.MatMul"/> and returns the number of blocks per row.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count or index is negative, <paramref name="cols"/>
    /// is not a multiple of the block size, or <paramref name="outputStride"/> is below <c>rowStart + rowCount</c>.</exception>
    /// <exception cref="ArgumentException">The weights, activations or output are too short.</exception>
    public static int MatMulBlocks(TensorType type, int weightBytes, int rowStart, int rowCount, int cols,
        int activationBytes, int tokens, int outputLength, int outputStride, int activationBlockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rowStart);
        ArgumentOutOfRangeException.ThrowIfNegative(rowCount);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        int blockSize = type.BlockSize;
        if (cols < 0 || cols % blockSize != 0)
            throw new ArgumentOutOfRangeException(nameof(cols), cols, $"{type.Name} rows need a non-negative multiple of {blockSize} elements.");
        long rowEnd = (long)rowStart + rowCount;
        if (outputStride < rowEnd)
            throw new ArgumentOutOfRangeException(nameof(outputStride), outputStride, $"The output stride must be at least rowStart + rowCount = {rowEnd}.");
        int blocks = cols / blockSize;
        long needW = rowEnd * blocks * type.BlockBytes;
        if (weightBytes < needW)
            throw new ArgumentException($"{type.Name} rows up to {rowEnd} of {cols} elements need {needW} bytes, found {weightBytes}.", "weights");
        long needA = (long)tokens * blocks * activationBlockBytes;
        if (activationBytes < needA)
            throw new ArgumentException($"{tokens} {type.VecDotType} activation rows of {cols} elements need {needA} bytes, found {activationBytes}.", "activations");
        long needO = tokens == 0 ? 0 : (long)(tokens - 1) * outputStride + rowEnd;
        if (outputLength < needO)
            throw new ArgumentException($"{tokens} output rows with stride {outputStride} need {needO} floats, found {outputLength}.", "output");
        return blocks;
    }
}
