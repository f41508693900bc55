using TinyLM.Formats.Gguf;
using TinyLM.Formats.SentencePiece;
using TinyLM.Tokenizers;

namespace TinyLM.Tests.Tokenizers;

/// <summary>Vocabulary-only GGUF files: ours against llama.cpp's own converter output.</summary>
public class VocabularyGgufFileTests
{
    [LlamaCppFact]
    public void TokenizerModelConversion_WritesTheTokenizerKeysOfLlamaCppsVocabFile()
    {
        using GgufFile theirs = GgufFile.Open(Path.Combine(LlamaCppPeer.RequireModelsFolder(), "ggml-vocab-llama-spm.gguf"));
        var writer = new GgufWriter();
        SentencePieceModel.Read(Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model")).WriteTo(writer.Metadata);
        using GgufFile ours = GgufFile.Load(writer.ToArray());
        foreach ((string key, GgufValue value) in theirs.Metadata.Where(p => p.Key.StartsWith("tokenizer.", StringComparison.Ordinal)))
        {
            Assert.True(ours.Metadata.TryGetValue(key, out GgufValue? mine), $"missing {key}");
            Assert.Equal(value.Type, mine.Type);
            Assert.Equal(value.ElementType, mine.ElementType);
            Assert.Equal((System.Collections.IEnumerable)ToEnumerable(value.Value), ToEnumerable(mine.Value));
        }
    }

    [LlamaCppFact]
    public void LlamaCppVocabFile_TokenizesTheSameAsTokenizerModel()
    {
        using GgufFile theirs = GgufFile.Open(Path.Combine(LlamaCppPeer.RequireModelsFolder(), "ggml-vocab-llama-spm.gguf"));
        Tokenizer fromGguf = Tokenizer.Create(Vocabulary.FromGguf(theirs.Metadata));
        Tokenizer fromModel = Tokenizer.Create(SentencePieceModel.Read(Path.Combine(TestPaths.TestData, "vocab", "llama2", "tokenizer.model")));
        foreach (string s in new[] { "Hello world", " leading space", "日本語のテキスト", "emoji 🦙 and \t tabs\n", "" })
            Assert.Equal(fromModel.EncodeToIds(s), fromGguf.EncodeToIds(s));
    }

    private static System.Collections.IEnumerable ToEnumerable(object v) => v as System.Collections.IEnumerable is { } e and not string ? e : new[] { v };
}
