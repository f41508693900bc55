using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// Matrix products for the float types (F32, F16, BF16), whose dot is ggml's portable
/// <c>ggml_vec_dot_f32/f16/bf16</c>: float products added to a double sum in index order. That sum
/// cannot be split within one dot, so the fast form works across rows instead: eight weight rows
/// per pass, each in its own lane of two <c>Vector256&lt;double&gt;</c> accumulators, fed one column
/// at a time from an 8×8 transpose of eight loaded row segments. Every lane adds exactly the
/// reference's terms in the reference's order, so results equal <see cref="TensorType.Dot"/>.
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
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) where T : IElements
    {
        int rowBytes = cols * T.ElementBytes;
        ref byte w = ref MemoryMarshal.GetReference(weights);
        ref byte a = ref MemoryMarshal.GetReference(activations);
        int r = rowStart, end = rowStart + rowCount, full = cols & ~7;
        for (; r + 8 <= end; r += 8)
        {
            ref byte w0 = ref Unsafe.Add(ref w, r * rowBytes);
            for (int t = 0; t < tokens; t++)
            {
                ref byte y = ref Unsafe.Add(ref a, t * rowBytes);
                Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                for (int i = 0; i < full; i += 8)
                {
                    int o = i * T.ElementBytes;
                    Vector256<float> c0 = T.Load8(ref Unsafe.Add(ref w0, o)), c1 = T.Load8(ref Unsafe.Add(ref w0, rowBytes + o));
                    Vector256<float> c2 = T.Load8(ref Unsafe.Add(ref w0, 2 * rowBytes + o)), c3 = T.Load8(ref Unsafe.Add(ref w0, 3 * rowBytes + o));
                    Vector256<float> c4 = T.Load8(ref Unsafe.Add(ref w0, 4 * rowBytes + o)), c5 = T.Load8(ref Unsafe.Add(ref w0, 5 * rowBytes + o));
                    Vector256<float> c6 = T.Load8(ref Unsafe.Add(ref w0, 6 * rowBytes + o)), c7 = T.Load8(ref Unsafe.Add(ref w0, 7 * rowBytes + o));
                    Transpose(ref c0, ref c1, ref c2, ref c3, ref c4, ref c5, ref c6, ref c7);
                    Vector256<float> yv = T.Load8(ref Unsafe.Add(ref y, o));
                    Accumulate(ref lo, ref hi, c0, yv.GetElement(0));
                    Accumulate(ref lo, ref hi, c1, yv.GetElement(1));
                    Accumulate(ref lo, ref hi, c2, yv.GetElement(2));
                    Accumulate(ref lo, ref hi, c3, yv.GetElement(3));
                    Accumulate(ref lo, ref hi, c4, yv.GetElement(4));
                    Accumulate(ref lo, ref hi, c5, yv.GetElement(5));
                    Accumulate(ref lo, ref hi, c6, yv.GetElement(6));
                    Accumulate(ref lo, ref hi, c7, yv.GetElement(7));
                }
                for (int i = full; i < cols; i++)
                {
                    ref byte wi = ref Unsafe.Add(ref w0, i * T.ElementBytes);
                    Vector256<float> column = Vector256.Create(
                        T.Load1(ref wi), T.Load1(ref Unsafe.Add(ref wi, rowBytes)), T.Load1(ref Unsafe.Add(ref wi, 2 * rowBytes)), T.Load1(ref Unsafe.Add(ref wi, 3 * rowBytes)),
                        T.Load1(ref Unsafe.Add(ref wi, 4 * rowBytes)), T.Load1(ref Unsafe.Add(ref wi, 5 * rowBytes)), T.Load1(ref Unsafe.Add(ref wi, 6 * rowBytes)), T.Load1(ref Unsafe.Add(ref wi, 7 * rowBytes)));
                    Accumulate(ref lo, ref hi, column, T.Load1(ref Unsafe.Add(ref y, i * T.ElementBytes)));
                }
                Vector256<float> sums = Vector256.Create(Avx.ConvertToVector128Single(lo), Avx.ConvertToVector128Single(hi));
                sums.StoreUnsafe(ref output[t * outputStride + r]);
            }
        }
        for (; r < end; r++)
        {
            ReadOnlySpan<byte> row = weights.Slice(r * rowBytes, rowBytes);
            for (int t = 0; t < tokens; t++)
                output[t * outputStride + r] = type.Dot(row, activations.Slice(t * rowBytes, rowBytes), cols);
        }
    }

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
