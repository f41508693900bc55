namespace TinyLM.Kernels;

/// <summary>Numerically stable softmax in place.</summary>
public static class Softmax
{
    /// <summary>
    /// <c>x[i] ← e<sup>x[i] − max</sup> / Σ e<sup>x[j] − max</sup></c>, as ggml's
    /// <c>ggml_vec_soft_max_f32</c> followed by the scale by 1/sum; uses <see cref="ScalarMath.Exp"/>
    /// and a sequential float sum so every platform returns the same bits.
    /// </summary>
    /// <param name="x">Scores, [n] with n ≥ 1; replaced by probabilities.</param>
    public static void Apply(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x)
            if (v > max) max = v;
        float sum = 0f;
        for (int i = 0; i < x.Length; i++)
        {
            float e = ScalarMath.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < x.Length; i++)
            x[i] *= inv;
    }
}
