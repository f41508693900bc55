using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// The AVX2 matrix product of the 32-element block types whose quants are unsigned with a fixed offset
/// (Q4_0: nibbles − 8, Q5_0: 5-bit quants − 16) against Q8_0 activations. A block's integer dot is
/// <c>Σ q·y − offset·Σy</c>: one <c>vpmaddubsw</c>/<c>vpmaddwd</c> pair (or one <c>vpdpbusd</c> with
/// AVX-VNNI) per token, exact because q ≥ 0, with <c>offset·Σy</c> computed once per activation block.
/// Each output's float sum runs over the blocks in order with the type's float steps
/// (<see cref="IOffsetBlocks.Term"/>), so every output equals the type's <c>Dot</c>
/// (<c>ggml_vec_dot_q4_0_q8_0_generic</c>, <c>ggml_vec_dot_q5_0_q8_0_generic</c>).
/// </summary>
/// <remarks>
/// From two tokens on, whole groups of eight rows go to <see cref="PanelMatMul"/> (repacked panels);
/// the rows left over take this schedule: tiles of two weight rows × four tokens (each weight block unpacked once for four tokens);
/// the tokens outside the tiles (every token when decoding) take four rows per pass, lane k of the
/// float sum holding row r + k, with a prefetch of the same block of the next four rows.
/// </remarks>
internal static unsafe class OffsetQuantMatMul
{
    /// <summary>A block type of this family: layout, unpacking and the reference's float steps.</summary>
    public interface IOffsetBlocks : PanelMatMul.IPanelBlocks
    {
        /// <summary>
        /// One block's contribution to the float sum, in the reference's association:
        /// <c>(sumi·dx)·dy</c> (Q4_0) or <c>(dx·dy)·sumi</c> (Q5_0), lane by lane.
        /// </summary>
        static abstract Vector128<float> Term(Vector128<float> sumi, Vector128<float> dx, Vector128<float> dy);

        /// <summary>The type's AVX2 single dot (rows or tokens outside the tiles and passes).</summary>
        static abstract float DotAvx2(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb);
    }

