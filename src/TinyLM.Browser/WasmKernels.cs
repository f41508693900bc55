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
[SupportedOSPlatform("browser")]
internal sealed unsafe partial class WasmKernels : ComputeKernels
{
    private const string JSModule = "tinylm-kernels";

    private readonly int[] _matMul;
    private readonly int _quantizeQ8_0, _quantizeQ8_K, _rmsNorm, _attention, _swiGlu, _add, _argMax;
    private byte[] _scratch = [];   // the matrix products' prepared activations (pinned; the page has one thread)

    private WasmKernels(WasmKernelModule module)
    {
        _matMul = new int[Enum.GetValues<GgmlType>().Max(t => (int)t) + 1];
        Array.Fill(_matMul, -1);
        foreach (TensorType t in TensorTypes.All)
            if (WasmKernelModule.SupportsMatMul(t))
                _matMul[(int)t.Type] = module.IndexOf(WasmKernelModule.MatMulExport(t));
        _quantizeQ8_0 = module.IndexOf(WasmKernelModule.QuantizeQ8_0);
        _quantizeQ8_K = module.IndexOf(WasmKernelModule.QuantizeQ8_K);
        _rmsNorm = module.IndexOf(WasmKernelModule.RmsNormExport);
        _attention = module.IndexOf(WasmKernelModule.AttentionExport);
        _swiGlu = module.IndexOf(WasmKernelModule.SwiGluExport);
        _add = module.IndexOf(WasmKernelModule.AddExport);
        _argMax = module.IndexOf(WasmKernelModule.ArgMaxExport);
    }

    /// <inheritdoc/>
    public override string Name => "wasm";

    /// <summary>Emits the kernels for <paramref name="model"/>'s tensor types and has JavaScript instantiate them.</summary>
    /// <exception cref="InvalidOperationException">The worker could not compile or instantiate the module.</exception>
    public static WasmKernels Create(Model model) =>
        Create(model.File.Tensors.Select(t => TensorTypes.TryGet(t.Type, out TensorType? tt) ? tt : null).OfType<TensorType>());

    /// <summary>Emits the kernels for weights of <paramref name="types"/> and has JavaScript instantiate them.</summary>
    /// <exception cref="InvalidOperationException">The worker could not compile or instantiate the module.</exception>
    public static WasmKernels Create(IEnumerable<TensorType> types)
    {
        WasmKernelModule module = WasmKernelModule.Build(types);
        string error = Compile(module.Bytes, string.Join(',', module.Exports));
        if (error.Length > 0)
            throw new InvalidOperationException($"The emitted WebAssembly kernels could not be instantiated: {error}");
        return new WasmKernels(module);
    }

    /// <inheritdoc/>
    public override void Quantize(TensorType type, ReadOnlySpan<float> source, Span<byte> destination, int rows, int columns)
    {
        int fn = type.Type == GgmlType.Q8_0 ? _quantizeQ8_0 : type.Type == GgmlType.Q8_K ? _quantizeQ8_K : -1;
        if (fn < 0 || columns % type.BlockSize != 0 || rows * columns == 0)
        {
            base.Quantize(type, source, destination, rows, columns);
            return;
        }
        fixed (float* s = source)
        fixed (byte* d = destination)
            Call3(fn, (int)s, (int)d, rows * columns / type.BlockSize);
    }

    /// <inheritdoc/>
    public override void MatMul(WeightMatrix weights, int rowStart, int rowCount, ReadOnlySpan<byte> activations, int tokens,
        Span<float> output, int outputStride)
    {
        TensorType type = weights.Type;
        int fn = _matMul[(int)type.Type];
        if (fn < 0 || rowCount <= 0 || tokens <= 0)
        {
            base.MatMul(weights, rowStart, rowCount, activations, tokens, output, outputStride);
            return;
        }
        fixed (byte* w = weights.Data)
        fixed (byte* a = activations)
        fixed (float* o = output)
            MatMul(fn, type, w + (long)rowStart * weights.RowBytes, weights.Columns, rowCount, a, tokens, o + rowStart, outputStride);
    }

