using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using TinyLM.Quantization;

namespace TinyLM.Benchmarks;

/// <summary>
/// One matrix × vector product (decode) per tensor type, on one thread, for a 2048 × 2048 matrix
/// in the file's layout (<see cref="TensorType.MatMul"/>; <see cref="PanelBenchmarks"/> measures the
/// panel layout that the engine runs Q4_0 and Q8_0 on natively)
/// (the TinyLlama-1.1B attention shape; 4 MiB to 16 MiB of weights, beyond L2): the "GB/s" column is
/// weight bytes read per second, the figure that bounds decode speed.
/// </summary>
[Config(typeof(Config))]
public class MatVecBenchmarks
{
    private byte[] _weights = [], _activation = [];
    private float[] _output = [];
    private TensorType _type = null!;

    [Params("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q6_K")]
    public string Type { get; set; } = "q4_0";

    public const int Rows = 2048, Cols = 2048;

    [GlobalSetup]
    public void Setup()
    {
        _type = BenchData.Type(Type);
        var rng = new Random(1);
        _weights = BenchData.Weights(_type, Rows, Cols, rng);
        _activation = BenchData.Activations(_type, 1, Cols, rng);
        _output = new float[Rows];
    }

    [Benchmark]
    public void MatVec() => _type.MatMul(_weights, 0, Rows, Cols, _activation, 1, _output, Rows);

    /// <summary>Bytes of weights per operation, for the GB/s column.</summary>
    public long WeightBytes => _weights.Length;

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new ThroughputColumn());
            SummaryStyle = SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend);
        }
    }

    /// <summary>GB/s of weights: weight bytes divided by the mean time.</summary>
    private sealed class ThroughputColumn : IColumn
    {
        public string Id => "GBps";
        public string ColumnName => "GB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Weight bytes read per second (10^9)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is null)
                return "-";
            string type = (string)benchmarkCase.Parameters["Type"];
            TensorTypes.TryParse(type, out TensorType? t);
            double bytes = t!.RowBytes(Cols) * (double)Rows;
            return (bytes / report.ResultStatistics.Mean).ToString("0.00");
        }
    }
}

/// <summary>
/// Prompt processing: a 2048 × 2048 matrix times 64 activation rows (matrix-matrix), one thread, the
/// file's layout (Q4_0, Q5_0, Q8_0 pack eight-row panels per call); GFLOP/s = 2 · rows · cols · tokens ÷ time.
/// </summary>
public class MatMulBenchmarks
{
    private byte[] _weights = [], _activations = [];
    private float[] _output = [];
    private TensorType _type = null!;
    private const int Rows = 2048, Cols = 2048, Tokens = 64;

    [Params("f32", "f16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q6_K")]
    public string Type { get; set; } = "q4_0";

    [GlobalSetup]
    public void Setup()
    {
        _type = BenchData.Type(Type);
        var rng = new Random(2);
        _weights = BenchData.Weights(_type, Rows, Cols, rng);
        _activations = BenchData.Activations(_type, Tokens, Cols, rng);
        _output = new float[Rows * Tokens];
    }

    /// <summary>One 2048×2048×64 product: 0.537 GFLOP.</summary>
    [Benchmark(OperationsPerInvoke = 1)]
    public void MatMul() => _type.MatMul(_weights, 0, Rows, Cols, _activations, Tokens, _output, Rows);
}

/// <summary>Uniform random weights in [−1, 1) quantized by the type's reference, and activations in its vec-dot type.</summary>
internal static class BenchData
{
    public static TensorType Type(string name) =>
        TensorTypes.TryParse(name, out TensorType? t) ? t : throw new ArgumentException($"Unknown tensor type '{name}'.", nameof(name));

    public static byte[] Weights(TensorType type, int rows, int cols, Random rng) => QuantizedRows(type, rows, cols, rng);

    public static byte[] Activations(TensorType weightType, int tokens, int cols, Random rng) =>
        QuantizedRows(TensorTypes.Get(weightType.VecDotType), tokens, cols, rng);

    private static byte[] QuantizedRows(TensorType type, int rows, int cols, Random rng)
    {
        var row = new float[cols];
        int rowBytes = (int)type.RowBytes(cols);
        var data = new byte[rowBytes * rows];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++) row[c] = (float)(rng.NextDouble() * 2 - 1);
            type.QuantizeReference(row, data.AsSpan(r * rowBytes, rowBytes));
        }
        return data;
    }
}
