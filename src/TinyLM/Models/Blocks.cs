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
        RunMatMul(s, x.Get(w.Type.VecDotType), x.Tokens, w, y);
        AddBias(s, y, bias, w.Rows, x.Tokens);
    }

    /// <summary>
    /// One to three matrix products over the same activations (<paramref name="w1"/>, <paramref name="w2"/>
    /// null: fewer) as one job on the session's threads: their rows form one index space, so the
    /// workers are woken once for the group (Q, K, V; gate, up) instead of once per matrix.
    /// </summary>
    private static void RunMatMul(ForwardScratch s, byte[] activations, int tokens,
        WeightMatrix w0, float[] y0, WeightMatrix? w1 = null, float[]? y1 = null, WeightMatrix? w2 = null, float[]? y2 = null)
    {
        MatMulJob job = s.MatMul;
        job.Kernels = s.Kernels;
        job.Activations = activations;
        job.Tokens = tokens;
        job.Set(0, w0, y0);
        job.Set(1, w1, y1);
        job.Set(2, w2, y2);
        int rows = job.Rows;
        // Below about 64K multiply-adds, waking the workers costs more than it saves.
        if ((long)rows * w0.Columns * tokens < 1 << 16)
            job.Execute(0, rows);
        else
            // Whole panels per chunk where the matrices' rows allow. Decoding, one chunk per thread: each
            // thread streams one contiguous run of the weights (stories110M Q4_K_M, two threads: 465–490 →
            // 669–710 tokens/s against four chunks per thread); a batch keeps more chunks for balance.
            s.Pool.Run(job, rows, granularity: job.PanelRows, chunksPerThread: tokens == 1 ? 1 : WorkerPool.ChunksPerThread);
        job.Clear();
    }

    /// <summary>
    /// <see cref="Linear"/> of two or three matrices over the same activations (<paramref name="w2"/> null: two), as one
    /// group when the kernels can (<see cref="ComputeKernels.TryMatMulGroup"/>: the page's threads then hand off once),
    /// else, when they share an activation type, as one job over their rows on the session's threads (natively: one
    /// wake-up of the workers per group), else one after another. Same results every way.
    /// </summary>
    public static void LinearGroup(ForwardScratch s, ActivationRows x, WeightMatrix w0, float[] y0, float[]? b0,
        WeightMatrix w1, float[] y1, float[]? b1, WeightMatrix? w2 = null, float[]? y2 = null, float[]? b2 = null)
    {
        GgmlType actType = w0.Type.VecDotType;
        if (w1.Type.VecDotType == actType && (w2 is null || w2.Type.VecDotType == actType))
        {
            int count = w2 is null ? 2 : 3;
            WeightMatrix[] weights = s.GroupWeights;
            float[][] outputs = s.GroupOutputs;
            (weights[0], weights[1], weights[2]) = (w0, w1, w2!);
            (outputs[0], outputs[1], outputs[2]) = (y0, y1, y2!);
            bool done = s.Kernels.TryMatMulGroup(weights.AsSpan(0, count), x.Get(actType), x.Tokens, outputs);
            Array.Clear(weights);
            Array.Clear(outputs);
            // Otherwise one job over the group's rows on the session's threads.
            if (!done)
                RunMatMul(s, x.Get(actType), x.Tokens, w0, y0, w1, y1, w2, y2);
            AddBias(s, y0, b0, w0.Rows, x.Tokens);
            AddBias(s, y1, b1, w1.Rows, x.Tokens);
            if (w2 is not null)
                AddBias(s, y2!, b2, w2.Rows, x.Tokens);
            return;
        }
        Linear(s, w0, x, y0, b0);
        Linear(s, w1, x, y1, b1);
        if (w2 is not null)
            Linear(s, w2, x, y2!, b2);
    }

    /// <summary>Adds <paramref name="bias"/> [rows] to each of the <paramref name="tokens"/> rows of <paramref name="y"/> (nothing when null).</summary>
    private static void AddBias(ForwardScratch s, float[] y, float[]? bias, int rows, int tokens)
    {
        if (bias is not null)
            for (int t = 0; t < tokens; t++)
                s.Kernels.Add(y.AsSpan(t * rows, rows), bias);
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
            // Decoding, one run of heads per thread (with GQA, mostly its own KV heads): two threads,
            // SmolLM-135M and stories110M Q4_0, faster than four chunks per thread in eight of nine alternated pairs.
            s.Pool.Run(job, heads, chunksPerThread: tokens == 1 ? 1 : WorkerPool.ChunksPerThread);
    }

    /// <summary>
    /// Below this many elements, an operation on a batch's rows runs on the calling thread: waking
    /// the workers costs more than it saves.
    /// </summary>
    private const int ParallelRowElements = 1 << 14;

    /// <summary>Whether a row operation over <paramref name="rows"/> rows of <paramref name="elements"/> floats in all stays on the calling thread.</summary>
    private static bool OnCaller(ForwardScratch s, int rows, int elements) =>
        rows < 2 || s.Pool.ThreadCount == 1 || elements < ParallelRowElements;

    /// <summary>RMSNorm of <paramref name="rows"/> rows of <paramref name="x"/> from row <paramref name="firstRow"/> into <paramref name="y"/>, split over token rows.</summary>
    public static void RmsNorm(ForwardScratch s, float[] x, int firstRow, float[] weight, float epsilon, float[] y, int rows)
    {
        int n = weight.Length;
        if (OnCaller(s, rows, rows * n))
        {
            s.Kernels.RmsNorm(x.AsSpan(firstRow * n, rows * n), weight, epsilon, y, rows);
            return;
        }
        RowsJob job = s.Rows;
        job.Set(RowsJob.Operation.RmsNorm, s.Kernels, x, firstRow, y, n);
        job.Weight = weight;
        job.Epsilon = epsilon;
        s.Pool.Run(job, rows);
        job.Clear();
    }

    /// <summary>SwiGLU of <paramref name="rows"/> rows of width <paramref name="width"/> (gate in place), split over token rows when the width is a multiple of four.</summary>
    public static void SwiGlu(ForwardScratch s, float[] gate, float[] up, int rows, int width)
    {
        // Splitting keeps every element in or out of ggml's groups of four only when rows start on a group.
        if (OnCaller(s, rows, rows * width) || width % 4 != 0)
        {
            s.Kernels.SwiGlu(gate.AsSpan(0, rows * width), up.AsSpan(0, rows * width));
            return;
        }
        RowsJob job = s.Rows;
        job.Set(RowsJob.Operation.SwiGlu, s.Kernels, gate, 0, up, width);
        s.Pool.Run(job, rows);
        job.Clear();
    }

    /// <summary>Converts <paramref name="rows"/> float rows to <paramref name="type"/>, split over token rows.</summary>
    public static void Quantize(ForwardScratch s, TensorType type, float[] source, byte[] destination, int rows, int columns)
    {
        if (OnCaller(s, rows, rows * columns))
        {
            s.Kernels.Quantize(type, source.AsSpan(0, rows * columns), destination.AsSpan(0, rows * (int)type.RowBytes(columns)), rows, columns);
            return;
        }
        RowsJob job = s.Rows;
        job.Set(RowsJob.Operation.Quantize, s.Kernels, source, 0, [], columns);
        job.Type = type;
        job.Bytes = destination;
        s.Pool.Run(job, rows);
        job.Clear();
    }

    /// <summary>A row-wise operation of a batch (norm, activation conversion, SwiGLU) over token rows <c>[start, end)</c>.</summary>
    internal sealed class RowsJob : IParallelWork
    {
        public enum Operation { RmsNorm, SwiGlu, Quantize }

        private Operation _op;
        private ComputeKernels _kernels = ComputeKernels.Managed;
        private float[] _x = [], _y = [];
        private int _firstRow, _width;
        public float[] Weight = [];
        public float Epsilon;
        public TensorType? Type;
        public byte[] Bytes = [];

        public void Set(Operation op, ComputeKernels kernels, float[] x, int firstRow, float[] y, int width)
        {
            _op = op;
            _kernels = kernels;
            _x = x;
            _firstRow = firstRow;
            _y = y;
            _width = width;
        }

        public void Clear()
        {
            _x = _y = Weight = [];
            Bytes = [];
            Type = null;
        }

        public void Execute(int start, int end)
        {
            int n = _width, rows = end - start;
            switch (_op)
            {
                case Operation.RmsNorm:
                    _kernels.RmsNorm(_x.AsSpan((_firstRow + start) * n, rows * n), Weight, Epsilon, _y.AsSpan(start * n, rows * n), rows);
                    break;
                case Operation.SwiGlu:
                    _kernels.SwiGlu(_x.AsSpan(start * n, rows * n), _y.AsSpan(start * n, rows * n));
                    break;
                case Operation.Quantize:
                    int rowBytes = (int)Type!.RowBytes(n);
                    _kernels.Quantize(Type, _x.AsSpan(start * n, rows * n), Bytes.AsSpan(start * rowBytes, rows * rowBytes), rows, n);
                    break;
            }
        }
    }

    /// <summary>
    /// Up to three matrix products over the same activations, their rows one index space: item
    /// <c>i</c> is row <c>i</c> of the first matrix, then of the second after its rows, and so on.
    /// </summary>
    internal sealed class MatMulJob : IParallelWork
    {
        public ComputeKernels Kernels = ComputeKernels.Managed;
        public byte[] Activations = [];
        public int Tokens;
        private readonly WeightMatrix?[] _weights = new WeightMatrix?[3];
        private readonly float[]?[] _outputs = new float[3][];

        /// <summary>Rows of the matrices set.</summary>
        public int Rows { get; private set; }

        /// <summary>Rows per repacked panel, the largest among the matrices (8 when none is repacked): chunk boundaries that keep panels whole.</summary>
        public int PanelRows { get; private set; } = 8;

        /// <summary>Sets matrix <paramref name="index"/> (null: none) and its output [tokens, rows].</summary>
        public void Set(int index, WeightMatrix? weights, float[]? output)
        {
            if (index == 0)
                (Rows, PanelRows) = (0, 8);
            _weights[index] = weights;
            _outputs[index] = output;
            if (weights is not null)
            {
                Rows += weights.Rows;
                PanelRows = Math.Max(PanelRows, weights.Repacked?.PanelRows ?? 8);
            }
        }

        /// <summary>Drops the references to the matrices and outputs.</summary>
        public void Clear()
        {
            Array.Clear(_weights);
            Array.Clear(_outputs);
        }

        public void Execute(int start, int end)
        {
            int offset = 0;
            for (int i = 0; i < _weights.Length && _weights[i] is { } w; i++)
            {
                int from = Math.Max(start, offset), to = Math.Min(end, offset + w.Rows);
                if (from < to)
                    Kernels.MatMul(w, from - offset, to - from, Activations, Tokens, _outputs[i]!, w.Rows);
                offset += w.Rows;
            }
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
    private readonly ForwardScratch _scratch;
    private float[] _source = [];

    /// <summary>Sizes one pinned buffer per vec-dot type for the widest input of the matrices that use it.</summary>
    public ActivationRows(int maxTokens, IEnumerable<WeightMatrix> matrices, ForwardScratch scratch)
    {
        _scratch = scratch;
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
            Blocks.Quantize(_scratch, tt, _source, buffer, Tokens, Columns);
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

    /// <summary>The matrices of a <see cref="Blocks.LinearGroup"/> call (cleared after it).</summary>
    public WeightMatrix[] GroupWeights { get; } = new WeightMatrix[3];

    /// <summary>Their outputs.</summary>
    public float[][] GroupOutputs { get; } = new float[3][];

    public Blocks.AttentionJob Attention { get; } = new();

    public Blocks.RowsJob Rows { get; } = new();
}
