using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Formats.Gguf;

/// <summary>Writes GGUF files with <see cref="GgufWriter"/> and reads them back with <see cref="GgufFile"/>.</summary>
public sealed class GgufRoundTripTests
{
    private const string Unicode = "héllo wörld ✓ 日本語 😀 \u0000 tab\t\"quote\" ▁piece";

    /// <summary>Every value type, edge values, unicode, empty and nested arrays.</summary>
    internal static GgufMetadata SampleMetadata(GgufMetadata m)
    {
        m.Set("general.architecture", GgufValue.FromString("llama"));
        m.Set("u8", GgufValue.FromUInt8(byte.MaxValue));
        m.Set("i8", GgufValue.FromInt8(sbyte.MinValue));
        m.Set("u16", GgufValue.FromUInt16(ushort.MaxValue));
        m.Set("i16", GgufValue.FromInt16(short.MinValue));
        m.Set("u32", GgufValue.FromUInt32(uint.MaxValue));
        m.Set("i32", GgufValue.FromInt32(int.MinValue));
        m.Set("f32", GgufValue.FromFloat32(-1.5e-7f));
        m.Set("f32.nan", GgufValue.FromFloat32(BitConverter.Int32BitsToSingle(0x7FC12345)));
        m.Set("bool.true", GgufValue.FromBool(true));
        m.Set("bool.false", GgufValue.FromBool(false));
        m.Set("string", GgufValue.FromString(Unicode));
        m.Set("string.empty", GgufValue.FromString(""));
        m.Set("u64", GgufValue.FromUInt64(ulong.MaxValue));
        m.Set("i64", GgufValue.FromInt64(long.MinValue));
        m.Set("f64", GgufValue.FromFloat64(Math.PI));
        m.Set("キー.unicode", GgufValue.FromUInt32(7));
        m.Set("arr.u8", GgufValue.FromArray(new byte[] { 0, 1, 255 }));
        m.Set("arr.i8", GgufValue.FromArray(new sbyte[] { -128, 0, 127 }));
        m.Set("arr.u16", GgufValue.FromArray(new ushort[] { 0, 65535 }));
        m.Set("arr.i16", GgufValue.FromArray(new short[] { -32768, 32767 }));
        m.Set("arr.u32", GgufValue.FromArray(new uint[] { 0, uint.MaxValue, 12345 }));
        m.Set("arr.i32", GgufValue.FromArray(new[] { int.MinValue, -1, 0, int.MaxValue }));
        m.Set("arr.f32", GgufValue.FromArray(new[] { 0f, -0f, 1.25f, float.PositiveInfinity, float.Epsilon }));
        m.Set("arr.bool", GgufValue.FromArray(new[] { true, false, true }));
        m.Set("arr.string", GgufValue.FromArray(new[] { "a", "", Unicode, "<0x0A>" }));
        m.Set("arr.u64", GgufValue.FromArray(new[] { 0UL, ulong.MaxValue }));
        m.Set("arr.i64", GgufValue.FromArray(new[] { long.MinValue, long.MaxValue }));
        m.Set("arr.f64", GgufValue.FromArray(new[] { double.MinValue, 0.1, double.NegativeInfinity }));
        m.Set("arr.empty.u8", GgufValue.FromArray(Array.Empty<byte>()));
        m.Set("arr.empty.string", GgufValue.FromArray(Array.Empty<string>()));
        m.Set("arr.empty.nested", GgufValue.FromArray(Array.Empty<GgufValue>()));
        m.Set("arr.nested.strings", GgufValue.FromArray(new[]
        {
            GgufValue.FromArray(new[] { "x", "y" }),
            GgufValue.FromArray(Array.Empty<string>()),
            GgufValue.FromArray(new[] { Unicode }),
        }));
        m.Set("arr.nested.mixed", GgufValue.FromArray(new[]
        {
            GgufValue.FromArray(new[] { 1, 2, 3 }),
            GgufValue.FromArray(new[] { GgufValue.FromArray(new[] { 0.5f }), GgufValue.FromArray(Array.Empty<bool>()) }),
            GgufValue.FromArray(Array.Empty<GgufValue>()),
        }));
        return m;
    }

