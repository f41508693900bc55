using TinyLM.Formats.Gguf;
using TinyLM.Generation;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Sampling;
using TinyLM.Tests.Models;
using Xunit.Abstractions;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// Runs llama.cpp itself on models TinyLM quantized: llama.cpp loads them and its greedy tokens and
/// logits (portable x64 backend) equal TinyLM's bit for bit; and llama.cpp's quantizer, run now,
/// still writes what the committed goldens say.
/// </summary>
public class ModelQuantizerLiveTests(ITestOutputHelper output)
{
    [LlamaCppTheory]
    [InlineData("Q4_K_M")]
    [InlineData("Q8_0")]
    public void QuantizedStories15M_LlamaCppRunsIt_SameGreedyTokensAndLogits(string fileType)
    {
        Assert.True(QuantizationMix.TryParse(fileType, out LlamaFileType ft));
        string dir = Directory.CreateTempSubdirectory("tinylm-quant-live-").FullName;
        try
        {
            string model = Path.Combine(dir, "model.gguf");
            using (GgufFile input = GgufFile.Load(ModelQuantizerTests.InputModel("stories15M"), "stories15M"))
                ModelQuantizer.Quantize(input, ft, model);
            int count = LlamaCppPeer.AssertGreedyBitIdentical(model, "Once upon a time", 64, dir);
            output.WriteLine($"{fileType}: llama.cpp loaded TinyLM's file; {count} greedy tokens and all logits bit-identical");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [LlamaCppFact]
    public void LlamaCppQuantizer_Live_StillMatchesCommittedGoldens()
    {
        string dir = Directory.CreateTempSubdirectory("tinylm-quant-live-").FullName;
        try
        {
            string[] types = ["Q4_K_M", "Q2_K", "Q2_K_S", "TQ1_0", "Q5_1"];
            string txt = Path.Combine(dir, "stories260K.txt");
            LlamaCppPeer.Run("quantize-golden", [TestPaths.DefaultModel, txt, .. types]);
            string[] live = File.ReadAllLines(txt);
            var committed = new List<string>();
            foreach (string type in types)
            {
                ModelQuantizerTests.GoldenFileType g = ModelQuantizerTests.LoadGolden("stories260K").Single(g => g.Name == type);
                committed.Add(g.Refused ? $"ftype {g.Name} {g.Value} error" : $"ftype {g.Name} {g.Value} file {g.FileHash} {g.FileBytes}");
                committed.AddRange(g.Tensors.Select(t => $"{t.Name} {t.Type} {t.Shape} {t.Hash}"));
            }
            Assert.Equal(committed, live);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
