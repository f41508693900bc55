using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using TinyLM.Kernels;

namespace TinyLM.Tests.Kernels;

/// <summary>
/// <see cref="LibmFloat"/> against glibc: bit patterns measured from glibc 2.36 (Debian 12, x86-64 with
/// FMA, so <c>__sinf_fma</c>, <c>__cosf_fma</c>, <c>__powf_fma</c>) checked on every platform, and a
/// comparison with the platform's libm (through <see cref="MathF"/>) where that libm is this glibc.
/// </summary>
public class LibmFloatTests
{
    private static uint Bits(float x) => BitConverter.SingleToUInt32Bits(x);

    private static float Float(uint bits) => BitConverter.UInt32BitsToSingle(bits);

    private static void AssertBits(uint expected, float actual, string what) =>
        Assert.True(expected == Bits(actual), $"{what}: expected 0x{expected:X8}, got 0x{Bits(actual):X8}");

    // Input, glibc sinf, glibc cosf. Rows after the NaNs are RoPE angles (θ of Rope.cs) where emscripten's
    // musl (MathF in the browser) returns other bits, given last. 0x418A3ADB … 0xC2687A55 are inputs where
    // glibc's FMA build differs from its SSE2 build (the fused x − n·π/2 of the reduction).
    [Theory]
    [InlineData(0x00000000u, 0x00000000u, 0x3F800000u)] // 0.0
    [InlineData(0x80000000u, 0x80000000u, 0x3F800000u)] // -0.0
    [InlineData(0x00000001u, 0x00000001u, 0x3F800000u)] // 1.401298464324817e-45
    [InlineData(0x807FFFFFu, 0x807FFFFFu, 0x3F800000u)] // -1.1754942106924411e-38
    [InlineData(0x39000000u, 0x39000000u, 0x3F800000u)] // 0.0001220703125
    [InlineData(0x397FFFFFu, 0x397FFFFFu, 0x3F800000u)] // 0.00024414061044808477
    [InlineData(0x39800000u, 0x39800000u, 0x3F800000u)] // 0.000244140625
    [InlineData(0xB9800001u, 0xB9800001u, 0x3F7FFFFFu)] // -0.00024414065410383046
    [InlineData(0x3F3FFFFFu, 0x3F2E7FE0u, 0x3F3B4FF7u)] // 0.7499999403953552
    [InlineData(0x3F400000u, 0x3F2E7FE1u, 0x3F3B4FF6u)] // 0.75
    [InlineData(0x3F000000u, 0x3EF57744u, 0x3F60A940u)] // 0.5
    [InlineData(0x3F800000u, 0x3F576AA4u, 0x3F0A5140u)] // 1.0
    [InlineData(0xBF800000u, 0xBF576AA4u, 0x3F0A5140u)] // -1.0
    [InlineData(0x3F490FDBu, 0x3F3504F3u, 0x3F3504F3u)] // 0.7853981852531433
    [InlineData(0x3FC90FDBu, 0x3F800000u, 0xB33BBD2Eu)] // 1.5707963705062866
    [InlineData(0xC0490FDBu, 0x33BBBD2Eu, 0xBF800000u)] // -3.1415927410125732
    [InlineData(0x40C90FDBu, 0x343BBD2Eu, 0x3F800000u)] // 6.2831854820251465
    [InlineData(0x42EFFFFFu, 0x3F14A287u, 0x3F506E74u)] // 119.99999237060547
    [InlineData(0x42F00000u, 0x3F14A2EFu, 0x3F506E2Au)] // 120.0
    [InlineData(0xC2F00001u, 0xBF14A357u, 0x3F506DE0u)] // -120.00000762939453
    [InlineData(0x461C4000u, 0xBE9C797Du, 0xBF73C074u)] // 10000.0
    [InlineData(0x45FFF800u, 0xBF43546Au, 0xBF2579D9u)] // 8191.0
    [InlineData(0x477FE000u, 0x3F79B240u, 0xBE61D759u)] // 65504.0
    [InlineData(0x49742400u, 0xBEB33259u, 0x3F6FCEFDu)] // 1000000.0
    [InlineData(0x4B000000u, 0x3EDD4FA3u, 0xBF66D965u)] // 8388608.0
    [InlineData(0x501502F9u, 0xBEF99A64u, 0x3F5F84C5u)] // 10000000000.0
    [InlineData(0x60AD78ECu, 0x3F281569u, 0x3F411723u)] // 1.0000000200408773e+20
    [InlineData(0x7F7FFFFFu, 0xBF0599B3u, 0x3F5A5F96u)] // 3.4028234663852886e+38
    [InlineData(0xF149F2CAu, 0x3F4A89B0u, 0xBF1C9222u)] // -1.0000000150474662e+30
    [InlineData(0x418A3ADBu, 0xBF800000u, 0xB7B4F770u)] // 17.278738021850586
    [InlineData(0x4202EB4Bu, 0x3F779884u, 0x3E821CE2u)] // 32.72977828979492
    [InlineData(0x4255B0A9u, 0xBC7D08A9u, 0xBF7FF82Fu)] // 53.42251968383789
    [InlineData(0x42A35C07u, 0xBADAA3B4u, 0x3F7FFFE9u)] // 81.67974090576172
    [InlineData(0x42C55FAAu, 0xBF767F39u, 0xBE8A34D1u)] // 98.68684387207031
    [InlineData(0x42CF5854u, 0x382EE64Eu, 0xBF800000u)] // 103.67251586914062
    [InlineData(0xC2687A55u, 0xBF800000u, 0xB552257Cu)] // -58.11946487426758
    [InlineData(0x7F800000u, 0xFFC00000u, 0xFFC00000u)] // +∞
    [InlineData(0xFF800000u, 0xFFC00000u, 0xFFC00000u)] // −∞
    [InlineData(0x7FC00000u, 0x7FC00000u, 0x7FC00000u)] // NaN
    [InlineData(0xFFC00000u, 0xFFC00000u, 0xFFC00000u)] // NaN
    [InlineData(0x7F800001u, 0x7FC00001u, 0x7FC00001u)] // NaN
    [InlineData(0x7FA12345u, 0x7FE12345u, 0x7FE12345u)] // NaN
    [InlineData(0xFF812345u, 0xFFC12345u, 0xFFC12345u)] // NaN
    [InlineData(0x42C40000u, 0xBF12C927u, 0xBF51BCE0u)] // 98.0: base 10000, n_rot 8, pos 98, k 0; musl BF12C928 BF51BCE0
    [InlineData(0x43430000u, 0x3E60B8BAu, 0x3F79C269u)] // 195.0: base 10000, n_rot 8, pos 195, k 0; musl 3E60B8B9 3F79C269
    [InlineData(0x421C0ED8u, 0x3F77B1F6u, 0x3E815A9Bu)] // 39.014495849609375: base 10000, n_rot 80, pos 98, k 4; musl 3F77B1F6 3E815A9A
    [InlineData(0x3E5247F1u, 0x3E50CE65u, 0x3F7A9F09u)] // 0.2053525596857071: base 10000, n_rot 128, pos 1, k 11; musl 3E50CE64 3F7A9F09
    [InlineData(0x3E36188Bu, 0x3E35233Eu, 0x3F7BF683u)] // 0.17782799899578094: base 10000, n_rot 128, pos 1, k 12; musl 3E35233D 3F7BF683
    [InlineData(0x3EF953CCu, 0x3EEF96E1u, 0x3F623DD5u)] // 0.48696744441986084: base 10000, n_rot 256, pos 1, k 10; musl 3EEF96E2 3F623DD5
    [InlineData(0x3E297407u, 0x3E28AE50u, 0x3F7C80B9u)] // 0.16548167169094086: base 10000, n_rot 256, pos 1, k 25; musl 3E28AE4F 3F7C80B9
    [InlineData(0x4029E5FDu, 0x3EEF9293u, 0xBF623EF9u)] // 2.6546623706817627: base 500000, n_rot 80, pos 98, k 11; musl 3EEF9294 BF623EF9
    [InlineData(0x3DE5E157u, 0x3DE565D8u, 0x3F7E6395u)] // 0.11224620789289474: base 500000, n_rot 96, pos 1, k 8; musl 3DE565D7 3F7E6395
    [InlineData(0x3CEA610Du, 0x3CEA58DEu, 0x3F7FE52Eu)] // 0.028610730543732643: base 500000, n_rot 96, pos 1, k 13; musl 3CEA58DD 3F7FE52E
    [InlineData(0x3F0A6384u, 0x3F03BF11u, 0x3F5B7F36u)] // 0.5405809879302979: base 500000, n_rot 128, pos 1, k 3; musl 3F03BF12 3F5B7F36
    [InlineData(0x3EF9CF06u, 0x3EF003C1u, 0x3F6220FAu)] // 0.4879075884819031: base 500000, n_rot 256, pos 1, k 7; musl 3EF003C2 3F6220FA
    [InlineData(0x3F0D1487u, 0x3F060BF5u, 0x3F5A1986u)] // 0.5510944724082947: base 1000000, n_rot 16, pos 98, k 3; musl 3F060BF6 3F5A1986
    [InlineData(0x3DF90F94u, 0x3DF87289u, 0x3F7E1BFAu)] // 0.12161174416542053: base 1000000, n_rot 128, pos 98, k 31; musl 3DF87288 3F7E1BFA
    [InlineData(0x4102FC21u, 0x3F71F8FAu, 0xBEA727EAu)] // 8.186554908752441: base 1000000, n_rot 256, pos 98, k 23; musl 3F71F8FA BEA727E9
    public void SinCos_EqualGlibc(uint input, uint sin, uint cos)
    {
        AssertBits(sin, LibmFloat.Sin(Float(input)), $"sin(0x{input:X8})");
        AssertBits(cos, LibmFloat.Cos(Float(input)), $"cos(0x{input:X8})");
    }

