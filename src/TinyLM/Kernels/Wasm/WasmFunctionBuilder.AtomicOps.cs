namespace TinyLM.Kernels.Wasm;

// Atomic instructions of the threads proposal (prefix 0xFE, sub-opcode u32, memarg with the natural
// alignment, which the accessed address must have or the access traps), generated from the
// proposal's opcode table. memory.atomic.wait32/64 and atomic.fence are in WasmFunctionBuilder.Atomics.cs.

public sealed partial class WasmFunctionBuilder
{
    /// <summary><c>memory.atomic.notify</c> [i32 i32] → [i32], opcode 0xFE 0x00: Wakes up to the i32 count (operands: address, count) of the agents waiting on the address; returns how many were woken. Returns 0 on a non-shared memory. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder MemoryAtomicNotify(uint offset = 0) => AtomicOp(0x00, "memory.atomic.notify", Effects.I32I32ToI32, 4, offset);

    /// <summary><c>i32.atomic.load</c> [i32] → [i32], opcode 0xFE 0x10: Atomic (sequentially consistent) load of 4 bytes. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicLoad(uint offset = 0) => AtomicOp(0x10, "i32.atomic.load", Effects.I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.load</c> [i32] → [i64], opcode 0xFE 0x11: Atomic load of 8 bytes. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicLoad(uint offset = 0) => AtomicOp(0x11, "i64.atomic.load", Effects.I32ToI64, 8, offset);

    /// <summary><c>i32.atomic.load8_u</c> [i32] → [i32], opcode 0xFE 0x12: Atomic load of 1 byte, zero-extended. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicLoad8U(uint offset = 0) => AtomicOp(0x12, "i32.atomic.load8_u", Effects.I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.load16_u</c> [i32] → [i32], opcode 0xFE 0x13: Atomic load of 2 bytes, zero-extended. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicLoad16U(uint offset = 0) => AtomicOp(0x13, "i32.atomic.load16_u", Effects.I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.load8_u</c> [i32] → [i64], opcode 0xFE 0x14: Atomic load of 1 byte, zero-extended. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicLoad8U(uint offset = 0) => AtomicOp(0x14, "i64.atomic.load8_u", Effects.I32ToI64, 1, offset);

    /// <summary><c>i64.atomic.load16_u</c> [i32] → [i64], opcode 0xFE 0x15: Atomic load of 2 bytes, zero-extended. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicLoad16U(uint offset = 0) => AtomicOp(0x15, "i64.atomic.load16_u", Effects.I32ToI64, 2, offset);

    /// <summary><c>i64.atomic.load32_u</c> [i32] → [i64], opcode 0xFE 0x16: Atomic load of 4 bytes, zero-extended. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicLoad32U(uint offset = 0) => AtomicOp(0x16, "i64.atomic.load32_u", Effects.I32ToI64, 4, offset);

    /// <summary><c>i32.atomic.store</c> [i32 i32] → [], opcode 0xFE 0x17: Atomic (sequentially consistent) store of 4 bytes. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicStore(uint offset = 0) => AtomicOp(0x17, "i32.atomic.store", Effects.I32I32ToNothing, 4, offset);

    /// <summary><c>i64.atomic.store</c> [i32 i64] → [], opcode 0xFE 0x18: Atomic store of 8 bytes. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicStore(uint offset = 0) => AtomicOp(0x18, "i64.atomic.store", Effects.I32I64ToNothing, 8, offset);

    /// <summary><c>i32.atomic.store8</c> [i32 i32] → [], opcode 0xFE 0x19: Atomic store of the low byte. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicStore8(uint offset = 0) => AtomicOp(0x19, "i32.atomic.store8", Effects.I32I32ToNothing, 1, offset);

    /// <summary><c>i32.atomic.store16</c> [i32 i32] → [], opcode 0xFE 0x1A: Atomic store of the low 2 bytes. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicStore16(uint offset = 0) => AtomicOp(0x1A, "i32.atomic.store16", Effects.I32I32ToNothing, 2, offset);

    /// <summary><c>i64.atomic.store8</c> [i32 i64] → [], opcode 0xFE 0x1B: Atomic store of the low byte. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicStore8(uint offset = 0) => AtomicOp(0x1B, "i64.atomic.store8", Effects.I32I64ToNothing, 1, offset);

    /// <summary><c>i64.atomic.store16</c> [i32 i64] → [], opcode 0xFE 0x1C: Atomic store of the low 2 bytes. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicStore16(uint offset = 0) => AtomicOp(0x1C, "i64.atomic.store16", Effects.I32I64ToNothing, 2, offset);

