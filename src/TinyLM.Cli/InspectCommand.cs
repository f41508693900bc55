using System.CommandLine;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;

namespace TinyLM.Cli;

/// <summary><c>tinylm inspect</c>: metadata and tensor table of a GGUF file.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string?>("file") { Description = "GGUF file (default: the embedded stories260K).", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all-values") { Description = "Print arrays in full." };
        var cmd = new Command("inspect", "Show a model file's metadata, tensors (type, shape, bytes) and parameter count.");
        cmd.Arguments.Add(file);
        cmd.Options.Add(all);
        cmd.SetAction((parse, _) => CliCommon.Guard(parse, () =>
        {
            string? path = parse.GetValue(file);
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
}
