using System.Numerics;
using System.Runtime.InteropServices;
using TinyLM.Kernels.Wasm;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>
/// Every SIMD instruction that computes (not the loads/stores of one lane) run in V8 over all
/// combinations of a set of edge-value vectors, against a C# reference of the spec's semantics. A
/// wrong opcode (two instructions of the same type swapped) shows up here, not in validation.
/// </summary>
public class WasmSimdSemanticsTests
{
    /// <summary>How an operand reaches the stack: a vector, a scalar from the start of an input vector, a shift count, or the address itself.</summary>
    private enum Operand { V, I32, I64, F32, F64, Count, Address }

    /// <summary>How the result is compared: bytes, or float lanes where any NaN matches any NaN.</summary>
    private enum Check { Exact, F32, F64 }

    private sealed record Op(string Name, Operand[] Operands, WasmValueType Result, Action<WasmFunctionBuilder> Emit, Func<byte[][], byte[]> Reference, Check Check = Check.Exact);

    private static readonly int[] ShiftCounts = [0, 1, 5, 7, 8, 15, 16, 31, 32, 33, 63, 64, -1];

    private static byte[][] Inputs()
    {
        var random = new Random(42);
        byte[] R() { var b = new byte[16]; random.NextBytes(b); return b; }
        return
        [
            Enumerable.Range(0, 16).Select(i => (byte)i).ToArray(),
            Enumerable.Repeat((byte)0xFF, 16).ToArray(),
            Enumerable.Range(0, 16).Select(i => (byte)(i % 2 == 0 ? 0x80 : 0x7F)).ToArray(),
            R(),
            R(),
            B<float>([1.5f, -2.25f, float.NaN, -0f]),
            B<float>([float.PositiveInfinity, 3e9f, -3e9f, 0.5f]),
            B<float>([2.5f, -3.5f, 1e-40f, 16777217f]),
            B<double>([2.5, -1e300]),
            B<double>([double.NaN, -0.0]),
            B<double>([-2.5e9, 4.5e9]),
            B<short>([short.MaxValue, short.MinValue, -1, 1, 0x1234, -300, 255, 256]),
            B<int>([int.MinValue, int.MaxValue, -1, 70000]),
            B<long>([long.MinValue, 0x0123456789ABCDEF]),
        ];
    }

