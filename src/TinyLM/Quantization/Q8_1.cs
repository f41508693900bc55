namespace TinyLM.Quantization;

/// <summary>STUB (helper replaces): Q8_1.</summary>
public sealed class Q8_1 : TensorType
{
    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.Q8_1;
    /// <inheritdoc/>
    public override string Name => "q8_1";
    /// <inheritdoc/>
    public override int BlockSize => 32;
    /// <inheritdoc/>
    public override int BlockBytes => 36;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.Q8_1;
    /// <inheritdoc/>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination) => throw new NotImplementedException();
    /// <inheritdoc/>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination) => throw new NotImplementedException();
    /// <inheritdoc/>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count) => throw new NotImplementedException();
    /// <inheritdoc/>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count) => throw new NotImplementedException();
}
