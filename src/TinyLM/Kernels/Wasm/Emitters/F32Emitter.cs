using System.Runtime.Intrinsics;

using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly dots of <see cref="Quantization.F32"/> rows as <see cref="GgmlFloat.Dot"/> (ggml's portable
/// <c>ggml_vec_dot_f32</c>): each product rounded to float, accumulated in double in index order,
/// the total rounded to float. Eight rows run at once, one double accumulator per row (four
/// independent f64x2 chains, so the adds overlap), never splitting one sum. The same dots over float16 or
/// bfloat16 weight rows (converted exactly to float as they are loaded) serve <see cref="F16Emitter"/> and <see cref="BF16Emitter"/>.
/// </summary>
internal static class F32Emitter
{
    /// <summary>The element type of the weight rows of <see cref="EmitDotRows"/>.</summary>
    public enum WeightElements
    {
        /// <summary>float.</summary>
        F32,

        /// <summary>IEEE half (<c>ggml_compute_fp16_to_fp32</c>).</summary>
        F16,

        /// <summary>bfloat16 (the high half of a float).</summary>
        BF16,
    }

    /// <summary>
    /// Emits the internal <c>name(w, rowStrideBytes, rows, x, cols, out)</c>:
    /// <c>out[r] = (float)Σ_c (double)(w[r·stride + c] · x[c])</c>, <c>x</c> floats and the weights of
    /// <paramref name="elements"/> (converted to float). Also the score pass of attention.
    /// </summary>
    public static WasmFunction EmitDotRows(WasmModuleBuilder module, string name, WeightElements elements = WeightElements.F32)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(6), [], export: false);
        WasmLocal w = f.Param(0), stride = f.Param(1), rows = f.Param(2), x = f.Param(3), cols = f.Param(4), output = f.Param(5);
        WasmLocal r = f.DeclareLocal(I32), c = f.DeclareLocal(I32), full = f.DeclareLocal(I32), o = f.DeclareLocal(I32), half = f.DeclareLocal(I32);
        WasmLocal[] pw = WasmEmit.Locals(f, I32, 8), p = WasmEmit.Locals(f, V128, 8);
        // rows 0,1 | 2,3 | 4,5 | 6,7 of the group: four independent double chains
        WasmLocal[] acc = WasmEmit.Locals(f, V128, 4);
        WasmLocal xv = f.DeclareLocal(V128), result = f.DeclareLocal(V128);
        WasmLocal off = f.DeclareLocal(I32);
        WasmLocal woff = elements == WeightElements.F32 ? off : f.DeclareLocal(I32);   // the weights' byte offset of column c
        WasmLocal h0 = f.DeclareLocal(V128), h1 = f.DeclareLocal(V128);
        int elementShift = elements == WeightElements.F32 ? 2 : 1;

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
                if (elements != WeightElements.F32)
                    f.LocalGet(c).I32Const(elementShift).I32Shl().LocalSet(woff);
                f.LocalGet(x).LocalGet(off).I32Add().V128Load(alignment: 4).LocalSet(xv);
                // rows 2a, 2a+1 interleaved by column (unpack low / high): p[2a] = [c0, c0, c1, c1], p[2a+1] = [c2, c2, c3, c3]
                for (int a = 0; a < 4; a++)
                {
                    f.LocalGet(pw[2 * a]).LocalGet(woff).I32Add();
                    LoadWeights4(f, elements, h0, h1);
                    f.LocalGet(xv).F32x4Mul().LocalSet(p[2 * a]);
                    f.LocalGet(pw[2 * a + 1]).LocalGet(woff).I32Add();
                    LoadWeights4(f, elements, h0, h1);
                    f.LocalGet(xv).F32x4Mul().LocalSet(p[2 * a + 1]);
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
                    {
                        f.LocalSet(xv).LocalGet(pw[4 * g + k]).LocalGet(c).I32Const(elementShift).I32Shl().I32Add().LocalGet(xv);
                        if (elements == WeightElements.F32)
                            f.V128Load32Lane((byte)k, alignment: 4);
                        else
                            f.V128Load16Lane((byte)(2 * k), alignment: 2);
                    }
                    ToFloats(f, elements, h0, h1);
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

    /// <summary>Pops an address and pushes the f32x4 of the four weights there.</summary>
    private static void LoadWeights4(WasmFunctionBuilder f, WeightElements elements, WasmLocal h0, WasmLocal h1)
    {
        if (elements == WeightElements.F32)
            f.V128Load(alignment: 4);
        else
        {
            f.V128Load16x4U(alignment: 2);
            ToFloats(f, elements, h0, h1);
        }
    }

    /// <summary>Pops an i32x4 whose lanes hold 16-bit weights in their low halves and pushes them as f32x4 (nothing for F32).</summary>
    internal static void ToFloats(WasmFunctionBuilder f, WeightElements elements, WasmLocal h0, WasmLocal h1)
    {
        if (elements == WeightElements.F16)
            WasmEmit.Fp16x4ToFp32x4(f, h0, h1);
        else if (elements == WeightElements.BF16)
            f.I32Const(16).I32x4Shl();
    }

    /// <summary>
    /// Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, cols, scratch)</c> for float16 or
    /// bfloat16 weights and activations of the same type (<c>ggml_vec_dot_f16</c> / <c>ggml_vec_dot_bf16</c>'s portable
    /// forms: both converted to float, each product rounded to float and added in double in index order): each token's
    /// activation row converted to floats in <c>scratch</c> (<c>4·cols</c> bytes, 16-byte aligned), then the rows' dots
    /// (<see cref="EmitDotRows"/> over the 16-bit weights).
    /// </summary>
    public static WasmFunction EmitHalfMatMul(WasmModuleBuilder module, string name, WeightElements elements)
    {
        if (elements == WeightElements.F32)
            throw new ArgumentException("F32 products use EmitMatMul.", nameof(elements));
        WasmFunction dotRows = EmitDotRows(module, name + "_rows", elements);
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(10), []);
        WasmLocal w = f.Param(0), wRowBytes = f.Param(1), rows = f.Param(2), act = f.Param(3), actRowBytes = f.Param(4),
            tokens = f.Param(5), output = f.Param(6), outStride = f.Param(7), cols = f.Param(8), scratch = f.Param(9);
        WasmLocal t = f.DeclareLocal(I32), c = f.DeclareLocal(I32), pa = f.DeclareLocal(I32), full = f.DeclareLocal(I32);
        WasmLocal h0 = f.DeclareLocal(V128), h1 = f.DeclareLocal(V128);
        f.LocalGet(scratch).I32Const(~1).I32And().LocalSet(scratch);   // bit 0 (prepared, KQuantMatMul) is ignored here
        f.LocalGet(cols).I32Const(~3).I32And().LocalSet(full);
        using (f.For(t, tokens, 1))
        {
            f.LocalGet(t).LocalGet(actRowBytes).I32Mul().LocalGet(act).I32Add().LocalSet(pa);
            f.I32Const(0).LocalSet(c);
            using (f.For(c, full, 4))
            {
                f.LocalGet(scratch).LocalGet(c).I32Const(2).I32Shl().I32Add()
                    .LocalGet(pa).LocalGet(c).I32Const(1).I32Shl().I32Add().V128Load16x4U(alignment: 2);
                ToFloats(f, elements, h0, h1);
                f.V128Store(alignment: 16);
            }
            using (f.For(c, cols, 1))
            {
                f.LocalGet(scratch).LocalGet(c).I32Const(2).I32Shl().I32Add()
                    .LocalGet(pa).LocalGet(c).I32Const(1).I32Shl().I32Add().I32Load16U(alignment: 2).I32x4Splat();
                ToFloats(f, elements, h0, h1);
                f.V128Store32Lane(0, alignment: 4);
            }
            f.LocalGet(w).LocalGet(wRowBytes).LocalGet(rows).LocalGet(scratch).LocalGet(cols)
                .LocalGet(output).LocalGet(t).LocalGet(outStride).I32Mul().I32Const(2).I32Shl().I32Add()
                .Call(dotRows);
        }
        return f.Function;
    }

    /// <summary>
    /// Emits <c>name(src, dst, n)</c>: <c>n</c> floats to float16 (<c>ggml_compute_fp32_to_fp16</c>, <see cref="WasmEmit.Fp32ToFp16"/>)
    /// or bfloat16 (<c>ggml_compute_fp32_to_bf16</c>: round to nearest even, a NaN made quiet by setting bit 6), one at a time.
    /// </summary>
    public static WasmFunction EmitHalfQuantize(WasmModuleBuilder module, string name, WeightElements elements)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal src = f.Param(0), dst = f.Param(1), n = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), x = f.DeclareLocal(F32), t0 = f.DeclareLocal(I32), t1 = f.DeclareLocal(I32), t2 = f.DeclareLocal(I32);
        using (f.For(i, n, 1))
        {
            f.LocalGet(dst).LocalGet(i).I32Const(1).I32Shl().I32Add();
            f.LocalGet(src).LocalGet(i).I32Const(2).I32Shl().I32Add();
            if (elements == WeightElements.F16)
            {
                f.F32Load(alignment: 4);
                WasmEmit.Fp32ToFp16(f, x, t0, t1, t2);
            }
            else
            {
                // (u & 0x7FFFFFFF) > 0x7F800000 ? (u >> 16) | 64 : (u + 0x7FFF + ((u >> 16) & 1)) >> 16
                f.I32Load(alignment: 4).LocalTee(t0).I32Const(16).I32ShrU().I32Const(64).I32Or()
                    .LocalGet(t0).I32Const(0x7FFF).I32Add().LocalGet(t0).I32Const(16).I32ShrU().I32Const(1).I32And().I32Add().I32Const(16).I32ShrU()
                    .LocalGet(t0).I32Const(0x7FFFFFFF).I32And().I32Const(0x7F800000).I32GtU().Select();
            }
            f.I32Store16(alignment: 2);
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
