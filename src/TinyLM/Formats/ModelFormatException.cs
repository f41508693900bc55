namespace TinyLM.Formats;

/// <summary>
/// Thrown when a model or tokenizer artifact (GGUF, llama2.c checkpoint, SentencePiece model, ...) is
/// malformed: truncated, inconsistent, hostile or of an unsupported kind.
/// </summary>
/// <remarks>
/// Every parser in TinyLM validates sizes and offsets before it allocates or reads, and reports the
/// first problem it finds with the file (or buffer) name, the byte offset where the problem was
/// detected, and a reason phrased as "expected ..., found ...". The message combines all three.
/// </remarks>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">File path or buffer name of the artifact.</param>
    /// <param name="offset">Byte offset in the artifact where the problem was detected; -1 when not tied to an offset.</param>
    /// <param name="reason">What was expected and what was found.</param>
    /// <param name="inner">Optional underlying exception.</param>
    public ModelFormatException(string source, long offset, string reason, Exception? inner = null)
        : base(Format(source, offset, reason), inner)
    {
        Source = source;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>File path or buffer name of the malformed artifact.</summary>
    public new string Source { get; }

    /// <summary>Byte offset where the problem was detected, or -1.</summary>
    public long Offset { get; }

    /// <summary>The reason, without file name and offset.</summary>
    public string Reason { get; }

    private static string Format(string source, long offset, string reason) =>
        offset >= 0 ? $"{source}: at byte {offset}: {reason}" : $"{source}: {reason}";
}
