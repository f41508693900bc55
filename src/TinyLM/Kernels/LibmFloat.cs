using System.Runtime.CompilerServices;

namespace TinyLM.Kernels;

/// <summary>
/// Single-precision sine, cosine and power that return exactly what glibc's <c>sinf</c>, <c>cosf</c> and
/// <c>powf</c> return on x86-64 with FMA, built only from IEEE 754 double operations (with correctly
/// rounded fused multiply-adds) and integer arithmetic, so the bits are the same on every platform,
/// WebAssembly included. RoPE (<see cref="Rope"/>) builds its tables with them.
/// </summary>
/// <remarks>
/// <para>
/// Port of ARM's optimized-routines <c>math/sinf.c</c>, <c>math/cosf.c</c>, <c>math/sincosf.h</c> and
/// <c>math/sincosf_data.c</c> (Szabolcs Nagy, 2018; Apache-2.0 WITH LLVM-exception or MIT), which glibc
/// ships as <c>sysdeps/ieee754/flt-32/s_sinf.c</c>, <c>s_cosf.c</c>, <c>s_sincosf.h</c> and
/// <c>s_sincosf_data.c</c> (measured against Debian's glibc 2.36). The argument is
/// widened to double and reduced to r in [−π/4, π/4] and a quadrant n: below 120 with one fused
/// multiply-subtract by π/2 (<c>reduce_fast</c>), above with a 32×96-bit integer product by 4/π
/// (<c>reduce_large</c>); then a degree-7 odd (sine) or degree-8 even (cosine) polynomial in r, chosen
/// and signed by the quadrant, is rounded once to float.
/// </para>
/// <para>
/// On x86-64 CPUs with FMA and AVX2, glibc's multiarch dispatch picks <c>__sinf_fma</c> and
/// <c>__cosf_fma</c>: the same C compiled with <c>-mfma -mavx2</c>, where GCC contracts every
/// <c>a * b + c</c> into a fused multiply-add. This port fuses exactly those operations (read from the
/// disassembly of Debian's libm.so.6 and confirmed over all 2<sup>32</sup> inputs), so it equals what
/// llama.cpp gets natively from <c>cosf</c>/<c>sinf</c> on such machines. Only the fused <c>x − n·π/2</c>
/// of <c>reduce_fast</c> changes results (12 sine and 22 cosine inputs, near multiples of π/2, round
/// differently unfused, as glibc's SSE2 build does); the polynomial's fusions never do. Other C libraries
/// (musl in emscripten, Apple's, Microsoft's) round differently for more inputs.
/// </para>
/// <para>
/// NaN inputs return the NaN quieted, ±∞ returns the x86 default NaN (bits <c>0xFFC00000</c>), as glibc's
/// <c>__math_invalidf</c> computes <c>(x − x) / (x − x)</c> on x86; errno and floating-point exceptions
/// are not raised.
/// </para>
/// </remarks>
public static class LibmFloat
{
    // sincosf_data.c, __sincosf_table[0] (hexadecimal there; each decimal below parses to exactly that double).
    internal const double HalfPiInverseScaled = 10680707.430881744;       // 0x1.45F306DC9C883p+23 = 2^24 · 2/π
    internal const double HalfPi = 1.5707963267948966;                    // 0x1.921FB54442D18p0
    internal const double Pi63 = 3.4061215800865545e-19;                  // 0x1.921FB54442D18p-62 = 2π · 2^-64
    internal const double C0 = 1.0;                                       // 0x1p0
    internal const double C1 = -0.49999999725108224;                      // -0x1.ffffffd0c621cp-2
    internal const double C2 = 0.041666623324344516;                      // 0x1.55553e1068f19p-5
    internal const double C3 = -0.001388676379437604;                     // -0x1.6c087e89a359dp-10
    internal const double C4 = 2.4390450703564542e-05;                    // 0x1.99343027bf8c3p-16
    internal const double S1 = -0.16666654943701084;                      // -0x1.555545995a603p-3
    internal const double S2 = 0.008332178146138854;                      // 0x1.1107605230bc4p-7
    internal const double S3 = -0.00019517298981385725;                   // -0x1.994eb3774cf24p-13