    /// <summary><c>i64.atomic.store32</c> [i32 i64] → [], opcode 0xFE 0x1D: Atomic store of the low 4 bytes. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicStore32(uint offset = 0) => AtomicOp(0x1D, "i64.atomic.store32", Effects.I32I64ToNothing, 4, offset);

    /// <summary><c>i32.atomic.rmw.add</c> [i32 i32] → [i32], opcode 0xFE 0x1E: Atomic read-modify-write: wrapping addition; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmwAdd(uint offset = 0) => AtomicOp(0x1E, "i32.atomic.rmw.add", Effects.I32I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.rmw.add</c> [i32 i64] → [i64], opcode 0xFE 0x1F: Atomic read-modify-write: wrapping addition; returns the old value. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmwAdd(uint offset = 0) => AtomicOp(0x1F, "i64.atomic.rmw.add", Effects.I32I64ToI64, 8, offset);

    /// <summary><c>i32.atomic.rmw8.add_u</c> [i32 i32] → [i32], opcode 0xFE 0x20: Atomic read-modify-write of the low byte, zero-extended: wrapping addition; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw8AddU(uint offset = 0) => AtomicOp(0x20, "i32.atomic.rmw8.add_u", Effects.I32I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.rmw16.add_u</c> [i32 i32] → [i32], opcode 0xFE 0x21: Atomic read-modify-write of the low 2 bytes, zero-extended: wrapping addition; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw16AddU(uint offset = 0) => AtomicOp(0x21, "i32.atomic.rmw16.add_u", Effects.I32I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.rmw8.add_u</c> [i32 i64] → [i64], opcode 0xFE 0x22: Atomic read-modify-write of the low byte, zero-extended: wrapping addition; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw8AddU(uint offset = 0) => AtomicOp(0x22, "i64.atomic.rmw8.add_u", Effects.I32I64ToI64, 1, offset);

    /// <summary><c>i64.atomic.rmw16.add_u</c> [i32 i64] → [i64], opcode 0xFE 0x23: Atomic read-modify-write of the low 2 bytes, zero-extended: wrapping addition; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw16AddU(uint offset = 0) => AtomicOp(0x23, "i64.atomic.rmw16.add_u", Effects.I32I64ToI64, 2, offset);

    /// <summary><c>i64.atomic.rmw32.add_u</c> [i32 i64] → [i64], opcode 0xFE 0x24: Atomic read-modify-write of the low 4 bytes, zero-extended: wrapping addition; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw32AddU(uint offset = 0) => AtomicOp(0x24, "i64.atomic.rmw32.add_u", Effects.I32I64ToI64, 4, offset);

    /// <summary><c>i32.atomic.rmw.sub</c> [i32 i32] → [i32], opcode 0xFE 0x25: Atomic read-modify-write: wrapping subtraction; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmwSub(uint offset = 0) => AtomicOp(0x25, "i32.atomic.rmw.sub", Effects.I32I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.rmw.sub</c> [i32 i64] → [i64], opcode 0xFE 0x26: Atomic read-modify-write: wrapping subtraction; returns the old value. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmwSub(uint offset = 0) => AtomicOp(0x26, "i64.atomic.rmw.sub", Effects.I32I64ToI64, 8, offset);

    /// <summary><c>i32.atomic.rmw8.sub_u</c> [i32 i32] → [i32], opcode 0xFE 0x27: Atomic read-modify-write of the low byte, zero-extended: wrapping subtraction; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw8SubU(uint offset = 0) => AtomicOp(0x27, "i32.atomic.rmw8.sub_u", Effects.I32I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.rmw16.sub_u</c> [i32 i32] → [i32], opcode 0xFE 0x28: Atomic read-modify-write of the low 2 bytes, zero-extended: wrapping subtraction; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw16SubU(uint offset = 0) => AtomicOp(0x28, "i32.atomic.rmw16.sub_u", Effects.I32I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.rmw8.sub_u</c> [i32 i64] → [i64], opcode 0xFE 0x29: Atomic read-modify-write of the low byte, zero-extended: wrapping subtraction; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw8SubU(uint offset = 0) => AtomicOp(0x29, "i64.atomic.rmw8.sub_u", Effects.I32I64ToI64, 1, offset);

    /// <summary><c>i64.atomic.rmw16.sub_u</c> [i32 i64] → [i64], opcode 0xFE 0x2A: Atomic read-modify-write of the low 2 bytes, zero-extended: wrapping subtraction; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw16SubU(uint offset = 0) => AtomicOp(0x2A, "i64.atomic.rmw16.sub_u", Effects.I32I64ToI64, 2, offset);

