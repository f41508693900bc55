using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace TinyLM.Quantization;

/// <summary>
/// SIMD steps of the 8-bit activation quantizers (Q8_0, Q8_1) that give exactly the scalar
/// reference's results: the block's absolute maximum, <c>d = amax / 127</c>, <c>id = 1 / d</c>, and
/// <c>roundf(x · id)</c> rounded half away from zero.
/// </summary>
/// <remarks>
/// Elementwise float multiplies are IEEE operations identical to the scalar ones, the maximum of
/// non-negative values does not depend on order, and the rounding is built from truncation so that
/// ties go away from zero as C <c>roundf</c> does (llama.cpp's AVX2 <c>quantize_row_q8_0</c> rounds
/// ties to even instead). Blocks containing NaN or infinity, or whose <c>1 / d</c> overflows, are
/// left to the scalar reference (the <c>Try</c> methods return false).
/// </remarks>
internal static class QuantVectors
{
    private const float Int8Max = (1 << 7) - 1;

    /// <summary>Loads a 32-value block, checks it is finite and computes its scale and inverse scale.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryScale256(ReadOnlySpan<float> x, out float d, out float id,
        out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        v0 = Vector256.LoadUnsafe(ref p);
        v1 = Vector256.LoadUnsafe(ref p, 8);
        v2 = Vector256.LoadUnsafe(ref p, 16);
        v3 = Vector256.LoadUnsafe(ref p, 24);
        Vector256<float> a0 = Vector256.Abs(v0), a1 = Vector256.Abs(v1), a2 = Vector256.Abs(v2), a3 = Vector256.Abs(v3);
        Vector256<float> inf = Vector256.Create(float.PositiveInfinity);
        Vector256<float> finite = Vector256.LessThan(a0, inf) & Vector256.LessThan(a1, inf) & Vector256.LessThan(a2, inf) & Vector256.LessThan(a3, inf);
        Vector256<float> m = Vector256.MaxNative(Vector256.MaxNative(a0, a1), Vector256.MaxNative(a2, a3));
        return Finish(finite.ExtractMostSignificantBits() == 0xFFu, Vector128.MaxNative(m.GetLower(), m.GetUpper()), out d, out id);
    }

    /// <summary>Checks a 32-value block is finite and computes its scale and inverse scale (Vector128).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryScale128(ReadOnlySpan<float> x, out float d, out float id)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        Vector128<float> inf = Vector128.Create(float.PositiveInfinity);
        Vector128<float> m = Vector128<float>.Zero;
        Vector128<float> finite = Vector128<float>.AllBitsSet;
        for (int k = 0; k < 32; k += 4)
        {
            Vector128<float> a = Vector128.Abs(Vector128.LoadUnsafe(ref p, (nuint)k));
            finite &= Vector128.LessThan(a, inf);
            m = Vector128.MaxNative(m, a);
        }
        return Finish(finite.ExtractMostSignificantBits() == 0xFu, m, out d, out id);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Finish(bool finite, Vector128<float> m, out float d, out float id)
    {
        float m0 = m.GetElement(0), m1 = m.GetElement(1), m2 = m.GetElement(2), m3 = m.GetElement(3);
        float a01 = m0 > m1 ? m0 : m1, a23 = m2 > m3 ? m2 : m3;
        float amax = a01 > a23 ? a01 : a23;
        d = amax / Int8Max;
        id = d != 0 ? 1.0f / d : 0.0f;
        return finite && float.IsFinite(id);
    }

    /// <summary><c>(int8)roundf(v · id)</c> for 32 values; <paramref name="sum"/> is the sum of the 32 results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<sbyte> RoundToInt8x32(Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, float id, out int sum)
    {
        Vector256<float> vid = Vector256.Create(id);
        Vector256<int> q0 = Vector256.ConvertToInt32Native(RoundAway(v0 * vid));
        Vector256<int> q1 = Vector256.ConvertToInt32Native(RoundAway(v1 * vid));
        Vector256<int> q2 = Vector256.ConvertToInt32Native(RoundAway(v2 * vid));
        Vector256<int> q3 = Vector256.ConvertToInt32Native(RoundAway(v3 * vid));
        sum = Vector256.Sum((q0 + q1) + (q2 + q3));
        return Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3));
    }

    /// <summary><c>(int8)roundf(x[j] · id)</c> for 16 values; <paramref name="sum"/> is the sum of the 16 results.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> RoundToInt8x16(ReadOnlySpan<float> x, float id, out int sum)
    {
        ref float p = ref MemoryMarshal.GetReference(x);
        Vector128<float> vid = Vector128.Create(id);
        Vector128<int> q0 = Vector128.ConvertToInt32Native(RoundAway(Vector128.LoadUnsafe(ref p) * vid));
        Vector128<int> q1 = Vector128.ConvertToInt32Native(RoundAway(Vector128.LoadUnsafe(ref p, 4) * vid));
        Vector128<int> q2 = Vector128.ConvertToInt32Native(RoundAway(Vector128.LoadUnsafe(ref p, 8) * vid));
        Vector128<int> q3 = Vector128.ConvertToInt32Native(RoundAway(Vector128.LoadUnsafe(ref p, 12) * vid));
        sum = Vector128.Sum((q0 + q1) + (q2 + q3));
        return Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3));
    }

    /// <summary>C <c>roundf</c> per lane: truncate, then step away from zero when the dropped fraction is at least one half.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> RoundAway(Vector256<float> v)
    {
        Vector256<float> t = Vector256.Truncate(v);
        Vector256<float> away = Vector256.GreaterThanOrEqual(Vector256.Abs(v - t), Vector256.Create(0.5f));
        Vector256<float> one = (v & Vector256.Create(-0.0f)) | Vector256.Create(1.0f);
        return t + (one & away);
    }

    /// <summary>C <c>roundf</c> per lane (Vector128 form of <see cref="RoundAway(Vector256{float})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> RoundAway(Vector128<float> v)
    {
        Vector128<float> t = Vector128.Truncate(v);
        Vector128<float> away = Vector128.GreaterThanOrEqual(Vector128.Abs(v - t), Vector128.Create(0.5f));
        Vector128<float> one = (v & Vector128.Create(-0.0f)) | Vector128.Create(1.0f);
        return t + (one & away);
    }
}
