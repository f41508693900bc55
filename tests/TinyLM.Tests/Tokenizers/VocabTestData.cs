using System.Text;
using TinyLM.Formats.Llama2c;
using TinyLM.Formats.SentencePiece;
using TinyLM.Tokenizers;

namespace TinyLM.Tests.Tokenizers;

/// <summary>The Llama 2 vocabulary and llama.cpp's tokenizer vectors, read once from TestData/vocab.</summary>
internal static class VocabTestData
{
    private static readonly Lazy<Vocabulary> FromModel = new(() => SentencePieceModel.Read(PathOf("llama2", "tokenizer.model")));
    private static readonly Lazy<Vocabulary> FromBin = new(() => Llama2cTokenizer.Read(PathOf("llama2", "tokenizer.bin"), 32000));
    private static readonly Lazy<Tokenizer> ModelTokenizer = new(() => Tokenizer.Create(FromModel.Value));
    private static readonly Lazy<Tokenizer> BinTokenizer = new(() => Tokenizer.Create(FromBin.Value));
    private static readonly Lazy<List<(byte[] Input, int[] Expected)>> Vectors = new(LoadVectors);

    /// <summary>The Llama 2 vocabulary read from tokenizer.model.</summary>
    public static Vocabulary Llama2 => FromModel.Value;

    /// <summary>The Llama 2 vocabulary read from llama2.c's tokenizer.bin.</summary>
    public static Vocabulary Llama2FromBin => FromBin.Value;

    /// <summary>The tokenizer of <see cref="Llama2"/>.</summary>
    public static Tokenizer Llama2Tokenizer => ModelTokenizer.Value;

    /// <summary>The tokenizer of <see cref="Llama2FromBin"/>.</summary>
    public static Tokenizer Llama2cTokenizerBin => BinTokenizer.Value;

    /// <summary>llama.cpp's test-tokenizer-0 vectors for the Llama 2 vocabulary (llama-spm.inp/.out).</summary>
    public static IReadOnlyList<(byte[] Input, int[] Expected)> SpmVectors => Vectors.Value;

    /// <summary>A file under tests/TinyLM.Tests/TestData/vocab (laid out like the shared vocab folder).</summary>
    public static string PathOf(params string[] parts) => Path.Combine([TestPaths.TestData, "vocab", .. parts]);

    public static byte[] ReadBytes(params string[] parts) => File.ReadAllBytes(PathOf(parts));

    /// <summary>Splits inputs exactly as tests/test-tokenizer-0.cpp <c>read_tests</c> does.</summary>
    public static List<byte[]> SplitInputs(byte[] raw)
    {
        byte[] separator = "\n__ggml_vocab_test__\n"u8.ToArray();
        var inputs = new List<byte[]>();
        int position = 0;
        while (position < raw.Length)
        {
            int next = raw.AsSpan(position).IndexOf(separator);
            if (next < 0)
            {
                inputs.Add(raw[position..]);
                break;
            }
            inputs.Add(raw[position..(position + next)]);
            position += next + separator.Length;
        }
        return inputs;
    }

    private static List<(byte[], int[])> LoadVectors()
    {
        List<byte[]> inputs = SplitInputs(ReadBytes("tests", "llama-spm.inp"));
        string[] lines = File.ReadAllText(PathOf("tests", "llama-spm.out")).Split('\n');
        if (lines.Length > 0 && lines[^1].Length == 0)
            lines = lines[..^1]; // std::getline yields no line after the final newline
        if (inputs.Count != lines.Length)
            throw new InvalidDataException($"{inputs.Count} inputs but {lines.Length} outputs");
        var vectors = new List<(byte[], int[])>();
        for (int i = 0; i < inputs.Count; i++)
        {
            int[] ids = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(int.Parse).ToArray();
            vectors.Add((inputs[i], ids));
        }
        return vectors;
    }

    /// <summary>Ids with their pieces, for failure messages: <c>15043 'Hello'</c>.</summary>
    public static string Describe(Tokenizer tokenizer, IEnumerable<int> ids) =>
        "[" + string.Join(", ", ids.Select(id => id >= 0 && id < tokenizer.Vocabulary.Count
            ? $"{id} '{Escape(tokenizer.GetPieceBytes(id, renderSpecial: true))}'"
            : $"{id} (out of range)")) + "]";

    /// <summary>Bytes as readable text: printable ASCII and valid UTF-8 as is, the rest as \xNN.</summary>
    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        string text = Encoding.UTF8.GetString(bytes);
        if (Encoding.UTF8.GetByteCount(text) == bytes.Length && !text.Contains('\uFFFD'))
        {
            foreach (char c in text)
                sb.Append(c switch { '\n' => "\\n", '\t' => "\\t", '\r' => "\\r", < ' ' => $"\\x{(int)c:X2}", _ => c.ToString() });
            return sb.ToString();
        }
        foreach (byte b in bytes)
            sb.Append(b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:X2}");
        return sb.ToString();
    }
}
