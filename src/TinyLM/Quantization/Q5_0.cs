using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q5_0 block (ggml's <c>block_q5_0</c>, ggml/src/ggml-common.h): 32 weights as 5-bit values
/// with one float16 scale; 22 bytes, 5.5 bits per weight. Weight j is <c>D · (q_j − 16)</c>: the low
/// four bits of q_j are nibbles packed as in Q4_0 (byte j holds elements j and j + 16), the fifth bit
/// is bit j of the little-endian <see cref="Qh"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_0
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>, delta).</summary>
    public Half D;

    /// <summary>Fifth bits, one per element (ggml: <c>uint8_t qh[4]</c>).</summary>
    public fixed byte Qh[4];

    /// <summary>Nibbles (ggml: <c>uint8_t qs[QK5_0 / 2]</c>).</summary>
    public fixed byte Qs[16];
}

/// <summary>
/// Q5_0: symmetric 5-bit blocks of 32 (<see cref="BlockQ5_0"/>); dots take Q8_0 activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q5_0_ref</c> and <c>dequantize_row_q5_0</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_q5_0_q8_0_generic</c> (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q5_0 : TensorType
{
    private const int QK = 32;
    private const int Bytes = 22;
    private const int Q8Bytes = 34;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q5_0;
    /// <inheritdoc/>
    public override string Name => "q5_0";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_0;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q5_0</c>: <c>y[j] = (q_j − 16) · d</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ5_0> x = MemoryMarshal.Cast<byte, BlockQ5_0>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ5_0 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            uint qh = Unsafe.ReadUnaligned<uint>(ref b.Qh[0]);
            for (int j = 0; j < QK / 2; ++j)
            {
                byte xh0 = (byte)(((qh >> (j + 0)) << 4) & 0x10);
                byte xh1 = (byte)((qh >> (j + 12)) & 0x10);
                int x0 = ((b.Qs[j] & 0x0F) | xh0) - 16;
                int x1 = ((b.Qs[j] >> 4) | xh1) - 16;
                destination[i * QK + j + 0] = x0 * d;
                destination[i * QK + j + QK / 2] = x1 * d;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q5_0_ref</c>: <c>d = max / −16</c> where <c>max</c> is the
    /// value of largest magnitude (first one on ties), <c>q = MIN(31, (int8_t)(x / d + 16.5f))</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ5_0> y = MemoryMarshal.Cast<byte, BlockQ5_0>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            float amax = 0.0f; // absolute max
            float max = 0.0f;

            for (int j = 0; j < QK; j++)
            {
                float v = x[j];
                if (amax < MathF.Abs(v))
                {
                    amax = MathF.Abs(v);
                    max = v;
                }
            }

            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;

            y[i].D = HalfConversions.Fp32ToHalf(d);

            uint qh = 0;

            for (int j = 0; j < QK / 2; ++j)
            {
                float x0 = x[0 + j] * id;
                float x1 = x[QK / 2 + j] * id;

                byte xi0 = (byte)Math.Min(31, (int)(sbyte)CConversions.TruncateToInt32(x0 + 16.5f));
                byte xi1 = (byte)Math.Min(31, (int)(sbyte)CConversions.TruncateToInt32(x1 + 16.5f));

                y[i].Qs[j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));

                // the fifth bit of each quant goes to qh, at the element's position
                qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
                qh |= ((xi1 & 0x10u) >> 4) << (j + QK / 2);
            }

            Unsafe.WriteUnaligned(ref y[i].Qh[0], qh);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q5_0_q8_0_generic</c>: per block
    /// <c>sumf += (dx · dy) · sumi</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ5_0> x = MemoryMarshal.Cast<byte, BlockQ5_0>(weights);
        ReadOnlySpan<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockQ5_0 xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_0 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            uint qh = Unsafe.ReadUnaligned<uint>(ref xb.Qh[0]);
            int sumi0 = 0;
            int sumi1 = 0;
            for (int j = 0; j < QK / 2; ++j)
            {
                byte xh0 = (byte)(((qh & (1u << (j + 0))) >> (j + 0)) << 4);
                byte xh1 = (byte)((qh & (1u << (j + 16))) >> (j + 12));
                int x0 = (sbyte)(((xb.Qs[j] & 0x0F) | xh0) - 16);
                int x1 = (sbyte)(((xb.Qs[j] >> 4) | xh1) - 16);
                sumi0 += x0 * yb.Qs[j];
                sumi1 += x1 * yb.Qs[j + QK / 2];
            }
            int sumi = sumi0 + sumi1;
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi;
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
        ref BlockQ5_0 x = ref Unsafe.As<byte, BlockQ5_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockQ5_0 x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
            ref BlockQ8_0 y0 = ref Unsafe.Add(ref y, ib), y1 = ref Unsafe.Add(ref y, ib + 1), y2 = ref Unsafe.Add(ref y, ib + 2), y3 = ref Unsafe.Add(ref y, ib + 3);
            Vector128<float> sumi = Vector128.ConvertToSingle(BlockDot.Sum4(
                BlockSum256(ref x0, ref y0), BlockSum256(ref x1, ref y1), BlockSum256(ref x2, ref y2), BlockSum256(ref x3, ref y3)));
            Vector256<float> d = BlockDot.Scales8(Bits(x0.D), Bits(x1.D), Bits(x2.D), Bits(x3.D), Bits(y0.D), Bits(y1.D), Bits(y2.D), Bits(y3.D));
            Vector128<float> t = (d.GetLower() * d.GetUpper()) * sumi;
            sumf += t.GetElement(0);
            sumf += t.GetElement(1);
            sumf += t.GetElement(2);
            sumf += t.GetElement(3);
        }
        for (; ib < nb; ib++)
        {
            ref BlockQ5_0 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            int sumi = Vector256.Sum(BlockSum256(ref xb, ref yb));
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi;
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ5_0 x = ref Unsafe.As<byte, BlockQ5_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        Vector128<sbyte> sixteen = Vector128.Create((sbyte)16);
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockQ5_0 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            BlockDot.Nibbles128(ref xb.Qs[0], out Vector128<byte> lo, out Vector128<byte> hi);
            BlockDot.HighBits128(Unsafe.ReadUnaligned<uint>(ref xb.Qh[0]), out Vector128<byte> hlo, out Vector128<byte> hhi);
            Vector128<int> p =
                BlockDot.MultiplyAdd128((lo | hlo).AsSByte() - sixteen, Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128((hi | hhi).AsSByte() - sixteen, Vector128.LoadUnsafe(ref yb.Qs[16]));
            int sumi = Vector128.Sum(p);
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi;
        }
        return sumf;
    }

    /// <inheritdoc/>
    /// <remarks>With AVX2 <see cref="MatMulAvx2"/>, else one <see cref="Dot"/> per output. Every output
    /// equals <see cref="Dot"/> of its row pair.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count or index is negative, <paramref name="cols"/>
    /// is not a multiple of 32, or <paramref name="outputStride"/> is below <c>rowStart + rowCount</c>.</exception>
    /// <exception cref="ArgumentException">The weights, activations or output are too short.</exception>
    public override void MatMul(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        int nb = TensorTypeChecks.MatMulBlocks(this, weights.Length, rowStart, rowCount, cols, activations.Length, tokens, output.Length, outputStride, Q8Bytes);
        if (Avx2.IsSupported)
            MatMulAvx2(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);
        else
            base.MatMul(weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
    }

    /// <summary>AVX2 form of <see cref="MatMul"/> over checked operands with <paramref name="nb"/> blocks per row.</summary>
    /// <remarks>
    /// The structure of <see cref="Q4_0.MatMulAvx2"/>: tiles of two weight rows × four tokens, and four
    /// rows per pass (with prefetch of the next four) for the tokens outside the tiles. Per call, each
    /// activation block's FP16 scale is converted and its quant sum <c>Σy</c> computed once, so a
    /// block's integer dot is <c>Σ q·y − 16·Σy</c> with one <c>vpmaddubsw</c>/<c>vpmaddwd</c> pair (or
    /// one <c>vpdpbusd</c>) per token, exact because the 5-bit quants q are 0..31. Each output's float
    /// sum runs over blocks in order as <c>sumf += (dx·dy)·sumi</c>
    /// (<c>ggml_vec_dot_q5_0_q8_0_generic</c>), so results equal <see cref="Dot"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MatMulAvx2(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        const int MaxBlocks = 2048;
        int actBytes = nb * Q8Bytes;
        if (tokens * nb > MaxBlocks && tokens > 4)
        {
            // Keep the per-block tables on the stack: split the tokens into groups of four.
            int group = Math.Max(4, MaxBlocks / nb / 4 * 4);
            for (int t0 = 0; t0 < tokens; t0 += group)
            {
                int n = Math.Min(group, tokens - t0);
                MatMulAvx2(weights, rowStart, rowCount, nb, activations.Slice(t0 * actBytes, n * actBytes), n, output[(t0 * outputStride)..], outputStride);
            }
            return;
        }
        ref BlockQ5_0 w = ref Unsafe.As<byte, BlockQ5_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 a = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        int rowBytes = nb * Bytes, tiled = tokens & ~3;
        // Per block ib of each group of four tokens: dy[4] and 16·Σy[4], side by side.
        Span<float> dy = stackalloc float[tiled == 0 ? 4 : tiled * nb];
        Span<int> ySum16 = stackalloc int[tiled == 0 ? 4 : tiled * nb];
        for (int t = 0; t < tiled; t++)
            for (int ib = 0; ib < nb; ib++)
            {
                ref BlockQ8_0 yb = ref Unsafe.Add(ref a, t * nb + ib);
                int k = (t >> 2) * nb * 4 + ib * 4 + (t & 3);
                dy[k] = HalfConversions.Fp16ToFp32(yb.D);
                ySum16[k] = 16 * Vector256.Sum(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256<byte>.One, Vector256.LoadUnsafe(ref yb.Qs[0])), Vector256<short>.One));
            }
        ref float dy0 = ref MemoryMarshal.GetReference(dy);
        ref int ys0 = ref MemoryMarshal.GetReference(ySum16);

        int r = rowStart, end = rowStart + rowCount;
        for (; r + 2 <= end; r += 2)
        {
            ref BlockQ5_0 x0 = ref Unsafe.Add(ref w, r * nb), x1 = ref Unsafe.Add(ref x0, nb);
            for (int t = 0; t < tiled; t += 4)
            {
                ref BlockQ8_0 y0 = ref Unsafe.Add(ref a, t * nb), y1 = ref Unsafe.Add(ref y0, nb), y2 = ref Unsafe.Add(ref y1, nb), y3 = ref Unsafe.Add(ref y2, nb);
                ref float d4 = ref Unsafe.Add(ref dy0, t * nb);
                ref int s4 = ref Unsafe.Add(ref ys0, t * nb);
                Vector128<float> sum0 = Vector128<float>.Zero, sum1 = Vector128<float>.Zero;
                for (int ib = 0; ib < nb; ib++)
                {
                    Vector256<sbyte> a0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y0, ib).Qs[0]), a1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y1, ib).Qs[0]);
                    Vector256<sbyte> a2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y2, ib).Qs[0]), a3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y3, ib).Qs[0]);
                    Vector128<float> d = Vector128.LoadUnsafe(ref d4, (nuint)(ib * 4));
                    Vector128<int> offset = Vector128.LoadUnsafe(ref s4, (nuint)(ib * 4));
                    ref BlockQ5_0 xb0 = ref Unsafe.Add(ref x0, ib), xb1 = ref Unsafe.Add(ref x1, ib);
                    Vector256<byte> q0 = Quants(ref xb0), q1 = Quants(ref xb1);
                    Vector128<float> s0 = Vector128.ConvertToSingle(BlockDot.Sum4(Unsigned(q0, a0), Unsigned(q0, a1), Unsigned(q0, a2), Unsigned(q0, a3)) - offset);
                    Vector128<float> s1 = Vector128.ConvertToSingle(BlockDot.Sum4(Unsigned(q1, a0), Unsigned(q1, a1), Unsigned(q1, a2), Unsigned(q1, a3)) - offset);
                    sum0 += (Vector128.Create(HalfConversions.Fp16ToFp32(xb0.D)) * d) * s0;
                    sum1 += (Vector128.Create(HalfConversions.Fp16ToFp32(xb1.D)) * d) * s1;
                }
                BlockDot.StoreTokens4(sum0, output, t, outputStride, r);
                BlockDot.StoreTokens4(sum1, output, t, outputStride, r + 1);
            }
        }
        for (; r < end; r++)
            for (int t = 0; t < tiled; t++)
                output[t * outputStride + r] = DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * actBytes, actBytes), nb);

        // Tokens outside the tiles (every token when decoding): four rows per pass, lane k of the
        // float sum holding row r + k, blocks in order.
        nint ahead = 4 * (nint)rowBytes;
        Span<int> yOffsets = stackalloc int[Math.Min(nb, 1024)];
        Span<float> yScales = stackalloc float[Math.Min(nb, 1024)];
        for (int t = tiled; t < tokens && nb <= 1024; t++)
        {
            ref BlockQ8_0 y = ref Unsafe.Add(ref a, t * nb);
            for (int ib = 0; ib < nb; ib++)
            {
                ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
                yOffsets[ib] = 16 * Vector256.Sum(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256<byte>.One, Vector256.LoadUnsafe(ref yb.Qs[0])), Vector256<short>.One));
                yScales[ib] = HalfConversions.Fp16ToFp32(yb.D);
            }
            for (r = rowStart; r + 4 <= end; r += 4)
            {
                ref BlockQ5_0 x0 = ref Unsafe.Add(ref w, r * nb), x1 = ref Unsafe.Add(ref x0, nb), x2 = ref Unsafe.Add(ref x1, nb), x3 = ref Unsafe.Add(ref x2, nb);
                Vector128<float> sumf = Vector128<float>.Zero;
                for (int ib = 0; ib < nb; ib++)
                {
                    Vector256<sbyte> ay = Vector256.LoadUnsafe(ref Unsafe.Add(ref y, ib).Qs[0]);
                    ref BlockQ5_0 xb0 = ref Unsafe.Add(ref x0, ib), xb1 = ref Unsafe.Add(ref x1, ib), xb2 = ref Unsafe.Add(ref x2, ib), xb3 = ref Unsafe.Add(ref x3, ib);
                    if (Sse.IsSupported)
                    {
                        // Streaming rows from memory: ask for the same block of the next group of four rows
                        // (raw pointers: prefetching never faults, also past the end of the matrix).
                        Sse.Prefetch0((byte*)Unsafe.AsPointer(ref xb0) + ahead);
                        Sse.Prefetch0((byte*)Unsafe.AsPointer(ref xb1) + ahead);
                        Sse.Prefetch0((byte*)Unsafe.AsPointer(ref xb2) + ahead);
                        Sse.Prefetch0((byte*)Unsafe.AsPointer(ref xb3) + ahead);
                    }
                    Vector128<int> sumi = BlockDot.Sum4(
                        Unsigned(Quants(ref xb0), ay), Unsigned(Quants(ref xb1), ay),
                        Unsigned(Quants(ref xb2), ay), Unsigned(Quants(ref xb3), ay)) - Vector128.Create(yOffsets[ib]);
                    Vector128<float> dx = HalfConversions.Fp16ToFp32(Vector128.Create((uint)Bits(xb0.D), Bits(xb1.D), Bits(xb2.D), Bits(xb3.D)));
                    sumf += (dx * Vector128.Create(yScales[ib])) * Vector128.ConvertToSingle(sumi);
                }
                sumf.StoreUnsafe(ref output[t * outputStride + r]);
            }
            for (; r < end; r++)
                output[t * outputStride + r] = DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * actBytes, actBytes), nb);
        }
        if (nb > 1024) // rows longer than 32768: one dot per output
            for (int t = tiled; t < tokens; t++)
                for (r = rowStart; r < end; r++)
                    output[t * outputStride + r] = DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * actBytes, actBytes), nb);

        // The 32 5-bit quants of a block, element order.
        static Vector256<byte> Quants(ref BlockQ5_0 x) =>
            BlockDot.Nibbles256(ref x.Qs[0]) | BlockDot.HighBits256(Unsafe.ReadUnaligned<uint>(ref x.Qh[0]));

        // Sums of q·y for 5-bit q: vpmaddubsw then vpmaddwd with ones, or one vpdpbusd with AVX-VNNI.
        static Vector256<int> Unsigned(Vector256<byte> q, Vector256<sbyte> y) => AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, q, y)
            : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, y), Vector256<short>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ5_0 x, ref BlockQ8_0 y) =>
        BlockDot.MultiplyAddUnsigned256(
            BlockDot.Nibbles256(ref x.Qs[0]) | BlockDot.HighBits256(Unsafe.ReadUnaligned<uint>(ref x.Qh[0])),
            Vector256.LoadUnsafe(ref y.Qs[0]), 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);
}
