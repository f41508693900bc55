namespace TinyLM.Quantization;

/// <summary>
/// Tensor element types, with the numeric values of <c>enum ggml_type</c> in ggml/include/ggml.h
/// (llama.cpp). These values are what GGUF files store in their tensor infos.
/// </summary>
/// <remarks>Only types that have a <see cref="TensorType"/> in <see cref="TensorTypes"/> can be loaded.</remarks>
public enum GgmlType : uint
{
    /// <summary>IEEE 754 binary32.</summary>
    F32 = 0,
    /// <summary>IEEE 754 binary16.</summary>
    F16 = 1,
    /// <summary>4-bit symmetric blocks of 32 with an F16 scale (4.5 bits per weight).</summary>
    Q4_0 = 2,
    /// <summary>4-bit blocks of 32 with F16 scale and minimum (5 bits per weight).</summary>
    Q4_1 = 3,
    /// <summary>5-bit symmetric blocks of 32 (5.5 bits per weight).</summary>
    Q5_0 = 6,
    /// <summary>5-bit blocks of 32 with scale and minimum (6 bits per weight).</summary>
    Q5_1 = 7,
    /// <summary>8-bit symmetric blocks of 32 (8.5 bits per weight).</summary>
    Q8_0 = 8,
    /// <summary>8-bit blocks of 32 with scale and scaled sum; activation type for Q4_1 and Q5_1.</summary>
    Q8_1 = 9,
    /// <summary>K-quant, 2 bits.</summary>
    Q2_K = 10,
    /// <summary>K-quant, 3 bits.</summary>
    Q3_K = 11,
    /// <summary>K-quant, 4 bits.</summary>
    Q4_K = 12,
    /// <summary>K-quant, 5 bits.</summary>
    Q5_K = 13,
    /// <summary>K-quant, 6 bits.</summary>
    Q6_K = 14,
    /// <summary>K-quant, 8 bits (activations of K-quant dots).</summary>
    Q8_K = 15,
    /// <summary>i-quant.</summary>
    IQ2_XXS = 16,
    /// <summary>i-quant.</summary>
    IQ2_XS = 17,
    /// <summary>i-quant.</summary>
    IQ3_XXS = 18,
    /// <summary>i-quant.</summary>
    IQ1_S = 19,
    /// <summary>4-bit non-linear quantization, blocks of 32.</summary>
    IQ4_NL = 20,
    /// <summary>i-quant.</summary>
    IQ3_S = 21,
    /// <summary>i-quant.</summary>
    IQ2_S = 22,
    /// <summary>i-quant.</summary>
    IQ4_XS = 23,
    /// <summary>8-bit integer.</summary>
    I8 = 24,
    /// <summary>16-bit integer.</summary>
    I16 = 25,
    /// <summary>32-bit integer.</summary>
    I32 = 26,
    /// <summary>64-bit integer.</summary>
    I64 = 27,
    /// <summary>IEEE 754 binary64.</summary>
    F64 = 28,
    /// <summary>i-quant.</summary>
    IQ1_M = 29,
    /// <summary>bfloat16.</summary>
    BF16 = 30,
    /// <summary>Ternary, 1.6875 bits per weight.</summary>
    TQ1_0 = 34,
    /// <summary>Ternary, 2.0625 bits per weight.</summary>
    TQ2_0 = 35,
    /// <summary>Microscaling FP4.</summary>
    MXFP4 = 39,
}
