using TinyLM.Formats;
using TinyLM.Formats.Gguf;

namespace TinyLM.Quantization;

/// <summary>
/// llama.cpp's file types (<c>enum llama_ftype</c> in include/llama.h), with its numeric values: what a
/// quantized GGUF stores in <c>general.file_type</c>. Only the types TinyLM's quantizer produces are
/// listed (the i-quant mixes and MXFP4/NVFP4 need tensor types TinyLM does not implement).
/// </summary>
public enum LlamaFileType : uint
{
    /// <summary><c>LLAMA_FTYPE_ALL_F32</c>: every tensor F32.</summary>
    AllF32 = 0,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_F16</c>: matrices F16, 1-D tensors as they are.</summary>
    MostlyF16 = 1,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q4_0</c>.</summary>
    MostlyQ4_0 = 2,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q4_1</c>.</summary>
    MostlyQ4_1 = 3,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q8_0</c>.</summary>
    MostlyQ8_0 = 7,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q5_0</c>.</summary>
    MostlyQ5_0 = 8,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q5_1</c>.</summary>
    MostlyQ5_1 = 9,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q2_K</c>: Q2_K with Q3_K/Q4_K where it matters.</summary>
    MostlyQ2_K = 10,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q3_K_S</c>.</summary>
    MostlyQ3_K_S = 11,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q3_K_M</c>.</summary>
    MostlyQ3_K_M = 12,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q3_K_L</c>.</summary>
    MostlyQ3_K_L = 13,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q4_K_S</c>.</summary>
    MostlyQ4_K_S = 14,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q4_K_M</c>.</summary>
    MostlyQ4_K_M = 15,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q5_K_S</c>.</summary>
    MostlyQ5_K_S = 16,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q5_K_M</c>.</summary>
    MostlyQ5_K_M = 17,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q6_K</c>.</summary>
    MostlyQ6_K = 18,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_Q2_K_S</c>: its Q2_K tensors need an importance matrix in llama.cpp
    /// (<see cref="TensorQuantizationChoice.RequiresImportanceMatrix"/>), so TinyLM writes it only when
    /// every tensor falls back to another type.</summary>
    MostlyQ2_K_S = 21,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_BF16</c>.</summary>
    MostlyBF16 = 32,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_TQ1_0</c>: ternary, token embedding Q4_K.</summary>
    MostlyTQ1_0 = 36,
    /// <summary><c>LLAMA_FTYPE_MOSTLY_TQ2_0</c>: ternary, token embedding Q4_K.</summary>
    MostlyTQ2_0 = 37,
}

/// <summary>
/// What llama.cpp's quantizer needs to know about a model beyond its tensors (from its hparams).
/// </summary>
/// <param name="Architecture"><c>general.architecture</c>, e.g. <c>llama</c>.</param>
/// <param name="BlockCount"><c>{arch}.block_count</c> (llama.cpp's <c>n_layer_all</c>, the
/// <c>n_ffn_down</c> counter bound).</param>
/// <param name="HeadCount"><c>{arch}.attention.head_count</c> (n_head).</param>
/// <param name="HeadCountKV"><c>{arch}.attention.head_count_kv</c> (n_head_kv; default n_head).</param>
/// <param name="ExpertCount"><c>{arch}.expert_count</c> (n_expert; 0 for dense models).</param>
public sealed record QuantizationModelInfo(string Architecture, int BlockCount, int HeadCount, int HeadCountKV, int ExpertCount)
{
    /// <summary>llama.cpp's <c>n_gqa()</c>: n_head / n_head_kv, 0 when n_head_kv is 0.</summary>
    public int GroupedQueryFactor => HeadCountKV == 0 ? 0 : HeadCount / HeadCountKV;

    /// <summary>
    /// True for a model llama.cpp classifies as <c>LLM_TYPE_70B</c> (src/models/llama.cpp: the llama
    /// architecture with 80 layers and fewer KV heads than heads), whose attn_v gets more bits.
    /// </summary>
    public bool Is70B => Architecture == "llama" && BlockCount == 80 && HeadCount != HeadCountKV;

