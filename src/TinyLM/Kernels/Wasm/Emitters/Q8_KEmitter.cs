using System.Runtime.Intrinsics;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly activation quantizer of <see cref="Quantization.Q8_K"/> (<c>quantize_row_q8_K_ref</c>,
/// ggml/src/ggml-quants.c), byte for byte equal to <see cref="Quantization.Q8_K.QuantizeReference"/>.
/// </summary>
internal static class Q8_KEmitter
{
    /// <summary>Block size in bytes (<c>block_q8_K</c>: f32 d, 256 int8 qs, 16 int16 bsums).</summary>
    public const int BlockBytes = 292;

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <c>blocks</c> blocks of 256 floats at <c>src</c> to Q8_K at
    /// <c>dst</c>. <c>amax</c> is the largest |x| (<c>f32x4.pmax</c> skips NaN as the reference's
    /// <c>ax &gt; amax</c> does), <c>max</c> the first x with |x| = amax; an all-zero (or all-NaN) block
    /// is written as zeros (TinyLM's reference writes zero <c>bsums</c> there too); else
    /// <c>iscale = −127 / max</c>, <c>q = MIN(127, nearest_int(iscale·x))</c> stored as its low byte
    /// (nearest_int: the bits of <c>iscale·x + 12582912f</c>, masked), <c>bsums</c> the sums of 16
    /// stored bytes, <c>d = 1 / iscale</c>.
    /// </summary>
    public static WasmFunction EmitQuantize(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal src = f.Param(0), dst = f.Param(1), blocks = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), j = f.DeclareLocal(I32);
        WasmLocal amax = f.DeclareLocal(F32), a = f.DeclareLocal(F32), b = f.DeclareLocal(F32), iscale = f.DeclareLocal(F32);
        WasmLocal m = f.DeclareLocal(V128), vs = f.DeclareLocal(V128), bytes = f.DeclareLocal(V128), u01 = f.DeclareLocal(V128), u23 = f.DeclareLocal(V128);
        WasmLocal[] q = WasmEmit.Locals(f, V128, 4), p = WasmEmit.Locals(f, V128, 4);
        byte[] lowBytes = [0, 4, 8, 12, 16, 20, 24, 28, 0, 4, 8, 12, 16, 20, 24, 28];

        using (f.For(i, blocks, 1))
        {
            // amax: pmax(m, |x|) = m < |x| ? |x| : m, so NaN never enters
            f.V128Const(Vector128<float>.Zero).LocalSet(m);
            f.I32Const(0).LocalSet(j);
            using (f.For(j, 1024, 64))
                for (int k = 0; k < 4; k++)
                    f.LocalGet(m).LocalGet(src).LocalGet(j).I32Add().V128Load(offset: (uint)(16 * k), alignment: 4).F32x4Abs().F32x4Pmax().LocalSet(m);
            f.LocalGet(m).F32x4ExtractLane(0).LocalTee(a).LocalGet(m).F32x4ExtractLane(1).LocalTee(b).LocalGet(a).LocalGet(b).F32Gt().Select().LocalSet(amax);
            f.LocalGet(m).F32x4ExtractLane(2).LocalTee(a).LocalGet(m).F32x4ExtractLane(3).LocalTee(b).LocalGet(a).LocalGet(b).F32Gt().Select().LocalSet(a);
            f.LocalGet(amax).LocalGet(a).LocalGet(amax).LocalGet(a).F32Gt().Select().LocalSet(amax);

            f.LocalGet(amax).F32Const(0f).F32Eq();
            using (f.If())
            {
                f.LocalGet(dst).F32Const(0f).F32Store(alignment: 1);
                for (int k = 0; k < 18; k++)
                    f.LocalGet(dst).V128Const(Vector128<int>.Zero).V128Store(offset: (uint)(4 + 16 * k), alignment: 1);
                f.Else();
                // the first element of magnitude amax: the first group of four holding one, then the element in it
                f.I32Const(0).LocalSet(j);
                using (WasmLabel group = f.Block())
                {
                    using (f.For(j, 1024, 16))
                        f.LocalGet(src).LocalGet(j).I32Add().V128Load(alignment: 4).F32x4Abs().LocalGet(amax).F32x4Splat().F32x4Eq().V128AnyTrue().BrIf(group);
                }
                using (WasmLabel found = f.Block())
                {
                    using (f.For(j, 1024, 4))
                        f.LocalGet(src).LocalGet(j).I32Add().F32Load(alignment: 4).F32Abs().LocalGet(amax).F32Eq().BrIf(found);
                }
                f.F32Const(-127f).LocalGet(src).LocalGet(j).I32Add().F32Load(alignment: 4).F32Div().LocalTee(iscale).F32x4Splat().LocalSet(vs);
                for (int g4 = 0; g4 < 4; g4++)
                {
                    for (int gg = 0; gg < 4; gg++)
                    {
                        int g = 4 * g4 + gg;
                        for (int k = 0; k < 4; k++)
                        {
                            // MIN(127, nearest_int(iscale·x))
                            f.LocalGet(vs).LocalGet(src).V128Load(offset: (uint)(64 * g + 16 * k), alignment: 4).F32x4Mul()
                                .V128Const(Vector128.Create(12582912f)).F32x4Add()
                                .V128Const(Vector128.Create(0x007FFFFF)).V128And().V128Const(Vector128.Create(0x00400000)).I32x4Sub()
                                .V128Const(Vector128.Create(127)).I32x4MinS().LocalSet(q[k]);
                        }
                        // the low byte of each int32, 16 in element order
                        f.LocalGet(q[0]).LocalGet(q[1]).I8x16Shuffle(lowBytes)
                            .LocalGet(q[2]).LocalGet(q[3]).I8x16Shuffle(lowBytes)
                            .I8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).LocalSet(bytes);
                        f.LocalGet(dst).LocalGet(bytes).V128Store(offset: (uint)(4 + 16 * g), alignment: 1);
                        f.LocalGet(bytes).I16x8ExtaddPairwiseI8x16S().I32x4ExtaddPairwiseI16x8S().LocalSet(p[gg]);
                    }
                    // bsums of four groups (|Σ| ≤ 2048: the narrowing is exact)
                    f.LocalGet(dst);
                    WasmEmit.Sum4(f, p[0], p[1], p[2], p[3], u01, u23);
                    f.LocalSet(u01).LocalGet(u01).LocalGet(u01).I16x8NarrowI32x4S().V128Store64Lane(0, offset: (uint)(260 + 8 * g4), alignment: 1);
                }
                f.LocalGet(dst).F32Const(1f).LocalGet(iscale).F32Div().F32Store(alignment: 1);
            }
            f.LocalGet(src).I32Const(1024).I32Add().LocalSet(src);
            f.LocalGet(dst).I32Const(BlockBytes).I32Add().LocalSet(dst);
        }
        return f.Function;
    }
}
