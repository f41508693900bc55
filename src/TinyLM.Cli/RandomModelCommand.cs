using System.CommandLine;
using TinyLM.Formats.Gguf;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Cli;

/// <summary><c>tinylm random-model</c>: a random-weight Llama model in a known shape, for tests and benchmarks.</summary>
internal static class RandomModelCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = "stories15M, stories15M-256 (rows divisible by 256, for K-quants and ternary types), stories110M, SmolLM-135M or TinyLlama-1.1B.", DefaultValueFactory = _ => "stories15M" };
        var kvHeads = new Option<int>("--kv-heads") { Description = "Override the number of KV heads (grouped-query attention).", DefaultValueFactory = _ => 0 };
        var type = new Option<string>("--type") { Description = "Matrix type: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K, tq1_0, tq2_0, iq4_nl.", DefaultValueFactory = _ => "q8_0" };
        var vocab = new Option<string>("--vocab") { Description = "GGUF file whose vocabulary to use (a vocabulary-only GGUF works).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--output", "-o") { Description = "Output GGUF file.", Required = true };
        var cmd = new Command("random-model", "Write a Llama model with deterministic random weights (test and benchmark models).");
        foreach (Option o in new Option[] { shape, kvHeads, type, vocab, seed, output })
            cmd.Options.Add(o);
        cmd.SetAction((parse, _) => CliCommon.Guard(parse, () =>
        {
            if (!RandomLlama.Shapes.TryGetValue(parse.GetValue(shape)!, out RandomLlama.Shape? s))
                throw new ArgumentException($"Unknown --shape '{parse.GetValue(shape)}'; expected one of {string.Join(", ", RandomLlama.Shapes.Keys)}.");
            if (parse.GetValue(kvHeads) > 0)
                s = s with { HeadCountKV = parse.GetValue(kvHeads) };
            if (!TensorTypes.TryParse(parse.GetValue(type)!, out TensorType? t) || t.Type is GgmlType.Q8_1 or GgmlType.Q8_K)
                throw new ArgumentException($"Unknown --type '{parse.GetValue(type)}'.");
            Vocabulary v;
            using (GgufFile vf = GgufFile.Open(parse.GetValue(vocab)!))
                v = Vocabulary.FromGguf(vf.Metadata);
            string path = parse.GetValue(output)!;
            RandomLlama.Create(s, v, t, parse.GetValue(seed)).WriteTo(path);
            Console.Error.WriteLine($"wrote {path} ({CliCommon.Bytes(new FileInfo(path).Length)}): {s}, {t.Name}");
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
