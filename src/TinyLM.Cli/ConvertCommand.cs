using System.CommandLine;
using System.Reflection;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.Llama2c;
using TinyLM.Formats.SentencePiece;
using TinyLM.Formats.Slm;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Cli;

/// <summary>
/// <c>tinylm convert</c>: GGUF ⇄ .slm (tensors bit-identical; a manifest sidecar beside each .slm), a
/// llama2.c checkpoint (with <c>--tokenizer</c>) to GGUF or .slm, or a SentencePiece
/// <c>tokenizer.model</c> / llama2.c <c>tokenizer.bin</c> to a vocabulary-only GGUF.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "GGUF or .slm model, llama2.c checkpoint (.bin), SentencePiece tokenizer.model, or llama2.c tokenizer.bin." };
        var outputArg = new Argument<string?>("output") { Description = "Output file: .slm for an .slm file, otherwise GGUF.", Arity = ArgumentArity.ZeroOrOne };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Vocabulary of a checkpoint: llama2.c tokenizer.bin or SentencePiece tokenizer.model." };
        var output = new Option<string?>("--output", "-o") { Description = "Output file (instead of the second argument)." };
        var type = new Option<string>("--type") { Description = "Type of a checkpoint's weight matrices: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K, tq1_0, tq2_0, iq4_nl (rows that do not divide into the type's blocks stay f32).", DefaultValueFactory = _ => "f32" };
        var name = new Option<string?>("--name") { Description = "general.name of a checkpoint (default: the input file name)." };
        var budget = new Option<string?>("--budget")
        {
            Description = $"Largest accepted output in bytes, or 'none' (default: {ModelBudget.BrowserDefaultBytes}, the browser budget, for .slm outputs; none for GGUF).",
        };
        var alignment = new Option<int>("--alignment") { Description = "Payload alignment of an .slm output in bytes (a power of two from 8 to 65536).", DefaultValueFactory = _ => SlmWriter.DefaultAlignment };
        var noManifest = new Option<bool>("--no-manifest") { Description = "Do not write the .slm.json manifest sidecar." };
        var cmd = new Command("convert", "Convert GGUF to .slm and back, a llama2.c checkpoint to GGUF or .slm, or a tokenizer to a vocabulary-only GGUF.");
        cmd.Arguments.Add(input);
        cmd.Arguments.Add(outputArg);
        foreach (Option o in new Option[] { tokenizer, output, type, name, budget, alignment, noManifest })
            cmd.Options.Add(o);
        cmd.SetAction((parse, _) => CliCommon.Guard(parse, () =>
        {
            string inPath = parse.GetValue(input)!;
            string outPath = parse.GetValue(output) ?? parse.GetValue(outputArg)
                ?? throw new ArgumentException("Give the output file as the second argument or with -o.");
            if (parse.GetValue(output) is not null && parse.GetValue(outputArg) is not null)
                throw new ArgumentException("Give the output file either as the second argument or with -o, not both.");
            bool toSlm = outPath.EndsWith(".slm", StringComparison.OrdinalIgnoreCase);
            long? budgetBytes = CliCommon.GetBudget(parse, budget, browserDefault: toSlm);
            string? tokPath = parse.GetValue(tokenizer);
            string summary;
            if (tokPath is not null)
            {
                if (!TensorTypes.TryParse(parse.GetValue(type)!, out TensorType? matrixType) || matrixType.Type is GgmlType.Q8_1 or GgmlType.Q8_K)
                    throw new ArgumentException($"Unknown --type '{parse.GetValue(type)}'.");
                using Llama2cCheckpoint ckpt = Llama2cCheckpoint.Open(inPath);
                Vocabulary vocab = ReadVocabulary(tokPath, ckpt.VocabSize);
                GgufWriter writer = Llama2cConverter.ToGguf(ckpt, vocab, parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(inPath), matrixType);
                summary = $"llama: dim {ckpt.Dim}, {ckpt.Layers} layers, {ckpt.Heads} heads ({ckpt.KVHeads} KV), FFN {ckpt.HiddenDim}, vocab {ckpt.VocabSize}, context {ckpt.SeqLen}, {(ckpt.SharedClassifier ? "tied" : "separate")} output, {matrixType.Name} matrices";
                if (toSlm)
                {
                    using GgufFile gguf = GgufFile.Load(writer.ToArray(), inPath);
                    WriteSlm(gguf, inPath, "llama2c", outPath, parse.GetValue(alignment), budgetBytes, !parse.GetValue(noManifest));
                }
                else
                {
                    writer.WriteTo(outPath);
                    CheckWrittenBudget(outPath, budgetBytes);
                }
            }
            else if (CliCommon.IsGguf(inPath) && !IsVocabularyOnly(inPath))
            {
                if (!toSlm)
                    throw new ArgumentException($"{inPath}: expected a checkpoint, tokenizer or .slm input for a GGUF output, found a GGUF file (give an .slm output to convert it to .slm).");
                using GgufFile gguf = GgufFile.Open(inPath);
                summary = WriteSlm(gguf, inPath, "gguf", outPath, parse.GetValue(alignment), budgetBytes, !parse.GetValue(noManifest));
            }
            else if (CliCommon.IsSlm(inPath))
            {
                using SlmFile slm = SlmFile.Open(inPath);
                using SlmModelFile admitted = slm.Admit();
                if (toSlm)
                {
                    summary = WriteSlm(admitted, inPath, "slm", outPath, parse.GetValue(alignment), budgetBytes, !parse.GetValue(noManifest));
                }
                else
                {
                    SlmConverter.ToGguf(admitted).WriteTo(outPath);
                    CheckWrittenBudget(outPath, budgetBytes);
                    summary = $"GGUF from .slm: {admitted.Tensors.Count} tensors (bit-identical), {admitted.Metadata.Count} metadata keys";
                }
            }
            else
            {
                Vocabulary vocab = ReadVocabulary(inPath, null);
                var writer = new GgufWriter();
                vocab.WriteTo(writer.Metadata);
                summary = $"vocabulary: {vocab.Model}, {vocab.Count} tokens";
                writer.WriteTo(outPath);
            }
            Console.Error.WriteLine($"wrote {outPath} ({CliCommon.Bytes(new FileInfo(outPath).Length)}): {summary}");
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>Converts to .slm (refusing an output over the budget before writing), admits the result, writes the manifest.</summary>
    private static string WriteSlm(IModelFile source, string sourcePath, string sourceFormat, string outPath, int alignment, long? budgetBytes, bool manifest)
    {
        SlmWriter writer = SlmConverter.FromModelFile(source, alignment);
        long size = writer.ComputeFileSize();
        if (budgetBytes is long b)
            ModelBudget.Check(outPath, size, source.Tensors, b);
        writer.WriteTo(outPath);
        using SlmFile written = SlmFile.Open(outPath);
        using (written.Admit())
        {
        }
        string summary = $".slm v1: {written.Tensors.Count} tensors (bit-identical), {written.Tokenizer.Tokens.Count} tokens, {written.ParameterCount:N0} parameters, xxh64 {written.Header.FileChecksum:x16}";
        if (manifest)
        {
            SlmManifest m = SlmManifest.Describe(written, Path.GetFileName(outPath), CliCommon.Sha256(outPath),
                Path.GetFileName(sourcePath), sourceFormat, new FileInfo(sourcePath).Length, CliCommon.Sha256(sourcePath), ToolVersion);
            File.WriteAllText(SlmManifest.PathFor(outPath), m.ToJson());
            summary += $"; manifest {Path.GetFileName(SlmManifest.PathFor(outPath))}";
        }
        return summary;
    }

    /// <summary>The tool's version (the assembly's informational version without build metadata).</summary>
    public static string ToolVersion =>
        (typeof(ConvertCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary>Refuses a written GGUF over the budget (its size is known only once written), deleting it.</summary>
    private static void CheckWrittenBudget(string path, long? budgetBytes)
    {
        if (budgetBytes is not long b || new FileInfo(path).Length <= b)
            return;
        try
        {
            using GgufFile written = GgufFile.Open(path);
            ModelBudget.Check(path, written.FileSize, written.Tensors, b);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static bool IsVocabularyOnly(string path)
    {
        using GgufFile f = GgufFile.Open(path);
        return f.Tensors.Count == 0;
    }

    /// <summary>Reads a SentencePiece protobuf (first byte 0x0A, field 1) or a llama2.c tokenizer.bin.</summary>
    private static Vocabulary ReadVocabulary(string path, int? vocabSize)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length >= 4 && BitConverter.ToUInt32(bytes, 0) == GgufFile.Magic)
            throw new ModelFormatException(path, 0, "expected a tokenizer.model or tokenizer.bin, found a GGUF file");
        return bytes.Length > 0 && bytes[0] == 0x0A
            ? SentencePieceModel.Read(bytes, path)
            : Llama2cTokenizer.Read(bytes, path, vocabSize);
    }
}
