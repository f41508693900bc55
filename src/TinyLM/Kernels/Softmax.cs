using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TinyLM.Kernels;

/// <summary>Numerically stable softmax in place, exactly as ggml's CPU <c>soft_max</c>.</summary>
public static class Softmax
{
    /// <summary>
    /// <c>x[i] ← e<sup>x[i] − max</sup> · (float)(1 / Σ)</c>, as ggml's
    /// <c>ggml_compute_forward_soft_max_f32</c> with <c>ggml_vec_soft_max_f32</c> (SSE2 form): the
    /// exponentials are <see cref="ScalarMath.Exp"/>; they are summed four at a time in float as
    /// <c>(e0 + e1) + (e2 + e3)</c> (missing elements of the last group count as 0, like ggml's
    /// masked positions), and the group sums are accumulated in double.
    /// </summary>
    /// <param name="x">Scores, [n] with n ≥ 1; replaced by probabilities.</param>
    public static void Apply(Span<float> x)
    {
        if (Vector256.IsHardwareAccelerated)
            ApplyVector256(x);
        else
            ApplyReference(x);
    }

    /// <summary>Scalar definition of <see cref="Apply"/> (same result bits).</summary>
    /// <param name="x">Scores, [n] with n ≥ 1; replaced by probabilities.</param>
    public static void ApplyReference(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
            max = MathF.Max(max, v);
        double sum = 0;
        int i = 0;
        for (; i + 4 <= x.Length; i += 4)
        {
            float e0 = x[i] = ScalarMath.Exp(x[i] - max);
            float e1 = x[i + 1] = ScalarMath.Exp(x[i + 1] - max);
            float e2 = x[i + 2] = ScalarMath.Exp(x[i + 2] - max);
            float e3 = x[i + 3] = ScalarMath.Exp(x[i + 3] - max);
            sum += (e0 + e1) + (e2 + e3);
        }
        if (i < x.Length)
        {
            Span<float> e = stackalloc float[4];
            e.Clear();
            for (int k = 0; i + k < x.Length; k++)
                e[k] = x[i + k] = ScalarMath.Exp(x[i + k] - max);
            sum += (e[0] + e[1]) + (e[2] + e[3]);
        }
        float scale = (float)(1.0 / sum);
        for (int k = 0; k < x.Length; k++)
            x[k] *= scale;
    }

    /// <summary>
    /// <see cref="Apply"/> eight elements at a time: <see cref="ScalarMath.ExpVector256"/>, the
    /// two groups of four of each vector summed as <c>(e0 + e1) + (e2 + e3)</c> in float and added to
    /// the double sum in order, then one multiply per element: the scalar form's operations exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyVector256(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
            max = MathF.Max(max, v);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        Vector256<float> vmax = Vector256.Create(max);
        double sum = 0;
        int i = 0, n = x.Length;
        for (; i + 8 <= n; i += 8)
        {
            Vector256<float> e = ScalarMath.ExpVector256(Vector256.LoadUnsafe(ref x0, (nuint)i) - vmax);
            e.StoreUnsafe(ref x0, (nuint)i);
            // Lanes 0, 2, 4, 6: e0 + e1, e2 + e3, e4 + e5, e6 + e7.
            Vector256<float> pairs = e + Vector256.Shuffle(e, Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6));
            sum += pairs.GetElement(0) + pairs.GetElement(2);
            sum += pairs.GetElement(4) + pairs.GetElement(6);
        }
        if (i < n)
        {
            // The last one to seven elements as the scalar form: groups of four, missing ones 0.
            Span<float> e = stackalloc float[8];
            e.Clear();
            for (int k = 0; i + k < n; k++)
                e[k] = Unsafe.Add(ref x0, i + k) = ScalarMath.Exp(Unsafe.Add(ref x0, i + k) - max);
            sum += (e[0] + e[1]) + (e[2] + e[3]);
            if (n - i > 4)
                sum += (e[4] + e[5]) + (e[6] + e[7]);
        }
        Vector256<float> scale = Vector256.Create((float)(1.0 / sum));
        i = 0;
        for (; i + 8 <= n; i += 8)
            (Vector256.LoadUnsafe(ref x0, (nuint)i) * scale).StoreUnsafe(ref x0, (nuint)i);
        for (; i < n; i++)
            Unsafe.Add(ref x0, i) *= scale.GetElement(0);
    }
}
