using System.Buffers.Binary;
using TinyLM.Formats.Gguf;

namespace TinyLM.Formats.Slm;

/// <summary>
/// Encodes and decodes the metadata section of an <c>.slm</c> file (docs/slm-format.md, "Metadata
/// section"): the GGUF key/value pairs that neither the header nor the tokenizer section stand for
/// (<c>general.name</c>, <c>general.license</c>, <c>general.file_type</c>, ...), in GGUF's value
/// types with uint32 lengths and no nested arrays.
/// </summary>
internal static class SlmMetadataSection
{
    /// <summary>Longest key in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = 256;

    /// <summary>Most elements in one array.</summary>
    public const int MaxArrayLength = 1 << 26;

    /// <summary>Encodes <paramref name="metadata"/>.</summary>
    /// <exception cref="ArgumentException">A key is reserved, empty or too long; a value is a nested array or too long.</exception>
    public static byte[] Encode(GgufMetadata metadata, string architectureName)
    {
        var w = new SectionWriter();
        w.UInt32((uint)metadata.Count);
        foreach ((string key, GgufValue value) in metadata)
        {
            int keyBytes = System.Text.Encoding.UTF8.GetByteCount(key);
            if (keyBytes is 0 or > MaxKeyBytes)
                throw new ArgumentException($"Metadata key '{key}' must be 1 to {MaxKeyBytes} UTF-8 bytes.", nameof(metadata));
            if (SlmFile.IsReservedKey(key, architectureName))
                throw new ArgumentException($"Metadata key '{key}' is stored in the .slm header or tokenizer section, not in the metadata section.", nameof(metadata));
            w.String(key);
            w.UInt32((uint)value.Type);
            if (value.Type != GgufValueType.Array)
            {
                Scalar(w, value.Value);
                continue;
            }
            if (value.ElementType == GgufValueType.Array)
                throw new ArgumentException($"Metadata key '{key}' holds an array of arrays, which .slm v1 cannot store.", nameof(metadata));
            var array = (Array)value.Value;
            if (array.Length > MaxArrayLength)
                throw new ArgumentException($"Metadata key '{key}' has {array.Length} elements; .slm holds at most {MaxArrayLength}.", nameof(metadata));
            w.UInt32((uint)value.ElementType);
            w.UInt32((uint)array.Length);
            foreach (object element in array)
                Scalar(w, element);
        }
        return w.ToArray();
    }

    private static void Scalar(SectionWriter w, object v)
    {
        switch (v)
        {
            case byte x: w.Byte(x); break;
            case sbyte x: w.Byte((byte)x); break;
            case ushort x: w.Bytes([(byte)x, (byte)(x >> 8)]); break;
            case short x: w.Bytes([(byte)x, (byte)(x >> 8)]); break;
            case uint x: w.UInt32(x); break;
            case int x: w.Int32(x); break;
            case float x: w.Single(x); break;
            case bool x: w.Byte(x ? (byte)1 : (byte)0); break;
            case string x: w.String(x); break;
            case ulong x: w.UInt64(x); break;
            case long x: w.UInt64((ulong)x); break;
            case double x: w.UInt64(BitConverter.DoubleToUInt64Bits(x)); break;
            default: throw new ArgumentException($"Unsupported metadata value {v.GetType().Name}.");
        }
    }

    /// <summary>Decodes and checks the section; failures are <see cref="AdmissionError.MetadataMalformed"/>.</summary>
    public static GgufMetadata Decode(ReadOnlySpan<byte> section, long fileOffset, string source, string architectureName)
    {
        var r = new SectionReader(section, fileOffset, source, AdmissionError.MetadataMalformed);
        var metadata = new GgufMetadata(source);
        // Smallest entry: key length, one key byte, value type, one value byte.
        int count = r.Count("the key count", 4 + 1 + 4 + 1, int.MaxValue);
        for (int i = 0; i < count; i++)
        {
            long keyAt = r.FileOffset;
            string key = r.String($"key {i}");
            if (System.Text.Encoding.UTF8.GetByteCount(key) is 0 or > MaxKeyBytes)
                r.FailAt(keyAt, $"expected a key of 1 to {MaxKeyBytes} bytes, found {System.Text.Encoding.UTF8.GetByteCount(key)}");
            if (metadata.ContainsKey(key))
                r.FailAt(keyAt, $"expected unique keys, found '{key}' again");
            if (SlmFile.IsReservedKey(key, architectureName))
                r.FailAt(keyAt, $"expected no key the header or tokenizer section stands for, found '{key}'");
            long typeAt = r.FileOffset;
            uint type = r.UInt32("the value type");
            GgufValue value;
            if (type == (uint)GgufValueType.Array)
            {
                long elementAt = r.FileOffset;
                uint elementType = r.UInt32("the array element type");
                int size = ElementBytes(elementType);
                if (size == 0)
                    r.FailAt(elementAt, $"expected an array element type 0 to 12 other than 9 (no nested arrays), found {elementType}");
                int n = r.Count("the array length", size, MaxArrayLength);
                value = ReadArray(ref r, (GgufValueType)elementType, n);
            }
            else
            {
                if (ElementBytes(type) == 0)
                    r.FailAt(typeAt, $"expected a value type 0 to 12, found {type}");
                value = ReadScalar(ref r, (GgufValueType)type);
            }
            metadata.Set(key, value, keyAt);
        }
        if (r.Remaining != 0)
            r.Fail($"expected the end of the metadata section, found {r.Remaining} more bytes");
        return metadata;
    }