    /// <summary>Reads the fields from GGUF metadata.</summary>
    /// <param name="metadata">The model's metadata.</param>
    /// <exception cref="ModelFormatException"><c>general.architecture</c> or <c>{arch}.block_count</c> is
    /// missing, or a field has the wrong type or a negative value.</exception>
    public static QuantizationModelInfo FromMetadata(GgufMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string arch = metadata.GetString("general.architecture", null)
            ?? throw new ModelFormatException(metadata.Source, -1, "expected general.architecture, found none");
        int Read(string key, int? fallback)
        {
            if (!metadata.ContainsKey(key))
                return fallback ?? throw new ModelFormatException(metadata.Source, -1, $"expected {key}, found none");
            // Per-layer arrays (some models store head_count_kv per layer): llama.cpp's n_gqa() reads layer 0.
            GgufValue value = metadata[key];
            long v;
            try
            {
                v = value.Value is Array array ? array.Length > 0 ? Convert.ToInt64(array.GetValue(0), System.Globalization.CultureInfo.InvariantCulture) : 0 : value.AsInt64();
            }
            catch (Exception e) when (e is InvalidCastException or FormatException or OverflowException or InvalidOperationException)
            {
                throw new ModelFormatException(metadata.Source, metadata.OffsetOf(key), $"expected an integer {key}, found {value.Describe()}");
            }
            if (v < 0 || v > int.MaxValue)
                throw new ModelFormatException(metadata.Source, metadata.OffsetOf(key), $"expected {key} from 0 to {int.MaxValue}, found {v}");
            return (int)v;
        }
        int heads = Read($"{arch}.attention.head_count", 0);
        return new QuantizationModelInfo(arch, Read($"{arch}.block_count", null), heads,
            Read($"{arch}.attention.head_count_kv", heads), Read($"{arch}.expert_count", 0));
    }
}

/// <summary>One tensor of a model to quantize: its name, shape (ggml <c>ne</c>, innermost first) and type.</summary>
/// <param name="Name">GGUF tensor name, e.g. <c>blk.0.attn_v.weight</c>.</param>
/// <param name="Shape">Dimensions, innermost first.</param>
/// <param name="Type">The tensor's type in the input file.</param>
public sealed record QuantizationTensor(string Name, IReadOnlyList<long> Shape, GgmlType Type);

/// <summary>The type llama.cpp's quantizer chooses for one tensor.</summary>
/// <param name="Tensor">The input tensor.</param>
/// <param name="TargetType">Its type in the output file (the input type when it is not converted).</param>
/// <param name="FellBack">True when the mix's choice did not divide the rows into blocks and
/// <c>tensor_type_fallback</c> replaced it.</param>
/// <param name="RequiresImportanceMatrix">True when llama.cpp refuses to write this tensor without an
/// importance matrix (<c>tensor_requires_imatrix</c>).</param>
public sealed record TensorQuantizationChoice(QuantizationTensor Tensor, GgmlType TargetType, bool FellBack, bool RequiresImportanceMatrix)
{
    /// <summary>True when the tensor's data changes type (llama.cpp: <c>cur_type != new_type</c>).</summary>
    public bool Converts => TargetType != Tensor.Type;
}

