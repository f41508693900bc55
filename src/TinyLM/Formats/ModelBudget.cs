using System.Globalization;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Formats;

/// <summary>
/// The byte budget of a model file: files larger than the budget are refused with a
/// <see cref="ModelAdmissionException"/> (<see cref="AdmissionStage.Budget"/>,
/// <see cref="AdmissionError.BudgetExceeded"/>) whose message names the file size, the budget, and
/// the highest-precision registered tensor type whose estimated file size fits.
/// </summary>
/// <remarks>
/// <para>
/// Estimate for a type <c>T</c>: the file size, minus the bytes of every matrix (a tensor with two or
/// more dimensions), plus each matrix's element count × <c>T.BlockBytes / T.BlockSize</c> (that is
/// <see cref="TensorType.BitsPerWeight"/> / 8), rounded up. Vectors (norm gains, biases) keep their
/// type, as converters keep them F32. Rows that do not divide into <c>T</c>'s blocks are ignored, so the
/// estimate is a lower bound for such models.
/// </para>
/// <para>
/// Candidates are computed over <see cref="TensorTypes.All"/>, so newly registered types take part.
/// Types that exist only to hold activations are left out: among the quantized types that are the
/// dot-product activation type (<see cref="TensorType.VecDotType"/>) of another registered type,
/// only the one with the fewest bits per weight is a candidate (Q8_0; Q8_1 and Q8_K are activation
/// formats). Candidates are tried from the most bits per weight down; on a tie, registry order.
/// </para>
/// </remarks>
public static class ModelBudget
{
    /// <summary>The default budget for browser targets: 33,554,432 bytes (32 MiB).</summary>
    public const long BrowserDefaultBytes = 33_554_432;

    /// <summary>Refuses a file larger than <paramref name="budgetBytes"/>.</summary>
    /// <param name="source">File name for the message.</param>
    /// <param name="fileBytes">The file size in bytes.</param>
    /// <param name="tensors">The file's tensors (for the suggestion).</param>
    /// <param name="budgetBytes">Largest accepted size in bytes, at least 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="budgetBytes"/> is below 1.</exception>
    /// <exception cref="ModelAdmissionException">The file is over the budget.</exception>
    public static void Check(string source, long fileBytes, IReadOnlyList<GgufTensorInfo> tensors, long budgetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, 1);
        ArgumentNullException.ThrowIfNull(tensors);
        if (fileBytes <= budgetBytes)
            return;
        throw new ModelAdmissionException(AdmissionStage.Budget, AdmissionError.BudgetExceeded, source, -1,
            DescribeOverBudget(fileBytes, tensors, budgetBytes));
    }

    /// <summary>The refusal text: both sizes and the suggested type (or that none fits).</summary>
    public static string DescribeOverBudget(long fileBytes, IReadOnlyList<GgufTensorInfo> tensors, long budgetBytes)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var c = CultureInfo.InvariantCulture;
        string text = string.Format(c, "the model is {0:N0} bytes, over the budget of {1:N0} bytes; ", fileBytes, budgetBytes);
        TensorType? fit = SuggestType(fileBytes, tensors, budgetBytes, out long estimate);
        if (fit is not null)
            return text + string.Format(c, "quantized to {0} it would be about {1:N0} bytes and fit", fit.Name, estimate);
        TensorType smallest = Candidates().Last();
        return text + string.Format(c, "no registered type fits: even {0} would be about {1:N0} bytes (choose a smaller model)",
            smallest.Name, EstimateFileBytes(fileBytes, tensors, smallest));
    }

    /// <summary>
    /// The highest-precision candidate type whose estimated file size is within the budget, or null.
    /// </summary>
    /// <param name="fileBytes">The file size in bytes.</param>
    /// <param name="tensors">The file's tensors.</param>
    /// <param name="budgetBytes">The budget in bytes.</param>
    /// <param name="estimatedBytes">The estimate for the returned type (0 when none fits).</param>
    public static TensorType? SuggestType(long fileBytes, IReadOnlyList<GgufTensorInfo> tensors, long budgetBytes, out long estimatedBytes)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (TensorType t in Candidates())
        {
            long estimate = EstimateFileBytes(fileBytes, tensors, t);
            if (estimate <= budgetBytes)
            {
                estimatedBytes = estimate;
                return t;
            }
        }
        estimatedBytes = 0;
        return null;
    }

    /// <summary>Estimated file size, in bytes, with every matrix (two or more dimensions) in <paramref name="type"/>.</summary>
    public static long EstimateFileBytes(long fileBytes, IReadOnlyList<GgufTensorInfo> tensors, TensorType type)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(type);
        decimal total = fileBytes;
        foreach (GgufTensorInfo t in tensors)
        {
            if (t.Shape.Count < 2)
                continue;
            total -= t.ByteSize;
            total += Math.Ceiling((decimal)t.ElementCount * type.BlockBytes / type.BlockSize);
        }
        return total >= long.MaxValue ? long.MaxValue : (long)total;
    }

    /// <summary>The candidate types, most bits per weight first (see remarks of <see cref="ModelBudget"/>).</summary>
    public static IReadOnlyList<TensorType> Candidates()
    {
        IReadOnlyList<TensorType> all = TensorTypes.All;
        var activationTypes = all.Where(t => t.IsQuantized && all.Any(u => u != t && u.VecDotType == t.Type)).ToList();
        TensorType? keep = activationTypes.OrderBy(t => t.BitsPerWeight).FirstOrDefault();
        return all.Where(t => !activationTypes.Contains(t) || t == keep)
            .Select((t, i) => (t, i))
            .OrderByDescending(x => x.t.BitsPerWeight).ThenBy(x => x.i)
            .Select(x => x.t)
            .ToArray();
    }
}
