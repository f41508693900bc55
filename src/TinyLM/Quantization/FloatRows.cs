using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// Matrix products for the float types (F32, F16, BF16), whose dot is ggml's portable
/// <c>ggml_vec_dot_f32/f16/bf16</c>: float products added to a double sum in index order. That sum
/// cannot be split within one dot, so the fast form works across rows instead: eight weight rows
/// per pass, each in its own lane of two <c>Vector256&lt;double&gt;</c> accumulators (one
/// <c>Vector512&lt;double&gt;</c> with AVX-512), fed one column at a time from an 8×8 transpose of eight
/// loaded row segments. A batch (prefill) takes eight tokens per pass with AVX-512 (four without), so
/// each converted and transposed column block serves them all and their independent accumulator chains
/// hide the latency of the double adds. Every lane adds exactly the reference's terms in the reference's order, so results
/// equal <see cref="TensorType.Dot"/>.
/// </summary>
internal static class FloatRows
{
    /// <summary>How one float type's elements load as floats.</summary>
    public interface IElements
    {
        /// <summary>Bytes per element.</summary>
        static abstract int ElementBytes { get; }

        /// <summary>Eight consecutive elements at <paramref name="p"/>, converted exactly to float.</summary>
        static abstract Vector256<float> Load8(ref byte p);

        /// <summary>The element at <paramref name="p"/>, converted exactly to float.</summary>
        static abstract float Load1(ref byte p);
    }

