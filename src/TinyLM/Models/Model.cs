using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Generation;
using TinyLM.Kernels;
using TinyLM.Tokenizers;

namespace TinyLM.Models;

/// <summary>
/// A loaded language model: hyperparameters, weights read in place from the model file, and its
/// tokenizer. Immutable and shareable across threads; each conversation runs in its own
/// <see cref="InferenceSession"/>, which owns the KV cache and scratch memory.
/// </summary>
/// <remarks>
/// <see cref="Load(string)"/> reads GGUF files; the architecture comes from
/// <c>general.architecture</c> and selects the class that implements it (one file per
/// architecture: <see cref="Llama"/>). Dispose the model after its sessions.
/// </remarks>
public abstract class Model : IDisposable
{
    private readonly GgufFile _file;
    private readonly bool _ownsFile;

    private protected Model(GgufFile file, bool ownsFile)
    {
        _file = file;
        _ownsFile = ownsFile;
        Vocabulary = Vocabulary.FromGguf(file.Metadata);
        Tokenizer = Tokenizer.Create(Vocabulary);
        Name = file.Metadata.GetString("general.name", null) ?? Path.GetFileNameWithoutExtension(file.Source);
        ParameterCount = file.Tensors.Sum(t => t.ElementCount);
        WeightBytes = file.Tensors.Sum(t => t.ByteSize);
    }

    /// <summary>The GGUF file the weights are read from.</summary>
    public GgufFile File => _file;

    /// <summary><c>general.architecture</c>, e.g. <c>llama</c>.</summary>
    public abstract string Architecture { get; }

    /// <summary><c>general.name</c>, or the file name.</summary>
    public string Name { get; }

    /// <summary>The vocabulary read from the file.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>The tokenizer for <see cref="Vocabulary"/>.</summary>
    public Tokenizer Tokenizer { get; }

    /// <summary>Context length the model was trained with (<c>{arch}.context_length</c>, llama.cpp n_ctx_train), in tokens.</summary>
    public abstract int ContextLength { get; }

    /// <summary>Number of logits per position (rows of the output matrix).</summary>
    public abstract int VocabularySize { get; }

    /// <summary>Total number of weights in the file's tensors.</summary>
    public long ParameterCount { get; }

    /// <summary>Total bytes of tensor data.</summary>
    public long WeightBytes { get; }

    /// <summary>Loads a GGUF model file (memory-mapped).</summary>
    /// <exception cref="ModelFormatException">The file is not a valid GGUF model of a supported architecture.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Model Load(string path) => Load(GgufFile.Open(path), ownsFile: true);

    /// <summary>Loads a GGUF model from bytes in memory (pinned while the model lives).</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid GGUF model of a supported architecture.</exception>
    public static Model Load(byte[] data, string name = "<memory>") => Load(GgufFile.Load(data, name), ownsFile: true);

    /// <summary>Builds a model over a parsed GGUF file.</summary>
    /// <param name="file">The file.</param>
    /// <param name="ownsFile">Dispose <paramref name="file"/> with the model.</param>
    /// <exception cref="ModelFormatException">Unsupported architecture, missing or misshapen tensors, bad hyperparameters.</exception>
    public static Model Load(GgufFile file, bool ownsFile)
    {
        ArgumentNullException.ThrowIfNull(file);
        try
        {
            string arch = file.Architecture
                ?? throw new ModelFormatException(file.Source, -1, "expected metadata key 'general.architecture', found none (a vocabulary-only file cannot generate)");
            return arch switch
            {
                Llama.ArchitectureName => new Llama(file, ownsFile),
                _ => throw new ModelFormatException(file.Source, file.Metadata.OffsetOf("general.architecture"),
                    $"expected a supported architecture ({Llama.ArchitectureName}), found '{arch}'"),
            };
        }
        catch when (ownsFile)
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Creates a session (KV cache and scratch) for generation.</summary>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public InferenceSession CreateSession(SessionOptions? options = null) => new(this, options ?? new SessionOptions());

    /// <summary>Allocates the per-session state: KV cache for <paramref name="contextLength"/> positions, batch scratch.</summary>
    internal abstract ModelState CreateState(int contextLength, int batchSize, WorkerPool pool);

    /// <summary>
    /// Runs the transformer over <paramref name="tokens"/> at positions
    /// <c>start .. start + tokens.Length − 1</c> (at most the state's batch size), appending their
    /// keys and values to the KV cache, and writes logits: the last token's ([vocab]) or, when
    /// <paramref name="allLogits"/> is set, every token's ([tokens, vocab]).
    /// </summary>
    internal abstract void Forward(ModelState state, ReadOnlySpan<int> tokens, int start, Span<float> logits, bool allLogits);

    /// <summary>Releases the file mapping if the model owns it.</summary>
    public void Dispose()
    {
        if (_ownsFile)
            _file.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// Receives a named intermediate of the forward pass: <paramref name="name"/> is llama.cpp's graph
/// name with the layer, e.g. <c>attn_norm-0</c>, <c>Qcur-3</c>, <c>ffn_out-5</c>, <c>result_norm</c>;
/// <paramref name="values"/> are the batch's rows, [tokens, width], valid only during the call.
/// </summary>
/// <remarks>The counterpart of llama.cpp's <c>cb_eval</c> callback, for diffing TinyLM against llama.cpp layer by layer.</remarks>
public delegate void TensorObserver(string name, ReadOnlySpan<float> values);

/// <summary>Per-session state an architecture allocates once: KV cache and activations.</summary>
internal abstract class ModelState
{
    /// <summary>Optional observer of intermediates (diagnostics; null on the normal path).</summary>
    public TensorObserver? Observer { get; set; }

    /// <summary>Reports an intermediate to <see cref="Observer"/>, if any.</summary>
    public void Observe(string name, int layer, ReadOnlySpan<float> values)
    {
        if (Observer is { } o)
            o(layer >= 0 ? $"{name}-{layer}" : name, values);
    }

    protected ModelState(int contextLength, int batchSize, WorkerPool pool)
    {
        ContextLength = contextLength;
        BatchSize = batchSize;
        Pool = pool;
    }

    /// <summary>KV cache capacity in positions.</summary>
    public int ContextLength { get; }

    /// <summary>Most tokens one <see cref="Model.Forward"/> call takes.</summary>
    public int BatchSize { get; }

    /// <summary>Threads for the matrix products.</summary>
    public WorkerPool Pool { get; }

    /// <summary>Bytes held by the KV cache.</summary>
    public abstract long KVCacheBytes { get; }
}
