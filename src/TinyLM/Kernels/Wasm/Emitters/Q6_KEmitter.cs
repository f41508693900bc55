using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q6_K"/> weights with Q8_K activations, bit-exact with the
/// C# reference (<c>ggml_vec_dot_q6_K_q8_K_generic</c>; the shared part is <see cref="KQuantMatMul"/>).
/// </summary>
internal static class Q6_KEmitter
{
    /// <summary>Block size in bytes (<c>block_q6_K</c>: 128 bytes of low nibbles, 64 of high bit pairs, 16 int8 scales, f16 d).</summary>
    public const int BlockBytes = 210;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="KQuantMatMul"/>).</summary>
    /// <param name="module">The module.</param>
    /// <param name="name">Export name.</param>
    /// <param name="panels">The weights are in four-row panels.</param>
    /// <param name="relaxed">With <paramref name="panels"/>: blocks in the kernel layout (<see cref="ToKernelLayout"/>) and
    /// integer sums with relaxed SIMD (<see cref="BlockLanesKernelLayout"/>). Row by row the SIMD128 kernel runs either way.</param>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false, bool relaxed = false) => relaxed && panels
        ? KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 208, dminOffset: null, BlockLanesKernelLayout, panels, KQuantMatMul.ActivationLayout.GroupsI8PairSums,
            KQuantMatMul.KernelLayoutTokensPerPass, UnpackKernelLayout, BlockLanesUnpacked)
        : KQuantMatMul.Emit(module, name, BlockBytes, dOffset: 208, dminOffset: null, KQuantMatMul.OneToken(BlockLanes), panels);

    /// <summary>
    /// Rearranges one <c>block_q6_K</c> in place into the kernel layout that the relaxed-SIMD panel product
    /// reads. Per 32 elements (chunk c: the groups 2c and 2c + 1 of 16) the kernel wants the unsigned 6-bit
    /// quants in <see cref="KQuantMatMul.GroupsE"/> order (E) and in <see cref="KQuantMatMul.GroupsO"/>
    /// order (O): bytes 16c to 16c + 15 hold E's low four bits in their low nibbles and O's in their high
    /// nibbles; byte 128 + 16(c/2) + i holds the two high bits of E<sub>c</sub>[i], O<sub>c</sub>[i],
    /// E<sub>c+1</sub>[i], O<sub>c+1</sub>[i] (c even) in bits 0–1, 2–3, 4–5, 6–7. The scales and <c>d</c>
    /// stay where they are. Same 210 bytes; <see cref="FromKernelLayout"/> undoes it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void ToKernelLayout(Span<byte> block)
    {
        Span<byte> u = stackalloc byte[256];
        UnpackFile(block, u);
        block[..192].Clear();
        for (int c = 0; c < 8; c++)
            for (int i = 0; i < 16; i++)
            {
                byte e = u[32 * c + KQuantMatMul.GroupsE[i]], o = u[32 * c + KQuantMatMul.GroupsO[i]];
                block[16 * c + i] = (byte)((e & 0xF) | (o & 0xF) << 4);
                int shift = 4 * (c % 2);
                block[128 + 16 * (c / 2) + i] |= (byte)((e >> 4) << shift | (o >> 4) << (shift + 2));
            }
    }

    /// <summary>
    /// Bytes of a wide block (<see cref="ToWide"/>): the 256 unsigned quants u = q + 32 as bytes, in the kernel layout's
    /// order (chunk c, class E then O: bytes 32c to 32c + 31), the 16 int8 scales (from 256) and <c>d</c> (float16, at 272).
    /// </summary>
    public const int WideBlockBytes = 274;

    /// <summary>
    /// Writes the wide form of kernel-layout blocks (<see cref="ToKernelLayout"/>) into <paramref name="wide"/>
    /// (<see cref="WideBlockBytes"/> per block): the same numbers with every quant in its own byte, so that the wide product
    /// (<see cref="EmitMatMulWide"/>) loads them instead of assembling them from a nibble and a bit pair — the page's decode
    /// steps spend about half of a Q6_K product's instructions on that (Node 26, 32000 × 768, one token: 1.52 → 1.16 ms), at
    /// 274/210 of the matrix's bytes.
    /// </summary>
    /// <exception cref="ArgumentException">The spans are not whole blocks of the same count.</exception>
    public static void ToWide(ReadOnlySpan<byte> kernelBlocks, Span<byte> wide)
    {
        if (kernelBlocks.Length % BlockBytes != 0 || wide.Length != kernelBlocks.Length / BlockBytes * WideBlockBytes)
            throw new ArgumentException($"{kernelBlocks.Length} bytes of Q6_K blocks do not widen into {wide.Length} bytes.", nameof(wide));
        for (int b = 0; b < kernelBlocks.Length / BlockBytes; b++)
        {
            ReadOnlySpan<byte> block = kernelBlocks.Slice(b * BlockBytes, BlockBytes);
            Span<byte> w = wide.Slice(b * WideBlockBytes, WideBlockBytes);
            for (int c = 0; c < 8; c++)
                for (int i = 0; i < 16; i++)
                    (w[32 * c + i], w[32 * c + 16 + i]) = KernelQuants(block, c, i);
            block.Slice(192, 18).CopyTo(w[256..]);
        }
    }

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <see cref="ToWide"/> of <c>blocks</c> kernel-layout blocks at <c>src</c> into
    /// <c>dst</c> (the page widens a model's Q6_K matrices at load with it; the C# loop runs interpreted there).
    /// </summary>
    public static WasmFunction EmitToWide(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal src = f.Param(0), dst = f.Param(1), blocks = f.Param(2);
        WasmLocal i = f.DeclareLocal(WasmValueType.I32), l = f.DeclareLocal(WasmValueType.V128), h = f.DeclareLocal(WasmValueType.V128);
        Vector128<byte> low4 = Vector128.Create((byte)0x0F), bits45 = Vector128.Create((byte)0x30);
        using (f.For(i, blocks, 1))
        {
            for (int c = 0; c < 8; c++)
            {
                ChunkBytes(f, src, c, l, h);
                for (int k = 0; k < 2; k++)
                {
                    f.LocalGet(dst);
                    Quants(f, l, h, c, k, low4, bits45);
                    f.V128Store(offset: (uint)(32 * c + 16 * k), alignment: 1);
                }
            }
            f.LocalGet(dst).LocalGet(src).V128Load(offset: 192, alignment: 1).V128Store(offset: 256, alignment: 1);
            f.LocalGet(dst).LocalGet(src).I32Load16U(offset: 208, alignment: 1).I32Store16(offset: 272, alignment: 1);
            f.LocalGet(src).I32Const(BlockBytes).I32Add().LocalSet(src);
            f.LocalGet(dst).I32Const(WideBlockBytes).I32Add().LocalSet(dst);
        }
        return f.Function;
    }

    /// <summary>
    /// Emits the product over a matrix of wide blocks (<see cref="ToWide"/>) in four-row panels, with the signature of
    /// <see cref="KQuantMatMul"/> (<c>wRowBytes</c> = <see cref="WideBlockBytes"/> per super-block): <see cref="BlockLanesKernelLayout"/>'s
    /// integer steps on quants loaded whole, four prompt tokens per pass (no unpack step: the blocks are already unpacked).
    /// </summary>
    public static WasmFunction EmitMatMulWide(WasmModuleBuilder module, string name) =>
        KQuantMatMul.Emit(module, name, WideBlockBytes, dOffset: 272, dminOffset: null, BlockLanesWide, panels: true, KQuantMatMul.ActivationLayout.GroupsI8PairSums,
            KQuantMatMul.KernelLayoutTokensPerPass);

    /// <summary><see cref="BlockLanesKernelLayout"/> over a wide block: per chunk and class one 16-byte load of the quants.</summary>
    private static void BlockLanesWide(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal scLo = tmp[1], scHi = tmp[2], s = tmp[5], u = tmp[6];
        Scales(f, pw, scLo, scHi, offset: 256);
        for (int c = 0; c < 8; c++)
        {
            ChunkScales(f, scLo, scHi, c);
            f.LocalSet(s);
            for (int k = 0; k < 2; k++)
            {
                uint y = (uint)(32 * c + 16 * k);
                f.LocalGet(pw).V128Load(offset: y, alignment: 1).LocalSet(u);
                ClassDots(f, ps, y, u, s, k == 0 ? auxE : auxO, c == 0);
            }
        }
    }

    /// <summary>
    /// Emits <c>name(src, dst, blocks)</c>: <see cref="ToKernelLayout"/> of <c>blocks</c> blocks from <c>src</c> to
    /// <c>dst</c> (the same address: in place; each block is read whole before it is written) — the page converts a
    /// model's matrices at load with it (the C# loop runs interpreted there). Chunk c (elements 32c … 32c + 31)
    /// is, in ggml's layout, the nibble 4·(c mod 4 ≥ 2) of <c>ql</c> bytes 64(c/4) + 32(c mod 2) + l and the bit
    /// pair 2(c mod 4) of <c>qh</c> bytes 32(c/4) + l, l = 0 … 31; two-source byte shuffles put each field in
    /// E and O order.
    /// </summary>
    public static WasmFunction EmitToKernelLayout(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal src = f.Param(0), dst = f.Param(1), blocks = f.Param(2);
        WasmLocal i = f.DeclareLocal(WasmValueType.I32);
        WasmLocal[] ql = WasmEmit.Locals(f, WasmValueType.V128, 8), qh = WasmEmit.Locals(f, WasmValueType.V128, 4);
        WasmLocal[] low = WasmEmit.Locals(f, WasmValueType.V128, 8), high = WasmEmit.Locals(f, WasmValueType.V128, 8);
        WasmLocal a = f.DeclareLocal(WasmValueType.V128), b = f.DeclareLocal(WasmValueType.V128), ha = f.DeclareLocal(WasmValueType.V128), hb = f.DeclareLocal(WasmValueType.V128);
        Vector128<byte> low4 = Vector128.Create((byte)0x0F), low2 = Vector128.Create((byte)0x03);
        using (f.For(i, blocks, 1))
        {
            for (int k = 0; k < 8; k++)
                f.LocalGet(src).V128Load(offset: (uint)(16 * k), alignment: 1).LocalSet(ql[k]);
            for (int k = 0; k < 4; k++)
                f.LocalGet(src).V128Load(offset: (uint)(128 + 16 * k), alignment: 1).LocalSet(qh[k]);
            for (int c = 0; c < 8; c++)
            {
                int n = c / 4, q = c % 4, l0 = 4 * n + 2 * (q & 1);
                for (int h = 0; h < 2; h++)
                {
                    f.LocalGet(ql[l0 + h]);
                    if (q >= 2)
                        f.I32Const(4).I8x16ShrU();
                    f.V128Const(low4).V128And().LocalSet(h == 0 ? a : b);
                    f.LocalGet(qh[2 * n + h]);
                    if (q > 0)
                        f.I32Const(2 * q).I8x16ShrU();
                    f.V128Const(low2).V128And().LocalSet(h == 0 ? ha : hb);
                }
                // kernel ql: E's low four bits | O's << 4; kernel qh pair: (E's high bits | O's << 2) << 4(c mod 2)
                f.LocalGet(a).LocalGet(b).I8x16Shuffle(KQuantMatMul.GroupsE)
                    .LocalGet(a).LocalGet(b).I8x16Shuffle(KQuantMatMul.GroupsO).I32Const(4).I8x16Shl().V128Or().LocalSet(low[c]);
                f.LocalGet(ha).LocalGet(hb).I8x16Shuffle(KQuantMatMul.GroupsE)
                    .LocalGet(ha).LocalGet(hb).I8x16Shuffle(KQuantMatMul.GroupsO).I32Const(2).I8x16Shl().V128Or();
                if (c % 2 == 1)
                    f.I32Const(4).I8x16Shl();
                f.LocalSet(high[c]);
            }
            for (int c = 0; c < 8; c++)
                f.LocalGet(dst).LocalGet(low[c]).V128Store(offset: (uint)(16 * c), alignment: 1);
            for (int k = 0; k < 4; k++)
                f.LocalGet(dst).LocalGet(high[2 * k]).LocalGet(high[2 * k + 1]).V128Or().V128Store(offset: (uint)(128 + 16 * k), alignment: 1);
            // the scales and d
            f.LocalGet(dst).LocalGet(src).V128Load(offset: 192, alignment: 1).V128Store(offset: 192, alignment: 1);
            f.LocalGet(dst).LocalGet(src).I32Load16U(offset: 208, alignment: 1).I32Store16(offset: 208, alignment: 1);
            f.LocalGet(src).I32Const(BlockBytes).I32Add().LocalSet(src);
            f.LocalGet(dst).I32Const(BlockBytes).I32Add().LocalSet(dst);
        }
        return f.Function;
    }

    /// <summary>Undoes <see cref="ToKernelLayout"/>: one block back to ggml's <c>block_q6_K</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="block"/> is not <see cref="BlockBytes"/> long.</exception>
    public static void FromKernelLayout(Span<byte> block)
    {
        if (block.Length != BlockBytes)
            throw new ArgumentException($"A Q6_K block is {BlockBytes} bytes, not {block.Length}.", nameof(block));
        Span<byte> u = stackalloc byte[256];
        for (int c = 0; c < 8; c++)
            for (int i = 0; i < 16; i++)
                (u[32 * c + KQuantMatMul.GroupsE[i]], u[32 * c + KQuantMatMul.GroupsO[i]]) = KernelQuants(block, c, i);
        block[..192].Clear();
        // ggml's layout (dequantize_row_q6_K): per 128 elements n, ql[64n + l] holds elements l (low nibble)
        // and l + 64 (high), ql[64n + 32 + l] elements l + 32 and l + 96, qh[32n + l] their high bit pairs
        for (int n = 0; n < 2; n++)
            for (int l = 0; l < 32; l++)
            {
                int e = 128 * n + l;
                block[64 * n + l] = (byte)((u[e] & 0xF) | (u[e + 64] & 0xF) << 4);
                block[64 * n + 32 + l] = (byte)((u[e + 32] & 0xF) | (u[e + 96] & 0xF) << 4);
                block[128 + 32 * n + l] = (byte)(u[e] >> 4 | (u[e + 32] >> 4) << 2 | (u[e + 64] >> 4) << 4 | (u[e + 96] >> 4) << 6);
            }
    }

    /// <summary>The unsigned quants (q + 32) at position <paramref name="i"/> of chunk <paramref name="c"/>'s E and O in a kernel-layout block.</summary>
    private static (byte E, byte O) KernelQuants(ReadOnlySpan<byte> block, int c, int i)
    {
        int shift = 4 * (c % 2), h = block[128 + 16 * (c / 2) + i], l = block[16 * c + i];
        return ((byte)((l & 0xF) | ((h >> shift) & 3) << 4), (byte)((l >> 4) | ((h >> (shift + 2)) & 3) << 4));
    }

    /// <summary>The 256 unsigned 6-bit quants (q + 32) of a block in ggml's layout, in element order.</summary>
    private static void UnpackFile(ReadOnlySpan<byte> block, Span<byte> u)
    {
        if (block.Length != BlockBytes)
            throw new ArgumentException($"A Q6_K block is {BlockBytes} bytes, not {block.Length}.", nameof(block));
        for (int n = 0; n < 2; n++)
            for (int l = 0; l < 32; l++)
            {
                int e = 128 * n + l;
                byte ql0 = block[64 * n + l], ql1 = block[64 * n + 32 + l], qh = block[128 + 32 * n + l];
                u[e] = (byte)((ql0 & 0xF) | (qh & 3) << 4);
                u[e + 32] = (byte)((ql1 & 0xF) | ((qh >> 2) & 3) << 4);
                u[e + 64] = (byte)((ql0 >> 4) | ((qh >> 4) & 3) << 4);
                u[e + 96] = (byte)((ql1 >> 4) | ((qh >> 6) & 3) << 4);
            }
    }

    /// <summary>
    /// One super-block in the kernel layout (<see cref="ToKernelLayout"/>) with relaxed SIMD: per chunk of 32
    /// elements and lane class (E, O) the unsigned quants u in [0, 63] from a nibble and a high-bit pair
    /// (shifts, masks, an or); one exact <c>i16x8.relaxed_dot_i8x16_i7x16_s</c> of the prepared activations
    /// with u (|pair sum| ≤ 2·63·128 = 16128), less the prepared <c>32·(a₀ + a₁)</c> (so (u − 32)·a, the reference's
    /// <c>q·a</c>), then <c>i32x4.dot_i16x8_s</c> with the two groups' int8 scales (int16 lanes alternate
    /// groups 2c, 2c + 1, which is how <see cref="KQuantMatMul.GroupsE"/> pairs the elements). The quants are
    /// unpacked once for all the token rows (<c>ps</c>, <c>auxE</c>, <c>auxO</c>: one per token).
    /// </summary>
    private static void BlockLanesKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal scLo = tmp[1], scHi = tmp[2], l = tmp[3], h = tmp[4], s = tmp[5], u = tmp[6];
        Vector128<byte> low4 = Vector128.Create((byte)0x0F), bits45 = Vector128.Create((byte)0x30);
        Scales(f, pw, scLo, scHi);
        for (int c = 0; c < 8; c++)
        {
            ChunkBytes(f, pw, c, l, h);
            ChunkScales(f, scLo, scHi, c);
            f.LocalSet(s);
            for (int k = 0; k < 2; k++)
            {
                uint y = (uint)(32 * c + 16 * k);
                Quants(f, l, h, c, k, low4, bits45);
                f.LocalSet(u);
                ClassDots(f, ps, y, u, s, k == 0 ? auxE : auxO, c == 0);
            }
        }
    }

    /// <summary>
    /// <see cref="BlockLanesKernelLayout"/>'s unpacking of one block, stored at <c>dst + offset</c> for a prompt's later
    /// passes: per chunk c and class k the unsigned quants u at 32c + 16k, the chunk's alternating scales as int16 at 256 + 16c.
    /// </summary>
    private static void UnpackKernelLayout(WasmFunctionBuilder f, WasmLocal pw, WasmLocal dst, uint offset, WasmLocal[] tmp)
    {
        WasmLocal scLo = tmp[1], scHi = tmp[2], l = tmp[3], h = tmp[4];
        Vector128<byte> low4 = Vector128.Create((byte)0x0F), bits45 = Vector128.Create((byte)0x30);
        Scales(f, pw, scLo, scHi);
        for (int c = 0; c < 8; c++)
        {
            ChunkBytes(f, pw, c, l, h);
            f.LocalGet(dst);
            ChunkScales(f, scLo, scHi, c);
            f.V128Store(offset: offset + 256 + (uint)(16 * c), alignment: 16);
            for (int k = 0; k < 2; k++)
            {
                f.LocalGet(dst);
                Quants(f, l, h, c, k, low4, bits45);
                f.V128Store(offset: offset + (uint)(32 * c + 16 * k), alignment: 16);
            }
        }
    }

    /// <summary>
    /// One chunk's lane class for every token row: the relaxed dot of the prepared activations at <c>ps[t] + y</c> with the
    /// quants <paramref name="u"/>, less the prepared <c>32·(a₀ + a₁)</c>, times the scales <paramref name="s"/>, into <c>aux[t]</c>.
    /// </summary>
    private static void ClassDots(WasmFunctionBuilder f, WasmLocal[] ps, uint y, WasmLocal u, WasmLocal s, WasmLocal[] aux, bool first)
    {
        for (int t = 0; t < ps.Length; t++)
        {
            f.LocalGet(ps[t]).V128Load(offset: y, alignment: 16).LocalGet(u).I16x8RelaxedDotI8x16I7x16S()
                .LocalGet(ps[t]).V128Load(offset: KQuantMatMul.PairSumsOffset + y, alignment: 16).I16x8Sub()
                .LocalGet(s).I32x4DotI16x8S();
            Q4_KEmitter.Accumulate(f, aux[t], first);
        }
    }

    /// <summary>Sets <paramref name="scLo"/>, <paramref name="scHi"/> to the block's sixteen int8 scales (at <paramref name="offset"/>) as int16 (groups 0–7, 8–15).</summary>
    private static void Scales(WasmFunctionBuilder f, WasmLocal pw, WasmLocal scLo, WasmLocal scHi, uint offset = 192)
    {
        f.LocalGet(pw).V128Load(offset: offset, alignment: 1).LocalTee(scLo).I16x8ExtendHighI8x16S().LocalSet(scHi);
        f.LocalGet(scLo).I16x8ExtendLowI8x16S().LocalSet(scLo);
    }

    /// <summary>Loads chunk <paramref name="c"/>'s 16 bytes of low bits into <paramref name="l"/> and, for an even chunk, the 16 bytes of high-bit pairs it shares with the next into <paramref name="h"/>.</summary>
    private static void ChunkBytes(WasmFunctionBuilder f, WasmLocal pw, int c, WasmLocal l, WasmLocal h)
    {
        if (c % 2 == 0)
            f.LocalGet(pw).V128Load(offset: (uint)(128 + 8 * c), alignment: 1).LocalSet(h);
        f.LocalGet(pw).V128Load(offset: (uint)(16 * c), alignment: 1).LocalSet(l);
    }

    /// <summary>Pushes chunk <paramref name="c"/>'s scales: int16 lanes alternate the scales of groups 2c and 2c + 1.</summary>
    private static void ChunkScales(WasmFunctionBuilder f, WasmLocal scLo, WasmLocal scHi, int c) =>
        f.LocalGet(c < 4 ? scLo : scHi).LocalGet(c < 4 ? scLo : scHi).I8x16Shuffle(WasmEmit.AlternatingShorts(2 * c % 8));

    /// <summary>Pushes the unsigned quants u of chunk <paramref name="c"/>, class <paramref name="k"/>: the nibble of <paramref name="l"/> | the high bits of <paramref name="h"/> at 4–5.</summary>
    private static void Quants(WasmFunctionBuilder f, WasmLocal l, WasmLocal h, int c, int k, Vector128<byte> low4, Vector128<byte> bits45)
    {
        // (bit pair 2(2(c mod 2) + k) of the qh byte; 16-bit shifts, then the byte masks)
        f.LocalGet(l);
        if (k == 1)
            f.I32Const(4).I16x8ShrU();
        f.V128Const(low4).V128And();
        int pair = 2 * (c % 2) + k;
        f.LocalGet(h);
        if (pair < 2)
            f.I32Const(4 - 2 * pair).I16x8Shl();
        else if (pair == 3)
            f.I32Const(2).I16x8ShrU();
        f.V128Const(bits45).V128And().V128Or();
    }

    /// <summary><see cref="BlockLanesKernelLayout"/> from a block that <see cref="UnpackKernelLayout"/> stored at <c>src + offset</c>.</summary>
    private static void BlockLanesUnpacked(WasmFunctionBuilder f, WasmLocal src, uint offset, WasmLocal[] ps, WasmLocal[] auxE, WasmLocal[] auxO, WasmLocal[]? sumi, WasmLocal[] tmp)
    {
        WasmLocal s = tmp[5], u = tmp[6];
        for (int c = 0; c < 8; c++)
        {
            f.LocalGet(src).V128Load(offset: offset + 256 + (uint)(16 * c), alignment: 16).LocalSet(s);
            for (int k = 0; k < 2; k++)
            {
                uint y = (uint)(32 * c + 16 * k);
                f.LocalGet(src).V128Load(offset: offset + y, alignment: 16).LocalSet(u);
                ClassDots(f, ps, y, u, s, k == 0 ? auxE : auxO, c == 0);
            }
        }
    }

    /// <summary>
    /// One super-block, per 128 elements (half <c>hh</c>) and 16-element column <c>c</c>: 16 bytes of
    /// <c>ql</c> at 64hh + c (elements +0 low nibble, +64 high nibble), at 64hh + 32 + c (+32, +96) and of
    /// <c>qh</c> at 32hh + c (bit pairs 0–1, 2–3, 4–5, 6–7 for +0, +32, +64, +96), each in
    /// <see cref="KQuantMatMul.WeightPairs"/> order; per quarter the E and O fields
    /// <c>(nibble | high bits · 16) − 32</c>, multiplied in int16 by the group's int8 scale
    /// (|q·s| ≤ 32·128) and dotted with the prepared activations.
    /// </summary>
    private static void BlockLanes(WasmFunctionBuilder f, WasmLocal pw, WasmLocal ps, WasmLocal auxE, WasmLocal auxO, WasmLocal? sumi, WasmLocal[] tmp)
    {
        WasmLocal scLo = tmp[1], scHi = tmp[2], l0 = tmp[3], l1 = tmp[4], h = tmp[5], s = tmp[6];
        Vector128<short> low4 = Vector128.Create((short)0x000F), bits45 = Vector128.Create((short)0x0030), bias = Vector128.Create((short)32);
        f.LocalGet(pw).V128Load(offset: 192, alignment: 1).LocalTee(scLo).I16x8ExtendHighI8x16S().LocalSet(scHi);
        f.LocalGet(scLo).I16x8ExtendLowI8x16S().LocalSet(scLo);

        bool first = true;
        for (int hh = 0; hh < 2; hh++)
        {
            for (int c = 0; c < 32; c += 16)
            {
                LoadPairs(f, pw, (uint)(64 * hh + c), l0);
                LoadPairs(f, pw, (uint)(64 * hh + 32 + c), l1);
                LoadPairs(f, pw, (uint)(128 + 32 * hh + c), h);
                for (int q = 0; q < 4; q++)
                {
                    int g = 8 * hh + 2 * q + c / 16;
                    int lane = g % 8;
                    f.LocalGet(g < 8 ? scLo : scHi).LocalGet(g < 8 ? scLo : scHi)
                        .I8x16Shuffle(WasmEmit.SplatShort(lane)).LocalSet(s);
                    WasmLocal l = q % 2 == 0 ? l0 : l1;
                    // E: low byte. Nibble: bits 0–3 (q < 2) or 4–7; high bits 2q, 2q+1 of the qh byte to bits 4–5.
                    f.LocalGet(l);
                    if (q >= 2)
                        f.I32Const(4).I16x8ShrU();
                    f.V128Const(low4).V128And();
                    f.LocalGet(h);
                    if (q < 2)
                        f.I32Const(4 - 2 * q).I16x8Shl();
                    else if (q == 3)
                        f.I32Const(2).I16x8ShrU();
                    f.V128Const(bits45).V128And().V128Or().V128Const(bias).I16x8Sub()
                        .LocalGet(s).I16x8Mul().LocalGet(ps).V128Load(offset: (uint)(32 * g), alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxE, first);
                    // O: high byte. Nibble: bits 8–11 (q < 2) or 12–15; high bits 8 + 2q, 9 + 2q to bits 4–5.
                    f.LocalGet(l);
                    if (q < 2)
                        f.I32Const(8).I16x8ShrU().V128Const(low4).V128And();
                    else
                        f.I32Const(12).I16x8ShrU();
                    f.LocalGet(h).I32Const(4 + 2 * q).I16x8ShrU().V128Const(bits45).V128And().V128Or().V128Const(bias).I16x8Sub()
                        .LocalGet(s).I16x8Mul().LocalGet(ps).V128Load(offset: (uint)(32 * g + 16), alignment: 16).I32x4DotI16x8S();
                    Q4_KEmitter.Accumulate(f, auxO, first);
                    first = false;
                }
            }
        }
    }

    /// <summary>Loads 16 bytes at <c>pw + offset</c> in <see cref="KQuantMatMul.WeightPairs"/> order into <paramref name="target"/>.</summary>
    private static void LoadPairs(WasmFunctionBuilder f, WasmLocal pw, uint offset, WasmLocal target) =>
        f.LocalGet(pw).V128Load(offset: offset, alignment: 1).LocalTee(target).LocalGet(target).I8x16Shuffle(KQuantMatMul.WeightPairs).LocalSet(target);
}