    /// <summary>Tensors of several registered types and shapes, filled with seeded random bytes.</summary>
    internal static List<(string Name, GgmlType Type, long[] Shape, byte[] Data)> SampleTensors(int seed = 1)
    {
        var random = new Random(seed);
        var list = new List<(string, GgmlType, long[], byte[])>();
        void Add(string name, GgmlType type, params long[] shape)
        {
            TensorType t = TensorTypes.Get(type);
            long rows = 1;
            for (int i = 1; i < shape.Length; i++) rows *= shape[i];
            var data = new byte[t.RowBytes(shape[0]) * rows];
            random.NextBytes(data);
            list.Add((name, type, shape, data));
        }
        Add("token_embd.weight", GgmlType.Q4_0, 64, 3);
        Add("blk.0.attn_norm.weight", GgmlType.F32, 7);
        Add("blk.0.attn_q.weight", GgmlType.Q8_0, 32, 2, 2);
        Add("blk.0.ffn_up.weight", GgmlType.F16, 5, 1, 3, 2);
        Add("blk.0.ffn_down.weight", GgmlType.BF16, 3, 3);
        Add("blk.0.ffn_gate.weight", GgmlType.Q5_1, 32);
        Add("empty.weight", GgmlType.F32, 0, 4);
        Add("output.weight", GgmlType.Q4_1, 96, 1);
        return list;
    }

    [Fact]
    public void WriteThenRead_EveryValueTypeAndTensor_RoundTripsWithCustomAlignment()
    {
        var writer = new GgufWriter();
        SampleMetadata(writer.Metadata);
        writer.Metadata.Set("general.alignment", GgufValue.FromUInt32(64));
        var tensors = SampleTensors();
        foreach (var (name, type, shape, data) in tensors)
            writer.AddTensor(name, type, shape, data);

        using GgufFile file = GgufFile.Load(writer.ToArray(), "roundtrip.gguf");

        Assert.Equal(3u, file.Version);
        Assert.Equal(64, file.Alignment);
        Assert.Equal(0, file.DataOffset % 64);
        AssertMetadataEqual(writer.Metadata, file.Metadata);
        AssertTensorsEqual(tensors, file, 64);
    }

    [Fact]
    public void WriteThenRead_DefaultAlignment_Is32AndOffsetsAreContiguous()
    {
        var writer = new GgufWriter();
        writer.Metadata.Set("general.architecture", GgufValue.FromString("llama"));
        var tensors = SampleTensors(seed: 2);
        foreach (var (name, type, shape, data) in tensors)
            writer.AddTensor(name, type, shape, data);

        byte[] bytes = writer.ToArray();
        using GgufFile file = GgufFile.Load(bytes);

        Assert.Equal(GgufFile.DefaultAlignment, file.Alignment);
        AssertTensorsEqual(tensors, file, 32);
        long expected = 0;
        foreach (GgufTensorInfo t in file.Tensors)
        {
            Assert.Equal(expected, t.Offset);
            expected += (t.ByteSize + 31) / 32 * 32;
        }
        Assert.Equal(file.DataOffset + expected, bytes.Length);
    }

