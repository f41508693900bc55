using TinyLM.Kernels;

namespace TinyLM.Sampling;

/// <summary>
/// Chooses the next token from a logits vector per <see cref="SamplingOptions"/>: penalties, top-k,
/// top-p, min-p, temperature, then a seeded draw (llama.cpp src/llama-sampler.cpp:
/// <c>llama_sampler_penalties_apply</c>, <c>_top_k</c>, <c>_top_p</c>, <c>_min_p</c>, <c>_temp</c>,
/// <c>_dist</c>, <c>_greedy</c>).
/// </summary>
/// <remarks>
/// Scalar and deterministic: candidate order is by logit, ties by token id; probabilities use
/// <see cref="ScalarMath.Exp"/>. Buffers are allocated once per vocabulary size; sampling a token
/// allocates nothing. Not thread-safe.
/// </remarks>
public sealed class Sampler
{
    private readonly SamplingOptions _options;
    private readonly XorShiftRandom _random;
    private readonly int[] _ids;
    private readonly float[] _logits;
    private readonly float[] _probabilities;
    private readonly int[] _counts;   // [vocabularySize] occurrences in the penalty window; zero between calls
    private readonly int[] _seen;     // distinct tokens of the window, in first-seen order
    private readonly Comparison<int> _byLogit;
    private readonly ComputeKernels _kernels;

    /// <summary>Creates a sampler for a vocabulary of <paramref name="vocabularySize"/> tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Invalid options or size.</exception>
    public Sampler(SamplingOptions options, int vocabularySize) : this(options, vocabularySize, ComputeKernels.Managed)
    {
    }

    /// <summary>
    /// Creates a sampler for a vocabulary of <paramref name="vocabularySize"/> tokens whose greedy pick
    /// runs on <paramref name="kernels"/> (<see cref="ComputeKernels.ArgMax"/>; the same token either way).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Invalid options or size.</exception>
    public Sampler(SamplingOptions options, int vocabularySize, ComputeKernels kernels)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        _kernels = kernels;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        _options = options;
        _random = new XorShiftRandom(options.Seed);
        _ids = new int[vocabularySize];
        _logits = GC.AllocateArray<float>(vocabularySize, pinned: true);   // kernels may take its address
        _probabilities = new float[vocabularySize];
        _counts = new int[vocabularySize];
        _seen = new int[vocabularySize];
        _byLogit = (a, b) =>
        {
            int c = _logits[b].CompareTo(_logits[a]);
            return c != 0 ? c : a.CompareTo(b);
        };
    }

    /// <summary>The options.</summary>
    public SamplingOptions Options => _options;

    /// <summary>
    /// Picks a token.
    /// </summary>
    /// <param name="logits">[vocabularySize] logits of the next position; not modified.</param>
    /// <param name="history">Tokens so far (prompt and generated), for the penalties.</param>
    /// <returns>The token id.</returns>
    public int Sample(ReadOnlySpan<float> logits, ReadOnlySpan<int> history)
    {
        int n = _logits.Length;
        if (logits.Length != n)
            throw new ArgumentException($"expected {n} logits, found {logits.Length}", nameof(logits));
        logits.CopyTo(_logits);
        ApplyPenalties(history);

        if (_options.Temperature <= 0f)
            return _kernels.ArgMax(_logits);

        // Candidates sorted by logit (ties: lower id first), truncated by top-k.
        for (int i = 0; i < n; i++)
            _ids[i] = i;
        int count = _options.TopK > 0 ? Math.Min(_options.TopK, n) : n;
        SortTop(count);

        // top-p over the softmax of the remaining candidates (temperature 1, as llama.cpp).
        if (_options.TopP < 1f)
        {
            Probabilities(count, 1f);
            float cumulative = 0f;
            for (int i = 0; i < count; i++)
            {
                cumulative += _probabilities[i];
                if (cumulative >= _options.TopP)
                {
                    count = i + 1;
                    break;
                }
            }
        }

        // min-p: keep logits within log(min_p) of the best.
        if (_options.MinP > 0f && count > 1)
        {
            float threshold = _logits[_ids[0]] + MathF.Log(_options.MinP);
            int kept = 1;
            while (kept < count && _logits[_ids[kept]] >= threshold)
                kept++;
            count = kept;
        }

        // temperature, then draw.
        Probabilities(count, _options.Temperature);
        float r = _random.NextSingle();
        float acc = 0f;
        for (int i = 0; i < count; i++)
        {
            acc += _probabilities[i];
            if (r < acc)
                return _ids[i];
        }
        return _ids[count - 1];
    }

    /// <summary>The first index of the largest value (llama.cpp's greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best])
                best = i;
        return best;
    }

    private void ApplyPenalties(ReadOnlySpan<int> history)
    {
        SamplingOptions o = _options;
        if (o.RepeatLastN == 0 || (o.RepeatPenalty == 1f && o.FrequencyPenalty == 0f && o.PresencePenalty == 0f))
            return;
        int window = o.RepeatLastN < 0 ? history.Length : Math.Min(o.RepeatLastN, history.Length);
        int distinct = 0;
        foreach (int t in history[^window..])
            if ((uint)t < (uint)_logits.Length && _counts[t]++ == 0)
                _seen[distinct++] = t;
        foreach (int t in _seen.AsSpan(0, distinct))
        {
            int c = _counts[t];
            _counts[t] = 0;
            float l = _logits[t];
            l = l <= 0f ? l * o.RepeatPenalty : l / o.RepeatPenalty;
            _logits[t] = l - c * o.FrequencyPenalty - o.PresencePenalty;
        }
    }

    private void SortTop(int k)
    {
        int n = _ids.Length;
        if (k >= n)
        {
            _ids.AsSpan().Sort(_byLogit);
            return;
        }
        // Selection of the k best by a min-heap on the comparison order, then a sort of those k.
        for (int i = k / 2 - 1; i >= 0; i--)
            SiftDown(i, k);
        for (int i = k; i < n; i++)
        {
            if (_byLogit(_ids[i], _ids[0]) < 0)
            {
                (_ids[0], _ids[i]) = (_ids[i], _ids[0]);
                SiftDown(0, k);
            }
        }
        // Span.Sort with the cached Comparison allocates nothing (Array.Sort with an IComparer wraps it in a new delegate per call).
        _ids.AsSpan(0, k).Sort(_byLogit);
    }

    // Heap whose root is the worst (last in order) of the kept candidates.
    private void SiftDown(int i, int size)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, worst = i;
            if (l < size && _byLogit(_ids[l], _ids[worst]) > 0) worst = l;
            if (r < size && _byLogit(_ids[r], _ids[worst]) > 0) worst = r;
            if (worst == i)
                return;
            (_ids[i], _ids[worst]) = (_ids[worst], _ids[i]);
            i = worst;
        }
    }

    private void Probabilities(int count, float temperature)
    {
        float max = _logits[_ids[0]] / temperature;
        float sum = 0f;
        for (int i = 0; i < count; i++)
        {
            float e = ScalarMath.Exp(_logits[_ids[i]] / temperature - max);
            _probabilities[i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < count; i++)
            _probabilities[i] *= inv;
    }
}
