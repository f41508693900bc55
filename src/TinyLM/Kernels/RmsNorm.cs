using System.Numerics;

namespace TinyLM.Kernels;

/// <summary>Root-mean-square layer normalization (Zhang and Sennrich, 2019, arXiv:1910.07467).</summary>
public static class RmsNorm
{
    /// <summary>
    /// <c>y[i] = x[i] · (1 / sqrt(mean(x²) + eps)) · weight[i]</c>, as ggml's fused
    /// <c>rms_norm</c>·<c>mul</c> (ggml-cpu/ops.cpp, <c>ggml_compute_forward_rms_norm_f32</c>); the sum
    /// of squares uses <see cref="FixedOrderSum"/> instead of ggml's double accumulation.
    /// </summary>
    /// <param name="x">Input, [n].</param>
    /// <param name="weight">Per-channel gain, [n].</param>
    /// <param name="epsilon">Added to the mean square (<c>layer_norm_rms_epsilon</c>).</param>
    /// <param name="y">Output, [n]; may be the same memory as <paramref name="x"/>.</param>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y)
    {
        int n = x.Length;
        float mean = FixedOrderSum.SumOfSquares(x) / n;
        float scale = 1.0f / MathF.Sqrt(mean + epsilon);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<float>(scale);
            for (; i <= n - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(x[i..]) * s * new Vector<float>(weight[i..])).CopyTo(y[i..]);
        }
        for (; i < n; i++)
            y[i] = x[i] * scale * weight[i];
    }
}
