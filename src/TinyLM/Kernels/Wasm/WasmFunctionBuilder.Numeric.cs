namespace TinyLM.Kernels.Wasm;

// Scalar numeric instructions (core spec 2.0, 5.4.7 "Numeric Instructions"), generated from the
// spec's opcode table: one method per instruction, named after the text format.

public sealed partial class WasmFunctionBuilder
{
    /// <summary><c>i32.eqz</c> [i32] → [i32], opcode 0x45: 1 if the operand is zero, else 0.</summary>
    public WasmFunctionBuilder I32Eqz() => Op(0x45, "i32.eqz", Effects.I32ToI32);

    /// <summary><c>i32.eq</c> [i32 i32] → [i32], opcode 0x46: 1 if the first operand is equal the second, else 0.</summary>
    public WasmFunctionBuilder I32Eq() => Op(0x46, "i32.eq", Effects.I32I32ToI32);

    /// <summary><c>i32.ne</c> [i32 i32] → [i32], opcode 0x47: 1 if the first operand is not equal the second, else 0.</summary>
    public WasmFunctionBuilder I32Ne() => Op(0x47, "i32.ne", Effects.I32I32ToI32);

    /// <summary><c>i32.lt_s</c> [i32 i32] → [i32], opcode 0x48: 1 if the first operand is signed less than the second, else 0.</summary>
    public WasmFunctionBuilder I32LtS() => Op(0x48, "i32.lt_s", Effects.I32I32ToI32);

    /// <summary><c>i32.lt_u</c> [i32 i32] → [i32], opcode 0x49: 1 if the first operand is unsigned less than the second, else 0.</summary>
    public WasmFunctionBuilder I32LtU() => Op(0x49, "i32.lt_u", Effects.I32I32ToI32);

    /// <summary><c>i32.gt_s</c> [i32 i32] → [i32], opcode 0x4A: 1 if the first operand is signed greater than the second, else 0.</summary>
    public WasmFunctionBuilder I32GtS() => Op(0x4A, "i32.gt_s", Effects.I32I32ToI32);

    /// <summary><c>i32.gt_u</c> [i32 i32] → [i32], opcode 0x4B: 1 if the first operand is unsigned greater than the second, else 0.</summary>
    public WasmFunctionBuilder I32GtU() => Op(0x4B, "i32.gt_u", Effects.I32I32ToI32);

    /// <summary><c>i32.le_s</c> [i32 i32] → [i32], opcode 0x4C: 1 if the first operand is signed less than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I32LeS() => Op(0x4C, "i32.le_s", Effects.I32I32ToI32);

    /// <summary><c>i32.le_u</c> [i32 i32] → [i32], opcode 0x4D: 1 if the first operand is unsigned less than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I32LeU() => Op(0x4D, "i32.le_u", Effects.I32I32ToI32);

    /// <summary><c>i32.ge_s</c> [i32 i32] → [i32], opcode 0x4E: 1 if the first operand is signed greater than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I32GeS() => Op(0x4E, "i32.ge_s", Effects.I32I32ToI32);

    /// <summary><c>i32.ge_u</c> [i32 i32] → [i32], opcode 0x4F: 1 if the first operand is unsigned greater than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I32GeU() => Op(0x4F, "i32.ge_u", Effects.I32I32ToI32);

    /// <summary><c>i64.eqz</c> [i64] → [i32], opcode 0x50: 1 if the operand is zero, else 0.</summary>
    public WasmFunctionBuilder I64Eqz() => Op(0x50, "i64.eqz", Effects.I64ToI32);

    /// <summary><c>i64.eq</c> [i64 i64] → [i32], opcode 0x51: 1 if the first operand is equal the second, else 0.</summary>
    public WasmFunctionBuilder I64Eq() => Op(0x51, "i64.eq", Effects.I64I64ToI32);

    /// <summary><c>i64.ne</c> [i64 i64] → [i32], opcode 0x52: 1 if the first operand is not equal the second, else 0.</summary>
    public WasmFunctionBuilder I64Ne() => Op(0x52, "i64.ne", Effects.I64I64ToI32);

    /// <summary><c>i64.lt_s</c> [i64 i64] → [i32], opcode 0x53: 1 if the first operand is signed less than the second, else 0.</summary>
    public WasmFunctionBuilder I64LtS() => Op(0x53, "i64.lt_s", Effects.I64I64ToI32);

