using System.Collections.ObjectModel;

namespace TinyLM.Tokenizers;

/// <summary>What llama.cpp derives from a vocabulary while loading it (see <see cref="VocabularyResolver"/>).</summary>
internal sealed class ResolvedVocabulary
{
    /// <summary>Token texts as llama.cpp stores them (<c>id_to_token[i].text</c>): an empty text becomes <c>[EMPTY_i]</c>.</summary>
    public required string[] Texts { get; init; }

    /// <summary>Text to id (<c>token_to_id</c>); a duplicated text maps to its last id.</summary>
    public required Dictionary<string, int> Ids { get; init; }

    /// <summary>Per-token attributes after llama.cpp's text-based adjustments.</summary>
    public required TokenAttributes[] Attributes { get; init; }

    /// <summary>
    /// <c>cache_special_tokens</c>: control, user-defined and unknown tokens, longest text (in UTF-8
    /// bytes) first; equal lengths by ascending id.
    /// </summary>
    public required int[] SpecialTokens { get; init; }

    /// <summary><c>special_eog_ids</c>.</summary>
    public required HashSet<int> EndOfGeneration { get; init; }

    /// <summary><see cref="EndOfGeneration"/>, ascending.</summary>
    public required ReadOnlyCollection<int> EndOfGenerationIds { get; init; }
}

