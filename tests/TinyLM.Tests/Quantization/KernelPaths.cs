using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Runtime.Intrinsics;
using TinyLM.Kernels;
using TinyLM.Quantization;
using Xunit;

namespace TinyLM.Tests.Quantization;

/// <summary>A dot product kernel over <c>count</c> elements whose arguments are already checked.</summary>
internal delegate float DotKernel(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count);

/// <summary>A quantizer over a whole checked row.</summary>
internal delegate void QuantizeKernel(ReadOnlySpan<float> source, Span<byte> destination);

/// <summary>A dequantizer over a whole checked row.</summary>
internal delegate void DequantizeKernel(ReadOnlySpan<byte> source, Span<float> destination);

/// <summary>
/// Every code path of every type, named, so the tests can force the Vector128 and scalar kernels on
/// a machine whose <c>Dot</c> would pick AVX2.
/// </summary>
internal static class KernelPaths
{
    /// <summary>The dot kernels of <paramref name="type"/> that this machine can run, public <c>Dot</c> first.</summary>
    public static IEnumerable<(string Path, DotKernel Dot)> Dots(TensorType type)
    {
        yield return ("Dot", type.Dot);
        yield return ("DotReference", type.DotReference);
        bool avx2 = Avx2.IsSupported, v256 = Vector256.IsHardwareAccelerated, v128 = Vector128.IsHardwareAccelerated;
        switch (type)
        {
            case F32:
                if (v256) yield return ("Vector256", (w, a, n) => GgmlFloat.DotVector256(Floats(w, n), Floats(a, n)));
                if (v128) yield return ("Vector128", (w, a, n) => GgmlFloat.DotVector128(Floats(w, n), Floats(a, n)));
                break;
            case F16:
                if (v256) yield return ("Vector256", F16.DotVector256);
                if (v128) yield return ("Vector128", F16.DotVector128);
                break;
            case BF16:
                if (v256) yield return ("Vector256", BF16.DotVector256);
                if (v128) yield return ("Vector128", BF16.DotVector128);
                break;
            case Q8_0:
                if (avx2) yield return ("Avx2", (w, a, n) => Q8_0.DotAvx2(w, a, n / 32));
                if (v128) yield return ("Vector128", (w, a, n) => Q8_0.DotVector128(w, a, n / 32));
                break;
            case Q8_1:
                if (avx2) yield return ("Avx2", (w, a, n) => Q8_1.DotAvx2(w, a, n / 32));
                if (v128) yield return ("Vector128", (w, a, n) => Q8_1.DotVector128(w, a, n / 32));
                break;
            case Q4_0:
                if (avx2) yield return ("Avx2", (w, a, n) => Q4_0.DotAvx2(w, a, n / 32));
                if (v128) yield return ("Vector128", (w, a, n) => Q4_0.DotVector128(w, a, n / 32));
                break;
            case Q4_1:
                if (avx2) yield return ("Avx2", (w, a, n) => Q4_1.DotAvx2(w, a, n / 32));
                if (v128) yield return ("Vector128", (w, a, n) => Q4_1.DotVector128(w, a, n / 32));
                break;
            case Q5_0:
                if (avx2) yield return ("Avx2", (w, a, n) => Q5_0.DotAvx2(w, a, n / 32));
                if (v128) yield return ("Vector128", (w, a, n) => Q5_0.DotVector128(w, a, n / 32));
                break;
            case Q5_1:
                if (avx2) yield return ("Avx2", (w, a, n) => Q5_1.DotAvx2(w, a, n / 32));
                if (v128) yield return ("Vector128", (w, a, n) => Q5_1.DotVector128(w, a, n / 32));
                break;
            case Q8_K:
                if (avx2) yield return ("Avx2", (w, a, n) => Q8_K.DotAvx2(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => Q8_K.DotVector128(w, a, n / 256));
                break;
            case Q2_K:
                if (avx2) yield return ("Avx2", (w, a, n) => Q2_K.DotAvx2(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => Q2_K.DotVector128(w, a, n / 256));
                break;
            case Q3_K:
                if (avx2) yield return ("Avx2", (w, a, n) => KQuantDot.DotAvx2<Q3_K.LaneBlocks>(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => KQuantDot.DotVector128<Q3_K.LaneBlocks>(w, a, n / 256));
                break;
            case Q4_K:
                if (avx2) yield return ("Avx2", (w, a, n) => KQuantDot.DotAvx2<Q4_K.LaneBlocks>(w, a, n / 256));
                if (avx2) yield return ("Avx2Packed", (w, a, n) => KQuantPacked.DotAvx2<KQuantPacked.Q4K>(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => KQuantDot.DotVector128<Q4_K.LaneBlocks>(w, a, n / 256));
                break;
            case Q5_K:
                if (avx2) yield return ("Avx2", (w, a, n) => KQuantDot.DotAvx2<Q5_K.LaneBlocks>(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => KQuantDot.DotVector128<Q5_K.LaneBlocks>(w, a, n / 256));
                break;
            case Q6_K:
                if (avx2) yield return ("Avx2", (w, a, n) => KQuantDot.DotAvx2<Q6_K.LaneBlocks>(w, a, n / 256));
                if (avx2) yield return ("Avx2Packed", (w, a, n) => KQuantPacked.DotAvx2<KQuantPacked.Q6K>(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => KQuantDot.DotVector128<Q6_K.LaneBlocks>(w, a, n / 256));
                break;
            case TQ1_0:
                if (avx2) yield return ("Avx2", (w, a, n) => TQ1_0.DotAvx2(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => TQ1_0.DotVector128(w, a, n / 256));
                break;
            case TQ2_0:
                if (avx2) yield return ("Avx2", (w, a, n) => TQ2_0.DotAvx2(w, a, n / 256));
                if (v128) yield return ("Vector128", (w, a, n) => TQ2_0.DotVector128(w, a, n / 256));
                break;
            case IQ4_NL:
                if (avx2) yield return ("Avx2", (w, a, n) => IQ4_NL.DotAvx2(w, a, n / 32));
                if (v128) yield return ("Vector128", (w, a, n) => IQ4_NL.DotVector128(w, a, n / 32));
                break;
        }
    }

    /// <summary>The quantizers of <paramref name="type"/> other than <c>QuantizeReference</c>, public <c>Quantize</c> first.</summary>
    public static IEnumerable<(string Path, QuantizeKernel Quantize)> Quantizers(TensorType type)
    {
        yield return ("Quantize", type.Quantize);
        bool v256 = Vector256.IsHardwareAccelerated, v128 = Vector128.IsHardwareAccelerated;
        switch (type)
        {
            case F16:
                if (v256) yield return ("Vector256", (x, y) => F16.QuantizeVector256(x, y, x.Length));
                if (v128) yield return ("Vector128", (x, y) => F16.QuantizeVector128(x, y, x.Length));
                break;
            case BF16:
                if (v256) yield return ("Vector256", (x, y) => BF16.QuantizeVector256(x, y, x.Length));
                if (v128) yield return ("Vector128", (x, y) => BF16.QuantizeVector128(x, y, x.Length));
                break;
            case Q8_0:
                if (v256) yield return ("Vector256", (x, y) => Q8_0.QuantizeVector256(x, y, x.Length / 32));
                if (v128) yield return ("Vector128", (x, y) => Q8_0.QuantizeVector128(x, y, x.Length / 32));
                break;
            case Q8_1:
                if (v256) yield return ("Vector256", (x, y) => Q8_1.QuantizeVector256(x, y, x.Length / 32));
                if (v128) yield return ("Vector128", (x, y) => Q8_1.QuantizeVector128(x, y, x.Length / 32));
                break;
            case Q8_K:
                if (v256) yield return ("Vector256", (x, y) => Q8_K.QuantizeVector256(x, y, x.Length / 256));
                if (v128) yield return ("Vector128", (x, y) => Q8_K.QuantizeVector128(x, y, x.Length / 256));
                break;
        }
    }

    /// <summary>The dequantizers of <paramref name="type"/>, public <c>Dequantize</c> first.</summary>
    public static IEnumerable<(string Path, DequantizeKernel Dequantize)> Dequantizers(TensorType type)
    {
        yield return ("Dequantize", type.Dequantize);
        bool v256 = Vector256.IsHardwareAccelerated, v128 = Vector128.IsHardwareAccelerated;
        switch (type)
        {
            case F16:
                yield return ("Scalar", (x, y) => F16.DequantizeScalar(x, y, y.Length));
                if (v256) yield return ("Vector256", (x, y) => F16.DequantizeVector256(x, y, y.Length));
                if (v128) yield return ("Vector128", (x, y) => F16.DequantizeVector128(x, y, y.Length));
                break;
            case BF16:
                yield return ("Scalar", (x, y) => BF16.DequantizeScalar(x, y, y.Length));
                if (v256) yield return ("Vector256", (x, y) => BF16.DequantizeVector256(x, y, y.Length));
                if (v128) yield return ("Vector128", (x, y) => BF16.DequantizeVector128(x, y, y.Length));
                break;
        }
    }

    private static ReadOnlySpan<float> Floats(ReadOnlySpan<byte> bytes, int n) => MemoryMarshal.Cast<byte, float>(bytes)[..n];
}