    /// <summary><c>i64.lt_u</c> [i64 i64] → [i32], opcode 0x54: 1 if the first operand is unsigned less than the second, else 0.</summary>
    public WasmFunctionBuilder I64LtU() => Op(0x54, "i64.lt_u", Effects.I64I64ToI32);

    /// <summary><c>i64.gt_s</c> [i64 i64] → [i32], opcode 0x55: 1 if the first operand is signed greater than the second, else 0.</summary>
    public WasmFunctionBuilder I64GtS() => Op(0x55, "i64.gt_s", Effects.I64I64ToI32);

    /// <summary><c>i64.gt_u</c> [i64 i64] → [i32], opcode 0x56: 1 if the first operand is unsigned greater than the second, else 0.</summary>
    public WasmFunctionBuilder I64GtU() => Op(0x56, "i64.gt_u", Effects.I64I64ToI32);

    /// <summary><c>i64.le_s</c> [i64 i64] → [i32], opcode 0x57: 1 if the first operand is signed less than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I64LeS() => Op(0x57, "i64.le_s", Effects.I64I64ToI32);

    /// <summary><c>i64.le_u</c> [i64 i64] → [i32], opcode 0x58: 1 if the first operand is unsigned less than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I64LeU() => Op(0x58, "i64.le_u", Effects.I64I64ToI32);

    /// <summary><c>i64.ge_s</c> [i64 i64] → [i32], opcode 0x59: 1 if the first operand is signed greater than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I64GeS() => Op(0x59, "i64.ge_s", Effects.I64I64ToI32);

    /// <summary><c>i64.ge_u</c> [i64 i64] → [i32], opcode 0x5A: 1 if the first operand is unsigned greater than or equal the second, else 0.</summary>
    public WasmFunctionBuilder I64GeU() => Op(0x5A, "i64.ge_u", Effects.I64I64ToI32);

    /// <summary><c>f32.eq</c> [f32 f32] → [i32], opcode 0x5B: 1 if the first operand is equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F32Eq() => Op(0x5B, "f32.eq", Effects.F32F32ToI32);

    /// <summary><c>f32.ne</c> [f32 f32] → [i32], opcode 0x5C: 1 if the first operand is not equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F32Ne() => Op(0x5C, "f32.ne", Effects.F32F32ToI32);

    /// <summary><c>f32.lt</c> [f32 f32] → [i32], opcode 0x5D: 1 if the first operand is less than the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F32Lt() => Op(0x5D, "f32.lt", Effects.F32F32ToI32);

    /// <summary><c>f32.gt</c> [f32 f32] → [i32], opcode 0x5E: 1 if the first operand is greater than the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F32Gt() => Op(0x5E, "f32.gt", Effects.F32F32ToI32);

    /// <summary><c>f32.le</c> [f32 f32] → [i32], opcode 0x5F: 1 if the first operand is less than or equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F32Le() => Op(0x5F, "f32.le", Effects.F32F32ToI32);

    /// <summary><c>f32.ge</c> [f32 f32] → [i32], opcode 0x60: 1 if the first operand is greater than or equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F32Ge() => Op(0x60, "f32.ge", Effects.F32F32ToI32);

    /// <summary><c>f64.eq</c> [f64 f64] → [i32], opcode 0x61: 1 if the first operand is equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F64Eq() => Op(0x61, "f64.eq", Effects.F64F64ToI32);

    /// <summary><c>f64.ne</c> [f64 f64] → [i32], opcode 0x62: 1 if the first operand is not equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F64Ne() => Op(0x62, "f64.ne", Effects.F64F64ToI32);

    /// <summary><c>f64.lt</c> [f64 f64] → [i32], opcode 0x63: 1 if the first operand is less than the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F64Lt() => Op(0x63, "f64.lt", Effects.F64F64ToI32);

    /// <summary><c>f64.gt</c> [f64 f64] → [i32], opcode 0x64: 1 if the first operand is greater than the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F64Gt() => Op(0x64, "f64.gt", Effects.F64F64ToI32);

    /// <summary><c>f64.le</c> [f64 f64] → [i32], opcode 0x65: 1 if the first operand is less than or equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F64Le() => Op(0x65, "f64.le", Effects.F64F64ToI32);

