using TinyLM.Kernels.Wasm.Emitters;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm;

/// <summary>
/// One WebAssembly module holding the emitted kernels for a model's tensor types: matrix products
/// per weight type (every type TinyLM reads: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, Q2_K … Q6_K,
/// TQ1_0, TQ2_0), the activation conversions (Q8_0, Q8_1, Q8_K, float16, bfloat16), RMSNorm, RoPE, attention,
/// SwiGLU, the residual add and the greedy sampler's argmax.
/// Pure byte generation: the host (the browser worker, or Node in tests) compiles it and instantiates
/// it against the memory that holds the operands, imported as <c>env.memory</c> without a maximum.
/// </summary>
/// <remarks>
/// <para>Every export returns exactly the bits of the C# reference it replaces
/// (<see cref="ComputeKernels"/>, <see cref="TensorType.MatMul"/>, docs/numerics.md): the same float and
/// double operations in the same order, no fused multiply-add, SIMD only across independent sums
/// (rows, lanes, channels) and for exact integer block sums.</para>
/// <para>Exports (all pointers are i32 byte addresses into the imported memory):</para>
/// <list type="bullet">
/// <item><c>matmul_{type}(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, k, scratch)</c>:
/// <c>out[t·outStride + r] = Dot(w row r, act row t)</c>; <c>outStride</c> in floats; <c>k</c> is the
/// number of blocks per row (columns for F32, F16, BF16; super-blocks of 256 for the K-quants and ternary types); <c>scratch</c> points to
/// <see cref="MatMulScratchBytes"/> bytes the kernel may overwrite. With bit 0 of <c>scratch</c> set, the scratch already
/// holds this product's prepared activations from an earlier call over other rows on the same thread: the K-quant products
/// of <see cref="Emitters.KQuantMatMul"/> (Q3_K … Q6_K) then skip their prologue and do not read <c>act</c>; the others clear the bit and prepare them again.
/// See <see cref="MatMulExport"/>.</item>
/// <item><c>matmul_{type}_panels(...)</c> (every quantized type): the same over a matrix in the row-panel
/// layout of <see cref="WasmWeightPanels"/>; see <see cref="MatMulPanelsExport"/>.</item>
/// <item><c>matmul_q6_K_wide_panels(...)</c> and <c>widen_q6_K(src, dst, blocks)</c> (relaxed-SIMD builds with Q6_K weights): the Q6_K
/// panel product over wide blocks (every quant in a byte, <see cref="Q6_KEmitter.ToWide"/>) and the widening that writes them.</item>
/// <item><c>quantize_q8_0(src, dst, blocks)</c>: <see cref="Q8_0.QuantizeReference"/> of
/// <c>32·blocks</c> floats.</item>
/// <item><c>quantize_q8_1(src, dst, blocks)</c>: <see cref="Q8_1.QuantizeReference"/> of
/// <c>32·blocks</c> floats (the activations of the Q4_1 and Q5_1 products).</item>
/// <item><c>quantize_q8_k(src, dst, blocks)</c>: <see cref="Q8_K.QuantizeReference"/> of
/// <c>256·blocks</c> floats (the activations of the K-quant and ternary products).</item>
/// <item><c>quantize_f16(src, dst, n)</c>, <c>quantize_bf16(src, dst, n)</c>: <see cref="F16"/>'s and <see cref="BF16"/>'s
/// <c>QuantizeReference</c> of <c>n</c> floats.</item>
/// <item><c>rms_norm(x, weight, epsilon: f32, y, n, rows)</c>: <see cref="RmsNorm.Apply"/> per row.</item>
/// <item><c>attention(q, keys, values, out, scores, accumulators, tokens, start, heads, kvHeads, headDim, scale: f32, context, headStart,
/// headEnd)</c>: <see cref="ComputeKernels.Attention"/> (scratch: <c>scores</c> [heads, context] floats, <c>accumulators</c>
/// [heads, headDim] doubles); <c>headDim</c> must be a multiple of 4.</item>
/// <item><c>swiglu(gate, up, n)</c>: the grouped part of <see cref="ComputeKernels.SwiGlu"/>, <c>n</c> a multiple of 4.</item>
/// <item><c>rope(x, table, rows, heads, headDim, start, rotaryDims, neox)</c>: <see cref="Rope.Apply"/> per token row.</item>
/// <item><c>add(x, y, n)</c>: <c>x[i] += y[i]</c>.</item>
/// <item><c>copy(destination, source, n)</c>: <see cref="ComputeKernels.Copy"/> of <c>n</c> floats.</item>
/// <item><c>argmax(p, n) → i32</c>: <see cref="ComputeKernels.ArgMax"/>.</item>
/// </list>
/// </remarks>
public sealed class WasmKernelModule
{
    /// <summary>Export name of the Q8_0 activation quantizer.</summary>
    public const string QuantizeQ8_0 = "quantize_q8_0";
    /// <summary>Export name of the Q8_1 activation quantizer (Q4_1, Q5_1).</summary>
    public const string QuantizeQ8_1 = "quantize_q8_1";
    /// <summary>Export name of the float16 activation conversion (F16 products).</summary>
    public const string QuantizeF16 = "quantize_f16";
    /// <summary>Export name of the bfloat16 activation conversion (BF16 products).</summary>
    public const string QuantizeBF16 = "quantize_bf16";
    /// <summary>Export name of the Q8_K activation quantizer.</summary>
    public const string QuantizeQ8_K = "quantize_q8_k";
    /// <summary>Export name of RoPE.</summary>
    public const string RopeExport = "rope";
    /// <summary>Export name of RMSNorm.</summary>
    public const string RmsNormExport = "rms_norm";
    /// <summary>Export name of attention.</summary>
    public const string AttentionExport = "attention";
    /// <summary>Export name of SwiGLU.</summary>
    public const string SwiGluExport = "swiglu";
    /// <summary>Export name of the residual add.</summary>
    public const string AddExport = "add";
    /// <summary>Export name of the float copy (KV-cache rows).</summary>
    public const string CopyExport = "copy";
    /// <summary>Export name of the greedy sampler's argmax.</summary>
    public const string ArgMaxExport = "argmax";
    /// <summary>
    /// Export name of the Q6_K product over wide blocks in row panels (<see cref="Q6_KEmitter.ToWide"/>; relaxed-SIMD builds
    /// with Q6_K weights): the signature of <see cref="MatMulExport"/> with <c>wRowBytes</c> = 274 per super-block.
    /// </summary>
    public const string MatMulQ6_KWidePanels = "matmul_q6_K_wide_panels";
    /// <summary>Export name of <c>widen_q6_K(src, dst, blocks)</c>: kernel-layout Q6_K blocks to wide blocks (<see cref="Q6_KEmitter.ToWide"/>; with <see cref="MatMulQ6_KWidePanels"/>).</summary>
    public const string WidenQ6_K = "widen_q6_K";
    /// <summary>Bytes of a wide Q6_K block (<see cref="MatMulQ6_KWidePanels"/>): 256 quants as bytes, 16 int8 scales, float16 <c>d</c>.</summary>
    public const int Q6_KWideBlockBytes = Q6_KEmitter.WideBlockBytes;