    /// <summary>
    /// 4/π to 192 bits as in <c>__inv_pio4</c>: entry i is ⌊4/π · 2<sup>8i+7</sup>⌋ mod 2<sup>32</sup>, so every
    /// 32-bit window at a byte offset is one aligned read.
    /// </summary>
    internal static ReadOnlySpan<uint> InversePiOver4 =>
    [
        0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e,
        0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529,
        0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
        0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
        0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599,
        0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
    ];

    // abstop12 thresholds: the top 12 bits (sign cleared) of (float)(π/4), 2^-12, 120 and ∞.
    private const uint TopPiOver4 = 0x3F4;
    private const uint TopTiny = 0x398;
    private const uint Top120 = 0x42F;
    private const uint TopInfinity = 0x7F8;

    /// <summary>
    /// sin(<paramref name="y"/>) as glibc's <c>sinf</c> on x86-64 with FMA (<c>__sinf_fma</c>), bit for bit.
    /// </summary>
    /// <param name="y">Angle in radians, any float.</param>
    /// <returns>
    /// The sine, within 0.561 ulp (the original's bound); <paramref name="y"/> itself for |y| &lt; 2<sup>−12</sup>
    /// (±0 and subnormals included); NaN for NaN and ±∞ (see the class remarks for the bits).
    /// </returns>
    public static float Sin(float y)
    {
        uint bits = BitConverter.SingleToUInt32Bits(y);
        uint top = (bits >> 20) & 0x7FF;
        double x = y;
        if (top < TopPiOver4)
        {
            if (top < TopTiny)
                return y;
            return Polynomial(x, x * x, 0, negateCosine: false);
        }
        if (top < Top120)
        {
            x = ReduceFast(x, out int n);
            return Polynomial((n & 3) is 1 or 2 ? -x : x, x * x, n, negateCosine: (n & 2) != 0);
        }
        if (top < TopInfinity)
        {
            x = ReduceLarge(bits, out int n);
            int quadrant = n + (int)(bits >> 31);
            return Polynomial((quadrant & 3) is 1 or 2 ? -x : x, x * x, n, negateCosine: (quadrant & 2) != 0);
        }
        return Invalid(bits);
    }

    /// <summary>
    /// cos(<paramref name="y"/>) as glibc's <c>cosf</c> on x86-64 with FMA (<c>__cosf_fma</c>), bit for bit.
    /// </summary>
    /// <param name="y">Angle in radians, any float.</param>
    /// <returns>
    /// The cosine, within 0.561 ulp (the original's bound); 1 for |y| &lt; 2<sup>−12</sup>; NaN for NaN and ±∞
    /// (see the class remarks for the bits).
    /// </returns>
    public static float Cos(float y)
    {
        uint bits = BitConverter.SingleToUInt32Bits(y);
        uint top = (bits >> 20) & 0x7FF;
        double x = y;
        if (top < TopPiOver4)
        {
            if (top < TopTiny)
                return 1f;
            return Polynomial(x, x * x, 1, negateCosine: false);
        }
        if (top < Top120)
        {
            x = ReduceFast(x, out int n);
            return Polynomial((n & 3) is 1 or 2 ? -x : x, x * x, n ^ 1, negateCosine: (n & 2) != 0);
        }
        if (top < TopInfinity)
        {
            x = ReduceLarge(bits, out int n);
            int quadrant = n + (int)(bits >> 31);
            return Polynomial((quadrant & 3) is 1 or 2 ? -x : x, x * x, n ^ 1, negateCosine: (quadrant & 2) != 0);
        }
        return Invalid(bits);
    }

