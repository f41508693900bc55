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

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, BlockDot, Q8ActivationMatMul.ScaleOrder.LeftToRight);

    /// <summary>
    /// Byte j of <c>qs</c> holds element j (low nibble) and j + 16 (high nibble); both become
    /// <c>q − 8</c> as int8, are sign-extended and multiplied with the activations.
    /// </summary>
    private static void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal scratch)
    {
        Vector128<sbyte> eight = Vector128.Create((sbyte)8);
        f.LocalGet(pw).V128Load(offset: 2, alignment: 1).LocalSet(scratch);
        // low nibbles − 8: elements 0–15
        f.LocalGet(scratch).V128Const(Vector128.Create((byte)0x0F)).V128And().V128Const(eight).I8x16Sub().LocalTee(scratch);
        f.I16x8ExtendLowI8x16S().LocalGet(y[0]).I32x4DotI16x8S();
        f.LocalGet(scratch).I16x8ExtendHighI8x16S().LocalGet(y[1]).I32x4DotI16x8S().I32x4Add();
        // high nibbles − 8: elements 16–31
        f.LocalGet(pw).V128Load(offset: 2, alignment: 1).I32Const(4).I8x16ShrU().V128Const(eight).I8x16Sub().LocalTee(scratch);
        f.I16x8ExtendLowI8x16S().LocalGet(y[2]).I32x4DotI16x8S().I32x4Add();
        f.LocalGet(scratch).I16x8ExtendHighI8x16S().LocalGet(y[3]).I32x4DotI16x8S().I32x4Add();
    }
}
