using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="TQ1_0"/> (ternary, five trits per byte) with Q8_K activations,
/// bit-exact with <c>ggml_vec_dot_tq1_0_q8_K_generic</c> (the float steps are <see cref="Q8KBlockMatMul"/>'s).
/// </summary>
internal static class TQ1_0Emitter
{
    /// <summary>Block size in bytes (<c>block_tq1_0</c>: 48 bytes of <c>qs</c>, 4 of <c>qh</c>, f16 d).</summary>
    public const int BlockBytes = 54;

    private const uint QhOffset = 48;

    private static readonly byte[] Pow3 = [1, 3, 9, 27, 81];

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8KBlockMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8KBlockMatMul.Emit(module, name, BlockBytes, dOffset: 52, dminOffset: null, BlockSums, panels);

    /// <summary>
    /// Pops the bytes widened to uint16 and the i16x8 of their <c>pow3</c> factors, pushes the weights
    /// <c>trit − 1</c> as int16: <c>((uint8)(b·pow3) · 3) &gt;&gt; 8</c> (ggml's trit extraction, <see cref="TQ1_0"/>),
    /// minus 1.
    /// </summary>
    private static void Trits(WasmFunctionBuilder f)
    {
        f.I16x8Mul().V128Const(Vector128.Create((short)0x00FF)).V128And()
            .V128Const(Vector128.Create((short)3)).I16x8Mul().I32Const(8).I16x8ShrU()
            .V128Const(Vector128.Create((short)1)).I16x8Sub();
    }

    /// <summary>
    /// The 256 elements in <c>dequantize_row_tq1_0</c>'s order (<see cref="TQ1_0"/>): trit l of <c>qs[m]</c> (m &lt; 32) is
    /// element 32l + m, of <c>qs[32 + m]</c> (m &lt; 16) element 160 + 16l + m, of <c>qh[j]</c> (l &lt; 4) element 240 + 4l + j.
    /// Eight bytes at a time widened to uint16, the trits extracted (<see cref="Trits"/>), multiplied with the widened
    /// activations and summed in int16 lanes (32 products of at most 128 per lane), widened once at the end.
    /// </summary>
    private static void BlockSums(WasmFunctionBuilder f, WasmLocal pw, WasmLocal pa, WasmLocal sumi, WasmLocal? summs, WasmLocal[] tmp)
    {
        WasmLocal x = tmp[1], acc = tmp[2];
        bool first = true;
        void Accumulate(uint yOffset)
        {
            f.LocalGet(pa).V128Load8x8S(offset: Q8KBlockMatMul.ActivationQs + yOffset, alignment: 1).I16x8Mul();
            if (!first)
                f.LocalGet(acc).I16x8Add();
            f.LocalSet(acc);
            first = false;
        }
        // qs[0..32): five trits each, elements 32l + m
        for (int c = 0; c < 4; c++)
        {
            f.LocalGet(pw).V128Load8x8U(offset: (uint)(8 * c), alignment: 1).LocalSet(x);
            for (int l = 0; l < 5; l++)
            {
                f.LocalGet(x).V128Const(Vector128.Create((short)Pow3[l]));
                Trits(f);
                Accumulate((uint)(32 * l + 8 * c));
            }
        }
        // qs[32..48): elements 160 + 16l + m
        for (int c = 0; c < 2; c++)
        {
            f.LocalGet(pw).V128Load8x8U(offset: (uint)(32 + 8 * c), alignment: 1).LocalSet(x);
            for (int l = 0; l < 5; l++)
            {
                f.LocalGet(x).V128Const(Vector128.Create((short)Pow3[l]));
                Trits(f);
                Accumulate((uint)(160 + 16 * l + 8 * c));
            }
        }
        // qh[0..4): four trits each, elements 240 + 4l + j; the four bytes twice per vector, trits l = 2h and 2h + 1
        f.LocalGet(pw).V128Load32Splat(offset: QhOffset, alignment: 1).I16x8ExtendLowI8x16U().LocalSet(x);
        for (int h = 0; h < 2; h++)
        {
            short p0 = Pow3[2 * h], p1 = Pow3[2 * h + 1];
            f.LocalGet(x).V128Const(Vector128.Create(p0, p0, p0, p0, p1, p1, p1, p1));
            Trits(f);
            Accumulate((uint)(240 + 8 * h));
        }
        f.LocalGet(acc).I32x4ExtaddPairwiseI16x8S().LocalSet(sumi);
    }
}
