namespace TinyLM.Kernels.Wasm;

// Fixed-width SIMD instructions (core spec 2.0, 5.4.8 "Vector Instructions"; prefix 0xFD, sub-opcode
// u32), generated from the spec's opcode table. Loads and stores are in WasmFunctionBuilder.Memory.cs;
// v128.const and i8x16.shuffle in WasmFunctionBuilder.Simd.cs.

public sealed partial class WasmFunctionBuilder
{
    /// <summary><c>i8x16.swizzle</c> [v128 v128] → [v128], opcode 0xFD 14: Selects bytes of the first operand by the byte indices of the second; an index of 16 or more gives 0.</summary>
    public WasmFunctionBuilder I8x16Swizzle() => Prefixed(0xFD, 0x0E, "i8x16.swizzle", Effects.V128V128ToV128);

    /// <summary><c>i8x16.splat</c> [i32] → [v128], opcode 0xFD 15: Copies the i32 operand into every lane (its low bits).</summary>
    public WasmFunctionBuilder I8x16Splat() => Prefixed(0xFD, 0x0F, "i8x16.splat", Effects.I32ToV128);

    /// <summary><c>i16x8.splat</c> [i32] → [v128], opcode 0xFD 16: Copies the i32 operand into every lane (its low bits).</summary>
    public WasmFunctionBuilder I16x8Splat() => Prefixed(0xFD, 0x10, "i16x8.splat", Effects.I32ToV128);

    /// <summary><c>i32x4.splat</c> [i32] → [v128], opcode 0xFD 17: Copies the i32 operand into every lane.</summary>
    public WasmFunctionBuilder I32x4Splat() => Prefixed(0xFD, 0x11, "i32x4.splat", Effects.I32ToV128);

    /// <summary><c>i64x2.splat</c> [i64] → [v128], opcode 0xFD 18: Copies the i64 operand into every lane.</summary>
    public WasmFunctionBuilder I64x2Splat() => Prefixed(0xFD, 0x12, "i64x2.splat", Effects.I64ToV128);

    /// <summary><c>f32x4.splat</c> [f32] → [v128], opcode 0xFD 19: Copies the f32 operand into every lane.</summary>
    public WasmFunctionBuilder F32x4Splat() => Prefixed(0xFD, 0x13, "f32x4.splat", Effects.F32ToV128);

    /// <summary><c>f64x2.splat</c> [f64] → [v128], opcode 0xFD 20: Copies the f64 operand into every lane.</summary>
    public WasmFunctionBuilder F64x2Splat() => Prefixed(0xFD, 0x14, "f64x2.splat", Effects.F64ToV128);

    /// <summary><c>i8x16.extract_lane_s</c> [v128] → [i32], opcode 0xFD 21: Lane <paramref name="lane"/> of i8x16, sign-extended.</summary>
    /// <param name="lane">Lane index, below 16.</param>
    public WasmFunctionBuilder I8x16ExtractLaneS(byte lane) => LaneOp(0x15, "i8x16.extract_lane_s", Effects.V128ToI32, lane, 16);

    /// <summary><c>i8x16.extract_lane_u</c> [v128] → [i32], opcode 0xFD 22: Lane <paramref name="lane"/> of i8x16, zero-extended.</summary>
    /// <param name="lane">Lane index, below 16.</param>
    public WasmFunctionBuilder I8x16ExtractLaneU(byte lane) => LaneOp(0x16, "i8x16.extract_lane_u", Effects.V128ToI32, lane, 16);

    /// <summary><c>i8x16.replace_lane</c> [v128 i32] → [v128], opcode 0xFD 23: Replaces lane <paramref name="lane"/> of i8x16 with the low 8 bits of the i32.</summary>
    /// <param name="lane">Lane index, below 16.</param>
    public WasmFunctionBuilder I8x16ReplaceLane(byte lane) => LaneOp(0x17, "i8x16.replace_lane", Effects.V128I32ToV128, lane, 16);

    /// <summary><c>i16x8.extract_lane_s</c> [v128] → [i32], opcode 0xFD 24: Lane <paramref name="lane"/> of i16x8, sign-extended.</summary>
    /// <param name="lane">Lane index, below 8.</param>
    public WasmFunctionBuilder I16x8ExtractLaneS(byte lane) => LaneOp(0x18, "i16x8.extract_lane_s", Effects.V128ToI32, lane, 8);

    /// <summary><c>i16x8.extract_lane_u</c> [v128] → [i32], opcode 0xFD 25: Lane <paramref name="lane"/> of i16x8, zero-extended.</summary>
    /// <param name="lane">Lane index, below 8.</param>
    public WasmFunctionBuilder I16x8ExtractLaneU(byte lane) => LaneOp(0x19, "i16x8.extract_lane_u", Effects.V128ToI32, lane, 8);

    /// <summary><c>i16x8.replace_lane</c> [v128 i32] → [v128], opcode 0xFD 26: Replaces lane <paramref name="lane"/> of i16x8 with the low 16 bits of the i32.</summary>
    /// <param name="lane">Lane index, below 8.</param>
    public WasmFunctionBuilder I16x8ReplaceLane(byte lane) => LaneOp(0x1A, "i16x8.replace_lane", Effects.V128I32ToV128, lane, 8);

    /// <summary><c>i32x4.extract_lane</c> [v128] → [i32], opcode 0xFD 27: Lane <paramref name="lane"/> of i32x4.</summary>
    /// <param name="lane">Lane index, below 4.</param>
    public WasmFunctionBuilder I32x4ExtractLane(byte lane) => LaneOp(0x1B, "i32x4.extract_lane", Effects.V128ToI32, lane, 4);

    /// <summary><c>i32x4.replace_lane</c> [v128 i32] → [v128], opcode 0xFD 28: Replaces lane <paramref name="lane"/> of i32x4.</summary>
    /// <param name="lane">Lane index, below 4.</param>
    public WasmFunctionBuilder I32x4ReplaceLane(byte lane) => LaneOp(0x1C, "i32x4.replace_lane", Effects.V128I32ToV128, lane, 4);

    /// <summary><c>i64x2.extract_lane</c> [v128] → [i64], opcode 0xFD 29: Lane <paramref name="lane"/> of i64x2.</summary>
    /// <param name="lane">Lane index, below 2.</param>
    public WasmFunctionBuilder I64x2ExtractLane(byte lane) => LaneOp(0x1D, "i64x2.extract_lane", Effects.V128ToI64, lane, 2);

    /// <summary><c>i64x2.replace_lane</c> [v128 i64] → [v128], opcode 0xFD 30: Replaces lane <paramref name="lane"/> of i64x2.</summary>
    /// <param name="lane">Lane index, below 2.</param>
    public WasmFunctionBuilder I64x2ReplaceLane(byte lane) => LaneOp(0x1E, "i64x2.replace_lane", Effects.V128I64ToV128, lane, 2);

    /// <summary><c>f32x4.extract_lane</c> [v128] → [f32], opcode 0xFD 31: Lane <paramref name="lane"/> of f32x4.</summary>
    /// <param name="lane">Lane index, below 4.</param>
    public WasmFunctionBuilder F32x4ExtractLane(byte lane) => LaneOp(0x1F, "f32x4.extract_lane", Effects.V128ToF32, lane, 4);

    /// <summary><c>f32x4.replace_lane</c> [v128 f32] → [v128], opcode 0xFD 32: Replaces lane <paramref name="lane"/> of f32x4.</summary>
    /// <param name="lane">Lane index, below 4.</param>
    public WasmFunctionBuilder F32x4ReplaceLane(byte lane) => LaneOp(0x20, "f32x4.replace_lane", Effects.V128F32ToV128, lane, 4);

    /// <summary><c>f64x2.extract_lane</c> [v128] → [f64], opcode 0xFD 33: Lane <paramref name="lane"/> of f64x2.</summary>
    /// <param name="lane">Lane index, below 2.</param>
    public WasmFunctionBuilder F64x2ExtractLane(byte lane) => LaneOp(0x21, "f64x2.extract_lane", Effects.V128ToF64, lane, 2);

    /// <summary><c>f64x2.replace_lane</c> [v128 f64] → [v128], opcode 0xFD 34: Replaces lane <paramref name="lane"/> of f64x2.</summary>
    /// <param name="lane">Lane index, below 2.</param>
    public WasmFunctionBuilder F64x2ReplaceLane(byte lane) => LaneOp(0x22, "f64x2.replace_lane", Effects.V128F64ToV128, lane, 2);

