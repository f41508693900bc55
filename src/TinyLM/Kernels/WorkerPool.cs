namespace TinyLM.Kernels;

/// <summary>
/// A unit of data-parallel work: the range <c>[start, end)</c> of some index space (matrix rows,
/// heads) that one thread computes. Implementations are reusable objects whose fields are set
/// before each <see cref="WorkerPool.Run"/>, so that running work allocates nothing.
/// </summary>
public interface IParallelWork
{
    /// <summary>Computes items <c>[start, end)</c>. Called concurrently with disjoint ranges.</summary>
    void Execute(int start, int end);
}

/// <summary>
/// A persistent pool of worker threads that splits an index range into chunks which the calling
/// thread and the workers claim one at a time. Workers spin briefly between jobs and then sleep, so
/// back-to-back matrix products pay no thread start-up and no allocation.
/// </summary>
/// <remarks>
/// The range is cut into up to <see cref="ChunksPerThread"/> (or the caller's count of) chunks per thread, claimed with an
/// atomic counter (tagged with the job's generation so a late worker never takes a chunk of the next
/// job). When a worker is descheduled — the machine is busy, or has fewer free cores than threads —
/// the others, including the caller, take its share instead of waiting for it; only a chunk already
/// claimed is waited for. Which thread computes a chunk never changes results: chunks are disjoint
/// and each item is computed the same way. With one thread (or on platforms without threads, such
/// as browser WebAssembly) <see cref="Run"/> just calls <see cref="IParallelWork.Execute"/> on the
/// caller. Not reentrant: one <see cref="Run"/> at a time per pool.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 20_000;

    /// <summary>Chunks per thread that one <see cref="Run"/> is cut into (at most), unless it asks for another count.</summary>
    public const int ChunksPerThread = 4;

    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private IParallelWork? _work;
    private int _items;
    private int _granularity = 1;
    private int _chunks;
    private int _generation;
    private long _claim;       // (generation << 32) | index of the next unclaimed chunk
    private int _remaining;    // chunks of the current job not finished yet
    private int _sleepers;     // workers blocked in Monitor.Wait
    private volatile bool _disposed;
    private Exception? _failure;

    /// <summary>Creates a pool.</summary>
    /// <param name="threadCount">Total threads including the caller, at least 1. Forced to 1 where
    /// threads are unsupported.</param>
    public WorkerPool(int threadCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        if (OperatingSystem.IsBrowser() || OperatingSystem.IsWasi())
            threadCount = 1;
        ThreadCount = threadCount;
        // Give the lock its wait structures now (Monitor.Wait needs them) rather than on its first
        // contention in the middle of decoding, so that running jobs allocates nothing.
        lock (_lock)
            Monitor.Wait(_lock, 0);
        _threads = new Thread[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"TinyLM worker {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads used by <see cref="Run"/>, including the caller.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="work"/> over <c>[0, items)</c>, cut into contiguous chunks whose
    /// boundaries are multiples of <paramref name="granularity"/>, at most
    /// <paramref name="chunksPerThread"/> per thread, and returns when all chunks are done.
    /// </summary>
    /// <remarks>
    /// Fewer, longer chunks stream memory better (a decode step's matrix products: one chunk per
    /// thread, each thread reading one contiguous run of the weights); more chunks let the others take
    /// more of a descheduled worker's share. Either way an unclaimed chunk is taken by whoever is free.
    /// </remarks>
    /// <exception cref="AggregateException">A chunk threw; the first exception is inside.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="granularity"/> or <paramref name="chunksPerThread"/> below 1.</exception>
    public void Run(IParallelWork work, int items, int granularity = 1, int chunksPerThread = ChunksPerThread)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(granularity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunksPerThread, 1);
        if (ThreadCount == 1 || items <= granularity)
        {
            work.Execute(0, items);
            return;
        }
        int blocks = (items + granularity - 1) / granularity;
        _work = work;
        _items = items;
        _granularity = granularity;
        _chunks = Math.Min(blocks, ThreadCount * chunksPerThread);
        _failure = null;
        Volatile.Write(ref _remaining, _chunks);
        int generation = ++_generation;
        // Full fence (Dekker with a worker that registers as a sleeper, then re-reads _claim).
        Interlocked.Exchange(ref _claim, (long)generation << 32);
        if (Volatile.Read(ref _sleepers) > 0)
        {
            lock (_lock)
                Monitor.PulseAll(_lock);
        }
        Participate(generation);
        var spin = new SpinWait();
        while (Volatile.Read(ref _remaining) != 0)
            spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
        if (_failure is not null)
            throw new AggregateException("A worker failed.", _failure);
    }

    // Claims and runs chunks of job `generation` until none is left.
    private void Participate(int generation)
    {
        while (true)
        {
            long claim = Volatile.Read(ref _claim);
            int index = (int)claim;
            if ((int)(claim >> 32) != generation || index >= Volatile.Read(ref _chunks))
                return;
            if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim)
                continue;
            // The job cannot finish (nor its fields change) before this chunk is counted down.
            try
            {
                int blocks = (_items + _granularity - 1) / _granularity;
                int start = (int)((long)blocks * index / _chunks) * _granularity;
                int end = Math.Min(_items, (int)((long)blocks * (index + 1) / _chunks) * _granularity);
                if (start < end)
                    _work!.Execute(start, end);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            Interlocked.Decrement(ref _remaining);
        }
    }

    private int CurrentGeneration => (int)(Volatile.Read(ref _claim) >> 32);

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (CurrentGeneration == seen && !_disposed)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(8);
                    continue;
                }
                lock (_lock)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (CurrentGeneration == seen && !_disposed)
                        Monitor.Wait(_lock);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            if (_disposed)
                return;
            seen = CurrentGeneration;
            Participate(seen);
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        lock (_lock)
        {
            _disposed = true;
            Monitor.PulseAll(_lock);
        }
        foreach (Thread t in _threads)
            t.Join();
    }
}
