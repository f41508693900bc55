using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Kernels;

namespace TinyLM.Models;

/// <summary>
/// Hyperparameters of a Llama-family model, read from the <c>llama.*</c> GGUF keys. Property names
/// are the GGUF key in PascalCase; each doc names the key and llama.cpp's <c>llama_hparams</c> field.
/// </summary>
public sealed record LlamaConfig
{
    /// <summary><c>llama.context_length</c> (n_ctx_train): trained context, in tokens.</summary>
    public required int ContextLength { get; init; }

    /// <summary><c>llama.embedding_length</c> (n_embd): width of the residual stream.</summary>
    public required int EmbeddingLength { get; init; }

    /// <summary><c>llama.block_count</c> (n_layer): number of transformer blocks.</summary>
    public required int BlockCount { get; init; }

    /// <summary><c>llama.feed_forward_length</c> (n_ff): hidden width of the SwiGLU FFN.</summary>
    public required int FeedForwardLength { get; init; }

    /// <summary><c>llama.attention.head_count</c> (n_head): query heads.</summary>
    public required int HeadCount { get; init; }

    /// <summary><c>llama.attention.head_count_kv</c> (n_head_kv): key/value heads (GQA); defaults to <see cref="HeadCount"/>.</summary>
    public required int HeadCountKV { get; init; }

    /// <summary><c>llama.attention.key_length</c> (n_embd_head_k): channels per head; defaults to n_embd / n_head.</summary>
    public required int HeadDimension { get; init; }

    /// <summary><c>llama.rope.dimension_count</c> (n_rot): rotated channels per head; defaults to the head dimension.</summary>
    public required int RopeDimensionCount { get; init; }

    /// <summary><c>llama.rope.freq_base</c> (rope_freq_base_train): RoPE θ base; default 10000.</summary>
    public float RopeFreqBase { get; init; } = 10000f;

    /// <summary>RoPE linear position scale (rope_freq_scale_train): <c>1 / llama.rope.scaling.factor</c> for linear scaling, else 1.</summary>
    public float RopeFreqScale { get; init; } = 1f;

    /// <summary><c>llama.attention.layer_norm_rms_epsilon</c> (f_norm_rms_eps).</summary>
    public required float LayerNormRmsEpsilon { get; init; }

