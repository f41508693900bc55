using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace TinyLM.Formats.Llama2c;

/// <summary>
/// A llama2.c checkpoint (karpathy/llama2.c): the legacy version 0 layout that <c>run.c</c> reads —
/// seven int32 header fields, then float32 tensors — or the version 1 float32 export
/// (<c>export.py --version 1</c>: magic "ak42", version, header padded to 256 bytes). Weights stay
/// in the memory-mapped file; each accessor returns a span over it.
/// </summary>
/// <remarks>
/// Version 0 header: <c>dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len</c>; a
/// negative <c>vocab_size</c> means the classifier <c>wcls</c> is stored separately (not shared with
/// the token embedding). Tensor order (run.c, <c>memory_map_weights</c>): token embedding
/// [vocab, dim], attention RMS gains [layer, dim], wq [layer, dim(out), dim(in)], wk and wv
/// [layer, kv_dim, dim], wo [layer, dim, dim], FFN RMS gains [layer, dim], w1 [layer, hidden, dim],
/// w2 [layer, dim, hidden], w3 [layer, hidden, dim], final RMS gain [dim], the RoPE tables
/// freq_cis_real/imag [seq_len, head_size/2] (ignored), then wcls [vocab, dim] if not shared.
/// Version 1 stores the norms first: attention norms, FFN norms, final norm, token embedding, wq,
/// wk, wv, wo, w1, w2, w3, then wcls if not shared. The int8 version 2 is not supported.
/// Matrices are row-major [out, in], the same bytes as a GGUF tensor of shape [in, out]. llama2.c's
/// RoPE rotates adjacent pairs, as llama.cpp's LLAMA rope type, so no permutation is needed.
/// </remarks>
public sealed class Llama2cCheckpoint : IDisposable
{
    private const uint MagicV1 = 0x616b3432; // "ak42"

    private readonly ModelBuffer _buffer;
    private readonly long[] _offsets;

    private Llama2cCheckpoint(ModelBuffer buffer, int version, int dim, int hidden, int layers, int heads, int kvHeads,
        int vocab, int seqLen, bool shared, long[] offsets)
    {
        _buffer = buffer;
        Version = version;
        Dim = dim;
        HiddenDim = hidden;
        Layers = layers;
        Heads = heads;
        KVHeads = kvHeads;
        VocabSize = vocab;
        SeqLen = seqLen;
        SharedClassifier = shared;
        _offsets = offsets;
    }

    /// <summary>File format version: 0 (legacy) or 1.</summary>
    public int Version { get; }
    /// <summary>Width of the residual stream (n_embd).</summary>
    public int Dim { get; }
    /// <summary>FFN hidden width (n_ff).</summary>
    public int HiddenDim { get; }
    /// <summary>Number of blocks (n_layer).</summary>
    public int Layers { get; }
    /// <summary>Query heads.</summary>
    public int Heads { get; }
    /// <summary>Key/value heads.</summary>
    public int KVHeads { get; }
    /// <summary>Vocabulary size.</summary>
    public int VocabSize { get; }
    /// <summary>Maximum sequence length (the trained context).</summary>
    public int SeqLen { get; }
    /// <summary>True when the classifier is the token embedding (tied output).</summary>
    public bool SharedClassifier { get; }
    /// <summary>Channels per head.</summary>
    public int HeadSize => Dim / Heads;
    /// <summary>Width of K and V.</summary>
    public int KVDim => KVHeads * HeadSize;

    /// <summary>Token embedding [vocab, dim].</summary>
    public ReadOnlySpan<float> TokenEmbedding => Tensor(0, 0, (long)VocabSize * Dim);
    /// <summary>Attention RMSNorm gain of a layer [dim].</summary>
    public ReadOnlySpan<float> AttentionNorm(int layer) => Tensor(1, layer, Dim);
    /// <summary>wq of a layer [dim(out), dim(in)].</summary>
    public ReadOnlySpan<float> Wq(int layer) => Tensor(2, layer, (long)Dim * Dim);
    /// <summary>wk of a layer [kv_dim, dim].</summary>
    public ReadOnlySpan<float> Wk(int layer) => Tensor(3, layer, (long)KVDim * Dim);
    /// <summary>wv of a layer [kv_dim, dim].</summary>
    public ReadOnlySpan<float> Wv(int layer) => Tensor(4, layer, (long)KVDim * Dim);
    /// <summary>wo of a layer [dim, dim].</summary>
    public ReadOnlySpan<float> Wo(int layer) => Tensor(5, layer, (long)Dim * Dim);
    /// <summary>FFN RMSNorm gain of a layer [dim].</summary>
    public ReadOnlySpan<float> FfnNorm(int layer) => Tensor(6, layer, Dim);
    /// <summary>w1 (gate) of a layer [hidden, dim].</summary>
    public ReadOnlySpan<float> W1(int layer) => Tensor(7, layer, (long)HiddenDim * Dim);
    /// <summary>w2 (down) of a layer [dim, hidden].</summary>
    public ReadOnlySpan<float> W2(int layer) => Tensor(8, layer, (long)Dim * HiddenDim);
    /// <summary>w3 (up) of a layer [hidden, dim].</summary>
    public ReadOnlySpan<float> W3(int layer) => Tensor(9, layer, (long)HiddenDim * Dim);
    /// <summary>Final RMSNorm gain [dim].</summary>
    public ReadOnlySpan<float> FinalNorm => Tensor(10, 0, Dim);
    /// <summary>Classifier [vocab, dim]; the token embedding when shared.</summary>
    public ReadOnlySpan<float> Classifier => SharedClassifier ? TokenEmbedding : Tensor(11, 0, (long)VocabSize * Dim);

