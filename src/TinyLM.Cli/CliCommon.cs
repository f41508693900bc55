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
        Description = "GGUF or .slm model file (default: the embedded stories260K).",
    };

    /// <summary>
    /// <c>--budget BYTES</c>: largest accepted model file, in bytes, or <c>none</c>. Parse with
    /// <see cref="GetBudget"/>; <paramref name="browserDefault"/> says whether the default is the
    /// browser budget (<see cref="ModelBudget.BrowserDefaultBytes"/>) or none.
    /// </summary>
    public static Option<string?> BudgetOption(bool browserDefault) => new("--budget")
    {
        Description = browserDefault
            ? $"Largest accepted model file in bytes, or 'none' (default: {ModelBudget.BrowserDefaultBytes}, the browser budget)."
            : "Largest accepted model file in bytes, or 'none' (the default).",
    };

    /// <summary>The budget in bytes, or null for none.</summary>
    /// <exception cref="ArgumentException">The value is neither a positive integer nor 'none'.</exception>
    public static long? GetBudget(ParseResult parse, Option<string?> option, bool browserDefault)
    {
        string? text = parse.GetValue(option);
        if (text is null)
            return browserDefault ? ModelBudget.BrowserDefaultBytes : null;
        if (text.Equals("none", StringComparison.OrdinalIgnoreCase))
            return null;
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long bytes) && bytes >= 1)
            return bytes;
        throw new ArgumentException($"--budget must be a positive number of bytes or 'none', found '{text}'.");
    }

    /// <summary>True when the file at <paramref name="path"/> starts with the .slm magic.</summary>
    public static bool IsSlm(string path)
    {
        Span<byte> head = stackalloc byte[8];
        using FileStream f = File.OpenRead(path);
        return f.ReadAtLeast(head, 8, throwOnEndOfStream: false) == 8 && TinyLM.Formats.Slm.SlmFile.HasMagic(head);
    }

    /// <summary>True when the file at <paramref name="path"/> starts with the GGUF magic.</summary>
    public static bool IsGguf(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using FileStream f = File.OpenRead(path);
        return f.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && BitConverter.ToUInt32(head) == TinyLM.Formats.Gguf.GgufFile.Magic;
    }

    /// <summary>Lower-case hex SHA-256 of a file (native only; the browser runtime has no SHA-256).</summary>
    public static string Sha256(string path)
    {
        using FileStream f = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(f));
    }

    /// <summary>Runs a command body; expected failures become one line on stderr and exit code 1.</summary>
    public static async Task<int> Guard(ParseResult parse, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is ModelFormatException or ModelAdmissionException or ArgumentException or InvalidOperationException
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