    /// <summary><c>f64.ge</c> [f64 f64] → [i32], opcode 0x66: 1 if the first operand is greater than or equal the second, else 0 (false when either is NaN, except ne).</summary>
    public WasmFunctionBuilder F64Ge() => Op(0x66, "f64.ge", Effects.F64F64ToI32);

    /// <summary><c>i32.clz</c> [i32] → [i32], opcode 0x67: Number of leading zero bits.</summary>
    public WasmFunctionBuilder I32Clz() => Op(0x67, "i32.clz", Effects.I32ToI32);

    /// <summary><c>i32.ctz</c> [i32] → [i32], opcode 0x68: Number of trailing zero bits.</summary>
    public WasmFunctionBuilder I32Ctz() => Op(0x68, "i32.ctz", Effects.I32ToI32);

    /// <summary><c>i32.popcnt</c> [i32] → [i32], opcode 0x69: Number of one bits.</summary>
    public WasmFunctionBuilder I32Popcnt() => Op(0x69, "i32.popcnt", Effects.I32ToI32);

    /// <summary><c>i32.add</c> [i32 i32] → [i32], opcode 0x6A: Wrapping addition.</summary>
    public WasmFunctionBuilder I32Add() => Op(0x6A, "i32.add", Effects.I32I32ToI32);

    /// <summary><c>i32.sub</c> [i32 i32] → [i32], opcode 0x6B: Wrapping subtraction.</summary>
    public WasmFunctionBuilder I32Sub() => Op(0x6B, "i32.sub", Effects.I32I32ToI32);

    /// <summary><c>i32.mul</c> [i32 i32] → [i32], opcode 0x6C: Wrapping multiplication (low bits of the product).</summary>
    public WasmFunctionBuilder I32Mul() => Op(0x6C, "i32.mul", Effects.I32I32ToI32);

    /// <summary><c>i32.div_s</c> [i32 i32] → [i32], opcode 0x6D: Signed division rounding toward zero; traps on a zero divisor and on MIN / -1.</summary>
    public WasmFunctionBuilder I32DivS() => Op(0x6D, "i32.div_s", Effects.I32I32ToI32);

    /// <summary><c>i32.div_u</c> [i32 i32] → [i32], opcode 0x6E: Unsigned division; traps on a zero divisor.</summary>
    public WasmFunctionBuilder I32DivU() => Op(0x6E, "i32.div_u", Effects.I32I32ToI32);

    /// <summary><c>i32.rem_s</c> [i32 i32] → [i32], opcode 0x6F: Signed remainder with the sign of the dividend; traps on a zero divisor.</summary>
    public WasmFunctionBuilder I32RemS() => Op(0x6F, "i32.rem_s", Effects.I32I32ToI32);

    /// <summary><c>i32.rem_u</c> [i32 i32] → [i32], opcode 0x70: Unsigned remainder; traps on a zero divisor.</summary>
    public WasmFunctionBuilder I32RemU() => Op(0x70, "i32.rem_u", Effects.I32I32ToI32);

    /// <summary><c>i32.and</c> [i32 i32] → [i32], opcode 0x71: Bitwise and.</summary>
    public WasmFunctionBuilder I32And() => Op(0x71, "i32.and", Effects.I32I32ToI32);

    /// <summary><c>i32.or</c> [i32 i32] → [i32], opcode 0x72: Bitwise or.</summary>
    public WasmFunctionBuilder I32Or() => Op(0x72, "i32.or", Effects.I32I32ToI32);

    /// <summary><c>i32.xor</c> [i32 i32] → [i32], opcode 0x73: Bitwise exclusive or.</summary>
    public WasmFunctionBuilder I32Xor() => Op(0x73, "i32.xor", Effects.I32I32ToI32);

    /// <summary><c>i32.shl</c> [i32 i32] → [i32], opcode 0x74: Shift left by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I32Shl() => Op(0x74, "i32.shl", Effects.I32I32ToI32);

    /// <summary><c>i32.shr_s</c> [i32 i32] → [i32], opcode 0x75: Arithmetic (sign-filling) shift right by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I32ShrS() => Op(0x75, "i32.shr_s", Effects.I32I32ToI32);

    /// <summary><c>i32.shr_u</c> [i32 i32] → [i32], opcode 0x76: Logical (zero-filling) shift right by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I32ShrU() => Op(0x76, "i32.shr_u", Effects.I32I32ToI32);

