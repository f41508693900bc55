namespace TinyLM.Kernels;

/// <summary>Root-mean-square layer normalization (Zhang and Sennrich, 2019, arXiv:1910.07467).</summary>
public static class RmsNorm
{
    /// <summary>
    /// <c>y[i] = x[i] · scale · weight[i]</c> with <c>scale = 1 / sqrtf(mean + eps)</c> and
    /// <c>mean = (float)(Σ (double)(x²) / n)</c>, exactly as ggml's fused RMS norm and multiply
    /// (ggml-cpu/ops.cpp, <c>ggml_compute_forward_rms_norm_f32</c> with <c>GGML_RMS_NORM_FUSE_OP_MUL</c>).
    /// </summary>
    /// <param name="x">Input, [n].</param>
    /// <param name="weight">Per-channel gain, [n].</param>
    /// <param name="epsilon">Added to the mean square (<c>layer_norm_rms_epsilon</c>).</param>
    /// <param name="y">Output, [n]; may be the same memory as <paramref name="x"/>.</param>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y)
    {
        int n = x.Length;
        float mean = (float)(GgmlFloat.SumOfSquares(x) / n);
        float scale = 1.0f / MathF.Sqrt(mean + epsilon);
        for (int i = 0; i < n; i++)
            y[i] = x[i] * scale * weight[i];
    }
}
