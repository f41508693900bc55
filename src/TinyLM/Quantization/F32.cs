namespace TinyLM.Quantization;

/// <summary>STUB (helper replaces): F32.</summary>
public sealed class F32 : TensorType
{
    /// <inheritdoc/>
    public override GgmlType Type => GgmlType.F32;
    /// <inheritdoc/>
    public override string Name => "f32";
    /// <inheritdoc/>
    public override int BlockSize => 1;
    /// <inheritdoc/>
    public override int BlockBytes => 4;
    /// <inheritdoc/>
    public override GgmlType VecDotType => GgmlType.F32;
    /// <inheritdoc/>
    public override void Dequantize(ReadOnlySpan<byte> source, Span<float> destination) => throw new NotImplementedException();
    /// <inheritdoc/>
    public override void QuantizeReference(ReadOnlySpan<float> source, Span<byte> destination) => throw new NotImplementedException();
    /// <inheritdoc/>
    public override float DotReference(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count) => throw new NotImplementedException();
    /// <inheritdoc/>
    public override float Dot(ReadOnlySpan<byte> weights, ReadOnlySpan<byte> activations, int count) => throw new NotImplementedException();
}