    /// <summary><c>i32.rotl</c> [i32 i32] → [i32], opcode 0x77: Rotate left by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I32Rotl() => Op(0x77, "i32.rotl", Effects.I32I32ToI32);

    /// <summary><c>i32.rotr</c> [i32 i32] → [i32], opcode 0x78: Rotate right by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I32Rotr() => Op(0x78, "i32.rotr", Effects.I32I32ToI32);

    /// <summary><c>i64.clz</c> [i64] → [i64], opcode 0x79: Number of leading zero bits.</summary>
    public WasmFunctionBuilder I64Clz() => Op(0x79, "i64.clz", Effects.I64ToI64);

    /// <summary><c>i64.ctz</c> [i64] → [i64], opcode 0x7A: Number of trailing zero bits.</summary>
    public WasmFunctionBuilder I64Ctz() => Op(0x7A, "i64.ctz", Effects.I64ToI64);

    /// <summary><c>i64.popcnt</c> [i64] → [i64], opcode 0x7B: Number of one bits.</summary>
    public WasmFunctionBuilder I64Popcnt() => Op(0x7B, "i64.popcnt", Effects.I64ToI64);

    /// <summary><c>i64.add</c> [i64 i64] → [i64], opcode 0x7C: Wrapping addition.</summary>
    public WasmFunctionBuilder I64Add() => Op(0x7C, "i64.add", Effects.I64I64ToI64);

    /// <summary><c>i64.sub</c> [i64 i64] → [i64], opcode 0x7D: Wrapping subtraction.</summary>
    public WasmFunctionBuilder I64Sub() => Op(0x7D, "i64.sub", Effects.I64I64ToI64);

    /// <summary><c>i64.mul</c> [i64 i64] → [i64], opcode 0x7E: Wrapping multiplication (low bits of the product).</summary>
    public WasmFunctionBuilder I64Mul() => Op(0x7E, "i64.mul", Effects.I64I64ToI64);

    /// <summary><c>i64.div_s</c> [i64 i64] → [i64], opcode 0x7F: Signed division rounding toward zero; traps on a zero divisor and on MIN / -1.</summary>
    public WasmFunctionBuilder I64DivS() => Op(0x7F, "i64.div_s", Effects.I64I64ToI64);

    /// <summary><c>i64.div_u</c> [i64 i64] → [i64], opcode 0x80: Unsigned division; traps on a zero divisor.</summary>
    public WasmFunctionBuilder I64DivU() => Op(0x80, "i64.div_u", Effects.I64I64ToI64);

    /// <summary><c>i64.rem_s</c> [i64 i64] → [i64], opcode 0x81: Signed remainder with the sign of the dividend; traps on a zero divisor.</summary>
    public WasmFunctionBuilder I64RemS() => Op(0x81, "i64.rem_s", Effects.I64I64ToI64);

    /// <summary><c>i64.rem_u</c> [i64 i64] → [i64], opcode 0x82: Unsigned remainder; traps on a zero divisor.</summary>
    public WasmFunctionBuilder I64RemU() => Op(0x82, "i64.rem_u", Effects.I64I64ToI64);

    /// <summary><c>i64.and</c> [i64 i64] → [i64], opcode 0x83: Bitwise and.</summary>
    public WasmFunctionBuilder I64And() => Op(0x83, "i64.and", Effects.I64I64ToI64);

    /// <summary><c>i64.or</c> [i64 i64] → [i64], opcode 0x84: Bitwise or.</summary>
    public WasmFunctionBuilder I64Or() => Op(0x84, "i64.or", Effects.I64I64ToI64);

    /// <summary><c>i64.xor</c> [i64 i64] → [i64], opcode 0x85: Bitwise exclusive or.</summary>
    public WasmFunctionBuilder I64Xor() => Op(0x85, "i64.xor", Effects.I64I64ToI64);

    /// <summary><c>i64.shl</c> [i64 i64] → [i64], opcode 0x86: Shift left by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I64Shl() => Op(0x86, "i64.shl", Effects.I64I64ToI64);

    /// <summary><c>i64.shr_s</c> [i64 i64] → [i64], opcode 0x87: Arithmetic (sign-filling) shift right by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I64ShrS() => Op(0x87, "i64.shr_s", Effects.I64I64ToI64);

    /// <summary><c>i64.shr_u</c> [i64 i64] → [i64], opcode 0x88: Logical (zero-filling) shift right by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I64ShrU() => Op(0x88, "i64.shr_u", Effects.I64I64ToI64);

