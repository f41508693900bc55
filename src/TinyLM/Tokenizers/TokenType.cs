namespace TinyLM.Tokenizers;

/// <summary>
/// Token types as stored in <c>tokenizer.ggml.token_type</c> (llama.cpp <c>enum llama_token_type</c>,
/// the same values as SentencePiece's <c>ModelProto.SentencePiece.Type</c> plus one).
/// </summary>
public enum TokenType
{
    /// <summary>Not set.</summary>
    Undefined = 0,
    /// <summary>An ordinary piece of text.</summary>
    Normal = 1,
    /// <summary>The unknown token (<c>&lt;unk&gt;</c>).</summary>
    Unknown = 2,
    /// <summary>A control token such as <c>&lt;s&gt;</c> or <c>&lt;/s&gt;</c>; renders as nothing.</summary>
    Control = 3,
    /// <summary>A user-defined token, matched verbatim.</summary>
    UserDefined = 4,
    /// <summary>An unused slot.</summary>
    Unused = 5,
    /// <summary>A byte-fallback token <c>&lt;0xNN&gt;</c>.</summary>
    Byte = 6,
}
