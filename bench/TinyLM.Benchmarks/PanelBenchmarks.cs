using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Benchmarks;

/// <summary>
/// The native engine's path for every quantized weight type (Q4_0, Q4_1, Q5_1, Q8_0, IQ4_NL, Q2_K … Q6_K, TQ1_0, TQ2_0 here): a 2048 × 2048 matrix repacked into
/// eight-row panels at load (<see cref="RepackedWeights"/>; the K-quants in <see cref="KQuantPanels"/>' layouts), multiplied through <see cref="ComputeKernels.MatMul"/> by one
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

    [Params("q8_0", "q4_0", "q4_1", "q5_1", "iq4_nl", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "tq1_0", "tq2_0")]
    public string Type { get; set; } = "q4_0";

    [Params(1, 64)]
    public int Tokens { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        TensorType t = BenchData.Type(Type);
        var rng = new Random(3);
        _weights = BenchData.Weights(t, Rows, Cols, rng);
        _pin = GCHandle.Alloc(_weights, GCHandleType.Pinned);
        _matrix = new WeightMatrix("bench", t, (byte*)_pin.AddrOfPinnedObject(), Rows, Cols);
        _matrix.Repack();
        if (_matrix.Repacked is null)
            throw new NotSupportedException($"{Type} has no panel layout on this CPU (needs AVX2; Q8_0 and IQ4_NL also AVX-VNNI).");
        _activations = BenchData.Activations(t, Tokens, Cols, rng);
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