    private static IEnumerable<Op> Ops()
    {
        Operand[] v = [Operand.V], vv = [Operand.V, Operand.V], vc = [Operand.V, Operand.Count];

        // Comparisons: all-ones lanes where true.
        yield return new("i8x16.eq", vv, V128, f => f.I8x16Eq(), x => Cmp<sbyte>(x, (a, b) => a == b));
        yield return new("i8x16.ne", vv, V128, f => f.I8x16Ne(), x => Cmp<sbyte>(x, (a, b) => a != b));
        yield return new("i8x16.lt_s", vv, V128, f => f.I8x16LtS(), x => Cmp<sbyte>(x, (a, b) => a < b));
        yield return new("i8x16.lt_u", vv, V128, f => f.I8x16LtU(), x => Cmp<byte>(x, (a, b) => a < b));
        yield return new("i8x16.gt_s", vv, V128, f => f.I8x16GtS(), x => Cmp<sbyte>(x, (a, b) => a > b));
        yield return new("i8x16.gt_u", vv, V128, f => f.I8x16GtU(), x => Cmp<byte>(x, (a, b) => a > b));
        yield return new("i8x16.le_s", vv, V128, f => f.I8x16LeS(), x => Cmp<sbyte>(x, (a, b) => a <= b));
        yield return new("i8x16.le_u", vv, V128, f => f.I8x16LeU(), x => Cmp<byte>(x, (a, b) => a <= b));
        yield return new("i8x16.ge_s", vv, V128, f => f.I8x16GeS(), x => Cmp<sbyte>(x, (a, b) => a >= b));
        yield return new("i8x16.ge_u", vv, V128, f => f.I8x16GeU(), x => Cmp<byte>(x, (a, b) => a >= b));
        yield return new("i16x8.eq", vv, V128, f => f.I16x8Eq(), x => Cmp<short>(x, (a, b) => a == b));
        yield return new("i16x8.ne", vv, V128, f => f.I16x8Ne(), x => Cmp<short>(x, (a, b) => a != b));
        yield return new("i16x8.lt_s", vv, V128, f => f.I16x8LtS(), x => Cmp<short>(x, (a, b) => a < b));
        yield return new("i16x8.lt_u", vv, V128, f => f.I16x8LtU(), x => Cmp<ushort>(x, (a, b) => a < b));
        yield return new("i16x8.gt_s", vv, V128, f => f.I16x8GtS(), x => Cmp<short>(x, (a, b) => a > b));
        yield return new("i16x8.gt_u", vv, V128, f => f.I16x8GtU(), x => Cmp<ushort>(x, (a, b) => a > b));
        yield return new("i16x8.le_s", vv, V128, f => f.I16x8LeS(), x => Cmp<short>(x, (a, b) => a <= b));
        yield return new("i16x8.le_u", vv, V128, f => f.I16x8LeU(), x => Cmp<ushort>(x, (a, b) => a <= b));
        yield return new("i16x8.ge_s", vv, V128, f => f.I16x8GeS(), x => Cmp<short>(x, (a, b) => a >= b));
        yield return new("i16x8.ge_u", vv, V128, f => f.I16x8GeU(), x => Cmp<ushort>(x, (a, b) => a >= b));
        yield return new("i32x4.eq", vv, V128, f => f.I32x4Eq(), x => Cmp<int>(x, (a, b) => a == b));
        yield return new("i32x4.ne", vv, V128, f => f.I32x4Ne(), x => Cmp<int>(x, (a, b) => a != b));
        yield return new("i32x4.lt_s", vv, V128, f => f.I32x4LtS(), x => Cmp<int>(x, (a, b) => a < b));
        yield return new("i32x4.lt_u", vv, V128, f => f.I32x4LtU(), x => Cmp<uint>(x, (a, b) => a < b));
        yield return new("i32x4.gt_s", vv, V128, f => f.I32x4GtS(), x => Cmp<int>(x, (a, b) => a > b));
        yield return new("i32x4.gt_u", vv, V128, f => f.I32x4GtU(), x => Cmp<uint>(x, (a, b) => a > b));
        yield return new("i32x4.le_s", vv, V128, f => f.I32x4LeS(), x => Cmp<int>(x, (a, b) => a <= b));
        yield return new("i32x4.le_u", vv, V128, f => f.I32x4LeU(), x => Cmp<uint>(x, (a, b) => a <= b));
        yield return new("i32x4.ge_s", vv, V128, f => f.I32x4GeS(), x => Cmp<int>(x, (a, b) => a >= b));
        yield return new("i32x4.ge_u", vv, V128, f => f.I32x4GeU(), x => Cmp<uint>(x, (a, b) => a >= b));
        yield return new("i64x2.eq", vv, V128, f => f.I64x2Eq(), x => Cmp<long>(x, (a, b) => a == b));
        yield return new("i64x2.ne", vv, V128, f => f.I64x2Ne(), x => Cmp<long>(x, (a, b) => a != b));
        yield return new("i64x2.lt_s", vv, V128, f => f.I64x2LtS(), x => Cmp<long>(x, (a, b) => a < b));
        yield return new("i64x2.gt_s", vv, V128, f => f.I64x2GtS(), x => Cmp<long>(x, (a, b) => a > b));
        yield return new("i64x2.le_s", vv, V128, f => f.I64x2LeS(), x => Cmp<long>(x, (a, b) => a <= b));
        yield return new("i64x2.ge_s", vv, V128, f => f.I64x2GeS(), x => Cmp<long>(x, (a, b) => a >= b));
        yield return new("f32x4.eq", vv, V128, f => f.F32x4Eq(), x => Cmp<float>(x, (a, b) => a == b));
        yield return new("f32x4.ne", vv, V128, f => f.F32x4Ne(), x => Cmp<float>(x, (a, b) => a != b));
        yield return new("f32x4.lt", vv, V128, f => f.F32x4Lt(), x => Cmp<float>(x, (a, b) => a < b));
        yield return new("f32x4.gt", vv, V128, f => f.F32x4Gt(), x => Cmp<float>(x, (a, b) => a > b));
        yield return new("f32x4.le", vv, V128, f => f.F32x4Le(), x => Cmp<float>(x, (a, b) => a <= b));
        yield return new("f32x4.ge", vv, V128, f => f.F32x4Ge(), x => Cmp<float>(x, (a, b) => a >= b));
        yield return new("f64x2.eq", vv, V128, f => f.F64x2Eq(), x => Cmp<double>(x, (a, b) => a == b));
        yield return new("f64x2.ne", vv, V128, f => f.F64x2Ne(), x => Cmp<double>(x, (a, b) => a != b));
        yield return new("f64x2.lt", vv, V128, f => f.F64x2Lt(), x => Cmp<double>(x, (a, b) => a < b));
        yield return new("f64x2.gt", vv, V128, f => f.F64x2Gt(), x => Cmp<double>(x, (a, b) => a > b));
        yield return new("f64x2.le", vv, V128, f => f.F64x2Le(), x => Cmp<double>(x, (a, b) => a <= b));
        yield return new("f64x2.ge", vv, V128, f => f.F64x2Ge(), x => Cmp<double>(x, (a, b) => a >= b));

        // Bitwise
        yield return new("v128.not", v, V128, f => f.V128Not(), x => Un<byte>(x, a => (byte)~a));
        yield return new("v128.and", vv, V128, f => f.V128And(), x => Bin<byte>(x, (a, b) => (byte)(a & b)));
        yield return new("v128.andnot", vv, V128, f => f.V128Andnot(), x => Bin<byte>(x, (a, b) => (byte)(a & ~b)));
        yield return new("v128.or", vv, V128, f => f.V128Or(), x => Bin<byte>(x, (a, b) => (byte)(a | b)));
        yield return new("v128.xor", vv, V128, f => f.V128Xor(), x => Bin<byte>(x, (a, b) => (byte)(a ^ b)));
        yield return new("v128.bitselect", [Operand.V, Operand.V, Operand.V], V128, f => f.V128Bitselect(),
            x => Enumerable.Range(0, 16).Select(i => (byte)((x[0][i] & x[2][i]) | (x[1][i] & ~x[2][i]))).ToArray());
        yield return new("v128.any_true", v, I32, f => f.V128AnyTrue(), x => I(x[0].Any(b => b != 0) ? 1 : 0));

        // Lane access
        yield return new("i8x16.swizzle", vv, V128, f => f.I8x16Swizzle(), x => Enumerable.Range(0, 16).Select(i => x[1][i] < 16 ? x[0][x[1][i]] : (byte)0).ToArray());
        byte[] interleave = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
        byte[] scramble = [31, 0, 30, 1, 15, 16, 8, 8, 8, 8, 3, 29, 12, 19, 2, 27];
        yield return new("i8x16.shuffle interleave", vv, V128, f => f.I8x16Shuffle(interleave), x => Shuffle(x, interleave));
        yield return new("i8x16.shuffle scramble", vv, V128, f => f.I8x16Shuffle(scramble), x => Shuffle(x, scramble));
        yield return new("i8x16.splat", [Operand.I32], V128, f => f.I8x16Splat(), x => Enumerable.Repeat(x[0][0], 16).ToArray());
        yield return new("i16x8.splat", [Operand.I32], V128, f => f.I16x8Splat(), x => B(Enumerable.Repeat(L<short>(x[0])[0], 8).ToArray()));
        yield return new("i32x4.splat", [Operand.I32], V128, f => f.I32x4Splat(), x => B(Enumerable.Repeat(L<int>(x[0])[0], 4).ToArray()));
        yield return new("i64x2.splat", [Operand.I64], V128, f => f.I64x2Splat(), x => B(Enumerable.Repeat(L<long>(x[0])[0], 2).ToArray()));
        yield return new("f32x4.splat", [Operand.F32], V128, f => f.F32x4Splat(), x => B(Enumerable.Repeat(L<float>(x[0])[0], 4).ToArray()), Check.F32);
        yield return new("f64x2.splat", [Operand.F64], V128, f => f.F64x2Splat(), x => B(Enumerable.Repeat(L<double>(x[0])[0], 2).ToArray()), Check.F64);
        yield return new("i8x16.extract_lane_s 13", v, I32, f => f.I8x16ExtractLaneS(13), x => I((sbyte)x[0][13]));
        yield return new("i8x16.extract_lane_u 13", v, I32, f => f.I8x16ExtractLaneU(13), x => I(x[0][13]));
        yield return new("i16x8.extract_lane_s 1", v, I32, f => f.I16x8ExtractLaneS(1), x => I(L<short>(x[0])[1]));
        yield return new("i16x8.extract_lane_u 1", v, I32, f => f.I16x8ExtractLaneU(1), x => I(L<ushort>(x[0])[1]));
        yield return new("i32x4.extract_lane 3", v, I32, f => f.I32x4ExtractLane(3), x => I(L<int>(x[0])[3]));
        yield return new("i64x2.extract_lane 1", v, I64, f => f.I64x2ExtractLane(1), x => B([L<long>(x[0])[1]]));
        yield return new("f32x4.extract_lane 2", v, F32, f => f.F32x4ExtractLane(2), x => B([L<float>(x[0])[2]]), Check.F32);
        yield return new("f64x2.extract_lane 1", v, F64, f => f.F64x2ExtractLane(1), x => B([L<double>(x[0])[1]]), Check.F64);
        yield return new("i8x16.replace_lane 9", [Operand.V, Operand.I32], V128, f => f.I8x16ReplaceLane(9), x => Replace<byte>(x, 9));
        yield return new("i16x8.replace_lane 6", [Operand.V, Operand.I32], V128, f => f.I16x8ReplaceLane(6), x => Replace<short>(x, 6));
        yield return new("i32x4.replace_lane 0", [Operand.V, Operand.I32], V128, f => f.I32x4ReplaceLane(0), x => Replace<int>(x, 0));
        yield return new("i64x2.replace_lane 1", [Operand.V, Operand.I64], V128, f => f.I64x2ReplaceLane(1), x => Replace<long>(x, 1));
        yield return new("f32x4.replace_lane 3", [Operand.V, Operand.F32], V128, f => f.F32x4ReplaceLane(3), x => Replace<float>(x, 3), Check.F32);
        yield return new("f64x2.replace_lane 0", [Operand.V, Operand.F64], V128, f => f.F64x2ReplaceLane(0), x => Replace<double>(x, 0), Check.F64);

        // i8x16
        yield return new("i8x16.abs", v, V128, f => f.I8x16Abs(), x => Un<sbyte>(x, a => (sbyte)(a < 0 ? -a : a)));
        yield return new("i8x16.neg", v, V128, f => f.I8x16Neg(), x => Un<sbyte>(x, a => (sbyte)-a));
        yield return new("i8x16.popcnt", v, V128, f => f.I8x16Popcnt(), x => Un<byte>(x, a => (byte)BitOperations.PopCount(a)));
        yield return new("i8x16.all_true", v, I32, f => f.I8x16AllTrue(), x => I(L<byte>(x[0]).All(a => a != 0) ? 1 : 0));
        yield return new("i8x16.bitmask", v, I32, f => f.I8x16Bitmask(), x => I(Bitmask(L<sbyte>(x[0]).Select(a => a < 0))));
        yield return new("i8x16.narrow_i16x8_s", vv, V128, f => f.I8x16NarrowI16x8S(), x => B(L<short>(x[0]).Concat(L<short>(x[1])).Select(a => (sbyte)Math.Clamp((int)a, -128, 127)).ToArray()));
        yield return new("i8x16.narrow_i16x8_u", vv, V128, f => f.I8x16NarrowI16x8U(), x => B(L<short>(x[0]).Concat(L<short>(x[1])).Select(a => (byte)Math.Clamp((int)a, 0, 255)).ToArray()));
        yield return new("i8x16.shl", vc, V128, f => f.I8x16Shl(), x => Un<byte>(x, a => (byte)(a << (Count(x) & 7))));
        yield return new("i8x16.shr_s", vc, V128, f => f.I8x16ShrS(), x => Un<sbyte>(x, a => (sbyte)(a >> (Count(x) & 7))));
        yield return new("i8x16.shr_u", vc, V128, f => f.I8x16ShrU(), x => Un<byte>(x, a => (byte)(a >> (Count(x) & 7))));
        yield return new("i8x16.add", vv, V128, f => f.I8x16Add(), x => Bin<byte>(x, (a, b) => (byte)(a + b)));
        yield return new("i8x16.add_sat_s", vv, V128, f => f.I8x16AddSatS(), x => Bin<sbyte>(x, (a, b) => (sbyte)Math.Clamp(a + b, -128, 127)));
        yield return new("i8x16.add_sat_u", vv, V128, f => f.I8x16AddSatU(), x => Bin<byte>(x, (a, b) => (byte)Math.Min(a + b, 255)));
        yield return new("i8x16.sub", vv, V128, f => f.I8x16Sub(), x => Bin<byte>(x, (a, b) => (byte)(a - b)));
        yield return new("i8x16.sub_sat_s", vv, V128, f => f.I8x16SubSatS(), x => Bin<sbyte>(x, (a, b) => (sbyte)Math.Clamp(a - b, -128, 127)));
        yield return new("i8x16.sub_sat_u", vv, V128, f => f.I8x16SubSatU(), x => Bin<byte>(x, (a, b) => (byte)Math.Max(a - b, 0)));
        yield return new("i8x16.min_s", vv, V128, f => f.I8x16MinS(), x => Bin<sbyte>(x, Math.Min));
        yield return new("i8x16.min_u", vv, V128, f => f.I8x16MinU(), x => Bin<byte>(x, Math.Min));
        yield return new("i8x16.max_s", vv, V128, f => f.I8x16MaxS(), x => Bin<sbyte>(x, Math.Max));
        yield return new("i8x16.max_u", vv, V128, f => f.I8x16MaxU(), x => Bin<byte>(x, Math.Max));
        yield return new("i8x16.avgr_u", vv, V128, f => f.I8x16AvgrU(), x => Bin<byte>(x, (a, b) => (byte)((a + b + 1) >> 1)));

        // i16x8
        yield return new("i16x8.extadd_pairwise_i8x16_s", v, V128, f => f.I16x8ExtaddPairwiseI8x16S(), x => Pairwise<sbyte, short>(x[0], (a, b) => (short)(a + b)));
        yield return new("i16x8.extadd_pairwise_i8x16_u", v, V128, f => f.I16x8ExtaddPairwiseI8x16U(), x => Pairwise<byte, short>(x[0], (a, b) => (short)(a + b)));
        yield return new("i16x8.abs", v, V128, f => f.I16x8Abs(), x => Un<short>(x, a => (short)(a < 0 ? -a : a)));
        yield return new("i16x8.neg", v, V128, f => f.I16x8Neg(), x => Un<short>(x, a => (short)-a));
        yield return new("i16x8.q15mulr_sat_s", vv, V128, f => f.I16x8Q15mulrSatS(), x => Bin<short>(x, (a, b) => (short)Math.Clamp((a * b + 0x4000) >> 15, -32768, 32767)));
        yield return new("i16x8.all_true", v, I32, f => f.I16x8AllTrue(), x => I(L<short>(x[0]).All(a => a != 0) ? 1 : 0));
        yield return new("i16x8.bitmask", v, I32, f => f.I16x8Bitmask(), x => I(Bitmask(L<short>(x[0]).Select(a => a < 0))));
        yield return new("i16x8.narrow_i32x4_s", vv, V128, f => f.I16x8NarrowI32x4S(), x => B(L<int>(x[0]).Concat(L<int>(x[1])).Select(a => (short)Math.Clamp(a, -32768, 32767)).ToArray()));
        yield return new("i16x8.narrow_i32x4_u", vv, V128, f => f.I16x8NarrowI32x4U(), x => B(L<int>(x[0]).Concat(L<int>(x[1])).Select(a => (ushort)Math.Clamp(a, 0, 65535)).ToArray()));
        yield return new("i16x8.extend_low_i8x16_s", v, V128, f => f.I16x8ExtendLowI8x16S(), x => B(L<sbyte>(x[0])[..8].Select(a => (short)a).ToArray()));
        yield return new("i16x8.extend_high_i8x16_s", v, V128, f => f.I16x8ExtendHighI8x16S(), x => B(L<sbyte>(x[0])[8..].Select(a => (short)a).ToArray()));
        yield return new("i16x8.extend_low_i8x16_u", v, V128, f => f.I16x8ExtendLowI8x16U(), x => B(L<byte>(x[0])[..8].Select(a => (short)a).ToArray()));
        yield return new("i16x8.extend_high_i8x16_u", v, V128, f => f.I16x8ExtendHighI8x16U(), x => B(L<byte>(x[0])[8..].Select(a => (short)a).ToArray()));
        yield return new("i16x8.shl", vc, V128, f => f.I16x8Shl(), x => Un<ushort>(x, a => (ushort)(a << (Count(x) & 15))));
        yield return new("i16x8.shr_s", vc, V128, f => f.I16x8ShrS(), x => Un<short>(x, a => (short)(a >> (Count(x) & 15))));
        yield return new("i16x8.shr_u", vc, V128, f => f.I16x8ShrU(), x => Un<ushort>(x, a => (ushort)(a >> (Count(x) & 15))));
        yield return new("i16x8.add", vv, V128, f => f.I16x8Add(), x => Bin<short>(x, (a, b) => (short)(a + b)));
        yield return new("i16x8.add_sat_s", vv, V128, f => f.I16x8AddSatS(), x => Bin<short>(x, (a, b) => (short)Math.Clamp(a + b, -32768, 32767)));
        yield return new("i16x8.add_sat_u", vv, V128, f => f.I16x8AddSatU(), x => Bin<ushort>(x, (a, b) => (ushort)Math.Min(a + b, 65535)));
        yield return new("i16x8.sub", vv, V128, f => f.I16x8Sub(), x => Bin<short>(x, (a, b) => (short)(a - b)));
        yield return new("i16x8.sub_sat_s", vv, V128, f => f.I16x8SubSatS(), x => Bin<short>(x, (a, b) => (short)Math.Clamp(a - b, -32768, 32767)));
        yield return new("i16x8.sub_sat_u", vv, V128, f => f.I16x8SubSatU(), x => Bin<ushort>(x, (a, b) => (ushort)Math.Max(a - b, 0)));
        yield return new("i16x8.mul", vv, V128, f => f.I16x8Mul(), x => Bin<short>(x, (a, b) => (short)(a * b)));
        yield return new("i16x8.min_s", vv, V128, f => f.I16x8MinS(), x => Bin<short>(x, Math.Min));
        yield return new("i16x8.min_u", vv, V128, f => f.I16x8MinU(), x => Bin<ushort>(x, Math.Min));
        yield return new("i16x8.max_s", vv, V128, f => f.I16x8MaxS(), x => Bin<short>(x, Math.Max));
        yield return new("i16x8.max_u", vv, V128, f => f.I16x8MaxU(), x => Bin<ushort>(x, Math.Max));
        yield return new("i16x8.avgr_u", vv, V128, f => f.I16x8AvgrU(), x => Bin<ushort>(x, (a, b) => (ushort)((a + b + 1) >> 1)));
        yield return new("i16x8.extmul_low_i8x16_s", vv, V128, f => f.I16x8ExtmulLowI8x16S(), x => ExtMul<sbyte, short>(x, 0, (a, b) => (short)(a * b)));
        yield return new("i16x8.extmul_high_i8x16_s", vv, V128, f => f.I16x8ExtmulHighI8x16S(), x => ExtMul<sbyte, short>(x, 8, (a, b) => (short)(a * b)));
        yield return new("i16x8.extmul_low_i8x16_u", vv, V128, f => f.I16x8ExtmulLowI8x16U(), x => ExtMul<byte, ushort>(x, 0, (a, b) => (ushort)(a * b)));
        yield return new("i16x8.extmul_high_i8x16_u", vv, V128, f => f.I16x8ExtmulHighI8x16U(), x => ExtMul<byte, ushort>(x, 8, (a, b) => (ushort)(a * b)));

        // i32x4
        yield return new("i32x4.extadd_pairwise_i16x8_s", v, V128, f => f.I32x4ExtaddPairwiseI16x8S(), x => Pairwise<short, int>(x[0], (a, b) => a + b));
        yield return new("i32x4.extadd_pairwise_i16x8_u", v, V128, f => f.I32x4ExtaddPairwiseI16x8U(), x => Pairwise<ushort, int>(x[0], (a, b) => a + b));
        yield return new("i32x4.abs", v, V128, f => f.I32x4Abs(), x => Un<int>(x, a => a < 0 ? -a : a));
        yield return new("i32x4.neg", v, V128, f => f.I32x4Neg(), x => Un<int>(x, a => -a));
        yield return new("i32x4.all_true", v, I32, f => f.I32x4AllTrue(), x => I(L<int>(x[0]).All(a => a != 0) ? 1 : 0));
        yield return new("i32x4.bitmask", v, I32, f => f.I32x4Bitmask(), x => I(Bitmask(L<int>(x[0]).Select(a => a < 0))));
        yield return new("i32x4.extend_low_i16x8_s", v, V128, f => f.I32x4ExtendLowI16x8S(), x => B(L<short>(x[0])[..4].Select(a => (int)a).ToArray()));
        yield return new("i32x4.extend_high_i16x8_s", v, V128, f => f.I32x4ExtendHighI16x8S(), x => B(L<short>(x[0])[4..].Select(a => (int)a).ToArray()));
        yield return new("i32x4.extend_low_i16x8_u", v, V128, f => f.I32x4ExtendLowI16x8U(), x => B(L<ushort>(x[0])[..4].Select(a => (int)a).ToArray()));
        yield return new("i32x4.extend_high_i16x8_u", v, V128, f => f.I32x4ExtendHighI16x8U(), x => B(L<ushort>(x[0])[4..].Select(a => (int)a).ToArray()));
        yield return new("i32x4.shl", vc, V128, f => f.I32x4Shl(), x => Un<int>(x, a => a << (Count(x) & 31)));
        yield return new("i32x4.shr_s", vc, V128, f => f.I32x4ShrS(), x => Un<int>(x, a => a >> (Count(x) & 31)));
        yield return new("i32x4.shr_u", vc, V128, f => f.I32x4ShrU(), x => Un<uint>(x, a => a >> (Count(x) & 31)));
        yield return new("i32x4.add", vv, V128, f => f.I32x4Add(), x => Bin<int>(x, (a, b) => a + b));
        yield return new("i32x4.sub", vv, V128, f => f.I32x4Sub(), x => Bin<int>(x, (a, b) => a - b));
        yield return new("i32x4.mul", vv, V128, f => f.I32x4Mul(), x => Bin<int>(x, (a, b) => a * b));
        yield return new("i32x4.min_s", vv, V128, f => f.I32x4MinS(), x => Bin<int>(x, Math.Min));
        yield return new("i32x4.min_u", vv, V128, f => f.I32x4MinU(), x => Bin<uint>(x, Math.Min));
        yield return new("i32x4.max_s", vv, V128, f => f.I32x4MaxS(), x => Bin<int>(x, Math.Max));
        yield return new("i32x4.max_u", vv, V128, f => f.I32x4MaxU(), x => Bin<uint>(x, Math.Max));
        yield return new("i32x4.dot_i16x8_s", vv, V128, f => f.I32x4DotI16x8S(), x =>
        {
            short[] a = L<short>(x[0]), b = L<short>(x[1]);
            return B(Enumerable.Range(0, 4).Select(i => unchecked(a[2 * i] * b[2 * i] + a[2 * i + 1] * b[2 * i + 1])).ToArray());
        });
        yield return new("i32x4.extmul_low_i16x8_s", vv, V128, f => f.I32x4ExtmulLowI16x8S(), x => ExtMul<short, int>(x, 0, (a, b) => a * b));
        yield return new("i32x4.extmul_high_i16x8_s", vv, V128, f => f.I32x4ExtmulHighI16x8S(), x => ExtMul<short, int>(x, 4, (a, b) => a * b));
        yield return new("i32x4.extmul_low_i16x8_u", vv, V128, f => f.I32x4ExtmulLowI16x8U(), x => ExtMul<ushort, uint>(x, 0, (a, b) => (uint)a * b));
        yield return new("i32x4.extmul_high_i16x8_u", vv, V128, f => f.I32x4ExtmulHighI16x8U(), x => ExtMul<ushort, uint>(x, 4, (a, b) => (uint)a * b));
        yield return new("i32x4.trunc_sat_f32x4_s", v, V128, f => f.I32x4TruncSatF32x4S(), x => B(L<float>(x[0]).Select(a => SatI32(a)).ToArray()));
        yield return new("i32x4.trunc_sat_f32x4_u", v, V128, f => f.I32x4TruncSatF32x4U(), x => B(L<float>(x[0]).Select(a => SatU32(a)).ToArray()));
        yield return new("i32x4.trunc_sat_f64x2_s_zero", v, V128, f => f.I32x4TruncSatF64x2SZero(), x => B([SatI32(L<double>(x[0])[0]), SatI32(L<double>(x[0])[1]), 0, 0]));
        yield return new("i32x4.trunc_sat_f64x2_u_zero", v, V128, f => f.I32x4TruncSatF64x2UZero(), x => B([SatU32(L<double>(x[0])[0]), SatU32(L<double>(x[0])[1]), 0u, 0u]));

        // i64x2
        yield return new("i64x2.abs", v, V128, f => f.I64x2Abs(), x => Un<long>(x, a => a < 0 ? -a : a));
        yield return new("i64x2.neg", v, V128, f => f.I64x2Neg(), x => Un<long>(x, a => -a));
        yield return new("i64x2.all_true", v, I32, f => f.I64x2AllTrue(), x => I(L<long>(x[0]).All(a => a != 0) ? 1 : 0));
        yield return new("i64x2.bitmask", v, I32, f => f.I64x2Bitmask(), x => I(Bitmask(L<long>(x[0]).Select(a => a < 0))));
        yield return new("i64x2.extend_low_i32x4_s", v, V128, f => f.I64x2ExtendLowI32x4S(), x => B(L<int>(x[0])[..2].Select(a => (long)a).ToArray()));
        yield return new("i64x2.extend_high_i32x4_s", v, V128, f => f.I64x2ExtendHighI32x4S(), x => B(L<int>(x[0])[2..].Select(a => (long)a).ToArray()));
        yield return new("i64x2.extend_low_i32x4_u", v, V128, f => f.I64x2ExtendLowI32x4U(), x => B(L<uint>(x[0])[..2].Select(a => (long)a).ToArray()));
        yield return new("i64x2.extend_high_i32x4_u", v, V128, f => f.I64x2ExtendHighI32x4U(), x => B(L<uint>(x[0])[2..].Select(a => (long)a).ToArray()));
        yield return new("i64x2.shl", vc, V128, f => f.I64x2Shl(), x => Un<long>(x, a => a << (Count(x) & 63)));
        yield return new("i64x2.shr_s", vc, V128, f => f.I64x2ShrS(), x => Un<long>(x, a => a >> (Count(x) & 63)));
        yield return new("i64x2.shr_u", vc, V128, f => f.I64x2ShrU(), x => Un<ulong>(x, a => a >> (Count(x) & 63)));
        yield return new("i64x2.add", vv, V128, f => f.I64x2Add(), x => Bin<long>(x, (a, b) => a + b));
        yield return new("i64x2.sub", vv, V128, f => f.I64x2Sub(), x => Bin<long>(x, (a, b) => a - b));
        yield return new("i64x2.mul", vv, V128, f => f.I64x2Mul(), x => Bin<long>(x, (a, b) => a * b));
        yield return new("i64x2.extmul_low_i32x4_s", vv, V128, f => f.I64x2ExtmulLowI32x4S(), x => ExtMul<int, long>(x, 0, (a, b) => (long)a * b));
        yield return new("i64x2.extmul_high_i32x4_s", vv, V128, f => f.I64x2ExtmulHighI32x4S(), x => ExtMul<int, long>(x, 2, (a, b) => (long)a * b));
        yield return new("i64x2.extmul_low_i32x4_u", vv, V128, f => f.I64x2ExtmulLowI32x4U(), x => ExtMul<uint, ulong>(x, 0, (a, b) => (ulong)a * b));
        yield return new("i64x2.extmul_high_i32x4_u", vv, V128, f => f.I64x2ExtmulHighI32x4U(), x => ExtMul<uint, ulong>(x, 2, (a, b) => (ulong)a * b));

        // f32x4
        yield return new("f32x4.abs", v, V128, f => f.F32x4Abs(), x => Un<uint>(x, a => a & 0x7FFFFFFF));
        yield return new("f32x4.neg", v, V128, f => f.F32x4Neg(), x => Un<uint>(x, a => a ^ 0x80000000));
        yield return new("f32x4.sqrt", v, V128, f => f.F32x4Sqrt(), x => Un<float>(x, MathF.Sqrt), Check.F32);
        yield return new("f32x4.ceil", v, V128, f => f.F32x4Ceil(), x => Un<float>(x, MathF.Ceiling), Check.F32);
        yield return new("f32x4.floor", v, V128, f => f.F32x4Floor(), x => Un<float>(x, MathF.Floor), Check.F32);
        yield return new("f32x4.trunc", v, V128, f => f.F32x4Trunc(), x => Un<float>(x, MathF.Truncate), Check.F32);
        yield return new("f32x4.nearest", v, V128, f => f.F32x4Nearest(), x => Un<float>(x, a => MathF.Round(a, MidpointRounding.ToEven)), Check.F32);
        yield return new("f32x4.add", vv, V128, f => f.F32x4Add(), x => Bin<float>(x, (a, b) => a + b), Check.F32);
        yield return new("f32x4.sub", vv, V128, f => f.F32x4Sub(), x => Bin<float>(x, (a, b) => a - b), Check.F32);
        yield return new("f32x4.mul", vv, V128, f => f.F32x4Mul(), x => Bin<float>(x, (a, b) => a * b), Check.F32);
        yield return new("f32x4.div", vv, V128, f => f.F32x4Div(), x => Bin<float>(x, (a, b) => a / b), Check.F32);
        yield return new("f32x4.min", vv, V128, f => f.F32x4Min(), x => Bin<float>(x, MathF.Min), Check.F32);
        yield return new("f32x4.max", vv, V128, f => f.F32x4Max(), x => Bin<float>(x, MathF.Max), Check.F32);
        yield return new("f32x4.pmin", vv, V128, f => f.F32x4Pmin(), x => Bin<float>(x, (a, b) => b < a ? b : a), Check.F32);
        yield return new("f32x4.pmax", vv, V128, f => f.F32x4Pmax(), x => Bin<float>(x, (a, b) => a < b ? b : a), Check.F32);
        yield return new("f32x4.convert_i32x4_s", v, V128, f => f.F32x4ConvertI32x4S(), x => B(L<int>(x[0]).Select(a => (float)a).ToArray()));
        yield return new("f32x4.convert_i32x4_u", v, V128, f => f.F32x4ConvertI32x4U(), x => B(L<uint>(x[0]).Select(a => (float)a).ToArray()));
        yield return new("f32x4.demote_f64x2_zero", v, V128, f => f.F32x4DemoteF64x2Zero(), x => B([(float)L<double>(x[0])[0], (float)L<double>(x[0])[1], 0f, 0f]), Check.F32);

        // f64x2
        yield return new("f64x2.abs", v, V128, f => f.F64x2Abs(), x => Un<ulong>(x, a => a & 0x7FFFFFFFFFFFFFFF));
        yield return new("f64x2.neg", v, V128, f => f.F64x2Neg(), x => Un<ulong>(x, a => a ^ 0x8000000000000000));
        yield return new("f64x2.sqrt", v, V128, f => f.F64x2Sqrt(), x => Un<double>(x, Math.Sqrt), Check.F64);
        yield return new("f64x2.ceil", v, V128, f => f.F64x2Ceil(), x => Un<double>(x, Math.Ceiling), Check.F64);
        yield return new("f64x2.floor", v, V128, f => f.F64x2Floor(), x => Un<double>(x, Math.Floor), Check.F64);
        yield return new("f64x2.trunc", v, V128, f => f.F64x2Trunc(), x => Un<double>(x, Math.Truncate), Check.F64);
        yield return new("f64x2.nearest", v, V128, f => f.F64x2Nearest(), x => Un<double>(x, a => Math.Round(a, MidpointRounding.ToEven)), Check.F64);
        yield return new("f64x2.add", vv, V128, f => f.F64x2Add(), x => Bin<double>(x, (a, b) => a + b), Check.F64);
        yield return new("f64x2.sub", vv, V128, f => f.F64x2Sub(), x => Bin<double>(x, (a, b) => a - b), Check.F64);
        yield return new("f64x2.mul", vv, V128, f => f.F64x2Mul(), x => Bin<double>(x, (a, b) => a * b), Check.F64);
        yield return new("f64x2.div", vv, V128, f => f.F64x2Div(), x => Bin<double>(x, (a, b) => a / b), Check.F64);
        yield return new("f64x2.min", vv, V128, f => f.F64x2Min(), x => Bin<double>(x, Math.Min), Check.F64);
        yield return new("f64x2.max", vv, V128, f => f.F64x2Max(), x => Bin<double>(x, Math.Max), Check.F64);
        yield return new("f64x2.pmin", vv, V128, f => f.F64x2Pmin(), x => Bin<double>(x, (a, b) => b < a ? b : a), Check.F64);
        yield return new("f64x2.pmax", vv, V128, f => f.F64x2Pmax(), x => Bin<double>(x, (a, b) => a < b ? b : a), Check.F64);
        yield return new("f64x2.promote_low_f32x4", v, V128, f => f.F64x2PromoteLowF32x4(), x => B(L<float>(x[0])[..2].Select(a => (double)a).ToArray()), Check.F64);
        yield return new("f64x2.convert_low_i32x4_s", v, V128, f => f.F64x2ConvertLowI32x4S(), x => B(L<int>(x[0])[..2].Select(a => (double)a).ToArray()));
        yield return new("f64x2.convert_low_i32x4_u", v, V128, f => f.F64x2ConvertLowI32x4U(), x => B(L<uint>(x[0])[..2].Select(a => (double)a).ToArray()));

        // Loads from the address of the input vector
        Operand[] at = [Operand.Address];
        yield return new("v128.load", at, V128, f => f.V128Load(), x => x[0]);
        yield return new("v128.load8x8_s", at, V128, f => f.V128Load8x8S(), x => B(L<sbyte>(x[0])[..8].Select(a => (short)a).ToArray()));
        yield return new("v128.load8x8_u", at, V128, f => f.V128Load8x8U(), x => B(L<byte>(x[0])[..8].Select(a => (short)a).ToArray()));
        yield return new("v128.load16x4_s", at, V128, f => f.V128Load16x4S(), x => B(L<short>(x[0])[..4].Select(a => (int)a).ToArray()));
        yield return new("v128.load16x4_u", at, V128, f => f.V128Load16x4U(), x => B(L<ushort>(x[0])[..4].Select(a => (int)a).ToArray()));
        yield return new("v128.load32x2_s", at, V128, f => f.V128Load32x2S(), x => B(L<int>(x[0])[..2].Select(a => (long)a).ToArray()));
        yield return new("v128.load32x2_u", at, V128, f => f.V128Load32x2U(), x => B(L<uint>(x[0])[..2].Select(a => (long)a).ToArray()));
        yield return new("v128.load8_splat", at, V128, f => f.V128Load8Splat(), x => Enumerable.Repeat(x[0][0], 16).ToArray());
        yield return new("v128.load16_splat", at, V128, f => f.V128Load16Splat(), x => B(Enumerable.Repeat(L<short>(x[0])[0], 8).ToArray()));
        yield return new("v128.load32_splat offset=4", at, V128, f => f.V128Load32Splat(offset: 4), x => B(Enumerable.Repeat(L<int>(x[0])[1], 4).ToArray()));
        yield return new("v128.load64_splat", at, V128, f => f.V128Load64Splat(), x => B(Enumerable.Repeat(L<long>(x[0])[0], 2).ToArray()));
        yield return new("v128.load32_zero", at, V128, f => f.V128Load32Zero(), x => B([L<int>(x[0])[0], 0, 0, 0]));
        yield return new("v128.load64_zero offset=8", at, V128, f => f.V128Load64Zero(offset: 8), x => B([L<long>(x[0])[1], 0L]));
        yield return new("v128.load8_lane 5", [Operand.Address, Operand.V], V128, f => f.V128Load8Lane(5), x => ReplaceFrom<byte>(x[1], 5, x[0]));
        yield return new("v128.load16_lane 7", [Operand.Address, Operand.V], V128, f => f.V128Load16Lane(7), x => ReplaceFrom<short>(x[1], 7, x[0]));
        yield return new("v128.load32_lane 2", [Operand.Address, Operand.V], V128, f => f.V128Load32Lane(2), x => ReplaceFrom<int>(x[1], 2, x[0]));
        yield return new("v128.load64_lane 0", [Operand.Address, Operand.V], V128, f => f.V128Load64Lane(0), x => ReplaceFrom<long>(x[1], 0, x[0]));
    }

