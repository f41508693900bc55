using System.Runtime.Intrinsics.X86;
using TinyLM.Kernels;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>Every dot kernel returns exactly the reference float (test-quantize-fns' dot tests, made exact).</summary>
public class DotTests
{
    public static TheoryData<string> AllTypes() => QuantTestData.AllTypes();

    private static readonly int[] BlockCounts = [1, 2, 3, 4, 5, 7, 8, 9, 12, 16, 33, 4096 / 32 + 1];
    private static readonly int[] FloatLengths = [1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 67, 127, 129, 193, 255, 1023, 4096 + 32];

    private static IEnumerable<int> Lengths(TensorType t) =>
        t.IsQuantized ? BlockCounts.Select(b => b * t.BlockSize) : FloatLengths;

    private static IEnumerable<(string Name, byte[] Weights, byte[] Activations)> Operands(TensorType t, int n, Random rng)
    {
        TensorType a = TensorTypes.Get(t.VecDotType);
        foreach (float scale in new[] { 1f, 1e-3f, 300f })
            yield return ($"quantized random x{scale}",
                QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, n, scale)),
                QuantTestData.QuantizeReference(a, QuantTestData.Uniform(rng, n, 2f)));
        yield return ("random bytes", QuantTestData.RandomBlocks(t, n, rng), QuantTestData.RandomBlocks(a, n, rng));
        var extreme = QuantTestData.RandomBlocks(t, n, rng);
        var extremeAct = QuantTestData.RandomBlocks(a, n, rng);
        if (t.IsQuantized)
        {
            // every quant at its extreme: all weight bits 0 or 1 outside the scale fields, q8 -128 and 127
            bool kType = t.BlockSize == 256 || t.Type == GgmlType.IQ4_NL;
            for (int b = 0; b < n / t.BlockSize; b++)
            {
                Span<byte> block = extreme.AsSpan(b * t.BlockBytes, t.BlockBytes);
                if (kType)
                {
                    for (int k = 0; k < block.Length; k++)
                        block[k] = (byte)(rng.Next(2) == 0 ? 0x00 : 0xFF);
                    QuantTestData.WriteFiniteScales(t, block, rng);
                }
                else
                    for (int k = t.BlockBytes - (t.Type is GgmlType.Q8_0 or GgmlType.Q8_1 ? 32 : 16) - (t.Type is GgmlType.Q5_0 or GgmlType.Q5_1 ? 4 : 0); k < t.BlockBytes; k++)
                        block[k] = (byte)((rng.Next(2) == 0 ? 0x00 : 0xFF) ^ (t.Type is GgmlType.Q8_0 or GgmlType.Q8_1 ? 0x80 : 0));
            }
            (int qStart, int qLength) = QuantTestData.ActivationQuants(a).GetOffsetAndLength(a.BlockBytes);
            for (int b = 0; b < n / a.BlockSize; b++)
                for (int k = qStart; k < qStart + qLength; k++)
                    extremeAct[b * a.BlockBytes + k] = (byte)(rng.Next(2) == 0 ? 0x80 : 0x7F);
        }
        yield return ("extreme quants", extreme, extremeAct);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void DotEqualsDotReferenceOnEveryPath(string name)
    {
        TensorType t = QuantTestData.Type(name);
        var rng = new Random(17);
        foreach (int n in Lengths(t))
            foreach ((string what, byte[] w, byte[] a) in Operands(t, n, rng))
            {
                float expected = t.DotReference(w, a, n);
                foreach ((string path, DotKernel dot) in KernelPaths.Dots(t))
                {
                    float actual = dot(w, a, n);
                    Assert.True(QuantTestData.BitEqual(expected, actual) || float.IsNaN(expected) && float.IsNaN(actual),
                        $"{name} {path}, n = {n}, {what}: expected {expected:R}, found {actual:R}");
                }
            }
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void FloatDotReferenceIsGgmlPortableDot(string name)
    {
        TensorType t = QuantTestData.Type(name);
        var rng = new Random(23);
        foreach (int n in FloatLengths)
        {
            byte[] w = QuantTestData.RandomBlocks(t, n, rng), a = QuantTestData.RandomBlocks(t, n, rng);
            float[] wf = new float[n], af = new float[n];
            t.Dequantize(w, wf);
            t.Dequantize(a, af);
            double sum = 0;
            for (int i = 0; i < n; i++)
                sum += wf[i] * af[i];
            Assert.True(QuantTestData.BitEqual((float)sum, t.DotReference(w, a, n)), $"{name}, n = {n}");
        }
    }

    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    [InlineData("bf16")]
    public void FloatMatMul_EightRowPasses_EqualDotPerElement(string name)
    {
        // Row groups of eight plus a remainder, columns with and without a tail of fewer than eight, token
        // counts below, at and past the four-token passes; through MatMul and, where AVX runs, both forms of
        // the eight-row kernel (double sums in two Vector256 or, with AVX-512, one Vector512 per token).
        TensorType t = QuantTestData.Type(name);
        var rng = new Random(31);
        var paths = new List<(string Path, Action<byte[], int, int, byte[], int, float[]> MatMul)> { ("MatMul", (w, rows, cols, a, tokens, o) => t.MatMul(w, 0, rows, cols, a, tokens, o, rows)) };
        if (Avx.IsSupported)
            foreach (bool avx512 in new[] { false, true })
                paths.Add(($"MatMulAvx(avx512: {avx512})", (w, rows, cols, a, tokens, o) =>
                {
                    switch (t)
                    {
                        case F32: FloatRows.MatMulAvx<FloatRows.F32Elements>(t, w, 0, rows, cols, a, tokens, o, rows, avx512); break;
                        case F16: FloatRows.MatMulAvx<FloatRows.F16Elements>(t, w, 0, rows, cols, a, tokens, o, rows, avx512); break;
                        default: FloatRows.MatMulAvx<FloatRows.BF16Elements>(t, w, 0, rows, cols, a, tokens, o, rows, avx512); break;
                    }
                }));
        foreach ((int rows, int tokens, int cols) in new[] { (19, 3, 37), (16, 1, 64), (9, 5, 7), (8, 2, 1), (17, 9, 45), (8, 4, 64), (24, 13, 8) })
        {
            byte[] w = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, rows * cols, 4f));
            byte[] a = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, tokens * cols, 2f));
            int rowBytes = (int)t.RowBytes(cols);
            foreach ((string path, var matMul) in paths)
            {
                var output = new float[tokens * rows];
                matMul(w, rows, cols, a, tokens, output);
                for (int tok = 0; tok < tokens; tok++)
                    for (int r = 0; r < rows; r++)
                        Assert.True(QuantTestData.BitEqual(t.DotReference(w.AsSpan(r * rowBytes, rowBytes), a.AsSpan(tok * rowBytes, rowBytes), cols), output[tok * rows + r]),
                            $"{name} {path}: {rows}x{cols} by {tokens} tokens, row {r}, token {tok}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void MatMulEqualsDotPerElement(string name)
    {
        TensorType t = QuantTestData.Type(name);
        TensorType at = TensorTypes.Get(t.VecDotType);
        var rng = new Random(29);
        int u = Math.Max(32, t.BlockSize);
        // The last four reach the prefill panels (eight rows × at least two tokens): two panels and a
        // leftover row, rows of one block and of more than one 64-block chunk, token counts not a multiple of four.
        foreach ((int rows, int tokens, int cols) in new[] { (7, 9, 3 * u), (3, 4, u), (5, 1, 2 * u), (2, 13, 4096 + u), (3, 70, u), (4, 70, 2048),
            (19, 11, 70 * u), (10, 8, u), (11, 21, 3 * u), (9, 3, 2 * u) })
        {
            int stride = rows + 2, rowStart = rows > 2 ? 1 : 0, rowCount = rows - rowStart - (rows > 3 ? 1 : 0);
            byte[] w = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, rows * cols, 1f));
            byte[] a = QuantTestData.QuantizeReference(at, QuantTestData.Uniform(rng, tokens * cols, 1f));
            float[] output = new float[tokens * stride];
            Array.Fill(output, float.NaN);
            t.MatMul(w, rowStart, rowCount, cols, a, tokens, output, stride);
            QuantTestData.AssertRowsEqualDotReference(t, w, a, cols, tokens, output, stride, rowStart, rowCount, $"{name}: {rows}x{cols}");
        }
    }

    /// <summary>
    /// Weights and activations for <see cref="MatMulEqualsDotReferenceOnRandomAndExtremeBlocks"/>: random
    /// bytes (any scales, any group sums), every weight byte 0x00, 0xFF or 0x80 (quants and scales at
    /// their extremes, e.g. Q4_K scales and mins 63, Q6_K scales −1 and −128) against activation quants
    /// all −128 or all 127, and a random mix of 0x00/0xFF bytes against −128/127; float scales finite.
    /// </summary>
    private static IEnumerable<(string Name, byte[] Weights, byte[] Activations)> MatMulOperands(TensorType t, int rows, int tokens, int cols, Random rng)
    {
        TensorType at = TensorTypes.Get(t.VecDotType);
        (int qStart, int qLength) = QuantTestData.ActivationQuants(at).GetOffsetAndLength(at.BlockBytes);
        byte[] Activations(Func<byte> quant)
        {
            byte[] a = QuantTestData.RandomBlocks(at, tokens * cols, rng);
            for (int b = 0; b < tokens * cols / at.BlockSize; b++)
                for (int k = qStart; k < qStart + qLength; k++)
                    a[b * at.BlockBytes + k] = quant();
            return a;
        }
        byte[] Weights(Func<byte> value)
        {
            byte[] w = new byte[t.RowBytes(rows * cols)];
            for (int b = 0; b < rows * cols / t.BlockSize; b++)
            {
                Span<byte> block = w.AsSpan(b * t.BlockBytes, t.BlockBytes);
                for (int k = 0; k < block.Length; k++)
                    block[k] = value();
                QuantTestData.WriteFiniteScales(t, block, rng);
            }
            return w;
        }
        yield return ("random bytes", QuantTestData.RandomBlocks(t, rows * cols, rng), QuantTestData.RandomBlocks(at, tokens * cols, rng));
        foreach (byte v in new byte[] { 0x00, 0xFF, 0x80 })
            foreach (byte q in new byte[] { 0x80, 0x7F })
                yield return ($"weight bytes 0x{v:X2}, activation quants 0x{q:X2}", Weights(() => v), Activations(() => q));
        yield return ("mixed extremes", Weights(() => (byte)(rng.Next(2) == 0 ? 0x00 : 0xFF)), Activations(() => (byte)(rng.Next(2) == 0 ? 0x80 : 0x7F)));
    }

    [Theory]
    [InlineData("q4_K")]
    [InlineData("q6_K")]
    [InlineData("q5_0")]
    [InlineData("q4_0")]
    public void MatMulEqualsDotReferenceOnRandomAndExtremeBlocks(string name)
    {
        // Row groups of four with remainders, one token (decode) and several (prefill tiles and, from eight rows × eight tokens, panels; the last shape has 65 blocks per row when they are of 32), rows
        // of one to several blocks; every output against the scalar reference.
        TensorType t = QuantTestData.Type(name);
        TensorType at = TensorTypes.Get(t.VecDotType);
        var rng = new Random(41);
        int u = t.BlockSize;
        foreach ((int rows, int tokens, int cols) in new[] { (1, 1, u), (4, 1, 3 * u), (5, 1, 2 * u), (7, 3, u), (9, 5, 4 * u), (13, 2, 6 * u), (8, 8, 2 * u), (3, 70, u), (6, 4, 9 * u), (17, 9, 3 * u), (16, 12, 65 * 32 / u * u) })
            foreach ((string what, byte[] w, byte[] a) in MatMulOperands(t, rows, tokens, cols, rng))
            {
                float[] output = new float[tokens * rows];
                t.MatMul(w, 0, rows, cols, a, tokens, output, rows);
                int rowBytes = (int)t.RowBytes(cols), actBytes = (int)at.RowBytes(cols);
                for (int tok = 0; tok < tokens; tok++)
                    for (int r = 0; r < rows; r++)
                    {
                        float expected = t.DotReference(w.AsSpan(r * rowBytes, rowBytes), a.AsSpan(tok * actBytes, actBytes), cols);
                        float got = output[tok * rows + r];
                        Assert.True(QuantTestData.BitEqual(expected, got) || float.IsNaN(expected) && float.IsNaN(got),
                            $"{name}: {rows}x{cols} by {tokens} tokens, {what}, row {r}, token {tok}: expected {expected:R}, found {got:R}");
                    }
            }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void MatMulRejectsShortOperands(string name)
    {
        TensorType t = QuantTestData.Type(name);
        TensorType at = TensorTypes.Get(t.VecDotType);
        const int rows = 4, tokens = 5;
        int cols = 2 * Math.Max(32, t.BlockSize);
        byte[] w = new byte[t.RowBytes(rows * cols)], a = new byte[at.RowBytes(tokens * cols)];
        float[] o = new float[tokens * rows];
        Assert.Throws<ArgumentException>("weights", () => t.MatMul(w.AsSpan(1), 0, rows, cols, a, tokens, o, rows));
        Assert.Throws<ArgumentException>("activations", () => t.MatMul(w, 0, rows, cols, a.AsSpan(1), tokens, o, rows));
        Assert.Throws<ArgumentException>("output", () => t.MatMul(w, 0, rows, cols, a, tokens, o.AsSpan(1), rows));
        Assert.Throws<ArgumentOutOfRangeException>("outputStride", () => t.MatMul(w, 0, rows, cols, a, tokens, o, rows - 1));
        Assert.Throws<ArgumentOutOfRangeException>("rowStart", () => t.MatMul(w, -1, rows, cols, a, tokens, o, rows));
        if (t.IsQuantized)
            Assert.Throws<ArgumentOutOfRangeException>("cols", () => t.MatMul(w, 0, rows, cols - 1, a, tokens, o, rows));
        t.MatMul(w, 0, rows, cols, a, tokens, o, rows);
    }
}