    /// <summary>
    /// The emitted product of <paramref name="type"/> over raw pinned operands (benchmarks):
    /// <c>output[t·outputStride + r] = Dot(w row r, act row t)</c>; false when the type has no emitted kernel.
    /// </summary>
    public bool TryMatMul(TensorType type, byte* w, int columns, int rows, byte* act, int tokens, float* output, int outputStride)
    {
        int fn = _matMul[(int)type.Type];
        if (fn < 0)
            return false;
        MatMul(fn, type, w, columns, rows, act, tokens, output, outputStride);
        return true;
    }

    private void MatMul(int fn, TensorType type, byte* w, int columns, int rows, byte* act, int tokens, float* output, int outputStride)
    {
        int k = columns / type.BlockSize;
        int rowBytes = (int)type.RowBytes(columns);
        int actRowBytes = (int)TensorTypes.Get(type.VecDotType).RowBytes(columns);
        long scratchBytes = WasmKernelModule.MatMulScratchBytes(type, columns, tokens) + 16;
        if (_scratch.Length < scratchBytes)
            _scratch = GC.AllocateUninitializedArray<byte>(checked((int)scratchBytes), pinned: true);
        fixed (byte* s = _scratch)
            Call10(fn, (int)w, rowBytes, rows, (int)act, actRowBytes, tokens, (int)output, outputStride, k, ((int)s + 15) & ~15);
    }

    /// <inheritdoc/>
    public override void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y, int rows)
    {
        fixed (float* px = x)
        fixed (float* pw = weight)
        fixed (float* py = y)
            CallRmsNorm(_rmsNorm, (int)px, (int)pw, epsilon, (int)py, weight.Length, rows);
    }

    /// <inheritdoc/>
    public override void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        int grouped = gate.Length & ~3;
        if (grouped > 0)
        {
            fixed (float* g = gate)
            fixed (float* u = up)
                Call3(_swiGlu, (int)g, (int)u, grouped);
        }
        for (int i = grouped; i < gate.Length; i++)
            gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
    }

    /// <inheritdoc/>
    public override void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        fixed (float* px = x)
        fixed (float* py = y)
            Call3(_add, (int)px, (int)py, x.Length);
    }

    /// <inheritdoc/>
    public override int ArgMax(ReadOnlySpan<float> values)
    {
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
            base.Attention(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
            return;
        }
        fixed (float* pq = q)
        fixed (float* pk = keys)
        fixed (float* pv = values)
        fixed (float* po = output)
        fixed (float* ps = scores)
            CallAttention(_attention, (int)pq, (int)pk, (int)pv, (int)po, (int)ps, shape.Tokens, shape.Start, shape.Heads, shape.KVHeads,
                shape.HeadDim, shape.Scale, shape.ContextLength, headStart, headEnd);
    }

    /// <summary>Compiles and instantiates the module against the runtime's memory; returns "" or the error.</summary>
    [JSImport("compile", JSModule)]
    private static partial string Compile(byte[] module, string exports);

    [JSImport("call3", JSModule)]
    private static partial void Call3(int fn, int a, int b, int c);

    [JSImport("argMax", JSModule)]
    private static partial int CallArgMax(int fn, int p, int n);

    [JSImport("call10", JSModule)]
    private static partial void Call10(int fn, int a, int b, int c, int d, int e, int f, int g, int h, int i, int j);

    [JSImport("rmsNorm", JSModule)]
    private static partial void CallRmsNorm(int fn, int x, int weight, float epsilon, int y, int n, int rows);

    [JSImport("attention", JSModule)]
    private static partial void CallAttention(int fn, int q, int keys, int values, int output, int scores, int tokens, int start,
        int heads, int kvHeads, int headDim, float scale, int context, int headStart, int headEnd);
}
