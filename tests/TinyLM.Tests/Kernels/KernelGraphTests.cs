using TinyLM.Kernels;
using TinyLM.Models;

namespace TinyLM.Tests.Kernels;

public class KernelGraphTests
{
    // A step at `position` as the Llama forward pass records it: an address that never moves, the KV-cache
    // row (address + position × row bytes), the RoPE position, and a float (epsilon).
    private static KernelRecording Step(int position, int rowBytes = 256, float epsilon = 1e-5f, int calls = 2)
    {
        var r = new KernelRecording();
        r.Add(0, 7, 0, [1000, 4096 + position * rowBytes, 1]);
        r.Add(3, 2, 1 << 1, [2000, BitConverter.SingleToInt32Bits(epsilon), 3000, 64, 1]);
        for (int i = 2; i < calls; i++)
            r.Add(1, 5, 0, [5000 + i, position, 8]);
        return r;
    }

    [Fact]
    public void TryFit_AffineSteps_GivesWordsAtAnyPosition()
    {
        KernelGraph? graph = KernelGraph.TryFit(Step(10), Step(11), Step(12), 10, out string? reason);
        Assert.Null(reason);
        Assert.NotNull(graph);
        Assert.Equal(2, graph.Calls);
        Assert.Equal(10, graph.Position);
        foreach (int p in new[] { 0, 10, 13, 500 })
            Assert.Equal(Step(p).Words.ToArray(), graph.WordsAt(p));
        // headers and the float never move
        Assert.Equal([0, 0, 0, 0, 0, 256, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], graph.Deltas);
    }

    [Fact]
    public void TryFit_RefusesStepsThatDoNotFormAGraph()
    {
        // a different number of calls
        Assert.Null(KernelGraph.TryFit(Step(1), Step(2, calls: 3), Step(3), 1, out string? reason));
        Assert.Contains("different calls", reason);
        // a different function in one call
        KernelRecording other = new();
        other.Add(0, 8, 0, [1000, 4096 + 3 * 256, 1]);
        other.Add(3, 2, 1 << 1, [2000, BitConverter.SingleToInt32Bits(1e-5f), 3000, 64, 1]);
        Assert.Null(KernelGraph.TryFit(Step(1), Step(2), other, 1, out reason));
        Assert.Contains("call 0 differs", reason);
        // an argument that is not affine (the row address jumps: a buffer was replaced)
        Assert.Null(KernelGraph.TryFit(Step(1), Step(2), Step(3, rowBytes: 512), 1, out reason));
        Assert.Contains("argument 1 of call 0", reason);
        // a float that changes
        Assert.Null(KernelGraph.TryFit(Step(1, epsilon: 1e-5f), Step(2, epsilon: 2e-5f), Step(3, epsilon: 3e-5f), 1, out reason));
        Assert.Contains("argument 1 of call 1", reason);
        // a step that ran work outside the kernels
        KernelRecording tainted = Step(3);
        tainted.Taint("RoPE past its table runs in C#");
        tainted.Taint("a second reason");
        Assert.Null(KernelGraph.TryFit(Step(1), Step(2), tainted, 1, out reason));
        Assert.Equal("RoPE past its table runs in C#", reason);
        // nothing recorded
        Assert.Null(KernelGraph.TryFit(new KernelRecording(), new KernelRecording(), new KernelRecording(), 0, out reason));
    }

