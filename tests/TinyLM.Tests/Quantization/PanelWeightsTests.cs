using System.Runtime.Intrinsics.X86;
using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// Weight matrices repacked into eight-row panels at load (<see cref="PanelWeights"/>): every output
/// of <see cref="ComputeKernels.MatMul"/> equals the scalar reference, for decode (one token) and
/// prefill, row ranges that start or end inside a panel, and matrices whose last rows are no panel.
/// </summary>
public sealed unsafe class PanelWeightsTests
{
    [Theory]
    [InlineData("q4_0")]
    [InlineData("q8_0")]
    public void PackedMatMul_EqualsDotReference(string name)
    {
        TensorType t = QuantTestData.Type(name);
        // Panels need AVX2 (Q8_0: AVX-VNNI); elsewhere the matrices keep the file layout.
        Assert.Equal(Avx2.IsSupported && (name == "q4_0" || AvxVnni.IsSupported), PanelWeights.Supports(t.Type));
        if (!PanelWeights.Supports(t.Type))
            return;
        TensorType at = TensorTypes.Get(t.VecDotType);
        var rng = new Random(7);
        foreach ((int rows, int cols) in new[] { (8, 32), (21, 96), (40, 32 * 70) })
        {
            byte[] w = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, rows * cols, 1f));
            fixed (byte* pw = w)
            {
                var matrix = new WeightMatrix("m", t, pw, rows, cols);
                matrix.PackPanels();
                Assert.NotNull(matrix.Panels);
                Assert.Equal(rows & ~7, matrix.Panels!.Rows);
                int rowBytes = (int)t.RowBytes(cols), actBytes = (int)at.RowBytes(cols);
                foreach (int tokens in new[] { 1, 3, 9 })
                {
                    byte[] a = QuantTestData.QuantizeReference(at, QuantTestData.Uniform(rng, tokens * cols, 1f));
                    foreach ((int start, int count) in new[] { (0, rows), (3, rows - 3), (0, Math.Min(rows, 12)), (5, Math.Min(rows, 16) - 5) })
                    {
                        int stride = rows + 1;
                        float[] output = new float[tokens * stride];
                        Array.Fill(output, float.NaN);
                        ComputeKernels.Managed.MatMul(matrix, start, count, a, tokens, output, stride);
                        for (int tok = 0; tok < tokens; tok++)
                            for (int r = 0; r < stride; r++)
                            {
                                float got = output[tok * stride + r];
                                if (r < start || r >= start + count)
                                    Assert.True(float.IsNaN(got), $"{name}: row {r} outside [{start}, {start + count}) was written");
                                else
                                    Assert.True(QuantTestData.BitEqual(t.DotReference(w.AsSpan(r * rowBytes, rowBytes), a.AsSpan(tok * actBytes, actBytes), cols), got),
                                        $"{name}: {rows}x{cols}, rows [{start}, {start + count}), {tokens} tokens: row {r}, token {tok}");
                            }
                    }
                }
            }
        }
    }

    [Fact]
    public void TypesWithoutPanels_AndShortMatrices_StayInFileLayout()
    {
        TensorType q4k = TensorTypes.Get(GgmlType.Q4_K), q40 = TensorTypes.Get(GgmlType.Q4_0);
        byte[] w = new byte[q4k.RowBytes(256) * 8];
        fixed (byte* pw = w)
        {
            var k = new WeightMatrix("k", q4k, pw, 8, 256);
            k.PackPanels();
            Assert.Null(k.Panels);
            var shortMatrix = new WeightMatrix("s", q40, pw, 7, 32);
            shortMatrix.PackPanels();
            Assert.Null(shortMatrix.Panels);
        }
    }
}