/// <summary>
/// Ports the part of llama.cpp's <c>llama_vocab::impl::load</c> (src/llama-vocab.cpp@de3ff815) that
/// runs after the keys are read: token attributes from types, detection of EOT/EOM/FIM tokens by
/// text (each forced to CONTROL), "unused" control tokens, the end-of-generation set with its
/// gpt-oss/solar-open and gemma4 workarounds, the special-token cache, and the whitespace-stripping
/// attributes set by model name.
/// </summary>
/// <remarks>
/// Differences, all invisible for SentencePiece Llama vocabularies: llama.cpp iterates an
/// <c>unordered_map</c> when detecting tokens by text, so when several candidates exist its choice
/// depends on the hash order; here the lowest id wins. llama.cpp sorts the special-token cache with
/// the unstable <c>std::sort</c>; here ties keep ascending ids. FIM ids are detected by text only
/// (the <c>tokenizer.ggml.fim_*_token_id</c> keys are not read). The name-based LSTRIP/RSTRIP
/// attributes are applied from <see cref="Vocabulary.GeneralName"/> and <see cref="Vocabulary.Pre"/>
/// (Phi-3, Jina v2, ModernBERT), except the one chosen by <c>general.architecture</c>
/// (nomic-bert-moe, jina-bert-v3: not SentencePiece), and a token those rules name that is missing
/// is skipped where llama.cpp fails to load.
/// </remarks>
internal static class VocabularyResolver
{
    private static readonly string[] EotTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<end_of_utterance>",
    ];

    private static readonly string[] EomTexts = ["<|eom_id|>"];

    private static readonly string[] FimPreTexts =
        ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>", "\u2581<PRE>", "<|code_prefix|>", "<|prefix|>"];

    private static readonly string[] FimSufTexts =
        ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>", "\u2581<SUF>", "<|code_suffix|>", "<|suffix|>"];

    private static readonly string[] FimMidTexts =
        ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>", "\u2581<MID>", "<|code_middle|>", "<|middle|>"];

    private static readonly string[] FimPadTexts = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"];

    private static readonly string[] FimRepTexts = ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"];

    private static readonly string[] FimSepTexts = ["<|file_sep|>"];

    private static readonly HashSet<string> EogTexts = new(StringComparer.Ordinal)
    {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "[e~[",
    };

    private static readonly HashSet<string> ForcedUserDefinedTexts = new(StringComparer.Ordinal)
    {
        "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>",
    };

    /// <summary>Derives what llama.cpp derives; throws when the declared values are inconsistent.</summary>
    /// <exception cref="InvalidOperationException">The vocabulary is inconsistent.</exception>
    public static ResolvedVocabulary Resolve(Vocabulary vocabulary)
    {
        if (vocabulary.FindInconsistency() is string problem)
            throw new InvalidOperationException($"The vocabulary is inconsistent: {problem}.");

        string[] tokens = vocabulary.TokenArray;
        TokenType[] types = vocabulary.TypeArray;
        int n = tokens.Length;

        var texts = new string[n];
        var ids = new Dictionary<string, int>(n, StringComparer.Ordinal);
        var attributes = new TokenAttributes[n];
        for (int i = 0; i < n; i++)
        {
            string text = tokens[i].Length == 0 ? $"[EMPTY_{i}]" : tokens[i];
            texts[i] = text;
            ids[text] = i;
            attributes[i] = types.Length == 0 ? TokenAttributes.Normal : FromType(types[i]);
        }

        // Unique texts in ascending id order (llama.cpp iterates token_to_id).
        var unique = new List<int>(ids.Count);
        for (int i = 0; i < n; i++)
            if (ids[texts[i]] == i)
                unique.Add(i);

        int eot = vocabulary.EotTokenId, eom = vocabulary.EomTokenId;
        int fimPre = -1, fimSuf = -1, fimMid = -1, fimPad = -1, fimRep = -1, fimSep = -1;
        foreach (int id in unique)
        {
            string text = texts[id];
            Detect(ref eot, EotTexts, id, text, attributes);
            Detect(ref eom, EomTexts, id, text, attributes);
            Detect(ref fimPre, FimPreTexts, id, text, attributes);
            Detect(ref fimSuf, FimSufTexts, id, text, attributes);
            Detect(ref fimMid, FimMidTexts, id, text, attributes);
            Detect(ref fimPad, FimPadTexts, id, text, attributes);
            Detect(ref fimRep, FimRepTexts, id, text, attributes);
            Detect(ref fimSep, FimSepTexts, id, text, attributes);
        }

        // Control tokens named "unused" are unused.
        foreach (int id in unique)
            if ((attributes[id] & TokenAttributes.Control) != 0 && texts[id].Contains("unused", StringComparison.Ordinal))
                attributes[id] |= TokenAttributes.Unused;

        var eog = new HashSet<int>();
        foreach (int id in (ReadOnlySpan<int>)[fimPad, fimRep, fimSep])
            if (id >= 0)
                eog.Add(id);
        foreach (int id in unique)
        {
            if (EogTexts.Contains(texts[id]))
            {
                eog.Add(id);
                attributes[id] |= TokenAttributes.Control;
            }
        }
        foreach (int id in unique)
            if (ForcedUserDefinedTexts.Contains(texts[id]))
                attributes[id] = TokenAttributes.UserDefined;
        foreach (int id in (ReadOnlySpan<int>)[vocabulary.EosTokenId, eot, eom])
            if (id >= 0)
                eog.Add(id);

        // o200k_harmony / solar-open: "<|end|>" is not end-of-generation when "<|return|>"/"<|call|>"
        // or "<|calls|>"/"<|flush|>" are.
        bool hasReturn = false, hasCall = false, hasFlush = false;
        int endId = -1;
        foreach (int id in eog)
        {
            switch (texts[id])
            {
                case "<|return|>": hasReturn = true; break;
                case "<|call|>" or "<|calls|>": hasCall = true; break;
                case "<|flush|>": hasFlush = true; break;
                case "<|end|>": endId = id; break;
            }
        }
        if (endId >= 0 && ((hasReturn && hasCall) || (hasCall && hasFlush)))
        {
            eog.Remove(endId);
            attributes[endId] = TokenAttributes.UserDefined;
        }

        // gemma4 / paddleocr: "</s>" is not end-of-generation when "<|tool_response>" is.
        int sId = -1;
        bool hasToolResponse = false;
        foreach (int id in eog)
        {
            if (texts[id] == "<|tool_response>") hasToolResponse = true;
            else if (texts[id] == "</s>") sId = id;
        }
        if (hasToolResponse && sId >= 0)
        {
            eog.Remove(sId);
            attributes[sId] = TokenAttributes.Normal;
        }

        const TokenAttributes special = TokenAttributes.Control | TokenAttributes.UserDefined | TokenAttributes.Unknown;
        var specialTokens = new List<int>();
        for (int i = 0; i < n; i++)
            if ((attributes[i] & special) != 0)
                specialTokens.Add(i);
        int[] byteLength = new int[n];
        foreach (int id in specialTokens)
            byteLength[id] = System.Text.Encoding.UTF8.GetByteCount(texts[id]);
        int[] sortedSpecial = [.. specialTokens.OrderByDescending(id => byteLength[id]).ThenBy(id => id)];

        // Attributes by model or pre-tokenizer name, set after the special-token cache (they only
        // change how special tokens split the text).
        string name = AsciiLower(vocabulary.GeneralName ?? "");
        string pre = vocabulary.Pre ?? "";
        if (pre.Contains("jina-v2-de", StringComparison.Ordinal) || pre.Contains("jina-v2-es", StringComparison.Ordinal)
            || pre.Contains("jina-v2-code", StringComparison.Ordinal))
        {
            SetAttribute(ids, attributes, "<mask>", TokenAttributes.LStrip, true);
        }
        else if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            foreach (int id in sortedSpecial)
                attributes[id] |= TokenAttributes.RStrip;
            SetAttribute(ids, attributes, "</s>", TokenAttributes.RStrip, true);
            foreach (string text in (ReadOnlySpan<string>)["<unk>", "<s>", "<|endoftext|>"])
                SetAttribute(ids, attributes, text, TokenAttributes.RStrip, false);
        }
        else if (name.Contains("modern-bert", StringComparison.Ordinal))
        {
            SetAttribute(ids, attributes, "[MASK]", TokenAttributes.LStrip, true);
        }

        int[] eogSorted = [.. eog.Order()];
        return new ResolvedVocabulary
        {
            Texts = texts,
            Ids = ids,
            Attributes = attributes,
            SpecialTokens = sortedSpecial,
            EndOfGeneration = eog,
            EndOfGenerationIds = Array.AsReadOnly(eogSorted),
        };
    }

    /// <summary>llama.cpp's mapping of <c>tokenizer.ggml.token_type</c> to attributes.</summary>
    internal static TokenAttributes FromType(TokenType type) => type switch
    {
        TokenType.Unknown => TokenAttributes.Unknown,
        TokenType.Unused => TokenAttributes.Unused,
        TokenType.Normal => TokenAttributes.Normal,
        TokenType.Control => TokenAttributes.Control,
        TokenType.UserDefined => TokenAttributes.UserDefined,
        TokenType.Byte => TokenAttributes.Byte,
        _ => TokenAttributes.Undefined,
    };

    private static void SetAttribute(Dictionary<string, int> ids, TokenAttributes[] attributes, string text, TokenAttributes attribute, bool value)
    {
        // llama.cpp's token_to_id.at() fails the load when the token is missing; here it is skipped.
        if (!ids.TryGetValue(text, out int id))
            return;
        attributes[id] = value ? attributes[id] | attribute : attributes[id] & ~attribute;
    }

    /// <summary>std::tolower in the C locale: only A-Z change.</summary>
    private static string AsciiLower(string text) => string.Create(text.Length, text, static (span, source) =>
    {
        for (int i = 0; i < source.Length; i++)
            span[i] = source[i] is >= 'A' and <= 'Z' ? (char)(source[i] + 32) : source[i];
    });

    private static void Detect(ref int slot, string[] candidates, int id, string text, TokenAttributes[] attributes)
    {
        if (slot != -1 || Array.IndexOf(candidates, text) < 0)
            return;
        slot = id;
        attributes[id] |= TokenAttributes.Control;
    }
}