    /// <summary><c>i64.atomic.rmw32.sub_u</c> [i32 i64] → [i64], opcode 0xFE 0x2B: Atomic read-modify-write of the low 4 bytes, zero-extended: wrapping subtraction; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw32SubU(uint offset = 0) => AtomicOp(0x2B, "i64.atomic.rmw32.sub_u", Effects.I32I64ToI64, 4, offset);

    /// <summary><c>i32.atomic.rmw.and</c> [i32 i32] → [i32], opcode 0xFE 0x2C: Atomic read-modify-write: bitwise and; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmwAnd(uint offset = 0) => AtomicOp(0x2C, "i32.atomic.rmw.and", Effects.I32I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.rmw.and</c> [i32 i64] → [i64], opcode 0xFE 0x2D: Atomic read-modify-write: bitwise and; returns the old value. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmwAnd(uint offset = 0) => AtomicOp(0x2D, "i64.atomic.rmw.and", Effects.I32I64ToI64, 8, offset);

    /// <summary><c>i32.atomic.rmw8.and_u</c> [i32 i32] → [i32], opcode 0xFE 0x2E: Atomic read-modify-write of the low byte, zero-extended: bitwise and; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw8AndU(uint offset = 0) => AtomicOp(0x2E, "i32.atomic.rmw8.and_u", Effects.I32I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.rmw16.and_u</c> [i32 i32] → [i32], opcode 0xFE 0x2F: Atomic read-modify-write of the low 2 bytes, zero-extended: bitwise and; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw16AndU(uint offset = 0) => AtomicOp(0x2F, "i32.atomic.rmw16.and_u", Effects.I32I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.rmw8.and_u</c> [i32 i64] → [i64], opcode 0xFE 0x30: Atomic read-modify-write of the low byte, zero-extended: bitwise and; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw8AndU(uint offset = 0) => AtomicOp(0x30, "i64.atomic.rmw8.and_u", Effects.I32I64ToI64, 1, offset);

    /// <summary><c>i64.atomic.rmw16.and_u</c> [i32 i64] → [i64], opcode 0xFE 0x31: Atomic read-modify-write of the low 2 bytes, zero-extended: bitwise and; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw16AndU(uint offset = 0) => AtomicOp(0x31, "i64.atomic.rmw16.and_u", Effects.I32I64ToI64, 2, offset);

    /// <summary><c>i64.atomic.rmw32.and_u</c> [i32 i64] → [i64], opcode 0xFE 0x32: Atomic read-modify-write of the low 4 bytes, zero-extended: bitwise and; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw32AndU(uint offset = 0) => AtomicOp(0x32, "i64.atomic.rmw32.and_u", Effects.I32I64ToI64, 4, offset);

    /// <summary><c>i32.atomic.rmw.or</c> [i32 i32] → [i32], opcode 0xFE 0x33: Atomic read-modify-write: bitwise or; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmwOr(uint offset = 0) => AtomicOp(0x33, "i32.atomic.rmw.or", Effects.I32I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.rmw.or</c> [i32 i64] → [i64], opcode 0xFE 0x34: Atomic read-modify-write: bitwise or; returns the old value. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmwOr(uint offset = 0) => AtomicOp(0x34, "i64.atomic.rmw.or", Effects.I32I64ToI64, 8, offset);

    /// <summary><c>i32.atomic.rmw8.or_u</c> [i32 i32] → [i32], opcode 0xFE 0x35: Atomic read-modify-write of the low byte, zero-extended: bitwise or; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw8OrU(uint offset = 0) => AtomicOp(0x35, "i32.atomic.rmw8.or_u", Effects.I32I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.rmw16.or_u</c> [i32 i32] → [i32], opcode 0xFE 0x36: Atomic read-modify-write of the low 2 bytes, zero-extended: bitwise or; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw16OrU(uint offset = 0) => AtomicOp(0x36, "i32.atomic.rmw16.or_u", Effects.I32I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.rmw8.or_u</c> [i32 i64] → [i64], opcode 0xFE 0x37: Atomic read-modify-write of the low byte, zero-extended: bitwise or; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw8OrU(uint offset = 0) => AtomicOp(0x37, "i64.atomic.rmw8.or_u", Effects.I32I64ToI64, 1, offset);

    /// <summary><c>i64.atomic.rmw16.or_u</c> [i32 i64] → [i64], opcode 0xFE 0x38: Atomic read-modify-write of the low 2 bytes, zero-extended: bitwise or; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw16OrU(uint offset = 0) => AtomicOp(0x38, "i64.atomic.rmw16.or_u", Effects.I32I64ToI64, 2, offset);

