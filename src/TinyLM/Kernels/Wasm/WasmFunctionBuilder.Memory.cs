namespace TinyLM.Kernels.Wasm;

// Memory instructions (core spec 2.0, 5.4.6 "Memory Instructions"; SIMD loads and stores of 5.4.8),
// generated from the spec's opcode tables. The address operand is an i32, read as unsigned.

public sealed partial class WasmFunctionBuilder
{
    /// <summary><c>i32.load</c> [i32] → [i32], opcode 0x28: Loads 4 bytes as i32. Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Load(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x28, "i32.load", Effects.I32ToI32, 4, offset, alignment);

    /// <summary><c>i64.load</c> [i32] → [i64], opcode 0x29: Loads 8 bytes as i64. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Load(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x29, "i64.load", Effects.I32ToI64, 8, offset, alignment);

    /// <summary><c>f32.load</c> [i32] → [f32], opcode 0x2A: Loads 4 bytes as f32. Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder F32Load(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x2A, "f32.load", Effects.I32ToF32, 4, offset, alignment);

    /// <summary><c>f64.load</c> [i32] → [f64], opcode 0x2B: Loads 8 bytes as f64. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder F64Load(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x2B, "f64.load", Effects.I32ToF64, 8, offset, alignment);

    /// <summary><c>i32.load8_s</c> [i32] → [i32], opcode 0x2C: Loads 1 byte, sign-extended to i32. Natural alignment 1.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Load8S(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x2C, "i32.load8_s", Effects.I32ToI32, 1, offset, alignment);

    /// <summary><c>i32.load8_u</c> [i32] → [i32], opcode 0x2D: Loads 1 byte, zero-extended to i32. Natural alignment 1.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Load8U(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x2D, "i32.load8_u", Effects.I32ToI32, 1, offset, alignment);

    /// <summary><c>i32.load16_s</c> [i32] → [i32], opcode 0x2E: Loads 2 bytes, sign-extended to i32. Natural alignment 2.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Load16S(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x2E, "i32.load16_s", Effects.I32ToI32, 2, offset, alignment);

    /// <summary><c>i32.load16_u</c> [i32] → [i32], opcode 0x2F: Loads 2 bytes, zero-extended to i32. Natural alignment 2.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Load16U(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x2F, "i32.load16_u", Effects.I32ToI32, 2, offset, alignment);

    /// <summary><c>i64.load8_s</c> [i32] → [i64], opcode 0x30: Loads 1 byte, sign-extended to i64. Natural alignment 1.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Load8S(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x30, "i64.load8_s", Effects.I32ToI64, 1, offset, alignment);

    /// <summary><c>i64.load8_u</c> [i32] → [i64], opcode 0x31: Loads 1 byte, zero-extended to i64. Natural alignment 1.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Load8U(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x31, "i64.load8_u", Effects.I32ToI64, 1, offset, alignment);

    /// <summary><c>i64.load16_s</c> [i32] → [i64], opcode 0x32: Loads 2 bytes, sign-extended to i64. Natural alignment 2.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Load16S(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x32, "i64.load16_s", Effects.I32ToI64, 2, offset, alignment);

    /// <summary><c>i64.load16_u</c> [i32] → [i64], opcode 0x33: Loads 2 bytes, zero-extended to i64. Natural alignment 2.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Load16U(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x33, "i64.load16_u", Effects.I32ToI64, 2, offset, alignment);

    /// <summary><c>i64.load32_s</c> [i32] → [i64], opcode 0x34: Loads 4 bytes, sign-extended to i64. Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Load32S(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x34, "i64.load32_s", Effects.I32ToI64, 4, offset, alignment);

    /// <summary><c>i64.load32_u</c> [i32] → [i64], opcode 0x35: Loads 4 bytes, zero-extended to i64. Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Load32U(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x35, "i64.load32_u", Effects.I32ToI64, 4, offset, alignment);

    /// <summary><c>i32.store</c> [i32 i32] → [], opcode 0x36: Stores the i32 value (4 bytes). Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Store(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x36, "i32.store", Effects.I32I32ToNothing, 4, offset, alignment);

    /// <summary><c>i64.store</c> [i32 i64] → [], opcode 0x37: Stores the i64 value (8 bytes). Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Store(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x37, "i64.store", Effects.I32I64ToNothing, 8, offset, alignment);

    /// <summary><c>f32.store</c> [i32 f32] → [], opcode 0x38: Stores the f32 value (4 bytes). Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder F32Store(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x38, "f32.store", Effects.I32F32ToNothing, 4, offset, alignment);

    /// <summary><c>f64.store</c> [i32 f64] → [], opcode 0x39: Stores the f64 value (8 bytes). Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder F64Store(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x39, "f64.store", Effects.I32F64ToNothing, 8, offset, alignment);