/// <summary>
/// llama.cpp's per-tensor type choices when quantizing a model (src/llama-quant.cpp of llama.cpp
/// release v0.5.0 as bundled by node-llama-cpp 3.22.1): the default type of a file type
/// (<c>llama_ftype_get_default_type</c>), which tensors are quantized at all
/// (<c>tensor_allows_quantization</c>), the mixes of the _S/_M/_L file types
/// (<c>llama_tensor_get_type_impl</c>, with its <c>i_attention_wv</c> / <c>i_ffn_down</c> counters,
/// <c>use_more_bits</c>, GQA and expert conditions), and the fallback for rows that do not divide into
/// the chosen type's blocks (<c>tensor_type_fallback</c>). Ported for TinyLM's file types
/// (<see cref="LlamaFileType"/>); the branches that only the i-quant and MXFP4 file types reach are left out.
/// </summary>
public static class QuantizationMix
{
    private static readonly (string Name, LlamaFileType Type)[] s_names =
    [
        ("F32", LlamaFileType.AllF32), ("F16", LlamaFileType.MostlyF16), ("BF16", LlamaFileType.MostlyBF16),
        ("Q4_0", LlamaFileType.MostlyQ4_0), ("Q4_1", LlamaFileType.MostlyQ4_1), ("Q5_0", LlamaFileType.MostlyQ5_0),
        ("Q5_1", LlamaFileType.MostlyQ5_1), ("Q8_0", LlamaFileType.MostlyQ8_0),
        ("Q2_K", LlamaFileType.MostlyQ2_K), ("Q2_K_S", LlamaFileType.MostlyQ2_K_S),
        ("Q3_K_S", LlamaFileType.MostlyQ3_K_S), ("Q3_K_M", LlamaFileType.MostlyQ3_K_M), ("Q3_K_L", LlamaFileType.MostlyQ3_K_L),
        ("Q4_K_S", LlamaFileType.MostlyQ4_K_S), ("Q4_K_M", LlamaFileType.MostlyQ4_K_M),
        ("Q5_K_S", LlamaFileType.MostlyQ5_K_S), ("Q5_K_M", LlamaFileType.MostlyQ5_K_M),
        ("Q6_K", LlamaFileType.MostlyQ6_K), ("TQ1_0", LlamaFileType.MostlyTQ1_0), ("TQ2_0", LlamaFileType.MostlyTQ2_0),
    ];

    /// <summary>The file types with the names llama.cpp's <c>llama-quantize</c> gives them (<c>Q4_K_M</c>, <c>Q8_0</c>, ...).</summary>
    public static IReadOnlyList<(string Name, LlamaFileType Type)> Names { get; } = Array.AsReadOnly(s_names);

    /// <summary>
    /// Parses a file type name, ignoring case: llama-quantize's names (<c>Q4_K_M</c>, <c>q8_0</c>,
    /// <c>TQ1_0</c>, <c>F16</c>, ...) and its aliases <c>Q3_K</c> = Q3_K_M, <c>Q4_K</c> = Q4_K_M,
    /// <c>Q5_K</c> = Q5_K_M, and <c>ALL_F32</c> = F32.
    /// </summary>
    public static bool TryParse(string? name, out LlamaFileType fileType)
    {
        fileType = default;
        if (name is null)
            return false;
        string n = name.Trim().ToUpperInvariant() switch
        {
            "Q3_K" => "Q3_K_M",
            "Q4_K" => "Q4_K_M",
            "Q5_K" => "Q5_K_M",
            "ALL_F32" => "F32",
            var other => other,
        };
        foreach ((string Name, LlamaFileType Type) e in s_names)
        {
            if (e.Name == n)
            {
                fileType = e.Type;
                return true;
            }
        }
        return false;
    }

    /// <summary>llama-quantize's name of a file type, e.g. <c>Q4_K_M</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="LlamaFileType"/>.</exception>
    public static string GetName(LlamaFileType fileType)
    {
        foreach ((string Name, LlamaFileType Type) e in s_names)
        {
            if (e.Type == fileType)
                return e.Name;
        }
        throw new ArgumentOutOfRangeException(nameof(fileType), fileType, "Unknown file type.");
    }

    /// <summary>
    /// The base tensor type of a file type (llama.cpp's <c>llama_ftype_get_default_type</c>): Q4_K for
    /// Q4_K_S and Q4_K_M, Q3_K for the Q3_K mixes, and so on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a defined <see cref="LlamaFileType"/>.</exception>
    public static GgmlType GetDefaultType(LlamaFileType fileType) => fileType switch
    {
        LlamaFileType.AllF32 => GgmlType.F32,
        LlamaFileType.MostlyF16 => GgmlType.F16,
        LlamaFileType.MostlyBF16 => GgmlType.BF16,
        LlamaFileType.MostlyQ4_0 => GgmlType.Q4_0,
        LlamaFileType.MostlyQ4_1 => GgmlType.Q4_1,
        LlamaFileType.MostlyQ5_0 => GgmlType.Q5_0,
        LlamaFileType.MostlyQ5_1 => GgmlType.Q5_1,
        LlamaFileType.MostlyQ8_0 => GgmlType.Q8_0,
        LlamaFileType.MostlyQ2_K or LlamaFileType.MostlyQ2_K_S => GgmlType.Q2_K,
        LlamaFileType.MostlyQ3_K_S or LlamaFileType.MostlyQ3_K_M or LlamaFileType.MostlyQ3_K_L => GgmlType.Q3_K,
        LlamaFileType.MostlyQ4_K_S or LlamaFileType.MostlyQ4_K_M => GgmlType.Q4_K,
        LlamaFileType.MostlyQ5_K_S or LlamaFileType.MostlyQ5_K_M => GgmlType.Q5_K,
        LlamaFileType.MostlyQ6_K => GgmlType.Q6_K,
        LlamaFileType.MostlyTQ1_0 => GgmlType.TQ1_0,
        LlamaFileType.MostlyTQ2_0 => GgmlType.TQ2_0,
        _ => throw new ArgumentOutOfRangeException(nameof(fileType), fileType, "Unknown file type."),
    };

