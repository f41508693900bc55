using System.Runtime.InteropServices.JavaScript;
using System.Text.Json;
using TinyLM.Formats;
using TinyLM.Generation;
using TinyLM.Kernels;
using TinyLM.Models;

namespace TinyLM.Browser;

/// <summary>
/// The browser boundary, as narrow as candle's wasm example: load model bytes, start a generation,
/// step one token, cancel, plus tokenizer and chat helpers. Called only by tinylm-worker.js, one
/// call at a time (a worker is single-threaded). Errors reach JavaScript as exceptions whose
/// message is "Kind|message", Kind being the .NET exception type name.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("browser")]
public static partial class Interop
{
    private static Model? s_model;
    private static InferenceSession? s_session;
    private static TextGeneration? s_generation;
    private static int s_contextLength;

    /// <summary>
    /// Parses and admits a model (GGUF, or .slm with its checksums verified) held in
    /// <paramref name="data"/>, refusing it when it is larger than <paramref name="budgetBytes"/>
    /// (0: no budget); returns its description as JSON.
    /// </summary>
    /// <remarks><paramref name="kernels"/> selects the implementation of the hot operations: "wasm"
    /// (WebAssembly emitted for the model's types, <see cref="WasmKernels"/>) or "managed" (C#).
    /// <paramref name="threads"/> &gt; 1 (wasm only) runs the matrix products on that many threads: this
    /// worker and the helper workers tinylm-worker.js has started.</remarks>
    [JSExport]
    public static string Load(byte[] data, string name, int contextLength, double budgetBytes, string kernels, int threads) => Guard(() =>
    {
        Unload();
        if (kernels is not ("wasm" or "managed"))
            throw new ArgumentException($"kernels must be 'wasm' or 'managed', found '{kernels}'.", nameof(kernels));
        if (threads < 1 || threads > 64 || (threads > 1 && kernels != "wasm"))
            throw new ArgumentException($"threads must be 1 to 64 (more than 1 only with the wasm kernels), found {threads}.", nameof(threads));
        s_model = Model.Load(data, name, budgetBytes > 0 ? (long)budgetBytes : null);
        s_contextLength = contextLength;
        ComputeKernels compute = kernels == "wasm" ? WasmKernels.Create(s_model, threads) : ComputeKernels.Managed;
        s_session = s_model.CreateSession(new SessionOptions { ContextLength = contextLength, Threads = 1, Kernels = compute });
        return JsonSerializer.Serialize(ModelInfo.From(s_model, s_session, (compute as WasmKernels)?.Threads ?? 1, (compute as WasmKernels)?.RelaxedSimd ?? false,
            (compute as WasmKernels)?.WidenedMatrices ?? 0, (compute as WasmKernels)?.WideQ6_KMatrices ?? 0), BrowserJson.Default.ModelInfo);
    });

    /// <summary>
    /// Starts a generation after <paramref name="prompt"/> (<paramref name="optionsJson"/>: GenerateOptions),
    /// from a fresh context: tokens shared with the previous prompt stay in the KV cache (prompt caching).
    /// </summary>
    [JSExport]
    public static void Start(string prompt, string optionsJson) => Guard(() =>
    {
        InferenceSession session = s_session ?? throw new InvalidOperationException("No model is loaded.");
        s_generation?.Dispose();
        s_generation = null;
        GenerationOptions options = GenerateOptions.Parse(optionsJson).ToGenerationOptions();
        int[] tokens = session.Model.Tokenizer.EncodeToIds(prompt, addSpecialTokens: true);
        int kept = tokens.Length > 0 ? session.RewindToCommonPrefix(tokens) : 0;
        if (tokens.Length == 0)
            session.Reset();
        s_generation = session.StartGeneration(tokens[kept..], options);
        return 0;
    });

    /// <summary>Generates one token: the completed text (maybe empty), or null when the generation has ended.</summary>
    [JSExport]
    public static string? Step() => Guard(() => (s_generation ?? throw new InvalidOperationException("No generation is running.")).Step());

    /// <summary>Ends the running generation (abort).</summary>
    [JSExport]
    public static void Cancel() => Guard(() =>
    {
        s_generation?.Cancel();
        return 0;
    });

    /// <summary>The last generation's result as JSON (text, token counts, stop reason, timings).</summary>
    [JSExport]
    public static string Result() => Guard(() =>
    {
        GenerationResult r = s_generation?.Result ?? s_session?.LastResult ?? throw new InvalidOperationException("No generation has finished.");
        return JsonSerializer.Serialize(GenerationSummary.From(r), BrowserJson.Default.GenerationSummary);
    });

