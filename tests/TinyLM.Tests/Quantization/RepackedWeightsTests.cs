using System.Runtime.Intrinsics.X86;
using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// Weight matrices repacked at load (<see cref="RepackedWeights"/>: eight-row panels for Q4_0/Q5_0/Q8_0
/// and, with their own layouts, Q2_K … Q6_K (<see cref="KQuantPanels"/>; sixteen-row ones where AVX-512BW runs them) and TQ1_0/TQ2_0 (<see cref="TernaryPanels"/>)): every output of <see cref="ComputeKernels.MatMul"/> equals the scalar
/// reference, for decode (one token) and prefill (tiles of four and up to 64 tokens), row ranges that
/// start or end inside a panel, and matrices whose last rows are no panel.
/// </summary>
public sealed unsafe class RepackedWeightsTests
{
    [Theory]
    [MemberData(nameof(QuantTestData.RepackedTypes), MemberType = typeof(QuantTestData))]
    public void RepackedMatMul_EqualsDotReference(string name)
    {
        TensorType t = QuantTestData.Type(name);
        // Repacking needs AVX2 (Q8_0 and IQ4_NL panels: AVX-VNNI); elsewhere the matrices keep the file layout.
        Assert.Equal(Avx2.IsSupported && (name is not ("q8_0" or "iq4_nl") || AvxVnni.IsSupported), RepackedWeights.Supports(t.Type));
        if (!RepackedWeights.Supports(t.Type))
            return;
        TensorType at = TensorTypes.Get(t.VecDotType);
        var rng = new Random(7);
        int u = t.BlockSize;
        // Q4_0, Q5_0, Q2_K … Q6_K, TQ1_0 and TQ2_0 take sixteen-row panels where AVX-512BW runs them; both layouts are checked there.
        bool wide = HasWidePanels(t.Type);
        foreach (bool allowWide in wide ? new[] { true, false } : [true])
            foreach ((int rows, int cols) in new[] { (8, u), (21, 3 * u), (40, 70 * 32 / u * u), (56, 2 * u) })
            {
                byte[] w = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, rows * cols, 1f));
                fixed (byte* pw = w)
                {
                    var matrix = new WeightMatrix("m", t, pw, rows, cols);
                    matrix.Repack(allowWide);
                    Assert.NotNull(matrix.Repacked);
                    Assert.Equal(rows & ~7, matrix.Repacked!.Rows);
                    Assert.Equal(wide && allowWide ? 16 : 8, matrix.Repacked.PanelRows);
                    foreach (int tokens in new[] { 1, 3, 9, 70 })
                    {
                        byte[] a = QuantTestData.QuantizeReference(at, QuantTestData.Uniform(rng, tokens * cols, 1f));
                        foreach ((int start, int count) in new[] { (0, rows), (3, rows - 3), (0, Math.Min(rows, 12)), (5, Math.Min(rows, 16) - 5), (Math.Min(rows, 8), rows - Math.Min(rows, 8)), (rows / 2, rows - rows / 2) })
                        {
                            int stride = rows + 1;
                            float[] output = new float[tokens * stride];
                            Array.Fill(output, float.NaN);
                            ComputeKernels.Managed.MatMul(matrix, start, count, a, tokens, output, stride);
                            QuantTestData.AssertRowsEqualDotReference(t, w, a, cols, tokens, output, stride, start, count, $"{name}{(allowWide ? "" : " (eight-row panels)")}: {rows}x{cols}");
                        }
                    }
                }
            }
    }

    /// <summary>Whether this CPU gives <paramref name="type"/> sixteen-row panels (<see cref="WidePanelMatMul"/>, <see cref="WideKQuantPanels"/>).</summary>
    private static bool HasWidePanels(GgmlType type) =>
        type is GgmlType.Q4_0 or GgmlType.Q5_0 && WidePanelMatMul.IsSupported<Q4_0.OffsetBlocks>()
        || type is GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.TQ1_0 or GgmlType.TQ2_0
            && WideKQuantPanels.IsSupported;

    /// <summary>
    /// Q4_0's and Q5_0's panels (<see cref="WidePanelMatMul"/>'s sixteen-row ones with AVX-512BW, whose
    /// int16 pair sums reach −30720 (Q4_0) and −31744 (Q5_0) here, and the eight-row ones) at the ends of
    /// their range: every quant at its maximum (15, 31) or 0, random blocks, against activations of −128
    /// and of alternating −128/127, for one token, a batch, and (Q5_0) a batch expanded in more than one
    /// chunk: every output equals <c>DotReference</c>.
    /// </summary>
    [Theory]
    [InlineData("q4_0")]
    [InlineData("q5_0")]
    public void OffsetPanels_ExtremeQuantsAndActivations_EqualDotReference(string name)
    {
        TensorType t = QuantTestData.Type(name);
        if (!RepackedWeights.Supports(t.Type))
            return;
        const int rows = 24, cols = 40 * 32, nb = cols / 32;
        var rng = new Random(13);
        int blockBytes = t.BlockBytes;
        byte[] w = new byte[rows * nb * blockBytes];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < nb; b++)
            {
                Span<byte> block = w.AsSpan((r * nb + b) * blockBytes, blockBytes);
                if (r % 3 == 2)
                    QuantTestData.RandomBlocks(t, 32, rng).CopyTo(block);
                else
                {
                    block[2..].Fill(r % 3 == 0 ? (byte)0xFF : (byte)0x00);
                    BitConverter.TryWriteBytes(block[..2], BitConverter.HalfToUInt16Bits((Half)(0.5f + r)));
                }
            }
        foreach (int tokens in new[] { 1, 6 })
        {
            byte[] a = new byte[tokens * nb * 34];
            for (int k = 0; k < tokens * nb; k++)
            {
                Span<byte> block = a.AsSpan(k * 34, 34);
                BitConverter.TryWriteBytes(block[..2], BitConverter.HalfToUInt16Bits((Half)(0.25f + k)));
                for (int e = 0; e < 32; e++)
                    block[2 + e] = (byte)(k % 2 == 0 || e % 2 == 0 ? 0x80 : 0x7F);
            }
            foreach (bool allowWide in new[] { true, false })
                fixed (byte* pw = w)
                {
                    var matrix = new WeightMatrix("m", t, pw, rows, cols);
                    matrix.Repack(allowWide);
                    float[] output = new float[tokens * rows];
                    Array.Fill(output, float.NaN);
                    ComputeKernels.Managed.MatMul(matrix, 0, rows, a, tokens, output, rows);
                    QuantTestData.AssertRowsEqualDotReference(t, w, a, cols, tokens, output, rows, 0, rows, $"{name} extremes (panels of {matrix.Repacked!.PanelRows})");
                }
        }
    }

    /// <summary>
    /// The K-quant and ternary panels at the ends of their ranges (<see cref="KQuantPanels"/>' and <see cref="TernaryPanels"/>' bounds): every quant
    /// at its maximum (Q2_K 3, Q3_K 3, Q4_K 15, Q5_K 31, Q6_K 63; TQ2_0's field 3, TQ1_0's 0xFF bytes), 6-bit scales and mins of 63, Q6_K int8 scales of −128 and 127, random
    /// blocks, against activations of −128 and of alternating −128/127 (bsums consistent, as
    /// quantization writes them), on eight-row panels and (with AVX-512BW) sixteen-row
    /// ones, three panels so that the last pair is padded: every output equals <c>DotReference</c>.
    /// </summary>
    [Theory]
    [MemberData(nameof(QuantTestData.SuperBlockTypes), MemberType = typeof(QuantTestData))]
    public void KQuantPanels_ExtremeQuantsScalesAndActivations_EqualDotReference(string name)
    {
        TensorType t = QuantTestData.Type(name);
        if (!RepackedWeights.Supports(t.Type))
            return;
        const int rows = 24, cols = 512, nb = cols / 256;
        var rng = new Random(11);
        int blockBytes = t.BlockBytes, rowBytes = nb * blockBytes;
        byte[] w = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < nb; b++)
            {
                Span<byte> block = w.AsSpan(r * rowBytes + b * blockBytes, blockBytes);
                if (r % 4 == 3)
                    QuantTestData.RandomBlocks(t, 256, rng).CopyTo(block);
                else
                {
                    block.Fill(0xFF);
                    if (t.Type == GgmlType.Q6_K)
                        block.Slice(192, 16).Fill(r % 4 == 1 ? (byte)0x80 : (byte)0x7F);
                    QuantTestData.WriteFiniteScales(t, block, rng);
                }
            }
        foreach (int tokens in new[] { 1, 5 })
        {
            byte[] a = new byte[tokens * nb * 292];
            for (int k = 0; k < tokens * nb; k++)
            {
                Span<byte> block = a.AsSpan(k * 292, 292);
                BitConverter.TryWriteBytes(block[..4], 0.75f + k);
                for (int e = 0; e < 256; e++)
                    block[4 + e] = (byte)(k % 2 == 0 || e % 2 == 0 ? 0x80 : 0x7F);
                for (int g = 0; g < 16; g++)
                {
                    int sum = 0;
                    for (int e = 16 * g; e < 16 * g + 16; e++)
                        sum += (sbyte)block[4 + e];
                    BitConverter.TryWriteBytes(block.Slice(260 + 2 * g, 2), (short)sum);
                }
            }
            foreach (bool allowWide in HasWidePanels(t.Type) ? new[] { true, false } : [true])
                fixed (byte* pw = w)
                {
                    var matrix = new WeightMatrix("m", t, pw, rows, cols);
                    matrix.Repack(allowWide);
                    Assert.Equal(rows, matrix.Repacked!.Rows);
                    Assert.Equal(HasWidePanels(t.Type) && allowWide ? 16 : 8, matrix.Repacked.PanelRows);
                    float[] output = new float[tokens * rows];
                    Array.Fill(output, float.NaN);
                    ComputeKernels.Managed.MatMul(matrix, 0, rows, a, tokens, output, rows);
                    QuantTestData.AssertRowsEqualDotReference(t, w, a, cols, tokens, output, rows, 0, rows, $"{name} extremes (panels of {matrix.Repacked.PanelRows})");
                }
        }
    }

    [Fact]
    public void TypesWithoutRepacking_AndShortMatrices_StayInFileLayout()
    {
        TensorType f16 = TensorTypes.Get(GgmlType.F16), q40 = TensorTypes.Get(GgmlType.Q4_0);
        byte[] w = new byte[f16.RowBytes(256) * 8];
        fixed (byte* pw = w)
        {
            var k = new WeightMatrix("k", f16, pw, 8, 256);
            k.Repack();
            Assert.Null(k.Repacked);
            var shortMatrix = new WeightMatrix("s", q40, pw, 7, 32);
            shortMatrix.Repack();
            Assert.Null(shortMatrix.Repacked);
        }
    }
}
