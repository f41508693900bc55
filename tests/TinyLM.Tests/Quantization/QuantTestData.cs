using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>Inputs and error measures shared by the tensor-type tests, after llama.cpp's tests/test-quantize-fns.cpp.</summary>
internal static class QuantTestData
{
    /// <summary>Names of every registered type, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> AllTypes()
    {
        var data = new TheoryData<string>();
        foreach (TensorType t in TensorTypes.All)
            data.Add(t.Name);
        return data;
    }

    /// <summary>The 256-element super-block types (K-quants and ternary), for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> SuperBlockTypes() => new() { "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "tq1_0", "tq2_0" };

    /// <summary>The 32-element types repacked into eight-row panels natively, then the super-block types, for <c>[MemberData]</c>.</summary>
    public static TheoryData<string> RepackedTypes()
    {
        var data = new TheoryData<string> { "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "iq4_nl" };
        foreach (string name in SuperBlockTypes())
            data.Add(name);
        return data;
    }

    /// <summary>Looks a type up by ggml name.</summary>
    public static TensorType Type(string name) =>
        TensorTypes.TryParse(name, out TensorType? t) ? t : throw new ArgumentException($"unknown type {name}");

    /// <summary>test-quantize-fns <c>generate_data</c>: <c>0.1 + amplitude·cosf(i + offset)</c>, summed in double.</summary>
    public static float[] GenerateData(float offset, int n, float amplitude = 2.0f)
    {
        var dst = new float[n];
        for (int i = 0; i < n; i++)
            dst[i] = (float)(0.1 + (double)(amplitude * MathF.Cos(i + offset)));
        return dst;
    }

    /// <summary>test-quantize-fns <c>array_rmse</c>: <c>sqrtf(Σ d²) / n</c>, the sum in double.</summary>
    public static float ArrayRmse(ReadOnlySpan<float> a1, ReadOnlySpan<float> a2)
    {
        double sum = 0;
        for (int i = 0; i < a1.Length; i++)
        {
            double diff = a1[i] - a2[i];
            sum += diff * diff;
        }
        return MathF.Sqrt((float)sum) / a1.Length;
    }

    /// <summary>test-quantize-fns <c>dot_product</c>: float products summed in double.</summary>
    public static float DotProduct(ReadOnlySpan<float> a1, ReadOnlySpan<float> a2)
    {
        double sum = 0;
        for (int i = 0; i < a1.Length; i++)
            sum += a1[i] * a2[i];
        return (float)sum;
    }

    /// <summary>Uniform values in [-scale, scale).</summary>
    public static float[] Uniform(Random rng, int n, float scale)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
            x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    /// <summary>
    /// Rows that stress quantizers: zeros, constants, ±max, rounding ties, subnormals, huge values,
    /// outliers and random rows at many scales; every length is a multiple of <paramref name="blockSize"/>.
    /// </summary>
    public static IEnumerable<(string Name, float[] Values)> EdgeRows(int blockSize, int seed = 1)
    {
        var rng = new Random(seed);
        int n = Math.Max(blockSize, 32) * 4;
        yield return ("zeros", new float[n]);
        yield return ("negative zeros", Enumerable.Repeat(-0.0f, n).ToArray());
        yield return ("all equal", Enumerable.Repeat(0.3f, n).ToArray());
        yield return ("all equal negative", Enumerable.Repeat(-1.7f, n).ToArray());
        yield return ("max and -max", Enumerable.Range(0, n).Select(i => i % 2 == 0 ? float.MaxValue : -float.MaxValue).ToArray());
        yield return ("huge", Uniform(rng, n, 3e38f));
        yield return ("float16 overflow", Uniform(rng, n, 1e6f));
        yield return ("subnormal", Uniform(rng, n, 1e-39f));
        yield return ("smallest subnormals", Enumerable.Range(0, n).Select(i => BitConverter.Int32BitsToSingle(i % 7) * (i % 3 == 0 ? -1 : 1)).ToArray());
        yield return ("tiny", Uniform(rng, n, 1e-30f));
        yield return ("float16 subnormal range", Uniform(rng, n, 1e-6f));
        yield return ("ties", Enumerable.Range(0, n).Select(i => i % 32 == 0 ? 127f : (i % 32 - 16) + 0.5f).ToArray());
        yield return ("quarter ties", Enumerable.Range(0, n).Select(i => i % 32 == 0 ? 127f * 0.25f : ((i % 32 - 16) + 0.5f) * 0.25f).ToArray());
        yield return ("4-bit levels", Enumerable.Range(0, n).Select(i => (rng.Next(16) - 8) * 0.25f).ToArray());
        yield return ("outlier", Enumerable.Range(0, n).Select(i => i % 37 == 5 ? 50f : (float)(rng.NextDouble() - 0.5) * 0.01f).ToArray());
        yield return ("equal magnitude, both signs", Enumerable.Range(0, n).Select(i => i % 2 == 0 ? -2f : 2f).ToArray());
        yield return ("integers", Enumerable.Range(0, n).Select(i => (float)rng.Next(-300, 300)).ToArray());
        for (int e = -24; e <= 24; e += 6)
            yield return ($"random 2^{e}", Uniform(rng, n, MathF.ScaleB(1, e)));
    }

    /// <summary>Random bytes for a row of <paramref name="type"/>, with every block's float16 fields finite.</summary>
    public static byte[] RandomBlocks(TensorType type, int elements, Random rng)
    {
        var bytes = new byte[type.RowBytes(elements)];
        rng.NextBytes(bytes);
        if (!type.IsQuantized)
        {
            if (type.Type == GgmlType.F16)
                for (int i = 0; i < bytes.Length; i += 2)
                    bytes[i + 1] &= 0xFB; // exponent below 31: finite
            if (type.Type == GgmlType.BF16)
                for (int i = 0; i < bytes.Length; i += 2)
                    bytes[i + 1] &= 0xBF; // exponent below 255
            if (type.Type == GgmlType.F32)
                for (int i = 0; i < bytes.Length; i += 4)
                    bytes[i + 3] &= 0xBF; // exponent below 255
            return bytes;
        }
        foreach (int b in Enumerable.Range(0, elements / type.BlockSize))
            WriteFiniteScales(type, bytes.AsSpan(b * type.BlockBytes, type.BlockBytes), rng);
        return bytes;
    }

    /// <summary>
    /// Byte offsets of the float16 scale fields in one block of <paramref name="type"/> (ggml-common.h
    /// layouts); Q8_K's scale is a float32 at offset 0 and is not listed.
    /// </summary>
    public static int[] HalfScaleOffsets(TensorType type) => type.Type switch
    {
        GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q8_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
        GgmlType.Q2_K => [80, 82],
        GgmlType.Q3_K => [108],
        GgmlType.Q6_K => [208],
        GgmlType.TQ1_0 => [52],
        GgmlType.TQ2_0 => [64],
        GgmlType.Q8_K => [],
        _ => [0],
    };

    /// <summary>Byte range of the quants that a dot multiplies, for the activation types (Q8_0, Q8_1, Q8_K).</summary>
    public static Range ActivationQuants(TensorType type) => type.Type switch
    {
        GgmlType.Q8_0 => 2..34,
        GgmlType.Q8_1 => 4..36,
        GgmlType.Q8_K => 4..260,
        _ => throw new ArgumentException($"{type.Name} is no activation type"),
    };

    /// <summary>Sets the scale fields of one block to random finite values (float16 fields, or Q8_K's float32).</summary>
    public static void WriteFiniteScales(TensorType type, Span<byte> block, Random rng)
    {
        if (type.Type == GgmlType.Q8_K)
        {
            float d = (float)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-12, 0)));
            BitConverter.TryWriteBytes(block[..4], d);
            return;
        }
        foreach (int offset in HalfScaleOffsets(type))
        {
            Half scale = (Half)((rng.NextDouble() * 2 - 1) * Math.Pow(2, rng.Next(-8, 4)));
            BitConverter.TryWriteBytes(block.Slice(offset, 2), BitConverter.HalfToUInt16Bits(scale));
        }
    }

    /// <summary>Quantizes <paramref name="x"/> with the reference quantizer of <paramref name="type"/>.</summary>
    public static byte[] QuantizeReference(TensorType type, ReadOnlySpan<float> x)
    {
        var q = new byte[type.RowBytes(x.Length)];
        type.QuantizeReference(x, q);
        return q;
    }

    /// <summary>
    /// Asserts a product's output (<paramref name="tokens"/> rows of <paramref name="stride"/>, NaN-filled
    /// before): rows <c>[start, start + count)</c> equal <c>t.DotReference</c> bit for bit, every other row
    /// is still NaN (not written).
    /// </summary>
    public static void AssertRowsEqualDotReference(TensorType t, byte[] w, byte[] a, int cols, int tokens, float[] output, int stride,
        int start, int count, string what)
    {
        TensorType at = TensorTypes.Get(t.VecDotType);
        int rowBytes = (int)t.RowBytes(cols), actBytes = (int)at.RowBytes(cols);
        for (int tok = 0; tok < tokens; tok++)
            for (int r = 0; r < stride; r++)
            {
                float got = output[tok * stride + r];
                if (r < start || r >= start + count)
                    Assert.True(float.IsNaN(got), $"{what}: row {r} outside [{start}, {start + count}) was written");
                else
                    Assert.True(BitEqual(t.DotReference(w.AsSpan(r * rowBytes, rowBytes), a.AsSpan(tok * actBytes, actBytes), cols), got),
                        $"{what}: rows [{start}, {start + count}), {tokens} tokens: row {r}, token {tok}");
            }
    }

    /// <summary>Bit-equality of floats, NaN payloads included.</summary>
    public static bool BitEqual(float a, float b) => BitConverter.SingleToUInt32Bits(a) == BitConverter.SingleToUInt32Bits(b);

    /// <summary>Asserts two float rows are bit-equal, naming the first differing index.</summary>
    public static void AssertBitEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!BitEqual(expected[i], actual[i]))
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R} (0x{BitConverter.SingleToUInt32Bits(expected[i]):X8}), found {actual[i]:R} (0x{BitConverter.SingleToUInt32Bits(actual[i]):X8})");
    }

    /// <summary>Asserts two byte rows are equal, naming the first differing block.</summary>
    public static void AssertBytesEqual(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, int blockBytes, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
            {
                int b = i / blockBytes;
                Assert.Fail($"{what}: block {b}, byte {i - b * blockBytes}: expected {Convert.ToHexString(expected.Slice(b * blockBytes, blockBytes))}, found {Convert.ToHexString(actual.Slice(b * blockBytes, blockBytes))}");
            }
    }
}
