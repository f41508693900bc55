using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q5_1"/> weights with Q8_1 activations
/// (<c>ggml_vec_dot_q5_1_q8_1_generic</c>: <c>sumf += (dx · dy) · sumi + mx · sy</c>), bit-exact with the C# reference:
/// Q5_0's 5-bit dots (<see cref="Q5_0Emitter.BlockDot"/>, <see cref="Q5_0Emitter.BlockDotRelaxed"/>) on the unsigned
/// quants, with the min term of <see cref="Q8ActivationMatMul.ScaleOrder.WithMin"/> in place of Q5_0's <c>16·Σy</c>.
/// </summary>
internal static class Q5_1Emitter
{
    /// <summary>Block size in bytes (<c>block_q5_1</c>: f16 d, f16 m, 4 bytes of fifth bits, 16 bytes of nibbles).</summary>
    public const int BlockBytes = 24;

    private const uint QhOffset = 4;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => Q5_0Emitter.BlockDot(f, pw, y, tmp, QhOffset),
            Q8ActivationMatMul.ScaleOrder.WithMin, Q8ActivationMatMul.ActivationLayout.NibbleLanes, panels: panels);

    /// <summary>Emits the same product with relaxed SIMD (two exact <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> per block).</summary>
    public static WasmFunction EmitMatMulRelaxed(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => Q5_0Emitter.BlockDotRelaxed(f, pw, y, tmp, QhOffset),
            Q8ActivationMatMul.ScaleOrder.WithMin, Q8ActivationMatMul.ActivationLayout.Bytes, panels: panels);
}
