using System.Runtime.InteropServices.JavaScript;
using System.Runtime.Versioning;
using TinyLM.Kernels;
using TinyLM.Kernels.Wasm;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Browser;

/// <summary>
/// <see cref="ComputeKernels"/> running the WebAssembly kernels that the engine emits
/// (<see cref="WasmKernelModule"/>) for the model's tensor types. tinylm-worker.js compiles the module
/// and instantiates it against the .NET runtime's own linear memory (captured before
/// <c>dotnet.create()</c>), so a kernel reads the operands where C# keeps them: the engine passes spans
/// of pinned arrays and of the model buffer (pinned by <c>ModelBuffer</c>), whose addresses stay valid
/// when the heap grows. One JavaScript call per operation (about 1 µs). Operations or types without an
/// emitted kernel run the managed reference; results are bit-identical either way.
/// </summary>
/// <remarks>
/// <para><b>Threads.</b> The .NET heap cannot be shared with other workers, so with more than one
/// thread (a cross-origin-isolated page) the kernels get a memory of their own: a shared
/// <c>WebAssembly.Memory</c> holding a copy of the model's tensor bytes, the operands of the running
/// matrix product and a scratch area per thread. tinylm-worker.js instantiates the shared-memory
/// build of the same module in this worker and in <c>threads − 1</c> helper workers
/// (tinylm-kernel-worker.js). A matrix product copies its activations into that memory, splits the
/// rows into chunks that the threads claim with <c>Atomics.compareExchange</c>, and copies the rows
/// back; every row is computed by the same code whichever thread takes it, so the results are
/// bit-identical for any number of threads. An attention call with enough work (a prompt's, or a decode
/// step's once the context has grown) splits its heads across the threads the same way, on mirrors of the
/// layers' KV caches in that memory: each is copied once, then every write of the <c>copy</c> kernel into the
/// cache is repeated there (tinylm-worker.js, <c>kvMirror</c>). Other operations (norms, RoPE, SwiGLU) stay
/// on this worker. The copy doubles the memory the weights take in the page.</para>
/// <para><b>Row panels and relaxed SIMD.</b> At <see cref="Create(Model, int)"/> the model's quantized
/// product matrices (<see cref="Model.ProductMatrices"/>, every type but F32, F16 and BF16) are interleaved in place into
/// panels (<see cref="WeightMatrix.InterleaveRowPanels"/>, <see cref="WasmKernelModule.PanelRows"/>) and run the module's
/// <c>matmul_{type}_panels</c>: one forward memory stream per panel instead of one per row, which nearly doubled
/// the page's decode speed on SmolLM-135M Q8_0 (the weights stream from DRAM every token). Where
/// tinylm-worker.js found relaxed SIMD with the standard integer dot product, the module is built with
/// it (<see cref="RelaxedSimd"/>); with both, the Q4_K and Q6_K blocks are also rearranged in place into the order
/// their relaxed-SIMD panel products read (<see cref="WasmWeightPanels.ToKernelBlocks"/>: each lane class whole in
/// one load), which about doubled those products (bench/browser: Q4_K 4.9–6.7 → 11.8–12.6 GB/s, Q6_K 5.1–7.0 → 11.5–15.2).
/// Both are load options of tinylm.js (<c>rowPanels</c>, <c>relaxedSimd</c>).</para>
/// <para><b>Q5_0 as Q8_0, TQ1_0 as TQ2_0.</b> Before that, the Q5_0 product matrices are re-encoded as Q8_0 and the
/// TQ1_0 ones as TQ2_0 into one pinned buffer (<see cref="WeightMatrix.Widen"/>; load options <c>widenQ5_0</c>,
/// <c>widenTQ1_0</c>): the same numbers, so the same results; the Q8_0 products run about 1.8 times as fast, at 34/22 of
/// those matrices' bytes, the TQ2_0 ones about twice as fast, at 66/54. With threads the mirror copies that buffer and
/// the rest of the model buffer, without the file's Q5_0 and TQ1_0 bytes.</para>
/// <para><b>Q6_K wide.</b> After the row panels, the Q6_K product matrices in kernel-layout panels get a wide copy in
/// another pinned buffer (<see cref="WidenQ6_K"/>, <c>widen_q6_K</c>; load option <c>widenQ6_K</c>): every quant in a
/// byte, so <see cref="WasmKernelModule.MatMulQ6_KWidePanels"/> loads what the kernel-layout product assembles from a
/// nibble and a bit pair — a decode step's Q6_K products about 1.3 to 1.4 times as fast, at 274/210 of those matrices'
/// bytes. The mirror copies the wide buffer instead of the file's Q6_K bytes.</para>
/// </remarks>
[SupportedOSPlatform("browser")]
internal sealed unsafe partial class WasmKernels : ComputeKernels, IKernelGraphHost
{
    private const string JSModule = "tinylm-kernels";