    // x, y, glibc powf. 0x3FC1144A … 0x421DB9F9 are inputs where glibc's FMA build differs from an unfused
    // evaluation (and from emscripten's musl).
    [Theory]
    [InlineData(0x40000000u, 0x41200000u, 0x44800000u)] // 2.0 ^ 10.0
    [InlineData(0xC0000000u, 0x40400000u, 0xC1000000u)] // -2.0 ^ 3.0
    [InlineData(0xC0000000u, 0x3F000000u, 0xFFC00000u)] // -2.0 ^ 0.5
    [InlineData(0x00000000u, 0xBF800000u, 0x7F800000u)] // 0.0 ^ -1.0
    [InlineData(0x80000000u, 0xC0400000u, 0xFF800000u)] // -0.0 ^ -3.0
    [InlineData(0x80000000u, 0x40400000u, 0x80000000u)] // -0.0 ^ 3.0
    [InlineData(0x7F800000u, 0xC0000000u, 0x00000000u)] // +∞ ^ -2.0
    [InlineData(0xFF800000u, 0x40400000u, 0xFF800000u)] // −∞ ^ 3.0
    [InlineData(0x3F800000u, 0x7FC00000u, 0x3F800000u)] // 1.0 ^ NaN
    [InlineData(0x7FC00000u, 0x00000000u, 0x3F800000u)] // NaN ^ 0.0
    [InlineData(0x7FC00000u, 0x3F800000u, 0x7FC00000u)] // NaN ^ 1.0
    [InlineData(0xFFC00001u, 0x40400000u, 0x7FC00001u)] // NaN ^ 3.0
    [InlineData(0x40000000u, 0x43000000u, 0x7F800000u)] // 2.0 ^ 128.0
    [InlineData(0x40000000u, 0xC3150000u, 0x00000001u)] // 2.0 ^ -149.0
    [InlineData(0x40000000u, 0xC3158000u, 0x00000001u)] // 2.0 ^ -149.5
    [InlineData(0x40000000u, 0xC3160000u, 0x00000000u)] // 2.0 ^ -150.0
    [InlineData(0x3F000000u, 0x7F800000u, 0x00000000u)] // 0.5 ^ +∞
    [InlineData(0xBF800000u, 0xFF800000u, 0x3F800000u)] // -1.0 ^ −∞
    [InlineData(0x00000001u, 0x3F000000u, 0x1A3504F3u)] // 1.401298464324817e-45 ^ 0.5
    [InlineData(0x007FFFFFu, 0xBF000000u, 0x5F000001u)] // 1.1754942106924411e-38 ^ -0.5
    [InlineData(0x3FC1144Au, 0x4090DA12u, 0x40CDB741u)] // 1.5084316730499268 ^ 4.526619911193848
    [InlineData(0x3E67D93Eu, 0x40C22AACu, 0x38FF7E1Bu)] // 0.22641465067863464 ^ 6.067708969116211
    [InlineData(0x46924D21u, 0x40213F98u, 0x515897FFu)] // 18726.564453125 ^ 2.5195064544677734
    [InlineData(0x421DB9F9u, 0xC0DAF6B6u, 0x2D53A028u)] // 39.43161392211914 ^ -6.842616081237793
    [InlineData(0x461C4000u, 0xBE000000u, 0x3EA1E89Bu)] // 10000.0 ^ -0.125
    [InlineData(0x48F42400u, 0xBC800000u, 0x3F508AC1u)] // 500000.0 ^ -0.015625
    [InlineData(0x49742400u, 0xBC000000u, 0x3F65CED3u)] // 1000000.0 ^ -0.0078125
    [InlineData(0x3F800001u, 0x4F000000u, 0x7F800000u)] // 1.0000001192092896 ^ 2147483648.0
    [InlineData(0xC1200000u, 0xC0E00000u, 0xB3D6BF95u)] // -10.0 ^ -7.0
    public void Pow_EqualsGlibc(uint x, uint y, uint expected) =>
        AssertBits(expected, LibmFloat.Pow(Float(x), Float(y)), $"pow(0x{x:X8}, 0x{y:X8})");

