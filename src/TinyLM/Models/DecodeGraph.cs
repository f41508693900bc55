using TinyLM.Kernels;

namespace TinyLM.Models;

/// <summary>
/// Replays a session's one-token decode steps as a <see cref="KernelGraph"/> when its kernels are an
/// <see cref="IKernelGraphHost"/> (the browser's emitted WebAssembly): records three consecutive steps,
/// fits the graph, then runs each following step as one host call instead of the interpreted forward
/// pass. The architecture's <c>Forward</c> brackets the part of a step that runs only kernels (after
/// the embedding lookup, up to the logits) with <see cref="BeginRecording"/> and <see cref="EndRecording"/>.
/// </summary>
internal sealed class DecodeGraph
{
    // Fits that failed (different calls, a non-affine argument) before replay is given up for the session.
    private const int MaxFailedFits = 3;

    private readonly IKernelGraphHost? _host;
    private readonly int _contextLength;
    private readonly List<(int Position, KernelRecording Recording)> _recordings = [];
    private KernelGraph? _graph;
    private int _handle = -1, _failedFits;
    private bool _recording;

    /// <param name="kernels">The session's kernels; replay only when they are an <see cref="IKernelGraphHost"/> with graphs enabled.</param>
    /// <param name="contextLength">KV-cache positions: a replayed step's position must be below it.</param>
    public DecodeGraph(ComputeKernels kernels, int contextLength)
    {
        _host = kernels is IKernelGraphHost { GraphsEnabled: true } host ? host : null;
        _contextLength = contextLength;
    }

    /// <summary>Why replay was given up for this session (null while it is on or still possible).</summary>
    public string? DisabledReason { get; private set; }

    /// <summary>Steps replayed so far.</summary>
    public int Replays { get; private set; }

    /// <summary>Runs the step at <paramref name="position"/> from the graph; false when the caller must run it.</summary>
    public bool TryReplay(int position)
    {
        if (_graph is null || _host is null || position < 0 || position >= _contextLength)
            return false;
        if (!_host.RunGraph(_handle, position - _graph.Position))
        {
            // a buffer the graph uses was replaced: record again
            Drop();
            return false;
        }
        Replays++;
        return true;
    }

    /// <summary>Starts recording the step at <paramref name="position"/> when a graph is wanted; true when recording.</summary>
    public bool BeginRecording(int position)
    {
        if (_host is null || _graph is not null || DisabledReason is not null)
            return false;
        if (_recordings.Count > 0 && _recordings[^1].Position != position - 1)
            _recordings.Clear();
        _host.BeginRecording();
        _recording = true;
        return true;
    }

    /// <summary>Ends the recording of the step at <paramref name="position"/>; with three consecutive steps, fits and installs the graph.</summary>
    public void EndRecording(int position)
    {
        if (!_recording || _host is null)
            return;
        _recording = false;
        KernelRecording recording = _host.EndRecording();
        if (recording.TaintReason is { } taint)
        {
            DisabledReason = $"a step runs work outside the recorded kernels: {taint}";
            _recordings.Clear();
            return;
        }
        _recordings.Add((position, recording));
        if (_recordings.Count < 3)
            return;
        KernelGraph? graph = KernelGraph.TryFit(_recordings[0].Recording, _recordings[1].Recording, _recordings[2].Recording,
            _recordings[0].Position, out string? reason);
        _recordings.Clear();
        if (graph is null)
        {
            if (++_failedFits >= MaxFailedFits)
                DisabledReason = $"the recorded steps do not form a graph: {reason}";
            return;
        }
        _graph = graph;
        _handle = _host.InstallGraph(graph);
    }

    private void Drop()
    {
        if (_graph is not null && _host is not null)
            _host.ReleaseGraph(_handle);
        _graph = null;
        _handle = -1;
        _recordings.Clear();
    }
}
