using System.Runtime.InteropServices;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// Byte-exact agreement with the prebuilt llama.cpp (v0.5.0, node-llama-cpp 3.22.1): the goldens in
/// Goldens/ are written by tools/llamacpp/quant-golden.c (regenerate with
/// tools/llamacpp/regen-quant-goldens.sh); the file formats are described there.
/// </summary>
public class LlamaCppGoldenTests
{
    private const int Blocks = 16;
    private const int RandomBlocks = 8;

    public static TheoryData<string> GoldenTypes() => ["f16", "bf16", "q8_0", "q8_1", "q4_0", "q4_1", "q5_0", "q5_1"];

    public static TheoryData<string> GenericDotTypes() => ["q4_0", "q4_1", "q5_0", "q5_1", "q8_0"];

    private const int SuperBlocks = 20;

    /// <summary>The super-block types (and IQ4_NL), whose goldens use input_k.f32 and input2_k.f32.</summary>
    public static TheoryData<string> SuperBlockGoldenTypes() => ["q8_K", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "tq1_0", "tq2_0", "iq4_nl"];

    /// <summary>The types of <see cref="SuperBlockGoldenTypes"/> with a ggml generic dot.</summary>
    public static TheoryData<string> SuperBlockDotTypes() => ["q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "tq1_0", "tq2_0", "iq4_nl"];

    private static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "Quantization", "Goldens", file);

    private static byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

    private static float[] Floats(string file) => MemoryMarshal.Cast<byte, float>(Bytes(file)).ToArray();

    [Theory]
    [MemberData(nameof(GoldenTypes))]
    public void QuantizeReferenceMatchesLlamaCppBytes(string name)
    {
        TensorType t = QuantTestData.Type(name);
        float[] input = Floats("input.f32");
        byte[] expected = Bytes($"{name}.quant.bin");
        QuantTestData.AssertBytesEqual(expected, QuantTestData.QuantizeReference(t, input), t.BlockBytes, $"{name} QuantizeReference");
        foreach ((string path, QuantizeKernel quantize) in KernelPaths.Quantizers(t))
        {
            byte[] actual = new byte[expected.Length];
            quantize(input, actual);
            QuantTestData.AssertBytesEqual(expected, actual, t.BlockBytes, $"{name} {path}");
        }
    }