    // RoPE's θ scale powf(freq_base, −2/n_rot) from glibc.
    [Theory]
    [InlineData(10000f, 8, 0x3DCCCCCDu)]
    [InlineData(10000f, 16, 0x3EA1E89Bu)]
    [InlineData(10000f, 32, 0x3F0FF59Au)]
    [InlineData(10000f, 48, 0x3F2E6928u)]
    [InlineData(10000f, 64, 0x3F3FF911u)]
    [InlineData(10000f, 80, 0x3F4B5918u)]
    [InlineData(10000f, 96, 0x3F534DB0u)]
    [InlineData(10000f, 128, 0x3F5DAFD7u)]
    [InlineData(10000f, 256, 0x3F6E39F8u)]
    [InlineData(500000f, 8, 0x3D1A08C8u)]
    [InlineData(500000f, 16, 0x3E4693AFu)]
    [InlineData(500000f, 32, 0x3EE177BBu)]
    [InlineData(500000f, 48, 0x3F142D7Eu)]
    [InlineData(500000f, 64, 0x3F29E1C5u)]
    [InlineData(500000f, 80, 0x3F3866ECu)]
    [InlineData(500000f, 96, 0x3F42C3E6u)]
    [InlineData(500000f, 128, 0x3F508AC1u)]
    [InlineData(500000f, 256, 0x3F670E45u)]
    [InlineData(1000000f, 8, 0x3D0186E2u)]
    [InlineData(1000000f, 16, 0x3E361887u)]
    [InlineData(1000000f, 32, 0x3ED7E89Bu)]
    [InlineData(1000000f, 48, 0x3F0FF59Au)]
    [InlineData(1000000f, 64, 0x3F263DE0u)]
    [InlineData(1000000f, 80, 0x3F353BEFu)]
    [InlineData(1000000f, 96, 0x3F3FF911u)]
    [InlineData(1000000f, 128, 0x3F4E4BACu)]
    [InlineData(1000000f, 256, 0x3F65CED3u)]
    public void Pow_RopeThetaScaleEqualsGlibc(float frequencyBase, int rotaryDimensions, uint expected) =>
        AssertBits(expected, LibmFloat.Pow(frequencyBase, -2.0f / rotaryDimensions), $"powf({frequencyBase}, -2/{rotaryDimensions})");

