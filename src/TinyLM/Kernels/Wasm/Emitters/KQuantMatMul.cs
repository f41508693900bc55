using System.Runtime.Intrinsics;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// The matrix product shared by the K-quant types whose reference keeps eight lane classes (Q3_K, Q4_K, Q5_K, Q6_K;
/// activations Q8_K), bit-exact with ggml's <c>ggml_vec_dot_q4_K_q8_K_generic</c> / <c>ggml_vec_dot_q6_K_q8_K_generic</c> (and Q3_K's, Q5_K's)
/// (ggml/src/ggml-cpu/quants.c) and TinyLM's <see cref="Quantization.KQuantDot"/>: per super-block the
/// eight int32 lanes <c>aux32[l]</c> (element e counts in lane e mod 8, times its sub-block scale),
/// then <c>sums[l] += d · (float)aux32[l]</c> with <c>d = dx · dy</c> and, for types with mins,
/// <c>sumf −= dmin · (float)sumi</c>; finally <c>sumf += sums[l]</c> for l = 0..7 in order.
/// </summary>
/// <remarks>
/// <para>Exported signature (all i32): <c>(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c>
/// as <see cref="Q8ActivationMatMul"/>, with <c>blocks</c> super-blocks of 256 per row and
/// <see cref="ScratchBytesPerBlock"/> bytes of scratch per activation block. A <c>scratch</c> address with bit 0 set
/// says that the scratch already holds these activations, prepared by a call of the same product over other rows
/// (a kernel thread's next chunk, tinylm-threads.js): the prologue is skipped and <c>act</c> is not read.</para>
/// <para>Lane classes with <c>i32x4.dot_i16x8_s</c>: the dot adds adjacent int16 lanes, so both operands
/// hold each group of 16 elements as two i16x8 whose adjacent lanes are of one class:
/// <c>E = [e0, e8, e2, e10, e4, e12, e6, e14]</c> and <c>O = [e1, e9, e3, e11, e5, e13, e7, e15]</c>;
/// <c>dot(E_w, E_y)</c> gives lanes 0, 2, 4, 6 and <c>dot(O_w, O_y)</c> lanes 1, 3, 5, 7. The prologue
/// stores every activation group that way (one byte shuffle, two widenings); a weight row gets the
/// order from one byte shuffle of 16 packed bytes (<see cref="WeightPairs"/>), after which each int16
/// lane holds bytes 2m, 2m+1 (even lanes) or 2m+8, 2m+9 (odd lanes) and shifts and masks pick E and O.
/// The integer sums are exact in any order; the float steps are the reference's, lane by lane.</para>
/// <para>Rows run in groups of <see cref="RowsPerGroup"/> (the last group repeats its last row and stores
/// only the valid ones), tokens inside the group, so a group's weights stay in cache while every token
/// row passes over them; a type may take several tokens per pass (<c>tokensPerPass</c> of <see cref="Emit"/>:
/// the Q4_K and Q6_K kernel-layout products take four prompt tokens per pass, and unpack each row group's blocks
/// once into the scratch for all the passes: <c>unpack</c> of <see cref="Emit"/>).</para>
/// </remarks>
internal static class KQuantMatMul
{
    /// <summary>Q8_K block size in bytes (<c>block_q8_K</c>: f32 d, 256 int8, 16 int16 bsums).</summary>
    public const int Q8KBytes = 292;

    /// <summary>
    /// Scratch bytes per activation block: 16 groups × (E, O) as i16x8 (512 bytes, or the layouts of
    /// <see cref="ActivationLayout"/>), the 16 int16 <c>bsums</c> (offset 512), <c>d</c> as f32 (offset 544), three
    /// zero int32 (offset 548, <see cref="ZeroOffset"/>).
    /// </summary>
    public const int ScratchBytesPerBlock = 560;

    /// <summary>Offset of the copied <c>bsums</c> in a prepared activation block.</summary>
    public const uint BSumsOffset = 512;

    private const uint ScaleOffset = 544;

    /// <summary>
    /// Offset of three zero int32 in a prepared activation block (548, 552, 556), written by the prologue: row k &gt; 0 of
    /// a group adds word k − 1 to its activation addresses.
    /// </summary>
    private const uint ZeroOffset = 548;

    /// <summary>Weight rows per group.</summary>
    public const int RowsPerGroup = 4;

