using System.Buffers.Binary;
using TinyLM.Formats;
using TinyLM.Formats.Gguf;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Formats.Gguf;

/// <summary>
/// Malformed GGUF input: every failure is a <see cref="ModelFormatException"/> naming the offending
/// field's byte offset and an "expected ..., found ..." reason; nothing else escapes, nothing hangs,
/// and counts are checked before anything is allocated.
/// </summary>
public sealed class GgufHostileInputTests
{
    private const uint F32 = (uint)GgmlType.F32;
    private const uint TypeArray = (uint)GgufValueType.Array;

    /// <summary>
    /// A small valid file with every kind of field: scalars, strings, bools, nested arrays, two
    /// tensors. The last tensor is 32 bytes, so the file ends exactly with its data (no padding).
    /// </summary>
    private static byte[] SmallValidFile()
    {
        var w = new GgufWriter();
        w.Metadata.Set("general.architecture", GgufValue.FromString("llama"));
        w.Metadata.Set("general.alignment", GgufValue.FromUInt32(32));
        w.Metadata.Set("n", GgufValue.FromInt32(-3));
        w.Metadata.Set("f", GgufValue.FromFloat64(0.5));
        w.Metadata.Set("b", GgufValue.FromBool(true));
        w.Metadata.Set("bools", GgufValue.FromArray(new[] { true, false }));
        w.Metadata.Set("tokens", GgufValue.FromArray(new[] { "<s>", "▁a", "" }));
        w.Metadata.Set("nested", GgufValue.FromArray(new[] { GgufValue.FromArray(new[] { "x" }), GgufValue.FromArray(new ushort[] { 1, 2 }) }));
        byte[] q = new byte[18];
        new Random(7).NextBytes(q);
        w.AddTensor("blk.0.q", GgmlType.Q4_0, [32, 1], q);
        w.AddTensor("norm", [8], [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f]);
        byte[] bytes = w.ToArray();
        using GgufFile check = GgufFile.Load(bytes);
        Assert.Equal(bytes.Length, check.DataOffset + check.GetTensor("norm").Offset + 32);
        return bytes;
    }

    /// <summary>Loads bytes and touches everything; returns normally or throws ModelFormatException.</summary>
    private static void LoadAndTouch(byte[] bytes)
    {
        using GgufFile file = GgufFile.Load(bytes, "fuzz.gguf");
        foreach (KeyValuePair<string, GgufValue> kv in file.Metadata)
            _ = kv.Value.ToDisplayString();
        foreach (GgufTensorInfo t in file.Tensors)
        {
            ReadOnlySpan<byte> data = file.GetTensorData(t);
            Assert.Equal(t.ByteSize, data.Length);
            Assert.True(file.DataOffset + t.Offset + t.ByteSize <= bytes.Length);
            if (data.Length > 0)
                _ = data[^1];
        }
    }

    // --- truncation and fuzzing

