namespace TinyLM.Kernels.Wasm;

/// <summary>
/// A function signature: parameter and result types (core spec 2.0, 2.3.6 "Function Types"). Used
/// for functions, imports and multi-value blocks; equal signatures share one entry of the type
/// section. Immutable.
/// </summary>
public sealed class WasmFunctionType : IEquatable<WasmFunctionType>
{
    private readonly WasmValueType[] _parameters;
    private readonly WasmValueType[] _results;

    /// <summary>Creates a signature, e.g. <c>new WasmFunctionType([I32, I32], [I32])</c>.</summary>
    /// <param name="parameters">Parameter types, in order.</param>
    /// <param name="results">Result types, in order (several only where the engine has multi-value, as V8 does).</param>
    /// <exception cref="ArgumentException">A type is not a defined <see cref="WasmValueType"/>.</exception>
    public WasmFunctionType(ReadOnlySpan<WasmValueType> parameters, ReadOnlySpan<WasmValueType> results)
    {
        _parameters = Check(parameters, nameof(parameters));
        _results = Check(results, nameof(results));
    }

    /// <summary>Parameter types, in order.</summary>
    public ReadOnlySpan<WasmValueType> Parameters => _parameters;

    /// <summary>Result types, in order.</summary>
    public ReadOnlySpan<WasmValueType> Results => _results;

    internal WasmValueType[] ParameterArray => _parameters;

    internal WasmValueType[] ResultArray => _results;

    /// <summary>True when both have the same parameter and result types.</summary>
    /// <param name="other">The signature to compare with.</param>
    public bool Equals(WasmFunctionType? other) =>
        other is not null && _parameters.AsSpan().SequenceEqual(other._parameters) && _results.AsSpan().SequenceEqual(other._results);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as WasmFunctionType);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (WasmValueType t in _parameters)
            hash.Add(t);
        hash.Add(-1);
        foreach (WasmValueType t in _results)
            hash.Add(t);
        return hash.ToHashCode();
    }

    /// <summary>The signature in text-format style, e.g. <c>[i32 i32] -> [i32]</c>.</summary>
    public override string ToString() => WasmValueTypes.Names(_parameters) + " -> " + WasmValueTypes.Names(_results);

    private static WasmValueType[] Check(ReadOnlySpan<WasmValueType> types, string paramName)
    {
        foreach (WasmValueType t in types)
            if (!WasmValueTypes.IsDefined(t))
                throw new ArgumentException($"0x{(byte)t:X2} is not a WebAssembly value type.", paramName);
        return types.ToArray();
    }
}
