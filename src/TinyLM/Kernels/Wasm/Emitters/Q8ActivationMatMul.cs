using System.Runtime.Intrinsics;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// The matrix product shared by the 32-element block types whose activations are Q8_0 (Q8_0, Q4_0, Q5_0, IQ4_NL)
/// or Q8_1 (Q4_1, Q5_1, <see cref="ScaleOrder.WithMin"/>):
/// eight weight rows at a time, one float accumulator per row in the lanes of two f32x4, blocks in
/// order — each lane performs exactly the float steps of the type's <c>DotReference</c>
/// (ggml's <c>ggml_vec_dot_*_q8_0_generic</c>); only the exact integer block sums use SIMD freely.
/// </summary>
/// <remarks>
/// <para>Exported signature (all i32): <c>(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c>:
/// <c>out[t·outStride + r] = Dot(w row r, act row t)</c> for r &lt; rows, t &lt; tokens; <c>outStride</c>
/// in floats, <c>blocks</c> per row; <c>scratch</c> holds <see cref="ScratchBytesPerBlock"/> bytes per
/// activation block (<c>tokens·blocks</c> of them), best 16-byte aligned; bit 0 of <c>scratch</c> is ignored (the
/// prologue always runs: see <see cref="KQuantMatMul"/> for the types that skip it).</para>
/// <para>A prologue converts each activation block once per call, not once per row group: its 32
/// int8 widened to int16 in the order the type's block dot wants, its float16 scale converted to
/// float, and (for Q4_0, Q5_0) <c>8·Σy</c> or <c>16·Σy</c>. A last group of fewer than eight rows repeats the last row and
/// stores only the valid lanes. Tokens run inside the row group, so eight weight rows stay in cache
/// while every token row passes over them (the prefill tile).</para>
/// </remarks>
internal static class Q8ActivationMatMul
{
    /// <summary>Weight rows per group (and per panel of <see cref="WasmWeightPanels"/>).</summary>
    public const int RowsPerGroup = 8;

    /// <summary>Q8_0 block size in bytes (<c>block_q8_0</c>: f16 scale + 32 int8).</summary>
    public const int Q8Bytes = 34;

    /// <summary>Q8_1 block size in bytes (<c>block_q8_1</c>: f16 d, f16 s = d·Σq, 32 int8).</summary>
    public const int Q8_1Bytes = 36;

    /// <summary>
    /// Scratch bytes per activation block: four i16x8 (64 bytes), the scale as f32 (offset 64), the
    /// integer correction <c>8·Σy</c> or <c>16·Σy</c> (offset 68), a Q8_1 block's <c>s</c> as f32 (offset 72), padding to 80. After the activation
    /// blocks, <see cref="ScaleBytesPerBlock"/> bytes per block of a row: a batch's row group keeps its
    /// eight rows' weight scales there as f32, converted once for all tokens.
    /// </summary>
    public const int ScratchBytesPerBlock = 80;

    /// <summary>Scratch bytes per block of a weight row for the row group's f32 scales (eight floats).</summary>
    public const int ScaleBytesPerBlock = 32;

    private const uint ScaleOffset = 64, CorrectionOffset = 68, SumOffset = 72;

