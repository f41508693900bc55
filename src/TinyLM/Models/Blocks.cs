using System.Numerics;
using TinyLM.Kernels;
using TinyLM.Quantization;

namespace TinyLM.Models;

/// <summary>
/// Building blocks shared by the architectures, named after llama.cpp's graph builders
/// (src/llama-graph.cpp: <c>build_norm</c>, <c>build_attn</c>, <c>build_ffn</c>): linear layers over a
/// batch of token rows with the activations converted once per vec-dot type, causal multi-head
/// attention with grouped-query KV heads over the KV cache, SwiGLU, residual adds.
/// </summary>
internal static class Blocks
{
    /// <summary>
    /// <c>y[t, r] = Σ_c W[r, c] · x[t, c]</c> (+ <paramref name="bias"/>[r]) for the token rows
    /// held by <paramref name="x"/>, with x converted to the matrix's vec-dot type as ggml's
    /// <c>ggml_compute_forward_mul_mat</c> does (e.g. Q8_0 for Q4_0 weights).
    /// </summary>
    /// <param name="s">Session scratch (thread pool, reusable job).</param>
    /// <param name="w">Weights [rows, cols].</param>
    /// <param name="x">Activations [tokens, cols].</param>
    /// <param name="y">Output [tokens, rows].</param>
    /// <param name="bias">Optional bias [rows].</param>
    public static void Linear(ForwardScratch s, WeightMatrix w, ActivationRows x, float[] y, float[]? bias = null)
    {
        byte[] act = x.Get(w.Type.VecDotType);
        MatMulJob job = s.MatMul;
        job.Kernels = s.Kernels;
        job.Weights = w;
        job.Activations = act;
        job.Tokens = x.Tokens;
        job.Output = y;
        // Below about 64K multiply-adds, waking the workers costs more than it saves.
        if ((long)w.Rows * w.Columns * x.Tokens < 1 << 16)
            job.Execute(0, w.Rows);
        else
            s.Pool.Run(job, w.Rows, granularity: 8); // whole eight-row panels per chunk
        job.Weights = null;
        if (bias is not null)
            for (int t = 0; t < x.Tokens; t++)
                s.Kernels.Add(y.AsSpan(t * w.Rows, w.Rows), bias);
    }

    /// <summary>
    /// Causal attention over the KV cache for a batch of <paramref name="tokens"/> query rows at
    /// positions <c>start ..</c>, split over heads across the session's threads
    /// (<see cref="ComputeKernels.Attention"/>).
    /// </summary>
    public static void Attention(ForwardScratch s, float[] q, float[] keyCache, float[] valueCache, float[] output,
        int tokens, int start, int heads, int kvHeads, int headDim, float scale)
    {
        AttentionJob job = s.Attention;
        job.Kernels = s.Kernels;
        job.Q = q;
        job.Keys = keyCache;
        job.Values = valueCache;
        job.Output = output;
        job.Scores = s.Scores;
        job.Accumulators = s.AttentionAccumulators(heads * headDim);
        job.Shape = new AttentionShape(tokens, start, heads, kvHeads, headDim, scale, s.Scores.Length / heads);
        if (tokens * (start + tokens) * heads * headDim < 1 << 14)
            job.Execute(0, heads);
        else
            s.Pool.Run(job, heads);
    }

    internal sealed class MatMulJob : IParallelWork
    {
        public ComputeKernels Kernels = ComputeKernels.Managed;
        public WeightMatrix? Weights;
        public byte[] Activations = [];
        public int Tokens;
        public float[] Output = [];

        public void Execute(int start, int end)
        {
            WeightMatrix w = Weights!;
            Kernels.MatMul(w, start, end - start, Activations, Tokens, Output, w.Rows);
        }
    }

    internal sealed class AttentionJob : IParallelWork
    {
        public ComputeKernels Kernels = ComputeKernels.Managed;
        public float[] Q = [], Keys = [], Values = [], Output = [], Scores = [];
        public double[] Accumulators = [];
        public AttentionShape Shape;

        public void Execute(int startHead, int endHead) =>
            Kernels.Attention(Q, Keys, Values, Output, Scores, Accumulators, Shape, startHead, endHead);
    }
}

/// <summary>
/// A batch of activation rows <c>[Tokens, Columns]</c> in float and, lazily, converted to each
/// vec-dot type that a following matrix product needs — converted once, reused by every matrix
/// that shares the input (Q, K and V; gate and up).
/// </summary>
internal sealed class ActivationRows
{
    private readonly byte[]?[] _converted;
    private readonly bool[] _valid;
    private readonly ComputeKernels _kernels;
    private float[] _source = [];

    /// <summary>Sizes one pinned buffer per vec-dot type for the widest input of the matrices that use it.</summary>
    public ActivationRows(int maxTokens, IEnumerable<WeightMatrix> matrices, ComputeKernels kernels)
    {
        _kernels = kernels;
        int count = Enum.GetValues<GgmlType>().Max(t => (int)t) + 1;
        _converted = new byte[count][];
        _valid = new bool[count];
        foreach (var group in matrices.GroupBy(w => w.Type.VecDotType))
            _converted[(int)group.Key] = GC.AllocateArray<byte>(checked((int)(maxTokens * TensorTypes.Get(group.Key).RowBytes(group.Max(w => w.Columns)))), pinned: true);
    }

    public int Tokens { get; private set; }

    public int Columns { get; private set; }

    /// <summary>Points at new float rows; previous conversions become stale.</summary>
    public ActivationRows Set(float[] source, int tokens, int columns)
    {
        _source = source;
        Tokens = tokens;
        Columns = columns;
        Array.Clear(_valid);
        return this;
    }

    /// <summary>The rows converted to <paramref name="type"/> (row stride <c>RowBytes(Columns)</c>).</summary>
    public byte[] Get(GgmlType type)
    {
        byte[] buffer = _converted[(int)type] ?? throw new InvalidOperationException($"No activation buffer for {type}.");
        if (!_valid[(int)type])
        {
            TensorType tt = TensorTypes.Get(type);
            _kernels.Quantize(tt, _source.AsSpan(0, Tokens * Columns), buffer.AsSpan(0, Tokens * (int)tt.RowBytes(Columns)), Tokens, Columns);
            _valid[(int)type] = true;
        }
        return buffer;
    }
}

/// <summary>Per-session scratch shared by the blocks: kernels, thread pool, reusable jobs, attention scores.</summary>
internal sealed class ForwardScratch
{
    public ForwardScratch(WorkerPool pool, ComputeKernels kernels, int heads, int contextLength)
    {
        Pool = pool;
        Kernels = kernels;
        Scores = GC.AllocateArray<float>(checked(heads * contextLength), pinned: true);
    }

    public WorkerPool Pool { get; }

    public ComputeKernels Kernels { get; }

    public float[] Scores { get; }

    private double[] _accumulators = [];

    /// <summary>Per-head double accumulators for the attention output, [heads, headDim].</summary>
    public double[] AttentionAccumulators(int length) =>
        _accumulators.Length >= length ? _accumulators : _accumulators = GC.AllocateArray<double>(length, pinned: true);

    public Blocks.MatMulJob MatMul { get; } = new();

    public Blocks.AttentionJob Attention { get; } = new();
}
