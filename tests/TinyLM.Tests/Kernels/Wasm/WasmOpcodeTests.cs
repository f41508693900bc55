using TinyLM.Kernels.Wasm;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>
/// Instruction bytes for a sample of instructions, written out from the opcode tables of the core
/// spec 2.0 (binary/instructions.rst, SIMD: proposals/simd/BinarySIMD.md) and the threads proposal
/// (proposals/threads/Overview.md). Each instruction is emitted after <c>unreachable</c>, where any
/// operands type-check.
/// </summary>
public class WasmOpcodeTests
{
    public static TheoryData<string, Action<WasmFunctionBuilder>, byte[]> Instructions => new()
    {
        // Scalar
        { "i32.add", f => f.I32Add(), [0x6A] },
        { "i64.rem_u", f => f.I64RemU(), [0x82] },
        { "f32.sqrt", f => f.F32Sqrt(), [0x91] },
        { "f64.copysign", f => f.F64Copysign(), [0xA6] },
        { "i32.trunc_f32_s", f => f.I32TruncF32S(), [0xA8] },
        { "f32.convert_i32_s", f => f.F32ConvertI32S(), [0xB2] },
        { "f32.demote_f64", f => f.F32DemoteF64(), [0xB6] },
        { "f64.promote_f32", f => f.F64PromoteF32(), [0xBB] },
        { "i32.reinterpret_f32", f => f.I32ReinterpretF32(), [0xBC] },
        { "f64.reinterpret_i64", f => f.F64ReinterpretI64(), [0xBF] },
        { "i64.extend32_s", f => f.I64Extend32S(), [0xC4] },
        { "i32.trunc_sat_f32_s", f => f.I32TruncSatF32S(), [0xFC, 0x00] },
        { "i64.trunc_sat_f64_u", f => f.I64TruncSatF64U(), [0xFC, 0x07] },
        // Memory: opcode, log2(alignment), offset
        { "i32.load", f => f.I32Load(), [0x28, 0x02, 0x00] },
        { "i32.load align=1", f => f.I32Load(alignment: 1), [0x28, 0x00, 0x00] },
        { "i32.load8_s", f => f.I32Load8S(), [0x2C, 0x00, 0x00] },
        { "i32.load16_u offset=2", f => f.I32Load16U(2), [0x2F, 0x01, 0x02] },
        { "f64.load offset=200", f => f.F64Load(200), [0x2B, 0x03, 0xC8, 0x01] },
        { "i64.store32", f => f.I64Store32(), [0x3E, 0x02, 0x00] },
        { "memory.size", f => f.MemorySize(), [0x3F, 0x00] },
        { "memory.grow", f => f.MemoryGrow(), [0x40, 0x00] },
        { "memory.copy", f => f.MemoryCopy(), [0xFC, 0x0A, 0x00, 0x00] },
        { "memory.fill", f => f.MemoryFill(), [0xFC, 0x0B, 0x00] },
        // Control
        { "select", f => f.Select(), [0x1B] },
        { "select (result v128)", f => f.Select(V128), [0x1C, 0x01, 0x7B] },
        { "drop", f => f.Drop(), [0x1A] },
        { "return", f => f.Return(), [0x0F] },
        // SIMD (0xFD, then the sub-opcode as u32 LEB128)
        { "v128.load", f => f.V128Load(), [0xFD, 0x00, 0x04, 0x00] },
        { "v128.load8x8_s offset=8", f => f.V128Load8x8S(8), [0xFD, 0x01, 0x03, 0x08] },
        { "v128.load16x4_u", f => f.V128Load16x4U(), [0xFD, 0x04, 0x03, 0x00] },
        { "v128.load8_splat", f => f.V128Load8Splat(), [0xFD, 0x07, 0x00, 0x00] },
        { "v128.load32_splat", f => f.V128Load32Splat(), [0xFD, 0x09, 0x02, 0x00] },
        { "v128.store align=4", f => f.V128Store(alignment: 4), [0xFD, 0x0B, 0x02, 0x00] },
        { "v128.load32_zero", f => f.V128Load32Zero(), [0xFD, 0x5C, 0x02, 0x00] },
        { "v128.load16_lane 3", f => f.V128Load16Lane(3), [0xFD, 0x55, 0x01, 0x00, 0x03] },
        { "v128.store64_lane 1", f => f.V128Store64Lane(1), [0xFD, 0x5B, 0x03, 0x00, 0x01] },
        { "i8x16.shuffle", f => f.I8x16Shuffle([0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 31]),
            [0xFD, 0x0D, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 31] },
        { "i8x16.swizzle", f => f.I8x16Swizzle(), [0xFD, 0x0E] },
        { "i8x16.splat", f => f.I8x16Splat(), [0xFD, 0x0F] },
        { "f64x2.splat", f => f.F64x2Splat(), [0xFD, 0x14] },
        { "i8x16.extract_lane_s 15", f => f.I8x16ExtractLaneS(15), [0xFD, 0x15, 0x0F] },
        { "i16x8.extract_lane_u 7", f => f.I16x8ExtractLaneU(7), [0xFD, 0x19, 0x07] },
        { "f32x4.replace_lane 2", f => f.F32x4ReplaceLane(2), [0xFD, 0x20, 0x02] },
        { "f64x2.extract_lane 1", f => f.F64x2ExtractLane(1), [0xFD, 0x21, 0x01] },
        { "i8x16.eq", f => f.I8x16Eq(), [0xFD, 0x23] },
        { "i32x4.ge_u", f => f.I32x4GeU(), [0xFD, 0x40] },
        { "f32x4.lt", f => f.F32x4Lt(), [0xFD, 0x43] },
        { "f64x2.ge", f => f.F64x2Ge(), [0xFD, 0x4C] },
        { "v128.not", f => f.V128Not(), [0xFD, 0x4D] },
        { "v128.andnot", f => f.V128Andnot(), [0xFD, 0x4F] },
        { "v128.bitselect", f => f.V128Bitselect(), [0xFD, 0x52] },
        { "v128.any_true", f => f.V128AnyTrue(), [0xFD, 0x53] },
        { "f32x4.demote_f64x2_zero", f => f.F32x4DemoteF64x2Zero(), [0xFD, 0x5E] },
        { "f64x2.promote_low_f32x4", f => f.F64x2PromoteLowF32x4(), [0xFD, 0x5F] },
        { "i8x16.bitmask", f => f.I8x16Bitmask(), [0xFD, 0x64] },
        { "i8x16.narrow_i16x8_s", f => f.I8x16NarrowI16x8S(), [0xFD, 0x65] },
        { "i8x16.shr_u", f => f.I8x16ShrU(), [0xFD, 0x6D] },
        { "i8x16.add_sat_u", f => f.I8x16AddSatU(), [0xFD, 0x70] },
        { "i8x16.avgr_u", f => f.I8x16AvgrU(), [0xFD, 0x7B] },
        { "i16x8.extadd_pairwise_i8x16_s", f => f.I16x8ExtaddPairwiseI8x16S(), [0xFD, 0x7C] },
        { "i32x4.extadd_pairwise_i16x8_u", f => f.I32x4ExtaddPairwiseI16x8U(), [0xFD, 0x7F] },
        { "i16x8.q15mulr_sat_s", f => f.I16x8Q15mulrSatS(), [0xFD, 0x82, 0x01] },
        { "i16x8.narrow_i32x4_u", f => f.I16x8NarrowI32x4U(), [0xFD, 0x86, 0x01] },
        { "i16x8.extend_low_i8x16_s", f => f.I16x8ExtendLowI8x16S(), [0xFD, 0x87, 0x01] },
        { "i16x8.extend_high_i8x16_u", f => f.I16x8ExtendHighI8x16U(), [0xFD, 0x8A, 0x01] },
        { "i16x8.mul", f => f.I16x8Mul(), [0xFD, 0x95, 0x01] },
        { "i32x4.all_true", f => f.I32x4AllTrue(), [0xFD, 0xA3, 0x01] },
        { "i32x4.extend_low_i16x8_s", f => f.I32x4ExtendLowI16x8S(), [0xFD, 0xA7, 0x01] },
        { "i32x4.add", f => f.I32x4Add(), [0xFD, 0xAE, 0x01] },
        { "i32x4.dot_i16x8_s", f => f.I32x4DotI16x8S(), [0xFD, 0xBA, 0x01] },
        { "i64x2.shl", f => f.I64x2Shl(), [0xFD, 0xCB, 0x01] },
        { "i64x2.mul", f => f.I64x2Mul(), [0xFD, 0xD5, 0x01] },
        { "i64x2.ge_s", f => f.I64x2GeS(), [0xFD, 0xDB, 0x01] },
        { "f32x4.abs", f => f.F32x4Abs(), [0xFD, 0xE0, 0x01] },
        { "f32x4.div", f => f.F32x4Div(), [0xFD, 0xE7, 0x01] },
        { "f32x4.min", f => f.F32x4Min(), [0xFD, 0xE8, 0x01] },
        { "f32x4.pmax", f => f.F32x4Pmax(), [0xFD, 0xEB, 0x01] },
        { "f64x2.sqrt", f => f.F64x2Sqrt(), [0xFD, 0xEF, 0x01] },
        { "f64x2.max", f => f.F64x2Max(), [0xFD, 0xF5, 0x01] },
        { "i32x4.trunc_sat_f32x4_s", f => f.I32x4TruncSatF32x4S(), [0xFD, 0xF8, 0x01] },
        { "f32x4.convert_i32x4_s", f => f.F32x4ConvertI32x4S(), [0xFD, 0xFA, 0x01] },
        { "i32x4.trunc_sat_f64x2_u_zero", f => f.I32x4TruncSatF64x2UZero(), [0xFD, 0xFD, 0x01] },
        { "f64x2.convert_low_i32x4_u", f => f.F64x2ConvertLowI32x4U(), [0xFD, 0xFF, 0x01] },
        // Atomics (0xFE, sub-opcode, memarg with the natural alignment)
        { "memory.atomic.notify", f => f.MemoryAtomicNotify(), [0xFE, 0x00, 0x02, 0x00] },
        { "memory.atomic.wait32", f => f.MemoryAtomicWait32(), [0xFE, 0x01, 0x02, 0x00] },
        { "memory.atomic.wait64 offset=8", f => f.MemoryAtomicWait64(8), [0xFE, 0x02, 0x03, 0x08] },
        { "atomic.fence", f => f.AtomicFence(), [0xFE, 0x03, 0x00] },
        { "i32.atomic.load", f => f.I32AtomicLoad(), [0xFE, 0x10, 0x02, 0x00] },
        { "i64.atomic.load32_u", f => f.I64AtomicLoad32U(), [0xFE, 0x16, 0x02, 0x00] },
        { "i32.atomic.store offset=4", f => f.I32AtomicStore(4), [0xFE, 0x17, 0x02, 0x04] },
        { "i32.atomic.store8", f => f.I32AtomicStore8(), [0xFE, 0x19, 0x00, 0x00] },
        { "i32.atomic.rmw.add", f => f.I32AtomicRmwAdd(), [0xFE, 0x1E, 0x02, 0x00] },
        { "i64.atomic.rmw.add", f => f.I64AtomicRmwAdd(), [0xFE, 0x1F, 0x03, 0x00] },
        { "i32.atomic.rmw8.add_u", f => f.I32AtomicRmw8AddU(), [0xFE, 0x20, 0x00, 0x00] },
        { "i32.atomic.rmw.sub", f => f.I32AtomicRmwSub(), [0xFE, 0x25, 0x02, 0x00] },
        { "i64.atomic.rmw16.or_u", f => f.I64AtomicRmw16OrU(), [0xFE, 0x38, 0x01, 0x00] },
        { "i32.atomic.rmw.xchg", f => f.I32AtomicRmwXchg(), [0xFE, 0x41, 0x02, 0x00] },
        { "i32.atomic.rmw.cmpxchg", f => f.I32AtomicRmwCmpxchg(), [0xFE, 0x48, 0x02, 0x00] },
        { "i64.atomic.rmw32.cmpxchg_u", f => f.I64AtomicRmw32CmpxchgU(), [0xFE, 0x4E, 0x02, 0x00] },
    };