    /// <summary>
    /// <c>sinf_poly</c>: the sine polynomial of <paramref name="x"/> for even <paramref name="n"/>, the
    /// cosine polynomial for odd, rounded to float. The original negates the cosine coefficients in its
    /// second table (quadrants 2 and 3); negating every coefficient negates each rounded step exactly,
    /// so negating the result is the same.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Polynomial(double x, double x2, int n, bool negateCosine)
    {
        if ((n & 1) == 0)
        {
            double x3 = x * x2;
            double s1 = Math.FusedMultiplyAdd(x2, S3, S2);
            double x7 = x3 * x2;
            double s = Math.FusedMultiplyAdd(x3, S1, x);
            return (float)Math.FusedMultiplyAdd(s1, x7, s);
        }
        double x4 = x2 * x2;
        double c2 = Math.FusedMultiplyAdd(x2, C4, C3);
        double c1 = Math.FusedMultiplyAdd(x2, C1, C0);
        double x6 = x4 * x2;
        double c = Math.FusedMultiplyAdd(x4, C2, c1);
        float result = (float)Math.FusedMultiplyAdd(c2, x6, c);
        return negateCosine ? -result : result;
    }

    /// <summary>
    /// <c>reduce_fast</c> without <c>TOINT_INTRINSICS</c> (x86-64): the quadrant from the scaled product
    /// with 2/π, truncated, then <c>x − n·π/2</c> in one fused operation. Accurate for |x| &lt; 120.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double ReduceFast(double x, out int n)
    {
        double r = x * HalfPiInverseScaled;
        n = ((int)r + 0x800000) >> 24;
        return Math.FusedMultiplyAdd(-(double)n, HalfPi, x);
    }

    /// <summary>
    /// <c>reduce_large</c>: multiplies the 24-bit significand by the 96 bits of 4/π that matter for its
    /// exponent, which gives |x|·2/π modulo 4 exactly as a 2.62 fixed-point number; returns the distance to
    /// the nearest integer n times π/2 (in [−π/4, π/4]) and n (the quadrant, 0…4). The sign bit of
    /// <paramref name="bits"/> is ignored.
    /// </summary>
    private static double ReduceLarge(uint bits, out int n)
    {
        ReadOnlySpan<uint> table = InversePiOver4.Slice((int)((bits >> 26) & 15));
        int shift = (int)((bits >> 23) & 7);
        uint m = ((bits & 0xFFFFFF) | 0x800000) << shift;
        unchecked
        {
            ulong res0 = m * table[0];              // 32-bit product: only its low word matters
            ulong res1 = (ulong)m * table[4];
            ulong res2 = (ulong)m * table[8];
            res0 = (res2 >> 32) | (res0 << 32);
            res0 += res1;
            ulong q = (res0 + (1UL << 61)) >> 62;
            res0 -= q << 62;
            n = (int)q;
            return (long)res0 * Pi63;
        }
    }

    // ---- powf ---------------------------------------------------------------------------------------

    // e_powf_log2_data.c (POWF_SCALE = 1, as TOINT_INTRINSICS is 0 on x86-64): pairs (1/c, log2 c) for 16
    // subintervals of [0x1.66p-1, 0x1.66p0) (float bits from 0x3f330000); hexadecimal there, exact here.
    private static ReadOnlySpan<double> Log2Table =>
    [
        1.398907162146528, -0.48430022186289673,     // 0x1.661ec79f8f3bep+0, -0x1.efec65b963019p-2
        1.3403141896637998, -0.42257122959194704,    // 0x1.571ed4aaf883dp+0, -0x1.b0b6832d4fca4p-2
        1.286432210124115, -0.3633754347673556,      // 0x1.49539f0f010bp+0, -0x1.7418b0a1fb77bp-2
        1.2367150214269895, -0.30651309567405577,    // 0x1.3c995b0b80385p+0, -0x1.39de91a6dcf7bp-2
        1.1906977166711752, -0.25180720160537634,    // 0x1.30d190c8864a5p+0, -0x1.01d9bf3f2b631p-2
        1.1479821020556429, -0.19910014943794563,    // 0x1.25e227b0b8eap+0, -0x1.97c1d1b3b7afp-3
        1.1082251448272158, -0.14825100623281615,    // 0x1.1bb4a4a1a343fp+0, -0x1.2f9e393af3c9fp-3
        1.0711297413057381, -0.09913323807318392,    // 0x1.12358f08ae5bap+0, -0x1.960cbbf788d5cp-4
        1.036437278977283, -0.051632812977629436,    // 0x1.0953f419900a7p+0, -0x1.a6f9db6475fcep-5
        1.0, 0.0,                                    // 0x1p+0, 0x0p+0
        0.9492859795739057, 0.07508531937943004,     // 0x1.e608cfd9a47acp-1, 0x1.338ca9f24f53dp-4
        0.8951049428609004, 0.15987125980713107,     // 0x1.ca4b31f026aap-1, 0x1.476a9543891bap-3
        0.8476821620351103, 0.2384046664317681,      // 0x1.b2036576afce6p-1, 0x1.e840b4ac4e4d2p-3
        0.8050314851692001, 0.31288288605863257,     // 0x1.9c2d163a1aa2dp-1, 0x1.40645f0c6651cp-2
        0.7664671008843108, 0.38370422656453185,     // 0x1.886e6037841edp-1, 0x1.88e9c2c1b9ff8p-2
        0.731428603316328, 0.451211048935815,        // 0x1.767dcf5534862p-1, 0x1.ce0a44eb17bccp-2
    ];

