using TinyLM.Kernels;
using TinyLM.Kernels.Wasm;
using TinyLM.Kernels.Wasm.Emitters;
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

    /// <summary>
    /// The kernel block layouts of the relaxed-SIMD Q4_K, Q5_K and Q6_K panel products: with unit scales (d = 1,
    /// dmin = 0) the reference dequantizer gives each element's quant, which must sit in the kernel layout where
    /// the emitted kernels read it (lane class E/O order of <see cref="KQuantMatMul.GroupsE"/>; Q4_K two sub-blocks'
    /// nibbles per class group, <see cref="Q4_KEmitter.ToKernelLayout"/>); the inverse
    /// restores the block exactly.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    public void KernelBlocks_PlaceEachQuantWhereTheKernelReadsIt_AndFromKernelBlocksRestoresTheBlock(GgmlType g)
    {
        TensorType type = TensorTypes.Get(g);
        var random = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            var block = new byte[type.BlockBytes];
            random.NextBytes(block);
            if (g is GgmlType.Q4_K or GgmlType.Q5_K)
            {
                BitConverter.TryWriteBytes(block.AsSpan(0), (ushort)0x3C00);   // d = 1
                BitConverter.TryWriteBytes(block.AsSpan(2), (ushort)0);        // dmin = 0
                block.AsSpan(4, 12).Fill(0);                                    // scales 1 (and mins 0): 6-bit fields of bytes 0–3, 8–11
                for (int j = 0; j < 4; j++)
                    block[4 + j] = 1;
                for (int j = 8; j < 12; j++)
                    block[4 + j] = 0x01;
            }
            else
            {
                block.AsSpan(192, 16).Fill(1);                                  // int8 scales 1
                BitConverter.TryWriteBytes(block.AsSpan(208), (ushort)0x3C00); // d = 1
            }
            var q = new float[256];
            type.Dequantize(block, q);
            byte[] kernel = (byte[])block.Clone();
            WasmWeightPanels.ToKernelBlocks(type, kernel);
            Assert.False(kernel.AsSpan().SequenceEqual(block));
            for (int c = 0; c < 8; c++)
                for (int i = 0; i < 16; i++)
                {
                    int e = 32 * c + KQuantMatMul.GroupsE[i], o = 32 * c + KQuantMatMul.GroupsO[i];
                    if (g == GgmlType.Q4_K)
                    {
                        // 32 bytes per two sub-blocks a = c, b = c + 1 (c even): E then O; byte 4m + i of E holds in its low
                        // nibble element 2m + 8(i mod 2) of a (i < 2) or b (i ≥ 2), in its high nibble the element 16 further
                        if (c % 2 == 1)
                            continue;
                        for (int h = 0; h < 2; h++)
                        {
                            int m = i / 4, sub = c + (i % 4 >= 2 ? 1 : 0), element = 32 * sub + 2 * m + h + 8 * (i % 2);
                            byte b = kernel[16 + 16 * c + 16 * h + i];
                            Assert.Equal(q[element], b & 0xF);
                            Assert.Equal(q[element + 16], b >> 4);
                        }
                    }
                    else if (g == GgmlType.Q5_K)
                    {
                        // nibbles in E and O byte order (low: the even sub-block, high: the odd one) after the 32 bytes of qh,
                        // whose E and O halves hold bit c of the same positions
                        byte b = kernel[48 + 32 * (c / 2) + i], bo = kernel[48 + 32 * (c / 2) + 16 + i];
                        int shift = 4 * (c % 2);
                        Assert.Equal(q[e], ((b >> shift) & 0xF) | ((kernel[16 + i] >> c) & 1) << 4);
                        Assert.Equal(q[o], ((bo >> shift) & 0xF) | ((kernel[32 + i] >> c) & 1) << 4);
                    }
                    else
                    {
                        byte l = kernel[16 * c + i], h = kernel[128 + 16 * (c / 2) + i];
                        int shift = 4 * (c % 2);
                        Assert.Equal(q[e], ((l & 0xF) | ((h >> shift) & 3) << 4) - 32);
                        Assert.Equal(q[o], ((l >> 4) | ((h >> (shift + 2)) & 3) << 4) - 32);
                    }
                }
            if (g == GgmlType.Q6_K)
            {
                // the page's wide blocks: every unsigned quant (q + 32) in a byte in the kernel layout's order, then the scales and d
                var wide = new byte[WasmKernelModule.Q6_KWideBlockBytes];
                Q6_KEmitter.ToWide(kernel, wide);
                for (int c = 0; c < 8; c++)
                    for (int i = 0; i < 16; i++)
                    {
                        Assert.Equal(q[32 * c + KQuantMatMul.GroupsE[i]], wide[32 * c + i] - 32);
                        Assert.Equal(q[32 * c + KQuantMatMul.GroupsO[i]], wide[32 * c + 16 + i] - 32);
                    }
                Assert.True(wide.AsSpan(256).SequenceEqual(block.AsSpan(192)));
                Assert.Throws<ArgumentException>(() => Q6_KEmitter.ToWide(kernel, new byte[wide.Length - 1]));
            }
            WasmWeightPanels.FromKernelBlocks(type, kernel);
            Assert.True(kernel.AsSpan().SequenceEqual(block), $"trial {trial}");
        }
        Assert.Throws<ArgumentException>(() => WasmWeightPanels.ToKernelBlocks(type, new byte[type.BlockBytes + 1]));
        Assert.Throws<ArgumentException>(() => WasmWeightPanels.ToKernelBlocks(TensorTypes.Get(GgmlType.Q8_0), new byte[34]));
        Assert.True(WasmWeightPanels.HasKernelBlocks(type, relaxedSimd: true));
        Assert.False(WasmWeightPanels.HasKernelBlocks(type, relaxedSimd: false));
    }

    /// <summary>
    /// A Q4_K (Q6_K) model's product matrices in panels with kernel-layout blocks: row lookups still
    /// dequantize the rows they did before; a type without a kernel layout refuses it.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q3_K)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q5_K)]
    [InlineData(GgmlType.Q6_K)]
    public void InterleaveRowPanels_WithKernelBlocks_DequantizeRowStillGivesTheRows(GgmlType g)
    {
        using Model model = Model.Load(SlmTestFiles.TinyGguf(g, new RandomLlama.Shape("kernel-blocks", 256, 1, 2, 2, 512, 64)), g.ToString());
        WeightMatrix[] matrices = [model.ProductMatrices[0], model.ProductMatrices[^1]];   // attn_q (256 × 256) and the output (64 × 256)
        foreach (WeightMatrix m in matrices)
        {
            Assert.Equal(g, m.Type.Type);
            var before = new float[m.Rows * m.Columns];
            for (int r = 0; r < m.Rows; r++)
                m.DequantizeRow(r, before.AsSpan(r * m.Columns, m.Columns));
            m.InterleaveRowPanels(4, kernelBlocks: true);
            Assert.True(m.IsKernelBlocks);
            Assert.Throws<InvalidOperationException>(() => m.InterleaveRowPanels(4));   // same panels, other block layout
            var row = new float[m.Columns];
            for (int r = 0; r < m.Rows; r++)
            {
                m.DequantizeRow(r, row);
                Assert.True(before.AsSpan(r * m.Columns, m.Columns).SequenceEqual(row), $"{m.Name} row {r}");
            }
        }
        using Model q8 = Model.Load(SlmTestFiles.TinyGguf(GgmlType.Q8_0, new RandomLlama.Shape("panels", 64, 1, 2, 2, 128, 64)), "q8_0");
        Assert.Throws<InvalidOperationException>(() => q8.ProductMatrices[0].InterleaveRowPanels(8, kernelBlocks: true));
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