    [Fact]
    public void Rope_TableHoldsGlibcCosineAndSine()
    {
        // Position 98, pair 0: θ = 98, where musl's sinf returns 0xBF12C928.
        var rope = new Rope(8, 100, 10000f);
        float[] x = [1, 0, 1, 0, 1, 0, 1, 0];
        rope.Apply(x, 1, 8, 98);
        AssertBits(0xBF51BCE0u, x[0], "cos 98");
        AssertBits(0xBF12C927u, x[1], "sin 98");
    }

    [Fact]
    public void InversePiOver4_IsFourOverPiInBinary()
    {
        // π to 320 bits by Machin's formula, π = 16·atan(1/5) − 4·atan(1/239); entry i of the table is
        // floor(4/π · 2^(8i+7)) mod 2^32.
        BigInteger one = BigInteger.One << 320;
        BigInteger pi = 16 * ArcTanInverse(5, one) - 4 * ArcTanInverse(239, one);
        ReadOnlySpan<uint> table = LibmFloat.InversePiOver4;
        Assert.Equal(24, table.Length);
        for (int i = 0; i < table.Length; i++)
        {
            BigInteger window = (4 * one << (8 * i + 7)) / pi;
            Assert.Equal((uint)(window & uint.MaxValue), table[i]);
        }

        static BigInteger ArcTanInverse(int x, BigInteger one)
        {
            BigInteger sum = 0, power = one / x;
            for (int k = 0; !power.IsZero; k++, power /= x * x)
                sum += (k % 2 == 0 ? 1 : -1) * (power / (2 * k + 1));
            return sum;
        }
    }