    // __powf_log2_data.poly: log1p(r)/ln2 ≈ A0 r^5 + A1 r^4 + A2 r^3 + A3 r^2 + A4 r.
    internal const double A0 = 0.288457581109214;                         // 0x1.27616c9496e0bp-2
    internal const double A1 = -0.36092606229713164;                      // -0x1.71969a075c67ap-2
    internal const double A2 = 0.480898481472577;                         // 0x1.ec70a6ca7baddp-2
    internal const double A3 = -0.7213474675006291;                       // -0x1.7154748bef6c8p-1
    internal const double A4 = 1.4426950408774342;                        // 0x1.71547652ab82bp0

    /// <summary>
    /// <c>__exp2f_data.tab</c> (e_exp2f_data.c): the bits of 2^(i/32) minus <c>i &lt;&lt; 47</c>, so that adding
    /// <c>k &lt;&lt; 47</c> gives 2^(k/32) for any integer k.
    /// </summary>
    private static ReadOnlySpan<ulong> Exp2Table =>
    [
        0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
        0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
        0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
        0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
        0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
        0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
        0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
        0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
    ];

    // __exp2f_data: shift_scaled (0x1.8p+52 / 32) and poly: 2^r ≈ E0 r^3 + E1 r^2 + E2 r + 1.
    internal const double Exp2Shift = 211106232532992.0;                  // 0x1.8p+47
    internal const double E0 = 0.05550361559341535;                       // 0x1.c6af84b912394p-5
    internal const double E1 = 0.2402284522445722;                        // 0x1.ebfce50fac4f3p-3
    internal const double E2 = 0.6931471806916203;                        // 0x1.62e42ff0c52d6p-1

    // Thresholds on y·log2 x: overflow (|x^y| > 0x1.ffffffp127), underflow to zero, may-underflow (rounds to
    // the smallest subnormal). The original's round-away check above 0x1.fffffffa3aae2p+6 only matters in
    // directed rounding modes, so it is left out.
    private const double OverflowBound = 127.99999995700433;              // 0x1.fffffffd1d571p+6
    private const double UnderflowBound = -150.0;
    private const double MayUnderflowBound = -149.0;
    private const uint OddIntegerSignBias = 1u << 16;                     // SIGN_BIAS: 1 << (EXP2F_TABLE_BITS + 11)

