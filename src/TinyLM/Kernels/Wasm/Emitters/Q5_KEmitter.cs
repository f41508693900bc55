using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q5_K"/> weights with Q8_K activations, bit-exact with the
/// C# reference (<c>ggml_vec_dot_q5_K_q8_K_generic</c>; the shared part is <see cref="KQuantMatMul"/>):
/// Q4_K's super-block (the same <c>d</c>, <c>dmin</c> and packed 6-bit scales and mins, unpacked by
/// <see cref="Q4_KEmitter.ScalesAndMins"/>) with a fifth bit per quant in <c>qh</c>: bit s of <c>qh[l]</c>
/// belongs to element l of sub-block s, so the unsigned quants are in [0, 31].
/// </summary>
internal static class Q5_KEmitter
{
    /// <summary>Block size in bytes (<c>block_q5_K</c>: f16 d, f16 dmin, 12 bytes of scales and mins, 32 bytes of <c>qh</c>, 128 of <c>qs</c>).</summary>
    public const int BlockBytes = 176;

    private const uint QhOffset = 16, QsOffset = 48;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="KQuantMatMul"/>).</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="panels">The weights are in four-row panels (<see cref="WasmWeightPanels"/>).</param>
    /// <param name="relaxed">Integer sums with relaxed SIMD: <see cref="BlockLanesRelaxed"/> row by row, <see cref="BlockLanesKernelLayout"/>
    /// in panels (on blocks in the kernel layout, <see cref="ToKernelLayout"/>); otherwise <see cref="BlockLanes"/>.</param>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false, bool relaxed = false) => relaxed
        ? panels
            ? KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, BlockLanesKernelLayout, panels, KQuantMatMul.ActivationLayout.GroupsI8, KQuantMatMul.KernelLayoutTokensPerPass)
            : KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, KQuantMatMul.OneToken(BlockLanesRelaxed), panels, KQuantMatMul.ActivationLayout.GroupsI8)
        : KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, KQuantMatMul.OneToken(BlockLanes), panels);

    /// <summary>
    /// Rearranges one <c>block_q5_K</c> in place into the kernel layout that the relaxed-SIMD panel product reads (a byte
    /// order, unlike Q4_K's nibble order, <see cref="Q4_KEmitter.ToKernelLayout"/>): <c>d</c>, <c>dmin</c> and the packed scales stay;
    /// the 32 bytes of <c>qh</c> and each 32 bytes of <c>qs</c> become their <see cref="KQuantMatMul.GroupsE"/> bytes
    /// followed by their <see cref="KQuantMatMul.GroupsO"/> bytes, so byte i of a lane-class load of <c>qs</c> and byte i
    /// of the same class's load of <c>qh</c> belong to one element position. Same bytes, other order;
    /// <see cref="FromKernelLayout"/> undoes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void ToKernelLayout(Span<byte> block) => KQuantMatMul.PermuteRuns(block, BlockBytes, "Q5_K", Runs, toKernel: true);

    /// <summary>Undoes <see cref="ToKernelLayout"/>: one block back to ggml's <c>block_q5_K</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void FromKernelLayout(Span<byte> block) => KQuantMatMul.PermuteRuns(block, BlockBytes, "Q5_K", Runs, toKernel: false);

    /// <summary>The 32-byte runs that <see cref="ToKernelLayout"/> permutes: <c>qh</c>, then the four of <c>qs</c>.</summary>
    private static readonly int[] Runs = [(int)QhOffset, (int)QsOffset, (int)QsOffset + 32, (int)QsOffset + 64, (int)QsOffset + 96];

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <see cref="ToKernelLayout"/> of <c>blocks</c> blocks from <c>src</c> to <c>dst</c>
    /// (the same address: in place; <see cref="KQuantMatMul.EmitRunsToKernelLayout"/>) — the page converts a model's matrices at load with it.
    /// </summary>
    public static WasmFunction EmitToKernelLayout(WasmModuleBuilder module, string name) =>
        KQuantMatMul.EmitRunsToKernelLayout(module, name, BlockBytes, Runs, [(0, 16)]);

    /// <summary>
    /// One super-block in the kernel layout (<see cref="ToKernelLayout"/>) with relaxed SIMD, for one or more token rows —
    /// per sub-block and lane class (one scale dot per sub-block, not Q4_K's per two) the quants
    /// <c>nibble | fifth bit · 16</c> (in [0, 31]) from one load of <c>qs</c> and one of <c>qh</c>, one exact
    /// <c>i16x8.relaxed_dot_i8x16_i7x16_s</c> per token (|pair sum| ≤ 7936), then <c>i32x4.dot_i16x8_s</c> with the
    /// sub-block scale splat as int16. Quants, scales and mins are unpacked once for all the tokens.
    /// </summary>
    private static void BlockLanesKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], vE = tmp[2], vO = tmp[3], s = tmp[4], v = tmp[5], nE = tmp[6], nO = tmp[7], hE = tmp[8], hO = tmp[9];
        Q4_KEmitter.ScalesAndMins(f, pw, sc, v);
        f.LocalGet(sc).I16x8ExtendLowI8x16U().LocalSet(v);   // the eight scales as int16
        f.LocalGet(pw).V128Load(offset: QhOffset, alignment: 1).LocalSet(hE);
        f.LocalGet(pw).V128Load(offset: QhOffset + 16, alignment: 1).LocalSet(hO);
        for (int j = 0; j < 4; j++)
        {
            f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * j), alignment: 1).LocalSet(vE);
            f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * j + 16), alignment: 1).LocalSet(vO);
            for (int h = 0; h < 2; h++)
            {
                int sub = 2 * j + h;
                uint y = (uint)(32 * sub);
                bool first = sub == 0;
                f.LocalGet(v).LocalGet(v).I8x16Shuffle(WasmEmit.SplatShort(sub)).LocalSet(s);
                QuantBytes(f, vE, hE, sub);
                f.LocalSet(nE);
                QuantBytes(f, vO, hO, sub);
                f.LocalSet(nO);
                for (int t = 0; t < ps.Length; t++)
                {
                    f.LocalGet(ps[t]).V128Load(offset: y, alignment: 16).LocalGet(nE).I16x8RelaxedDotI8x16I7x16S().LocalGet(s).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxE[t], first);
                    f.LocalGet(ps[t]).V128Load(offset: y + 16, alignment: 16).LocalGet(nO).I16x8RelaxedDotI8x16I7x16S().LocalGet(s).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxO[t], first);
                }
            }
        }
        Q4_KEmitter.PairedMins(f, sc, vE, vO);
        for (int t = 0; t < ps.Length; t++)
            Q4_KEmitter.MinsTerm(f, ps[t], vE, vO, sumi![t]);
    }

    /// <summary>
    /// Pushes the unsigned 5-bit quants of sub-block <paramref name="sub"/> for the 16 elements whose <c>qs</c> bytes are in
    /// <paramref name="qs"/> and <c>qh</c> bytes in <paramref name="qh"/> (the file's order or the kernel layout's, the same
    /// for both): the low (even sub-block) or high (odd) nibble, or-ed with bit <paramref name="sub"/> of the <c>qh</c> byte
    /// moved to bit 4. The shifts are 16-bit and masked per byte: bit 4 and bits 0–3 of each byte come from the same byte
    /// for any <paramref name="sub"/> in 0–7.
    /// </summary>
    private static void QuantBytes(WasmFunctionBuilder f, WasmLocal qs, WasmLocal qh, int sub)
    {
        f.LocalGet(qs);
        if (sub % 2 != 0)
            f.I32Const(4).I16x8ShrU();
        f.V128Const(Vector128.Create((byte)0x0F)).V128And();
        f.LocalGet(qh);
        if (sub < 4)
            f.I32Const(4 - sub).I16x8Shl();
        else if (sub > 4)
            f.I32Const(sub - 4).I16x8ShrU();
        f.V128Const(Vector128.Create((byte)0x10)).V128And().V128Or();
    }

    /// <summary>
    /// One super-block with SIMD128: per sub-block and half (16 elements) the quant bytes (<see cref="QuantBytes"/>)
    /// shuffled into <see cref="KQuantMatMul.WeightPairs"/> order, whose low bytes are the E class and high bytes the O
    /// class as int16; each multiplied by the sub-block scale in int16 (≤ 31·63) and dotted with the prepared
    /// activations (<see cref="KQuantMatMul.ActivationLayout.PairsI16"/>: group <c>2·sub + half</c>); the mins term as Q4_K's.
    /// </summary>
    private static void BlockLanes(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], h0 = tmp[2], h1 = tmp[3], v = tmp[4], u = tmp[5], s = tmp[6];
        Vector128<int> zero = Vector128<int>.Zero;
        Q4_KEmitter.ScalesAndMins(f, pw, sc, v);
        f.LocalGet(pw).V128Load(offset: QhOffset, alignment: 1).LocalSet(h0);
        f.LocalGet(pw).V128Load(offset: QhOffset + 16, alignment: 1).LocalSet(h1);
        for (int j = 0; j < 4; j++)
        {
            for (int h = 0; h < 2; h++)
            {
                f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * j + 16 * h), alignment: 1).LocalSet(v);
                for (int sub = 2 * j; sub < 2 * j + 2; sub++)
                {
                    uint y = (uint)(32 * (2 * sub + h));
                    bool first = sub == 0 && h == 0;
                    f.LocalGet(sc).V128Const(zero).I8x16Shuffle(Q4_KEmitter.SplatByte(sub)).LocalSet(s);
                    QuantBytes(f, v, h == 0 ? h0 : h1, sub);
                    f.LocalTee(u).LocalGet(u).I8x16Shuffle(KQuantMatMul.WeightPairs).LocalTee(u);
                    f.V128Const(Vector128.Create((short)0x00FF)).V128And().LocalGet(s).I16x8Mul()
                        .LocalGet(ps).V128Load(offset: y, alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxE, first);
                    f.LocalGet(u).I32Const(8).I16x8ShrU().LocalGet(s).I16x8Mul()
                        .LocalGet(ps).V128Load(offset: y + 16, alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxO, first);
                }
            }
        }
        Q4_KEmitter.PairedMins(f, sc, tmp[2], tmp[3]);
        Q4_KEmitter.MinsTerm(f, ps, tmp[2], tmp[3], sumi!.Value);
    }

    /// <summary>
    /// One super-block with relaxed SIMD: per sub-block the 32 quant bytes (<see cref="QuantBytes"/>, in [0, 31])
    /// shuffled into the lane groups of <see cref="KQuantMatMul.GroupsE"/> and <see cref="KQuantMatMul.GroupsO"/>,
    /// one exact <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> per class against the activations prepared in that order
    /// (<see cref="KQuantMatMul.ActivationLayout.GroupsI8"/>), times the sub-block scale (i32).
    /// </summary>
    private static void BlockLanesRelaxed(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], h0 = tmp[2], h1 = tmp[3], v0 = tmp[4], v1 = tmp[5], u0 = tmp[6], u1 = tmp[7];
        Vector128<int> zero = Vector128<int>.Zero;
        Q4_KEmitter.ScalesAndMins(f, pw, sc, v0);
        f.LocalGet(pw).V128Load(offset: QhOffset, alignment: 1).LocalSet(h0);
        f.LocalGet(pw).V128Load(offset: QhOffset + 16, alignment: 1).LocalSet(h1);
        for (int j = 0; j < 4; j++)
        {
            f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * j), alignment: 1).LocalSet(v0);
            f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * j + 16), alignment: 1).LocalSet(v1);
            for (int sub = 2 * j; sub < 2 * j + 2; sub++)
            {
                uint y = (uint)(32 * sub);
                bool first = sub == 0;
                QuantBytes(f, v0, h0, sub);
                f.LocalSet(u0);
                QuantBytes(f, v1, h1, sub);
                f.LocalSet(u1);
                f.LocalGet(ps).V128Load(offset: y, alignment: 16).LocalGet(u0).LocalGet(u1).I8x16Shuffle(KQuantMatMul.GroupsE)
                    .V128Const(zero).I32x4RelaxedDotI8x16I7x16AddS()
                    .LocalGet(sc).V128Const(zero).I8x16Shuffle(Q4_KEmitter.SplatByteI32(sub)).I32x4Mul();
                Q4_KEmitter.Accumulate(f, auxE, first);
                f.LocalGet(ps).V128Load(offset: y + 16, alignment: 16).LocalGet(u0).LocalGet(u1).I8x16Shuffle(KQuantMatMul.GroupsO)
                    .V128Const(zero).I32x4RelaxedDotI8x16I7x16AddS()
                    .LocalGet(sc).V128Const(zero).I8x16Shuffle(Q4_KEmitter.SplatByteI32(sub)).I32x4Mul();
                Q4_KEmitter.Accumulate(f, auxO, first);
            }
        }
        Q4_KEmitter.PairedMins(f, sc, tmp[2], tmp[3]);
        Q4_KEmitter.MinsTerm(f, ps, tmp[2], tmp[3], sumi!.Value);
    }
}
