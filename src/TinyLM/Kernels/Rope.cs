namespace TinyLM.Kernels;

/// <summary>
/// Rotary position embedding (RoPE; Su et al., 2021, arXiv:2104.09864) with a precomputed
/// cos/sin table per position, as ggml's <c>ggml_rope_ext</c> (ggml-cpu/ops.cpp,
/// <c>ggml_rope_cache_init</c> and <c>rotate_pairs</c>) without YaRN extrapolation.
/// </summary>
/// <remarks>
/// The table follows ggml's recurrence exactly: <c>θ₀ = pos</c>, <c>θ_{k+1} = θ_k · powf(base, −2/n_rot)</c>
/// in float; the angle used is <c>freq_scale · (θ_k / freq_factor[k])</c>. ggml takes <c>powf</c>,
/// <c>cosf</c> and <c>sinf</c> from the C library; TinyLM uses <see cref="LibmFloat"/>, ports that return
/// glibc's bits (x86-64 with FMA) on every platform, so the table equals llama.cpp's on glibc natively
/// and in the browser, where <see cref="MathF"/> would call emscripten's musl (whose <c>sinf</c>/<c>cosf</c>
/// differ in the last bit for about 1% of the angles).
/// </remarks>
public sealed class Rope
{
    private readonly float[] _table; // [positions, n_rot/2, 2] = cos, sin

    /// <summary>Builds the table.</summary>
    /// <param name="rotaryDimensions">Rotated channels per head (<c>n_rot</c>), even.</param>
    /// <param name="positions">Number of positions (the context length).</param>
    /// <param name="frequencyBase">θ base (<c>rope.freq_base</c>, 10000 for Llama 2).</param>
    /// <param name="frequencyScale">Linear position scale (<c>1 / rope.scaling.factor</c>).</param>
    /// <param name="frequencyFactors">Optional per-pair divisors (<c>rope_freqs.weight</c>, Llama 3), [n_rot/2].</param>
    /// <param name="neox">True for GPT-NeoX style (rotate channel i with i + n_rot/2), false for adjacent pairs.</param>
    /// <exception cref="ArgumentOutOfRangeException">Odd or non-positive dimensions, or a bad position count.</exception>
    public Rope(int rotaryDimensions, int positions, float frequencyBase, float frequencyScale = 1f,
        ReadOnlySpan<float> frequencyFactors = default, bool neox = false)
    {
        if (rotaryDimensions <= 0 || rotaryDimensions % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(rotaryDimensions), rotaryDimensions, "must be positive and even");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(positions);
        int pairs = rotaryDimensions / 2;
        if (!frequencyFactors.IsEmpty && frequencyFactors.Length < pairs)
            throw new ArgumentOutOfRangeException(nameof(frequencyFactors), $"expected {pairs} factors, found {frequencyFactors.Length}");
        RotaryDimensions = rotaryDimensions;
        Positions = positions;
        IsNeox = neox;
        _table = new float[checked((long)positions * rotaryDimensions)];
        float thetaScale = LibmFloat.Pow(frequencyBase, -2.0f / rotaryDimensions);
        for (int p = 0; p < positions; p++)
        {
            float theta = p;
            int row = p * rotaryDimensions;
            for (int k = 0; k < pairs; k++)
            {
                float ff = frequencyFactors.IsEmpty ? 1f : frequencyFactors[k];
                float angle = frequencyScale * (theta / ff);
                _table[row + 2 * k] = LibmFloat.Cos(angle);
                _table[row + 2 * k + 1] = LibmFloat.Sin(angle);
                theta *= thetaScale;
            }
        }
    }

    /// <summary>Rotated channels per head.</summary>
    public int RotaryDimensions { get; }

    /// <summary>The table, <c>[Positions, RotaryDimensions / 2, 2]</c>: cos, sin per position and pair (for the emitted kernels).</summary>
    public ReadOnlySpan<float> Table => _table;

    /// <summary>Positions covered by the table.</summary>
    public int Positions { get; }

    /// <summary>True for GPT-NeoX style pairing.</summary>
    public bool IsNeox { get; }

    /// <summary>
    /// Rotates every head of one token in place.
    /// </summary>
    /// <param name="x">[heads, headDim] for one token.</param>
    /// <param name="heads">Number of heads in <paramref name="x"/>.</param>
    /// <param name="headDim">Channels per head (≥ <see cref="RotaryDimensions"/>; the rest pass through).</param>
    /// <param name="position">Token position, 0 ≤ position &lt; <see cref="Positions"/>.</param>
    public void Apply(Span<float> x, int heads, int headDim, int position)
    {
        if ((uint)position >= (uint)Positions)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"RoPE table covers {Positions} positions");
        ReadOnlySpan<float> cs = _table.AsSpan(position * RotaryDimensions, RotaryDimensions);
        int pairs = RotaryDimensions / 2;
        for (int h = 0; h < heads; h++)
        {
            Span<float> v = x.Slice(h * headDim, headDim);
            int offset = IsNeox ? pairs : 1;
            for (int k = 0; k < pairs; k++)
            {
                int i0 = IsNeox ? k : 2 * k;
                float c = cs[2 * k], s = cs[2 * k + 1];
                float x0 = v[i0], x1 = v[i0 + offset];
                v[i0] = x0 * c - x1 * s;
                v[i0 + offset] = x0 * s + x1 * c;
            }
        }
    }
}
