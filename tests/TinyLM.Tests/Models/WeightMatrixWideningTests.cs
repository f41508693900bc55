using TinyLM.Kernels;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tests.Formats.Slm;
using TinyLM.Tests.Quantization;

namespace TinyLM.Tests.Models;

/// <summary>
/// Q5_0 matrices re-encoded as Q8_0 (<see cref="Q5_0.WidenToQ8_0"/>, <see cref="WeightMatrix.WidenToQ8_0"/>,
/// which the page does at load): the same numbers, so dequantized rows, every dot and a model's logits are
/// the same bit for bit.
/// </summary>
public class WeightMatrixWideningTests
{
    private static readonly TensorType Q50 = TensorTypes.Get(GgmlType.Q5_0), Q80 = TensorTypes.Get(GgmlType.Q8_0);

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
            Assert.True(m.CanWidenToQ8_0);
            int bytes = rows * (int)Q80.RowBytes(cols);
            byte[] storage = GC.AllocateUninitializedArray<byte>(bytes + 64, pinned: true);
            Assert.Throws<ArgumentOutOfRangeException>(() => m.WidenToQ8_0(storage, 65));
            Assert.Equal(GgmlType.Q5_0, m.Type.Type);   // a refused call changes nothing
            var rowBefore = new float[cols];
            m.DequantizeRow(7, rowBefore);

            m.WidenToQ8_0(storage, 64);
            Assert.True(m.IsWidened);
            Assert.Equal(GgmlType.Q8_0, m.Type.Type);
            Assert.Equal((int)Q80.RowBytes(cols), m.RowBytes);
            Assert.Equal(bytes, m.ByteSize);
            Assert.False(m.CanWidenToQ8_0);
            Assert.Throws<InvalidOperationException>(() => m.WidenToQ8_0(storage, 0));
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
            Assert.Equal(m.Repacked is null, m.CanWidenToQ8_0);
            if (m.Repacked is not null)
                Assert.Throws<InvalidOperationException>(() => m.WidenToQ8_0(new byte[m.Rows * (int)Q80.RowBytes(m.Columns)], 0));
        }
    }
}
