using TinyLM.Formats.Gguf;
using TinyLM.Formats.Slm;
using TinyLM.Tests.Formats.Slm;

namespace TinyLM.Tests.Cli;

/// <summary><c>tinylm convert/verify/inspect/run</c> with .slm files and <c>--budget</c>, through the real tool.</summary>
public sealed class SlmCliTests(SlmCliTests.Converted converted) : IDisposable, IClassFixture<SlmCliTests.Converted>
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tinylm-slm-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>A copy of the converted default model and its manifest in this test's folder.</summary>
    private string ConvertDefault()
    {
        string slm = PathOf("stories260K.slm");
        File.Copy(converted.Slm, slm);
        File.Copy(SlmManifest.PathFor(converted.Slm), SlmManifest.PathFor(slm));
        return slm;
    }

    /// <summary><c>tinylm convert models/stories260K.gguf stories260K.slm</c>, run once for the class.</summary>
    public sealed class Converted : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("tinylm-slm-conv-").FullName;

        public Converted()
        {
            Slm = Path.Combine(_dir, "stories260K.slm");
            var (code, _, stderr) = CliRunner.Run("convert", TestPaths.DefaultModel, Slm);
            Assert.True(code == 0, stderr);
            Assert.Contains("manifest stories260K.slm.json", stderr);
        }

        public string Slm { get; }

        public void Dispose() => Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Convert_GgufToSlmAndBack_TensorsBitIdenticalAndManifestWritten()
    {
        string slm = ConvertDefault();
        string back = PathOf("back.gguf");
        var (code, _, stderr) = CliRunner.Run("convert", slm, "-o", back);
        Assert.True(code == 0, stderr);
        using (GgufFile a = GgufFile.Open(TestPaths.DefaultModel), b = GgufFile.Open(back))
        {
            Assert.Equal(a.Tensors.Select(t => (t.Name, t.Type)), b.Tensors.Select(t => (t.Name, t.Type)));
            foreach (GgufTensorInfo t in a.Tensors)
                Assert.True(a.GetTensorData(t).SequenceEqual(b.GetTensorData(b.GetTensor(t.Name))), t.Name);
        }
        string json = File.ReadAllText(SlmManifest.PathFor(slm));
        SlmManifest m = SlmManifest.Parse(json, "manifest");
        using SlmFile f = SlmFile.Open(slm);
        m.CheckAgainst(f);
        Assert.Equal("stories260K.gguf", m.SourceFile);
        Assert.Equal("gguf", m.SourceFormat);
        Assert.Equal(64, m.SourceSha256!.Length);
        Assert.Equal("tinylm", m.ToolName);
        Assert.Equal("f32", m.Quantization);
        Assert.Equal(f.ParameterCount, m.ParameterCount);
        Assert.Equal("unknown", m.License);
        Assert.Equal("not-claimed", m.Quality);
    }

    [Fact]
    public void Verify_ValidFile_PrintsEveryStageOk()
    {
        string slm = ConvertDefault();
        var (code, stdout, stderr) = CliRunner.Run("verify", slm);
        Assert.True(code == 0, stderr + stdout);
        foreach (string stage in new[] { "parse", "budget", "validate", "admit", "manifest" })
            Assert.Matches($"(?m)^{stage} +ok ", stdout);
        Assert.Contains("result: admitted", stdout);
    }

    [Fact]
    public void Verify_CorruptFile_NamesTheErrorStateAndExitsNonZero()
    {
        string slm = ConvertDefault();
        byte[] bytes = File.ReadAllBytes(slm);
        long at = SlmTestFiles.PayloadOffset(bytes, "blk.2.ffn_up.weight");
        bytes[at + 100] ^= 0x01;
        File.WriteAllBytes(slm, bytes);
        var (code, stdout, _) = CliRunner.Run("verify", slm);
        Assert.Equal(1, code);
        Assert.Matches("(?m)^parse +ok ", stdout);
        Assert.Matches("(?m)^validate +FAILED +TensorChecksumMismatch at byte \\d+: tensor 'blk.2.ffn_up.weight'", stdout);
        Assert.Matches("(?m)^admit +skipped", stdout);
        Assert.Contains("result: refused", stdout);

        File.WriteAllBytes(slm, bytes[..1000]);
        (code, stdout, _) = CliRunner.Run("verify", slm);
        Assert.Equal(1, code);
        Assert.Matches("(?m)^parse +FAILED +Truncated", stdout);
    }

    [Fact]
    public void Verify_ManifestDisagreeing_Fails()
    {
        string slm = ConvertDefault();
        string manifest = SlmManifest.PathFor(slm);
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"byteSize\": 1053440", "\"byteSize\": 1053441"));
        var (code, stdout, _) = CliRunner.Run("verify", slm);
        Assert.Equal(1, code);
        Assert.Matches("(?m)^manifest +FAILED +ManifestMismatch", stdout);
    }

    [Fact]
    public void Inspect_Slm_ShowsHeaderTensorsAndManifest()
    {
        string slm = ConvertDefault();
        var (code, stdout, stderr) = CliRunner.Run("inspect", slm);
        Assert.True(code == 0, stderr);
        Assert.Contains("format: .slm v1", stdout);
        Assert.Contains("flags TiedOutput", stdout);
        Assert.Contains("heads 8 (4 KV)", stdout);
        Assert.Contains("tokenizer: SentencePiece (llama), 512 tokens", stdout);
        Assert.Contains("general.name", stdout);
        Assert.Matches("token_embd.weight +f32 +\\[64, 512\\]", stdout);
        Assert.Contains("manifest: " + SlmManifest.PathFor(slm), stdout);
        Assert.Contains("source: stories260K.gguf (gguf", stdout);
        Assert.Contains("quality: not-claimed", stdout);
    }

    [Fact]
    public void Run_Slm_GivesTheSameGreedyTextAsGguf()
    {
        string slm = ConvertDefault();
        var gguf = CliRunner.Run("run", "-n", "30", "--temp", "0");
        var fromSlm = CliRunner.Run("run", "-m", slm, "-n", "30", "--temp", "0");
        Assert.True(fromSlm.ExitCode == 0, fromSlm.Stderr);
        Assert.Equal(gguf.Stdout, fromSlm.Stdout);
    }

    [Fact]
    public void Budget_RefusesOnConvertVerifyAndRun_NamingSizesAndASuggestedType()
    {
        string slm = ConvertDefault();
        var convert = CliRunner.Run("convert", TestPaths.DefaultModel, PathOf("small.slm"), "--budget", "600000");
        Assert.Equal(1, convert.ExitCode);
        Assert.Contains("1,053,440 bytes, over the budget of 600,000 bytes; quantized to f16", convert.Stderr);
        Assert.False(File.Exists(PathOf("small.slm")));

        var verify = CliRunner.Run("verify", slm, "--budget", "400000");
        Assert.Equal(1, verify.ExitCode);
        Assert.Matches("(?m)^budget +FAILED +BudgetExceeded: .*over the budget of 400,000 bytes; quantized to q8_0", verify.Stdout);

        var run = CliRunner.Run("run", "-m", slm, "--budget", "1000", "-n", "2");
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("tinylm: error: ", run.Stderr);
        Assert.Contains("BudgetExceeded", run.Stderr);
        Assert.Contains("no registered type fits", run.Stderr);

        var gguf = CliRunner.Run("run", "--budget", "1000", "-n", "2");
        Assert.Equal(1, gguf.ExitCode);
        Assert.Contains("over the budget of 1,000 bytes", gguf.Stderr);

        Assert.Equal(0, CliRunner.Run("verify", slm, "--budget", "none").ExitCode);
        Assert.Contains("--budget must be", CliRunner.Run("verify", slm, "--budget", "-5").Stderr);
    }
}