    /// <summary><c>i32.store8</c> [i32 i32] → [], opcode 0x3A: Stores the low 8 bits of the i32 value. Natural alignment 1.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Store8(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x3A, "i32.store8", Effects.I32I32ToNothing, 1, offset, alignment);

    /// <summary><c>i32.store16</c> [i32 i32] → [], opcode 0x3B: Stores the low 16 bits of the i32 value. Natural alignment 2.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder I32Store16(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x3B, "i32.store16", Effects.I32I32ToNothing, 2, offset, alignment);

    /// <summary><c>i64.store8</c> [i32 i64] → [], opcode 0x3C: Stores the low 8 bits of the i64 value. Natural alignment 1.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Store8(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x3C, "i64.store8", Effects.I32I64ToNothing, 1, offset, alignment);

    /// <summary><c>i64.store16</c> [i32 i64] → [], opcode 0x3D: Stores the low 16 bits of the i64 value. Natural alignment 2.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Store16(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x3D, "i64.store16", Effects.I32I64ToNothing, 2, offset, alignment);

    /// <summary><c>i64.store32</c> [i32 i64] → [], opcode 0x3E: Stores the low 32 bits of the i64 value. Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder I64Store32(uint offset = 0, uint alignment = 0) => MemoryOp(0x00, 0x3E, "i64.store32", Effects.I32I64ToNothing, 4, offset, alignment);

    /// <summary><c>v128.load</c> [i32] → [v128], opcode 0xFD 0: Loads 16 bytes. Natural alignment 16.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (16), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x00, "v128.load", Effects.I32ToV128, 16, offset, alignment);

    /// <summary><c>v128.load8x8_s</c> [i32] → [v128], opcode 0xFD 1: Loads 8 bytes and sign-extends each to an i16 lane. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load8x8S(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x01, "v128.load8x8_s", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.load8x8_u</c> [i32] → [v128], opcode 0xFD 2: Loads 8 bytes and zero-extends each to an i16 lane. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load8x8U(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x02, "v128.load8x8_u", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.load16x4_s</c> [i32] → [v128], opcode 0xFD 3: Loads 4 i16 and sign-extends each to an i32 lane. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load16x4S(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x03, "v128.load16x4_s", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.load16x4_u</c> [i32] → [v128], opcode 0xFD 4: Loads 4 i16 and zero-extends each to an i32 lane. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load16x4U(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x04, "v128.load16x4_u", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.load32x2_s</c> [i32] → [v128], opcode 0xFD 5: Loads 2 i32 and sign-extends each to an i64 lane. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load32x2S(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x05, "v128.load32x2_s", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.load32x2_u</c> [i32] → [v128], opcode 0xFD 6: Loads 2 i32 and zero-extends each to an i64 lane. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load32x2U(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x06, "v128.load32x2_u", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.load8_splat</c> [i32] → [v128], opcode 0xFD 7: Loads 1 byte into all 16 lanes. Natural alignment 1.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load8Splat(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x07, "v128.load8_splat", Effects.I32ToV128, 1, offset, alignment);

    /// <summary><c>v128.load16_splat</c> [i32] → [v128], opcode 0xFD 8: Loads 2 bytes into all 8 lanes. Natural alignment 2.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load16Splat(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x08, "v128.load16_splat", Effects.I32ToV128, 2, offset, alignment);

    /// <summary><c>v128.load32_splat</c> [i32] → [v128], opcode 0xFD 9: Loads 4 bytes into all 4 lanes. Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load32Splat(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x09, "v128.load32_splat", Effects.I32ToV128, 4, offset, alignment);

    /// <summary><c>v128.load64_splat</c> [i32] → [v128], opcode 0xFD 10: Loads 8 bytes into both lanes. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load64Splat(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x0A, "v128.load64_splat", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.store</c> [i32 v128] → [], opcode 0xFD 11: Stores 16 bytes. Natural alignment 16.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (16), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Store(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x0B, "v128.store", Effects.I32V128ToNothing, 16, offset, alignment);

    /// <summary><c>v128.load32_zero</c> [i32] → [v128], opcode 0xFD 92: Loads 4 bytes into lane 0 of i32x4, zeroing the other lanes. Natural alignment 4.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load32Zero(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x5C, "v128.load32_zero", Effects.I32ToV128, 4, offset, alignment);

    /// <summary><c>v128.load64_zero</c> [i32] → [v128], opcode 0xFD 93: Loads 8 bytes into lane 0 of i64x2, zeroing the other lane. Natural alignment 8.</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load64Zero(uint offset = 0, uint alignment = 0) => MemoryOp(0xFD, 0x5D, "v128.load64_zero", Effects.I32ToV128, 8, offset, alignment);

