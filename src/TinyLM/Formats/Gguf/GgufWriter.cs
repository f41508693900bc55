using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using TinyLM.Quantization;

namespace TinyLM.Formats.Gguf;

/// <summary>
/// Builds a GGUF v3 file: metadata in insertion order, tensor infos in insertion order, zero padding
/// to the alignment, then each tensor's data at an aligned offset.
/// </summary>
/// <remarks>
/// <para>
/// The output matches ggml/src/gguf.cpp (<c>gguf_write_out</c>): the data section starts at the first
/// multiple of the alignment after the tensor infos, tensor <c>i + 1</c> starts at the end of tensor
/// <c>i</c> rounded up to the alignment, and every tensor, the last one included, is followed by
/// zero padding to the alignment. The alignment is <c>general.alignment</c> when set (a uint32 power
/// of two), else <see cref="GgufFile.DefaultAlignment"/>.
/// </para>
/// <para>
/// Tensor data is not copied: the writer keeps the memory passed to <see cref="AddTensor(string, GgmlType, ReadOnlySpan{long}, ReadOnlyMemory{byte})"/>
/// and streams it to the output when writing, so the caller must not change it until then. Only the
/// header (metadata and tensor infos) is built in memory.
/// </para>
/// <para>
/// Keys and tensor names must be valid UTF-16 (no lone surrogates); other strings are encoded as
/// UTF-8 with lone surrogates replaced by U+FFFD. Tensor names are limited to 63 UTF-8 bytes, which
/// llama.cpp (<c>GGML_MAX_NAME</c> = 64) can read. Not thread-safe.
/// </para>
/// </remarks>
public sealed class GgufWriter
{
    /// <summary>Longest tensor name in UTF-8 bytes: llama.cpp's <c>GGML_MAX_NAME</c> - 1.</summary>
    public const int MaxTensorNameBytes = 63;

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly byte[] s_zeros = new byte[4096];

    private readonly List<Pending> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Metadata to write. <c>general.alignment</c>, when set, sets the data alignment.</summary>
    public GgufMetadata Metadata { get; } = new("<writer>");

    /// <summary>Adds a tensor. <paramref name="data"/> must be exactly the tensor's byte size.</summary>
    /// <param name="name">Tensor name, unique, 1 to <see cref="MaxTensorNameBytes"/> UTF-8 bytes.</param>
    /// <param name="type">Element type; must be registered in <see cref="TensorTypes"/>.</param>
    /// <param name="shape">Dimensions, innermost first (ggml <c>ne</c>); 1 to 4 of them, each 0 or
    /// more (llama.cpp allows empty tensors), <c>shape[0]</c> a multiple of the type's block size.</param>
    /// <param name="data">The tensor bytes: <c>type.RowBytes(shape[0])</c> times the product of the
    /// other dimensions. Kept by reference until written; not copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">Duplicate, empty, too long or invalid name; unsupported
    /// type; bad shape (dimension count, negative dimension, row length not a multiple of the block
    /// size, element count or byte size beyond int64); or wrong data size.</exception>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, ReadOnlyMemory<byte> data)
    {
        long byteSize = Validate(name, type, shape, out long _);
        if (data.Length != byteSize)
            throw new ArgumentException($"Tensor '{name}' ({type} [{string.Join(", ", shape.ToArray())}]) needs {byteSize} bytes, got {data.Length}.", nameof(data));
        Add(new Pending(name, type, shape.ToArray(), byteSize, data, null, null));
    }

