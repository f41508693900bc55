using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q8_K block (ggml's <c>block_q8_K</c>, ggml/src/ggml-common.h): 256 values as int8 with a
/// float32 scale and the sums of each 16 quants; 292 bytes, 9.125 bits per value. Value j is
/// <c>D · Qs[j]</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K
{
    /// <summary>Scale (ggml: <c>float d</c>, delta).</summary>
    public float D;

    /// <summary>Quants (ggml: <c>int8_t qs[QK_K]</c>).</summary>
    public fixed sbyte Qs[256];

    /// <summary>Sum of each group of 16 quants (ggml: <c>int16_t bsums[QK_K/16]</c>), used by the
    /// Q2_K, Q4_K and Q5_K dots for their minimum terms.</summary>
    public fixed short BSums[16];
}

/// <summary>
/// Q8_K: 8-bit super-blocks of 256 (<see cref="BlockQ8_K"/>); the activation type of every K-quant and
/// ternary dot (Q2_K … Q6_K, TQ1_0, TQ2_0), so <see cref="Quantize"/> runs for every such matmul.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1): <c>quantize_row_q8_K_ref</c>
/// and <c>dequantize_row_q8_K</c> (ggml/src/ggml-quants.c). ggml's CPU <c>quantize_row_q8_K</c>
/// (ggml-cpu/arch/x86/quants.c) calls the reference on every x86 build. ggml has no Q8_K weight dot
/// (<c>type_traits_cpu[GGML_TYPE_Q8_K]</c> sets only <c>from_float</c>); TinyLM defines the
/// Q8_K·Q8_K dot like <c>ggml_vec_dot_q8_0_q8_0_generic</c>: <c>sumf += sumi · (dx · dy)</c> per block.
/// One deliberate difference: for an all-zero block ggml writes <c>d</c> and <c>qs</c> and leaves
/// <c>bsums</c> as the buffer held them; TinyLM writes zeros there (every dot multiplies them by
/// <c>d = 0</c>).
/// </remarks>
public sealed unsafe class Q8_K : TensorType
{
    private const int QK = KQuants.QK_K;
    private const int Bytes = 292;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q8_K;
    /// <inheritdoc/>
    public override string Name => "q8_K";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_K;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q8_K</c>: <c>y[j] = d · qs[j]</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ8_K> x = MemoryMarshal.Cast<byte, BlockQ8_K>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_K b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            for (int j = 0; j < QK; ++j)
                destination[i * QK + j] = b.D * b.Qs[j];
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q8_K_ref</c>: <c>iscale = −127 / max</c> where <c>max</c> is
    /// the value of largest magnitude (first one on ties), <c>qs[j] = MIN(127, nearest_int(iscale · x[j]))</c>,
    /// <c>d = 1 / iscale</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(destination);
        for (int i = 0; i < nb; i++)
            QuantizeBlockReference(source.Slice(i * QK, QK), ref y[i]);
    }

    private static void QuantizeBlockReference(ReadOnlySpan<float> x, ref BlockQ8_K y)
    {
        float max = 0;
        float amax = 0;
        for (int j = 0; j < QK; ++j)
        {
            float ax = MathF.Abs(x[j]);
            if (ax > amax)
            {
                amax = ax; max = x[j];
            }
        }
        if (amax == 0)
        {
            ZeroBlock(ref y);
            return;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < QK; ++j)
        {
            int v = KQuants.NearestInt(iscale * x[j]);
            y.Qs[j] = (sbyte)KQuants.Min(127, v);
        }
        for (int j = 0; j < QK / 16; ++j)
        {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii)
                sum += y.Qs[j * 16 + ii];
            y.BSums[j] = (short)sum;
        }
        y.D = 1 / iscale;
    }

    private static void ZeroBlock(ref BlockQ8_K y)
    {
        y.D = 0;
        MemoryMarshal.CreateSpan(ref Unsafe.As<sbyte, byte>(ref y.Qs[0]), QK + 32).Clear(); // qs, then bsums (TinyLM: zeros)
    }

    /// <inheritdoc/>
    /// <remarks>Vector256 or Vector128 per block; a block holding NaN or infinity, or whose
    /// <c>−127 / max</c> overflows, takes the scalar reference, so the bytes always equal
    /// <see cref="QuantizeReference"/>.</remarks>
    public override void Quantize(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        if (Vector256.IsHardwareAccelerated)
            QuantizeVector256(source, destination, nb);
        else if (Vector128.IsHardwareAccelerated)
            QuantizeVector128(source, destination, nb);
        else
            QuantizeReference(source, destination);
    }

    /// <summary>Vector256 form of <see cref="Quantize"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeVector256(ReadOnlySpan<float> source, Span<byte> destination, int nb)
    {
        Span<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(destination);
        Vector256<float> inf = Vector256.Create(float.PositiveInfinity);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> xb = source.Slice(i * QK, QK);
            ref float p = ref MemoryMarshal.GetReference(xb);
            ref BlockQ8_K yb = ref y[i];
            Vector256<float> m = Vector256<float>.Zero;
            Vector256<float> finite = Vector256<float>.AllBitsSet;
            for (int k = 0; k < QK; k += 8)
            {
                Vector256<float> a = Vector256.Abs(Vector256.LoadUnsafe(ref p, (nuint)k));
                finite &= Vector256.LessThan(a, inf);
                m = Vector256.MaxNative(m, a);
            }
            if (finite.ExtractMostSignificantBits() != 0xFFu)
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            float amax = HorizontalMax(Vector128.MaxNative(m.GetLower(), m.GetUpper()));
            if (amax == 0)
            {
                ZeroBlock(ref yb);
                continue;
            }
            // the first value whose magnitude is amax, as the scalar scan picks it
            Vector256<float> va = Vector256.Create(amax);
            int first = 0;
            for (int k = 0; k < QK; k += 8)
            {
                uint hit = Vector256.Equals(Vector256.Abs(Vector256.LoadUnsafe(ref p, (nuint)k)), va).ExtractMostSignificantBits();
                if (hit != 0)
                {
                    first = k + System.Numerics.BitOperations.TrailingZeroCount(hit);
                    break;
                }
            }
            float iscale = -127.0f / xb[first];
            if (!float.IsFinite(iscale))
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            Vector256<float> vs = Vector256.Create(iscale);
            for (int g = 0; g < QK / 16; g++)
            {
                Vector256<int> q0 = NearestInt127(vs * Vector256.LoadUnsafe(ref p, (nuint)(16 * g)));
                Vector256<int> q1 = NearestInt127(vs * Vector256.LoadUnsafe(ref p, (nuint)(16 * g + 8)));
                yb.BSums[g] = (short)Vector256.Sum(q0 + q1);
                Vector256<short> s = Vector256.Narrow(q0, q1);
                Vector128<sbyte> b = Vector128.Narrow(s.GetLower(), s.GetUpper());
                b.StoreUnsafe(ref yb.Qs[16 * g]);
            }
            yb.D = 1 / iscale;
        }
    }

    /// <summary>Vector128 form of <see cref="Quantize"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeVector128(ReadOnlySpan<float> source, Span<byte> destination, int nb)
    {
        Span<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(destination);
        Vector128<float> inf = Vector128.Create(float.PositiveInfinity);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> xb = source.Slice(i * QK, QK);
            ref float p = ref MemoryMarshal.GetReference(xb);
            ref BlockQ8_K yb = ref y[i];
            Vector128<float> m = Vector128<float>.Zero;
            Vector128<float> finite = Vector128<float>.AllBitsSet;
            for (int k = 0; k < QK; k += 4)
            {
                Vector128<float> a = Vector128.Abs(Vector128.LoadUnsafe(ref p, (nuint)k));
                finite &= Vector128.LessThan(a, inf);
                m = Vector128.MaxNative(m, a);
            }
            if (finite.ExtractMostSignificantBits() != 0xFu)
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            float amax = HorizontalMax(m);
            if (amax == 0)
            {
                ZeroBlock(ref yb);
                continue;
            }
            Vector128<float> va = Vector128.Create(amax);
            int first = 0;
            for (int k = 0; k < QK; k += 4)
            {
                uint hit = Vector128.Equals(Vector128.Abs(Vector128.LoadUnsafe(ref p, (nuint)k)), va).ExtractMostSignificantBits();
                if (hit != 0)
                {
                    first = k + System.Numerics.BitOperations.TrailingZeroCount(hit);
                    break;
                }
            }
            float iscale = -127.0f / xb[first];
            if (!float.IsFinite(iscale))
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            Vector128<float> vs = Vector128.Create(iscale);
            for (int g = 0; g < QK / 16; g++)
            {
                ref float pg = ref Unsafe.Add(ref p, 16 * g);
                Vector128<int> q0 = NearestInt127(vs * Vector128.LoadUnsafe(ref pg));
                Vector128<int> q1 = NearestInt127(vs * Vector128.LoadUnsafe(ref pg, 4));
                Vector128<int> q2 = NearestInt127(vs * Vector128.LoadUnsafe(ref pg, 8));
                Vector128<int> q3 = NearestInt127(vs * Vector128.LoadUnsafe(ref pg, 12));
                yb.BSums[g] = (short)Vector128.Sum((q0 + q1) + (q2 + q3));
                Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).StoreUnsafe(ref yb.Qs[16 * g]);
            }
            yb.D = 1 / iscale;
        }
    }

    private static float HorizontalMax(Vector128<float> m)
    {
        float m0 = m.GetElement(0), m1 = m.GetElement(1), m2 = m.GetElement(2), m3 = m.GetElement(3);
        float a01 = m0 > m1 ? m0 : m1, a23 = m2 > m3 ? m2 : m3;
        return a01 > a23 ? a01 : a23;
    }

    /// <summary><c>MIN(127, nearest_int(v))</c> per lane; for finite |v| ≤ 127.01 the result is already an int8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> NearestInt127(Vector256<float> v)
    {
        Vector256<int> i = (v + Vector256.Create(12582912f)).AsInt32();
        return Vector256.Min((i & Vector256.Create(0x007fffff)) - Vector256.Create(0x00400000), Vector256.Create(127));
    }

    /// <summary>Vector128 form of <see cref="NearestInt127(Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> NearestInt127(Vector128<float> v)
    {
        Vector128<int> i = (v + Vector128.Create(12582912f)).AsInt32();
        return Vector128.Min((i & Vector128.Create(0x007fffff)) - Vector128.Create(0x00400000), Vector128.Create(127));
    }

    /// <inheritdoc/>
    /// <remarks>TinyLM's definition (ggml has no Q8_K weight dot): per block
    /// <c>sumf += sumi · (dx · dy)</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Bytes);
        ReadOnlySpan<BlockQ8_K> x = MemoryMarshal.Cast<byte, BlockQ8_K>(weights);
        ReadOnlySpan<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        float sumf = 0;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockQ8_K xb = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_K yb = ref MemoryMarshal.GetReference(y.Slice(i, 1));
            int sumi = 0;
            for (int j = 0; j < QK; j++)
                sumi += xb.Qs[j] * yb.Qs[j];
            sumf += sumi * (xb.D * yb.D);
        }
        return sumf;
    }

    /// <inheritdoc/>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Bytes);
        if (Avx2.IsSupported)
            return DotAvx2(weights, activations, nb);
        if (Vector128.IsHardwareAccelerated)
            return DotVector128(weights, activations, nb);
        return DotReference(weights, activations, count);
    }

    /// <summary>AVX2 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotAvx2(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ8_K x = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_K xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int k = 0; k < QK; k += 32)
                acc += BlockDot.MultiplyAddSigned256(Vector256.LoadUnsafe(ref xb.Qs[k]), Vector256.LoadUnsafe(ref yb.Qs[k]));
            sumf += Vector256.Sum(acc) * (xb.D * yb.D);
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ8_K x = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_K xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector128<int> acc = Vector128<int>.Zero;
            for (int k = 0; k < QK; k += 16)
                acc += BlockDot.MultiplyAdd128(Vector128.LoadUnsafe(ref xb.Qs[k]), Vector128.LoadUnsafe(ref yb.Qs[k]));
            sumf += Vector128.Sum(acc) * (xb.D * yb.D);
        }
        return sumf;
    }
}