    /// <summary>
    /// Byte shuffle of 16 packed weight bytes b0..b15 after which int16 lane 2m holds b(2m), b(2m+1)
    /// and lane 2m+1 holds b(2m+8), b(2m+9): the low byte's field gives E, the high byte's O.
    /// </summary>
    public static readonly byte[] WeightPairs = [0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15];

    /// <summary>Byte shuffle of 16 activation int8 into E (bytes 0–7) and O (bytes 8–15).</summary>
    private static readonly byte[] ActivationPairs = [0, 8, 2, 10, 4, 12, 6, 14, 1, 9, 3, 11, 5, 13, 7, 15];

    /// <summary>
    /// Byte shuffles of a 32-element sub-block (two v128) into four-byte groups of one lane class:
    /// group m of <see cref="GroupsE"/> holds elements 2m, 2m+8, 2m+16, 2m+24 (lane l = 2m of <c>aux32</c>),
    /// of <see cref="GroupsO"/> elements 2m+1, 2m+9, 2m+17, 2m+25; one
    /// <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> then gives four lanes' sums.
    /// </summary>
    public static readonly byte[] GroupsE = [0, 8, 16, 24, 2, 10, 18, 26, 4, 12, 20, 28, 6, 14, 22, 30];

    /// <summary>See <see cref="GroupsE"/>.</summary>
    public static readonly byte[] GroupsO = [1, 9, 17, 25, 3, 11, 19, 27, 5, 13, 21, 29, 7, 15, 23, 31];

    /// <summary>How the prologue prepares the activations of a super-block.</summary>
    public enum ActivationLayout
    {
        /// <summary>Per 16 elements, E and O as i16x8 (bytes 0–511; <see cref="ActivationPairs"/>): for <c>i32x4.dot_i16x8_s</c>.</summary>
        PairsI16,

        /// <summary>
        /// Per 32-element sub-block j, the int8 in <see cref="GroupsE"/> and <see cref="GroupsO"/> order
        /// at bytes 32j and 32j + 16 (bytes 0–255): for <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c>.
        /// </summary>
        GroupsI8,

        /// <summary>
        /// Per two sub-blocks j (a = 2j, b = 2j + 1), at bytes 64j: four 16-byte vectors, the int8 of elements 0–15 of a and
        /// b in <see cref="Q4_KEmitter.PairGroups"/> order E, then of elements 16–31 in that order, then both in O order
        /// (bytes 0–255): for Q4_K's kernel layout (<see cref="Q4_KEmitter.ToKernelLayout"/>), whose relaxed dots give
        /// int16 pairs of one class, a's in the even lane and b's in the odd one.
        /// </summary>
        PairedGroupsI8,

        /// <summary>
        /// <see cref="GroupsI8"/>, and at <see cref="PairSumsOffset"/> + the same offset, per 16 of those bytes
        /// the i16x8 of <c>32·(b[2k] + b[2k+1])</c>: the term that turns a relaxed dot with unsigned 6-bit
        /// quants u into the dot with u − 32 (Q6_K).
        /// </summary>
        GroupsI8PairSums,

        /// <summary>
        /// <see cref="GroupsI8PairSums"/> with <c>4·(b[2k] + b[2k+1])</c>: the term that turns a relaxed dot with Q3_K's
        /// unsigned quants u = q + 4 in [0, 7] into the dot with q.
        /// </summary>
        GroupsI8PairSums4,
    }

    /// <summary>Offset of the pair sums of <see cref="ActivationLayout.GroupsI8PairSums"/> in a prepared activation block (bytes 256–511).</summary>
    public const uint PairSumsOffset = 256;

    /// <summary>
    /// Emits the integer part of one super-block of one weight row (at <c>pw</c>) against the prepared
    /// activation block at <c>ps</c>: sets <c>auxE</c> (i32x4: lanes 0, 2, 4, 6 of <c>aux32</c>) and
    /// <c>auxO</c> (lanes 1, 3, 5, 7), and for types with mins the i32x4 <c>sumi</c> whose lanes add up to
    /// <c>Σ bsums[j]·m[j/2]</c> (the rows' totals are formed four at a time, <see cref="WasmEmit.Sum4"/>).
    /// <c>tmp</c> holds v128 locals the step may overwrite.
    /// </summary>
    public delegate void BlockLanes(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp);

    /// <summary>
    /// <see cref="BlockLanes"/> for several token rows at once: the weight block at <c>pw</c> is unpacked once and
    /// dotted with the prepared activation blocks at <c>ps[j]</c>, setting <c>auxE[j]</c>, <c>auxO[j]</c> (and
    /// <c>sumi[j]</c>) for each. All arrays have one entry per token.
    /// </summary>
    public delegate void BlockLanesTokens(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp);

