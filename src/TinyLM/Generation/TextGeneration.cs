using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using TinyLM.Sampling;
using TinyLM.Tokenizers;

namespace TinyLM.Generation;

/// <summary>
/// A generation in progress, advanced one token per <see cref="Step"/> call — the narrow,
/// synchronous loop a host drives itself (the browser worker yields to its event loop between
/// steps so that an abort arrives within one token). Created by
/// <see cref="InferenceSession.StartGeneration(string, GenerationOptions?)"/>.
/// </summary>
/// <remarks>
/// The first step evaluates the prompt (batched prefill) and samples the first token; each later
/// step evaluates the previous token and samples the next. Generation ends at an end-of-generation
/// token (unless <see cref="GenerationOptions.IgnoreEos"/>), after
/// <see cref="GenerationOptions.MaxTokens"/> tokens, at a stop string, when the context is full, or
/// on <see cref="Cancel"/>; then <see cref="Result"/> (and the session's
/// <see cref="InferenceSession.LastResult"/>) holds the totals. Not thread-safe.
/// </remarks>
public sealed class TextGeneration : IDisposable
{
    private readonly InferenceSession _session;
    private readonly int[] _promptTokens;
    private readonly GenerationOptions _options;
    private readonly Sampler _sampler;
    private readonly Utf8TextStream _stream = new();
    private readonly StringBuilder _text = new();
    private readonly List<int> _generated = [];
    private readonly StopStringMatcher _stop;
    private readonly int _promptEvaluated;
    private long _started, _prefilled, _firstToken;
    private bool _tailPending;
    private StopReason _reason;

    internal TextGeneration(InferenceSession session, int[] promptTokens, GenerationOptions options)
    {
        _session = session;
        _promptTokens = promptTokens;
        _options = options;
        _sampler = new Sampler(options, session.Model.VocabularySize, session.Kernels);
        _stop = new StopStringMatcher(options.Stop);
        _promptEvaluated = promptTokens.Length + session.PendingCount;
    }

    /// <summary>Prompt tokens this generation evaluates (including a token left pending by the previous one).</summary>
    public int PromptTokenCount => _promptEvaluated;

    /// <summary>Tokens generated so far.</summary>
    public IReadOnlyList<int> Tokens => _generated;

    /// <summary>True once generation has ended (<see cref="Result"/> is set).</summary>
    public bool IsCompleted => Result is not null;

    /// <summary>The outcome, once <see cref="IsCompleted"/>.</summary>
    public GenerationResult? Result { get; private set; }

    /// <summary>
    /// Generates one token and returns the text it completes (possibly empty while a multi-byte
    /// character is incomplete, or while text that may start a stop string is held back); returns
    /// the remaining held-back text when generation ends, then null on every later call.
    /// </summary>
    /// <exception cref="InvalidOperationException">A context limit was hit while evaluating (should not happen: checked at start).</exception>
    public string? Step()
    {
        if (Result is not null)
            return null;
        if (_tailPending)
            return Complete(_reason);
        if (_started == 0)
        {
            _started = Stopwatch.GetTimestamp();
            _session.EvaluatePrompt(_promptTokens);
            _prefilled = Stopwatch.GetTimestamp();
        }
        else if (_options.MaxTokens >= 0 && _generated.Count >= _options.MaxTokens)
        {
            return End(StopReason.MaxTokens);
        }
        else if (!_session.EvaluatePending())
        {
            return End(StopReason.ContextFull);
        }
        if (_options.MaxTokens == 0)
            return End(StopReason.MaxTokens);

        List<int> history = _session.History;
        int token = _sampler.Sample(_session.Logits, CollectionsMarshal.AsSpan(history));
        if (_firstToken == 0)
            _firstToken = Stopwatch.GetTimestamp();
        if (!_options.IgnoreEos && _session.Model.Vocabulary.IsEndOfGeneration(token))
            return End(StopReason.EndOfSequence);
        history.Add(token);
        _generated.Add(token);
        string piece = _stop.Push(_stream.Append(_session.Model.Tokenizer.GetPieceBytes(token)), out bool stopped);
        _text.Append(piece);
        if (stopped)
        {
            Complete(StopReason.StopString);
            return piece;
        }
        return piece;
    }

    /// <summary>Ends the generation with <see cref="StopReason.Cancelled"/> (no-op once completed).</summary>
    public void Cancel()
    {
        if (Result is null)
            Complete(StopReason.Cancelled, emitTail: false);
    }

    /// <summary>Cancels if still running and frees the session for another generation.</summary>
    public void Dispose() => Cancel();

    // Ends at a stop condition: the held-back text (if any) is returned by this call or the next.
    private string? End(StopReason reason)
    {
        _reason = reason;
        string tail = _stop.Flush(_stream.Flush());
        if (tail.Length == 0)
            return Complete(reason);
        _text.Append(tail);
        _tailPending = true;
        return tail;
    }

    private string? Complete(StopReason reason, bool emitTail = true)
    {
        if (!emitTail)
            _text.Append(_stop.Flush(_stream.Flush()));
        long ended = Stopwatch.GetTimestamp();
        long started = _started == 0 ? ended : _started, prefilled = _prefilled == 0 ? ended : _prefilled;
        Result = new GenerationResult(_text.ToString(), _generated.ToArray(), reason, new GenerationTimings(
            _started == 0 ? 0 : _promptEvaluated, Stopwatch.GetElapsedTime(started, prefilled).TotalMilliseconds,
            _generated.Count, Stopwatch.GetElapsedTime(prefilled, ended).TotalMilliseconds,
            _firstToken == 0 ? 0 : Stopwatch.GetElapsedTime(started, _firstToken).TotalMilliseconds));
        _session.Finish(Result);
        return null;
    }
}
