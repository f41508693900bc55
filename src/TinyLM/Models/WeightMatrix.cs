using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Models;

/// <summary>
/// A weight matrix read in place from the model file: <see cref="Rows"/> output rows of
/// <see cref="Columns"/> inputs each, row-major, in <see cref="Type"/>.
/// </summary>
/// <remarks>
/// A GGUF tensor of shape <c>[cols, rows]</c> (ggml <c>ne</c> order). The memory belongs to the
/// model's <see cref="ModelBuffer"/> and lives as long as the model (after <see cref="Widen"/>,
/// to the matrix).
/// </remarks>
public sealed unsafe class WeightMatrix
{
    private byte* _data;
    private bool _writable;
    private byte[]? _widened;   // the wide copy that Widen wrote (pinned), kept alive with the matrix

    internal WeightMatrix(string name, TensorType type, byte* data, int rows, int columns, bool writable = false)
    {
        _writable = writable;
        Name = name;
        Type = type;
        _data = data;
        Rows = rows;
        Columns = columns;
        RowBytes = (int)type.RowBytes(columns);
        ByteSize = (long)RowBytes * rows;
    }

    /// <summary>Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</summary>
    public string Name { get; }

    /// <summary>Element type (the wide type after <see cref="Widen"/>).</summary>
    public TensorType Type { get; private set; }

    /// <summary>Number of output rows.</summary>
    public int Rows { get; }

    /// <summary>Elements per row (inputs).</summary>
    public int Columns { get; }

    /// <summary>Bytes per row.</summary>
    public int RowBytes { get; private set; }

    /// <summary>Total bytes.</summary>
    public long ByteSize { get; private set; }

    /// <summary>
    /// The rows repacked for the native kernels (<see cref="Repack"/>), or null: the managed kernels
    /// then read <see cref="Data"/>.
    /// </summary>
    internal RepackedWeights? Repacked { get; private set; }

    /// <summary>
    /// Repacks the rows into a faster layout when this CPU and the type have one
    /// (<see cref="RepackedWeights"/>: Q4_0, Q4_1, Q5_0, Q5_1, Q2_K … Q6_K, TQ1_0 and TQ2_0 with AVX2, Q8_0 and IQ4_NL with AVX-VNNI); otherwise does nothing. Costs the
    /// repacked bytes (about the matrix's own) in memory; results do not change. <paramref name="wide"/>
    /// false keeps Q4_0 and Q5_0 in eight-row panels on CPUs that run sixteen-row ones (tests of both layouts).
    /// </summary>
    internal void Repack(bool wide = true) => Repacked ??= RepackedWeights.TryCreate(Type, Data, Rows, Columns, wide);

    /// <summary>
    /// True when the blocks are in the row-panel layout of the emitted WebAssembly kernels
    /// (<see cref="InterleaveRowPanels"/>): only those kernels read the products then; <see cref="Row"/>
    /// and the managed products refuse it, <see cref="DequantizeRow"/> gathers the row's blocks.
    /// </summary>
    public bool IsRowPanels => PanelRows > 0;

    /// <summary>Rows per panel after <see cref="InterleaveRowPanels"/>; 0 while the matrix is row by row.</summary>
    public int PanelRows { get; private set; }

    /// <summary>
    /// True when <see cref="InterleaveRowPanels"/> can rearrange this matrix: a quantized type (whole
    /// blocks move) in a writable model buffer (<see cref="IModelFile.IsWritable"/>).
    /// </summary>
    public bool CanInterleaveRowPanels => _writable && Type.IsQuantized;

