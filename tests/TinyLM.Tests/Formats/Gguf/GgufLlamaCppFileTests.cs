using TinyLM.Formats.Gguf;
using Xunit;

namespace TinyLM.Tests.Formats.Gguf;

/// <summary>Reads the vocabulary-only GGUF files shipped with llama.cpp (written by its Python converter).</summary>
public sealed class GgufLlamaCppFileTests
{
    public static TheoryData<string> VocabFiles => LlamaCppPeer.VocabFileNames();

    [LlamaCppTheory]
    [MemberData(nameof(VocabFiles))]
    public void Open_LlamaCppVocabFile_ParsesTokenizerMetadata(string fileName)
    {
        string path = Path.Combine(LlamaCppPeer.RequireModelsFolder(), fileName);
        using GgufFile file = GgufFile.Open(path);

        Assert.InRange(file.Version, 2u, 3u);
        Assert.Equal(path, file.Source);
        Assert.True(file.DataOffset <= file.Buffer.Length);
        // gguf-py pads the header only when tensors follow; then the data section is aligned.
        Assert.True(file.Tensors.Count == 0 || file.DataOffset % file.Alignment == 0);
        Assert.False(string.IsNullOrEmpty(file.Metadata.GetString("tokenizer.ggml.model")));
        string[] tokens = file.Metadata.GetStringArray("tokenizer.ggml.tokens");
        Assert.NotEmpty(tokens);
        if (file.Metadata.ContainsKey("tokenizer.ggml.token_type"))
            Assert.Equal(tokens.Length, file.Metadata.GetInt32Array("tokenizer.ggml.token_type").Length);
        if (file.Metadata.ContainsKey("tokenizer.ggml.scores"))
            Assert.Equal(tokens.Length, file.Metadata.GetSingleArray("tokenizer.ggml.scores").Length);
        foreach (GgufTensorInfo t in file.Tensors)
            Assert.True(t.Offset + t.ByteSize <= file.Buffer.Length - file.DataOffset);
    }

    [LlamaCppFact]
    public void Open_LlamaSpmVocab_HasLlamaModelAnd32000Tokens()
    {
        using GgufFile file = GgufFile.Open(Path.Combine(LlamaCppPeer.RequireModelsFolder(), "ggml-vocab-llama-spm.gguf"));

        Assert.Equal("llama", file.Architecture);
        Assert.Equal("llama", file.Metadata.GetString("tokenizer.ggml.model"));
        string[] tokens = file.Metadata.GetStringArray("tokenizer.ggml.tokens");
        Assert.Equal(32000, tokens.Length);
        Assert.Equal("<unk>", tokens[0]);
        Assert.Equal("<s>", tokens[1]);
        Assert.Equal("</s>", tokens[2]);
        Assert.Equal("<0x0A>", tokens[13]);
        Assert.Equal(32000, file.Metadata.GetSingleArray("tokenizer.ggml.scores").Length);
        Assert.Equal(1, file.Metadata.GetInt32("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2, file.Metadata.GetInt32("tokenizer.ggml.eos_token_id"));
        Assert.Empty(file.Tensors);
    }

    /// <summary>
    /// The writer reproduces gguf-py's bytes exactly, except that it always writes version 3 and, like
    /// gguf.cpp, pads the header to the alignment even when no tensors follow.
    /// </summary>
    [LlamaCppTheory]
    [MemberData(nameof(VocabFiles))]
    public void Writer_RewritesLlamaCppVocabFile_ByteForByte(string fileName)
    {
        byte[] original = File.ReadAllBytes(Path.Combine(LlamaCppPeer.RequireModelsFolder(), fileName));
        using GgufFile file = GgufFile.Load(original, fileName);
        Assert.Empty(file.Tensors);
        var writer = new GgufWriter();
        foreach (KeyValuePair<string, GgufValue> kv in file.Metadata)
            writer.Metadata.Set(kv.Key, kv.Value);

        byte[] written = writer.ToArray();

        Assert.Equal(3u, BitConverter.ToUInt32(written, 4));
        Assert.Equal((original.Length + file.Alignment - 1) / file.Alignment * file.Alignment, written.Length);
        Assert.True(written.AsSpan(0, 4).SequenceEqual(original.AsSpan(0, 4)));
        Assert.True(written.AsSpan(8, original.Length - 8).SequenceEqual(original.AsSpan(8)), "header after the version differs");
        Assert.DoesNotContain(written.Skip(original.Length), b => b != 0);
    }
}