    /// <summary><c>i64.rotl</c> [i64 i64] → [i64], opcode 0x89: Rotate left by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I64Rotl() => Op(0x89, "i64.rotl", Effects.I64I64ToI64);

    /// <summary><c>i64.rotr</c> [i64 i64] → [i64], opcode 0x8A: Rotate right by the second operand modulo the bit width.</summary>
    public WasmFunctionBuilder I64Rotr() => Op(0x8A, "i64.rotr", Effects.I64I64ToI64);

    /// <summary><c>f32.abs</c> [f32] → [f32], opcode 0x8B: Absolute value (clears the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F32Abs() => Op(0x8B, "f32.abs", Effects.F32ToF32);

    /// <summary><c>f32.neg</c> [f32] → [f32], opcode 0x8C: Negation (flips the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F32Neg() => Op(0x8C, "f32.neg", Effects.F32ToF32);

    /// <summary><c>f32.ceil</c> [f32] → [f32], opcode 0x8D: Rounds up to an integer.</summary>
    public WasmFunctionBuilder F32Ceil() => Op(0x8D, "f32.ceil", Effects.F32ToF32);

    /// <summary><c>f32.floor</c> [f32] → [f32], opcode 0x8E: Rounds down to an integer.</summary>
    public WasmFunctionBuilder F32Floor() => Op(0x8E, "f32.floor", Effects.F32ToF32);

    /// <summary><c>f32.trunc</c> [f32] → [f32], opcode 0x8F: Rounds toward zero to an integer.</summary>
    public WasmFunctionBuilder F32Trunc() => Op(0x8F, "f32.trunc", Effects.F32ToF32);

    /// <summary><c>f32.nearest</c> [f32] → [f32], opcode 0x90: Rounds to the nearest integer, ties to even.</summary>
    public WasmFunctionBuilder F32Nearest() => Op(0x90, "f32.nearest", Effects.F32ToF32);

    /// <summary><c>f32.sqrt</c> [f32] → [f32], opcode 0x91: Square root, correctly rounded.</summary>
    public WasmFunctionBuilder F32Sqrt() => Op(0x91, "f32.sqrt", Effects.F32ToF32);

    /// <summary><c>f32.add</c> [f32 f32] → [f32], opcode 0x92: IEEE 754 addition, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32Add() => Op(0x92, "f32.add", Effects.F32F32ToF32);

    /// <summary><c>f32.sub</c> [f32 f32] → [f32], opcode 0x93: IEEE 754 subtraction, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32Sub() => Op(0x93, "f32.sub", Effects.F32F32ToF32);

    /// <summary><c>f32.mul</c> [f32 f32] → [f32], opcode 0x94: IEEE 754 multiplication, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32Mul() => Op(0x94, "f32.mul", Effects.F32F32ToF32);

    /// <summary><c>f32.div</c> [f32 f32] → [f32], opcode 0x95: IEEE 754 division, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32Div() => Op(0x95, "f32.div", Effects.F32F32ToF32);

    /// <summary><c>f32.min</c> [f32 f32] → [f32], opcode 0x96: Minimum; NaN if either is NaN; -0 is less than +0.</summary>
    public WasmFunctionBuilder F32Min() => Op(0x96, "f32.min", Effects.F32F32ToF32);

    /// <summary><c>f32.max</c> [f32 f32] → [f32], opcode 0x97: Maximum; NaN if either is NaN; +0 is greater than -0.</summary>
    public WasmFunctionBuilder F32Max() => Op(0x97, "f32.max", Effects.F32F32ToF32);

    /// <summary><c>f32.copysign</c> [f32 f32] → [f32], opcode 0x98: The first operand with the sign bit of the second.</summary>
    public WasmFunctionBuilder F32Copysign() => Op(0x98, "f32.copysign", Effects.F32F32ToF32);

    /// <summary><c>f64.abs</c> [f64] → [f64], opcode 0x99: Absolute value (clears the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F64Abs() => Op(0x99, "f64.abs", Effects.F64ToF64);

    /// <summary><c>f64.neg</c> [f64] → [f64], opcode 0x9A: Negation (flips the sign bit, also of NaN).</summary>
    public WasmFunctionBuilder F64Neg() => Op(0x9A, "f64.neg", Effects.F64ToF64);