    /// <summary>A <see cref="BlockLanesTokens"/> for one token at a time from a <see cref="BlockLanes"/>.</summary>
    public static BlockLanesTokens OneToken(BlockLanes lanes) =>
        (f, pw, ps, auxE, auxO, sumi, tmp) => lanes(f, pw, ps[0], auxE[0], auxO[0], sumi?[0], tmp);

    /// <summary>
    /// Token rows per pass of the Q4_K and Q6_K kernel-layout products (<see cref="Emit"/>'s <c>tokensPerPass</c>):
    /// four tokens share each weight vector (bench/browser, stories110M Q4_K_M 128-token prefill, when every pass
    /// unpacked its blocks: 438–440 ms, against 460–477 with two and 554–695 with eight, whose vectors no longer fit
    /// x64's registers; with the row group unpacked once, Node 26, 768 × 768 by 128 tokens: two 4–8 % slower, three 2 %,
    /// six 47 %).
    /// </summary>
    public const int KernelLayoutTokensPerPass = 4;

    /// <summary>Number of v128 temporaries passed to <see cref="BlockLanes"/> (the step may use all but the first).</summary>
    public const int Temporaries = 10;

    /// <summary>
    /// Stores the unpacked form of the weight block at <c>pw</c> at <c>dst + offset</c> (at most
    /// <see cref="UnpackedBlockBytes"/> bytes, 16-byte aligned), for <see cref="BlockLanesUnpacked"/>.
    /// </summary>
    public delegate void BlockUnpack(WasmFunctionBuilder f, WasmLocal pw, WasmLocal dst, uint offset, WasmLocal[] tmp);

    /// <summary><see cref="BlockLanesTokens"/> from a block that a <see cref="BlockUnpack"/> stored at <c>src + offset</c>.</summary>
    public delegate void BlockLanesUnpacked(WasmFunctionBuilder f, WasmLocal src, uint offset, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp);

    /// <summary>
    /// Scratch bytes of one unpacked weight block (<see cref="BlockUnpack"/>): a Q4_K block's nibbles as bytes (256), its
    /// sub-block scale pairs as int16 splats (64, from 256) and paired mins (32, from 384); a Q6_K block's quants (256) and scales (128).
    /// </summary>
    public const int UnpackedBlockBytes = 416;

    /// <summary>
    /// Scratch bytes after the prepared activations that a product of <paramref name="tokens"/> rows over
    /// <paramref name="blocks"/> super-blocks needs for its unpacked row group (the types emitted with an unpack step).
    /// </summary>
    public static long UnpackScratchBytes(int blocks, int tokens) => tokens >= KernelLayoutTokensPerPass ? (long)RowsPerGroup * blocks * UnpackedBlockBytes : 0;

