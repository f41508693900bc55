using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.Slm;
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
/// <see cref="Load(string)"/> reads GGUF files and <c>.slm</c> files (told apart by their magic; an
/// <c>.slm</c> file must pass admission, docs/slm-format.md); the architecture comes from
/// <c>general.architecture</c> and selects the class that implements it (one file per
/// architecture: <see cref="Llama"/>). Dispose the model after its sessions.
/// </remarks>
public abstract class Model : IDisposable
{
    private readonly IModelFile _file;
    private readonly bool _ownsFile;

    private protected Model(IModelFile file, bool ownsFile)
    {
        _file = file;
        _ownsFile = ownsFile;
        Vocabulary = Vocabulary.FromGguf(file.Metadata);
        Tokenizer = Tokenizer.Create(Vocabulary);
        Name = file.Metadata.GetString("general.name", null) ?? Path.GetFileNameWithoutExtension(file.Source);
        ParameterCount = file.Tensors.Sum(t => t.ElementCount);
        WeightBytes = file.Tensors.Sum(t => t.ByteSize);
    }

    /// <summary>The file the weights are read from: a <see cref="GgufFile"/> or an admitted <see cref="SlmModelFile"/>.</summary>
    public IModelFile File => _file;

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

    /// <summary>
    /// The weight matrices of the matrix products (<see cref="ComputeKernels.MatMul"/>), read otherwise
    /// only through <see cref="WeightMatrix.DequantizeRow"/>, so that a kernel set may rearrange their
    /// bytes (<see cref="WeightMatrix.InterleaveRowPanels"/>). Llama: the attention and FFN projections of
    /// every layer and the output projection (also when it is the token embedding, whose lookups
    /// follow the panels).
    /// </summary>
    public virtual IReadOnlyList<WeightMatrix> ProductMatrices => [];

    /// <summary>Total number of weights in the file's tensors.</summary>
    public long ParameterCount { get; }

    /// <summary>Total bytes of tensor data.</summary>
    public long WeightBytes { get; }

    /// <summary>Loads a GGUF or <c>.slm</c> model file (memory-mapped; the browser reads it into memory).</summary>
    /// <exception cref="ModelFormatException">The file is not a valid GGUF model of a supported architecture.</exception>
    /// <exception cref="ModelAdmissionException">An <c>.slm</c> file failed admission.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Model Load(string path) => Load(path, null);

    /// <summary>Loads a GGUF or <c>.slm</c> model file, refusing it when it is larger than <paramref name="budgetBytes"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="budgetBytes">Largest accepted file size in bytes, or null for no budget.</param>
    /// <exception cref="ModelFormatException">The file is not a valid GGUF model of a supported architecture.</exception>
    /// <exception cref="ModelAdmissionException">An <c>.slm</c> file failed admission, or the file is over the budget
    /// (<see cref="AdmissionStage.Budget"/>; the message names both sizes and a tensor type that would fit).</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static Model Load(string path, long? budgetBytes)
    {
        ModelBuffer buffer = OperatingSystem.IsBrowser() || OperatingSystem.IsWasi() ? ModelBuffer.ReadFile(path) : ModelBuffer.MapFile(path);
        return Load(buffer, budgetBytes);
    }

    /// <summary>Loads a GGUF or <c>.slm</c> model from bytes in memory (pinned while the model lives); the format is told by the magic.</summary>
    /// <exception cref="ModelFormatException">The bytes are not a valid GGUF model of a supported architecture.</exception>
    /// <exception cref="ModelAdmissionException">The bytes are an <c>.slm</c> file that failed admission.</exception>
    public static Model Load(byte[] data, string name = "<memory>") => Load(data, name, null);

    /// <summary>Loads a GGUF or <c>.slm</c> model from bytes in memory, refusing it when it is larger than <paramref name="budgetBytes"/>.</summary>
    /// <param name="data">The file bytes (pinned while the model lives).</param>
    /// <param name="name">Name used in error messages.</param>
    /// <param name="budgetBytes">Largest accepted size in bytes, or null for no budget.</param>
    /// <exception cref="ModelFormatException">The bytes are not a valid GGUF model of a supported architecture.</exception>
    /// <exception cref="ModelAdmissionException">The bytes are an <c>.slm</c> file that failed admission, or over the budget.</exception>
    public static Model Load(byte[] data, string name, long? budgetBytes) => Load(ModelBuffer.FromArray(data, name), budgetBytes);

    private static Model Load(ModelBuffer buffer, long? budgetBytes)
    {
        IModelFile file;
        try
        {
            if (SlmFile.HasMagic(buffer))
            {
                SlmFile slm = SlmFile.Parse(buffer, ownsBuffer: true);
                if (budgetBytes is long budget)
                    slm.CheckBudget(budget);
                file = slm.Admit();
            }
            else
            {
                GgufFile gguf = GgufReader.Read(buffer, ownsBuffer: true);
                if (budgetBytes is long budget)
                    ModelBudget.Check(gguf.Source, gguf.FileSize, gguf.Tensors, budget);
                file = gguf;
            }
        }
        catch
        {
            buffer.Dispose(); // idempotent; the parsed file owned nothing else
            throw;
        }
        return Load(file, ownsFile: true);
    }

    /// <summary>Builds a model over a parsed GGUF file.</summary>
    /// <param name="file">The file.</param>
    /// <param name="ownsFile">Dispose <paramref name="file"/> with the model.</param>
    /// <exception cref="ModelFormatException">Unsupported architecture, missing or misshapen tensors, bad hyperparameters.</exception>
    public static Model Load(GgufFile file, bool ownsFile) => Load((IModelFile)file, ownsFile);

    /// <summary>
    /// Builds a model over an admitted <c>.slm</c> file (<see cref="SlmFile.Admit"/>): the only way
    /// from an <c>.slm</c> file to a model, so a file that was not admitted cannot generate.
    /// </summary>
    /// <param name="file">The admitted file.</param>
    /// <param name="ownsFile">Dispose <paramref name="file"/> with the model.</param>
    /// <exception cref="ModelFormatException">The architecture cannot bind the file's tensors (admission already checked them against its manifest).</exception>
    public static Model Load(SlmModelFile file, bool ownsFile) => Load((IModelFile)file, ownsFile);

    private static Model Load(IModelFile file, bool ownsFile)
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
    internal abstract ModelState CreateState(int contextLength, int batchSize, WorkerPool pool, ComputeKernels kernels);

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
