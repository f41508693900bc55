using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q4_0 block (ggml's <c>block_q4_0</c>, ggml/src/ggml-common.h): 32 weights as 4-bit values
/// with one float16 scale; 18 bytes, 4.5 bits per weight. Weight j is <c>D · (q_j − 8)</c>, where byte
/// j of <see cref="Qs"/> holds q_j in its low nibble and q_{j+16} in its high nibble.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>, delta).</summary>
    public Half D;

    /// <summary>Nibbles (ggml: <c>uint8_t qs[QK4_0 / 2]</c>).</summary>
    public fixed byte Qs[16];
}

/// <summary>
/// Q4_0: symmetric 4-bit blocks of 32 (<see cref="BlockQ4_0"/>); dots take Q8_0 activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q4_0_ref</c> and <c>dequantize_row_q4_0</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_q4_0_q8_0_generic</c> (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q4_0 : TensorType
{
    private const int QK = 32;
    private const int Bytes = 18;
    private const int Q8Bytes = 34;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q4_0;
    /// <inheritdoc/>
    public override string Name => "q4_0";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_0;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q4_0</c>: <c>y[j] = (q_j − 8) · d</c>.</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ4_0> x = MemoryMarshal.Cast<byte, BlockQ4_0>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ4_0 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            for (int j = 0; j < QK / 2; ++j)
            {
                int x0 = (b.Qs[j] & 0x0F) - 8;
                int x1 = (b.Qs[j] >> 4) - 8;
                destination[i * QK + j + 0] = x0 * d;
                destination[i * QK + j + QK / 2] = x1 * d;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q4_0_ref</c>: <c>d = max / −8</c> where <c>max</c> is the
    /// value of largest magnitude (first one on ties), <c>q = MIN(15, (int8_t)(x / d + 8.5f))</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ4_0> y = MemoryMarshal.Cast<byte, BlockQ4_0>(destination);
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

            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;

            y[i].D = HalfConversions.Fp32ToHalf(d);

            for (int j = 0; j < QK / 2; ++j)
            {
                float x0 = x[0 + j] * id;
                float x1 = x[QK / 2 + j] * id;

                byte xi0 = (byte)Math.Min(15, (int)(sbyte)CConversions.TruncateToInt32(x0 + 8.5f));
                byte xi1 = (byte)Math.Min(15, (int)(sbyte)CConversions.TruncateToInt32(x1 + 8.5f));

                y[i].Qs[j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q4_0_q8_0_generic</c>: per block
    /// <c>sumf += sumi · dx · dy</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ4_0> x = MemoryMarshal.Cast<byte, BlockQ4_0>(weights);
        ReadOnlySpan<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockQ4_0 xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_0 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            int sumi0 = 0;
            int sumi1 = 0;
            for (int j = 0; j < QK / 2; ++j)
            {
                int v0 = (xb.Qs[j] & 0x0F) - 8;
                int v1 = (xb.Qs[j] >> 4) - 8;
                sumi0 += v0 * yb.Qs[j];
                sumi1 += v1 * yb.Qs[j + QK / 2];
            }
            int sumi = sumi0 + sumi1;
            sumf += sumi * HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D);
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
        ref BlockQ4_0 x = ref Unsafe.As<byte, BlockQ4_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockQ4_0 x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
            ref BlockQ8_0 y0 = ref Unsafe.Add(ref y, ib), y1 = ref Unsafe.Add(ref y, ib + 1), y2 = ref Unsafe.Add(ref y, ib + 2), y3 = ref Unsafe.Add(ref y, ib + 3);
            Vector128<float> sumi = Vector128.ConvertToSingle(BlockDot.Sum4(
                BlockSum256(ref x0, ref y0), BlockSum256(ref x1, ref y1), BlockSum256(ref x2, ref y2), BlockSum256(ref x3, ref y3)));
            Vector256<float> d = BlockDot.Scales8(Bits(x0.D), Bits(x1.D), Bits(x2.D), Bits(x3.D), Bits(y0.D), Bits(y1.D), Bits(y2.D), Bits(y3.D));
            Vector128<float> t = (sumi * d.GetLower()) * d.GetUpper();
            sumf += t.GetElement(0);
            sumf += t.GetElement(1);
            sumf += t.GetElement(2);
            sumf += t.GetElement(3);
        }
        for (; ib < nb; ib++)
        {
            ref BlockQ4_0 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            int sumi = Vector256.Sum(BlockSum256(ref xb, ref yb));
            sumf += sumi * HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D);
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ4_0 x = ref Unsafe.As<byte, BlockQ4_0>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_0 y = ref Unsafe.As<byte, BlockQ8_0>(ref MemoryMarshal.GetReference(activations));
        Vector128<sbyte> eight = Vector128.Create((sbyte)8);
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockQ4_0 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_0 yb = ref Unsafe.Add(ref y, ib);
            BlockDot.Nibbles128(ref xb.Qs[0], out Vector128<byte> lo, out Vector128<byte> hi);
            Vector128<int> p =
                BlockDot.MultiplyAdd128(lo.AsSByte() - eight, Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128(hi.AsSByte() - eight, Vector128.LoadUnsafe(ref yb.Qs[16]));
            int sumi = Vector128.Sum(p);
            sumf += sumi * HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D);
        }
        return sumf;
    }

    /// <inheritdoc/>
    /// <remarks>With AVX2, each weight block is unpacked once for four activation rows, whose four
    /// float sums run in one Vector128 (lane k adds token k's terms in block order, exactly as
    /// <see cref="DotReference"/>); leftover tokens use <see cref="Dot"/>. Every output equals
    /// <see cref="Dot"/> of its row pair.</remarks>
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

    /// <summary>AVX2 form of <see cref="MatMul"/> over checked operands with <paramref name="nb"/> blocks per row
    /// (<see cref="OffsetQuantMatMul"/>: quants − 8, float steps <c>(sumi·dx)·dy</c> (<c>sumf += sumi·d_x·d_y</c>, left to right)); results equal <see cref="Dot"/>.</summary>
    internal static void MatMulAvx2(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) =>
        OffsetQuantMatMul.MatMulAvx2<OffsetBlocks>(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);

    /// <summary>Q4_0 for <see cref="OffsetQuantMatMul"/>, <see cref="PanelMatMul"/> and (sixteen-row panels) <see cref="WidePanelMatMul"/>.</summary>
    internal readonly struct OffsetBlocks : OffsetQuantMatMul.IOffsetBlocks, WidePanelMatMul.IWidePanelBlocks
    {
        public static int BlockBytes => Bytes;

        public static int Offset => 8;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Quants(ref byte block) => BlockDot.Nibbles256(ref Unsafe.Add(ref block, 2));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Term(Vector128<float> sumi, Vector128<float> dx, Vector128<float> dy) => (sumi * dx) * dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Term(Vector256<float> sumi, Vector256<float> dx, Vector256<float> dy) => (sumi * dx) * dy;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Term(Vector512<float> sumi, Vector512<float> dx, Vector512<float> dy) => (sumi * dx) * dy;

        /// <summary>
        /// The raw <c>qs</c> of eight rows, dword-interleaved: 32-byte vector m, lane i = row i's bytes
        /// 4m … 4m + 3, whose low nibbles are elements 4m … 4m + 3 and high nibbles elements 16 + 4m ….
        /// </summary>
        public static int PayloadBytes => 128;

        public static void PackQuants(ref byte b0, int rowBytes, byte* payload) => PanelMatMul.PackNibbles(ref b0, rowBytes, 2, payload);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelQuants(byte* payload, int k) => PanelMatMul.NibbleQuants(payload, k);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> WidePanelQuants(byte* payload, int k) => WidePanelMatMul.NibbleQuants(payload, k);

        public static float DotAvx2(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb) => Q4_0.DotAvx2(weights, activations, nb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ4_0 x, ref BlockQ8_0 y) =>
        BlockDot.MultiplyAddUnsigned256(BlockDot.Nibbles256(ref x.Qs[0]), Vector256.LoadUnsafe(ref y.Qs[0]), 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);
}
