using System.CommandLine;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.Slm;
using TinyLM.Models;

namespace TinyLM.Cli;

/// <summary>
/// <c>tinylm verify</c>: runs admission on a model file and prints each stage — parse, budget,
/// validate, manifest — with "ok" or "FAILED" and the error state; exit code 1 when a stage fails.
/// </summary>
/// <remarks>
/// For an .slm file the stages are those of docs/slm-format.md; for GGUF, parse is the GGUF reader
/// and validate binds the model (hyperparameters, vocabulary, tensor shapes) as loading does.
/// </remarks>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = ".slm or GGUF model file." };
        var budget = CliCommon.BudgetOption(browserDefault: true);
        var manifest = new Option<string?>("--manifest") { Description = "Manifest to check (default: FILE.json when it exists)." };
        var cmd = new Command("verify", "Run admission on a model file (.slm or GGUF) and print each stage; exit code 1 when a stage fails.");
        cmd.Arguments.Add(file);
        cmd.Options.Add(budget);
        cmd.Options.Add(manifest);
        cmd.SetAction((parse, _) => CliCommon.Guard(parse, () =>
        {
            string path = parse.GetValue(file)!;
            long? budgetBytes = CliCommon.GetBudget(parse, budget, browserDefault: true);
            if (!File.Exists(path))
                throw new FileNotFoundException($"Model file not found: {path}", path);
            Console.Out.WriteLine($"file: {path}");
            bool ok = CliCommon.IsSlm(path)
                ? VerifySlm(path, budgetBytes, parse.GetValue(manifest))
                : VerifyGguf(path, budgetBytes);
            Console.Out.WriteLine(ok ? "result: admitted" : "result: refused");
            return Task.FromResult(ok ? 0 : 1);
        }));
        return cmd;
    }

    private static void Stage(string stage, string status, string detail) => Console.Out.WriteLine($"{stage,-9} {status,-7} {detail}");

    private static string Describe(ModelAdmissionException e) => $"{e.Error}{(e.Offset >= 0 ? $" at byte {e.Offset}" : "")}: {e.Reason}";

    /// <summary>Runs the stages in order; a failed stage marks the rest skipped.</summary>
    private static bool Run(params (string Stage, Func<string> Body)[] stages)
    {
        for (int i = 0; i < stages.Length; i++)
        {
            try
            {
                Stage(stages[i].Stage, "ok", stages[i].Body());
            }
            catch (Exception e) when (e is ModelAdmissionException or ModelFormatException)
            {
                Stage(stages[i].Stage, "FAILED", e is ModelAdmissionException a ? Describe(a) : ((ModelFormatException)e).Reason + (((ModelFormatException)e).Offset >= 0 ? $" (at byte {((ModelFormatException)e).Offset})" : ""));
                for (int j = i + 1; j < stages.Length; j++)
                    Stage(stages[j].Stage, "skipped", "");
                return false;
            }
        }
        return true;
    }

    private static bool VerifySlm(string path, long? budgetBytes, string? manifestPath)
    {
        SlmFile? slm = null;
        try
        {
            manifestPath ??= File.Exists(SlmManifest.PathFor(path)) ? SlmManifest.PathFor(path) : null;
            return Run(
                ("parse", () =>
                {
                    slm = SlmFile.Open(path);
                    SlmHeader h = slm.Header;
                    return $".slm v{h.Version}, {slm.ArchitectureName}, {h.TensorCount} tensors, {slm.Tokenizer.Tokens.Count} tokens, {h.FileSize:N0} bytes; header, directory, tokenizer and metadata checksums match";
                }),
                ("budget", () =>
                {
                    if (budgetBytes is not long b)
                        return "no budget";
                    slm!.CheckBudget(b);
                    return $"{slm.Header.FileSize:N0} bytes <= {b:N0}";
                }),
                ("validate", () =>
                {
                    slm!.Validate();
                    return $"hyperparameters, tokenizer, {slm.Tensors.Count} tensor bounds and shapes, payload checksums, finite values, file checksum {slm.Header.FileChecksum:x16}";
                }),
                ("admit", () =>
                {
                    using SlmModelFile admitted = slm!.Admit();
                    using Model model = Model.Load(admitted, ownsFile: false);
                    return $"{model.Architecture}, {model.ParameterCount:N0} parameters, context {model.ContextLength}";
                }),
                ("manifest", () =>
                {
                    if (manifestPath is null)
                        return $"none ({Path.GetFileName(SlmManifest.PathFor(path))} not found)";
                    SlmManifest m = SlmManifest.Parse(File.ReadAllText(manifestPath), manifestPath);
                    m.CheckAgainst(slm!, CliCommon.Sha256(path));
                    return $"{manifestPath} matches (size, xxh64{(m.Sha256 is null ? "" : ", sha256")}); source {m.SourceFile}, {m.Quantization}, license {m.License}, quality {m.Quality}";
                }));
        }
        finally
        {
            slm?.Dispose();
        }
    }

    private static bool VerifyGguf(string path, long? budgetBytes)
    {
        GgufFile? gguf = null;
        try
        {
            return Run(
                ("parse", () =>
                {
                    gguf = GgufFile.Open(path);
                    return $"GGUF v{gguf.Version}, {gguf.Architecture ?? "no architecture"}, {gguf.Tensors.Count} tensors, {gguf.FileSize:N0} bytes";
                }),
                ("budget", () =>
                {
                    if (budgetBytes is not long b)
                        return "no budget";
                    ModelBudget.Check(path, gguf!.FileSize, gguf.Tensors, b);
                    return $"{gguf.FileSize:N0} bytes <= {b:N0}";
                }),
                ("validate", () =>
                {
                    using Model model = Model.Load(gguf!, ownsFile: false);
                    return $"{model.Architecture}, {model.ParameterCount:N0} parameters: hyperparameters, vocabulary and tensor shapes bind (GGUF has no checksums)";
                }));
        }
        finally
        {
            gguf?.Dispose();
        }
    }
}
