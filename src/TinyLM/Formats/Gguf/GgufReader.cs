using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Unicode;
using TinyLM.Quantization;

namespace TinyLM.Formats.Gguf;

/// <summary>Parses and validates GGUF bytes. See <see cref="GgufFile"/>.</summary>
/// <remarks>
/// <para>Layout (ggml/include/gguf.h; little-endian, versions 2 and 3 are identical):</para>
/// <code>
/// "GGUF" | uint32 version | uint64 n_tensors | uint64 n_kv
/// n_kv      × { string key | uint32 type | value }
///             value: scalar | string | uint32 elem_type, uint64 count, count × value (arrays nest)
/// n_tensors × { string name | uint32 n_dims | int64 ne[n_dims] | uint32 ggml_type | uint64 offset }
/// zero padding to general.alignment | data section (tensor offsets are relative to its start)
/// string = uint64 byte length, UTF-8 bytes (no terminator)
/// </code>
/// <para>
/// Every field is checked before it is used, with overflow-safe arithmetic, in the spirit of
/// ggml/src/gguf.cpp (<c>gguf_init_from_reader</c>): each read against the bytes left; counts against
/// the bytes left at the smallest possible element size, before anything is allocated; string
/// lengths against <see cref="GgufFile.MaxStringBytes"/>; array lengths against
/// <see cref="GgufFile.MaxArrayLength"/>; nesting against <see cref="GgufFile.MaxArrayDepth"/>.
/// Loops always consume at least one byte per step, so a hostile file cannot make the parser hang.
/// </para>
/// <para>Where this differs from llama.cpp, and why, is listed in <see cref="GgufFile"/>.</para>
/// </remarks>
internal static unsafe class GgufReader
{
    private const string AlignmentKey = "general.alignment";

    /// <summary>Smallest metadata entry: key length, one key byte, type, one-byte value.</summary>
    private const int MinKVBytes = 8 + 1 + 4 + 1;

    /// <summary>Smallest tensor info: name length, one name byte, n_dims, ne[0], type, offset.</summary>
    private const int MinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;

    /// <summary>Smallest encoding of a nested array: element type and count.</summary>
    private const int MinArrayBytes = 4 + 8;

    /// <summary>Parses and validates the GGUF file in <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The file bytes.</param>
    /// <param name="ownsBuffer">True to dispose <paramref name="buffer"/> with the returned file.</param>
    /// <exception cref="ModelFormatException">The bytes are not a valid GGUF v2/v3 little-endian file.</exception>
    public static GgufFile Read(ModelBuffer buffer, bool ownsBuffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return new Parser(buffer).Parse(ownsBuffer);
    }

    private sealed class Parser(ModelBuffer buffer)
    {
        private readonly ModelBuffer _buffer = buffer;
        private readonly byte* _start = buffer.Length == 0 ? null : buffer.Pointer;
        private readonly long _length = buffer.Length;
        private readonly string _source = buffer.Name;
        private long _pos;
        private string _context = "header";
        private long _alignmentTypeAt = -1;

        private long Remaining => _length - _pos;