    /// <summary>
    /// Whether llama.cpp quantizes a tensor at all (<c>tensor_allows_quantization</c>): only tensors
    /// with 2 or more dimensions whose name ends in <c>weight</c>, never norms (<c>_norm.weight</c>),
    /// expert gates, positional embeddings and the other small tensors llama.cpp lists. Tensors it
    /// refuses keep their input type.
    /// </summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="shape">Dimensions, innermost first; trailing 1s do not count as dimensions (ggml_n_dims).</param>
    public static bool AllowsQuantization(string name, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        int dims = shape.Count;
        while (dims > 1 && shape[dims - 1] == 1)
            dims--;
        if (dims < 2 || !name.EndsWith("weight", StringComparison.Ordinal))
            return false;
        foreach (string part in s_neverQuantized)
        {
            if (name.Contains(part, StringComparison.Ordinal))
                return false;
        }
        return name is not ("position_embd.weight" or "token_types.weight");
    }

    // Substrings of tensor_allows_quantization's exclusions (llama-quant.cpp).
    private static readonly string[] s_neverQuantized =
    [
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
        "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
        "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
        "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
        ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    ];

    /// <summary>
    /// Orders tensor names as llama.cpp's model loader does (<c>weight_name_comparer</c> in
    /// src/llama-model-loader.h): by the layer number after <c>blk.</c> (tensors outside the blocks
    /// first), then ordinally by name. llama.cpp quantizes and writes tensors in this order, and its
    /// counters (<c>i_attention_wv</c>, <c>i_ffn_down</c>) count in it.
    /// </summary>
    public static IComparer<string> TensorOrder { get; } = Comparer<string>.Create(static (a, b) =>
    {
        int la = LayerOf(a), lb = LayerOf(b);
        return la != lb ? la.CompareTo(lb) : string.CompareOrdinal(a, b);
    });

