using System.Diagnostics.CodeAnalysis;

namespace TinyLM.Quantization;

/// <summary>
/// The registry of tensor types TinyLM can read, run and write: one entry per <see cref="TensorType"/>
/// (ggml's <c>type_traits</c> table). Readers, the quantizer and the kernels ask this registry;
/// adding a type is one new file plus one line in <see cref="All"/>.
/// </summary>
public static class TensorTypes
{
    private static readonly TensorType[] s_all =
    [
        new F32(),
        new F16(),
        new BF16(),
        new Q8_0(),
        new Q8_1(),
        new Q4_0(),
        new Q4_1(),
        new Q5_0(),
        new Q5_1(),
        new Q8_K(),
        new Q2_K(),
        new Q3_K(),
        new Q4_K(),
        new Q5_K(),
        new Q6_K(),
        new TQ1_0(),
        new TQ2_0(),
        new IQ4_NL(),
    ];

    private static readonly TensorType?[] s_byType = BuildIndex();

    /// <summary>Every registered type.</summary>
    public static IReadOnlyList<TensorType> All => s_all;

    /// <summary>Returns the registered type for <paramref name="type"/>.</summary>
    /// <exception cref="NotSupportedException">The type has no implementation in TinyLM.</exception>
    public static TensorType Get(GgmlType type) =>
        TryGet(type, out TensorType? t) ? t : throw new NotSupportedException($"Tensor type {type} ({(uint)type}) is not supported.");

    /// <summary>Looks up the registered type for <paramref name="type"/>.</summary>
    public static bool TryGet(GgmlType type, [NotNullWhen(true)] out TensorType? tensorType)
    {
        uint i = (uint)type;
        tensorType = i < (uint)s_byType.Length ? s_byType[i] : null;
        return tensorType is not null;
    }

    /// <summary>Looks up a type by ggml's name (<c>q4_0</c>, <c>f16</c>, ...), ignoring case.</summary>
    public static bool TryParse(string name, [NotNullWhen(true)] out TensorType? tensorType)
    {
        tensorType = s_all.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
        return tensorType is not null;
    }

    private static TensorType?[] BuildIndex()
    {
        var index = new TensorType?[s_all.Max(t => (int)t.Type) + 1];
        foreach (TensorType t in s_all)
            index[(int)t.Type] = t;
        return index;
    }
}
