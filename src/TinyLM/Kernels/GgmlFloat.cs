using System.Runtime.CompilerServices;

namespace TinyLM.Kernels;

/// <summary>
/// Float reductions in ggml's reference order: each product rounded to float, accumulated
/// sequentially in double (<c>ggml_float</c>), the total rounded to float — ggml's portable CPU
/// kernels (ggml/src/ggml-cpu/vec.cpp, <c>ggml_vec_dot_f32</c> without <c>GGML_SIMD</c>;
/// ops.cpp, <c>ggml_compute_forward_rms_norm_f32</c>).
/// </summary>
/// <remarks>
/// Every step is a single IEEE 754 operation in a fixed order, so the result is the same on every
/// platform (x86, ARM, WebAssembly), and bit-identical to llama.cpp's CPU backend built without SIMD
/// extensions (its baseline x86-64 variant). Kernels that need speed compute several independent
/// sums at once (one per SIMD lane), never by splitting one sum.
/// </remarks>
public static class GgmlFloat
{
    /// <summary><c>(float) Σ (double)(x[i]·y[i])</c>, i ascending.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, at least as long as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (y.Length < x.Length)
            throw new ArgumentException("y is shorter than x.", nameof(y));
        y = y[..x.Length];
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
            sum += x[i] * y[i];
        return (float)sum;
    }

    /// <summary><c>Σ (double)(x[i]·x[i])</c>, i ascending, in double (the RMSNorm reduction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
            sum += v * v;
        return sum;
    }
}
