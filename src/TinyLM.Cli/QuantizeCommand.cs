using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Cli;

/// <summary>
/// <c>tinylm quantize IN OUT --type T</c>: an F32/F16/BF16 GGUF model to a quantized GGUF (or .slm) file
/// with llama.cpp's per-tensor choices (<see cref="ModelQuantizer"/>), printing each tensor's types and
/// quantization error.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "F32, F16 or BF16 GGUF model." };
        var output = new Argument<string>("output") { Description = "Output file: GGUF, or .slm (quantized to GGUF first, then converted; writes the .slm.json manifest too)." };
        var type = new Option<string>("--type", "-t")
        {
            Description = "File type, as llama.cpp's llama-quantize names it (case-insensitive): q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, "
                + "q3_k_s, q3_k_m (q3_k), q3_k_l, q4_k_s, q4_k_m (q4_k), q5_k_s, q5_k_m (q5_k), q6_k, tq1_0, tq2_0, f16, bf16, f32. "
                + "Mixes and fallbacks follow llama.cpp's rules. q2_k_s is refused where it would need an importance matrix, as in llama.cpp.",
            Required = true,
        };
        var threads = new Option<int>("--threads") { Description = "Threads quantizing rows (the output does not depend on it).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var cmd = new Command("quantize", "Quantize an F32/F16/BF16 GGUF model like llama.cpp's llama-quantize (same per-tensor types, same bytes), printing each tensor's RMSE.");
        cmd.Arguments.Add(input);
        cmd.Arguments.Add(output);
        cmd.Options.Add(type);
        cmd.Options.Add(threads);
        cmd.SetAction((parse, cancellationToken) => CliCommon.Guard(parse, () =>
        {
            string inPath = parse.GetValue(input)!, outPath = parse.GetValue(output)!;
            LlamaFileType fileType = QuantizationMix.TryParse(parse.GetValue(type), out LlamaFileType t) ? t
                : throw new ArgumentException($"Unknown --type '{parse.GetValue(type)}'; expected one of {string.Join(", ", QuantizationMix.Names.Select(n => n.Name.ToLowerInvariant()))}.");
            if (parse.GetValue(threads) < 1)
                throw new ArgumentException($"--threads must be 1 or more, found {parse.GetValue(threads)}.");
            if (!File.Exists(inPath))
                throw new FileNotFoundException($"{inPath}: file not found.");
            if (!CliCommon.IsGguf(inPath))
                throw new ArgumentException($"{inPath}: expected a GGUF model, found another format (convert it to GGUF first).");
            if (Path.GetFullPath(inPath) == Path.GetFullPath(outPath))
                throw new ArgumentException("The output must not overwrite the input.");

            bool toSlm = outPath.EndsWith(".slm", StringComparison.OrdinalIgnoreCase);
            string ggufPath = toSlm ? outPath + ".gguf.tmp" : outPath;
            var clock = Stopwatch.StartNew();
            ModelQuantizationResult result;
            using (GgufFile gguf = GgufFile.Open(inPath))
            {
                int total = gguf.Tensors.Count, index = 0;
                int width = gguf.Tensors.Max(x => x.Name.Length);
                result = ModelQuantizer.Quantize(gguf, fileType, ggufPath, new ModelQuantizerOptions { Threads = parse.GetValue(threads) },
                    r => Console.WriteLine(FormatTensor(++index, total, width, r)), cancellationToken);
            }
            string summary;
            if (toSlm)
            {
                try
                {
                    using GgufFile quantized = GgufFile.Open(ggufPath);
                    summary = ConvertCommand.WriteSlm(quantized, inPath, "gguf", outPath, Formats.Slm.SlmWriter.DefaultAlignment, null, manifest: true);
                }
                finally
                {
                    File.Delete(ggufPath);
                }
            }
            else
            {
                summary = "GGUF";
            }
            clock.Stop();
            int fellBack = result.Tensors.Count(r => r.FellBack);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{QuantizationMix.GetName(fileType)}: {result.Tensors.Count} tensors ({result.Tensors.Count(r => r.Rmse is not null)} converted, {fellBack} fell back), "
                + $"{CliCommon.Bytes(result.SourceBytes)} ({result.SourceBitsPerWeight:0.00} bpw) -> {CliCommon.Bytes(result.TargetBytes)} ({result.TargetBitsPerWeight:0.00} bpw), {clock.Elapsed.TotalSeconds:0.00} s"));
            Console.Error.WriteLine($"wrote {outPath} ({CliCommon.Bytes(new FileInfo(outPath).Length)}): {summary}");
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>One line per tensor: index, name, shape, source → target type and RMSE, or the kept type and "copied".</summary>
    private static string FormatTensor(int index, int total, int width, TensorQuantizationReport r)
    {
        string shape = "[" + string.Join(", ", r.Shape) + "]";
        string types = r.Rmse is null ? TensorTypes.Get(r.SourceType).Name : $"{TensorTypes.Get(r.SourceType).Name} -> {TensorTypes.Get(r.TargetType).Name}";
        string error = r.Rmse is double e ? string.Create(CultureInfo.InvariantCulture, $"rmse {e:0.000e+00}") : "copied";
        string fallback = r.FellBack ? " (fallback: rows do not divide into the mix's blocks)" : "";
        int digits = total.ToString(CultureInfo.InvariantCulture).Length;
        return $"[{index.ToString(CultureInfo.InvariantCulture).PadLeft(digits)}/{total}] {r.Name.PadRight(width)} {shape,-14} {types,-14} {error}{fallback}";
    }
}
