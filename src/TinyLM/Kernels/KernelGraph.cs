using System.Runtime.InteropServices;

namespace TinyLM.Kernels;

/// <summary>
/// Kernels that can record the calls one decode step makes and replay them later without running the
/// code between them — the idea of llama.cpp's CUDA-graph reuse (ggml-cuda: a step's graph is captured
/// once and relaunched while its shape stays the same). The browser needs it because C# runs interpreted
/// there: the kernels of a SmolLM-135M token take about 9 ms, the interpreted C# that computes their
/// arguments about 3 ms more (BENCHMARKS.md). A host records the calls of three consecutive steps,
/// <see cref="KernelGraph.TryFit"/> checks that every argument is affine in the position and the host
/// then runs a step as one call.
/// </summary>
/// <remarks>
/// A host may record only calls whose operands stay where they are (pinned arrays, the model buffer)
/// and must mark a recording <see cref="KernelRecording.Taint">tainted</see> when a recorded step runs
/// any work it cannot replay (a managed fallback). Every replayed call computes exactly what the
/// recorded call did at that position, so results are bit-identical with and without replay.
/// </remarks>
public interface IKernelGraphHost
{
    /// <summary>False when the host was told to run every step (a switch for comparisons); nothing is recorded then.</summary>
    bool GraphsEnabled { get; }

    /// <summary>Starts recording the kernel calls that follow (discarding an unfinished recording); the calls still run.</summary>
    void BeginRecording();

    /// <summary>Stops recording and returns the calls made since <see cref="BeginRecording"/>.</summary>
    /// <exception cref="InvalidOperationException">No recording was started.</exception>
    KernelRecording EndRecording();

    /// <summary>Makes <paramref name="graph"/> runnable; returns its handle for <see cref="RunGraph"/>.</summary>
    int InstallGraph(KernelGraph graph);

    /// <summary>
    /// Runs the calls of graph <paramref name="handle"/> at <c>graph.Position + positionOffset</c>;
    /// false (nothing ran) when the graph went stale: a buffer its calls use was replaced since it was
    /// recorded, so the caller must run the step normally and record again.
    /// </summary>
    bool RunGraph(int handle, int positionOffset);

    /// <summary>Forgets graph <paramref name="handle"/>.</summary>
    void ReleaseGraph(int handle);
}

/// <summary>
/// The kernel calls of one step, in order, as 32-bit words: per call <c>kind, function, argument count,
/// float mask</c> then the arguments (addresses, sizes, positions; an argument whose bit is set in the
/// mask is the bit pattern of an <see cref="float"/>). <c>kind</c> and <c>function</c> are the host's own
/// (e.g. an export index of the emitted module).
/// </summary>
public sealed class KernelRecording
{
    /// <summary>Words before a call's arguments.</summary>
    public const int HeaderWords = 4;

    private readonly List<int> _words = [];

    /// <summary>The recorded words (valid until the next <see cref="Add"/>).</summary>
    public ReadOnlySpan<int> Words => CollectionsMarshal.AsSpan(_words);

    /// <summary>Calls recorded.</summary>
    public int Calls { get; private set; }

    /// <summary>Why this recording cannot be replayed (null when it can).</summary>
    public string? TaintReason { get; private set; }

    /// <summary>Appends one call.</summary>
    /// <param name="kind">Host-defined call kind (0 to 255).</param>
    /// <param name="function">Host-defined function index.</param>
    /// <param name="floatMask">Bit i set: argument i is a float's bits (at most 31 arguments).</param>
    /// <param name="arguments">The call's arguments.</param>
    /// <exception cref="ArgumentOutOfRangeException">More than 31 arguments, or a kind outside 0..255.</exception>
    public void Add(int kind, int function, int floatMask, ReadOnlySpan<int> arguments)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(arguments.Length, 31);
        ArgumentOutOfRangeException.ThrowIfNegative(kind);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(kind, 255);
        _words.Add(kind);
        _words.Add(function);
        _words.Add(arguments.Length);
        _words.Add(floatMask);
        foreach (int a in arguments)
            _words.Add(a);
        Calls++;
    }

    /// <summary>Marks the step as not replayable (work ran that the host did not record); the first reason is kept.</summary>
    public void Taint(string reason) => TaintReason ??= reason;
}

