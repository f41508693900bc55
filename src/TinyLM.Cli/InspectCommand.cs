using System.CommandLine;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.Slm;
using TinyLM.Quantization;

namespace TinyLM.Cli;

/// <summary><c>tinylm inspect</c>: metadata and tensor table of a GGUF file; header, sections, tensor directory and manifest of an .slm file.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("file") { Description = "GGUF or .slm file (default: the embedded stories260K).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all-values") { Description = "Print arrays in full." };
        var cmd = new Command("inspect", "Show a model file's metadata, tensors (type, shape, bytes) and parameter count.");
        cmd.Arguments.Add(file);
        cmd.Options.Add(all);
        cmd.SetAction((parse, _) => CliCommon.Guard(parse, () =>
        {
            string? path = parse.GetValue(file);
            if (path is not null && CliCommon.IsSlm(path))
            {
                InspectSlm(path, parse.GetValue(all));
                return Task.FromResult(0);
            }
            using GgufFile gguf = path is null ? GgufFile.Load(DefaultModel.ReadBytes(), DefaultModel.Name + " (embedded)") : GgufFile.Open(path);
            TextWriter o = Console.Out;
            o.WriteLine($"file: {gguf.Source}");
            o.WriteLine($"format: GGUF v{gguf.Version}, {gguf.Buffer.Length:N0} bytes, alignment {gguf.Alignment}, data at {gguf.DataOffset}");
            o.WriteLine($"metadata: {gguf.Metadata.Count} keys");
            int keyWidth = gguf.Metadata.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
            foreach ((string key, GgufValue value) in gguf.Metadata)
                o.WriteLine($"  {key.PadRight(keyWidth)}  {value.Describe(),-22}  {value.ToDisplayString(parse.GetValue(all) ? int.MaxValue : 8)}");
            o.WriteLine($"tensors: {gguf.Tensors.Count}");
            if (gguf.Tensors.Count > 0)
            {
                int nameWidth = Math.Max(4, gguf.Tensors.Max(t => t.Name.Length));
                o.WriteLine($"  {"name".PadRight(nameWidth)}  {"type",-6}  {"shape",-18}  {"elements",14}  {"bytes",14}");
                foreach (GgufTensorInfo t in gguf.Tensors)
                    o.WriteLine($"  {t.Name.PadRight(nameWidth)}  {TensorTypes.Get(t.Type).Name,-6}  {t.ShapeText,-18}  {t.ElementCount,14:N0}  {t.ByteSize,14:N0}");
                long parameters = gguf.Tensors.Sum(t => t.ElementCount);
                long bytes = gguf.Tensors.Sum(t => t.ByteSize);
                o.WriteLine($"parameters: {parameters:N0} ({bytes:N0} bytes of tensor data, {8.0 * bytes / parameters:0.00} bits per weight)");
                foreach (var g in gguf.Tensors.GroupBy(t => t.Type).OrderBy(g => g.Key))
                    o.WriteLine($"  {TensorTypes.Get(g.Key).Name}: {g.Count()} tensors, {g.Sum(t => t.ElementCount):N0} parameters, {g.Sum(t => t.ByteSize):N0} bytes");
            }
            return Task.FromResult(0);
        }));
        return cmd;
    }

    /// <summary>Prints an .slm file as parsed (admission is <c>tinylm verify</c>'s job), and its manifest when present.</summary>
    private static void InspectSlm(string path, bool allValues)
    {
        using SlmFile slm = SlmFile.Open(path);
        SlmHeader h = slm.Header;
        SlmHyperparameters p = h.Hyperparameters;
        TextWriter o = Console.Out;
        o.WriteLine($"file: {slm.Source}");
        o.WriteLine($"format: .slm v{h.Version}, {h.FileSize:N0} bytes, alignment {h.Alignment}, flags {h.Flags}, file checksum {h.FileChecksum:x16}, header checksum {h.HeaderChecksum:x16}");
        o.WriteLine($"architecture: {slm.ArchitectureName} ({(uint)h.Architecture})");
        o.WriteLine($"hyperparameters: vocab {p.VocabularySize}, context {p.ContextLength}, embedding {p.EmbeddingLength}, blocks {p.BlockCount}, feed-forward {p.FeedForwardLength}, " +
            $"heads {p.HeadCount} ({p.HeadCountKV} KV), key/value length {p.KeyLength}/{p.ValueLength}, rope dims {p.RopeDimensionCount}, rms eps {p.LayerNormRmsEpsilon:R}, " +
            $"rope base {p.RopeFreqBase:R}, rope scaling {p.RopeScaling} x{p.RopeScalingFactor:R}");
        o.WriteLine($"sections: directory at {h.DirectoryOffset} ({h.TensorCount} x {SlmHeader.EntrySize} bytes, {h.DirectoryChecksum:x16}), tokenizer at {h.TokenizerOffset} ({h.TokenizerLength:N0} bytes, {h.TokenizerChecksum:x16}), " +
            $"metadata at {h.MetadataOffset} ({h.MetadataLength:N0} bytes, {h.MetadataChecksum:x16}), data at {h.DataOffset}");
        SlmTokenizer t = slm.Tokenizer;
        o.WriteLine($"tokenizer: {t.Kind} ({t.ModelName}), {t.Tokens.Count} tokens, {(t.Merges?.Count ?? 0)} merges, scores {(t.Scores is null ? "absent" : "present")}, types {(t.TokenTypes is null ? "absent" : "present")}, " +
            $"bos {t.BosTokenId}, eos {t.EosTokenId}, unk {t.UnknownTokenId}, add bos {t.AddBos?.ToString() ?? "default"}, chat template {(t.ChatTemplate is null ? "absent" : "present")}");
        o.WriteLine($"metadata: {slm.MetadataSection.Count} keys");
        int keyWidth = slm.MetadataSection.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        foreach ((string key, GgufValue value) in slm.MetadataSection)
            o.WriteLine($"  {key.PadRight(keyWidth)}  {value.Describe(),-22}  {value.ToDisplayString(allValues ? int.MaxValue : 8)}");
        o.WriteLine($"tensors: {slm.Tensors.Count}");
        int nameWidth = Math.Max(4, slm.Tensors.Max(e => e.Name.Length));
        o.WriteLine($"  {"name".PadRight(nameWidth)}  {"type",-6}  {"shape",-18}  {"elements",14}  {"offset",12}  {"bytes",14}  checksum");
        foreach (SlmTensorEntry e in slm.Tensors)
        {
            string type = TensorTypes.TryGet(e.Type, out TensorType? tt) ? tt.Name : ((uint)e.Type).ToString(System.Globalization.CultureInfo.InvariantCulture);
            o.WriteLine($"  {e.Name.PadRight(nameWidth)}  {type,-6}  {e.ShapeText,-18}  {e.ElementCount,14:N0}  {e.Offset,12}  {e.ByteSize,14:N0}  {e.Checksum:x16}");
        }
        decimal bytes = slm.Tensors.Sum(e => (decimal)e.ByteSize);
        o.WriteLine($"parameters: {slm.ParameterCount:N0} ({bytes:N0} bytes of tensor data, {8 * bytes / slm.ParameterCount:0.00} bits per weight)");
        string manifestPath = SlmManifest.PathFor(path);
        if (File.Exists(manifestPath))
        {
            SlmManifest m = SlmManifest.Parse(File.ReadAllText(manifestPath), manifestPath);
            o.WriteLine($"manifest: {manifestPath}");
            o.WriteLine($"  source: {m.SourceFile} ({m.SourceFormat}, {m.SourceByteSize:N0} bytes, sha256 {m.SourceSha256 ?? "not recorded"})");
            o.WriteLine($"  tool: {m.ToolName} {m.ToolVersion}");
            o.WriteLine($"  file: {m.File}, {m.ByteSize:N0} bytes, xxh64 {m.FileChecksum:x16}, sha256 {m.Sha256 ?? "not recorded"}");
            o.WriteLine($"  quantization: {m.Quantization} ({string.Join(", ", m.TensorTypes.Select(kv => $"{kv.Key} x{kv.Value}"))}), parameters {m.ParameterCount:N0}");
            o.WriteLine($"  license: {m.License}");
            o.WriteLine($"  quality: {m.Quality}");
        }
        else
        {
            o.WriteLine($"manifest: none ({Path.GetFileName(manifestPath)} not found)");
        }
        o.WriteLine("admission: not run by inspect (tinylm verify FILE runs it)");
    }
}