    /// <summary>Emits the function described in the remarks.</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="blockBytes">Bytes of one weight super-block.</param>
    /// <param name="dOffset">Offset of the float16 super-block scale <c>d</c> in a weight block.</param>
    /// <param name="dminOffset">Offset of the float16 <c>dmin</c>, or null for types without mins.</param>
    /// <param name="lanes">The type's integer step.</param>
    /// <param name="panels">The weights are in panels of <see cref="RowsPerGroup"/> rows (<see cref="WasmWeightPanels"/>).</param>
    /// <param name="layout">The activation layout that <paramref name="lanes"/> reads.</param>
    /// <param name="tokensPerPass">
    /// Token rows that one pass over a row group's weights serves (a prompt's product): each weight block is
    /// unpacked once for that many tokens; the tokens left over run one at a time. 1: always one at a time.
    /// </param>
    /// <param name="unpack">
    /// With <paramref name="lanesUnpacked"/>, when <c>tokens ≥ tokensPerPass</c>: each row group's blocks are unpacked
    /// once into the scratch after the prepared activations (<see cref="UnpackScratchBytes"/>), and every pass reads them
    /// there instead of unpacking them again per pass (Node 26, 768 × 768 by 128 tokens, Q6_K: its unpacking was
    /// 15 % of the product, Q4_K's 5 %).
    /// </param>
    /// <param name="lanesUnpacked">The integer step over an unpacked block.</param>
    public static WasmFunction Emit(WasmModuleBuilder module, string name, int blockBytes, uint dOffset, uint? dminOffset, BlockLanesTokens lanes, bool panels = false,
        ActivationLayout layout = ActivationLayout.PairsI16, int tokensPerPass = 1, BlockUnpack? unpack = null, BlockLanesUnpacked? lanesUnpacked = null)
    {
        if ((unpack is null) != (lanesUnpacked is null) || (unpack is not null && tokensPerPass < 2))
            throw new ArgumentException("An unpack step goes with an unpacked integer step, and only with passes of several tokens.", nameof(unpack));
        const int R = RowsPerGroup;
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensPerPass, 1);
        int T = tokensPerPass;
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(10), []);
        WasmLocal w = f.Param(0), wRowBytes = f.Param(1), rows = f.Param(2), act = f.Param(3), actRowBytes = f.Param(4),
            tokens = f.Param(5), output = f.Param(6), outStride = f.Param(7), blocks = f.Param(8), scratchBase = f.Param(9);
        WasmLocal r = f.DeclareLocal(I32), t = f.DeclareLocal(I32), ib = f.DeclareLocal(I32), pa = f.DeclareLocal(I32),
            o = f.DeclareLocal(I32), tokenScratch = f.DeclareLocal(I32), tokenBytes = f.DeclareLocal(I32), tLimit = f.DeclareLocal(I32);
        WasmLocal[] rowStart = WasmEmit.Locals(f, I32, R), pw = WasmEmit.Locals(f, I32, R), ps = WasmEmit.Locals(f, I32, T);
        WasmLocal[][] sumi = Grid(f, R, T), accE = Grid(f, R, T), accO = Grid(f, R, T), auxE = Grid(f, R, T), auxO = Grid(f, R, T);
        WasmLocal[] sumf = WasmEmit.Locals(f, V128, T);   // per token: row k's sumf in lane k
        WasmLocal[] dT = WasmEmit.Locals(f, V128, T);     // per token: fp16(x.d)·y.d, row k in lane k
        WasmLocal[] tmp = WasmEmit.Locals(f, V128, Temporaries);
        WasmLocal dW = f.DeclareLocal(V128), dminW = f.DeclareLocal(V128), h0 = f.DeclareLocal(V128), h1 = f.DeclareLocal(V128);
        WasmLocal s = f.DeclareLocal(F32);
        WasmLocal step = f.DeclareLocal(I32), unpacked = f.DeclareLocal(I32), pu = f.DeclareLocal(I32), zero = f.DeclareLocal(I32);
        WasmLocal[] psRow = WasmEmit.Locals(f, I32, T);

        // scratch | 1: this thread's earlier call of the same product already prepared the activations there
        f.LocalGet(scratchBase).I32Const(1).I32And().I32Eqz();
        using (f.If())
            EmitPrologue(f, act, actRowBytes, tokens, blocks, scratchBase, t, ib, pa, ps[0], tmp[0], tmp[1], tmp[2], tmp[3], layout);
        f.LocalGet(scratchBase).I32Const(~1).I32And().LocalSet(scratchBase);
        f.LocalGet(blocks).I32Const(ScratchBytesPerBlock).I32Mul().LocalSet(tokenBytes);
        if (T > 1)
        {
            // passes of T tokens while t + T ≤ tokens: t < tokens − (T − 1), or none when tokens < T
            f.LocalGet(tokens).I32Const(T - 1).I32Sub().I32Const(0).LocalGet(tokens).I32Const(T).I32GeU().Select().LocalSet(tLimit);
        }

        if (unpack is null)
            EmitRowGroups(fromUnpacked: false);
        else
        {
            // the unpacked row group after the prepared activations
            f.LocalGet(tokens).LocalGet(tokenBytes).I32Mul().LocalGet(scratchBase).I32Add().LocalSet(unpacked);
            f.LocalGet(tokens).I32Const(T).I32GeU();
            using (f.If())
            {
                EmitRowGroups(fromUnpacked: true);
                f.Else();
                EmitRowGroups(fromUnpacked: false);
            }
        }
        return f.Function;

        void EmitRowGroups(bool fromUnpacked)
        {
            f.I32Const(0).LocalSet(r);
            using (f.For(r, rows, R))
            {
                WasmEmit.GroupRowStarts(f, r, rows, wRowBytes, w, rowStart, blockBytes, step, panels);
                if (fromUnpacked)
                {
                    // every block of the group's rows, unpacked once: block ib of row k at unpacked + (R·ib + k)·UnpackedBlockBytes
                    for (int k = 0; k < R; k++)
                        f.LocalGet(rowStart[k]).LocalSet(pw[k]);
                    f.LocalGet(unpacked).LocalSet(pu);
                    f.I32Const(0).LocalSet(ib);
                    using (f.For(ib, blocks, 1))
                    {
                        for (int k = 0; k < R; k++)
                        {
                            unpack!(f, pw[k], pu, (uint)(k * UnpackedBlockBytes), tmp);
                            f.LocalGet(pw[k]).LocalGet(step).I32Add().LocalSet(pw[k]);
                        }
                        f.LocalGet(pu).I32Const(R * UnpackedBlockBytes).I32Add().LocalSet(pu);
                    }
                }
                f.I32Const(0).LocalSet(t);
                f.LocalGet(scratchBase).LocalSet(tokenScratch);
                if (T > 1)
                    using (f.For(t, tLimit, T))
                        EmitPass(T, fromUnpacked);
                using (f.For(t, tokens, 1))
                    EmitPass(1, fromUnpacked);
            }
        }

        // One pass over the row group's weights for n tokens from t (their prepared activations from tokenScratch).
        void EmitPass(int n, bool fromUnpacked)
        {
            WasmLocal[] psN = ps[..n], sumfN = sumf[..n];
            for (int k = 0; k < R; k++)
            {
                f.LocalGet(rowStart[k]).LocalSet(pw[k]);
                for (int j = 0; j < n; j++)
                    f.V128Const(Vector128<float>.Zero).LocalTee(accE[k][j]).LocalSet(accO[k][j]);
            }
            for (int j = 0; j < n; j++)
            {
                f.V128Const(Vector128<float>.Zero).LocalSet(sumf[j]);
                f.LocalGet(tokenScratch);
                if (j > 0)
                    f.LocalGet(tokenBytes).I32Const(j).I32Mul().I32Add();
                f.LocalSet(ps[j]);
            }
            f.I32Const(0).LocalSet(ib);
            if (fromUnpacked)
                f.LocalGet(unpacked).LocalSet(pu);
            // Several tokens: each row's float steps right after its integer step, so that its aux vectors die there and
            // the rows after the first read the activations through addresses plus a zero that V8 cannot see (the
            // prologue's ZeroOffset words). Otherwise V8 keeps the first row's activation vectors (and every row's aux) for
            // later, more than x64's 16 vector registers, and spills them (Node 26, 128 tokens: Q4_K 2048 × 768 11–13 %
            // faster this way, the wide Q6_K 768 × 2048 17 %). One token: the float steps after all the rows (a decode
            // step's Q6_K product is 4–5 % slower the other way). RowsPerGroup − 1 zero words: see ZeroOffset.
            bool perRow = n > 1;
            using (f.For(ib, blocks, 1))
            {
                if (perRow)
                    Scales();
                for (int k = 0; k < R; k++)
                {
                    WasmLocal[] psK = psN;
                    if (k > 0 && perRow)
                    {
                        psK = psRow[..n];
                        f.LocalGet(psN[0]).I32Load(offset: ZeroOffset + 4u * (uint)(k - 1), alignment: 4).LocalSet(zero);
                        for (int j = 0; j < n; j++)
                            f.LocalGet(psN[j]).LocalGet(zero).I32Add().LocalSet(psK[j]);
                    }
                    if (fromUnpacked)
                        lanesUnpacked!(f, pu, (uint)(k * UnpackedBlockBytes), psK, auxE[k][..n], auxO[k][..n], dminOffset is null ? null : sumi[k][..n], tmp);
                    else
                        lanes(f, pw[k], psK, auxE[k][..n], auxO[k][..n], dminOffset is null ? null : sumi[k][..n], tmp);
                    if (perRow)
                        RowFloatSteps(k);
                }
                if (fromUnpacked)
                    f.LocalGet(pu).I32Const(R * UnpackedBlockBytes).I32Add().LocalSet(pu);
                if (!perRow)
                    Scales();
                if (dminOffset is not null)
                    for (int j = 0; j < n; j++)
                    {
                        // sumf −= (fp16(x.dmin)·y.d)·(float)sumi, the four rows at once (lane k: row k)
                        f.LocalGet(sumfN[j]);
                        WasmEmit.Sum4(f, sumi[0][j], sumi[1][j], sumi[2][j], sumi[3][j], h0, h1);
                        f.F32x4ConvertI32x4S().LocalGet(dminW).LocalGet(psN[j]).V128Load32Splat(offset: ScaleOffset, alignment: 4).F32x4Mul()
                            .F32x4Mul().F32x4Sub().LocalSet(sumfN[j]);
                    }
                if (!perRow)
                    for (int k = 0; k < R; k++)
                        RowFloatSteps(k);
                for (int k = 0; k < R; k++)
                    f.LocalGet(pw[k]).LocalGet(step).I32Add().LocalSet(pw[k]);
                for (int j = 0; j < n; j++)
                    f.LocalGet(psN[j]).I32Const(ScratchBytesPerBlock).I32Add().LocalSet(psN[j]);
            }
            for (int j = 0; j < n; j++)
            {
                f.LocalGet(t).I32Const(j).I32Add().LocalGet(outStride).I32Mul().LocalGet(r).I32Add().I32Const(2).I32Shl().LocalGet(output).I32Add().LocalSet(o);
                for (int k = 0; k < R; k++)
                {
                    // sumf += sums[l], l = 0..7: lane m of accE is l = 2m, of accO l = 2m + 1
                    f.LocalGet(sumfN[j]).F32x4ExtractLane((byte)k);
                    for (byte m = 0; m < 4; m++)
                        f.LocalGet(accE[k][j]).F32x4ExtractLane(m).F32Add().LocalGet(accO[k][j]).F32x4ExtractLane(m).F32Add();
                    f.LocalSet(s);
                    if (k == 0)
                    {
                        f.LocalGet(o).LocalGet(s).F32Store(alignment: 4);
                    }
                    else
                    {
                        f.LocalGet(r).I32Const(k).I32Add().LocalGet(rows).I32LtU();
                        using (f.If())
                            f.LocalGet(o).LocalGet(s).F32Store(offset: 4u * (uint)k, alignment: 4);
                    }
                }
            }
            f.LocalGet(tokenScratch).LocalGet(tokenBytes).I32Const(n).I32Mul().I32Add().LocalSet(tokenScratch);

            // fp16(x.d) (and dmin) of the R rows at once, row k in lane k; d = fp16(x.d)·y.d per token
            void Scales()
            {
                WeightScales(f, pw, dOffset, dW, tmp[0], h0, h1);
                if (dminOffset is uint mo)
                    WeightScales(f, pw, mo, dminW, tmp[0], h0, h1);
                for (int j = 0; j < n; j++)
                    f.LocalGet(dW).LocalGet(psN[j]).V128Load32Splat(offset: ScaleOffset, alignment: 4).F32x4Mul().LocalSet(dT[j]);
            }

            // row k's sums[l] += d·(float)aux32[l] for every token
            void RowFloatSteps(int k)
            {
                for (int j = 0; j < n; j++)
                {
                    f.LocalGet(accE[k][j]).LocalGet(dT[j]).LocalGet(dT[j]).I8x16Shuffle(WasmEmit.Lanes32(k, k, k, k)).LocalTee(tmp[0])
                        .LocalGet(auxE[k][j]).F32x4ConvertI32x4S().F32x4Mul().F32x4Add().LocalSet(accE[k][j]);
                    f.LocalGet(accO[k][j]).LocalGet(tmp[0]).LocalGet(auxO[k][j]).F32x4ConvertI32x4S().F32x4Mul().F32x4Add().LocalSet(accO[k][j]);
                }
            }
        }
    }

    /// <summary>
    /// Rearranges, in place, each 32-byte run of <paramref name="block"/> starting at an offset of <paramref name="runs"/> into
    /// its <see cref="GroupsE"/> bytes followed by its <see cref="GroupsO"/> bytes (<paramref name="toKernel"/>), or back: the
    /// kernel layouts of Q3_K and Q5_K, whose quant bits for element l of every sub-block sit at byte l of such runs.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <paramref name="blockBytes"/> long.</exception>
    public static void PermuteRuns(Span<byte> block, int blockBytes, string typeName, ReadOnlySpan<int> runs, bool toKernel)
    {
        if (block.Length != blockBytes)
            throw new ArgumentException($"A {typeName} block is {blockBytes} bytes, not {block.Length}.", nameof(block));
        Span<byte> chunk = stackalloc byte[32];
        foreach (int at in runs)
        {
            Span<byte> run = block.Slice(at, 32);
            run.CopyTo(chunk);
            for (int i = 0; i < 16; i++)
            {
                if (toKernel)
                {
                    run[i] = chunk[GroupsE[i]];
                    run[16 + i] = chunk[GroupsO[i]];
                }
                else
                {
                    run[GroupsE[i]] = chunk[i];
                    run[GroupsO[i]] = chunk[16 + i];
                }
            }
        }
    }

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <see cref="PermuteRuns"/> (to the kernel layout) of <c>blocks</c> blocks of
    /// <paramref name="blockBytes"/> from <c>src</c> to <c>dst</c> (the same address: in place), two byte shuffles per run; the
    /// bytes outside the runs (<paramref name="copies"/>: offset and length, lengths 16, 8, 4 or 2) are copied as they are.
    /// The page converts a model's matrices at load with it (the C# loop runs interpreted there).
    /// </summary>
    public static WasmFunction EmitRunsToKernelLayout(WasmModuleBuilder module, string name, int blockBytes, int[] runs, (uint Offset, int Length)[] copies)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal src = f.Param(0), dst = f.Param(1), blocks = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), v0 = f.DeclareLocal(V128), v1 = f.DeclareLocal(V128);
        using (f.For(i, blocks, 1))
        {
            foreach ((uint at, int length) in copies)
            {
                f.LocalGet(dst).LocalGet(src);
                _ = length switch
                {
                    16 => f.V128Load(offset: at, alignment: 1).V128Store(offset: at, alignment: 1),
                    8 => f.I64Load(offset: at, alignment: 1).I64Store(offset: at, alignment: 1),
                    4 => f.I32Load(offset: at, alignment: 1).I32Store(offset: at, alignment: 1),
                    2 => f.I32Load16U(offset: at, alignment: 1).I32Store16(offset: at, alignment: 1),
                    _ => throw new ArgumentException($"copies of {length} bytes are not emitted", nameof(copies)),
                };
            }
            foreach (int run in runs)
            {
                uint at = (uint)run;
                f.LocalGet(src).V128Load(offset: at, alignment: 1).LocalSet(v0);
                f.LocalGet(src).V128Load(offset: at + 16, alignment: 1).LocalSet(v1);
                f.LocalGet(dst).LocalGet(v0).LocalGet(v1).I8x16Shuffle(GroupsE).V128Store(offset: at, alignment: 1);
                f.LocalGet(dst).LocalGet(v0).LocalGet(v1).I8x16Shuffle(GroupsO).V128Store(offset: at + 16, alignment: 1);
            }
            f.LocalGet(src).I32Const(blockBytes).I32Add().LocalSet(src);
            f.LocalGet(dst).I32Const(blockBytes).I32Add().LocalSet(dst);
        }
        return f.Function;
    }

    /// <summary>A [rows][tokens] grid of v128 locals.</summary>
    private static WasmLocal[][] Grid(WasmFunctionBuilder f, int rows, int tokens)
    {
        var grid = new WasmLocal[rows][];
        for (int k = 0; k < rows; k++)
            grid[k] = WasmEmit.Locals(f, V128, tokens);
        return grid;
    }

    /// <summary>Sets <paramref name="target"/> to <c>fp16(pw[k] + offset)</c> in lane k (f32x4).</summary>
    internal static void WeightScales(WasmFunctionBuilder f, WasmLocal[] pw, uint offset, WasmLocal target, WasmLocal tmp, WasmLocal h0, WasmLocal h1)
    {
        // The conversion's constants stay in place (not hoisted, WasmFunctionBuilder.HoistConstants): five more vectors live
        // through the whole function cost the four-token passes more than the once-per-block constants save (Chromium 156,
        // Q6_K 2048 × 768 by 128 tokens: 9.2 ms hoisted, 7.0 in place, decode the same).
        bool hoist = f.HoistConstants;
        f.HoistConstants = false;
        f.V128Const(Vector128<int>.Zero);
        for (int k = 0; k < pw.Length; k++)
            f.LocalSet(tmp).LocalGet(pw[k]).LocalGet(tmp).V128Load16Lane((byte)(2 * k), offset: offset, alignment: 1);
        WasmEmit.Fp16x4ToFp32x4(f, h0, h1);
        f.LocalSet(target);
        f.HoistConstants = hoist;
    }

    /// <summary>Converts every Q8_K activation block of every token row into the scratch (see <see cref="ScratchBytesPerBlock"/>).</summary>
    private static void EmitPrologue(WasmFunctionBuilder f, WasmLocal act, WasmLocal actRowBytes, WasmLocal tokens, WasmLocal blocks,
        WasmLocal scratchBase, WasmLocal t, WasmLocal ib, WasmLocal pa, WasmLocal ps, WasmLocal v, WasmLocal v1, WasmLocal v2, WasmLocal v3, ActivationLayout layout)
    {
        f.LocalGet(scratchBase).LocalSet(ps);
        f.I32Const(0).LocalSet(t);
        using (f.For(t, tokens, 1))
        {
            f.LocalGet(t).LocalGet(actRowBytes).I32Mul().LocalGet(act).I32Add().LocalSet(pa);
            f.I32Const(0).LocalSet(ib);
            using (f.For(ib, blocks, 1))
            {
                if (layout == ActivationLayout.PairsI16)
                {
                    for (int g = 0; g < 16; g++)
                    {
                        f.LocalGet(pa).V128Load(offset: (uint)(4 + 16 * g), alignment: 1).LocalTee(v).LocalGet(v).I8x16Shuffle(ActivationPairs).LocalSet(v);
                        f.LocalGet(ps).LocalGet(v).I16x8ExtendLowI8x16S().V128Store(offset: (uint)(32 * g), alignment: 16);
                        f.LocalGet(ps).LocalGet(v).I16x8ExtendHighI8x16S().V128Store(offset: (uint)(32 * g + 16), alignment: 16);
                    }
                }
                else if (layout == ActivationLayout.PairedGroupsI8)
                {
                    for (int j = 0; j < 4; j++)
                    {
                        f.LocalGet(pa).V128Load(offset: (uint)(4 + 64 * j), alignment: 1).LocalSet(v);
                        f.LocalGet(pa).V128Load(offset: (uint)(4 + 64 * j + 16), alignment: 1).LocalSet(v1);
                        f.LocalGet(pa).V128Load(offset: (uint)(4 + 64 * j + 32), alignment: 1).LocalSet(v2);
                        f.LocalGet(pa).V128Load(offset: (uint)(4 + 64 * j + 48), alignment: 1).LocalSet(v3);
                        for (int h = 0; h < 2; h++)
                        {
                            uint at = (uint)(64 * j + 32 * h);
                            f.LocalGet(ps).LocalGet(v).LocalGet(v2).I8x16Shuffle(Q4_KEmitter.PairGroups[h]).V128Store(offset: at, alignment: 16);
                            f.LocalGet(ps).LocalGet(v1).LocalGet(v3).I8x16Shuffle(Q4_KEmitter.PairGroups[h]).V128Store(offset: at + 16, alignment: 16);
                        }
                    }
                }
                else
                {
                    for (int j = 0; j < 8; j++)
                    {
                        f.LocalGet(pa).V128Load(offset: (uint)(4 + 32 * j), alignment: 1).LocalSet(v);
                        f.LocalGet(pa).V128Load(offset: (uint)(4 + 32 * j + 16), alignment: 1).LocalSet(v1);
                        for (int k = 0; k < 2; k++)
                        {
                            uint at = (uint)(32 * j + 16 * k);
                            f.LocalGet(ps).LocalGet(v).LocalGet(v1).I8x16Shuffle(k == 0 ? GroupsE : GroupsO);
                            if (layout is ActivationLayout.GroupsI8PairSums or ActivationLayout.GroupsI8PairSums4)
                            {
                                WasmLocal grouped = k == 0 ? v2 : v3;
                                f.LocalTee(grouped).V128Store(offset: at, alignment: 16);
                                f.LocalGet(ps).LocalGet(grouped).I16x8ExtaddPairwiseI8x16S()
                                    .I32Const(layout == ActivationLayout.GroupsI8PairSums ? 5 : 2).I16x8Shl().V128Store(offset: PairSumsOffset + at, alignment: 16);
                            }
                            else
                                f.V128Store(offset: at, alignment: 16);
                        }
                    }
                }
                f.LocalGet(ps).LocalGet(pa).V128Load(offset: 260, alignment: 1).V128Store(offset: BSumsOffset, alignment: 16);
                f.LocalGet(ps).LocalGet(pa).V128Load(offset: 276, alignment: 1).V128Store(offset: BSumsOffset + 16, alignment: 16);
                f.LocalGet(ps).LocalGet(pa).F32Load(alignment: 1).F32Store(offset: ScaleOffset, alignment: 4);
                for (uint z = 0; z < 3; z++)
                    f.LocalGet(ps).I32Const(0).I32Store(offset: ZeroOffset + 4 * z, alignment: 4);
                f.LocalGet(pa).I32Const(Q8KBytes).I32Add().LocalSet(pa);
                f.LocalGet(ps).I32Const(ScratchBytesPerBlock).I32Add().LocalSet(ps);
            }
        }
    }
}