    /// <summary><c>i8x16.eq</c> [v128 v128] → [v128], opcode 0xFD 35: Lane-wise equal (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16Eq() => Prefixed(0xFD, 0x23, "i8x16.eq", Effects.V128V128ToV128);

    /// <summary><c>i8x16.ne</c> [v128 v128] → [v128], opcode 0xFD 36: Lane-wise not equal (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16Ne() => Prefixed(0xFD, 0x24, "i8x16.ne", Effects.V128V128ToV128);

    /// <summary><c>i8x16.lt_s</c> [v128 v128] → [v128], opcode 0xFD 37: Lane-wise signed less than (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16LtS() => Prefixed(0xFD, 0x25, "i8x16.lt_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.lt_u</c> [v128 v128] → [v128], opcode 0xFD 38: Lane-wise unsigned less than (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16LtU() => Prefixed(0xFD, 0x26, "i8x16.lt_u", Effects.V128V128ToV128);

    /// <summary><c>i8x16.gt_s</c> [v128 v128] → [v128], opcode 0xFD 39: Lane-wise signed greater than (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16GtS() => Prefixed(0xFD, 0x27, "i8x16.gt_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.gt_u</c> [v128 v128] → [v128], opcode 0xFD 40: Lane-wise unsigned greater than (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16GtU() => Prefixed(0xFD, 0x28, "i8x16.gt_u", Effects.V128V128ToV128);

    /// <summary><c>i8x16.le_s</c> [v128 v128] → [v128], opcode 0xFD 41: Lane-wise signed less than or equal (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16LeS() => Prefixed(0xFD, 0x29, "i8x16.le_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.le_u</c> [v128 v128] → [v128], opcode 0xFD 42: Lane-wise unsigned less than or equal (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16LeU() => Prefixed(0xFD, 0x2A, "i8x16.le_u", Effects.V128V128ToV128);

    /// <summary><c>i8x16.ge_s</c> [v128 v128] → [v128], opcode 0xFD 43: Lane-wise signed greater than or equal (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16GeS() => Prefixed(0xFD, 0x2B, "i8x16.ge_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.ge_u</c> [v128 v128] → [v128], opcode 0xFD 44: Lane-wise unsigned greater than or equal (i8x16), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I8x16GeU() => Prefixed(0xFD, 0x2C, "i8x16.ge_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.eq</c> [v128 v128] → [v128], opcode 0xFD 45: Lane-wise equal (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8Eq() => Prefixed(0xFD, 0x2D, "i16x8.eq", Effects.V128V128ToV128);

    /// <summary><c>i16x8.ne</c> [v128 v128] → [v128], opcode 0xFD 46: Lane-wise not equal (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8Ne() => Prefixed(0xFD, 0x2E, "i16x8.ne", Effects.V128V128ToV128);

    /// <summary><c>i16x8.lt_s</c> [v128 v128] → [v128], opcode 0xFD 47: Lane-wise signed less than (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8LtS() => Prefixed(0xFD, 0x2F, "i16x8.lt_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.lt_u</c> [v128 v128] → [v128], opcode 0xFD 48: Lane-wise unsigned less than (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8LtU() => Prefixed(0xFD, 0x30, "i16x8.lt_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.gt_s</c> [v128 v128] → [v128], opcode 0xFD 49: Lane-wise signed greater than (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8GtS() => Prefixed(0xFD, 0x31, "i16x8.gt_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.gt_u</c> [v128 v128] → [v128], opcode 0xFD 50: Lane-wise unsigned greater than (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8GtU() => Prefixed(0xFD, 0x32, "i16x8.gt_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.le_s</c> [v128 v128] → [v128], opcode 0xFD 51: Lane-wise signed less than or equal (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8LeS() => Prefixed(0xFD, 0x33, "i16x8.le_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.le_u</c> [v128 v128] → [v128], opcode 0xFD 52: Lane-wise unsigned less than or equal (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8LeU() => Prefixed(0xFD, 0x34, "i16x8.le_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.ge_s</c> [v128 v128] → [v128], opcode 0xFD 53: Lane-wise signed greater than or equal (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8GeS() => Prefixed(0xFD, 0x35, "i16x8.ge_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.ge_u</c> [v128 v128] → [v128], opcode 0xFD 54: Lane-wise unsigned greater than or equal (i16x8), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I16x8GeU() => Prefixed(0xFD, 0x36, "i16x8.ge_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.eq</c> [v128 v128] → [v128], opcode 0xFD 55: Lane-wise equal (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4Eq() => Prefixed(0xFD, 0x37, "i32x4.eq", Effects.V128V128ToV128);

    /// <summary><c>i32x4.ne</c> [v128 v128] → [v128], opcode 0xFD 56: Lane-wise not equal (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4Ne() => Prefixed(0xFD, 0x38, "i32x4.ne", Effects.V128V128ToV128);

    /// <summary><c>i32x4.lt_s</c> [v128 v128] → [v128], opcode 0xFD 57: Lane-wise signed less than (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4LtS() => Prefixed(0xFD, 0x39, "i32x4.lt_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.lt_u</c> [v128 v128] → [v128], opcode 0xFD 58: Lane-wise unsigned less than (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4LtU() => Prefixed(0xFD, 0x3A, "i32x4.lt_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.gt_s</c> [v128 v128] → [v128], opcode 0xFD 59: Lane-wise signed greater than (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4GtS() => Prefixed(0xFD, 0x3B, "i32x4.gt_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.gt_u</c> [v128 v128] → [v128], opcode 0xFD 60: Lane-wise unsigned greater than (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4GtU() => Prefixed(0xFD, 0x3C, "i32x4.gt_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.le_s</c> [v128 v128] → [v128], opcode 0xFD 61: Lane-wise signed less than or equal (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4LeS() => Prefixed(0xFD, 0x3D, "i32x4.le_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.le_u</c> [v128 v128] → [v128], opcode 0xFD 62: Lane-wise unsigned less than or equal (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4LeU() => Prefixed(0xFD, 0x3E, "i32x4.le_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.ge_s</c> [v128 v128] → [v128], opcode 0xFD 63: Lane-wise signed greater than or equal (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4GeS() => Prefixed(0xFD, 0x3F, "i32x4.ge_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.ge_u</c> [v128 v128] → [v128], opcode 0xFD 64: Lane-wise unsigned greater than or equal (i32x4), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I32x4GeU() => Prefixed(0xFD, 0x40, "i32x4.ge_u", Effects.V128V128ToV128);

    /// <summary><c>f32x4.eq</c> [v128 v128] → [v128], opcode 0xFD 65: Lane-wise equal (f32x4), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F32x4Eq() => Prefixed(0xFD, 0x41, "f32x4.eq", Effects.V128V128ToV128);

    /// <summary><c>f32x4.ne</c> [v128 v128] → [v128], opcode 0xFD 66: Lane-wise not equal (f32x4), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F32x4Ne() => Prefixed(0xFD, 0x42, "f32x4.ne", Effects.V128V128ToV128);

    /// <summary><c>f32x4.lt</c> [v128 v128] → [v128], opcode 0xFD 67: Lane-wise less than (f32x4), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F32x4Lt() => Prefixed(0xFD, 0x43, "f32x4.lt", Effects.V128V128ToV128);

    /// <summary><c>f32x4.gt</c> [v128 v128] → [v128], opcode 0xFD 68: Lane-wise greater than (f32x4), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F32x4Gt() => Prefixed(0xFD, 0x44, "f32x4.gt", Effects.V128V128ToV128);

    /// <summary><c>f32x4.le</c> [v128 v128] → [v128], opcode 0xFD 69: Lane-wise less than or equal (f32x4), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F32x4Le() => Prefixed(0xFD, 0x45, "f32x4.le", Effects.V128V128ToV128);

    /// <summary><c>f32x4.ge</c> [v128 v128] → [v128], opcode 0xFD 70: Lane-wise greater than or equal (f32x4), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F32x4Ge() => Prefixed(0xFD, 0x46, "f32x4.ge", Effects.V128V128ToV128);

    /// <summary><c>f64x2.eq</c> [v128 v128] → [v128], opcode 0xFD 71: Lane-wise equal (f64x2), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F64x2Eq() => Prefixed(0xFD, 0x47, "f64x2.eq", Effects.V128V128ToV128);