    /// <summary>
    /// <paramref name="x"/><sup><paramref name="y"/></sup> as glibc's <c>powf</c> on x86-64 with FMA
    /// (<c>__powf_fma</c>), bit for bit.
    /// </summary>
    /// <remarks>
    /// Port of ARM's optimized-routines <c>math/powf.c</c> and <c>math/powf_log2_data.c</c>,
    /// <c>math/exp2f_data.c</c> (Szabolcs Nagy, 2017), glibc <c>sysdeps/ieee754/flt-32/e_powf.c</c>,
    /// <c>e_powf_log2_data.c</c>, <c>e_exp2f_data.c</c>: log2 x in double from a 16-entry table and a degree-5
    /// polynomial, times y, then 2<sup>y·log2 x</sup> from a 32-entry table and a cubic, rounded once to float
    /// (0.82 ulp). Every <c>a * b + c</c> is fused, as GCC compiles <c>__powf_fma</c>. Special cases follow
    /// C99 Annex F (<c>pow(x, ±0) = 1</c>, <c>pow(1, y) = 1</c>, negative x needs an integer y, …); NaN results
    /// carry the bits x86 SSE arithmetic gives there (an input NaN quieted, <c>0xFFC00000</c> for invalid
    /// operations); errno and floating-point exceptions are not raised.
    /// </remarks>
    /// <param name="x">Base.</param>
    /// <param name="y">Exponent.</param>
    /// <returns>The power, correctly signed for a negative base and an odd integer exponent.</returns>
    public static float Pow(float x, float y)
    {
        uint signBias = 0;
        uint ix = BitConverter.SingleToUInt32Bits(x);
        uint iy = BitConverter.SingleToUInt32Bits(y);
        unchecked
        {
            if (ix - 0x00800000 >= 0x7F800000 - 0x00800000 || IsZeroInfinityOrNaN(iy))
            {
                // x < 0x1p-126, ±∞ or NaN (negative x included), or y is ±0, ±∞ or NaN.
                if (IsZeroInfinityOrNaN(iy))
                {
                    if (2 * iy == 0)
                        return IsSignalingNaN(ix) ? Quiet(ix) : 1f;
                    if (ix == 0x3F800000)
                        return IsSignalingNaN(iy) ? Quiet(iy) : 1f;
                    if (2 * ix > 2u * 0x7F800000 || 2 * iy > 2u * 0x7F800000)
                        return Quiet(2 * ix > 2u * 0x7F800000 ? ix : iy);   // x + y
                    if (2 * ix == 2 * 0x3F800000)
                        return 1f;
                    if ((2 * ix < 2 * 0x3F800000) == ((iy & 0x80000000) == 0))
                        return 0f;                                          // |x| < 1, y = +∞ or |x| > 1, y = −∞
                    return float.PositiveInfinity;                          // y · y
                }
                if (IsZeroInfinityOrNaN(ix))
                {
                    // x is ±0, ±∞ or NaN; y is finite and nonzero.
                    uint x2 = 2 * ix > 2u * 0x7F800000 ? ix | 0x400000 : ix & 0x7FFFFFFF; // x · x
                    if ((ix & 0x80000000) != 0 && CheckInteger(iy) == 1)
                        x2 ^= 0x80000000;
                    if ((iy & 0x80000000) == 0)
                        return BitConverter.UInt32BitsToSingle(x2);
                    if (2 * x2 > 2u * 0x7F800000)
                        return BitConverter.UInt32BitsToSingle(x2);             // 1 / NaN
                    return 1f / BitConverter.UInt32BitsToSingle(x2);            // ±∞ for ±0, ±0 for ±∞
                }
                // x and y are nonzero and finite.
                if ((ix & 0x80000000) != 0)
                {
                    int yInteger = CheckInteger(iy);
                    if (yInteger == 0)
                        return BitConverter.UInt32BitsToSingle(0xFFC00000);     // __math_invalidf: 0 / 0
                    if (yInteger == 1)
                        signBias = OddIntegerSignBias;
                    ix &= 0x7FFFFFFF;
                }
                if (ix < 0x00800000)
                {
                    // Normalize a subnormal x so that its biased exponent becomes negative.
                    ix = BitConverter.SingleToUInt32Bits(x * 8388608f) & 0x7FFFFFFF;
                    ix -= 23 << 23;
                }
            }
            double yLog2X = y * Log2(ix);
            if (((BitConverter.DoubleToUInt64Bits(yLog2X) >> 47) & 0xFFFF) >= (BitConverter.DoubleToUInt64Bits(126.0) >> 47))
            {
                // |y · log2 x| ≥ 126.
                if (yLog2X > OverflowBound)
                    return signBias != 0 ? float.NegativeInfinity : float.PositiveInfinity;
                if (yLog2X <= UnderflowBound)
                    return signBias != 0 ? -0f : 0f;
                if (yLog2X < MayUnderflowBound)
                    return signBias != 0 ? -float.Epsilon : float.Epsilon;    // __math_may_uflowf: 0x1.4p-75f²
            }
            return (float)Exp2(yLog2X, signBias);
        }
    }