    [NodeFact]
    public void SimdInstructions_MatchReferenceSemanticsInV8()
    {
        byte[][] inputs = Inputs();
        Op[] ops = Ops().ToArray();
        int n = inputs.Length;
        const int CountsBase = 16 * 32;       // shift counts after the inputs
        const int OutBase = 4096;

        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", new WasmMemoryType(64, null, false));
        var outOffsets = new int[ops.Length];
        var resultSizes = new int[ops.Length];
        var combos = new int[ops.Length];
        int offset = OutBase;
        for (int k = 0; k < ops.Length; k++)
        {
            Op op = ops[k];
            int resultSize = op.Result is V128 ? 16 : op.Result is I64 or F64 ? 8 : 4;
            int combinations = 1;
            foreach (Operand o in op.Operands)
                combinations *= o == Operand.Count ? ShiftCounts.Length : n;
            outOffsets[k] = offset;
            resultSizes[k] = resultSize;
            combos[k] = combinations;
            offset += combinations * resultSize;
            EmitTestFunction(module, $"op{k}", op, n, CountsBase, outOffsets[k], resultSize);
        }
        Assert.True(offset <= 64 * 65536);

        var job = new NodeJob();
        NodeCase c = job.Add("simd", module, new WasmMemoryType(64, null, false));
        c.Write(0, inputs.SelectMany(b => b).ToArray());
        c.Write<int>(CountsBase, ShiftCounts);
        foreach (int k in Enumerable.Range(0, ops.Length))
            c.Call($"op{k}", new WasmFunctionType([], []));
        NodeRead read = c.Read(OutBase, offset - OutBase);
        job.Run();

        var failures = new List<string>();
        for (int k = 0; k < ops.Length; k++)
        {
            Op op = ops[k];
            int index = 0;
            foreach (int[] combo in Combinations(op.Operands, n))
            {
                byte[][] operands = op.Operands.Select((o, i) => o == Operand.Count ? BitConverter.GetBytes(ShiftCounts[combo[i]]) : inputs[combo[i]]).ToArray();
                byte[] expected = op.Reference(operands);
                byte[] actual = read.Bytes.AsSpan(outOffsets[k] - OutBase + index * resultSizes[k], resultSizes[k]).ToArray();
                if (!Same(expected, actual, op.Check) && failures.Count < 20)
                    failures.Add($"{op.Name}({string.Join(", ", combo)}): expected {Convert.ToHexString(expected)}, V8 gave {Convert.ToHexString(actual)}");
                index++;
            }
            Assert.Equal(combos[k], index);
        }
        Assert.True(failures.Count == 0, $"{ops.Length} instructions checked; mismatches:\n" + string.Join("\n", failures));
    }

