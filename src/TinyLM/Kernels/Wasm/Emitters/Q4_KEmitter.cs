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
            ? KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, BlockLanesKernelLayout, panels, KQuantMatMul.ActivationLayout.PairedGroupsI8, KQuantMatMul.KernelLayoutTokensPerPass,
                UnpackKernelLayout, BlockLanesUnpacked)
            : KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, KQuantMatMul.OneToken(BlockLanesRelaxed), panels, KQuantMatMul.ActivationLayout.GroupsI8)
        : KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 0, dminOffset: 2, KQuantMatMul.OneToken(BlockLanes), panels);

    /// <summary>
    /// Rearranges one <c>block_q4_K</c> in place into the kernel layout that the relaxed-SIMD panel product
    /// reads: <c>d</c>, <c>dmin</c> and the packed scales stay; the 32 bytes of <c>qs</c> for sub-blocks a = 2j (low
    /// nibbles) and b = 2j + 1 (high nibbles) become two 16-byte vectors E (h = 0) and O (h = 1) whose byte 4m + i
    /// (class c = 2m + h of <c>aux32</c>) holds in its low nibble element <c>c + 8(i mod 2)</c> of a (i &lt; 2) or of b
    /// (i ≥ 2), and in its high nibble the element 16 further of the same sub-block
    /// (<see cref="KQuantMatMul.ActivationLayout.PairedGroupsI8"/>). A nibble order, not a byte order:
    /// <see cref="BlockLanesKernelLayout"/> then adds the two sub-blocks' int16 pair sums before it scales them, one
    /// <c>i32x4.dot_i16x8_s</c> per class set and two sub-blocks. <see cref="FromKernelLayout"/> undoes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void ToKernelLayout(Span<byte> block) => PermuteNibbles(block, toKernel: true);

    /// <summary>Undoes <see cref="ToKernelLayout"/>: one block back to ggml's <c>block_q4_K</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void FromKernelLayout(Span<byte> block) => PermuteNibbles(block, toKernel: false);

    /// <summary>
    /// The nibble of a 32-byte <c>qs</c> run (n &lt; 32: low nibble of byte n, element n of sub-block a; n ≥ 32: high
    /// nibble of byte n − 32, element n − 32 of b) that kernel byte <paramref name="k"/> (0–31) of the run holds in its
    /// low nibble; its high nibble holds n + 16 (see <see cref="ToKernelLayout"/>).
    /// </summary>
    internal static int KernelLowNibble(int k)
    {
        int h = k / 16, m = k % 16 / 4, i = k % 4;
        return (i >= 2 ? 32 : 0) + 2 * m + h + 8 * (i % 2);
    }

    private static void PermuteNibbles(Span<byte> block, bool toKernel)
    {
        if (block.Length != BlockBytes)
            throw new ArgumentException($"A Q4_K block is {BlockBytes} bytes, not {block.Length}.", nameof(block));
        Span<byte> run = stackalloc byte[32];
        for (int j = 0; j < 4; j++)
        {
            Span<byte> qs = block.Slice(16 + 32 * j, 32);
            qs.CopyTo(run);
            if (!toKernel)
                qs.Clear();
            for (int k = 0; k < 32; k++)
            {
                int lo = KernelLowNibble(k), hi = lo + 16;
                if (toKernel)
                    qs[k] = (byte)(Nibble(run, lo) | Nibble(run, hi) << 4);
                else
                {
                    qs[lo % 32] |= (byte)((run[k] & 0xF) << (lo / 32 * 4));
                    qs[hi % 32] |= (byte)((run[k] >> 4) << (hi / 32 * 4));
                }
            }
        }

        static int Nibble(ReadOnlySpan<byte> run, int n) => (run[n % 32] >> (n / 32 * 4)) & 0xF;
    }

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <see cref="ToKernelLayout"/> of <c>blocks</c> blocks from <c>src</c> to
    /// <c>dst</c> (the same address: in place) — the page converts a model's matrices at load with it (the C# loop runs
    /// interpreted there). Per 32 bytes of <c>qs</c>: the four nibble planes (a and b, elements 0–15 and 16–31), then
    /// per vector one two-source byte shuffle of the low planes and one of the high planes, shifted into place.
    /// </summary>
    public static WasmFunction EmitToKernelLayout(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal src = f.Param(0), dst = f.Param(1), blocks = f.Param(2);
        WasmLocal i = f.DeclareLocal(WasmValueType.I32);
        WasmLocal a0 = f.DeclareLocal(WasmValueType.V128), a1 = f.DeclareLocal(WasmValueType.V128),
            b0 = f.DeclareLocal(WasmValueType.V128), b1 = f.DeclareLocal(WasmValueType.V128);
        using (f.For(i, blocks, 1))
        {
            f.LocalGet(dst).LocalGet(src).V128Load(offset: 0, alignment: 1).V128Store(offset: 0, alignment: 1);
            for (int j = 0; j < 4; j++)
            {
                uint at = (uint)(16 + 32 * j);
                // a: elements 0–15, 16–31 (low nibbles); b: the same from the high nibbles
                SplitNibbles(f, src, at, a0, b0);
                SplitNibbles(f, src, at + 16, a1, b1);
                for (int h = 0; h < 2; h++)
                {
                    // low nibbles from the planes of elements 0–15, high nibbles (values ≤ 15: no carry between bytes) from 16–31
                    f.LocalGet(dst).LocalGet(a0).LocalGet(b0).I8x16Shuffle(PairGroups[h])
                        .LocalGet(a1).LocalGet(b1).I8x16Shuffle(PairGroups[h]).I32Const(4).I16x8Shl().V128Or()
                        .V128Store(offset: at + 16u * (uint)h, alignment: 1);
                }
            }
            f.LocalGet(src).I32Const(BlockBytes).I32Add().LocalSet(src);
            f.LocalGet(dst).I32Const(BlockBytes).I32Add().LocalSet(dst);
        }
        return f.Function;
    }

    /// <summary>
    /// Two-source byte shuffles (first operand: 16 elements of sub-block a, second: the same 16 of b) into the four-byte
    /// groups of <see cref="ToKernelLayout"/>: index h = 0 gives E (group m: a[2m], a[2m+8], b[2m], b[2m+8]), h = 1 gives O
    /// (2m + 1, 2m + 9). The prologue orders the activations with the same shuffles
    /// (<see cref="KQuantMatMul.ActivationLayout.PairedGroupsI8"/>).
    /// </summary>
    internal static readonly byte[][] PairGroups = [PairGroup(0), PairGroup(1)];

    private static byte[] PairGroup(int h)
    {
        var mask = new byte[16];
        for (int k = 0; k < 16; k++)
        {
            int n = KernelLowNibble(16 * h + k);   // a's element n (first operand), or b's element n − 32 (second)
            mask[k] = (byte)(n < 32 ? n : n - 16);
        }
        return mask;
    }

    /// <summary>
    /// One super-block in the kernel layout (<see cref="ToKernelLayout"/>) with relaxed SIMD, for one or more token
    /// rows: per two sub-blocks (a = 2j, b = 2j + 1) two 16-byte loads, E (classes 0, 2, 4, 6) and O (1, 3, 5, 7); each
    /// gives its low nibbles L and high nibbles H as bytes (int16 lane 2m of a relaxed dot sums a's elements of class
    /// c, lane 2m + 1 b's). Per class set and token: <c>i16x8.relaxed_dot_i8x16_i7x16_s</c> of L and of H with the
    /// activations prepared in the same order (exact: nibbles in [0, 15], |pair sum| ≤ 3840), one <c>i16x8.add</c>
    /// (≤ 7680), then one <c>i32x4.dot_i16x8_s</c> with the scale pair <c>[s_a, s_b]</c> splat over the i32 lanes:
    /// lane m gets <c>s_a·Σa + s_b·Σb</c> of class c — the reference's <c>aux32</c> terms, summed exactly in another
    /// order. The nibbles, scales and mins are unpacked once for all the tokens.
    /// </summary>
    private static void BlockLanesKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], vE = tmp[2], vO = tmp[3], s = tmp[4], v = tmp[5], nL = tmp[6], nH = tmp[7];
        ScalesAndMins(f, pw, sc, v);
        f.LocalGet(sc).I16x8ExtendLowI8x16U().LocalSet(v);   // the eight scales as int16
        for (int j = 0; j < 4; j++)
        {
            f.LocalGet(v).LocalGet(v).I8x16Shuffle(WasmEmit.Lanes32(j, j, j, j)).LocalSet(s);
            for (int h = 0; h < 2; h++)
            {
                SplitNibbles(f, pw, (uint)(16 + 32 * j + 16 * h), nL, nH);
                PairDots(f, ps, (uint)(64 * j + 32 * h), nL, nH, s, h == 0 ? auxE : auxO, j == 0);
            }
        }
        PairedMins(f, sc, vE, vO);
        for (int t = 0; t < ps.Length; t++)
            MinsTerm(f, ps[t], vE, vO, sumi![t]);
    }

    /// <summary>
    /// <see cref="BlockLanesKernelLayout"/>'s unpacking of one block, stored at <c>dst + offset</c> for a prompt's later
    /// passes (<see cref="KQuantMatMul.UnpackedBlockBytes"/> bytes): per two sub-blocks j the L and H bytes of E and of O
    /// at 64j (L, H of E, then of O), the scale pair splat at 256 + 16j, the paired mins at 384 and 400.
    /// </summary>
    private static void UnpackKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal dst, uint offset, WasmLocal[] tmp)
    {
        WasmLocal sc = tmp[1], vE = tmp[2], vO = tmp[3], v = tmp[5], nL = tmp[6], nH = tmp[7];
        ScalesAndMins(f, pw, sc, v);
        f.LocalGet(sc).I16x8ExtendLowI8x16U().LocalSet(v);
        for (int j = 0; j < 4; j++)
        {
            for (int h = 0; h < 2; h++)
            {
                uint at = offset + (uint)(64 * j + 32 * h);
                SplitNibbles(f, pw, (uint)(16 + 32 * j + 16 * h), nL, nH);
                f.LocalGet(dst).LocalGet(nL).V128Store(offset: at, alignment: 16);
                f.LocalGet(dst).LocalGet(nH).V128Store(offset: at + 16, alignment: 16);
            }
            f.LocalGet(dst).LocalGet(v).LocalGet(v).I8x16Shuffle(WasmEmit.Lanes32(j, j, j, j)).V128Store(offset: offset + 256 + (uint)(16 * j), alignment: 16);
        }
        PairedMins(f, sc, vE, vO);
        f.LocalGet(dst).LocalGet(vE).V128Store(offset: offset + 384, alignment: 16);
        f.LocalGet(dst).LocalGet(vO).V128Store(offset: offset + 400, alignment: 16);
    }

    /// <summary><see cref="BlockLanesKernelLayout"/> from a block that <see cref="UnpackKernelLayout"/> stored at <c>src + offset</c>.</summary>
    private static void BlockLanesUnpacked(WasmFunctionBuilder f, WasmLocal src, uint offset, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal s = tmp[4], nL = tmp[6], nH = tmp[7], minsLo = tmp[2], minsHi = tmp[3];
        for (int j = 0; j < 4; j++)
        {
            f.LocalGet(src).V128Load(offset: offset + 256 + (uint)(16 * j), alignment: 16).LocalSet(s);
            for (int h = 0; h < 2; h++)
            {
                uint at = offset + (uint)(64 * j + 32 * h);
                f.LocalGet(src).V128Load(offset: at, alignment: 16).LocalSet(nL);
                f.LocalGet(src).V128Load(offset: at + 16, alignment: 16).LocalSet(nH);
                PairDots(f, ps, (uint)(64 * j + 32 * h), nL, nH, s, h == 0 ? auxE : auxO, j == 0);
            }
        }
        f.LocalGet(src).V128Load(offset: offset + 384, alignment: 16).LocalSet(minsLo);
        f.LocalGet(src).V128Load(offset: offset + 400, alignment: 16).LocalSet(minsHi);
        for (int t = 0; t < ps.Length; t++)
            MinsTerm(f, ps[t], minsLo, minsHi, sumi![t]);
    }

    /// <summary>Loads 16 bytes at <c>p + offset</c> and sets <paramref name="low"/> to their low nibbles and <paramref name="high"/> to their high ones, as bytes.</summary>
    private static void SplitNibbles(WasmFunctionBuilder f, WasmLocal p, uint offset, WasmLocal low, WasmLocal high)
    {
        Vector128<byte> low4 = Vector128.Create((byte)0x0F);
        f.LocalGet(p).V128Load(offset: offset, alignment: 1).LocalTee(high).V128Const(low4).V128And().LocalSet(low);
        f.LocalGet(high).I32Const(4).I16x8ShrU().V128Const(low4).V128And().LocalSet(high);
    }

    /// <summary>
    /// One class set (E or O) of two sub-blocks for every token row: the prepared activations at <c>ps[t] + y</c> (L) and
    /// <c>+ y + 16</c> (H) against the nibbles <paramref name="nL"/>, <paramref name="nH"/>
    /// (<c>i16x8.relaxed_dot_i8x16_i7x16_s</c> each, then <c>i16x8.add</c>), times the scale pair splat <paramref name="s"/>
    /// (<c>i32x4.dot_i16x8_s</c>), into <c>aux[t]</c>.
    /// </summary>
    private static void PairDots(WasmFunctionBuilder f, WasmLocal[] ps, uint y, WasmLocal nL, WasmLocal nH, WasmLocal s, WasmLocal[] aux, bool first)
    {
        for (int t = 0; t < ps.Length; t++)
        {
            f.LocalGet(ps[t]).V128Load(offset: y, alignment: 16).LocalGet(nL).I16x8RelaxedDotI8x16I7x16S()
                .LocalGet(ps[t]).V128Load(offset: y + 16, alignment: 16).LocalGet(nH).I16x8RelaxedDotI8x16I7x16S()
                .I16x8Add().LocalGet(s).I32x4DotI16x8S();
            Accumulate(f, aux[t], first);
        }
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
