using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q4_1"/> weights with Q8_1 activations
/// (<c>ggml_vec_dot_q4_1_q8_1_generic</c>: <c>sumf += (dx · dy) · sumi + mx · sy</c>), bit-exact with the C# reference:
/// Q4_0's nibble dots (<see cref="Q4_0Emitter.BlockDot"/>, <see cref="Q4_0Emitter.BlockDotRelaxed"/>) on the unsigned
/// nibbles, with the min term of <see cref="Q8ActivationMatMul.ScaleOrder.WithMin"/> in place of Q4_0's <c>8·Σy</c>.
/// </summary>
internal static class Q4_1Emitter
{
    /// <summary>Block size in bytes (<c>block_q4_1</c>: f16 d, f16 m, 16 bytes of nibbles).</summary>
    public const int BlockBytes = 20;

    private const uint QsOffset = 4;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => Q4_0Emitter.BlockDot(f, pw, y, tmp, QsOffset),
            Q8ActivationMatMul.ScaleOrder.WithMin, Q8ActivationMatMul.ActivationLayout.NibbleLanes, panels: panels);

    /// <summary>Emits the same product with relaxed SIMD (two exact <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> per block).</summary>
    public static WasmFunction EmitMatMulRelaxed(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => Q4_0Emitter.BlockDotRelaxed(f, pw, y, tmp, QsOffset),
            Q8ActivationMatMul.ScaleOrder.WithMin, Q8ActivationMatMul.ActivationLayout.Bytes, panels: panels);
}
