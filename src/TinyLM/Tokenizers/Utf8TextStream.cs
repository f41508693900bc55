namespace TinyLM.Tokenizers;

/// <summary>STUB CONTRACT (tokenizer helper implements): turns a stream of token bytes into valid UTF-8 text.</summary>
public sealed class Utf8TextStream
{
    /// <summary>Appends bytes, returns the text completed so far (possibly empty).</summary>
    public string Append(ReadOnlySpan<byte> bytes) => throw new NotImplementedException();
    /// <summary>Returns pending incomplete bytes as U+FFFD replacement text and resets.</summary>
    public string Flush() => throw new NotImplementedException();
}
