namespace TinyLM.Formats.Gguf;

/// <summary>Parses and validates GGUF bytes. See <see cref="GgufFile"/>.</summary>
internal static class GgufReader
{
    // TO BE IMPLEMENTED (helper): full validating parser.
    public static GgufFile Read(ModelBuffer buffer, bool ownsBuffer) => throw new NotImplementedException();
}