    [Theory]
    [MemberData(nameof(Instructions))]
    public void Instruction_EncodesAsInSpecTable(string instruction, Action<WasmFunctionBuilder> emit, byte[] expected)
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", new WasmMemoryType(1, 1, Shared: true));
        WasmFunctionBuilder f = module.AddFunction("f", [], []);
        f.Unreachable();
        int start = f.CodeLength;
        emit(f);
        Assert.True(expected.AsSpan().SequenceEqual(f.CodeBytes[start..]),
            $"{instruction}: expected {Convert.ToHexString(expected)}, emitted {Convert.ToHexString(f.CodeBytes[start..])}");
    }

    [Fact]
    public void Control_EncodesRelativeLabelDepths()
    {
        var module = new WasmModuleBuilder();
        WasmFunctionBuilder f = module.AddFunction("f", [I32], []);
        WasmLabel outer = f.Block();
        WasmLabel loop = f.Loop();
        f.LocalGet(f.Param(0)).BrIf(outer);
        f.LocalGet(f.Param(0));
        using (f.If(I32))
        {
            f.I32Const(1).Br(loop);
            f.Else();
            f.I32Const(2);
        }
        f.LocalGet(f.Param(0)).BrTable([outer, loop], loop);
        f.End(loop);
        f.End(outer);
        byte[] expected =
        [
            0x02, 0x40, 0x03, 0x40,
            0x20, 0x00, 0x0D, 0x01,             // br_if outer: depth 1 from inside the loop
            0x20, 0x00,
            0x04, 0x7F, 0x41, 0x01, 0x0C, 0x01, // if (result i32); i32.const 1; br loop: depth 1 from inside the if
            0x05, 0x41, 0x02, 0x0B,             // else; i32.const 2; end
            0x20, 0x00, 0x0E, 0x02, 0x01, 0x00, 0x00, // br_table [outer loop] loop
            0x0B, 0x0B,
        ];
        Assert.Equal(expected, f.CodeBytes.ToArray());
    }
}
