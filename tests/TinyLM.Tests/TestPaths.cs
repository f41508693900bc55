namespace TinyLM.Tests;

/// <summary>Locations of the repository's test data, found from the test assembly's folder.</summary>
internal static class TestPaths
{
    /// <summary>The repository root (the folder holding TinyLM.slnx).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>tests/TinyLM.Tests/TestData.</summary>
    public static string TestData => Path.Combine(Root, "tests", "TinyLM.Tests", "TestData");

    /// <summary>tests/TinyLM.Tests/Goldens.</summary>
    public static string Goldens => Path.Combine(Root, "tests", "TinyLM.Tests", "Goldens");

    /// <summary>models/stories260K.gguf, the embedded default model.</summary>
    public static string DefaultModel => Path.Combine(Root, "models", "stories260K.gguf");

    /// <summary>tools/llamacpp: the llama.cpp reference peer (node_modules, source bundle, built programs after setup.sh).</summary>
    public static string LlamaCpp => Path.Combine(Root, "tools", "llamacpp");

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "TinyLM.slnx")))
                return dir;
        throw new InvalidOperationException("Cannot find the repository root (TinyLM.slnx) above " + AppContext.BaseDirectory);
    }
}
