using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q4_K"/> weights with Q8_K activations, bit-exact with the
/// C# reference (<c>ggml_vec_dot_q4_K_q8_K_generic</c>; the shared part is <see cref="KQuantMatMul"/>).
/// </summary>
internal static class Q4_KEmitter
{
    /// <summary>Block size in bytes (<c>block_q4_K</c>: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins, 128 bytes of nibbles).</summary>
    public const int BlockBytes = 144;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="KQuantMatMul"/>).</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="panels">The weights are in four-row panels.</param>
    /// <param name="relaxed">Integer sums with relaxed SIMD: <see cref="BlockLanesRelaxed"/> row by row, <see cref="BlockLanesKernelLayout"/> in panels.</param>
    /// <remarks>
    /// The relaxed-SIMD panel product reads its blocks in the kernel layout (<see cref="ToKernelLayout"/>); the
    /// other forms read the file's blocks.
    /// </remarks>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false, bool relaxed = false) => relaxed
        ? panels
            ? KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, BlockLanesKernelLayout, panels, KQuantMatMul.ActivationLayout.GroupsI8, KQuantMatMul.KernelLayoutTokensPerPass,
                UnpackKernelLayout, BlockLanesUnpacked)
            : KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, KQuantMatMul.OneToken(BlockLanesRelaxed), panels, KQuantMatMul.ActivationLayout.GroupsI8)
        : KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, KQuantMatMul.OneToken(BlockLanes), panels);

    /// <summary>
    /// Rearranges one <c>block_q4_K</c> in place into the kernel layout that the relaxed-SIMD panel product
    /// reads: <c>d</c>, <c>dmin</c> and the packed scales stay, and each 32 bytes of <c>qs</c> (low nibbles
    /// sub-block 2j, high nibbles 2j + 1) become their <see cref="KQuantMatMul.GroupsE"/> bytes followed by
    /// their <see cref="KQuantMatMul.GroupsO"/> bytes, so the kernel loads each lane class whole instead of
    /// gathering it with two two-source byte shuffles per 64 weights. Same bytes, other order;
    /// <see cref="FromKernelLayout"/> undoes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void ToKernelLayout(Span<byte> block) => KQuantMatMul.PermuteRuns(block, BlockBytes, "Q4_K", Runs, toKernel: true);

    /// <summary>Undoes <see cref="ToKernelLayout"/>: one block back to ggml's <c>block_q4_K</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void FromKernelLayout(Span<byte> block) => KQuantMatMul.PermuteRuns(block, BlockBytes, "Q4_K", Runs, toKernel: false);

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <see cref="ToKernelLayout"/> of <c>blocks</c> blocks from <c>src</c> to
    /// <c>dst</c> (the same address: in place), two byte shuffles per 32 bytes of <c>qs</c> — the page converts a
    /// model's matrices at load with it (the C# loop runs interpreted there).
    /// </summary>
    public static WasmFunction EmitToKernelLayout(WasmModuleBuilder module, string name) =>
        KQuantMatMul.EmitRunsToKernelLayout(module, name, BlockBytes, Runs, [(0, 16)]);

    /// <summary>The 32-byte runs of <c>qs</c> that <see cref="ToKernelLayout"/> permutes.</summary>
    private static readonly int[] Runs = [16, 48, 80, 112];

    /// <summary>
    /// One super-block in the kernel layout (<see cref="ToKernelLayout"/>) with relaxed SIMD, for one or more token
    /// rows: per 64 elements two 16-byte loads hold the lane classes (E: lanes 0, 2, 4, 6; O: 1, 3, 5, 7) of
    /// sub-blocks 2j (low nibbles) and 2j + 1 (high nibbles); per class and sub-block one exact
    /// <c>i16x8.relaxed_dot_i8x16_i7x16_s</c> (nibbles in [0, 15], |pair sum| ≤ 3840) against each token's
    /// activations prepared in the same order, then <c>i32x4.dot_i16x8_s</c> with the sub-block scale splat as
    /// int16 (one x86 <c>pmaddubsw</c> and one <c>pmaddwd</c> in place of the relaxed add-dot and an i32
    /// multiply). The nibbles, scales and mins are unpacked once for all the tokens.
    /// </summary>
    private static void BlockLanesKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], vE = tmp[2], vO = tmp[3], s = tmp[4], v = tmp[5], nE = tmp[6], nO = tmp[7];
        Vector128<byte> low4 = Vector128.Create((byte)0x0F);
        ScalesAndMins(f, pw, sc, v);
        f.LocalGet(sc).I16x8ExtendLowI8x16U().LocalSet(v);   // the eight scales as int16
        for (int j = 0; j < 4; j++)
        {
            f.LocalGet(pw).V128Load(offset: (uint)(16 + 32 * j), alignment: 1).LocalSet(vE);
            f.LocalGet(pw).V128Load(offset: (uint)(16 + 32 * j + 16), alignment: 1).LocalSet(vO);
            for (int h = 0; h < 2; h++)
            {
                int sub = 2 * j + h;
                uint y = (uint)(32 * sub);
                bool first = sub == 0;
                f.LocalGet(v).LocalGet(v).I8x16Shuffle(WasmEmit.SplatShort(sub)).LocalSet(s);
                f.LocalGet(vE);
                NibblesI16(f, h, low4);
                f.LocalSet(nE).LocalGet(vO);
                NibblesI16(f, h, low4);
                f.LocalSet(nO);
                SubBlockDots(f, ps, y, nE, nO, s, auxE, auxO, first);
            }
        }
        PairedMins(f, sc, vE, vO);
        for (int t = 0; t < ps.Length; t++)
            MinsTerm(f, ps[t], vE, vO, sumi![t]);
    }

    /// <summary>
    /// <see cref="BlockLanesKernelLayout"/>'s unpacking of one block, stored at <c>dst + offset</c> for a prompt's later
    /// passes (<see cref="KQuantMatMul.UnpackedBlockBytes"/> bytes): per sub-block s the E and O nibbles as bytes at 32s,
    /// the scale splat as int16 at 256 + 16s, the paired mins at 384 and 400.
    /// </summary>
    private static void UnpackKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal dst, uint offset, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], vE = tmp[2], vO = tmp[3], v = tmp[5];
        Vector128<byte> low4 = Vector128.Create((byte)0x0F);
        ScalesAndMins(f, pw, sc, v);
        f.LocalGet(sc).I16x8ExtendLowI8x16U().LocalSet(v);
        for (int j = 0; j < 4; j++)
        {
            f.LocalGet(pw).V128Load(offset: (uint)(16 + 32 * j), alignment: 1).LocalSet(vE);
            f.LocalGet(pw).V128Load(offset: (uint)(16 + 32 * j + 16), alignment: 1).LocalSet(vO);
            for (int h = 0; h < 2; h++)
            {
                uint at = offset + (uint)(32 * (2 * j + h));
                f.LocalGet(dst).LocalGet(vE);
                NibblesI16(f, h, low4);
                f.V128Store(offset: at, alignment: 16);
                f.LocalGet(dst).LocalGet(vO);
                NibblesI16(f, h, low4);
                f.V128Store(offset: at + 16, alignment: 16);
                f.LocalGet(dst).LocalGet(v).LocalGet(v).I8x16Shuffle(WasmEmit.SplatShort(2 * j + h)).V128Store(offset: offset + 256 + (uint)(16 * (2 * j + h)), alignment: 16);
            }
        }
        PairedMins(f, sc, vE, vO);
        f.LocalGet(dst).LocalGet(vE).V128Store(offset: offset + 384, alignment: 16);
        f.LocalGet(dst).LocalGet(vO).V128Store(offset: offset + 400, alignment: 16);
    }

    /// <summary><see cref="BlockLanesKernelLayout"/> from a block that <see cref="UnpackKernelLayout"/> stored at <c>src + offset</c>.</summary>
    private static void BlockLanesUnpacked(WasmFunctionBuilder f, WasmLocal src, uint offset, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal s = tmp[4], nE = tmp[6], nO = tmp[7], minsLo = tmp[2], minsHi = tmp[3];
        for (int sub = 0; sub < 8; sub++)
        {
            uint y = (uint)(32 * sub), at = offset + (uint)(32 * sub);
            f.LocalGet(src).V128Load(offset: at, alignment: 16).LocalSet(nE);
            f.LocalGet(src).V128Load(offset: at + 16, alignment: 16).LocalSet(nO);
            f.LocalGet(src).V128Load(offset: offset + 256 + (uint)(16 * sub), alignment: 16).LocalSet(s);
            SubBlockDots(f, ps, y, nE, nO, s, auxE, auxO, sub == 0);
        }
        f.LocalGet(src).V128Load(offset: offset + 384, alignment: 16).LocalSet(minsLo);
        f.LocalGet(src).V128Load(offset: offset + 400, alignment: 16).LocalSet(minsHi);
        for (int t = 0; t < ps.Length; t++)
            MinsTerm(f, ps[t], minsLo, minsHi, sumi![t]);
    }

    /// <summary>
    /// One sub-block's dots for every token row: the prepared activations at <c>ps[t] + y</c> (E) and <c>+ y + 16</c> (O)
    /// against the nibbles <paramref name="nE"/>, <paramref name="nO"/> (<c>i16x8.relaxed_dot_i8x16_i7x16_s</c>), times the
    /// scale splat <paramref name="s"/> (<c>i32x4.dot_i16x8_s</c>), into <c>auxE[t]</c>, <c>auxO[t]</c>.
    /// </summary>
    private static void SubBlockDots(WasmFunctionBuilder f, WasmLocal[] ps, uint y, WasmLocal nE, WasmLocal nO, WasmLocal s, WasmLocal[] auxE, WasmLocal[] auxO, bool first)
    {
        for (int t = 0; t < ps.Length; t++)
        {
            f.LocalGet(ps[t]).V128Load(offset: y, alignment: 16).LocalGet(nE).I16x8RelaxedDotI8x16I7x16S().LocalGet(s).I32x4DotI16x8S();
            Accumulate(f, auxE[t], first);
            f.LocalGet(ps[t]).V128Load(offset: y + 16, alignment: 16).LocalGet(nO).I16x8RelaxedDotI8x16I7x16S().LocalGet(s).I32x4DotI16x8S();
            Accumulate(f, auxO[t], first);
        }
    }

    /// <summary>Pops a v128 of packed bytes and pushes their low (<paramref name="high"/> = 0) or high nibbles as bytes (a 16-bit shift, then the mask).</summary>
    private static void NibblesI16(WasmFunctionBuilder f, int high, Vector128<byte> low4)
    {
        if (high != 0)
            f.I32Const(4).I16x8ShrU();
        f.V128Const(low4).V128And();
    }

    /// <summary>
    /// One super-block with relaxed SIMD: scales and mins as <see cref="BlockLanes"/>; per 64 elements the
    /// 32 bytes of <c>qs</c> shuffled into the four-byte lane groups of <see cref="KQuantMatMul.GroupsE"/>
    /// and <see cref="KQuantMatMul.GroupsO"/> (low nibbles: sub-block 2j, high nibbles: 2j+1, all in
    /// [0, 15]), one exact <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> per class and sub-block against the
    /// activations prepared in that order, times the sub-block scale (i32).
    /// </summary>
    private static void BlockLanesRelaxed(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], v0 = tmp[2], v1 = tmp[3], e = tmp[4], o = tmp[5], s = tmp[6];
        Vector128<byte> low4 = Vector128.Create((byte)0x0F);
        Vector128<int> zero = Vector128<int>.Zero;
        ScalesAndMins(f, pw, sc, v0);
        for (int j = 0; j < 4; j++)
        {
            f.LocalGet(pw).V128Load(offset: (uint)(16 + 32 * j), alignment: 1).LocalSet(v0);
            f.LocalGet(pw).V128Load(offset: (uint)(16 + 32 * j + 16), alignment: 1).LocalSet(v1);
            f.LocalGet(v0).LocalGet(v1).I8x16Shuffle(KQuantMatMul.GroupsE).LocalSet(e);
            f.LocalGet(v0).LocalGet(v1).I8x16Shuffle(KQuantMatMul.GroupsO).LocalSet(o);
            for (int h = 0; h < 2; h++)
            {
                int sub = 2 * j + h;
                uint y = (uint)(32 * sub);
                bool first = sub == 0;
                f.LocalGet(sc).V128Const(zero).I8x16Shuffle(SplatByteI32(sub)).LocalSet(s);
                f.LocalGet(ps).V128Load(offset: y, alignment: 16).LocalGet(e);
                Nibbles(f, h, low4);
                f.V128Const(zero).I32x4RelaxedDotI8x16I7x16AddS().LocalGet(s).I32x4Mul();
                Accumulate(f, auxE, first);
                f.LocalGet(ps).V128Load(offset: y + 16, alignment: 16).LocalGet(o);
                Nibbles(f, h, low4);
                f.V128Const(zero).I32x4RelaxedDotI8x16I7x16AddS().LocalGet(s).I32x4Mul();
                Accumulate(f, auxO, first);
            }
        }
        PairedMins(f, sc, tmp[2], tmp[3]);
        MinsTerm(f, ps, tmp[2], tmp[3], sumi!.Value);
    }

    /// <summary>Pops a v128 of packed bytes and pushes their low (<paramref name="high"/> = 0) or high nibbles as bytes.</summary>
    private static void Nibbles(WasmFunctionBuilder f, int high, Vector128<byte> low4)
    {
        if (high == 0)
            f.V128Const(low4).V128And();
        else
            f.I32Const(4).I8x16ShrU();
    }

    /// <summary>Shuffle mask that zero-extends byte <paramref name="b"/> of the first operand into every int32 lane (the second operand is zero).</summary>
    internal static byte[] SplatByteI32(int b)
    {
        var mask = new byte[16];
        for (int i = 0; i < 16; i++)
            mask[i] = (byte)(i % 4 == 0 ? b : 16);
        return mask;
    }

    /// <summary>
    /// One super-block: the 6-bit scales and mins unpacked as ggml's <c>utmp</c> trick
    /// (<c>get_scale_min_k4</c> for all eight sub-blocks at once, bytes 0–7 scales, 8–15 mins); per
    /// 64 elements (32 bytes of <c>qs</c>: low nibbles sub-block 2j, high nibbles 2j+1) two 16-byte
    /// loads in <see cref="KQuantMatMul.WeightPairs"/> order, four nibble fields each, every field
    /// multiplied by its sub-block scale in int16 (≤ 15·63) and dotted with the prepared activations;
    /// the mins term from one more dot (<see cref="MinsTerm"/>).
    /// </summary>
    private static void BlockLanes(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], sLo = tmp[2], sHi = tmp[3], v = tmp[4];
        Vector128<short> low4 = Vector128.Create((short)0x000F);
        Vector128<int> zero = Vector128<int>.Zero;
        ScalesAndMins(f, pw, sc, v);

        for (int j = 0; j < 4; j++)
        {
            // the two sub-block scales as int16 splats
            f.LocalGet(sc).V128Const(zero).I8x16Shuffle(SplatByte(2 * j)).LocalSet(sLo);
            f.LocalGet(sc).V128Const(zero).I8x16Shuffle(SplatByte(2 * j + 1)).LocalSet(sHi);
            for (int h = 0; h < 2; h++)
            {
                uint yLo = (uint)(32 * (4 * j + h)), yHi = (uint)(32 * (4 * j + 2 + h));
                f.LocalGet(pw).V128Load(offset: (uint)(16 + 32 * j + 16 * h), alignment: 1).LocalTee(v).LocalGet(v)
                    .I8x16Shuffle(KQuantMatMul.WeightPairs).LocalTee(v);
                bool first = j == 0 && h == 0;
                // E of sub-block 2j: low nibble of the low byte
                f.V128Const(low4).V128And().LocalGet(sLo).I16x8Mul().LocalGet(ps).V128Load(offset: yLo, alignment: 16).I32x4DotI16x8S();
                Accumulate(f, auxE, first);
                // O of sub-block 2j: low nibble of the high byte
                f.LocalGet(v).I32Const(8).I16x8ShrU().V128Const(low4).V128And().LocalGet(sLo).I16x8Mul()
                    .LocalGet(ps).V128Load(offset: yLo + 16, alignment: 16).I32x4DotI16x8S();
                Accumulate(f, auxO, first);
                // E of sub-block 2j+1: high nibble of the low byte
                f.LocalGet(v).I32Const(4).I16x8ShrU().V128Const(low4).V128And().LocalGet(sHi).I16x8Mul()
                    .LocalGet(ps).V128Load(offset: yHi, alignment: 16).I32x4DotI16x8S();
                Accumulate(f, auxE, false);
                // O of sub-block 2j+1: high nibble of the high byte
                f.LocalGet(v).I32Const(12).I16x8ShrU().LocalGet(sHi).I16x8Mul()
                    .LocalGet(ps).V128Load(offset: yHi + 16, alignment: 16).I32x4DotI16x8S();
                Accumulate(f, auxO, false);
            }
        }

        PairedMins(f, sc, tmp[2], tmp[3]);
        MinsTerm(f, ps, tmp[2], tmp[3], sumi!.Value);
    }

    /// <summary>
    /// Sets <paramref name="sc"/> to the eight 6-bit scales (bytes 0–7) and mins (bytes 8–15) of the
    /// super-block at <paramref name="pw"/>, as ggml's <c>utmp</c> trick (<c>get_scale_min_k4</c> for all at once).
    /// </summary>
    internal static void ScalesAndMins(WasmFunctionBuilder f, WasmLocal pw, WasmLocal sc, WasmLocal v)
    {
        Vector128<int> zero = Vector128<int>.Zero;
        // utmp: [u0 & k1, (u2 & k2) | ((u0 >> 6) & k3) << 4, u1 & k1, ((u2 >> 4) & k2) | ((u1 >> 6) & k3) << 4]
        f.LocalGet(pw).V128Load(offset: 4, alignment: 1).LocalTee(v)
            .LocalGet(v).I32Const(4).I32x4ShrU().I8x16Shuffle(WasmEmit.Lanes32(0, 2, 1, 6))
            .V128Const(Vector128.Create(0x3F3F3F3F, 0x0F0F0F0F, 0x3F3F3F3F, 0x0F0F0F0F)).V128And();
        f.LocalGet(v).V128Const(zero).I8x16Shuffle(WasmEmit.Lanes32(4, 0, 4, 1))
            .I32Const(2).I32x4ShrU().V128Const(Vector128.Create(0x30303030)).V128And()
            .V128Or().LocalSet(sc);
    }

    /// <summary>
    /// Sets <paramref name="minsLo"/>, <paramref name="minsHi"/> to the mins of <paramref name="sc"/> (bytes 8–15)
    /// widened to int16 and duplicated into pairs (<c>[m0, m0, m1, m1, …]</c>), against the 16 <c>bsums</c>.
    /// </summary>
    internal static void PairedMins(WasmFunctionBuilder f, WasmLocal sc, WasmLocal minsLo, WasmLocal minsHi)
    {
        byte[] pairsLo = [0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7], pairsHi = [8, 9, 8, 9, 10, 11, 10, 11, 12, 13, 12, 13, 14, 15, 14, 15];
        f.LocalGet(sc).I16x8ExtendHighI8x16U().LocalTee(minsHi).LocalGet(minsHi).I8x16Shuffle(pairsLo).LocalSet(minsLo);
        f.LocalGet(minsHi).LocalGet(minsHi).I8x16Shuffle(pairsHi).LocalSet(minsHi);
    }

    /// <summary>
    /// Sets <paramref name="sumi"/> to an i32x4 whose lanes add up to <c>Σ_j bsums[j]·m[j/2]</c> (the mins term): two
    /// <c>i32x4.dot_i16x8_s</c> of the prepared <c>bsums</c> with <see cref="PairedMins"/> (exact for any int16 bsums).
    /// </summary>
    internal static void MinsTerm(WasmFunctionBuilder f, WasmLocal ps, WasmLocal minsLo, WasmLocal minsHi, WasmLocal sumi) =>
        f.LocalGet(ps).V128Load(offset: KQuantMatMul.BSumsOffset, alignment: 16).LocalGet(minsLo).I32x4DotI16x8S()
            .LocalGet(ps).V128Load(offset: KQuantMatMul.BSumsOffset + 16, alignment: 16).LocalGet(minsHi).I32x4DotI16x8S()
            .I32x4Add().LocalSet(sumi);

    /// <summary>Pops an i32x4 into <paramref name="acc"/> (the first one) or adds it.</summary>
    internal static void Accumulate(WasmFunctionBuilder f, WasmLocal acc, bool first)
    {
        if (!first)
            f.LocalGet(acc).I32x4Add();
        f.LocalSet(acc);
    }

    /// <summary>Shuffle mask that zero-extends byte <paramref name="b"/> of the first operand into every int16 lane (the second operand is zero).</summary>
    internal static byte[] SplatByte(int b)
    {
        var mask = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            mask[2 * i] = (byte)b;
            mask[2 * i + 1] = 16;
        }
        return mask;
    }
}
