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
/// A persistent pool of worker threads that splits an index range into contiguous chunks, one per
/// thread, with the calling thread taking the first chunk. Workers spin briefly between jobs and
/// then sleep, so back-to-back matrix products pay no thread start-up and no allocation.
/// </summary>
/// <remarks>
/// With one thread (or on platforms without threads, such as browser WebAssembly) <see cref="Run"/>
/// just calls <see cref="IParallelWork.Execute"/> on the caller. Not reentrant: one
/// <see cref="Run"/> at a time per pool.
/// </remarks>
public sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 20_000;

    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private IParallelWork? _work;
    private int _items;
    private int _granularity = 1;
    private int _generation;
    private int _pending;
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
        _threads = new Thread[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int index = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"TinyLM worker {index}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads used by <see cref="Run"/>, including the caller.</summary>
    public int ThreadCount { get; }

    /// <summary>
    /// Runs <paramref name="work"/> over <c>[0, items)</c>, split into <see cref="ThreadCount"/>
    /// contiguous chunks whose boundaries are multiples of <paramref name="granularity"/>, and
    /// returns when all chunks are done.
    /// </summary>
    /// <exception cref="AggregateException">A chunk threw; the first exception is inside.</exception>
    public void Run(IParallelWork work, int items, int granularity = 1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ThreadCount == 1 || items <= granularity)
        {
            work.Execute(0, items);
            return;
        }
        _work = work;
        _items = items;
        _granularity = granularity;
        _failure = null;
        Volatile.Write(ref _pending, ThreadCount - 1);
        lock (_lock)
        {
            _generation++;
            Monitor.PulseAll(_lock);
        }
        RunChunk(0);
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) != 0)
            spin.SpinOnce(sleep1Threshold: -1);
        _work = null;
        if (_failure is not null)
            throw new AggregateException("A worker failed.", _failure);
    }

    private void RunChunk(int index)
    {
        int blocks = (_items + _granularity - 1) / _granularity;
        int start = (int)((long)blocks * index / ThreadCount) * _granularity;
        int end = Math.Min(_items, (int)((long)blocks * (index + 1) / ThreadCount) * _granularity);
        if (start < end)
            _work!.Execute(start, end);
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen && !_disposed)
            {
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(8);
                    continue;
                }
                lock (_lock)
                {
                    while (_generation == seen && !_disposed)
                        Monitor.Wait(_lock);
                }
            }
            if (_disposed)
                return;
            seen = Volatile.Read(ref _generation);
            try
            {
                RunChunk(index);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            Interlocked.Decrement(ref _pending);
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
