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
            // every quant at its extreme: nibbles 0 and 15, q8 -128 and 127
            for (int b = 0; b < n / t.BlockSize; b++)
                for (int k = t.BlockBytes - (t.Type is GgmlType.Q8_0 or GgmlType.Q8_1 ? 32 : 16) - (t.Type is GgmlType.Q5_0 or GgmlType.Q5_1 ? 4 : 0); k < t.BlockBytes; k++)
                    extreme[b * t.BlockBytes + k] = (byte)((rng.Next(2) == 0 ? 0x00 : 0xFF) ^ (t.Type is GgmlType.Q8_0 or GgmlType.Q8_1 ? 0x80 : 0));
            for (int b = 0; b < n / a.BlockSize; b++)
                for (int k = a.BlockBytes - 32; k < a.BlockBytes; k++)
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
    public void FloatDotReferenceFollowsFixedOrderSum(string name)
    {
        TensorType t = QuantTestData.Type(name);
        var rng = new Random(23);
        foreach (int n in FloatLengths)
        {
            byte[] w = QuantTestData.RandomBlocks(t, n, rng), a = QuantTestData.RandomBlocks(t, n, rng);
            float[] wf = new float[n], af = new float[n];
            t.Dequantize(w, wf);
            t.Dequantize(a, af);
            Assert.True(QuantTestData.BitEqual(FixedOrderSum.DotReference(wf, af), t.DotReference(w, a, n)), $"{name}, n = {n}");
        }
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void MatMulEqualsDotPerElement(string name)
    {
        TensorType t = QuantTestData.Type(name);
        TensorType at = TensorTypes.Get(t.VecDotType);
        var rng = new Random(29);
        const int rows = 7, tokens = 3, cols = 96, stride = 9;
        byte[] w = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, rows * cols, 1f));
        byte[] a = QuantTestData.QuantizeReference(at, QuantTestData.Uniform(rng, tokens * cols, 1f));
        float[] output = new float[tokens * stride];
        Array.Fill(output, float.NaN);
        t.MatMul(w, 2, 4, cols, a, tokens, output, stride);
        int rowBytes = (int)t.RowBytes(cols), actBytes = (int)at.RowBytes(cols);
        for (int tok = 0; tok < tokens; tok++)
            for (int r = 0; r < stride; r++)
            {
                float got = output[tok * stride + r];
                if (r is < 2 or >= 6)
                    Assert.True(float.IsNaN(got), $"row {r} outside the range was written");
                else
                    Assert.True(QuantTestData.BitEqual(t.Dot(w.AsSpan(r * rowBytes, rowBytes), a.AsSpan(tok * actBytes, actBytes), cols), got));
            }
    }
}