        public GgufFile Parse(bool ownsBuffer)
        {
            // --- header
            Need(4, "the magic \"GGUF\"");
            ReadOnlySpan<byte> magic = new(_start, 4);
            if (BinaryPrimitives.ReadUInt32LittleEndian(magic) != GgufFile.Magic)
                Fail(0, $"expected the magic \"GGUF\" (47 47 55 46), found {Convert.ToHexString(magic)} (\"{Printable(magic)}\")");
            _pos = 4;

            uint version = ReadUInt32("the version");
            if (version is not (2 or 3))
            {
                string reason = version switch
                {
                    1 => "found version 1 (GGUF v1 used 32-bit counts and is no longer supported)",
                    _ when version != 0 && (version & 0xFFFF) == 0 =>
                        $"found 0x{version:X8}, a big-endian file (TinyLM reads little-endian GGUF only)",
                    _ => $"found version {version}",
                };
                Fail(4, "expected GGUF version 2 or 3, " + reason);
            }

            ulong tensorCount = ReadUInt64("the tensor count");
            ulong kvCount = ReadUInt64("the metadata key/value count");
            long left = Remaining;
            long maxTensors = Math.Min(left / MinTensorInfoBytes, int.MaxValue);
            if (tensorCount > (ulong)maxTensors)
                Fail(8, $"expected a tensor count that fits in the {left} bytes after the header (at most {maxTensors}), found {tensorCount}");
            left -= (long)tensorCount * MinTensorInfoBytes;
            long maxKVs = Math.Min(left / MinKVBytes, int.MaxValue);
            if (kvCount > (ulong)maxKVs)
                Fail(16, $"expected a metadata key/value count that fits in the {left} bytes after the header and tensor infos (at most {maxKVs}), found {kvCount}");

            // --- metadata
            var metadata = new GgufMetadata(_source);
            for (ulong i = 0; i < kvCount; i++)
                ReadKV(metadata, i);
            int alignment = ReadAlignment(metadata);

            // --- tensor infos
            var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 4096));
            var offsetFields = new List<long>(tensors.Capacity);
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (ulong i = 0; i < tensorCount; i++)
            {
                GgufTensorInfo info = ReadTensorInfo(i, alignment, names, out long offsetField);
                tensors.Add(info);
                offsetFields.Add(offsetField);
            }

            // --- data section
            _context = "data section";
            long infoEnd = _pos;
            long dataOffset = AlignUp(infoEnd, alignment);
            if (dataOffset > _length)
            {
                if (tensorCount > 0)
                    Fail(infoEnd, $"expected padding up to byte {dataOffset} (alignment {alignment}) before the data section, found end of file at byte {_length}");
                dataOffset = _length;
            }
            CheckTensorRanges(tensors, offsetFields, dataOffset);