    /// <summary><c>f64.ceil</c> [f64] → [f64], opcode 0x9B: Rounds up to an integer.</summary>
    public WasmFunctionBuilder F64Ceil() => Op(0x9B, "f64.ceil", Effects.F64ToF64);

    /// <summary><c>f64.floor</c> [f64] → [f64], opcode 0x9C: Rounds down to an integer.</summary>
    public WasmFunctionBuilder F64Floor() => Op(0x9C, "f64.floor", Effects.F64ToF64);

    /// <summary><c>f64.trunc</c> [f64] → [f64], opcode 0x9D: Rounds toward zero to an integer.</summary>
    public WasmFunctionBuilder F64Trunc() => Op(0x9D, "f64.trunc", Effects.F64ToF64);

    /// <summary><c>f64.nearest</c> [f64] → [f64], opcode 0x9E: Rounds to the nearest integer, ties to even.</summary>
    public WasmFunctionBuilder F64Nearest() => Op(0x9E, "f64.nearest", Effects.F64ToF64);

    /// <summary><c>f64.sqrt</c> [f64] → [f64], opcode 0x9F: Square root, correctly rounded.</summary>
    public WasmFunctionBuilder F64Sqrt() => Op(0x9F, "f64.sqrt", Effects.F64ToF64);

    /// <summary><c>f64.add</c> [f64 f64] → [f64], opcode 0xA0: IEEE 754 addition, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64Add() => Op(0xA0, "f64.add", Effects.F64F64ToF64);

    /// <summary><c>f64.sub</c> [f64 f64] → [f64], opcode 0xA1: IEEE 754 subtraction, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64Sub() => Op(0xA1, "f64.sub", Effects.F64F64ToF64);

    /// <summary><c>f64.mul</c> [f64 f64] → [f64], opcode 0xA2: IEEE 754 multiplication, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64Mul() => Op(0xA2, "f64.mul", Effects.F64F64ToF64);

    /// <summary><c>f64.div</c> [f64 f64] → [f64], opcode 0xA3: IEEE 754 division, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64Div() => Op(0xA3, "f64.div", Effects.F64F64ToF64);

    /// <summary><c>f64.min</c> [f64 f64] → [f64], opcode 0xA4: Minimum; NaN if either is NaN; -0 is less than +0.</summary>
    public WasmFunctionBuilder F64Min() => Op(0xA4, "f64.min", Effects.F64F64ToF64);

    /// <summary><c>f64.max</c> [f64 f64] → [f64], opcode 0xA5: Maximum; NaN if either is NaN; +0 is greater than -0.</summary>
    public WasmFunctionBuilder F64Max() => Op(0xA5, "f64.max", Effects.F64F64ToF64);

    /// <summary><c>f64.copysign</c> [f64 f64] → [f64], opcode 0xA6: The first operand with the sign bit of the second.</summary>
    public WasmFunctionBuilder F64Copysign() => Op(0xA6, "f64.copysign", Effects.F64F64ToF64);

    /// <summary><c>i32.wrap_i64</c> [i64] → [i32], opcode 0xA7: The low 32 bits.</summary>
    public WasmFunctionBuilder I32WrapI64() => Op(0xA7, "i32.wrap_i64", Effects.I64ToI32);

    /// <summary><c>i32.trunc_f32_s</c> [f32] → [i32], opcode 0xA8: To signed: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I32TruncF32S() => Op(0xA8, "i32.trunc_f32_s", Effects.F32ToI32);

    /// <summary><c>i32.trunc_f32_u</c> [f32] → [i32], opcode 0xA9: To unsigned: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I32TruncF32U() => Op(0xA9, "i32.trunc_f32_u", Effects.F32ToI32);

    /// <summary><c>i32.trunc_f64_s</c> [f64] → [i32], opcode 0xAA: To signed: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I32TruncF64S() => Op(0xAA, "i32.trunc_f64_s", Effects.F64ToI32);

    /// <summary><c>i32.trunc_f64_u</c> [f64] → [i32], opcode 0xAB: To unsigned: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I32TruncF64U() => Op(0xAB, "i32.trunc_f64_u", Effects.F64ToI32);

    /// <summary><c>i64.extend_i32_s</c> [i32] → [i64], opcode 0xAC: Sign extension.</summary>
    public WasmFunctionBuilder I64ExtendI32S() => Op(0xAC, "i64.extend_i32_s", Effects.I32ToI64);

