using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TinyLM.Quantization;

/// <summary>
/// Bit-exact ports of ggml's scalar float16 and bfloat16 conversions, with Vector128 and Vector256
/// forms that give the same bits lane by lane.
/// </summary>
/// <remarks>
/// Ports of <c>ggml_compute_fp16_to_fp32</c>, <c>ggml_compute_fp32_to_fp16</c>,
/// <c>ggml_compute_bf16_to_fp32</c> and <c>ggml_compute_fp32_to_bf16</c> in ggml/src/ggml-impl.h
/// (llama.cpp v0.5.0 as bundled by node-llama-cpp 3.22.1). The float16 routines are the branch-free
/// algorithm of Maratyszcza/FP16: round to nearest even, overflow to infinity, subnormals kept, every
/// NaN becomes <c>sign | 0x7E00</c>. The vector forms use only IEEE float multiply/add and integer
/// operations, so they agree with the scalar forms on every input, NaN payloads included.
/// </remarks>
internal static class HalfConversions
{
    private const float ExpScaleDown = 1.925929944387236e-34f; // 0x1.0p-112f
    private const float ScaleToInf = 5.192296858534828e+33f;  // 0x1.0p+112f
    private const float ScaleToZero = 7.703719777548943e-34f; // 0x1.0p-110f

    /// <summary>float16 bits to float (<c>ggml_compute_fp16_to_fp32</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fp16ToFp32(ushort h)
    {
        uint w = (uint)h << 16;
        uint sign = w & 0x80000000u;
        uint twoW = w + w;
        float normalized = BitConverter.UInt32BitsToSingle((twoW >> 4) + (0xE0u << 23)) * ExpScaleDown;
        float denormalized = BitConverter.UInt32BitsToSingle((twoW >> 17) | (126u << 23)) - 0.5f;
        uint result = sign | (twoW < (1u << 27) ? BitConverter.SingleToUInt32Bits(denormalized) : BitConverter.SingleToUInt32Bits(normalized));
        return BitConverter.UInt32BitsToSingle(result);
    }

    /// <summary>float16 to float (<c>GGML_FP16_TO_FP32</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Fp16ToFp32(Half h) => Fp16ToFp32(BitConverter.HalfToUInt16Bits(h));

    /// <summary>float to float16 bits (<c>ggml_compute_fp32_to_fp16</c>): round to nearest even.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fp32ToFp16(float f)
    {
        float b = (MathF.Abs(f) * ScaleToInf) * ScaleToZero;
        uint w = BitConverter.SingleToUInt32Bits(f);
        uint shl1W = w + w;
        uint sign = w & 0x80000000u;
        uint bias = shl1W & 0xFF000000u;
        if (bias < 0x71000000u)
            bias = 0x71000000u;
        b = BitConverter.UInt32BitsToSingle((bias >> 1) + 0x07800000u) + b;
        uint bits = BitConverter.SingleToUInt32Bits(b);
        uint expBits = (bits >> 13) & 0x00007C00u;
        uint mantissaBits = bits & 0x00000FFFu;
        uint nonsign = expBits + mantissaBits;
        return (ushort)((sign >> 16) | (shl1W > 0xFF000000u ? 0x7E00u : nonsign));
    }

    /// <summary>float to float16 (<c>GGML_FP32_TO_FP16</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Half Fp32ToHalf(float f) => BitConverter.UInt16BitsToHalf(Fp32ToFp16(f));

    /// <summary>bfloat16 bits to float (<c>ggml_compute_bf16_to_fp32</c>): a shift.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bf16ToFp32(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);

    /// <summary>
    /// float to bfloat16 bits (<c>ggml_compute_fp32_to_bf16</c>): round to nearest even, NaN made
    /// quiet by setting bit 6, subnormals kept.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fp32ToBf16(float f)
    {
        uint i = BitConverter.SingleToUInt32Bits(f);
        if ((i & 0x7FFFFFFFu) > 0x7F800000u)
            return (ushort)((i >> 16) | 64);
        return (ushort)((i + (0x7FFFu + ((i >> 16) & 1))) >> 16);
    }

    /// <summary>Vector form of <see cref="Bf16ToFp32(ushort)"/>: each lane holds bfloat16 bits in its low 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Bf16ToFp32(Vector256<uint> h) => (h << 16).AsSingle();

    /// <summary>Vector form of <see cref="Bf16ToFp32(ushort)"/>: each lane holds bfloat16 bits in its low 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Bf16ToFp32(Vector128<uint> h) => (h << 16).AsSingle();

    /// <summary>Vector form of <see cref="Fp16ToFp32(ushort)"/>: each lane holds float16 bits in its low 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Fp16ToFp32(Vector256<uint> h)
    {
        Vector256<uint> w = h << 16;
        Vector256<uint> sign = w & Vector256.Create(0x80000000u);
        Vector256<uint> twoW = w + w;
        Vector256<float> normalized = ((twoW >> 4) + Vector256.Create(0xE0u << 23)).AsSingle() * Vector256.Create(ExpScaleDown);
        Vector256<float> denormalized = ((twoW >> 17) | Vector256.Create(126u << 23)).AsSingle() - Vector256.Create(0.5f);
        Vector256<uint> isDenormal = Vector256.LessThan(twoW, Vector256.Create(1u << 27));
        return (sign | Vector256.ConditionalSelect(isDenormal, denormalized.AsUInt32(), normalized.AsUInt32())).AsSingle();
    }

