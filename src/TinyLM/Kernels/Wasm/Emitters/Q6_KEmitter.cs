using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q6_K"/> weights with Q8_K activations, bit-exact with the
/// C# reference (<c>ggml_vec_dot_q6_K_q8_K_generic</c>; the shared part is <see cref="KQuantMatMul"/>).
/// </summary>
internal static class Q6_KEmitter
{
    /// <summary>Block size in bytes (<c>block_q6_K</c>: 128 bytes of low nibbles, 64 of high bit pairs, 16 int8 scales, f16 d).</summary>
    public const int BlockBytes = 210;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="KQuantMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 208, dminOffset: null, BlockLanes, panels);

    /// <summary>
    /// One super-block, per 128 elements (half <c>hh</c>) and 16-element column <c>c</c>: 16 bytes of
    /// <c>ql</c> at 64hh + c (elements +0 low nibble, +64 high nibble), at 64hh + 32 + c (+32, +96) and of
    /// <c>qh</c> at 32hh + c (bit pairs 0–1, 2–3, 4–5, 6–7 for +0, +32, +64, +96), each in
    /// <see cref="KQuantMatMul.WeightPairs"/> order; per quarter the E and O fields
    /// <c>(nibble | high bits · 16) − 32</c>, multiplied in int16 by the group's int8 scale
    /// (|q·s| ≤ 32·128) and dotted with the prepared activations.
    /// </summary>
    private static void BlockLanes(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp)
    {
        WasmLocal scLo = tmp[1], scHi = tmp[2], l0 = tmp[3], l1 = tmp[4], h = tmp[5], s = tmp[6];
        Vector128<short> low4 = Vector128.Create((short)0x000F), bits45 = Vector128.Create((short)0x0030), bias = Vector128.Create((short)32);
        f.LocalGet(pw).V128Load(offset: 192, alignment: 1).LocalTee(scLo).I16x8ExtendHighI8x16S().LocalSet(scHi);
        f.LocalGet(scLo).I16x8ExtendLowI8x16S().LocalSet(scLo);

        bool first = true;
        for (int hh = 0; hh < 2; hh++)
        {
            for (int c = 0; c < 32; c += 16)
            {
                LoadPairs(f, pw, (uint)(64 * hh + c), l0);
                LoadPairs(f, pw, (uint)(64 * hh + 32 + c), l1);
                LoadPairs(f, pw, (uint)(128 + 32 * hh + c), h);
                for (int q = 0; q < 4; q++)
                {
                    int g = 8 * hh + 2 * q + c / 16;
                    int lane = g % 8;
                    f.LocalGet(g < 8 ? scLo : scHi).LocalGet(g < 8 ? scLo : scHi)
                        .I8x16Shuffle(SplatShort(lane)).LocalSet(s);
                    WasmLocal l = q % 2 == 0 ? l0 : l1;
                    // E: low byte. Nibble: bits 0–3 (q < 2) or 4–7; high bits 2q, 2q+1 of the qh byte to bits 4–5.
                    f.LocalGet(l);
                    if (q >= 2)
                        f.I32Const(4).I16x8ShrU();
                    f.V128Const(low4).V128And();
                    f.LocalGet(h);
                    if (q < 2)
                        f.I32Const(4 - 2 * q).I16x8Shl();
                    else if (q == 3)
                        f.I32Const(2).I16x8ShrU();
                    f.V128Const(bits45).V128And().V128Or().V128Const(bias).I16x8Sub()
                        .LocalGet(s).I16x8Mul().LocalGet(ps).V128Load(offset: (uint)(32 * g), alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxE, first);
                    // O: high byte. Nibble: bits 8–11 (q < 2) or 12–15; high bits 8 + 2q, 9 + 2q to bits 4–5.
                    f.LocalGet(l);
                    if (q < 2)
                        f.I32Const(8).I16x8ShrU().V128Const(low4).V128And();
                    else
                        f.I32Const(12).I16x8ShrU();
                    f.LocalGet(h).I32Const(4 + 2 * q).I16x8ShrU().V128Const(bits45).V128And().V128Or().V128Const(bias).I16x8Sub()
                        .LocalGet(s).I16x8Mul().LocalGet(ps).V128Load(offset: (uint)(32 * g + 16), alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxO, first);
                    first = false;
                }
            }
        }
    }

    /// <summary>Loads 16 bytes at <c>pw + offset</c> in <see cref="KQuantMatMul.WeightPairs"/> order into <paramref name="target"/>.</summary>
    private static void LoadPairs(WasmFunctionBuilder f, WasmLocal pw, uint offset, WasmLocal target) =>
        f.LocalGet(pw).V128Load(offset: offset, alignment: 1).LocalTee(target).LocalGet(target).I8x16Shuffle(KQuantMatMul.WeightPairs).LocalSet(target);

    /// <summary>Shuffle mask that copies int16 lane <paramref name="lane"/> to every lane.</summary>
    private static byte[] SplatShort(int lane)
    {
        var mask = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            mask[2 * i] = (byte)(2 * lane);
            mask[2 * i + 1] = (byte)(2 * lane + 1);
        }
        return mask;
    }
}
