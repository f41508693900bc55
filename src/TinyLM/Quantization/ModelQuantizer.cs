using TinyLM.Formats;
using TinyLM.Formats.Gguf;

namespace TinyLM.Quantization;

/// <summary>Options of <see cref="ModelQuantizer"/>.</summary>
public sealed class ModelQuantizerOptions
{
    /// <summary>
    /// Threads that quantize rows in parallel (default: the processor count). The output bytes do not
    /// depend on it: rows are independent and the error sums are added in a fixed order.
    /// </summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}

/// <summary>What happened to one tensor.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Shape">Dimensions, innermost first (ggml <c>ne</c>).</param>
/// <param name="SourceType">Type in the input file.</param>
/// <param name="TargetType">Type in the output file.</param>
/// <param name="SourceBytes">Data bytes in the input file.</param>
/// <param name="TargetBytes">Data bytes in the output file.</param>
/// <param name="Rmse">Root-mean-square error of the written tensor against the input, over all
/// elements: <c>sqrt(Σ (dequantize(quantize(x)) − x)² / n)</c>, in the weights' units; null when the
/// tensor was copied unchanged.</param>
/// <param name="FellBack">True when the rows did not divide into the mix's choice and llama.cpp's
/// fallback type was used (see <see cref="QuantizationMix.Fallback"/>).</param>
public sealed record TensorQuantizationReport(string Name, IReadOnlyList<long> Shape, GgmlType SourceType, GgmlType TargetType,
    long SourceBytes, long TargetBytes, double? Rmse, bool FellBack);

/// <summary>The outcome of <see cref="ModelQuantizer.Quantize(GgufFile, LlamaFileType, Stream, ModelQuantizerOptions?, Action{TensorQuantizationReport}?, CancellationToken)"/>.</summary>
/// <param name="FileType">The file type written.</param>
/// <param name="Tensors">One report per tensor, in output order.</param>
/// <param name="SourceBytes">Tensor data bytes of the input (without metadata and padding).</param>
/// <param name="TargetBytes">Tensor data bytes of the output.</param>
/// <param name="Elements">Number of weights (all tensors).</param>
public sealed record ModelQuantizationResult(LlamaFileType FileType, IReadOnlyList<TensorQuantizationReport> Tensors,
    long SourceBytes, long TargetBytes, long Elements)
{
    /// <summary>Bits per weight of the input tensor data: <c>8 · SourceBytes / Elements</c>.</summary>
    public double SourceBitsPerWeight => Elements == 0 ? 0 : 8.0 * SourceBytes / Elements;

    /// <summary>Bits per weight of the output tensor data: <c>8 · TargetBytes / Elements</c>.</summary>
    public double TargetBitsPerWeight => Elements == 0 ? 0 : 8.0 * TargetBytes / Elements;
}

/// <summary>
/// Quantizes a GGUF model as llama.cpp's <c>llama_model_quantize</c> does (src/llama-quant.cpp,
/// <c>llama_model_quantize_impl</c>, default parameters, no importance matrix): each tensor gets the
/// type <see cref="QuantizationMix.Plan"/> chooses; F32, F16 and BF16 tensors are converted to F32
/// and quantized row by row with the registry's reference quantizers (<see cref="TensorType.QuantizeReference"/>,
/// the same functions as ggml's <c>ggml_quantize_chunk</c> without importance matrix), other tensors
/// are copied. The output has the input's metadata with <c>general.quantization_version</c> = 2 and
/// <c>general.file_type</c> = the file type appended (split keys removed), and the tensors in
/// llama.cpp's order (<see cref="QuantizationMix.TensorOrder"/>) — the same bytes as llama.cpp's file.
/// </summary>
/// <remarks>
/// Streams: the input is memory-mapped and each output tensor is produced while it is written, so the
/// quantizer holds one output tensor (plus per-thread row buffers) at a time. Tensors of 2 GiB or
/// more are not supported.
/// </remarks>
public static class ModelQuantizer
{
    /// <summary>Rows quantized per work item: a fixed split, so the error sums do not depend on the thread count.</summary>
    private const int ChunkElements = 32 * 512;