    [Fact]
    public void Constants_AreTheOriginalsHexadecimalValues()
    {
        (double Value, ulong Bits)[] constants =
        [
            (LibmFloat.HalfPiInverseScaled, 0x41645F306DC9C883), (LibmFloat.HalfPi, 0x3FF921FB54442D18),
            (LibmFloat.Pi63, 0x3C1921FB54442D18), (LibmFloat.C0, 0x3FF0000000000000), (LibmFloat.C1, 0xBFDFFFFFFD0C621C),
            (LibmFloat.C2, 0x3FA55553E1068F19), (LibmFloat.C3, 0xBF56C087E89A359D), (LibmFloat.C4, 0x3EF99343027BF8C3),
            (LibmFloat.S1, 0xBFC555545995A603), (LibmFloat.S2, 0x3F81107605230BC4), (LibmFloat.S3, 0xBF2994EB3774CF24),
            (LibmFloat.A0, 0x3FD27616C9496E0B), (LibmFloat.A1, 0xBFD71969A075C67A), (LibmFloat.A2, 0x3FDEC70A6CA7BADD),
            (LibmFloat.A3, 0xBFE7154748BEF6C8), (LibmFloat.A4, 0x3FF71547652AB82B), (LibmFloat.Exp2Shift, 0x42E8000000000000),
            (LibmFloat.E0, 0x3FAC6AF84B912394), (LibmFloat.E1, 0x3FCEBFCE50FAC4F3), (LibmFloat.E2, 0x3FE62E42FF0C52D6),
        ];
        foreach (var (value, bits) in constants)
            Assert.Equal(bits, BitConverter.DoubleToUInt64Bits(value));
    }

    [GlibcFmaFact]
    public void SinCosPow_EqualPlatformLibm_OnEveryRopeAngle()
    {
        // Every angle Rope builds for these shapes: θ = pos, θ *= powf(base, −2/n_rot), positions 0..8191.
        long angles = 0;
        foreach (float frequencyBase in (float[])[10000f, 500000f, 1000000f])
            foreach (int rotaryDimensions in (int[])[8, 16, 32, 48, 64, 80, 96, 128, 256])
            {
                float scale = MathF.Pow(frequencyBase, -2.0f / rotaryDimensions);
                Assert.Equal(Bits(scale), Bits(LibmFloat.Pow(frequencyBase, -2.0f / rotaryDimensions)));
                for (int p = 0; p < 8192; p++)
                {
                    float theta = p;
                    for (int k = 0; k < rotaryDimensions / 2; k++, theta *= scale)
                    {
                        if (Bits(MathF.Cos(theta)) != Bits(LibmFloat.Cos(theta)) || Bits(MathF.Sin(theta)) != Bits(LibmFloat.Sin(theta)))
                            Assert.Fail($"base {frequencyBase}, n_rot {rotaryDimensions}, pos {p}, k {k}: θ = 0x{Bits(theta):X8}");
                        angles++;
                    }
                }
            }
        Assert.Equal(3L * 8192 * (4 + 8 + 16 + 24 + 32 + 40 + 48 + 64 + 128), angles);
    }

