using System.Runtime.Intrinsics;

using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly kernels of <see cref="Quantization.Q8_0"/>: the matrix product against Q8_0 activations
/// (<c>ggml_vec_dot_q8_0_q8_0_generic</c>: <c>sumf += sumi · (dx · dy)</c>) and the activation
/// quantizer (<c>quantize_row_q8_0_ref</c>), both bit-exact with the C# reference.
/// </summary>
internal static class Q8_0Emitter
{
    /// <summary>Block size in bytes.</summary>
    public const int BlockBytes = 34;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, BlockDot, Q8ActivationMatMul.ScaleOrder.ProductOfScales,
            Q8ActivationMatMul.ActivationLayout.Sequential, panels: panels);

    /// <summary>
    /// Emits the same product with relaxed SIMD (<see cref="BlockDotRelaxed"/>), and, unexported, the
    /// SIMD128 one as its fallback for activations holding −128.
    /// </summary>
    public static WasmFunction EmitMatMulRelaxed(WasmModuleBuilder module, string name, bool panels = false)
    {
        WasmFunction fallback = Q8ActivationMatMul.Emit(module, name + "_simd128", BlockBytes, BlockDot,
            Q8ActivationMatMul.ScaleOrder.ProductOfScales, Q8ActivationMatMul.ActivationLayout.Sequential, export: false, panels: panels);
        return Q8ActivationMatMul.Emit(module, name, BlockBytes, BlockDotRelaxed, Q8ActivationMatMul.ScaleOrder.ProductOfScales,
            Q8ActivationMatMul.ActivationLayout.SplitSigns, fallback, panels: panels);
    }

    /// <summary>
    /// int8 × int8 over 32 elements with the activations split by sign
    /// (<see cref="Q8ActivationMatMul.ActivationLayout.SplitSigns"/>): <c>Σ w·y⁺ − Σ w·y⁻</c>, four
    /// <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> with the weights as the signed operand.
    /// </summary>
    private static void BlockDotRelaxed(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp)
    {
        WasmLocal w0 = tmp[0], w1 = tmp[1];
        f.LocalGet(pw).V128Load(offset: 2, alignment: 1).LocalSet(w0);
        f.LocalGet(pw).V128Load(offset: 18, alignment: 1).LocalSet(w1);
        f.LocalGet(w1).LocalGet(y[1]).LocalGet(w0).LocalGet(y[0]).V128Const(Vector128<int>.Zero)
            .I32x4RelaxedDotI8x16I7x16AddS().I32x4RelaxedDotI8x16I7x16AddS();
        f.LocalGet(w1).LocalGet(y[3]).LocalGet(w0).LocalGet(y[2]).V128Const(Vector128<int>.Zero)
            .I32x4RelaxedDotI8x16I7x16AddS().I32x4RelaxedDotI8x16I7x16AddS();
        f.I32x4Sub();
    }

    /// <summary>int8 × int8 over 32 elements: four <c>i32x4.dot_i16x8_s</c> of sign-extended weights and the prepared activations.</summary>
    private static void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp)
    {
        for (int k = 0; k < 4; k++)
        {
            f.LocalGet(pw).V128Load8x8S(offset: (uint)(2 + 8 * k), alignment: 1).LocalGet(y[k]).I32x4DotI16x8S();
            if (k > 0)
                f.I32x4Add();
        }
    }

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <c>blocks</c> blocks of 32 floats at <c>src</c> to Q8_0 at
    /// <c>dst</c>, as <c>quantize_row_q8_0_ref</c>: <c>amax</c> by the reference's sequential
    /// <c>amax &gt; a ? amax : a</c> (so NaN behaves the same), <c>d = amax / 127</c>,
    /// <c>id = d ≠ 0 ? 1/d : 0</c>, <c>q = (int8)(int)roundf(x·id)</c> with x86's conversion of
    /// out-of-range values (<see cref="Quantization.CConversions"/>).
    /// </summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="q8_1">
    /// Write <c>block_q8_1</c> instead (<c>quantize_row_q8_1_ref</c>, the activations of Q4_1 and Q5_1): the same
    /// <c>d</c> and quants after a float16 <c>s = (float)Σq · d</c>, 36 bytes per block.
    /// </param>
    public static WasmFunction EmitQuantize(WasmModuleBuilder module, string name, bool q8_1 = false)
    {
        uint qs = q8_1 ? 4u : 2u;
        int blockBytes = q8_1 ? 36 : BlockBytes;
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal src = f.Param(0), dst = f.Param(1), blocks = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), j = f.DeclareLocal(I32);
        WasmLocal amax = f.DeclareLocal(F32), a = f.DeclareLocal(F32), d = f.DeclareLocal(F32), id = f.DeclareLocal(F32);
        WasmLocal x = f.DeclareLocal(F32), t0 = f.DeclareLocal(I32), t1 = f.DeclareLocal(I32), t2 = f.DeclareLocal(I32);
        WasmLocal v = f.DeclareLocal(V128), tr = f.DeclareLocal(V128);
        WasmLocal[] q = WasmEmit.Locals(f, V128, 4);

        using (f.For(i, blocks, 1))
        {
            f.F32Const(0).LocalSet(amax);
            f.I32Const(0).LocalSet(j);
            using (f.For(j, 32 * 4, 4))
            {
                f.LocalGet(src).LocalGet(j).I32Add().F32Load(alignment: 4).F32Abs().LocalSet(a);
                f.LocalGet(amax).LocalGet(a).LocalGet(amax).LocalGet(a).F32Gt().Select().LocalSet(amax);
            }
            f.LocalGet(amax).F32Const(127f).F32Div().LocalSet(d);
            f.F32Const(1f).LocalGet(d).F32Div().F32Const(0f).LocalGet(d).F32Const(0f).F32Ne().Select().LocalSet(id);
            f.LocalGet(dst);
            f.LocalGet(d);
            WasmEmit.Fp32ToFp16(f, x, t0, t1, t2);
            f.I32Store16(alignment: 1);
            for (int half = 0; half < 2; half++)
            {
                for (int k = 0; k < 4; k++)
                {
                    // v = x·id; r = trunc(v) + (|v − trunc(v)| ≥ 0.5 ? copysign(1, v) : 0)  (roundf, half away from zero)
                    f.LocalGet(src).V128Load(offset: (uint)(64 * half + 16 * k), alignment: 4).LocalGet(id).F32x4Splat().F32x4Mul().LocalTee(v)
                        .F32x4Trunc().LocalTee(tr);
                    f.LocalGet(v).V128Const(Vector128.Create(unchecked((int)0x80000000))).V128And().V128Const(Vector128.Create(1f)).V128Or()
                        .V128Const(Vector128<float>.Zero)
                        .LocalGet(v).LocalGet(tr).F32x4Sub().F32x4Abs().V128Const(Vector128.Create(0.5f)).F32x4Ge()
                        .V128Bitselect().F32x4Add().LocalTee(v);
                    // (int)r with x86 semantics: NaN or out of range → int.MinValue
                    f.I32x4TruncSatF32x4S().V128Const(Vector128.Create(int.MinValue))
                        .LocalGet(v).V128Const(Vector128.Create(-2147483648f)).F32x4Ge()
                        .LocalGet(v).V128Const(Vector128.Create(2147483648f)).F32x4Lt().V128And()
                        .V128Bitselect().LocalSet(q[k]);
                }
                // low byte of each int32, 16 in memory order
                byte[] lowBytes = [0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28];
                f.LocalGet(dst)
                    .LocalGet(q[0]).LocalGet(q[1]).I8x16Shuffle(lowBytes)
                    .LocalGet(q[2]).LocalGet(q[3]).I8x16Shuffle(lowBytes)
                    .I8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23])
                    .V128Store(offset: qs + (uint)(16 * half), alignment: 1);
            }
            if (q8_1)
            {
                // s = fp16((float)sum · d), sum over the 32 stored int8 (exact pairwise widening sums)
                f.LocalGet(dst).V128Load(offset: qs, alignment: 1).I16x8ExtaddPairwiseI8x16S()
                    .LocalGet(dst).V128Load(offset: qs + 16, alignment: 1).I16x8ExtaddPairwiseI8x16S().I16x8Add()
                    .I32x4ExtaddPairwiseI16x8S().LocalSet(v);
                f.LocalGet(dst)
                    .LocalGet(v).I32x4ExtractLane(0).LocalGet(v).I32x4ExtractLane(1).I32Add()
                    .LocalGet(v).I32x4ExtractLane(2).I32Add().LocalGet(v).I32x4ExtractLane(3).I32Add()
                    .F32ConvertI32S().LocalGet(d).F32Mul();
                WasmEmit.Fp32ToFp16(f, x, t0, t1, t2);
                f.I32Store16(offset: 2, alignment: 1);
            }
            f.LocalGet(src).I32Const(128).I32Add().LocalSet(src);
            f.LocalGet(dst).I32Const(blockBytes).I32Add().LocalSet(dst);
        }
        return f.Function;
    }
}
