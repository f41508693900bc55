using TinyLM.Kernels.Wasm.Emitters;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm;

/// <summary>
/// The row-panel layout that the emitted <c>matmul_{type}_panels</c> products read: every whole group
/// of P consecutive rows (P = the rows a kernel walks together: 8 for the 32-element types, 4 for the
/// K-quants and ternary types; <see cref="WasmKernelModule.PanelRows"/>) becomes one panel in which the rows' blocks alternate
/// — block b of row k of the panel sits at block index <c>P·b + k</c> — so those rows form one forward
/// stream of memory instead of P (the hardware prefetcher follows one stream well; in the page a
/// decoded token streams every weight from DRAM). Rows after the last whole panel keep their order.
/// Only blocks move, never bytes inside a block, and a panel occupies exactly its rows' bytes, so the
/// matrix keeps its size and any range of rows starting at a multiple of P is addressed as before
/// (<c>w + r0·rowBytes</c>). The relaxed-SIMD Q3_K … Q6_K panel products also read each block in a
/// kernel layout (<see cref="ToKernelBlocks"/>), rearranged inside the block.
/// </summary>
public static class WasmWeightPanels
{
    /// <summary>
    /// Rearranges <paramref name="matrix"/> (<paramref name="rows"/> rows of <paramref name="rowBytes"/>
    /// bytes, blocks of <paramref name="blockBytes"/>) from row order into panels of <paramref name="panelRows"/> rows, in place.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not describe <paramref name="matrix"/>, a row is not whole blocks, or <paramref name="panelRows"/> &lt; 1.</exception>
    public static void Interleave(Span<byte> matrix, int rows, int rowBytes, int blockBytes, int panelRows)
    {
        CheckShape(matrix.Length, rows, rowBytes, blockBytes, panelRows);
        int blocks = rowBytes / blockBytes;
        byte[] panel = new byte[panelRows * rowBytes];
        for (int r0 = 0; r0 + panelRows <= rows; r0 += panelRows)
        {
            Span<byte> rowsSpan = matrix.Slice(r0 * rowBytes, panelRows * rowBytes);
            for (int k = 0; k < panelRows; k++)
                for (int b = 0; b < blocks; b++)
                    rowsSpan.Slice(k * rowBytes + b * blockBytes, blockBytes).CopyTo(panel.AsSpan((b * panelRows + k) * blockBytes, blockBytes));
            panel.CopyTo(rowsSpan);
        }
    }

    /// <summary>
    /// Rearranges whole blocks of <paramref name="type"/> in place into their kernel layout: <see cref="ToKernelBlocks"/>,
    /// or a faster equivalent (the page's emitted <c>kernel_blocks_{type}</c>).
    /// </summary>
    public delegate void KernelBlockConverter(TensorType type, Span<byte> blocks);

    /// <summary>
    /// True when the panel product of <paramref name="type"/> in a module built with
    /// <paramref name="relaxedSimd"/> reads its blocks in a kernel layout (<see cref="ToKernelBlocks"/>):
    /// Q3_K, Q4_K, Q5_K and Q6_K with relaxed SIMD (<see cref="Q3_KEmitter.ToKernelLayout"/>, <see cref="Q4_KEmitter.ToKernelLayout"/>,
    /// <see cref="Q5_KEmitter.ToKernelLayout"/>, <see cref="Q6_KEmitter.ToKernelLayout"/>).
    /// </summary>
    public static bool HasKernelBlocks(TensorType type, bool relaxedSimd)
    {
        ArgumentNullException.ThrowIfNull(type);
        return relaxedSimd && type.Type is GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;
    }

    /// <summary>
    /// Rearranges every block of <paramref name="blocks"/> (whole blocks of <paramref name="type"/>) in place
    /// into the kernel layout of its relaxed-SIMD panel product (<see cref="HasKernelBlocks"/>); the order of
    /// the blocks does not change, so this and <see cref="Interleave"/> commute.
    /// </summary>
    /// <exception cref="ArgumentException">The type has no kernel layout, or the span is not whole blocks.</exception>
    public static void ToKernelBlocks(TensorType type, Span<byte> blocks) => PermuteBlocks(type, blocks, toKernel: true);

    /// <summary>Undoes <see cref="ToKernelBlocks"/>.</summary>
    /// <exception cref="ArgumentException">The type has no kernel layout, or the span is not whole blocks.</exception>
    public static void FromKernelBlocks(TensorType type, Span<byte> blocks) => PermuteBlocks(type, blocks, toKernel: false);

    private static void PermuteBlocks(TensorType type, Span<byte> blocks, bool toKernel)
    {
        if (!HasKernelBlocks(type, relaxedSimd: true))
            throw new ArgumentException($"{type.Name} blocks have no kernel layout.", nameof(type));
        int size = type.BlockBytes;
        if (blocks.Length % size != 0)
            throw new ArgumentException($"{blocks.Length} bytes are not whole {type.Name} blocks of {size}.", nameof(blocks));
        for (int at = 0; at < blocks.Length; at += size)
        {
            Span<byte> block = blocks.Slice(at, size);
            switch (type.Type, toKernel)
            {
                case (GgmlType.Q3_K, true): Q3_KEmitter.ToKernelLayout(block); break;
                case (GgmlType.Q3_K, false): Q3_KEmitter.FromKernelLayout(block); break;
                case (GgmlType.Q4_K, true): Q4_KEmitter.ToKernelLayout(block); break;
                case (GgmlType.Q4_K, false): Q4_KEmitter.FromKernelLayout(block); break;
                case (GgmlType.Q5_K, true): Q5_KEmitter.ToKernelLayout(block); break;
                case (GgmlType.Q5_K, false): Q5_KEmitter.FromKernelLayout(block); break;
                case (GgmlType.Q6_K, true): Q6_KEmitter.ToKernelLayout(block); break;
                default: Q6_KEmitter.FromKernelLayout(block); break;
            }
        }
    }

    /// <summary>
    /// The byte offset of block <paramref name="block"/> of row <paramref name="row"/> in a matrix in the
    /// panel layout (<paramref name="rows"/> rows of <paramref name="rowBytes"/> bytes, blocks of
    /// <paramref name="blockBytes"/>, panels of <paramref name="panelRows"/> rows).
    /// </summary>
    public static long BlockOffset(int row, int block, int rows, int rowBytes, int blockBytes, int panelRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(panelRows, 1);
        int r0 = row - row % panelRows;
        return r0 + panelRows <= rows
            ? (long)r0 * rowBytes + ((long)block * panelRows + row - r0) * blockBytes
            : (long)row * rowBytes + (long)block * blockBytes;
    }

    private static void CheckShape(int length, int rows, int rowBytes, int blockBytes, int panelRows)
    {
        if (rows < 0 || rowBytes <= 0 || blockBytes <= 0 || panelRows < 1 || rowBytes % blockBytes != 0 || (long)rows * rowBytes != length)
            throw new ArgumentException($"A matrix of {rows} rows of {rowBytes} bytes in blocks of {blockBytes} (panels of {panelRows} rows) does not fill {length} bytes.");
    }
}
