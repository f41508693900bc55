using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q5_1 block (ggml's <c>block_q5_1</c>, ggml/src/ggml-common.h): 32 weights as 5-bit values
/// with a float16 scale and minimum; 24 bytes, 6 bits per weight. Weight j is <c>D · q_j + M</c>: the
/// low four bits of q_j are nibbles packed as in Q4_0 (byte j holds elements j and j + 16), the fifth
/// bit is bit j of the little-endian <see cref="Qh"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>, delta).</summary>
    public Half D;

    /// <summary>Minimum (ggml: <c>ggml_half m</c>).</summary>
    public Half M;

    /// <summary>Fifth bits, one per element (ggml: <c>uint8_t qh[4]</c>).</summary>
    public fixed byte Qh[4];

    /// <summary>Nibbles (ggml: <c>uint8_t qs[QK5_1 / 2]</c>).</summary>
    public fixed byte Qs[16];
}

/// <summary>
/// Q5_1: 5-bit blocks of 32 with scale and minimum (<see cref="BlockQ5_1"/>); dots take Q8_1 activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q5_1_ref</c> and <c>dequantize_row_q5_1</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_q5_1_q8_1_generic</c> (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q5_1 : TensorType
{
    private const int QK = 32;
    private const int Bytes = 24;
    private const int Q8Bytes = 36;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q5_1;
    /// <inheritdoc/>
    public override string Name => "q5_1";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_1;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q5_1</c>: <c>y[j] = q_j · d + m</c> (multiply, then add).</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ5_1> x = MemoryMarshal.Cast<byte, BlockQ5_1>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ5_1 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            float m = HalfConversions.Fp16ToFp32(b.M);
            uint qh = Unsafe.ReadUnaligned<uint>(ref b.Qh[0]);
            for (int j = 0; j < QK / 2; ++j)
            {
                byte xh0 = (byte)(((qh >> (j + 0)) << 4) & 0x10);
                byte xh1 = (byte)((qh >> (j + 12)) & 0x10);
                int x0 = (b.Qs[j] & 0x0F) | xh0;
                int x1 = (b.Qs[j] >> 4) | xh1;
                destination[i * QK + j + 0] = x0 * d + m;
                destination[i * QK + j + QK / 2] = x1 * d + m;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q5_1_ref</c>: <c>d = (max − min) / 31</c>,
    /// <c>q = (uint8_t)((x − min) / d + 0.5f)</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ5_1> y = MemoryMarshal.Cast<byte, BlockQ5_1>(destination);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = source.Slice(i * QK, QK);
            float min = float.MaxValue;
            float max = -float.MaxValue;

            for (int j = 0; j < QK; j++)
            {
                float v = x[j];
                if (v < min) min = v;
                if (v > max) max = v;
            }

            float d = (max - min) / ((1 << 5) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;

            y[i].D = HalfConversions.Fp32ToHalf(d);
            y[i].M = HalfConversions.Fp32ToHalf(min);

            uint qh = 0;

            for (int j = 0; j < QK / 2; ++j)
            {
                float x0 = (x[0 + j] - min) * id;
                float x1 = (x[QK / 2 + j] - min) * id;

                byte xi0 = (byte)CConversions.TruncateToInt32(x0 + 0.5f);
                byte xi1 = (byte)CConversions.TruncateToInt32(x1 + 0.5f);

                y[i].Qs[j] = (byte)((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));

                // the fifth bit of each quant goes to qh, at the element's position
                qh |= ((xi0 & 0x10u) >> 4) << (j + 0);
                qh |= ((xi1 & 0x10u) >> 4) << (j + QK / 2);
            }

            Unsafe.WriteUnaligned(ref y[i].Qh[0], qh);
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q5_1_q8_1_generic</c>: per block
    /// <c>sumf += (dx · dy) · sumi + mx · sy</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ5_1> x = MemoryMarshal.Cast<byte, BlockQ5_1>(weights);
        ReadOnlySpan<BlockQ8_1> y = MemoryMarshal.Cast<byte, BlockQ8_1>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockQ5_1 xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_1 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            uint qh = Unsafe.ReadUnaligned<uint>(ref xb.Qh[0]);
            int sumi0 = 0;
            int sumi1 = 0;
            for (int j = 0; j < QK / 2; ++j)
            {
                byte xh0 = (byte)(((qh >> (j + 0)) << 4) & 0x10);
                byte xh1 = (byte)((qh >> (j + 12)) & 0x10);
                int x0 = (xb.Qs[j] & 0xF) | xh0;
                int x1 = (xb.Qs[j] >> 4) | xh1;
                sumi0 += x0 * yb.Qs[j];
                sumi1 += x1 * yb.Qs[j + QK / 2];
            }
            int sumi = sumi0 + sumi1;
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi
                + HalfConversions.Fp16ToFp32(xb.M) * HalfConversions.Fp16ToFp32(yb.S);
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
        ref BlockQ5_1 x = ref Unsafe.As<byte, BlockQ5_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockQ5_1 x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
            ref BlockQ8_1 y0 = ref Unsafe.Add(ref y, ib), y1 = ref Unsafe.Add(ref y, ib + 1), y2 = ref Unsafe.Add(ref y, ib + 2), y3 = ref Unsafe.Add(ref y, ib + 3);
            Vector128<float> sumi = Vector128.ConvertToSingle(BlockDot.Sum4(
                BlockSum256(ref x0, ref y0), BlockSum256(ref x1, ref y1), BlockSum256(ref x2, ref y2), BlockSum256(ref x3, ref y3)));
            Vector256<float> d = BlockDot.Scales8(Bits(x0.D), Bits(x1.D), Bits(x2.D), Bits(x3.D), Bits(y0.D), Bits(y1.D), Bits(y2.D), Bits(y3.D));
            Vector256<float> ms = BlockDot.Scales8(Bits(x0.M), Bits(x1.M), Bits(x2.M), Bits(x3.M), Bits(y0.S), Bits(y1.S), Bits(y2.S), Bits(y3.S));
            Vector128<float> t = (d.GetLower() * d.GetUpper()) * sumi + ms.GetLower() * ms.GetUpper();
            sumf += t.GetElement(0);
            sumf += t.GetElement(1);
            sumf += t.GetElement(2);
            sumf += t.GetElement(3);
        }
        for (; ib < nb; ib++)
        {
            ref BlockQ5_1 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_1 yb = ref Unsafe.Add(ref y, ib);
            int sumi = Vector256.Sum(BlockSum256(ref xb, ref yb));
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi
                + HalfConversions.Fp16ToFp32(xb.M) * HalfConversions.Fp16ToFp32(yb.S);
        }
        return sumf;
    }

    /// <summary>Vector128 form of <see cref="Dot"/> over <paramref name="nb"/> checked blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static float DotVector128(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb)
    {
        ref BlockQ5_1 x = ref Unsafe.As<byte, BlockQ5_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockQ5_1 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_1 yb = ref Unsafe.Add(ref y, ib);
            BlockDot.Nibbles128(ref xb.Qs[0], out Vector128<byte> lo, out Vector128<byte> hi);
            BlockDot.HighBits128(Unsafe.ReadUnaligned<uint>(ref xb.Qh[0]), out Vector128<byte> hlo, out Vector128<byte> hhi);
            Vector128<int> p =
                BlockDot.MultiplyAdd128((lo | hlo).AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128((hi | hhi).AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[16]));
            int sumi = Vector128.Sum(p);
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi
                + HalfConversions.Fp16ToFp32(xb.M) * HalfConversions.Fp16ToFp32(yb.S);
        }
        return sumf;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ5_1 x, ref BlockQ8_1 y) =>
        BlockDot.MultiplyAddUnsigned256(
            BlockDot.Nibbles256(ref x.Qs[0]) | BlockDot.HighBits256(Unsafe.ReadUnaligned<uint>(ref x.Qh[0])),
            Vector256.LoadUnsafe(ref y.Qs[0]), 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);

    /// <summary>
    /// Q5_1 in eight-row panels: <see cref="Q4_1.PanelLayout"/>'s block (scales, mins, the low four bits
    /// as nibbles) plus the eight rows' <c>qh</c> (32 bytes: lane i = row i's fifth bits, as Q5_0's
    /// compact panels store them); 224 bytes per block of eight rows (file: 192). Quants 0–31; the
    /// reference is <c>ggml_vec_dot_q5_1_q8_1_generic</c>, the same float steps as Q4_1's.
    /// </summary>
    internal readonly struct PanelLayout : KQuantPanels.IPanelType
    {
        /// <summary>Bytes of one panel block.</summary>
        public const int PanelBytes = Q4_1.PanelLayout.PanelBytes + 32;

        /// <inheritdoc/>
        public static int BlockBytes => PanelBytes;
        /// <inheritdoc/>
        public static int ActivationBytes => Q4_1.PanelLayout.ActivationBytes;
        /// <inheritdoc/>
        public static int SourceBytes => Q4_1.PanelLayout.SourceBytes;

        /// <inheritdoc/>
        /// <remarks>File block: <c>d</c>, <c>m</c>, <c>qh</c> (bytes 4–7), <c>qs</c> (8–23).</remarks>
        public static void PackBlock(ref byte b0, int rowBytes, byte* record)
        {
            Q4_1.PanelLayout.PackBlock(ref b0, rowBytes, record, 8);
            for (int r = 0; r < KQuantPanels.PanelRows; r++)
                ((uint*)(record + Q4_1.PanelLayout.PanelBytes))[r] = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b0, r * rowBytes + 4));
        }

        /// <inheritdoc/>
        public static void Rearrange(ref byte source, byte* destination) => Q4_1.PanelLayout.Rearrange(ref source, destination);

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : KQuantPanels.ITokens =>
            Q4_1.PanelLayout.Pass<T, PanelLayout>(panel, nb, a, tokenBytes, sums);
    }
}
