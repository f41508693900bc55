namespace TinyLM.Kernels.Wasm;

/// <summary>
/// A WebAssembly value type, with its binary encoding as the enum value (core spec 2.0, 5.3.1
/// "Number Types" and 5.3.2 "Vector Types").
/// </summary>
public enum WasmValueType : byte
{
    /// <summary>32-bit integer (<c>i32</c>, 0x7F); also the type of addresses, booleans and lane indices.</summary>
    I32 = 0x7F,

    /// <summary>64-bit integer (<c>i64</c>, 0x7E).</summary>
    I64 = 0x7E,

    /// <summary>IEEE 754 binary32 (<c>f32</c>, 0x7D).</summary>
    F32 = 0x7D,

    /// <summary>IEEE 754 binary64 (<c>f64</c>, 0x7C).</summary>
    F64 = 0x7C,

    /// <summary>128-bit vector (<c>v128</c>, 0x7B), read as i8x16, i16x8, i32x4, i64x2, f32x4 or f64x2 by each instruction.</summary>
    V128 = 0x7B,
}

/// <summary>Text-format names of <see cref="WasmValueType"/> for messages.</summary>
internal static class WasmValueTypes
{
    /// <summary>Stands for any type on an unreachable operand stack (never encoded).</summary>
    public const WasmValueType Unknown = 0;

    public static bool IsDefined(WasmValueType type) =>
        type is WasmValueType.I32 or WasmValueType.I64 or WasmValueType.F32 or WasmValueType.F64 or WasmValueType.V128;

    public static string Name(WasmValueType type) => type switch
    {
        WasmValueType.I32 => "i32",
        WasmValueType.I64 => "i64",
        WasmValueType.F32 => "f32",
        WasmValueType.F64 => "f64",
        WasmValueType.V128 => "v128",
        Unknown => "any",
        _ => $"0x{(byte)type:X2}",
    };

    public static string Names(ReadOnlySpan<WasmValueType> types)
    {
        if (types.IsEmpty)
            return "[]";
        var text = new System.Text.StringBuilder("[");
        for (int i = 0; i < types.Length; i++)
        {
            if (i > 0)
                text.Append(' ');
            text.Append(Name(types[i]));
        }
        return text.Append(']').ToString();
    }
}
