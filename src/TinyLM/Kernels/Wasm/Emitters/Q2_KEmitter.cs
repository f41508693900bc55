using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q2_K"/> weights with Q8_K activations, bit-exact with
/// <c>ggml_vec_dot_q2_K_q8_K_generic</c> (the float steps are <see cref="Q8KBlockMatMul"/>'s).
/// </summary>
internal static class Q2_KEmitter
{
    /// <summary>Block size in bytes (<c>block_q2_K</c>: 16 bytes of 4-bit scales and mins, 64 bytes of 2-bit quants, f16 d, f16 dmin).</summary>
    public const int BlockBytes = 84;

    private const uint QsOffset = 16;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8KBlockMatMul"/>).</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="panels">The weights are in four-row panels.</param>
    /// <param name="relaxed">The quant × activation pairs with one exact <c>i16x8.relaxed_dot_i8x16_i7x16_s</c> (quants in [0, 3]).</param>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false, bool relaxed = false) =>
        Q8KBlockMatMul.Emit(module, name, BlockBytes, dOffset: 80, dminOffset: 82,
            (f, pw, pa, sumi, summs, tmp) => BlockSums(f, pw, pa, sumi, summs, tmp, relaxed), panels);

    /// <summary>
    /// <c>isum = Σ_s (scales[s] &amp; 15) · Σ q·y</c> over the 16 sub-blocks of 16: element <c>128k + 32j + l</c> is bits 2j
    /// of <c>qs[32k + l]</c> with scale index <c>8k + 2j + (l ≥ 16)</c>. Per sub-block the quants (in [0, 3]) times the
    /// activations by <c>i16x8.extmul_{low,high}_i8x16_s</c>, added in int16 (with <paramref name="relaxed"/>: adjacent pairs by one
    /// <c>i16x8.relaxed_dot_i8x16_i7x16_s</c>, exact for quants in [0, 3]), then <c>i32x4.dot_i16x8_s</c> with the scale
    /// splat as int16. <c>summs = Σ bsums[s] · (scales[s] &gt;&gt; 4)</c>: two <c>i32x4.dot_i16x8_s</c> of the mins with the <c>bsums</c>.
    /// </summary>
    private static void BlockSums(WasmFunctionBuilder f, WasmLocal pw, WasmLocal pa, WasmLocal sumi, WasmLocal? summs, WasmLocal[] tmp, bool relaxed)
    {
        WasmLocal sc = tmp[1], lo = tmp[2], chunk = tmp[3], q = tmp[4], y = tmp[5];
        Vector128<int> zero = Vector128<int>.Zero;
        f.LocalGet(pw).V128Load(alignment: 1).LocalTee(sc).V128Const(Vector128.Create((byte)0x0F)).V128And().LocalSet(lo);
        bool first = true;
        for (int k = 0; k < 2; k++)
            for (int half = 0; half < 2; half++)
            {
                f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * k + 16 * half), alignment: 1).LocalSet(chunk);
                for (int j = 0; j < 4; j++)
                {
                    int s = 8 * k + 2 * j + half;
                    f.LocalGet(chunk);
                    if (j > 0)
                        f.I32Const(2 * j).I8x16ShrU();
                    f.V128Const(Vector128.Create((byte)3)).V128And().LocalSet(q);
                    f.LocalGet(pa).V128Load(offset: (uint)(Q8KBlockMatMul.ActivationQs + 128 * k + 32 * j + 16 * half), alignment: 1).LocalSet(y);
                    if (relaxed)
                        f.LocalGet(y).LocalGet(q).I16x8RelaxedDotI8x16I7x16S();
                    else
                        f.LocalGet(q).LocalGet(y).I16x8ExtmulLowI8x16S().LocalGet(q).LocalGet(y).I16x8ExtmulHighI8x16S().I16x8Add();
                    f.LocalGet(lo).V128Const(zero).I8x16Shuffle(Q4_KEmitter.SplatByte(s)).I32x4DotI16x8S();
                    if (!first)
                        f.LocalGet(sumi).I32x4Add();
                    f.LocalSet(sumi);
                    first = false;
                }
            }
        // summs: the mins (high nibbles) widened to int16 against the 16 bsums
        f.LocalGet(sc).I32Const(4).I8x16ShrU().LocalSet(sc);
        f.LocalGet(sc).I16x8ExtendLowI8x16U().LocalGet(pa).V128Load(offset: Q8KBlockMatMul.ActivationBSums, alignment: 1).I32x4DotI16x8S()
            .LocalGet(sc).I16x8ExtendHighI8x16U().LocalGet(pa).V128Load(offset: Q8KBlockMatMul.ActivationBSums + 16, alignment: 1).I32x4DotI16x8S()
            .I32x4Add().LocalSet(summs!.Value);
    }
}
