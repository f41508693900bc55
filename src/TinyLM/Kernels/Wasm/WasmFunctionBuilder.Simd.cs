namespace TinyLM.Kernels.Wasm;

public sealed partial class WasmFunctionBuilder
{
    /// <summary>
    /// <c>i8x16.shuffle</c> [v128 v128] → [v128], opcode 0xFD 13 with 16 lane-index bytes: result
    /// byte i is byte <c>lanes[i]</c> of the 32-byte concatenation of the operands (0-15 from the
    /// first, 16-31 from the second). Example, interleave the low halves:
    /// <c>I8x16Shuffle([0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23])</c>.
    /// </summary>
    /// <param name="lanes">16 indices, each below 32.</param>
    /// <exception cref="ArgumentException">Not 16 indices, or an index of 32 or more.</exception>
    public WasmFunctionBuilder I8x16Shuffle(ReadOnlySpan<byte> lanes)
    {
        if (lanes.Length != 16)
            throw Fault(new ArgumentException($"Wasm function '{Name}': i8x16.shuffle takes 16 lane indices, got {lanes.Length}.", nameof(lanes)));
        for (int i = 0; i < 16; i++)
            if (lanes[i] >= 32)
                throw Fault(new ArgumentException($"Wasm function '{Name}': i8x16.shuffle lane index {i} is {lanes[i]}; indices select among 32 bytes.", nameof(lanes)));
        Prefixed(0xFD, 0x0D, "i8x16.shuffle", Effects.V128V128ToV128);
        _code.WriteBytes(lanes);
        return this;
    }
}
