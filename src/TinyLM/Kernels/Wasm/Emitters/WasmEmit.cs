using System.Runtime.Intrinsics;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// Instruction sequences shared by the kernel emitters: float16 conversions (ports of ggml's
/// <c>ggml_compute_fp16_to_fp32</c> / <c>ggml_compute_fp32_to_fp16</c>, as
/// <see cref="Quantization.HalfConversions"/>), lane totals of four int32 partials, shuffle masks.
/// Every sequence uses only IEEE float operations and integer operations, so its results equal the
/// C# reference bit for bit.
/// </summary>
internal static class WasmEmit
{
    /// <summary>Byte shuffle mask selecting i32 lanes (0–3 of the first operand, 4–7 of the second).</summary>
    public static byte[] Lanes32(int l0, int l1, int l2, int l3)
    {
        var mask = new byte[16];
        int[] lanes = [l0, l1, l2, l3];
        for (int i = 0; i < 4; i++)
            for (int b = 0; b < 4; b++)
                mask[i * 4 + b] = (byte)(lanes[i] * 4 + b);
        return mask;
    }

    /// <summary>A one-source <c>i8x16.shuffle</c> mask that copies int16 lane <paramref name="lane"/> to every lane.</summary>
    public static byte[] SplatShort(int lane)
    {
        var mask = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            mask[2 * i] = (byte)(2 * lane);
            mask[2 * i + 1] = (byte)(2 * lane + 1);
        }
        return mask;
    }

    /// <summary>
    /// A one-source <c>i8x16.shuffle</c> mask that repeats int16 lanes <paramref name="lane"/> and <paramref name="lane"/> + 1 over
    /// the vector (<c>[s, s', s, s', …]</c>): two groups' scales alternating, as the lane pairs of <see cref="KQuantMatMul.GroupsE"/> alternate them.
    /// </summary>
    public static byte[] AlternatingShorts(int lane)
    {
        var mask = new byte[16];
        for (int i = 0; i < 16; i++)
            mask[i] = (byte)(2 * lane + i % 4);
        return mask;
    }

    /// <summary>Pushes <c>[Σp0, Σp1, Σp2, Σp3]</c> (i32x4): the lane totals of four i32x4 partials. Exact in any order.</summary>
    public static void Sum4(WasmFunctionBuilder f, WasmLocal p0, WasmLocal p1, WasmLocal p2, WasmLocal p3, WasmLocal u01, WasmLocal u23)
    {
        byte[] even = Lanes32(0, 4, 1, 5), odd = Lanes32(2, 6, 3, 7);
        f.LocalGet(p0).LocalGet(p1).I8x16Shuffle(even).LocalGet(p0).LocalGet(p1).I8x16Shuffle(odd).I32x4Add().LocalSet(u01);
        f.LocalGet(p2).LocalGet(p3).I8x16Shuffle(even).LocalGet(p2).LocalGet(p3).I8x16Shuffle(odd).I32x4Add().LocalSet(u23);
        // u01 = [p0a, p1a, p0b, p1b], u23 = [p2a, p3a, p2b, p3b]
        f.LocalGet(u01).LocalGet(u23).I8x16Shuffle(Lanes32(0, 1, 4, 5))
            .LocalGet(u01).LocalGet(u23).I8x16Shuffle(Lanes32(2, 3, 6, 7)).I32x4Add();
    }

    /// <summary>
    /// Pops an i32x4 of float16 bit patterns (zero-extended) and pushes the f32x4 values
    /// (<c>ggml_compute_fp16_to_fp32</c>, lane by lane). Uses two v128 temporaries.
    /// </summary>
    public static void Fp16x4ToFp32x4(WasmFunctionBuilder f, WasmLocal w, WasmLocal twoW)
    {
        f.I32Const(16).I32x4Shl().LocalTee(w).LocalGet(w).I32x4Add().LocalSet(twoW);
        // denormalized = bits((twoW >> 17) | (126 << 23)) - 0.5f
        f.LocalGet(twoW).I32Const(17).I32x4ShrU().V128Const(Vector128.Create(126 << 23)).V128Or()
            .V128Const(Vector128.Create(0.5f)).F32x4Sub();
        // normalized = bits((twoW >> 4) + (0xE0 << 23)) * 0x1.0p-112f
        f.LocalGet(twoW).I32Const(4).I32x4ShrU().V128Const(Vector128.Create(0xE0 << 23)).I32x4Add()
            .V128Const(Vector128.Create(1.925929944387236e-34f)).F32x4Mul();
        // twoW < (1 << 27) (unsigned) selects the denormalized form
        f.LocalGet(twoW).V128Const(Vector128.Create(1 << 27)).I32x4LtU().V128Bitselect();
        f.LocalGet(w).V128Const(Vector128.Create(unchecked((int)0x80000000))).V128And().V128Or();
    }

    /// <summary>
    /// Pops an f32 and pushes its float16 bit pattern as an i32 (<c>ggml_compute_fp32_to_fp16</c>:
    /// round to nearest even, NaN to <c>sign | 0x7E00</c>). Uses three i32 temporaries and one f32.
    /// </summary>
    public static void Fp32ToFp16(WasmFunctionBuilder f, WasmLocal x, WasmLocal shl1W, WasmLocal bias, WasmLocal bits)
    {
        f.LocalSet(x);
        f.LocalGet(x).I32ReinterpretF32().LocalTee(bits).LocalGet(bits).I32Add().LocalSet(shl1W);
        // bias = max(shl1W & 0xFF000000, 0x71000000) (unsigned)
        f.LocalGet(shl1W).I32Const(unchecked((int)0xFF000000)).I32And().LocalTee(bias)
            .I32Const(0x71000000).LocalGet(bias).I32Const(0x71000000).I32GeU().Select().LocalSet(bias);
        // b = bits((bias >> 1) + 0x07800000) + (|x| * 0x1.0p+112f) * 0x1.0p-110f
        f.LocalGet(bias).I32Const(1).I32ShrU().I32Const(0x07800000).I32Add().F32ReinterpretI32()
            .LocalGet(x).F32Abs().F32Const(5.192296858534828e+33f).F32Mul().F32Const(7.703719777548943e-34f).F32Mul()
            .F32Add().I32ReinterpretF32().LocalSet(bias);
        // sign >> 16 | (shl1W > 0xFF000000 ? 0x7E00 : ((bits >> 13) & 0x7C00) + (bits & 0xFFF))
        f.LocalGet(x).I32ReinterpretF32().I32Const(unchecked((int)0x80000000)).I32And().I32Const(16).I32ShrU();
        f.I32Const(0x7E00)
            .LocalGet(bias).I32Const(13).I32ShrU().I32Const(0x7C00).I32And().LocalGet(bias).I32Const(0xFFF).I32And().I32Add()
            .LocalGet(shl1W).I32Const(unchecked((int)0xFF000000)).I32GtU().Select();
        f.I32Or();
    }

    /// <summary>Pushes <c>min(a + k, limit − 1)</c> for i32 locals (the clamped index of lane k of a row group).</summary>
    public static void ClampedIndex(WasmFunctionBuilder f, WasmLocal a, int k, WasmLocal limit)
    {
        f.LocalGet(a).I32Const(k).I32Add()
            .LocalGet(limit).I32Const(1).I32Sub()
            .LocalGet(a).I32Const(k).I32Add().LocalGet(limit).I32LtU().Select();
    }

    /// <summary>
    /// Stores the f32x4 in <paramref name="value"/> at <paramref name="address"/>: all four lanes
    /// when <c>row + 4 ≤ rows</c>, else only lanes <c>k</c> with <c>row + k &lt; rows</c>.
    /// </summary>
    public static void StoreRowGroup(WasmFunctionBuilder f, WasmLocal address, WasmLocal value, WasmLocal row, WasmLocal rows)
    {
        f.LocalGet(row).I32Const(4).I32Add().LocalGet(rows).I32LeU();
        using (f.If())
        {
            f.LocalGet(address).LocalGet(value).V128Store(alignment: 4);
            f.Else();
            f.LocalGet(address).LocalGet(value).V128Store32Lane(0);
            for (byte k = 1; k < 3; k++)
            {
                f.LocalGet(row).I32Const(k).I32Add().LocalGet(rows).I32LtU();
                using (f.If())
                    f.LocalGet(address).LocalGet(value).V128Store32Lane(k, offset: 4u * k);
            }
        }
    }

    /// <summary>
    /// Sets <c>rowStart[k]</c> and <c>step</c> (bytes from one block of a row to its next) for the group of
    /// <c>P = rowStart.Length</c> rows at row <c>r</c>. Row by row: row k (clamped to the last row) at
    /// <c>w + min(r + k, rows − 1)·wRowBytes</c>, <c>step = blockBytes</c>. With <paramref name="panels"/>
    /// (<see cref="WasmWeightPanels"/>), a whole group is a panel: row k at <c>w + r·wRowBytes + k·blockBytes</c>,
    /// <c>step = P·blockBytes</c>; a last group of fewer rows is row by row.
    /// </summary>
    public static void GroupRowStarts(WasmFunctionBuilder f, WasmLocal r, WasmLocal rows, WasmLocal wRowBytes, WasmLocal w, WasmLocal[] rowStart,
        int blockBytes, WasmLocal step, bool panels)
    {
        int p = rowStart.Length;
        if (panels)
        {
            f.LocalGet(r).I32Const(p).I32Add().LocalGet(rows).I32LeU();
            using (f.If())
            {
                for (int k = 0; k < p; k++)
                    f.LocalGet(r).LocalGet(wRowBytes).I32Mul().LocalGet(w).I32Add().I32Const(k * blockBytes).I32Add().LocalSet(rowStart[k]);
                f.I32Const(p * blockBytes).LocalSet(step);
                f.Else();
                RowMajorStarts(f, r, rows, wRowBytes, w, rowStart);
                f.I32Const(blockBytes).LocalSet(step);
            }
        }
        else
        {
            RowMajorStarts(f, r, rows, wRowBytes, w, rowStart);
            f.I32Const(blockBytes).LocalSet(step);
        }
    }

    private static void RowMajorStarts(WasmFunctionBuilder f, WasmLocal r, WasmLocal rows, WasmLocal wRowBytes, WasmLocal w, WasmLocal[] rowStart)
    {
        for (int k = 0; k < rowStart.Length; k++)
        {
            ClampedIndex(f, r, k, rows);
            f.LocalGet(wRowBytes).I32Mul().LocalGet(w).I32Add().LocalSet(rowStart[k]);
        }
    }

    /// <summary>Declares <paramref name="count"/> locals of one type.</summary>
    public static WasmLocal[] Locals(WasmFunctionBuilder f, WasmValueType type, int count)
    {
        var locals = new WasmLocal[count];
        for (int i = 0; i < count; i++)
            locals[i] = f.DeclareLocal(type);
        return locals;
    }

    /// <summary>The i32 parameters of a function, in order.</summary>
    public static WasmValueType[] I32s(int count) => Enumerable.Repeat(I32, count).ToArray();
}