    /// <summary>Rows of the output matrix (n_vocab).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Reads and validates the hyperparameters.</summary>
    /// <exception cref="ModelFormatException">A key is missing, has the wrong type, or an impossible value.</exception>
    public static LlamaConfig FromGguf(GgufMetadata m, int vocabularySize)
    {
        const string a = Llama.ArchitectureName;
        int Positive(string key, int value, int max)
        {
            if (value <= 0 || value > max)
                throw new ModelFormatException(m.Source, m.OffsetOf(key), $"{key}: expected 1..{max}, found {value}");
            return value;
        }

        int embd = Positive($"{a}.embedding_length", m.GetInt32($"{a}.embedding_length"), 1 << 16);
        int heads = Positive($"{a}.attention.head_count", m.GetInt32($"{a}.attention.head_count"), 1024);
        int kvHeads = Positive($"{a}.attention.head_count_kv", m.GetInt32($"{a}.attention.head_count_kv", heads), 1024);
        if (heads % kvHeads != 0)
            throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.attention.head_count_kv"),
                $"{a}.attention.head_count_kv: expected a divisor of head_count {heads}, found {kvHeads}");
        int headDim = m.ContainsKey($"{a}.attention.key_length")
            ? Positive($"{a}.attention.key_length", m.GetInt32($"{a}.attention.key_length"), 1 << 12)
            : embd % heads == 0 ? embd / heads
            : throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.attention.head_count"),
                $"{a}.attention.head_count: expected a divisor of embedding_length {embd}, found {heads}");
        int valueDim = m.GetInt32($"{a}.attention.value_length", headDim);
        if (valueDim != headDim)
            throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.attention.value_length"),
                $"{a}.attention.value_length: expected {headDim} (= key_length), found {valueDim}");
        int rot = Positive($"{a}.rope.dimension_count", m.GetInt32($"{a}.rope.dimension_count", headDim), headDim);
        if (rot != headDim)
            throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.rope.dimension_count"),
                $"{a}.rope.dimension_count: expected the head dimension {headDim} (llama.cpp requires n_rot == n_embd_head), found {rot}");
        float eps = m.GetSingle($"{a}.attention.layer_norm_rms_epsilon");
        if (!(eps >= 0f && eps < 1f))
            throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.attention.layer_norm_rms_epsilon"), $"expected a small non-negative epsilon, found {eps}");
        float freqBase = m.GetSingle($"{a}.rope.freq_base", 10000f);
        if (!(freqBase > 1f) || float.IsInfinity(freqBase))
            throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.rope.freq_base"), $"expected a finite base above 1, found {freqBase}");

        float freqScale = 1f;
        string scaling = m.GetString($"{a}.rope.scaling.type", "none");
        float factor = m.ContainsKey($"{a}.rope.scaling.factor") ? m.GetSingle($"{a}.rope.scaling.factor")
            : m.GetSingle($"{a}.rope.scale_linear", 1f);
        switch (scaling)
        {
            case "none":
                break;
            case "linear":
                if (!(factor > 0f) || float.IsInfinity(factor))
                    throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.rope.scaling.factor"), $"expected a positive scaling factor, found {factor}");
                freqScale = 1f / factor;
                break;
            default:
                throw new ModelFormatException(m.Source, m.OffsetOf($"{a}.rope.scaling.type"),
                    $"{a}.rope.scaling.type: expected none or linear, found '{scaling}' (not supported yet)");
        }
        if (scaling == "none" && m.ContainsKey($"{a}.rope.scale_linear") && factor != 1f)
            freqScale = 1f / factor;

        return new LlamaConfig
        {
            ContextLength = Positive($"{a}.context_length", m.GetInt32($"{a}.context_length"), 1 << 24),
            EmbeddingLength = embd,
            BlockCount = Positive($"{a}.block_count", m.GetInt32($"{a}.block_count"), 1024),
            FeedForwardLength = Positive($"{a}.feed_forward_length", m.GetInt32($"{a}.feed_forward_length"), 1 << 20),
            HeadCount = heads,
            HeadCountKV = kvHeads,
            HeadDimension = headDim,
            RopeDimensionCount = rot,
            RopeFreqBase = freqBase,
            RopeFreqScale = freqScale,
            LayerNormRmsEpsilon = eps,
            VocabularySize = vocabularySize,
        };
    }
}

/// <summary>
/// The Llama architecture (Touvron et al., 2023, arXiv:2302.13971 and 2307.09288; also TinyLlama,
/// SmolLM, the TinyStories models): pre-norm blocks of RMSNorm → grouped-query attention with RoPE
/// → residual → RMSNorm → SwiGLU FFN → residual, then a final RMSNorm and the output projection
/// (tied to the token embedding when <c>output.weight</c> is absent).
/// </summary>
/// <remarks>Follows llama.cpp src/models/llama.cpp (<c>llama_model_llama</c>): tensor names, shapes and graph.</remarks>
public sealed class Llama : Model
{
    /// <summary>The <c>general.architecture</c> value.</summary>
    public const string ArchitectureName = "llama";

    private readonly WeightMatrix _tokenEmbedding;
    private readonly float[] _outputNorm;
    private readonly WeightMatrix _output;
    private readonly Layer[] _layers;
    private readonly float[]? _ropeFactors;