    /// <summary>
    /// Pushes the i32x4 partial sums of one weight block (at <c>pw</c>) against the prepared
    /// activation block in <c>y</c> (four i16x8, see <see cref="ActivationLayout"/>); the lane total is
    /// the exact block sum, before the correction. <c>tmp</c> holds three v128 locals the dot may overwrite.
    /// </summary>
    public delegate void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp);

    /// <summary>How a block's scales meet its integer sum (the float order of the reference).</summary>
    public enum ScaleOrder
    {
        /// <summary><c>sumf += sumi · (dx · dy)</c> (Q8_0).</summary>
        ProductOfScales,

        /// <summary><c>sumf += sumi · dx · dy</c>, left to right (Q4_0).</summary>
        LeftToRight,

        /// <summary>
        /// <c>sumf += (dx · dy) · sumi + mx · sy</c> against Q8_1 activations (Q4_1, Q5_1: <c>ggml_vec_dot_q4_1_q8_1_generic</c>),
        /// <c>mx</c> the float16 at offset 2 of the weight block, <c>sy</c> the activation block's <c>s</c>.
        /// </summary>
        WithMin,
    }

    /// <summary>The order of the widened activations in the scratch, and the integer correction.</summary>
    public enum ActivationLayout
    {
        /// <summary><c>y[0..8), y[8..16), y[16..24), y[24..32)</c>; no correction (Q8_0).</summary>
        Sequential,

        /// <summary>
        /// <c>y[2i], y[2i+16], y[2i+1], y[2i+17]</c> for i = 0..7 — the order in which the int16 lanes
        /// of a Q4_0 <c>qs</c> hold their four nibbles — and the correction <c>Σ (u−8)·y = Σ u·y − 8·Σy</c> (Q4_0).
        /// </summary>
        NibbleLanesMinus8,

        /// <summary>
        /// The order of <see cref="NibbleLanesMinus8"/> with the correction <c>16·Σy</c>: the block dot
        /// returns <c>Σ u·y</c> over the unsigned 5-bit quants u, and <c>Σ (u−16)·y = Σ u·y − 16·Σy</c> (Q5_0).
        /// </summary>
        NibbleLanesMinus16,

        /// <summary>
        /// For relaxed SIMD with signed weights (Q8_0): <c>max(y, 0)</c> and <c>max(−y, 0)</c> of each
        /// half, <c>[y⁺[0..16), y⁺[16..32), y⁻[0..16), y⁻[16..32)]</c>, every byte in [0, 127], so that
        /// <c>Σ w·y = Σ w·y⁺ − Σ w·y⁻</c> takes four exact <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c>;
        /// no correction. A block holding −128 (which <c>quantize_row_q8_0</c> never writes) has no such
        /// split: the kernel then runs its fallback for the whole call.
        /// </summary>
        SplitSigns,

        /// <summary>
        /// For relaxed SIMD with unsigned 4-bit weights (Q4_0): the 32 bytes as they are, <c>[y[0..16), y[16..32)]</c>
        /// (element j meets the low nibble of byte j, element j + 16 its high nibble), and the correction <c>8·Σy</c>.
        /// </summary>
        BytesMinus8,

        /// <summary>As <see cref="BytesMinus8"/> with the correction <c>16·Σy</c> (Q5_0's unsigned 5-bit quants).</summary>
        BytesMinus16,

        /// <summary>The order of <see cref="NibbleLanesMinus8"/> with no correction (Q4_1, Q5_1: unsigned quants, the offset is the min).</summary>
        NibbleLanes,

        /// <summary>The bytes of <see cref="BytesMinus8"/> with no correction (Q4_1, Q5_1 with relaxed SIMD).</summary>
        Bytes,
    }

    /// <summary>The prepared v128 values per activation block that a block dot reads.</summary>
    private static int Vectors(ActivationLayout layout) => layout is ActivationLayout.BytesMinus8 or ActivationLayout.BytesMinus16 or ActivationLayout.Bytes ? 2 : 4;

    private static bool HasCorrection(ActivationLayout layout) =>
        layout is not (ActivationLayout.Sequential or ActivationLayout.SplitSigns or ActivationLayout.NibbleLanes or ActivationLayout.Bytes);

    /// <summary>Emits the function described in the remarks.</summary>
    /// <param name="module">The module to add the function to.</param>
    /// <param name="name">The function's name (its export name when <paramref name="export"/>).</param>
    /// <param name="blockBytes">Bytes per weight block.</param>
    /// <param name="dot">The type's exact integer block dot.</param>
    /// <param name="order">How the block's scales meet its integer sum.</param>
    /// <param name="layout">How the prologue prepares each activation block for <paramref name="dot"/>.</param>
    /// <param name="export">Export the function.</param>
    /// <param name="panels">
    /// The weights are in the layout of <see cref="WasmWeightPanels"/>: each whole group of eight rows
    /// (from the first row passed) as a panel of interleaved blocks, a last group of fewer rows row by row.
    /// </param>
    /// <param name="fallback">
    /// With <see cref="ActivationLayout.SplitSigns"/>: a function of the same signature (the product
    /// without relaxed SIMD) that the kernel calls instead when an activation byte is −128.
    /// </param>
    public static WasmFunction Emit(WasmModuleBuilder module, string name, int blockBytes, BlockDot dot, ScaleOrder order, ActivationLayout layout,
        WasmFunction? fallback = null, bool export = true, bool panels = false)
    {
        if ((layout == ActivationLayout.SplitSigns) != (fallback is not null))
            throw new ArgumentException("A fallback goes with the SplitSigns layout, and only with it.", nameof(fallback));
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(10), [], export);
        WasmLocal w = f.Param(0), wRowBytes = f.Param(1), rows = f.Param(2), act = f.Param(3), actRowBytes = f.Param(4),
            tokens = f.Param(5), output = f.Param(6), outStride = f.Param(7), blocks = f.Param(8), scratchBase = f.Param(9);
        WasmLocal r = f.DeclareLocal(I32), t = f.DeclareLocal(I32), ib = f.DeclareLocal(I32), pa = f.DeclareLocal(I32), ps = f.DeclareLocal(I32),
            o = f.DeclareLocal(I32), tokenScratch = f.DeclareLocal(I32), half = f.DeclareLocal(I32);
        WasmLocal[] rowStart = WasmEmit.Locals(f, I32, 8), pw = WasmEmit.Locals(f, I32, 8);
        WasmLocal[] y = WasmEmit.Locals(f, V128, 4), partial = WasmEmit.Locals(f, V128, 4), sumf = WasmEmit.Locals(f, V128, 2);
        WasmLocal u01 = f.DeclareLocal(V128), u23 = f.DeclareLocal(V128), scratch = f.DeclareLocal(V128);
        WasmLocal[] tmp = [scratch, f.DeclareLocal(V128), f.DeclareLocal(V128)];
        WasmLocal h0 = f.DeclareLocal(V128), h1 = f.DeclareLocal(V128);
        WasmLocal step = f.DeclareLocal(I32), scaleBase = f.DeclareLocal(I32), scaleCursor = f.DeclareLocal(I32);

        WasmLocal negative128 = f.DeclareLocal(V128);
        f.LocalGet(scratchBase).I32Const(~1).I32And().LocalSet(scratchBase);   // bit 0 (prepared, KQuantMatMul) is ignored here
        EmitPrologue(f, act, actRowBytes, tokens, blocks, scratchBase, layout, order == ScaleOrder.WithMin, t, ib, pa, ps, y, h0, h1, scratch, negative128);
        if (fallback is not null)
        {
            f.LocalGet(negative128).V128AnyTrue();
            using (f.If())
            {
                for (int p = 0; p < 10; p++)
                    f.LocalGet(f.Param(p));
                f.Call(fallback).Return();
            }
        }

        // after the prepared activations: the row group's weight scales as f32, 32 bytes per block (batches only)
        f.LocalGet(tokens).LocalGet(blocks).I32Mul().I32Const(ScratchBytesPerBlock).I32Mul().LocalGet(scratchBase).I32Add().LocalSet(scaleBase);
        f.I32Const(0).LocalSet(r);
        using (f.For(r, rows, 8))
        {
            WasmEmit.GroupRowStarts(f, r, rows, wRowBytes, w, rowStart, blockBytes, step, panels);
            f.LocalGet(tokens).I32Const(1).I32GtU();
            using (f.If())
            {
                // convert the eight rows' float16 scales once for all the batch's tokens
                for (int k = 0; k < 8; k++)
                    f.LocalGet(rowStart[k]).LocalSet(pw[k]);
                f.LocalGet(scaleBase).LocalSet(scaleCursor);
                f.I32Const(0).LocalSet(ib);
                using (f.For(ib, blocks, 1))
                {
                    for (int g = 0; g < 2; g++)
                    {
                        f.LocalGet(scaleCursor);
                        RowScales(f, pw, g, scratch, h0, h1);
                        f.V128Store(offset: (uint)(16 * g), alignment: 16);
                    }
                    for (int k = 0; k < 8; k++)
                        f.LocalGet(pw[k]).LocalGet(step).I32Add().LocalSet(pw[k]);
                    f.LocalGet(scaleCursor).I32Const(32).I32Add().LocalSet(scaleCursor);
                }
            }
            f.I32Const(0).LocalSet(t);
            f.LocalGet(scratchBase).LocalSet(tokenScratch);
            using (f.For(t, tokens, 1))
            {
                for (int k = 0; k < 8; k++)
                    f.LocalGet(rowStart[k]).LocalSet(pw[k]);
                f.LocalGet(tokenScratch).LocalSet(ps);
                f.LocalGet(scaleBase).LocalSet(scaleCursor);
                f.V128Const(Vector128<float>.Zero).LocalTee(sumf[0]).LocalSet(sumf[1]);
                f.I32Const(0).LocalSet(ib);
                using (f.For(ib, blocks, 1))
                {
                    for (int k = 0; k < Vectors(layout); k++)
                        f.LocalGet(ps).V128Load(offset: (uint)(16 * k), alignment: 4).LocalSet(y[k]);
                    for (int g = 0; g < 2; g++)
                    {
                        for (int k = 0; k < 4; k++)
                        {
                            dot(f, pw[4 * g + k], y, tmp);
                            f.LocalSet(partial[k]);
                        }
                        f.LocalGet(sumf[g]);
                        WasmEmit.Sum4(f, partial[0], partial[1], partial[2], partial[3], u01, u23);
                        if (HasCorrection(layout))
                            f.LocalGet(ps).V128Load32Splat(offset: CorrectionOffset, alignment: 4).I32x4Sub();
                        f.F32x4ConvertI32x4S();
                        // dx: the four rows' scales (converted above for a batch); dy: the activation block's, converted by the prologue
                        f.LocalGet(tokens).I32Const(1).I32GtU();
                        using (f.If(V128))
                        {
                            f.LocalGet(scaleCursor).V128Load(offset: (uint)(16 * g), alignment: 16);
                            f.Else();
                            RowScales(f, pw, g, scratch, h0, h1);
                        }
                        if (order == ScaleOrder.LeftToRight)
                            f.F32x4Mul();
                        f.LocalGet(ps).V128Load32Splat(offset: ScaleOffset, alignment: 4);
                        f.F32x4Mul();
                        if (order != ScaleOrder.LeftToRight)
                            f.F32x4Mul();
                        if (order == ScaleOrder.WithMin)
                        {
                            // + mx · sy (the rows' float16 mins, converted here also in a batch)
                            RowScales(f, pw, g, scratch, h0, h1, offset: 2);
                            f.LocalGet(ps).V128Load32Splat(offset: SumOffset, alignment: 4).F32x4Mul().F32x4Add();
                        }
                        f.F32x4Add().LocalSet(sumf[g]);
                    }
                    for (int k = 0; k < 8; k++)
                        f.LocalGet(pw[k]).LocalGet(step).I32Add().LocalSet(pw[k]);
                    f.LocalGet(ps).I32Const(ScratchBytesPerBlock).I32Add().LocalSet(ps);
                    f.LocalGet(scaleCursor).I32Const(32).I32Add().LocalSet(scaleCursor);
                }
                f.LocalGet(t).LocalGet(outStride).I32Mul().LocalGet(r).I32Add().I32Const(2).I32Shl().LocalGet(output).I32Add().LocalSet(o);
                WasmEmit.StoreRowGroup(f, o, sumf[0], r, rows);
                f.LocalGet(r).I32Const(4).I32Add().LocalTee(half).LocalGet(rows).I32LtU();
                using (f.If())
                {
                    f.LocalGet(o).I32Const(16).I32Add().LocalSet(o);
                    WasmEmit.StoreRowGroup(f, o, sumf[1], half, rows);
                }
                f.LocalGet(tokenScratch).LocalGet(blocks).I32Const(ScratchBytesPerBlock).I32Mul().I32Add().LocalSet(tokenScratch);
            }
        }
        return f.Function;
    }

    /// <summary>Pushes the f32x4 of the float16 at <paramref name="offset"/> (the scale; Q4_1/Q5_1's min at 2) of rows 4g … 4g + 3 at <c>pw</c> (their current blocks).</summary>
    private static void RowScales(WasmFunctionBuilder f, WasmLocal[] pw, int g, WasmLocal scratch, WasmLocal h0, WasmLocal h1, uint offset = 0)
    {
        f.V128Const(Vector128<int>.Zero);
        for (int k = 0; k < 4; k++)
            f.LocalSet(scratch).LocalGet(pw[4 * g + k]).LocalGet(scratch).V128Load16Lane((byte)(2 * k), offset: offset, alignment: 1);
        WasmEmit.Fp16x4ToFp32x4(f, h0, h1);
    }

    /// <summary>Converts every activation block of every token row into the scratch (see <see cref="ScratchBytesPerBlock"/>).</summary>
    private static void EmitPrologue(WasmFunctionBuilder f, WasmLocal act, WasmLocal actRowBytes, WasmLocal tokens, WasmLocal blocks,
        WasmLocal scratchBase, ActivationLayout layout, bool q8_1, WasmLocal t, WasmLocal ib, WasmLocal pa, WasmLocal ps, WasmLocal[] v, WasmLocal h0, WasmLocal h1, WasmLocal tmp,
        WasmLocal negative128)
    {
        uint qs = q8_1 ? 4u : 2u;   // the quants' offset in an activation block
        f.V128Const(Vector128<int>.Zero).LocalSet(negative128);
        f.LocalGet(scratchBase).LocalSet(ps);
        f.I32Const(0).LocalSet(t);
        using (f.For(t, tokens, 1))
        {
            f.LocalGet(t).LocalGet(actRowBytes).I32Mul().LocalGet(act).I32Add().LocalSet(pa);
            f.I32Const(0).LocalSet(ib);
            using (f.For(ib, blocks, 1))
            {
                if (layout == ActivationLayout.Sequential)
                {
                    for (int k = 0; k < 4; k++)
                        f.LocalGet(ps).LocalGet(pa).V128Load8x8S(offset: qs + (uint)(8 * k), alignment: 1).V128Store(offset: (uint)(16 * k), alignment: 4);
                }
                else if (layout == ActivationLayout.SplitSigns)
                {
                    for (int k = 0; k < 2; k++)
                    {
                        f.LocalGet(pa).V128Load(offset: qs + (uint)(16 * k), alignment: 1).LocalSet(v[0]);
                        f.LocalGet(ps).LocalGet(v[0]).V128Const(Vector128<sbyte>.Zero).I8x16MaxS().V128Store(offset: (uint)(16 * k), alignment: 4);
                        f.LocalGet(ps).LocalGet(v[0]).I8x16Neg().V128Const(Vector128<sbyte>.Zero).I8x16MaxS().V128Store(offset: (uint)(32 + 16 * k), alignment: 4);
                        f.LocalGet(negative128).LocalGet(v[0]).V128Const(Vector128.Create(sbyte.MinValue)).I8x16Eq().V128Or().LocalSet(negative128);
                    }
                }
                else
                {
                    // A = y[0..16), B = y[16..32) as int16 lanes: lane i holds y[2i] (low byte) and y[2i+1] (high byte)
                    f.LocalGet(pa).V128Load(offset: qs, alignment: 1).LocalSet(v[0]);
                    f.LocalGet(pa).V128Load(offset: qs + 16, alignment: 1).LocalSet(v[1]);
                    if (layout is ActivationLayout.BytesMinus8 or ActivationLayout.BytesMinus16 or ActivationLayout.Bytes)
                    {
                        f.LocalGet(ps).LocalGet(v[0]).V128Store(offset: 0, alignment: 4);
                        f.LocalGet(ps).LocalGet(v[1]).V128Store(offset: 16, alignment: 4);
                    }
                    else
                    {
                        f.LocalGet(ps).LocalGet(v[0]).I32Const(8).I16x8Shl().I32Const(8).I16x8ShrS().V128Store(offset: 0, alignment: 4);
                        f.LocalGet(ps).LocalGet(v[1]).I32Const(8).I16x8Shl().I32Const(8).I16x8ShrS().V128Store(offset: 16, alignment: 4);
                        f.LocalGet(ps).LocalGet(v[0]).I32Const(8).I16x8ShrS().V128Store(offset: 32, alignment: 4);
                        f.LocalGet(ps).LocalGet(v[1]).I32Const(8).I16x8ShrS().V128Store(offset: 48, alignment: 4);
                    }
                    if (HasCorrection(layout))
                    {
                        // 8·Σy or 16·Σy: pairwise widening sums, then the four lanes (exact)
                        f.LocalGet(v[0]).I16x8ExtaddPairwiseI8x16S().LocalGet(v[1]).I16x8ExtaddPairwiseI8x16S().I16x8Add()
                            .I32x4ExtaddPairwiseI16x8S().LocalSet(tmp);
                        f.LocalGet(ps)
                            .LocalGet(tmp).I32x4ExtractLane(0).LocalGet(tmp).I32x4ExtractLane(1).I32Add()
                            .LocalGet(tmp).I32x4ExtractLane(2).I32Add().LocalGet(tmp).I32x4ExtractLane(3).I32Add()
                            .I32Const(layout is ActivationLayout.NibbleLanesMinus16 or ActivationLayout.BytesMinus16 ? 4 : 3).I32Shl().I32Store(offset: CorrectionOffset, alignment: 4);
                    }
                }
                if (q8_1)
                {
                    // s as f32
                    f.LocalGet(ps).LocalGet(pa).I32Load16U(offset: 2, alignment: 1).I32x4Splat();
                    WasmEmit.Fp16x4ToFp32x4(f, h0, h1);
                    f.V128Store32Lane(0, offset: SumOffset, alignment: 4);
                }
                f.LocalGet(ps).LocalGet(pa).I32Load16U(alignment: 1).I32x4Splat();
                WasmEmit.Fp16x4ToFp32x4(f, h0, h1);
                f.V128Store32Lane(0, offset: ScaleOffset, alignment: 4);
                f.LocalGet(pa).I32Const(q8_1 ? Q8_1Bytes : Q8Bytes).I32Add().LocalSet(pa);
                f.LocalGet(ps).I32Const(ScratchBytesPerBlock).I32Add().LocalSet(ps);
            }
        }
    }
}
