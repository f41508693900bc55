namespace TinyLM.Generation;

/// <summary>Resources of an <see cref="InferenceSession"/>.</summary>
public sealed record SessionOptions
{
    /// <summary>
    /// KV cache capacity in tokens (llama.cpp <c>n_ctx</c>); 0 selects the smaller of the model's
    /// trained context and 4096. Prompt plus generated tokens may not exceed it.
    /// </summary>
    public int ContextLength { get; init; }

    /// <summary>Most prompt tokens evaluated in one batched forward pass (llama.cpp <c>n_batch</c>). Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Threads for matrix products, including the caller; 0 selects one per core, at most 8. Forced to 1 in the browser.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The implementation of the hot operations; null selects <see cref="TinyLM.Kernels.ComputeKernels.Managed"/>.
    /// The browser passes its emitted WebAssembly kernels. Every implementation gives the same bits.
    /// </summary>
    public Kernels.ComputeKernels? Kernels { get; init; }

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is negative or too large.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ContextLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchSize, 65536);
        ArgumentOutOfRangeException.ThrowIfNegative(Threads);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Threads, 256);
    }
}
