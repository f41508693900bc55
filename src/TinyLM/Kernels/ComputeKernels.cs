using System.Numerics;
using System.Runtime.Intrinsics;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Kernels;

/// <summary>
/// The hot operations of a forward pass, the seam where a host substitutes faster code: this class
/// is the managed (C#) implementation, which runs everywhere and is the reference; the browser
/// replaces it with kernels emitted as WebAssembly (TinyLM.Browser). Select one per session with
/// <see cref="Generation.SessionOptions.Kernels"/>.
/// </summary>
/// <remarks>
/// Every implementation must return exactly the same bits as this one (docs/numerics.md).
/// Methods may be called concurrently with disjoint output ranges (rows, heads). All spans passed
/// by the engine point into memory that does not move (pinned arrays, the model's buffer), so an
/// implementation may take their addresses.
/// </remarks>
public class ComputeKernels
{
    /// <summary>The managed implementation.</summary>
    public static ComputeKernels Managed { get; } = new();

    /// <summary>Short name for diagnostics ("managed", "wasm").</summary>
    public virtual string Name => "managed";

    /// <summary>
    /// Converts <paramref name="rows"/> activation rows of <paramref name="columns"/> floats to
    /// <paramref name="type"/> (the vec-dot type of the next matrix product).
    /// </summary>
    /// <param name="type">Target type.</param>
    /// <param name="source">[rows, columns] floats.</param>
    /// <param name="destination">[rows, RowBytes(columns)] bytes.</param>
    /// <param name="rows">Number of rows.</param>
    /// <param name="columns">Floats per row.</param>
    public virtual void Quantize(TensorType type, ReadOnlySpan<float> source, Span<byte> destination, int rows, int columns)
    {
        int rowBytes = (int)type.RowBytes(columns);
        for (int t = 0; t < rows; t++)
            type.Quantize(source.Slice(t * columns, columns), destination.Slice(t * rowBytes, rowBytes));
    }

    /// <summary>
    /// The whole products of two or three matrices with the same activations (a layer's query, key and value
    /// projections; its FFN gate and up) in one go: <c>outputs[i][t·weights[i].Rows + r]</c> as <see cref="MatMul"/>
    /// over all the rows of <c>weights[i]</c> would write them, the same bits. Implementations that gain nothing
    /// from the grouping return false without computing anything, and the caller runs the products one by one
    /// (this base class always does; the page's threads split a group as one job, <c>WasmKernels</c>).
    /// </summary>
    /// <param name="weights">2 or 3 matrices whose activations are of one type (<see cref="TensorType.VecDotType"/>).</param>
    /// <param name="activations">[tokens] rows of that type.</param>
    /// <param name="tokens">Activation rows.</param>
    /// <param name="outputs">Per matrix, [tokens, rows] floats (at least <see cref="ReadOnlySpan{T}.Length"/> of <paramref name="weights"/> entries).</param>
    public virtual bool TryMatMulGroup(ReadOnlySpan<WeightMatrix> weights, ReadOnlySpan<byte> activations, int tokens, float[][] outputs) => false;

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c> of <c>weights × activations</c>: see
    /// <see cref="TensorType.MatMul"/>.
    /// </summary>
    /// <remarks>Reads the matrix's repacked rows when it has them (<see cref="WeightMatrix.Repacked"/>, native x86), else its file bytes.</remarks>
    public virtual void MatMul(WeightMatrix weights, int rowStart, int rowCount, ReadOnlySpan<byte> activations, int tokens,
        Span<float> output, int outputStride)
    {
        if (weights.IsRowPanels)
            throw new InvalidOperationException($"{weights.Name} is interleaved into row panels: only the emitted WebAssembly kernels read it.");
        if (weights.Repacked is { } repacked)
            repacked.MatMul(weights.Type, weights.Data, rowStart, rowCount, weights.Columns, activations, tokens, output, outputStride);
        else
            weights.Type.MatMul(weights.Data, rowStart, rowCount, weights.Columns, activations, tokens, output, outputStride);
    }

