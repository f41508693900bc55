namespace TinyLM.Kernels.Wasm;

/// <summary>The stack effects of the instructions, shared by all functions.</summary>
internal static class Effects
{
    private const WasmValueType I32 = WasmValueType.I32, I64 = WasmValueType.I64, F32 = WasmValueType.F32, F64 = WasmValueType.F64, V128 = WasmValueType.V128;

    public static readonly StackEffect F32F32ToF32 = new([F32, F32], [F32]);
    public static readonly StackEffect F32F32ToI32 = new([F32, F32], [I32]);
    public static readonly StackEffect F32ToF32 = new([F32], [F32]);
    public static readonly StackEffect F32ToF64 = new([F32], [F64]);
    public static readonly StackEffect F32ToI32 = new([F32], [I32]);
    public static readonly StackEffect F32ToI64 = new([F32], [I64]);
    public static readonly StackEffect F32ToV128 = new([F32], [V128]);
    public static readonly StackEffect F64F64ToF64 = new([F64, F64], [F64]);
    public static readonly StackEffect F64F64ToI32 = new([F64, F64], [I32]);
    public static readonly StackEffect F64ToF32 = new([F64], [F32]);
    public static readonly StackEffect F64ToF64 = new([F64], [F64]);
    public static readonly StackEffect F64ToI32 = new([F64], [I32]);
    public static readonly StackEffect F64ToI64 = new([F64], [I64]);
    public static readonly StackEffect F64ToV128 = new([F64], [V128]);
    public static readonly StackEffect I32F32ToNothing = new([I32, F32], []);
    public static readonly StackEffect I32F64ToNothing = new([I32, F64], []);
    public static readonly StackEffect I32I32I32ToI32 = new([I32, I32, I32], [I32]);
    public static readonly StackEffect I32I32I32ToNothing = new([I32, I32, I32], []);
    public static readonly StackEffect I32I32I64ToI32 = new([I32, I32, I64], [I32]);
    public static readonly StackEffect I32I32ToI32 = new([I32, I32], [I32]);
    public static readonly StackEffect I32I32ToNothing = new([I32, I32], []);
    public static readonly StackEffect I32I64I64ToI32 = new([I32, I64, I64], [I32]);
    public static readonly StackEffect I32I64I64ToI64 = new([I32, I64, I64], [I64]);
    public static readonly StackEffect I32I64ToI64 = new([I32, I64], [I64]);
    public static readonly StackEffect I32I64ToNothing = new([I32, I64], []);
    public static readonly StackEffect I32ToF32 = new([I32], [F32]);
    public static readonly StackEffect I32ToF64 = new([I32], [F64]);
    public static readonly StackEffect I32ToI32 = new([I32], [I32]);
    public static readonly StackEffect I32ToI64 = new([I32], [I64]);
    public static readonly StackEffect I32ToV128 = new([I32], [V128]);
    public static readonly StackEffect I32V128ToNothing = new([I32, V128], []);
    public static readonly StackEffect I32V128ToV128 = new([I32, V128], [V128]);
    public static readonly StackEffect I64I64ToI32 = new([I64, I64], [I32]);
    public static readonly StackEffect I64I64ToI64 = new([I64, I64], [I64]);
    public static readonly StackEffect I64ToF32 = new([I64], [F32]);
    public static readonly StackEffect I64ToF64 = new([I64], [F64]);
    public static readonly StackEffect I64ToI32 = new([I64], [I32]);
    public static readonly StackEffect I64ToI64 = new([I64], [I64]);
    public static readonly StackEffect I64ToV128 = new([I64], [V128]);
    public static readonly StackEffect ToI32 = new([], [I32]);
    public static readonly StackEffect ToNothing = new([], []);
    public static readonly StackEffect V128F32ToV128 = new([V128, F32], [V128]);
    public static readonly StackEffect V128F64ToV128 = new([V128, F64], [V128]);
    public static readonly StackEffect V128I32ToV128 = new([V128, I32], [V128]);
    public static readonly StackEffect V128I64ToV128 = new([V128, I64], [V128]);
    public static readonly StackEffect V128ToF32 = new([V128], [F32]);
    public static readonly StackEffect V128ToF64 = new([V128], [F64]);
    public static readonly StackEffect V128ToI32 = new([V128], [I32]);
    public static readonly StackEffect V128ToI64 = new([V128], [I64]);
    public static readonly StackEffect V128ToV128 = new([V128], [V128]);
    public static readonly StackEffect V128V128ToV128 = new([V128, V128], [V128]);
    public static readonly StackEffect V128V128V128ToV128 = new([V128, V128, V128], [V128]);
}
