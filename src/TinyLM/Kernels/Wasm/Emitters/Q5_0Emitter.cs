using System.Runtime.Intrinsics;
using TinyLM.Quantization;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly matrix product of <see cref="Q5_0"/> weights with Q8_0 activations
/// (<c>ggml_vec_dot_q5_0_q8_0_generic</c>: <c>sumf += (dx · dy) · sumi</c>), bit-exact with the C# reference.
/// </summary>
internal static class Q5_0Emitter
{
    /// <summary>Block size in bytes (<c>block_q5_0</c>: f16 scale, 4 bytes of fifth bits, 16 bytes of nibbles).</summary>
    public const int BlockBytes = 22;

    private const uint QhOffset = 2;

    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, blocks, scratch)</c> (see <see cref="Q8ActivationMatMul"/>).</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => BlockDot(f, pw, y, tmp, QhOffset), Q8ActivationMatMul.ScaleOrder.ProductOfScales,
            Q8ActivationMatMul.ActivationLayout.NibbleLanesMinus16, panels: panels);

    /// <summary>Emits the same product with relaxed SIMD (<see cref="BlockDotRelaxed"/>).</summary>
    public static WasmFunction EmitMatMulRelaxed(WasmModuleBuilder module, string name, bool panels = false) =>
        Q8ActivationMatMul.Emit(module, name, BlockBytes, (f, pw, y, tmp) => BlockDotRelaxed(f, pw, y, tmp, QhOffset), Q8ActivationMatMul.ScaleOrder.ProductOfScales,
            Q8ActivationMatMul.ActivationLayout.BytesMinus16, panels: panels);

    /// <summary>
    /// Unsigned 5-bit quants as bytes in [0, 31]: element j (j &lt; 16) is the low nibble of <c>qs[j]</c>
    /// with bit j of <c>qh</c> as its fifth bit, element j + 16 the high nibble with bit j + 16. The
    /// fifth bits: the <c>qh</c> byte of each lane broadcast by a shuffle, its lane's bit selected by a
    /// mask, compared to the mask (0xFF when set) and masked to 0x10. Two exact
    /// <c>i32x4.relaxed_dot_i8x16_i7x16_add_s</c> against the activation bytes
    /// (<see cref="Q8ActivationMatMul.ActivationLayout.BytesMinus16"/>) give <c>Σ u·y</c>. <c>qh</c> sits at
    /// <paramref name="qhOffset"/> of the block and <c>qs</c> right after it (Q5_1: 4 and 8).
    /// </summary>
    internal static void BlockDotRelaxed(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp, uint qhOffset)
    {
        Vector128<byte> bits = Vector128.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        Vector128<byte> bit4 = Vector128.Create((byte)0x10), low4 = Vector128.Create((byte)0x0F);
        WasmLocal qh = tmp[0], v = tmp[1];
        f.LocalGet(pw).V128Load32Splat(offset: qhOffset, alignment: 1).LocalSet(qh);
        f.LocalGet(pw).V128Load(offset: qhOffset + 4, alignment: 1).LocalSet(v);
        // elements 16–31: high nibbles, fifth bits from qh bytes 2 and 3
        f.LocalGet(y[1]).LocalGet(v).I32Const(4).I8x16ShrU()
            .LocalGet(qh).LocalGet(qh).I8x16Shuffle([2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3])
            .V128Const(bits).V128And().V128Const(bits).I8x16Eq().V128Const(bit4).V128And().V128Or();
        // elements 0–15: low nibbles, fifth bits from qh bytes 0 and 1
        f.LocalGet(y[0]).LocalGet(v).V128Const(low4).V128And()
            .LocalGet(qh).LocalGet(qh).I8x16Shuffle([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
            .V128Const(bits).V128And().V128Const(bits).I8x16Eq().V128Const(bit4).V128And().V128Or()
            .V128Const(Vector128<int>.Zero)
            .I32x4RelaxedDotI8x16I7x16AddS().I32x4RelaxedDotI8x16I7x16AddS();
    }

    /// <summary>
    /// The nibbles of <c>qs</c> sit as in Q4_0: int16 lane i holds elements 2i, 2i+16, 2i+1, 2i+17 in
    /// bits 0, 4, 8, 12. The fifth bit of element e is bit e of <c>qh</c>: the low (high) half of
    /// <c>qh</c>, splat to every int16 lane and multiplied by <c>2^(14−2i)</c>, puts bit 2i at bit 14
    /// and bit 2i+1 at bit 15 of lane i; shifted to bit 4 and or-ed into the nibbles, it gives the
    /// unsigned 5-bit quants u in the activation order of
    /// <see cref="Q8ActivationMatMul.ActivationLayout.NibbleLanesMinus16"/>; the lane total is
    /// <c>Σ u·y</c>, and the caller subtracts <c>16·Σy</c> (Q5_0; Q5_1 adds its min instead). <c>qh</c> sits at
    /// <paramref name="qhOffset"/> of the block and <c>qs</c> right after it.
    /// </summary>
    internal static void BlockDot(WasmFunctionBuilder f, WasmLocal pw, WasmLocal[] y, WasmLocal[] tmp, uint qhOffset)
    {
        Vector128<short> low4 = Vector128.Create((short)0x000F), bit4 = Vector128.Create((short)0x0010);
        Vector128<short> spread = Vector128.Create((short)(1 << 14), 1 << 12, 1 << 10, 1 << 8, 1 << 6, 1 << 4, 1 << 2, 1);
        WasmLocal v = tmp[0], lo = tmp[1], hi = tmp[2];
        f.LocalGet(pw).V128Load16Splat(offset: qhOffset, alignment: 1).V128Const(spread).I16x8Mul().LocalSet(lo);
        f.LocalGet(pw).V128Load16Splat(offset: qhOffset + 2, alignment: 1).V128Const(spread).I16x8Mul().LocalSet(hi);
        f.LocalGet(pw).V128Load(offset: qhOffset + 4, alignment: 1).LocalTee(v);
        // element 2i: nibble at bit 0, fifth bit at bit 14 of lo
        f.V128Const(low4).V128And()
            .LocalGet(lo).I32Const(10).I16x8ShrU().V128Const(bit4).V128And().V128Or()
            .LocalGet(y[0]).I32x4DotI16x8S();
        // element 2i+16: nibble at bit 4, fifth bit at bit 14 of hi
        f.LocalGet(v).I32Const(4).I16x8ShrU().V128Const(low4).V128And()
            .LocalGet(hi).I32Const(10).I16x8ShrU().V128Const(bit4).V128And().V128Or()
            .LocalGet(y[1]).I32x4DotI16x8S().I32x4Add();
        // element 2i+1: nibble at bit 8, fifth bit at bit 15 of lo
        f.LocalGet(v).I32Const(8).I16x8ShrU().V128Const(low4).V128And()
            .LocalGet(lo).I32Const(11).I16x8ShrU().V128Const(bit4).V128And().V128Or()
            .LocalGet(y[2]).I32x4DotI16x8S().I32x4Add();
        // element 2i+17: nibble at bit 12, fifth bit at bit 15 of hi
        f.LocalGet(v).I32Const(12).I16x8ShrU()
            .LocalGet(hi).I32Const(11).I16x8ShrU().V128Const(bit4).V128And().V128Or()
            .LocalGet(y[3]).I32x4DotI16x8S().I32x4Add();
    }
}
