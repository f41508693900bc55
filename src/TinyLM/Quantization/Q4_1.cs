using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TinyLM.Quantization;

/// <summary>
/// One Q4_1 block (ggml's <c>block_q4_1</c>, ggml/src/ggml-common.h): 32 weights as 4-bit values
/// with a float16 scale and minimum; 20 bytes, 5 bits per weight. Weight j is <c>D · q_j + M</c>,
/// where byte j of <see cref="Qs"/> holds q_j in its low nibble and q_{j+16} in its high nibble.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    /// <summary>Scale (ggml: <c>ggml_half d</c>, delta).</summary>
    public Half D;

    /// <summary>Minimum (ggml: <c>ggml_half m</c>).</summary>
    public Half M;

    /// <summary>Nibbles (ggml: <c>uint8_t qs[QK4_1 / 2]</c>).</summary>
    public fixed byte Qs[16];
}

/// <summary>
/// Q4_1: 4-bit blocks of 32 with scale and minimum (<see cref="BlockQ4_1"/>); dots take Q8_1 activations.
/// </summary>
/// <remarks>
/// Ports, from llama.cpp v0.5.0 (as bundled by node-llama-cpp 3.22.1):
/// <c>quantize_row_q4_1_ref</c> and <c>dequantize_row_q4_1</c> (ggml/src/ggml-quants.c),
/// <c>ggml_vec_dot_q4_1_q8_1_generic</c> (ggml/src/ggml-cpu/quants.c).
/// </remarks>
public sealed unsafe class Q4_1 : TensorType
{
    private const int QK = 32;
    private const int Bytes = 20;
    private const int Q8Bytes = 36;

    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q4_1;
    /// <inheritdoc/>
    public override string Name => "q4_1";
    /// <inheritdoc/>
    public override int BlockSize => QK;
    /// <inheritdoc/>
    public override int BlockBytes => Bytes;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_1;

