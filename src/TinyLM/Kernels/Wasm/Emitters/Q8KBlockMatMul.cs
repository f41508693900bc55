using System.Runtime.Intrinsics;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// The matrix product shared by the Q8_K-activation types whose reference keeps one exact integer sum per
/// super-block of 256 (no lane classes): TQ1_0 and TQ2_0 (<c>sumf += (float)sumi · (dy · dx)</c>, from
/// <c>ggml_vec_dot_tq1_0_q8_K_generic</c> / <c>ggml_vec_dot_tq2_0_q8_K_generic</c>) and Q2_K
/// (<c>sumf += (dy · dx) · (float)isum − (dy · dmin) · (float)summs</c>, <c>ggml_vec_dot_q2_K_q8_K_generic</c>).
/// Four weight rows at a time, row k's <c>sumf</c> in lane k of one f32x4, so every lane performs exactly
/// the reference's float steps; the integer sums use SIMD freely (exact in any order).
/// </summary>
/// <remarks>
/// Exported signature (all i32) as <see cref="Q8ActivationMatMul"/>: <c>(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c>
/// with <c>blocks</c> super-blocks per row. The kernel reads the <c>block_q8_K</c> activations as they are (no
/// prologue, the scratch is unused); tokens run inside the row group, so four weight rows stay in cache while
/// every token row passes over them, and whole groups may be row panels (<see cref="WasmWeightPanels"/>).
/// </remarks>
internal static class Q8KBlockMatMul
{
    /// <summary>Weight rows per group (and per panel).</summary>
    public const int RowsPerGroup = 4;

    /// <summary>Offset of the int8 quants in a <c>block_q8_K</c> (after the f32 <c>d</c>).</summary>
    public const uint ActivationQs = 4;

    /// <summary>Offset of the 16 int16 <c>bsums</c> in a <c>block_q8_K</c>.</summary>
    public const uint ActivationBSums = 260;

    /// <summary>
    /// Sets <c>sumi</c> to an i32x4 whose lanes add up to the super-block's integer sum for the weight block at
    /// <c>pw</c> and the <c>block_q8_K</c> at <c>pa</c>, and, for types with mins, <c>summs</c> likewise to the
    /// mins term. <c>tmp</c> holds <see cref="Temporaries"/> v128 locals the step may overwrite.
    /// </summary>
    public delegate void BlockSums(WasmFunctionBuilder f, WasmLocal pw, WasmLocal pa, WasmLocal sumi, WasmLocal? summs, WasmLocal[] tmp);

    /// <summary>Number of v128 temporaries passed to <see cref="BlockSums"/>.</summary>
    public const int Temporaries = 6;

    /// <summary>Emits the function described in the remarks.</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="blockBytes">Bytes of one weight super-block.</param>
    /// <param name="dOffset">Offset of the float16 scale <c>d</c> in a weight block.</param>
    /// <param name="dminOffset">Offset of the float16 <c>dmin</c> (Q2_K), or null for the types without mins.</param>
    /// <param name="sums">The type's integer step.</param>
    /// <param name="panels">Whole groups of rows are panels of <see cref="RowsPerGroup"/> rows.</param>
    public static WasmFunction Emit(WasmModuleBuilder module, string name, int blockBytes, uint dOffset, uint? dminOffset, BlockSums sums, bool panels = false)
    {
        const int R = RowsPerGroup;
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(10), []);
        WasmLocal w = f.Param(0), wRowBytes = f.Param(1), rows = f.Param(2), act = f.Param(3), actRowBytes = f.Param(4),
            tokens = f.Param(5), output = f.Param(6), outStride = f.Param(7), blocks = f.Param(8);
        WasmLocal r = f.DeclareLocal(I32), t = f.DeclareLocal(I32), ib = f.DeclareLocal(I32), pa = f.DeclareLocal(I32), o = f.DeclareLocal(I32), step = f.DeclareLocal(I32);
        WasmLocal[] rowStart = WasmEmit.Locals(f, I32, R), pw = WasmEmit.Locals(f, I32, R);
        WasmLocal[] sumi = WasmEmit.Locals(f, V128, R), summs = WasmEmit.Locals(f, V128, R), tmp = WasmEmit.Locals(f, V128, Temporaries);
        WasmLocal sumf = f.DeclareLocal(V128), dy = f.DeclareLocal(V128), u01 = f.DeclareLocal(V128), u23 = f.DeclareLocal(V128);
        WasmLocal dW = f.DeclareLocal(V128), dminW = f.DeclareLocal(V128), h0 = f.DeclareLocal(V128), h1 = f.DeclareLocal(V128);

        f.I32Const(0).LocalSet(r);
        using (f.For(r, rows, R))
        {
            WasmEmit.GroupRowStarts(f, r, rows, wRowBytes, w, rowStart, blockBytes, step, panels);
            f.I32Const(0).LocalSet(t);
            using (f.For(t, tokens, 1))
            {
                f.LocalGet(t).LocalGet(actRowBytes).I32Mul().LocalGet(act).I32Add().LocalSet(pa);
                for (int k = 0; k < R; k++)
                    f.LocalGet(rowStart[k]).LocalSet(pw[k]);
                f.V128Const(Vector128<float>.Zero).LocalSet(sumf);
                f.I32Const(0).LocalSet(ib);
                using (f.For(ib, blocks, 1))
                {
                    for (int k = 0; k < R; k++)
                        sums(f, pw[k], pa, sumi[k], dminOffset is null ? null : summs[k], tmp);
                    KQuantMatMul.WeightScales(f, pw, dOffset, dW, tmp[0], h0, h1);
                    f.LocalGet(pa).V128Load32Splat(alignment: 1).LocalSet(dy);
                    f.LocalGet(sumf);
                    if (dminOffset is uint mo)
                    {
                        // sumf += (dy·dx)·(float)isum − (dy·dmin)·(float)summs
                        KQuantMatMul.WeightScales(f, pw, mo, dminW, tmp[0], h0, h1);
                        f.LocalGet(dy).LocalGet(dW).F32x4Mul();
                        WasmEmit.Sum4(f, sumi[0], sumi[1], sumi[2], sumi[3], u01, u23);
                        f.F32x4ConvertI32x4S().F32x4Mul();
                        f.LocalGet(dy).LocalGet(dminW).F32x4Mul();
                        WasmEmit.Sum4(f, summs[0], summs[1], summs[2], summs[3], u01, u23);
                        f.F32x4ConvertI32x4S().F32x4Mul().F32x4Sub();
                    }
                    else
                    {
                        // sumf += (float)sumi·(dy·dx)
                        WasmEmit.Sum4(f, sumi[0], sumi[1], sumi[2], sumi[3], u01, u23);
                        f.F32x4ConvertI32x4S().LocalGet(dy).LocalGet(dW).F32x4Mul().F32x4Mul();
                    }
                    f.F32x4Add().LocalSet(sumf);
                    for (int k = 0; k < R; k++)
                        f.LocalGet(pw[k]).LocalGet(step).I32Add().LocalSet(pw[k]);
                    f.LocalGet(pa).I32Const(KQuantMatMul.Q8KBytes).I32Add().LocalSet(pa);
                }
                f.LocalGet(t).LocalGet(outStride).I32Mul().LocalGet(r).I32Add().I32Const(2).I32Shl().LocalGet(output).I32Add().LocalSet(o);
                WasmEmit.StoreRowGroup(f, o, sumf, r, rows);
            }
        }
        return f.Function;
    }
}
