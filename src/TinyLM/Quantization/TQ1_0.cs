using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One TQ1_0 block (ggml's <c>block_tq1_0</c>, ggml/src/ggml-common.h): 256 ternary weights packed
/// five per byte (four per byte in <see cref="Qh"/>) with one float16 scale; 54 bytes, 1.6875 bits
/// per weight. Weight e is <c>D·(t_e − 1)</c>, t_e ∈ {0, 1, 2}.
/// </summary>
/// <remarks>A byte holds trits t₀…t₄ as <c>⌈(Σ tₙ·3^(4−n))·256 / 243⌉</c>, so trit n is
/// <c>((uint8)(q·3ⁿ)·3) &gt;&gt; 8</c>. Bytes 0–31 of <see cref="Qs"/> hold elements m + 32n
/// (n = 0–4), bytes 32–47 hold 160 + m + 16n, and byte j of <see cref="Qh"/> holds 240 + j + 4n
/// (n = 0–3).</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockTQ1_0
{
    /// <summary>Five trits per byte (ggml: <c>uint8_t qs[(QK_K - 4 * QK_K / 64) / 5]</c>).</summary>
    public fixed byte Qs[48];

    /// <summary>Four trits per byte (ggml: <c>uint8_t qh[QK_K/64]</c>).</summary>
    public fixed byte Qh[4];

    /// <summary>Scale (ggml: <c>ggml_half d</c>).</summary>
    public Half D;
}

/// <summary>
/// TQ1_0: ternary super-blocks of 256 at 1.6875 bits per weight (<see cref="BlockTQ1_0"/>, BitNet
/// b1.58 and TriLMs); dots take Q8_K activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1): <c>quantize_row_tq1_0_ref</c>
/// (what <c>quantize_tq1_0</c> runs) and <c>dequantize_row_tq1_0</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_tq1_0_q8_K_generic</c> (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class TQ1_0 : TensorType
{
    private const int QK = KQuants.QK_K;
    private const int Bytes = 54;
    private const int Q8Bytes = 292;

    private static ReadOnlySpan<byte> Pow3 => [1, 3, 9, 27, 81, 243];

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.TQ1_0;
    /// <inheritdoc/>
    public override string Name => "tq1_0";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_K;

    /// <summary>Trit n of a packed byte: <c>((uint16)(uint8)(q·3ⁿ)·3) &gt;&gt; 8</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Trit(byte q, int n) => ((byte)(q * Pow3[n]) * 3) >> 8;

    /// <summary>
    /// The trit (0–2) of element <paramref name="e"/> (0–255) of a block, in <c>dequantize_row_tq1_0</c>'s
    /// order: elements 0–159 from <c>qs</c> 0–31 (trit e / 32 of byte e % 32), 160–239 from <c>qs</c>
    /// 32–47 (trit (e − 160) / 16 of byte 32 + (e − 160) % 16), 240–255 from <c>qh</c> (trit (e − 240) / 4
    /// of byte (e − 240) % 4).
    /// </summary>
    internal static int TritOf(ref BlockTQ1_0 b, int e) => e < 160 ? Trit(b.Qs[e % 32], e / 32)
        : e < 240 ? Trit(b.Qs[32 + (e - 160) % 16], (e - 160) / 16)
        : Trit(b.Qh[(e - 240) % 4], (e - 240) / 4);

    /// <summary>
    /// Re-encodes TQ1_0 blocks as TQ2_0 blocks holding the same numbers: the float16 scale is copied and element e's
    /// trit t ∈ {0, 1, 2} (<see cref="TritOf"/>, <c>dequantize_row_tq1_0</c>'s order) becomes TQ2_0's two-bit field of
    /// element e (<c>dequantize_row_tq2_0</c>'s order: bits 2l of byte 32·(e / 128) + e % 32, l = (e % 128) / 32).
    /// Exact: both dequantize to <c>(t − 1)·d</c>, and every dot with Q8_K activations is the same bits, because
    /// <c>ggml_vec_dot_tq1_0_q8_K_generic</c> adds <c>(float)sum·(dx·dy)</c> and <c>ggml_vec_dot_tq2_0_q8_K_generic</c>
    /// <c>(float)sumi·(dy·dx)</c> per block with the same integer sum. The page uses it to run TQ1_0 matrices through its
    /// faster TQ2_0 kernels, at 66/54 of the bytes.
    /// </summary>
    /// <param name="source">Whole TQ1_0 blocks (54 bytes each).</param>
    /// <param name="destination">As many TQ2_0 blocks (66 bytes each).</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not whole blocks, or <paramref name="destination"/> is not the size of as many TQ2_0 blocks.</exception>
    public static void WidenToTQ2_0(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        const int tq2Bytes = 66;
        if (source.Length % Bytes != 0 || (long)source.Length / Bytes * tq2Bytes != destination.Length)
            throw new ArgumentException($"{source.Length} bytes of TQ1_0 blocks ({Bytes} bytes each) do not widen into {destination.Length} bytes of TQ2_0 blocks ({tq2Bytes} each).");
        ReadOnlySpan<BlockTQ1_0> x = MemoryMarshal.Cast<byte, BlockTQ1_0>(source);
        Span<BlockTQ2_0> y = MemoryMarshal.Cast<byte, BlockTQ2_0>(destination);
        for (int i = 0; i < x.Length; i++)
        {
            ref BlockTQ1_0 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockTQ2_0 q = ref y[i];
            for (int k = 0; k < 64; k++)
                q.Qs[k] = 0;
            for (int e = 0; e < QK; e++)
                q.Qs[32 * (e / 128) + e % 32] |= (byte)(TritOf(ref b, e) << (2 * (e % 128 / 32)));
            q.D = b.D;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_tq1_0</c>: <c>y = (float)(t − 1)·d</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockTQ1_0> x = MemoryMarshal.Cast<byte, BlockTQ1_0>(source);
        int y = 0;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ1_0 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            for (int n = 0; n < 5; ++n)
                for (int m = 0; m < 32; ++m)
                    destination[y++] = (float)(Trit(b.Qs[m], n) - 1) * d;
            for (int n = 0; n < 5; ++n)
                for (int m = 0; m < 16; ++m)
                    destination[y++] = (float)(Trit(b.Qs[32 + m], n) - 1) * d;
            for (int n = 0; n < 4; ++n)
                for (int j = 0; j < 4; ++j)
                    destination[y++] = (float)(Trit(b.Qh[j], n) - 1) * d;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_tq1_0_ref</c>: <c>d = amax</c>, trits
    /// <c>lroundf(x / d) + 1</c> (glibc <c>lroundf</c>, half away from zero), packed base 3 in
    /// uint8 arithmetic and scaled by <c>⌈·256/243⌉</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockTQ1_0> y = MemoryMarshal.Cast<byte, BlockTQ1_0>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            ref BlockTQ1_0 yb = ref y[i];
            float amax = 0.0f; // absolute max
            for (int j = 0; j < QK; j++)
            {
                float a = MathF.Abs(x[j]);
                amax = amax > a ? amax : a; // MAX(amax, fabsf(v))
            }
            float d = amax;
            float id = d != 0 ? 1.0f / d : 0.0f;
            yb.D = HalfConversions.Fp32ToHalf(d);

            // 5 elements per byte, along 32 bytes
            for (int m = 0; m < 32; ++m)
                yb.Qs[m] = Pack(x, m, 32, 5, id, false);
            // along 16 bytes
            for (int m = 0; m < 16; ++m)
                yb.Qs[32 + m] = Pack(x, 160 + m, 16, 5, id, false);
            // 4 elements per byte
            for (int j = 0; j < 4; ++j)
                yb.Qh[j] = Pack(x, 240 + j, 4, 4, id, true);
        }

        static byte Pack(ReadOnlySpan<float> x, int start, int stride, int count, float id, bool shift)
        {
            byte q = 0;
            for (int n = 0; n < count; ++n)
            {
                int xi = unchecked((int)KQuants.LRoundF(x[start + n * stride] * id) + 1); // -1, 0, 1 -> 0, 1, 2
                q = (byte)(q * 3);
                q = (byte)(q + xi);
            }
            if (shift)
                q = (byte)(q * 3); // shift the first value to the most significant trit
            // ceiling division (243 == pow(3, 5))
            return (byte)((q * 256 + (243 - 1)) / 243);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_tq1_0_q8_K_generic</c>: per block
    /// <c>sumf += (float)sum·(dx·dy)</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockTQ1_0> x = MemoryMarshal.Cast<byte, BlockTQ1_0>(weights);
        ReadOnlySpan<BlockQ8_K> y = MemoryMarshal.Cast<byte, BlockQ8_K>(activations);
        float sumf = 0.0f;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ1_0 xb = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_K yb = ref MemoryMarshal.GetReference(y.Slice(i, 1));
            int sum = 0;
            for (int l = 0; l < 5; ++l)
                for (int m = 0; m < 32; ++m)
                    sum += (Trit(xb.Qs[m], l) - 1) * yb.Qs[l * 32 + m];
            for (int l = 0; l < 5; ++l)
                for (int m = 0; m < 16; ++m)
                    sum += (Trit(xb.Qs[32 + m], l) - 1) * yb.Qs[160 + l * 16 + m];
            for (int l = 0; l < 4; ++l)
                for (int j = 0; j < 4; ++j)
                    sum += (Trit(xb.Qh[j], l) - 1) * yb.Qs[240 + l * 4 + j];
            sumf += (float)sum * (HalfConversions.Fp16ToFp32(xb.D) * yb.D);
        }
        return sumf;
    }

    /// <inheritdoc/>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
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
        ref BlockTQ1_0 x = ref Unsafe.As<byte, BlockTQ1_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0.0f;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ1_0 xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector256<byte> q = Vector256.LoadUnsafe(ref xb.Qs[0]);
            Vector256<int> acc = Vector256<int>.Zero;
            for (int l = 0; l < 5; ++l)
                acc += BlockDot.MultiplyAddUnsigned256(Trits(q, Pow3[l]), Vector256.LoadUnsafe(ref yb.Qs[l * 32]), 1);
            // bytes 32-47 (five trits) and the four qh bytes (four trits), 16 + 4 lanes at a time
            Vector128<byte> q2 = Vector128.LoadUnsafe(ref xb.Qs[32]);
            Vector256<byte> tail = Vector256.Create(q2, Vector128.Create(Unsafe.ReadUnaligned<uint>(ref xb.Qh[0])).AsByte());
            for (int l = 0; l < 5; ++l)
            {
                Vector256<byte> t = Trits(tail, Pow3[l]);
                Vector128<sbyte> yq = Vector128.LoadUnsafe(ref yb.Qs[160 + l * 16]);
                Vector128<sbyte> yh = l < 4 ? Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref Unsafe.As<sbyte, byte>(ref yb.Qs[240 + l * 4]))).AsSByte() : Vector128<sbyte>.Zero;
                // lanes 20-31 pair with zero activations; lanes 16-19 are the qh trits
                acc += BlockDot.MultiplyAddUnsigned256(t, Vector256.Create(yq, yh), 1);
            }
            sumf += (float)Vector256.Sum(acc) * (HalfConversions.Fp16ToFp32(xb.D) * yb.D);
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockTQ1_0 x = ref Unsafe.As<byte, BlockTQ1_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_K y = ref Unsafe.As<byte, BlockQ8_K>(ref MemoryMarshal.GetReference(activations));
        Vector128<sbyte> one = Vector128.Create((sbyte)1);
        float sumf = 0.0f;
        for (int i = 0; i < nb; ++i)
        {
            ref BlockTQ1_0 xb = ref Unsafe.Add(ref x, i);
            ref BlockQ8_K yb = ref Unsafe.Add(ref y, i);
            Vector128<byte> q0 = Vector128.LoadUnsafe(ref xb.Qs[0]), q1 = Vector128.LoadUnsafe(ref xb.Qs[16]), q2 = Vector128.LoadUnsafe(ref xb.Qs[32]);
            Vector128<byte> qh = Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref xb.Qh[0])).AsByte();
            Vector128<int> acc = Vector128<int>.Zero;
            for (int l = 0; l < 5; ++l)
            {
                byte p = Pow3[l];
                acc += BlockDot.MultiplyAdd128(Trits(q0, p).AsSByte() - one, Vector128.LoadUnsafe(ref yb.Qs[l * 32]));
                acc += BlockDot.MultiplyAdd128(Trits(q1, p).AsSByte() - one, Vector128.LoadUnsafe(ref yb.Qs[l * 32 + 16]));
                acc += BlockDot.MultiplyAdd128(Trits(q2, p).AsSByte() - one, Vector128.LoadUnsafe(ref yb.Qs[160 + l * 16]));
                if (l < 4) // lanes 4-15 of qh are zero bytes: their trit is 0, paired with zero activations
                    acc += BlockDot.MultiplyAdd128(Trits(qh, p).AsSByte() - one,
                        Vector128.CreateScalar(Unsafe.ReadUnaligned<uint>(ref Unsafe.As<sbyte, byte>(ref yb.Qs[240 + l * 4]))).AsSByte());
            }
            sumf += (float)Vector128.Sum(acc) * (HalfConversions.Fp16ToFp32(xb.D) * yb.D);
        }
        return sumf;
    }

    /// <summary>Trit per byte: <c>((uint8)(q·p)·3) &gt;&gt; 8</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Trits(Vector256<byte> q, byte p)
    {
        (Vector256<ushort> lo, Vector256<ushort> hi) = Vector256.Widen(q);
        Vector256<ushort> vp = Vector256.Create((ushort)p), mask = Vector256.Create((ushort)0xFF), three = Vector256.Create((ushort)3);
        lo = (((lo * vp) & mask) * three) >> 8;
        hi = (((hi * vp) & mask) * three) >> 8;
        return Vector256.Narrow(lo, hi);
    }

    /// <summary>Vector128 form of <see cref="Trits(Vector256{byte}, byte)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Trits(Vector128<byte> q, byte p)
    {
        (Vector128<ushort> lo, Vector128<ushort> hi) = Vector128.Widen(q);
        Vector128<ushort> vp = Vector128.Create((ushort)p), mask = Vector128.Create((ushort)0xFF), three = Vector128.Create((ushort)3);
        lo = (((lo * vp) & mask) * three) >> 8;
        hi = (((hi * vp) & mask) * three) >> 8;
        return Vector128.Narrow(lo, hi);
    }
}
