using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// SIMD forms of the integer part of ggml's Q3_K, Q4_K, Q5_K and Q6_K generic dots
/// (ggml/src/ggml-cpu/quants.c): with the weights unpacked to one int8 per element (<c>aux8</c>),
/// those dots keep eight int32 lanes <c>aux32[l]</c>, lane l summing <c>scale · q8[e] · a[e]</c> over
/// the elements e ≡ l (mod 8), and convert each lane to float on its own
/// (<c>sums[l] += d · aux32[l]</c>). The kernels here return exactly those eight lanes: integer
/// sums are exact in any order, so the float steps that follow are the reference's. On top of them,
/// <see cref="DotAvx2{T}"/>, <see cref="DotVector128{T}"/> and <see cref="MatMulAvx2{T}"/> run the
/// reference's float steps for any type described by <see cref="ILaneBlocks"/>. With AVX2, Q4_K and
/// Q6_K use <see cref="KQuantPacked"/> instead (no unpacking; these forms remain their Vector128 path).
/// </summary>
/// <remarks>
/// Bounds that keep the int16 steps exact: |q8| ≤ 128 and |a| ≤ 32 (Q6_K), so a product is at most
/// 4096 in magnitude and the sum of four products of one lane class at most 16384.
/// </remarks>
internal static unsafe class KQuantDot
{
    /// <summary>
    /// A super-block type whose generic dot keeps eight float lanes (Q3_K, Q4_K, Q5_K, Q6_K): how one of
    /// its blocks unpacks into what the lane sums need.
    /// </summary>
    public interface ILaneBlocks
    {
        /// <summary>Bytes in one weight block.</summary>
        static abstract int BlockBytes { get; }

        /// <summary>True when a scale covers 32 elements (8 scales), false for 16 (16 scales).</summary>
        static abstract bool Groups32 { get; }

        /// <summary>True when the type has mins (Q4_K, Q5_K): the dot subtracts <c>dmin·Σ bsums·m</c>.</summary>
        static abstract bool HasMins { get; }

        /// <summary>
        /// Unpacks one block: the quants as int8 in element order (<c>aux8</c>), the scales, the mins
        /// (when <see cref="HasMins"/>), and the float16 super-block scales as floats.
        /// </summary>
        static abstract void Unpack(ref byte block, Span<sbyte> aux8, Span<int> scales, Span<int> mins, out float d, out float dmin);
    }

    /// <summary>Bytes of one Q8_K activation block.</summary>
    private const int Q8Bytes = 292;

    /// <summary>
    /// <see cref="TensorType.Dot"/> of a lane-block type: checks the operands, then the AVX2 or
    /// Vector128 form, else <paramref name="type"/>'s scalar reference.
    /// </summary>
    public static float Dot<T>(TensorType type, ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count) where T : ILaneBlocks
    {
        int nb = TensorTypeChecks.DotBlocks(type, count, weights.Length, activations.Length, Q8Bytes);
        if (Avx2.IsSupported)
            return DotAvx2<T>(weights, activations, nb);
        if (Vector128.IsHardwareAccelerated)
            return DotVector128<T>(weights, activations, nb);
        return type.DotReference(weights, activations, count);
    }

    /// <summary>
    /// <see cref="TensorType.MatMul"/> of a lane-block type: checks the operands, then
    /// <see cref="MatMulAvx2{T}"/> (each weight block unpacked once for up to 64 activation rows, each
    /// with its own accumulators taking exactly the dot's float steps), else one dot per output.
    /// </summary>
    public static void MatMul<T>(TensorType type, ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : ILaneBlocks
    {
        int nb = TensorTypeChecks.MatMulBlocks(type, weights.Length, rowStart, rowCount, cols, activations.Length, tokens, output.Length, outputStride, Q8Bytes);
        if (Avx2.IsSupported)
            MatMulAvx2<T>(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);
        else
            type.MatMulByDots(weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
    }

    /// <summary>Tokens whose float accumulators one <see cref="MatMulAvx2{T}"/> pass keeps on the stack.</summary>
    private const int MatMulTokens = 64;

    /// <summary>
    /// AVX2 dot of <paramref name="nb"/> checked blocks: per block <c>sums[l] += (d·dy)·aux32[l]</c> and
    /// <c>sumf −= (dmin·dy)·Σ bsums·m</c>, finally <c>sumf += sums[l]</c> in lane order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotAvx2<T>(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb) where T : ILaneBlocks
    {
        ref byte x = ref MemoryMarshal.GetReference(weights);
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        Span<sbyte> aux8 = stackalloc sbyte[KQuants.QK_K];
        Span<int> scales = stackalloc int[16];
        Span<int> mins = stackalloc int[8];
        Vector256<float> sums = Vector256<float>.Zero;
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            T.Unpack(ref Unsafe.Add(ref x, i * T.BlockBytes), aux8, scales, mins, out float d, out float dmin);
            sums = Accumulate(sums, d * yb.D, ClassSumsAvx2<T>(ref yb, aux8, scales));
            if (T.HasMins)
                sumf -= dmin * yb.D * MinSum(ref yb, mins);
        }
        return AddLanes(sumf, sums);
    }

    /// <summary>Vector128 form of <see cref="DotAvx2{T}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotVector128<T>(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb) where T : ILaneBlocks
    {
        ref byte x = ref MemoryMarshal.GetReference(weights);
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        Span<sbyte> aux8 = stackalloc sbyte[KQuants.QK_K];
        Span<int> scales = stackalloc int[16];
        Span<int> mins = stackalloc int[8];
        Vector128<float> sumsLo = Vector128<float>.Zero, sumsHi = Vector128<float>.Zero;
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            T.Unpack(ref Unsafe.Add(ref x, i * T.BlockBytes), aux8, scales, mins, out float d, out float dmin);
            Vector128<int> lo, hi;
            if (T.Groups32)
                ClassSums32(ref yb.Qs[0], ref MemoryMarshal.GetReference(aux8), scales, out lo, out hi);
            else
                ClassSums16(ref yb.Qs[0], ref MemoryMarshal.GetReference(aux8), scales, out lo, out hi);
            Vector128<float> dv = Vector128.Create(d * yb.D);
            sumsLo += dv * Vector128.ConvertToSingle(lo);
            sumsHi += dv * Vector128.ConvertToSingle(hi);
            if (T.HasMins)
                sumf -= dmin * yb.D * MinSum(ref yb, mins);
        }
        return AddLanes(sumf, sumsLo, sumsHi);
    }

