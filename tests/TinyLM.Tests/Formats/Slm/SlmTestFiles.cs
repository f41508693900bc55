using System.Buffers.Binary;
using System.Text;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Formats.Slm;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tokenizers;

namespace TinyLM.Tests.Formats.Slm;

/// <summary>
/// Valid <c>.slm</c> files for the tests, and helpers that edit their bytes like a hostile producer:
/// change a field, then recompute the checksums (<see cref="Reseal"/>) so that the edit reaches the
/// check it targets instead of a checksum.
/// </summary>
internal static class SlmTestFiles
{
    private static readonly Lazy<byte[]> s_defaultGguf = new(() => File.ReadAllBytes(TestPaths.DefaultModel));
    private static readonly Lazy<Vocabulary> s_vocabulary = new(() =>
    {
        using GgufFile f = GgufFile.Load(s_defaultGguf.Value);
        return Vocabulary.FromGguf(f.Metadata);
    });
    private static readonly Dictionary<string, byte[]> s_tiny = [];

    /// <summary>models/stories260K.gguf.</summary>
    public static byte[] DefaultGguf => s_defaultGguf.Value;

    /// <summary>A small random Llama (dim 32, 1 layer, 4 heads, 2 KV heads, FFN 64) around the stories260K vocabulary (512 tokens).</summary>
    public static readonly RandomLlama.Shape TinyShape = new("tiny", 32, 1, 4, 2, 64, 64);

    /// <summary>A two-layer variant.</summary>
    public static readonly RandomLlama.Shape SmallShape = new("small", 64, 2, 4, 2, 128, 128);

    /// <summary>The random GGUF model in <paramref name="type"/> (cached).</summary>
    public static byte[] TinyGguf(GgmlType type, RandomLlama.Shape? shape = null, ulong seed = 7)
    {
        shape ??= TinyShape;
        string key = $"{shape.Name}-{type}-{seed}";
        lock (s_tiny)
        {
            if (!s_tiny.TryGetValue(key, out byte[]? bytes))
                s_tiny[key] = bytes = RandomLlama.Create(shape, s_vocabulary.Value, TensorTypes.Get(type), seed).ToArray();
            return bytes;
        }
    }

    /// <summary>GGUF bytes converted to .slm bytes.</summary>
    public static byte[] ToSlm(byte[] gguf, int alignment = SlmWriter.DefaultAlignment)
    {
        using GgufFile f = GgufFile.Load(gguf);
        return SlmConverter.FromModelFile(f, alignment).ToArray();
    }

    /// <summary>The tiny model as .slm bytes (a fresh copy).</summary>
    public static byte[] TinySlm(GgmlType type = GgmlType.F32) => ToSlm(TinyGguf(type));

    /// <summary>Parses, validates and admits.</summary>
    public static SlmModelFile Admit(byte[] slm, string name = "test.slm") => SlmFile.Load(slm, name).Admit();

    /// <summary>The admission error of <paramref name="slm"/>.</summary>
    public static ModelAdmissionException Refusal(byte[] slm, long? budget = null)
    {
        return Assert.Throws<ModelAdmissionException>(() =>
        {
            using SlmFile f = SlmFile.Load(slm, "hostile.slm");
            if (budget is long b)
                f.CheckBudget(b);
            f.Admit().Dispose();
        });
    }

    // --- fields

    public static uint U32(byte[] b, long at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan((int)at));
    public static ulong U64(byte[] b, long at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan((int)at));
    public static void SetU32(byte[] b, long at, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan((int)at), v);
    public static void SetU64(byte[] b, long at, ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((int)at), v);

    public static long DirectoryOffset(byte[] b) => (long)U64(b, SlmHeader.DirectoryOffsetAt);
    public static int TensorCount(byte[] b) => (int)U32(b, SlmHeader.TensorCountAt);

    /// <summary>Byte offset of the directory entry named <paramref name="name"/>.</summary>
    public static long Entry(byte[] b, string name)
    {
        for (int i = 0; i < TensorCount(b); i++)
        {
            long at = DirectoryOffset(b) + i * SlmHeader.EntrySize;
            ReadOnlySpan<byte> field = b.AsSpan((int)at, SlmHeader.NameBytes);
            if (Encoding.UTF8.GetString(field[..field.IndexOf((byte)0)]) == name)
                return at;
        }
        throw new InvalidOperationException($"no tensor {name}");
    }

    public static void SetName(byte[] b, long entry, string name)
    {
        Span<byte> field = b.AsSpan((int)entry, SlmHeader.NameBytes);
        field.Clear();
        Encoding.UTF8.GetBytes(name, field);
    }

    public static long PayloadOffset(byte[] b, string name) => (long)U64(b, Entry(b, name) + 104);

    // --- checksums

    /// <summary>Recomputes the header checksum only.</summary>
    public static void SealHeader(byte[] b) =>
        SetU64(b, SlmHeader.HeaderChecksumAt, Xxh64.Hash(b.AsSpan(0, SlmHeader.HeaderChecksumAt)));

    /// <summary>
    /// Recomputes every checksum whose region lies inside the file: tensor payloads (unless
    /// <paramref name="tensors"/> is false), directory, tokenizer, metadata, the whole file (unless
    /// <paramref name="file"/> is false), and the header.
    /// </summary>
    public static byte[] Reseal(byte[] b, bool tensors = true, bool file = true)
    {
        if (b.Length < SlmHeader.Size)
            return b;
        long n = b.Length;
        // Regions inside the header are left alone, so that a hostile header field does not make the helper overwrite the header.
        bool Inside(ulong offset, ulong length) => offset >= SlmHeader.Size && offset <= (ulong)n && length <= (ulong)n - offset;
        ulong dir = U64(b, SlmHeader.DirectoryOffsetAt);
        ulong count = U32(b, SlmHeader.TensorCountAt);
        if (tensors && count <= (ulong)n / SlmHeader.EntrySize && Inside(dir, count * SlmHeader.EntrySize))
        {
            for (ulong i = 0; i < count; i++)
            {
                long e = (long)(dir + i * SlmHeader.EntrySize);
                ulong offset = U64(b, e + 104), size = U64(b, e + 112);
                if (Inside(offset, size))
                    SetU64(b, e + 120, Xxh64.Hash(b.AsSpan((int)offset, (int)size)));
            }
        }
        if (count <= (ulong)n / SlmHeader.EntrySize && Inside(dir, count * SlmHeader.EntrySize))
            SetU64(b, SlmHeader.DirectoryChecksumAt, Xxh64.Hash(b.AsSpan((int)dir, (int)(count * SlmHeader.EntrySize))));
        foreach ((int offsetAt, int lengthAt, int checksumAt) in new[]
                 {
                     (SlmHeader.TokenizerOffsetAt, SlmHeader.TokenizerLengthAt, SlmHeader.TokenizerChecksumAt),
                     (SlmHeader.MetadataOffsetAt, SlmHeader.MetadataLengthAt, SlmHeader.MetadataChecksumAt),
                 })
        {
            ulong offset = U64(b, offsetAt), length = U64(b, lengthAt);
            if (Inside(offset, length))
                SetU64(b, checksumAt, Xxh64.Hash(b.AsSpan((int)offset, (int)length)));
        }
        if (file)
        {
            byte[] copy = (byte[])b.Clone();
            copy.AsSpan(SlmHeader.FileChecksumAt, 8).Clear();
            copy.AsSpan(SlmHeader.HeaderChecksumAt, 8).Clear();
            SetU64(b, SlmHeader.FileChecksumAt, Xxh64.Hash(copy));
        }
        SealHeader(b);
        return b;
    }
}