    /// <summary><c>i64.extend_i32_u</c> [i32] → [i64], opcode 0xAD: Zero extension.</summary>
    public WasmFunctionBuilder I64ExtendI32U() => Op(0xAD, "i64.extend_i32_u", Effects.I32ToI64);

    /// <summary><c>i64.trunc_f32_s</c> [f32] → [i64], opcode 0xAE: To signed: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I64TruncF32S() => Op(0xAE, "i64.trunc_f32_s", Effects.F32ToI64);

    /// <summary><c>i64.trunc_f32_u</c> [f32] → [i64], opcode 0xAF: To unsigned: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I64TruncF32U() => Op(0xAF, "i64.trunc_f32_u", Effects.F32ToI64);

    /// <summary><c>i64.trunc_f64_s</c> [f64] → [i64], opcode 0xB0: To signed: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I64TruncF64S() => Op(0xB0, "i64.trunc_f64_s", Effects.F64ToI64);

    /// <summary><c>i64.trunc_f64_u</c> [f64] → [i64], opcode 0xB1: To unsigned: truncates toward zero; traps on NaN and when the result is out of range.</summary>
    public WasmFunctionBuilder I64TruncF64U() => Op(0xB1, "i64.trunc_f64_u", Effects.F64ToI64);

    /// <summary><c>f32.convert_i32_s</c> [i32] → [f32], opcode 0xB2: From signed, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32ConvertI32S() => Op(0xB2, "f32.convert_i32_s", Effects.I32ToF32);

    /// <summary><c>f32.convert_i32_u</c> [i32] → [f32], opcode 0xB3: From unsigned, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32ConvertI32U() => Op(0xB3, "f32.convert_i32_u", Effects.I32ToF32);

    /// <summary><c>f32.convert_i64_s</c> [i64] → [f32], opcode 0xB4: From signed, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32ConvertI64S() => Op(0xB4, "f32.convert_i64_s", Effects.I64ToF32);

    /// <summary><c>f32.convert_i64_u</c> [i64] → [f32], opcode 0xB5: From unsigned, rounded to nearest even.</summary>
    public WasmFunctionBuilder F32ConvertI64U() => Op(0xB5, "f32.convert_i64_u", Effects.I64ToF32);

    /// <summary><c>f32.demote_f64</c> [f64] → [f32], opcode 0xB6: Rounds to nearest even (C <c>(float)d</c>).</summary>
    public WasmFunctionBuilder F32DemoteF64() => Op(0xB6, "f32.demote_f64", Effects.F64ToF32);

    /// <summary><c>f64.convert_i32_s</c> [i32] → [f64], opcode 0xB7: From signed (exact).</summary>
    public WasmFunctionBuilder F64ConvertI32S() => Op(0xB7, "f64.convert_i32_s", Effects.I32ToF64);

    /// <summary><c>f64.convert_i32_u</c> [i32] → [f64], opcode 0xB8: From unsigned (exact).</summary>
    public WasmFunctionBuilder F64ConvertI32U() => Op(0xB8, "f64.convert_i32_u", Effects.I32ToF64);

    /// <summary><c>f64.convert_i64_s</c> [i64] → [f64], opcode 0xB9: From signed, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64ConvertI64S() => Op(0xB9, "f64.convert_i64_s", Effects.I64ToF64);

    /// <summary><c>f64.convert_i64_u</c> [i64] → [f64], opcode 0xBA: From unsigned, rounded to nearest even.</summary>
    public WasmFunctionBuilder F64ConvertI64U() => Op(0xBA, "f64.convert_i64_u", Effects.I64ToF64);

    /// <summary><c>f64.promote_f32</c> [f32] → [f64], opcode 0xBB: Exact widening (C <c>(double)f</c>).</summary>
    public WasmFunctionBuilder F64PromoteF32() => Op(0xBB, "f64.promote_f32", Effects.F32ToF64);

    /// <summary><c>i32.reinterpret_f32</c> [f32] → [i32], opcode 0xBC: The same 32 bits as an integer.</summary>
    public WasmFunctionBuilder I32ReinterpretF32() => Op(0xBC, "i32.reinterpret_f32", Effects.F32ToI32);