    private unsafe ReadOnlySpan<float> Tensor(int index, int layer, long count) =>
        MemoryMarshal.Cast<byte, float>(_buffer.GetSpan(_offsets[index] + layer * count * 4, checked((int)(count * 4))));

    /// <summary>Maps and validates a checkpoint file.</summary>
    /// <exception cref="ModelFormatException">Not a valid llama2.c float32 checkpoint.</exception>
    public static Llama2cCheckpoint Open(string path)
    {
        ModelBuffer buffer = ModelBuffer.MapFile(path);
        try
        {
            return Parse(buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Validates a checkpoint held in memory.</summary>
    /// <exception cref="ModelFormatException">Not a valid llama2.c float32 checkpoint.</exception>
    public static Llama2cCheckpoint Load(byte[] data, string name = "<memory>") => Parse(ModelBuffer.FromArray(data, name));

    private static Llama2cCheckpoint Parse(ModelBuffer buffer)
    {
        string src = buffer.Name;
        long length = buffer.Length;
        if (length < 28)
            throw new ModelFormatException(src, length, $"expected a 28-byte llama2.c header, found {length} bytes");
        ReadOnlySpan<byte> head = buffer.GetSpan(0, (int)Math.Min(length, 256));
        int version = 0;
        int fieldsAt = 0;
        long dataStart = 28;
        bool? sharedFlag = null;
        if (BinaryPrimitives.ReadUInt32LittleEndian(head) == MagicV1)
        {
            if (length < 256)
                throw new ModelFormatException(src, length, $"expected a 256-byte version 1 header, found {length} bytes");
            version = BinaryPrimitives.ReadInt32LittleEndian(head[4..]);
            if (version != 1)
                throw new ModelFormatException(src, 4, $"expected llama2.c version 1 (float32), found version {version} (the int8 version 2 is not supported)");
            fieldsAt = 8;
            byte flag = head[36];
            if (flag > 1)
                throw new ModelFormatException(src, 36, $"expected shared-classifier flag 0 or 1, found {flag}");
            sharedFlag = flag == 1;
            dataStart = 256;
        }
        var f = new int[7];
        for (int i = 0; i < 7; i++)
            f[i] = BinaryPrimitives.ReadInt32LittleEndian(head[(fieldsAt + 4 * i)..]);
        int dim = f[0], hidden = f[1], layers = f[2], heads = f[3], kvHeads = f[4], vocab = f[5], seqLen = f[6];
        bool shared = sharedFlag ?? vocab > 0;
        if (version == 0)
            vocab = Math.Abs(vocab);
        void Check(bool ok, int field, string reason)
        {
            if (!ok)
                throw new ModelFormatException(src, fieldsAt + 4 * field, reason);
        }
        Check(dim is > 0 and <= 65536, 0, $"expected dim in 1..65536, found {dim}");
        Check(hidden is > 0 and <= 1 << 20, 1, $"expected hidden_dim in 1..1048576, found {hidden}");
        Check(layers is > 0 and <= 1024, 2, $"expected n_layers in 1..1024, found {layers}");
        Check(heads > 0 && heads <= dim && dim % heads == 0, 3, $"expected n_heads dividing dim {dim}, found {heads}");
        Check(kvHeads > 0 && kvHeads <= heads && heads % kvHeads == 0, 4, $"expected n_kv_heads dividing n_heads {heads}, found {kvHeads}");
        Check(vocab is > 0 and <= 1 << 22, 5, $"expected vocab_size in 1..4194304, found {vocab}");
        Check(seqLen is > 0 and <= 1 << 24, 6, $"expected seq_len in 1..16777216, found {seqLen}");
        Check((dim / heads) % 2 == 0, 3, $"expected an even head size, found {dim / heads}");

        long d = dim, h = hidden, L = layers, kv = (long)kvHeads * (dim / heads), v = vocab;
        long[] counts = version == 0
            ? [v * d, L * d, L * d * d, L * kv * d, L * kv * d, L * d * d, L * d, L * h * d, L * d * h, L * h * d, d, seqLen * (long)(dim / heads)]
            : [v * d, L * d, L * d * d, L * kv * d, L * kv * d, L * d * d, L * d, L * h * d, L * d * h, L * h * d, d, 0];
        // Order of tensors in the file, as indexes into counts (v1: norms first). Index 11 in v0 is the two RoPE tables.
        int[] order = version == 0 ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] : [1, 6, 10, 0, 2, 3, 4, 5, 7, 8, 9];
        var offsets = new long[12];
        long at = dataStart;
        foreach (int i in order)
        {
            offsets[i] = at;
            at = checked(at + counts[i] * 4);
        }
        if (!shared)
        {
            offsets[11] = at;
            at = checked(at + v * d * 4);
        }
        if (length != at)
            throw new ModelFormatException(src, Math.Min(length, at),
                $"expected {at} bytes for dim {dim}, hidden {hidden}, {layers} layers, {heads}/{kvHeads} heads, vocab {vocab}, seq_len {seqLen} ({(shared ? "shared" : "separate")} classifier), found {length}");
        return new Llama2cCheckpoint(buffer, version, dim, hidden, layers, heads, kvHeads, vocab, seqLen, shared, offsets);
    }

    /// <summary>Unmaps the file.</summary>
    public void Dispose() => _buffer.Dispose();
}