    /// <summary>RMSNorm (<see cref="Kernels.RmsNorm"/>) of each of <paramref name="rows"/> rows of width <c>weight.Length</c>.</summary>
    public virtual void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y, int rows) =>
        Kernels.RmsNorm.ApplyRows(x, weight, epsilon, y, rows);

    /// <summary>
    /// SwiGLU (Shazeer, 2020, arXiv:2002.05202): <c>gate[i] = silu(gate[i]) · up[i]</c>, as ggml's
    /// <c>ggml_vec_swiglu_f32</c>: groups of four with <c>ggml_v_silu</c> (<see cref="ScalarMath.Silu"/>),
    /// the remaining elements with <c>ggml_silu_f32</c> (C <c>expf</c>).
    /// </summary>
    public virtual void SwiGlu(Span<float> gate, ReadOnlySpan<float> up)
    {
        int i = 0, grouped = gate.Length & ~3;
        if (Vector256.IsHardwareAccelerated && up.Length >= gate.Length)
            for (; i + 8 <= grouped; i += 8)
                (ScalarMath.SiluVector256(Vector256.Create<float>(gate[i..])) * Vector256.Create<float>(up[i..])).CopyTo(gate[i..]);
        for (; i < grouped; i++)
            gate[i] = ScalarMath.Silu(gate[i]) * up[i];
        for (; i < gate.Length; i++)
            gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
    }

    /// <summary><c>x += y</c> element-wise.</summary>
    public virtual void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(x[i..]) + new Vector<float>(y[i..])).CopyTo(x[i..]);
        for (; i < x.Length; i++)
            x[i] += y[i];
    }

    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="destination"/> (e.g. a token's keys into the KV cache).</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="source"/>.</exception>
    public virtual void Copy(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);

    /// <summary>Applies <paramref name="rope"/> to <paramref name="rows"/> token rows at positions <c>startPosition + t</c>.</summary>
    /// <param name="rope">The RoPE table.</param>
    /// <param name="x">[rows, heads · headDim].</param>
    /// <param name="rows">Number of token rows.</param>
    /// <param name="heads">Heads per row.</param>
    /// <param name="headDim">Channels per head.</param>
    /// <param name="startPosition">Position of the first row.</param>
    public virtual void Rope(Rope rope, Span<float> x, int rows, int heads, int headDim, int startPosition)
    {
        int width = heads * headDim;
        for (int t = 0; t < rows; t++)
            rope.Apply(x.Slice(t * width, width), heads, headDim, startPosition + t);
    }

    /// <summary>
    /// The first index of the largest value, by the sequential rule <c>values[i] &gt; values[best]</c> from
    /// <c>best = 0</c> (<see cref="Sampling.Sampler.ArgMax"/>, llama.cpp's greedy sampler): NaN never wins,
    /// except at index 0.
    /// </summary>
    /// <param name="values">The values, at least one; not modified.</param>
    public virtual int ArgMax(ReadOnlySpan<float> values) => Sampling.Sampler.ArgMax(values);

    /// <summary>
    /// Causal attention for query heads <c>[headStart, headEnd)</c> of a batch: see
    /// <see cref="Kernels.Attention.Apply"/> (llama.cpp's graph without flash attention, grouped-query heads).
    /// </summary>
    /// <param name="q">[tokens, heads · headDim] queries (after RoPE).</param>
    /// <param name="keys">K cache [context, kvHeads · headDim].</param>
    /// <param name="values">V cache [context, kvHeads · headDim].</param>
    /// <param name="output">[tokens, heads · headDim].</param>
    /// <param name="scores">Scratch [heads, context] floats.</param>
    /// <param name="accumulators">Scratch [heads, headDim] doubles.</param>
    /// <param name="shape">Dimensions.</param>
    /// <param name="headStart">First head to compute.</param>
    /// <param name="headEnd">One past the last head.</param>
    public virtual void Attention(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape shape, int headStart, int headEnd) =>
        Kernels.Attention.Apply(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
}

/// <summary>Dimensions of one attention call.</summary>
/// <param name="Tokens">Query rows in the batch.</param>
/// <param name="Start">Position of the first query row.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KVHeads">Key/value heads.</param>
/// <param name="HeadDim">Channels per head.</param>
/// <param name="Scale">Score scale, 1/√headDim.</param>
/// <param name="ContextLength">KV cache capacity in positions (the scores row length).</param>
public readonly record struct AttentionShape(int Tokens, int Start, int Heads, int KVHeads, int HeadDim, float Scale, int ContextLength);
