using TinyLM.Formats.Gguf;
using TinyLM.Formats.Slm;
using TinyLM.Quantization;

namespace TinyLM.Tests.Cli;

/// <summary><c>tinylm quantize</c> through the real tool.</summary>
public sealed class QuantizeCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinylm-quantize-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    [Fact]
    public void Quantize_PrintsOneLinePerTensorWithRmseAndSummary()
    {
        string output = PathOf("q4km.gguf");
        var (code, stdout, stderr) = CliRunner.Run("quantize", TestPaths.DefaultModel, output, "--type", "Q4_K_M");
        Assert.True(code == 0, stderr);
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        using GgufFile written = GgufFile.Open(output);
        Assert.Equal(written.Tensors.Count + 1, lines.Length);
        // stories260K has no output.weight: token_embd is quantized like the output (Q6_K -> Q8_0, 64 columns).
        Assert.Contains(lines, l => l.Contains("token_embd.weight") && l.Contains("[64, 512]") && l.Contains("f32 -> q8_0") && l.Contains("rmse "));
        // ffn_down has 172 columns: Q4_K -> Q5_0 -> F16, llama.cpp's last resort.
        Assert.Contains(lines, l => l.Contains("blk.0.ffn_down.weight") && l.Contains("f32 -> f16") && l.Contains("fallback"));
        Assert.Contains(lines, l => l.Contains("blk.0.attn_norm.weight") && l.Contains("copied"));
        Assert.StartsWith("Q4_K_M: 47 tensors", lines[^1]);
        Assert.Contains("bpw", lines[^1]);
        Assert.Contains("wrote " + output, stderr);
        Assert.Equal((uint)LlamaFileType.MostlyQ4_K_M, written.Metadata.GetUInt32("general.file_type"));
    }

    [Fact]
    public void Quantize_ToSlm_WritesAdmittedSlmAndManifest()
    {
        string output = PathOf("q8.slm");
        var (code, _, stderr) = CliRunner.Run("quantize", TestPaths.DefaultModel, output, "--type", "q8_0");
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(SlmManifest.PathFor(output)));
        Assert.False(File.Exists(output + ".gguf.tmp"));
        using SlmFile slm = SlmFile.Open(output);
        using SlmModelFile admitted = slm.Admit();
        Assert.Contains(admitted.Tensors, t => t.Type == GgmlType.Q8_0);
    }

    [Theory]
    [InlineData("q4_k_x")]
    [InlineData("iq2_xxs")]
    public void Quantize_UnknownType_OneLineError(string type)
    {
        var (code, stdout, stderr) = CliRunner.Run("quantize", TestPaths.DefaultModel, PathOf("x.gguf"), "--type", type);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"tinylm: error: Unknown --type '{type}'", stderr);
        Assert.False(File.Exists(PathOf("x.gguf")));
    }

    [Fact]
    public void Quantize_QuantizedInput_RefusedInOneLine()
    {
        string q8 = PathOf("q8.gguf");
        Assert.Equal(0, CliRunner.Run("quantize", TestPaths.DefaultModel, q8, "--type", "q8_0").ExitCode);
        var (code, _, stderr) = CliRunner.Run("quantize", q8, PathOf("q4.gguf"), "--type", "q4_0");
        Assert.Equal(1, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("already q8_0; requantizing is not supported", stderr);
        Assert.False(File.Exists(PathOf("q4.gguf")));
    }
}
