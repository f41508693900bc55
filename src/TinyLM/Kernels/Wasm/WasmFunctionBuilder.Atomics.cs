namespace TinyLM.Kernels.Wasm;

public sealed partial class WasmFunctionBuilder
{
    /// <summary>
    /// <c>memory.atomic.wait32</c> [i32 i32 i64] → [i32], opcode 0xFE 0x01 (operands: address,
    /// expected value, timeout in nanoseconds, negative for none): if the i32 at the address equals
    /// the expected value, suspends until <c>memory.atomic.notify</c> or <c>Atomics.notify</c> on
    /// that address or the timeout; returns 0 "ok" (woken), 1 "not-equal", 2 "timed-out". The
    /// address must be a multiple of 4. Needs a shared memory (the builder rejects a non-shared
    /// one, where it traps) and traps on a browser's main thread, which may not block: wait only in
    /// workers.
    /// </summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder MemoryAtomicWait32(uint offset = 0) => AtomicWait(0x01, "memory.atomic.wait32", Effects.I32I32I64ToI32, 4, offset);

    /// <summary>
    /// <c>memory.atomic.wait64</c> [i32 i64 i64] → [i32], opcode 0xFE 0x02: as
    /// <see cref="MemoryAtomicWait32"/> on the i64 at the address (a multiple of 8).
    /// </summary>
    /// <param name="offset">Added to the address operand (unsigned, no wrap-around).</param>
    public WasmFunctionBuilder MemoryAtomicWait64(uint offset = 0) => AtomicWait(0x02, "memory.atomic.wait64", Effects.I32I64I64ToI32, 8, offset);

    /// <summary><c>atomic.fence</c> [] → [], opcode 0xFE 0x03 0x00: a sequentially consistent fence between the surrounding memory accesses.</summary>
    public WasmFunctionBuilder AtomicFence()
    {
        Prefixed(0xFE, 0x03, "atomic.fence", Effects.ToNothing);
        _code.WriteByte(0x00);
        return this;
    }
}
