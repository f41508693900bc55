using System.CommandLine;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.Llama2c;
using TinyLM.Formats.SentencePiece;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Cli;

/// <summary>
/// <c>tinylm convert</c>: a llama2.c checkpoint (with <c>--tokenizer</c>) to a GGUF model, or a
/// SentencePiece <c>tokenizer.model</c> / llama2.c <c>tokenizer.bin</c> to a vocabulary-only GGUF.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "llama2.c checkpoint (.bin), SentencePiece tokenizer.model, or llama2.c tokenizer.bin." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Vocabulary of a checkpoint: llama2.c tokenizer.bin or SentencePiece tokenizer.model." };
        var output = new Option<string>("--output", "-o") { Description = "Output GGUF file.", Required = true };
        var type = new Option<string>("--type") { Description = "Type of the weight matrices: f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1.", DefaultValueFactory = _ => "f32" };
        var name = new Option<string?>("--name") { Description = "general.name (default: the input file name)." };
        var cmd = new Command("convert", "Convert a llama2.c checkpoint to GGUF, or a tokenizer to a vocabulary-only GGUF.");
        cmd.Arguments.Add(input);
        foreach (Option o in new Option[] { tokenizer, output, type, name })
            cmd.Options.Add(o);
        cmd.SetAction((parse, _) => CliCommon.Guard(parse, () =>
        {
            string inPath = parse.GetValue(input)!, outPath = parse.GetValue(output)!;
            string? tokPath = parse.GetValue(tokenizer);
            GgufWriter writer;
            string summary;
            if (tokPath is not null)
            {
                if (!TensorTypes.TryParse(parse.GetValue(type)!, out TensorType? matrixType) || matrixType.Type == GgmlType.Q8_1)
                    throw new ArgumentException($"Unknown --type '{parse.GetValue(type)}'.");
                using Llama2cCheckpoint ckpt = Llama2cCheckpoint.Open(inPath);
                Vocabulary vocab = ReadVocabulary(tokPath, ckpt.VocabSize);
                writer = Llama2cConverter.ToGguf(ckpt, vocab, parse.GetValue(name) ?? Path.GetFileNameWithoutExtension(inPath), matrixType);
                summary = $"llama: dim {ckpt.Dim}, {ckpt.Layers} layers, {ckpt.Heads} heads ({ckpt.KVHeads} KV), FFN {ckpt.HiddenDim}, vocab {ckpt.VocabSize}, context {ckpt.SeqLen}, {(ckpt.SharedClassifier ? "tied" : "separate")} output, {matrixType.Name} matrices";
                writer.WriteTo(outPath);
            }
            else
            {
                Vocabulary vocab = ReadVocabulary(inPath, null);
                writer = new GgufWriter();
                vocab.WriteTo(writer.Metadata);
                summary = $"vocabulary: {vocab.Model}, {vocab.Count} tokens";
                writer.WriteTo(outPath);
            }
            Console.Error.WriteLine($"wrote {outPath} ({CliCommon.Bytes(new FileInfo(outPath).Length)}): {summary}");
            return Task.FromResult(0);
        }));
        return cmd;
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
