using System.Runtime.CompilerServices;

namespace TinyLM.Quantization;

/// <summary>
/// The helpers that ggml's super-block quantizers share (ggml/src/ggml-quants.c, llama.cpp v0.5.0 as
/// bundled by node-llama-cpp 3.22.1): <c>nearest_int</c>, <c>make_qx_quants</c>,
/// <c>make_q3_quants</c>, <c>make_qkx2_quants</c>, <c>get_scale_min_k4</c>, and glibc's
/// <c>lroundf</c> as the ternary quantizers call it. Ported operation for operation: every float
/// expression keeps C's left-to-right order and float (not double) precision, ggml's
/// <c>MAX</c>/<c>MIN</c> macros keep their comparison form (so NaN takes the same branch), and
/// integer stores into <c>uint8_t</c>/<c>int8_t</c> keep the low byte.
/// </summary>
internal static class KQuants
{
    /// <summary>Elements in one super-block (ggml's <c>QK_K</c>).</summary>
    public const int QK_K = 256;

    /// <summary>Bytes of packed 6-bit scales and mins in Q4_K and Q5_K (ggml's <c>K_SCALE_SIZE</c>).</summary>
    public const int KScaleSize = 12;

    /// <summary>ggml's <c>GROUP_MAX_EPS</c>: a group whose largest magnitude is below it counts as zero.</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// <c>nearest_int</c>: adds 1.5·2²³ and reads the low mantissa bits, which rounds half to even
    /// for |x| ≤ 4194303 (ggml asserts that range in debug builds only; outside it, NaN and infinity
    /// give the same wrapped bits as C).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NearestInt(float fval)
    {
        float val = fval + 12582912f;
        int i = BitConverter.SingleToInt32Bits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    /// <summary>
    /// glibc's <c>lroundf</c> (sysdeps/ieee754/flt-32/s_lroundf.c) on x86-64: half away from zero;
    /// NaN, infinity and magnitudes of 2⁶³ and more return <c>(long)x</c>, which x86-64's
    /// <c>cvttss2si</c> makes <c>long.MinValue</c>.
    /// </summary>
    public static long LRoundF(float x)
    {
        int i = BitConverter.SingleToInt32Bits(x);
        int j0 = ((i >> 23) & 0xff) - 0x7f;
        long sign = (i & unchecked((int)0x80000000)) != 0 ? -1 : 1;
        uint m = (uint)(i & 0x7fffff) | 0x800000;
        if (j0 >= 63)
            return long.MinValue;
        long result;
        if (j0 < 0)
            return j0 < -1 ? 0 : sign;
        else if (j0 >= 23)
            result = (long)m << (j0 - 23);
        else
        {
            m += 0x400000u >> j0;
            result = m >> (23 - j0);
        }
        return sign * result;
    }

    /// <summary>
    /// <c>make_qx_quants</c> with <c>qw = NULL</c>: symmetric quantization of <paramref name="x"/> to
    /// <c>L[i] ∈ [0, 2·nmax)</c>, trying 18 scales around <c>−nmax / max</c> for the best weighted fit
    /// (weights chosen by <paramref name="rmseType"/>: 1 = x², 2 = 1, 3 = |x|, else √|x|).
    /// </summary>
    /// <returns>The scale.</returns>
    public static float MakeQxQuants(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> L, int rmseType)
    {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        { // all zero
            for (int i = 0; i < n; ++i)
                L[i] = 0;
            return 0.0f;
        }
        float iscale = -nmax / max;
        if (rmseType == 0)
        {
            for (int i = 0; i < n; ++i)
            {
                int l = NearestInt(iscale * x[i]);
                L[i] = (sbyte)(nmax + Max(-nmax, Min(nmax - 1, l)));
            }
            return 1 / iscale;
        }
        bool returnEarly = false;
        if (rmseType < 0)
        {
            rmseType = -rmseType;
            returnEarly = true;
        }
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * x[i]);
            l = Max(-nmax, Min(nmax - 1, l));
            L[i] = (sbyte)(l + nmax);
            float w = Weight(rmseType, x[i]);
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        if (returnEarly)
            return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
        float best = scale * sumlx;
        for (int @is = -9; @is <= 9; ++@is)
        {
            if (@is == 0)
                continue;
            iscale = -(nmax + 0.1f * @is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = NearestInt(iscale * x[i]);
                l = Max(-nmax, Min(nmax - 1, l));
                float w = Weight(rmseType, x[i]);
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; ++i)
                {
                    int l = NearestInt(iscale * x[i]);
                    L[i] = (sbyte)(nmax + Max(-nmax, Min(nmax - 1, l)));
                }
                scale = sumlx / suml2; best = scale * sumlx;
            }
        }
        return scale;

