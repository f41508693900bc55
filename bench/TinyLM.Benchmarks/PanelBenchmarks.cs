using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Benchmarks;

/// <summary>
/// The native engine's path for Q4_0 and Q8_0: a 2048 × 2048 matrix repacked into eight-row panels at
/// load (<see cref="PanelWeights"/>), multiplied through <see cref="ComputeKernels.MatMul"/> by one
/// activation row (decode) and by 64 (prefill), one thread. Compare with <see cref="MatVecBenchmarks"/>
/// and <see cref="MatMulBenchmarks"/>, which read the file's layout.
/// </summary>
public unsafe class PanelBenchmarks : IDisposable
{
    private const int Rows = 2048, Cols = 2048;
    private byte[] _weights = [], _activations = [];
    private float[] _output = [];
    private GCHandle _pin;
    private WeightMatrix _matrix = null!;

    [Params("q8_0", "q4_0")]
    public string Type { get; set; } = "q4_0";

    [Params(1, 64)]
    public int Tokens { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        TensorTypes.TryParse(Type, out TensorType? t);
        var rng = new Random(3);
        var row = new float[Cols];
        int rowBytes = (int)t!.RowBytes(Cols);
        _weights = new byte[rowBytes * Rows];
        for (int r = 0; r < Rows; r++)
        {
            for (int c = 0; c < Cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
            t.QuantizeReference(row, _weights.AsSpan(r * rowBytes, rowBytes));
        }
        _pin = GCHandle.Alloc(_weights, GCHandleType.Pinned);
        _matrix = new WeightMatrix("bench", t, (byte*)_pin.AddrOfPinnedObject(), Rows, Cols);
        _matrix.PackPanels();
        if (_matrix.Panels is null)
            throw new NotSupportedException($"{Type} has no panel layout on this CPU (needs AVX2; Q8_0 also AVX-VNNI).");
        TensorType act = TensorTypes.Get(t.VecDotType);
        int actBytes = (int)act.RowBytes(Cols);
        _activations = new byte[actBytes * Tokens];
        for (int k = 0; k < Tokens; k++)
        {
            for (int c = 0; c < Cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
            act.Quantize(row, _activations.AsSpan(k * actBytes, actBytes));
        }
        _output = new float[Rows * Tokens];
    }

    [Benchmark]
    public void MatMul() => ComputeKernels.Managed.MatMul(_matrix, 0, Rows, _activations, Tokens, _output, Rows);

    [GlobalCleanup]
    public void Dispose()
    {
        if (_pin.IsAllocated)
            _pin.Free();
        GC.SuppressFinalize(this);
    }
}
