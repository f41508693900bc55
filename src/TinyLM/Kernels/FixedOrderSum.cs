using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TinyLM.Kernels;

/// <summary>
/// Float reductions with one fixed summation order, so that scalar, Vector128, Vector256 and
/// WebAssembly kernels return bit-identical results on every machine.
/// </summary>
/// <remarks>
/// The order: 16 lane accumulators, where lane <c>j</c> sums the products of elements
/// <c>i ≡ j (mod 16)</c> for <c>i &lt; 16·⌊n/16⌋</c>, each product rounded to float before it is
/// added (no fused multiply-add anywhere). The lanes are then folded pairwise
/// (<c>acc[j] += acc[j + 8]</c>, then <c>+4</c>, <c>+2</c>, <c>+1</c>), and the remaining
/// <c>n mod 16</c> products are added to lane 0 in index order. A Vector256 kernel holds lanes 0–7 and
/// 8–15 in two registers, a Vector128 kernel in four; both fold the same way. This is TinyLM's answer
/// to <c>TensorPrimitives.Dot</c>, whose result depends on the vector width of the machine.
/// </remarks>
public static class FixedOrderSum
{
    /// <summary>Number of lane accumulators.</summary>
    public const int Lanes = 16;

    /// <summary>Dot product <c>Σ x[i]·y[i]</c> in the fixed order.</summary>
    /// <param name="x">First vector.</param>
    /// <param name="y">Second vector, at least as long as <paramref name="x"/>.</param>
    /// <returns>The sum over <c>x.Length</c> elements.</returns>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length;
        if ((uint)y.Length < (uint)n)
            throw new ArgumentException("y is shorter than x.", nameof(y));
        if (Vector256.IsHardwareAccelerated && n >= Lanes)
            return DotVector256(x, y);
        if (Vector128.IsHardwareAccelerated && n >= Lanes)
            return DotVector128(x, y);
        return DotReference(x, y);
    }

    /// <summary>Vector256 form of <see cref="Dot"/> (lanes 0–7 and 8–15 in two registers); <paramref name="y"/> already checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector256(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int i = 0;
        Vector256<float> a0 = Vector256<float>.Zero, a1 = Vector256<float>.Zero;
        for (; i <= n - Lanes; i += Lanes)
        {
            a0 += Vector256.LoadUnsafe(ref px, (nuint)i) * Vector256.LoadUnsafe(ref py, (nuint)i);
            a1 += Vector256.LoadUnsafe(ref px, (nuint)(i + 8)) * Vector256.LoadUnsafe(ref py, (nuint)(i + 8));
        }
        float sum = Fold(a0, a1);
        for (; i < n; i++)
            sum += Unsafe.Add(ref px, i) * Unsafe.Add(ref py, i);
        return sum;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> (lanes in four registers); <paramref name="y"/> already checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length;
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int i = 0;
        Vector128<float> a0 = Vector128<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (; i <= n - Lanes; i += Lanes)
        {
            a0 += Vector128.LoadUnsafe(ref px, (nuint)i) * Vector128.LoadUnsafe(ref py, (nuint)i);
            a1 += Vector128.LoadUnsafe(ref px, (nuint)(i + 4)) * Vector128.LoadUnsafe(ref py, (nuint)(i + 4));
            a2 += Vector128.LoadUnsafe(ref px, (nuint)(i + 8)) * Vector128.LoadUnsafe(ref py, (nuint)(i + 8));
            a3 += Vector128.LoadUnsafe(ref px, (nuint)(i + 12)) * Vector128.LoadUnsafe(ref py, (nuint)(i + 12));
        }
        float sum = Fold(a0, a1, a2, a3);
        for (; i < n; i++)
            sum += Unsafe.Add(ref px, i) * Unsafe.Add(ref py, i);
        return sum;
    }

    /// <summary>Scalar definition of <see cref="Dot"/>: 16 explicit accumulators.</summary>
    public static float DotReference(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length;
        if ((uint)y.Length < (uint)n)
            throw new ArgumentException("y is shorter than x.", nameof(y));
        Span<float> acc = stackalloc float[Lanes];
        acc.Clear();
        int i = 0;
        for (; i <= n - Lanes; i += Lanes)
            for (int j = 0; j < Lanes; j++)
                acc[j] += x[i + j] * y[i + j];
        for (int width = Lanes / 2; width >= 1; width /= 2)
            for (int j = 0; j < width; j++)
                acc[j] += acc[j + width];
        float sum = acc[0];
        for (; i < n; i++)
            sum += x[i] * y[i];
        return sum;
    }

    /// <summary>Sum of squares <c>Σ x[i]²</c> in the fixed order (the RMSNorm reduction).</summary>
    public static float SumOfSquares(ReadOnlySpan<float> x) => Dot(x, x);

    /// <summary>Folds the 16 lanes held as lanes 0–7 in <paramref name="a0"/> and 8–15 in <paramref name="a1"/> to one sum, in the fixed order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Fold(Vector256<float> a0, Vector256<float> a1) => Fold(a0 + a1);

    /// <summary>Folds the 16 lanes held as lanes 0–3, 4–7, 8–11, 12–15 in <paramref name="a0"/>…<paramref name="a3"/> to one sum, in the fixed order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Fold(Vector128<float> a0, Vector128<float> a1, Vector128<float> a2, Vector128<float> a3) => Fold((a0 + a2) + (a1 + a3));

    /// <summary>Folds 8 lanes: (j, j+4), then (j, j+2), then (0, 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold(Vector256<float> v) => Fold(v.GetLower() + v.GetUpper());

    /// <summary>Folds 4 lanes: (0+2, 1+3), then the two.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold(Vector128<float> v) => (v.GetElement(0) + v.GetElement(2)) + (v.GetElement(1) + v.GetElement(3));
}