    /// <summary><c>log2_inline</c>: log2 of the float with bits <paramref name="ix"/> (positive, normalized; a negative biased exponent allowed).</summary>
    private static double Log2(uint ix)
    {
        unchecked
        {
            const uint Off = 0x3F330000;
            uint tmp = ix - Off;
            int i = (int)((tmp >> 19) % 16);
            uint top = tmp & 0xFF800000;
            uint iz = ix - top;
            int k = (int)top >> 23;
            double invC = Log2Table[2 * i], log2C = Log2Table[2 * i + 1];
            double z = BitConverter.UInt32BitsToSingle(iz);
            double r = Math.FusedMultiplyAdd(z, invC, -1.0);
            double y0 = log2C + k;
            double r2 = r * r;
            double y = Math.FusedMultiplyAdd(A0, r, A1);
            double p = Math.FusedMultiplyAdd(A2, r, A3);
            double r4 = r2 * r2;
            double q = Math.FusedMultiplyAdd(A4, r, y0);
            q = Math.FusedMultiplyAdd(p, r2, q);
            return Math.FusedMultiplyAdd(y, r4, q);
        }
    }

    /// <summary><c>exp2_inline</c> without <c>TOINT_INTRINSICS</c>: 2<sup><paramref name="xd"/></sup>, negated when <paramref name="signBias"/> is set.</summary>
    private static double Exp2(double xd, uint signBias)
    {
        unchecked
        {
            double kd = xd + Exp2Shift;
            ulong ki = BitConverter.DoubleToUInt64Bits(kd);
            kd -= Exp2Shift;
            double r = xd - kd;
            ulong t = Exp2Table[(int)(ki % 32)];
            ulong ski = ki + signBias;
            t += ski << 47;
            double s = BitConverter.UInt64BitsToDouble(t);
            double z = Math.FusedMultiplyAdd(E0, r, E1);
            double r2 = r * r;
            double y = Math.FusedMultiplyAdd(E2, r, 1.0);
            y = Math.FusedMultiplyAdd(z, r2, y);
            return y * s;
        }
    }

    /// <summary><c>checkint</c>: 0 if the nonzero finite float with bits <paramref name="iy"/> is not an integer, 1 if odd, 2 if even.</summary>
    private static int CheckInteger(uint iy)
    {
        int e = (int)((iy >> 23) & 0xFF);
        if (e < 0x7F)
            return 0;
        if (e > 0x7F + 23)
            return 2;
        if ((iy & ((1u << (0x7F + 23 - e)) - 1)) != 0)
            return 0;
        if ((iy & (1u << (0x7F + 23 - e))) != 0)
            return 1;
        return 2;
    }

    /// <summary><c>zeroinfnan</c>: true for ±0, ±∞ and NaN.</summary>
    private static bool IsZeroInfinityOrNaN(uint bits) => unchecked(2 * bits - 1) >= 2u * 0x7F800000 - 1;

    private static bool IsSignalingNaN(uint bits) => ((bits ^ 0x400000) & 0x7FFFFFFF) > 0x7FC00000;

    private static float Quiet(uint nanBits) => BitConverter.UInt32BitsToSingle(nanBits | 0x400000);

    /// <summary>
    /// <c>__math_invalidf</c>: <c>(y − y) / (y − y)</c> as x86 SSE evaluates it, spelled out in bits so that
    /// every platform agrees: a NaN comes back quieted, ±∞ gives the default NaN <c>0xFFC00000</c>.
    /// </summary>
    private static float Invalid(uint bits) =>
        BitConverter.UInt32BitsToSingle((bits & 0x7FFFFFFF) > 0x7F800000 ? bits | 0x400000 : 0xFFC00000);
}