    private readonly int[] _matMul, _matMulPanels, _kernelBlocks;
    private readonly int _quantizeQ8_0, _quantizeQ8_1, _quantizeQ8_K, _quantizeF16, _quantizeBF16, _rmsNorm, _rope, _attention, _swiGlu, _add, _copy, _argMax;
    private byte[] _scratch = [];   // the matrix products' prepared activations (pinned; the page has one thread)
    // Multiply-adds (weights × tokens) below which a product stays on this thread: a hand-off copies the
    // operands and wakes the helpers (some 20 µs on a 2-vCPU machine). With row panels a 576 × 576 Q8_0
    // product (331,776 weights, 352 KB) took 21 µs alone and 24 µs split over two threads (SmolLM-135M
    // profile). Counted in weights, not bytes: the 4-bit products cost about as much time per weight as Q8_0's.
    private const long ParallelMinMacs = 512 * 1024;
    private int _threads = 1;       // kernel threads sharing the mirrored weights (1: no shared memory)
    private nint[] _mirrorStarts = [];   // the .NET address of each run of bytes in the threads' mirror, ascending
    private long[] _mirrorLengths = [], _mirrorOffsets = [];   // each run's length, and where it sits in the mirror
    private byte[]? _widened;            // the Q5_0 and TQ1_0 product matrices as Q8_0 and TQ2_0 (Widen), pinned
    private long[] _widenedFrom = [];    // the model-buffer addresses of the widened matrices' file bytes (not mirrored)
    private readonly int _matMulQ6_KWide, _widenQ6_K;   // the wide Q6_K product and widening (−1 without relaxed SIMD or Q6_K)
    private byte[]? _wideQ6_K;           // the Q6_K product matrices' wide blocks (WidenQ6_K), pinned
    private nint[] _wideQ6_KFrom = [];   // the model-buffer addresses of those matrices' Q6_K bytes (not mirrored), ascending
    private nint[] _wideQ6_KTo = [];     // and where each one's wide blocks start

    private WasmKernels(WasmKernelModule module, bool relaxedSimd, bool graphs)
    {
        RelaxedSimd = relaxedSimd;
        GraphsEnabled = graphs;
        _matMul = new int[Enum.GetValues<GgmlType>().Max(t => (int)t) + 1];
        _matMulPanels = new int[_matMul.Length];
        _kernelBlocks = new int[_matMul.Length];
        Array.Fill(_matMul, -1);
        Array.Fill(_matMulPanels, -1);
        Array.Fill(_kernelBlocks, -1);
        foreach (TensorType t in TensorTypes.All)
        {
            if (WasmKernelModule.SupportsMatMul(t))
                _matMul[(int)t.Type] = module.IndexOf(WasmKernelModule.MatMulExport(t));
            if (WasmKernelModule.SupportsPanels(t))
                _matMulPanels[(int)t.Type] = module.IndexOf(WasmKernelModule.MatMulPanelsExport(t));
            _kernelBlocks[(int)t.Type] = module.IndexOf(WasmKernelModule.KernelBlocksExport(t));   // −1 where the module has none
        }
        _quantizeQ8_0 = module.IndexOf(WasmKernelModule.QuantizeQ8_0);
        _quantizeQ8_1 = module.IndexOf(WasmKernelModule.QuantizeQ8_1);
        _quantizeQ8_K = module.IndexOf(WasmKernelModule.QuantizeQ8_K);
        _quantizeF16 = module.IndexOf(WasmKernelModule.QuantizeF16);
        _quantizeBF16 = module.IndexOf(WasmKernelModule.QuantizeBF16);
        _rmsNorm = module.IndexOf(WasmKernelModule.RmsNormExport);
        _rope = module.IndexOf(WasmKernelModule.RopeExport);
        _attention = module.IndexOf(WasmKernelModule.AttentionExport);
        _swiGlu = module.IndexOf(WasmKernelModule.SwiGluExport);
        _add = module.IndexOf(WasmKernelModule.AddExport);
        _copy = module.IndexOf(WasmKernelModule.CopyExport);
        _argMax = module.IndexOf(WasmKernelModule.ArgMaxExport);
        _matMulQ6_KWide = module.IndexOf(WasmKernelModule.MatMulQ6_KWidePanels);
        _widenQ6_K = module.IndexOf(WasmKernelModule.WidenQ6_K);
    }

    /// <inheritdoc/>
    public override string Name => "wasm";

