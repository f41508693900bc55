using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Kernels;

/// <summary>
/// Causal scaled dot-product attention over the KV cache (Vaswani et al., 2017) with grouped-query
/// heads (Ainslie et al., 2023), exactly as llama.cpp's graph without flash attention computes it on
/// the CPU: <c>kq = mul_mat(k, q)</c> (each score an F32 dot product summed in double, see
/// <see cref="GgmlFloat.Dot"/>), <c>soft_max_ext</c> with the scale applied first
/// (<see cref="Softmax"/>), then <c>kqv = mul_mat(v, kq)</c> (each output channel
/// <c>Σ_j V[j]·p[j]</c>, float products added in double, j ascending).
/// </summary>
/// <remarks>
/// <see cref="ApplyReference"/> is the scalar definition; <see cref="Apply"/> computes the same bits
/// faster: with AVX it scores eight keys at once (each lane keeps its own sequential double sum over
/// the head's channels) and accumulates four value channels per instruction. Nothing is
/// reassociated, so results are identical (tests compare both).
/// </remarks>
public static class Attention
{
    /// <summary>
    /// Attention for query heads <c>[headStart, headEnd)</c> of a batch: per head h and token t at
    /// position p = start + t, <c>scores[j] = (float)Σ_d (double)(q[d]·K[j][d]) · scale</c> for j ≤ p,
    /// softmax, then <c>out[d] = (float)Σ_j (double)(V[j][d]·p[j])</c>. Query head h reads KV head
    /// <c>h / (heads / kvHeads)</c>.
    /// </summary>
    /// <param name="q">[tokens, heads · headDim] queries (after RoPE).</param>
    /// <param name="keys">K cache [context, kvHeads · headDim], filled up to position start + tokens − 1.</param>
    /// <param name="values">V cache, same layout.</param>
    /// <param name="output">[tokens, heads · headDim].</param>
    /// <param name="scores">Scratch [heads, shape.ContextLength] floats.</param>
    /// <param name="accumulators">Scratch [heads, headDim] doubles.</param>
    /// <param name="shape">Dimensions.</param>
    /// <param name="headStart">First head.</param>
    /// <param name="headEnd">One past the last head.</param>
    public static void Apply(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape shape, int headStart, int headEnd)
    {
        Check(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
        if (Avx.IsSupported)
            ApplyAvx(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
        else
            Core(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
    }

    /// <summary>Scalar definition of <see cref="Apply"/> (same arguments, same result bits).</summary>
    public static void ApplyReference(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape shape, int headStart, int headEnd)
    {
        Check(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
        Core(q, keys, values, output, scores, accumulators, shape, headStart, headEnd);
    }

    private static void Check(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape s, int headStart, int headEnd)
    {
        if (s.Tokens < 1 || s.Start < 0 || s.HeadDim < 1 || s.KVHeads < 1 || s.Heads % s.KVHeads != 0 || s.Start + s.Tokens > s.ContextLength)
            throw new ArgumentOutOfRangeException(nameof(s), $"Invalid attention shape {s}.");
        if ((uint)headStart > (uint)headEnd || headEnd > s.Heads)
            throw new ArgumentOutOfRangeException(nameof(headEnd), $"Heads [{headStart}, {headEnd}) outside [0, {s.Heads}).");
        long qLength = (long)s.Tokens * s.Heads * s.HeadDim, kvLength = (long)(s.Start + s.Tokens) * s.KVHeads * s.HeadDim;
        if (q.Length < qLength || output.Length < qLength || keys.Length < kvLength || values.Length < kvLength
            || scores.Length < (long)s.Heads * s.ContextLength || accumulators.Length < (long)s.Heads * s.HeadDim)
            throw new ArgumentException($"An operand is too short for attention shape {s}.");
    }

    private static void Core(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape shape, int headStart, int headEnd)
    {
        int headDim = shape.HeadDim, kvDim = shape.KVHeads * headDim, qDim = shape.Heads * headDim;
        int group = shape.Heads / shape.KVHeads, context = shape.ContextLength;
        for (int h = headStart; h < headEnd; h++)
        {
            int kvOffset = h / group * headDim;
            Span<float> row = scores.Slice(h * context, context);
            Span<double> acc = accumulators.Slice(h * headDim, headDim);
            for (int t = 0; t < shape.Tokens; t++)
            {
                int pos = shape.Start + t;
                ReadOnlySpan<float> qh = q.Slice(t * qDim + h * headDim, headDim);
                for (int j = 0; j <= pos; j++)
                    row[j] = GgmlFloat.DotReference(qh, keys.Slice(j * kvDim + kvOffset, headDim)) * shape.Scale;
                Span<float> p = row[..(pos + 1)];
                Softmax.Apply(p);
                acc.Clear();
                for (int j = 0; j <= pos; j++)
                {
                    ReadOnlySpan<float> v = values.Slice(j * kvDim + kvOffset, headDim);
                    float pj = p[j];
                    for (int d = 0; d < acc.Length; d++)
                        acc[d] += v[d] * pj;
                }
                Span<float> o = output.Slice(t * qDim + h * headDim, headDim);
                for (int d = 0; d < o.Length; d++)
                    o[d] = (float)acc[d];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyAvx(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape shape, int headStart, int headEnd)
    {
        int headDim = shape.HeadDim, kvDim = shape.KVHeads * headDim, qDim = shape.Heads * headDim;
        int group = shape.Heads / shape.KVHeads, context = shape.ContextLength;
        float scale = shape.Scale;
        ref float k0 = ref MemoryMarshal.GetReference(keys);
        ref float v0 = ref MemoryMarshal.GetReference(values);
        for (int h = headStart; h < headEnd; h++)
        {
            int kvOffset = h / group * headDim;
            Span<float> row = scores.Slice(h * context, context);
            Span<double> acc = accumulators.Slice(h * headDim, headDim);
            ref double a0 = ref MemoryMarshal.GetReference(acc);
            for (int t = 0; t < shape.Tokens; t++)
            {
                int pos = shape.Start + t;
                ReadOnlySpan<float> qh = q.Slice(t * qDim + h * headDim, headDim);
                ref float q0 = ref MemoryMarshal.GetReference(qh);

                // Scores, eight keys per pass: lanes are keys, each a sequential double sum over d.
                int j = 0;
                for (; j + 8 <= pos + 1; j += 8)
                {
                    ref float kj = ref Unsafe.Add(ref k0, j * kvDim + kvOffset);
                    Vector256<double> s0 = Vector256<double>.Zero, s1 = Vector256<double>.Zero;
                    for (int d = 0; d < headDim; d++)
                    {
                        Vector128<float> qd = Vector128.Create(Unsafe.Add(ref q0, d));
                        ref float kd = ref Unsafe.Add(ref kj, d);
                        Vector128<float> lo = Vector128.Create(kd, Unsafe.Add(ref kd, kvDim), Unsafe.Add(ref kd, 2 * kvDim), Unsafe.Add(ref kd, 3 * kvDim));
                        Vector128<float> hi = Vector128.Create(Unsafe.Add(ref kd, 4 * kvDim), Unsafe.Add(ref kd, 5 * kvDim), Unsafe.Add(ref kd, 6 * kvDim), Unsafe.Add(ref kd, 7 * kvDim));
                        s0 += Avx.ConvertToVector256Double(qd * lo);
                        s1 += Avx.ConvertToVector256Double(qd * hi);
                    }
                    (Avx.ConvertToVector128Single(s0) * scale).StoreUnsafe(ref row[j]);
                    (Avx.ConvertToVector128Single(s1) * scale).StoreUnsafe(ref row[j + 4]);
                }
                for (; j <= pos; j++)
                    row[j] = GgmlFloat.DotReference(qh, keys.Slice(j * kvDim + kvOffset, headDim)) * scale;

                Span<float> p = row[..(pos + 1)];
                Softmax.Apply(p);

                // Weighted sum of values: four channels per instruction, j ascending per channel.
                acc.Clear();
                for (j = 0; j <= pos; j++)
                {
                    ref float vj = ref Unsafe.Add(ref v0, j * kvDim + kvOffset);
                    Vector128<float> pj = Vector128.Create(p[j]);
                    int d = 0;
                    for (; d + 4 <= headDim; d += 4)
                    {
                        ref double ad = ref Unsafe.Add(ref a0, d);
                        (Vector256.LoadUnsafe(ref ad) + Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref vj, (nuint)d) * pj)).StoreUnsafe(ref ad);
                    }
                    for (; d < headDim; d++)
                        Unsafe.Add(ref a0, d) += Unsafe.Add(ref vj, d) * p[j];
                }
                Span<float> o = output.Slice(t * qDim + h * headDim, headDim);
                for (int d = 0; d < o.Length; d++)
                    o[d] = (float)acc[d];
            }
        }
    }
}