    /// <summary>
    /// Rearranges the blocks in place into the row-panel layout that the emitted WebAssembly products
    /// read (<see cref="Kernels.Wasm.WasmWeightPanels"/>: eight rows' blocks interleaved, one forward
    /// stream of memory per panel). Same bytes, other order. Only for a matrix that the forward pass reads
    /// solely through those products (<see cref="Model.ProductMatrices"/>).
    /// </summary>
    /// <param name="panelRows">Rows per panel: <see cref="Kernels.Wasm.WasmKernelModule.PanelRows"/> of the type.</param>
    /// <param name="kernelBlocks">
    /// Also rearrange each block into the kernel layout of the type's relaxed-SIMD panel product
    /// (<see cref="Kernels.Wasm.WasmWeightPanels.ToKernelBlocks"/>; Q4_K and Q6_K).
    /// </param>
    /// <param name="convert">What rearranges the blocks when <paramref name="kernelBlocks"/> (default
    /// <see cref="Kernels.Wasm.WasmWeightPanels.ToKernelBlocks"/>; the page passes its emitted converter).</param>
    /// <exception cref="InvalidOperationException"><see cref="CanInterleaveRowPanels"/> is false, the matrix is already in panels
    /// of another height or block layout, or <paramref name="kernelBlocks"/> is asked of a type without a kernel layout.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="panelRows"/> is below 2.</exception>
    public void InterleaveRowPanels(int panelRows, bool kernelBlocks = false, Kernels.Wasm.WasmWeightPanels.KernelBlockConverter? convert = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(panelRows, 2);
        if (PanelRows == panelRows && IsKernelBlocks == kernelBlocks)
            return;
        if (IsRowPanels)
            throw new InvalidOperationException($"{Name} is already in panels of {PanelRows} rows{(IsKernelBlocks ? " with kernel-layout blocks" : "")}.");
        if (!CanInterleaveRowPanels)
            throw new InvalidOperationException($"{Name}: only a quantized matrix in a writable model buffer can be interleaved into row panels ({Type.Name}).");
        if (kernelBlocks && !Kernels.Wasm.WasmWeightPanels.HasKernelBlocks(Type, relaxedSimd: true))
            throw new InvalidOperationException($"{Name}: {Type.Name} blocks have no kernel layout.");
        var bytes = new Span<byte>(_data, (int)ByteSize);
        Kernels.Wasm.WasmWeightPanels.Interleave(bytes, Rows, RowBytes, Type.BlockBytes, panelRows);
        if (kernelBlocks)
            (convert ?? Kernels.Wasm.WasmWeightPanels.ToKernelBlocks)(Type, bytes);
        PanelRows = panelRows;
        IsKernelBlocks = kernelBlocks;
    }

    /// <summary>
    /// True when <see cref="InterleaveRowPanels"/> also put each block into its kernel layout (Q4_K, Q6_K with
    /// relaxed SIMD); <see cref="DequantizeRow"/> undoes it on the gathered row.
    /// </summary>
    public bool IsKernelBlocks { get; private set; }

    /// <summary>
    /// The type that <see cref="Widen"/> re-encodes a matrix of <paramref name="type"/> into with the same numbers (Q5_0 →
    /// Q8_0, <see cref="Q5_0.WidenToQ8_0"/>; TQ1_0 → TQ2_0, <see cref="TQ1_0.WidenToTQ2_0"/>), or null.
    /// </summary>
    public static GgmlType? WideType(GgmlType type) => type switch
    {
        GgmlType.Q5_0 => GgmlType.Q8_0,
        GgmlType.TQ1_0 => GgmlType.TQ2_0,
        _ => null,
    };

    /// <summary>True when <see cref="Widen"/> can re-encode this matrix: Q5_0 or TQ1_0 (<see cref="WideType"/>), neither in row panels nor repacked.</summary>
    public bool CanWiden => WideType(Type.Type) is not null && !IsRowPanels && Repacked is null;

    /// <summary>True when the matrix was re-encoded by <see cref="Widen"/>.</summary>
    public bool IsWidened => _widened is not null;

