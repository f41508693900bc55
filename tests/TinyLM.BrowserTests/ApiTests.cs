using System.Text.Json;
using Microsoft.Playwright;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.SentencePiece;
using TinyLM.Formats.Slm;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.BrowserTests;

/// <summary>The JavaScript API (tinylm.js) in a real Chromium, against the native engine.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ApiTests(BrowserFixture fx)
{
    private async Task<IPage> OpenAsync()
    {
        IBrowserContext context = await fx.Browser.NewContextAsync();
        IPage page = await context.NewPageAsync();
        await page.GotoAsync(fx.BaseUrl + "/");
        return page;
    }

    private static string NativeGreedy(string prompt, int tokens)
    {
        using Model m = Model.Load(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf"));
        using InferenceSession s = m.CreateSession();
        using TextGeneration g = s.StartGeneration(prompt, new GenerationOptions { MaxTokens = tokens, Temperature = 0 });
        var text = new System.Text.StringBuilder();
        for (string? piece; (piece = g.Step()) is not null;)
            text.Append(piece);
        return text.ToString();
    }

    private static string NativeGreedy(byte[] model, string prompt, int tokens)
    {
        using Model m = Model.Load(model, "random");
        using InferenceSession s = m.CreateSession();
        using TextGeneration g = s.StartGeneration(prompt, new GenerationOptions { MaxTokens = tokens, Temperature = 0, IgnoreEos = true });
        var text = new System.Text.StringBuilder();
        for (string? piece; (piece = g.Step()) is not null;)
            text.Append(piece);
        return text.ToString();
    }

    /// <summary>
    /// A small random-weight Llama (dim 128, 2 layers, GQA 4/2, FFN 352; for the 256-element K-quants dim
    /// 256, FFN 512) in <paramref name="type"/>, with stories260K's vocabulary.
    /// </summary>
    private static byte[] RandomModel(string type)
    {
        bool tied = type.EndsWith("-tied", StringComparison.Ordinal);
        type = tied ? type[..^"-tied".Length] : type;
        bool headDim6 = type.EndsWith("-hd6", StringComparison.Ordinal);
        type = headDim6 ? type[..^"-hd6".Length] : type;
        Vocabulary vocabulary;
        using (GgufFile f = GgufFile.Open(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf")))
            vocabulary = Vocabulary.FromGguf(f.Metadata);
        TensorType t = TensorTypes.TryParse(type, out TensorType? parsed) ? parsed : throw new ArgumentException($"unknown type {type}");
        using var stream = new MemoryStream();
        // -hd6: 16 heads of 6 channels, which the emitted attention does not take (it runs in C#)
        RandomLlama.Shape shape = headDim6 ? new("tiny", 96, 2, 16, 8, 352, 256)
            : t.BlockSize == 256 ? new("tiny", 256, 2, 4, 2, 512, 256) : new("tiny", 128, 2, 4, 2, 352, 256);
        RandomLlama.Create(shape, vocabulary, t, 7, tiedOutput: tied).WriteTo(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// The emitted products of every quantized type that has one, in Chromium, with relaxed SIMD and without, over row-major
    /// matrices and row panels, equal the C# <c>DotReference</c> bit for bit: on quantized random floats and
    /// on raw int8 bytes over the whole range (Q8_0 activations holding −128 take the SIMD128 fallback),
    /// 45 rows (panels of 8 or 4 rows and a tail), one and six tokens (a K-quant pass of four, then two alone). Chromium must report relaxed SIMD
    /// (Node 20's V8 computes its dot product otherwise, so only this test runs the relaxed kernels).
    /// </summary>
    [BrowserTheory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("q5_0")]
    [InlineData("q4_1")]
    [InlineData("q5_1")]
    [InlineData("iq4_nl")]
    [InlineData("q2_K")]
    [InlineData("q3_K")]
    [InlineData("q4_K")]
    [InlineData("q5_K")]
    [InlineData("q6_K")]
    [InlineData("tq1_0")]
    [InlineData("tq2_0")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public async Task EmittedKernels_RelaxedSimdAndRowPanels_EqualDotReference(string type)
    {
        IPage page = await OpenAsync();
        int cols = TensorTypes.TryParse(type, out TensorType? t) && t.BlockSize == 256 ? 512 : 96;
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async ([type, cols]) => {
            // the engine's worker, addressed directly: one request at a time, replies matched by id
            const worker = new Worker('/tinylm-worker.js', { type: 'module' });
            const pending = new Map();
            worker.onmessage = e => {
                const p = pending.get(e.data.id);
                if (!p || (e.data.type !== 'done' && e.data.type !== 'error')) return;
                pending.delete(e.data.id);
                if (e.data.type === 'error') p.reject(new Error(e.data.error.message)); else p.resolve(e.data.result);
            };
            let next = 0;
            const call = (op, payload) => new Promise((resolve, reject) => {
                pending.set(++next, { resolve, reject });
                worker.postMessage({ id: next, op, ...payload });
            });
            const out = [];
            for (const relaxed of [true, false])
                for (const panels of [false, true])
                    for (const raw of [false, true])
                        for (const tokens of [1, 6]) {
                            const c = await call('checkMatMul', { type, rows: 45, cols, tokens, raw, relaxed, panels });
                            out.push({ relaxedAsked: relaxed, panelsAsked: panels, raw, tokens, ...c });
                        }
            worker.terminate();
            return out;
        }", new object[] { type, cols });
        Assert.Equal(16, r.GetArrayLength());
        foreach (JsonElement c in r.EnumerateArray())
        {
            string what = $"{type} relaxed={c.GetProperty("relaxedAsked")} panels={c.GetProperty("panelsAsked")} raw={c.GetProperty("raw")} tokens={c.GetProperty("tokens")}";
            Assert.True(c.GetProperty("mismatches").GetInt32() == 0, $"{what}: {c.GetProperty("mismatches")} mismatches, first {c.GetProperty("first")}");
            Assert.Equal(c.GetProperty("relaxedAsked").GetBoolean(), c.GetProperty("relaxedSimd").GetBoolean());   // the K-quants build the same either way
            Assert.Equal(c.GetProperty("panelsAsked").GetBoolean() && TinyLM.Kernels.Wasm.WasmKernelModule.SupportsPanels(t!), c.GetProperty("panels").GetBoolean());   // F16, BF16: no panels
            // Q6_K in kernel-layout panels also checks the wide blocks the page runs its Q6_K matrices from
            Assert.Equal(type == "q6_K" && c.GetProperty("relaxedAsked").GetBoolean() && c.GetProperty("panelsAsked").GetBoolean(), c.GetProperty("wide").GetBoolean());
        }
    }

    /// <summary>
    /// Greedy tokens of quantized models with emitted and managed kernels equal the native engine's; with the
    /// emitted kernels both with Q5_0 matrices widened to Q8_0 at load (the default) and without, with TQ1_0 matrices
    /// widened to TQ2_0 (the default) and without, and with Q6_K matrices run from their wide copies (the default) and without.
    /// </summary>
    [BrowserTheory]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    [InlineData("q5_0")]
    [InlineData("q4_k")]
    [InlineData("q6_k")]
    [InlineData("q5_k")]
    [InlineData("iq4_nl")]
    [InlineData("q3_k")]
    [InlineData("tq2_0")]
    [InlineData("tq1_0")]
    [InlineData("q4_1")]
    [InlineData("f16")]
    [InlineData("q8_0-tied")]   // the output is the token embedding: in row panels, its lookups gather the blocks
    [InlineData("q8_0-hd6")]    // attention runs in C#: no step is replayed from a kernel graph, tokens the same
    public async Task QuantizedModel_Greedy64_WasmAndManagedKernels_EqualNativeEngine(string type)
    {
        byte[] model = RandomModel(type);
        IPage page = await OpenAsync();
        var logs = new List<string>();
        page.Console += (_, m) => { lock (logs) logs.Add(m.Text); };
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async ([base64, q5_0, q6_k, tq1_0]) => {
            const { TinyLM } = await import('/tinylm.js');
            const bytes = Uint8Array.from(atob(base64), c => c.charCodeAt(0));
            const out = {};
            const runs = [['wasm', 'wasm', true, true, true], ['managed', 'managed', true, true, true]]
                .concat(q5_0 ? [['wasm-q5_0', 'wasm', false, true, true]] : []).concat(q6_k ? [['wasm-q6_k', 'wasm', true, false, true]] : [])
                .concat(tq1_0 ? [['wasm-tq1_0', 'wasm', true, true, false]] : []);
            for (const [run, kernels, widenQ5_0, widenQ6_K, widenTQ1_0] of runs) {
                const lm = await TinyLM.load(bytes, { cache: 'none', kernels, widenQ5_0, widenQ6_K, widenTQ1_0 });
                const it = lm.generate('Once upon a time', { maxTokens: 64, temperature: 0, ignoreEos: true });
                let text = '', step;
                while (!(step = await it.next()).done) text += step.value;
                out[run] = { text, kernels: lm.info.kernels, quantization: lm.info.quantization, graphSteps: step.value.graphSteps, widened: lm.info.widenedMatrices, wideQ6_K: lm.info.wideQ6_KMatrices };
                await lm.unload();
            }
            return out;
        }", new object[] { Convert.ToBase64String(model), type == "q5_0", type == "q6_k", type == "tq1_0" });
        string native = NativeGreedy(model, "Once upon a time", 64);
        Assert.NotEmpty(native);
        foreach (string run in type switch { "q5_0" => new[] { "wasm", "managed", "wasm-q5_0" }, "q6_k" => ["wasm", "managed", "wasm-q6_k"], "tq1_0" => ["wasm", "managed", "wasm-tq1_0"], _ => ["wasm", "managed"] })
        {
            JsonElement k = r.GetProperty(run);
            string kernels = run.StartsWith("wasm", StringComparison.Ordinal) ? "wasm" : "managed";
            Assert.Equal(kernels, k.GetProperty("kernels").GetString());
            Assert.Equal(type.Replace("-tied", "").Replace("-hd6", "").ToUpperInvariant(), k.GetProperty("quantization").GetString());
            Assert.True(native == k.GetProperty("text").GetString(), $"{run}: {k.GetProperty("text").GetString()} ≠ native {native}");
            // 64 tokens: the first from the prompt's step, three steps recorded, 60 replayed from the kernel graph
            // (none when a step runs C# work)
            Assert.Equal(kernels == "wasm" && type != "q8_0-hd6" ? 60 : 0, k.GetProperty("graphSteps").GetInt32());
            // the Q5_0 model's seven matrices per layer and its output run as Q8_0 unless widenQ5_0 is false, the TQ1_0
            // model's as TQ2_0 unless widenTQ1_0 is false
            Assert.Equal(run == "wasm" && type is "q5_0" or "tq1_0" ? 7 * 2 + 1 : 0, k.GetProperty("widened").GetInt32());
            // the Q6_K model's matrices run from their wide copies (relaxed SIMD, row panels)
            Assert.Equal(run == "wasm" && type == "q6_k" ? 7 * 2 + 1 : 0, k.GetProperty("wideQ6_K").GetInt32());
        }
        lock (logs)
            Assert.Equal(type == "q8_0-hd6", logs.Any(l => l.Contains(
                "decode steps are not replayed as a kernel graph: attention with a head size not a multiple of 4 runs in C#", StringComparison.Ordinal)));
    }

    /// <summary>
    /// The issue's end-to-end check: greedy tokens with the emitted kernels on 1 and 2 threads, with the
    /// C# fallback, and natively are identical, on stories260K and on a Q4_0 and a Q5_0 stories15M-shape model
    /// (dim 288, 6 layers, 6 heads, FFN 768, the Llama 2 vocabulary; the Q5_0 matrices widened to Q8_0 in the
    /// page, so the threads' mirror holds runs of the model buffer and the widened copy) and a Q4_K one of dim 256
    /// (its blocks in the kernel layout of the relaxed-SIMD panel product) and a Q6_K one (run from wide copies, which the
    /// threads' mirror holds instead of the file's Q6_K bytes); with 2 threads the helper worker
    /// must have run part of the matrix products, and each layer's attention over a prompt is split across the
    /// threads by heads; a third run splits every attention call, the decode steps' too, so that every step
    /// reads the KV caches' mirrors in the threads' memory (kept by write-through of the copy kernel, also
    /// across the second prompt, which reuses the first one's cached rows). The emitted kernels run with decode steps replayed from the
    /// kernel graph (60 of 64: one from the prompt's step, three recorded) and without. A second, longer prompt
    /// then grows the Q4_0 products' scratch on one thread, so the graph goes stale and is recorded again (60
    /// replayed steps, not 63); elsewhere the graph stays valid and replays all 63 decode steps.
    /// </summary>
    [BrowserTheory]
    [InlineData("stories260K")]
    [InlineData("stories15M-q4_0")]
    [InlineData("stories15M-q5_0")]   // widened to Q8_0: the threads' mirror holds the widened copy, not the file's Q5_0 bytes
    [InlineData("stories15M-256-q4_k")]   // Q4_K in the kernel layout of its relaxed-SIMD panel product, four prompt tokens per pass
    [InlineData("stories15M-256-q6_k")]   // Q6_K run from wide copies: the threads' mirror holds those, not the file's Q6_K bytes
    public async Task Greedy64_OneAndTwoThreads_WasmAndManaged_EqualNativeEngine(string model)
    {
        byte[] bytes;
        if (model == "stories260K")
            bytes = File.ReadAllBytes(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf"));
        else
        {
            Vocabulary vocabulary = SentencePieceModel.Read(Path.Combine(BrowserFixture.Root, "tests", "TinyLM.Tests", "TestData", "vocab", "llama2", "tokenizer.model"));
            using var stream = new MemoryStream();
            GgmlType type = model.EndsWith("q5_0", StringComparison.Ordinal) ? GgmlType.Q5_0 : model.EndsWith("q4_k", StringComparison.Ordinal) ? GgmlType.Q4_K
                : model.EndsWith("q6_k", StringComparison.Ordinal) ? GgmlType.Q6_K : GgmlType.Q4_0;
            RandomLlama.Create(type is GgmlType.Q4_K or GgmlType.Q6_K ? RandomLlama.Stories15M256 : new RandomLlama.Shape("stories15M", 288, 6, 6, 6, 768, 256), vocabulary,
                TensorTypes.Get(type), 11).WriteTo(stream);
            bytes = stream.ToArray();
        }
        // Long enough that the prompt's products are split across threads even on stories260K, whose
        // decode products are below the size worth a hand-off.
        const string Prompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. One day, she saw a big red ball under a tree.";
        const string Prompt2 = Prompt + " She ran to the ball and picked it up. It was shiny and new. Lily looked around for the owner of the ball, but nobody was there. She asked her mom if she could keep it, and her mom said yes. Lily was so happy that she played with the ball all day long.";
        using var server = new StoreModelServer(bytes);
        IPage page = await OpenAsync();
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async ([url, prompts]) => {
            const { TinyLM } = await import('/tinylm.js');
            const runs = [];
            for (const [kernels, threads, decodeGraph, splitAttentionMacs] of [['wasm', 1, true], ['wasm', 2, true], ['wasm', 2, true, 0], ['wasm', 1, false], ['managed', 1, true]]) {
                const lm = await TinyLM.load(url, { cache: 'none', kernels, threads, decodeGraph, splitAttentionMacs });
                for (const [i, prompt] of prompts.entries()) {
                    const it = lm.generate(prompt, { maxTokens: 64, temperature: 0, ignoreEos: true });
                    let text = '', step;
                    while (!(step = await it.next()).done) text += step.value;
                    runs.push({ kernels, threads, decodeGraph, splitAll: splitAttentionMacs === 0, prompt: i, text, info: { ...lm.info }, result: step.value });
                }
                await lm.unload();
            }
            return { isolated: crossOriginIsolated, runs };
        }", new object[] { server.Origin + "/chunked/" + model + ".gguf", new[] { Prompt, Prompt2 } });
        Assert.True(r.GetProperty("isolated").GetBoolean());
        string[] native = [NativeGreedy(bytes, Prompt, 64), NativeGreedy(bytes, Prompt2, 64)];
        Assert.All(native, Assert.NotEmpty);
        Assert.Equal(10, r.GetProperty("runs").GetArrayLength());
        foreach (JsonElement run in r.GetProperty("runs").EnumerateArray())
        {
            int threads = run.GetProperty("threads").GetInt32(), prompt = run.GetProperty("prompt").GetInt32();
            bool graph = run.GetProperty("kernels").GetString() == "wasm" && run.GetProperty("decodeGraph").GetBoolean();
            bool splitAll = run.GetProperty("splitAll").GetBoolean();
            string what = $"{run.GetProperty("kernels").GetString()} × {threads}, graph {graph}, split all {splitAll}, prompt {prompt}";
            Assert.True(native[prompt] == run.GetProperty("text").GetString(), $"{what}: {run.GetProperty("text").GetString()} ≠ native {native[prompt]}");
            // the second prompt's new tokens (more than the whole first prompt) outgrow its scratch only where a product runs on this thread
            // (all of them with one thread; none with two, as each is worth a hand-off) and uses one (not F32)
            int replayed = !graph ? 0 : prompt == 1 && (threads > 1 || model == "stories260K") ? 63 : 60;
            Assert.True(replayed == run.GetProperty("result").GetProperty("graphSteps").GetInt32(), $"{what}: {run.GetProperty("result").GetProperty("graphSteps")} steps from the kernel graph");
            Assert.Equal(threads, run.GetProperty("info").GetProperty("threads").GetInt32());
            // the Q5_0 model's seven matrices per layer and its output run as Q8_0 with the emitted kernels
            Assert.Equal(model.EndsWith("q5_0", StringComparison.Ordinal) && run.GetProperty("kernels").GetString() == "wasm" ? 6 * 7 + 1 : 0,
                run.GetProperty("info").GetProperty("widenedMatrices").GetInt32());
            // and the Q6_K model's from their wide copies
            Assert.Equal(model.EndsWith("q6_k", StringComparison.Ordinal) && run.GetProperty("kernels").GetString() == "wasm" ? 6 * 7 + 1 : 0,
                run.GetProperty("info").GetProperty("wideQ6_KMatrices").GetInt32());
            JsonElement stats = run.GetProperty("result").GetProperty("kernelThreads");
            Assert.Equal(threads, stats.GetProperty("threads").GetInt32());
            // Every layer's attention over the first prompt splits its heads across the threads, except the last layer's, which
            // runs for the last prompt token only; the first prompt's decode steps stay below the split's size (at most 104 rows
            // of 288 or fewer channels), the second's need not. With splitAttentionMacs 0 every call splits: each layer's over
            // the prompt, the last layer's and each of the 63 decode steps', all reading the KV-cache mirrors that the copy
            // kernel writes through to.
            int layers = model == "stories260K" ? 5 : 6, jobs = stats.GetProperty("attentionJobs").GetInt32();
            if (threads == 1)
                Assert.Equal(0, jobs);
            else if (splitAll)
                Assert.Equal(layers * 64, jobs);
            else if (prompt == 0)
                Assert.Equal(layers - 1, jobs);
            else
                Assert.True(jobs >= layers - 1, $"{what}: {jobs} attention jobs");
            // with two threads a prompt's FFN gate and up (and, past about 512K multiply-adds, its query, key and value
            // projections) run as one job per layer
            int groups = stats.GetProperty("groupJobs").GetInt32();
            if (threads > 1)
            {
                Assert.True(stats.GetProperty("helperChunks").GetInt32() > 0, $"{what}: the helper ran no chunk of {stats.GetProperty("chunks").GetInt32()}");
                Assert.True(groups > 0, $"{what}: no group jobs");
            }
            else
            {
                Assert.Equal(0, stats.GetProperty("chunks").GetInt32());
                Assert.Equal(0, groups);
            }
        }
    }

    /// <summary>Without cross-origin isolation there is no shared memory: threads fall back to 1 with a warning, and tokens stay the same.</summary>
    [BrowserFact]
    public async Task Threads_PageNotIsolated_RunsOnOneThreadAndWarns()
    {
        IBrowserContext context = await fx.Browser.NewContextAsync();
        IPage page = await context.NewPageAsync();
        // The same origin, but a document served without COOP/COEP.
        await page.RouteAsync(fx.BaseUrl + "/plain.html", route => route.FulfillAsync(new() { Body = "<!doctype html><title>plain</title>", ContentType = "text/html" }));
        var warnings = new List<string>();
        page.Console += (_, m) => { if (m.Type == "warning") warnings.Add(m.Text); };
        await page.GotoAsync(fx.BaseUrl + "/plain.html");
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const lm = await TinyLM.load('/models/stories260K.gguf', { cache: 'none', threads: 2 });
            let text = '';
            for await (const piece of lm.generate('Once upon a time', { maxTokens: 32, temperature: 0 })) text += piece;
            const threads = lm.info.threads;
            await lm.unload();
            return { isolated: crossOriginIsolated, threads, text };
        }");
        Assert.False(r.GetProperty("isolated").GetBoolean());
        Assert.Equal(1, r.GetProperty("threads").GetInt32());
        Assert.Equal(NativeGreedy("Once upon a time", 32), r.GetProperty("text").GetString());
        Assert.Contains(warnings, w => w.Contains("not cross-origin isolated", StringComparison.Ordinal));
    }

    [BrowserTheory]
    [InlineData("wasm")]
    [InlineData("managed")]
    public async Task DefaultModel_Greedy64InThePage_EqualsNativeEngine(string kernels)
    {
        IPage page = await OpenAsync();
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async kernels => {
            const { TinyLM } = await import('/tinylm.js');
            const stages = [];
            const lm = await TinyLM.load('/models/stories260K.gguf', { onProgress: p => stages.push(p.stage), kernels });
            let text = '';
            const it = lm.generate('Once upon a time', { maxTokens: 64, temperature: 0 });
            let step;
            while (!(step = await it.next()).done) text += step.value;
            const info = lm.info;
            await lm.unload();
            return { text, result: step.value, info, stages: [...new Set(stages)] };
        }", kernels);
        Assert.Equal(NativeGreedy("Once upon a time", 64), r.GetProperty("text").GetString());
        Assert.Equal(kernels, r.GetProperty("info").GetProperty("kernels").GetString());
        Assert.Equal(64, r.GetProperty("result").GetProperty("completionTokens").GetInt32());
        Assert.Equal(["download", "verify", "parse", "ready"], r.GetProperty("stages").EnumerateArray().Select(e => e.GetString()!).ToArray());
        JsonElement info = r.GetProperty("info");
        Assert.Equal("llama", info.GetProperty("architecture").GetString());
        Assert.Equal(260_032, info.GetProperty("parameters").GetInt64());
        Assert.Equal("F32", info.GetProperty("quantization").GetString());
        Assert.Equal(512, info.GetProperty("contextLength").GetInt32());
        Assert.Equal(64, info.GetProperty("sha256").GetString()!.Length);
    }

    [BrowserFact]
    public async Task Abort_StopsWithinOneToken_AndTheModelStaysUsable()
    {
        IPage page = await OpenAsync();
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const lm = await TinyLM.load('/models/stories260K.gguf', { cache: 'none' });
            const controller = new AbortController();
            let pieces = 0, error = null, completion = -1;
            try {
                for await (const piece of lm.generate('Once upon a time', { maxTokens: 400, ignoreEos: true, signal: controller.signal })) {
                    pieces++;
                    if (pieces === 5) controller.abort();
                }
            } catch (e) { error = { name: e.name, code: e.code }; completion = e.details?.result?.completionTokens ?? -1; }
            let after = '';
            for await (const piece of lm.generate(' The end', { maxTokens: 8, temperature: 0 })) after += piece;
            await lm.unload();
            return { pieces, error, after, completion };
        }");
        Assert.Equal("aborted", r.GetProperty("error").GetProperty("code").GetString());
        // Nothing is yielded after the abort; the worker handles the abort message between two tokens,
        // so it stops a few tokens later at most (those generated while the message was in flight).
        Assert.Equal(5, r.GetProperty("pieces").GetInt32());
        Assert.InRange(r.GetProperty("completion").GetInt32(), 5, 40);
        Assert.NotEmpty(r.GetProperty("after").GetString()!);
    }

    [BrowserFact]
    public async Task TokenizeAndDetokenize_MatchTheNativeTokenizer()
    {
        IPage page = await OpenAsync();
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const lm = await TinyLM.load('/models/stories260K.gguf', { cache: 'none' });
            const ids = await lm.tokenize('Lily saw a big dog.');
            const withBos = await lm.tokenize('Lily', { addSpecial: true });
            const text = await lm.detokenize(ids);
            await lm.unload();
            let unloaded = null;
            try { await lm.tokenize('x'); } catch (e) { unloaded = e.code; }
            return { ids, withBos, text, unloaded };
        }");
        using Model m = Model.Load(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf"));
        int[] expected = m.Tokenizer.EncodeToIds("Lily saw a big dog.", addSpecialTokens: false);
        Assert.Equal(expected, r.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(1, r.GetProperty("withBos")[0].GetInt32());
        Assert.Equal("Lily saw a big dog.", r.GetProperty("text").GetString());
        Assert.NotEqual(JsonValueKind.Null, r.GetProperty("unloaded").ValueKind);
    }

    [BrowserFact]
    public async Task BadInput_GivesTypedErrors_AndLaterCallsWork()
    {
        IPage page = await OpenAsync();
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const bytes = new Uint8Array(await (await fetch('/models/stories260K.gguf')).arrayBuffer());
            const codes = {};
            const attempt = async (name, f) => { try { await f(); codes[name] = 'no error'; } catch (e) { codes[name] = { code: e.code, message: e.message }; } };
            await attempt('truncated', () => TinyLM.load(bytes.slice(0, bytes.length / 2).buffer, { cache: 'none' }));
            await attempt('garbage', () => TinyLM.load(new Uint8Array(1000).buffer, { cache: 'none' }));
            await attempt('missing', () => TinyLM.load('/models/none.gguf', { cache: 'none' }));
            await attempt('budget', () => TinyLM.load('/models/stories260K.gguf', { cache: 'none', budgetBytes: 1000 }));
            await attempt('badOption', () => TinyLM.load('/models/stories260K.gguf', { cahce: 'none' }));
            await attempt('badSplit', () => TinyLM.load('/models/stories260K.gguf', { cache: 'none', splitAttentionMacs: -1 }));
            const lm = await TinyLM.load(bytes.buffer, { cache: 'none' });
            await attempt('badGenerateOption', async () => { for await (const _ of lm.generate('x', { temprature: 0 })) {} });
            await attempt('badValue', async () => { for await (const _ of lm.generate('x', { topP: 3 })) {} });
            const first = lm.generate('Once', { maxTokens: 50 });
            await first.next();
            await attempt('concurrent', async () => { for await (const _ of lm.generate('x')) {} });
            while (!(await first.next()).done) {}
            let text = '';
            for await (const piece of lm.generate('Once upon a time', { maxTokens: 5, temperature: 0 })) text += piece;
            return { codes, text };
        }");
        JsonElement c = r.GetProperty("codes");
        Assert.Equal("format", c.GetProperty("truncated").GetProperty("code").GetString());
        Assert.Contains("expected", c.GetProperty("truncated").GetProperty("message").GetString());
        Assert.Equal("format", c.GetProperty("garbage").GetProperty("code").GetString());
        Assert.Equal("http", c.GetProperty("missing").GetProperty("code").GetString());
        Assert.Equal("budget", c.GetProperty("budget").GetProperty("code").GetString());
        Assert.Contains("1000", c.GetProperty("budget").GetProperty("message").GetString());
        Assert.Equal("argument", c.GetProperty("badOption").GetProperty("code").GetString());
        Assert.Equal("argument", c.GetProperty("badSplit").GetProperty("code").GetString());
        Assert.Contains("splitAttentionMacs", c.GetProperty("badSplit").GetProperty("message").GetString());
        Assert.Equal("argument", c.GetProperty("badGenerateOption").GetProperty("code").GetString());
        Assert.Equal("argument", c.GetProperty("badValue").GetProperty("code").GetString());
        Assert.Equal("state", c.GetProperty("concurrent").GetProperty("code").GetString());
        Assert.Equal(", there was a little", r.GetProperty("text").GetString());
    }

    [BrowserFact]
    public async Task SameSeed_SameTextInBrowserAndNative()
    {
        IPage page = await OpenAsync();
        string[] texts = await page.EvaluateAsync<string[]>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const lm = await TinyLM.load('/models/stories260K.gguf', { cache: 'none' });
            const texts = [];
            // Each generate() starts from a fresh context: the same call gives the same text.
            for (let round = 0; round < 2; round++) {
                let text = '';
                for await (const piece of lm.generate('Once upon a time', { maxTokens: 80, temperature: 1.0, topK: 0, topP: 0.9, seed: 1234 })) text += piece;
                texts.push(text);
            }
            await lm.unload();
            return texts;
        }");
        string text = texts[0];
        Assert.Equal(texts[0], texts[1]);
        using Model m = Model.Load(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf"));
        using InferenceSession s = m.CreateSession();
        var native = new System.Text.StringBuilder();
        await foreach (string piece in s.GenerateAsync("Once upon a time", new GenerationOptions { MaxTokens = 80, Temperature = 1.0f, TopK = 0, TopP = 0.9f, Seed = 1234 }))
            native.Append(piece);
        Assert.Equal(native.ToString(), text);
    }

    [BrowserFact]
    public async Task ChatCompletions_StreamAndNonStream_OpenAIShapes()
    {
        IPage page = await OpenAsync();
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const lm = await TinyLM.load('/models/stories260K.gguf', { cache: 'none' });
            const messages = [{ role: 'user', content: 'Once upon a time' }];
            const full = await lm.chat.completions.create({ messages, max_tokens: 20, temperature: 0 });
            const chunks = [];
            for await (const chunk of await lm.chat.completions.create({ messages, max_tokens: 20, temperature: 0, stream: true })) chunks.push(chunk);
            let bad = null;
            try { await lm.chat.completions.create({ messages: [{ role: 'wizard', content: 'x' }] }); } catch (e) { bad = e.code; }
            await lm.unload();
            return { full, chunks, bad };
        }");
        JsonElement full = r.GetProperty("full");
        Assert.Equal("chat.completion", full.GetProperty("object").GetString());
        string content = full.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        Assert.Equal("length", full.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(20, full.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        // stories260K has no chat template: the plain prompt is the message text, so this is the greedy story.
        Assert.StartsWith(", there was a little girl named Lily", content);
        JsonElement[] chunks = r.GetProperty("chunks").EnumerateArray().ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Equal(content, string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out JsonElement d) ? d.GetString() : "")));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("argument", r.GetProperty("bad").GetString());
    }

    [BrowserFact]
    public async Task SlmModel_LoadsLikeGguf_CorruptedOneIsRefusedByAdmission()
    {
        using GgufFile gguf = GgufFile.Open(Path.Combine(BrowserFixture.Root, "models", "stories260K.gguf"));
        byte[] slm = SlmConverter.FromModelFile(gguf).ToArray();
        byte[] corrupt = (byte[])slm.Clone();
        corrupt[^100] ^= 0x40; // inside the last tensor's payload: its checksum no longer matches
        IPage page = await OpenAsync();
        await page.RouteAsync("**/models/stories260K.slm", route => route.FulfillAsync(new() { BodyBytes = slm, ContentType = "application/octet-stream" }));
        await page.RouteAsync("**/models/corrupt.slm", route => route.FulfillAsync(new() { BodyBytes = corrupt, ContentType = "application/octet-stream" }));
        JsonElement r = await page.EvaluateAsync<JsonElement>(@"async () => {
            const { TinyLM } = await import('/tinylm.js');
            const lm = await TinyLM.load('/models/stories260K.slm', { cache: 'none' });
            let text = '';
            for await (const piece of lm.generate('Once upon a time', { maxTokens: 32, temperature: 0 })) text += piece;
            const info = lm.info;
            await lm.unload();
            let error = null;
            try { await TinyLM.load('/models/corrupt.slm', { cache: 'none' }); } catch (e) { error = { code: e.code, message: e.message }; }
            return { text, info, error };
        }");
        Assert.Equal(NativeGreedy("Once upon a time", 32), r.GetProperty("text").GetString());
        Assert.Equal(slm.Length, r.GetProperty("info").GetProperty("bytes").GetInt64());
        Assert.Equal("admission", r.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains("checksum", r.GetProperty("error").GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
    }
}
