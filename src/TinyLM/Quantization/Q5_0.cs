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

    /// <summary>
    /// Re-encodes Q5_0 blocks as Q8_0 blocks holding the same numbers: the float16 scale is copied and
    /// weight j becomes the int8 <c>q_j − 16</c> ∈ [−16, 15]. Exact: dequantization gives the same floats
    /// (<c>(q − 16) · d</c> both ways), and so does every dot with Q8_0 activations, because
    /// <c>ggml_vec_dot_q5_0_q8_0_generic</c> and <c>ggml_vec_dot_q8_0_q8_0_generic</c> both add
    /// <c>sumi · (dx · dy)</c> per block with the same integer <c>sumi</c>. The page uses it to run Q5_0
    /// matrices through its faster Q8_0 kernels at 34/22 of the bytes.
    /// </summary>
    /// <param name="source">Whole Q5_0 blocks (22 bytes each).</param>
    /// <param name="destination">As many Q8_0 blocks (34 bytes each).</param>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not whole blocks, or <paramref name="destination"/> is not the size of as many Q8_0 blocks.</exception>
    public static void WidenToQ8_0(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.Length % Bytes != 0 || (long)source.Length / Bytes * Q8Bytes != destination.Length)
            throw new ArgumentException($"{source.Length} bytes of Q5_0 blocks ({Bytes} bytes each) do not widen into {destination.Length} bytes of Q8_0 blocks ({Q8Bytes} each).");
        ReadOnlySpan<BlockQ5_0> x = MemoryMarshal.Cast<byte, BlockQ5_0>(source);
        Span<BlockQ8_0> y = MemoryMarshal.Cast<byte, BlockQ8_0>(destination);
        for (int i = 0; i < x.Length; i++)
        {
            ref BlockQ5_0 b = ref MemoryMarshal.GetReference(x.Slice(i, 1));
            ref BlockQ8_0 q = ref y[i];
            q.D = b.D;
            uint qh = Unsafe.ReadUnaligned<uint>(ref b.Qh[0]);
            for (int j = 0; j < QK / 2; j++)
            {
                q.Qs[j] = (sbyte)(((b.Qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16);
                q.Qs[j + QK / 2] = (sbyte)(((b.Qs[j] >> 4) | (int)(((qh >> (j + QK / 2)) & 1) << 4)) - 16);
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

    /// <summary>AVX2 form of <see cref="MatMul"/> over checked operands with <paramref name="nb"/> blocks per row
    /// (<see cref="OffsetQuantMatMul"/>: quants − 16, float steps <c>(dx·dy)·sumi</c>); results equal <see cref="Dot"/>.</summary>
    internal static void MatMulAvx2(ReadOnlySpan<byte> weights, int rowStart, int rowCount, int nb,
        ReadOnlySpan<byte> activations, int tokens, Span<float> output, int outputStride) =>
        OffsetQuantMatMul.MatMulAvx2<OffsetBlocks>(weights, rowStart, rowCount, nb, activations, tokens, output, outputStride);

    /// <summary>Q5_0 for <see cref="OffsetQuantMatMul"/>, and the expanded panels of <see cref="PanelMatMul"/> and <see cref="WidePanelMatMul"/>.</summary>
    internal readonly struct OffsetBlocks : OffsetQuantMatMul.IOffsetBlocks, WidePanelMatMul.IWidePanelBlocks
    {
        public static int BlockBytes => Bytes;

        public static int Offset => 16;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Quants(ref byte block) => BlockDot.Nibbles256(ref Unsafe.Add(ref block, 6)) | BlockDot.HighBits256(Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref block, 2)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector128<float> Term(Vector128<float> sumi, Vector128<float> dx, Vector128<float> dy) => (dx * dy) * sumi;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Term(Vector256<float> sumi, Vector256<float> dx, Vector256<float> dy) => (dx * dy) * sumi;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Term(Vector512<float> sumi, Vector512<float> dx, Vector512<float> dy) => (dx * dy) * sumi;

        public static int PayloadBytes => 256;

        public static void PackQuants(ref byte b0, int rowBytes, byte* payload) => PanelMatMul.PackUnsigned<OffsetBlocks>(ref b0, rowBytes, payload);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelQuants(byte* payload, int k) => Vector256.Load(payload + 32 * k);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> WidePanelQuants(byte* payload, int k) => Vector512.Load(payload + 64 * k);

        public static float DotAvx2(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int nb) => Q5_0.DotAvx2(weights, activations, nb);
    }

    /// <summary>
    /// Q5_0 panels repacked at load (<see cref="RepackedWeights"/>), 160 bytes of quants per block of
    /// eight rows instead of the 256 of <see cref="OffsetBlocks"/>: the raw <c>qs</c> dword-interleaved
    /// as Q4_0's (vector m, lane i = row i's bytes 4m … 4m + 3: elements 4m … in the low nibbles,
    /// 16 + 4m … in the high ones), then the eight rows' <c>qh</c> (lane i = row i's 32 fifth bits).
    /// Decoding unpacks a vector as its nibbles plus the four fifth bits of its elements spread to
    /// 0x10 per byte (<c>(qh &gt;&gt; 4k &amp; 15) · 0x02040810 &amp; 0x10101010</c>: the four shifted copies
    /// cannot overlap); a batch expands the panels to <see cref="OffsetBlocks"/>' layout first.
    /// </summary>
    internal readonly struct CompactPanelBlocks : WidePanelMatMul.IWidePanelBlocks
    {
        public static int BlockBytes => Bytes;

        public static int Offset => 16;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> Quants(ref byte block) => OffsetBlocks.Quants(ref block);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Term(Vector256<float> sumi, Vector256<float> dx, Vector256<float> dy) => (dx * dy) * sumi;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Term(Vector512<float> sumi, Vector512<float> dx, Vector512<float> dy) => (dx * dy) * sumi;

        public static int PayloadBytes => 160;

        public static void PackQuants(ref byte b0, int rowBytes, byte* payload)
        {
            PanelMatMul.PackNibbles(ref b0, rowBytes, 6, payload);
            Vector256.Create(Qh(ref b0, 0, rowBytes), Qh(ref b0, 1, rowBytes), Qh(ref b0, 2, rowBytes), Qh(ref b0, 3, rowBytes),
                Qh(ref b0, 4, rowBytes), Qh(ref b0, 5, rowBytes), Qh(ref b0, 6, rowBytes), Qh(ref b0, 7, rowBytes)).Store((uint*)(payload + 128));

            static uint Qh(ref byte b0, int i, int rowBytes) => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b0, i * rowBytes + 2));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> PanelQuants(byte* payload, int k)
        {
            Vector256<uint> bits = (Vector256.Load((uint*)(payload + 128)) >> (4 * k)) & Vector256.Create(15u);
            Vector256<uint> high = (bits * Vector256.Create(0x02040810u)) & Vector256.Create(0x10101010u);
            return PanelMatMul.NibbleQuants(payload, k) | high.AsByte();
        }

        /// <summary>The sixteen-row form of <see cref="PanelQuants"/>: the pair's nibble vectors, then its two <c>qh</c> vectors (rows 0–15) at 256.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> WidePanelQuants(byte* payload, int k)
        {
            Vector512<uint> bits = (Vector512.Load((uint*)(payload + 256)) >> (4 * k)) & Vector512.Create(15u);
            Vector512<uint> high = (bits * Vector512.Create(0x02040810u)) & Vector512.Create(0x10101010u);
            return WidePanelMatMul.NibbleQuants(payload, k) | high.AsByte();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockSum256(ref BlockQ5_0 x, ref BlockQ8_0 y) =>
        BlockDot.MultiplyAddUnsigned256(
            BlockDot.Nibbles256(ref x.Qs[0]) | BlockDot.HighBits256(Unsafe.ReadUnaligned<uint>(ref x.Qh[0])),
            Vector256.LoadUnsafe(ref y.Qs[0]), 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort Bits(Half h) => BitConverter.HalfToUInt16Bits(h);
}