    [Fact]
    public void Read_TruncatedAnywhere_ThrowsModelFormatException()
    {
        byte[] valid = SmallValidFile();
        LoadAndTouch(valid);
        for (int length = 0; length < valid.Length; length++)
        {
            var e = Assert.Throws<ModelFormatException>(() => LoadAndTouch(valid[..length]));
            Assert.InRange(e.Offset, 0, length);
            Assert.Contains("expected", e.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Read_RandomCorruption_LoadsOrThrowsModelFormatExceptionOnly()
    {
        byte[] valid = SmallValidFile();
        ulong[] interesting = [0, 1, 2, 3, 31, 32, 33, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
            1UL << 32, 1UL << 40, 1UL << 60, long.MaxValue, 1UL << 63, ulong.MaxValue, (ulong)valid.Length];
        var random = new Random(20240611);
        int loaded = 0, rejected = 0;
        for (int iteration = 0; iteration < 20000; iteration++)
        {
            byte[] bytes = (byte[])valid.Clone();
            int mutations = 1 + random.Next(3);
            for (int m = 0; m < mutations; m++)
            {
                int at = random.Next(bytes.Length);
                switch (random.Next(4))
                {
                    case 0:
                        bytes[at] ^= (byte)(1 << random.Next(8));
                        break;
                    case 1:
                        bytes[at] = (byte)random.Next(256);
                        break;
                    case 2:
                        at = Math.Min(at, bytes.Length - 8);
                        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), interesting[random.Next(interesting.Length)]);
                        break;
                    default:
                        at = Math.Min(at, bytes.Length - 4);
                        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)interesting[random.Next(interesting.Length)]);
                        break;
                }
            }
            try
            {
                LoadAndTouch(bytes);
                loaded++;
            }
            catch (ModelFormatException e)
            {
                Assert.InRange(e.Offset, -1, bytes.Length);
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {iteration}: {e.GetType().Name}: {e.Message}\n{Convert.ToHexString(bytes)}");
            }
        }
        Assert.True(loaded > 100 && rejected > 1000, $"loaded {loaded}, rejected {rejected}");
    }

    // --- header

    [Fact]
    public void Read_BadMagic_Throws()
    {
        byte[] bytes = RawGguf.Header(0, 0).ToArray();
        bytes[3] = (byte)'L';
        GgufAssert.LoadFails(bytes, 0, "expected the magic \"GGUF\"", "found 4747554C (\"GGUL\")");
        GgufAssert.LoadFails([], 0, "expected the magic", "0 bytes left");
    }

    [Theory]
    [InlineData(0u, "found version 0")]
    [InlineData(1u, "found version 1 (GGUF v1")]
    [InlineData(4u, "found version 4")]
    [InlineData(0x03000000u, "big-endian")]
    public void Read_UnsupportedVersion_Throws(uint version, string found)
    {
        GgufAssert.LoadFails(RawGguf.Header(0, 0, version).ToArray(), 4, "expected GGUF version 2 or 3", found);
    }

    [Fact]
    public void Read_HugeTensorCount_ThrowsBeforeAllocating()
    {
        byte[] bytes = RawGguf.Header(1UL << 60, 0).Zeros(64).ToArray();
        AssertNoLargeAllocation(() => GgufAssert.LoadFails(bytes, 8, "expected a tensor count that fits", "found 1152921504606846976"));
    }

    [Fact]
    public void Read_HugeKVCount_ThrowsBeforeAllocating()
    {
        byte[] bytes = RawGguf.Header(0, 1UL << 62).Zeros(64).ToArray();
        AssertNoLargeAllocation(() => GgufAssert.LoadFails(bytes, 16, "expected a metadata key/value count that fits", "found 4611686018427387904"));
        byte[] tight = RawGguf.Header(2, 1).Zeros(2 * 33 + 13).ToArray();
        GgufAssert.LoadFails(tight, 16, "key/value count that fits", "found 1");
    }

    // --- strings and keys

    [Fact]
    public void Read_HugeStringLength_ThrowsBeforeAllocating()
    {
        byte[] key = RawGguf.Header(0, 1).U64(1UL << 62).Zeros(32).ToArray();
        AssertNoLargeAllocation(() => GgufAssert.LoadFails(key, 24, "metadata entry 0", "expected the key of at most 268435456 bytes", "found length 4611686018427387904"));

        byte[] pastEnd = RawGguf.Header(0, 1).U64(1000).Zeros(32).ToArray();
        GgufAssert.LoadFails(pastEnd, 24, "expected the key of 1000 bytes, found only 32 bytes left");

        RawGguf g = RawGguf.Header(0, 1).Str("s").U32((uint)GgufValueType.String);
        long at = g.Position;
        byte[] value = g.U64((1UL << 28) + 1).Zeros(32).ToArray();
        AssertNoLargeAllocation(() => GgufAssert.LoadFails(value, at, "metadata key 's'", "at most 268435456 bytes", "found length 268435457"));
    }

    [Fact]
    public void Read_EmptyKey_Throws()
    {
        GgufAssert.LoadFails(RawGguf.Header(0, 1).Str("").U32(0).U8(0).Zeros(8).ToArray(), 24, "expected a non-empty key, found length 0");
    }

    [Fact]
    public void Read_KeyWithInvalidUtf8_Throws()
    {
        byte[] bytes = RawGguf.Header(0, 1).Str([0x6B, 0xC3]).U32(0).U8(0).ToArray();
        GgufAssert.LoadFails(bytes, 32, "expected the key in valid UTF-8, found invalid bytes");
    }

    [Fact]
    public void Read_DuplicateKey_Throws()
    {
        RawGguf g = RawGguf.Header(0, 2).KVUInt32("a.b", 1);
        long at = g.Position;
        GgufAssert.LoadFails(g.KVString("a.b", "x").ToArray(), at, "expected unique keys, found 'a.b' again (first at byte 24)");
    }

    // --- values

    [Fact]
    public void Read_UnknownValueType_Throws()
    {
        RawGguf g = RawGguf.Header(0, 1).Str("k");
        long at = g.Position;
        GgufAssert.LoadFails(g.U32(13).U64(0).ToArray(), at, "metadata key 'k'", "expected a value type 0 to 12, found 13");

        g = RawGguf.Header(0, 1).Str("arr").U32(TypeArray);
        at = g.Position;
        GgufAssert.LoadFails(g.U32(99).U64(0).ToArray(), at, "metadata key 'arr'", "expected an array element type 0 to 12, found 99");
    }

    [Fact]
    public void Read_BoolNotZeroOrOne_Throws()
    {
        RawGguf g = RawGguf.Header(0, 1).Str("b").U32((uint)GgufValueType.Bool);
        long at = g.Position;
        GgufAssert.LoadFails(g.U8(2).ToArray(), at, "metadata key 'b'", "expected a bool (0 or 1), found 2");

        g = RawGguf.Header(0, 1).Str("bs").U32(TypeArray).U32((uint)GgufValueType.Bool).U64(3).U8(1).U8(0);
        at = g.Position;
        GgufAssert.LoadFails(g.U8(0xFF).ToArray(), at, "found 255");
    }

    [Fact]
    public void Read_HugeArrayCount_ThrowsBeforeAllocating()
    {
        RawGguf g = RawGguf.Header(0, 1).Str("a").U32(TypeArray).U32((uint)GgufValueType.UInt8);
        long at = g.Position;
        byte[] overCap = g.U64(1UL << 40).Zeros(16).ToArray();
        AssertNoLargeAllocation(() => GgufAssert.LoadFails(overCap, at, "metadata key 'a'", "expected an array length of at most 1073741824, found 1099511627776"));

        g = RawGguf.Header(0, 1).Str("a").U32(TypeArray).U32((uint)GgufValueType.UInt8);
        byte[] underCap = g.U64(1UL << 29).Zeros(16).ToArray();
        AssertNoLargeAllocation(() => GgufAssert.LoadFails(underCap, at, "expected an array length that fits in the 16 bytes left (at most 16 uint8 elements), found 536870912"));

        g = RawGguf.Header(0, 1).Str("a").U32(TypeArray).U32((uint)GgufValueType.String);
        byte[] strings = g.U64(3).Str("x").Str("y").ToArray();
        GgufAssert.LoadFails(strings, at, "at most 2 string elements), found 3");

        g = RawGguf.Header(0, 1).Str("a").U32(TypeArray).U32(TypeArray);
        byte[] nested = g.U64(1UL << 20).Zeros(100).ToArray();
        AssertNoLargeAllocation(() => GgufAssert.LoadFails(nested, at, "at most 8 array elements), found 1048576"));
    }

    [Fact]
    public void Read_ArraysNestedTooDeep_Throws()
    {
        RawGguf g = RawGguf.Header(0, 1).Str("deep").U32(TypeArray);
        for (int level = 1; level < GgufFile.MaxArrayDepth; level++)
            g.U32(TypeArray).U64(1);
        long at = g.Position;
        g.U32(TypeArray).U64(1).U32(0).U64(0);
        GgufAssert.LoadFails(g.ToArray(), at, "metadata key 'deep'", "expected arrays nested at most 8 levels deep, found an array of arrays at level 8");
    }

    [Theory]
    [InlineData(0u, "found 0")]
    [InlineData(3u, "found 3")]
    [InlineData(96u, "found 96")]
    [InlineData(1u << 31, "found 2147483648")]
    public void Read_AlignmentNotPowerOfTwo_Throws(uint alignment, string found)
    {
        byte[] bytes = RawGguf.Header(0, 2).KVString("x", "y").KVUInt32("general.alignment", alignment).ToArray();
        // The second key starts at 24 + 22; its value follows the key (8 + 17 bytes) and type (4 bytes).
        GgufAssert.LoadFails(bytes, 24 + 22 + 25 + 4, "metadata key 'general.alignment'", "expected a power of two from 1 to 1073741824", found);
    }

    [Fact]
    public void Read_AlignmentOfWrongType_Throws()
    {
        byte[] u64 = RawGguf.Header(0, 1).Str("general.alignment").U32((uint)GgufValueType.UInt64).U64(32).ToArray();
        GgufAssert.LoadFails(u64, 24 + 25, "metadata key 'general.alignment'", "expected a uint32, found uint64");
        byte[] i32 = RawGguf.Header(0, 1).Str("general.alignment").U32((uint)GgufValueType.Int32).U32(32).ToArray();
        GgufAssert.LoadFails(i32, 24 + 25, "expected a uint32, found int32");
        byte[] array = RawGguf.Header(0, 1).Str("general.alignment").U32(TypeArray).U32((uint)GgufValueType.UInt32).U64(1).U32(32).ToArray();
        GgufAssert.LoadFails(array, 24 + 25, "expected a uint32, found array[uint32, 1]");
    }

    [Fact]
    public void Read_ValidAlignment_IsUsed()
    {
        byte[] bytes = RawGguf.Header(1, 1).KVUInt32("general.alignment", 8)
            .Tensor("t", F32, [2], 8).Pad(8).Zeros(16).ToArray();
        using GgufFile file = GgufFile.Load(bytes);
        Assert.Equal(8, file.Alignment);
        Assert.Equal(8, file.GetTensor("t").Offset);
    }

    // --- tensor infos

    [Fact]
    public void Read_UnknownTensorType_ThrowsNamingTypeAndTensor()
    {
        GgmlType unregistered = GgufWriterTests.UnregisteredType();
        RawGguf g = RawGguf.Header(1, 0).Str("blk.0.w").U32(1).I64(256 * 32);
        long at = g.Position;
        byte[] bytes = g.U32((uint)unregistered).U64(0).Pad().Zeros(256 * 32 * 8).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 'blk.0.w'", "expected a supported tensor type (f32=0,", $"found type {(uint)unregistered} ({unregistered})");

        g = RawGguf.Header(1, 0).Str("t").U32(1).I64(1);
        at = g.Position;
        bytes = g.U32(1000).U64(0).Pad().Zeros(32).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 't'", "found type 1000");
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(5u)]
    [InlineData(uint.MaxValue)]
    public void Read_DimensionCountOutOfRange_Throws(uint nDims)
    {
        RawGguf g = RawGguf.Header(1, 0).Str("t");
        long at = g.Position;
        byte[] bytes = g.U32(nDims).Zeros(64).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 't'", $"expected 1 to 4 dimensions, found {nDims}");
    }

    [Fact]
    public void Read_NegativeDimension_Throws()
    {
        RawGguf g = RawGguf.Header(1, 0).Str("t").U32(2).I64(4);
        long at = g.Position;
        byte[] bytes = g.I64(-1).U32(F32).U64(0).Pad().ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 't'", "expected dimension 1 to be 0 or more, found -1");
    }

    [Fact]
    public void Read_DimensionProductOverflowsInt64_Throws()
    {
        RawGguf g = RawGguf.Header(1, 0).Str("t").U32(3).I64(1L << 32);
        long at = g.Position;
        byte[] bytes = g.I64(1L << 30).I64(2).U32(F32).U64(0).Pad().ToArray();
        GgufAssert.LoadFails(bytes, at + 8, "tensor 't'", "expected dimensions whose product fits in an int64", "dimension 2 = 2");

        g = RawGguf.Header(1, 0).Str("t").U32(1);
        at = g.Position;
        bytes = g.I64(long.MaxValue / 2).U32(F32).U64(0).Pad().ToArray();
        GgufAssert.LoadFails(bytes, at, "expected a byte size that fits in an int64");
    }

    [Fact]
    public void Read_RowNotMultipleOfBlockSize_Throws()
    {
        RawGguf g = RawGguf.Header(1, 0).Str("q").U32(2);
        long at = g.Position;
        byte[] bytes = g.I64(33).I64(2).U32((uint)GgmlType.Q4_0).U64(0).Pad().Zeros(64).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 'q'", "expected a row length (dimension 0) that is a multiple of the q4_0 block size 32, found 33");
    }

    [Fact]
    public void Read_OffsetNotAligned_Throws()
    {
        RawGguf g = RawGguf.Header(1, 0).Str("t").U32(1).I64(4).U32(F32);
        long at = g.Position;
        byte[] bytes = g.U64(16).Pad().Zeros(64).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 't'", "expected a data offset that is a multiple of the alignment 32, found 16");
    }

    [Fact]
    public void Read_TensorDataPastEnd_Throws()
    {
        RawGguf g = RawGguf.Header(2, 0).Tensor("a", F32, [8], 0).Str("b").U32(1).I64(8).U32(F32);
        long at = g.Position;
        byte[] bytes = g.U64(32).Pad().Zeros(48).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 'b'", "expected data inside the data section (48 bytes from byte", "found offset 32 + 32 bytes");

        g = RawGguf.Header(1, 0).Str("t").U32(1).I64(8).U32(F32);
        at = g.Position;
        bytes = g.U64(1UL << 40).Pad().Zeros(32).ToArray();
        GgufAssert.LoadFails(bytes, at, "expected a data offset inside the file", "found 1099511627776");

        g = RawGguf.Header(1, 0).Str("t").U32(1).I64(8).U32(F32);
        at = g.Position;
        bytes = g.U64(0).Pad().Zeros(31).ToArray();
        GgufAssert.LoadFails(bytes, at, "found offset 0 + 32 bytes");
    }

    [Fact]
    public void Read_OverlappingTensors_Throws()
    {
        RawGguf g = RawGguf.Header(3, 0).Tensor("a", F32, [16], 0).Tensor("empty", F32, [0], 32).Str("b").U32(1).I64(8).U32(F32);
        long at = g.Position;
        byte[] bytes = g.U64(32).Pad().Zeros(128).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor 'b'", "expected data that does not overlap other tensors, found [32, 64) overlapping tensor 'a' at [0, 64)");
    }

    [Fact]
    public void Read_DuplicateTensorName_Throws()
    {
        RawGguf g = RawGguf.Header(2, 0).Tensor("w", F32, [8], 0);
        long at = g.Position;
        byte[] bytes = g.Tensor("w", F32, [8], 32).Pad().Zeros(64).ToArray();
        GgufAssert.LoadFails(bytes, at, "tensor info 1", "expected unique tensor names, found 'w' again");
    }

    [Fact]
    public void Read_BadTensorName_Throws()
    {
        byte[] empty = RawGguf.Header(1, 0).Tensor("", F32, [8], 0).Pad().Zeros(32).ToArray();
        GgufAssert.LoadFails(empty, 24, "tensor info 0", "expected a non-empty tensor name, found length 0");
        byte[] invalid = RawGguf.Header(1, 0).Str([0xFF]).U32(1).I64(8).U32(F32).U64(0).Pad().Zeros(32).ToArray();
        GgufAssert.LoadFails(invalid, 32, "expected the tensor name in valid UTF-8");
    }

    [Fact]
    public void Read_MissingPaddingBeforeData_Throws()
    {
        RawGguf g = RawGguf.Header(1, 0).Tensor("t", F32, [0], 0);
        long at = g.Position;
        GgufAssert.LoadFails(g.ToArray(), at, "data section", "expected padding up to byte 64 (alignment 32)");
    }

    /// <summary>Asserts that <paramref name="action"/> allocates less than 1 MiB on this thread.</summary>
    private static void AssertNoLargeAllocation(Action action)
    {
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }
}
