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
}