        static float Weight(int rmseType, float x) =>
            rmseType == 1 ? x * x : rmseType == 2 ? 1 : rmseType == 3 ? MathF.Abs(x) : MathF.Sqrt(MathF.Abs(x));
    }

    /// <summary>
    /// <c>make_q3_quants</c>: symmetric quantization to <c>L[i] ∈ [0, 2·nmax)</c>; with
    /// <paramref name="doRmse"/>, up to five passes move single quants while the x²-weighted fit improves.
    /// </summary>
    /// <returns>The scale.</returns>
    public static float MakeQ3Quants(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> L, bool doRmse)
    {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        { // all zero
            for (int i = 0; i < n; ++i) { L[i] = 0; }
            return 0.0f;
        }
        float iscale = -nmax / max;
        if (doRmse)
        {
            float sumlx = 0;
            float suml2 = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = NearestInt(iscale * x[i]);
                l = Max(-nmax, Min(nmax - 1, l));
                L[i] = (sbyte)l;
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            for (int itry = 0; itry < 5; ++itry)
            {
                int nChanged = 0;
                for (int i = 0; i < n; ++i)
                {
                    float w = x[i] * x[i];
                    float slx = sumlx - w * x[i] * L[i];
                    if (slx > 0)
                    {
                        float sl2 = suml2 - w * L[i] * L[i];
                        int newL = NearestInt(x[i] * sl2 / slx);
                        newL = Max(-nmax, Min(nmax - 1, newL));
                        if (newL != L[i])
                        {
                            slx += w * x[i] * newL;
                            sl2 += w * newL * newL;
                            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                            {
                                L[i] = (sbyte)newL; sumlx = slx; suml2 = sl2;
                                ++nChanged;
                            }
                        }
                    }
                }
                if (nChanged == 0)
                    break;
            }
            for (int i = 0; i < n; ++i)
                L[i] = (sbyte)(L[i] + nmax);
            return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
        }
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * x[i]);
            l = Max(-nmax, Min(nmax - 1, l));
            L[i] = (sbyte)(l + nmax);
        }
        return 1 / iscale;
    }

    /// <summary>
    /// <c>make_qkx2_quants</c>: asymmetric quantization <c>x ≈ scale·L − theMin</c> with
    /// <c>L[i] ∈ [0, nmax]</c>, searching <paramref name="nstep"/> + 1 scales
    /// <c>(rmin + rdelta·is + nmax) / (max − min)</c> for the least weighted error (absolute with
    /// <paramref name="useMad"/>, else squared).
    /// </summary>
    /// <returns>The scale; <paramref name="theMin"/> receives the (non-negative) minimum.</returns>
    public static float MakeQkx2Quants(int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights,
        Span<byte> L, out float theMin, Span<byte> Laux, float rmin, float rdelta, int nstep, bool useMad)
    {
        float min = x[0];
        float max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; ++i)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            for (int i = 0; i < n; ++i) L[i] = 0;
            theMin = -min;
            return 0.0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Max(0, Min(nmax, l));
            float diff = scale * L[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            float w = weights[i];
            bestError += w * diff;
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int @is = 0; @is <= nstep; ++@is)
        {
            iscale = (rmin + rdelta * @is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = NearestInt(iscale * (x[i] - min));
                l = Max(0, Min(nmax, l));
                Laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0)
            {
                float thisScale = (sumW * sumXl - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / D;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i)
                {
                    float diff = thisScale * Laux[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    float w = weights[i];
                    curError += w * diff;
                }
                if (curError < bestError)
                {
                    for (int i = 0; i < n; ++i)
                        L[i] = Laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    /// <summary>
    /// <c>get_scale_min_k4</c>: the 6-bit scale and min of sub-block <paramref name="j"/> (0–7) from the
    /// 12 packed bytes of a Q4_K or Q5_K block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void GetScaleMinK4(int j, ReadOnlySpan<byte> q, out byte d, out byte m)
    {
        if (j < 4)
        {
            d = (byte)(q[j] & 63); m = (byte)(q[j + 4] & 63);
        }
        else
        {
            d = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            m = (byte)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
        }
    }

    /// <summary>
    /// The eight 8-bit scales (bytes 0–7) and eight mins (bytes 8–15) of a Q4_K or Q5_K block, unpacked
    /// as <c>ggml_vec_dot_q4_K_q8_K_generic</c> does with <c>utmp</c> and <c>kmask1..3</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UnpackScalesMinsK4(ReadOnlySpan<byte> packed, Span<byte> scalesAndMins)
    {
        const uint kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        uint u0 = Unsafe.ReadUnaligned<uint>(ref Unsafe.AsRef(in packed[0]));
        uint u1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.AsRef(in packed[4]));
        uint u2 = Unsafe.ReadUnaligned<uint>(ref Unsafe.AsRef(in packed[8]));
        uint u3 = ((u2 >> 4) & kmask2) | (((u1 >> 6) & kmask3) << 4);
        uint uaux = u1 & kmask1;
        u1 = (u2 & kmask2) | (((u0 >> 6) & kmask3) << 4);
        u2 = uaux;
        u0 &= kmask1;
        Unsafe.WriteUnaligned(ref scalesAndMins[0], u0);
        Unsafe.WriteUnaligned(ref scalesAndMins[4], u1);
        Unsafe.WriteUnaligned(ref scalesAndMins[8], u2);
        Unsafe.WriteUnaligned(ref scalesAndMins[12], u3);
    }

    /// <summary>
    /// The sixteen 6-bit scales of a Q3_K block, unpacked and offset by −32 as
    /// <c>dequantize_row_q3_K</c> and <c>ggml_vec_dot_q3_K_q8_K_generic</c> do (<c>aux</c>/<c>auxs</c>
    /// with <c>kmask1</c>, <c>kmask2</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void UnpackScalesQ3K(ReadOnlySpan<byte> packed, Span<int> scales)
    {
        const uint kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
        uint a0 = Unsafe.ReadUnaligned<uint>(ref Unsafe.AsRef(in packed[0]));
        uint a1 = Unsafe.ReadUnaligned<uint>(ref Unsafe.AsRef(in packed[4]));
        uint tmp = Unsafe.ReadUnaligned<uint>(ref Unsafe.AsRef(in packed[8]));
        uint a2 = ((a0 >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
        uint a3 = ((a1 >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
        a0 = (a0 & kmask2) | (((tmp >> 0) & kmask1) << 4);
        a1 = (a1 & kmask2) | (((tmp >> 2) & kmask1) << 4);
        for (int k = 0; k < 4; k++)
        {
            scales[k] = (int)((a0 >> (8 * k)) & 0xFF) - 32;
            scales[4 + k] = (int)((a1 >> (8 * k)) & 0xFF) - 32;
            scales[8 + k] = (int)((a2 >> (8 * k)) & 0xFF) - 32;
            scales[12 + k] = (int)((a3 >> (8 * k)) & 0xFF) - 32;
        }
    }

    /// <summary>
    /// <c>a + b</c> where, if both are NaN, the result carries <paramref name="a"/>'s payload (quieted):
    /// what x86 <c>addss</c> gives with <paramref name="a"/> as its first operand, as the prebuilt
    /// ggml evaluates <c>x[..] + dm</c> in the final requantization of Q2_K, Q4_K and Q5_K. The JIT
    /// may order the operands of a commutative add either way; NaN inputs are the only case where
    /// that shows (the payload reaches <c>nearest_int</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float AddFirstNaN(float a, float b) =>
        float.IsNaN(a) ? BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(a) | 0x00400000) : a + b;

    /// <summary>ggml's <c>MAX(a, b)</c>: <c>a &gt; b ? a : b</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Max(int a, int b) => a > b ? a : b;

    /// <summary>ggml's <c>MIN(a, b)</c>: <c>a &lt; b ? a : b</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Min(int a, int b) => a < b ? a : b;
}
