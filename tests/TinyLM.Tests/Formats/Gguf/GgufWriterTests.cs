using TinyLM.Formats.Gguf;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Formats.Gguf;

/// <summary>Argument validation of <see cref="GgufWriter"/>.</summary>
public sealed class GgufWriterTests
{
    private static void AssertArgument(string paramName, Action action)
    {
        ArgumentException e = Assert.ThrowsAny<ArgumentException>(action);
        Assert.Equal(paramName, e.ParamName);
    }

    [Fact]
    public void AddTensor_DuplicateName_ThrowsArgumentException()
    {
        var w = new GgufWriter();
        w.AddTensor("a", [4], new float[4]);
        AssertArgument("name", () => w.AddTensor("a", [4], new float[4]));
    }

    [Fact]
    public void AddTensor_BadName_ThrowsArgumentException()
    {
        var w = new GgufWriter();
        AssertArgument("name", () => w.AddTensor(null!, [4], new float[4]));
        AssertArgument("name", () => w.AddTensor("", [4], new float[4]));
        AssertArgument("name", () => w.AddTensor(new string('x', GgufWriter.MaxTensorNameBytes + 1), [4], new float[4]));
        AssertArgument("name", () => w.AddTensor("bad\uD800", [4], new float[4]));
        w.AddTensor(new string('x', GgufWriter.MaxTensorNameBytes), [4], new float[4]);
    }

    [Theory]
    [InlineData(new long[0])]
    [InlineData(new long[] { 1, 1, 1, 1, 1 })]
    [InlineData(new long[] { 4, -1 })]
    [InlineData(new long[] { 1L << 32, 1L << 32 })]
    public void AddTensor_BadShape_ThrowsArgumentException(long[] shape)
    {
        AssertArgument("shape", () => new GgufWriter().AddTensor("t", GgmlType.F32, shape, new byte[4]));
    }

    [Fact]
    public void AddTensor_RowNotMultipleOfBlockSize_ThrowsArgumentException()
    {
        AssertArgument("shape", () => new GgufWriter().AddTensor("t", GgmlType.Q4_0, [33], new byte[18]));
    }

    [Fact]
    public void AddTensor_WrongDataLength_ThrowsArgumentException()
    {
        var w = new GgufWriter();
        AssertArgument("data", () => w.AddTensor("t", GgmlType.Q4_0, [64, 2], new byte[4 * 18 - 1]));
        AssertArgument("values", () => w.AddTensor("f", [3, 2], new float[5]));
        w.AddTensor("t", GgmlType.Q4_0, [64, 2], new byte[4 * 18]);
    }

    /// <summary>A ggml type that TinyLM does not implement (found at run time: the registry grows).</summary>
    internal static GgmlType UnregisteredType() =>
        Enum.GetValues<GgmlType>().First(t => !TensorTypes.TryGet(t, out _));

    [Fact]
    public void AddTensor_UnregisteredType_ThrowsArgumentException()
    {
        AssertArgument("type", () => new GgufWriter().AddTensor("t", UnregisteredType(), [256], new byte[144]));
        AssertArgument("type", () => new GgufWriter().AddTensor("t", (GgmlType)999, [1], new byte[1]));
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(3u)]
    [InlineData(48u)]
    [InlineData(1u << 31)]
    public void WriteTo_AlignmentNotPowerOfTwo_ThrowsArgumentException(uint alignment)
    {
        var w = new GgufWriter();
        w.Metadata.Set("general.alignment", GgufValue.FromUInt32(alignment));
        AssertArgument("Metadata", () => w.ToArray());
        AssertArgument("Metadata", () => w.WriteTo(new MemoryStream()));
    }

    [Fact]
    public void WriteTo_AlignmentOfWrongType_ThrowsArgumentException()
    {
        var w = new GgufWriter();
        w.Metadata.Set("general.alignment", GgufValue.FromUInt64(32));
        AssertArgument("Metadata", () => w.ToArray());
    }

    [Fact]
    public void WriteTo_EmptyKey_ThrowsArgumentException()
    {
        var w = new GgufWriter();
        w.Metadata.Set("", GgufValue.FromUInt8(1));
        AssertArgument("Metadata", () => w.ToArray());
    }

    [Fact]
    public void WriteTo_ArraysNestedTooDeep_ThrowsArgumentException()
    {
        GgufValue v = GgufValue.FromArray(new byte[] { 1 });
        for (int level = 1; level < GgufFile.MaxArrayDepth; level++)
            v = GgufValue.FromArray([v]);
        var w = new GgufWriter();
        w.Metadata.Set("ok", v);
        w.ToArray();

        w.Metadata.Set("deep", GgufValue.FromArray([v]));
        AssertArgument("Metadata", () => w.ToArray());
    }

    [Fact]
    public void WriteTo_InvalidPathOrStream_ThrowsArgumentException()
    {
        var w = new GgufWriter();
        AssertArgument("stream", () => w.WriteTo((Stream)null!));
        AssertArgument("stream", () => w.WriteTo(new MemoryStream([], writable: false)));
        AssertArgument("path", () => w.WriteTo(""));
    }

    [Fact]
    public void WriteTo_InvalidMetadata_CreatesNoFile()
    {
        var w = new GgufWriter();
        w.Metadata.Set("general.alignment", GgufValue.FromUInt32(3));
        string path = Path.Combine(Path.GetTempPath(), $"tinylm-gguf-{Guid.NewGuid():N}.gguf");
        AssertArgument("Metadata", () => w.WriteTo(path));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ToArray_Layout_MatchesGgufSpecification()
    {
        var w = new GgufWriter();
        w.Metadata.Set("k", GgufValue.FromUInt8(7));
        w.AddTensor("t", [1], [1f]);

        byte[] bytes = w.ToArray();

        byte[] expected = RawGguf.Header(tensors: 1, kvs: 1)
            .Str("k").U32((uint)GgufValueType.UInt8).U8(7)
            .Tensor("t", (uint)GgmlType.F32, [1], 0)
            .Pad()
            .Raw(BitConverter.GetBytes(1f))
            .Pad()
            .ToArray();
        Assert.Equal(expected, bytes);
    }
}
