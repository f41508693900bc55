using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
/// extensions (its baseline x86-64 variant). The SIMD forms compute the products eight or four at
/// a time and then add them to the double sum one by one, in index order: the same bits as the
/// scalar form. Kernels that need more speed compute several independent sums at once (one per
/// SIMD lane), never by splitting one sum.
/// </remarks>
public static class GgmlFloat
{
    /// <summary><c>(float) Σ (double)(x[i]·y[i])</c>, i ascending (SIMD products where available).</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, at least as long as <paramref name="x"/>.</param>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (y.Length < x.Length)
            throw new ArgumentException("y is shorter than x.", nameof(y));
        if (Vector256.IsHardwareAccelerated)
            return DotVector256(x, y[..x.Length]);
        if (Vector128.IsHardwareAccelerated)
            return DotVector128(x, y[..x.Length]);
        return DotReference(x, y);
    }

    /// <summary>Scalar definition of <see cref="Dot"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="y"/> is shorter than <paramref name="x"/>.</exception>
    public static float DotReference(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        if (y.Length < x.Length)
            throw new ArgumentException("y is shorter than x.", nameof(y));
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
            sum += x[i] * y[i];
        return (float)sum;
    }

    /// <summary><c>Σ (double)(x[i]·x[i])</c>, i ascending, in double (the RMSNorm reduction).</summary>
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float v in x)
            sum += v * v;
        return sum;
    }

    /// <summary>Vector256 form of <see cref="Dot"/> (equal lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector256(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        double sum = 0;
        int i = 0, n = x.Length;
        for (; i + 8 <= n; i += 8)
            sum = AddInOrder(sum, Vector256.LoadUnsafe(ref px, (nuint)i) * Vector256.LoadUnsafe(ref py, (nuint)i));
        for (; i < n; i++)
            sum += Unsafe.Add(ref px, i) * Unsafe.Add(ref py, i);
        return (float)sum;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> (equal lengths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        double sum = 0;
        int i = 0, n = x.Length;
        for (; i + 4 <= n; i += 4)
            sum = AddInOrder(sum, Vector128.LoadUnsafe(ref px, (nuint)i) * Vector128.LoadUnsafe(ref py, (nuint)i));
        for (; i < n; i++)
            sum += Unsafe.Add(ref px, i) * Unsafe.Add(ref py, i);
        return (float)sum;
    }

    /// <summary>Adds the eight products to <paramref name="sum"/> one at a time, lane 0 first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double AddInOrder(double sum, Vector256<float> p) => AddInOrder(AddInOrder(sum, p.GetLower()), p.GetUpper());

    /// <summary>Adds the four products to <paramref name="sum"/> one at a time, lane 0 first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double AddInOrder(double sum, Vector128<float> p)
    {
        sum += p.GetElement(0);
        sum += p.GetElement(1);
        sum += p.GetElement(2);
        return sum + p.GetElement(3);
    }
}
