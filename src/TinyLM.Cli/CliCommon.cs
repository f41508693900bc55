using System.CommandLine;
using TinyLM.Formats;

namespace TinyLM.Cli;

/// <summary>Options and error handling shared by the commands.</summary>
internal static class CliCommon
{
    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Show stack traces on errors.",
        Recursive = true,
    };

    public static Option<string?> ModelOption() => new("--model", "-m")
    {
        Description = "GGUF model file (default: the embedded stories260K).",
    };

    /// <summary>Runs a command body; expected failures become one line on stderr and exit code 1.</summary>
    public static async Task<int> Guard(ParseResult parse, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is ModelFormatException or ArgumentException or InvalidOperationException
            or IOException or NotSupportedException or UnauthorizedAccessException or OperationCanceledException)
        {
            Console.Out.Flush();
            if (parse.GetValue(Verbose))
                Console.Error.WriteLine(e);
            else
                Console.Error.WriteLine($"tinylm: error: {e.Message}");
            return e is OperationCanceledException ? 130 : 1;
        }
    }

    public static string Bytes(long n) => n switch
    {
        >= 1L << 30 => $"{n / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{n / (double)(1L << 20):0.00} MiB",
        >= 1L << 10 => $"{n / 1024.0:0.0} KiB",
        _ => $"{n} B",
    };
}