    /// <summary><c>v128.load8_lane</c> [i32 v128] → [v128], opcode 0xFD 84: Replaces lane <paramref name="lane"/> of i8x16 with 1 byte loaded from memory. Natural alignment 1.</summary>
    /// <param name="lane">Lane index, below 16.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load8Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x54, "v128.load8_lane", Effects.I32V128ToV128, 1, offset, alignment, lane, 16);

    /// <summary><c>v128.load16_lane</c> [i32 v128] → [v128], opcode 0xFD 85: Replaces lane <paramref name="lane"/> of i16x8 with 2 bytes loaded from memory. Natural alignment 2.</summary>
    /// <param name="lane">Lane index, below 8.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load16Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x55, "v128.load16_lane", Effects.I32V128ToV128, 2, offset, alignment, lane, 8);

    /// <summary><c>v128.load32_lane</c> [i32 v128] → [v128], opcode 0xFD 86: Replaces lane <paramref name="lane"/> of i32x4 with 4 bytes loaded from memory. Natural alignment 4.</summary>
    /// <param name="lane">Lane index, below 4.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load32Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x56, "v128.load32_lane", Effects.I32V128ToV128, 4, offset, alignment, lane, 4);

    /// <summary><c>v128.load64_lane</c> [i32 v128] → [v128], opcode 0xFD 87: Replaces lane <paramref name="lane"/> of i64x2 with 8 bytes loaded from memory. Natural alignment 8.</summary>
    /// <param name="lane">Lane index, below 2.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Load64Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x57, "v128.load64_lane", Effects.I32V128ToV128, 8, offset, alignment, lane, 2);

    /// <summary><c>v128.store8_lane</c> [i32 v128] → [], opcode 0xFD 88: Stores lane <paramref name="lane"/> of i8x16 (1 byte). Natural alignment 1.</summary>
    /// <param name="lane">Lane index, below 16.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (1), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Store8Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x58, "v128.store8_lane", Effects.I32V128ToNothing, 1, offset, alignment, lane, 16);

    /// <summary><c>v128.store16_lane</c> [i32 v128] → [], opcode 0xFD 89: Stores lane <paramref name="lane"/> of i16x8 (2 bytes). Natural alignment 2.</summary>
    /// <param name="lane">Lane index, below 8.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (2), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Store16Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x59, "v128.store16_lane", Effects.I32V128ToNothing, 2, offset, alignment, lane, 8);

    /// <summary><c>v128.store32_lane</c> [i32 v128] → [], opcode 0xFD 90: Stores lane <paramref name="lane"/> of i32x4 (4 bytes). Natural alignment 4.</summary>
    /// <param name="lane">Lane index, below 4.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (4), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Store32Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x5A, "v128.store32_lane", Effects.I32V128ToNothing, 4, offset, alignment, lane, 4);

    /// <summary><c>v128.store64_lane</c> [i32 v128] → [], opcode 0xFD 91: Stores lane <paramref name="lane"/> of i64x2 (8 bytes). Natural alignment 8.</summary>
    /// <param name="lane">Lane index, below 2.</param>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    /// <param name="alignment">Alignment hint in bytes: 0 for natural (8), else a power of two no larger.</param>
    public WasmFunctionBuilder V128Store64Lane(byte lane, uint offset = 0, uint alignment = 0) => MemoryLaneOp(0x5B, "v128.store64_lane", Effects.I32V128ToNothing, 8, offset, alignment, lane, 2);

    /// <summary><c>memory.size</c> [] → [i32], opcode 0x3F 0x00: the memory size in 64 KiB pages.</summary>
    public WasmFunctionBuilder MemorySize() => MemoryIndexOp(0x00, 0x3F, "memory.size", Effects.ToI32, 1);

    /// <summary><c>memory.grow</c> [i32] → [i32], opcode 0x40 0x00: grows the memory by the operand (pages); returns the old size, or -1 on failure. Growing a shared memory never moves it; growing a non-shared one detaches JavaScript views of it.</summary>
    public WasmFunctionBuilder MemoryGrow() => MemoryIndexOp(0x00, 0x40, "memory.grow", Effects.I32ToI32, 1);

    /// <summary><c>memory.copy</c> [i32 i32 i32] → [], opcode 0xFC 10 0x00 0x00: copies [source, source + count) to destination (operands: destination, source, count), correct for overlapping ranges; traps when either range is out of bounds.</summary>
    public WasmFunctionBuilder MemoryCopy() => MemoryIndexOp(0xFC, 10, "memory.copy", Effects.I32I32I32ToNothing, 2);

    /// <summary><c>memory.fill</c> [i32 i32 i32] → [], opcode 0xFC 11 0x00: sets [destination, destination + count) to the low byte of the value (operands: destination, value, count); traps when out of bounds.</summary>
    public WasmFunctionBuilder MemoryFill() => MemoryIndexOp(0xFC, 11, "memory.fill", Effects.I32I32I32ToNothing, 1);
}
