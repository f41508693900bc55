using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Sampling;
using TinyLM.Tests.Formats.Slm;

namespace TinyLM.Tests.Generation;

/// <summary>
/// The decode loop's steady state allocates no managed memory: a forward pass (matrix products,
/// attention, norms) and sampling reuse the session's buffers and the worker pool's job objects.
/// Measured on the calling thread with <see cref="GC.GetAllocatedBytesForCurrentThread"/>.
/// </summary>
public sealed class AllocationTests
{
    public static TheoryData<string, int> Cases => new()
    {
        { "stories260K", 1 },
        { "stories260K", 2 },
        { nameof(GgmlType.Q8_0), 1 },
        { nameof(GgmlType.Q4_0), 2 },
        { nameof(GgmlType.Q4_K), 1 },
        { nameof(GgmlType.Q6_K), 2 },
        { nameof(GgmlType.F16), 1 },
    };

    private static Model LoadModel(string name) => name == "stories260K"
        ? Model.Load(TestPaths.DefaultModel)
        : Model.Load(SlmTestFiles.TinyGguf(Enum.Parse<GgmlType>(name), new RandomLlama.Shape("alloc", 256, 2, 4, 2, 512, 128)), name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecodeAndSample_SteadyState_AllocatesNothing(string model, int threads)
    {
        using Model m = LoadModel(model);
        using InferenceSession session = m.CreateSession(new SessionOptions { Threads = threads, ContextLength = 96 });
        var sampler = new Sampler(new SamplingOptions { Temperature = 0.8f, TopK = 40, TopP = 0.9f, MinP = 0.05f, RepeatPenalty = 1.1f, Seed = 3 }, m.VocabularySize);
        int[] history = new int[96];
        int n = 0, token = 1;

        void Step()
        {
            ReadOnlySpan<float> logits = session.Decode(token);
            history[n++] = token;
            token = sampler.Sample(logits, history.AsSpan(0, n));
        }

        session.Evaluate([1, 2, 3, 4, 5, 6, 7, 8]); // prefill, then warm up every path (JIT tiers, lazy buffers)
        for (int i = 0; i < 16; i++)
            Step();
        // Three windows of 16 steps. An allocation per step shows in every window; the runtime's own
        // one-off allocations (a lock's first contention, a method's tier-up) land in one at most.
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 16; i++)
                Step();
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(windows.Min() == 0, $"bytes allocated per 16 decode+sample steps: {string.Join(", ", windows)}");
        Assert.Equal(8 + 64, session.Position);
    }
}
