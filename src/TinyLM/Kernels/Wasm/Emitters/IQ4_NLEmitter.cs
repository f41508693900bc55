using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="IQ4_NL"/> weights with Q8_0 activations
/// (<c>ggml_vec_dot_iq4_nl_q8_0_generic</c>: <c>sumf += (dy · dx) · (sumi1 + sumi2)</c>), bit-exact with the
/// C# reference: each nibble is looked up in the 16-entry non-linear table <c>kvalues_iq4nl</c> with one
/// <c>i8x16.swizzle</c>, after which the block is a signed int8 × int8 dot as Q8_0's.
/// </summary>
internal static class IQ4_NLEmitter
{
    /// <summary>Block size in bytes (<c>block_iq4_nl</c>: f16 scale + 16 bytes of nibbles, as Q4_0).</summary>
    public const int BlockBytes = 18;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, BlockDot, Q8ActivationMatMul.ScaleOrder.ProductOfScales,
            Q8ActivationMatMul.ActivationLayout.Sequential, panels: panels);

    /// <summary>
    /// Emits the same product with relaxed SIMD (<see cref="BlockDotRelaxed"/>), and, unexported, the SIMD128 one
    /// as its fallback for activations holding −128 (as <see cref="Q8_0Emitter.EmitMatMulRelaxed"/>).
    /// </summary>
    public static WasmFunction EmitMatMulRelaxed(WasmModuleBuilder module, string name, bool panels = false)
    {
        WasmFunction fallback = Q8ActivationMatMul.Emit(module, name + "_simd128", BlockBytes, BlockDot,
            Q8ActivationMatMul.ScaleOrder.ProductOfScales, Q8ActivationMatMul.ActivationLayout.Sequential, export: false, panels: panels);
        return Q8ActivationMatMul.Emit(module, name, BlockBytes, BlockDotRelaxed, Q8ActivationMatMul.ScaleOrder.ProductOfScales,
            Q8ActivationMatMul.ActivationLayout.SplitSigns, fallback, panels: panels);
    }

    /// <summary>Sets <paramref name="lo"/> to the table values of elements 0–15 (low nibbles) and <paramref name="hi"/> to those of 16–31 (high nibbles), as int8.</summary>
    private static void Lookup(WasmFunctionBuilder f, WasmLocal pw, WasmLocal lo, WasmLocal hi)
    {
        Vector128<sbyte> table = Vector128.Create(IQ4_NL.KValues);
        f.V128Const(table).LocalGet(pw).V128Load(offset: 2, alignment: 1).LocalTee(hi).V128Const(Vector128.Create((byte)0x0F)).V128And().I8x16Swizzle().LocalSet(lo);
        f.V128Const(table).LocalGet(hi).I32Const(4).I8x16ShrU().I8x16Swizzle().LocalSet(hi);
    }

    /// <summary>The looked-up int8 widened to int16 and dotted with the sequential activations: four <c>i32x4.dot_i16x8_s</c>.</summary>
    private static void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp)
    {
        WasmLocal lo = tmp[0], hi = tmp[1];
        Lookup(f, pw, lo, hi);
        f.LocalGet(lo).I16x8ExtendLowI8x16S().LocalGet(y[0]).I32x4DotI16x8S();
        f.LocalGet(lo).I16x8ExtendHighI8x16S().LocalGet(y[1]).I32x4DotI16x8S().I32x4Add();
        f.LocalGet(hi).I16x8ExtendLowI8x16S().LocalGet(y[2]).I32x4DotI16x8S().I32x4Add();
        f.LocalGet(hi).I16x8ExtendHighI8x16S().LocalGet(y[3]).I32x4DotI16x8S().I32x4Add();
    }

    /// <summary>
    /// The looked-up int8 against the activations split by sign (<see cref="Q8ActivationMatMul.ActivationLayout.SplitSigns"/>):
    /// <c>Σ w·y⁺ − Σ w·y⁻</c>, four exact <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> with the table values as the signed operand.
    /// </summary>
    private static void BlockDotRelaxed(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp)
    {
        WasmLocal lo = tmp[0], hi = tmp[1];
        Lookup(f, pw, lo, hi);
        f.LocalGet(hi).LocalGet(y[1]).LocalGet(lo).LocalGet(y[0]).V128Const(Vector128<int>.Zero)
            .I32x4RelaxedDotI8x16I7x16AddS().I32x4RelaxedDotI8x16I7x16AddS();
        f.LocalGet(hi).LocalGet(y[3]).LocalGet(lo).LocalGet(y[2]).V128Const(Vector128<int>.Zero)
            .I32x4RelaxedDotI8x16I7x16AddS().I32x4RelaxedDotI8x16I7x16AddS();
        f.I32x4Sub();
    }
}
