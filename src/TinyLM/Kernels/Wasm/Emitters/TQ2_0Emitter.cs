using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="TQ2_0"/> (ternary, two bits per weight) with Q8_K activations,
/// bit-exact with <c>ggml_vec_dot_tq2_0_q8_K_generic</c> (the float steps are <see cref="Q8KBlockMatMul"/>'s).
/// </summary>
internal static class TQ2_0Emitter
{
    /// <summary>Block size in bytes (<c>block_tq2_0</c>: 64 bytes of 2-bit fields, f16 d).</summary>
    public const int BlockBytes = 66;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8KBlockMatMul"/>).</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="panels">The weights are in four-row panels.</param>
    /// <param name="relaxed">
    /// Per 16 elements <c>Σ q·y − Σ y</c> with the unsigned fields q in [0, 3]: one exact <c>i16x8.relaxed_dot_i8x16_i7x16_s</c>
    /// less <c>i16x8.extadd_pairwise_i8x16_s</c> of the activations, in place of two widening multiplies.
    /// </param>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false, bool relaxed = false) =>
        Q8KBlockMatMul.Emit(module, name, BlockBytes, dOffset: 64, dminOffset: null,
            (f, pw, pa, sumi, summs, tmp) => BlockSums(f, pw, pa, sumi, tmp, relaxed), panels);

    /// <summary>
    /// Element <c>128·(j/32) + 32·l + k</c> is field l (bits 2l) of <c>qs[j + k]</c> minus 1: per 16 bytes of
    /// <c>qs</c> and field, the weights in {−1, 0, 1} as int8, multiplied with the activations by
    /// <c>i16x8.extmul_{low,high}_i8x16_s</c> and summed in int16 lanes (32 products of at most 128 per lane),
    /// widened once at the end.
    /// </summary>
    private static void BlockSums(WasmFunctionBuilder f, WasmLocal pw, WasmLocal pa, WasmLocal sumi, WasmLocal[] tmp, bool relaxed)
    {
        WasmLocal chunk = tmp[1], q = tmp[2], y = tmp[3], acc = tmp[4];
        bool first = true;
        for (int c = 0; c < 4; c++)
        {
            f.LocalGet(pw).V128Load(offset: (uint)(16 * c), alignment: 1).LocalSet(chunk);
            for (int l = 0; l < 4; l++)
            {
                f.LocalGet(chunk);
                if (l > 0)
                    f.I32Const(2 * l).I8x16ShrU();
                f.V128Const(Vector128.Create((byte)3)).V128And();
                if (!relaxed)
                    f.V128Const(Vector128.Create((byte)1)).I8x16Sub();
                f.LocalSet(q);
                f.LocalGet(pa).V128Load(offset: (uint)(Q8KBlockMatMul.ActivationQs + 128 * (c / 2) + 32 * l + 16 * (c % 2)), alignment: 1).LocalSet(y);
                if (relaxed)
                    f.LocalGet(y).LocalGet(q).I16x8RelaxedDotI8x16I7x16S().LocalGet(y).I16x8ExtaddPairwiseI8x16S().I16x8Sub();
                else
                    f.LocalGet(q).LocalGet(y).I16x8ExtmulLowI8x16S().LocalGet(q).LocalGet(y).I16x8ExtmulHighI8x16S().I16x8Add();
                if (!first)
                    f.LocalGet(acc).I16x8Add();
                f.LocalSet(acc);
                first = false;
            }
        }
        f.LocalGet(acc).I32x4ExtaddPairwiseI16x8S().LocalSet(sumi);
    }
}
