using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Wasm;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// SIMD building blocks shared by the 32-element block dots (Q4_0, Q4_1, Q5_0, Q5_1 against Q8_0 or
/// Q8_1; Q8_0 and Q8_1 against themselves): unpacking 4- and 5-bit quants into bytes and integer
/// multiply-adds whose lanes sum, exactly, to a block's <c>Σ x_j·y_j</c>.
/// </summary>
/// <remarks>
/// Every result here is an int32 partial sum; the lane layout of a partial differs between the
/// Vector256 and Vector128 forms, but its lane total is the exact integer block sum of
/// ggml's <c>ggml_vec_dot_*_generic</c>, so the float accumulation that follows is bit-identical to
/// the scalar reference. Element order follows ggml: in a nibble-packed block, byte j holds element
/// j in its low nibble and element j + 16 in its high nibble; bit j of <c>qh</c> is the fifth bit of
/// element j.
/// </remarks>
internal static class BlockDot
{
    /// <summary>Number of elements in every block handled here (QK4_0 = QK4_1 = QK5_0 = QK5_1 = QK8_0 = QK8_1).</summary>
    public const int QK = 32;

    // ---------------------------------------------------------------- Vector256 (AVX2)

    /// <summary>The 32 nibbles of a 16-byte <c>qs</c>: low nibbles in bytes 0–15, high nibbles in 16–31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles256(ref byte qs)
    {
        Vector128<byte> q = Vector128.LoadUnsafe(ref qs);
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        return Vector256.Create(q & mask, (q.AsUInt16() >> 4).AsByte() & mask);
    }