    /// <summary>
    /// Adds a tensor whose bytes are produced while the file is written, so that a converter (the
    /// quantizer) holds one output tensor in memory at a time instead of the whole model.
    /// </summary>
    /// <param name="name">Tensor name, unique, 1 to <see cref="MaxTensorNameBytes"/> UTF-8 bytes.</param>
    /// <param name="type">Element type; must be registered in <see cref="TensorTypes"/>.</param>
    /// <param name="shape">Dimensions, innermost first (ggml <c>ne</c>); as for <see cref="AddTensor(string, GgmlType, ReadOnlySpan{long}, ReadOnlyMemory{byte})"/>.</param>
    /// <param name="produce">Returns the tensor bytes (<c>type.RowBytes(shape[0])</c> times the product
    /// of the other dimensions). Called once each time the file is written, in tensor order, after
    /// the previous tensors' bytes were written; the writer keeps no reference to the result afterwards.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="produce"/> is null.</exception>
    /// <exception cref="ArgumentException">Duplicate, empty, too long or invalid name; unsupported
    /// type; or bad shape. Writing throws <see cref="InvalidOperationException"/> when
    /// <paramref name="produce"/> returns the wrong number of bytes.</exception>
    public void AddTensor(string name, GgmlType type, ReadOnlySpan<long> shape, Func<ReadOnlyMemory<byte>> produce)
    {
        ArgumentNullException.ThrowIfNull(produce);
        long byteSize = Validate(name, type, shape, out long _);
        Add(new Pending(name, type, shape.ToArray(), byteSize, default, null, produce));
    }

    /// <summary>Adds an F32 tensor.</summary>
    /// <param name="name">Tensor name, unique, 1 to <see cref="MaxTensorNameBytes"/> UTF-8 bytes.</param>
    /// <param name="shape">Dimensions, innermost first (ggml <c>ne</c>); 1 to 4 of them, each 0 or more.</param>
    /// <param name="values">The values, innermost dimension first; as many as the product of
    /// <paramref name="shape"/>. Kept by reference until written; not copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="values"/> is null.</exception>
    /// <exception cref="ArgumentException">Duplicate, empty, too long or invalid name; bad shape; or
    /// <paramref name="values"/> length differs from the element count.</exception>
    public void AddTensor(string name, ReadOnlySpan<long> shape, float[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        long byteSize = Validate(name, GgmlType.F32, shape, out long elements);
        if (values.Length != elements)
            throw new ArgumentException($"Tensor '{name}' (f32 [{string.Join(", ", shape.ToArray())}]) needs {elements} values, got {values.Length}.", nameof(values));
        Add(new Pending(name, GgmlType.F32, shape.ToArray(), byteSize, default, values, null));
    }

    /// <summary>Writes the file to a stream, starting at its current position.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable; or
    /// <see cref="Metadata"/> cannot be stored (ParamName <c>Metadata</c>): an empty or invalid key,
    /// <c>general.alignment</c> not a uint32 power of two up to <see cref="GgufFile.MaxAlignment"/>,
    /// a string over <see cref="GgufFile.MaxStringBytes"/>, an array over
    /// <see cref="GgufFile.MaxArrayLength"/> elements or nested deeper than <see cref="GgufFile.MaxArrayDepth"/>.</exception>
    /// <exception cref="IOException">The stream fails.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        WriteCore(stream, Plan());
    }