    /// <summary>for i0 in inputs: for i1 in inputs: ... out[...] = op(operand(i0), operand(i1), ...).</summary>
    private static void EmitTestFunction(WasmModuleBuilder module, string name, Op op, int n, int countsBase, int outBase, int resultSize)
    {
        WasmFunctionBuilder f = module.AddFunction(name, [], []);
        WasmLocal output = f.DeclareLocal(I32);
        var counters = op.Operands.Select(_ => f.DeclareLocal(I32)).ToArray();
        var loops = new List<WasmForLoop>();
        f.I32Const(outBase).LocalSet(output);
        for (int i = 0; i < counters.Length; i++)
        {
            f.I32Const(0).LocalSet(counters[i]);
            loops.Add(f.For(counters[i], op.Operands[i] == Operand.Count ? ShiftCounts.Length : n, 1));
        }
        f.LocalGet(output);
        for (int i = 0; i < counters.Length; i++)
        {
            if (op.Operands[i] == Operand.Count)
            {
                f.LocalGet(counters[i]).I32Const(4).I32Mul().I32Load((uint)countsBase);
                continue;
            }
            f.LocalGet(counters[i]).I32Const(16).I32Mul();
            switch (op.Operands[i])
            {
                case Operand.V: f.V128Load(); break;
                case Operand.I32: f.I32Load(); break;
                case Operand.I64: f.I64Load(); break;
                case Operand.F32: f.F32Load(); break;
                case Operand.F64: f.F64Load(); break;
                case Operand.Address: break;
            }
        }
        op.Emit(f);
        switch (op.Result)
        {
            case V128: f.V128Store(); break;
            case I32: f.I32Store(); break;
            case I64: f.I64Store(); break;
            case F32: f.F32Store(); break;
            case F64: f.F64Store(); break;
        }
        f.LocalGet(output).I32Const(resultSize).I32Add().LocalSet(output);
        for (int i = loops.Count - 1; i >= 0; i--)
            f.EndFor(loops[i]);
    }

