using System.Runtime.Intrinsics.X86;
using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Quantization;

namespace TinyLM.Tests.Quantization;

/// <summary>
/// Weight matrices repacked at load (<see cref="RepackedWeights"/>: eight-row panels for Q4_0/Q5_0/Q8_0,
/// class-ordered blocks for Q4_K): every output of <see cref="ComputeKernels.MatMul"/> equals the scalar
/// reference, for decode (one token) and prefill (tiles of four and up to 64 tokens), row ranges that
/// start or end inside a panel, and matrices whose last rows are no panel.
/// </summary>
public sealed unsafe class RepackedWeightsTests
{
    [Theory]
    [InlineData("q4_0")]
    [InlineData("q5_0")]
    [InlineData("q8_0")]
    [InlineData("q4_K")]
    public void RepackedMatMul_EqualsDotReference(string name)
    {
        TensorType t = QuantTestData.Type(name);
        // Repacking needs AVX2 (Q8_0 panels: AVX-VNNI); elsewhere the matrices keep the file layout.
        Assert.Equal(Avx2.IsSupported && (name != "q8_0" || AvxVnni.IsSupported), RepackedWeights.Supports(t.Type));
        if (!RepackedWeights.Supports(t.Type))
            return;
        TensorType at = TensorTypes.Get(t.VecDotType);
        var rng = new Random(7);
        int u = t.BlockSize;
        foreach ((int rows, int cols) in new[] { (8, u), (21, 3 * u), (40, 70 * 32 / u * u) })
        {
            byte[] w = QuantTestData.QuantizeReference(t, QuantTestData.Uniform(rng, rows * cols, 1f));
            fixed (byte* pw = w)
            {
                var matrix = new WeightMatrix("m", t, pw, rows, cols);
                matrix.Repack();
                Assert.NotNull(matrix.Repacked);
                Assert.Equal(name == "q4_K" ? rows : rows & ~7, matrix.Repacked!.Rows);
                foreach (int tokens in new[] { 1, 3, 9, 70 })
                {
                    byte[] a = QuantTestData.QuantizeReference(at, QuantTestData.Uniform(rng, tokens * cols, 1f));
                    foreach ((int start, int count) in new[] { (0, rows), (3, rows - 3), (0, Math.Min(rows, 12)), (5, Math.Min(rows, 16) - 5) })
                    {
                        int stride = rows + 1;
                        float[] output = new float[tokens * stride];
                        Array.Fill(output, float.NaN);
                        ComputeKernels.Managed.MatMul(matrix, start, count, a, tokens, output, stride);
                        QuantTestData.AssertRowsEqualDotReference(t, w, a, cols, tokens, output, stride, start, count, $"{name}: {rows}x{cols}");
                    }
                }
            }
        }
    }

    [Fact]
    public void TypesWithoutRepacking_AndShortMatrices_StayInFileLayout()
    {
        TensorType q6k = TensorTypes.Get(GgmlType.Q6_K), q40 = TensorTypes.Get(GgmlType.Q4_0);
        byte[] w = new byte[q6k.RowBytes(256) * 8];
        fixed (byte* pw = w)
        {
            var k = new WeightMatrix("k", q6k, pw, 8, 256);
            k.Repack();
            Assert.Null(k.Repacked);
            var shortMatrix = new WeightMatrix("s", q40, pw, 7, 32);
            shortMatrix.Repack();
            Assert.Null(shortMatrix.Repacked);
        }
    }
}