    /// <summary><c>i64.atomic.rmw32.or_u</c> [i32 i64] → [i64], opcode 0xFE 0x39: Atomic read-modify-write of the low 4 bytes, zero-extended: bitwise or; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw32OrU(uint offset = 0) => AtomicOp(0x39, "i64.atomic.rmw32.or_u", Effects.I32I64ToI64, 4, offset);

    /// <summary><c>i32.atomic.rmw.xor</c> [i32 i32] → [i32], opcode 0xFE 0x3A: Atomic read-modify-write: bitwise exclusive or; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmwXor(uint offset = 0) => AtomicOp(0x3A, "i32.atomic.rmw.xor", Effects.I32I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.rmw.xor</c> [i32 i64] → [i64], opcode 0xFE 0x3B: Atomic read-modify-write: bitwise exclusive or; returns the old value. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmwXor(uint offset = 0) => AtomicOp(0x3B, "i64.atomic.rmw.xor", Effects.I32I64ToI64, 8, offset);

    /// <summary><c>i32.atomic.rmw8.xor_u</c> [i32 i32] → [i32], opcode 0xFE 0x3C: Atomic read-modify-write of the low byte, zero-extended: bitwise exclusive or; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw8XorU(uint offset = 0) => AtomicOp(0x3C, "i32.atomic.rmw8.xor_u", Effects.I32I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.rmw16.xor_u</c> [i32 i32] → [i32], opcode 0xFE 0x3D: Atomic read-modify-write of the low 2 bytes, zero-extended: bitwise exclusive or; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw16XorU(uint offset = 0) => AtomicOp(0x3D, "i32.atomic.rmw16.xor_u", Effects.I32I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.rmw8.xor_u</c> [i32 i64] → [i64], opcode 0xFE 0x3E: Atomic read-modify-write of the low byte, zero-extended: bitwise exclusive or; returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw8XorU(uint offset = 0) => AtomicOp(0x3E, "i64.atomic.rmw8.xor_u", Effects.I32I64ToI64, 1, offset);

    /// <summary><c>i64.atomic.rmw16.xor_u</c> [i32 i64] → [i64], opcode 0xFE 0x3F: Atomic read-modify-write of the low 2 bytes, zero-extended: bitwise exclusive or; returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw16XorU(uint offset = 0) => AtomicOp(0x3F, "i64.atomic.rmw16.xor_u", Effects.I32I64ToI64, 2, offset);

    /// <summary><c>i64.atomic.rmw32.xor_u</c> [i32 i64] → [i64], opcode 0xFE 0x40: Atomic read-modify-write of the low 4 bytes, zero-extended: bitwise exclusive or; returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw32XorU(uint offset = 0) => AtomicOp(0x40, "i64.atomic.rmw32.xor_u", Effects.I32I64ToI64, 4, offset);

    /// <summary><c>i32.atomic.rmw.xchg</c> [i32 i32] → [i32], opcode 0xFE 0x41: Atomic read-modify-write: exchange (stores the operand); returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmwXchg(uint offset = 0) => AtomicOp(0x41, "i32.atomic.rmw.xchg", Effects.I32I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.rmw.xchg</c> [i32 i64] → [i64], opcode 0xFE 0x42: Atomic read-modify-write: exchange (stores the operand); returns the old value. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmwXchg(uint offset = 0) => AtomicOp(0x42, "i64.atomic.rmw.xchg", Effects.I32I64ToI64, 8, offset);

    /// <summary><c>i32.atomic.rmw8.xchg_u</c> [i32 i32] → [i32], opcode 0xFE 0x43: Atomic read-modify-write of the low byte, zero-extended: exchange (stores the operand); returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw8XchgU(uint offset = 0) => AtomicOp(0x43, "i32.atomic.rmw8.xchg_u", Effects.I32I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.rmw16.xchg_u</c> [i32 i32] → [i32], opcode 0xFE 0x44: Atomic read-modify-write of the low 2 bytes, zero-extended: exchange (stores the operand); returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw16XchgU(uint offset = 0) => AtomicOp(0x44, "i32.atomic.rmw16.xchg_u", Effects.I32I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.rmw8.xchg_u</c> [i32 i64] → [i64], opcode 0xFE 0x45: Atomic read-modify-write of the low byte, zero-extended: exchange (stores the operand); returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw8XchgU(uint offset = 0) => AtomicOp(0x45, "i64.atomic.rmw8.xchg_u", Effects.I32I64ToI64, 1, offset);

