using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y) =>
        Scale(x, weight, Factor(GgmlFloat.SumOfSquares(x), x.Length, epsilon), y);

    /// <summary>
    /// <see cref="Apply"/> of each of <paramref name="rows"/> rows of width <c>weight.Length</c>, the same bits. The
    /// sequential double sum of a row is bound by the latency of its additions, so on x86 with AVX the sums of four
    /// rows run in the four lanes of a <c>Vector256&lt;double&gt;</c>, two such groups at a time (each lane still adds
    /// its row's squares one by one, in index order).
    /// </summary>
    /// <param name="x">Input, [rows, n].</param>
    /// <param name="weight">Per-channel gain, [n].</param>
    /// <param name="epsilon">Added to the mean square.</param>
    /// <param name="y">Output, [rows, n]; may be the same memory as <paramref name="x"/>.</param>
    /// <param name="rows">Rows.</param>
    public static void ApplyRows(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float epsilon, Span<float> y, int rows)
    {
        int n = weight.Length, t = 0;
        if (Avx.IsSupported && n >= 4)
        {
            Span<double> sums = stackalloc double[8];
            while (t + 4 <= rows)
            {
                int count = t + 8 <= rows ? 8 : 4;
                SumsOfSquares(ref MemoryMarshal.GetReference(x.Slice(t * n, count * n)), n, count == 8, sums);
                for (int k = 0; k < count; k++)
                    Scale(x.Slice((t + k) * n, n), weight, Factor(sums[k], n, epsilon), y.Slice((t + k) * n, n));
                t += count;
            }
        }
        for (; t < rows; t++)
            Apply(x.Slice(t * n, n), weight, epsilon, y.Slice(t * n, n));
    }

    /// <summary><c>1 / sqrtf((float)(sum / n) + eps)</c>, as ggml rounds it.</summary>
    private static float Factor(double sumOfSquares, int n, float epsilon)
    {
        float mean = (float)(sumOfSquares / n);
        return 1.0f / MathF.Sqrt(mean + epsilon);
    }

    /// <summary><c>y[i] = (x[i] · scale) · weight[i]</c>, eight at a time where possible (the same float steps).</summary>
    private static void Scale(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, float scale, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (Vector256.IsHardwareAccelerated && weight.Length >= n && y.Length >= n)
        {
            ref float px = ref MemoryMarshal.GetReference(x);
            ref float pw = ref MemoryMarshal.GetReference(weight);
            ref float py = ref MemoryMarshal.GetReference(y);
            Vector256<float> s = Vector256.Create(scale);
            for (; i + 8 <= n; i += 8)
                (Vector256.LoadUnsafe(ref px, (nuint)i) * s * Vector256.LoadUnsafe(ref pw, (nuint)i)).StoreUnsafe(ref py, (nuint)i);
        }
        for (; i < n; i++)
            y[i] = x[i] * scale * weight[i];
    }

    /// <summary>
    /// <c>sums[k] = Σ_i (double)(x_k[i]·x_k[i])</c>, i ascending, for rows k = 0..3 (or 0..7) at <paramref name="x0"/>,
    /// <paramref name="n"/> floats apart: rows 0–3 in the lanes of one accumulator, rows 4–7 in another.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumsOfSquares(ref float x0, int n, bool eight, Span<double> sums)
    {
        Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
        ref float x4 = ref Unsafe.Add(ref x0, 4 * n);
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            lo = AddColumns(lo, ref x0, n, i);
            if (eight)
                hi = AddColumns(hi, ref x4, n, i);
        }
        for (; i < n; i++)
        {
            lo += Column(ref x0, n, i);
            if (eight)
                hi += Column(ref x4, n, i);
        }
        lo.CopyTo(sums);
        if (eight)
            hi.CopyTo(sums[4..]);
    }

    /// <summary>Adds the squares of columns i … i + 3 of four rows (lane k: row k) to <paramref name="acc"/>, column by column.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> AddColumns(Vector256<double> acc, ref float x, int n, int i)
    {
        Vector128<float> a = Vector128.LoadUnsafe(ref x, (nuint)i), b = Vector128.LoadUnsafe(ref x, (nuint)(n + i));
        Vector128<float> c = Vector128.LoadUnsafe(ref x, (nuint)(2 * n + i)), d = Vector128.LoadUnsafe(ref x, (nuint)(3 * n + i));
        a *= a;
        b *= b;
        c *= c;
        d *= d;
        // 4 × 4 transpose: column j of the four rows in one vector
        Vector128<float> ab01 = Sse.UnpackLow(a, b), ab23 = Sse.UnpackHigh(a, b), cd01 = Sse.UnpackLow(c, d), cd23 = Sse.UnpackHigh(c, d);
        acc += Avx.ConvertToVector256Double(Sse.MoveLowToHigh(ab01, cd01));
        acc += Avx.ConvertToVector256Double(Sse.MoveHighToLow(cd01, ab01));
        acc += Avx.ConvertToVector256Double(Sse.MoveLowToHigh(ab23, cd23));
        return acc + Avx.ConvertToVector256Double(Sse.MoveHighToLow(cd23, ab23));
    }

    /// <summary>The squares of column i of four rows as doubles (lane k: row k).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Column(ref float x, int n, int i)
    {
        float a = Unsafe.Add(ref x, i), b = Unsafe.Add(ref x, n + i), c = Unsafe.Add(ref x, 2 * n + i), d = Unsafe.Add(ref x, 3 * n + i);
        return Vector256.Create((double)(a * a), b * b, c * c, d * d);
    }
}
