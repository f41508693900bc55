using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Sampling;
using TinyLM.Tokenizers;

namespace TinyLM.Generation;

/// <summary>
/// One conversation with a <see cref="Model"/>: the token history, the KV cache and scratch memory
/// (allocated once, at creation), prefill and decode steps, and streaming generation.
/// </summary>
/// <remarks>
/// A prompt is evaluated in batches of up to <see cref="SessionOptions.BatchSize"/> tokens
/// (prefill, matrix–matrix products), then each new token is evaluated alone (decode). The context
/// is bounded by <see cref="ContextLength"/>: evaluating past it throws
/// <see cref="InvalidOperationException"/>, and generation stops with
/// <see cref="StopReason.ContextFull"/> (no context shift). Not thread-safe: one call at a time.
/// </remarks>
public sealed class InferenceSession : IDisposable
{
    private readonly ModelState _state;
    private readonly WorkerPool _pool;
    private readonly float[] _logits;
    private readonly List<int> _tokens = [];
    private int _evaluated;
    private bool _busy;

    internal InferenceSession(Model model, SessionOptions options)
    {
        options.Validate();
        Model = model;
        int context = options.ContextLength == 0 ? Math.Min(model.ContextLength, 4096) : options.ContextLength;
        int threads = options.Threads == 0 ? Math.Min(Environment.ProcessorCount, 8) : options.Threads;
        _pool = new WorkerPool(threads);
        _state = model.CreateState(context, Math.Min(options.BatchSize, context), _pool, options.Kernels ?? ComputeKernels.Managed);
        Kernels = options.Kernels ?? ComputeKernels.Managed;
        _logits = new float[model.VocabularySize];
    }

    /// <summary>The model.</summary>
    public Model Model { get; }

    /// <summary>KV cache capacity, in tokens.</summary>
    public int ContextLength => _state.ContextLength;

    /// <summary>The kernels running the forward pass.</summary>
    public ComputeKernels Kernels { get; }

    /// <summary>Threads used for matrix products.</summary>
    public int Threads => _pool.ThreadCount;

    /// <summary>Bytes held by the KV cache.</summary>
    public long KVCacheBytes => _state.KVCacheBytes;

    /// <summary>Tokens evaluated so far (the next position).</summary>
    public int Position => _evaluated;

    /// <summary>The token history: every token evaluated, plus a sampled token not yet evaluated, if any.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>The logits of the last evaluated position, [VocabularySize].</summary>
    public ReadOnlySpan<float> Logits => _logits;

    /// <summary>
    /// Diagnostic hook called with every named intermediate of the forward pass (llama.cpp's names,
    /// as its <c>cb_eval</c> callback sees them); null by default. Slows evaluation down while set.
    /// </summary>
    public TensorObserver? Observer
    {
        get => _state.Observer;
        set => _state.Observer = value;
    }

    /// <summary>The result of the last <see cref="GenerateAsync"/>, set when its enumeration ends.</summary>
    public GenerationResult? LastResult { get; private set; }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> after the current position (prefill in batches) and returns
    /// the logits of the last one.
    /// </summary>
    /// <returns>[VocabularySize] logits, valid until the next call.</returns>
    /// <exception cref="ArgumentException">Empty input or a token id outside the vocabulary.</exception>
    /// <exception cref="InvalidOperationException">The tokens do not fit in the context.</exception>
    public ReadOnlySpan<float> Evaluate(scoped ReadOnlySpan<int> tokens)
    {
        EvaluateCore(tokens, null);
        return _logits;
    }

    /// <summary>
    /// Evaluates <paramref name="tokens"/> and returns the logits of every one of them,
    /// [tokens.Length, VocabularySize] row-major (for tests and perplexity).
    /// </summary>
    /// <exception cref="ArgumentException">Empty input or a token id outside the vocabulary.</exception>
    /// <exception cref="InvalidOperationException">The tokens do not fit in the context.</exception>
    public float[] EvaluateAll(ReadOnlySpan<int> tokens)
    {
        var all = new float[checked(tokens.Length * Model.VocabularySize)];
        EvaluateCore(tokens, all);
        return all;
    }

