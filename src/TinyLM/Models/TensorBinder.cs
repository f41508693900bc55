using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Models;

/// <summary>
/// Binds an architecture's tensor manifest to a model file (GGUF or admitted .slm): looks tensors up by name, checks shapes
/// and types, dequantizes small vectors (norm gains, biases) to float, and finally checks that the
/// file holds no tensor the architecture did not ask for (as llama.cpp's "wrong number of tensors").
/// </summary>
internal sealed class TensorBinder(IModelFile file)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public bool Has(string name) => file.FindTensor(name) is not null;

    public GgufTensorInfo Require(string name) => file.GetTensor(name);

    public WeightMatrix Matrix(string name, long columns, long rows)
    {
        _used.Add(name);
        return WeightMatrix.FromFile(file, file.GetTensor(name), columns, rows);
    }

    /// <summary>
    /// Repacks a bound matrix where it has a faster layout (<see cref="WeightMatrix.Repack"/>) and lets
    /// the file's copy of the repacked rows leave resident memory (<see cref="IModelFile.ReleasePages"/>).
    /// </summary>
    public unsafe void Repack(WeightMatrix m)
    {
        m.Repack();
        if (m.Repacked is { } repacked)
            file.ReleasePages(m.Pointer, (long)repacked.Rows * m.RowBytes);
    }

    /// <summary>
    /// <see cref="Repack"/> of every matrix, in parallel on the machine's cores where the runtime has threads (the
    /// matrices are independent and each packs to the same bytes in any order). Model.Load on 2 cores:
    /// stories110M Q4_K_M 471–650 → 389–515 ms, SmolLM-135M Q8_0 412–750 → 270–360, TinyLlama-1.1B Q4_0 1991–2692 → 1062–1380
    /// (five alternating runs each; BENCHMARKS.md).
    /// </summary>
    public void RepackAll(IReadOnlyList<WeightMatrix> matrices)
    {
        if (OperatingSystem.IsBrowser() || Environment.ProcessorCount == 1 || matrices.Count < 2)
        {
            foreach (WeightMatrix m in matrices)
                Repack(m);
            return;
        }
        // largest first, one at a time (no chunks), so the last matrix to start is a small one
        try
        {
            Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(matrices.OrderByDescending(m => m.ByteSize), System.Collections.Concurrent.EnumerablePartitionerOptions.NoBuffering),
                new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, Repack);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            // the caller sees what a sequential repack would have thrown (out of memory, say)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    public float[] Vector(string name, int length)
    {
        GgufTensorInfo t = file.GetTensor(name);
        _used.Add(name);
        if (t.Shape.Count != 1 || t.Shape[0] != length)
            throw new ModelFormatException(file.Source, -1, $"tensor '{name}': expected shape [{length}], found {t.ShapeText}");
        if (!TensorTypes.TryGet(t.Type, out TensorType? type))
            throw new ModelFormatException(file.Source, -1, $"tensor '{name}': type {t.Type} is not supported");
        var values = new float[length];
        type.Dequantize(file.GetTensorData(t), values);
        foreach (float v in values)
            if (!float.IsFinite(v))
                throw new ModelFormatException(file.Source, file.GetTensorFileOffset(t), $"tensor '{name}': expected finite values, found {v}");
        return values;
    }

    public float[]? OptionalVector(string name, int length) => Has(name) ? Vector(name, length) : null;

    public void EnsureAllUsed()
    {
        string[] unused = file.Tensors.Select(t => t.Name).Where(n => !_used.Contains(n)).ToArray();
        if (unused.Length > 0)
            throw new ModelFormatException(file.Source, -1,
                $"expected only the tensors of architecture '{file.Architecture}', found {unused.Length} more: {string.Join(", ", unused.Take(5))}{(unused.Length > 5 ? ", ..." : "")}");
    }
}