    /// <summary><c>i64.atomic.rmw16.xchg_u</c> [i32 i64] → [i64], opcode 0xFE 0x46: Atomic read-modify-write of the low 2 bytes, zero-extended: exchange (stores the operand); returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw16XchgU(uint offset = 0) => AtomicOp(0x46, "i64.atomic.rmw16.xchg_u", Effects.I32I64ToI64, 2, offset);

    /// <summary><c>i64.atomic.rmw32.xchg_u</c> [i32 i64] → [i64], opcode 0xFE 0x47: Atomic read-modify-write of the low 4 bytes, zero-extended: exchange (stores the operand); returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw32XchgU(uint offset = 0) => AtomicOp(0x47, "i64.atomic.rmw32.xchg_u", Effects.I32I64ToI64, 4, offset);

    /// <summary><c>i32.atomic.rmw.cmpxchg</c> [i32 i32 i32] → [i32], opcode 0xFE 0x48: Atomic compare-exchange (operands: address, expected, replacement): stores the replacement if memory equals the expected value (wrapped to the access width); returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmwCmpxchg(uint offset = 0) => AtomicOp(0x48, "i32.atomic.rmw.cmpxchg", Effects.I32I32I32ToI32, 4, offset);

    /// <summary><c>i64.atomic.rmw.cmpxchg</c> [i32 i64 i64] → [i64], opcode 0xFE 0x49: Atomic compare-exchange (operands: address, expected, replacement): stores the replacement if memory equals the expected value (wrapped to the access width); returns the old value. The address must be a multiple of 8 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmwCmpxchg(uint offset = 0) => AtomicOp(0x49, "i64.atomic.rmw.cmpxchg", Effects.I32I64I64ToI64, 8, offset);

    /// <summary><c>i32.atomic.rmw8.cmpxchg_u</c> [i32 i32 i32] → [i32], opcode 0xFE 0x4A: Atomic compare-exchange of the low byte, zero-extended (operands: address, expected, replacement): stores the replacement if memory equals the expected value (wrapped to the access width); returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw8CmpxchgU(uint offset = 0) => AtomicOp(0x4A, "i32.atomic.rmw8.cmpxchg_u", Effects.I32I32I32ToI32, 1, offset);

    /// <summary><c>i32.atomic.rmw16.cmpxchg_u</c> [i32 i32 i32] → [i32], opcode 0xFE 0x4B: Atomic compare-exchange of the low 2 bytes, zero-extended (operands: address, expected, replacement): stores the replacement if memory equals the expected value (wrapped to the access width); returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I32AtomicRmw16CmpxchgU(uint offset = 0) => AtomicOp(0x4B, "i32.atomic.rmw16.cmpxchg_u", Effects.I32I32I32ToI32, 2, offset);

    /// <summary><c>i64.atomic.rmw8.cmpxchg_u</c> [i32 i64 i64] → [i64], opcode 0xFE 0x4C: Atomic compare-exchange of the low byte, zero-extended (operands: address, expected, replacement): stores the replacement if memory equals the expected value (wrapped to the access width); returns the old value. The address must be a multiple of 1 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw8CmpxchgU(uint offset = 0) => AtomicOp(0x4C, "i64.atomic.rmw8.cmpxchg_u", Effects.I32I64I64ToI64, 1, offset);

    /// <summary><c>i64.atomic.rmw16.cmpxchg_u</c> [i32 i64 i64] → [i64], opcode 0xFE 0x4D: Atomic compare-exchange of the low 2 bytes, zero-extended (operands: address, expected, replacement): stores the replacement if memory equals the expected value (wrapped to the access width); returns the old value. The address must be a multiple of 2 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw16CmpxchgU(uint offset = 0) => AtomicOp(0x4D, "i64.atomic.rmw16.cmpxchg_u", Effects.I32I64I64ToI64, 2, offset);

    /// <summary><c>i64.atomic.rmw32.cmpxchg_u</c> [i32 i64 i64] → [i64], opcode 0xFE 0x4E: Atomic compare-exchange of the low 4 bytes, zero-extended (operands: address, expected, replacement): stores the replacement if memory equals the expected value (wrapped to the access width); returns the old value. The address must be a multiple of 4 (else the access traps).</summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder I64AtomicRmw32CmpxchgU(uint offset = 0) => AtomicOp(0x4E, "i64.atomic.rmw32.cmpxchg_u", Effects.I32I64I64ToI64, 4, offset);
}
