namespace TinyLM.Kernels.Wasm;

// Relaxed SIMD (WebAssembly 3.0, "relaxed-simd" proposal; prefix 0xFD, sub-opcodes 0x100–0x113).
// Only the instructions whose results are exact for the operands the kernels give them are here:
// the integer dot products with a second operand in [0, 127]. A host must check support before it
// instantiates a module that uses them (see WasmKernelModule.RelaxedSimdProbe).

public sealed partial class WasmFunctionBuilder
{
    /// <summary>
    /// <c>i16x8.relaxed_dot_i8x16_i7x16_s</c> [v128 v128] → [v128], opcode 0xFD 0x112: lane i =
    /// a[2i]·b[2i] + a[2i+1]·b[2i+1] with a signed i8 and b in [0, 127]. Exact when every byte of b is
    /// in [0, 127] (the pair sums then fit in i16); for larger b the engine may read b as signed or unsigned.
    /// </summary>
    public WasmFunctionBuilder I16x8RelaxedDotI8x16I7x16S() => Prefixed(0xFD, 0x112, "i16x8.relaxed_dot_i8x16_i7x16_s", Effects.V128V128ToV128);

    /// <summary>
    /// <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> [v128 v128 v128] → [v128], opcode 0xFD 0x113: lane i =
    /// c[i] + Σ_{j&lt;4} a[4i+j]·b[4i+j] with a signed i8 and b in [0, 127]. Exact under the same
    /// condition as <see cref="I16x8RelaxedDotI8x16I7x16S"/>. On x64 engines map it to
    /// <c>pmaddubsw</c>-class instructions (b as the unsigned operand), hence the [0, 127] condition.
    /// </summary>
    public WasmFunctionBuilder I32x4RelaxedDotI8x16I7x16AddS() => Prefixed(0xFD, 0x113, "i32x4.relaxed_dot_i8x16_i7x16_add_s", Effects.V128V128V128ToV128);
}
