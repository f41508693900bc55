using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TinyLM.Kernels;

/// <summary>
/// ggml's exponential and SiLU, built only from IEEE 754 single-precision operations, so that they
/// return the same bits on every platform and equal llama.cpp's.
/// </summary>
public static class ScalarMath
{
    // ggml_v_expf's constants, written in hexadecimal there: 0x1.8p23f, 0x1.715476p+0f, 0x1.62e4p-1f,
    // 0x1.7f7d1cp-20f, then the polynomial 0x1.ffffecp-1f, 0x1.fffdb6p-2f, 0x1.555e66p-3f,
    // 0x1.573e2ep-5f, 0x1.0e4020p-7f (each decimal below parses to exactly that float).
    private const float Shift = 12582912f;
    private const float Log2E = 1.4426950216293335f;
    private const float Ln2Hi = 0.693145751953125f;
    private const float Ln2Lo = 1.428606765330187e-06f;
    private const float C1 = 0.9999994039535522f;
    private const float C2 = 0.4999912679195404f;
    private const float C3 = 0.16668395698070526f;
    private const float C4 = 0.04189976677298546f;
    private const float C5 = 0.008247390389442444f;

    /// <summary>
    /// e<sup>x</sup> as ggml's vectorized <c>ggml_v_expf</c> (ggml-cpu/vec.h, SSE2 form without FMA,
    /// adapted there from ARM's optimized routines; maximum error 1.45 + 0.5 ulp), one lane at a time:
    /// <c>x = n·ln2 + b</c>, a degree-5 polynomial in b, scaled by 2<sup>n</sup>, with the
    /// overflow/underflow branches of the original.
    /// </summary>
    /// <returns>∞ above about 88.38, 0 below about −103.97, NaN for NaN.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        float z = x * Log2E + Shift;
        float n = z - Shift;
        float b = x - n * Ln2Hi;
        b -= n * Ln2Lo;
        uint e = BitConverter.SingleToUInt32Bits(z) << 23;
        float k = BitConverter.UInt32BitsToSingle(unchecked(e + 0x3F800000u));
        float u = b * b;
        float j = ((C5 * b + C4) * u + (C3 * b + C2)) * u + C1 * b;
        if (!(MathF.Abs(n) > 126f))
            return j * k + k;
        uint g = n <= 0f ? 0x82000000u : 0u;
        float s1 = BitConverter.UInt32BitsToSingle(unchecked(g + 0x7F000000u));
        float s2 = BitConverter.UInt32BitsToSingle(unchecked(e - g));
        if (MathF.Abs(n) > 192f)
            return s1 * s1;
        return (s2 * j + s2) * s1;
    }

    /// <summary>
    /// <see cref="Exp(float)"/> on eight lanes: the same single-precision operations lane by lane (no
    /// fused multiply-add), the overflow/underflow branches as selects — the same bits as the scalar form.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ExpVector256(Vector256<float> x)
    {
        Vector256<float> z = x * Log2E + Vector256.Create(Shift);
        Vector256<float> n = z - Vector256.Create(Shift);
        Vector256<float> b = x - n * Ln2Hi;
        b -= n * Ln2Lo;
        Vector256<uint> e = z.AsUInt32() << 23;
        Vector256<float> k = (e + Vector256.Create(0x3F800000u)).AsSingle();
        Vector256<float> u = b * b;
        Vector256<float> j = ((Vector256.Create(C5) * b + Vector256.Create(C4)) * u + (Vector256.Create(C3) * b + Vector256.Create(C2))) * u + Vector256.Create(C1) * b;
        Vector256<float> normal = j * k + k;
        Vector256<float> absN = Vector256.Abs(n);
        Vector256<float> big = Vector256.GreaterThan(absN, Vector256.Create(126f));
        if (big == Vector256<float>.Zero)
            return normal;
        Vector256<uint> g = Vector256.LessThanOrEqual(n, Vector256<float>.Zero).AsUInt32() & Vector256.Create(0x82000000u);
        Vector256<float> s1 = (g + Vector256.Create(0x7F000000u)).AsSingle();
        Vector256<float> s2 = (e - g).AsSingle();
        Vector256<float> special = Vector256.ConditionalSelect(Vector256.GreaterThan(absN, Vector256.Create(192f)), s1 * s1, (s2 * j + s2) * s1);
        return Vector256.ConditionalSelect(big, special, normal);
    }

    /// <summary><see cref="Silu(float)"/> on eight lanes (same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> SiluVector256(Vector256<float> x) => x / (Vector256<float>.One + ExpVector256(Vector256<float>.Zero - x));

    /// <summary>SiLU (swish) <c>x / (1 + e<sup>0−x</sup>)</c>, as ggml's <c>ggml_v_silu</c> (with <see cref="Exp"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x / (1f + Exp(0f - x));
}
