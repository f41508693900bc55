using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tests.Formats.Slm;
using TinyLM.Tests.Quantization;

namespace TinyLM.Tests.Models;

/// <summary>
/// Q5_0 matrices re-encoded as Q8_0 (<see cref="Q5_0.WidenToQ8_0"/>) and TQ1_0 ones as TQ2_0
/// (<see cref="TQ1_0.WidenToTQ2_0"/>; both through <see cref="WeightMatrix.Widen"/>, which the page does at load): the
/// same numbers, so dequantized rows, every dot and a model's logits are the same bit for bit.
/// </summary>
public class WeightMatrixWideningTests
{
    private static readonly TensorType Q50 = TensorTypes.Get(GgmlType.Q5_0), Q80 = TensorTypes.Get(GgmlType.Q8_0);
    private static readonly TensorType TQ1 = TensorTypes.Get(GgmlType.TQ1_0), TQ2 = TensorTypes.Get(GgmlType.TQ2_0), Q8K = TensorTypes.Get(GgmlType.Q8_K);

    [Fact]
    public void WidenToTQ2_0_KeepsEveryWeightAndEveryDot()
    {
        var rng = new Random(6);
        const int width = 512;
        // random bytes (every packed byte, also those past 3^5 that ggml still decodes) and quantized edge rows
        var rows = new List<byte[]> { QuantTestData.RandomBlocks(TQ1, width, rng), QuantTestData.RandomBlocks(TQ1, width, rng) };
        foreach ((string _, float[] values) in QuantTestData.EdgeRows(256))
            rows.Add(QuantTestData.QuantizeReference(TQ1, values));
        foreach (byte[] tq1 in rows)
        {
            int cols = tq1.Length / 54 * 256;
            var tq2 = new byte[TQ2.RowBytes(cols)];
            TQ1_0.WidenToTQ2_0(tq1, tq2);
            var expected = new float[cols];
            var actual = new float[cols];
            TQ1.Dequantize(tq1, expected);
            TQ2.Dequantize(tq2, actual);
            QuantTestData.AssertBitEqual(expected, actual, "dequantized");
            for (int k = 0; k < tq2.Length / 66; k++)
                for (int j = 0; j < 64; j++)
                    for (int l = 0; l < 4; l++)
                        Assert.NotEqual(3, (tq2[66 * k + j] >> (2 * l)) & 3);   // a trit, never TQ2_0's unused field value
            for (int i = 0; i < 4; i++)
            {
                byte[] act = QuantTestData.RandomBlocks(Q8K, cols, rng);
                Assert.True(QuantTestData.BitEqual(TQ1.DotReference(tq1, act, cols), TQ2.DotReference(tq2, act, cols)), "dot");
            }
        }
        Assert.Throws<ArgumentException>(() => TQ1_0.WidenToTQ2_0(new byte[53], new byte[66]));
        Assert.Throws<ArgumentException>(() => TQ1_0.WidenToTQ2_0(new byte[54], new byte[65]));
    }

    [Fact]
    public unsafe void Matrix_WidenedFromTQ1_0_GivesTheSameProducts()
    {
        const int rows = 12, cols = 512, tokens = 2;
        var rng = new Random(10);
        byte[] tq1 = GC.AllocateUninitializedArray<byte>(rows * (int)TQ1.RowBytes(cols), pinned: true);
        for (int r = 0; r < rows; r++)
            QuantTestData.RandomBlocks(TQ1, cols, rng).CopyTo(tq1, r * (int)TQ1.RowBytes(cols));
        byte[] act = [.. Enumerable.Range(0, tokens).SelectMany(_ => QuantTestData.RandomBlocks(Q8K, cols, rng))];
        fixed (byte* p = tq1)
        {
            var plain = new WeightMatrix("plain", TQ1, p, rows, cols, writable: true);
            var expected = new float[tokens * rows];
            ComputeKernels.Managed.MatMul(plain, 0, rows, act, tokens, expected, rows);
            var m = new WeightMatrix("widened", TQ1, p, rows, cols, writable: true);
            Assert.Equal(GgmlType.TQ2_0, WeightMatrix.WideType(GgmlType.TQ1_0));
            Assert.True(m.CanWiden);
            byte[] storage = GC.AllocateUninitializedArray<byte>(rows * (int)TQ2.RowBytes(cols), pinned: true);
            m.Widen(storage, 0);
            Assert.Equal(GgmlType.TQ2_0, m.Type.Type);
            Assert.True(tq1.AsSpan().SequenceEqual(plain.Data));
            var actual = new float[tokens * rows];
            ComputeKernels.Managed.MatMul(m, 0, rows, act, tokens, actual, rows);
            QuantTestData.AssertBitEqual(expected, actual, "products");
        }
    }