    internal Llama(IModelFile file, bool ownsFile) : base(file, ownsFile)
    {
        var t = new TensorBinder(file);
        GgufTensorInfo embd = t.Require("token_embd.weight");
        int vocab = embd.Shape.Count == 2 && embd.Shape[1] is > 0 and <= int.MaxValue ? (int)embd.Shape[1]
            : throw new ModelFormatException(file.Source, -1, $"tensor 'token_embd.weight': expected shape [n_embd, n_vocab], found {embd.ShapeText}");
        Config = LlamaConfig.FromGguf(file.Metadata, vocab);
        LlamaConfig c = Config;
        if (vocab != Vocabulary.Count)
            throw new ModelFormatException(file.Source, -1, $"tensor 'token_embd.weight': expected {Vocabulary.Count} rows (the vocabulary size), found {vocab}");
        int qDim = c.HeadCount * c.HeadDimension, kvDim = c.HeadCountKV * c.HeadDimension;

        _tokenEmbedding = t.Matrix("token_embd.weight", c.EmbeddingLength, vocab);
        _outputNorm = t.Vector("output_norm.weight", c.EmbeddingLength);
        _output = t.Has("output.weight") ? t.Matrix("output.weight", c.EmbeddingLength, vocab) : _tokenEmbedding;
        _ropeFactors = t.Has("rope_freqs.weight") ? t.Vector("rope_freqs.weight", c.RopeDimensionCount / 2) : null;
        _layers = new Layer[c.BlockCount];
        for (int i = 0; i < c.BlockCount; i++)
        {
            string p = $"blk.{i}.";
            _layers[i] = new Layer
            {
                AttentionNorm = t.Vector(p + "attn_norm.weight", c.EmbeddingLength),
                Wq = t.Matrix(p + "attn_q.weight", c.EmbeddingLength, qDim),
                Wk = t.Matrix(p + "attn_k.weight", c.EmbeddingLength, kvDim),
                Wv = t.Matrix(p + "attn_v.weight", c.EmbeddingLength, kvDim),
                Wo = t.Matrix(p + "attn_output.weight", qDim, c.EmbeddingLength),
                Bq = t.OptionalVector(p + "attn_q.bias", qDim),
                Bk = t.OptionalVector(p + "attn_k.bias", kvDim),
                Bv = t.OptionalVector(p + "attn_v.bias", kvDim),
                Bo = t.OptionalVector(p + "attn_output.bias", c.EmbeddingLength),
                FfnNorm = t.Vector(p + "ffn_norm.weight", c.EmbeddingLength),
                Gate = t.Matrix(p + "ffn_gate.weight", c.EmbeddingLength, c.FeedForwardLength),
                Up = t.Matrix(p + "ffn_up.weight", c.EmbeddingLength, c.FeedForwardLength),
                Down = t.Matrix(p + "ffn_down.weight", c.FeedForwardLength, c.EmbeddingLength),
                BGate = t.OptionalVector(p + "ffn_gate.bias", c.FeedForwardLength),
                BUp = t.OptionalVector(p + "ffn_up.bias", c.FeedForwardLength),
                BDown = t.OptionalVector(p + "ffn_down.bias", c.EmbeddingLength),
            };
        }
        t.EnsureAllUsed();
        // Natively, the matrices of the matrix products are repacked (eight-row panels: every quantized weight type);
        // the token embedding is only read by rows, unless it is also the output.
        t.RepackAll([_output, .. _layers.SelectMany(l => (WeightMatrix[])[l.Wq, l.Wk, l.Wv, l.Wo, l.Gate, l.Up, l.Down])]);
    }

    /// <summary>The hyperparameters.</summary>
    public LlamaConfig Config { get; }

    /// <inheritdoc/>
    public override string Architecture => ArchitectureName;

    /// <inheritdoc/>
    public override int ContextLength => Config.ContextLength;

    /// <inheritdoc/>
    public override int VocabularySize => Config.VocabularySize;

    /// <summary>True when the output projection reuses <c>token_embd.weight</c>.</summary>
    public bool HasTiedOutput => ReferenceEquals(_output, _tokenEmbedding);

    /// <inheritdoc/>
    public override IReadOnlyList<WeightMatrix> ProductMatrices =>
    [
        .. _layers.SelectMany(l => (WeightMatrix[])[l.Wq, l.Wk, l.Wv, l.Wo, l.Gate, l.Up, l.Down]),
        _output,
    ];

    internal override ModelState CreateState(int contextLength, int batchSize, WorkerPool pool, ComputeKernels kernels) =>
        new State(this, contextLength, batchSize, pool, kernels);

