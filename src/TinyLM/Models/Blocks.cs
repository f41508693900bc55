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
        job.Weights = w;
        job.Activations = act;
        job.Tokens = x.Tokens;
        job.Output = y;
        // Below about 64K multiply-adds, waking the workers costs more than it saves.
        if ((long)w.Rows * w.Columns * x.Tokens < 1 << 16)
            job.Execute(0, w.Rows);
        else
            s.Pool.Run(job, w.Rows, granularity: 4);
        job.Weights = null;
        if (bias is not null)
            for (int t = 0; t < x.Tokens; t++)
                Add(y.AsSpan(t * w.Rows, w.Rows), bias);
    }

    /// <summary>RMSNorm of each of <paramref name="tokens"/> rows of width <paramref name="n"/>.</summary>
    public static void RmsNormRows(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y, int tokens, int n)
    {
        for (int t = 0; t < tokens; t++)
            RmsNorm.Apply(x.Slice(t * n, n), weight, epsilon, y.Slice(t * n, n));
    }

    /// <summary><c>x += y</c> element-wise.</summary>
    public static void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(x[i..]) + new Vector<float>(y[i..])).CopyTo(x[i..]);
        for (; i < x.Length; i++)
            x[i] += y[i];
    }

    /// <summary>
    /// SwiGLU (Shazeer, 2020, arXiv:2002.05202): <c>gate[i] = silu(gate[i]) · up[i]</c>, as ggml's
    /// <c>ggml_swiglu_split</c> (llama.cpp <c>build_ffn</c> with <c>LLM_FFN_SILU</c>, <c>LLM_FFN_PAR</c>).
    /// </summary>
    public static void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        // ggml_vec_swiglu_f32: groups of four with ggml_v_silu, then ggml_silu_f32 (C expf) for the rest.
        int i = 0, grouped = gate.Length & ~3;
        for (; i < grouped; i++)
            gate[i] = ScalarMath.Silu(gate[i]) * up[i];
        for (; i < gate.Length; i++)
            gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
    }

    /// <summary>
    /// Causal scaled dot-product attention (Vaswani et al., 2017) for a batch of
    /// <paramref name="tokens"/> query rows at positions <c>start .. start+tokens-1</c>, whose keys and
    /// values are already in the cache. Query head h reads KV head <c>h / (heads / kvHeads)</c>
    /// (grouped-query attention, Ainslie et al., 2023). Per head and token:
    /// <c>out = softmax(scale · q·K[0..pos]ᵀ) · V[0..pos]</c>, computed as llama.cpp's graph without
    /// flash attention (<c>build_attn_mha</c>): <c>kq = K·q</c> with <see cref="GgmlFloat.Dot"/>,
    /// scaled, <see cref="Softmax"/>, then each output channel <c>Σ_j V[j]·p[j]</c> accumulated in
    /// double over j ascending (ggml's <c>mul_mat</c> of the transposed V cache).
    /// </summary>
    public static void Attention(ForwardScratch s, float[] q, float[] keyCache, float[] valueCache, float[] output,
        int tokens, int start, int heads, int kvHeads, int headDim, float scale)
    {
        AttentionJob job = s.Attention;
        job.Q = q;
        job.Keys = keyCache;
        job.Values = valueCache;
        job.Output = output;
        job.Scores = s.Scores;
        job.Accumulators = s.AttentionAccumulators(heads * headDim);
        job.Tokens = tokens;
        job.Start = start;
        job.Heads = heads;
        job.KVHeads = kvHeads;
        job.HeadDim = headDim;
        job.Scale = scale;
        s.Pool.Run(job, heads);
    }

    internal sealed class MatMulJob : IParallelWork
    {
        public WeightMatrix? Weights;
        public byte[] Activations = [];
        public int Tokens;
        public float[] Output = [];

        public void Execute(int start, int end)
        {
            WeightMatrix w = Weights!;
            w.Type.MatMul(w.Data, start, end - start, w.Columns, Activations, Tokens, Output, w.Rows);
        }
    }

    internal sealed class AttentionJob : IParallelWork
    {
        public float[] Q = [], Keys = [], Values = [], Output = [], Scores = [];
        public double[] Accumulators = [];
        public int Tokens, Start, Heads, KVHeads, HeadDim;
        public float Scale;

        public void Execute(int startHead, int endHead)
        {
            int kvDim = KVHeads * HeadDim;
            int qDim = Heads * HeadDim;
            int group = Heads / KVHeads;
            int context = Scores.Length / Heads;
            for (int h = startHead; h < endHead; h++)
            {
                int kvOffset = h / group * HeadDim;
                Span<float> scores = Scores.AsSpan(h * context, context);
                Span<double> acc = Accumulators.AsSpan(h * HeadDim, HeadDim);
                for (int t = 0; t < Tokens; t++)
                {
                    int pos = Start + t;
                    ReadOnlySpan<float> qh = Q.AsSpan(t * qDim + h * HeadDim, HeadDim);
                    for (int j = 0; j <= pos; j++)
                        scores[j] = GgmlFloat.Dot(qh, Keys.AsSpan(j * kvDim + kvOffset, HeadDim)) * Scale;
                    Span<float> p = scores[..(pos + 1)];
                    Softmax.Apply(p);
                    acc.Clear();
                    for (int j = 0; j <= pos; j++)
                    {
                        ReadOnlySpan<float> v = Values.AsSpan(j * kvDim + kvOffset, HeadDim);
                        float pj = p[j];
                        for (int d = 0; d < acc.Length; d++)
                            acc[d] += v[d] * pj;
                    }
                    Span<float> o = Output.AsSpan(t * qDim + h * HeadDim, HeadDim);
                    for (int d = 0; d < o.Length; d++)
                        o[d] = (float)acc[d];
                }
            }
        }
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
    private float[] _source = [];

    /// <summary>Sizes one buffer per vec-dot type for the widest input of the matrices that use it.</summary>
    public ActivationRows(int maxTokens, IEnumerable<WeightMatrix> matrices)
    {
        int count = Enum.GetValues<GgmlType>().Max(t => (int)t) + 1;
        _converted = new byte[count][];
        _valid = new bool[count];
        foreach (var group in matrices.GroupBy(w => w.Type.VecDotType))
            _converted[(int)group.Key] = new byte[checked(maxTokens * TensorTypes.Get(group.Key).RowBytes(group.Max(w => w.Columns)))];
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
            int rowBytes = (int)tt.RowBytes(Columns);
            for (int t = 0; t < Tokens; t++)
                tt.Quantize(_source.AsSpan(t * Columns, Columns), buffer.AsSpan(t * rowBytes, rowBytes));
            _valid[(int)type] = true;
        }
        return buffer;
    }
}

/// <summary>Per-session scratch shared by the blocks: thread pool, reusable jobs, attention scores.</summary>
internal sealed class ForwardScratch
{
    public ForwardScratch(WorkerPool pool, int heads, int contextLength)
    {
        Pool = pool;
        Scores = new float[checked(heads * contextLength)];
    }

    public WorkerPool Pool { get; }

    public float[] Scores { get; }

    private double[] _accumulators = [];

    /// <summary>Per-head double accumulators for the attention output, [heads, headDim].</summary>
    public double[] AttentionAccumulators(int length) =>
        _accumulators.Length >= length ? _accumulators : _accumulators = new double[length];

    public Blocks.MatMulJob MatMul { get; } = new();

    public Blocks.AttentionJob Attention { get; } = new();
}