            return new GgufFile(_buffer, ownsBuffer, version, alignment, dataOffset, metadata, tensors);
        }

        // --- metadata

        private void ReadKV(GgufMetadata metadata, ulong index)
        {
            _context = $"metadata entry {index}";
            long keyAt = _pos;
            string key = ReadString("the key", strict: true);
            if (key.Length == 0)
                Fail(keyAt, "expected a non-empty key, found length 0");
            if (metadata.ContainsKey(key))
                Fail(keyAt, $"expected unique keys, found '{key}' again (first at byte {metadata.OffsetOf(key)})");
            _context = $"metadata key '{key}'";
            long typeAt = _pos;
            uint type = ReadUInt32("the value type");
            if (key == AlignmentKey)
                _alignmentTypeAt = typeAt;
            metadata.Set(key, ReadValue(type, typeAt), keyAt);
        }

        private GgufValue ReadValue(uint type, long typeAt)
        {
            switch ((GgufValueType)type)
            {
                case GgufValueType.UInt8: Need(1, "a uint8"); return GgufValue.FromUInt8(_start[_pos++]);
                case GgufValueType.Int8: Need(1, "an int8"); return GgufValue.FromInt8((sbyte)_start[_pos++]);
                case GgufValueType.UInt16: return GgufValue.FromUInt16(BinaryPrimitives.ReadUInt16LittleEndian(Take(2, "a uint16")));
                case GgufValueType.Int16: return GgufValue.FromInt16(BinaryPrimitives.ReadInt16LittleEndian(Take(2, "an int16")));
                case GgufValueType.UInt32: return GgufValue.FromUInt32(ReadUInt32("a uint32"));
                case GgufValueType.Int32: return GgufValue.FromInt32(BinaryPrimitives.ReadInt32LittleEndian(Take(4, "an int32")));
                case GgufValueType.Float32: return GgufValue.FromFloat32(BinaryPrimitives.ReadSingleLittleEndian(Take(4, "a float32")));
                case GgufValueType.Bool: return GgufValue.FromBool(ReadBool());
                case GgufValueType.String: return GgufValue.FromString(ReadString("a string value", strict: false));
                case GgufValueType.Array: return ReadArray(depth: 1);
                case GgufValueType.UInt64: return GgufValue.FromUInt64(ReadUInt64("a uint64"));
                case GgufValueType.Int64: return GgufValue.FromInt64(ReadInt64("an int64"));
                case GgufValueType.Float64: return GgufValue.FromFloat64(BinaryPrimitives.ReadDoubleLittleEndian(Take(8, "a float64")));
                default:
                    Fail(typeAt, $"expected a value type 0 to 12, found {type}");
                    return null!;
            }
        }

        /// <summary>Reads an array after its <c>Array</c> type tag; <paramref name="depth"/> is 1 for a top-level array.</summary>
        private GgufValue ReadArray(int depth)
        {
            long elementTypeAt = _pos;
            uint elementType = ReadUInt32("the array element type");
            long countAt = _pos;
            ulong count = ReadUInt64("the array length");
            int minBytes = (GgufValueType)elementType switch
            {
                GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
                GgufValueType.UInt16 or GgufValueType.Int16 => 2,
                GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
                GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
                GgufValueType.String => 8,
                GgufValueType.Array => MinArrayBytes,
                _ => 0,
            };
            if (minBytes == 0)
                Fail(elementTypeAt, $"expected an array element type 0 to 12, found {elementType}");
            if (elementType == (uint)GgufValueType.Array && depth >= GgufFile.MaxArrayDepth)
                Fail(elementTypeAt, $"expected arrays nested at most {GgufFile.MaxArrayDepth} levels deep, found an array of arrays at level {depth}");
            if (count > GgufFile.MaxArrayLength)
                Fail(countAt, $"expected an array length of at most {GgufFile.MaxArrayLength}, found {count}");
            if (count > (ulong)(Remaining / minBytes))
                Fail(countAt, $"expected an array length that fits in the {Remaining} bytes left (at most {Remaining / minBytes} {TypeName(elementType)} elements), found {count}");

            int n = (int)count;
            switch ((GgufValueType)elementType)
            {
                case GgufValueType.UInt8: return GgufValue.FromArray(ReadPrimitives<byte>(n));
                case GgufValueType.Int8: return GgufValue.FromArray(ReadPrimitives<sbyte>(n));
                case GgufValueType.UInt16: return GgufValue.FromArray(ReadPrimitives<ushort>(n));
                case GgufValueType.Int16: return GgufValue.FromArray(ReadPrimitives<short>(n));
                case GgufValueType.UInt32: return GgufValue.FromArray(ReadPrimitives<uint>(n));
                case GgufValueType.Int32: return GgufValue.FromArray(ReadPrimitives<int>(n));
                case GgufValueType.Float32: return GgufValue.FromArray(ReadPrimitives<float>(n));
                case GgufValueType.UInt64: return GgufValue.FromArray(ReadPrimitives<ulong>(n));
                case GgufValueType.Int64: return GgufValue.FromArray(ReadPrimitives<long>(n));
                case GgufValueType.Float64: return GgufValue.FromArray(ReadPrimitives<double>(n));
                case GgufValueType.Bool:
                {
                    var values = new bool[n];
                    for (int i = 0; i < n; i++)
                        values[i] = ReadBool();
                    return GgufValue.FromArray(values);
                }
                case GgufValueType.String:
                {
                    var values = new string[n];
                    for (int i = 0; i < n; i++)
                        values[i] = ReadString("a string element", strict: false);
                    return GgufValue.FromArray(values);
                }
                default:
                {
                    var values = new GgufValue[n];
                    for (int i = 0; i < n; i++)
                        values[i] = ReadArray(depth + 1);
                    return GgufValue.FromArray(values);
                }
            }
        }

        private int ReadAlignment(GgufMetadata metadata)
        {
            if (!metadata.TryGetValue(AlignmentKey, out GgufValue? value))
                return GgufFile.DefaultAlignment;
            _context = $"metadata key '{AlignmentKey}'";
            if (value.Type != GgufValueType.UInt32)
                Fail(_alignmentTypeAt, $"expected a uint32, found {value.Describe()}");
            uint a = (uint)value.Value;
            if (a == 0 || (a & (a - 1)) != 0 || a > GgufFile.MaxAlignment)
                Fail(_alignmentTypeAt + 4, $"expected a power of two from 1 to {GgufFile.MaxAlignment}, found {a}");
            return (int)a;
        }

        // --- tensor infos

        private GgufTensorInfo ReadTensorInfo(ulong index, int alignment, HashSet<string> names, out long offsetField)
        {
            _context = $"tensor info {index}";
            long nameAt = _pos;
            string name = ReadString("the tensor name", strict: true);
            if (name.Length == 0)
                Fail(nameAt, "expected a non-empty tensor name, found length 0");
            if (!names.Add(name))
                Fail(nameAt, $"expected unique tensor names, found '{name}' again");
            _context = $"tensor '{name}'";

            long dimsAt = _pos;
            uint nDims = ReadUInt32("the dimension count");
            if (nDims is 0 or > GgufFile.MaxDimensions)
                Fail(dimsAt, $"expected 1 to {GgufFile.MaxDimensions} dimensions, found {nDims}");
            var shape = new long[nDims];
            long nonZeroProduct = 1;
            bool anyZero = false;
            for (int j = 0; j < shape.Length; j++)
            {
                long at = _pos;
                long d = ReadInt64("a dimension");
                if (d < 0)
                    Fail(at, $"expected dimension {j} to be 0 or more, found {d}");
                shape[j] = d;
                if (d == 0)
                    anyZero = true;
                else if (nonZeroProduct > long.MaxValue / d)
                    Fail(at, $"expected dimensions whose product fits in an int64, found dimension {j} = {d} after a product of {nonZeroProduct}");
                else
                    nonZeroProduct *= d;
            }

            long typeAt = _pos;
            uint rawType = ReadUInt32("the tensor type");
            if (!TensorTypes.TryGet((GgmlType)rawType, out TensorType? type))
            {
                string known = Enum.IsDefined((GgmlType)rawType) ? $" ({(GgmlType)rawType})" : "";
                Fail(typeAt, $"expected a supported tensor type ({string.Join(", ", TensorTypes.All.Select(t => $"{t.Name}={(uint)t.Type}"))}), found type {rawType}{known}");
            }
            if (shape[0] % type!.BlockSize != 0)
                Fail(dimsAt + 4, $"expected a row length (dimension 0) that is a multiple of the {type.Name} block size {type.BlockSize}, found {shape[0]}");
            long blocks = anyZero ? 0 : nonZeroProduct / type.BlockSize;
            if (blocks > long.MaxValue / type.BlockBytes)
                Fail(dimsAt + 4, $"expected a byte size that fits in an int64, found {blocks} blocks of {type.BlockBytes} bytes");
            long byteSize = blocks * type.BlockBytes;

            offsetField = _pos;
            ulong offset = ReadUInt64("the data offset");
            if (offset % (ulong)alignment != 0)
                Fail(offsetField, $"expected a data offset that is a multiple of the alignment {alignment}, found {offset}");
            if (offset > (ulong)_length)
                Fail(offsetField, $"expected a data offset inside the file ({_length} bytes), found {offset}");
            return new GgufTensorInfo(name, type.Type, shape, (long)offset, byteSize);
        }

        private void CheckTensorRanges(List<GgufTensorInfo> tensors, List<long> offsetFields, long dataOffset)
        {
            long dataSize = _length - dataOffset;
            for (int i = 0; i < tensors.Count; i++)
            {
                GgufTensorInfo t = tensors[i];
                if (t.Offset > dataSize || t.ByteSize > dataSize - t.Offset)
                {
                    _context = $"tensor '{t.Name}'";
                    Fail(offsetFields[i], $"expected data inside the data section ({dataSize} bytes from byte {dataOffset}), found offset {t.Offset} + {t.ByteSize} bytes");
                }
            }

            var order = new int[tensors.Count];
            for (int i = 0; i < order.Length; i++)
                order[i] = i;
            Array.Sort(order, (a, b) => tensors[a].Offset != tensors[b].Offset
                ? tensors[a].Offset.CompareTo(tensors[b].Offset)
                : a.CompareTo(b));
            int previous = -1;
            foreach (int i in order)
            {
                GgufTensorInfo t = tensors[i];
                if (t.ByteSize == 0)
                    continue;
                if (previous >= 0)
                {
                    GgufTensorInfo p = tensors[previous];
                    if (t.Offset < p.Offset + p.ByteSize)
                    {
                        _context = $"tensor '{t.Name}'";
                        Fail(offsetFields[i], $"expected data that does not overlap other tensors, found [{t.Offset}, {t.Offset + t.ByteSize}) overlapping tensor '{p.Name}' at [{p.Offset}, {p.Offset + p.ByteSize})");
                    }
                }
                previous = i;
            }
        }

        // --- primitives

        private void Need(long count, string what)
        {
            if (count > Remaining)
                Fail(_pos, $"expected {what} ({count} bytes), found end of file ({Remaining} bytes left)");
        }

        private ReadOnlySpan<byte> Take(int count, string what)
        {
            Need(count, what);
            var span = new ReadOnlySpan<byte>(_start + _pos, count);
            _pos += count;
            return span;
        }

        private uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

        private ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

        private long ReadInt64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));

        private bool ReadBool()
        {
            Need(1, "a bool");
            byte b = _start[_pos];
            if (b > 1)
                Fail(_pos, $"expected a bool (0 or 1), found {b}");
            _pos++;
            return b == 1;
        }

        /// <summary>
        /// Reads a length-prefixed string. <paramref name="strict"/> rejects invalid UTF-8 (keys, tensor
        /// names); otherwise invalid sequences become U+FFFD.
        /// </summary>
        private string ReadString(string what, bool strict)
        {
            long at = _pos;
            if (Remaining < 8)
                Fail(at, $"expected the length of {what} (8 bytes), found end of file ({Remaining} bytes left)");
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(_start + _pos, 8));
            _pos += 8;
            if (length > GgufFile.MaxStringBytes)
                Fail(at, $"expected {what} of at most {GgufFile.MaxStringBytes} bytes, found length {length}");
            if (length > (ulong)Remaining)
                Fail(at, $"expected {what} of {length} bytes, found only {Remaining} bytes left");
            if (length == 0)
                return "";
            var bytes = new ReadOnlySpan<byte>(_start + _pos, (int)length);
            if (strict && !Utf8.IsValid(bytes))
                Fail(at + 8, $"expected {what} in valid UTF-8, found invalid bytes");
            _pos += (long)length;
            return Encoding.UTF8.GetString(bytes);
        }

        /// <summary>Copies <paramref name="count"/> little-endian values; the caller checked the bytes left.</summary>
        private T[] ReadPrimitives<T>(int count) where T : unmanaged
        {
            if (count == 0)
                return [];
            var values = new T[count];
            long bytes = (long)count * sizeof(T);
            fixed (T* destination = values)
                Buffer.MemoryCopy(_start + _pos, destination, bytes, bytes);
            _pos += bytes;
            if (!BitConverter.IsLittleEndian)
                ReverseEndianness<T>(values);
            return values;
        }

        private static void ReverseEndianness<T>(T[] values) where T : unmanaged
        {
            Span<T> span = values;
            switch (sizeof(T))
            {
                case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, ushort>(span), MemoryMarshal.Cast<T, ushort>(span)); break;
                case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, uint>(span), MemoryMarshal.Cast<T, uint>(span)); break;
                case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<T, ulong>(span), MemoryMarshal.Cast<T, ulong>(span)); break;
            }
        }

        private static long AlignUp(long position, int alignment) => checked(position + alignment - 1) / alignment * alignment;

        private static string TypeName(uint type) => ((GgufValueType)type).ToString().ToLowerInvariant();

        private static string Printable(ReadOnlySpan<byte> bytes)
        {
            var sb = new StringBuilder(bytes.Length);
            foreach (byte b in bytes)
                sb.Append(b is >= 0x20 and < 0x7F ? (char)b : '?');
            return sb.ToString();
        }

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        private void Fail(long offset, string reason) =>
            throw new ModelFormatException(_source, offset, $"{_context}: {reason}");
    }
}