    [Fact]
    public void Add_RefusesMoreThan31ArgumentsAndKindsOutsideAByte()
    {
        var r = new KernelRecording();
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Add(0, 0, 0, new int[32]));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.Add(256, 0, 0, []));
        Assert.Equal(0, r.Calls);
    }

    /// <summary>A host whose steps are <see cref="Step"/>s: records what the test says a step calls, replays by counting.</summary>
    private sealed class FakeHost : ComputeKernels, IKernelGraphHost
    {
        public bool GraphsEnabled { get; init; } = true;
        public KernelRecording? Recording;
        public readonly List<(int Handle, int Offset)> Runs = [];
        public readonly List<int> Released = [];
        public KernelGraph? Installed;
        public bool Stale;

        public void BeginRecording() => Recording = new KernelRecording();

        public KernelRecording EndRecording()
        {
            KernelRecording r = Recording ?? throw new InvalidOperationException("not recording");
            Recording = null;
            return r;
        }

        public int InstallGraph(KernelGraph graph)
        {
            Installed = graph;
            return 42;
        }

        public bool RunGraph(int handle, int positionOffset)
        {
            if (Stale)
                return false;
            Runs.Add((handle, positionOffset));
            return true;
        }

        public void ReleaseGraph(int handle) => Released.Add(handle);

        // what a forward pass at `position` does: replay, or record a step
        public bool Forward(DecodeGraph graph, int position, Action<KernelRecording>? extra = null)
        {
            if (graph.TryReplay(position))
                return true;
            if (graph.BeginRecording(position))
            {
                KernelRecording step = Step(position);
                for (int i = 0; i < step.Words.Length;)
                {
                    int count = step.Words[i + 2];
                    Recording!.Add(step.Words[i], step.Words[i + 1], step.Words[i + 3], step.Words.Slice(i + 4, count));
                    i += 4 + count;
                }
                extra?.Invoke(Recording!);
                graph.EndRecording(position);
            }
            return false;
        }
    }

    [Fact]
    public void DecodeGraph_RecordsThreeConsecutiveSteps_ThenReplays()
    {
        var host = new FakeHost();
        var graph = new DecodeGraph(host, contextLength: 64);
        Assert.False(host.Forward(graph, 5));
        Assert.False(host.Forward(graph, 6));
        Assert.False(host.Forward(graph, 7));
        Assert.NotNull(host.Installed);
        Assert.Equal(5, host.Installed.Position);
        Assert.True(host.Forward(graph, 8));
        Assert.True(host.Forward(graph, 2));     // a new generation that kept two tokens
        Assert.False(host.Forward(graph, 64));   // past the KV cache: the caller runs it (and throws)
        Assert.Equal([(42, 3), (42, -3)], host.Runs);
        Assert.Equal(2, graph.Replays);
        Assert.Null(graph.DisabledReason);
    }

    [Fact]
    public void DecodeGraph_RestartsOnAGapInPositions()
    {
        var host = new FakeHost();
        var graph = new DecodeGraph(host, 64);
        host.Forward(graph, 5);
        host.Forward(graph, 6);
        host.Forward(graph, 20);   // a new prompt: the recordings so far are dropped
        Assert.Null(host.Installed);
        host.Forward(graph, 21);
        host.Forward(graph, 22);
        Assert.Equal(20, host.Installed?.Position);
    }

    [Fact]
    public void DecodeGraph_StaleGraph_IsReleasedAndRecordedAgain()
    {
        var host = new FakeHost();
        var graph = new DecodeGraph(host, 64);
        for (int p = 0; p < 3; p++)
            host.Forward(graph, p);
        host.Stale = true;
        Assert.False(host.Forward(graph, 3));   // stale: released, and this step is recorded
        Assert.Equal([42], host.Released);
        host.Stale = false;
        host.Installed = null;
        Assert.False(host.Forward(graph, 4));
        Assert.False(host.Forward(graph, 5));
        Assert.NotNull(host.Installed);
        Assert.Equal(3, host.Installed.Position);
        Assert.True(host.Forward(graph, 6));
    }

    [Fact]
    public void DecodeGraph_TaintedStep_DisablesReplayForTheSession()
    {
        var host = new FakeHost();
        var graph = new DecodeGraph(host, 64);
        host.Forward(graph, 0);
        host.Forward(graph, 1, r => r.Taint("Q2_K product runs in C#"));
        for (int p = 2; p < 8; p++)
            Assert.False(host.Forward(graph, p));
        Assert.Null(host.Installed);
        Assert.Contains("Q2_K product runs in C#", graph.DisabledReason);
    }

    [Fact]
    public void DecodeGraph_StepsThatNeverFit_GiveUpAfterThreeTries()
    {
        var host = new FakeHost();
        var graph = new DecodeGraph(host, 64);
        int p = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            host.Forward(graph, p++);
            host.Forward(graph, p++, r => r.Add(9, 9, 0, [1]));   // an extra call in the middle step
            host.Forward(graph, p++);
        }
        Assert.Null(host.Installed);
        Assert.Contains("different calls", graph.DisabledReason);
        Assert.Null(host.Recording);
        host.Forward(graph, p);
        Assert.Null(host.Recording);   // nothing is recorded any more
    }

    [Fact]
    public void DecodeGraph_DisabledHostOrManagedKernels_NeverRecord()
    {
        var off = new FakeHost { GraphsEnabled = false };
        var graph = new DecodeGraph(off, 64);
        Assert.False(graph.BeginRecording(0));
        Assert.False(new DecodeGraph(ComputeKernels.Managed, 64).BeginRecording(0));
    }
}
