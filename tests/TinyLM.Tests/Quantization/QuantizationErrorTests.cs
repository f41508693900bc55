using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// llama.cpp's tests/test-quantize-fns.cpp for every registered type: the same data
/// (<c>0.1 + 2·cos(i + offset)</c>, 4096 values), the same measures and the same bounds.
/// </summary>
public class QuantizationErrorTests
{
    private const float MaxQuantizationReferenceError = 0.0001f;
    private const float MaxQuantizationTotalError = 0.002f; // 4 bits and more
    private const float MaxQuantizationTotalError2Bits = 0.0075f;
    private const float MaxQuantizationTotalError3Bits = 0.0040f;
    private const float MaxQuantizationTotalErrorTernary = 0.01f;
    private const float MaxDotProductError = 0.02f;
    private const float MaxDotProductErrorLowBit = 0.04f;
    private const float MaxDotProductErrorTernary = 0.15f;
    private const int TestSize = 32 * 128;

    public static TheoryData<string> AllTypes() => QuantTestData.AllTypes();

    /// <summary>test-quantize-fns' <c>max_quantization_error</c> for the type.</summary>
    private static float QuantizationBound(TensorType t) => t.Type switch
    {
        GgmlType.TQ1_0 or GgmlType.TQ2_0 => MaxQuantizationTotalErrorTernary,
        GgmlType.Q2_K => MaxQuantizationTotalError2Bits,
        GgmlType.Q3_K => MaxQuantizationTotalError3Bits,
        _ => MaxQuantizationTotalError,
    };

    /// <summary>test-quantize-fns' <c>max_allowed_error</c> for the dot of the type.</summary>
    private static float DotBound(TensorType t) => t.Type switch
    {
        GgmlType.Q2_K => MaxDotProductErrorLowBit,
        GgmlType.TQ1_0 or GgmlType.TQ2_0 => MaxDotProductErrorTernary,
        _ => MaxDotProductError,
    };

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void QuantizationErrorIsWithinLlamaCppBound(string name)
    {
        // total_quantization_error: from_float, then to_float, RMSE against the input
        TensorType t = QuantTestData.Type(name);
        float[] data = QuantTestData.GenerateData(0.0f, TestSize);
        byte[] q = new byte[t.RowBytes(TestSize)];
        float[] output = new float[TestSize];
        t.Quantize(data, q);
        t.Dequantize(q, output);
        float error = QuantTestData.ArrayRmse(data, output);
        Assert.True(error < QuantizationBound(t), $"{name} absolute quantization error {error}");
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void FastQuantizationMatchesReferenceWithinLlamaCppBound(string name)
    {
        // reference_quantization_error: from_float vs from_float_ref, both dequantized (exactly 0 in TinyLM)
        TensorType t = QuantTestData.Type(name);
        float[] data = QuantTestData.GenerateData(0.0f, TestSize);
        byte[] q = new byte[t.RowBytes(TestSize)], qRef = new byte[q.Length];
        float[] output = new float[TestSize], outputRef = new float[TestSize];
        t.Quantize(data, q);
        t.Dequantize(q, output);
        t.QuantizeReference(data, qRef);
        t.Dequantize(qRef, outputRef);
        float error = QuantTestData.ArrayRmse(output, outputRef);
        Assert.True(error < MaxQuantizationReferenceError, $"{name} reference implementation error {error}");
        Assert.Equal(0f, error);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void DotProductErrorIsWithinLlamaCppBound(string name)
    {
        // dot_product_error: weights in the type, activations in its vec_dot_type, against the float dot
        TensorType t = QuantTestData.Type(name);
        TensorType vdot = TensorTypes.Get(t.VecDotType);
        float[] data1 = QuantTestData.GenerateData(0.0f, TestSize);
        float[] data2 = QuantTestData.GenerateData(1.0f, TestSize);
        byte[] q1 = new byte[t.RowBytes(TestSize)], q2 = new byte[vdot.RowBytes(TestSize)];
        t.Quantize(data1, q1);
        vdot.Quantize(data2, q2);
        float dotRef = QuantTestData.DotProduct(data1, data2);
        foreach ((string path, DotKernel dot) in KernelPaths.Dots(t))
        {
            float result = dot(q1, q2, TestSize);
            float error = MathF.Abs(result - dotRef) / TestSize;
            Assert.True(error < DotBound(t), $"{name} {path} dot product error {error}");
        }
    }

    [Fact]
    public void F32DotErrorIsWithinLlamaCppReferenceBound()
    {
        // test_vec_dot_f32
        TensorType f32 = TensorTypes.Get(GgmlType.F32);
        foreach (int n in new[] { 1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 33, 63, 67, 127, 129, 193, 255, 1023 })
        {
            float[] a = QuantTestData.GenerateData(0.0f, n), b = QuantTestData.GenerateData(1.0f, n);
            byte[] qa = QuantTestData.QuantizeReference(f32, a), qb = QuantTestData.QuantizeReference(f32, b);
            float dotRef = QuantTestData.DotProduct(a, b);
            foreach ((string path, DotKernel dot) in KernelPaths.Dots(f32))
            {
                float error = MathF.Abs(dot(qa, qb, n) - dotRef) / n;
                Assert.True(error < MaxQuantizationReferenceError, $"f32 {path} n = {n}: error {error}");
            }
        }
    }
}
