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
/// faster: with AVX it scores sixteen keys at once from a transposed tile of their channels (or eight,
/// gathered; each lane keeps its own sequential double sum over the head's channels) and accumulates
/// 32 value channels per pass in registers; with AVX-512 each group of eight lanes takes one
/// float-to-double conversion and one add. Nothing is reassociated, so results are identical (tests
/// compare both).
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
    private static unsafe void ApplyAvx(ReadOnlySpan<float> q, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, Span<float> output,
        Span<float> scores, Span<double> accumulators, in AttentionShape shape, int headStart, int headEnd)
    {
        int headDim = shape.HeadDim, kvDim = shape.KVHeads * headDim, qDim = shape.Heads * headDim;
        int group = shape.Heads / shape.KVHeads, context = shape.ContextLength;
        float scale = shape.Scale;
        ref float k0 = ref MemoryMarshal.GetReference(keys);
        ref float v0 = ref MemoryMarshal.GetReference(values);
        float* tile = stackalloc float[MaxTiledHeadDim * 16], tile2 = stackalloc float[MaxTiledHeadDim * 16];
        bool tiled = headDim % 8 == 0 && headDim <= MaxTiledHeadDim;
        // A batch (prefill) transposes each KV head's whole tiles once, for all its tokens and query
        // heads; a single token transposes each tile as it goes.
        int sharedTiles = tiled && shape.Tokens > 1 ? (shape.Start + shape.Tokens + 15) / 16 : 0;
        if ((long)sharedTiles * 16 * kvDim > keys.Length || sharedTiles * 16 > context)
            sharedTiles = 0;
        float[] keyTiles = sharedTiles == 0 ? [] : t_keyTiles is { } cached && cached.Length >= sharedTiles * headDim * 16 ? cached
            : t_keyTiles = GC.AllocateUninitializedArray<float>(sharedTiles * headDim * 16, pinned: true);
        float* shared = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(keyTiles));
        int sharedKvOffset = -1;
        for (int h = headStart; h < headEnd; h++)
        {
            int kvOffset = h / group * headDim;
            if (sharedTiles > 0 && kvOffset != sharedKvOffset)
            {
                for (int n = 0; n < sharedTiles; n++)
                    TransposeTile(ref Unsafe.Add(ref k0, n * 16 * kvDim + kvOffset), kvDim, headDim, shared + n * headDim * 16);
                sharedKvOffset = kvOffset;
            }
            Span<float> row = scores.Slice(h * context, context);
            Span<double> acc = accumulators.Slice(h * headDim, headDim);
            ref double a0 = ref MemoryMarshal.GetReference(acc);
            for (int t = 0; t < shape.Tokens; t++)
            {
                int pos = shape.Start + t;
                ReadOnlySpan<float> qh = q.Slice(t * qDim + h * headDim, headDim);
                ref float q0 = ref MemoryMarshal.GetReference(qh);

                // Scores in tiles of sixteen keys when the head size is a multiple of eight: the keys'
                // channels transposed first (tile[d·16 + k] = K[j + k][d]), so that each channel of
                // sixteen keys is two contiguous loads; two tiles per pass, eight independent double
                // sums (lanes are keys, each sequential over d). The last tile may reach past the
                // position (rows of the cache not yet meaningful): those lanes are computed but
                // never read. Without tiles: eight keys per pass (gathered), then one at a time.
                int j = 0;
                int tiles = (pos + 16) / 16;
                if (tiled && (sharedTiles > 0 || (long)tiles * 16 * kvDim <= keys.Length - kvOffset && tiles * 16 <= context))
                {
                    for (int n = 0; n < tiles; n += 2)
                    {
                        float* ta = tile, tb = tile2;
                        if (sharedTiles > 0)
                        {
                            ta = shared + n * headDim * 16;
                            tb = ta + headDim * 16;
                        }
                        else
                        {
                            TransposeTile(ref Unsafe.Add(ref k0, n * 16 * kvDim + kvOffset), kvDim, headDim, ta);
                            if (n + 1 < tiles)
                                TransposeTile(ref Unsafe.Add(ref k0, (n + 1) * 16 * kvDim + kvOffset), kvDim, headDim, tb);
                        }
                        ref float rj = ref row[n * 16];
                        if (n + 1 < tiles)
                            ScoreTiles2(ta, tb, ref q0, headDim, scale, ref rj);
                        else
                            ScoreTile(ta, ref q0, headDim, scale, ref rj);
                    }
                    j = pos + 1;
                }
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

                // Weighted sum of values, j ascending per channel: 32 channels at a time in eight
                // double sums held in registers (enough independent adds to hide their latency), then
                // sixteen in four, the rest four channels per instruction through acc.
                Span<float> o = output.Slice(t * qDim + h * headDim, headDim);
                ref float p0 = ref MemoryMarshal.GetReference(p);
                int c = 0;
                for (; c + 32 <= headDim; c += 32)
                    WeightedValues32(ref Unsafe.Add(ref v0, kvOffset + c), kvDim, ref p0, pos, ref o[c]);
                for (; c + 16 <= headDim; c += 16)
                {
                    Vector256<double> w0 = Vector256<double>.Zero, w1 = Vector256<double>.Zero, w2 = Vector256<double>.Zero, w3 = Vector256<double>.Zero;
                    ref float vc = ref Unsafe.Add(ref v0, kvOffset + c);
                    for (j = 0; j <= pos; j++)
                    {
                        ref float vj = ref Unsafe.Add(ref vc, j * kvDim);
                        Vector256<float> pj = Vector256.Create(Unsafe.Add(ref p0, j));
                        Vector256<float> lo = Vector256.LoadUnsafe(ref vj) * pj, hi = Vector256.LoadUnsafe(ref vj, 8) * pj;
                        w0 += Avx.ConvertToVector256Double(lo.GetLower());
                        w1 += Avx.ConvertToVector256Double(lo.GetUpper());
                        w2 += Avx.ConvertToVector256Double(hi.GetLower());
                        w3 += Avx.ConvertToVector256Double(hi.GetUpper());
                    }
                    Avx.ConvertToVector128Single(w0).StoreUnsafe(ref o[c]);
                    Avx.ConvertToVector128Single(w1).StoreUnsafe(ref o[c + 4]);
                    Avx.ConvertToVector128Single(w2).StoreUnsafe(ref o[c + 8]);
                    Avx.ConvertToVector128Single(w3).StoreUnsafe(ref o[c + 12]);
                }
                if (c == headDim)
                    continue;
                acc.Clear();
                for (j = 0; j <= pos; j++)
                {
                    ref float vj = ref Unsafe.Add(ref v0, j * kvDim + kvOffset);
                    Vector128<float> pj = Vector128.Create(p[j]);
                    int d = c;
                    for (; d + 4 <= headDim; d += 4)
                    {
                        ref double ad = ref Unsafe.Add(ref a0, d);
                        (Vector256.LoadUnsafe(ref ad) + Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref vj, (nuint)d) * pj)).StoreUnsafe(ref ad);
                    }
                    for (; d < headDim; d++)
                        Unsafe.Add(ref a0, d) += Unsafe.Add(ref vj, d) * p[j];
                }
                for (int d = c; d < o.Length; d++)
                    o[d] = (float)acc[d];
            }
        }
    }

    /// <summary>
    /// Output channels c … c + 31 of one query: <c>out[d] = (float)Σ_j (double)(V[j][d]·p[j])</c> for
    /// j = 0 … <paramref name="pos"/> in order, eight double sums of four channels each.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedValues32(ref float vc, int kvDim, ref float p0, int pos, ref float o)
    {
        if (Avx512F.IsSupported)
        {
            // One conversion and one add per eight channels (the same lane operations).
            Vector512<double> x0 = Vector512<double>.Zero, x1 = Vector512<double>.Zero, x2 = Vector512<double>.Zero, x3 = Vector512<double>.Zero;
            for (int j = 0; j <= pos; j++)
            {
                ref float vj = ref Unsafe.Add(ref vc, j * kvDim);
                Vector256<float> pj = Vector256.Create(Unsafe.Add(ref p0, j));
                x0 += Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref vj) * pj);
                x1 += Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref vj, 8) * pj);
                x2 += Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref vj, 16) * pj);
                x3 += Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref vj, 24) * pj);
            }
            Avx512F.ConvertToVector256Single(x0).StoreUnsafe(ref o);
            Avx512F.ConvertToVector256Single(x1).StoreUnsafe(ref o, 8);
            Avx512F.ConvertToVector256Single(x2).StoreUnsafe(ref o, 16);
            Avx512F.ConvertToVector256Single(x3).StoreUnsafe(ref o, 24);
            return;
        }
        Vector256<double> w0 = Vector256<double>.Zero, w1 = Vector256<double>.Zero, w2 = Vector256<double>.Zero, w3 = Vector256<double>.Zero;
        Vector256<double> w4 = Vector256<double>.Zero, w5 = Vector256<double>.Zero, w6 = Vector256<double>.Zero, w7 = Vector256<double>.Zero;
        for (int j = 0; j <= pos; j++)
        {
            ref float vj = ref Unsafe.Add(ref vc, j * kvDim);
            Vector256<float> pj = Vector256.Create(Unsafe.Add(ref p0, j));
            Vector256<float> a = Vector256.LoadUnsafe(ref vj) * pj, b = Vector256.LoadUnsafe(ref vj, 8) * pj;
            Vector256<float> c = Vector256.LoadUnsafe(ref vj, 16) * pj, d = Vector256.LoadUnsafe(ref vj, 24) * pj;
            w0 += Avx.ConvertToVector256Double(a.GetLower());
            w1 += Avx.ConvertToVector256Double(a.GetUpper());
            w2 += Avx.ConvertToVector256Double(b.GetLower());
            w3 += Avx.ConvertToVector256Double(b.GetUpper());
            w4 += Avx.ConvertToVector256Double(c.GetLower());
            w5 += Avx.ConvertToVector256Double(c.GetUpper());
            w6 += Avx.ConvertToVector256Double(d.GetLower());
            w7 += Avx.ConvertToVector256Double(d.GetUpper());
        }
        Avx.ConvertToVector128Single(w0).StoreUnsafe(ref o);
        Avx.ConvertToVector128Single(w1).StoreUnsafe(ref o, 4);
        Avx.ConvertToVector128Single(w2).StoreUnsafe(ref o, 8);
        Avx.ConvertToVector128Single(w3).StoreUnsafe(ref o, 12);
        Avx.ConvertToVector128Single(w4).StoreUnsafe(ref o, 16);
        Avx.ConvertToVector128Single(w5).StoreUnsafe(ref o, 20);
        Avx.ConvertToVector128Single(w6).StoreUnsafe(ref o, 24);
        Avx.ConvertToVector128Single(w7).StoreUnsafe(ref o, 28);
    }

    /// <summary>Largest head size whose keys are transposed into the score tile (16 KiB on the stack).</summary>
    private const int MaxTiledHeadDim = 256;

    [ThreadStatic] private static float[]? t_keyTiles;

    /// <summary>
    /// Scores of sixteen keys from a transposed tile: <c>row[k] = (float)Σ_d (double)(q[d]·tile[d·16 + k]) · scale</c>,
    /// each lane's double sum sequential over d.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void ScoreTile(float* kt, ref float q0, int headDim, float scale, ref float row)
    {
        if (Avx512F.IsSupported)
        {
            Vector512<double> x0 = Vector512<double>.Zero, x1 = Vector512<double>.Zero;
            for (int d = 0; d < headDim; d++)
            {
                Vector256<float> qd = Vector256.Create(Unsafe.Add(ref q0, d));
                x0 += Avx512F.ConvertToVector512Double(qd * Vector256.Load(kt + d * 16));
                x1 += Avx512F.ConvertToVector512Double(qd * Vector256.Load(kt + d * 16 + 8));
            }
            Vector256<float> s = Vector256.Create(scale);
            (Avx512F.ConvertToVector256Single(x0) * s).StoreUnsafe(ref row);
            (Avx512F.ConvertToVector256Single(x1) * s).StoreUnsafe(ref row, 8);
            return;
        }
        Vector256<double> s0 = Vector256<double>.Zero, s1 = Vector256<double>.Zero, s2 = Vector256<double>.Zero, s3 = Vector256<double>.Zero;
        for (int d = 0; d < headDim; d++)
        {
            Vector256<float> qd = Vector256.Create(Unsafe.Add(ref q0, d));
            Vector256<float> lo = qd * Vector256.Load(kt + d * 16), hi = qd * Vector256.Load(kt + d * 16 + 8);
            s0 += Avx.ConvertToVector256Double(lo.GetLower());
            s1 += Avx.ConvertToVector256Double(lo.GetUpper());
            s2 += Avx.ConvertToVector256Double(hi.GetLower());
            s3 += Avx.ConvertToVector256Double(hi.GetUpper());
        }
        (Avx.ConvertToVector128Single(s0) * scale).StoreUnsafe(ref row);
        (Avx.ConvertToVector128Single(s1) * scale).StoreUnsafe(ref row, 4);
        (Avx.ConvertToVector128Single(s2) * scale).StoreUnsafe(ref row, 8);
        (Avx.ConvertToVector128Single(s3) * scale).StoreUnsafe(ref row, 12);
    }

    /// <summary><see cref="ScoreTile"/> for two tiles of sixteen keys (32 scores from <paramref name="row"/> on), eight sums in flight.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void ScoreTiles2(float* ka, float* kb, ref float q0, int headDim, float scale, ref float row)
    {
        if (Avx512F.IsSupported)
        {
            // One conversion and one add per eight keys (the same lane operations).
            Vector512<double> x0 = Vector512<double>.Zero, x1 = Vector512<double>.Zero, x2 = Vector512<double>.Zero, x3 = Vector512<double>.Zero;
            for (int d = 0; d < headDim; d++)
            {
                Vector256<float> qd = Vector256.Create(Unsafe.Add(ref q0, d));
                x0 += Avx512F.ConvertToVector512Double(qd * Vector256.Load(ka + d * 16));
                x1 += Avx512F.ConvertToVector512Double(qd * Vector256.Load(ka + d * 16 + 8));
                x2 += Avx512F.ConvertToVector512Double(qd * Vector256.Load(kb + d * 16));
                x3 += Avx512F.ConvertToVector512Double(qd * Vector256.Load(kb + d * 16 + 8));
            }
            Vector256<float> s = Vector256.Create(scale);
            (Avx512F.ConvertToVector256Single(x0) * s).StoreUnsafe(ref row);
            (Avx512F.ConvertToVector256Single(x1) * s).StoreUnsafe(ref row, 8);
            (Avx512F.ConvertToVector256Single(x2) * s).StoreUnsafe(ref row, 16);
            (Avx512F.ConvertToVector256Single(x3) * s).StoreUnsafe(ref row, 24);
            return;
        }
        Vector256<double> s0 = Vector256<double>.Zero, s1 = Vector256<double>.Zero, s2 = Vector256<double>.Zero, s3 = Vector256<double>.Zero;
        Vector256<double> s4 = Vector256<double>.Zero, s5 = Vector256<double>.Zero, s6 = Vector256<double>.Zero, s7 = Vector256<double>.Zero;
        for (int d = 0; d < headDim; d++)
        {
            Vector256<float> qd = Vector256.Create(Unsafe.Add(ref q0, d));
            Vector256<float> a = qd * Vector256.Load(ka + d * 16), b = qd * Vector256.Load(ka + d * 16 + 8);
            Vector256<float> c = qd * Vector256.Load(kb + d * 16), e = qd * Vector256.Load(kb + d * 16 + 8);
            s0 += Avx.ConvertToVector256Double(a.GetLower());
            s1 += Avx.ConvertToVector256Double(a.GetUpper());
            s2 += Avx.ConvertToVector256Double(b.GetLower());
            s3 += Avx.ConvertToVector256Double(b.GetUpper());
            s4 += Avx.ConvertToVector256Double(c.GetLower());
            s5 += Avx.ConvertToVector256Double(c.GetUpper());
            s6 += Avx.ConvertToVector256Double(e.GetLower());
            s7 += Avx.ConvertToVector256Double(e.GetUpper());
        }
        (Avx.ConvertToVector128Single(s0) * scale).StoreUnsafe(ref row);
        (Avx.ConvertToVector128Single(s1) * scale).StoreUnsafe(ref row, 4);
        (Avx.ConvertToVector128Single(s2) * scale).StoreUnsafe(ref row, 8);
        (Avx.ConvertToVector128Single(s3) * scale).StoreUnsafe(ref row, 12);
        (Avx.ConvertToVector128Single(s4) * scale).StoreUnsafe(ref row, 16);
        (Avx.ConvertToVector128Single(s5) * scale).StoreUnsafe(ref row, 20);
        (Avx.ConvertToVector128Single(s6) * scale).StoreUnsafe(ref row, 24);
        (Avx.ConvertToVector128Single(s7) * scale).StoreUnsafe(ref row, 28);
    }

    /// <summary>
    /// Sixteen keys' channels transposed: <c>dst[d·16 + k] = K[k][d]</c> for d &lt; <paramref name="headDim"/>
    /// (a multiple of eight), keys <paramref name="stride"/> floats apart from <paramref name="src"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposeTile(ref float src, int stride, int headDim, float* dst)
    {
        for (int d0 = 0; d0 < headDim; d0 += 8)
        {
            Transpose8x8(ref Unsafe.Add(ref src, d0), stride, dst + d0 * 16);
            Transpose8x8(ref Unsafe.Add(ref src, 8 * stride + d0), stride, dst + d0 * 16 + 8);
        }
    }

    /// <summary>
    /// Transposes eight rows of eight floats (<paramref name="src"/>, rows <paramref name="stride"/>
    /// floats apart) into <paramref name="dst"/>: <c>dst[i·16 + k] = src[k·stride + i]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose8x8(ref float src, int stride, float* dst)
    {
        Vector256<float> r0 = Vector256.LoadUnsafe(ref src), r1 = Vector256.LoadUnsafe(ref src, (nuint)stride);
        Vector256<float> r2 = Vector256.LoadUnsafe(ref src, (nuint)(2 * stride)), r3 = Vector256.LoadUnsafe(ref src, (nuint)(3 * stride));
        Vector256<float> r4 = Vector256.LoadUnsafe(ref src, (nuint)(4 * stride)), r5 = Vector256.LoadUnsafe(ref src, (nuint)(5 * stride));
        Vector256<float> r6 = Vector256.LoadUnsafe(ref src, (nuint)(6 * stride)), r7 = Vector256.LoadUnsafe(ref src, (nuint)(7 * stride));
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).Store(dst);
        Avx.Permute2x128(u1, u5, 0x20).Store(dst + 16);
        Avx.Permute2x128(u2, u6, 0x20).Store(dst + 32);
        Avx.Permute2x128(u3, u7, 0x20).Store(dst + 48);
        Avx.Permute2x128(u0, u4, 0x31).Store(dst + 64);
        Avx.Permute2x128(u1, u5, 0x31).Store(dst + 80);
        Avx.Permute2x128(u2, u6, 0x31).Store(dst + 96);
        Avx.Permute2x128(u3, u7, 0x31).Store(dst + 112);
    }
}