    /// <summary>F32 elements.</summary>
    public readonly struct F32Elements : IElements
    {
        public static int ElementBytes => 4;
        public static Vector256<float> Load8(ref byte p) => Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref p));
        public static float Load1(ref byte p) => Unsafe.As<byte, float>(ref p);
    }

    /// <summary>F16 (IEEE binary16) elements.</summary>
    public readonly struct F16Elements : IElements
    {
        public static int ElementBytes => 2;
        public static Vector256<float> Load8(ref byte p) =>
            HalfConversions.Fp16ToFp32(Vector256.WidenLower(Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref p)).ToVector256Unsafe()));
        public static float Load1(ref byte p) => HalfConversions.Fp16ToFp32(Unsafe.As<byte, ushort>(ref p));
    }

    /// <summary>BF16 (bfloat16) elements.</summary>
    public readonly struct BF16Elements : IElements
    {
        public static int ElementBytes => 2;
        public static Vector256<float> Load8(ref byte p) =>
            HalfConversions.Bf16ToFp32(Vector256.WidenLower(Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref p)).ToVector256Unsafe()));
        public static float Load1(ref byte p) => HalfConversions.Bf16ToFp32(Unsafe.As<byte, ushort>(ref p));
    }

    /// <summary>
    /// Rows <c>[rowStart, rowStart + rowCount)</c> of <c>weights × activations</c> over checked
    /// operands (<paramref name="cols"/> elements per row, activations of the same element type):
    /// groups of eight rows with AVX; the remaining rows with <paramref name="type"/>'s
    /// <see cref="TensorType.Dot"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMulAvx<T>(TensorType type, ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IElements =>
        MatMulAvx<T>(type, weights, rowStart, rowCount, cols, activations, tokens, output, outputStride, Avx512F.IsSupported);

    /// <summary><see cref="MatMulAvx{T}(TensorType, ReadOnlySpan{byte}, int, int, int, ReadOnlySpan{byte}, int, Span{float}, int)"/>, with the AVX-512 sums only when <paramref name="avx512"/> (tests run both forms).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MatMulAvx<T>(TensorType type, ReadOnlySpan<byte> weights, int rowStart, int rowCount, int cols,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride, bool avx512) where T : IElements
    {
        avx512 &= Avx512F.IsSupported;
        int rowBytes = cols * T.ElementBytes;
        ref byte w = ref MemoryMarshal.GetReference(weights);
        ref byte a = ref MemoryMarshal.GetReference(activations);
        int r = rowStart, end = rowStart + rowCount;
        for (; r + 8 <= end; r += 8)
        {
            ref byte w0 = ref Unsafe.Add(ref w, r * rowBytes);
            // prefill: eight (AVX-512) or four tokens per pass over the eight rows, so each loaded, converted
            // and transposed column block serves them all and their accumulator chains run side by side
            int t = 0;
            if (avx512)
                for (; t + 8 <= tokens; t += 8)
                    EightTokens512<T>(ref w0, rowBytes, cols, ref Unsafe.Add(ref a, t * rowBytes), rowBytes, output, t * outputStride + r, outputStride);
            for (; t + TokenBatch <= tokens; t += TokenBatch)
                FourTokens<T>(ref w0, rowBytes, cols, ref Unsafe.Add(ref a, t * rowBytes), rowBytes, output, t * outputStride + r, outputStride);
            for (; t < tokens; t++)
                OneToken<T>(ref w0, rowBytes, cols, ref Unsafe.Add(ref a, t * rowBytes), output, t * outputStride + r, avx512);
        }
        for (; r < end; r++)
        {
            ReadOnlySpan<byte> row = weights.Slice(r * rowBytes, rowBytes);
            for (int t = 0; t < tokens; t++)
                output[t * outputStride + r] = type.Dot(row, activations.Slice(t * rowBytes, rowBytes), cols);
        }
    }

    /// <summary>Tokens that <see cref="FourTokens{T}"/> takes per pass.</summary>
    private const int TokenBatch = 4;

    /// <summary>
    /// Eight weight rows (<paramref name="w0"/>, <paramref name="rowBytes"/> apart) against four activation
    /// rows (<paramref name="y0"/>, <paramref name="yBytes"/> apart): each column block of the weights is
    /// loaded, converted and transposed once for the four tokens. Every output's lane adds the reference's
    /// terms in index order (<see cref="Accumulate"/>), so the results are the same bits. (With AVX-512,
    /// <see cref="EightTokens512{T}"/> takes the batches of eight; this one the rest of four.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourTokens<T>(ref byte w0, int rowBytes, int cols, ref byte y0, int yBytes, Span<float> output, int o0, int outputStride)
        where T : IElements
    {
        Vector256<double> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
        int full = cols & ~7;
        for (int i = 0; i < full; i += 8)
        {
            int o = i * T.ElementBytes;
            Columns<T>(ref Unsafe.Add(ref w0, o), rowBytes, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
                out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7);
            Accumulate8(ref l0, ref h0, T.Load8(ref Unsafe.Add(ref y0, o)), c0, c1, c2, c3, c4, c5, c6, c7);
            Accumulate8(ref l1, ref h1, T.Load8(ref Unsafe.Add(ref y0, yBytes + o)), c0, c1, c2, c3, c4, c5, c6, c7);
            Accumulate8(ref l2, ref h2, T.Load8(ref Unsafe.Add(ref y0, 2 * yBytes + o)), c0, c1, c2, c3, c4, c5, c6, c7);
            Accumulate8(ref l3, ref h3, T.Load8(ref Unsafe.Add(ref y0, 3 * yBytes + o)), c0, c1, c2, c3, c4, c5, c6, c7);
        }
        for (int c = full; c < cols; c++)
        {
            Vector256<float> column = Column<T>(ref Unsafe.Add(ref w0, c * T.ElementBytes), rowBytes);
            int oc = c * T.ElementBytes;
            Accumulate(ref l0, ref h0, column, T.Load1(ref Unsafe.Add(ref y0, oc)));
            Accumulate(ref l1, ref h1, column, T.Load1(ref Unsafe.Add(ref y0, yBytes + oc)));
            Accumulate(ref l2, ref h2, column, T.Load1(ref Unsafe.Add(ref y0, 2 * yBytes + oc)));
            Accumulate(ref l3, ref h3, column, T.Load1(ref Unsafe.Add(ref y0, 3 * yBytes + oc)));
        }
        Vector256.Create(Avx.ConvertToVector128Single(l0), Avx.ConvertToVector128Single(h0)).StoreUnsafe(ref output[o0]);
        Vector256.Create(Avx.ConvertToVector128Single(l1), Avx.ConvertToVector128Single(h1)).StoreUnsafe(ref output[o0 + outputStride]);
        Vector256.Create(Avx.ConvertToVector128Single(l2), Avx.ConvertToVector128Single(h2)).StoreUnsafe(ref output[o0 + 2 * outputStride]);
        Vector256.Create(Avx.ConvertToVector128Single(l3), Avx.ConvertToVector128Single(h3)).StoreUnsafe(ref output[o0 + 3 * outputStride]);
    }

    /// <summary>
    /// <see cref="FourTokens{T}"/> for eight tokens with AVX-512 (32 vector registers: the eight column
    /// vectors and eight sums stay in registers), so each converted and transposed column block serves
    /// eight tokens; each token's eight row sums are one <c>Vector512&lt;double&gt;</c> (one conversion and
    /// one add per column instead of two of each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EightTokens512<T>(ref byte w0, int rowBytes, int cols, ref byte y0, int yBytes, Span<float> output, int o0, int outputStride)
        where T : IElements
    {
        Vector512<double> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        int full = cols & ~7;
        for (int i = 0; i < full; i += 8)
        {
            int o = i * T.ElementBytes;
            Columns<T>(ref Unsafe.Add(ref w0, o), rowBytes, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
                out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7);
            ref byte y = ref Unsafe.Add(ref y0, o);
            a0 = Accumulate8(a0, T.Load8(ref y), c0, c1, c2, c3, c4, c5, c6, c7);
            a1 = Accumulate8(a1, T.Load8(ref Unsafe.Add(ref y, yBytes)), c0, c1, c2, c3, c4, c5, c6, c7);
            a2 = Accumulate8(a2, T.Load8(ref Unsafe.Add(ref y, 2 * yBytes)), c0, c1, c2, c3, c4, c5, c6, c7);
            a3 = Accumulate8(a3, T.Load8(ref Unsafe.Add(ref y, 3 * yBytes)), c0, c1, c2, c3, c4, c5, c6, c7);
            a4 = Accumulate8(a4, T.Load8(ref Unsafe.Add(ref y, 4 * yBytes)), c0, c1, c2, c3, c4, c5, c6, c7);
            a5 = Accumulate8(a5, T.Load8(ref Unsafe.Add(ref y, 5 * yBytes)), c0, c1, c2, c3, c4, c5, c6, c7);
            a6 = Accumulate8(a6, T.Load8(ref Unsafe.Add(ref y, 6 * yBytes)), c0, c1, c2, c3, c4, c5, c6, c7);
            a7 = Accumulate8(a7, T.Load8(ref Unsafe.Add(ref y, 7 * yBytes)), c0, c1, c2, c3, c4, c5, c6, c7);
        }
        for (int i = full; i < cols; i++)
        {
            Vector256<float> column = Column<T>(ref Unsafe.Add(ref w0, i * T.ElementBytes), rowBytes);
            ref byte y = ref Unsafe.Add(ref y0, i * T.ElementBytes);
            a0 = Accumulate512(a0, column, T.Load1(ref y));
            a1 = Accumulate512(a1, column, T.Load1(ref Unsafe.Add(ref y, yBytes)));
            a2 = Accumulate512(a2, column, T.Load1(ref Unsafe.Add(ref y, 2 * yBytes)));
            a3 = Accumulate512(a3, column, T.Load1(ref Unsafe.Add(ref y, 3 * yBytes)));
            a4 = Accumulate512(a4, column, T.Load1(ref Unsafe.Add(ref y, 4 * yBytes)));
            a5 = Accumulate512(a5, column, T.Load1(ref Unsafe.Add(ref y, 5 * yBytes)));
            a6 = Accumulate512(a6, column, T.Load1(ref Unsafe.Add(ref y, 6 * yBytes)));
            a7 = Accumulate512(a7, column, T.Load1(ref Unsafe.Add(ref y, 7 * yBytes)));
        }
        Avx512F.ConvertToVector256Single(a0).StoreUnsafe(ref output[o0]);
        Avx512F.ConvertToVector256Single(a1).StoreUnsafe(ref output[o0 + outputStride]);
        Avx512F.ConvertToVector256Single(a2).StoreUnsafe(ref output[o0 + 2 * outputStride]);
        Avx512F.ConvertToVector256Single(a3).StoreUnsafe(ref output[o0 + 3 * outputStride]);
        Avx512F.ConvertToVector256Single(a4).StoreUnsafe(ref output[o0 + 4 * outputStride]);
        Avx512F.ConvertToVector256Single(a5).StoreUnsafe(ref output[o0 + 5 * outputStride]);
        Avx512F.ConvertToVector256Single(a6).StoreUnsafe(ref output[o0 + 6 * outputStride]);
        Avx512F.ConvertToVector256Single(a7).StoreUnsafe(ref output[o0 + 7 * outputStride]);
    }

    /// <summary>Eight weight rows against one activation row (decode): <see cref="FourTokens{T}"/> for one token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneToken<T>(ref byte w0, int rowBytes, int cols, ref byte y, Span<float> output, int o0, bool avx512) where T : IElements
    {
        int full = cols & ~7;
        if (Avx512F.IsSupported && avx512)
        {
            Vector512<double> sums = default;
            for (int i = 0; i < full; i += 8)
            {
                int o = i * T.ElementBytes;
                Columns<T>(ref Unsafe.Add(ref w0, o), rowBytes, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
                    out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7);
                sums = Accumulate8(sums, T.Load8(ref Unsafe.Add(ref y, o)), c0, c1, c2, c3, c4, c5, c6, c7);
            }
            for (int i = full; i < cols; i++)
                sums = Accumulate512(sums, Column<T>(ref Unsafe.Add(ref w0, i * T.ElementBytes), rowBytes), T.Load1(ref Unsafe.Add(ref y, i * T.ElementBytes)));
            Avx512F.ConvertToVector256Single(sums).StoreUnsafe(ref output[o0]);
            return;
        }
        Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
        for (int i = 0; i < full; i += 8)
        {
            int o = i * T.ElementBytes;
            Columns<T>(ref Unsafe.Add(ref w0, o), rowBytes, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
                out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7);
            Accumulate8(ref lo, ref hi, T.Load8(ref Unsafe.Add(ref y, o)), c0, c1, c2, c3, c4, c5, c6, c7);
        }
        for (int i = full; i < cols; i++)
            Accumulate(ref lo, ref hi, Column<T>(ref Unsafe.Add(ref w0, i * T.ElementBytes), rowBytes), T.Load1(ref Unsafe.Add(ref y, i * T.ElementBytes)));
        Vector256.Create(Avx.ConvertToVector128Single(lo), Avx.ConvertToVector128Single(hi)).StoreUnsafe(ref output[o0]);
    }

    /// <summary>Elements 0–7 of eight rows from <paramref name="p"/>, as floats, transposed: c_j holds element j of the rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns<T>(ref byte p, int rowBytes, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3,
        out Vector256<float> c4, out Vector256<float> c5, out Vector256<float> c6, out Vector256<float> c7) where T : IElements
    {
        c0 = T.Load8(ref p);
        c1 = T.Load8(ref Unsafe.Add(ref p, rowBytes));
        c2 = T.Load8(ref Unsafe.Add(ref p, 2 * rowBytes));
        c3 = T.Load8(ref Unsafe.Add(ref p, 3 * rowBytes));
        c4 = T.Load8(ref Unsafe.Add(ref p, 4 * rowBytes));
        c5 = T.Load8(ref Unsafe.Add(ref p, 5 * rowBytes));
        c6 = T.Load8(ref Unsafe.Add(ref p, 6 * rowBytes));
        c7 = T.Load8(ref Unsafe.Add(ref p, 7 * rowBytes));
        Transpose(ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
    }

    /// <summary>The element at <paramref name="p"/> of eight rows, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Column<T>(ref byte p, int rowBytes) where T : IElements => Vector256.Create(
        T.Load1(ref p), T.Load1(ref Unsafe.Add(ref p, rowBytes)), T.Load1(ref Unsafe.Add(ref p, 2 * rowBytes)), T.Load1(ref Unsafe.Add(ref p, 3 * rowBytes)),
        T.Load1(ref Unsafe.Add(ref p, 4 * rowBytes)), T.Load1(ref Unsafe.Add(ref p, 5 * rowBytes)), T.Load1(ref Unsafe.Add(ref p, 6 * rowBytes)), T.Load1(ref Unsafe.Add(ref p, 7 * rowBytes)));

    /// <summary>Eight columns in order into one token's (lo, hi) sums: <see cref="Accumulate"/> with element j of <paramref name="y"/> for c_j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate8(ref Vector256<double> lo, ref Vector256<double> hi, Vector256<float> y, Vector256<float> c0, Vector256<float> c1,
        Vector256<float> c2, Vector256<float> c3, Vector256<float> c4, Vector256<float> c5, Vector256<float> c6, Vector256<float> c7)
    {
        Accumulate(ref lo, ref hi, c0, y.GetElement(0));
        Accumulate(ref lo, ref hi, c1, y.GetElement(1));
        Accumulate(ref lo, ref hi, c2, y.GetElement(2));
        Accumulate(ref lo, ref hi, c3, y.GetElement(3));
        Accumulate(ref lo, ref hi, c4, y.GetElement(4));
        Accumulate(ref lo, ref hi, c5, y.GetElement(5));
        Accumulate(ref lo, ref hi, c6, y.GetElement(6));
        Accumulate(ref lo, ref hi, c7, y.GetElement(7));
    }

    /// <summary>The AVX-512 form of <see cref="Accumulate8(ref Vector256{double}, ref Vector256{double}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float})"/>: the eight rows' sums in one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Accumulate8(Vector512<double> sums, Vector256<float> y, Vector256<float> c0, Vector256<float> c1,
        Vector256<float> c2, Vector256<float> c3, Vector256<float> c4, Vector256<float> c5, Vector256<float> c6, Vector256<float> c7)
    {
        sums = Accumulate512(sums, c0, y.GetElement(0));
        sums = Accumulate512(sums, c1, y.GetElement(1));
        sums = Accumulate512(sums, c2, y.GetElement(2));
        sums = Accumulate512(sums, c3, y.GetElement(3));
        sums = Accumulate512(sums, c4, y.GetElement(4));
        sums = Accumulate512(sums, c5, y.GetElement(5));
        sums = Accumulate512(sums, c6, y.GetElement(6));
        return Accumulate512(sums, c7, y.GetElement(7));
    }

    // Lane k of sums += (double)(column[k] · y): Accumulate with the eight sums in one AVX-512 vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Accumulate512(Vector512<double> sums, Vector256<float> column, float y) =>
        sums + Avx512F.ConvertToVector512Double(column * Vector256.Create(y));

    // Lane k of (lo, hi) += (double)(column[k] · y): the float product, then the double add.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(ref Vector256<double> lo, ref Vector256<double> hi, Vector256<float> column, float y)
    {
        Vector256<float> p = column * Vector256.Create(y);
        lo += Avx.ConvertToVector256Double(p.GetLower());
        hi += Avx.ConvertToVector256Double(p.GetUpper());
    }

    // 8×8 transpose: on return c_j holds element j of the eight rows given in c0..c7.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(ref Vector256<float> c0, ref Vector256<float> c1, ref Vector256<float> c2, ref Vector256<float> c3,
        ref Vector256<float> c4, ref Vector256<float> c5, ref Vector256<float> c6, ref Vector256<float> c7)
    {
        Vector256<float> t0 = Avx.UnpackLow(c0, c1), t1 = Avx.UnpackHigh(c0, c1), t2 = Avx.UnpackLow(c2, c3), t3 = Avx.UnpackHigh(c2, c3);
        Vector256<float> t4 = Avx.UnpackLow(c4, c5), t5 = Avx.UnpackHigh(c4, c5), t6 = Avx.UnpackLow(c6, c7), t7 = Avx.UnpackHigh(c6, c7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE), s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE), s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        c0 = Avx.Permute2x128(s0, s4, 0x20);
        c1 = Avx.Permute2x128(s1, s5, 0x20);
        c2 = Avx.Permute2x128(s2, s6, 0x20);
        c3 = Avx.Permute2x128(s3, s7, 0x20);
        c4 = Avx.Permute2x128(s0, s4, 0x31);
        c5 = Avx.Permute2x128(s1, s5, 0x31);
        c6 = Avx.Permute2x128(s2, s6, 0x31);
        c7 = Avx.Permute2x128(s3, s7, 0x31);
    }
}
