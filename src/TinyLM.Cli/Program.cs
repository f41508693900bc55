using System.CommandLine;
using TinyLM.Cli;

RootCommand root = new("TinyLM: run small language models locally (GGUF, .slm, llama2.c). Default model: the embedded stories260K.");
root.Options.Add(CliCommon.Verbose);
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(ConvertCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(RandomModelCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
return await root.Parse(args).InvokeAsync();