    // One line per weight type with an emitted matrix product: (module, export name, dot_f32_rows, relaxed SIMD allowed).
    private static readonly Dictionary<GgmlType, Func<WasmModuleBuilder, string, Func<WasmFunction>, bool, bool, WasmFunction>> s_matMul = new()
    {
        [GgmlType.Q8_0] = (m, name, _, relaxed, panels) => relaxed ? Q8_0Emitter.EmitMatMulRelaxed(m, name, panels) : Q8_0Emitter.EmitMatMul(m, name, panels),
        [GgmlType.Q4_0] = (m, name, _, relaxed, panels) => relaxed ? Q4_0Emitter.EmitMatMulRelaxed(m, name, panels) : Q4_0Emitter.EmitMatMul(m, name, panels),
        [GgmlType.Q4_1] = (m, name, _, relaxed, panels) => relaxed ? Q4_1Emitter.EmitMatMulRelaxed(m, name, panels) : Q4_1Emitter.EmitMatMul(m, name, panels),
        [GgmlType.Q5_1] = (m, name, _, relaxed, panels) => relaxed ? Q5_1Emitter.EmitMatMulRelaxed(m, name, panels) : Q5_1Emitter.EmitMatMul(m, name, panels),
        [GgmlType.Q5_0] = (m, name, _, relaxed, panels) => relaxed ? Q5_0Emitter.EmitMatMulRelaxed(m, name, panels) : Q5_0Emitter.EmitMatMul(m, name, panels),
        [GgmlType.IQ4_NL] = (m, name, _, relaxed, panels) => relaxed ? IQ4_NLEmitter.EmitMatMulRelaxed(m, name, panels) : IQ4_NLEmitter.EmitMatMul(m, name, panels),
        [GgmlType.Q2_K] = (m, name, _, relaxed, panels) => Q2_KEmitter.EmitMatMul(m, name, panels, relaxed),
        [GgmlType.Q3_K] = (m, name, _, relaxed, panels) => Q3_KEmitter.EmitMatMul(m, name, panels, relaxed),
        [GgmlType.Q4_K] = (m, name, _, relaxed, panels) => Q4_KEmitter.EmitMatMul(m, name, panels, relaxed),
        [GgmlType.Q5_K] = (m, name, _, relaxed, panels) => Q5_KEmitter.EmitMatMul(m, name, panels, relaxed),
        [GgmlType.Q6_K] = (m, name, _, relaxed, panels) => Q6_KEmitter.EmitMatMul(m, name, panels, relaxed),
        [GgmlType.TQ1_0] = (m, name, _, _, panels) => TQ1_0Emitter.EmitMatMul(m, name, panels),
        [GgmlType.TQ2_0] = (m, name, _, relaxed, panels) => TQ2_0Emitter.EmitMatMul(m, name, panels, relaxed),
        [GgmlType.F32] = (m, name, dotRows, _, _) => F32Emitter.EmitMatMul(m, name, dotRows()),
        [GgmlType.F16] = (m, name, _, _, _) => F16Emitter.EmitMatMul(m, name),
        [GgmlType.BF16] = (m, name, _, _, _) => BF16Emitter.EmitMatMul(m, name),
    };