    /// <summary>
    /// Re-encodes this Q5_0 or TQ1_0 matrix as <see cref="WideType"/> (Q8_0, TQ2_0: the same numbers, so every product
    /// and dequantized row stays bit for bit the same) into <paramref name="storage"/> from <paramref name="offset"/>,
    /// <c>Rows · RowBytes(Columns)</c> bytes of the wide type, which the matrix then reads (the model file's bytes of it
    /// are no longer read) and keeps alive. The page's WebAssembly Q8_0 products run about 1.8 times as fast as its Q5_0
    /// ones at 34/22 of the bytes, its TQ2_0 products about twice as fast as its TQ1_0 ones at 66/54.
    /// </summary>
    /// <param name="storage">An array on the pinned object heap (<c>GC.AllocateArray(…, pinned: true)</c>): the kernels keep its address.</param>
    /// <param name="offset">Where the matrix starts in <paramref name="storage"/>.</param>
    /// <exception cref="InvalidOperationException"><see cref="CanWiden"/> is false.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The wide bytes do not fit in <paramref name="storage"/> from <paramref name="offset"/>.</exception>
    public void Widen(byte[] storage, int offset)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!CanWiden)
            throw new InvalidOperationException($"{Name}: only a Q5_0 or TQ1_0 matrix in row order can be widened ({Type.Name}{(IsRowPanels ? ", row panels" : "")}{(Repacked is null ? "" : ", repacked")}).");
        TensorType wide = TensorTypes.Get(WideType(Type.Type)!.Value);
        int rowBytes = (int)wide.RowBytes(Columns);
        long bytes = (long)rowBytes * Rows;
        if (offset < 0 || offset + bytes > storage.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"{Name}: {bytes} bytes of {wide.Name} do not fit in {storage.Length} bytes from offset {offset}.");
        Span<byte> destination = storage.AsSpan(offset, (int)bytes);
        if (Type.Type == GgmlType.Q5_0)
            Q5_0.WidenToQ8_0(Data, destination);
        else
            TQ1_0.WidenToTQ2_0(Data, destination);
        _widened = storage;
        _data = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(storage)) + offset;
        _writable = true;
        Type = wide;
        RowBytes = rowBytes;
        ByteSize = bytes;
    }

    /// <summary>Address of the first row (in the model's buffer, or in the storage of <see cref="Widen"/>).</summary>
    internal byte* Pointer => _data;

    /// <summary>All rows.</summary>
    public ReadOnlySpan<byte> Data => new(_data, (int)ByteSize);

    /// <summary>One row's bytes.</summary>
    /// <exception cref="InvalidOperationException">The matrix is in row panels (<see cref="IsRowPanels"/>).</exception>
    public ReadOnlySpan<byte> Row(int row) => IsRowPanels
        ? throw new InvalidOperationException($"{Name} is interleaved into row panels for the WebAssembly kernels; its rows are not contiguous.")
        : new(_data + (long)row * RowBytes, RowBytes);

    /// <summary>Dequantizes one row (an embedding lookup); in row panels, the row's blocks are gathered first.</summary>
    /// <param name="row">Row index.</param>
    /// <param name="destination">[Columns] floats.</param>
    public void DequantizeRow(int row, Span<float> destination)
    {
        if ((uint)row >= (uint)Rows)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"{Name} has {Rows} rows");
        if (!IsRowPanels)
        {
            Type.Dequantize(Row(row), destination[..Columns]);
            return;
        }
        byte[]? rented = RowBytes > 16384 ? System.Buffers.ArrayPool<byte>.Shared.Rent(RowBytes) : null;
        Span<byte> gathered = rented is null ? stackalloc byte[RowBytes] : rented.AsSpan(0, RowBytes);
        int blockBytes = Type.BlockBytes;
        for (int b = 0; b < RowBytes / blockBytes; b++)
            new ReadOnlySpan<byte>(_data + Kernels.Wasm.WasmWeightPanels.BlockOffset(row, b, Rows, RowBytes, blockBytes, PanelRows), blockBytes)
                .CopyTo(gathered.Slice(b * blockBytes, blockBytes));
        if (IsKernelBlocks)
            Kernels.Wasm.WasmWeightPanels.FromKernelBlocks(Type, gathered);
        Type.Dequantize(gathered, destination[..Columns]);
        if (rented is not null)
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }

    /// <summary>
    /// Binds a tensor of a model file as a matrix after checking its type and shape.
    /// </summary>
    /// <exception cref="ModelFormatException">Unsupported type, wrong shape, or too large.</exception>
    internal static WeightMatrix FromFile(IModelFile file, GgufTensorInfo tensor, long columns, long rows)
    {
        if (tensor.Shape.Count is < 1 or > 2 || tensor.Columns != columns || tensor.Rows != rows)
            throw new ModelFormatException(file.Source, -1,
                $"tensor '{tensor.Name}': expected shape [{columns}, {rows}], found {tensor.ShapeText}");
        if (!TensorTypes.TryGet(tensor.Type, out TensorType? type))
            throw new ModelFormatException(file.Source, -1, $"tensor '{tensor.Name}': type {tensor.Type} is not supported");
        if (tensor.ByteSize > int.MaxValue)
            throw new ModelFormatException(file.Source, -1, $"tensor '{tensor.Name}': {tensor.ByteSize} bytes, more than 2 GiB per matrix is not supported");
        return new WeightMatrix(tensor.Name, type, file.GetTensorPointer(tensor), (int)rows, (int)columns, file.IsWritable);
    }
}
