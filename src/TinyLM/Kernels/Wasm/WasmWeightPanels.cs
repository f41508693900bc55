namespace TinyLM.Kernels.Wasm;

/// <summary>
/// The row-panel layout that the emitted products of the 32-element block types (Q8_0, Q4_0, Q5_0)
/// read when built with panels: every whole group of eight consecutive rows becomes one panel in which
/// the rows' blocks alternate — block b of row k of the panel sits at block index <c>8·b + k</c> — so
/// the eight rows a kernel walks together form one forward stream of memory instead of eight (the
/// hardware prefetcher follows one stream well; in the page a decoded token streams every weight from
/// DRAM). Rows after the last whole group keep their order. Only blocks move, never bytes inside a
/// block, and a panel occupies exactly its eight rows' bytes, so the matrix keeps its size and any
/// range of rows starting at a multiple of 8 is addressed as before (<c>w + r0·rowBytes</c>).
/// </summary>
public static class WasmWeightPanels
{
    /// <summary>Rows per panel.</summary>
    public const int Rows = 8;

    /// <summary>
    /// Rearranges <paramref name="matrix"/> (<paramref name="rows"/> rows of <paramref name="rowBytes"/>
    /// bytes, blocks of <paramref name="blockBytes"/>) from row order into the panel layout, in place.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not describe <paramref name="matrix"/>, or a row is not whole blocks.</exception>
    public static void Interleave(Span<byte> matrix, int rows, int rowBytes, int blockBytes)
    {
        CheckShape(matrix.Length, rows, rowBytes, blockBytes);
        int blocks = rowBytes / blockBytes;
        byte[] panel = new byte[Rows * rowBytes];
        for (int r0 = 0; r0 + Rows <= rows; r0 += Rows)
        {
            Span<byte> rowsSpan = matrix.Slice(r0 * rowBytes, Rows * rowBytes);
            for (int k = 0; k < Rows; k++)
                for (int b = 0; b < blocks; b++)
                    rowsSpan.Slice(k * rowBytes + b * blockBytes, blockBytes).CopyTo(panel.AsSpan((b * Rows + k) * blockBytes, blockBytes));
            panel.CopyTo(rowsSpan);
        }
    }

    /// <summary>
    /// The byte offset of block <paramref name="block"/> of row <paramref name="row"/> in a matrix in the
    /// panel layout (<paramref name="rows"/> rows of <paramref name="rowBytes"/> bytes, blocks of <paramref name="blockBytes"/>).
    /// </summary>
    public static long BlockOffset(int row, int block, int rows, int rowBytes, int blockBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, rows);
        int r0 = row - row % Rows;
        return r0 + Rows <= rows
            ? (long)r0 * rowBytes + ((long)block * Rows + row - r0) * blockBytes
            : (long)row * rowBytes + (long)block * blockBytes;
    }

    private static void CheckShape(int length, int rows, int rowBytes, int blockBytes)
    {
        if (rows < 0 || rowBytes <= 0 || blockBytes <= 0 || rowBytes % blockBytes != 0 || (long)rows * rowBytes != length)
            throw new ArgumentException($"A matrix of {rows} rows of {rowBytes} bytes in blocks of {blockBytes} does not fill {length} bytes.");
    }
}