    /// <summary><c>f64x2.ne</c> [v128 v128] → [v128], opcode 0xFD 72: Lane-wise not equal (f64x2), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F64x2Ne() => Prefixed(0xFD, 0x48, "f64x2.ne", Effects.V128V128ToV128);

    /// <summary><c>f64x2.lt</c> [v128 v128] → [v128], opcode 0xFD 73: Lane-wise less than (f64x2), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F64x2Lt() => Prefixed(0xFD, 0x49, "f64x2.lt", Effects.V128V128ToV128);

    /// <summary><c>f64x2.gt</c> [v128 v128] → [v128], opcode 0xFD 74: Lane-wise greater than (f64x2), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F64x2Gt() => Prefixed(0xFD, 0x4A, "f64x2.gt", Effects.V128V128ToV128);

    /// <summary><c>f64x2.le</c> [v128 v128] → [v128], opcode 0xFD 75: Lane-wise less than or equal (f64x2), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F64x2Le() => Prefixed(0xFD, 0x4B, "f64x2.le", Effects.V128V128ToV128);

    /// <summary><c>f64x2.ge</c> [v128 v128] → [v128], opcode 0xFD 76: Lane-wise greater than or equal (f64x2), per lane: all ones if true, else zero (false for NaN, except ne).</summary>
    public WasmFunctionBuilder F64x2Ge() => Prefixed(0xFD, 0x4C, "f64x2.ge", Effects.V128V128ToV128);

    /// <summary><c>v128.not</c> [v128] → [v128], opcode 0xFD 77: Bitwise not.</summary>
    public WasmFunctionBuilder V128Not() => Prefixed(0xFD, 0x4D, "v128.not", Effects.V128ToV128);

    /// <summary><c>v128.and</c> [v128 v128] → [v128], opcode 0xFD 78: Bitwise and.</summary>
    public WasmFunctionBuilder V128And() => Prefixed(0xFD, 0x4E, "v128.and", Effects.V128V128ToV128);

    /// <summary><c>v128.andnot</c> [v128 v128] → [v128], opcode 0xFD 79: Bitwise and of the first operand with the complement of the second (<c>a &amp; ~b</c>).</summary>
    public WasmFunctionBuilder V128Andnot() => Prefixed(0xFD, 0x4F, "v128.andnot", Effects.V128V128ToV128);

    /// <summary><c>v128.or</c> [v128 v128] → [v128], opcode 0xFD 80: Bitwise or.</summary>
    public WasmFunctionBuilder V128Or() => Prefixed(0xFD, 0x50, "v128.or", Effects.V128V128ToV128);

    /// <summary><c>v128.xor</c> [v128 v128] → [v128], opcode 0xFD 81: Bitwise exclusive or.</summary>
    public WasmFunctionBuilder V128Xor() => Prefixed(0xFD, 0x51, "v128.xor", Effects.V128V128ToV128);

    /// <summary><c>v128.bitselect</c> [v128 v128 v128] → [v128], opcode 0xFD 82: Bits of the first operand where the third (mask) has ones, else bits of the second: <c>(a &amp; m) | (b &amp; ~m)</c>.</summary>
    public WasmFunctionBuilder V128Bitselect() => Prefixed(0xFD, 0x52, "v128.bitselect", Effects.V128V128V128ToV128);

    /// <summary><c>v128.any_true</c> [v128] → [i32], opcode 0xFD 83: 1 if any bit is set, else 0.</summary>
    public WasmFunctionBuilder V128AnyTrue() => Prefixed(0xFD, 0x53, "v128.any_true", Effects.V128ToI32);

    /// <summary><c>f32x4.demote_f64x2_zero</c> [v128] → [v128], opcode 0xFD 94: Rounds the two f64 lanes to f32 in lanes 0 and 1 (nearest even); lanes 2 and 3 are zero.</summary>
    public WasmFunctionBuilder F32x4DemoteF64x2Zero() => Prefixed(0xFD, 0x5E, "f32x4.demote_f64x2_zero", Effects.V128ToV128);

    /// <summary><c>f64x2.promote_low_f32x4</c> [v128] → [v128], opcode 0xFD 95: Widens f32 lanes 0 and 1 to f64 exactly.</summary>
    public WasmFunctionBuilder F64x2PromoteLowF32x4() => Prefixed(0xFD, 0x5F, "f64x2.promote_low_f32x4", Effects.V128ToV128);

    /// <summary><c>i8x16.abs</c> [v128] → [v128], opcode 0xFD 96: Lane-wise wrapping absolute value (-128 stays -128).</summary>
    public WasmFunctionBuilder I8x16Abs() => Prefixed(0xFD, 0x60, "i8x16.abs", Effects.V128ToV128);

    /// <summary><c>i8x16.neg</c> [v128] → [v128], opcode 0xFD 97: Lane-wise wrapping negation.</summary>
    public WasmFunctionBuilder I8x16Neg() => Prefixed(0xFD, 0x61, "i8x16.neg", Effects.V128ToV128);

    /// <summary><c>i8x16.popcnt</c> [v128] → [v128], opcode 0xFD 98: Lane-wise number of one bits.</summary>
    public WasmFunctionBuilder I8x16Popcnt() => Prefixed(0xFD, 0x62, "i8x16.popcnt", Effects.V128ToV128);

    /// <summary><c>i8x16.all_true</c> [v128] → [i32], opcode 0xFD 99: 1 if every i8 lane is non-zero, else 0.</summary>
    public WasmFunctionBuilder I8x16AllTrue() => Prefixed(0xFD, 0x63, "i8x16.all_true", Effects.V128ToI32);

    /// <summary><c>i8x16.bitmask</c> [v128] → [i32], opcode 0xFD 100: The sign bits of the 16 lanes as an i32 (bit i from lane i).</summary>
    public WasmFunctionBuilder I8x16Bitmask() => Prefixed(0xFD, 0x64, "i8x16.bitmask", Effects.V128ToI32);

