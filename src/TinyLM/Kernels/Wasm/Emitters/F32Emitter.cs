using System.Runtime.Intrinsics;

using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly dots of <see cref="Quantization.F32"/> rows as <see cref="GgmlFloat.Dot"/> (ggml's portable
/// <c>ggml_vec_dot_f32</c>): each product rounded to float, accumulated in double in index order,
/// the total rounded to float. Four rows run at once, one double accumulator per row (two f64x2),
/// never splitting one sum.
/// </summary>
internal static class F32Emitter
{
    /// <summary>
    /// Emits the internal <c>name(w, rowStrideBytes, rows, x, cols, out)</c>:
    /// <c>out[r] = (float)Σ_c (double)(w[r·stride + c] · x[c])</c>. Also the score pass of attention.
    /// </summary>
    public static WasmFunction EmitDotRows(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(6), [], export: false);
        WasmLocal w = f.Param(0), stride = f.Param(1), rows = f.Param(2), x = f.Param(3), cols = f.Param(4), output = f.Param(5);
        WasmLocal r = f.DeclareLocal(I32), c = f.DeclareLocal(I32), full = f.DeclareLocal(I32), o = f.DeclareLocal(I32);
        WasmLocal[] pw = WasmEmit.Locals(f, I32, 4), p = WasmEmit.Locals(f, V128, 4);
        WasmLocal acc01 = f.DeclareLocal(V128), acc23 = f.DeclareLocal(V128), xv = f.DeclareLocal(V128), result = f.DeclareLocal(V128);

        f.LocalGet(cols).I32Const(~3).I32And().LocalSet(full);
        using (f.For(r, rows, 4))
        {
            for (int k = 0; k < 4; k++)
            {
                WasmEmit.ClampedIndex(f, r, k, rows);
                f.LocalGet(stride).I32Mul().LocalGet(w).I32Add().LocalSet(pw[k]);
            }
            f.V128Const(Vector128<double>.Zero).LocalTee(acc01).LocalSet(acc23);
            f.I32Const(0).LocalSet(c);
            using (f.For(c, full, 4))
            {
                f.LocalGet(x).LocalGet(c).I32Const(2).I32Shl().I32Add().V128Load(alignment: 4).LocalSet(xv);
                for (int k = 0; k < 4; k++)
                    f.LocalGet(pw[k]).LocalGet(c).I32Const(2).I32Shl().I32Add().V128Load(alignment: 4).LocalGet(xv).F32x4Mul().LocalSet(p[k]);
                // column j of rows 0,1 (and 2,3) into the low lanes, promoted, added in column order
                for (int j = 0; j < 4; j++)
                {
                    f.LocalGet(acc01).LocalGet(p[0]).LocalGet(p[1]).I8x16Shuffle(WasmEmit.Lanes32(j, 4 + j, j, 4 + j)).F64x2PromoteLowF32x4().F64x2Add().LocalSet(acc01);
                    f.LocalGet(acc23).LocalGet(p[2]).LocalGet(p[3]).I8x16Shuffle(WasmEmit.Lanes32(j, 4 + j, j, 4 + j)).F64x2PromoteLowF32x4().F64x2Add().LocalSet(acc23);
                }
            }
            using (f.For(c, cols, 1))
            {
                // one leftover column: products [p0, p1, p2, p3] of the four rows
                f.V128Const(Vector128<float>.Zero);
                for (int k = 0; k < 4; k++)
                    f.LocalSet(xv).LocalGet(pw[k]).LocalGet(c).I32Const(2).I32Shl().I32Add().LocalGet(xv).V128Load32Lane((byte)k, alignment: 4);
                f.LocalGet(x).LocalGet(c).I32Const(2).I32Shl().I32Add().V128Load32Splat(alignment: 4).F32x4Mul().LocalSet(xv);
                f.LocalGet(acc01).LocalGet(xv).F64x2PromoteLowF32x4().F64x2Add().LocalSet(acc01);
                f.LocalGet(acc23).LocalGet(xv).LocalGet(xv).I8x16Shuffle(WasmEmit.Lanes32(2, 3, 2, 3)).F64x2PromoteLowF32x4().F64x2Add().LocalSet(acc23);
            }
            f.LocalGet(acc01).F32x4DemoteF64x2Zero().LocalGet(acc23).F32x4DemoteF64x2Zero().I8x16Shuffle(WasmEmit.Lanes32(0, 1, 4, 5)).LocalSet(result);
            f.LocalGet(r).I32Const(2).I32Shl().LocalGet(output).I32Add().LocalSet(o);
            WasmEmit.StoreRowGroup(f, o, result, r, rows);
        }
        return f.Function;
    }

    /// <summary>
    /// Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, cols, scratch)</c>:
    /// <paramref name="dotRows"/> for each token row (<c>scratch</c> is unused; the signature is the one of every matrix product).
    /// </summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, WasmFunction dotRows)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(10), []);
        WasmLocal w = f.Param(0), wRowBytes = f.Param(1), rows = f.Param(2), act = f.Param(3), actRowBytes = f.Param(4),
            tokens = f.Param(5), output = f.Param(6), outStride = f.Param(7), cols = f.Param(8);
        WasmLocal t = f.DeclareLocal(I32);
        using (f.For(t, tokens, 1))
        {
            f.LocalGet(w).LocalGet(wRowBytes).LocalGet(rows)
                .LocalGet(act).LocalGet(t).LocalGet(actRowBytes).I32Mul().I32Add()
                .LocalGet(cols)
                .LocalGet(output).LocalGet(t).LocalGet(outStride).I32Mul().I32Const(2).I32Shl().I32Add()
                .Call(dotRows);
        }
        return f.Function;
    }
}