    internal override void Forward(ModelState modelState, ReadOnlySpan<int> tokens, int start, Span<float> logits, bool allLogits)
    {
        var s = (State)modelState;
        LlamaConfig c = Config;
        int n = tokens.Length, dim = c.EmbeddingLength, hd = c.HeadDimension;
        int qDim = c.HeadCount * hd, kvDim = c.HeadCountKV * hd, ff = c.FeedForwardLength;
        float scale = 1f / MathF.Sqrt(hd);
        float[] x = s.X, xb = s.Xb, xb2 = s.Xb2;
        ComputeKernels k = s.Scratch.Kernels;

        for (int t = 0; t < n; t++)
            _tokenEmbedding.DequantizeRow(tokens[t], x.AsSpan(t * dim, dim));
        s.Observe("inp_embd", -1, x.AsSpan(0, n * dim));
        // A one-token step from here to the logits is kernel calls only: replayed as a graph where the kernels can.
        bool step = n == 1 && !allLogits && s.Observer is null;
        if (step && s.Graph.TryReplay(start))
        {
            s.Logits.AsSpan(0, c.VocabularySize).CopyTo(logits);
            return;
        }
        bool recording = step && s.Graph.BeginRecording(start);
        // Only the last token's logits are asked for: after the last layer's keys and values are cached, its attention,
        // output projection and FFN run for that token alone (llama.cpp's inp_out_ids, which drops the other rows after
        // the attention block; here before it too: their attention is not needed either). Row-wise operations, so the
        // last token's values are the same bits.
        bool lastRowOnly = n > 1 && !allLogits && s.Observer is null;
        int m = n, at = start;   // the rows still computed, and the position of the first of them

        for (int l = 0; l < _layers.Length; l++)
        {
            Layer layer = _layers[l];
            // attn_norm, Qcur/Kcur/Vcur
            Blocks.RmsNorm(s.Scratch, x, 0, layer.AttentionNorm, c.LayerNormRmsEpsilon, xb, n);
            ActivationRows act = s.Activations.Set(xb, n, dim);
            Blocks.LinearGroup(s.Scratch, act, layer.Wq, s.Q, layer.Bq, layer.Wk, s.K, layer.Bk, layer.Wv, s.V, layer.Bv);
            s.Observe("attn_norm", l, xb.AsSpan(0, n * dim));
            float[] keyCache = s.KeyCache[l], valueCache = s.ValueCache[l];
            k.Rope(s.Rope, s.Q.AsSpan(0, n * qDim), n, c.HeadCount, hd, start);
            k.Rope(s.Rope, s.K.AsSpan(0, n * kvDim), n, c.HeadCountKV, hd, start);
            s.Observe("Qcur", l, s.Q.AsSpan(0, n * qDim));
            s.Observe("Kcur", l, s.K.AsSpan(0, n * kvDim));
            s.Observe("Vcur", l, s.V.AsSpan(0, n * kvDim));
            // The KV caches are written only here, with the kernels' Copy: the page's threads mirror them by repeating its writes.
            k.Copy(s.K.AsSpan(0, n * kvDim), keyCache.AsSpan(start * kvDim));
            k.Copy(s.V.AsSpan(0, n * kvDim), valueCache.AsSpan(start * kvDim));
            if (lastRowOnly && l == _layers.Length - 1)
            {
                // the last token's query and residual row to row 0; from here one row at position start + n − 1
                k.Copy(s.Q.AsSpan((n - 1) * qDim, qDim), s.Q.AsSpan(0, qDim));
                k.Copy(x.AsSpan((n - 1) * dim, dim), x.AsSpan(0, dim));
                m = 1;
                at = start + n - 1;
            }
            // kqv_out, attn_out, ffn_inp
            Blocks.Attention(s.Scratch, s.Q, keyCache, valueCache, s.AttentionOutput, m, at, c.HeadCount, c.HeadCountKV, hd, scale);
            s.Observe("kqv_out", l, s.AttentionOutput.AsSpan(0, m * qDim));
            Blocks.Linear(s.Scratch, layer.Wo, s.Activations.Set(s.AttentionOutput, m, qDim), xb2, layer.Bo);
            s.Observe("attn_out", l, xb2.AsSpan(0, m * dim));
            k.Add(x.AsSpan(0, m * dim), xb2.AsSpan(0, m * dim));
            s.Observe("ffn_inp", l, x.AsSpan(0, m * dim));
            // ffn_norm, ffn_out, l_out
            Blocks.RmsNorm(s.Scratch, x, 0, layer.FfnNorm, c.LayerNormRmsEpsilon, xb, m);
            act = s.Activations.Set(xb, m, dim);
            Blocks.LinearGroup(s.Scratch, act, layer.Gate, s.Hb, layer.BGate, layer.Up, s.Hb2, layer.BUp);
            s.Observe("ffn_norm", l, xb.AsSpan(0, m * dim));
            s.Observe("ffn_gate", l, s.Hb.AsSpan(0, m * ff));
            s.Observe("ffn_up", l, s.Hb2.AsSpan(0, m * ff));
            Blocks.SwiGlu(s.Scratch, s.Hb, s.Hb2, m, ff);
            s.Observe("ffn_swiglu", l, s.Hb.AsSpan(0, m * ff));
            Blocks.Linear(s.Scratch, layer.Down, s.Activations.Set(s.Hb, m, ff), xb2, layer.BDown);
            s.Observe("ffn_out", l, xb2.AsSpan(0, m * dim));
            k.Add(x.AsSpan(0, m * dim), xb2.AsSpan(0, m * dim));
            s.Observe("l_out", l, x.AsSpan(0, m * dim));
        }

        // result_norm, result_output (the last row: row m − 1, which is row 0 after lastRowOnly)
        int first = allLogits ? 0 : m - 1, rows = m - first;
        Blocks.RmsNorm(s.Scratch, x, first, _outputNorm, c.LayerNormRmsEpsilon, xb, rows);
        s.Observe("result_norm", -1, xb.AsSpan(0, rows * dim));
        float[] output = allLogits ? s.AllLogits(rows) : s.Logits;
        Blocks.Linear(s.Scratch, _output, s.Activations.Set(xb, rows, dim), output);
        if (recording)
            s.Graph.EndRecording(start);
        output.AsSpan(0, rows * c.VocabularySize).CopyTo(logits);
    }