    private const int Q8Bytes = 34;

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c> of weights of type <typeparamref name="T"/> (<paramref name="nb"/>
    /// blocks per row) times <paramref name="tokens"/> Q8_0 activation rows: <c>output[t·outputStride + r]</c>.
    /// Operands already checked (<see cref="TensorTypeChecks.MatMulBlocks"/>); needs AVX2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulAvx2<T>(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IOffsetBlocks
    {
        int panelRows = PanelMatMul.MatMulLeadingPanels<T>(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);
        rowStart += panelRows;
        rowCount -= panelRows;
        if (rowCount == 0)
            return;
        const int MaxBlocks = 2048;
        int actBytes = nb * Q8Bytes;
        if (tokens * nb > MaxBlocks && tokens > 4)
        {
            // Keep the per-block tables on the stack: split the tokens into groups of four.
            int group = Math.Max(4, MaxBlocks / nb / 4 * 4);
            for (int t0 = 0; t0 < tokens; t0 += group)
            {
                int n = Math.Min(group, tokens - t0);
                MatMulAvx2<T>(weights, rowStart, rowCount, nb, activations.Slice(t0 * actBytes, n * actBytes), n, output[(t0 * outputStride)..], outputStride);
            }
            return;
        }
        ref byte w = ref MemoryMarshal.GetReference(weights);
        ref BlockQ8_0 a = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        int blockBytes = T.BlockBytes, rowBytes = nb * blockBytes, tiled = tokens & ~3;
        // Per block ib of each group of four tokens: dy[4] and offset·Σy[4], side by side.
        Span<float> dy = stackalloc float[tiled == 0 ? 4 : tiled * nb];
        Span<int> ySums = stackalloc int[tiled == 0 ? 4 : tiled * nb];
        for (int t = 0; t < tiled; t++)
            for (int ib = 0; ib < nb; ib++)
            {
                ref BlockQ8_0 yb = ref Unsafe.Add(ref a, t * nb + ib);
                int k = (t >> 2) * nb * 4 + ib * 4 + (t & 3);
                dy[k] = HalfConversions.Fp16ToFp32(yb.D);
                ySums[k] = T.Offset * SumOfQuants(ref yb);
            }
        ref float dy0 = ref MemoryMarshal.GetReference(dy);
        ref int ys0 = ref MemoryMarshal.GetReference(ySums);

        int r = rowStart, end = rowStart + rowCount;
        for (; r + 2 <= end; r += 2)
        {
            ref byte x0 = ref Unsafe.Add(ref w, r * rowBytes), x1 = ref Unsafe.Add(ref x0, rowBytes);
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
                    ref byte xb0 = ref Unsafe.Add(ref x0, ib * blockBytes), xb1 = ref Unsafe.Add(ref x1, ib * blockBytes);
                    Vector256<byte> q0 = T.Quants(ref xb0), q1 = T.Quants(ref xb1);
                    Vector128<float> s0 = Vector128.ConvertToSingle(BlockDot.Sum4(Unsigned(q0, a0), Unsigned(q0, a1), Unsigned(q0, a2), Unsigned(q0, a3)) - offset);
                    Vector128<float> s1 = Vector128.ConvertToSingle(BlockDot.Sum4(Unsigned(q1, a0), Unsigned(q1, a1), Unsigned(q1, a2), Unsigned(q1, a3)) - offset);
                    sum0 += T.Term(s0, Vector128.Create(Scale(ref xb0)), d);
                    sum1 += T.Term(s1, Vector128.Create(Scale(ref xb1)), d);
                }
                BlockDot.StoreTokens4(sum0, output, t, outputStride, r);
                BlockDot.StoreTokens4(sum1, output, t, outputStride, r + 1);
            }
        }
        for (; r < end; r++)
            for (int t = 0; t < tiled; t++)
                output[t * outputStride + r] = T.DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * actBytes, actBytes), nb);

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
                yOffsets[ib] = T.Offset * SumOfQuants(ref yb);
                yScales[ib] = HalfConversions.Fp16ToFp32(yb.D);
            }
            for (r = rowStart; r + 4 <= end; r += 4)
            {
                ref byte x0 = ref Unsafe.Add(ref w, r * rowBytes), x1 = ref Unsafe.Add(ref x0, rowBytes), x2 = ref Unsafe.Add(ref x1, rowBytes), x3 = ref Unsafe.Add(ref x2, rowBytes);
                Vector128<float> sumf = Vector128<float>.Zero;
                for (int ib = 0; ib < nb; ib++)
                {
                    Vector256<sbyte> ay = Vector256.LoadUnsafe(ref Unsafe.Add(ref y, ib).Qs[0]);
                    int at = ib * blockBytes;
                    ref byte xb0 = ref Unsafe.Add(ref x0, at), xb1 = ref Unsafe.Add(ref x1, at), xb2 = ref Unsafe.Add(ref x2, at), xb3 = ref Unsafe.Add(ref x3, at);
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
                        Unsigned(T.Quants(ref xb0), ay), Unsigned(T.Quants(ref xb1), ay),
                        Unsigned(T.Quants(ref xb2), ay), Unsigned(T.Quants(ref xb3), ay)) - Vector128.Create(yOffsets[ib]);
                    Vector128<float> dx = HalfConversions.Fp16ToFp32(Vector128.Create(
                        (uint)Unsafe.ReadUnaligned<ushort>(ref xb0), Unsafe.ReadUnaligned<ushort>(ref xb1),
                        Unsafe.ReadUnaligned<ushort>(ref xb2), Unsafe.ReadUnaligned<ushort>(ref xb3)));
                    sumf += T.Term(Vector128.ConvertToSingle(sumi), dx, Vector128.Create(yScales[ib]));
                }
                sumf.StoreUnsafe(ref output[t * outputStride + r]);
            }
            for (; r < end; r++)
                output[t * outputStride + r] = T.DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * actBytes, actBytes), nb);
        }
        if (nb > 1024) // rows longer than 32768: one dot per output
            for (int t = tiled; t < tokens; t++)
                for (r = rowStart; r < end; r++)
                    output[t * outputStride + r] = T.DotAvx2(weights.Slice(r * rowBytes, rowBytes), activations.Slice(t * actBytes, actBytes), nb);
    }

    /// <summary>Σy of an activation block (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SumOfQuants(ref BlockQ8_0 yb) =>
        Vector256.Sum(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Vector256<byte>.One, Vector256.LoadUnsafe(ref yb.Qs[0])), Vector256<short>.One));

    /// <summary>The weight block's float16 scale as float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scale(ref byte block) => HalfConversions.Fp16ToFp32(BitConverter.UInt16BitsToHalf(Unsafe.ReadUnaligned<ushort>(ref block)));

    /// <summary>Sums of q·y for unsigned q: vpmaddubsw then vpmaddwd with ones, or one vpdpbusd with AVX-VNNI.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Unsigned(Vector256<byte> q, Vector256<sbyte> y) => AvxVnni.IsSupported
        ? AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, q, y)
        : Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(q, y), Vector256<short>.One);
}
