using System.CommandLine;
using System.Text;
using TinyLM.Generation;
using TinyLM.Models;

namespace TinyLM.Cli;

/// <summary><c>tinylm run</c>: generate text, streaming to stdout, timings on stderr.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = CliCommon.ModelOption();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text.", DefaultValueFactory = _ => "Once upon a time" };
        var tokens = new Option<int>("--n-predict", "-n") { Description = "Tokens to generate (-1: until end of text or full context).", DefaultValueFactory = _ => 256 };
        var defaults = new GenerationOptions();
        var temp = new Option<float>("--temp") { Description = "Temperature; 0 is greedy.", DefaultValueFactory = _ => defaults.Temperature };
        var topK = new Option<int>("--top-k") { Description = "Top-k sampling; 0 disables.", DefaultValueFactory = _ => defaults.TopK };
        var topP = new Option<float>("--top-p") { Description = "Top-p (nucleus) sampling; 1 disables.", DefaultValueFactory = _ => defaults.TopP };
        var minP = new Option<float>("--min-p") { Description = "Min-p sampling; 0 disables.", DefaultValueFactory = _ => defaults.MinP };
        var repeat = new Option<float>("--repeat-penalty") { Description = "Repetition penalty; 1 disables.", DefaultValueFactory = _ => defaults.RepeatPenalty };
        var repeatLastN = new Option<int>("--repeat-last-n") { Description = "Tokens the penalties look back over (-1: whole context).", DefaultValueFactory = _ => defaults.RepeatLastN };
        var frequency = new Option<float>("--frequency-penalty") { Description = "Frequency penalty.", DefaultValueFactory = _ => 0f };
        var presence = new Option<float>("--presence-penalty") { Description = "Presence penalty.", DefaultValueFactory = _ => 0f };
        var seed = new Option<ulong>("--seed", "-s") { Description = "Sampler seed; the same seed gives the same text.", DefaultValueFactory = _ => defaults.Seed };
        var ctx = new Option<int>("--ctx-size", "--ctx", "-c") { Description = "Context length in tokens (0: the model's, at most 4096).", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads", "-t") { Description = "Threads (0: one per core, at most 8).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size", "-b") { Description = "Prompt tokens per batch.", DefaultValueFactory = _ => 256 };
        var stop = new Option<string[]>("--stop") { Description = "Stop when this text appears (repeatable).", AllowMultipleArgumentsPerToken = false };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating after the end-of-text token." };
        var noPrompt = new Option<bool>("--no-display-prompt") { Description = "Do not echo the prompt." };
        var budget = CliCommon.BudgetOption(browserDefault: false);

        var cmd = new Command("run", "Generate text from a prompt with a model (default: the embedded stories260K).");
        foreach (Option o in new Option[] { model, prompt, tokens, temp, topK, topP, minP, repeat, repeatLastN, frequency, presence, seed, ctx, threads, batch, stop, ignoreEos, noPrompt, budget })
            cmd.Options.Add(o);
        cmd.SetAction((parse, cancel) => CliCommon.Guard(parse, async () =>
        {
            var options = new GenerationOptions
            {
                MaxTokens = parse.GetValue(tokens),
                Temperature = parse.GetValue(temp),
                TopK = parse.GetValue(topK),
                TopP = parse.GetValue(topP),
                MinP = parse.GetValue(minP),
                RepeatPenalty = parse.GetValue(repeat),
                RepeatLastN = parse.GetValue(repeatLastN),
                FrequencyPenalty = parse.GetValue(frequency),
                PresencePenalty = parse.GetValue(presence),
                Seed = parse.GetValue(seed),
                Stop = parse.GetValue(stop) ?? [],
                IgnoreEos = parse.GetValue(ignoreEos),
            };
            options.Validate();
            var sessionOptions = new SessionOptions
            {
                ContextLength = parse.GetValue(ctx),
                Threads = parse.GetValue(threads),
                BatchSize = parse.GetValue(batch),
            };
            sessionOptions.Validate();
            string text = parse.GetValue(prompt) ?? "";
            using Model m = DefaultModel.Load(parse.GetValue(model), CliCommon.GetBudget(parse, budget, browserDefault: false));
            using InferenceSession session = m.CreateSession(sessionOptions);
            var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
            if (!parse.GetValue(noPrompt))
                await stdout.WriteAsync(text);
            await foreach (string piece in session.GenerateAsync(text, options, cancel))
                await stdout.WriteAsync(piece);
            await stdout.WriteLineAsync();
            GenerationResult r = session.LastResult!;
            GenerationTimings t = r.Timings;
            Console.Error.WriteLine(
                $"model: {m.Name} ({m.Architecture}, {m.ParameterCount:N0} parameters, {CliCommon.Bytes(m.WeightBytes)}), context {session.ContextLength}, {session.Threads} thread(s)");
            Console.Error.WriteLine($"prompt: {t.PromptTokens} tokens in {t.PromptMilliseconds:0.00} ms ({t.PromptTokensPerSecond:0.0} tokens/s)");
            Console.Error.WriteLine($"generation: {t.GeneratedTokens} tokens in {t.GenerationMilliseconds:0.00} ms ({t.GenerationTokensPerSecond:0.0} tokens/s), time to first token {t.TimeToFirstTokenMilliseconds:0.00} ms, stop: {r.StopReason}");
            return 0;
        }));
        return cmd;
    }
}