    /// <summary>Writes the file to a path (created or overwritten). Nothing is created when validation fails.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty; or <see cref="Metadata"/>
    /// cannot be stored (see <see cref="WriteTo(Stream)"/>).</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void WriteTo(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Layout layout = Plan();
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        WriteCore(file, layout);
    }

    /// <summary>The file as a byte array.</summary>
    /// <exception cref="ArgumentException"><see cref="Metadata"/> cannot be stored (see <see cref="WriteTo(Stream)"/>).</exception>
    /// <exception cref="InvalidOperationException">The file would exceed the largest .NET array; use <see cref="WriteTo(Stream)"/>.</exception>
    public byte[] ToArray()
    {
        Layout layout = Plan();
        if (layout.TotalBytes > Array.MaxLength)
            throw new InvalidOperationException($"The GGUF file would be {layout.TotalBytes} bytes, more than an array holds; write it to a stream.");
        var result = new byte[layout.TotalBytes];
        using var stream = new MemoryStream(result, writable: true);
        WriteCore(stream, layout);
        return result;
    }

    // --- validation

    private long Validate(string name, GgmlType type, ReadOnlySpan<long> shape, out long elements)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
            throw new ArgumentException("Tensor names must not be empty.", nameof(name));
        int nameBytes = StrictByteCount(name, nameof(name));
        if (nameBytes > MaxTensorNameBytes)
            throw new ArgumentException($"Tensor name '{name}' is {nameBytes} UTF-8 bytes; llama.cpp reads at most {MaxTensorNameBytes}.", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"A tensor named '{name}' was already added.", nameof(name));
        if (!TensorTypes.TryGet(type, out TensorType? tensorType))
            throw new ArgumentException($"Tensor type {type} ({(uint)type}) is not registered in TensorTypes.", nameof(type));
        if (shape.Length is 0 or > GgufFile.MaxDimensions)
            throw new ArgumentException($"Tensor '{name}' has {shape.Length} dimensions; GGUF needs 1 to {GgufFile.MaxDimensions}.", nameof(shape));
        long nonZeroProduct = 1;
        bool anyZero = false;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = shape[i];
            if (d < 0)
                throw new ArgumentException($"Tensor '{name}' dimension {i} is {d}; dimensions must be 0 or more.", nameof(shape));
            if (d == 0)
                anyZero = true;
            else if (nonZeroProduct > long.MaxValue / d)
                throw new ArgumentException($"Tensor '{name}' has more elements than an int64 counts.", nameof(shape));
            else
                nonZeroProduct *= d;
        }
        if (shape[0] % tensorType.BlockSize != 0)
            throw new ArgumentException($"Tensor '{name}' row length {shape[0]} is not a multiple of the {tensorType.Name} block size {tensorType.BlockSize}.", nameof(shape));
        elements = anyZero ? 0 : nonZeroProduct;
        long blocks = elements / tensorType.BlockSize;
        if (blocks > long.MaxValue / tensorType.BlockBytes)
            throw new ArgumentException($"Tensor '{name}' is more bytes than an int64 counts.", nameof(shape));
        return blocks * tensorType.BlockBytes;
    }

    private void Add(Pending tensor)
    {
        _names.Add(tensor.Name);
        _tensors.Add(tensor);
    }

    private static int StrictByteCount(string s, string paramName)
    {
        try
        {
            return s_strictUtf8.GetByteCount(s);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException($"'{s}' is not valid UTF-16 (lone surrogate): {e.Message}", paramName, e);
        }
    }

    private int ResolveAlignment()
    {
        const string key = "general.alignment";
        if (!Metadata.TryGetValue(key, out GgufValue? value))
            return GgufFile.DefaultAlignment;
        if (value.Type != GgufValueType.UInt32)
            throw new ArgumentException($"Metadata '{key}' must be a uint32, found {value.Describe()}.", nameof(Metadata));
        uint a = (uint)value.Value;
        if (a == 0 || (a & (a - 1)) != 0 || a > GgufFile.MaxAlignment)
            throw new ArgumentException($"Metadata '{key}' must be a power of two from 1 to {GgufFile.MaxAlignment}, found {a}.", nameof(Metadata));
        return (int)a;
    }

    // --- layout and output

    private sealed record Pending(string Name, GgmlType Type, long[] Shape, long ByteSize, ReadOnlyMemory<byte> Bytes, float[]? Floats, Func<ReadOnlyMemory<byte>>? Produce);

    private sealed record Layout(byte[] Header, int Alignment, long DataOffset, long TotalBytes);

    /// <summary>Validates the metadata and builds the header (everything before the data section).</summary>
    private Layout Plan()
    {
        int alignment = ResolveAlignment();
        var header = new HeaderBuilder();
        header.UInt32(GgufFile.Magic);
        header.UInt32(3);
        header.UInt64((ulong)_tensors.Count);
        header.UInt64((ulong)Metadata.Count);
        foreach (KeyValuePair<string, GgufValue> kv in Metadata)
        {
            if (kv.Key.Length == 0)
                throw new ArgumentException("Metadata keys must not be empty.", nameof(Metadata));
            StrictByteCount(kv.Key, nameof(Metadata));
            header.String(kv.Key);
            header.UInt32((uint)kv.Value.Type);
            WriteValue(header, kv.Key, kv.Value, depth: 0);
        }

        long offset = 0;
        foreach (Pending t in _tensors)
        {
            header.String(t.Name);
            header.UInt32((uint)t.Shape.Length);
            foreach (long d in t.Shape)
                header.UInt64((ulong)d);
            header.UInt32((uint)t.Type);
            header.UInt64((ulong)offset);
            offset = checked(offset + AlignUp(t.ByteSize, alignment));
        }
        byte[] bytes = header.ToArray();
        long dataOffset = AlignUp(bytes.Length, alignment);
        return new Layout(bytes, alignment, dataOffset, checked(dataOffset + offset));
    }

    private static void WriteValue(HeaderBuilder header, string key, GgufValue value, int depth)
    {
        if (value.Type != GgufValueType.Array)
        {
            switch (value.Value)
            {
                case byte v: header.Byte(v); break;
                case sbyte v: header.Byte((byte)v); break;
                case ushort v: header.UInt16(v); break;
                case short v: header.UInt16((ushort)v); break;
                case uint v: header.UInt32(v); break;
                case int v: header.UInt32((uint)v); break;
                case float v: header.UInt32(BitConverter.SingleToUInt32Bits(v)); break;
                case bool v: header.Byte(v ? (byte)1 : (byte)0); break;
                case string v: WriteString(header, key, v); break;
                case ulong v: header.UInt64(v); break;
                case long v: header.UInt64((ulong)v); break;
                case double v: header.UInt64(BitConverter.DoubleToUInt64Bits(v)); break;
            }
            return;
        }

        var array = (Array)value.Value;
        if (depth + 1 > GgufFile.MaxArrayDepth)
            throw new ArgumentException($"Metadata '{key}' nests arrays more than {GgufFile.MaxArrayDepth} levels deep.", nameof(Metadata));
        if (array.Length > GgufFile.MaxArrayLength)
            throw new ArgumentException($"Metadata '{key}' has an array of {array.Length} elements; GGUF readers accept at most {GgufFile.MaxArrayLength}.", nameof(Metadata));
        header.UInt32((uint)value.ElementType);
        header.UInt64((ulong)array.Length);
        switch (array)
        {
            case byte[] a: header.Primitives<byte>(a); break;
            case sbyte[] a: header.Primitives<sbyte>(a); break;
            case ushort[] a: header.Primitives<ushort>(a); break;
            case short[] a: header.Primitives<short>(a); break;
            case uint[] a: header.Primitives<uint>(a); break;
            case int[] a: header.Primitives<int>(a); break;
            case float[] a: header.Primitives<float>(a); break;
            case ulong[] a: header.Primitives<ulong>(a); break;
            case long[] a: header.Primitives<long>(a); break;
            case double[] a: header.Primitives<double>(a); break;
            case bool[] a:
                foreach (bool b in a)
                    header.Byte(b ? (byte)1 : (byte)0);
                break;
            case string[] a:
                foreach (string s in a)
                    WriteString(header, key, s ?? throw new ArgumentException($"Metadata '{key}' has a null string element.", nameof(Metadata)));
                break;
            case GgufValue[] a:
                foreach (GgufValue element in a)
                {
                    // GgufValue.FromArray(GgufValue[]) guarantees every element is an array.
                    WriteValue(header, key, element, depth + 1);
                }
                break;
        }
    }

    private static void WriteString(HeaderBuilder header, string key, string s)
    {
        int length = Encoding.UTF8.GetByteCount(s);
        if (length > GgufFile.MaxStringBytes)
            throw new ArgumentException($"Metadata '{key}' has a string of {length} UTF-8 bytes; GGUF readers accept at most {GgufFile.MaxStringBytes}.", nameof(Metadata));
        header.String(s, length);
    }

    private void WriteCore(Stream stream, Layout layout)
    {
        stream.Write(layout.Header);
        WriteZeros(stream, layout.DataOffset - layout.Header.Length);
        foreach (Pending t in _tensors)
        {
            if (t.Floats is { } floats)
            {
                WriteFloats(stream, floats);
            }
            else if (t.Produce is { } produce)
            {
                ReadOnlyMemory<byte> bytes = produce();
                if (bytes.Length != t.ByteSize)
                    throw new InvalidOperationException($"Tensor '{t.Name}' ({t.Type} [{string.Join(", ", t.Shape)}]) needs {t.ByteSize} bytes; its producer returned {bytes.Length}.");
                stream.Write(bytes.Span);
            }
            else
            {
                stream.Write(t.Bytes.Span);
            }
            WriteZeros(stream, AlignUp(t.ByteSize, layout.Alignment) - t.ByteSize);
        }
        stream.Flush();
    }

    private static void WriteFloats(Stream stream, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        Span<byte> chunk = stackalloc byte[4096];
        for (int i = 0; i < values.Length;)
        {
            int n = Math.Min(values.Length - i, chunk.Length / 4);
            for (int j = 0; j < n; j++)
                BinaryPrimitives.WriteSingleLittleEndian(chunk.Slice(j * 4), values[i + j]);
            stream.Write(chunk[..(n * 4)]);
            i += n;
        }
    }

    private static void WriteZeros(Stream stream, long count)
    {
        ReadOnlySpan<byte> zeros = s_zeros;
        while (count > 0)
        {
            int n = (int)Math.Min(count, zeros.Length);
            stream.Write(zeros[..n]);
            count -= n;
        }
    }

    private static long AlignUp(long position, int alignment) => checked(position + alignment - 1) / alignment * alignment;

    /// <summary>Little-endian header bytes in a growing buffer.</summary>
    private sealed class HeaderBuilder
    {
        private byte[] _buffer = new byte[4096];
        private int _length;

        public byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();

        private Span<byte> Grow(int count)
        {
            if (count > _buffer.Length - _length)
            {
                long needed = (long)_length + count;
                if (needed > Array.MaxLength)
                    throw new ArgumentException("The GGUF metadata and tensor infos exceed the largest .NET array.", nameof(Metadata));
                Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _buffer.Length)));
            }
            Span<byte> span = _buffer.AsSpan(_length, count);
            _length += count;
            return span;
        }

        public void Byte(byte v) => Grow(1)[0] = v;

        public void UInt16(ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Grow(2), v);

        public void UInt32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Grow(4), v);

        public void UInt64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Grow(8), v);

        public void String(string s) => String(s, Encoding.UTF8.GetByteCount(s));

        public void String(string s, int byteCount)
        {
            UInt64((ulong)byteCount);
            Encoding.UTF8.GetBytes(s, Grow(byteCount));
        }

        public unsafe void Primitives<T>(T[] values) where T : unmanaged
        {
            long bytes = (long)values.Length * sizeof(T);
            if (bytes > int.MaxValue)
                throw new ArgumentException("The GGUF metadata and tensor infos exceed the largest .NET array.", nameof(Metadata));
            Span<byte> destination = Grow((int)bytes);
            MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(destination);
            if (!BitConverter.IsLittleEndian)
            {
                switch (sizeof(T))
                {
                    case 2: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ushort>(destination), MemoryMarshal.Cast<byte, ushort>(destination)); break;
                    case 4: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, uint>(destination), MemoryMarshal.Cast<byte, uint>(destination)); break;
                    case 8: BinaryPrimitives.ReverseEndianness(MemoryMarshal.Cast<byte, ulong>(destination), MemoryMarshal.Cast<byte, ulong>(destination)); break;
                }
            }
        }
    }
}