    private sealed class Layer
    {
        public required float[] AttentionNorm, FfnNorm;
        public required WeightMatrix Wq, Wk, Wv, Wo, Gate, Up, Down;
        public float[]? Bq, Bk, Bv, Bo, BGate, BUp, BDown;
    }

    private sealed class State : ModelState
    {
        private float[]? _allLogits;
        private readonly int _vocab;

        public State(Llama model, int contextLength, int batchSize, WorkerPool pool, ComputeKernels kernels) : base(contextLength, batchSize, pool)
        {
            LlamaConfig c = model.Config;
            int dim = c.EmbeddingLength, qDim = c.HeadCount * c.HeadDimension, kvDim = c.HeadCountKV * c.HeadDimension;
            _vocab = c.VocabularySize;
            X = Pinned(batchSize * dim);
            Xb = Pinned(batchSize * Math.Max(dim, qDim));
            Xb2 = Pinned(batchSize * dim);
            Q = Pinned(batchSize * qDim);
            K = Pinned(batchSize * kvDim);
            V = Pinned(batchSize * kvDim);
            AttentionOutput = Pinned(batchSize * qDim);
            Hb = Pinned(batchSize * c.FeedForwardLength);
            Hb2 = Pinned(batchSize * c.FeedForwardLength);
            Logits = Pinned(c.VocabularySize);
            KeyCache = new float[c.BlockCount][];
            ValueCache = new float[c.BlockCount][];
            for (int l = 0; l < c.BlockCount; l++)
            {
                KeyCache[l] = Pinned(checked(contextLength * kvDim));
                ValueCache[l] = Pinned(checked(contextLength * kvDim));
            }
            KVCacheBytes = 2L * c.BlockCount * contextLength * kvDim * sizeof(float);
            var matrices = model._layers.SelectMany(l => new[] { l.Wq, l.Wk, l.Wv, l.Wo, l.Gate, l.Up, l.Down }).Append(model._output);
            Scratch = new ForwardScratch(pool, kernels, c.HeadCount, contextLength);
            Activations = new ActivationRows(batchSize, matrices, Scratch);
            Rope = new Rope(c.RopeDimensionCount, contextLength, c.RopeFreqBase, c.RopeFreqScale, model._ropeFactors);
            Graph = new DecodeGraph(kernels, contextLength);
        }

        public float[] X, Xb, Xb2, Q, K, V, AttentionOutput, Hb, Hb2, Logits;
        public float[][] KeyCache, ValueCache;
        public ActivationRows Activations;
        public Rope Rope;
        public ForwardScratch Scratch;
        public DecodeGraph Graph;

        public override long KVCacheBytes { get; }

        // Activations live in pinned arrays: accelerated kernels (the browser's WebAssembly) take their addresses.
        private static float[] Pinned(int length) => GC.AllocateArray<float>(length, pinned: true);

        public float[] AllLogits(int rows)
        {
            if (_allLogits is null || _allLogits.Length < rows * _vocab)
                _allLogits = Pinned(rows * _vocab);
            return _allLogits;
        }
    }
}