    /// <summary>
    /// AVX2 matrix product over checked operands with <paramref name="nb"/> blocks per row: each weight
    /// block is unpacked once for up to 64 activation rows, each of which keeps its own accumulators
    /// and takes exactly the float steps of <see cref="DotAvx2{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulAvx2<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : ILaneBlocks
    {
        ref byte w = ref MemoryMarshal.GetReference(weights);
        ref BlockQ8_K a = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        Span<sbyte> aux8 = stackalloc sbyte[KQuants.QK_K];
        Span<int> scales = stackalloc int[16];
        Span<int> mins = stackalloc int[8];
        Span<Vector256<float>> sums = stackalloc Vector256<float>[MatMulTokens];
        Span<float> sumf = stackalloc float[MatMulTokens];
        for (int t0 = 0; t0 < tokens; t0 += MatMulTokens)
        {
            int tn = Math.Min(MatMulTokens, tokens - t0);
            for (int r = rowStart; r < rowStart + rowCount; r++)
            {
                ref byte x = ref Unsafe.Add(ref w, r * nb * T.BlockBytes);
                sums[..tn].Clear();
                sumf[..tn].Clear();
                for (int i = 0; i < nb; i++)
                {
                    T.Unpack(ref Unsafe.Add(ref x, i * T.BlockBytes), aux8, scales, mins, out float d, out float dmin);
                    for (int t = 0; t < tn; t++)
                    {
                        ref BlockQ8_K yb = ref Unsafe.Add(ref a, (t0 + t) * nb + i);
                        sums[t] = Accumulate(sums[t], d * yb.D, ClassSumsAvx2<T>(ref yb, aux8, scales));
                        if (T.HasMins)
                            sumf[t] -= dmin * yb.D * MinSum(ref yb, mins);
                    }
                }
                for (int t = 0; t < tn; t++)
                    output[(t0 + t) * outputStride + r] = AddLanes(sumf[t], sums[t]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> ClassSumsAvx2<T>(ref BlockQ8_K yb, Span<sbyte> aux8, Span<int> scales) where T : ILaneBlocks =>
        T.Groups32
            ? ClassSums32Avx2(ref yb.Qs[0], ref MemoryMarshal.GetReference(aux8), scales)
            : ClassSums16Avx2(ref yb.Qs[0], ref MemoryMarshal.GetReference(aux8), scales);

    /// <summary><c>Σ bsums[j]·mins[j/2]</c> over the 16 group sums of a Q8_K block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int MinSum(ref BlockQ8_K yb, Span<int> mins)
    {
        int sumi = 0;
        for (int j = 0; j < 8; j++)
            sumi += (yb.BSums[2 * j] + yb.BSums[2 * j + 1]) * mins[j];
        return sumi;
    }

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
    public static float AddLanes(float sumf, Vector256<float> sums) => AddLanes(sumf, sums.GetLower(), sums.GetUpper());

    /// <summary>Vector128 form of <see cref="AddLanes(float, Vector256{float})"/>: lanes 0–3, then 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float AddLanes(float sumf, Vector128<float> lo, Vector128<float> hi)
    {
        // Written out: the JIT keeps constant-index element reads in registers.
        sumf += lo.GetElement(0);
        sumf += lo.GetElement(1);
        sumf += lo.GetElement(2);
        sumf += lo.GetElement(3);
        sumf += hi.GetElement(0);
        sumf += hi.GetElement(1);
        sumf += hi.GetElement(2);
        sumf += hi.GetElement(3);
        return sumf;
    }

    /// <summary>Bytes of <paramref name="v"/> shifted right by <paramref name="shift"/> bits, masked to <paramref name="mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Bits(Vector128<byte> v, int shift, byte mask) =>
        (v.AsUInt16() >> shift).AsByte() & Vector128.Create(mask);
}