    [GlibcFmaFact]
    public void SinCosPow_EqualPlatformLibm_OnRandomInputs()
    {
        // 3 million floats: raw bit patterns (subnormals, huge, negative, NaN, ±∞), [−1000, 1000] and the
        // tiny range; 1 million powers.
        var random = new Random(20250611);
        for (int i = 0; i < 3_000_000; i++)
        {
            uint u = (uint)random.NextInt64(1L << 32);
            float x = (i % 3) switch
            {
                0 => Float(u),
                1 => (float)(random.NextDouble() * 2000 - 1000),
                _ => Float(u & 0x8FFFFFFF),
            };
            if (Bits(MathF.Sin(x)) != Bits(LibmFloat.Sin(x)) || Bits(MathF.Cos(x)) != Bits(LibmFloat.Cos(x)))
                Assert.Fail($"sin/cos(0x{Bits(x):X8}): glibc 0x{Bits(MathF.Sin(x)):X8}/0x{Bits(MathF.Cos(x)):X8}, port 0x{Bits(LibmFloat.Sin(x)):X8}/0x{Bits(LibmFloat.Cos(x)):X8}");
        }
        for (int i = 0; i < 1_000_000; i++)
        {
            float x, y;
            if (i % 2 == 0)
            {
                x = Float((uint)random.NextInt64(1L << 32));
                y = Float((uint)random.NextInt64(1L << 32));
            }
            else
            {
                x = (float)(random.NextDouble() * 1e6);
                y = (float)(random.NextDouble() * 64 - 32);
            }
            if (Bits(MathF.Pow(x, y)) != Bits(LibmFloat.Pow(x, y)))
                Assert.Fail($"pow(0x{Bits(x):X8}, 0x{Bits(y):X8}): glibc 0x{Bits(MathF.Pow(x, y)):X8}, port 0x{Bits(LibmFloat.Pow(x, y)):X8}");
        }
    }
}

/// <summary>
/// A fact that compares <see cref="LibmFloat"/> with <see cref="MathF"/>, meaningful only where MathF calls
/// glibc's FMA variants (Linux, x86-64 with FMA): skipped elsewhere, recognized by glibc's signature (inputs
/// where its bits differ from glibc's SSE2 build, from musl and from correct rounding, and its x86 default NaN).
/// </summary>
public sealed class GlibcFmaFactAttribute : FactAttribute
{
    /// <summary>Skips unless the platform libm is glibc on x86-64 with FMA.</summary>
    public GlibcFmaFactAttribute()
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || RuntimeInformation.ProcessArchitecture != Architecture.X64 || !Fma.IsSupported)
            Skip = "needs Linux x86-64 with FMA (glibc's __sinf_fma, __cosf_fma, __powf_fma)";
        else if (!HasGlibcSignature())
            Skip = "the platform libm is not glibc's FMA build (its sinf/cosf/powf signature does not match)";
    }

    private static bool HasGlibcSignature()
    {
        static bool Is(float value, uint bits) => BitConverter.SingleToUInt32Bits(value) == bits;
        static float F(uint bits) => BitConverter.UInt32BitsToSingle(bits);
        return Is(MathF.Cos(F(0x418A3ADB)), 0xB7B4F770)          // SSE2 build: 0xB7B4F76F
            && Is(MathF.Cos(F(0x4202EB4B)), 0x3E821CE2)          // SSE2 build: 0x3E821CE3
            && Is(MathF.Sin(F(0x4255B0A9)), 0xBC7D08A9)          // SSE2 build, musl, correctly rounded: 0xBC7D08A8
            && Is(MathF.Sin(F(0x42CF5854)), 0x382EE64E)          // SSE2 build, musl, correctly rounded: 0x382EE64F
            && Is(MathF.Cos(F(0xC2687A55)), 0xB552257C)          // SSE2 build, musl, correctly rounded: 0xB552257B
            && Is(MathF.Sin(F(0x42C40000)), 0xBF12C927)          // musl, correctly rounded: 0xBF12C928
            && Is(MathF.Sin(F(0x3E5247F1)), 0x3E50CE65)          // musl, correctly rounded: 0x3E50CE64
            && Is(MathF.Pow(F(0x3FC1144A), F(0x4090DA12)), 0x40CDB741) // unfused and musl: 0x40CDB740
            && Is(MathF.Pow(F(0x46924D21), F(0x40213F98)), 0x515897FF) // unfused and musl: 0x51589800
            && Is(MathF.Sin(float.PositiveInfinity), 0xFFC00000); // x86 default NaN
    }
}