    /// <summary>Token ids of <paramref name="text"/>.</summary>
    [JSExport]
    public static int[] Tokenize(string text, bool addSpecial, bool parseSpecial) =>
        Guard(() => (s_model ?? throw new InvalidOperationException("No model is loaded.")).Tokenizer.EncodeToIds(text, addSpecial, parseSpecial));

    /// <summary>Text of token ids (special tokens removed).</summary>
    [JSExport]
    public static string Detokenize(int[] ids) =>
        Guard(() => (s_model ?? throw new InvalidOperationException("No model is loaded.")).Tokenizer.Decode(ids));

    /// <summary>
    /// The prompt for a chat: <paramref name="messagesJson"/> ([{role, content}]) formatted with the
    /// model's chat template (llama.cpp's built-in templates), or the plain contents when it has none.
    /// </summary>
    [JSExport]
    public static string ChatPrompt(string messagesJson) => Guard(() =>
    {
        Model model = s_model ?? throw new InvalidOperationException("No model is loaded.");
        ChatMessage[] messages;
        try
        {
            messages = JsonSerializer.Deserialize(messagesJson, BrowserJson.Default.ChatMessageArray)
                ?? throw new ArgumentException("messages must be an array.", nameof(messagesJson));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"Invalid messages: {e.Message}", nameof(messagesJson), e);
        }
        return ChatTemplate.Format(model.Vocabulary.ChatTemplate, messages);
    });

    /// <summary>
    /// Self-check of the emitted products in this browser (TinyLM.BrowserTests): a random
    /// [<paramref name="rows"/>, <paramref name="cols"/>] matrix of <paramref name="typeName"/> times
    /// <paramref name="tokens"/> activation rows, by the emitted kernel (with relaxed SIMD when the worker
    /// enabled it; over row panels when <paramref name="panels"/>), compared bit for bit with the type's
    /// <c>DotReference</c>. <paramref name="raw"/>: weights and activations are random bytes under finite
    /// float16 scales (int8 values over the whole range, −128 included) instead of quantized floats.
    /// Returns JSON: relaxedSimd, panels, mismatches (count) and the first mismatch.
    /// </summary>
    [JSExport]
    public static string CheckMatMul(string typeName, int rows, int cols, int tokens, bool raw, bool panels) => Guard(() =>
    {
        if (!Quantization.TensorTypes.TryParse(typeName, out Quantization.TensorType? type))
            throw new ArgumentException($"Unknown type '{typeName}'.", nameof(typeName));
        Quantization.TensorType actType = Quantization.TensorTypes.Get(type.VecDotType);
        int rowBytes = (int)type.RowBytes(cols), actRowBytes = (int)actType.RowBytes(cols);
        var random = new Random(rows * 31 + cols + tokens);
        byte[] RandomRows(Quantization.TensorType t, int count, int bytesPerRow)
        {
            var data = new byte[count * bytesPerRow];
            if (raw && t.BlockSize == 32 && t.IsQuantized)
            {
                random.NextBytes(data);
                for (int b = 0; b < data.Length; b += t.BlockBytes)
                    BitConverter.TryWriteBytes(data.AsSpan(b), (ushort)((random.Next(5, 20) << 10) | random.Next(0, 1024)));
                return data;
            }
            var x = new float[cols];
            for (int r = 0; r < count; r++)
            {
                for (int i = 0; i < cols; i++)
                    x[i] = (float)(random.NextDouble() * 2 - 1);
                t.QuantizeReference(x, data.AsSpan(r * bytesPerRow, bytesPerRow));
            }
            return data;
        }
        byte[] w = RandomRows(type, rows, rowBytes), act = RandomRows(actType, tokens, actRowBytes);
        panels &= Kernels.Wasm.WasmKernelModule.SupportsPanels(type);
        WasmKernels kernels = WasmKernels.Create([type]);
        byte[] wKernel = PinnedCopy(w, type, rows, panels, kernels.RelaxedSimd), actKernel = PinnedCopy(act, actType, tokens, panels: false, false);
        float[] output = GC.AllocateArray<float>(rows * tokens, pinned: true), wideOutput = GC.AllocateArray<float>(rows * tokens, pinned: true);
        bool wide = false;
        unsafe
        {
            fixed (byte* pw = wKernel)
            fixed (byte* pa = actKernel)
            fixed (float* po = output)
            fixed (float* pwo = wideOutput)
            {
                if (!kernels.TryMatMul(type, pw, cols, rows, pa, tokens, po, rows, panels))
                    throw new NotSupportedException($"No emitted kernel for {type.Name}.");
                // Q6_K in kernel-layout panels: also through the wide blocks the page runs its Q6_K matrices from
                wide = panels && type.Type == Quantization.GgmlType.Q6_K && kernels.TryMatMulQ6_KWide(pw, cols, rows, pa, tokens, pwo, rows);
            }
        }
        int mismatches = 0;
        string first = "";
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++)
            {
                float expected = type.DotReference(w.AsSpan(r * rowBytes, rowBytes), act.AsSpan(t * actRowBytes, actRowBytes), cols);
                if (BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(output[t * rows + r]) && mismatches++ == 0)
                    first = $"token {t} row {r}: expected {expected:R}, got {output[t * rows + r]:R}";
                if (wide && BitConverter.SingleToInt32Bits(expected) != BitConverter.SingleToInt32Bits(wideOutput[t * rows + r]) && mismatches++ == 0)
                    first = $"wide: token {t} row {r}: expected {expected:R}, got {wideOutput[t * rows + r]:R}";
            }
        return $"{{\"relaxedSimd\":{(kernels.RelaxedSimd ? "true" : "false")},\"panels\":{(panels ? "true" : "false")},\"wide\":{(wide ? "true" : "false")},\"mismatches\":{mismatches},\"first\":\"{first}\"}}";
    });

    /// <summary>
    /// A pinned copy of <paramref name="rows"/> rows of <paramref name="type"/>, interleaved into the emitted products' row panels
    /// when <paramref name="panels"/> (blocks in the kernel layout where that product reads one: <see cref="Kernels.Wasm.WasmWeightPanels.HasKernelBlocks"/>).
    /// </summary>
    private static byte[] PinnedCopy(byte[] source, Quantization.TensorType type, int rows, bool panels, bool relaxedSimd)
    {
        byte[] copy = GC.AllocateArray<byte>(source.Length, pinned: true);
        source.CopyTo(copy, 0);
        if (panels)
        {
            Kernels.Wasm.WasmWeightPanels.Interleave(copy, rows, source.Length / Math.Max(rows, 1), type.BlockBytes, Kernels.Wasm.WasmKernelModule.PanelRows(type));
            if (Kernels.Wasm.WasmWeightPanels.HasKernelBlocks(type, relaxedSimd))
                Kernels.Wasm.WasmWeightPanels.ToKernelBlocks(type, copy);
        }
        return copy;
    }

    /// <summary>
    /// Benchmark (bench/browser): one matrix-vector product of a random [rows, cols] matrix of
    /// <paramref name="typeName"/> with a Q8_0/F32 activation row, by the emitted kernel and by the C#
    /// fallback (<see cref="Quantization.TensorType.MatMul"/>); returns JSON with the milliseconds per product
    /// (median of <paramref name="iterations"/>), the weight bytes, and whether both outputs are equal bit for bit.
    /// </summary>
    [JSExport]
    public static string BenchMatMul(string typeName, int rows, int cols, int iterations, bool panels) => Guard(() => BenchMatMulCore(typeName, rows, cols, iterations, panels));

    private static unsafe string BenchMatMulCore(string typeName, int rows, int cols, int iterations, bool panels)
    {
        if (!Quantization.TensorTypes.TryParse(typeName, out Quantization.TensorType? type))
            throw new ArgumentException($"Unknown type '{typeName}'.", nameof(typeName));
        Quantization.TensorType actType = Quantization.TensorTypes.Get(type.VecDotType);
        int rowBytes = (int)type.RowBytes(cols);
        byte[] w = GC.AllocateArray<byte>(rowBytes * rows, pinned: true);
        var random = new Random(1);
        random.NextBytes(w);
        if (type.IsQuantized)
            for (int b = 0; b < w.Length; b += type.BlockBytes)
            {
                w[b] = (byte)random.Next(256);
                w[b + 1] = 0x1C;   // float16 scale about 2^-8
            }
        var x = new float[cols];
        for (int i = 0; i < cols; i++)
            x[i] = (float)random.NextDouble() * 2 - 1;
        byte[] act = GC.AllocateArray<byte>((int)actType.RowBytes(cols), pinned: true);
        actType.QuantizeReference(x, act);
        float[] wasmOut = GC.AllocateArray<float>(rows, pinned: true), managedOut = GC.AllocateArray<float>(rows, pinned: true);
        panels &= Kernels.Wasm.WasmKernelModule.SupportsPanels(type);
        WasmKernels kernels = WasmKernels.Create([type]);
        byte[] wKernel = panels ? PinnedCopy(w, type, rows, panels, kernels.RelaxedSimd) : w;
        double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
        var wasmMs = new List<double>();
        var managedMs = new List<double>();
        fixed (byte* pw = wKernel)
        fixed (byte* pa = act)
        fixed (float* po = wasmOut)
        {
            for (int i = 0; i < iterations; i++)
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                if (!kernels.TryMatMul(type, pw, cols, rows, pa, 1, po, rows, panels))
                    throw new NotSupportedException($"No emitted kernel for {type.Name}.");
                wasmMs.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
        }
        for (int i = 0; i < Math.Max(1, iterations / 10); i++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            type.MatMul(w, 0, rows, cols, act, 1, managedOut, rows);
            managedMs.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        bool equal = wasmOut.AsSpan().SequenceEqual(managedOut);
        return $"{{\"type\":\"{type.Name}\",\"relaxedSimd\":{(kernels.RelaxedSimd ? "true" : "false")},\"panels\":{(panels ? "true" : "false")},\"rows\":{rows},\"cols\":{cols},\"bytes\":{w.Length},\"wasmMs\":{Median(wasmMs).ToString(System.Globalization.CultureInfo.InvariantCulture)},\"managedMs\":{Median(managedMs).ToString(System.Globalization.CultureInfo.InvariantCulture)},\"equal\":{(equal ? "true" : "false")}}}";
    }

    /// <summary>
    /// Benchmark (bench/browser): milliseconds per call (median of <paramref name="iterations"/>) of the
    /// interpreted C# steps of a stories15M-shape token outside the kernels: greedy sampling over 32000
    /// logits, copying the logits, RoPE of the queries and keys of one layer, one Q8_0 embedding row, and
    /// one call of an emitted kernel that does nothing (the C#→JavaScript→WebAssembly round trip). It
    /// instantiates a kernel module of its own, which replaces the loaded model's in this worker: call it last.
    /// </summary>
    [JSExport]
    public static string BenchPhases(int iterations) => Guard(() =>
    {
        const int Vocabulary = 32000, Dim = 288, Heads = 6, HeadDim = 48;
        var random = new Random(1);
        float[] logits = new float[Vocabulary], copy = new float[Vocabulary], x = new float[Dim];
        for (int i = 0; i < Vocabulary; i++)
            logits[i] = (float)random.NextDouble();
        var sampler = new Sampling.Sampler(new Sampling.SamplingOptions { Temperature = 0 }, Vocabulary);
        var rope = new Kernels.Rope(HeadDim, 256, 10000f);
        Quantization.TensorType q8 = Quantization.TensorTypes.Get(Quantization.GgmlType.Q8_0);
        byte[] row = new byte[q8.RowBytes(Dim)];
        q8.QuantizeReference(logits.AsSpan(0, Dim), row);
        double Time(Action step)
        {
            var ms = new List<double>();
            for (int i = 0; i < iterations; i++)
            {
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                step();
                ms.Add(System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            ms.Sort();
            return ms[ms.Count / 2];
        }
        string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        double sample = Time(() => sampler.Sample(logits, []));
        double argMax = Time(() => Sampling.Sampler.ArgMax(logits));
        double copyLogits = Time(() => logits.AsSpan().CopyTo(copy));
        double ropeLayer = Time(() => { rope.Apply(x, Heads, HeadDim, 7); rope.Apply(x, Heads, HeadDim, 7); });
        double embedding = Time(() => q8.Dequantize(row, x));
        WasmKernels kernels = WasmKernels.Create([q8]);
        float[] empty = new float[4];
        double call = Time(() =>
        {
            for (int i = 0; i < 100; i++)
                kernels.Add(empty.AsSpan(0, 0), empty.AsSpan(0, 0));
        }) / 100;
        return $"{{\"sampleGreedyMs\":{F(sample)},\"argMaxMs\":{F(argMax)},\"copyLogitsMs\":{F(copyLogits)},\"ropeLayerMs\":{F(ropeLayer)},\"embeddingRowMs\":{F(embedding)},\"kernelCallMs\":{F(call)}}}";
    });

    /// <summary>Releases the model and its session.</summary>
    [JSExport]
    public static void Unload()
    {
        s_generation?.Dispose();
        s_generation = null;
        s_session?.Dispose();
        s_session = null;
        s_model?.Dispose();
        s_model = null;
    }

    private static T Guard<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"{e.GetType().Name}|{e.Message}", e);
        }
    }
}
