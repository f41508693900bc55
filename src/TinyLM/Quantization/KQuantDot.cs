using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// SIMD forms of the integer part of ggml's Q3_K, Q4_K, Q5_K and Q6_K generic dots
/// (ggml/src/ggml-cpu/quants.c): with the weights unpacked to one int8 per element (<c>aux8</c>),
/// those dots keep eight int32 lanes <c>aux32[l]</c>, lane l summing <c>scale · q8[e] · a[e]</c> over
/// the elements e ≡ l (mod 8), and convert each lane to float on its own
/// (<c>sums[l] += d · aux32[l]</c>). The kernels here return exactly those eight lanes: integer
/// sums are exact in any order, so the float steps that follow are the reference's.
/// </summary>
/// <remarks>
/// Bounds that keep the int16 steps exact: |q8| ≤ 128 and |a| ≤ 32 (Q6_K), so a product is at most
/// 4096 in magnitude and the sum of four products of one lane class at most 16384.
/// </remarks>
internal static class KQuantDot
{
    /// <summary>AVX2: the eight lane sums over 16 groups of 16 elements, group g scaled by <c>scales[g]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ClassSums16Avx2(ref sbyte q8, ref sbyte a, ReadOnlySpan<int> scales)
    {
        Vector256<int> acc = Vector256<int>.Zero;
        for (int g = 0; g < 16; g++)
        {
            Vector256<short> p = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q8, (nuint)(16 * g))) *
                                 Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref a, (nuint)(16 * g)));
            acc += Avx2.ConvertToVector256Int32(p.GetLower() + p.GetUpper()) * Vector256.Create(scales[g]);
        }
        return acc;
    }

    /// <summary>AVX2: the eight lane sums over 8 groups of 32 elements, group g scaled by <c>scales[g]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ClassSums32Avx2(ref sbyte q8, ref sbyte a, ReadOnlySpan<int> scales)
    {
        Vector256<int> acc = Vector256<int>.Zero;
        for (int g = 0; g < 8; g++)
        {
            Vector256<short> p0 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q8, (nuint)(32 * g))) *
                                  Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref a, (nuint)(32 * g)));
            Vector256<short> p1 = Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref q8, (nuint)(32 * g + 16))) *
                                  Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref a, (nuint)(32 * g + 16)));
            Vector256<short> f = p0 + p1;
            acc += Avx2.ConvertToVector256Int32(f.GetLower() + f.GetUpper()) * Vector256.Create(scales[g]);
        }
        return acc;
    }

    /// <summary>Vector128: the lane sums over 16 groups of 16 (lanes 0–3 in <paramref name="lo"/>, 4–7 in <paramref name="hi"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ClassSums16(ref sbyte q8, ref sbyte a, ReadOnlySpan<int> scales, out Vector128<int> lo, out Vector128<int> hi)
    {
        lo = hi = Vector128<int>.Zero;
        for (int g = 0; g < 16; g++)
        {
            Vector128<short> f = Products(ref q8, ref a, 16 * g);
            (Vector128<int> l, Vector128<int> h) = Vector128.Widen(f);
            Vector128<int> s = Vector128.Create(scales[g]);
            lo += l * s;
            hi += h * s;
        }
    }

    /// <summary>Vector128: the lane sums over 8 groups of 32 (lanes 0–3 in <paramref name="lo"/>, 4–7 in <paramref name="hi"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ClassSums32(ref sbyte q8, ref sbyte a, ReadOnlySpan<int> scales, out Vector128<int> lo, out Vector128<int> hi)
    {
        lo = hi = Vector128<int>.Zero;
        for (int g = 0; g < 8; g++)
        {
            Vector128<short> f = Products(ref q8, ref a, 32 * g) + Products(ref q8, ref a, 32 * g + 16);
            (Vector128<int> l, Vector128<int> h) = Vector128.Widen(f);
            Vector128<int> s = Vector128.Create(scales[g]);
            lo += l * s;
            hi += h * s;
        }
    }

    /// <summary>Lane k: <c>q8[o+k]·a[o+k] + q8[o+k+8]·a[o+k+8]</c> for k = 0–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Products(ref sbyte q8, ref sbyte a, int offset)
    {
        (Vector128<short> ql, Vector128<short> qh) = Vector128.Widen(Vector128.LoadUnsafe(ref q8, (nuint)offset));
        (Vector128<short> al, Vector128<short> ah) = Vector128.Widen(Vector128.LoadUnsafe(ref a, (nuint)offset));
        return ql * al + qh * ah;
    }

    /// <summary>
    /// The reference's float steps for one block: <c>sums[l] += d · (float)aux32[l]</c>, lane by lane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Accumulate(Vector256<float> sums, float d, Vector256<int> aux32) =>
        sums + Vector256.Create(d) * Vector256.ConvertToSingle(aux32);

    /// <summary>The reference's final sum: <c>sumf += sums[l]</c> for l = 0–7, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float AddLanes(float sumf, Vector256<float> sums)
    {
        for (int l = 0; l < 8; l++)
            sumf += sums.GetElement(l);
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="AddLanes(float, Vector256{float})"/>: lanes 0–3, then 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float AddLanes(float sumf, Vector128<float> lo, Vector128<float> hi)
    {
        for (int l = 0; l < 4; l++)
            sumf += lo.GetElement(l);
        for (int l = 0; l < 4; l++)
            sumf += hi.GetElement(l);
        return sumf;
    }

    /// <summary>Bytes of <paramref name="v"/> shifted right by <paramref name="shift"/> bits, masked to <paramref name="mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Bits(Vector128<byte> v, int shift, byte mask) =>
        (v.AsUInt16() >> shift).AsByte() & Vector128.Create(mask);
}