    [Theory]
    [MemberData(nameof(GoldenTypes))]
    public void DequantizeMatchesLlamaCppFloats(string name)
    {
        TensorType t = QuantTestData.Type(name);
        if (!File.Exists(PathOf($"{name}.dequant.f32")))
        {
            Assert.Equal("q8_1", name); // ggml has no to_float for q8_1
            return;
        }
        foreach (string set in new[] { "quant", "random" })
        {
            byte[] q = Bytes($"{name}.{set}.bin");
            float[] expected = Floats(set == "quant" ? $"{name}.dequant.f32" : $"{name}.random.dequant.f32");
            foreach ((string path, DequantizeKernel dequantize) in KernelPaths.Dequantizers(t))
            {
                float[] actual = new float[expected.Length];
                dequantize(q, actual);
                QuantTestData.AssertBitEqual(expected, actual, $"{name} {path} on {set}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(GenericDotTypes))]
    public void DotMatchesLlamaCppGenericDot(string name)
    {
        TensorType t = QuantTestData.Type(name);
        TensorType at = TensorTypes.Get(t.VecDotType);
        byte[] w = Bytes($"{name}.quant.bin");
        byte[] a = QuantTestData.QuantizeReference(at, Floats("input2.f32"));
        byte[] wr = Bytes($"{name}.random.bin");
        byte[] ar = Bytes($"{at.Name}.random.bin");
        float[] expected = Floats($"{name}.dot.f32");
        Assert.Equal(2 * Blocks + RandomBlocks, expected.Length);
        foreach ((string path, DotKernel dot) in KernelPaths.Dots(t))
        {
            for (int k = 0; k < Blocks; k++)
                Check(expected[k], dot(w.AsSpan(k * t.BlockBytes, t.BlockBytes), a.AsSpan(k * at.BlockBytes, at.BlockBytes), 32), $"{name} {path} block {k}");
            for (int k = 1; k <= Blocks; k++)
                Check(expected[Blocks + k - 1], dot(w, a, 32 * k), $"{name} {path} first {k} blocks");
            for (int k = 1; k <= RandomBlocks; k++)
                Check(expected[2 * Blocks + k - 1], dot(wr, ar, 32 * k), $"{name} {path} first {k} random blocks");
        }
    }

    [Theory]
    [MemberData(nameof(SuperBlockGoldenTypes))]
    public void SuperBlockQuantizeReferenceMatchesLlamaCppBytes(string name)
    {
        TensorType t = QuantTestData.Type(name);
        float[] input = Floats("input_k.f32");
        byte[] expected = Bytes($"{name}.quant.bin");
        QuantTestData.AssertBytesEqual(expected, QuantTestData.QuantizeReference(t, input), t.BlockBytes, $"{name} QuantizeReference");
        foreach ((string path, QuantizeKernel quantize) in KernelPaths.Quantizers(t))
        {
            byte[] actual = new byte[expected.Length];
            quantize(input, actual);
            QuantTestData.AssertBytesEqual(expected, actual, t.BlockBytes, $"{name} {path}");
        }
    }

    [Theory]
    [MemberData(nameof(SuperBlockGoldenTypes))]
    public void SuperBlockDequantizeMatchesLlamaCppFloats(string name)
    {
        TensorType t = QuantTestData.Type(name);
        foreach (string set in new[] { "quant", "random" })
        {
            byte[] q = Bytes($"{name}.{set}.bin");
            float[] expected = Floats(set == "quant" ? $"{name}.dequant.f32" : $"{name}.random.dequant.f32");
            foreach ((string path, DequantizeKernel dequantize) in KernelPaths.Dequantizers(t))
            {
                float[] actual = new float[expected.Length];
                dequantize(q, actual);
                QuantTestData.AssertBitEqual(expected, actual, $"{name} {path} on {set}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(SuperBlockDotTypes))]
    public void SuperBlockDotMatchesLlamaCppGenericDot(string name)
    {
        TensorType t = QuantTestData.Type(name);
        TensorType at = TensorTypes.Get(t.VecDotType);
        int n = t.BlockSize;
        byte[] w = Bytes($"{name}.quant.bin");
        byte[] a = QuantTestData.QuantizeReference(at, Floats("input2_k.f32"));
        byte[] wr = Bytes($"{name}.random.bin");
        byte[] ar = Bytes(at.Type == GgmlType.Q8_K ? "q8_K.random.bin" : "q8_0.random_k.bin");
        float[] expected = Floats($"{name}.dot.f32");
        Assert.Equal(2 * SuperBlocks + 8, expected.Length);
        foreach ((string path, DotKernel dot) in KernelPaths.Dots(t))
        {
            for (int k = 0; k < SuperBlocks; k++)
                Check(expected[k], dot(w.AsSpan(k * t.BlockBytes, t.BlockBytes), a.AsSpan(k * at.BlockBytes, at.BlockBytes), n), $"{name} {path} block {k}");
            for (int k = 1; k <= SuperBlocks; k++)
                Check(expected[SuperBlocks + k - 1], dot(w, a, n * k), $"{name} {path} first {k} blocks");
            for (int k = 1; k <= 8; k++)
                Check(expected[2 * SuperBlocks + k - 1], dot(wr, ar, n * k), $"{name} {path} first {k} random blocks");
        }
    }

    private static void Check(float expected, float actual, string what) =>
        Assert.True(QuantTestData.BitEqual(expected, actual) || float.IsNaN(expected) && float.IsNaN(actual),
            $"{what}: expected {expected:R} (0x{BitConverter.SingleToUInt32Bits(expected):X8}), found {actual:R} (0x{BitConverter.SingleToUInt32Bits(actual):X8})");
}