    /// <inheritdoc/>
    /// <remarks>Port of <c>dequantize_row_q4_1</c>: <c>y[j] = q_j · d + m</c> (multiply, then add).</remarks>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, destination.Length, source.Length, nameof(destination), nameof(source));
        ReadOnlySpan<BlockQ4_1> x = MemoryMarshal.Cast<byte, BlockQ4_1>(source);
        for (int i = 0; i < nb; i++)
        {
            ref BlockQ4_1 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            float d = HalfConversions.Fp16ToFp32(b.D);
            float m = HalfConversions.Fp16ToFp32(b.M);
            for (int j = 0; j < QK / 2; ++j)
            {
                int x0 = b.Qs[j] & 0x0F;
                int x1 = b.Qs[j] >> 4;
                destination[i * QK + j + 0] = x0 * d + m;
                destination[i * QK + j + QK / 2] = x1 * d + m;
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>quantize_row_q4_1_ref</c>: <c>d = (max − min) / 15</c>,
    /// <c>q = MIN(15, (int8_t)((x − min) / d + 0.5f))</c>.</remarks>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination)
    {
        int nb = TensorTypeChecks.Blocks(this, source.Length, destination.Length, nameof(source), nameof(destination));
        Span<BlockQ4_1> y = MemoryMarshal.Cast<byte, BlockQ4_1>(destination);
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

            float d = (max - min) / ((1 << 4) - 1);
            float id = d != 0 ? 1.0f / d : 0.0f;

            y[i].D = HalfConversions.Fp32ToHalf(d);
            y[i].M = HalfConversions.Fp32ToHalf(min);

            for (int j = 0; j < QK / 2; ++j)
            {
                float x0 = (x[0 + j] - min) * id;
                float x1 = (x[QK / 2 + j] - min) * id;

                byte xi0 = (byte)Math.Min(15, (int)(sbyte)CConversions.TruncateToInt32(x0 + 0.5f));
                byte xi1 = (byte)Math.Min(15, (int)(sbyte)CConversions.TruncateToInt32(x1 + 0.5f));

                y[i].Qs[j] = (byte)(xi0 | (xi1 << 4));
            }
        }
    }

    /// <inheritdoc/>
    /// <remarks>Port of <c>ggml_vec_dot_q4_1_q8_1_generic</c>: per block
    /// <c>sumf += (dx · dy) · sumi + mx · sy</c>, blocks in order.</remarks>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count)
    {
        int nb = TensorTypeChecks.DotBlocks(this, count, weights.Length, activations.Length, Q8Bytes);
        ReadOnlySpan<BlockQ4_1> x = MemoryMarshal.Cast<byte, BlockQ4_1>(weights);
        ReadOnlySpan<BlockQ8_1> y = MemoryMarshal.Cast<byte, BlockQ8_1>(activations);
        float sumf = 0;
        for (int ib = 0; ib < nb; ++ib)
        {
            ref BlockQ4_1 xb = ref MemoryMarshal.GetReference(x.Slice(ib, 1));
            ref BlockQ8_1 yb = ref MemoryMarshal.GetReference(y.Slice(ib, 1));
            int sumi0 = 0;
            int sumi1 = 0;
            for (int j = 0; j < QK / 2; ++j)
            {
                int v0 = xb.Qs[j] & 0x0F;
                int v1 = xb.Qs[j] >> 4;
                sumi0 += v0 * yb.Qs[j];
                sumi1 += v1 * yb.Qs[j + QK / 2];
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
        ref BlockQ4_1 x = ref Unsafe.As<byte, BlockQ4_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        int ib = 0;
        for (; ib + 4 <= nb; ib += 4)
        {
            ref BlockQ4_1 x0 = ref Unsafe.Add(ref x, ib), x1 = ref Unsafe.Add(ref x, ib + 1), x2 = ref Unsafe.Add(ref x, ib + 2), x3 = ref Unsafe.Add(ref x, ib + 3);
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
            ref BlockQ4_1 xb = ref Unsafe.Add(ref x, ib);
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
        ref BlockQ4_1 x = ref Unsafe.As<byte, BlockQ4_1>(ref MemoryMarshal.GetReference(weights));
        ref BlockQ8_1 y = ref Unsafe.As<byte, BlockQ8_1>(ref MemoryMarshal.GetReference(activations));
        float sumf = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ref BlockQ4_1 xb = ref Unsafe.Add(ref x, ib);
            ref BlockQ8_1 yb = ref Unsafe.Add(ref y, ib);
            BlockDot.Nibbles128(ref xb.Qs[0], out Vector128<byte> lo, out Vector128<byte> hi);
            Vector128<int> p =
                BlockDot.MultiplyAdd128(lo.AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[0])) +
                BlockDot.MultiplyAdd128(hi.AsSByte(), Vector128.LoadUnsafe(ref yb.Qs[16]));
            int sumi = Vector128.Sum(p);
            sumf += (HalfConversions.Fp16ToFp32(xb.D) * HalfConversions.Fp16ToFp32(yb.D)) * sumi
                + HalfConversions.Fp16ToFp32(xb.M) * HalfConversions.Fp16ToFp32(yb.S);
        }
        return sumf;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ4_1 x, ref BlockQ8_1 y) =>
        BlockDot.MultiplyAddUnsigned256(BlockDot.Nibbles256(ref x.Qs[0]), Vector256.LoadUnsafe(ref y.Qs[0]), 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);

    /// <summary>
    /// Q4_1 in eight-row panels (repacked at load, <see cref="RepackedWeights"/>; run by
    /// <see cref="KQuantPanels.MatMul{TPanel}"/> against Q8_1 activations): per block of eight rows the
    /// scales <c>d</c> and mins <c>m</c> as floats (bytes 0, 32), then the nibbles dword-interleaved as
    /// Q4_0's panels (<see cref="PanelMatMul.PackNibbles"/>, 128 bytes; 192 in all, the file's eight
    /// blocks are 160). Each row's exact <c>sumi = Σ q·y</c> (quants 0–15 unsigned, so no offset) comes
    /// from <c>vpdpbusd</c> (or <c>vpmaddubsw</c> + <c>vpmaddwd</c>) with broadcast groups of four
    /// activation bytes, then the reference's <c>sumf += (d·dy)·sumi + m·sy</c>
    /// (<c>ggml_vec_dot_q4_1_q8_1_generic</c>), eight rows at once. Q5_1 adds its fifth bits.
    /// </summary>
    internal readonly struct PanelLayout : KQuantPanels.IPanelType
    {
        /// <summary>Bytes of one panel block.</summary>
        public const int PanelBytes = 192;
        private const int MOffset = 32, NibblesOffset = 64;
        private const int ActivationDOffset = 32, ActivationSOffset = 36;

        /// <inheritdoc/>
        public static int BlockBytes => PanelBytes;
        /// <inheritdoc/>
        public static int ActivationBytes => 64;
        /// <inheritdoc/>
        public static int SourceBytes => 36;

        /// <inheritdoc/>
        public static void PackBlock(ref byte b0, int rowBytes, byte* record) => PackBlock(ref b0, rowBytes, record, 4);

        /// <summary><see cref="PackBlock(ref byte, int, byte*)"/> for a block with <c>d</c>, <c>m</c> first and its <c>qs</c> at <paramref name="qsOffset"/> (Q4_1 4, Q5_1 8).</summary>
        internal static void PackBlock(ref byte b0, int rowBytes, byte* record, int qsOffset)
        {
            for (int r = 0; r < KQuantPanels.PanelRows; r++)
            {
                ref byte block = ref Unsafe.Add(ref b0, r * rowBytes);
                ((float*)record)[r] = HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(ref block));
                ((float*)(record + MOffset))[r] = HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref block, 2)));
            }
            PanelMatMul.PackNibbles(ref b0, rowBytes, qsOffset, record + NibblesOffset);
        }

        /// <inheritdoc/>
        /// <remarks>The 32 quants as they are, then <c>d</c> and <c>s</c> as floats.</remarks>
        public static void Rearrange(ref byte source, byte* d)
        {
            Vector256.LoadUnsafe(ref source, 4).Store(d);
            *(float*)(d + ActivationDOffset) = HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(ref source));
            *(float*)(d + ActivationSOffset) = HalfConversions.Fp16ToFp32(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref source, 2)));
        }

        /// <inheritdoc/>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pass<T>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : KQuantPanels.ITokens =>
            Pass<T, PanelLayout>(panel, nb, a, tokenBytes, sums);

        /// <summary><see cref="Pass{T}"/> for Q4_1, or Q5_1 (<typeparamref name="TBits"/> = <see cref="Q5_1.PanelLayout"/>: fifth bits after the nibbles).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        internal static void Pass<T, TBits>(byte* panel, int nb, byte* a, nint tokenBytes, Vector256<float>* sums) where T : KQuantPanels.ITokens where TBits : KQuantPanels.IPanelType
        {
            for (int i = 0; i < nb; i++)
            {
                byte* w = panel + (nint)i * TBits.BlockBytes;
                if (T.Count == 1)
                    KQuantPanels.Prefetch(w + KQuantPanels.PrefetchDistance, TBits.BlockBytes);
                byte* q = w + NibblesOffset;
                Vector256<byte> w0 = Quants<TBits>(q, 0), w1 = Quants<TBits>(q, 1), w2 = Quants<TBits>(q, 2), w3 = Quants<TBits>(q, 3);
                Vector256<byte> w4 = Quants<TBits>(q, 4), w5 = Quants<TBits>(q, 5), w6 = Quants<TBits>(q, 6), w7 = Quants<TBits>(q, 7);
                Vector256<float> dx = Vector256.Load((float*)w), mx = Vector256.Load((float*)(w + MOffset));
                byte* a0 = a + (nint)i * 64;
                for (int t = 0; t < T.Count; t++)
                {
                    byte* at = a0 + t * tokenBytes;
                    Vector256<int> even = KQuantPanels.Dot4(Vector256<int>.Zero, w0, at), odd = KQuantPanels.Dot4(Vector256<int>.Zero, w1, at + 4);
                    even = KQuantPanels.Dot4(even, w2, at + 8);
                    odd = KQuantPanels.Dot4(odd, w3, at + 12);
                    even = KQuantPanels.Dot4(even, w4, at + 16);
                    odd = KQuantPanels.Dot4(odd, w5, at + 20);
                    even = KQuantPanels.Dot4(even, w6, at + 24);
                    odd = KQuantPanels.Dot4(odd, w7, at + 28);
                    // sumf += (d·dy)·sumi + m·sy
                    sums[9 * t + 8] += dx * Vector256.Create(*(float*)(at + ActivationDOffset)) * Vector256.ConvertToSingle(even + odd)
                        + mx * Vector256.Create(*(float*)(at + ActivationSOffset));
                }
            }
        }

        /// <summary>Vector k of a panel block's quants: lane i = row i's elements 4k … 4k + 3 (plus Q5_1's fifth bits · 16).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<byte> Quants<TBits>(byte* q, int k) where TBits : KQuantPanels.IPanelType
        {
            Vector256<byte> v = PanelMatMul.NibbleQuants(q, k);
            if (TBits.BlockBytes == Q5_1.PanelLayout.PanelBytes)
            {
                // The eight rows' 32 fifth bits (one uint per row) after the nibbles, spread as Q5_0's compact panels do.
                Vector256<uint> bits = (Vector256.Load((uint*)(q + 128)) >> (4 * k)) & Vector256.Create(15u);
                v |= ((bits * Vector256.Create(0x02040810u)) & Vector256.Create(0x10101010u)).AsByte();
            }
            return v;
        }
    }
}
