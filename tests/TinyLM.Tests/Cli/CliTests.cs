using TinyLM.Formats.Gguf;
using TinyLM.Models;
using TinyLM.Tests.Models;

namespace TinyLM.Tests.Cli;

public class CliTests
{
    [Fact]
    public void Run_DefaultModelGreedy_PrintsLlamaCppContinuationAndTimings()
    {
        LlamaCppGolden g = LlamaCppGolden.Load("stories260K-f32");
        var (code, stdout, stderr) = CliRunner.Run("run", "-p", g.Prompt, "-n", "128", "--temp", "0");
        Assert.True(code == 0, stderr);
        Assert.Equal(g.Prompt + g.GeneratedText + "\n", stdout);
        Assert.Contains("prompt:", stderr);
        Assert.Contains("tokens/s", stderr);
    }

    [Fact]
    public void Run_SameSeed_SameOutput()
    {
        var a = CliRunner.Run("run", "-n", "40", "--seed", "9", "--threads", "1");
        var b = CliRunner.Run("run", "-n", "40", "--seed", "9", "--threads", "2");
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(a.Stdout, b.Stdout);
        Assert.StartsWith("Once upon a time", a.Stdout);
    }

    [Fact]
    public void Run_MissingModel_OneLineErrorAndNonZeroExit()
    {
        var (code, stdout, stderr) = CliRunner.Run("run", "-m", "/nonexistent/model.gguf");
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.StartsWith("tinylm: error:", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public void Run_TruncatedModel_ClearErrorWithoutStackTrace_VerboseShowsIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tinylm-trunc-{Guid.NewGuid():N}.gguf");
        byte[] bytes = File.ReadAllBytes(TestPaths.DefaultModel);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var (code, _, stderr) = CliRunner.Run("run", "-m", path);
            Assert.Equal(1, code);
            Assert.StartsWith("tinylm: error: " + path, stderr);
            Assert.DoesNotContain("   at ", stderr);
            var verbose = CliRunner.Run("run", "-m", path, "--verbose");
            Assert.Contains("ModelFormatException", verbose.Stderr);
            Assert.Contains("   at ", verbose.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Run_BadOption_ReportsError()
    {
        var (code, _, stderr) = CliRunner.Run("run", "--top-p", "2");
        Assert.NotEqual(0, code);
        Assert.Contains("TopP", stderr);
    }

    [Fact]
    public void Inspect_DefaultModel_ShowsMetadataTensorsAndParameters()
    {
        var (code, stdout, stderr) = CliRunner.Run("inspect");
        Assert.True(code == 0, stderr);
        Assert.Contains("general.architecture", stdout);
        Assert.Contains("\"llama\"", stdout);
        Assert.Contains("blk.0.attn_q.weight", stdout);
        Assert.Contains("[64, 64]", stdout);
        using GgufFile f = GgufFile.Open(TestPaths.DefaultModel);
        Assert.Contains($"parameters: {f.Tensors.Sum(t => t.ElementCount):N0}", stdout);
    }

    [Fact]
    public void Tokenize_PrintsIdsWithoutBos_AndPieces()
    {
        using Model m = Model.Load(TestPaths.DefaultModel);
        int[] expected = m.Tokenizer.EncodeToIds("Once upon a time", addSpecialTokens: false);
        var (code, stdout, _) = CliRunner.Run("tokenize", "-p", "Once upon a time");
        Assert.Equal(0, code);
        Assert.Equal(string.Join(' ', expected) + "\n", stdout);
        var pieces = CliRunner.Run("tokenize", "-p", "Once upon a time", "--pieces");
        Assert.Contains("-> '", pieces.Stdout);
    }

    [Fact]
    public void Convert_Stories260K_ReproducesTheEmbeddedModel()
    {
        string dir = Path.Combine(TestPaths.TestData, "stories260K");
        string output = Path.Combine(Path.GetTempPath(), $"tinylm-conv-{Guid.NewGuid():N}.gguf");
        try
        {
            var (code, _, stderr) = CliRunner.Run("convert", Path.Combine(dir, "stories260K.bin"), "--tokenizer", Path.Combine(dir, "tok512.bin"),
                "--name", "stories260K", "-o", output);
            Assert.True(code == 0, stderr);
            Assert.Equal(File.ReadAllBytes(TestPaths.DefaultModel), File.ReadAllBytes(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Convert_TokenizerModel_WritesVocabularyOnlyGgufThatTokenizes()
    {
        string output = Path.Combine(Path.GetTempPath(), $"tinylm-vocab-{Guid.NewGuid():N}.gguf");
        try
        {
            var (code, _, stderr) = CliRunner.Run("convert", Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model"), "-o", output);
            Assert.True(code == 0, stderr);
            using (GgufFile f = GgufFile.Open(output))
            {
                Assert.Empty(f.Tensors);
                Assert.Equal("llama", f.Metadata.GetString("tokenizer.ggml.model"));
                Assert.Equal(32000, f.Metadata.GetStringArray("tokenizer.ggml.tokens").Length);
            }
            var (tcode, stdout, _) = CliRunner.Run("tokenize", "-m", output, "-p", "Hello world");
            Assert.Equal(0, tcode);
            Assert.Equal("15043 3186\n", stdout);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public void Convert_Llama2cTokenizerBin_WritesTheSameVocabularyAsTokenizerModel()
    {
        string dir = Directory.CreateTempSubdirectory("tinylm-vocab-").FullName;
        try
        {
            string fromBin = Path.Combine(dir, "bin.gguf"), fromModel = Path.Combine(dir, "model.gguf");
            Assert.Equal(0, CliRunner.Run("convert", Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.bin"), "-o", fromBin).ExitCode);
            Assert.Equal(0, CliRunner.Run("convert", Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model"), "-o", fromModel).ExitCode);
            using GgufFile a = GgufFile.Open(fromBin), b = GgufFile.Open(fromModel);
            Assert.Equal(b.Metadata.GetStringArray("tokenizer.ggml.tokens"), a.Metadata.GetStringArray("tokenizer.ggml.tokens"));
            Assert.Equal(b.Metadata.GetInt32Array("tokenizer.ggml.token_type"), a.Metadata.GetInt32Array("tokenizer.ggml.token_type"));
            Assert.Equal("15043 3186\n", CliRunner.Run("tokenize", "-m", fromBin, "-p", "Hello world").Stdout);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Convert_GgufInput_IsRejectedClearly()
    {
        var (code, _, stderr) = CliRunner.Run("convert", TestPaths.DefaultModel, "-o", Path.Combine(Path.GetTempPath(), "x.gguf"));
        Assert.Equal(1, code);
        Assert.Contains("found a GGUF file", stderr);
    }
}