    /// <summary>
    /// Emits the kernels for <paramref name="model"/>'s tensor types and has JavaScript instantiate them;
    /// with <paramref name="threads"/> &gt; 1, also the shared-memory build, which this worker and the
    /// helper workers that tinylm-worker.js started run the matrix products on (see the remarks).
    /// </summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="threads">Kernel threads, 1 to 64; more than 1 needs the helper workers running.</param>
    /// <exception cref="InvalidOperationException">The worker could not compile or instantiate a module.</exception>
    public static WasmKernels Create(Model model, int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, 64);
        TensorType[] types = model.File.Tensors.Select(t => TensorTypes.TryGet(t.Type, out TensorType? tt) ? tt : null)
            .OfType<TensorType>().Distinct().ToArray();
        (byte[]? widened, long[] widenedFrom, GgmlType[] wideTypes) = Widen(model, WidenQ5_0Enabled(), WidenTQ1_0Enabled());
        types = [.. types.Concat(wideTypes.Select(TensorTypes.Get)).Distinct()];
        WasmKernels kernels = Create(types);
        kernels._widened = widened;
        kernels._widenedFrom = widenedFrom;
        // quantized product matrices into row panels (one memory stream per panel), in the
        // model's own buffer and before the threads' mirror copies it.
        if (RowPanelsEnabled())
            foreach (WeightMatrix m in model.ProductMatrices)
                if (WasmKernelModule.SupportsPanels(m.Type) && m.CanInterleaveRowPanels)
                {
                    m.InterleaveRowPanels(WasmKernelModule.PanelRows(m.Type), WasmWeightPanels.HasKernelBlocks(m.Type, kernels.RelaxedSimd), kernels.ToKernelBlocks);
                    kernels.PanelMatrices++;
                }
        if (WidenQ6_KEnabled())
            kernels.WidenQ6_K(model);
        if (threads > 1)
            kernels.StartThreads(model, types, threads);
        // Scratch for any one-token product up front: a decode step never replaces it, so a kernel graph
        // recorded on the first steps stays valid (a longer prompt may still grow it).
        long decodeScratch = model.ProductMatrices.Select(m => WasmKernelModule.MatMulScratchBytes(m.Type, m.Columns, 1)).DefaultIfEmpty(0).Max() + 16;
        kernels._scratch = GC.AllocateUninitializedArray<byte>(checked((int)decodeScratch), pinned: true);
        return kernels;
    }

    /// <summary>
    /// <see cref="WasmWeightPanels.ToKernelBlocks"/> by the module's <c>kernel_blocks_{type}</c> (in place): the C# loop
    /// runs interpreted in the page (stories110M Q4_K_M: panels and layout took 721 ms at load with the C# loop, 57 ms
    /// with this; the panels alone 35 ms).
    /// </summary>
    private void ToKernelBlocks(TensorType type, Span<byte> blocks)
    {
        int fn = _kernelBlocks[(int)type.Type];
        if (fn < 0 || blocks.Length % type.BlockBytes != 0)
        {
            WasmWeightPanels.ToKernelBlocks(type, blocks);
            return;
        }
        fixed (byte* p = blocks)
            Call3(fn, (int)p, (int)p, blocks.Length / type.BlockBytes);
    }

    /// <summary>
    /// Re-encodes the model's Q5_0 product matrices as Q8_0 and its TQ1_0 ones as TQ2_0 (<see cref="WeightMatrix.Widen"/>:
    /// the same numbers, so the same tokens), as <paramref name="q5_0"/> and <paramref name="tq1_0"/> ask, into one pinned
    /// buffer, each matrix on a 64-byte boundary; returns the buffer (null when there is none to widen, or it would pass
    /// 2 GiB), the model-buffer addresses of the matrices' original bytes and the wide types used.
    /// The emitted Q5_0 product spends most of its instructions spreading the fifth bits (about 370
    /// blocks per µs against Q8_0's 690 in bench/browser), so the page trades 34/22 of those matrices'
    /// bytes for about 1.8 times their speed; TQ1_0's base-3 trits take 16-bit multiplies to unpack (bench/browser,
    /// relaxed SIMD in panels: 2.3 GB/s against TQ2_0's 6.2, about 2.2 times the weights per second), for 66/54 of the
    /// bytes. The file's bytes stay in the model buffer, unread.
    /// </summary>
    private static (byte[]? Buffer, long[] From, GgmlType[] WideTypes) Widen(Model model, bool q5_0, bool tq1_0)
    {
        WeightMatrix[] matrices = [.. model.ProductMatrices.Distinct().Where(m => m.CanWiden
            && (m.Type.Type == GgmlType.Q5_0 ? q5_0 : m.Type.Type == GgmlType.TQ1_0 && tq1_0))];
        long total = 64;
        foreach (WeightMatrix m in matrices)
            total += (TensorTypes.Get(WeightMatrix.WideType(m.Type.Type)!.Value).RowBytes(m.Columns) * m.Rows + 63) & ~63L;
        if (matrices.Length == 0 || total > Array.MaxLength)
            return (null, [], []);
        GgmlType[] wideTypes = [.. matrices.Select(m => WeightMatrix.WideType(m.Type.Type)!.Value).Distinct()];
        byte[] buffer = GC.AllocateUninitializedArray<byte>((int)total, pinned: true);
        int offset;
        fixed (byte* p = buffer)
            offset = (int)((64 - ((nint)p & 63)) & 63);
        long[] from = new long[matrices.Length];
        for (int i = 0; i < matrices.Length; i++)
        {
            fixed (byte* original = matrices[i].Data)
                from[i] = (long)original;
            matrices[i].Widen(buffer, offset);
            offset += (int)((matrices[i].ByteSize + 63) & ~63L);
        }
        return (buffer, from, wideTypes);
    }

    /// <summary>
    /// Writes the wide form of the model's Q6_K product matrices that sit in kernel-layout row panels (the relaxed-SIMD
    /// build) into one pinned buffer, each matrix on a 64-byte boundary, with the module's <c>widen_q6_K</c>
    /// (<see cref="WasmKernelModule.MatMulQ6_KWidePanels"/>: every quant in a byte, the same numbers, so the same results):
    /// the decode step's Q6_K products then load their quants instead of assembling each from a nibble and a bit pair
    /// (Node 26, one token, 32000 × 768: 1.52 → 1.16 ms), at 274/210 of those matrices' bytes; the file's bytes stay in
    /// the model buffer (the C# fallback and a tied embedding's lookups read them). Nothing when the buffer would pass 2 GiB.
    /// </summary>
    private void WidenQ6_K(Model model)
    {
        if (_matMulQ6_KWide < 0 || _widenQ6_K < 0)
            return;
        WeightMatrix[] matrices = [.. model.ProductMatrices.Distinct().Where(m => m.Type.Type == GgmlType.Q6_K && m.IsRowPanels && m.IsKernelBlocks)];
        long total = 64;
        foreach (WeightMatrix m in matrices)
            total += ((long)m.Rows * WideRowBytes(m) + 63) & ~63L;
        if (matrices.Length == 0 || total > Array.MaxLength)
            return;
        byte[] buffer = GC.AllocateUninitializedArray<byte>((int)total, pinned: true);
        var from = new nint[matrices.Length];
        var to = new nint[matrices.Length];
        fixed (byte* p = buffer)
        {
            nint at = ((nint)p + 63) & ~(nint)63;
            for (int i = 0; i < matrices.Length; i++)
            {
                fixed (byte* q6 = matrices[i].Data)
                {
                    from[i] = (nint)q6;
                    to[i] = at;
                    Call3(_widenQ6_K, (int)q6, (int)at, matrices[i].Rows * (matrices[i].Columns / matrices[i].Type.BlockSize));
                }
                at += (nint)(((long)matrices[i].Rows * WideRowBytes(matrices[i]) + 63) & ~63L);
            }
        }
        Array.Sort(from, to);
        _wideQ6_K = buffer;
        _wideQ6_KFrom = from;
        _wideQ6_KTo = to;
    }

    private static int WideRowBytes(WeightMatrix m) => m.Columns / m.Type.BlockSize * WasmKernelModule.Q6_KWideBlockBytes;

    /// <summary>Q6_K product matrices that run from their wide blocks (<see cref="WidenQ6_K"/>; load option <c>widenQ6_K</c>).</summary>
    public int WideQ6_KMatrices => _wideQ6_KFrom.Length;

    /// <summary>
    /// The emitted product that runs <paramref name="w"/>: its export (−1: none), the address of the matrix's first row, its
    /// bytes per row and the scratch bytes it needs for <paramref name="tokens"/> rows of activations (a widened Q6_K matrix
    /// runs the wide product on its wide blocks).
    /// </summary>
    private int Product(WeightMatrix w, int tokens, out nint data, out int rowBytes, out long scratchBytes)
    {
        fixed (byte* p = w.Data)
            data = (nint)p;
        int i;
        if (_wideQ6_KFrom.Length > 0 && w.IsRowPanels && w.Type.Type == GgmlType.Q6_K && (i = Array.BinarySearch(_wideQ6_KFrom, data)) >= 0)
        {
            data = _wideQ6_KTo[i];
            rowBytes = WideRowBytes(w);
            scratchBytes = WasmKernelModule.WideQ6_KScratchBytes(w.Columns, tokens);
            return _matMulQ6_KWide;
        }
        rowBytes = w.RowBytes;
        scratchBytes = WasmKernelModule.MatMulScratchBytes(w.Type, w.Columns, tokens);
        return w.IsRowPanels ? _matMulPanels[(int)w.Type.Type] : _matMul[(int)w.Type.Type];
    }

    /// <summary>
    /// True when the Q8_0/Q4_0/Q5_0/Q4_K products use relaxed SIMD's integer dot product (the browser
    /// supports it and the load did not turn it off; tinylm-worker.js decides). Same results either way.
    /// </summary>
    public bool RelaxedSimd { get; }

    /// <summary>Product matrices interleaved into row panels at <see cref="Create(Model, int)"/> (<see cref="WeightMatrix.InterleaveRowPanels"/>).</summary>
    public int PanelMatrices { get; private set; }

    /// <summary>Q5_0 and TQ1_0 product matrices re-encoded as Q8_0 and TQ2_0 at <see cref="Create(Model, int)"/> (<see cref="WeightMatrix.Widen"/>).</summary>
    public int WidenedMatrices => _widenedFrom.Length;

    /// <summary>Kernel threads running the matrix products (1 when the page is single-threaded).</summary>
    public int Threads => _threads;

    private void StartThreads(Model model, TensorType[] types, int threads)
    {
        // The mirror holds the tensors' bytes that the kernels read: runs of the model buffer (without
        // the Q5_0 and TQ1_0 bytes that Widen replaced and the Q6_K bytes that WidenQ6_K did) and the widened and
        // wide buffers, each run starting on a 64-byte boundary so that rows keep their alignment in the shared memory.
        var widenedFrom = new HashSet<long>(_widenedFrom.Concat(_wideQ6_KFrom.Select(p => (long)p)));
        var ranges = new List<(long Start, long End)>();
        foreach (var tensor in model.File.Tensors.OrderBy(t => (long)model.File.GetTensorPointer(t)))
        {
            long p = (long)model.File.GetTensorPointer(tensor);
            if (tensor.ByteSize == 0 || widenedFrom.Contains(p))
                continue;
            if (ranges.Count > 0 && p - ranges[^1].End < 64)
                ranges[^1] = (ranges[^1].Start, Math.Max(ranges[^1].End, p + tensor.ByteSize));
            else
                ranges.Add((p & ~63L, p + tensor.ByteSize));
        }
        if (_widened is not null)
            fixed (byte* w = _widened)
                ranges.Add(((long)w, (long)w + _widened.Length));
        if (_wideQ6_K is not null)
            fixed (byte* w = _wideQ6_K)
                ranges.Add(((long)w, (long)w + _wideQ6_K.Length));
        if (ranges.Count == 0)
            return;
        int[] segments = new int[2 * ranges.Count];
        _mirrorStarts = new nint[ranges.Count];
        _mirrorLengths = new long[ranges.Count];
        _mirrorOffsets = new long[ranges.Count];
        long offset = 0;
        foreach (var (r, i) in ranges.OrderBy(r => r.Start).Select((r, i) => (r, i)))
        {
            segments[2 * i] = checked((int)r.Start);
            segments[2 * i + 1] = checked((int)(r.End - r.Start));
            _mirrorStarts[i] = (nint)r.Start;
            _mirrorLengths[i] = r.End - r.Start;
            _mirrorOffsets[i] = offset;
            offset = (offset + r.End - r.Start + 63) & ~63L;   // as tinylm-worker.js lays them out
        }
        WasmKernelModule shared = WasmKernelModule.Build(types, sharedMemory: true, relaxedSimd: RelaxedSimd);
        string error = StartThreads(shared.Bytes, string.Join(',', shared.Exports), segments, threads);
        if (error.Length > 0)
            throw new InvalidOperationException($"The kernel threads could not be started: {error}");
        _threads = threads;
    }

    /// <summary>Emits the kernels for weights of <paramref name="types"/> and has JavaScript instantiate them.</summary>
    /// <exception cref="InvalidOperationException">The worker could not compile or instantiate the module.</exception>
    public static WasmKernels Create(IEnumerable<TensorType> types)
    {
        bool relaxedSimd = RelaxedSimdEnabled();
        WasmKernelModule module = WasmKernelModule.Build(types, relaxedSimd: relaxedSimd);
        string error = Compile(module.Bytes, string.Join(',', module.Exports));
        if (error.Length > 0)
            throw new InvalidOperationException($"The emitted WebAssembly kernels could not be instantiated: {error}");
        return new WasmKernels(module, relaxedSimd, DecodeGraphEnabled());
    }

    /// <inheritdoc/>
    public override void Quantize(TensorType type, ReadOnlySpan<float> source, Span<byte> destination, int rows, int columns)
    {
        if (type.Type == GgmlType.F32 && rows * columns > 0 && destination.Length >= rows * columns * sizeof(float))
        {
            // F32 products' activations are the floats themselves (RowBytes = 4 · columns)
            fixed (float* s = source)
            fixed (byte* d = destination)
                Invoke3(_copy, (int)d, (int)s, rows * columns);
            return;
        }
        int fn = type.Type switch
        {
            GgmlType.Q8_0 => _quantizeQ8_0, GgmlType.Q8_1 => _quantizeQ8_1, GgmlType.Q8_K => _quantizeQ8_K,
            GgmlType.F16 => _quantizeF16, GgmlType.BF16 => _quantizeBF16, _ => -1,
        };
        if (fn < 0 || columns % type.BlockSize != 0 || rows * columns == 0)
        {
            RunsInCSharp($"quantize to {type.Name}");
            base.Quantize(type, source, destination, rows, columns);
            return;
        }
        fixed (float* s = source)
        fixed (byte* d = destination)
            Invoke3(fn, (int)s, (int)d, rows * columns / type.BlockSize);
    }

    /// <inheritdoc/>
    public override void MatMul(WeightMatrix weights, int rowStart, int rowCount, ReadOnlySpan<byte> activations, int tokens,
        Span<float> output, int outputStride)
    {
        TensorType type = weights.Type;
        int fn = Product(weights, tokens, out nint data, out int rowBytes, out long scratchBytes);
        // a range of a panel matrix must cover whole panels, except for the matrix's own last rows
        if (weights.IsRowPanels && (fn < 0 || rowStart % weights.PanelRows != 0
            || (rowStart + rowCount != weights.Rows && rowCount % weights.PanelRows != 0)))
            throw new InvalidOperationException($"{weights.Name} is in panels of {weights.PanelRows} rows: a range must start and end on a panel (got {rowStart} + {rowCount}).");
        if (fn < 0 || rowCount <= 0 || tokens <= 0)
        {
            RunsInCSharp($"{type.Name} product");
            base.MatMul(weights, rowStart, rowCount, activations, tokens, output, outputStride);
            return;
        }
        fixed (byte* a = activations)
        fixed (float* o = output)
        {
            byte* rows = (byte*)data + (long)rowStart * rowBytes;
            // Threads pay a copy of the activations and outputs and a hand-off (a few µs): only for
            // products of some size (the split does not change any result).
            long bytes = (long)rowCount * rowBytes;
            long offset;
            int k = weights.Columns / type.BlockSize;
            int actRowBytes = (int)TensorTypes.Get(type.VecDotType).RowBytes(weights.Columns);
            if (_threads > 1 && rowCount >= 16 * _threads && (long)rowCount * weights.Columns * tokens >= ParallelMinMacs && (offset = MirrorOffset((nint)rows, bytes)) >= 0)
            {
                _recording?.Add(CallKind.ParallelMatMul, fn, 0, [(int)offset, rowBytes, rowCount, (int)a, actRowBytes, tokens, (int)(o + rowStart), outputStride, k, checked((int)scratchBytes)]);
                ParallelMatMul(fn, (int)offset, rowBytes, rowCount, (int)a, actRowBytes, tokens, (int)(o + rowStart), outputStride, k, checked((int)scratchBytes));
            }
            else
                MatMul(fn, rows, rowBytes, k, actRowBytes, scratchBytes, rowCount, a, tokens, o + rowStart, outputStride);
        }
    }

    /// <inheritdoc/>
    /// <remarks>
    /// With kernel threads, the matrices' emitted products run as one job (tinylm-worker.js <c>parallelMatMulGroup</c>):
    /// the activations go to the shared memory once, the threads claim every matrix's chunks from one counter and the
    /// engine's worker waits once at the end, where one job per matrix waited for the slower thread each time. False
    /// without threads, or when a matrix has no emitted product, is not in the mirror, or has fewer than 16 rows per
    /// thread, or the group has less work than <see cref="ParallelMinMacs"/>.
    /// </remarks>
    public override bool TryMatMulGroup(ReadOnlySpan<WeightMatrix> weights, ReadOnlySpan<byte> activations, int tokens, float[][] outputs)
    {
        const int Count = 3, Words = 8;
        if (_threads <= 1 || weights.Length is < 2 or > Count || tokens <= 0)
            return false;
        Span<int> args = stackalloc int[3 + Count * Words];
        args.Clear();
        long macs = 0;
        for (int i = 0; i < weights.Length; i++)
        {
            WeightMatrix w = weights[i];
            int fn = Product(w, tokens, out nint data, out int rowBytes, out long scratchBytes);
            long offset;
            if (fn < 0 || w.Rows < 16 * _threads || outputs[i].Length < (long)tokens * w.Rows || (offset = MirrorOffset(data, (long)w.Rows * rowBytes)) < 0)
                return false;
            macs += (long)w.Rows * w.Columns * tokens;
            Span<int> m = args.Slice(3 + Words * i, Words);
            m[0] = fn;
            m[1] = (int)offset;
            m[2] = rowBytes;
            m[3] = w.Rows;
            m[5] = w.Rows;   // the output stride; m[4], the output's address, once pinned below
            m[6] = w.Columns / w.Type.BlockSize;
            m[7] = checked((int)scratchBytes);
        }
        if (macs < ParallelMinMacs)
            return false;
        args[1] = (int)TensorTypes.Get(weights[0].Type.VecDotType).RowBytes(weights[0].Columns);
        args[2] = tokens;
        fixed (byte* a = activations)
        fixed (float* o0 = outputs[0])
        fixed (float* o1 = outputs[1])
        fixed (float* o2 = weights.Length > 2 ? outputs[2] : null)
        {
            args[0] = (int)a;
            args[3 + 4] = (int)o0;
            args[3 + Words + 4] = (int)o1;
            args[3 + 2 * Words + 4] = (int)o2;
            _recording?.Add(CallKind.ParallelMatMulGroup, weights.Length, 0, args);
            ParallelMatMulGroup(weights.Length, args[0], args[1], args[2],
                args[3], args[4], args[5], args[6], args[7], args[8], args[9], args[10],
                args[11], args[12], args[13], args[14], args[15], args[16], args[17], args[18],
                args[19], args[20], args[21], args[22], args[23], args[24], args[25], args[26]);
        }
        return true;
    }

    /// <summary>Where the <paramref name="bytes"/> bytes of <paramref name="data"/> sit in the threads' mirror, or −1.</summary>
    private long MirrorOffset(ReadOnlySpan<byte> data, long bytes)
    {
        fixed (byte* p = data)
            return MirrorOffset((nint)p, bytes);
    }

    /// <summary>Where <paramref name="bytes"/> bytes at .NET address <paramref name="p"/> sit in the threads' mirror, or −1.</summary>
    private long MirrorOffset(nint p, long bytes)
    {
        int i = Array.BinarySearch(_mirrorStarts, p);
        if (i < 0)
            i = ~i - 1;
        return i >= 0 && (long)(p - _mirrorStarts[i]) + bytes <= _mirrorLengths[i] ? _mirrorOffsets[i] + (p - _mirrorStarts[i]) : -1;
    }

    /// <summary>
    /// The emitted product of <paramref name="type"/> over raw pinned operands (benchmarks):
    /// <c>output[t·outputStride + r] = Dot(w row r, act row t)</c>; false when the type has no emitted kernel.
    /// </summary>
    /// <param name="panels">The weights are in row panels (<see cref="WasmWeightPanels"/>).</param>
    public bool TryMatMul(TensorType type, byte* w, int columns, int rows, byte* act, int tokens, float* output, int outputStride, bool panels = false)
    {
        int fn = panels ? _matMulPanels[(int)type.Type] : _matMul[(int)type.Type];
        if (fn < 0)
            return false;
        MatMul(fn, w, (int)type.RowBytes(columns), columns / type.BlockSize, (int)TensorTypes.Get(type.VecDotType).RowBytes(columns),
            WasmKernelModule.MatMulScratchBytes(type, columns, tokens), rows, act, tokens, output, outputStride);
        return true;
    }

    /// <summary>
    /// <see cref="TryMatMul"/> of Q6_K weights in kernel-layout row panels through their wide form (self-check): widens them
    /// into a pinned buffer with the module's <c>widen_q6_K</c> and runs <see cref="WasmKernelModule.MatMulQ6_KWidePanels"/>;
    /// false when the module has neither (no relaxed SIMD).
    /// </summary>
    public bool TryMatMulQ6_KWide(byte* kernelPanels, int columns, int rows, byte* act, int tokens, float* output, int outputStride)
    {
        if (_matMulQ6_KWide < 0 || _widenQ6_K < 0)
            return false;
        int blocks = columns / 256;
        byte[] wide = GC.AllocateUninitializedArray<byte>(rows * blocks * WasmKernelModule.Q6_KWideBlockBytes + 1, pinned: true);
        fixed (byte* p = wide)
        {
            byte* at = p + 1;   // misaligned, as a matrix's rows may be
            Call3(_widenQ6_K, (int)kernelPanels, (int)at, rows * blocks);
            MatMul(_matMulQ6_KWide, at, blocks * WasmKernelModule.Q6_KWideBlockBytes, blocks, (int)TensorTypes.Get(GgmlType.Q8_K).RowBytes(columns),
                WasmKernelModule.WideQ6_KScratchBytes(columns, tokens), rows, act, tokens, output, outputStride);
        }
        return true;
    }

    private void MatMul(int fn, byte* w, int rowBytes, int k, int actRowBytes, long scratchBytes, int rows, byte* act, int tokens, float* output, int outputStride)
    {
        scratchBytes += 16;
        if (_scratch.Length < scratchBytes)
        {
            _scratch = GC.AllocateUninitializedArray<byte>(checked((int)scratchBytes), pinned: true);
            _buffersVersion++;   // graphs recorded with the old scratch are stale
        }
        fixed (byte* s = _scratch)
        {
            _recording?.Add(CallKind.Call10, fn, 0, [(int)w, rowBytes, rows, (int)act, actRowBytes, tokens, (int)output, outputStride, k, ((int)s + 15) & ~15]);
            Call10(fn, (int)w, rowBytes, rows, (int)act, actRowBytes, tokens, (int)output, outputStride, k, ((int)s + 15) & ~15);
        }
    }

    /// <inheritdoc/>
    public override void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y, int rows)
    {
        fixed (float* px = x)
        fixed (float* pw = weight)
        fixed (float* py = y)
        {
            _recording?.Add(CallKind.RmsNorm, _rmsNorm, 1 << 2, [(int)px, (int)pw, BitConverter.SingleToInt32Bits(epsilon), (int)py, weight.Length, rows]);
            CallRmsNorm(_rmsNorm, (int)px, (int)pw, epsilon, (int)py, weight.Length, rows);
        }
    }

    /// <inheritdoc/>
    public override void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        int grouped = gate.Length & ~3;
        if (grouped > 0)
        {
            fixed (float* g = gate)
            fixed (float* u = up)
                Invoke3(_swiGlu, (int)g, (int)u, grouped);
        }
        if (grouped < gate.Length)
            RunsInCSharp("SwiGLU of a width not a multiple of 4");
        for (int i = grouped; i < gate.Length; i++)
            gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
    }

    /// <inheritdoc/>
    public override void Rope(Rope rope, Span<float> x, int rows, int heads, int headDim, int startPosition)
    {
        if (rows <= 0 || startPosition < 0 || (long)startPosition + rows > rope.Positions || headDim < rope.RotaryDimensions
            || (long)rows * heads * headDim > x.Length)
        {
            RunsInCSharp("RoPE past its table");
            base.Rope(rope, x, rows, heads, headDim, startPosition);   // its checks and errors
            return;
        }
        fixed (float* px = x)
        fixed (float* pt = rope.Table)
        {
            _recording?.Add(CallKind.Call8, _rope, 0, [(int)px, (int)pt, rows, heads, headDim, startPosition, rope.RotaryDimensions, rope.IsNeox ? 1 : 0]);
            Call8(_rope, (int)px, (int)pt, rows, heads, headDim, startPosition, rope.RotaryDimensions, rope.IsNeox ? 1 : 0);
        }
    }

    /// <inheritdoc/>
    public override void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        fixed (float* px = x)
        fixed (float* py = y)
            Invoke3(_add, (int)px, (int)py, x.Length);
    }

    /// <inheritdoc/>
    public override void Copy(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            base.Copy(source, destination);   // its error
            return;
        }
        if (source.IsEmpty)
            return;
        fixed (float* ps = source)
        fixed (float* pd = destination)
            Invoke3(_copy, (int)pd, (int)ps, source.Length);
    }

    /// <inheritdoc/>
    public override int ArgMax(ReadOnlySpan<float> values)
    {
        RunsInCSharp("argmax (its result goes back to C#)");
        if (values.IsEmpty)
            return base.ArgMax(values);
        fixed (float* p = values)
            return CallArgMax(_argMax, (int)p, values.Length);
    }

    /// <inheritdoc/>
    public override void Attention(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape shape, int headStart, int headEnd)
    {
        if (shape.HeadDim % 4 != 0)
        {
            RunsInCSharp("attention with a head size not a multiple of 4");
            base.Attention(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
            return;
        }
        // the kernel writes scores [heads, context] and, for a decode step, sums [heads, headDim] at these addresses
        if (scores.Length < (long)shape.Heads * shape.ContextLength || accumulators.Length < (long)shape.Heads * shape.HeadDim)
            throw new ArgumentException($"The attention scratch is too short for {shape}.");
        fixed (float* pq = q)
        fixed (float* pk = keys)
        fixed (float* pv = values)
        fixed (float* po = output)
        fixed (float* ps = scores)
        fixed (double* pa = accumulators)
        {
            // With threads, tinylm-worker.js splits the heads of a call with enough work across them, on
            // its mirrors of the KV caches in the shared memory (decided per call, so also in a replayed graph).
            // The accumulators array is pinned (Blocks.AttentionAccumulators), so a recorded graph may keep its address.
            _recording?.Add(CallKind.Attention, _attention, 1 << 11, [(int)pq, (int)pk, (int)pv, (int)po, (int)ps, (int)pa, shape.Tokens, shape.Start,
                shape.Heads, shape.KVHeads, shape.HeadDim, BitConverter.SingleToInt32Bits(shape.Scale), shape.ContextLength, headStart, headEnd]);
            CallAttention(_attention, (int)pq, (int)pk, (int)pv, (int)po, (int)ps, (int)pa, shape.Tokens, shape.Start, shape.Heads, shape.KVHeads,
                shape.HeadDim, shape.Scale, shape.ContextLength, headStart, headEnd);
        }
    }

    // ---- kernel graphs (IKernelGraphHost): a decode step recorded once, replayed by tinylm-worker.js ----

    // The tinylm-worker.js helper that runs a recorded call (its order in runGraph's table).
    private static class CallKind
    {
        public const int Call3 = 0, Call8 = 1, Call10 = 2, RmsNorm = 3, Attention = 4, ParallelMatMul = 5, ParallelMatMulGroup = 6;
    }

    private KernelRecording? _recording;
    private int _buffersVersion;                                  // bumped when a buffer that calls use is replaced
    private readonly Dictionary<int, int> _graphVersions = [];    // installed graph → _buffersVersion it was recorded at

    private void Invoke3(int fn, int a, int b, int c)
    {
        _recording?.Add(CallKind.Call3, fn, 0, [a, b, c]);
        Call3(fn, a, b, c);
    }

    // Work that runs here in C#: a step recorded around it cannot be replayed.
    private void RunsInCSharp(string what) => _recording?.Taint($"{what} runs in C#");

    /// <summary>True unless the load turned decode graphs off (tinylm.js <c>decodeGraph</c>).</summary>
    public bool GraphsEnabled { get; }

    /// <inheritdoc/>
    public void BeginRecording() => _recording = new KernelRecording();

    /// <inheritdoc/>
    public KernelRecording EndRecording()
    {
        KernelRecording recording = _recording ?? throw new InvalidOperationException("No kernel recording was started.");
        _recording = null;
        if (recording.TaintReason is { } why)   // the session then runs every step (the console says why)
            Console.WriteLine($"TinyLM: decode steps are not replayed as a kernel graph: {why}.");
        return recording;
    }

    /// <inheritdoc/>
    public int InstallGraph(KernelGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int handle = InstallGraphJS(graph.Words, graph.Deltas);
        _graphVersions[handle] = _buffersVersion;
        return handle;
    }

    /// <inheritdoc/>
    public bool RunGraph(int handle, int positionOffset)
    {
        if (!_graphVersions.TryGetValue(handle, out int version) || version != _buffersVersion)
            return false;
        RunGraphJS(handle, positionOffset);
        return true;
    }

    /// <inheritdoc/>
    public void ReleaseGraph(int handle)
    {
        if (_graphVersions.Remove(handle))
            ReleaseGraphJS(handle);
    }

    [JSImport("installGraph", JSModule)]
    private static partial int InstallGraphJS(int[] words, int[] deltas);

    [JSImport("runGraph", JSModule)]
    private static partial void RunGraphJS(int handle, int positionOffset);

    [JSImport("releaseGraph", JSModule)]
    private static partial void ReleaseGraphJS(int handle);

    /// <summary>Compiles and instantiates the module against the runtime's memory; returns "" or the error.</summary>
    [JSImport("relaxedSimd", JSModule)]
    private static partial bool RelaxedSimdEnabled();

    [JSImport("rowPanels", JSModule)]
    private static partial bool RowPanelsEnabled();

    [JSImport("decodeGraph", JSModule)]
    private static partial bool DecodeGraphEnabled();

    [JSImport("widenQ5_0", JSModule)]
    private static partial bool WidenQ5_0Enabled();

    [JSImport("widenQ6_K", JSModule)]
    private static partial bool WidenQ6_KEnabled();

    [JSImport("widenTQ1_0", JSModule)]
    private static partial bool WidenTQ1_0Enabled();

    [JSImport("compile", JSModule)]
    private static partial string Compile(byte[] module, string exports);

    /// <summary>
    /// Creates the shared memory, copies the runs of bytes <paramref name="segments"/> names (.NET address,
    /// length, …) into it one after another (each from a 64-byte boundary), instantiates
    /// <paramref name="module"/> on it here and in the helper workers; returns "" or the error.
    /// </summary>
    [JSImport("startThreads", JSModule)]
    private static partial string StartThreads(byte[] module, string exports, int[] segments, int threads);

    /// <summary>
    /// The matrix product <c>fn</c> on the shared memory, rows split across the threads: weights at
    /// <paramref name="weightOffset"/> in the mirror; activations and outputs are .NET addresses.
    /// </summary>
    [JSImport("parallelMatMul", JSModule)]
    private static partial void ParallelMatMul(int fn, int weightOffset, int rowBytes, int rows, int act, int actRowBytes, int tokens,
        int output, int outputStride, int blocks, int scratchBytes);

    /// <summary>
    /// <paramref name="count"/> products with the same activations as one job on the shared memory (<see cref="TryMatMulGroup"/>);
    /// per matrix: export, mirror offset, row bytes, rows, output (.NET address), output stride, blocks, scratch bytes (zeros past the count).
    /// </summary>
    [JSImport("parallelMatMulGroup", JSModule)]
    private static partial void ParallelMatMulGroup(int count, int act, int actRowBytes, int tokens,
        int fn0, int offset0, int rowBytes0, int rows0, int output0, int stride0, int blocks0, int scratch0,
        int fn1, int offset1, int rowBytes1, int rows1, int output1, int stride1, int blocks1, int scratch1,
        int fn2, int offset2, int rowBytes2, int rows2, int output2, int stride2, int blocks2, int scratch2);

    [JSImport("call3", JSModule)]
    private static partial void Call3(int fn, int a, int b, int c);

    [JSImport("argMax", JSModule)]
    private static partial int CallArgMax(int fn, int p, int n);

    [JSImport("call8", JSModule)]
    private static partial void Call8(int fn, int a, int b, int c, int d, int e, int f, int g, int h);

    [JSImport("call10", JSModule)]
    private static partial void Call10(int fn, int a, int b, int c, int d, int e, int f, int g, int h, int i, int j);

    [JSImport("rmsNorm", JSModule)]
    private static partial void CallRmsNorm(int fn, int x, int weight, float epsilon, int y, int n, int rows);

    [JSImport("attention", JSModule)]
    private static partial void CallAttention(int fn, int q, int keys, int values, int output, int scores, int accumulators, int tokens,
        int start, int heads, int kvHeads, int headDim, float scale, int context, int headStart, int headEnd);
}
