using System.Runtime.Intrinsics;
using TinyLM.Kernels;

namespace TinyLM.Tests.Kernels;

public class KernelTests
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 2 - 1) * scale;
        return v;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(288)]
    [InlineData(4099)]
    public void GgmlFloatDot_IsFloatProductsSummedInDoubleInOrder(int n)
    {
        float[] x = Random(n, n), y = Random(n, n + 1);
        double sum = 0;
        for (int i = 0; i < n; i++)
            sum += (double)(x[i] * y[i]);
        Assert.Equal(BitConverter.SingleToInt32Bits((float)sum), BitConverter.SingleToInt32Bits(GgmlFloat.Dot(x, y)));
        double squares = 0;
        for (int i = 0; i < n; i++)
            squares += (double)(x[i] * x[i]);
        Assert.Equal(squares, GgmlFloat.SumOfSquares(x));
    }

    [Fact]
    public void GgmlFloatDot_ShorterSecondVector_Throws() =>
        Assert.Throws<ArgumentException>(() => GgmlFloat.Dot(new float[4], new float[3]));

    [Fact]
    public void Exp_IsWithinGgmlBoundOfDoublePrecision()
    {
        // ggml_v_expf: "maximum error is 1.45358 plus 0.5 ulps" over its normal range.
        for (float x = -87f; x <= 88.3f; x += 0.0137f)
        {
            double expected = Math.Exp(x);
            float got = ScalarMath.Exp(x);
            double ulp = MathF.BitIncrement((float)expected) - (float)expected;
            Assert.True(Math.Abs(got - expected) <= 2 * ulp, $"exp({x}) = {got}, expected {expected}");
        }
    }

    [Fact]
    public void Exp_EdgeCases()
    {
        Assert.Equal(1f, ScalarMath.Exp(0f));
        Assert.Equal(0f, ScalarMath.Exp(-1000f));
        Assert.Equal(0f, ScalarMath.Exp(float.NegativeInfinity));
        Assert.Equal(float.PositiveInfinity, ScalarMath.Exp(89f));
        Assert.Equal(0f, ScalarMath.Exp(-200f));
        Assert.True(ScalarMath.Exp(-100f) is > 0f and < 1e-43f);
        Assert.True(float.IsNaN(ScalarMath.Exp(float.NaN)));
    }

    [Fact]
    public void ExpAndSilu_Vector256_EqualScalarBitForBit()
    {
        // Normal range, both overflow/underflow branches (|n| > 126 and > 192), infinities, NaN, ±0.
        var rng = new Random(11);
        var xs = new List<float> { 0f, -0f, 88.7f, 89f, -87.5f, -88f, -100f, -103.9f, -104f, -150f, -200f, 130f, 200f,
            float.PositiveInfinity, float.NegativeInfinity, float.NaN, float.Epsilon, -float.Epsilon };
        for (int i = 0; i < 20000; i++)
            xs.Add((float)(rng.NextDouble() * 420 - 210));
        while (xs.Count % 8 != 0)
            xs.Add(1f);
        for (int i = 0; i < xs.Count; i += 8)
        {
            var v = Vector256.Create<float>(xs.GetRange(i, 8).ToArray());
            Vector256<float> e = ScalarMath.ExpVector256(v), s = ScalarMath.SiluVector256(v);
            for (int k = 0; k < 8; k++)
            {
                float x = xs[i + k];
                Assert.True(BitEqual(ScalarMath.Exp(x), e.GetElement(k)), $"exp({x:R}): scalar {ScalarMath.Exp(x):R}, vector {e.GetElement(k):R}");
                Assert.True(BitEqual(ScalarMath.Silu(x), s.GetElement(k)), $"silu({x:R})");
            }
        }

        static bool BitEqual(float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b) || float.IsNaN(a) && float.IsNaN(b);
    }

    [Fact]
    public void Softmax_EqualsReferenceBitForBit()
    {
        // Every length from 1 to 40 (tails of one to seven after the eight-wide groups), scores
        // spread wide enough that some exponentials underflow through ggml_v_expf's special branch.
        var rng = new Random(5);
        for (int n = 1; n <= 40; n++)
            for (int rep = 0; rep < 5; rep++)
            {
                float[] x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * (rep == 4 ? 300 : 20) - 10)).ToArray();
                float[] expected = (float[])x.Clone();
                Softmax.ApplyReference(expected);
                Softmax.Apply(x);
                Assert.Equal(expected, x);
            }
    }

    [Fact]
    public void SwiGlu_EqualsScalarDefinition()
    {
        // Groups of four use ggml_v_silu (ScalarMath.Silu), the last one to three elements C expf.
        var rng = new Random(9);
        foreach (int n in new[] { 3, 8, 13, 37, 2048 })
        {
            float[] gate = Random(n, n, 8f), up = Random(n, n + 1, 2f);
            float[] expected = new float[n];
            int grouped = n & ~3;
            for (int i = 0; i < n; i++)
                expected[i] = i < grouped ? ScalarMath.Silu(gate[i]) * up[i] : gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
            ComputeKernels.Managed.SwiGlu(gate, up);
            Assert.Equal(expected, gate);
        }
    }

    [Fact]
    public void Softmax_SumsToOneAndPreservesOrder()
    {
        float[] x = [1f, 3f, -2f, 3f, float.NegativeInfinity];
        Softmax.Apply(x);
        Assert.Equal(0f, x[4]);
        Assert.Equal(1f, x.Sum(), 5);
        Assert.Equal(0f, x[4]);
        Assert.Equal(x[1], x[3]);
        Assert.True(x[1] > x[0] && x[0] > x[2]);
        Assert.Equal(Math.Exp(1 - 3) / (2 + Math.Exp(-2) + Math.Exp(-5)), x[0], 6);
        // Group sums in float, (e0 + e1) + (e2 + e3), accumulated in double; scaled by (float)(1/sum).
        float[] y = [0.5f, -1f, 2f, 0.25f, 1.5f];
        float[] e = y.Select(v => ScalarMath.Exp(v - 2f)).ToArray();
        double sum = (double)((e[0] + e[1]) + (e[2] + e[3])) + (double)((e[4] + 0f) + (0f + 0f));
        float scale = (float)(1.0 / sum);
        Softmax.Apply(y);
        Assert.Equal(e.Select(v => v * scale).ToArray(), y);
    }

    [Fact]
    public void RmsNorm_MatchesDefinition()
    {
        float[] x = Random(300, 7, 3f), w = Random(300, 8), y = new float[300];
        RmsNorm.Apply(x, w, 1e-5f, y);
        double sum = 0;
        foreach (float v in x) sum += (double)(v * v);
        float mean = (float)(sum / x.Length);
        float scale = 1.0f / MathF.Sqrt(mean + 1e-5f);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(x[i] * scale * w[i], y[i]);
    }

    [Theory]
    [InlineData(300, 13)]
    [InlineData(7, 9)]
    [InlineData(4, 4)]
    [InlineData(576, 8)]
    [InlineData(3, 5)]
    public void RmsNormRows_EqualsEachRowAlone_AlsoInPlace(int n, int rows)
    {
        // elements from 2^-16 to 2^6 with rows of different scales: a row summed into another row's lane, or a lane
        // left out, changes the output (the sum's order inside a row rarely shows after the float rounding of the mean)
        var rng = new Random(20 + n);
        float[] x = new float[n * rows], w = Random(n, 8), expected = new float[n * rows], y = new float[n * rows];
        for (int i = 0; i < x.Length; i++)
            x[i] = (float)((rng.NextDouble() + 0.5) * Math.ScaleB(rng.Next(2) == 0 ? 1 : -1, rng.Next(-16, 4) + i / n % 3));
        for (int t = 0; t < rows; t++)
            RmsNorm.Apply(x.AsSpan(t * n, n), w, 1e-5f, expected.AsSpan(t * n, n));
        RmsNorm.ApplyRows(x, w, 1e-5f, y, rows);
        Assert.Equal(expected, y);
        RmsNorm.ApplyRows(x, w, 1e-5f, x, rows);
        Assert.Equal(expected, x);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rope_RotatesPairsByPositionAngle(bool neox)
    {
        const int headDim = 8, heads = 2;
        var rope = new Rope(headDim, 16, 10000f, 1f, default, neox);
        float[] x = Random(heads * headDim, 3), original = (float[])x.Clone();
        rope.Apply(x, heads, headDim, 5);
        for (int h = 0; h < heads; h++)
            for (int k = 0; k < headDim / 2; k++)
            {
                int i0 = neox ? k : 2 * k, i1 = neox ? k + headDim / 2 : 2 * k + 1;
                double theta = 5 * Math.Pow(10000, -2.0 * k / headDim);
                double a = original[h * headDim + i0], b = original[h * headDim + i1];
                Assert.Equal(a * Math.Cos(theta) - b * Math.Sin(theta), x[h * headDim + i0], 4);
                Assert.Equal(a * Math.Sin(theta) + b * Math.Cos(theta), x[h * headDim + i1], 4);
            }
    }

    [Fact]
    public void Rope_PositionZeroIsIdentityAndOutOfRangeThrows()
    {
        var rope = new Rope(4, 2, 10000f);
        float[] x = [1, 2, 3, 4];
        rope.Apply(x, 1, 4, 0);
        Assert.Equal([1f, 2f, 3f, 4f], x);
        Assert.Throws<ArgumentOutOfRangeException>(() => rope.Apply(x, 1, 4, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Rope(3, 2, 10000f));
    }

    private sealed class CountingWork(int n) : IParallelWork
    {
        public readonly int[] Hits = new int[n];
        public int Calls;
        public void Execute(int start, int end)
        {
            Interlocked.Increment(ref Calls);
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 4)]
    [InlineData(4, 16)]
    public void WorkerPool_CoversEveryItemOnce(int threads, int granularity)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 200; round++)
        {
            int n = 1 + round * 7 % 97;
            var work = new CountingWork(n);
            pool.Run(work, n, granularity);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
        }
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 1)]
    public void WorkerPool_ChunksPerThread_BoundsTheChunks_AndCoversEveryItemOnce(int threads, int chunksPerThread)
    {
        using var pool = new WorkerPool(threads);
        for (int round = 0; round < 50; round++)
        {
            int n = 16 + round * 13 % 200;
            var work = new CountingWork(n);
            pool.Run(work, n, granularity: 8, chunksPerThread: chunksPerThread);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            Assert.InRange(work.Calls, 1, threads * chunksPerThread);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(new CountingWork(8), 8, chunksPerThread: 0));
    }

    // A worker's first chunk stalls until the calling thread has run every other item; the caller's
    // first chunk waits until a worker has started, so that a worker surely takes part.
    private sealed class StragglerWork(int callerThread, int items) : IParallelWork
    {
        private readonly ManualResetEventSlim _workerStarted = new(), _callerDone = new();
        private int _callerItems, _callerCalls, _workerCalls;
        public bool WorkerStarted, CallerTookOver;
        public readonly int[] Hits = new int[items];

        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
                Interlocked.Increment(ref Hits[i]);
            if (Environment.CurrentManagedThreadId == callerThread)
            {
                if (Interlocked.Increment(ref _callerCalls) == 1)
                    WorkerStarted = _workerStarted.Wait(TimeSpan.FromSeconds(20));
                if (Interlocked.Add(ref _callerItems, end - start) == items - 1)
                    _callerDone.Set();
            }
            else if (Interlocked.Increment(ref _workerCalls) == 1)
            {
                _workerStarted.Set();
                CallerTookOver = _callerDone.Wait(TimeSpan.FromSeconds(20));
            }
        }
    }

    [Fact]
    public void WorkerPool_CallerTakesOverTheChunksOfAStalledWorker()
    {
        using var pool = new WorkerPool(2);
        int items = 2 * WorkerPool.ChunksPerThread; // one item per chunk
        for (int round = 0; round < 3; round++)
        {
            var work = new StragglerWork(Environment.CurrentManagedThreadId, items);
            pool.Run(work, items);
            Assert.All(work.Hits, h => Assert.Equal(1, h));
            Assert.True(work.WorkerStarted, "no worker took part");
            Assert.True(work.CallerTookOver, "the caller waited for a stalled worker instead of taking its chunks");
        }
    }

    private sealed class FailingWork : IParallelWork
    {
        public void Execute(int start, int end)
        {
            if (start > 0) throw new InvalidOperationException("boom");
        }
    }

    [Fact]
    public void WorkerPool_WorkerExceptionSurfacesAndPoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<AggregateException>(() => pool.Run(new FailingWork(), 100));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        var work = new CountingWork(10);
        pool.Run(work, 10);
        Assert.All(work.Hits, h => Assert.Equal(1, h));
    }
}
