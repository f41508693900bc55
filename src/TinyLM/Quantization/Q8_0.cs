using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q8_0 block (ggml's <c>block_q8_0</c>, ggml/src/ggml-common.h): 32 values as int8 with one
/// float16 scale; 34 bytes, 8.5 bits per weight. Value j is <c>D · Qs[j]</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>, delta).</summary>
    public Half D;

    /// <summary>Quants (ggml: <c>int8_t qs[QK8_0]</c>).</summary>
    public fixed sbyte Qs[32];
}

/// <summary>
/// Q8_0: symmetric 8-bit blocks of 32 (<see cref="BlockQ8_0"/>). Weights type and the activation
/// type of Q4_0, Q5_0 and Q8_0 dots, so <see cref="Quantize"/> runs for every matmul.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q8_0_ref</c> and <c>dequantize_row_q8_0</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_q8_0_q8_0_generic</c> (ggml/src/ggml-cpu/quants.c). llama.cpp's own AVX2
/// <c>quantize_row_q8_0</c> rounds half to even; TinyLM's SIMD <see cref="Quantize"/> rounds half away
/// from zero like the reference, so both produce the reference's bytes.
/// </remarks>
public sealed unsafe class Q8_0 : TensorType
{
    private const int QK = 32;
    private const int Bytes = 34;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q8_0;
    /// <inheritdoc/>
    public override string Name => "q8_0";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_0;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q8_0</c>: <c>y[j] = qs[j] · d</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ8_0> x = MemoryMarshal.Cast<byte, BlockQ8_0>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ8_0 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            for (int j = 0; j < QK; ++j)
                destination[i * QK + j] = b.Qs[j] * d;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q8_0_ref</c>: <c>d = amax / 127</c>, <c>qs[j] = roundf(x[j] / d)</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(destination);
        for (int i = 0; i < nb; i++)
            QuantizeBlockReference(source.Slice(i * QK, QK), ref y[i]);
    }

    private static void QuantizeBlockReference(ReadOnlySpan<float> x, ref BlockQ8_0 y)
    {
        float amax = 0.0f; // absolute max
        for (int j = 0; j < QK; j++)
        {
            float v = x[j];
            float a = MathF.Abs(v);
            amax = amax > a ? amax : a; // MAX(amax, fabsf(v))
        }

        float d = amax / ((1 << 7) - 1);
        float id = d != 0 ? 1.0f / d : 0.0f;

        y.D = HalfConversions.Fp32ToHalf(d);

        for (int j = 0; j < QK; ++j)
        {
            float x0 = x[j] * id;
            y.Qs[j] = (sbyte)CConversions.TruncateToInt32(CConversions.RoundF(x0));
        }
    }

    /// <inheritdoc/>
    /// <remarks>Vector256 or Vector128 per block; a block holding NaN, infinity or a scale whose
    /// inverse overflows takes the scalar reference, so the bytes always equal
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
        Span<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> xb = source.Slice(i * QK, QK);
            ref BlockQ8_0 yb = ref y[i];
            if (!QuantVectors.TryScale256(xb, out float d, out float id, out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3))
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            yb.D = HalfConversions.Fp32ToHalf(d);
            QuantVectors.RoundToInt8x32(v0, v1, v2, v3, id, out _).StoreUnsafe(ref yb.Qs[0]);
        }
    }

    /// <summary>Vector128 form of <see cref="Quantize"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void QuantizeVector128(ReadOnlySpan<float> source, Span<byte> destination, int nb)
    {
        Span<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> xb = source.Slice(i * QK, QK);
            ref BlockQ8_0 yb = ref y[i];
            if (!QuantVectors.TryScale128(xb, out float d, out float id))
            {
                QuantizeBlockReference(xb, ref yb);
                continue;
            }
            yb.D = HalfConversions.Fp32ToHalf(d);
            QuantVectors.RoundToInt8x16(xb.Slice(0, 16), id, out _).StoreUnsafe(ref yb.Qs[0]);
            QuantVectors.RoundToInt8x16(xb.Slice(16, 16), id, out _).StoreUnsafe(ref yb.Qs[16]);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q8_0_q8_0_generic</c>: per block
    /// <c>sumf += sumi · (dx · dy)</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Bytes);
        ReadOnlySpan<BlockQ8_0> x = MemoryMarshal.Cast<byte, BlockQ8_0>(weights);
        ReadOnlySpan<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockQ8_0 xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_0 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            int sumi = 0;
            for (int j = 0; j < QK; j++)
                sumi += xb.Qs[j] * yb.Qs[j];
            sumf += sumi * (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D));
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
        ref BlockQ8_0 x = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockQ8_0 x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
            ref BlockQ8_0 y0 = ref Unsafe.Add(ref y, ib), y1 = ref Unsafe.Add(ref y, ib + 1), y2 = ref Unsafe.Add(ref y, ib + 2), y3 = ref Unsafe.Add(ref y, ib + 3);
            Vector128<float> sumi = Vector128.ConvertToSingle(BlockDot.Sum4(
                BlockSum256(ref x0, ref y0), BlockSum256(ref x1, ref y1), BlockSum256(ref x2, ref y2), BlockSum256(ref x3, ref y3)));
            Vector256<float> d = BlockDot.Scales8(Bits(x0.D), Bits(x1.D), Bits(x2.D), Bits(x3.D), Bits(y0.D), Bits(y1.D), Bits(y2.D), Bits(y3.D));
            Vector128<float> t = sumi * (d.GetLower() * d.GetUpper());
            sumf += t.GetElement(0);
            sumf += t.GetElement(1);
            sumf += t.GetElement(2);
            sumf += t.GetElement(3);
        }
        for (; ib < nb; ib++)
        {
            ref BlockQ8_0 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            int sumi = Vector256.Sum(BlockSum256(ref xb, ref yb));
            sumf += sumi * (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D));
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ8_0 x = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockQ8_0 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            Vector128<int> p =
                BlockDot.MultiplyAdd128(Vector128.LoadUnsafe(ref xb.Qs[0]), Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128(Vector128.LoadUnsafe(ref xb.Qs[16]), Vector128.LoadUnsafe(ref yb.Qs[16]));
            int sumi = Vector128.Sum(p);
            sumf += sumi * (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D));
        }
        return sumf;
    }

    /// <inheritdoc/>
    /// <remarks>From two tokens on, with AVX-VNNI, whole groups of eight rows run on repacked panels
    /// (<see cref="PanelMatMul"/>, quants + 128 against the activations with <c>vpdpbusd</c>). Otherwise,
    /// with AVX2, each weight block is widened once for four activation rows, whose four
    /// float sums run in one Vector128 (lane k adds token k's terms in block order, exactly as
    /// <see cref="DotReference"/>); leftover tokens use <see cref="Dot"/>. Every output equals
    /// <see cref="Dot"/> of its row pair.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A count or index is negative, <paramref name="cols"/>
    /// is not a multiple of 32, or <paramref name="outputStride"/> is below <c>rowStart + rowCount</c>.</exception>
    /// <exception cref="ArgumentException">The weights, activations or output are too short.</exception>
    public override void MatMul(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        int nb = TensorTypeChecks.MatMulBlocks(this, weights.Length, rowStart, rowCount, cols, activations.Length, tokens, output.Length, outputStride, Bytes);
        if (Avx2.IsSupported)
            MatMulAvx2(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);
        else
            base.MatMul(weights, rowStart, rowCount, cols, activations, tokens, output, outputStride);
    }

    /// <summary>AVX2 form of <see cref="MatMul"/> over checked operands with <paramref name="nb"/> blocks per row.</summary>
    /// <remarks>
    /// Tiles of two weight rows × four tokens: each activation block is loaded once per tile, the
    /// activation scales are converted from FP16 once per call, and the integer block sums use the
    /// sign trick of llama.cpp's AVX2 kernels (<c>|x|</c> unsigned times <c>sign(x)·y</c> with
    /// <c>vpmaddubsw</c>), exact because activations from <see cref="Quantize"/> lie in [−127, 127]
    /// (pairs stay within ±2·128·127). Each output's float sum still runs over blocks in order, so
    /// results equal <see cref="Dot"/>.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MatMulAvx2(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride)
    {
        int panelRows = PanelMatMul.MatMulLeadingPanels<PanelBlocks>(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);
        rowStart += panelRows;
        rowCount -= panelRows;
        if (rowCount == 0)
            return;
        const int MaxScales = 4096;
        if (tokens * nb > MaxScales && tokens > 4)
        {
            // Keep the scale table on the stack: split the tokens into groups of four.
            int group = Math.Max(4, MaxScales / nb / 4 * 4);
            for (int t0 = 0; t0 < tokens; t0 += group)
            {
                int n = Math.Min(group, tokens - t0);
                MatMulAvx2(weights, rowStart, rowCount, nb, activations.Slice(t0 * nb * Bytes, n * nb * Bytes), n,
                    output[(t0 * outputStride)..], outputStride);
            }
            return;
        }
        ref BlockQ8_0 w = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 a = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        int rowBytes = nb * Bytes, tiled = tokens & ~3;
        // dy[ib, t], four tokens' scales side by side for each block.
        Span<float> dy = stackalloc float[tiled == 0 ? 4 : tiled * nb];
        for (int t = 0; t < tiled; t++)
            for (int ib = 0; ib < nb; ib++)
                dy[(t >> 2) * nb * 4 + ib * 4 + (t & 3)] = HalfConversions.Fp16ToFp32(Unsafe.Add(ref a, t * nb + ib).D);
        ref float dy0 = ref MemoryMarshal.GetReference(dy);

        int r = rowStart, end = rowStart + rowCount;
        for (; r + 2 <= end; r += 2)
        {
            ref BlockQ8_0 x0 = ref Unsafe.Add(ref w, r * nb), x1 = ref Unsafe.Add(ref x0, nb);
            for (int t = 0; t < tiled; t += 4)
            {
                ref BlockQ8_0 y0 = ref Unsafe.Add(ref a, t * nb), y1 = ref Unsafe.Add(ref y0, nb), y2 = ref Unsafe.Add(ref y1, nb), y3 = ref Unsafe.Add(ref y2, nb);
                ref float d4 = ref Unsafe.Add(ref dy0, t * nb);
                Vector128<float> sum0 = Vector128<float>.Zero, sum1 = Vector128<float>.Zero;
                for (int ib = 0; ib < nb; ib++)
                {
                    Vector256<sbyte> a0 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y0, ib).Qs[0]), a1 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y1, ib).Qs[0]);
                    Vector256<sbyte> a2 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y2, ib).Qs[0]), a3 = Vector256.LoadUnsafe(ref Unsafe.Add(ref y3, ib).Qs[0]);
                    Vector128<float> d = Vector128.LoadUnsafe(ref d4, (nuint)(ib * 4));
                    ref BlockQ8_0 xb0 = ref Unsafe.Add(ref x0, ib), xb1 = ref Unsafe.Add(ref x1, ib);
                    Vector256<sbyte> q0 = Vector256.LoadUnsafe(ref xb0.Qs[0]), q1 = Vector256.LoadUnsafe(ref xb1.Qs[0]);
                    Vector256<byte> u0 = Avx2.Abs(q0), u1 = Avx2.Abs(q1);
                    Vector128<float> s0 = Vector128.ConvertToSingle(BlockDot.Sum4(Signed(u0, q0, a0), Signed(u0, q0, a1), Signed(u0, q0, a2), Signed(u0, q0, a3)));
                    Vector128<float> s1 = Vector128.ConvertToSingle(BlockDot.Sum4(Signed(u1, q1, a0), Signed(u1, q1, a1), Signed(u1, q1, a2), Signed(u1, q1, a3)));
                    sum0 += s0 * (Vector128.Create(HalfConversions.Fp16ToFp32(xb0.D)) * d);
                    sum1 += s1 * (Vector128.Create(HalfConversions.Fp16ToFp32(xb1.D)) * d);
                }
                BlockDot.StoreTokens4(sum0, output, t, outputStride, r);
                BlockDot.StoreTokens4(sum1, output, t, outputStride, r + 1);
            }
        }
        for (; r < end; r++)
            for (int t = 0; t < tiled; t++)
                output[t * outputStride + r] = DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * nb * Bytes, nb * Bytes), nb);

        // Tokens outside the tiles (every token when decoding): four rows per pass, lane k of the
        // float sum holding row r + k, blocks in order.
        nint ahead = 4 * (nint)rowBytes;
        for (int t = tiled; t < tokens; t++)
        {
            ref BlockQ8_0 y = ref Unsafe.Add(ref a, t * nb);
            for (r = rowStart; r + 4 <= end; r += 4)
            {
                ref BlockQ8_0 x0 = ref Unsafe.Add(ref w, r * nb), x1 = ref Unsafe.Add(ref x0, nb), x2 = ref Unsafe.Add(ref x1, nb), x3 = ref Unsafe.Add(ref x2, nb);
                Vector128<float> sumf = Vector128<float>.Zero;
                for (int ib = 0; ib < nb; ib++)
                {
                    ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
                    Vector256<sbyte> ay = Vector256.LoadUnsafe(ref yb.Qs[0]);
                    ref BlockQ8_0 xb0 = ref Unsafe.Add(ref x0, ib), xb1 = ref Unsafe.Add(ref x1, ib), xb2 = ref Unsafe.Add(ref x2, ib), xb3 = ref Unsafe.Add(ref x3, ib);
                    Prefetch(ref xb0, ref xb1, ref xb2, ref xb3, ahead);
                    Vector256<sbyte> q0 = Vector256.LoadUnsafe(ref xb0.Qs[0]), q1 = Vector256.LoadUnsafe(ref xb1.Qs[0]);
                    Vector256<sbyte> q2 = Vector256.LoadUnsafe(ref xb2.Qs[0]), q3 = Vector256.LoadUnsafe(ref xb3.Qs[0]);
                    Vector128<int> sumi = BlockDot.Sum4(Signed(Avx2.Abs(q0), q0, ay), Signed(Avx2.Abs(q1), q1, ay), Signed(Avx2.Abs(q2), q2, ay), Signed(Avx2.Abs(q3), q3, ay));
                    Vector128<float> dx = HalfConversions.Fp16ToFp32(Vector128.Create((uint)Bits(xb0.D), Bits(xb1.D), Bits(xb2.D), Bits(xb3.D)));
                    sumf += Vector128.ConvertToSingle(sumi) * (dx * Vector128.Create(HalfConversions.Fp16ToFp32(yb.D)));
                }
                sumf.StoreUnsafe(ref output[t * outputStride + r]);
            }
            for (; r < end; r++)
                output[t * outputStride + r] = DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * nb * Bytes, nb * Bytes), nb);
        }

        // Sums of x·y as |x|·(sign(x)·y): vpsignb, then vpmaddubsw and vpmaddwd (or vpdpbusd).
        // With AVX-VNNI, vpdpbusd adds the four byte products straight into int32 (exact).
        static Vector256<int> Signed(Vector256<byte> ux, Vector256<sbyte> x, Vector256<sbyte> y) => AvxVnni.IsSupported
            ? AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, ux, Avx2.Sign(y, x))
            : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ux, Avx2.Sign(y, x)), Vector256<short>.One);

        // Streaming rows from memory: ask for the same block of the next group of four rows (raw
        // pointers: prefetching never faults, also past the end of the matrix).
        static void Prefetch(ref BlockQ8_0 x0, ref BlockQ8_0 x1, ref BlockQ8_0 x2, ref BlockQ8_0 x3, nint ahead)
        {
            if (!Sse.IsSupported)
                return;
            Sse.Prefetch0((byte*)Unsafe.AsPointer(ref x0) + ahead);
            Sse.Prefetch0((byte*)Unsafe.AsPointer(ref x1) + ahead);
            Sse.Prefetch0((byte*)Unsafe.AsPointer(ref x2) + ahead);
            Sse.Prefetch0((byte*)Unsafe.AsPointer(ref x3) + ahead);
        }

    }

    /// <summary>Q8_0 for <see cref="PanelMatMul"/>: quants + 128 (unsigned), float steps <c>sumi·(dx·dy)</c>.</summary>
    internal readonly struct PanelBlocks : PanelMatMul.IPanelBlocks
    {
        public static int BlockBytes => Bytes;

        public static int Offset => 128;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Quants(ref byte block) => Vector256.LoadUnsafe(ref Unsafe.Add(ref block, 2)) ^ Vector256.Create((byte)0x80);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Term(Vector256<float> sumi, Vector256<float> dx, Vector256<float> dy) => sumi * (dx * dy);

        public static int PayloadBytes => 256;

        public static void PackQuants(ref byte b0, int rowBytes, byte* payload) => PanelMatMul.PackUnsigned<PanelBlocks>(ref b0, rowBytes, payload);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelQuants(byte* payload, int k) => Vector256.Load(payload + 32 * k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ8_0 x, ref BlockQ8_0 y) =>
        BlockDot.MultiplyAddSigned256(Vector256.LoadUnsafe(ref x.Qs[0]), Vector256.LoadUnsafe(ref y.Qs[0]));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);
}
