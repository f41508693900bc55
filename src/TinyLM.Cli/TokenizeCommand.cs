using System.CommandLine;
using System.Text;
using TinyLM.Formats.Gguf;
using TinyLM.Tokenizers;

namespace TinyLM.Cli;

/// <summary><c>tinylm tokenize</c>: token ids of a text, like llama.cpp's tokenizer tool.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption();
        model.Description = "GGUF model or vocabulary-only file (default: the embedded stories260K).";
        var prompt = new Option<string>("--prompt", "-p") { Description = "Text to tokenize.", Required = true };
        var pieces = new Option<bool>("--pieces") { Description = "Also show each token's piece." };
        var bos = new Option<bool>("--add-bos") { Description = "Add the vocabulary's BOS/EOS as when generating." };
        var special = new Option<bool>("--parse-special") { Description = "Recognize special tokens such as <s> in the text." };
        var cmd = new Command("tokenize", "Print the token ids of a text on one line, space-separated (no BOS unless --add-bos).");
        foreach (Option o in new Option[] { model, prompt, pieces, bos, special })
            cmd.Options.Add(o);
        cmd.SetAction((parse, _) => CliCommon.Guard(parse, () =>
        {
            string? path = parse.GetValue(model);
            using GgufFile gguf = path is null ? GgufFile.Load(DefaultModel.ReadBytes(), DefaultModel.Name + " (embedded)") : GgufFile.Open(path);
            Tokenizer tokenizer = Tokenizer.Create(Vocabulary.FromGguf(gguf.Metadata));
            int[] ids = tokenizer.EncodeToIds(parse.GetValue(prompt)!, parse.GetValue(bos), parse.GetValue(special));
            var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false));
            stdout.WriteLine(string.Join(' ', ids));
            if (parse.GetValue(pieces))
                foreach (int id in ids)
                    stdout.WriteLine($"{id,6} -> '{Encoding.UTF8.GetString(tokenizer.GetPieceBytes(id, renderSpecial: true))}'");
            stdout.Flush();
            return Task.FromResult(0);
        }));
        return cmd;
    }
}