    [Fact]
    public void WidenToQ8_0_KeepsEveryWeightAndEveryDot()
    {
        var rng = new Random(5);
        const int width = 256;
        // random bytes (every fifth-bit and nibble pattern) and quantized edge rows
        var rows = new List<byte[]> { QuantTestData.RandomBlocks(Q50, width, rng), QuantTestData.RandomBlocks(Q50, width, rng) };
        foreach ((string _, float[] values) in QuantTestData.EdgeRows(32))
            rows.Add(QuantTestData.QuantizeReference(Q50, values));
        byte[] allSet = QuantTestData.RandomBlocks(Q50, width, rng), noneSet = (byte[])allSet.Clone();
        for (int b = 0; b < width / 32; b++)
        {
            allSet.AsSpan(22 * b + 2, 4).Fill(0xFF);
            noneSet.AsSpan(22 * b + 2, 4).Clear();
        }
        rows.Add(allSet);
        rows.Add(noneSet);
        foreach (byte[] q5 in rows)
        {
            int cols = q5.Length / 22 * 32;
            var q8 = new byte[Q80.RowBytes(cols)];
            Q5_0.WidenToQ8_0(q5, q8);
            var expected = new float[cols];
            var actual = new float[cols];
            Q50.Dequantize(q5, expected);
            Q80.Dequantize(q8, actual);
            QuantTestData.AssertBitEqual(expected, actual, "dequantized");
            for (int k = 0; k < cols / 32; k++)
                Assert.InRange((sbyte)q8[34 * k + 2 + rng.Next(32)], -16, 15);
            for (int i = 0; i < 4; i++)
            {
                byte[] act = QuantTestData.RandomBlocks(Q80, cols, rng);
                Assert.True(QuantTestData.BitEqual(Q50.DotReference(q5, act, cols), Q80.DotReference(q8, act, cols)), "dot");
            }
        }
    }

    [Fact]
    public void WidenToQ8_0_RefusesSizesThatAreNotWholeBlocks()
    {
        Assert.Throws<ArgumentException>(() => Q5_0.WidenToQ8_0(new byte[23], new byte[34]));
        Assert.Throws<ArgumentException>(() => Q5_0.WidenToQ8_0(new byte[44], new byte[34]));
        Assert.Throws<ArgumentException>(() => Q5_0.WidenToQ8_0(new byte[22], new byte[36]));
    }

    [Fact]
    public unsafe void Matrix_Widened_GivesTheSameProducts_AndTakesRowPanels()
    {
        const int rows = 20, cols = 96, tokens = 3;
        var rng = new Random(9);
        byte[] q5 = GC.AllocateUninitializedArray<byte>(rows * (int)Q50.RowBytes(cols), pinned: true);
        for (int r = 0; r < rows; r++)
            QuantTestData.RandomBlocks(Q50, cols, rng).CopyTo(q5, r * (int)Q50.RowBytes(cols));
        byte[] act = [.. Enumerable.Range(0, tokens).SelectMany(_ => QuantTestData.RandomBlocks(Q80, cols, rng))];
        fixed (byte* p = q5)
        {
            var plain = new WeightMatrix("plain", Q50, p, rows, cols, writable: true);
            var expected = new float[tokens * rows];
            ComputeKernels.Managed.MatMul(plain, 0, rows, act, tokens, expected, rows);

            var m = new WeightMatrix("widened", Q50, p, rows, cols, writable: true);
            Assert.True(m.CanWiden);
            int bytes = rows * (int)Q80.RowBytes(cols);
            byte[] storage = GC.AllocateUninitializedArray<byte>(bytes + 64, pinned: true);
            Assert.Throws<ArgumentOutOfRangeException>(() => m.Widen(storage, 65));
            Assert.Equal(GgmlType.Q5_0, m.Type.Type);   // a refused call changes nothing
            var rowBefore = new float[cols];
            m.DequantizeRow(7, rowBefore);

            m.Widen(storage, 64);
            Assert.True(m.IsWidened);
            Assert.Equal(GgmlType.Q8_0, m.Type.Type);
            Assert.Equal((int)Q80.RowBytes(cols), m.RowBytes);
            Assert.Equal(bytes, m.ByteSize);
            Assert.False(m.CanWiden);
            Assert.Throws<InvalidOperationException>(() => m.Widen(storage, 0));
            Assert.True(q5.AsSpan().SequenceEqual(plain.Data));   // the Q5_0 bytes are left as they were

            var actual = new float[tokens * rows];
            ComputeKernels.Managed.MatMul(m, 0, rows, act, tokens, actual, rows);
            QuantTestData.AssertBitEqual(expected, actual, "products");
            var row = new float[cols];
            m.DequantizeRow(7, row);
            QuantTestData.AssertBitEqual(rowBefore, row, "row 7");

            // the widened copy is writable: the page interleaves it into row panels like any Q8_0 matrix
            Assert.True(m.CanInterleaveRowPanels);
            m.InterleaveRowPanels(8);
            m.DequantizeRow(7, row);
            QuantTestData.AssertBitEqual(rowBefore, row, "row 7 in panels");
        }
    }

    [Fact]
    public void NativeModel_RepackedQ5_0Matrices_AreNotWidened()
    {
        using Model model = Model.Load(SlmTestFiles.TinyGguf(GgmlType.Q5_0, new RandomLlama.Shape("widen", 64, 2, 2, 2, 128, 64)), "q5_0");
        foreach (WeightMatrix m in model.ProductMatrices.Where(m => m.Type.Type == GgmlType.Q5_0))
        {
            Assert.Equal(m.Repacked is null, m.CanWiden);
            if (m.Repacked is not null)
                Assert.Throws<InvalidOperationException>(() => m.Widen(new byte[m.Rows * (int)Q80.RowBytes(m.Columns)], 0));
        }
    }
}