/// <summary>
/// A step's kernel calls as a function of the position: words at <see cref="Position"/> plus
/// <c>(position − Position) × Deltas</c> — the KV-cache row a step writes, the RoPE angle and the
/// attention span move with the position, every other argument stays put.
/// </summary>
public sealed class KernelGraph
{
    private KernelGraph(int[] words, int[] deltas, int position, int calls)
    {
        Words = words;
        Deltas = deltas;
        Position = position;
        Calls = calls;
    }

    /// <summary>The calls at <see cref="Position"/> (the layout of <see cref="KernelRecording.Words"/>).</summary>
    public int[] Words { get; }

    /// <summary>Per word, its change per position (0 for headers and floats).</summary>
    public int[] Deltas { get; }

    /// <summary>The position of the first recording.</summary>
    public int Position { get; }

    /// <summary>Calls per step.</summary>
    public int Calls { get; }

    /// <summary>The words at <paramref name="position"/>.</summary>
    public int[] WordsAt(int position)
    {
        var words = new int[Words.Length];
        int offset = position - Position;
        for (int i = 0; i < words.Length; i++)
            words[i] = unchecked(Words[i] + offset * Deltas[i]);
        return words;
    }

    /// <summary>
    /// Fits a graph to the recordings of three consecutive steps at <paramref name="position"/>,
    /// <c>position + 1</c> and <c>position + 2</c>: the same calls in the same order (kind, function,
    /// argument count, float mask), float arguments equal, every other argument changing by the same
    /// amount from the first step to the second as from the second to the third. Null, with the first
    /// reason, when they do not fit.
    /// </summary>
    /// <exception cref="ArgumentNullException">A recording is null.</exception>
    public static KernelGraph? TryFit(KernelRecording first, KernelRecording second, KernelRecording third, int position, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(third);
        reason = first.TaintReason ?? second.TaintReason ?? third.TaintReason;
        if (reason is not null)
            return null;
        ReadOnlySpan<int> a = first.Words, b = second.Words, c = third.Words;
        if (a.Length != b.Length || a.Length != c.Length || first.Calls == 0)
        {
            reason = $"the steps made different calls ({first.Calls}, {second.Calls}, {third.Calls} calls; {a.Length}, {b.Length}, {c.Length} words)";
            return null;
        }
        var words = new int[a.Length];
        var deltas = new int[a.Length];
        int call = 0;
        for (int i = 0; i < a.Length; call++)
        {
            if (i + KernelRecording.HeaderWords > a.Length)
            {
                reason = $"call {call} is malformed (a header of {a.Length - i} words)";
                return null;
            }
            for (int h = 0; h < KernelRecording.HeaderWords; h++)
            {
                if (a[i + h] != b[i + h] || a[i + h] != c[i + h])
                {
                    reason = $"call {call} differs between the steps (header word {h}: {a[i + h]}, {b[i + h]}, {c[i + h]})";
                    return null;
                }
                words[i + h] = a[i + h];
            }
            int count = a[i + 2], floatMask = a[i + 3];
            if (count < 0 || i + KernelRecording.HeaderWords + count > a.Length)
            {
                reason = $"call {call} is malformed ({count} arguments)";
                return null;
            }
            int function = a[i + 1];
            i += KernelRecording.HeaderWords;
            for (int j = 0; j < count; j++, i++)
            {
                int d = unchecked(b[i] - a[i]);
                bool isFloat = (floatMask >> j & 1) != 0;
                if (unchecked(c[i] - b[i]) != d || (isFloat && d != 0))
                {
                    reason = $"argument {j} of call {call} (function {function}) is not affine in the position: {a[i]}, {b[i]}, {c[i]}";
                    return null;
                }
                words[i] = a[i];
                deltas[i] = d;
            }
        }
        return new KernelGraph(words, deltas, position, first.Calls);
    }
}