    /// <summary>Byte j is 0x10 when bit j of <paramref name="qh"/> is set, else 0 (AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> HighBits256(uint qh)
    {
        // Every 128-bit lane holds the 4 bytes of qh repeated; lane 0 spreads bytes 0 and 1 over
        // 8 bytes each, lane 1 bytes 2 and 3 (vpshufb works within lanes).
        Vector256<byte> bytes = Vector256.Create(qh).AsByte();
        Vector256<byte> spread = Avx2.Shuffle(bytes, Vector256.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector256<byte> bit = Vector256.Create(0x8040201008040201UL).AsByte();
        return Vector256.Equals(spread & bit, bit) & Vector256.Create((byte)0x10);
    }

    /// <summary>
    /// Partial sums of <c>(u_j − offset)·y_j</c> for unsigned <paramref name="u"/> ≤ 31 and
    /// <paramref name="offset"/> ≤ 16 (AVX2 <c>vpmaddubsw</c>, exact in that range, then <c>vpmaddwd</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyAddUnsigned256(Vector256<byte> u, Vector256<sbyte> y, short offset)
    {
        // |u·y pair| ≤ 2·31·128 = 7936 and |offset·(y pair)| ≤ 16·256 = 4096: no int16 saturation.
        Vector256<short> products = Avx2.MultiplyAddAdjacent(u, y);
        if (offset != 0)
        {
            Vector256<short> ySums = Avx2.MultiplyAddAdjacent(Vector256<byte>.One, y);
            products -= ySums * offset;
        }
        return Avx2.MultiplyAddAdjacent(products, Vector256<short>.One);
    }

    /// <summary>Partial sums of <c>x_j·y_j</c> for any signed bytes (sign-extends to int16, then <c>vpmaddwd</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MultiplyAddSigned256(Vector256<sbyte> x, Vector256<sbyte> y)
    {
        Vector256<int> lo = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(x.GetLower()), Avx2.ConvertToVector256Int16(y.GetLower()));
        Vector256<int> hi = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(x.GetUpper()), Avx2.ConvertToVector256Int16(y.GetUpper()));
        return lo + hi;
    }

    /// <summary>The lane totals of four partials, in order: <c>[Σp0, Σp1, Σp2, Σp3]</c> (AVX2 <c>vphaddd</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Sum4(Vector256<int> p0, Vector256<int> p1, Vector256<int> p2, Vector256<int> p3)
    {
        Vector256<int> s = Avx2.HorizontalAdd(Avx2.HorizontalAdd(p0, p1), Avx2.HorizontalAdd(p2, p3));
        return s.GetLower() + s.GetUpper();
    }

    /// <summary>Four float16 scales of the weights and four of the activations as floats, in one conversion.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Scales8(ushort x0, ushort x1, ushort x2, ushort x3, ushort y0, ushort y1, ushort y2, ushort y3) =>
        HalfConversions.Fp16ToFp32(Vector256.Create((uint)x0, x1, x2, x3, y0, y1, y2, y3));

    /// <summary>
    /// Stores the four token lanes of one output row: <c>output[(t + k)·stride + r] = sums[k]</c>
    /// (a matmul tile's column of four tokens).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreTokens4(Vector128<float> sums, Span<float> output, int t, int stride, int r)
    {
        output[t * stride + r] = sums.GetElement(0);
        output[(t + 1) * stride + r] = sums.GetElement(1);
        output[(t + 2) * stride + r] = sums.GetElement(2);
        output[(t + 3) * stride + r] = sums.GetElement(3);
    }

    // ---------------------------------------------------------------- Vector128

    /// <summary>The 32 nibbles of a 16-byte <c>qs</c>: elements 0–15 in <paramref name="lo"/>, 16–31 in <paramref name="hi"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Nibbles128(ref byte qs, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        Vector128<byte> q = Vector128.LoadUnsafe(ref qs);
        Vector128<byte> mask = Vector128.Create((byte)0x0F);
        lo = q & mask;
        hi = (q.AsUInt16() >> 4).AsByte() & mask;
    }

    /// <summary>Byte j of <paramref name="lo"/> (and j − 16 of <paramref name="hi"/>) is 0x10 when bit j of <paramref name="qh"/> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void HighBits128(uint qh, out Vector128<byte> lo, out Vector128<byte> hi)
    {
        Vector128<byte> bytes = Vector128.Create(qh).AsByte();
        Vector128<byte> bit = Vector128.Create(0x8040201008040201UL).AsByte();
        Vector128<byte> ten = Vector128.Create((byte)0x10);
        Vector128<byte> spreadLo = Vector128.Shuffle(bytes, Vector128.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
        Vector128<byte> spreadHi = Vector128.Shuffle(bytes, Vector128.Create((byte)2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        lo = Vector128.Equals(spreadLo & bit, bit) & ten;
        hi = Vector128.Equals(spreadHi & bit, bit) & ten;
    }

    /// <summary>Partial sums of <c>x_j·y_j</c> over 16 signed bytes (widened to int16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyAdd128(Vector128<sbyte> x, Vector128<sbyte> y)
    {
        (Vector128<short> xl, Vector128<short> xh) = Vector128.Widen(x);
        (Vector128<short> yl, Vector128<short> yh) = Vector128.Widen(y);
        return MultiplyAddPairs(xl, yl) + MultiplyAddPairs(xh, yh);
    }

    /// <summary>
    /// Partial sums of <c>a_j·b_j</c> over eight int16 lanes: <c>pmaddwd</c> on x86,
    /// <c>i32x4.dot_i16x8_s</c> on WebAssembly, <see cref="MultiplyAddPortable"/> elsewhere.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyAddPairs(Vector128<short> a, Vector128<short> b)
    {
        if (Sse2.IsSupported)
            return Sse2.MultiplyAddAdjacent(a, b);
        if (PackedSimd.IsSupported)
            return PackedSimd.Dot(a, b);
        return MultiplyAddPortable(a, b);
    }

    /// <summary>
    /// Portable form of <see cref="MultiplyAddPairs"/>: the same lane total, other lane layout
    /// (lane i holds <c>a_i·b_i + a_{i+4}·b_{i+4}</c>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> MultiplyAddPortable(Vector128<short> a, Vector128<short> b)
    {
        (Vector128<int> al, Vector128<int> ah) = Vector128.Widen(a);
        (Vector128<int> bl, Vector128<int> bh) = Vector128.Widen(b);
        return al * bl + ah * bh;
    }
}
