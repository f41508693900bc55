using System.Runtime.CompilerServices;

namespace TinyLM.Kernels;

/// <summary>
/// Elementary functions built only from IEEE 754 single-precision additions, multiplications and
/// rounding, so that they return the same bits on every platform (glibc, musl/emscripten, any CPU).
/// Used on the token path (softmax, SiLU) where libm differences would break native/browser
/// determinism.
/// </summary>
public static class ScalarMath
{
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693145751953125f;          // 0x3F317200: few mantissa bits, so n * Ln2Hi is exact
    private const float Ln2Lo = 1.428606765330187045e-06f;   // ln 2 - Ln2Hi
    private const float MaxInput = 88.72283905206835f;       // ln(float.MaxValue)
    private const float MinInput = -103.972077083991796f;    // below this e^x rounds to 0

    /// <summary>
    /// e<sup>x</sup> with a relative error below 2 ulp: Cody–Waite reduction <c>x = n·ln2 + r</c>,
    /// <c>|r| ≤ ln2/2</c>, a degree-7 Taylor polynomial for e<sup>r</sup> in Horner form, and an exact
    /// scaling by 2<sup>n</sup>.
    /// </summary>
    /// <returns>+∞ above ln(float.MaxValue), 0 below about −103.97, NaN for NaN.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (!(x <= MaxInput))
            return float.IsNaN(x) ? x : float.PositiveInfinity;
        if (x < MinInput)
            return 0f;
        float n = MathF.Round(x * Log2E, MidpointRounding.ToEven);
        float r = x - n * Ln2Hi;
        r -= n * Ln2Lo;
        float p = 1f / 5040f;
        p = p * r + 1f / 720f;
        p = p * r + 1f / 120f;
        p = p * r + 1f / 24f;
        p = p * r + 1f / 6f;
        p = p * r + 0.5f;
        p = p * r + 1f;
        p = p * r + 1f;
        int e = (int)n;
        if (e < -126)
        {
            p *= 5.42101086e-20f; // 2^-64, exact
            e += 64;
        }
        return p * BitConverter.Int32BitsToSingle((e + 127) << 23);
    }

    /// <summary>SiLU (swish) activation <c>x / (1 + e<sup>−x</sup>)</c>, as ggml's <c>ggml_silu_f32</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Silu(float x) => x / (1f + Exp(-x));
}
