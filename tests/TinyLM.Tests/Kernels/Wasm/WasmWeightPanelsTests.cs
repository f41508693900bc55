using TinyLM.Kernels;
using TinyLM.Kernels.Wasm;
using TinyLM.Models;
using TinyLM.Quantization;
using TinyLM.Tests.Formats.Slm;

namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>The row-panel layout of the emitted products (<see cref="WasmWeightPanels"/>) and the model's use of it.</summary>
public class WasmWeightPanelsTests
{
    [Theory]
    [InlineData(0, 3, 8)]
    [InlineData(5, 2, 8)]
    [InlineData(8, 3, 8)]
    [InlineData(17, 1, 8)]
    [InlineData(24, 4, 8)]
    [InlineData(11, 3, 4)]
    public void Interleave_MovesWholeBlocks_ToBlockOffset_KeepsTheTailRowMajor(int rows, int blocks, int panelRows)
    {
        const int blockBytes = 34;
        int rowBytes = blocks * blockBytes;
        var original = new byte[rows * rowBytes];
        new Random(rows * 7 + blocks).NextBytes(original);
        byte[] panels = (byte[])original.Clone();
        WasmWeightPanels.Interleave(panels, rows, rowBytes, blockBytes, panelRows);
        Assert.Equal(original.Order(), panels.Order());   // a permutation of the bytes
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < blocks; b++)
            {
                long at = WasmWeightPanels.BlockOffset(r, b, rows, rowBytes, blockBytes, panelRows);
                Assert.True(original.AsSpan(r * rowBytes + b * blockBytes, blockBytes).SequenceEqual(panels.AsSpan((int)at, blockBytes)), $"row {r} block {b}");
                if (r >= rows / panelRows * panelRows)
                    Assert.Equal((long)r * rowBytes + b * blockBytes, at);   // the tail keeps its place
            }
        if (rows >= panelRows && blocks > 1)
            Assert.Equal(blockBytes, WasmWeightPanels.BlockOffset(1, 0, rows, rowBytes, blockBytes, panelRows));   // row 1's first block follows row 0's
    }

    [Fact]
    public void Interleave_RefusesAShapeThatDoesNotFillTheBuffer()
    {
        Assert.Throws<ArgumentException>(() => WasmWeightPanels.Interleave(new byte[100], 2, 50, 34, 8));
        Assert.Throws<ArgumentException>(() => WasmWeightPanels.Interleave(new byte[136], 2, 68, 0, 8));
        Assert.Throws<ArgumentException>(() => WasmWeightPanels.Interleave(new byte[136], 2, 68, 34, 0));
        Assert.Throws<ArgumentException>(() => WasmWeightPanels.Interleave(new byte[136], 3, 68, 34, 8));
    }

    [Fact]
    public void ModelFromBytes_ProductMatricesInterleave_ThenOnlyTheEmittedKernelsMayReadThem()
    {
        using Model model = Model.Load(SlmTestFiles.TinyGguf(GgmlType.Q8_0, new RandomLlama.Shape("panels", 64, 2, 2, 2, 128, 64)), "q8_0");
        var llama = Assert.IsType<Llama>(model);
        IReadOnlyList<WeightMatrix> matrices = model.ProductMatrices;
        Assert.Equal(7 * llama.Config.BlockCount + 1, matrices.Count);
        WeightMatrix m = matrices[0];   // attn_q: 64 × 64, two blocks per row
        Assert.True(m.Rows >= 16 && m.Columns >= 64);
        Assert.True(m.CanInterleaveRowPanels);
        byte[] before = m.Data.ToArray();
        var rowsBefore = new float[m.Rows * m.Columns];
        for (int r = 0; r < m.Rows; r++)
            m.DequantizeRow(r, rowsBefore.AsSpan(r * m.Columns, m.Columns));
        m.InterleaveRowPanels(8);
        m.InterleaveRowPanels(8);   // the second time does nothing
        Assert.Throws<InvalidOperationException>(() => m.InterleaveRowPanels(4));
        Assert.True(m.IsRowPanels);
        Assert.Equal(8, m.PanelRows);
        Assert.False(before.AsSpan().SequenceEqual(m.Data));
        for (int r = 0; r < m.Rows; r++)
            Assert.True(before.AsSpan(r * m.RowBytes, 34).SequenceEqual(m.Data.Slice((int)WasmWeightPanels.BlockOffset(r, 0, m.Rows, m.RowBytes, 34, 8), 34)));
        Assert.Throws<InvalidOperationException>(() => m.Row(0).Length);
        // a tied output is also the token embedding: its row lookups gather the blocks from the panels
        var row = new float[m.Columns];
        for (int r = 0; r < m.Rows; r++)
        {
            m.DequantizeRow(r, row);
            Assert.True(rowsBefore.AsSpan(r * m.Columns, m.Columns).SequenceEqual(row), $"row {r}");
        }
        var output = new float[m.Rows];
        var act = new byte[m.RowBytes];
        Assert.Throws<InvalidOperationException>(() => ComputeKernels.Managed.MatMul(m, 0, m.Rows, act, 1, output, m.Rows));
    }

    [Fact]
    public void MappedModel_IsNotWritable_AndFloatMatricesCannotBeInterleaved()
    {
        string path = Path.Combine(Path.GetTempPath(), $"tinylm-panels-{Guid.NewGuid():N}.gguf");
        File.WriteAllBytes(path, SlmTestFiles.TinyGguf(GgmlType.Q8_0));
        try
        {
            using (Model mapped = Model.Load(path))
            {
                Assert.False(mapped.File.IsWritable);
                WeightMatrix m = mapped.ProductMatrices[0];
                Assert.False(m.CanInterleaveRowPanels);
                Assert.Throws<InvalidOperationException>(() => m.InterleaveRowPanels(8));
            }
            using Model f32 = Model.Load(SlmTestFiles.TinyGguf(GgmlType.F32), "f32");
            Assert.True(f32.File.IsWritable);
            Assert.False(f32.ProductMatrices[0].CanInterleaveRowPanels);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