    /// <summary>Smallest encoding of one element of the type (strings: their length field), or 0 for an invalid type.</summary>
    private static int ElementBytes(uint type) => (GgufValueType)type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 or GgufValueType.String => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    private static bool ReadBool(ref SectionReader r)
    {
        long at = r.FileOffset;
        byte b = r.Take(1, "a bool")[0];
        if (b > 1)
            r.FailAt(at, $"expected a bool (0 or 1), found {b}");
        return b == 1;
    }

    private static GgufValue ReadScalar(ref SectionReader r, GgufValueType type) => type switch
    {
        GgufValueType.UInt8 => GgufValue.FromUInt8(r.Take(1, "a uint8")[0]),
        GgufValueType.Int8 => GgufValue.FromInt8((sbyte)r.Take(1, "an int8")[0]),
        GgufValueType.UInt16 => GgufValue.FromUInt16(BinaryPrimitives.ReadUInt16LittleEndian(r.Take(2, "a uint16"))),
        GgufValueType.Int16 => GgufValue.FromInt16(BinaryPrimitives.ReadInt16LittleEndian(r.Take(2, "an int16"))),
        GgufValueType.UInt32 => GgufValue.FromUInt32(r.UInt32("a uint32")),
        GgufValueType.Int32 => GgufValue.FromInt32(r.Int32("an int32")),
        GgufValueType.Float32 => GgufValue.FromFloat32(r.Single("a float32")),
        GgufValueType.Bool => GgufValue.FromBool(ReadBool(ref r)),
        GgufValueType.String => GgufValue.FromString(r.String("a string")),
        GgufValueType.UInt64 => GgufValue.FromUInt64(r.UInt64("a uint64")),
        GgufValueType.Int64 => GgufValue.FromInt64((long)r.UInt64("an int64")),
        _ => GgufValue.FromFloat64(BitConverter.UInt64BitsToDouble(r.UInt64("a float64"))),
    };

    private static GgufValue ReadArray(ref SectionReader r, GgufValueType type, int n)
    {
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.FromArray(r.Take(n, "uint8 elements").ToArray());
            case GgufValueType.Int8: return GgufValue.FromArray(Array.ConvertAll(r.Take(n, "int8 elements").ToArray(), b => (sbyte)b));
            case GgufValueType.Bool:
            {
                var a = new bool[n];
                for (int i = 0; i < n; i++) a[i] = ReadBool(ref r);
                return GgufValue.FromArray(a);
            }
            case GgufValueType.UInt16:
            {
                var a = new ushort[n];
                for (int i = 0; i < n; i++) a[i] = BinaryPrimitives.ReadUInt16LittleEndian(r.Take(2, "a uint16"));
                return GgufValue.FromArray(a);
            }
            case GgufValueType.Int16:
            {
                var a = new short[n];
                for (int i = 0; i < n; i++) a[i] = BinaryPrimitives.ReadInt16LittleEndian(r.Take(2, "an int16"));
                return GgufValue.FromArray(a);
            }
            case GgufValueType.UInt32:
            {
                var a = new uint[n];
                for (int i = 0; i < n; i++) a[i] = r.UInt32("a uint32");
                return GgufValue.FromArray(a);
            }
            case GgufValueType.Int32:
            {
                var a = new int[n];
                for (int i = 0; i < n; i++) a[i] = r.Int32("an int32");
                return GgufValue.FromArray(a);
            }
            case GgufValueType.Float32:
            {
                var a = new float[n];
                for (int i = 0; i < n; i++) a[i] = r.Single("a float32");
                return GgufValue.FromArray(a);
            }
            case GgufValueType.String:
            {
                var a = new string[n];
                for (int i = 0; i < n; i++) a[i] = r.String("a string element");
                return GgufValue.FromArray(a);
            }
            case GgufValueType.UInt64:
            {
                var a = new ulong[n];
                for (int i = 0; i < n; i++) a[i] = r.UInt64("a uint64");
                return GgufValue.FromArray(a);
            }
            case GgufValueType.Int64:
            {
                var a = new long[n];
                for (int i = 0; i < n; i++) a[i] = (long)r.UInt64("an int64");
                return GgufValue.FromArray(a);
            }
            default:
            {
                var a = new double[n];
                for (int i = 0; i < n; i++) a[i] = BitConverter.UInt64BitsToDouble(r.UInt64("a float64"));
                return GgufValue.FromArray(a);
            }
        }
    }
}