    private static IEnumerable<int[]> Combinations(Operand[] operands, int n)
    {
        int[] sizes = operands.Select(o => o == Operand.Count ? ShiftCounts.Length : n).ToArray();
        var combo = new int[sizes.Length];
        while (true)
        {
            yield return (int[])combo.Clone();
            int i = sizes.Length - 1;
            while (i >= 0 && ++combo[i] == sizes[i])
                combo[i--] = 0;
            if (i < 0)
                yield break;
        }
    }

    private static bool Same(byte[] expected, byte[] actual, Check check)
    {
        if (check == Check.Exact)
            return expected.AsSpan().SequenceEqual(actual);
        int size = check == Check.F32 ? 4 : 8;
        for (int i = 0; i < expected.Length; i += size)
        {
            ReadOnlySpan<byte> e = expected.AsSpan(i, size), a = actual.AsSpan(i, size);
            bool eNaN = size == 4 ? float.IsNaN(BitConverter.ToSingle(e)) : double.IsNaN(BitConverter.ToDouble(e));
            bool aNaN = size == 4 ? float.IsNaN(BitConverter.ToSingle(a)) : double.IsNaN(BitConverter.ToDouble(a));
            if (eNaN ? !aNaN : !e.SequenceEqual(a))
                return false;
        }
        return true;
    }