    /// <summary>
    /// The type of every tensor of <paramref name="input"/> in a <paramref name="fileType"/> file, in
    /// output order, after checking that TinyLM can write it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="fileType"/> is not defined, or needs an
    /// importance matrix (Q2_K_S, as in llama.cpp).</exception>
    /// <exception cref="ModelFormatException">The metadata lacks the architecture or block count.</exception>
    /// <exception cref="NotSupportedException">A tensor that would be converted is already quantized
    /// (llama.cpp refuses too unless given <c>--allow-requantize</c>), or is 2 GiB or larger.</exception>
    public static IReadOnlyList<TensorQuantizationChoice> Plan(GgufFile input, LlamaFileType fileType)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!QuantizationMix.Names.Any(n => n.Type == fileType))
            throw new ArgumentException($"Unknown file type {(uint)fileType}.", nameof(fileType));
        QuantizationModelInfo model = QuantizationModelInfo.FromMetadata(input.Metadata);
        IReadOnlyList<TensorQuantizationChoice> plan = QuantizationMix.Plan(fileType, model,
            input.Tensors.Select(t => new QuantizationTensor(t.Name, t.Shape, t.Type)));
        foreach (TensorQuantizationChoice c in plan)
        {
            if (c.RequiresImportanceMatrix)
                throw new ArgumentException($"{QuantizationMix.GetName(fileType)} needs an importance matrix for {c.Tensor.Name} ({TensorTypes.Get(c.TargetType).Name}), as in llama.cpp; TinyLM does not use importance matrices. Choose Q2_K or Q3_K_S.", nameof(fileType));
            if (!c.Converts)
                continue;
            TensorType source = TensorTypes.Get(c.Tensor.Type);
            if (source.IsQuantized)
                throw new NotSupportedException($"{input.Source}: tensor {c.Tensor.Name} is already {source.Name}; requantizing is not supported (quantize the F32, F16 or BF16 model instead).");
            long elements = c.Tensor.Shape.Aggregate(1L, (a, d) => checked(a * d));
            if (checked(elements * 4) > Array.MaxLength || TensorTypes.Get(c.TargetType).RowBytes(c.Tensor.Shape[0]) * (elements / Math.Max(1, c.Tensor.Shape[0])) > Array.MaxLength)
                throw new NotSupportedException($"{input.Source}: tensor {c.Tensor.Name} has {elements} elements; tensors of 2 GiB or more are not supported.");
        }
        return plan;
    }

    /// <summary>Quantizes <paramref name="input"/> into a GGUF file at <paramref name="outputPath"/>
    /// (created or overwritten; deleted again when quantizing fails).</summary>
    /// <param name="input">The model: F32, F16 or BF16 tensors where the mix converts.</param>
    /// <param name="fileType">The file type to write.</param>
    /// <param name="outputPath">The output file.</param>
    /// <param name="options">Thread count; null for defaults.</param>
    /// <param name="onTensor">Called after each tensor is written, in output order.</param>
    /// <param name="cancellationToken">Stops between row chunks.</param>
    /// <returns>Per-tensor types, sizes and errors.</returns>
    /// <exception cref="ArgumentException">See <see cref="Plan"/>; or <paramref name="outputPath"/> is empty.</exception>
    /// <exception cref="ModelFormatException">See <see cref="Plan"/>.</exception>
    /// <exception cref="NotSupportedException">See <see cref="Plan"/>.</exception>
    /// <exception cref="IOException">The output cannot be written.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static ModelQuantizationResult Quantize(GgufFile input, LlamaFileType fileType, string outputPath,
        ModelQuantizerOptions? options = null, Action<TensorQuantizationReport>? onTensor = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputPath);
        ArgumentNullException.ThrowIfNull(input);
        Plan(input, fileType);
        try
        {
            using var file = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            return Quantize(input, fileType, file, options, onTensor, cancellationToken);
        }
        catch
        {
            File.Delete(outputPath);
            throw;
        }
    }

    /// <summary>Quantizes <paramref name="input"/> into a GGUF stream (written from its current position).</summary>
    /// <param name="input">The model: F32, F16 or BF16 tensors where the mix converts.</param>
    /// <param name="fileType">The file type to write.</param>
    /// <param name="output">A writable stream.</param>
    /// <param name="options">Thread count; null for defaults.</param>
    /// <param name="onTensor">Called after each tensor is produced, in output order.</param>
    /// <param name="cancellationToken">Stops between row chunks.</param>
    /// <returns>Per-tensor types, sizes and errors.</returns>
    /// <exception cref="ArgumentException">See <see cref="Plan"/>; or <paramref name="output"/> is not
    /// writable, or <see cref="ModelQuantizerOptions.Threads"/> is below 1.</exception>
    /// <exception cref="ModelFormatException">See <see cref="Plan"/>.</exception>
    /// <exception cref="NotSupportedException">See <see cref="Plan"/>.</exception>
    /// <exception cref="IOException">The stream fails.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static ModelQuantizationResult Quantize(GgufFile input, LlamaFileType fileType, Stream output,
        ModelQuantizerOptions? options = null, Action<TensorQuantizationReport>? onTensor = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        options ??= new ModelQuantizerOptions();
        if (options.Threads < 1)
            throw new ArgumentException($"Threads must be 1 or more, found {options.Threads}.", nameof(options));
        IReadOnlyList<TensorQuantizationChoice> plan = Plan(input, fileType);

        var writer = new GgufWriter();
        foreach (KeyValuePair<string, GgufValue> kv in input.Metadata)
            writer.Metadata.Set(kv.Key, kv.Value);
        // llama.cpp: gguf_set_val_u32 removes a key and appends it, so both end up last, in this order.
        writer.Metadata.Remove("general.quantization_version");
        writer.Metadata.Set("general.quantization_version", GgufValue.FromUInt32(2));
        writer.Metadata.Remove("general.file_type");
        writer.Metadata.Set("general.file_type", GgufValue.FromUInt32((uint)fileType));
        foreach (string key in new[] { "split.no", "split.count", "split.tensors.count" })
            writer.Metadata.Remove(key);

        var reports = new List<TensorQuantizationReport>(plan.Count);
        long sourceBytes = 0, targetBytes = 0, elements = 0;
        foreach (TensorQuantizationChoice choice in plan)
        {
            GgufTensorInfo tensor = input.GetTensor(choice.Tensor.Name);
            long[] shape = [.. tensor.Shape];
            writer.AddTensor(tensor.Name, choice.TargetType, shape, () =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadOnlyMemory<byte> bytes;
                double? rmse = null;
                if (choice.Converts)
                {
                    (byte[] data, double error) = ConvertTensor(input, tensor, TensorTypes.Get(choice.TargetType), options.Threads, cancellationToken);
                    bytes = data;
                    rmse = error;
                }
                else
                {
                    bytes = input.GetTensorData(tensor).ToArray();
                }
                var report = new TensorQuantizationReport(tensor.Name, shape, tensor.Type, choice.TargetType, tensor.ByteSize, bytes.Length, rmse, choice.FellBack);
                reports.Add(report);
                sourceBytes += tensor.ByteSize;
                targetBytes += bytes.Length;
                elements += tensor.ElementCount;
                onTensor?.Invoke(report);
                return bytes;
            });
        }
        writer.WriteTo(output);
        return new ModelQuantizationResult(fileType, reports, sourceBytes, targetBytes, elements);
    }

    /// <summary>
    /// Converts a tensor to <paramref name="target"/> row by row (rows to float with the source type's
    /// <c>Dequantize</c>, then <see cref="TensorType.QuantizeReference"/>), in parallel over fixed
    /// chunks of rows, and measures the RMSE of the result.
    /// </summary>
    private static unsafe (byte[] Data, double Rmse) ConvertTensor(GgufFile input, GgufTensorInfo tensor, TensorType target, int threads, CancellationToken cancellationToken)
    {
        TensorType source = TensorTypes.Get(tensor.Type);
        int cols = checked((int)tensor.Columns);
        long rows = tensor.Rows;
        int srcRowBytes = checked((int)source.RowBytes(cols)), dstRowBytes = checked((int)target.RowBytes(cols));
        var data = new byte[checked(dstRowBytes * rows)];
        if (rows == 0 || cols == 0)
            return (data, 0);
        nint basePointer = (nint)input.GetTensorPointer(tensor);
        int chunkRows = Math.Max(1, ChunkElements / cols);
        int chunks = checked((int)((rows + chunkRows - 1) / chunkRows));
        var errors = new double[chunks];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        Parallel.For(0, chunks, parallel, () => (new float[cols], new float[cols]), (chunk, _, buffers) =>
        {
            (float[] x, float[] back) = buffers;
            long first = (long)chunk * chunkRows, last = Math.Min(rows, first + chunkRows);
            double sum = 0;
            for (long r = first; r < last; r++)
            {
                var src = new ReadOnlySpan<byte>((byte*)basePointer + r * srcRowBytes, srcRowBytes);
                Span<byte> dst = data.AsSpan(checked((int)(r * dstRowBytes)), dstRowBytes);
                source.Dequantize(src, x);
                target.QuantizeReference(x, dst);
                target.Dequantize(dst, back);
                for (int i = 0; i < cols; i++)
                {
                    double d = (double)back[i] - x[i];
                    sum += d * d;
                }
            }
            errors[chunk] = sum;
            return buffers;
        }, _ => { });
        double total = 0;
        foreach (double e in errors)
            total += e;
        return (data, Math.Sqrt(total / ((double)rows * cols)));
    }
}
