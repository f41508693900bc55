using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q3_K"/> weights with Q8_K activations, bit-exact with
/// <c>ggml_vec_dot_q3_K_q8_K_generic</c> (the lane classes and float steps are <see cref="KQuantMatMul"/>'s;
/// Q3_K has no mins): quants <c>q − 4·(1 − h)</c> in [−4, 3] from two bits of <c>qs</c> and one of <c>hmask</c>,
/// sixteen 6-bit scales minus 32, one per 16 elements.
/// </summary>
internal static class Q3_KEmitter
{
    /// <summary>Block size in bytes (<c>block_q3_K</c>: 32 bytes of <c>hmask</c>, 64 of <c>qs</c>, 12 of packed scales, f16 d).</summary>
    public const int BlockBytes = 110;

    private const uint QsOffset = 32, DOffset = 108;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="KQuantMatMul"/>).</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="panels">The weights are in four-row panels.</param>
    /// <param name="relaxed">With <paramref name="panels"/>: blocks in the kernel layout (<see cref="ToKernelLayout"/>) and integer sums
    /// with relaxed SIMD (<see cref="BlockLanesKernelLayout"/>). Row by row the SIMD128 kernel runs either way.</param>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false, bool relaxed = false) => relaxed && panels
        ? KQuantMatMul.Emit(module, name, BlockBytes, DOffset, dminOffset: null, BlockLanesKernelLayout, panels, KQuantMatMul.ActivationLayout.GroupsI8PairSums4,
            KQuantMatMul.KernelLayoutTokensPerPass)
        : KQuantMatMul.Emit(module, name, BlockBytes, DOffset, dminOffset: null, KQuantMatMul.OneToken(BlockLanes), panels);

    /// <summary>The 32-byte runs that <see cref="ToKernelLayout"/> permutes: <c>hmask</c>, then the two of <c>qs</c>.</summary>
    private static readonly int[] Runs = [0, (int)QsOffset, (int)QsOffset + 32];

    /// <summary>
    /// Rearranges one <c>block_q3_K</c> in place into the kernel layout that the relaxed-SIMD panel product reads: the
    /// 32 bytes of <c>hmask</c> and each 32 bytes of <c>qs</c> become their <see cref="KQuantMatMul.GroupsE"/> bytes followed by
    /// their <see cref="KQuantMatMul.GroupsO"/> bytes (element l of every sub-block takes its bits from byte l of these runs, so
    /// one 16-byte load holds a lane class of four sub-blocks); the scales and <c>d</c> stay. Same bytes, other order;
    /// <see cref="FromKernelLayout"/> undoes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void ToKernelLayout(Span<byte> block) => KQuantMatMul.PermuteRuns(block, BlockBytes, "Q3_K", Runs, toKernel: true);

    /// <summary>Undoes <see cref="ToKernelLayout"/>: one block back to ggml's <c>block_q3_K</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void FromKernelLayout(Span<byte> block) => KQuantMatMul.PermuteRuns(block, BlockBytes, "Q3_K", Runs, toKernel: false);

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <see cref="ToKernelLayout"/> of <c>blocks</c> blocks from <c>src</c> to <c>dst</c>
    /// (the same address: in place; <see cref="KQuantMatMul.EmitRunsToKernelLayout"/>).
    /// </summary>
    public static WasmFunction EmitToKernelLayout(WasmModuleBuilder module, string name) =>
        KQuantMatMul.EmitRunsToKernelLayout(module, name, BlockBytes, Runs, [(96, 8), (104, 4), (108, 2)]);

    /// <summary>
    /// One super-block in the kernel layout (<see cref="ToKernelLayout"/>) with relaxed SIMD, for one or more token rows:
    /// per 128-element half c and shift s (sub-block 4c + s) and lane class, the unsigned quants <c>u = q + 4h</c> in [0, 7]
    /// (bits 2s of the <c>qs</c> load, bit 4c + s of the <c>hmask</c> load moved to bit 2; 16-bit shifts, byte masks), one exact
    /// <c>i16x8.relaxed_dot_i8x16_i7x16_s</c> with each token's activations less the prepared <c>4·(a₀ + a₁)</c>
    /// (<see cref="KQuantMatMul.ActivationLayout.GroupsI8PairSums4"/>: so <c>(u − 4)·a</c>, the reference's quant), then
    /// <c>i32x4.dot_i16x8_s</c> with the scales of groups 2j and 2j + 1 alternating in the int16 lanes (the pairs of
    /// <see cref="KQuantMatMul.GroupsE"/> alternate elements l &lt; 16 and l ≥ 16). Quants and scales unpacked once for all tokens.
    /// </summary>
    private static void BlockLanesKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal scLo = tmp[1], scHi = tmp[2], hE = tmp[3], hO = tmp[4], qE = tmp[5], qO = tmp[6], s = tmp[7], u = tmp[8], t0 = tmp[9];
        Scales(f, pw, scLo, u, t0);
        f.LocalGet(scLo).I16x8ExtendHighI8x16S().LocalSet(scHi);
        f.LocalGet(scLo).I16x8ExtendLowI8x16S().LocalSet(scLo);
        f.LocalGet(pw).V128Load(alignment: 1).LocalSet(hE);
        f.LocalGet(pw).V128Load(offset: 16, alignment: 1).LocalSet(hO);
        for (int c = 0; c < 2; c++)
        {
            f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * c), alignment: 1).LocalSet(qE);
            f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * c + 16), alignment: 1).LocalSet(qO);
            for (int sh = 0; sh < 4; sh++)
            {
                int j = 4 * c + sh, g = 2 * j % 8, bit = 4 * c + sh;
                uint y = (uint)(32 * j);
                WasmLocal sc = j < 4 ? scLo : scHi;
                f.LocalGet(sc).LocalGet(sc)
                    .I8x16Shuffle(WasmEmit.AlternatingShorts(g)).LocalSet(s);
                for (int k = 0; k < 2; k++)
                {
                    QuantBytes(f, k == 0 ? qE : qO, k == 0 ? hE : hO, sh, bit);
                    f.LocalSet(u);
                    for (int t = 0; t < ps.Length; t++)
                    {
                        f.LocalGet(ps[t]).V128Load(offset: y + 16u * (uint)k, alignment: 16).LocalGet(u).I16x8RelaxedDotI8x16I7x16S()
                            .LocalGet(ps[t]).V128Load(offset: KQuantMatMul.PairSumsOffset + y + 16u * (uint)k, alignment: 16).I16x8Sub()
                            .LocalGet(s).I32x4DotI16x8S();
                        Q4_KEmitter.Accumulate(f, k == 0 ? auxE[t] : auxO[t], j == 0);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Pushes the unsigned quants <c>u = q + 4h</c> in [0, 7] of 16 elements: bits 2·<paramref name="shift"/> of the <c>qs</c>
    /// bytes in <paramref name="qs"/>, or-ed with bit <paramref name="bit"/> of the <c>hmask</c> bytes in <paramref name="hmask"/>
    /// moved to bit 2 (the file's order or the kernel layout's, the same for both). The shifts are 16-bit and masked per
    /// byte: bits 0–2 of each byte come from the same byte for any shift and bit in 0–7.
    /// </summary>
    private static void QuantBytes(WasmFunctionBuilder f, WasmLocal qs, WasmLocal hmask, int shift, int bit)
    {
        f.LocalGet(qs);
        if (shift > 0)
            f.I32Const(2 * shift).I16x8ShrU();
        f.V128Const(Vector128.Create((byte)3)).V128And();
        f.LocalGet(hmask);
        if (bit < 2)
            f.I32Const(2 - bit).I16x8Shl();
        else if (bit > 2)
            f.I32Const(bit - 2).I16x8ShrU();
        f.V128Const(Vector128.Create((byte)4)).V128And().V128Or();
    }

    /// <summary>
    /// Sets <paramref name="scales"/> to the sixteen scales minus 32 as int8 (<c>KQuants.UnpackScalesQ3K</c>, ggml's
    /// <c>aux</c> with <c>kmask1</c>, <c>kmask2</c>): the 12 packed bytes are read at block offset 94 (bytes 2–13 of the
    /// load, which so ends at the block's end), the four words formed at once — low nibbles from <c>[a0, a1, a0 &gt;&gt; 4, a1 &gt;&gt; 4]</c>,
    /// high bits from <c>tmp</c> shifted by 0, 2, 4, 6 (left by 4, 2, 0 as multiplies, right by 2).
    /// </summary>
    private static void Scales(WasmFunctionBuilder f, WasmLocal pw, WasmLocal scales, WasmLocal v, WasmLocal t)
    {
        // v = [a0, a1, tmp, ·] from the bytes 96–107
        f.LocalGet(pw).V128Load(offset: 94, alignment: 1).LocalTee(v).LocalGet(v)
            .I8x16Shuffle([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 10, 11, 12, 13]).LocalSet(v);
        f.LocalGet(v).LocalGet(v).I8x16Shuffle(WasmEmit.Lanes32(2, 2, 2, 2)).LocalSet(t);
        // low: [a0, a1, a0 >> 4, a1 >> 4] & kmask2
        f.LocalGet(v).LocalGet(v).I32Const(4).I32x4ShrU().I8x16Shuffle(WasmEmit.Lanes32(0, 1, 4, 5))
            .V128Const(Vector128.Create(0x0F0F0F0F)).V128And();
        // high: ([tmp << 4, tmp << 2, tmp, tmp >> 2]) & (kmask1 << 4)
        f.LocalGet(t).V128Const(Vector128.Create(16, 4, 1, 1)).I32x4Mul().LocalGet(t).I32Const(2).I32x4ShrU().I8x16Shuffle(WasmEmit.Lanes32(0, 1, 2, 7))
            .V128Const(Vector128.Create(0x30303030)).V128And().V128Or()
            .V128Const(Vector128.Create((byte)32)).I8x16Sub().LocalSet(scales);
    }

    /// <summary>
    /// One super-block with SIMD128: per group g of 16 elements (element <c>128c + 32s + l</c>: bits 2s of
    /// <c>qs[32c + l]</c>, bit 4c + s of <c>hmask[l]</c>) the unsigned <c>q + 4h</c> in [0, 7] as bytes, shuffled into
    /// <see cref="KQuantMatMul.WeightPairs"/> order, E and O taken as int16 minus 4, times the group's scale (int16,
    /// |product| ≤ 128) and dotted with the prepared activations (<see cref="KQuantMatMul.ActivationLayout.PairsI16"/>).
    /// </summary>
    private static void BlockLanes(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], hm0 = tmp[2], hm1 = tmp[3], chunk = tmp[4], u = tmp[5], s = tmp[6], t = tmp[7];
        Vector128<short> four = Vector128.Create((short)4);
        Scales(f, pw, sc, u, t);
        f.LocalGet(pw).V128Load(alignment: 1).LocalSet(hm0);
        f.LocalGet(pw).V128Load(offset: 16, alignment: 1).LocalSet(hm1);
        for (int c = 0; c < 2; c++)
            for (int half = 0; half < 2; half++)
            {
                f.LocalGet(pw).V128Load(offset: (uint)(QsOffset + 32 * c + 16 * half), alignment: 1).LocalSet(chunk);
                for (int sh = 0; sh < 4; sh++)
                {
                    int g = 8 * c + 2 * sh + half, bit = 4 * c + sh;
                    uint y = (uint)(32 * g);
                    bool first = g == 0;
                    // the group's scale as int16 splat (sign-extended)
                    f.LocalGet(sc);
                    if (g < 8)
                        f.I16x8ExtendLowI8x16S();
                    else
                        f.I16x8ExtendHighI8x16S();
                    f.LocalSet(s).LocalGet(s).LocalGet(s).I8x16Shuffle(WasmEmit.SplatShort(g % 8)).LocalSet(s);
                    QuantBytes(f, chunk, half == 0 ? hm0 : hm1, sh, bit);
                    f.LocalTee(u).LocalGet(u).I8x16Shuffle(KQuantMatMul.WeightPairs).LocalTee(u);
                    f.V128Const(Vector128.Create((short)0x00FF)).V128And().V128Const(four).I16x8Sub().LocalGet(s).I16x8Mul()
                        .LocalGet(ps).V128Load(offset: y, alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxE, first);
                    f.LocalGet(u).I32Const(8).I16x8ShrU().V128Const(four).I16x8Sub().LocalGet(s).I16x8Mul()
                        .LocalGet(ps).V128Load(offset: y + 16, alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxO, first);
                }
            }
    }
}
