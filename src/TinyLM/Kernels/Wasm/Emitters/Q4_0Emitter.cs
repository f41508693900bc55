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

    private const uint QsOffset = 2;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => BlockDot(f, pw, y, tmp, QsOffset), Q8ActivationMatMul.ScaleOrder.LeftToRight,
            Q8ActivationMatMul.ActivationLayout.NibbleLanesMinus8, panels: panels);

    /// <summary>Emits the same product with relaxed SIMD (<see cref="BlockDotRelaxed"/>).</summary>
    public static WasmFunction EmitMatMulRelaxed(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => BlockDotRelaxed(f, pw, y, tmp, QsOffset), Q8ActivationMatMul.ScaleOrder.LeftToRight,
            Q8ActivationMatMul.ActivationLayout.BytesMinus8, panels: panels);

    /// <summary>
    /// The low nibbles (elements 0–15) and high nibbles (16–31) of <c>qs</c> as bytes in [0, 15], the
    /// unsigned operand of two exact <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> against the activation
    /// bytes (<see cref="Q8ActivationMatMul.ActivationLayout.BytesMinus8"/>): the lane total is <c>Σ u·y</c>. The 16 bytes
    /// sit at <paramref name="qsOffset"/> of the block (Q4_1's at 4).
    /// </summary>
    internal static void BlockDotRelaxed(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp, uint qsOffset)
    {
        WasmLocal v = tmp[0];
        f.LocalGet(y[1]).LocalGet(pw).V128Load(offset: qsOffset, alignment: 1).LocalTee(v).I32Const(4).I8x16ShrU();
        f.LocalGet(y[0]).LocalGet(v).V128Const(Vector128.Create((byte)0x0F)).V128And().V128Const(Vector128<int>.Zero)
            .I32x4RelaxedDotI8x16I7x16AddS().I32x4RelaxedDotI8x16I7x16AddS();
    }

    /// <summary>
    /// Byte j of <c>qs</c> holds element j (low nibble) and j + 16 (high nibble), so int16 lane i holds,
    /// from bit 0 up, the unsigned nibbles of elements 2i, 2i+16, 2i+1, 2i+17: four shifts and masks give
    /// four i16x8 that meet the activations prepared in that order (<see cref="Q8ActivationMatMul.ActivationLayout.NibbleLanesMinus8"/>);
    /// the lane total is <c>Σ u·y</c>, and the caller subtracts <c>8·Σy</c> (Q4_0; Q4_1 adds its min instead). The
    /// 16 bytes sit at <paramref name="qsOffset"/> of the block.
    /// </summary>
    internal static void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp, uint qsOffset)
    {
        Vector128<short> low4 = Vector128.Create((short)0x000F);
        WasmLocal scratch = tmp[0];
        f.LocalGet(pw).V128Load(offset: qsOffset, alignment: 1).LocalTee(scratch);
        f.V128Const(low4).V128And().LocalGet(y[0]).I32x4DotI16x8S();
        f.LocalGet(scratch).I32Const(4).I16x8ShrU().V128Const(low4).V128And().LocalGet(y[1]).I32x4DotI16x8S().I32x4Add();
        f.LocalGet(scratch).I32Const(8).I16x8ShrU().V128Const(low4).V128And().LocalGet(y[2]).I32x4DotI16x8S().I32x4Add();
        f.LocalGet(scratch).I32Const(12).I16x8ShrU().LocalGet(y[3]).I32x4DotI16x8S().I32x4Add();
    }
}