    /// <summary>Vector form of <see cref="Fp16ToFp32(ushort)"/>: each lane holds float16 bits in its low 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Fp16ToFp32(Vector128<uint> h)
    {
        Vector128<uint> w = h << 16;
        Vector128<uint> sign = w & Vector128.Create(0x80000000u);
        Vector128<uint> twoW = w + w;
        Vector128<float> normalized = ((twoW >> 4) + Vector128.Create(0xE0u << 23)).AsSingle() * Vector128.Create(ExpScaleDown);
        Vector128<float> denormalized = ((twoW >> 17) | Vector128.Create(126u << 23)).AsSingle() - Vector128.Create(0.5f);
        Vector128<uint> isDenormal = Vector128.LessThan(twoW, Vector128.Create(1u << 27));
        return (sign | Vector128.ConditionalSelect(isDenormal, denormalized.AsUInt32(), normalized.AsUInt32())).AsSingle();
    }

    /// <summary>Vector form of <see cref="Fp32ToFp16(float)"/>: float16 bits in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Fp32ToFp16(Vector256<float> f)
    {
        Vector256<float> b = (Vector256.Abs(f) * Vector256.Create(ScaleToInf)) * Vector256.Create(ScaleToZero);
        Vector256<uint> w = f.AsUInt32();
        Vector256<uint> shl1W = w + w;
        Vector256<uint> sign = w & Vector256.Create(0x80000000u);
        Vector256<uint> bias = Vector256.Max(shl1W & Vector256.Create(0xFF000000u), Vector256.Create(0x71000000u));
        b = ((bias >> 1) + Vector256.Create(0x07800000u)).AsSingle() + b;
        Vector256<uint> bits = b.AsUInt32();
        Vector256<uint> nonsign = ((bits >> 13) & Vector256.Create(0x7C00u)) + (bits & Vector256.Create(0xFFFu));
        Vector256<uint> isNaN = Vector256.GreaterThan(shl1W, Vector256.Create(0xFF000000u));
        return (sign >> 16) | Vector256.ConditionalSelect(isNaN, Vector256.Create(0x7E00u), nonsign);
    }

    /// <summary>Vector form of <see cref="Fp32ToFp16(float)"/>: float16 bits in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> Fp32ToFp16(Vector128<float> f)
    {
        Vector128<float> b = (Vector128.Abs(f) * Vector128.Create(ScaleToInf)) * Vector128.Create(ScaleToZero);
        Vector128<uint> w = f.AsUInt32();
        Vector128<uint> shl1W = w + w;
        Vector128<uint> sign = w & Vector128.Create(0x80000000u);
        Vector128<uint> bias = Vector128.Max(shl1W & Vector128.Create(0xFF000000u), Vector128.Create(0x71000000u));
        b = ((bias >> 1) + Vector128.Create(0x07800000u)).AsSingle() + b;
        Vector128<uint> bits = b.AsUInt32();
        Vector128<uint> nonsign = ((bits >> 13) & Vector128.Create(0x7C00u)) + (bits & Vector128.Create(0xFFFu));
        Vector128<uint> isNaN = Vector128.GreaterThan(shl1W, Vector128.Create(0xFF000000u));
        return (sign >> 16) | Vector128.ConditionalSelect(isNaN, Vector128.Create(0x7E00u), nonsign);
    }

    /// <summary>Vector form of <see cref="Fp32ToBf16(float)"/>: bfloat16 bits in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Fp32ToBf16(Vector256<float> f)
    {
        Vector256<uint> i = f.AsUInt32();
        Vector256<uint> isNaN = Vector256.GreaterThan(i & Vector256.Create(0x7FFFFFFFu), Vector256.Create(0x7F800000u));
        Vector256<uint> quiet = (i >> 16) | Vector256.Create(64u);
        Vector256<uint> rounded = (i + (Vector256.Create(0x7FFFu) + ((i >> 16) & Vector256<uint>.One))) >> 16;
        return Vector256.ConditionalSelect(isNaN, quiet, rounded);
    }

    /// <summary>Vector form of <see cref="Fp32ToBf16(float)"/>: bfloat16 bits in the low 16 bits of each lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> Fp32ToBf16(Vector128<float> f)
    {
        Vector128<uint> i = f.AsUInt32();
        Vector128<uint> isNaN = Vector128.GreaterThan(i & Vector128.Create(0x7FFFFFFFu), Vector128.Create(0x7F800000u));
        Vector128<uint> quiet = (i >> 16) | Vector128.Create(64u);
        Vector128<uint> rounded = (i + (Vector128.Create(0x7FFFu) + ((i >> 16) & Vector128<uint>.One))) >> 16;
        return Vector128.ConditionalSelect(isNaN, quiet, rounded);
    }
}
