using TinyLM.Kernels;

namespace TinyLM.Tests.Kernels;

public sealed class AttentionTests
{
    [Theory]
    [InlineData(1, 0, 6, 6, 48, 32)]    // decode at position 0
    [InlineData(1, 37, 6, 6, 48, 64)]   // decode, 38 keys (not a multiple of 8)
    [InlineData(5, 11, 4, 2, 8, 20)]    // prefill batch with grouped-query heads
    [InlineData(3, 60, 9, 3, 6, 64)]    // head size not a multiple of 4
    [InlineData(17, 0, 2, 1, 64, 17)]   // whole context in one batch
    [InlineData(1, 40, 4, 2, 64, 48)]   // decode, 41 keys: two tiles of sixteen, one gathered pass of eight, one scalar
    [InlineData(20, 10, 3, 3, 24, 40)]  // prefill, head size a multiple of eight but not of sixteen
    public void Apply_EqualsReference_BitForBit(int tokens, int start, int heads, int kvHeads, int headDim, int context)
    {
        var rng = new Random(tokens * 1000 + start);
        float[] Rand(int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
        int qDim = heads * headDim, kvDim = kvHeads * headDim;
        float[] q = Rand(tokens * qDim, 3f), keys = Rand(context * kvDim, 2f), values = Rand(context * kvDim, 1f);
        var shape = new AttentionShape(tokens, start, heads, kvHeads, headDim, 1f / MathF.Sqrt(headDim), context);

        float[] Run(bool reference, int split)
        {
            var output = new float[tokens * qDim];
            var scores = new float[heads * context];
            var acc = new double[heads * headDim];
            if (reference)
                Attention.ApplyReference(q, keys, values, output, scores, acc, shape, 0, heads);
            else
            {
                Attention.Apply(q, keys, values, output, scores, acc, shape, 0, split);
                Attention.Apply(q, keys, values, output, scores, acc, shape, split, heads);
            }
            return output;
        }

        float[] expected = Run(reference: true, 0);
        Assert.Contains(expected, v => v != 0f);
        Assert.Equal(expected, Run(reference: false, heads / 2));
    }

    [Fact]
    public void BadShapeOrShortOperand_Throws()
    {
        var shape = new AttentionShape(2, 7, 4, 2, 8, 0.5f, 8); // positions 7 and 8 exceed a context of 8
        Assert.Throws<ArgumentOutOfRangeException>(() => Attention.Apply(new float[64], new float[128], new float[128], new float[64], new float[32], new double[32], shape, 0, 4));
        var ok = shape with { Start = 0 };
        Assert.Throws<ArgumentException>(() => Attention.Apply(new float[64], new float[8], new float[128], new float[64], new float[32], new double[32], ok, 0, 4));
    }
}