    private static T[] L<T>(byte[] bytes) where T : unmanaged => MemoryMarshal.Cast<byte, T>(bytes).ToArray();

    private static byte[] B<T>(T[] lanes) where T : unmanaged => MemoryMarshal.AsBytes(lanes.AsSpan()).ToArray();

    private static byte[] I(int value) => BitConverter.GetBytes(value);

    private static int Count(byte[][] x) => BitConverter.ToInt32(x[1]);

    private static byte[] Un<T>(byte[][] x, Func<T, T> f) where T : unmanaged => B(L<T>(x[0]).Select(f).ToArray());

    private static byte[] Bin<T>(byte[][] x, Func<T, T, T> f) where T : unmanaged => B(L<T>(x[0]).Zip(L<T>(x[1]), f).ToArray());

    private static byte[] Cmp<T>(byte[][] x, Func<T, T, bool> f) where T : unmanaged
    {
        T[] a = L<T>(x[0]), b = L<T>(x[1]);
        int size = 16 / a.Length;
        var result = new byte[16];
        for (int i = 0; i < a.Length; i++)
            if (f(a[i], b[i]))
                result.AsSpan(i * size, size).Fill(0xFF);
        return result;
    }

    private static int Bitmask(IEnumerable<bool> signs) => signs.Select((s, i) => s ? 1 << i : 0).Sum();