    /// <summary>
    /// The layer number as C's <c>sscanf(name, "blk.%d.", &amp;layer)</c> reads it, or -1 when there is none.
    /// </summary>
    private static int LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal))
            return -1;
        int i = 4;
        while (i < name.Length && char.IsWhiteSpace(name[i]))
            i++;
        bool negative = false;
        if (i < name.Length && name[i] is '+' or '-')
            negative = name[i++] == '-';
        int start = i;
        long value = 0;
        while (i < name.Length && char.IsAsciiDigit(name[i]))
        {
            value = Math.Min(value * 10 + (name[i] - '0'), (long)int.MaxValue + 1);
            i++;
        }
        if (i == start)
            return -1;
        return (int)Math.Clamp(negative ? -value : value, int.MinValue, int.MaxValue);
    }

    /// <summary>
    /// Chooses every tensor's output type as llama.cpp's <c>llama_model_quantize</c> does (its
    /// preliminary loop over <c>llama_tensor_get_type</c>) with default parameters: no importance
    /// matrix, no overrides, output tensor quantized, not <c>--pure</c>.
    /// </summary>
    /// <param name="fileType">The file type to produce.</param>
    /// <param name="model">Architecture and head/layer/expert counts.</param>
    /// <param name="tensors">The model's tensors, in any order.</param>
    /// <returns>One choice per tensor, in llama.cpp's order (<see cref="TensorOrder"/>).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="fileType"/> is not defined.</exception>
    /// <exception cref="ArgumentException">Two tensors have the same name, a tensor has no dimensions,
    /// or (mixture-of-experts models) a layer tensor's name has no layer number within the block count.</exception>
    public static IReadOnlyList<TensorQuantizationChoice> Plan(LlamaFileType fileType, QuantizationModelInfo model, IEnumerable<QuantizationTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        GgmlType defaultType = GetDefaultType(fileType);
        var sorted = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (QuantizationTensor t in sorted)
        {
            if (!names.Add(t.Name))
                throw new ArgumentException($"Two tensors are named '{t.Name}'.", nameof(tensors));
            if (t.Shape.Count == 0)
                throw new ArgumentException($"Tensor '{t.Name}' has no dimensions.", nameof(tensors));
        }
        sorted.Sort((a, b) => TensorOrder.Compare(a.Name, b.Name));

        // init_quantize_state_counters
        var state = new State(fileType, model)
        {
            AttentionVCount = sorted.Count(t => Category(t.Name) is TensorCategory.AttentionV or TensorCategory.AttentionQkv or TensorCategory.AttentionKVB),
            TiedEmbeddings = !sorted.Any(t => Category(t.Name) == TensorCategory.Output),
            FfnCount = model.BlockCount,
        };
        bool quantizedDefault = TensorTypes.TryGet(defaultType, out TensorType? dt) && dt.IsQuantized;
        var result = new List<TensorQuantizationChoice>(sorted.Count);
        foreach (QuantizationTensor t in sorted)
        {
            GgmlType target = t.Type;
            bool fellBack = false;
            if (AllowsQuantization(t.Name, t.Shape))
            {
                target = defaultType;
                if (quantizedDefault)
                {
                    target = ChooseType(state, target, t, Category(t.Name));
                    GgmlType fallback = Fallback(t.Shape[0], target);
                    fellBack = fallback != target;
                    target = fallback;
                }
            }
            bool needsImatrix = target == GgmlType.Q2_K && fileType == LlamaFileType.MostlyQ2_K_S
                && t.Name is not ("token_embd.weight" or "per_layer_token_embd.weight" or "output.weight");
            result.Add(new TensorQuantizationChoice(t, target, fellBack, needsImatrix && AllowsQuantization(t.Name, t.Shape)));
        }
        return result;
    }

    /// <summary>
    /// Whether llama.cpp refuses a tensor type without an importance matrix
    /// (<c>tensor_requires_imatrix</c>): of TinyLM's types only Q2_K inside a Q2_K_S file (token
    /// embedding and output excepted).
    /// </summary>
    public static bool RequiresImportanceMatrix(LlamaFileType fileType) => fileType == LlamaFileType.MostlyQ2_K_S;

    /// <summary>
    /// llama.cpp's <c>tensor_type_fallback</c>: when <paramref name="columns"/> (ne[0]) is not a multiple
    /// of <paramref name="target"/>'s block size, Q2_K, Q3_K, TQ1_0 and TQ2_0 become Q4_0, Q4_K becomes
    /// Q5_0, Q5_K becomes Q5_1, Q6_K becomes Q8_0, a 32-element type stays; and if the result still does
    /// not divide the row, F16.
    /// </summary>
    /// <param name="columns">Elements per row.</param>
    /// <param name="target">The chosen type.</param>
    /// <returns>A type whose blocks divide the row.</returns>
    /// <exception cref="NotSupportedException"><paramref name="target"/> is not in <see cref="TensorTypes"/>,
    /// or has blocks above 32 elements and no fallback.</exception>
    public static GgmlType Fallback(long columns, GgmlType target)
    {
        int block = TensorTypes.Get(target).BlockSize;
        if (columns % block == 0)
            return target;
        GgmlType fallback = target switch
        {
            GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.TQ1_0 or GgmlType.TQ2_0 => GgmlType.Q4_0,
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ when block <= 32 => target,
            _ => throw new NotSupportedException($"No fallback type is defined for {TensorTypes.Get(target).Name}."),
        };
        return columns % TensorTypes.Get(fallback).BlockSize == 0 ? fallback : GgmlType.F16;
    }

    // --- llama_tensor_get_type_impl

    private enum TensorCategory { Other, Output, TokenEmbd, AttentionQkv, AttentionKVB, AttentionV, AttentionK, AttentionQ, AttentionOutput, FfnUp, FfnGate, FfnDown }

    /// <summary>llama.cpp's <c>tensor_get_category</c>: exact names for output/token embedding, substrings for the rest, first match wins.</summary>
    private static TensorCategory Category(string name)
    {
        if (name == "output.weight")
            return TensorCategory.Output;
        if (name is "token_embd.weight" or "per_layer_token_embd.weight")
            return TensorCategory.TokenEmbd;
        (string Part, TensorCategory Category)[] parts =
        [
            ("attn_qkv.weight", TensorCategory.AttentionQkv), ("attn_kv_b.weight", TensorCategory.AttentionKVB),
            ("attn_v.weight", TensorCategory.AttentionV), ("attn_k.weight", TensorCategory.AttentionK),
            ("attn_q.weight", TensorCategory.AttentionQ), ("attn_output.weight", TensorCategory.AttentionOutput),
            ("ffn_up", TensorCategory.FfnUp), ("ffn_gate", TensorCategory.FfnGate), ("ffn_down", TensorCategory.FfnDown),
        ];
        foreach ((string part, TensorCategory category) in parts)
        {
            if (name.Contains(part, StringComparison.Ordinal))
                return category;
        }
        return TensorCategory.Other;
    }

    /// <summary>llama.cpp's <c>quantize_state_impl</c>: the counters the mixes consult.</summary>
    private sealed class State(LlamaFileType fileType, QuantizationModelInfo model)
    {
        public LlamaFileType FileType { get; } = fileType;
        public QuantizationModelInfo Model { get; } = model;
        public int AttentionVCount { get; init; }
        public int FfnCount { get; init; }
        public bool TiedEmbeddings { get; init; }
        public int AttentionV { get; set; }
        public int FfnDown { get; set; }
        public int FfnGate { get; set; }
        public int FfnUp { get; set; }
    }

    /// <summary>llama.cpp's <c>use_more_bits</c>: the first and last eighth of the layers and every third one between.</summary>
    private static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    /// <summary>llama.cpp's <c>layer_info</c>: the counter for dense models; the name's layer for mixtures of experts.</summary>
    private static (int Layer, int Layers) LayerInfo(State s, int counter, string name)
    {
        int layers = s.FfnCount;
        if (Math.Max(1, s.Model.ExpertCount) <= 1)
            return (counter, layers);
        int layer = LayerOf(name);
        if (layer < 0 || layer >= layers)
            throw new ArgumentException($"Bad layer {layer} for tensor {name}; must be in [0, {layers}).");
        return (layer, layers);
    }

    private static GgmlType ChooseType(State s, GgmlType type, QuantizationTensor tensor, TensorCategory category)
    {
        LlamaFileType f = s.FileType;
        QuantizationModelInfo m = s.Model;
        bool falcon = m.Architecture == "falcon";
        if (category == TensorCategory.Output || (s.TiedEmbeddings && category == TensorCategory.TokenEmbd))
        {
            // The output matrix (or a tied token embedding) gets Q6_K unless the mix is Q8_0; Q8_0 when
            // the rows do not divide into the base type's blocks.
            int block = TensorTypes.Get(type).BlockSize;
            if (falcon || tensor.Shape[0] % block != 0)
                return GgmlType.Q8_0;
            return type != GgmlType.Q8_0 ? GgmlType.Q6_K : type;
        }
        if (category == TensorCategory.TokenEmbd)
            return f is LlamaFileType.MostlyTQ1_0 or LlamaFileType.MostlyTQ2_0 ? GgmlType.Q4_K : type;
        if (category is TensorCategory.AttentionV or TensorCategory.AttentionQkv or TensorCategory.AttentionKVB)
        {
            int gqa = m.GroupedQueryFactor;
            if (f == LlamaFileType.MostlyQ2_K)
                type = gqa >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (f == LlamaFileType.MostlyQ2_K_S && gqa >= 4)
                type = GgmlType.Q4_K;
            else if (f == LlamaFileType.MostlyQ3_K_M)
                type = s.AttentionV < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
            else if (f == LlamaFileType.MostlyQ3_K_L)
                type = GgmlType.Q5_K;
            else if ((f is LlamaFileType.MostlyQ4_K_M or LlamaFileType.MostlyQ5_K_M) && UseMoreBits(s.AttentionV, s.AttentionVCount))
                type = GgmlType.Q6_K;
            else if (f == LlamaFileType.MostlyQ4_K_S && s.AttentionV < 4)
                type = GgmlType.Q5_K;
            if (m.Is70B && (type is GgmlType.Q3_K or GgmlType.Q4_K))
                type = GgmlType.Q5_K;
            if (m.ExpertCount == 8)
                type = GgmlType.Q8_0;
            s.AttentionV++;
            return type;
        }
        if (category == TensorCategory.AttentionK)
            return m.ExpertCount == 8 ? GgmlType.Q8_0 : type;
        if (category == TensorCategory.AttentionQ)
            return type;
        if (category == TensorCategory.FfnDown)
        {
            (int layer, int layers) = LayerInfo(s, s.FfnDown, tensor.Name);
            if (f == LlamaFileType.MostlyQ2_K)
                type = GgmlType.Q3_K;
            else if (f == LlamaFileType.MostlyQ2_K_S)
            {
                if (layer < layers / 8)
                    type = GgmlType.Q4_K;
            }
            else if (f == LlamaFileType.MostlyQ3_K_M)
                type = layer < layers / 16 ? GgmlType.Q5_K : !falcon || UseMoreBits(layer, layers) ? GgmlType.Q4_K : GgmlType.Q3_K;
            else if (f == LlamaFileType.MostlyQ3_K_L)
                type = falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
            else if (f == LlamaFileType.MostlyQ4_K_M)
            {
                if (falcon)
                    type = layer < layers / 16 ? GgmlType.Q6_K : UseMoreBits(layer, layers) ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (UseMoreBits(layer, layers))
                    type = GgmlType.Q6_K;
            }
            else if (f == LlamaFileType.MostlyQ5_K_M && UseMoreBits(layer, layers))
                type = GgmlType.Q6_K;
            else if (f == LlamaFileType.MostlyQ4_K_S && !falcon && layer < layers / 8)
                type = GgmlType.Q5_K;
            // (Q4_0/Q5_0 with an importance matrix would use Q4_1/Q5_1 in the first layers: no imatrix here.)
            s.FfnDown++;
            return type;
        }
        if (category == TensorCategory.AttentionOutput)
        {
            if (!falcon)
            {
                if (m.ExpertCount == 8)
                {
                    if (f is LlamaFileType.MostlyQ2_K or LlamaFileType.MostlyQ3_K_S or LlamaFileType.MostlyQ3_K_M
                        or LlamaFileType.MostlyQ4_K_S or LlamaFileType.MostlyQ4_K_M)
                        type = GgmlType.Q5_K;
                }
                else if (f == LlamaFileType.MostlyQ2_K)
                    type = GgmlType.Q3_K;
                else if (f == LlamaFileType.MostlyQ3_K_M)
                    type = GgmlType.Q4_K;
                else if (f == LlamaFileType.MostlyQ3_K_L)
                    type = GgmlType.Q5_K;
            }
            else if (f == LlamaFileType.MostlyQ3_K_L)
                type = GgmlType.Q4_K;
            return type;
        }
        if (category == TensorCategory.AttentionQkv)
            return type; // unreachable: attn_qkv is handled with attn_v above, as in llama.cpp
        if (category == TensorCategory.FfnGate)
        {
            LayerInfo(s, s.FfnGate, tensor.Name);
            s.FfnGate++;
            return type;
        }
        if (category == TensorCategory.FfnUp)
        {
            LayerInfo(s, s.FfnUp, tensor.Name);
            s.FfnUp++;
            return type;
        }
        return type;
    }

    /// <summary>Parses a file type name (see <see cref="TryParse"/>).</summary>
    /// <exception cref="ArgumentException">The name is not a known file type; the message lists them.</exception>
    public static LlamaFileType Parse(string name) => TryParse(name, out LlamaFileType t) ? t
        : throw new ArgumentException($"Unknown quantization type '{name}'; expected one of {string.Join(", ", s_names.Select(e => e.Name.ToLowerInvariant()))}.", nameof(name));

}
