using System.Globalization;
using System.Text;

namespace TinyLM.Formats.Gguf;

/// <summary>
/// One GGUF metadata value: a scalar, a string, or an array (possibly of arrays). Immutable.
/// </summary>
/// <remarks>
/// Scalars are stored boxed; arrays as typed CLR arrays (<c>byte[]</c> for UInt8, <c>float[]</c> for
/// Float32, <c>string[]</c> for String, <c>bool[]</c> for Bool, ..., <see cref="GgufValue"/><c>[]</c>
/// for nested arrays). Integer accessors accept any integer type that fits, like candle's
/// <c>to_u64</c>; other mismatches throw <see cref="InvalidCastException"/>, which
/// <see cref="GgufMetadata"/> turns into a <see cref="ModelFormatException"/> naming the key.
/// </remarks>
public sealed class GgufValue
{
    private GgufValue(GgufValueType type, GgufValueType elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        Value = value;
    }

    /// <summary>The value's type.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the element type; otherwise equal to <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>The boxed scalar, string or typed array.</summary>
    public object Value { get; }

    /// <summary>Number of elements of an array; 1 for scalars.</summary>
    public int Count => Value is Array a ? a.Length : 1;

    /// <summary>A UInt8 value.</summary>
    public static GgufValue FromUInt8(byte v) => new(GgufValueType.UInt8, GgufValueType.UInt8, v);
    /// <summary>An Int8 value.</summary>
    public static GgufValue FromInt8(sbyte v) => new(GgufValueType.Int8, GgufValueType.Int8, v);
    /// <summary>A UInt16 value.</summary>
    public static GgufValue FromUInt16(ushort v) => new(GgufValueType.UInt16, GgufValueType.UInt16, v);
    /// <summary>An Int16 value.</summary>
    public static GgufValue FromInt16(short v) => new(GgufValueType.Int16, GgufValueType.Int16, v);
    /// <summary>A UInt32 value.</summary>
    public static GgufValue FromUInt32(uint v) => new(GgufValueType.UInt32, GgufValueType.UInt32, v);
    /// <summary>An Int32 value.</summary>
    public static GgufValue FromInt32(int v) => new(GgufValueType.Int32, GgufValueType.Int32, v);
    /// <summary>A UInt64 value.</summary>
    public static GgufValue FromUInt64(ulong v) => new(GgufValueType.UInt64, GgufValueType.UInt64, v);
    /// <summary>An Int64 value.</summary>
    public static GgufValue FromInt64(long v) => new(GgufValueType.Int64, GgufValueType.Int64, v);
    /// <summary>A Float32 value.</summary>
    public static GgufValue FromFloat32(float v) => new(GgufValueType.Float32, GgufValueType.Float32, v);
    /// <summary>A Float64 value.</summary>
    public static GgufValue FromFloat64(double v) => new(GgufValueType.Float64, GgufValueType.Float64, v);
    /// <summary>A Bool value.</summary>
    public static GgufValue FromBool(bool v) => new(GgufValueType.Bool, GgufValueType.Bool, v);
    /// <summary>A String value.</summary>
    public static GgufValue FromString(string v) => new(GgufValueType.String, GgufValueType.String, v ?? throw new ArgumentNullException(nameof(v)));

    /// <summary>An array of UInt8.</summary>
    public static GgufValue FromArray(byte[] v) => Arr(GgufValueType.UInt8, v);
    /// <summary>An array of Int8.</summary>
    public static GgufValue FromArray(sbyte[] v) => Arr(GgufValueType.Int8, v);
    /// <summary>An array of UInt16.</summary>
    public static GgufValue FromArray(ushort[] v) => Arr(GgufValueType.UInt16, v);
    /// <summary>An array of Int16.</summary>
    public static GgufValue FromArray(short[] v) => Arr(GgufValueType.Int16, v);
    /// <summary>An array of UInt32.</summary>
    public static GgufValue FromArray(uint[] v) => Arr(GgufValueType.UInt32, v);
    /// <summary>An array of Int32.</summary>
    public static GgufValue FromArray(int[] v) => Arr(GgufValueType.Int32, v);
    /// <summary>An array of UInt64.</summary>
    public static GgufValue FromArray(ulong[] v) => Arr(GgufValueType.UInt64, v);
    /// <summary>An array of Int64.</summary>
    public static GgufValue FromArray(long[] v) => Arr(GgufValueType.Int64, v);
    /// <summary>An array of Float32.</summary>
    public static GgufValue FromArray(float[] v) => Arr(GgufValueType.Float32, v);
    /// <summary>An array of Float64.</summary>
    public static GgufValue FromArray(double[] v) => Arr(GgufValueType.Float64, v);
    /// <summary>An array of Bool.</summary>
    public static GgufValue FromArray(bool[] v) => Arr(GgufValueType.Bool, v);
    /// <summary>An array of String.</summary>
    public static GgufValue FromArray(string[] v) => Arr(GgufValueType.String, v);

    /// <summary>An array of arrays (GGUF allows nesting). Every element must itself be an array.</summary>
    /// <exception cref="ArgumentException">An element is not an array.</exception>
    public static GgufValue FromArray(GgufValue[] v)
    {
        ArgumentNullException.ThrowIfNull(v);
        foreach (GgufValue e in v)
            if (e.Type != GgufValueType.Array)
                throw new ArgumentException("Nested GGUF arrays must contain only arrays.", nameof(v));
        return Arr(GgufValueType.Array, v);
    }

