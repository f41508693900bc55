using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q4_0"/> weights with Q8_0 activations
/// (<c>ggml_vec_dot_q4_0_q8_0_generic</c>: <c>sumf += sumi · dx · dy</c>), bit-exact with the C# reference.
/// </summary>
internal static class Q4_0Emitter
{
    /// <summary>Block size in bytes (<c>block_q4_0</c>: f16 scale + 16 bytes of nibbles).</summary>
    public const int BlockBytes = 18;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, BlockDot, Q8ActivationMatMul.ScaleOrder.LeftToRight,
            Q8ActivationMatMul.ActivationLayout.NibbleLanesMinus8);

    /// <summary>
    /// Byte j of <c>qs</c> holds element j (low nibble) and j + 16 (high nibble), so int16 lane i holds,
    /// from bit 0 up, the unsigned nibbles of elements 2i, 2i+16, 2i+1, 2i+17: four shifts and masks give
    /// four i16x8 that meet the activations prepared in that order (<see cref="Q8ActivationMatMul.ActivationLayout.NibbleLanesMinus8"/>);
    /// the lane total is <c>Σ u·y</c>, and the caller subtracts <c>8·Σy</c>.
    /// </summary>
    private static void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp)
    {
        Vector128<short> low4 = Vector128.Create((short)0x000F);
        WasmLocal scratch = tmp[0];
        f.LocalGet(pw).V128Load(offset: 2, alignment: 1).LocalTee(scratch);
        f.V128Const(low4).V128And().LocalGet(y[0]).I32x4DotI16x8S();
        f.LocalGet(scratch).I32Const(4).I16x8ShrU().V128Const(low4).V128And().LocalGet(y[1]).I32x4DotI16x8S().I32x4Add();
        f.LocalGet(scratch).I32Const(8).I16x8ShrU().V128Const(low4).V128And().LocalGet(y[2]).I32x4DotI16x8S().I32x4Add();
        f.LocalGet(scratch).I32Const(12).I16x8ShrU().LocalGet(y[3]).I32x4DotI16x8S().I32x4Add();
    }
}