    private static byte[] Shuffle(byte[][] x, byte[] lanes) => lanes.Select(l => l < 16 ? x[0][l] : x[1][l - 16]).ToArray();

    private static byte[] Replace<T>(byte[][] x, int lane) where T : unmanaged => ReplaceFrom<T>(x[0], lane, x[1]);

    /// <summary>Lane <paramref name="lane"/> of <paramref name="vector"/> replaced by the first element of <paramref name="source"/>.</summary>
    private static byte[] ReplaceFrom<T>(byte[] vector, int lane, byte[] source) where T : unmanaged
    {
        T[] lanes = L<T>(vector);
        lanes[lane] = L<T>(source)[0];
        return B(lanes);
    }

    private static byte[] Pairwise<TIn, TOut>(byte[] a, Func<TIn, TIn, TOut> add) where TIn : unmanaged where TOut : unmanaged
    {
        TIn[] lanes = L<TIn>(a);
        return B(Enumerable.Range(0, lanes.Length / 2).Select(i => add(lanes[2 * i], lanes[2 * i + 1])).ToArray());
    }

    private static byte[] ExtMul<TIn, TOut>(byte[][] x, int start, Func<TIn, TIn, TOut> mul) where TIn : unmanaged where TOut : unmanaged
    {
        TIn[] a = L<TIn>(x[0]), b = L<TIn>(x[1]);
        int count = a.Length / 2;
        return B(Enumerable.Range(start, count).Select(i => mul(a[i], b[i])).ToArray());
    }

    private static int SatI32(double v) => double.IsNaN(v) ? 0 : v <= int.MinValue ? int.MinValue : v >= 2147483648.0 ? int.MaxValue : (int)v;

    private static uint SatU32(double v) => double.IsNaN(v) || v <= -1.0 ? 0u : v >= 4294967296.0 ? uint.MaxValue : (uint)v;
}
