using System.Runtime.Intrinsics;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// The matrix product shared by the 32-element block types whose activations are Q8_0 (Q8_0, Q4_0):
/// four weight rows at a time, one float accumulator per row in the lanes of an f32x4, blocks in
/// order — each lane performs exactly the float steps of the type's <c>DotReference</c>
/// (ggml's <c>ggml_vec_dot_*_q8_0_generic</c>); only the exact integer block sums use SIMD freely.
/// </summary>
/// <remarks>
/// Exported signature (all i32): <c>(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks)</c>:
/// <c>out[t·outStride + r] = Dot(w row r, act row t)</c> for r &lt; rows, t &lt; tokens; <c>outStride</c>
/// in floats, <c>blocks</c> per row. A last group of fewer than four rows repeats the last row and
/// stores only the valid lanes. Tokens run inside the row group, so four weight rows stay in cache
/// while every token row passes over them (the prefill tile).
/// </remarks>
internal static class Q8ActivationMatMul
{
    /// <summary>Q8_0 block size in bytes (<c>block_q8_0</c>: f16 scale + 32 int8).</summary>
    public const int Q8Bytes = 34;

    /// <summary>
    /// Pushes the i32x4 partial sums of one weight block (at <c>pw</c>) against the activation block
    /// widened to int16 in <c>y</c> (elements 0–7, 8–15, 16–23, 24–31); the lane total is the exact
    /// block sum <c>Σ x_j·y_j</c>.
    /// </summary>
    public delegate void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal scratch);

    /// <summary>How a block's scales meet its integer sum (the float order of the reference).</summary>
    public enum ScaleOrder
    {
        /// <summary><c>sumf += sumi · (dx · dy)</c> (Q8_0).</summary>
        ProductOfScales,

        /// <summary><c>sumf += sumi · dx · dy</c>, left to right (Q4_0).</summary>
        LeftToRight,
    }

    /// <summary>Emits the function described in the remarks.</summary>
    public static WasmFunction Emit(WasmModuleBuilder module, string name, int blockBytes, BlockDot dot, ScaleOrder order)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(9), []);
        WasmLocal w = f.Param(0), wRowBytes = f.Param(1), rows = f.Param(2), act = f.Param(3), actRowBytes = f.Param(4),
            tokens = f.Param(5), output = f.Param(6), outStride = f.Param(7), blocks = f.Param(8);
        WasmLocal r = f.DeclareLocal(I32), t = f.DeclareLocal(I32), ib = f.DeclareLocal(I32), pa = f.DeclareLocal(I32), o = f.DeclareLocal(I32);
        WasmLocal[] rowStart = WasmEmit.Locals(f, I32, 4), pw = WasmEmit.Locals(f, I32, 4);
        WasmLocal[] y = WasmEmit.Locals(f, V128, 4), partial = WasmEmit.Locals(f, V128, 4);
        WasmLocal sumf = f.DeclareLocal(V128), u01 = f.DeclareLocal(V128), u23 = f.DeclareLocal(V128), scratch = f.DeclareLocal(V128);
        WasmLocal h0 = f.DeclareLocal(V128), h1 = f.DeclareLocal(V128);

        using (f.For(r, rows, 4))
        {
            for (int k = 0; k < 4; k++)
            {
                WasmEmit.ClampedIndex(f, r, k, rows);
                f.LocalGet(wRowBytes).I32Mul().LocalGet(w).I32Add().LocalSet(rowStart[k]);
            }
            f.I32Const(0).LocalSet(t);
            using (f.For(t, tokens, 1))
            {
                for (int k = 0; k < 4; k++)
                    f.LocalGet(rowStart[k]).LocalSet(pw[k]);
                f.LocalGet(t).LocalGet(actRowBytes).I32Mul().LocalGet(act).I32Add().LocalSet(pa);
                f.V128Const(Vector128<float>.Zero).LocalSet(sumf);
                f.I32Const(0).LocalSet(ib);
                using (f.For(ib, blocks, 1))
                {
                    for (int k = 0; k < 4; k++)
                        f.LocalGet(pa).V128Load8x8S(offset: (uint)(2 + 8 * k), alignment: 1).LocalSet(y[k]);
                    for (int k = 0; k < 4; k++)
                    {
                        dot(f, pw[k], y, scratch);
                        f.LocalSet(partial[k]);
                    }
                    f.LocalGet(sumf);
                    WasmEmit.Sum4(f, partial[0], partial[1], partial[2], partial[3], u01, u23);
                    f.F32x4ConvertI32x4S();
                    // dx: the four rows' f16 scales; dy: the activation block's, in every lane
                    f.V128Const(Vector128<int>.Zero);
                    for (int k = 0; k < 4; k++)
                        f.LocalSet(scratch).LocalGet(pw[k]).LocalGet(scratch).V128Load16Lane((byte)(2 * k), alignment: 1);
                    WasmEmit.Fp16x4ToFp32x4(f, h0, h1);
                    if (order == ScaleOrder.LeftToRight)
                        f.F32x4Mul();
                    f.LocalGet(pa).I32Load16U(alignment: 1).I32x4Splat();
                    WasmEmit.Fp16x4ToFp32x4(f, h0, h1);
                    f.F32x4Mul();
                    if (order == ScaleOrder.ProductOfScales)
                        f.F32x4Mul();
                    f.F32x4Add().LocalSet(sumf);
                    for (int k = 0; k < 4; k++)
                        f.LocalGet(pw[k]).I32Const(blockBytes).I32Add().LocalSet(pw[k]);
                    f.LocalGet(pa).I32Const(Q8Bytes).I32Add().LocalSet(pa);
                }
                f.LocalGet(t).LocalGet(outStride).I32Mul().LocalGet(r).I32Add().I32Const(2).I32Shl().LocalGet(output).I32Add().LocalSet(o);
                WasmEmit.StoreRowGroup(f, o, sumf, r, rows);
            }
        }
        return f.Function;
    }
}
