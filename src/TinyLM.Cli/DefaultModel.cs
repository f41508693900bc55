using System.Reflection;
using TinyLM.Models;

namespace TinyLM.Cli;

/// <summary>
/// The model embedded in the tool: stories260K (Karpathy's tinyllamas, MIT), converted from its
/// llama2.c checkpoint to GGUF by <c>tinylm convert</c> (see models/README.md).
/// </summary>
internal static class DefaultModel
{
    public const string Name = "stories260K.gguf";

    public static byte[] ReadBytes()
    {
        using Stream s = Assembly.GetExecutingAssembly().GetManifestResourceStream(Name)
            ?? throw new InvalidOperationException($"The embedded model {Name} is missing from this build.");
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Loads <paramref name="path"/> (GGUF or .slm), or the embedded model when it is null, refusing files over <paramref name="budgetBytes"/>.</summary>
    public static Model Load(string? path, long? budgetBytes = null) =>
        path is null ? Model.Load(ReadBytes(), Name + " (embedded)", budgetBytes) : Model.Load(path, budgetBytes);
}