    [Fact]
    public void WriteTo_PathThenOpen_MapsFileAndStaysUsable()
    {
        var writer = new GgufWriter();
        SampleMetadata(writer.Metadata);
        var tensors = SampleTensors(seed: 3);
        foreach (var (name, type, shape, data) in tensors)
            writer.AddTensor(name, type, shape, data);
        string path = Path.Combine(Path.GetTempPath(), $"tinylm-gguf-{Guid.NewGuid():N}.gguf");
        try
        {
            writer.WriteTo(path);
            Assert.Equal(writer.ToArray(), File.ReadAllBytes(path));
            using (GgufFile file = GgufFile.Open(path))
            {
                Assert.Equal(path, file.Source);
                AssertMetadataEqual(writer.Metadata, file.Metadata);
                AssertTensorsEqual(tensors, file, 32);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WriteTo_Stream_EqualsToArray()
    {
        var writer = new GgufWriter();
        SampleMetadata(writer.Metadata);
        foreach (var (name, type, shape, data) in SampleTensors(seed: 4))
            writer.AddTensor(name, type, shape, data);
        using var stream = new MemoryStream();
        stream.WriteByte(0xAA);

        writer.WriteTo(stream);

        Assert.Equal([0xAA, .. writer.ToArray()], stream.ToArray());
    }

    [Fact]
    public void AddTensor_Floats_RoundTripAsF32()
    {
        var writer = new GgufWriter();
        float[] values = [1f, -2.5f, float.MaxValue, 0f, 3f, 4f];
        writer.AddTensor("w", [3, 2], values);

        using GgufFile file = GgufFile.Load(writer.ToArray());

        GgufTensorInfo t = file.GetTensor("w");
        Assert.Equal(GgmlType.F32, t.Type);
        Assert.Equal([3L, 2L], t.Shape);
        Assert.Equal(3, t.Columns);
        Assert.Equal(2, t.Rows);
        Assert.Equal(values, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorData(t)).ToArray());
    }

    [Fact]
    public void WriteThenRead_NoTensors_HeaderPaddedAndEmptyDataSection()
    {
        var writer = new GgufWriter();
        writer.Metadata.Set("tokenizer.ggml.model", GgufValue.FromString("gpt2"));

        byte[] bytes = writer.ToArray();
        using GgufFile file = GgufFile.Load(bytes);

        Assert.Equal(0, bytes.Length % 32);
        Assert.Equal(bytes.Length, file.DataOffset);
        Assert.Empty(file.Tensors);
        Assert.Null(file.Architecture);
        Assert.Equal("gpt2", file.Metadata.GetString("tokenizer.ggml.model"));
    }

    [Fact]
    public void WriteThenRead_ZeroSizeDimension_IsAnEmptyTensor()
    {
        var writer = new GgufWriter();
        writer.AddTensor("empty", GgmlType.Q8_0, [0, 5], ReadOnlyMemory<byte>.Empty);
        writer.AddTensor("next", [2], [1f, 2f]);

        using GgufFile file = GgufFile.Load(writer.ToArray());

        GgufTensorInfo empty = file.GetTensor("empty");
        Assert.Equal(0, empty.ElementCount);
        Assert.Equal(0, empty.ByteSize);
        Assert.Equal(5, empty.Rows);
        Assert.Equal(0, file.GetTensor("next").Offset);
    }

    [Fact]
    public void Read_Version2File_ReadsLikeVersion3()
    {
        byte[] data = new byte[32 + 34];
        new Random(5).NextBytes(data);
        RawGguf g = RawGguf.Header(tensors: 2, kvs: 2, version: 2)
            .KVString("general.architecture", "llama")
            .Str("tokens").U32((uint)GgufValueType.Array).U32((uint)GgufValueType.String).U64(2).Str("a").Str("b")
            .Tensor("a", (uint)GgmlType.F32, [8], 0)
            .Tensor("b", (uint)GgmlType.Q8_0, [32], 32)
            .Pad()
            .Raw(data.AsSpan(0, 32)).Raw(data.AsSpan(32, 34));

        using GgufFile file = GgufFile.Load(g.ToArray());

        Assert.Equal(2u, file.Version);
        Assert.Equal("llama", file.Architecture);
        Assert.Equal(["a", "b"], file.Metadata.GetStringArray("tokens"));
        Assert.Equal(data.AsSpan(0, 32).ToArray(), file.GetTensorData(file.GetTensor("a")).ToArray());
        Assert.Equal(data.AsSpan(32, 34).ToArray(), file.GetTensorData(file.GetTensor("b")).ToArray());
    }

    [Fact]
    public void Read_MetadataOffsets_PointAtKeys()
    {
        RawGguf g = RawGguf.Header(tensors: 0, kvs: 2);
        long first = g.Position;
        g.KVUInt32("a", 1);
        long second = g.Position;
        g.KVString("b", "x");

        using GgufFile file = GgufFile.Load(g.ToArray());

        Assert.Equal(first, file.Metadata.OffsetOf("a"));
        Assert.Equal(second, file.Metadata.OffsetOf("b"));
    }

    [Fact]
    public void Read_InvalidUtf8InStringValue_DecodesWithReplacementCharacter()
    {
        byte[] bytes = RawGguf.Header(tensors: 0, kvs: 1)
            .Str("s").U32((uint)GgufValueType.String).Str([0x61, 0xFF, 0x62])
            .ToArray();

        using GgufFile file = GgufFile.Load(bytes);

        Assert.Equal("a\uFFFDb", file.Metadata.GetString("s"));
    }

    [Fact]
    public void Read_TensorsOutOfOrderWithGaps_Accepted()
    {
        byte[] bytes = RawGguf.Header(tensors: 2, kvs: 0)
            .Tensor("late", (uint)GgmlType.F32, [4], 64)
            .Tensor("early", (uint)GgmlType.F32, [4], 0)
            .Pad().Zeros(80)
            .ToArray();

        using GgufFile file = GgufFile.Load(bytes);

        Assert.Equal(["late", "early"], file.Tensors.Select(t => t.Name));
        Assert.Equal(64, file.GetTensor("late").Offset);
    }

    [Fact]
    public void Read_NestingAtMaximumDepth_Accepted()
    {
        RawGguf g = RawGguf.Header(tensors: 0, kvs: 1).Str("deep").U32((uint)GgufValueType.Array);
        for (int level = 1; level < GgufFile.MaxArrayDepth; level++)
            g.U32((uint)GgufValueType.Array).U64(1);
        g.U32((uint)GgufValueType.UInt8).U64(1).U8(42);

        using GgufFile file = GgufFile.Load(g.ToArray());

        GgufValue v = file.Metadata["deep"];
        for (int level = 1; level < GgufFile.MaxArrayDepth; level++)
            v = ((GgufValue[])v.Value)[0];
        Assert.Equal(new byte[] { 42 }, v.Value);
    }

    internal static void AssertMetadataEqual(GgufMetadata expected, GgufMetadata actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (KeyValuePair<string, GgufValue> kv in expected)
            AssertValueEqual(kv.Value, actual[kv.Key], kv.Key);
    }

    private static void AssertValueEqual(GgufValue expected, GgufValue actual, string key)
    {
        Assert.True(expected.Type == actual.Type, $"{key}: type {expected.Type} vs {actual.Type}");
        Assert.True(expected.ElementType == actual.ElementType, $"{key}: element type {expected.ElementType} vs {actual.ElementType}");
        Assert.Equal(expected.Value.GetType(), actual.Value.GetType());
        switch (expected.Value)
        {
            case GgufValue[] nested:
                var actualNested = (GgufValue[])actual.Value;
                Assert.Equal(nested.Length, actualNested.Length);
                for (int i = 0; i < nested.Length; i++)
                    AssertValueEqual(nested[i], actualNested[i], $"{key}[{i}]");
                break;
            case float f:
                Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits((float)actual.Value));
                break;
            case float[] fs:
                Assert.Equal(fs.Select(BitConverter.SingleToInt32Bits), ((float[])actual.Value).Select(BitConverter.SingleToInt32Bits));
                break;
            default:
                Assert.Equal(expected.Value, actual.Value);
                break;
        }
    }

    private static void AssertTensorsEqual(List<(string Name, GgmlType Type, long[] Shape, byte[] Data)> expected, GgufFile file, int alignment)
    {
        Assert.Equal(expected.Count, file.Tensors.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            GgufTensorInfo t = file.Tensors[i];
            Assert.Equal(expected[i].Name, t.Name);
            Assert.Same(t, file.FindTensor(t.Name));
            Assert.Equal(expected[i].Type, t.Type);
            Assert.Equal(expected[i].Shape, t.Shape);
            Assert.Equal(expected[i].Data.Length, t.ByteSize);
            Assert.Equal(0, t.Offset % alignment);
            Assert.True(expected[i].Data.AsSpan().SequenceEqual(file.GetTensorData(t)), $"data of {t.Name}");
        }
    }
}
