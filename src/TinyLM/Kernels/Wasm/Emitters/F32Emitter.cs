using System.Runtime.Intrinsics;

using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly dots of <see cref="Quantization.F32"/> rows as <see cref="GgmlFloat.Dot"/> (ggml's portable
/// <c>ggml_vec_dot_f32</c>): each product rounded to float, accumulated in double in index order,
/// the total rounded to float. Eight rows run at once, one double accumulator per row (four
/// independent f64x2 chains, so the adds overlap), never splitting one sum.
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
        WasmLocal r = f.DeclareLocal(I32), c = f.DeclareLocal(I32), full = f.DeclareLocal(I32), o = f.DeclareLocal(I32), half = f.DeclareLocal(I32);
        WasmLocal[] pw = WasmEmit.Locals(f, I32, 8), p = WasmEmit.Locals(f, V128, 8);
        // rows 0,1 | 2,3 | 4,5 | 6,7 of the group: four independent double chains
        WasmLocal[] acc = WasmEmit.Locals(f, V128, 4);
        WasmLocal xv = f.DeclareLocal(V128), result = f.DeclareLocal(V128);
        WasmLocal off = f.DeclareLocal(I32);

        f.LocalGet(cols).I32Const(~3).I32And().LocalSet(full);
        using (f.For(r, rows, 8))
        {
            for (int k = 0; k < 8; k++)
            {
                WasmEmit.ClampedIndex(f, r, k, rows);
                f.LocalGet(stride).I32Mul().LocalGet(w).I32Add().LocalSet(pw[k]);
            }
            for (int a = 0; a < 4; a++)
                f.V128Const(Vector128<double>.Zero).LocalSet(acc[a]);
            f.I32Const(0).LocalSet(c);
            using (f.For(c, full, 4))
            {
                f.LocalGet(c).I32Const(2).I32Shl().LocalSet(off);
                f.LocalGet(x).LocalGet(off).I32Add().V128Load(alignment: 4).LocalSet(xv);
                // rows 2a, 2a+1 interleaved by column (unpack low / high): p[2a] = [c0, c0, c1, c1], p[2a+1] = [c2, c2, c3, c3]
                for (int a = 0; a < 4; a++)
                {
                    f.LocalGet(pw[2 * a]).LocalGet(off).I32Add().V128Load(alignment: 4).LocalGet(xv).F32x4Mul().LocalSet(p[2 * a]);
                    f.LocalGet(pw[2 * a + 1]).LocalGet(off).I32Add().V128Load(alignment: 4).LocalGet(xv).F32x4Mul().LocalSet(p[2 * a + 1]);
                    f.LocalGet(p[2 * a]).LocalGet(p[2 * a + 1]).I8x16Shuffle(WasmEmit.Lanes32(0, 4, 1, 5))
                        .LocalGet(p[2 * a]).LocalGet(p[2 * a + 1]).I8x16Shuffle(WasmEmit.Lanes32(2, 6, 3, 7)).LocalSet(p[2 * a + 1]).LocalSet(p[2 * a]);
                }
                // column j of rows 2a, 2a+1 in the low lanes, promoted, added in column order
                for (int j = 0; j < 4; j++)
                    for (int a = 0; a < 4; a++)
                    {
                        WasmLocal pair = p[2 * a + j / 2];
                        f.LocalGet(acc[a]).LocalGet(pair);
                        if (j % 2 == 1)
                            f.LocalGet(pair).I8x16Shuffle(WasmEmit.Lanes32(2, 3, 2, 3));
                        f.F64x2PromoteLowF32x4().F64x2Add().LocalSet(acc[a]);
                    }
            }
            using (f.For(c, cols, 1))
            {
                // one leftover column: products [p0, p1, p2, p3] of rows 4g … 4g + 3
                for (int g = 0; g < 2; g++)
                {
                    f.V128Const(Vector128<float>.Zero);
                    for (int k = 0; k < 4; k++)
                        f.LocalSet(xv).LocalGet(pw[4 * g + k]).LocalGet(c).I32Const(2).I32Shl().I32Add().LocalGet(xv).V128Load32Lane((byte)k, alignment: 4);
                    f.LocalGet(x).LocalGet(c).I32Const(2).I32Shl().I32Add().V128Load32Splat(alignment: 4).F32x4Mul().LocalSet(xv);
                    f.LocalGet(acc[2 * g]).LocalGet(xv).F64x2PromoteLowF32x4().F64x2Add().LocalSet(acc[2 * g]);
                    f.LocalGet(acc[2 * g + 1]).LocalGet(xv).LocalGet(xv).I8x16Shuffle(WasmEmit.Lanes32(2, 3, 2, 3)).F64x2PromoteLowF32x4().F64x2Add().LocalSet(acc[2 * g + 1]);
                }
            }
            f.LocalGet(r).I32Const(2).I32Shl().LocalGet(output).I32Add().LocalSet(o);
            f.LocalGet(acc[0]).F32x4DemoteF64x2Zero().LocalGet(acc[1]).F32x4DemoteF64x2Zero().I8x16Shuffle(WasmEmit.Lanes32(0, 1, 4, 5)).LocalSet(result);
            WasmEmit.StoreRowGroup(f, o, result, r, rows);
            f.LocalGet(r).I32Const(4).I32Add().LocalTee(half).LocalGet(rows).I32LtU();
            using (f.If())
            {
                f.LocalGet(o).I32Const(16).I32Add().LocalSet(o);
                f.LocalGet(acc[2]).F32x4DemoteF64x2Zero().LocalGet(acc[3]).F32x4DemoteF64x2Zero().I8x16Shuffle(WasmEmit.Lanes32(0, 1, 4, 5)).LocalSet(result);
                WasmEmit.StoreRowGroup(f, o, result, half, rows);
            }
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
