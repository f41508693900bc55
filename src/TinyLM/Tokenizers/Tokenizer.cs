namespace TinyLM.Tokenizers;

/// <summary>STUB CONTRACT (tokenizer helper implements).</summary>
public abstract class Tokenizer
{
    /// <summary>The vocabulary.</summary>
    public abstract Vocabulary Vocabulary { get; }
    /// <summary>Creates the tokenizer for a vocabulary's model kind.</summary>
    public static Tokenizer Create(Vocabulary vocabulary) => throw new NotImplementedException();
    /// <summary>Text to token ids, like llama.cpp's llama_tokenize.</summary>
    public abstract int[] EncodeToIds(string text, bool addSpecialTokens = true, bool parseSpecialTokens = false);
    /// <summary>Bytes of one token's piece, like llama.cpp's llama_token_to_piece (no lstrip).</summary>
    public abstract ReadOnlySpan<byte> GetPieceBytes(int tokenId, bool renderSpecial = false);
    /// <summary>Token ids to text, like llama_detokenize.</summary>
    public abstract string Decode(IReadOnlyList<int> ids, bool removeSpecial = true);
}