    private static GgufValue Arr(GgufValueType elementType, Array v) =>
        new(GgufValueType.Array, elementType, v ?? throw new ArgumentNullException(nameof(v)));

    /// <summary>The string value.</summary>
    /// <exception cref="InvalidCastException">Not a string.</exception>
    public string AsString() => Value as string ?? throw Mismatch("string");

    /// <summary>The bool value.</summary>
    /// <exception cref="InvalidCastException">Not a bool.</exception>
    public bool AsBool() => Value is bool b ? b : throw Mismatch("bool");

    /// <summary>Any integer value that fits in a signed 64-bit integer.</summary>
    /// <exception cref="InvalidCastException">Not an integer, or out of range.</exception>
    public long AsInt64() => Value switch
    {
        byte v => v, sbyte v => v, ushort v => v, short v => v, uint v => v, int v => v, long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => throw Mismatch("integer"),
    };

    /// <summary>Any non-negative integer value that fits in 32 bits, unsigned.</summary>
    /// <exception cref="InvalidCastException">Not an integer, negative, or above <see cref="uint.MaxValue"/>.</exception>
    public uint AsUInt32()
    {
        if (Value is ulong u)
            return u <= uint.MaxValue ? (uint)u : throw Mismatch("uint32");
        long v = AsInt64();
        return v is >= 0 and <= uint.MaxValue ? (uint)v : throw Mismatch("uint32");
    }

    /// <summary>Any integer value that fits in a signed 32-bit integer.</summary>
    /// <exception cref="InvalidCastException">Not an integer, or out of range.</exception>
    public int AsInt32()
    {
        long v = Value is ulong u && u > long.MaxValue ? throw Mismatch("int32") : AsInt64();
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw Mismatch("int32");
    }

    /// <summary>A Float32 or Float64 value (Float64 is narrowed).</summary>
    /// <exception cref="InvalidCastException">Not a floating-point value.</exception>
    public float AsSingle() => Value switch
    {
        float f => f,
        double d => (float)d,
        _ => throw Mismatch("float32"),
    };

    /// <summary>An array of strings.</summary>
    /// <exception cref="InvalidCastException">Not an array of strings.</exception>
    public string[] AsStringArray() => Value as string[] ?? throw Mismatch("array of string");

    /// <summary>An array of Float32.</summary>
    /// <exception cref="InvalidCastException">Not an array of Float32.</exception>
    public float[] AsSingleArray() => Value as float[] ?? throw Mismatch("array of float32");

    /// <summary>An array of any integer type whose elements all fit in 32 bits, signed.</summary>
    /// <exception cref="InvalidCastException">Not an integer array, or an element is out of range.</exception>
    public int[] AsInt32Array()
    {
        switch (Value)
        {
            case int[] a: return a;
            case byte[] a: return Array.ConvertAll(a, x => (int)x);
            case sbyte[] a: return Array.ConvertAll(a, x => (int)x);
            case ushort[] a: return Array.ConvertAll(a, x => (int)x);
            case short[] a: return Array.ConvertAll(a, x => (int)x);
            case uint[] a:
                return a.All(x => x <= int.MaxValue) ? Array.ConvertAll(a, x => (int)x) : throw Mismatch("array of int32");
            case long[] a:
                return a.All(x => x is >= int.MinValue and <= int.MaxValue) ? Array.ConvertAll(a, x => (int)x) : throw Mismatch("array of int32");
            case ulong[] a:
                return a.All(x => x <= int.MaxValue) ? Array.ConvertAll(a, x => (int)x) : throw Mismatch("array of int32");
            default: throw Mismatch("array of integers");
        }
    }

    private InvalidCastException Mismatch(string expected) =>
        new($"expected {expected}, found {Describe()}");

    /// <summary>The type as text, e.g. <c>uint32</c> or <c>array[string, 32000]</c>.</summary>
    public string Describe() => Type == GgufValueType.Array
        ? $"array[{Name(ElementType)}, {Count}]"
        : Name(Type);

    private static string Name(GgufValueType t) => t.ToString().ToLowerInvariant();

    /// <summary>
    /// A short human-readable rendering: scalars in full (strings quoted), arrays as their first
    /// <paramref name="maxElements"/> elements.
    /// </summary>
    public string ToDisplayString(int maxElements = 8)
    {
        if (Value is not Array a)
            return Render(Value);
        var sb = new StringBuilder("[");
        int shown = Math.Min(a.Length, maxElements);
        for (int i = 0; i < shown; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Render(a.GetValue(i)!));
        }
        if (a.Length > shown) sb.Append(CultureInfo.InvariantCulture, $", ... ({a.Length} total)");
        return sb.Append(']').ToString();
    }

    private static string Render(object v) => v switch
    {
        string s => "\"" + (s.Length > 80 ? s[..80] + "..." : s).Replace("\n", "\\n", StringComparison.Ordinal) + "\"",
        bool b => b ? "true" : "false",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        GgufValue g => g.ToDisplayString(4),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <inheritdoc/>
    public override string ToString() => ToDisplayString();
}
