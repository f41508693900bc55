using System.Runtime.InteropServices;
using TinyLM.Kernels;
using TinyLM.Kernels.Wasm;
using TinyLM.Kernels.Wasm.Emitters;
using TinyLM.Quantization;
using static TinyLM.Kernels.Wasm.WasmValueType;


namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>
/// The emitted kernels of <see cref="WasmKernelModule"/> run in V8 (Node) over a memory image and
/// are compared with the C# reference bit for bit: odd row counts, several block counts, batches of
/// tokens, edge values (zero blocks, subnormal scales, ties, NaN and infinity in the quantizer).
/// </summary>
public class WasmKernelTests
{
    private static readonly WasmMemoryType Memory = new(64, null, false);
    private static readonly GgmlType[] EmittedTypes = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q4_1, GgmlType.Q5_1, GgmlType.IQ4_NL, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
        GgmlType.TQ1_0, GgmlType.TQ2_0, GgmlType.F32, GgmlType.F16, GgmlType.BF16];
    private static readonly WasmKernelModule Module = WasmKernelModule.Build(EmittedTypes.Select(TensorTypes.Get));

    /// <summary>A bump allocator over the memory image (16-byte aligned, plus an optional misalignment).</summary>
    private sealed class Heap
    {
        private int _next = 1024;

        public int Alloc(int bytes, int misalign = 0)
        {
            int at = (_next + 15) / 16 * 16 + misalign;
            _next = at + bytes;
            if (_next > Memory.MinimumPages * WasmMemoryType.PageSize)
                throw new InvalidOperationException("test memory image too small");
            return at;
        }
    }

    private static float[] RandomFloats(Random random, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return x;
    }

    private static byte[] Quantize(TensorType type, float[] x)
    {
        var bytes = new byte[type.RowBytes(x.Length)];
        type.QuantizeReference(x, bytes);
        return bytes;
    }

    /// <summary>A random positive float16 with an exponent in 2⁻¹⁰..2⁴ (random mantissa).</summary>
    private static ushort RandomHalf(Random random) => (ushort)(((random.Next(5, 20) << 10) | random.Next(0, 1024)) & 0x7FFF);

    /// <summary>
    /// Blocks written directly. Q8_0/Q4_0/Q5_0: float16 scales with random mantissas over a wide
    /// exponent range, quants near the extremes of one sign (Q4_0 nibbles 0–2, Q5_0 −16…−14 or 13…15,
    /// Q8_0 values 100–127), so integer block sums reach 15–19 bits and <c>sumi·dx·dy</c> differs from
    /// <c>sumi·(dx·dy)</c> in the last bit. K-quants: random quants, scales and mins over their whole
    /// range (Q6_K scales include −128) and wide float16 <c>d</c>/<c>dmin</c>; Q8_K: quants of one sign
    /// near ±128 in some blocks, random elsewhere, random <c>bsums</c> (the min term uses them as given)
    /// and <c>d</c> over 2⁻²⁰..2¹⁰. F32 rows get random floats.
    /// </summary>
    private static byte[] ExtremeBlocks(Random random, TensorType type, int blocks)
    {
        if (type.Type == GgmlType.F32)
            return MemoryMarshal.AsBytes(RandomFloats(random, blocks * 32, 100f).AsSpan()).ToArray();
        if (type.BlockSize == 1)   // F16, BF16: random values over a wide range
            return Quantize(type, RandomFloats(random, blocks * 32, 1000f).Select((v, i) => v * MathF.Pow(10, i % 7 - 4)).ToArray());
        var bytes = new byte[blocks * type.BlockBytes];
        random.NextBytes(bytes);
        for (int b = 0; b < blocks; b++)
        {
            Span<byte> block = bytes.AsSpan(b * type.BlockBytes, type.BlockBytes);
            switch (type.Type)
            {
                case GgmlType.Q8_0:
                case GgmlType.Q4_0:
                    BitConverter.TryWriteBytes(block, RandomHalf(random));
                    for (int j = 2; j < block.Length; j++)
                        block[j] = type.Type == GgmlType.Q4_0 ? (byte)(random.Next(0, 3) | (random.Next(0, 3) << 4)) : (byte)random.Next(100, 128);
                    break;
                case GgmlType.Q4_1:
                case GgmlType.Q5_1:
                case GgmlType.Q8_1:
                    // d and m (Q8_1: s) both random; quants near the top (Q8_1: 100–127, Q5_1: every fifth bit set)
                    BitConverter.TryWriteBytes(block, RandomHalf(random));
                    BitConverter.TryWriteBytes(block[2..], (ushort)(RandomHalf(random) | (random.Next(2) << 15)));
                    for (int j = 4; j < block.Length; j++)
                        block[j] = type.Type == GgmlType.Q8_1 ? (byte)random.Next(100, 128) : (byte)(random.Next(13, 16) | (random.Next(13, 16) << 4));
                    if (type.Type == GgmlType.Q5_1)
                        BitConverter.TryWriteBytes(block[4..], uint.MaxValue);
                    break;
                case GgmlType.Q5_0:
                    BitConverter.TryWriteBytes(block, RandomHalf(random));
                    bool high = random.Next(2) == 0;
                    BitConverter.TryWriteBytes(block[2..], high ? uint.MaxValue : 0u);
                    for (int j = 6; j < block.Length; j++)
                        block[j] = high ? (byte)(random.Next(13, 16) | (random.Next(13, 16) << 4)) : (byte)(random.Next(0, 3) | (random.Next(0, 3) << 4));
                    break;
                case GgmlType.IQ4_NL:
                    BitConverter.TryWriteBytes(block, RandomHalf(random));
                    for (int j = 2; j < block.Length; j++)           // nibbles 0 or 15: table values −127 and 113
                        block[j] = (byte)((b % 2 == 0 ? 0x00 : 0xFF) ^ (random.Next(8) == 0 ? 0x0F : 0));
                    break;
                case GgmlType.Q4_K:
                case GgmlType.Q5_K:
                    BitConverter.TryWriteBytes(block, RandomHalf(random));
                    BitConverter.TryWriteBytes(block[2..], RandomHalf(random));
                    if (b % 2 == 1)
                        block[4..(type.Type == GgmlType.Q5_K ? 48 : 16)].Fill(0xFF);   // every scale and min 63 (Q5_K: every fifth bit set)
                    break;
                case GgmlType.Q2_K:
                    BitConverter.TryWriteBytes(block[80..], RandomHalf(random));
                    BitConverter.TryWriteBytes(block[82..], RandomHalf(random));
                    if (b % 2 == 1)
                        block[..80].Fill(0xFF);                      // every scale and min 15, every quant 3
                    break;
                case GgmlType.Q3_K:
                    BitConverter.TryWriteBytes(block[108..], RandomHalf(random));
                    if (b % 2 == 1)
                        block[..108].Clear();                        // every quant −4, every scale −32
                    break;
                case GgmlType.TQ1_0:
                case GgmlType.TQ2_0:
                    BitConverter.TryWriteBytes(block[(type.BlockBytes - 2)..], RandomHalf(random));
                    if (b % 2 == 1)
                        block[..(type.BlockBytes - 2)].Fill(type.Type == GgmlType.TQ2_0 ? (byte)0xAA : (byte)0);   // every weight +1 (TQ2_0) or −1 (TQ1_0)
                    break;
                case GgmlType.Q6_K:
                    BitConverter.TryWriteBytes(block[208..], RandomHalf(random));
                    if (b % 2 == 1)
                    {
                        block[..192].Clear();                        // every quant −32
                        block[192..208].Fill(0x80);                  // every scale −128
                    }
                    break;
                case GgmlType.Q8_K:
                    BitConverter.TryWriteBytes(block, (float)((random.NextDouble() + 0.5) * Math.Pow(2, random.Next(-20, 11))));
                    if (b % 2 == 1)
                        for (int j = 4; j < 260; j++)
                            block[j] = unchecked((byte)(sbyte)random.Next(-128, -100));
                    break;
                default:
                    throw new ArgumentException($"no extreme blocks for {type.Name}");
            }
        }
        return bytes;
    }

    private static WasmFunctionType Signature(string export) => export switch
    {
        WasmKernelModule.QuantizeQ8_0 or WasmKernelModule.QuantizeQ8_1 or WasmKernelModule.QuantizeQ8_K or WasmKernelModule.QuantizeF16 or WasmKernelModule.QuantizeBF16 or WasmKernelModule.SwiGluExport or WasmKernelModule.AddExport
            or WasmKernelModule.CopyExport or WasmKernelModule.WidenQ6_K => new([I32, I32, I32], []),
        WasmKernelModule.RmsNormExport => new([I32, I32, WasmValueType.F32, I32, I32, I32], []),
        WasmKernelModule.RopeExport => new(WasmEmitI32s(8), []),
        WasmKernelModule.AttentionExport => new([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, WasmValueType.F32, I32, I32, I32], []),
        _ when export.StartsWith("kernel_blocks_", StringComparison.Ordinal) => new([I32, I32, I32], []),
        _ => new(WasmEmitI32s(10), []),
    };

    private static WasmValueType[] WasmEmitI32s(int n) => Enumerable.Repeat(I32, n).ToArray();

    private static void AssertBitsEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), got {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8})");
    }

    /// <summary>
    /// The emitted <c>kernel_blocks_q4_K</c> and <c>kernel_blocks_q6_K</c> (the page converts a model's matrices at
    /// load with them) write the same bytes as the C# <see cref="WasmWeightPanels.ToKernelBlocks"/>, in place and
    /// into another buffer, on random blocks (every bit pattern of the quants).
    /// </summary>
    [NodeFact]
    public void KernelBlocks_Emitted_EqualCSharpLayout_InPlaceAndCopied()
    {
        var random = new Random(13);
        var job = new NodeJob();
        var checks = new List<(string What, byte[] Expected, NodeRead Read)>();
        foreach (GgmlType g in new[] { GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K })
        {
            TensorType type = TensorTypes.Get(g);
            NodeCase c = job.Add($"kernel blocks {type.Name}", Module.Bytes, Memory);
            var heap = new Heap();
            foreach (int blocks in new[] { 1, 7 })
            {
                var source = new byte[blocks * type.BlockBytes];
                random.NextBytes(source);
                byte[] expected = (byte[])source.Clone();
                WasmWeightPanels.ToKernelBlocks(type, expected);
                int inPlace = heap.Alloc(source.Length, misalign: 1), from = heap.Alloc(source.Length, misalign: 2), to = heap.Alloc(source.Length, misalign: 3);
                c.Write<byte>(inPlace, source);
                c.Write<byte>(from, source);
                c.Call(WasmKernelModule.KernelBlocksExport(type), Signature(WasmKernelModule.KernelBlocksExport(type)), inPlace, inPlace, blocks);
                c.Call(WasmKernelModule.KernelBlocksExport(type), Signature(WasmKernelModule.KernelBlocksExport(type)), from, to, blocks);
                checks.Add(($"{type.Name} × {blocks} in place", expected, c.Read(inPlace, source.Length)));
                checks.Add(($"{type.Name} × {blocks} copied", expected, c.Read(to, source.Length)));
            }
        }
        job.Run();
        foreach (var (what, expected, read) in checks)
            Assert.True(expected.AsSpan().SequenceEqual(read.As<byte>()), what);
    }

    /// <summary>
    /// The emitted <c>widen_q6_K</c> (the page widens its Q6_K product matrices at load with it) writes the same bytes as
    /// the C# <see cref="Q6_KEmitter.ToWide"/>, on random kernel-layout blocks (every bit pattern of the quants).
    /// </summary>
    [NodeRelaxedSimdFact]
    public void WidenQ6_K_Emitted_EqualsCSharpWideBlocks()
    {
        var random = new Random(17);
        TensorType type = TensorTypes.Get(GgmlType.Q6_K);
        WasmKernelModule module = WasmKernelModule.Build([type], relaxedSimd: true);
        var job = new NodeJob();
        NodeCase c = job.Add("widen q6_K", module.Bytes, Memory);
        var heap = new Heap();
        var checks = new List<(int Blocks, byte[] Expected, NodeRead Read)>();
        foreach (int blocks in new[] { 1, 5 })
        {
            var source = new byte[blocks * type.BlockBytes];
            random.NextBytes(source);
            var expected = new byte[blocks * WasmKernelModule.Q6_KWideBlockBytes];
            Q6_KEmitter.ToWide(source, expected);
            int from = heap.Alloc(source.Length, misalign: 1), to = heap.Alloc(expected.Length, misalign: 3);
            c.Write<byte>(from, source);
            c.Call(WasmKernelModule.WidenQ6_K, Signature(WasmKernelModule.WidenQ6_K), from, to, blocks);
            checks.Add((blocks, expected, c.Read(to, expected.Length)));
        }
        job.Run();
        foreach (var (blocks, expected, read) in checks)
            Assert.True(expected.AsSpan().SequenceEqual(read.As<byte>()), $"{blocks} blocks");
    }

    [NodeFact]
    public void MatMul_EqualsDotReference_ForEveryEmittedType() => MatMulEqualsDotReference(Module, relaxedSimd: false);

    /// <summary>
    /// The relaxed-SIMD build (Q8_0, Q4_0, Q5_0, Q4_K with <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c>; the Q4_K and
    /// Q6_K panel products on kernel-layout blocks with <c>i16x8.relaxed_dot_i8x16_i7x16_s</c>) gives the
    /// same bits, also on raw blocks over the whole int8 range: Q8_0 activations holding −128 take the
    /// SIMD128 fallback, the others the relaxed dot with extreme operands.
    /// </summary>
    [NodeRelaxedSimdFact]
    public void RelaxedSimdBuild_MatMul_EqualsDotReference_IncludingWholeInt8Range() =>
        MatMulEqualsDotReference(WasmKernelModule.Build(EmittedTypes.Select(TensorTypes.Get), relaxedSimd: true), relaxedSimd: true);

    /// <summary>Random bytes with finite float16 scales per 32-element block (Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, IQ4_NL, Q8_1); <paramref name="minus128"/> false maps −128 to −127.</summary>
    private static byte[] RawBlocks(Random random, TensorType type, int blocks, bool minus128)
    {
        var bytes = new byte[blocks * type.BlockBytes];
        random.NextBytes(bytes);
        for (int b = 0; b < blocks; b++)
        {
            Span<byte> block = bytes.AsSpan(b * type.BlockBytes, type.BlockBytes);
            BitConverter.TryWriteBytes(block, RandomHalf(random));
            for (int j = 2; j < block.Length && !minus128; j++)
                if (block[j] == 0x80)
                    block[j] = 0x81;
            if (type.Type is GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q8_1)   // the second float16: m, or Q8_1's s
                BitConverter.TryWriteBytes(block[2..], RandomHalf(random));
        }
        return bytes;
    }

    private static void MatMulEqualsDotReference(WasmKernelModule module, bool relaxedSimd)
    {
        var job = new NodeJob();
        var checks = new List<(string What, float[] Expected, NodeRead Read, int Tokens, int Rows, int Stride)>();
        var calls = new List<NodeCall>();
        foreach (GgmlType g in EmittedTypes)
        {
            TensorType type = TensorTypes.Get(g);
            TensorType actType = TensorTypes.Get(type.VecDotType);
            var random = new Random(5 + 100 * (int)g);   // one stream per type: adding a type leaves the others' data as it was
            NodeCase c = job.Add($"matmul {type.Name}", module.Bytes, Memory);
            var heap = new Heap();
            foreach ((int rows, int blocks, int tokens) in new[] { (1, 1, 1), (3, 1, 2), (5, 3, 1), (8, 2, 4), (13, 8, 3), (4, 5, 5), (7, 1, 1), (6, 4, 3), (17, 3, 2), (9, 2, 1), (12, 6, 2), (10, 4, 3), (11, 3, 2) })
            {
                // rows 10 and 11: raw bytes over the whole int8 range (row 10 with −128, row 11 without) for the 32-element types
                bool raw = (rows == 10 || rows == 11) && type.BlockSize == 32 && g != GgmlType.F32;
                if ((rows == 10 || rows == 11) && !raw)
                    continue;
                int cols = type.BlockSize == 1 ? blocks * 32 + blocks % 3 : blocks * type.BlockSize;   // F32, F16, BF16: also columns not a multiple of 4
                int wRowBytes = (int)type.RowBytes(cols), aRowBytes = (int)actType.RowBytes(cols);
                var w = new byte[rows * wRowBytes];
                bool extreme = rows == 6 || rows == 12;   // raw blocks with large integer sums: the float order of the scales shows
                for (int r = 0; r < rows && extreme; r++)
                    ExtremeBlocks(random, type, blocks).CopyTo(w, r * wRowBytes);
                for (int r = 0; r < rows && raw; r++)
                    RawBlocks(random, type, blocks, minus128: true).CopyTo(w, r * wRowBytes);
                for (int r = 0; r < rows && !extreme && !raw; r++)
                {
                    // magnitudes from subnormal-scale to large; row 2 all zero
                    float scale = r == 2 ? 0 : MathF.Pow(10, random.Next(type.BlockSize == 256 ? -4 : -6, 4));   // a super-block scale of 10⁻⁶/127 underflows float16
                    Quantize(type, RandomFloats(random, cols, scale)).CopyTo(w, r * wRowBytes);
                }
                var a = new byte[tokens * aRowBytes];
                for (int t = 0; t < tokens; t++)
                    (raw ? RawBlocks(random, actType, blocks, rows == 10 && t == tokens - 1)
                        : extreme ? ExtremeBlocks(random, actType, blocks)
                        : Quantize(actType, RandomFloats(random, cols, MathF.Pow(10, random.Next(-3, 3))))).CopyTo(a, t * aRowBytes);
                int stride = rows + 3;
                int pw = heap.Alloc(w.Length, misalign: 1), pa = heap.Alloc(a.Length, misalign: 2), po = heap.Alloc(tokens * stride * 4);
                int ps = heap.Alloc((int)WasmKernelModule.MatMulScratchBytes(type, cols, tokens) + 1);
                c.Write<byte>(pw, w);
                c.Write<byte>(pa, a);
                calls.Add(c.Call(WasmKernelModule.MatMulExport(type), Signature(""), pw, wRowBytes, rows, pa, aRowBytes, tokens, po, stride, type.BlockSize == 1 ? cols : blocks, ps));
                var expected = new float[tokens * rows];
                for (int t = 0; t < tokens; t++)
                    for (int r = 0; r < rows; r++)
                        expected[t * rows + r] = type.DotReference(w.AsSpan(r * wRowBytes, wRowBytes), a.AsSpan(t * aRowBytes, aRowBytes), cols);
                checks.Add(($"{type.Name} rows {rows} cols {cols} tokens {tokens}", expected, c.Read(po, tokens * stride * 4), tokens, rows, stride));
                if (WasmKernelModule.SupportsPanels(type))
                {
                    // the same product over the matrix interleaved into row panels (whole panels and a row-major tail)
                    byte[] panels = (byte[])w.Clone();
                    WasmWeightPanels.Interleave(panels, rows, wRowBytes, type.BlockBytes, WasmKernelModule.PanelRows(type));
                    if (WasmWeightPanels.HasKernelBlocks(type, relaxedSimd))
                        WasmWeightPanels.ToKernelBlocks(type, panels);
                    int pp = heap.Alloc(panels.Length, misalign: 3), ppo = heap.Alloc(tokens * stride * 4);
                    c.Write<byte>(pp, panels);
                    calls.Add(c.Call(WasmKernelModule.MatMulPanelsExport(type), Signature(""), pp, wRowBytes, rows, pa, aRowBytes, tokens, ppo, stride, blocks, ps));
                    checks.Add(($"{type.Name} panels rows {rows} cols {cols} tokens {tokens}", expected, c.Read(ppo, tokens * stride * 4), tokens, rows, stride));
                    if (relaxedSimd && g == GgmlType.Q6_K)
                    {
                        // and over the wide blocks that the page runs its Q6_K matrices from
                        byte[] wide = new byte[rows * blocks * WasmKernelModule.Q6_KWideBlockBytes];
                        Q6_KEmitter.ToWide(panels, wide);
                        int pwide = heap.Alloc(wide.Length, misalign: 1), pwo = heap.Alloc(tokens * stride * 4);
                        int pws = heap.Alloc((int)WasmKernelModule.WideQ6_KScratchBytes(cols, tokens) + 1);
                        c.Write<byte>(pwide, wide);
                        calls.Add(c.Call(WasmKernelModule.MatMulQ6_KWidePanels, Signature(""), pwide, blocks * WasmKernelModule.Q6_KWideBlockBytes, rows, pa, aRowBytes, tokens, pwo, stride, blocks, pws));
                        checks.Add(($"{type.Name} wide panels rows {rows} cols {cols} tokens {tokens}", expected, c.Read(pwo, tokens * stride * 4), tokens, rows, stride));
                    }
                }
            }
        }
        job.Run();
        foreach (NodeCall call in calls)
            Assert.Empty(call.Results);
        foreach (var (what, expected, read, tokens, rows, stride) in checks)
        {
            Assert.True(expected.Any(v => v != 0), $"{what}: every expected output is zero");
            float[] got = read.As<float>();
            var actual = new float[tokens * rows];
            for (int t = 0; t < tokens; t++)
            {
                got.AsSpan(t * stride, rows).CopyTo(actual.AsSpan(t * rows));
                for (int k = rows; k < stride; k++)
                    Assert.True(got[t * stride + k] == 0, $"{what}: wrote past the rows");
            }
            AssertBitsEqual(expected, actual, what);
        }
    }

    /// <summary>
    /// The page's kernel threads: the shared-memory build of the module, run the way tinylm-threads.js
    /// splits a product (chunks of a multiple of 4 rows at <c>w + r0·rowBytes</c>, outputs at
    /// <c>out + r0·4</c> with the whole product's stride, one thread's scratch: <c>scratch | 1</c> after the first
    /// chunk, when the K-quant kernels reuse the activations they prepared and must not read <c>act</c>), returns the
    /// same bits as the whole product and the C# reference.
    /// </summary>
    [NodeFact]
    public void SharedMemoryBuild_ProductSplitIntoRowChunks_EqualsWholeProductAndReference() => SharedMemoryChunks(relaxedSimd: false);

    /// <summary>The same with the relaxed-SIMD build, whose Q4_K and Q6_K panel products read kernel-layout blocks (the page's kernels).</summary>
    [NodeFact]
    public void SharedMemoryRelaxedBuild_ProductSplitIntoRowChunks_EqualsWholeProductAndReference() => SharedMemoryChunks(relaxedSimd: true);

    private static void SharedMemoryChunks(bool relaxedSimd)
    {
        var shared = new WasmMemoryType(64, WasmMemoryType.MaxPages, true);
        GgmlType[] types = EmittedTypes;
        WasmKernelModule module = WasmKernelModule.Build(types.Select(TensorTypes.Get), sharedMemory: true, relaxedSimd: relaxedSimd);
        var random = new Random(31);
        var job = new NodeJob();
        var checks = new List<(string What, float[] Expected, NodeRead Whole, NodeRead Chunked)>();
        foreach (GgmlType g in types)
        {
            TensorType type = TensorTypes.Get(g), actType = TensorTypes.Get(type.VecDotType);
            NodeCase c = job.Add($"shared {type.Name}", module.Bytes, shared);
            var heap = new Heap();
            foreach ((int rows, int blocks, int tokens, int chunkRows) in new[] { (37, 3, 1, 8), (64, 6, 3, 16), (21, 2, 5, 8), (45, 2, 2, 24) })
            {
                int cols = blocks * (type.BlockSize == 1 ? 32 : type.BlockSize), wRowBytes = (int)type.RowBytes(cols), aRowBytes = (int)actType.RowBytes(cols);
                var w = new byte[rows * wRowBytes];
                for (int r = 0; r < rows; r++)
                    Quantize(type, RandomFloats(random, cols, MathF.Pow(10, random.Next(-4, 3)))).CopyTo(w, r * wRowBytes);
                var a = new byte[tokens * aRowBytes];
                for (int t = 0; t < tokens; t++)
                    Quantize(actType, RandomFloats(random, cols, 1f)).CopyTo(a, t * aRowBytes);
                int k = type.BlockSize == 1 ? cols : blocks, scratch = (int)WasmKernelModule.MatMulScratchBytes(type, cols, tokens) + 16;
                int pw = heap.Alloc(w.Length), pa = heap.Alloc(a.Length), whole = heap.Alloc(tokens * rows * 4), chunked = heap.Alloc(tokens * rows * 4);
                c.Write<byte>(pw, w);
                c.Write<byte>(pa, a);
                c.Call(WasmKernelModule.MatMulExport(type), Signature(""), pw, wRowBytes, rows, pa, aRowBytes, tokens, whole, rows, k, heap.Alloc(scratch));
                // one thread's chunks: after the first, scratch | 1 (the activations it prepared are still there). The
                // K-quant kernels then must not read act: they get activations of zeros, which would change every result.
                int oneScratch = heap.Alloc(scratch), zeros = heap.Alloc(a.Length);
                bool skipsPrologue = g is GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;
                for (int r0 = 0; r0 < rows; r0 += chunkRows)
                    c.Call(WasmKernelModule.MatMulExport(type), Signature(""), pw + r0 * wRowBytes, wRowBytes, Math.Min(chunkRows, rows - r0),
                        r0 > 0 && skipsPrologue ? zeros : pa, aRowBytes, tokens, chunked + r0 * 4, rows, k, r0 > 0 ? oneScratch | 1 : oneScratch);
                NodeRead? panelsChunked = null, wideChunked = null;
                if (WasmKernelModule.SupportsPanels(type))
                {
                    // row panels split the same way: chunks start at multiples of 8 rows of the interleaved matrix
                    byte[] panels = (byte[])w.Clone();
                    WasmWeightPanels.Interleave(panels, rows, wRowBytes, type.BlockBytes, WasmKernelModule.PanelRows(type));
                    if (WasmWeightPanels.HasKernelBlocks(type, relaxedSimd))
                        WasmWeightPanels.ToKernelBlocks(type, panels);
                    int pp = heap.Alloc(panels.Length), po = heap.Alloc(tokens * rows * 4);
                    c.Write<byte>(pp, panels);
                    for (int r0 = 0; r0 < rows; r0 += chunkRows)
                        c.Call(WasmKernelModule.MatMulPanelsExport(type), Signature(""), pp + r0 * wRowBytes, wRowBytes, Math.Min(chunkRows, rows - r0),
                            r0 > 0 && skipsPrologue ? zeros : pa, aRowBytes, tokens, po + r0 * 4, rows, k, r0 > 0 ? oneScratch | 1 : oneScratch);
                    panelsChunked = c.Read(po, tokens * rows * 4);
                    if (relaxedSimd && g == GgmlType.Q6_K)
                    {
                        // the wide blocks split the same way (their activations too reused after a thread's first chunk)
                        int wideRowBytes = blocks * WasmKernelModule.Q6_KWideBlockBytes;
                        byte[] wide = new byte[rows * wideRowBytes];
                        Q6_KEmitter.ToWide(panels, wide);
                        int pwide = heap.Alloc(wide.Length), pwo = heap.Alloc(tokens * rows * 4), wideScratch = heap.Alloc(scratch);
                        c.Write<byte>(pwide, wide);
                        for (int r0 = 0; r0 < rows; r0 += chunkRows)
                            c.Call(WasmKernelModule.MatMulQ6_KWidePanels, Signature(""), pwide + r0 * wideRowBytes, wideRowBytes, Math.Min(chunkRows, rows - r0),
                                r0 > 0 ? zeros : pa, aRowBytes, tokens, pwo + r0 * 4, rows, k, r0 > 0 ? wideScratch | 1 : wideScratch);
                        wideChunked = c.Read(pwo, tokens * rows * 4);
                    }
                }
                var expected = new float[tokens * rows];
                for (int t = 0; t < tokens; t++)
                    for (int r = 0; r < rows; r++)
                        expected[t * rows + r] = type.DotReference(w.AsSpan(r * wRowBytes, wRowBytes), a.AsSpan(t * aRowBytes, aRowBytes), cols);
                checks.Add(($"{type.Name} rows {rows} tokens {tokens} chunks of {chunkRows}", expected, c.Read(whole, tokens * rows * 4), c.Read(chunked, tokens * rows * 4)));
                if (panelsChunked is not null)
                    checks.Add(($"{type.Name} panels rows {rows} tokens {tokens} chunks of {chunkRows}", expected, c.Read(whole, tokens * rows * 4), panelsChunked));
                if (wideChunked is not null)
                    checks.Add(($"{type.Name} wide panels rows {rows} tokens {tokens} chunks of {chunkRows}", expected, c.Read(whole, tokens * rows * 4), wideChunked));
            }
        }
        job.Run();
        foreach (var (what, expected, whole, chunked) in checks)
        {
            Assert.Contains(expected, v => v != 0);
            AssertBitsEqual(expected, whole.As<float>(), what + " (whole)");
            AssertBitsEqual(expected, chunked.As<float>(), what + " (chunked)");
        }
    }

    [NodeFact]
    public void ArgMax_EqualsSequentialReference_IncludingTiesNaNAndInfinity()
    {
        var random = new Random(23);
        var cases = new List<float[]>();
        foreach (int n in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 37, 32000 })
        {
            var ties = new float[n];   // few distinct values: many ties across lanes
            for (int i = 0; i < n; i++)
                ties[i] = random.Next(0, 4);
            cases.Add(ties);
            cases.Add(RandomFloats(random, n, 10f));
        }
        float[] Set(int n, params (int Index, float Value)[] values)
        {
            var x = new float[n];
            Array.Fill(x, float.NegativeInfinity);
            foreach (var (i, v) in values)
                x[i] = v;
            return x;
        }
        cases.Add(Set(11));                                                       // all −∞: 0
        cases.Add(Set(11, (0, float.NaN), (5, 3f)));                              // NaN at 0 wins
        cases.Add(Set(11, (1, float.NaN), (6, float.NaN), (9, -2f)));             // NaN elsewhere never wins
        cases.Add(Set(12, (2, -0f), (3, 0f), (7, 0f)));                           // ±0 tie: first
        cases.Add(Set(13, (5, 1f), (9, 1f), (12, 2f)));                           // the tail wins
        cases.Add(Set(13, (5, 1f), (12, 1f)));                                    // the tail ties: earlier stays
        cases.Add(Set(9, (4, float.PositiveInfinity), (6, float.PositiveInfinity)));

        var job = new NodeJob();
        NodeCase c = job.Add("argmax", Module.Bytes, Memory);
        var heap = new Heap();
        var calls = new List<(NodeCall Call, int Expected, int N)>();
        foreach (float[] x in cases)
        {
            int p = heap.Alloc(x.Length * 4, misalign: 4);
            c.Write<float>(p, x);
            calls.Add((c.Call(WasmKernelModule.ArgMaxExport, new WasmFunctionType([I32, I32], [I32]), p, x.Length), TinyLM.Sampling.Sampler.ArgMax(x), x.Length));
        }
        job.Run();
        foreach (var (call, expected, n) in calls)
            Assert.True(int.Parse(call.Results[0], System.Globalization.CultureInfo.InvariantCulture) == expected, $"n {n}: expected {expected}, got {call.Results[0]}");
    }

    [NodeFact]
    public void QuantizeQ8_0_EqualsReference_IncludingTiesNaNAndInfinity() => QuantizeQ8EqualsReference(GgmlType.Q8_0, WasmKernelModule.QuantizeQ8_0);

    /// <summary><c>quantize_q8_1</c> (the activations of Q4_1 and Q5_1): Q8_0's cases, plus <c>s = fp16(Σq · d)</c>.</summary>
    [NodeFact]
    public void QuantizeQ8_1_EqualsReference_IncludingTiesNaNAndInfinity() => QuantizeQ8EqualsReference(GgmlType.Q8_1, WasmKernelModule.QuantizeQ8_1);

    /// <summary>
    /// <c>quantize_f16</c> and <c>quantize_bf16</c> (the activations of F16 and BF16 products) equal the C# conversions
    /// on random values over a wide range, ties, subnormals, overflow, infinities and NaNs (signalling and quiet).
    /// </summary>
    [NodeFact]
    public void QuantizeF16AndBF16_EqualReference_IncludingTiesNaNAndInfinity()
    {
        var random = new Random(17);
        var bits = new List<int>();
        for (int i = 0; i < 300; i++)
            bits.Add(BitConverter.SingleToInt32Bits((float)(random.NextDouble() * 2 - 1) * MathF.Pow(10, random.Next(-9, 7))));
        foreach (float v in new[] { 0f, -0f, 1e-40f, -3e-45f, 65504f, 65520f, 70000f, 3e38f, float.PositiveInfinity, float.NegativeInfinity,
            1f + 1f / 2048, 1f + 3f / 2048, 5.9604645e-8f, 2.9802322e-8f })
            bits.Add(BitConverter.SingleToInt32Bits(v));
        // NaNs by their bits (a float variable may quiet a signalling NaN): quiet, signalling, negative with a payload;
        // bfloat16 ties to even (0x3F808000 → 0x3F80, 0x3F818000 → 0x3F82)
        bits.AddRange([0x7FC00000, 0x7F800001, unchecked((int)0xFF800123), 0x3F808000, 0x3F818000]);
        float[] values = MemoryMarshal.Cast<int, float>(bits.ToArray().AsSpan()).ToArray();
        var job = new NodeJob();
        NodeCase c = job.Add("quantize f16/bf16", Module.Bytes, Memory);
        var heap = new Heap();
        var checks = new List<(string Export, byte[] Expected, NodeRead Read)>();
        int src = heap.Alloc(values.Length * 4);
        c.Write<float>(src, values);
        foreach ((GgmlType g, string export) in new[] { (GgmlType.F16, WasmKernelModule.QuantizeF16), (GgmlType.BF16, WasmKernelModule.QuantizeBF16) })
        {
            var expected = new byte[values.Length * 2];
            TensorTypes.Get(g).QuantizeReference(values, expected);
            int dst = heap.Alloc(expected.Length, misalign: 2);
            c.Call(export, Signature(export), src, dst, values.Length);
            checks.Add((export, expected, c.Read(dst, expected.Length)));
        }
        job.Run();
        foreach (var (export, expected, read) in checks)
            Assert.True(expected.AsSpan().SequenceEqual(read.Bytes), export);
    }

    private static void QuantizeQ8EqualsReference(GgmlType g, string export)
    {
        var random = new Random(11);
        const int Blocks = 12;
        var x = new float[Blocks * 32];
        for (int b = 0; b < Blocks; b++)
            RandomFloats(random, 32, MathF.Pow(10, b - 6)).CopyTo(x, b * 32);
        Array.Clear(x, 32, 32);                                        // an all-zero block
        for (int j = 0; j < 32; j++)                                   // ties: amax 127 → d = 1
            x[64 + j] = j == 0 ? 127f : (j - 16) + 0.5f;
        x[96 + 5] = float.NaN;                                         // NaNs before the end: the fold forgets them
        x[96 + 20] = float.NaN;
        x[256 + 31] = float.NaN;                                       // a NaN last: amax is NaN
        x[128 + 7] = float.PositiveInfinity;
        x[160 + 1] = float.NegativeInfinity;
        x[192 + 3] = 1e-40f;                                           // subnormal input
        x[224] = 3e38f;
        var expected = new byte[Blocks * TensorTypes.Get(g).BlockBytes];
        TensorTypes.Get(g).QuantizeReference(x, expected);

        var job = new NodeJob();
        NodeCase c = job.Add(export, Module.Bytes, Memory);
        var heap = new Heap();
        int src = heap.Alloc(x.Length * 4), dst = heap.Alloc(expected.Length, misalign: 3);
        c.Write<float>(src, x);
        c.Call(export, Signature(export), src, dst, Blocks);
        NodeRead read = c.Read(dst, expected.Length);
        job.Run();
        Assert.Equal(expected, read.Bytes);
    }

    [NodeFact]
    public void QuantizeQ8_K_EqualsReference_IncludingTiesNaNInfinityAndOverflow()
    {
        var random = new Random(13);
        const int Blocks = 14, QK = 256;
        var x = new float[Blocks * QK];
        for (int b = 0; b < Blocks; b++)
            RandomFloats(random, QK, MathF.Pow(10, b - 7)).CopyTo(x, b * QK);
        Array.Clear(x, QK, QK);                                        // block 1: all zero
        for (int j = 0; j < QK; j++)                                   // block 2: max −127 → iscale 1, ties at .5 (nearest_int: to even)
            x[2 * QK + j] = j == 3 ? -127f : (j % 64 - 32) + 0.5f;
        x[3 * QK + 5] = float.NaN;                                     // block 3: NaN skipped by the max, quantized to 0
        x[3 * QK + 200] = float.NaN;
        x[4 * QK + 7] = float.PositiveInfinity;                        // block 4: max +∞ → iscale −0
        x[5 * QK + 1] = float.NegativeInfinity;                        // block 5: max −∞
        for (int j = 0; j < QK; j++)                                   // block 6: max subnormal → iscale −∞ (quants wrap to 0)
            x[6 * QK + j] = j % 3 == 0 ? 0f : (j % 2 == 0 ? 1e-40f : -2e-40f);
        x[7 * QK] = 3e38f;                                             // block 7: a huge first element
        Array.Fill(x, float.NaN, 8 * QK, QK);                          // block 8: all NaN → zero block
        for (int j = 0; j < QK; j++)                                   // block 9: ±5 tie for the max: the first one (−5) wins
            x[9 * QK + j] = j == 40 ? -5f : j == 41 || j == 200 ? 5f : (j % 9) - 4f;
        x[10 * QK + 255] = -1000f;                                     // block 10: the max in the last element
        var expected = new byte[Blocks * 292];
        TensorTypes.Get(GgmlType.Q8_K).QuantizeReference(x, expected);
        Assert.Contains(expected, v => v != 0);

        var job = new NodeJob();
        NodeCase c = job.Add("quantize q8_K", Module.Bytes, Memory);
        var heap = new Heap();
        int src = heap.Alloc(x.Length * 4), dst = heap.Alloc(expected.Length, misalign: 3);
        c.Write<byte>(dst, Enumerable.Repeat((byte)0xAB, expected.Length).ToArray());   // the zero blocks must write their bytes
        c.Write<float>(src, x);
        c.Call(WasmKernelModule.QuantizeQ8_K, Signature(WasmKernelModule.QuantizeQ8_K), src, dst, Blocks);
        NodeRead read = c.Read(dst, expected.Length);
        job.Run();
        for (int b = 0; b < Blocks; b++)
            Assert.True(expected.AsSpan(b * 292, 292).SequenceEqual(read.Bytes.AsSpan(b * 292, 292)), $"block {b} differs");
    }

    [NodeFact]
    public void FloatOps_EqualManagedKernels()
    {
        var random = new Random(17);
        ComputeKernels managed = ComputeKernels.Managed;
        var job = new NodeJob();
        NodeCase c = job.Add("float ops", Module.Bytes, Memory);
        var heap = new Heap();

        // RMSNorm: 7 rows of 38 (not a multiple of 4): four rows at once, then three one by one
        const int N = 38, Rows = 7;
        float[] x = RandomFloats(random, N * Rows, 3f), weight = RandomFloats(random, N, 1.5f);
        var yExpected = new float[N * Rows];
        managed.RmsNorm(x, weight, 1e-5f, yExpected, Rows);
        int px = heap.Alloc(x.Length * 4), pw = heap.Alloc(N * 4), py = heap.Alloc(x.Length * 4);
        c.Write<float>(px, x);
        c.Write<float>(pw, weight);
        c.Call(WasmKernelModule.RmsNormExport, Signature(WasmKernelModule.RmsNormExport), px, pw, 1e-5f, py, N, Rows);
        NodeRead yRead = c.Read(py, x.Length * 4);

        // SwiGLU over 64 values, including large magnitudes (the exp special paths)
        float[] gate = RandomFloats(random, 64, 20f), up = RandomFloats(random, 64, 2f);
        gate[0] = 100f; gate[1] = -100f; gate[2] = 0f; gate[3] = -0f; gate[4] = 88.5f; gate[5] = -150f; gate[6] = 200f;
        float[] gateExpected = (float[])gate.Clone();
        managed.SwiGlu(gateExpected, up);
        int pg = heap.Alloc(64 * 4), pu = heap.Alloc(64 * 4);
        c.Write<float>(pg, gate);
        c.Write<float>(pu, up);
        c.Call(WasmKernelModule.SwiGluExport, Signature(WasmKernelModule.SwiGluExport), pg, pu, 64);
        NodeRead gateRead = c.Read(pg, 64 * 4);

        // Add over 37 values
        float[] a = RandomFloats(random, 37, 5f), b = RandomFloats(random, 37, 5f);
        float[] aExpected = (float[])a.Clone();
        managed.Add(aExpected, b);
        int pa = heap.Alloc(37 * 4), pb = heap.Alloc(37 * 4);
        c.Write<float>(pa, a);
        c.Write<float>(pb, b);
        c.Call(WasmKernelModule.AddExport, Signature(WasmKernelModule.AddExport), pa, pb, 37);
        NodeRead addRead = c.Read(pa, 37 * 4);

        // Copy 37 floats (a KV-cache row) to a buffer that holds other values
        float[] row = RandomFloats(random, 37, 5f), cache = RandomFloats(random, 45, 5f);
        float[] cacheExpected = (float[])cache.Clone();
        managed.Copy(row, cacheExpected.AsSpan(3));
        int prow = heap.Alloc(37 * 4), pcache = heap.Alloc(45 * 4);
        c.Write<float>(prow, row);
        c.Write<float>(pcache, cache);
        c.Call(WasmKernelModule.CopyExport, Signature(WasmKernelModule.CopyExport), pcache + 12, prow, 37);
        NodeRead copyRead = c.Read(pcache, 45 * 4);

        // RoPE: normal and NeoX pairs, full and partial rotation (12 of 16 channels), 3 rows from position 5 of 9
        var ropeChecks = new List<(string What, float[] Expected, NodeRead Read)>();
        foreach ((bool neox, int rot) in new[] { (false, 16), (true, 16), (false, 12), (true, 12) })
        {
            var rope = new Rope(rot, 9, 10000f, 0.5f, neox: neox);
            const int RopeRows = 3, Heads = 2, HeadDim = 16;
            float[] v = RandomFloats(random, RopeRows * Heads * HeadDim, 3f);
            float[] vExpected = (float[])v.Clone();
            managed.Rope(rope, vExpected, RopeRows, Heads, HeadDim, 5);
            int pv = heap.Alloc(v.Length * 4), pt = heap.Alloc(rope.Table.Length * 4);
            c.Write<float>(pv, v);
            c.Write<float>(pt, rope.Table);
            c.Call(WasmKernelModule.RopeExport, Signature(WasmKernelModule.RopeExport), pv, pt, RopeRows, Heads, HeadDim, 5, rot, neox ? 1 : 0);
            ropeChecks.Add(($"rope neox={neox} rot={rot}", vExpected, c.Read(pv, v.Length * 4)));
        }

        // Attention: 3 tokens at positions 5..7 (scores rows of 6, 7, 8: partial softmax groups), GQA 4/2, headDim 8
        // and wider heads: 16 value channels per pass plus a remainder of 4 (headDim 20), one 64-channel pass over 31 keys (groups of 8 and a
        // tail of 7), 64 + 16 + 4 channels (headDim 84), two 64-channel passes (headDim 128). Decode steps without GQA take the
        // forward-reading path (key blocks of 8, value rows eight per pass and then one by one): one key (position 0, headDim
        // 12 = 4 + 4 + 4), 31 keys (three whole blocks and a tail of 7, headDim 64), 17 keys with headDim 84 (16-channel passes and
        // a remainder of 4), 16 keys (whole blocks only, headDim 20); a GQA decode step (4 query heads on 1 KV head, 7 keys) keeps
        // the head-by-head path
        var shapes = new[] { new AttentionShape(3, 5, 4, 2, 8, 1f / MathF.Sqrt(8), 16), new AttentionShape(1, 0, 2, 2, 12, 0.3f, 4), new AttentionShape(2, 9, 6, 1, 4, 0.5f, 12),
            new AttentionShape(2, 17, 4, 2, 20, 0.2f, 24), new AttentionShape(1, 30, 3, 3, 64, 0.125f, 32), new AttentionShape(1, 12, 2, 1, 84, 0.1f, 16),
            new AttentionShape(2, 3, 2, 2, 128, 0.09f, 8), new AttentionShape(1, 16, 5, 5, 84, 0.1f, 20), new AttentionShape(1, 6, 4, 1, 64, 0.125f, 8),
            new AttentionShape(1, 15, 3, 3, 20, 0.2f, 16) };
        var attentionChecks = new List<(float[] Expected, NodeRead Read)>();
        foreach (AttentionShape s in shapes)
        {
            int qDim = s.Heads * s.HeadDim, kvDim = s.KVHeads * s.HeadDim;
            float[] q = RandomFloats(random, s.Tokens * qDim, 4f), keys = RandomFloats(random, s.ContextLength * kvDim, 4f), values = RandomFloats(random, s.ContextLength * kvDim, 2f);
            if (s.Tokens == 1)
            {
                // KV head 0: every key the same (equal scores, so equal weights p) and value channel 0 at rows 8b, 8b + 1, 8b + 2
                // of 1, 2⁶⁰, −2⁶⁰: p·2⁶⁰ swallows the sum so far and p·(−2⁶⁰) cancels it, so the channel's double sum depends on
                // the order of the rows, and only the reference's (j ascending) gives the reference's bits
                for (int j = 1; j < s.ContextLength; j++)
                    keys.AsSpan(0, s.HeadDim).CopyTo(keys.AsSpan(j * kvDim));
                for (int j = 0; j < s.ContextLength; j++)
                    if (j % 8 < 3)
                        values[j * kvDim] = (j % 8) switch { 0 => 1f, 1 => MathF.ScaleB(1f, 60), _ => -MathF.ScaleB(1f, 60) };
            }
            var outExpected = new float[s.Tokens * qDim];
            managed.Attention(q, keys, values, outExpected, new float[s.Heads * s.ContextLength], new double[qDim], s, 0, s.Heads);
            int pq = heap.Alloc(q.Length * 4), pk = heap.Alloc(keys.Length * 4), pv = heap.Alloc(values.Length * 4), po = heap.Alloc(outExpected.Length * 4), ps = heap.Alloc(s.Heads * s.ContextLength * 4);
            int pacc = heap.Alloc(qDim * 8);
            c.Write<float>(pq, q);
            c.Write<float>(pk, keys);
            c.Write<float>(pv, values);
            // two calls over disjoint head ranges, as the engine's thread split does
            int split = s.Heads / 2;
            c.Call(WasmKernelModule.AttentionExport, Signature(WasmKernelModule.AttentionExport), pq, pk, pv, po, ps, pacc, s.Tokens, s.Start, s.Heads, s.KVHeads, s.HeadDim, s.Scale, s.ContextLength, 0, split);
            c.Call(WasmKernelModule.AttentionExport, Signature(WasmKernelModule.AttentionExport), pq, pk, pv, po, ps, pacc, s.Tokens, s.Start, s.Heads, s.KVHeads, s.HeadDim, s.Scale, s.ContextLength, split, s.Heads);
            attentionChecks.Add((outExpected, c.Read(po, outExpected.Length * 4)));
        }
        job.Run();

        AssertBitsEqual(yExpected, yRead.As<float>(), "rms_norm");
        AssertBitsEqual(gateExpected, gateRead.As<float>(), "swiglu");
        AssertBitsEqual(aExpected, addRead.As<float>(), "add");
        AssertBitsEqual(cacheExpected, copyRead.As<float>(), "copy");
        foreach (var (what, expected, read) in ropeChecks)
        {
            Assert.Contains(expected, e => e != 0);
            AssertBitsEqual(expected, read.As<float>(), what);
        }
        for (int i = 0; i < attentionChecks.Count; i++)
            AssertBitsEqual(attentionChecks[i].Expected, attentionChecks[i].Read.As<float>(), $"attention {shapes[i]}");
    }

    [NodeFact]
    public void Module_ExportsOnlyTheTypesAsked()
    {
        WasmKernelModule m = WasmKernelModule.Build([TensorTypes.Get(GgmlType.Q4_0), TensorTypes.Get(GgmlType.Q4_0)]);
        Assert.True(m.IndexOf("matmul_q4_0") >= 0);
        Assert.Equal(-1, m.IndexOf("matmul_q8_0"));
        Assert.Equal(-1, m.IndexOf("matmul_q6_K"));
        Assert.Equal(-1, m.IndexOf("matmul_bf16"));
        Assert.True(m.IndexOf(WasmKernelModule.AttentionExport) >= 0);
        Assert.True(m.IndexOf(WasmKernelModule.QuantizeQ8_K) >= 0);
        Assert.False(WasmKernelModule.SupportsMatMul(TensorTypes.Get(GgmlType.Q8_K)));   // an activation type
        Assert.True(WasmKernelModule.SupportsMatMul(TensorTypes.Get(GgmlType.Q6_K)));
        var job = new NodeJob();
        job.Add("q4_0 only", m.Bytes, Memory);
        job.Run();
    }
}