    /// <summary><c>i8x16.narrow_i16x8_s</c> [v128 v128] → [v128], opcode 0xFD 101: Narrows the eight i16 lanes of the first operand (lanes 0-7) and of the second (lanes 8-15) to i8, saturating signed.</summary>
    public WasmFunctionBuilder I8x16NarrowI16x8S() => Prefixed(0xFD, 0x65, "i8x16.narrow_i16x8_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.narrow_i16x8_u</c> [v128 v128] → [v128], opcode 0xFD 102: Narrows the signed i16 lanes of the first operand (lanes 0-7) and of the second (lanes 8-15) to u8, saturating to [0, 255].</summary>
    public WasmFunctionBuilder I8x16NarrowI16x8U() => Prefixed(0xFD, 0x66, "i8x16.narrow_i16x8_u", Effects.V128V128ToV128);

    /// <summary><c>f32x4.ceil</c> [v128] → [v128], opcode 0xFD 103: Lane-wise rounds up to an integer.</summary>
    public WasmFunctionBuilder F32x4Ceil() => Prefixed(0xFD, 0x67, "f32x4.ceil", Effects.V128ToV128);

    /// <summary><c>f32x4.floor</c> [v128] → [v128], opcode 0xFD 104: Lane-wise rounds down to an integer.</summary>
    public WasmFunctionBuilder F32x4Floor() => Prefixed(0xFD, 0x68, "f32x4.floor", Effects.V128ToV128);

    /// <summary><c>f32x4.trunc</c> [v128] → [v128], opcode 0xFD 105: Lane-wise rounds toward zero to an integer.</summary>
    public WasmFunctionBuilder F32x4Trunc() => Prefixed(0xFD, 0x69, "f32x4.trunc", Effects.V128ToV128);

    /// <summary><c>f32x4.nearest</c> [v128] → [v128], opcode 0xFD 106: Lane-wise rounds to the nearest integer, ties to even.</summary>
    public WasmFunctionBuilder F32x4Nearest() => Prefixed(0xFD, 0x6A, "f32x4.nearest", Effects.V128ToV128);

    /// <summary><c>i8x16.shl</c> [v128 i32] → [v128], opcode 0xFD 107: Lane-wise shift left by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I8x16Shl() => Prefixed(0xFD, 0x6B, "i8x16.shl", Effects.V128I32ToV128);

    /// <summary><c>i8x16.shr_s</c> [v128 i32] → [v128], opcode 0xFD 108: Lane-wise arithmetic shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I8x16ShrS() => Prefixed(0xFD, 0x6C, "i8x16.shr_s", Effects.V128I32ToV128);

    /// <summary><c>i8x16.shr_u</c> [v128 i32] → [v128], opcode 0xFD 109: Lane-wise logical shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I8x16ShrU() => Prefixed(0xFD, 0x6D, "i8x16.shr_u", Effects.V128I32ToV128);

    /// <summary><c>i8x16.add</c> [v128 v128] → [v128], opcode 0xFD 110: Lane-wise wrapping addition.</summary>
    public WasmFunctionBuilder I8x16Add() => Prefixed(0xFD, 0x6E, "i8x16.add", Effects.V128V128ToV128);

    /// <summary><c>i8x16.add_sat_s</c> [v128 v128] → [v128], opcode 0xFD 111: Lane-wise addition saturating to [-128, 127].</summary>
    public WasmFunctionBuilder I8x16AddSatS() => Prefixed(0xFD, 0x6F, "i8x16.add_sat_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.add_sat_u</c> [v128 v128] → [v128], opcode 0xFD 112: Lane-wise unsigned addition saturating to [0, 255].</summary>
    public WasmFunctionBuilder I8x16AddSatU() => Prefixed(0xFD, 0x70, "i8x16.add_sat_u", Effects.V128V128ToV128);

    /// <summary><c>i8x16.sub</c> [v128 v128] → [v128], opcode 0xFD 113: Lane-wise wrapping subtraction.</summary>
    public WasmFunctionBuilder I8x16Sub() => Prefixed(0xFD, 0x71, "i8x16.sub", Effects.V128V128ToV128);

    /// <summary><c>i8x16.sub_sat_s</c> [v128 v128] → [v128], opcode 0xFD 114: Lane-wise subtraction saturating to [-128, 127].</summary>
    public WasmFunctionBuilder I8x16SubSatS() => Prefixed(0xFD, 0x72, "i8x16.sub_sat_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.sub_sat_u</c> [v128 v128] → [v128], opcode 0xFD 115: Lane-wise unsigned subtraction saturating to [0, 255].</summary>
    public WasmFunctionBuilder I8x16SubSatU() => Prefixed(0xFD, 0x73, "i8x16.sub_sat_u", Effects.V128V128ToV128);

    /// <summary><c>f64x2.ceil</c> [v128] → [v128], opcode 0xFD 116: Lane-wise rounds up to an integer.</summary>
    public WasmFunctionBuilder F64x2Ceil() => Prefixed(0xFD, 0x74, "f64x2.ceil", Effects.V128ToV128);

    /// <summary><c>f64x2.floor</c> [v128] → [v128], opcode 0xFD 117: Lane-wise rounds down to an integer.</summary>
    public WasmFunctionBuilder F64x2Floor() => Prefixed(0xFD, 0x75, "f64x2.floor", Effects.V128ToV128);

    /// <summary><c>i8x16.min_s</c> [v128 v128] → [v128], opcode 0xFD 118: Lane-wise signed minimum.</summary>
    public WasmFunctionBuilder I8x16MinS() => Prefixed(0xFD, 0x76, "i8x16.min_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.min_u</c> [v128 v128] → [v128], opcode 0xFD 119: Lane-wise unsigned minimum.</summary>
    public WasmFunctionBuilder I8x16MinU() => Prefixed(0xFD, 0x77, "i8x16.min_u", Effects.V128V128ToV128);

    /// <summary><c>i8x16.max_s</c> [v128 v128] → [v128], opcode 0xFD 120: Lane-wise signed maximum.</summary>
    public WasmFunctionBuilder I8x16MaxS() => Prefixed(0xFD, 0x78, "i8x16.max_s", Effects.V128V128ToV128);

    /// <summary><c>i8x16.max_u</c> [v128 v128] → [v128], opcode 0xFD 121: Lane-wise unsigned maximum.</summary>
    public WasmFunctionBuilder I8x16MaxU() => Prefixed(0xFD, 0x79, "i8x16.max_u", Effects.V128V128ToV128);

    /// <summary><c>f64x2.trunc</c> [v128] → [v128], opcode 0xFD 122: Lane-wise rounds toward zero to an integer.</summary>
    public WasmFunctionBuilder F64x2Trunc() => Prefixed(0xFD, 0x7A, "f64x2.trunc", Effects.V128ToV128);

    /// <summary><c>i8x16.avgr_u</c> [v128 v128] → [v128], opcode 0xFD 123: Lane-wise unsigned rounding average <c>(a + b + 1) &gt;&gt; 1</c>.</summary>
    public WasmFunctionBuilder I8x16AvgrU() => Prefixed(0xFD, 0x7B, "i8x16.avgr_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.extadd_pairwise_i8x16_s</c> [v128] → [v128], opcode 0xFD 124: Sums adjacent pairs of signed i8 lanes into i16 lanes (lane i = 2i + 2i+1).</summary>
    public WasmFunctionBuilder I16x8ExtaddPairwiseI8x16S() => Prefixed(0xFD, 0x7C, "i16x8.extadd_pairwise_i8x16_s", Effects.V128ToV128);

    /// <summary><c>i16x8.extadd_pairwise_i8x16_u</c> [v128] → [v128], opcode 0xFD 125: Sums adjacent pairs of unsigned i8 lanes into i16 lanes.</summary>
    public WasmFunctionBuilder I16x8ExtaddPairwiseI8x16U() => Prefixed(0xFD, 0x7D, "i16x8.extadd_pairwise_i8x16_u", Effects.V128ToV128);

    /// <summary><c>i32x4.extadd_pairwise_i16x8_s</c> [v128] → [v128], opcode 0xFD 126: Sums adjacent pairs of signed i16 lanes into i32 lanes.</summary>
    public WasmFunctionBuilder I32x4ExtaddPairwiseI16x8S() => Prefixed(0xFD, 0x7E, "i32x4.extadd_pairwise_i16x8_s", Effects.V128ToV128);

    /// <summary><c>i32x4.extadd_pairwise_i16x8_u</c> [v128] → [v128], opcode 0xFD 127: Sums adjacent pairs of unsigned i16 lanes into i32 lanes.</summary>
    public WasmFunctionBuilder I32x4ExtaddPairwiseI16x8U() => Prefixed(0xFD, 0x7F, "i32x4.extadd_pairwise_i16x8_u", Effects.V128ToV128);

    /// <summary><c>i16x8.abs</c> [v128] → [v128], opcode 0xFD 128: Lane-wise wrapping absolute value.</summary>
    public WasmFunctionBuilder I16x8Abs() => Prefixed(0xFD, 0x80, "i16x8.abs", Effects.V128ToV128);

    /// <summary><c>i16x8.neg</c> [v128] → [v128], opcode 0xFD 129: Lane-wise wrapping negation.</summary>
    public WasmFunctionBuilder I16x8Neg() => Prefixed(0xFD, 0x81, "i16x8.neg", Effects.V128ToV128);

    /// <summary><c>i16x8.q15mulr_sat_s</c> [v128 v128] → [v128], opcode 0xFD 130: Lane-wise Q15 multiplication <c>(a * b + 0x4000) &gt;&gt; 15</c>, saturating to [-32768, 32767].</summary>
    public WasmFunctionBuilder I16x8Q15mulrSatS() => Prefixed(0xFD, 0x82, "i16x8.q15mulr_sat_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.all_true</c> [v128] → [i32], opcode 0xFD 131: 1 if every i16 lane is non-zero, else 0.</summary>
    public WasmFunctionBuilder I16x8AllTrue() => Prefixed(0xFD, 0x83, "i16x8.all_true", Effects.V128ToI32);

    /// <summary><c>i16x8.bitmask</c> [v128] → [i32], opcode 0xFD 132: The sign bits of the 8 lanes as an i32 (bit i from lane i).</summary>
    public WasmFunctionBuilder I16x8Bitmask() => Prefixed(0xFD, 0x84, "i16x8.bitmask", Effects.V128ToI32);

    /// <summary><c>i16x8.narrow_i32x4_s</c> [v128 v128] → [v128], opcode 0xFD 133: Narrows the four i32 lanes of the first operand (lanes 0-3) and of the second (lanes 4-7) to i16, saturating signed.</summary>
    public WasmFunctionBuilder I16x8NarrowI32x4S() => Prefixed(0xFD, 0x85, "i16x8.narrow_i32x4_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.narrow_i32x4_u</c> [v128 v128] → [v128], opcode 0xFD 134: Narrows the signed i32 lanes of the first operand (lanes 0-3) and of the second (lanes 4-7) to u16, saturating to [0, 65535].</summary>
    public WasmFunctionBuilder I16x8NarrowI32x4U() => Prefixed(0xFD, 0x86, "i16x8.narrow_i32x4_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.extend_low_i8x16_s</c> [v128] → [v128], opcode 0xFD 135: Sign-extends i8 lanes 0-7 to i16.</summary>
    public WasmFunctionBuilder I16x8ExtendLowI8x16S() => Prefixed(0xFD, 0x87, "i16x8.extend_low_i8x16_s", Effects.V128ToV128);

    /// <summary><c>i16x8.extend_high_i8x16_s</c> [v128] → [v128], opcode 0xFD 136: Sign-extends i8 lanes 8-15 to i16.</summary>
    public WasmFunctionBuilder I16x8ExtendHighI8x16S() => Prefixed(0xFD, 0x88, "i16x8.extend_high_i8x16_s", Effects.V128ToV128);

    /// <summary><c>i16x8.extend_low_i8x16_u</c> [v128] → [v128], opcode 0xFD 137: Zero-extends i8 lanes 0-7 to i16.</summary>
    public WasmFunctionBuilder I16x8ExtendLowI8x16U() => Prefixed(0xFD, 0x89, "i16x8.extend_low_i8x16_u", Effects.V128ToV128);

    /// <summary><c>i16x8.extend_high_i8x16_u</c> [v128] → [v128], opcode 0xFD 138: Zero-extends i8 lanes 8-15 to i16.</summary>
    public WasmFunctionBuilder I16x8ExtendHighI8x16U() => Prefixed(0xFD, 0x8A, "i16x8.extend_high_i8x16_u", Effects.V128ToV128);

    /// <summary><c>i16x8.shl</c> [v128 i32] → [v128], opcode 0xFD 139: Lane-wise shift left by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I16x8Shl() => Prefixed(0xFD, 0x8B, "i16x8.shl", Effects.V128I32ToV128);

    /// <summary><c>i16x8.shr_s</c> [v128 i32] → [v128], opcode 0xFD 140: Lane-wise arithmetic shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I16x8ShrS() => Prefixed(0xFD, 0x8C, "i16x8.shr_s", Effects.V128I32ToV128);

    /// <summary><c>i16x8.shr_u</c> [v128 i32] → [v128], opcode 0xFD 141: Lane-wise logical shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I16x8ShrU() => Prefixed(0xFD, 0x8D, "i16x8.shr_u", Effects.V128I32ToV128);

    /// <summary><c>i16x8.add</c> [v128 v128] → [v128], opcode 0xFD 142: Lane-wise wrapping addition.</summary>
    public WasmFunctionBuilder I16x8Add() => Prefixed(0xFD, 0x8E, "i16x8.add", Effects.V128V128ToV128);

    /// <summary><c>i16x8.add_sat_s</c> [v128 v128] → [v128], opcode 0xFD 143: Lane-wise addition saturating to [-32768, 32767].</summary>
    public WasmFunctionBuilder I16x8AddSatS() => Prefixed(0xFD, 0x8F, "i16x8.add_sat_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.add_sat_u</c> [v128 v128] → [v128], opcode 0xFD 144: Lane-wise unsigned addition saturating to [0, 65535].</summary>
    public WasmFunctionBuilder I16x8AddSatU() => Prefixed(0xFD, 0x90, "i16x8.add_sat_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.sub</c> [v128 v128] → [v128], opcode 0xFD 145: Lane-wise wrapping subtraction.</summary>
    public WasmFunctionBuilder I16x8Sub() => Prefixed(0xFD, 0x91, "i16x8.sub", Effects.V128V128ToV128);

    /// <summary><c>i16x8.sub_sat_s</c> [v128 v128] → [v128], opcode 0xFD 146: Lane-wise subtraction saturating to [-32768, 32767].</summary>
    public WasmFunctionBuilder I16x8SubSatS() => Prefixed(0xFD, 0x92, "i16x8.sub_sat_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.sub_sat_u</c> [v128 v128] → [v128], opcode 0xFD 147: Lane-wise unsigned subtraction saturating to [0, 65535].</summary>
    public WasmFunctionBuilder I16x8SubSatU() => Prefixed(0xFD, 0x93, "i16x8.sub_sat_u", Effects.V128V128ToV128);

    /// <summary><c>f64x2.nearest</c> [v128] → [v128], opcode 0xFD 148: Lane-wise rounds to the nearest integer, ties to even.</summary>
    public WasmFunctionBuilder F64x2Nearest() => Prefixed(0xFD, 0x94, "f64x2.nearest", Effects.V128ToV128);

    /// <summary><c>i16x8.mul</c> [v128 v128] → [v128], opcode 0xFD 149: Lane-wise wrapping multiplication.</summary>
    public WasmFunctionBuilder I16x8Mul() => Prefixed(0xFD, 0x95, "i16x8.mul", Effects.V128V128ToV128);

    /// <summary><c>i16x8.min_s</c> [v128 v128] → [v128], opcode 0xFD 150: Lane-wise signed minimum.</summary>
    public WasmFunctionBuilder I16x8MinS() => Prefixed(0xFD, 0x96, "i16x8.min_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.min_u</c> [v128 v128] → [v128], opcode 0xFD 151: Lane-wise unsigned minimum.</summary>
    public WasmFunctionBuilder I16x8MinU() => Prefixed(0xFD, 0x97, "i16x8.min_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.max_s</c> [v128 v128] → [v128], opcode 0xFD 152: Lane-wise signed maximum.</summary>
    public WasmFunctionBuilder I16x8MaxS() => Prefixed(0xFD, 0x98, "i16x8.max_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.max_u</c> [v128 v128] → [v128], opcode 0xFD 153: Lane-wise unsigned maximum.</summary>
    public WasmFunctionBuilder I16x8MaxU() => Prefixed(0xFD, 0x99, "i16x8.max_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.avgr_u</c> [v128 v128] → [v128], opcode 0xFD 155: Lane-wise unsigned rounding average <c>(a + b + 1) &gt;&gt; 1</c>.</summary>
    public WasmFunctionBuilder I16x8AvgrU() => Prefixed(0xFD, 0x9B, "i16x8.avgr_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.extmul_low_i8x16_s</c> [v128 v128] → [v128], opcode 0xFD 156: Multiplies signed i8 lanes 0-7 of both operands into i16 lanes (exact).</summary>
    public WasmFunctionBuilder I16x8ExtmulLowI8x16S() => Prefixed(0xFD, 0x9C, "i16x8.extmul_low_i8x16_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.extmul_high_i8x16_s</c> [v128 v128] → [v128], opcode 0xFD 157: Multiplies signed i8 lanes 8-15 of both operands into i16 lanes (exact).</summary>
    public WasmFunctionBuilder I16x8ExtmulHighI8x16S() => Prefixed(0xFD, 0x9D, "i16x8.extmul_high_i8x16_s", Effects.V128V128ToV128);

    /// <summary><c>i16x8.extmul_low_i8x16_u</c> [v128 v128] → [v128], opcode 0xFD 158: Multiplies unsigned i8 lanes 0-7 of both operands into i16 lanes (exact).</summary>
    public WasmFunctionBuilder I16x8ExtmulLowI8x16U() => Prefixed(0xFD, 0x9E, "i16x8.extmul_low_i8x16_u", Effects.V128V128ToV128);

    /// <summary><c>i16x8.extmul_high_i8x16_u</c> [v128 v128] → [v128], opcode 0xFD 159: Multiplies unsigned i8 lanes 8-15 of both operands into i16 lanes (exact).</summary>
    public WasmFunctionBuilder I16x8ExtmulHighI8x16U() => Prefixed(0xFD, 0x9F, "i16x8.extmul_high_i8x16_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.abs</c> [v128] → [v128], opcode 0xFD 160: Lane-wise wrapping absolute value.</summary>
    public WasmFunctionBuilder I32x4Abs() => Prefixed(0xFD, 0xA0, "i32x4.abs", Effects.V128ToV128);

    /// <summary><c>i32x4.neg</c> [v128] → [v128], opcode 0xFD 161: Lane-wise wrapping negation.</summary>
    public WasmFunctionBuilder I32x4Neg() => Prefixed(0xFD, 0xA1, "i32x4.neg", Effects.V128ToV128);

    /// <summary><c>i32x4.all_true</c> [v128] → [i32], opcode 0xFD 163: 1 if every i32 lane is non-zero, else 0.</summary>
    public WasmFunctionBuilder I32x4AllTrue() => Prefixed(0xFD, 0xA3, "i32x4.all_true", Effects.V128ToI32);

    /// <summary><c>i32x4.bitmask</c> [v128] → [i32], opcode 0xFD 164: The sign bits of the 4 lanes as an i32 (bit i from lane i).</summary>
    public WasmFunctionBuilder I32x4Bitmask() => Prefixed(0xFD, 0xA4, "i32x4.bitmask", Effects.V128ToI32);

    /// <summary><c>i32x4.extend_low_i16x8_s</c> [v128] → [v128], opcode 0xFD 167: Sign-extends i16 lanes 0-3 to i32.</summary>
    public WasmFunctionBuilder I32x4ExtendLowI16x8S() => Prefixed(0xFD, 0xA7, "i32x4.extend_low_i16x8_s", Effects.V128ToV128);

    /// <summary><c>i32x4.extend_high_i16x8_s</c> [v128] → [v128], opcode 0xFD 168: Sign-extends i16 lanes 4-7 to i32.</summary>
    public WasmFunctionBuilder I32x4ExtendHighI16x8S() => Prefixed(0xFD, 0xA8, "i32x4.extend_high_i16x8_s", Effects.V128ToV128);

    /// <summary><c>i32x4.extend_low_i16x8_u</c> [v128] → [v128], opcode 0xFD 169: Zero-extends i16 lanes 0-3 to i32.</summary>
    public WasmFunctionBuilder I32x4ExtendLowI16x8U() => Prefixed(0xFD, 0xA9, "i32x4.extend_low_i16x8_u", Effects.V128ToV128);

    /// <summary><c>i32x4.extend_high_i16x8_u</c> [v128] → [v128], opcode 0xFD 170: Zero-extends i16 lanes 4-7 to i32.</summary>
    public WasmFunctionBuilder I32x4ExtendHighI16x8U() => Prefixed(0xFD, 0xAA, "i32x4.extend_high_i16x8_u", Effects.V128ToV128);

    /// <summary><c>i32x4.shl</c> [v128 i32] → [v128], opcode 0xFD 171: Lane-wise shift left by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I32x4Shl() => Prefixed(0xFD, 0xAB, "i32x4.shl", Effects.V128I32ToV128);

    /// <summary><c>i32x4.shr_s</c> [v128 i32] → [v128], opcode 0xFD 172: Lane-wise arithmetic shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I32x4ShrS() => Prefixed(0xFD, 0xAC, "i32x4.shr_s", Effects.V128I32ToV128);

    /// <summary><c>i32x4.shr_u</c> [v128 i32] → [v128], opcode 0xFD 173: Lane-wise logical shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I32x4ShrU() => Prefixed(0xFD, 0xAD, "i32x4.shr_u", Effects.V128I32ToV128);

    /// <summary><c>i32x4.add</c> [v128 v128] → [v128], opcode 0xFD 174: Lane-wise wrapping addition.</summary>
    public WasmFunctionBuilder I32x4Add() => Prefixed(0xFD, 0xAE, "i32x4.add", Effects.V128V128ToV128);

    /// <summary><c>i32x4.sub</c> [v128 v128] → [v128], opcode 0xFD 177: Lane-wise wrapping subtraction.</summary>
    public WasmFunctionBuilder I32x4Sub() => Prefixed(0xFD, 0xB1, "i32x4.sub", Effects.V128V128ToV128);

    /// <summary><c>i32x4.mul</c> [v128 v128] → [v128], opcode 0xFD 181: Lane-wise wrapping multiplication.</summary>
    public WasmFunctionBuilder I32x4Mul() => Prefixed(0xFD, 0xB5, "i32x4.mul", Effects.V128V128ToV128);

    /// <summary><c>i32x4.min_s</c> [v128 v128] → [v128], opcode 0xFD 182: Lane-wise signed minimum.</summary>
    public WasmFunctionBuilder I32x4MinS() => Prefixed(0xFD, 0xB6, "i32x4.min_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.min_u</c> [v128 v128] → [v128], opcode 0xFD 183: Lane-wise unsigned minimum.</summary>
    public WasmFunctionBuilder I32x4MinU() => Prefixed(0xFD, 0xB7, "i32x4.min_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.max_s</c> [v128 v128] → [v128], opcode 0xFD 184: Lane-wise signed maximum.</summary>
    public WasmFunctionBuilder I32x4MaxS() => Prefixed(0xFD, 0xB8, "i32x4.max_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.max_u</c> [v128 v128] → [v128], opcode 0xFD 185: Lane-wise unsigned maximum.</summary>
    public WasmFunctionBuilder I32x4MaxU() => Prefixed(0xFD, 0xB9, "i32x4.max_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.dot_i16x8_s</c> [v128 v128] → [v128], opcode 0xFD 186: Multiplies signed i16 lanes and adds adjacent products: lane i = a[2i]·b[2i] + a[2i+1]·b[2i+1] (wraps only for -32768·-32768 twice).</summary>
    public WasmFunctionBuilder I32x4DotI16x8S() => Prefixed(0xFD, 0xBA, "i32x4.dot_i16x8_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.extmul_low_i16x8_s</c> [v128 v128] → [v128], opcode 0xFD 188: Multiplies signed i16 lanes 0-3 of both operands into i32 lanes (exact).</summary>
    public WasmFunctionBuilder I32x4ExtmulLowI16x8S() => Prefixed(0xFD, 0xBC, "i32x4.extmul_low_i16x8_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.extmul_high_i16x8_s</c> [v128 v128] → [v128], opcode 0xFD 189: Multiplies signed i16 lanes 4-7 of both operands into i32 lanes (exact).</summary>
    public WasmFunctionBuilder I32x4ExtmulHighI16x8S() => Prefixed(0xFD, 0xBD, "i32x4.extmul_high_i16x8_s", Effects.V128V128ToV128);

    /// <summary><c>i32x4.extmul_low_i16x8_u</c> [v128 v128] → [v128], opcode 0xFD 190: Multiplies unsigned i16 lanes 0-3 of both operands into i32 lanes (exact).</summary>
    public WasmFunctionBuilder I32x4ExtmulLowI16x8U() => Prefixed(0xFD, 0xBE, "i32x4.extmul_low_i16x8_u", Effects.V128V128ToV128);

    /// <summary><c>i32x4.extmul_high_i16x8_u</c> [v128 v128] → [v128], opcode 0xFD 191: Multiplies unsigned i16 lanes 4-7 of both operands into i32 lanes (exact).</summary>
    public WasmFunctionBuilder I32x4ExtmulHighI16x8U() => Prefixed(0xFD, 0xBF, "i32x4.extmul_high_i16x8_u", Effects.V128V128ToV128);

    /// <summary><c>i64x2.abs</c> [v128] → [v128], opcode 0xFD 192: Lane-wise wrapping absolute value.</summary>
    public WasmFunctionBuilder I64x2Abs() => Prefixed(0xFD, 0xC0, "i64x2.abs", Effects.V128ToV128);

    /// <summary><c>i64x2.neg</c> [v128] → [v128], opcode 0xFD 193: Lane-wise wrapping negation.</summary>
    public WasmFunctionBuilder I64x2Neg() => Prefixed(0xFD, 0xC1, "i64x2.neg", Effects.V128ToV128);

    /// <summary><c>i64x2.all_true</c> [v128] → [i32], opcode 0xFD 195: 1 if both i64 lanes are non-zero, else 0.</summary>
    public WasmFunctionBuilder I64x2AllTrue() => Prefixed(0xFD, 0xC3, "i64x2.all_true", Effects.V128ToI32);

    /// <summary><c>i64x2.bitmask</c> [v128] → [i32], opcode 0xFD 196: The sign bits of the 2 lanes as an i32 (bit i from lane i).</summary>
    public WasmFunctionBuilder I64x2Bitmask() => Prefixed(0xFD, 0xC4, "i64x2.bitmask", Effects.V128ToI32);

    /// <summary><c>i64x2.extend_low_i32x4_s</c> [v128] → [v128], opcode 0xFD 199: Sign-extends i32 lanes 0-1 to i64.</summary>
    public WasmFunctionBuilder I64x2ExtendLowI32x4S() => Prefixed(0xFD, 0xC7, "i64x2.extend_low_i32x4_s", Effects.V128ToV128);

    /// <summary><c>i64x2.extend_high_i32x4_s</c> [v128] → [v128], opcode 0xFD 200: Sign-extends i32 lanes 2-3 to i64.</summary>
    public WasmFunctionBuilder I64x2ExtendHighI32x4S() => Prefixed(0xFD, 0xC8, "i64x2.extend_high_i32x4_s", Effects.V128ToV128);

    /// <summary><c>i64x2.extend_low_i32x4_u</c> [v128] → [v128], opcode 0xFD 201: Zero-extends i32 lanes 0-1 to i64.</summary>
    public WasmFunctionBuilder I64x2ExtendLowI32x4U() => Prefixed(0xFD, 0xC9, "i64x2.extend_low_i32x4_u", Effects.V128ToV128);

    /// <summary><c>i64x2.extend_high_i32x4_u</c> [v128] → [v128], opcode 0xFD 202: Zero-extends i32 lanes 2-3 to i64.</summary>
    public WasmFunctionBuilder I64x2ExtendHighI32x4U() => Prefixed(0xFD, 0xCA, "i64x2.extend_high_i32x4_u", Effects.V128ToV128);

    /// <summary><c>i64x2.shl</c> [v128 i32] → [v128], opcode 0xFD 203: Lane-wise shift left by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I64x2Shl() => Prefixed(0xFD, 0xCB, "i64x2.shl", Effects.V128I32ToV128);

    /// <summary><c>i64x2.shr_s</c> [v128 i32] → [v128], opcode 0xFD 204: Lane-wise arithmetic shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I64x2ShrS() => Prefixed(0xFD, 0xCC, "i64x2.shr_s", Effects.V128I32ToV128);

    /// <summary><c>i64x2.shr_u</c> [v128 i32] → [v128], opcode 0xFD 205: Lane-wise logical shift right by the i32 count modulo the lane width.</summary>
    public WasmFunctionBuilder I64x2ShrU() => Prefixed(0xFD, 0xCD, "i64x2.shr_u", Effects.V128I32ToV128);

    /// <summary><c>i64x2.add</c> [v128 v128] → [v128], opcode 0xFD 206: Lane-wise wrapping addition.</summary>
    public WasmFunctionBuilder I64x2Add() => Prefixed(0xFD, 0xCE, "i64x2.add", Effects.V128V128ToV128);

    /// <summary><c>i64x2.sub</c> [v128 v128] → [v128], opcode 0xFD 209: Lane-wise wrapping subtraction.</summary>
    public WasmFunctionBuilder I64x2Sub() => Prefixed(0xFD, 0xD1, "i64x2.sub", Effects.V128V128ToV128);

    /// <summary><c>i64x2.mul</c> [v128 v128] → [v128], opcode 0xFD 213: Lane-wise wrapping multiplication.</summary>
    public WasmFunctionBuilder I64x2Mul() => Prefixed(0xFD, 0xD5, "i64x2.mul", Effects.V128V128ToV128);

    /// <summary><c>i64x2.eq</c> [v128 v128] → [v128], opcode 0xFD 214: Lane-wise equal (i64x2), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I64x2Eq() => Prefixed(0xFD, 0xD6, "i64x2.eq", Effects.V128V128ToV128);

    /// <summary><c>i64x2.ne</c> [v128 v128] → [v128], opcode 0xFD 215: Lane-wise not equal (i64x2), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I64x2Ne() => Prefixed(0xFD, 0xD7, "i64x2.ne", Effects.V128V128ToV128);

    /// <summary><c>i64x2.lt_s</c> [v128 v128] → [v128], opcode 0xFD 216: Lane-wise signed less than (i64x2), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I64x2LtS() => Prefixed(0xFD, 0xD8, "i64x2.lt_s", Effects.V128V128ToV128);

    /// <summary><c>i64x2.gt_s</c> [v128 v128] → [v128], opcode 0xFD 217: Lane-wise signed greater than (i64x2), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I64x2GtS() => Prefixed(0xFD, 0xD9, "i64x2.gt_s", Effects.V128V128ToV128);

    /// <summary><c>i64x2.le_s</c> [v128 v128] → [v128], opcode 0xFD 218: Lane-wise signed less than or equal (i64x2), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I64x2LeS() => Prefixed(0xFD, 0xDA, "i64x2.le_s", Effects.V128V128ToV128);

    /// <summary><c>i64x2.ge_s</c> [v128 v128] → [v128], opcode 0xFD 219: Lane-wise signed greater than or equal (i64x2), per lane: all ones if true, else zero.</summary>
    public WasmFunctionBuilder I64x2GeS() => Prefixed(0xFD, 0xDB, "i64x2.ge_s", Effects.V128V128ToV128);

    /// <summary><c>i64x2.extmul_low_i32x4_s</c> [v128 v128] → [v128], opcode 0xFD 220: Multiplies signed i32 lanes 0-1 of both operands into i64 lanes (exact).</summary>
    public WasmFunctionBuilder I64x2ExtmulLowI32x4S() => Prefixed(0xFD, 0xDC, "i64x2.extmul_low_i32x4_s", Effects.V128V128ToV128);

    /// <summary><c>i64x2.extmul_high_i32x4_s</c> [v128 v128] → [v128], opcode 0xFD 221: Multiplies signed i32 lanes 2-3 of both operands into i64 lanes (exact).</summary>
    public WasmFunctionBuilder I64x2ExtmulHighI32x4S() => Prefixed(0xFD, 0xDD, "i64x2.extmul_high_i32x4_s", Effects.V128V128ToV128);

    /// <summary><c>i64x2.extmul_low_i32x4_u</c> [v128 v128] → [v128], opcode 0xFD 222: Multiplies unsigned i32 lanes 0-1 of both operands into i64 lanes (exact).</summary>
    public WasmFunctionBuilder I64x2ExtmulLowI32x4U() => Prefixed(0xFD, 0xDE, "i64x2.extmul_low_i32x4_u", Effects.V128V128ToV128);

    /// <summary><c>i64x2.extmul_high_i32x4_u</c> [v128 v128] → [v128], opcode 0xFD 223: Multiplies unsigned i32 lanes 2-3 of both operands into i64 lanes (exact).</summary>
    public WasmFunctionBuilder I64x2ExtmulHighI32x4U() => Prefixed(0xFD, 0xDF, "i64x2.extmul_high_i32x4_u", Effects.V128V128ToV128);

    /// <summary><c>f32x4.abs</c> [v128] → [v128], opcode 0xFD 224: Lane-wise absolute value (clears the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F32x4Abs() => Prefixed(0xFD, 0xE0, "f32x4.abs", Effects.V128ToV128);

    /// <summary><c>f32x4.neg</c> [v128] → [v128], opcode 0xFD 225: Lane-wise negation (flips the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F32x4Neg() => Prefixed(0xFD, 0xE1, "f32x4.neg", Effects.V128ToV128);

    /// <summary><c>f32x4.sqrt</c> [v128] → [v128], opcode 0xFD 227: Lane-wise square root, correctly rounded.</summary>
    public WasmFunctionBuilder F32x4Sqrt() => Prefixed(0xFD, 0xE3, "f32x4.sqrt", Effects.V128ToV128);

    /// <summary><c>f32x4.add</c> [v128 v128] → [v128], opcode 0xFD 228: Lane-wise IEEE 754 addition, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32x4Add() => Prefixed(0xFD, 0xE4, "f32x4.add", Effects.V128V128ToV128);

    /// <summary><c>f32x4.sub</c> [v128 v128] → [v128], opcode 0xFD 229: Lane-wise IEEE 754 subtraction, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32x4Sub() => Prefixed(0xFD, 0xE5, "f32x4.sub", Effects.V128V128ToV128);

    /// <summary><c>f32x4.mul</c> [v128 v128] → [v128], opcode 0xFD 230: Lane-wise IEEE 754 multiplication, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32x4Mul() => Prefixed(0xFD, 0xE6, "f32x4.mul", Effects.V128V128ToV128);

    /// <summary><c>f32x4.div</c> [v128 v128] → [v128], opcode 0xFD 231: Lane-wise IEEE 754 division, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32x4Div() => Prefixed(0xFD, 0xE7, "f32x4.div", Effects.V128V128ToV128);

    /// <summary><c>f32x4.min</c> [v128 v128] → [v128], opcode 0xFD 232: Lane-wise minimum; NaN if either is NaN; -0 is less than +0.</summary>
    public WasmFunctionBuilder F32x4Min() => Prefixed(0xFD, 0xE8, "f32x4.min", Effects.V128V128ToV128);

    /// <summary><c>f32x4.max</c> [v128 v128] → [v128], opcode 0xFD 233: Lane-wise maximum; NaN if either is NaN; +0 is greater than -0.</summary>
    public WasmFunctionBuilder F32x4Max() => Prefixed(0xFD, 0xE9, "f32x4.max", Effects.V128V128ToV128);

    /// <summary><c>f32x4.pmin</c> [v128 v128] → [v128], opcode 0xFD 234: Lane-wise pseudo-minimum <c>b &lt; a ? b : a</c> (C/C++ <c>std::min</c> with the operands swapped: NaN and signed zeros are not special).</summary>
    public WasmFunctionBuilder F32x4Pmin() => Prefixed(0xFD, 0xEA, "f32x4.pmin", Effects.V128V128ToV128);

    /// <summary><c>f32x4.pmax</c> [v128 v128] → [v128], opcode 0xFD 235: Lane-wise pseudo-maximum <c>a &lt; b ? b : a</c>.</summary>
    public WasmFunctionBuilder F32x4Pmax() => Prefixed(0xFD, 0xEB, "f32x4.pmax", Effects.V128V128ToV128);

    /// <summary><c>f64x2.abs</c> [v128] → [v128], opcode 0xFD 236: Lane-wise absolute value (clears the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F64x2Abs() => Prefixed(0xFD, 0xEC, "f64x2.abs", Effects.V128ToV128);

    /// <summary><c>f64x2.neg</c> [v128] → [v128], opcode 0xFD 237: Lane-wise negation (flips the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F64x2Neg() => Prefixed(0xFD, 0xED, "f64x2.neg", Effects.V128ToV128);

    /// <summary><c>f64x2.sqrt</c> [v128] → [v128], opcode 0xFD 239: Lane-wise square root, correctly rounded.</summary>
    public WasmFunctionBuilder F64x2Sqrt() => Prefixed(0xFD, 0xEF, "f64x2.sqrt", Effects.V128ToV128);

    /// <summary><c>f64x2.add</c> [v128 v128] → [v128], opcode 0xFD 240: Lane-wise IEEE 754 addition, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64x2Add() => Prefixed(0xFD, 0xF0, "f64x2.add", Effects.V128V128ToV128);

    /// <summary><c>f64x2.sub</c> [v128 v128] → [v128], opcode 0xFD 241: Lane-wise IEEE 754 subtraction, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64x2Sub() => Prefixed(0xFD, 0xF1, "f64x2.sub", Effects.V128V128ToV128);

    /// <summary><c>f64x2.mul</c> [v128 v128] → [v128], opcode 0xFD 242: Lane-wise IEEE 754 multiplication, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64x2Mul() => Prefixed(0xFD, 0xF2, "f64x2.mul", Effects.V128V128ToV128);

    /// <summary><c>f64x2.div</c> [v128 v128] → [v128], opcode 0xFD 243: Lane-wise IEEE 754 division, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64x2Div() => Prefixed(0xFD, 0xF3, "f64x2.div", Effects.V128V128ToV128);

    /// <summary><c>f64x2.min</c> [v128 v128] → [v128], opcode 0xFD 244: Lane-wise minimum; NaN if either is NaN; -0 is less than +0.</summary>
    public WasmFunctionBuilder F64x2Min() => Prefixed(0xFD, 0xF4, "f64x2.min", Effects.V128V128ToV128);

    /// <summary><c>f64x2.max</c> [v128 v128] → [v128], opcode 0xFD 245: Lane-wise maximum; NaN if either is NaN; +0 is greater than -0.</summary>
    public WasmFunctionBuilder F64x2Max() => Prefixed(0xFD, 0xF5, "f64x2.max", Effects.V128V128ToV128);

    /// <summary><c>f64x2.pmin</c> [v128 v128] → [v128], opcode 0xFD 246: Lane-wise pseudo-minimum <c>b &lt; a ? b : a</c> (C/C++ <c>std::min</c> with the operands swapped: NaN and signed zeros are not special).</summary>
    public WasmFunctionBuilder F64x2Pmin() => Prefixed(0xFD, 0xF6, "f64x2.pmin", Effects.V128V128ToV128);

    /// <summary><c>f64x2.pmax</c> [v128 v128] → [v128], opcode 0xFD 247: Lane-wise pseudo-maximum <c>a &lt; b ? b : a</c>.</summary>
    public WasmFunctionBuilder F64x2Pmax() => Prefixed(0xFD, 0xF7, "f64x2.pmax", Effects.V128V128ToV128);

    /// <summary><c>i32x4.trunc_sat_f32x4_s</c> [v128] → [v128], opcode 0xFD 248: Lane-wise f32 to signed i32: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I32x4TruncSatF32x4S() => Prefixed(0xFD, 0xF8, "i32x4.trunc_sat_f32x4_s", Effects.V128ToV128);

    /// <summary><c>i32x4.trunc_sat_f32x4_u</c> [v128] → [v128], opcode 0xFD 249: Lane-wise f32 to unsigned i32: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I32x4TruncSatF32x4U() => Prefixed(0xFD, 0xF9, "i32x4.trunc_sat_f32x4_u", Effects.V128ToV128);

    /// <summary><c>f32x4.convert_i32x4_s</c> [v128] → [v128], opcode 0xFD 250: Lane-wise signed i32 to f32, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32x4ConvertI32x4S() => Prefixed(0xFD, 0xFA, "f32x4.convert_i32x4_s", Effects.V128ToV128);

    /// <summary><c>f32x4.convert_i32x4_u</c> [v128] → [v128], opcode 0xFD 251: Lane-wise unsigned i32 to f32, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32x4ConvertI32x4U() => Prefixed(0xFD, 0xFB, "f32x4.convert_i32x4_u", Effects.V128ToV128);

    /// <summary><c>i32x4.trunc_sat_f64x2_s_zero</c> [v128] → [v128], opcode 0xFD 252: The two f64 lanes to signed i32 in lanes 0 and 1 (truncates toward zero, saturating out-of-range values; NaN gives 0); lanes 2 and 3 are zero.</summary>
    public WasmFunctionBuilder I32x4TruncSatF64x2SZero() => Prefixed(0xFD, 0xFC, "i32x4.trunc_sat_f64x2_s_zero", Effects.V128ToV128);

    /// <summary><c>i32x4.trunc_sat_f64x2_u_zero</c> [v128] → [v128], opcode 0xFD 253: The two f64 lanes to unsigned i32 in lanes 0 and 1 (truncates toward zero, saturating out-of-range values; NaN gives 0); lanes 2 and 3 are zero.</summary>
    public WasmFunctionBuilder I32x4TruncSatF64x2UZero() => Prefixed(0xFD, 0xFD, "i32x4.trunc_sat_f64x2_u_zero", Effects.V128ToV128);

    /// <summary><c>f64x2.convert_low_i32x4_s</c> [v128] → [v128], opcode 0xFD 254: Signed i32 lanes 0 and 1 to f64 (exact).</summary>
    public WasmFunctionBuilder F64x2ConvertLowI32x4S() => Prefixed(0xFD, 0xFE, "f64x2.convert_low_i32x4_s", Effects.V128ToV128);

    /// <summary><c>f64x2.convert_low_i32x4_u</c> [v128] → [v128], opcode 0xFD 255: Unsigned i32 lanes 0 and 1 to f64 (exact).</summary>
    public WasmFunctionBuilder F64x2ConvertLowI32x4U() => Prefixed(0xFD, 0xFF, "f64x2.convert_low_i32x4_u", Effects.V128ToV128);
}