    /// <summary><c>i64.reinterpret_f64</c> [f64] → [i64], opcode 0xBD: The same 64 bits as an integer.</summary>
    public WasmFunctionBuilder I64ReinterpretF64() => Op(0xBD, "i64.reinterpret_f64", Effects.F64ToI64);

    /// <summary><c>f32.reinterpret_i32</c> [i32] → [f32], opcode 0xBE: The same 32 bits as a float.</summary>
    public WasmFunctionBuilder F32ReinterpretI32() => Op(0xBE, "f32.reinterpret_i32", Effects.I32ToF32);

    /// <summary><c>f64.reinterpret_i64</c> [i64] → [f64], opcode 0xBF: The same 64 bits as a float.</summary>
    public WasmFunctionBuilder F64ReinterpretI64() => Op(0xBF, "f64.reinterpret_i64", Effects.I64ToF64);

    /// <summary><c>i32.extend8_s</c> [i32] → [i32], opcode 0xC0: Sign-extends the low 8 bits.</summary>
    public WasmFunctionBuilder I32Extend8S() => Op(0xC0, "i32.extend8_s", Effects.I32ToI32);

    /// <summary><c>i32.extend16_s</c> [i32] → [i32], opcode 0xC1: Sign-extends the low 16 bits.</summary>
    public WasmFunctionBuilder I32Extend16S() => Op(0xC1, "i32.extend16_s", Effects.I32ToI32);

    /// <summary><c>i64.extend8_s</c> [i64] → [i64], opcode 0xC2: Sign-extends the low 8 bits.</summary>
    public WasmFunctionBuilder I64Extend8S() => Op(0xC2, "i64.extend8_s", Effects.I64ToI64);

    /// <summary><c>i64.extend16_s</c> [i64] → [i64], opcode 0xC3: Sign-extends the low 16 bits.</summary>
    public WasmFunctionBuilder I64Extend16S() => Op(0xC3, "i64.extend16_s", Effects.I64ToI64);

    /// <summary><c>i64.extend32_s</c> [i64] → [i64], opcode 0xC4: Sign-extends the low 32 bits.</summary>
    public WasmFunctionBuilder I64Extend32S() => Op(0xC4, "i64.extend32_s", Effects.I64ToI64);

    /// <summary><c>i32.trunc_sat_f32_s</c> [f32] → [i32], opcode 0xFC 0: To signed: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I32TruncSatF32S() => Prefixed(0xFC, 0, "i32.trunc_sat_f32_s", Effects.F32ToI32);

    /// <summary><c>i32.trunc_sat_f32_u</c> [f32] → [i32], opcode 0xFC 1: To unsigned: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I32TruncSatF32U() => Prefixed(0xFC, 1, "i32.trunc_sat_f32_u", Effects.F32ToI32);

    /// <summary><c>i32.trunc_sat_f64_s</c> [f64] → [i32], opcode 0xFC 2: To signed: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I32TruncSatF64S() => Prefixed(0xFC, 2, "i32.trunc_sat_f64_s", Effects.F64ToI32);

    /// <summary><c>i32.trunc_sat_f64_u</c> [f64] → [i32], opcode 0xFC 3: To unsigned: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I32TruncSatF64U() => Prefixed(0xFC, 3, "i32.trunc_sat_f64_u", Effects.F64ToI32);

    /// <summary><c>i64.trunc_sat_f32_s</c> [f32] → [i64], opcode 0xFC 4: To signed: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I64TruncSatF32S() => Prefixed(0xFC, 4, "i64.trunc_sat_f32_s", Effects.F32ToI64);

    /// <summary><c>i64.trunc_sat_f32_u</c> [f32] → [i64], opcode 0xFC 5: To unsigned: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I64TruncSatF32U() => Prefixed(0xFC, 5, "i64.trunc_sat_f32_u", Effects.F32ToI64);

    /// <summary><c>i64.trunc_sat_f64_s</c> [f64] → [i64], opcode 0xFC 6: To signed: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I64TruncSatF64S() => Prefixed(0xFC, 6, "i64.trunc_sat_f64_s", Effects.F64ToI64);

    /// <summary><c>i64.trunc_sat_f64_u</c> [f64] → [i64], opcode 0xFC 7: To unsigned: truncates toward zero, saturating out-of-range values; NaN gives 0.</summary>
    public WasmFunctionBuilder I64TruncSatF64U() => Prefixed(0xFC, 7, "i64.trunc_sat_f64_u", Effects.F64ToI64);
}