    /// <summary>Evaluates one token (a decode step) and returns the next position's logits.</summary>
    public ReadOnlySpan<float> Decode(int token) => Evaluate([token]);

    /// <summary>
    /// Keeps the longest evaluated prefix of the history that <paramref name="tokens"/> starts with
    /// (at most <c>tokens.Length − 1</c>, so that at least one token is left to evaluate) and forgets
    /// the rest — prompt caching, as llama.cpp's server does with <c>cache_prompt</c>: a new prompt
    /// that repeats the previous conversation only evaluates what is new.
    /// </summary>
    /// <param name="tokens">The full token sequence about to be evaluated.</param>
    /// <returns>How many leading tokens of <paramref name="tokens"/> are already in the KV cache.</returns>
    public int RewindToCommonPrefix(ReadOnlySpan<int> tokens)
    {
        int limit = Math.Min(_evaluated, tokens.Length - 1), kept = 0;
        while (kept < limit && _tokens[kept] == tokens[kept])
            kept++;
        Truncate(kept);
        return kept;
    }

    /// <summary>Forgets all tokens (the KV cache is reused).</summary>
    public void Reset() => Truncate(0);

    /// <summary>Keeps the first <paramref name="position"/> evaluated tokens and forgets the rest.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Beyond <see cref="Position"/>.</exception>
    public void Truncate(int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, _evaluated);
        _tokens.RemoveRange(position, _tokens.Count - position);
        _evaluated = position;
    }

    private void EvaluateCore(ReadOnlySpan<int> tokens, float[]? allLogits)
    {
        int vocab = Model.VocabularySize;
        foreach (int t in tokens)
            if ((uint)t >= (uint)vocab)
                throw new ArgumentException($"Token id {t} is outside the vocabulary (0..{vocab - 1}).", nameof(tokens));
        int pending = _tokens.Count - _evaluated;
        if (tokens.IsEmpty && pending == 0)
            throw new ArgumentException("Nothing to evaluate.", nameof(tokens));
        if (_tokens.Count + tokens.Length > ContextLength)
            throw new InvalidOperationException(
                $"Context full: {_tokens.Count} tokens in the session plus {tokens.Length} new exceed the context length {ContextLength}.");
        if (pending > 0)
            RunBatches(CollectionsMarshal.AsSpan(_tokens).Slice(_evaluated, pending), null);
        foreach (int t in tokens)
            _tokens.Add(t);
        if (!tokens.IsEmpty)
            RunBatches(tokens, allLogits);
    }

    private void RunBatches(ReadOnlySpan<int> tokens, float[]? allLogits)
    {
        int batch = _state.BatchSize, vocab = Model.VocabularySize;
        for (int i = 0; i < tokens.Length; i += batch)
        {
            int n = Math.Min(batch, tokens.Length - i);
            ReadOnlySpan<int> chunk = tokens.Slice(i, n);
            if (allLogits is null)
            {
                Model.Forward(_state, chunk, _evaluated, _logits, allLogits: false);
            }
            else
            {
                Span<float> rows = allLogits.AsSpan(i * vocab, n * vocab);
                Model.Forward(_state, chunk, _evaluated, rows, allLogits: true);
                rows[^vocab..].CopyTo(_logits);
            }
            _evaluated += n;
        }
    }

    /// <summary>
    /// Starts generating text after <paramref name="prompt"/>; advance it with
    /// <see cref="TextGeneration.Step"/>, one token per call. This is the synchronous form of
    /// <see cref="GenerateAsync"/>, for hosts that drive the loop themselves (the browser worker).
    /// </summary>
    /// <param name="prompt">Text to continue; appended to the session's history (BOS is added when the session is empty).</param>
    /// <param name="options">Sampling and stop conditions; null for defaults.</param>
    /// <returns>The generation; dispose it (or let it finish) before starting another.</returns>
    /// <exception cref="ArgumentException">Invalid options, or an empty prompt with nothing to continue.</exception>
    /// <exception cref="InvalidOperationException">The prompt does not fit in the context, or another generation is running.</exception>
    public TextGeneration StartGeneration(string prompt, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new GenerationOptions();
        options.Validate();
        if (_busy)
            throw new InvalidOperationException("A generation is already running in this session.");
        int[] promptTokens = Model.Tokenizer.EncodeToIds(prompt, options.AddSpecialTokens && _tokens.Count == 0, options.ParseSpecialTokens);
        return StartGeneration(promptTokens, options);
    }

    /// <summary>
    /// Starts generating after <paramref name="promptTokens"/> (token ids appended to the session's
    /// history as they are; no BOS is added). See <see cref="StartGeneration(string, GenerationOptions?)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options, a token id outside the vocabulary, or no tokens with nothing to continue.</exception>
    /// <exception cref="InvalidOperationException">The tokens do not fit in the context, or another generation is running.</exception>
    public TextGeneration StartGeneration(int[] promptTokens, GenerationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(promptTokens);
        options ??= new GenerationOptions();
        options.Validate();
        if (_busy)
            throw new InvalidOperationException("A generation is already running in this session.");
        foreach (int t in promptTokens)
            if ((uint)t >= (uint)Model.VocabularySize)
                throw new ArgumentException($"Token id {t} is outside the vocabulary (0..{Model.VocabularySize - 1}).", nameof(promptTokens));
        if (promptTokens.Length == 0 && _tokens.Count == _evaluated)
            throw new ArgumentException("The prompt is empty and the session has no token to continue from.", nameof(promptTokens));
        if (_tokens.Count + promptTokens.Length >= ContextLength)
            throw new InvalidOperationException(
                $"Context full: the prompt needs {promptTokens.Length} tokens after {_tokens.Count} in the session, leaving no room to generate within the context length {ContextLength}.");
        _busy = true;
        return new TextGeneration(this, promptTokens, options);
    }

    /// <summary>
    /// Generates text after <paramref name="prompt"/>, streaming it piece by piece: each piece is the
    /// text completed by one token (empty pieces, while a multi-byte character is incomplete, are
    /// skipped).
    /// </summary>
    /// <param name="prompt">Text to continue; appended to the session's history (BOS is added when the session is empty).</param>
    /// <param name="options">Sampling and stop conditions; null for defaults.</param>
    /// <param name="cancellationToken">Stops generation within one token.</param>
    /// <returns>The text pieces; <see cref="LastResult"/> holds the totals when the enumeration ends.</returns>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    /// <exception cref="InvalidOperationException">The prompt does not fit in the context, or another generation is running.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (<see cref="LastResult"/> is still set).</exception>
    public async IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using TextGeneration generation = StartGeneration(prompt, options);
        cancellationToken.ThrowIfCancellationRequested();
        while (true)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                generation.Cancel();
                break;
            }
            string? piece = generation.Step();
            if (piece is null)
                break;
            if (piece.Length > 0)
                yield return piece;
            await Task.Yield();
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    // Called by TextGeneration.
    internal void EvaluatePrompt(ReadOnlySpan<int> tokens) => EvaluateCore(tokens, null);

    internal bool EvaluatePending()
    {
        if (_evaluated >= ContextLength)
            return false;
        EvaluateCore([], null);
        return true;
    }

    internal List<int> History => _tokens;

    internal int PendingCount => _tokens.Count - _evaluated;

    internal void Finish(GenerationResult result)
    {
        LastResult = result;
        _busy = false;
    }

    /// <summary>Stops the session's worker threads.</summary>
    public void Dispose() => _pool.Dispose();
}
