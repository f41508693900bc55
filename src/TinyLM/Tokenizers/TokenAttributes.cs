namespace TinyLM.Tokenizers;

/// <summary>
/// Per-token attribute flags, the values of llama.cpp's <c>enum llama_token_attr</c> (include/llama.h).
/// llama.cpp derives them from <c>tokenizer.ggml.token_type</c> and then adjusts them by token text
/// while loading (EOT/EOG/FIM detection, "unused" control tokens); see
/// <see cref="VocabularyResolver"/>.
/// </summary>
[Flags]
internal enum TokenAttributes
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    Normalized = 1 << 6,
    LStrip = 1 << 7,
    RStrip = 1 << 8,
    SingleWord = 1 << 9,
}
