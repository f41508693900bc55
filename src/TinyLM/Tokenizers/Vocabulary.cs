using TinyLM.Formats.Gguf;

namespace TinyLM.Tokenizers;

/// <summary>STUB CONTRACT (tokenizer helper implements): vocabulary read from GGUF tokenizer.* keys.</summary>
public sealed class Vocabulary
{
    /// <summary><c>tokenizer.ggml.model</c>: "llama" (SentencePiece) or "gpt2" (byte-level BPE).</summary>
    public required string Model { get; init; }
    /// <summary><c>tokenizer.ggml.tokens</c>.</summary>
    public required IReadOnlyList<string> Tokens { get; init; }
    /// <summary>Number of tokens.</summary>
    public int Count => Tokens.Count;
    /// <summary><c>tokenizer.ggml.bos_token_id</c>, or -1.</summary>
    public int BosTokenId { get; init; } = -1;
    /// <summary><c>tokenizer.ggml.eos_token_id</c>, or -1.</summary>
    public int EosTokenId { get; init; } = -1;
    /// <summary><c>tokenizer.ggml.add_bos_token</c>.</summary>
    public bool AddBos { get; init; }
    /// <summary>Reads the vocabulary from GGUF metadata.</summary>
    public static Vocabulary FromGguf(GgufMetadata metadata) => throw new NotImplementedException();
    /// <summary>Writes the vocabulary's keys.</summary>
    public void WriteTo(GgufMetadata metadata) => throw new NotImplementedException();
    /// <summary>True for tokens that end generation (EOS, EOT).</summary>
    public bool IsEndOfGeneration(int id) => throw new NotImplementedException();
}