    /// <summary>
    /// A minimal module using <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c>: a host passes it to
    /// <c>WebAssembly.validate</c> to learn whether it may build with <c>relaxedSimd</c>.
    /// </summary>
    public static byte[] RelaxedSimdProbe()
    {
        var module = new WasmModuleBuilder();
        WasmFunctionBuilder f = module.AddFunction("probe", [], [WasmValueType.V128]);
        f.V128Const(System.Runtime.Intrinsics.Vector128<int>.Zero).V128Const(System.Runtime.Intrinsics.Vector128<int>.Zero)
            .V128Const(System.Runtime.Intrinsics.Vector128<int>.Zero).I32x4RelaxedDotI8x16I7x16AddS();
        return module.ToArray();
    }

    private readonly Dictionary<string, int> _exportIndex;

    private WasmKernelModule(byte[] bytes, List<string> exports)
    {
        Bytes = bytes;
        Exports = exports;
        _exportIndex = exports.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i);
    }

    /// <summary>The encoded module (WebAssembly 1.0 + SIMD128; with <c>shared</c>, the threads proposal's shared memory import).</summary>
    public byte[] Bytes { get; }

    /// <summary>The exported function names; a host may address them by index in this list.</summary>
    public IReadOnlyList<string> Exports { get; }

    /// <summary>True when a matrix product is emitted for weights of <paramref name="type"/>.</summary>
    public static bool SupportsMatMul(TensorType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return s_matMul.ContainsKey(type.Type);
    }

    /// <summary>
    /// True when the module also has a product of <paramref name="type"/> that reads its weights in the
    /// row-panel layout (<see cref="WasmWeightPanels"/>, <see cref="MatMulPanelsExport"/>): every quantized
    /// type (not F32, F16, BF16).
    /// </summary>
    public static bool SupportsPanels(TensorType type) => PanelRows(type) > 0;

    /// <summary>
    /// Rows per panel of the panel product of <paramref name="type"/> (the rows its kernel walks together):
    /// 8 for the 32-element types (<see cref="Q8ActivationMatMul"/>), 4 for Q3_K … Q6_K (<see cref="KQuantMatMul"/>) and for
    /// Q2_K, TQ1_0, TQ2_0 (<see cref="Q8KBlockMatMul"/>), 0 for the float types.
    /// </summary>
    public static int PanelRows(TensorType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return type.Type switch
        {
            GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.IQ4_NL or GgmlType.Q4_1 or GgmlType.Q5_1 => Q8ActivationMatMul.RowsPerGroup,
            GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => KQuantMatMul.RowsPerGroup,
            _ when UsesBlockSums(type.Type) => Q8KBlockMatMul.RowsPerGroup,
            _ => 0,
        };
    }

    /// <summary>The types whose emitted product is <see cref="Q8KBlockMatMul"/>'s (one integer sum per super-block).</summary>
    private static bool UsesBlockSums(GgmlType type) => type is GgmlType.Q2_K or GgmlType.TQ1_0 or GgmlType.TQ2_0;

    /// <summary>
    /// The export name of the product of <paramref name="type"/> over row panels: <c>matmul_{type}_panels</c>,
    /// with the signature of <see cref="MatMulExport"/>; a range of rows passed to it must start at a
    /// multiple of <see cref="PanelRows"/> of the interleaved matrix.
    /// </summary>
    public static string MatMulPanelsExport(TensorType type) => MatMulExport(type) + "_panels";

    /// <summary>
    /// The export name of <c>kernel_blocks_{type}(src, dst, blocks)</c> (Q3_K, Q4_K, Q5_K, Q6_K, in every build): blocks rearranged
    /// into the kernel layout of the relaxed-SIMD panel product (<see cref="WasmWeightPanels.ToKernelBlocks"/>), in
    /// place when <c>src = dst</c>.
    /// </summary>
    public static string KernelBlocksExport(TensorType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return "kernel_blocks_" + type.Name;
    }

    /// <summary>The export name of the matrix product for <paramref name="type"/>: <c>matmul_</c> + ggml's type name.</summary>
    public static string MatMulExport(TensorType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return "matmul_" + type.Name;
    }

    /// <summary>
    /// Bytes of scratch memory that <c>matmul_{type}</c> needs for <paramref name="tokens"/> activation
    /// rows of <paramref name="columns"/> (the prepared activation blocks; 0 for F32): per activation
    /// block 80 bytes for Q8_0 and Q8_1 activations (plus 32 per block of a row), 560 for Q8_K (none for Q2_K, TQ1_0,
    /// TQ2_0, which read the activation blocks as they are), and for Q4_K and Q6_K from four rows on the unpacked blocks of
    /// a group of four weight rows; F16 and BF16 take one row of floats (<c>4·columns</c>).
    /// </summary>
    public static long MatMulScratchBytes(TensorType type, int columns, int tokens)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        if (UsesBlockSums(type.Type))
            return 0;   // Q8KBlockMatMul reads the Q8_K blocks as they are
        return type.VecDotType switch
        {
            GgmlType.Q8_0 or GgmlType.Q8_1 => ((long)tokens * Q8ActivationMatMul.ScratchBytesPerBlock + Q8ActivationMatMul.ScaleBytesPerBlock) * (columns / 32),
            // Q4_K and Q6_K: then a prompt's unpacked row group (KQuantMatMul.UnpackScratchBytes)
            GgmlType.Q8_K => (long)tokens * (columns / 256) * KQuantMatMul.ScratchBytesPerBlock
                + (type.Type is GgmlType.Q4_K or GgmlType.Q6_K ? KQuantMatMul.UnpackScratchBytes(columns / 256, tokens) : 0),
            GgmlType.F16 or GgmlType.BF16 => 4L * columns,
            _ => 0,
        };
    }

    /// <summary>Bytes of scratch memory that <see cref="MatMulQ6_KWidePanels"/> needs: the prepared activations only (no unpack step).</summary>
    public static long WideQ6_KScratchBytes(int columns, int tokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        return (long)tokens * (columns / 256) * KQuantMatMul.ScratchBytesPerBlock;
    }

    /// <summary>Index of <paramref name="export"/> in <see cref="Exports"/>, or −1 when the module lacks it.</summary>
    public int IndexOf(string export) => _exportIndex.TryGetValue(export, out int i) ? i : -1;

    /// <summary>
    /// Builds the module for weights of <paramref name="weightTypes"/> (types without an emitted
    /// product are skipped: the host falls back to C# for them), plus the quantizer and float operations.
    /// </summary>
    /// <param name="weightTypes">The tensor types of the model's matrices (duplicates allowed).</param>
    /// <param name="sharedMemory">
    /// False: the module imports an unshared memory without a maximum (the .NET runtime's). True: it
    /// imports a shared memory of at most <see cref="WasmMemoryType.MaxPages"/> pages, which several
    /// Web Workers instantiate the same module against (the page's kernel threads); the code is the same.
    /// </param>
    /// <param name="relaxedSimd">
    /// Use relaxed SIMD's integer dot products (<c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c>,
    /// <c>i16x8.relaxed_dot_i8x16_i7x16_s</c>) in the Q8_0, Q4_0, Q5_0, Q4_1, Q5_1, IQ4_NL, Q2_K, Q4_K, Q5_K and TQ2_0 products and the Q3_K and Q6_K panel
    /// products, only where the result is exact (second operand in [0, 127]), so the results are the same bits;
    /// the host must support the instructions (see <see cref="RelaxedSimdProbe"/>). The Q3_K, Q4_K, Q5_K and Q6_K panel
    /// products then read their blocks in a kernel layout (<see cref="WasmWeightPanels.ToKernelBlocks"/>).
    /// </param>
    /// <param name="hoistConstants">
    /// Constants inside loops read locals set on entry (<see cref="WasmFunctionBuilder.HoistConstants"/>): the same
    /// results, faster in V8. False only to compare.
    /// </param>
    /// <returns>The module; building takes a few milliseconds.</returns>
    public static WasmKernelModule Build(IEnumerable<TensorType> weightTypes, bool sharedMemory = false, bool relaxedSimd = false, bool hoistConstants = true)
    {
        ArgumentNullException.ThrowIfNull(weightTypes);
        var module = new WasmModuleBuilder { HoistConstants = hoistConstants };
        module.ImportMemory("env", "memory", sharedMemory
            ? new WasmMemoryType(1, WasmMemoryType.MaxPages, true)
            : new WasmMemoryType(1, null, false));
        var exports = new List<string>();
        WasmFunction? dotRows = null;
        WasmFunction DotRows() => dotRows ??= F32Emitter.EmitDotRows(module, "dot_f32_rows");

        foreach (TensorType type in weightTypes.Distinct().OrderBy(t => (int)t.Type))
        {
            if (!s_matMul.TryGetValue(type.Type, out var emit))
                continue;
            string name = MatMulExport(type);
            emit(module, name, DotRows, relaxedSimd, false);
            exports.Add(name);
            if (SupportsPanels(type))
            {
                emit(module, MatMulPanelsExport(type), DotRows, relaxedSimd, true);
                exports.Add(MatMulPanelsExport(type));
            }
            if (WasmWeightPanels.HasKernelBlocks(type, relaxedSimd: true))   // the converters are SIMD128: in every build
            {
                _ = type.Type switch
                {
                    GgmlType.Q3_K => Q3_KEmitter.EmitToKernelLayout(module, KernelBlocksExport(type)),
                    GgmlType.Q4_K => Q4_KEmitter.EmitToKernelLayout(module, KernelBlocksExport(type)),
                    GgmlType.Q5_K => Q5_KEmitter.EmitToKernelLayout(module, KernelBlocksExport(type)),
                    _ => Q6_KEmitter.EmitToKernelLayout(module, KernelBlocksExport(type)),
                };
                exports.Add(KernelBlocksExport(type));
            }
            if (type.Type == GgmlType.Q6_K && relaxedSimd)
            {
                Q6_KEmitter.EmitMatMulWide(module, MatMulQ6_KWidePanels);
                exports.Add(MatMulQ6_KWidePanels);
                Q6_KEmitter.EmitToWide(module, WidenQ6_K);
                exports.Add(WidenQ6_K);
            }
        }
        Q8_0Emitter.EmitQuantize(module, QuantizeQ8_0);
        exports.Add(QuantizeQ8_0);
        Q8_0Emitter.EmitQuantize(module, QuantizeQ8_1, q8_1: true);
        exports.Add(QuantizeQ8_1);
        Q8_KEmitter.EmitQuantize(module, QuantizeQ8_K);
        exports.Add(QuantizeQ8_K);
        F16Emitter.EmitQuantize(module, QuantizeF16);
        exports.Add(QuantizeF16);
        BF16Emitter.EmitQuantize(module, QuantizeBF16);
        exports.Add(QuantizeBF16);
        FloatOpsEmitter.EmitRmsNorm(module, RmsNormExport);
        exports.Add(RmsNormExport);
        WasmFunction softmax = FloatOpsEmitter.EmitScaledSoftmax(module, "scaled_softmax");
        FloatOpsEmitter.EmitAttention(module, AttentionExport, DotRows(), softmax);
        exports.Add(AttentionExport);
        FloatOpsEmitter.EmitSwiGlu(module, SwiGluExport);
        exports.Add(SwiGluExport);
        FloatOpsEmitter.EmitRope(module, RopeExport);
        exports.Add(RopeExport);
        FloatOpsEmitter.EmitAdd(module, AddExport);
        exports.Add(AddExport);
        FloatOpsEmitter.EmitCopy(module, CopyExport);
        exports.Add(CopyExport);
        FloatOpsEmitter.EmitArgMax(module, ArgMaxExport);
        exports.Add(ArgMaxExport);
        return new WasmKernelModule(module.ToArray(), exports);
    }
}
