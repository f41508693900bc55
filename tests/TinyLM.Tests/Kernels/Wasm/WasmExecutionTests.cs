using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TinyLM.Kernels.Wasm;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>Modules built in C#, validated and run in V8 (Node), results compared with C# computations.</summary>
public class WasmExecutionTests
{
    private static readonly WasmMemoryType PlainMemory = new(1, null, false);
    private static readonly WasmMemoryType SharedMemory = new(1, 16, true);

    /// <summary>
    /// The example kernel: Σ a[i]·b[i] over int8 vectors of n bytes (n a multiple of 16), sign-extended
    /// to i16 and multiplied-and-paired by <c>i32x4.dot_i16x8_s</c>, four i32 partial sums added at the end.
    /// </summary>
    internal static WasmFunctionBuilder EmitDotI8(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, [I32, I32, I32], [I32]);
        WasmLocal a = f.Param(0), b = f.Param(1), n = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), acc = f.DeclareLocal(V128), va = f.DeclareLocal(V128), vb = f.DeclareLocal(V128);
        using (f.For(i, n, 16))
        {
            f.LocalGet(a).LocalGet(i).I32Add().V128Load(alignment: 1).LocalSet(va);
            f.LocalGet(b).LocalGet(i).I32Add().V128Load(alignment: 1).LocalSet(vb);
            f.LocalGet(acc)
                .LocalGet(va).I16x8ExtendLowI8x16S().LocalGet(vb).I16x8ExtendLowI8x16S().I32x4DotI16x8S().I32x4Add()
                .LocalGet(va).I16x8ExtendHighI8x16S().LocalGet(vb).I16x8ExtendHighI8x16S().I32x4DotI16x8S().I32x4Add()
                .LocalSet(acc);
        }
        f.LocalGet(acc).I32x4ExtractLane(0)
            .LocalGet(acc).I32x4ExtractLane(1).I32Add()
            .LocalGet(acc).I32x4ExtractLane(2).I32Add()
            .LocalGet(acc).I32x4ExtractLane(3).I32Add();
        return f;
    }

    [NodeFact]
    public void DotI8_Over1KiB_EqualsCSharpSum()
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", PlainMemory);
        WasmFunctionBuilder dot = EmitDotI8(module, "dot_i8");

        // Variant: v128.load8x8_s sign-extends 8 bytes straight to i16x8.
        WasmFunctionBuilder dot8 = module.AddFunction("dot_i8_load8x8", [I32, I32, I32], [I32]);
        {
            WasmLocal a = dot8.Param(0), b = dot8.Param(1), n = dot8.Param(2);
            WasmLocal i = dot8.DeclareLocal(I32), acc = dot8.DeclareLocal(V128);
            using (dot8.For(i, n, 8))
            {
                dot8.LocalGet(acc)
                    .LocalGet(a).LocalGet(i).I32Add().V128Load8x8S()
                    .LocalGet(b).LocalGet(i).I32Add().V128Load8x8S()
                    .I32x4DotI16x8S().I32x4Add().LocalSet(acc);
            }
            // Horizontal sum with shuffles: lanes (0+2, 1+3), then (0+1).
            dot8.LocalGet(acc).LocalGet(acc).LocalGet(acc).I8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]).I32x4Add().LocalTee(acc)
                .LocalGet(acc).LocalGet(acc).I8x16Shuffle([4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15]).I32x4Add().I32x4ExtractLane(0);
        }

        var random = new Random(7);
        var x = new sbyte[1024];
        var y = new sbyte[1024];
        for (int k = 0; k < x.Length; k++)
        {
            x[k] = (sbyte)random.Next(-128, 128);
            y[k] = (sbyte)random.Next(-128, 128);
        }
        x[0] = y[0] = -128;
        x[1] = y[1] = -128;
        int Expected(int n)
        {
            int sum = 0;
            for (int k = 0; k < n; k++)
                sum += x[k] * y[k];
            return sum;
        }

        var job = new NodeJob();
        NodeCase c = job.Add("dot", module, PlainMemory);
        c.Write<sbyte>(100, x);       // unaligned on purpose: the hints say 1
        c.Write<sbyte>(2000, y);
        NodeCall full = c.Call(dot.Function, 100, 2000, 1024);
        NodeCall small = c.Call(dot.Function, 100, 2000, 16);
        NodeCall empty = c.Call(dot.Function, 100, 2000, 0);
        NodeCall full8 = c.Call(dot8.Function, 100, 2000, 1024);
        NodeCall odd8 = c.Call(dot8.Function, 100, 2000, 40);
        NodeCall outOfBounds = c.Call(dot.Function, 65536 - 8, 0, 16);
        job.Run();

        Assert.Equal(Expected(1024), full.I32);
        Assert.Equal(Expected(16), small.I32);
        Assert.Equal(0, empty.I32);
        Assert.Equal(Expected(1024), full8.I32);
        Assert.Equal(Expected(40), odd8.I32);
        Assert.Contains("out of bounds", outOfBounds.Trap);
    }

    [NodeFact]
    public void IntegerArithmetic_MatchesCSharp()
    {
        var i32Ops = new (string Name, Func<WasmFunctionBuilder, WasmFunctionBuilder> Emit, Func<int, int, int> Reference)[]
        {
            ("add", f => f.I32Add(), (a, b) => a + b),
            ("sub", f => f.I32Sub(), (a, b) => a - b),
            ("mul", f => f.I32Mul(), (a, b) => a * b),
            ("div_s", f => f.I32DivS(), (a, b) => a / b),
            ("div_u", f => f.I32DivU(), (a, b) => (int)((uint)a / (uint)b)),
            ("rem_s", f => f.I32RemS(), (a, b) => a % b),
            ("rem_u", f => f.I32RemU(), (a, b) => (int)((uint)a % (uint)b)),
            ("and", f => f.I32And(), (a, b) => a & b),
            ("or", f => f.I32Or(), (a, b) => a | b),
            ("xor", f => f.I32Xor(), (a, b) => a ^ b),
            ("shl", f => f.I32Shl(), (a, b) => a << b),
            ("shr_s", f => f.I32ShrS(), (a, b) => a >> b),
            ("shr_u", f => f.I32ShrU(), (a, b) => (int)((uint)a >> b)),
            ("rotl", f => f.I32Rotl(), (a, b) => (int)uint.RotateLeft((uint)a, b)),
            ("rotr", f => f.I32Rotr(), (a, b) => (int)uint.RotateRight((uint)a, b)),
            ("lt_s", f => f.I32LtS(), (a, b) => a < b ? 1 : 0),
            ("lt_u", f => f.I32LtU(), (a, b) => (uint)a < (uint)b ? 1 : 0),
            ("ge_u", f => f.I32GeU(), (a, b) => (uint)a >= (uint)b ? 1 : 0),
            ("eq", f => f.I32Eq(), (a, b) => a == b ? 1 : 0),
            ("clz(a)+ctz(b)", f => f.I32Ctz().LocalSet(f.Param(1)).I32Clz().LocalGet(f.Param(1)).I32Add(), (a, b) => int.LeadingZeroCount(a) + int.TrailingZeroCount(b)),
            ("popcnt(a^b)+eqz(a)", f => f.I32Xor().I32Popcnt().LocalGet(f.Param(0)).I32Eqz().I32Add(), (a, b) => int.PopCount(a ^ b) + (a == 0 ? 1 : 0)),
            ("extend8_s(a)-extend16_s(b)", f => f.I32Extend16S().LocalSet(f.Param(1)).I32Extend8S().LocalGet(f.Param(1)).I32Sub(), (a, b) => (sbyte)a - (short)b),
        };
        var i64Ops = new (string Name, Func<WasmFunctionBuilder, WasmFunctionBuilder> Emit, Func<long, long, long> Reference)[]
        {
            ("add", f => f.I64Add(), (a, b) => a + b),
            ("mul", f => f.I64Mul(), (a, b) => a * b),
            ("div_s", f => f.I64DivS(), (a, b) => a / b),
            ("rem_u", f => f.I64RemU(), (a, b) => (long)((ulong)a % (ulong)b)),
            ("shr_s", f => f.I64ShrS(), (a, b) => a >> (int)b),
            ("shr_u", f => f.I64ShrU(), (a, b) => (long)((ulong)a >> (int)b)),
            ("rotl", f => f.I64Rotl(), (a, b) => (long)ulong.RotateLeft((ulong)a, (int)b)),
            ("gt_u", f => f.I64GtU().I64ExtendI32U(), (a, b) => (ulong)a > (ulong)b ? 1 : 0),
            ("popcnt+clz", f => f.I64Popcnt().LocalSet(f.Param(1)).I64Clz().LocalGet(f.Param(1)).I64Add(), (a, b) => long.PopCount(b) + long.LeadingZeroCount(a)),
            ("extend32_s(a)+wrap(b)", f => f.I32WrapI64().I64ExtendI32S().LocalSet(f.Param(1)).I64Extend32S().LocalGet(f.Param(1)).I64Add(), (a, b) => (long)(int)b + (int)a),
        };
        int[] values32 = [0, 1, -1, 7, -7, 31, 32, 33, int.MaxValue, int.MinValue, 0x12345678, unchecked((int)0xDEADBEEF)];
        long[] values64 = [0, 1, -1, 63, 64, -65, long.MaxValue, long.MinValue, 0x0123456789ABCDEF, 1L << 40];

        var module = new WasmModuleBuilder();
        var f32s = i32Ops.Select((op, k) =>
        {
            WasmFunctionBuilder f = module.AddFunction($"i32_{k}", [I32, I32], [I32]);
            op.Emit(f.LocalGet(f.Param(0)).LocalGet(f.Param(1)));
            return f.Function;
        }).ToArray();
        var f64s = i64Ops.Select((op, k) =>
        {
            WasmFunctionBuilder f = module.AddFunction($"i64_{k}", [I64, I64], [I64]);
            op.Emit(f.LocalGet(f.Param(0)).LocalGet(f.Param(1)));
            return f.Function;
        }).ToArray();

        var job = new NodeJob();
        NodeCase c = job.Add("ints", module);
        var checks32 = new List<(string, int, int, NodeCall)>();
        for (int k = 0; k < i32Ops.Length; k++)
            foreach (int a in values32)
                foreach (int b in values32)
                    if (!(i32Ops[k].Name.Contains("div") || i32Ops[k].Name.Contains("rem")) || (b != 0 && !(a == int.MinValue && b == -1)))
                        checks32.Add((i32Ops[k].Name, a, b, c.Call(f32s[k], a, b)));
        var checks64 = new List<(string, long, long, NodeCall)>();
        for (int k = 0; k < i64Ops.Length; k++)
            foreach (long a in values64)
                foreach (long b in values64)
                    if (!(i64Ops[k].Name.Contains("div") || i64Ops[k].Name.Contains("rem")) || (b != 0 && !(a == long.MinValue && b == -1)))
                        checks64.Add((i64Ops[k].Name, a, b, c.Call(f64s[k], a, b)));
        NodeCall divByZero = c.Call(f32s[3], 1, 0);
        NodeCall overflow = c.Call(f32s[3], int.MinValue, -1);
        NodeCall remOverflow = c.Call(f32s[5], int.MinValue, -1);
        job.Run();

        foreach (var (name, a, b, call) in checks32)
            Assert.True(i32Ops.First(o => o.Name == name).Reference(a, b) == call.I32, $"i32 {name}({a}, {b}) = {call.I32}");
        foreach (var (name, a, b, call) in checks64)
            Assert.True(i64Ops.First(o => o.Name == name).Reference(a, b) == call.I64, $"i64 {name}({a}, {b}) = {call.I64}");
        Assert.Contains("divide by zero", divByZero.Trap);
        Assert.Contains("divide result unrepresentable", overflow.Trap);
        Assert.Equal(0, remOverflow.I32);
    }

    [NodeFact]
    public void Loops_BranchesAndEarlyReturn()
    {
        var module = new WasmModuleBuilder();
        // sum_to(n) = 0 + 1 + ... + (n-1), with For.
        WasmFunctionBuilder sum = module.AddFunction("sum_to", [I32], [I64]);
        {
            WasmLocal i = sum.DeclareLocal(I32), acc = sum.DeclareLocal(I64);
            using (sum.For(i, sum.Param(0), 1))
                sum.LocalGet(acc).LocalGet(i).I64ExtendI32U().I64Add().LocalSet(acc);
            sum.LocalGet(acc);
        }
        // pairs(n) = #{(i, j) : i < n, j < i, j odd}: nested loops, Continue and Break.
        WasmFunctionBuilder pairs = module.AddFunction("pairs", [I32], [I32]);
        {
            WasmLocal i = pairs.DeclareLocal(I32), j = pairs.DeclareLocal(I32), count = pairs.DeclareLocal(I32);
            using (pairs.For(i, pairs.Param(0), 1))
            {
                pairs.I32Const(0).LocalSet(j);
                using WasmForLoop inner = pairs.For(j, 1 << 30, 1);
                pairs.LocalGet(j).LocalGet(i).I32GeU().BrIf(inner.Break);
                pairs.LocalGet(j).I32Const(1).I32And().I32Eqz().BrIf(inner.Continue);
                pairs.LocalGet(count).I32Const(1).I32Add().LocalSet(count);
            }
            pairs.LocalGet(count);
        }
        // factorial(n) with a raw loop/br_if and a block result.
        WasmFunctionBuilder fact = module.AddFunction("factorial", [I32], [I64]);
        {
            WasmLocal n = fact.Param(0), r = fact.DeclareLocal(I64);
            fact.I64Const(1).LocalSet(r);
            using (fact.Block())
            {
                WasmLabel exit = new();
                fact.LocalGet(n).I32Eqz();
                using (fact.If())
                {
                    fact.I64Const(1).Return();
                }
                using (WasmLabel loop = fact.Loop())
                {
                    fact.LocalGet(r).LocalGet(n).I64ExtendI32U().I64Mul().LocalSet(r);
                    fact.LocalGet(n).I32Const(1).I32Sub().LocalTee(n).BrIf(loop);
                }
                _ = exit;
            }
            fact.LocalGet(r);
        }
        // classify(x) = switch (x) { 0: 10, 1: 20, 2: 20, default: 30 } with br_table; first negative returns -1 early.
        WasmFunctionBuilder classify = module.AddFunction("classify", [I32], [I32]);
        {
            WasmLocal x = classify.Param(0);
            classify.LocalGet(x).I32Const(0).I32LtS();
            using (classify.If())
                classify.I32Const(-1).Return();
            WasmLabel done = classify.Block(I32);
            WasmLabel other = classify.Block();
            WasmLabel oneTwo = classify.Block();
            WasmLabel zero = classify.Block();
            classify.LocalGet(x).BrTable([zero, oneTwo, oneTwo], other);
            classify.End(zero);
            classify.I32Const(10).Br(done);
            classify.End(oneTwo);
            classify.I32Const(20).Br(done);
            classify.End(other);
            classify.I32Const(30);
            classify.End(done);
        }
        // select and if/else with a result: max(a, b) both ways.
        WasmFunctionBuilder max = module.AddFunction("max", [I32, I32], [I32, I32]);
        {
            WasmLocal a = max.Param(0), b = max.Param(1);
            max.LocalGet(a).LocalGet(b).LocalGet(a).LocalGet(b).I32GtS().Select();
            max.LocalGet(a).LocalGet(b).I32GtS();
            using (max.If(I32))
            {
                max.LocalGet(a);
                max.Else();
                max.LocalGet(b);
            }
        }

        var job = new NodeJob();
        NodeCase c = job.Add("loops", module);
        NodeCall[] sums = [.. new[] { 0, 1, 2, 100, 100000 }.Select(n => c.Call(sum.Function, n))];
        NodeCall[] pairCounts = [.. new[] { 0, 1, 5, 40 }.Select(n => c.Call(pairs.Function, n))];
        NodeCall[] facts = [.. new[] { 0, 1, 5, 20 }.Select(n => c.Call(fact.Function, n))];
        NodeCall[] classes = [.. new[] { -5, 0, 1, 2, 3, 1000 }.Select(v => c.Call(classify.Function, v))];
        NodeCall m = c.Call(max.Function, -3, 9);
        job.Run();

        Assert.Equal([0L, 0, 1, 4950, 4999950000], sums.Select(s => s.I64));
        int Pairs(int n) => Enumerable.Range(0, n).Sum(i => Enumerable.Range(0, i).Count(j => j % 2 == 1));
        Assert.Equal(new[] { 0, 1, 5, 40 }.Select(Pairs), pairCounts.Select(p => p.I32));
        Assert.Equal([1L, 1, 120, 2432902008176640000], facts.Select(f => f.I64));
        Assert.Equal([-1, 10, 20, 20, 30, 30], classes.Select(v => v.I32));
        Assert.Equal(9, m.ResultI32(0));
        Assert.Equal(9, m.ResultI32(1));
    }

    [NodeFact]
    public void FloatVectorKernels_AreBitExactWithCSharp()
    {
        const int N = 256;
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", PlainMemory);
        // y[i] = a[i]*b[i] + c[i] (two roundings, no FMA); z[i] = min(sqrt(|a[i]|), b[i]) / c[i]; f32x4.
        WasmFunctionBuilder f32 = module.AddFunction("f32_kernel", [I32, I32, I32, I32, I32], []);
        {
            WasmLocal a = f32.Param(0), b = f32.Param(1), c = f32.Param(2), y = f32.Param(3), z = f32.Param(4);
            WasmLocal i = f32.DeclareLocal(I32), va = f32.DeclareLocal(V128), vb = f32.DeclareLocal(V128), vc = f32.DeclareLocal(V128);
            using (f32.For(i, N * 4, 16))
            {
                f32.LocalGet(a).LocalGet(i).I32Add().V128Load().LocalSet(va);
                f32.LocalGet(b).LocalGet(i).I32Add().V128Load().LocalSet(vb);
                f32.LocalGet(c).LocalGet(i).I32Add().V128Load().LocalSet(vc);
                f32.LocalGet(y).LocalGet(i).I32Add().LocalGet(va).LocalGet(vb).F32x4Mul().LocalGet(vc).F32x4Add().V128Store();
                f32.LocalGet(z).LocalGet(i).I32Add()
                    .LocalGet(va).F32x4Abs().F32x4Sqrt().LocalGet(vb).F32x4Min().LocalGet(vc).F32x4Div().V128Store();
            }
        }
        // The same in scalar f32 for comparison of the two paths: w[i] = a[i]*b[i] + c[i].
        WasmFunctionBuilder scalar = module.AddFunction("f32_scalar", [I32, I32, I32, I32], []);
        {
            WasmLocal a = scalar.Param(0), b = scalar.Param(1), c = scalar.Param(2), w = scalar.Param(3), i = scalar.DeclareLocal(I32);
            using (scalar.For(i, N * 4, 4))
            {
                scalar.LocalGet(w).LocalGet(i).I32Add()
                    .LocalGet(a).LocalGet(i).I32Add().F32Load()
                    .LocalGet(b).LocalGet(i).I32Add().F32Load().F32Mul()
                    .LocalGet(c).LocalGet(i).I32Add().F32Load().F32Add()
                    .F32Store();
            }
        }
        // d[i] = (p[i] - q[i]) * (p[i] + q[i]) / q[i], max with sqrt(p[i]); f64x2, offsets in the memarg.
        WasmFunctionBuilder f64 = module.AddFunction("f64_kernel", [I32, I32], []);
        {
            WasmLocal i = f64.DeclareLocal(I32), p = f64.DeclareLocal(V128), q = f64.DeclareLocal(V128);
            using (f64.For(i, N * 8, 16))
            {
                f64.LocalGet(i).V128Load(offset: 40000).LocalSet(p);
                f64.LocalGet(i).V128Load(offset: 44096).LocalSet(q);
                f64.LocalGet(i)
                    .LocalGet(p).LocalGet(q).F64x2Sub().LocalGet(p).LocalGet(q).F64x2Add().F64x2Mul().LocalGet(q).F64x2Div()
                    .LocalGet(p).F64x2Sqrt().F64x2Max()
                    .V128Store(offset: 48192);
            }
        }

        var random = new Random(3);
        float[] A = [.. Enumerable.Range(0, N).Select(_ => (float)(random.NextDouble() * 200 - 100))];
        float[] Bv = [.. Enumerable.Range(0, N).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] C = [.. Enumerable.Range(0, N).Select(_ => (float)(random.NextDouble() * 10 - 5))];
        double[] P = [.. Enumerable.Range(0, N).Select(_ => random.NextDouble() * 1e6)];
        double[] Q = [.. Enumerable.Range(0, N).Select(_ => random.NextDouble() * 3 - 1.5)];
        A[3] = -0f;
        C[5] = 0f;

        var job = new NodeJob();
        NodeCase cs = job.Add("floats", module, PlainMemory);
        cs.Write<float>(0, A);
        cs.Write<float>(4096, Bv);
        cs.Write<float>(8192, C);
        cs.Write<double>(40000, P);
        cs.Write<double>(44096, Q);
        cs.Call(f32.Function, 0, 4096, 8192, 12288, 16384);
        cs.Call(scalar.Function, 0, 4096, 8192, 20480);
        cs.Call(f64.Function, 0, 0);
        NodeRead yRead = cs.Read(12288, N * 4), zRead = cs.Read(16384, N * 4), wRead = cs.Read(20480, N * 4), dRead = cs.Read(48192, N * 8);
        job.Run();

        float[] yv = yRead.As<float>(), zv = zRead.As<float>(), wv = wRead.As<float>();
        double[] dv = dRead.As<double>();
        for (int k = 0; k < N; k++)
        {
            float product = A[k] * Bv[k];
            float expectedY = product + C[k];
            float expectedZ = MathF.Min(MathF.Sqrt(MathF.Abs(A[k])), Bv[k]) / C[k];
            double expectedD = Math.Max((P[k] - Q[k]) * (P[k] + Q[k]) / Q[k], Math.Sqrt(P[k]));
            Assert.Equal(BitConverter.SingleToInt32Bits(expectedY), BitConverter.SingleToInt32Bits(yv[k]));
            Assert.Equal(BitConverter.SingleToInt32Bits(expectedY), BitConverter.SingleToInt32Bits(wv[k]));
            Assert.Equal(BitConverter.SingleToInt32Bits(expectedZ), BitConverter.SingleToInt32Bits(zv[k]));
            Assert.Equal(BitConverter.DoubleToInt64Bits(expectedD), BitConverter.DoubleToInt64Bits(dv[k]));
        }
    }

    [NodeFact]
    public void ScalarConversions_MatchCSharp()
    {
        var module = new WasmModuleBuilder();
        WasmFunction F(string name, WasmValueType from, WasmValueType to, Func<WasmFunctionBuilder, WasmFunctionBuilder> emit)
        {
            WasmFunctionBuilder f = module.AddFunction(name, [from], [to]);
            emit(f.LocalGet(f.Param(0)));
            return f.Function;
        }
        WasmFunction f32FromI32 = F("f32_convert_i32_s", I32, F32, f => f.F32ConvertI32S());
        WasmFunction f32FromU32 = F("f32_convert_i32_u", I32, F32, f => f.F32ConvertI32U());
        WasmFunction f64FromI64 = F("f64_convert_i64_s", I64, F64, f => f.F64ConvertI64S());
        WasmFunction f32FromU64 = F("f32_convert_i64_u", I64, F32, f => f.F32ConvertI64U());
        WasmFunction promote = F("f64_promote_f32", F32, F64, f => f.F64PromoteF32());
        WasmFunction demote = F("f32_demote_f64", F64, F32, f => f.F32DemoteF64());
        WasmFunction truncS = F("i32_trunc_f32_s", F32, I32, f => f.I32TruncF32S());
        WasmFunction truncU64 = F("i64_trunc_f64_u", F64, I64, f => f.I64TruncF64U());
        WasmFunction satS = F("i32_trunc_sat_f32_s", F32, I32, f => f.I32TruncSatF32S());
        WasmFunction satU64 = F("i64_trunc_sat_f64_u", F64, I64, f => f.I64TruncSatF64U());
        WasmFunction bitsOf = F("i32_reinterpret_f32", F32, I32, f => f.I32ReinterpretF32());
        WasmFunction fromBits = F("f64_reinterpret_i64", I64, F64, f => f.F64ReinterpretI64());
        WasmFunction nearest = F("f32_nearest", F32, F32, f => f.F32Nearest());
        WasmFunction copysign = F("f64_copysign_neg", F64, F64, f => f.F64Const(-1).F64Copysign());

        int[] ints = [0, 1, -1, 16777217, int.MaxValue, int.MinValue];
        long[] longs = [0, -1, long.MaxValue, (1L << 53) + 1, long.MinValue];
        float[] floats = [0.5f, -0f, 1.5f, 2.5f, -2.5f, 3e9f, -2147483648f, 2147483520f, 1e-45f, float.MaxValue];
        double[] doubles = [1.0 / 3, -0.0, 1e300, 4294967295.9, 1.8446744073709552e19, 3.4028235677973366e38, 1e-320];

        var job = new NodeJob();
        NodeCase c = job.Add("conversions", module);
        var i2f = ints.Select(v => (v, c.Call(f32FromI32, v), c.Call(f32FromU32, v))).ToArray();
        var l2f = longs.Select(v => (v, c.Call(f64FromI64, v), c.Call(f32FromU64, v), c.Call(fromBits, v))).ToArray();
        var f2x = floats.Select(v => (v, c.Call(promote, v), c.Call(truncS, v), c.Call(satS, v), c.Call(bitsOf, v), c.Call(nearest, v))).ToArray();
        var d2x = doubles.Select(v => (v, c.Call(demote, v), c.Call(truncU64, v), c.Call(satU64, v), c.Call(copysign, v))).ToArray();
        NodeCall truncNaN = c.Call(truncS, float.NaN);
        NodeCall satNaN = c.Call(satS, float.NaN);
        job.Run();

        foreach (var (v, s, u) in i2f)
        {
            Assert.Equal((float)v, s.F32);
            Assert.Equal((float)(uint)v, u.F32);
        }
        foreach (var (v, d, f, bits) in l2f)
        {
            Assert.Equal((double)v, d.F64);
            Assert.Equal((float)(ulong)v, f.F32);
            Assert.Equal(v, BitConverter.DoubleToInt64Bits(bits.F64));
        }
        foreach (var (v, p, t, sat, bits, near) in f2x)
        {
            Assert.Equal((double)v, p.F64);
            Assert.Equal(BitConverter.SingleToInt32Bits(v), bits.I32);
            Assert.Equal(BitConverter.SingleToInt32Bits(MathF.Round(v, MidpointRounding.ToEven)), BitConverter.SingleToInt32Bits(near.F32));
            Assert.Equal(v >= 2147483648f ? int.MaxValue : (int)v, sat.I32);
            if (v >= 2147483648f)
                Assert.Contains("float unrepresentable", t.Trap);
            else
                Assert.Equal((int)v, t.I32);
        }
        foreach (var (v, f, t, sat, cs) in d2x)
        {
            Assert.Equal(BitConverter.SingleToInt32Bits((float)v), BitConverter.SingleToInt32Bits(f.F32));
            Assert.Equal(v >= 18446744073709551616.0 ? ulong.MaxValue : (ulong)Math.Max(v, 0), (ulong)sat.I64);
            if (v >= 18446744073709551616.0)
                Assert.NotNull(t.Trap);
            else
                Assert.Equal((ulong)v, (ulong)t.I64);
            Assert.Equal(BitConverter.DoubleToInt64Bits(-Math.Abs(v)), BitConverter.DoubleToInt64Bits(cs.F64));
        }
        Assert.Contains("float unrepresentable", truncNaN.Trap);
        Assert.Equal(0, satNaN.I32);
    }

    [NodeFact]
    public void Atomics_OnSharedMemory()
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", SharedMemory);
        WasmFunctionBuilder F(string name, WasmValueType[] parameters, WasmValueType[] results, Action<WasmFunctionBuilder> body)
        {
            WasmFunctionBuilder f = module.AddFunction(name, parameters, results);
            for (int i = 0; i < parameters.Length; i++)
                f.LocalGet(f.Param(i));
            body(f);
            return f;
        }
        var store = F("store", [I32, I32], [], f => f.I32AtomicStore());
        var load = F("load", [I32], [I32], f => f.I32AtomicLoad());
        var add = F("add", [I32, I32], [I32], f => f.I32AtomicRmwAdd());
        var sub8 = F("sub8", [I32, I32], [I32], f => f.I32AtomicRmw8SubU(offset: 1));
        var cmpxchg = F("cmpxchg", [I32, I32, I32], [I32], f => f.I32AtomicRmwCmpxchg());
        var xchg64 = F("xchg64", [I32, I64], [I64], f => f.I64AtomicRmwXchg());
        var wait = F("wait", [I32, I32], [I32], f => f.I64Const(0).MemoryAtomicWait32());
        var wait64 = F("wait64", [I32, I64], [I32], f => f.I64Const(0).MemoryAtomicWait64());
        var notify = F("notify", [I32, I32], [I32], f => f.AtomicFence().MemoryAtomicNotify());

        var job = new NodeJob();
        NodeCase c = job.Add("atomics", module, SharedMemory);
        c.Call(store.Function, 8, 5);
        NodeCall loaded = c.Call(load.Function, 8);
        NodeCall added = c.Call(add.Function, 8, 3);
        NodeCall afterAdd = c.Call(load.Function, 8);
        NodeCall swapped = c.Call(cmpxchg.Function, 8, 8, 100);
        NodeCall notSwapped = c.Call(cmpxchg.Function, 8, 8, 1);
        NodeCall sub = c.Call(sub8.Function, 8, 1);       // byte 9 of 100 = 0x00000064: 0 - 1 wraps to 0xFF
        NodeCall timedOut = c.Call(wait.Function, 12, 0);
        NodeCall notEqual = c.Call(wait.Function, 8, 1);
        NodeCall old64 = c.Call(xchg64.Function, 16, -2L);
        NodeCall timedOut64 = c.Call(wait64.Function, 16, -2L);
        NodeCall woken = c.Call(notify.Function, 8, 1);
        NodeCall misaligned = c.Call(load.Function, 2);
        NodeRead memory = c.Read(8, 16);
        job.Run();

        Assert.Equal(5, loaded.I32);
        Assert.Equal(5, added.I32);
        Assert.Equal(8, afterAdd.I32);
        Assert.Equal(8, swapped.I32);
        Assert.Equal(100, notSwapped.I32);
        Assert.Equal(0, sub.I32);
        Assert.Equal(2, timedOut.I32);     // "timed-out"
        Assert.Equal(1, notEqual.I32);     // "not-equal"
        Assert.Equal(0, old64.I64);
        Assert.Equal(2, timedOut64.I32);
        Assert.Equal(0, woken.I32);        // nobody waits
        Assert.Contains("unaligned", misaligned.Trap);
        Assert.Equal(100 + (0xFF << 8), BinaryPrimitives.ReadInt32LittleEndian(memory.Bytes));
        Assert.Equal(-2L, BinaryPrimitives.ReadInt64LittleEndian(memory.Bytes.AsSpan(8)));
    }

    [NodeFact]
    public void AtomicLoadsAndStores_ValidateOnNonSharedMemoryToo()
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", PlainMemory);
        WasmFunctionBuilder f = module.AddFunction("bump", [I32], [I32]);
        f.LocalGet(f.Param(0)).I32Const(1).I32AtomicRmwAdd().Drop();
        f.LocalGet(f.Param(0)).I32Const(1).MemoryAtomicNotify().Drop();
        f.LocalGet(f.Param(0)).I32AtomicLoad();
        var job = new NodeJob();
        NodeCase c = job.Add("plain atomics", module, PlainMemory);
        c.Call(f.Function, 4);
        NodeCall second = c.Call(f.Function, 4);
        job.Run();
        Assert.Equal(2, second.I32);
    }

    [NodeFact]
    public void MultipleFunctions_ImportsExportsAndData()
    {
        var module = new WasmModuleBuilder();
        WasmFunction triple = module.ImportFunction("env", "host_triple", new WasmFunctionType([I32], [I32]));
        WasmFunction addF64 = module.ImportFunction("env", "host_add_f64", new WasmFunctionType([F64, F64], [F64]));
        module.DefineMemory(new WasmMemoryType(1, 1, false));
        module.ExportMemory("memory");
        module.AddData(64, "TinyLM"u8);
        WasmFunctionBuilder square = module.AddFunction("square", [I32], [I32], export: false);
        square.LocalGet(square.Param(0)).LocalGet(square.Param(0)).I32Mul();
        WasmFunctionBuilder f = module.AddFunction("f", [I32], [I32]);
        f.LocalGet(f.Param(0)).Call(square.Function).Call(triple).I32Const(1).I32Add();
        module.ExportFunction(f.Function, "f_alias");
        WasmFunctionBuilder g = module.AddFunction("g", [], [F64]);
        g.F64Const(0.25).F64Const(0.5).Call(addF64);
        WasmFunctionBuilder byteAt = module.AddFunction("byte_at", [I32], [I32]);
        byteAt.LocalGet(byteAt.Param(0)).I32Load8U(offset: 64);
        WasmFunctionBuilder fill = module.AddFunction("fill", [], []);
        fill.I32Const(100).I32Const(0x2A).I32Const(4).MemoryFill();
        fill.I32Const(104).I32Const(64).I32Const(6).MemoryCopy();
        WasmFunctionBuilder pages = module.AddFunction("pages", [], [I32, I32]);
        pages.MemorySize().I32Const(1).MemoryGrow();

        var job = new NodeJob();
        NodeCase c = job.Add("functions", module);
        c.MemoryExport = "memory";
        NodeCall r = c.Call(f.Function, 5);
        NodeCall alias = c.Call("f_alias", f.Function.Signature, 6);
        NodeCall sum = c.Call(g.Function);
        NodeCall letter = c.Call(byteAt.Function, 4);
        c.Call(fill.Function);
        NodeCall size = c.Call(pages.Function);
        NodeRead filled = c.Read(100, 10);
        NodeCall hidden = c.Call("square", square.Function.Signature, 3);
        job.Run();

        Assert.Equal(76, r.I32);
        Assert.Equal(109, alias.I32);
        Assert.Equal(0.75, sum.F64);
        Assert.Equal('L', letter.I32);
        Assert.Equal(1, size.ResultI32(0));
        Assert.Equal(-1, size.ResultI32(1));   // maximum 1 page: growing fails
        Assert.Equal("****TinyLM"u8.ToArray(), filled.Bytes);
        Assert.Contains("no exported function", hidden.Trap);
    }

    [NodeFact]
    public void LocalsOfEveryType_AndMultiValueResults()
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", PlainMemory);
        WasmFunctionBuilder f = module.AddFunction("roundtrip", [I32, I64, F32, F64], [F64, F32, I64, I32]);
        WasmLocal i = f.DeclareLocal(I32), l = f.DeclareLocal(I64), s = f.DeclareLocal(F32), d = f.DeclareLocal(F64), v = f.DeclareLocal(V128);
        f.LocalGet(f.Param(0)).I32Const(1).I32Add().LocalSet(i);
        f.LocalGet(f.Param(1)).I64Const(-1).I64Mul().LocalSet(l);
        f.LocalGet(f.Param(2)).F32Const(2).F32Mul().LocalSet(s);
        f.LocalGet(f.Param(3)).F64Const(0.5).F64Mul().LocalSet(d);
        f.V128Const(Vector128.Create(1, 2, 3, 4)).LocalGet(i).I32x4ReplaceLane(2).LocalSet(v);
        f.I32Const(0).LocalGet(v).V128Store();
        f.LocalGet(d).LocalGet(s).LocalGet(l).LocalGet(v).I32x4ExtractLane(2);
        WasmFunctionBuilder zero = module.AddFunction("zeroed", [], [I32]);
        WasmLocal z = zero.DeclareLocal(V128);
        zero.LocalGet(z).V128AnyTrue();

        var job = new NodeJob();
        NodeCase c = job.Add("locals", module, PlainMemory);
        NodeCall r = c.Call(f.Function, 41, long.MinValue + 1, 1.25f, -3.0);
        NodeCall z0 = c.Call(zero.Function);
        NodeRead stored = c.Read(0, 16);
        job.Run();

        Assert.Equal(-1.5, r.ResultF64(0));
        Assert.Equal(2.5f, r.ResultF32(1));
        Assert.Equal(long.MaxValue, r.ResultI64(2));
        Assert.Equal(42, r.ResultI32(3));
        Assert.Equal(0, z0.I32);
        Assert.Equal([1, 2, 42, 4], stored.As<int>());
    }

    [NodeFact]
    public void MemoryImportLimits_MustMatchTheProvidedMemory()
    {
        static WasmModuleBuilder Importing(WasmMemoryType limits)
        {
            var module = new WasmModuleBuilder();
            module.ImportMemory("env", "memory", limits);
            WasmFunctionBuilder f = module.AddFunction("size", [], [I32]);
            f.MemorySize();
            return module;
        }
        var job = new NodeJob();
        // No maximum in the import: accepts a memory with any maximum (or none).
        NodeCall noMax = job.Add("import without maximum", Importing(new(1, null, false)), new WasmMemoryType(2, 8, false)).Call("size", new WasmFunctionType([], [I32]));
        // Import maximum 2, memory maximum 8: link error.
        job.Add("import maximum below the memory's", Importing(new(1, 2, false)), new WasmMemoryType(1, 8, false)).ExpectInstantiateFailure = true;
        // Import maximum 2, memory without maximum: link error (the .NET runtime's memory is like this).
        job.Add("import maximum, memory without", Importing(new(1, 2, false)), new WasmMemoryType(1, null, false)).ExpectInstantiateFailure = true;
        // Shared import, plain memory: link error; and the reverse.
        job.Add("shared import, plain memory", Importing(new(1, 16, true)), new WasmMemoryType(1, 16, false)).ExpectInstantiateFailure = true;
        job.Add("plain import, shared memory", Importing(new(1, 16, false)), new WasmMemoryType(1, 16, true)).ExpectInstantiateFailure = true;
        // Memory smaller than the import's minimum: link error.
        job.Add("memory below minimum", Importing(new(4, null, false)), new WasmMemoryType(2, null, false)).ExpectInstantiateFailure = true;
        NodeCall shared = job.Add("shared", Importing(new(1, 16, true)), new WasmMemoryType(3, 16, true)).Call("size", new WasmFunctionType([], [I32]));
        job.Run();
        Assert.Equal(2, noMax.I32);
        Assert.Equal(3, shared.I32);
    }

    [NodeFact]
    public void HoistConstants_SameResultsAsConstantsInPlace()
    {
        // acc = ((acc + [1, −2, 3, 0x7FFFFFFF]) & 0x0FFFFFFF·4) ^ ones, n times; then Σ lane k·(k + 1)
        static WasmModuleBuilder Build(bool hoist)
        {
            var module = new WasmModuleBuilder { HoistConstants = hoist };
            WasmFunctionBuilder f = module.AddFunction("f", [I32], [I32]);
            WasmLocal n = f.Param(0), i = f.DeclareLocal(I32), acc = f.DeclareLocal(V128);
            using (f.For(i, n, 1))
            {
                f.LocalGet(acc).V128Const(Vector128.Create(1, -2, 3, int.MaxValue)).I32x4Add()
                    .V128Const(Vector128.Create(0x0FFFFFFF)).V128And()
                    .V128Const(Vector128<int>.AllBitsSet).V128Xor().LocalSet(acc);
            }
            f.LocalGet(acc).I32x4ExtractLane(0)
                .LocalGet(acc).I32x4ExtractLane(1).I32Const(2).I32Mul().I32Add()
                .LocalGet(acc).I32x4ExtractLane(2).I32Const(3).I32Mul().I32Add()
                .LocalGet(acc).I32x4ExtractLane(3).I32Const(4).I32Mul().I32Add();
            return module;
        }
        static int Expected(int n)
        {
            int[] add = [1, -2, 3, int.MaxValue], acc = new int[4];
            for (int k = 0; k < n; k++)
                for (int l = 0; l < 4; l++)
                    acc[l] = ~((acc[l] + add[l]) & 0x0FFFFFFF);
            return acc[0] + 2 * acc[1] + 3 * acc[2] + 4 * acc[3];
        }

        var job = new NodeJob();
        var signature = new WasmFunctionType([I32], [I32]);
        NodeCase hoisted = job.Add("hoisted", Build(hoist: true)), inPlace = job.Add("in place", Build(hoist: false));
        NodeCall[] a = [hoisted.Call("f", signature, 0), hoisted.Call("f", signature, 1), hoisted.Call("f", signature, 37)];
        NodeCall[] b = [inPlace.Call("f", signature, 0), inPlace.Call("f", signature, 1), inPlace.Call("f", signature, 37)];
        job.Run();
        for (int k = 0; k < a.Length; k++)
        {
            Assert.Equal(b[k].I32, a[k].I32);
            Assert.Equal(Expected(k switch { 0 => 0, 1 => 1, _ => 37 }), a[k].I32);
        }
    }

    [NodeFact]
    public void Runner_ReportsModulesThatV8Rejects()
    {
        // add(i32, i32) -> i32 whose body is "i32.add" on an empty stack: the builder cannot emit it.
        byte[] invalid =
        [
            0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00,
            0x01, 0x07, 0x01, 0x60, 0x02, 0x7F, 0x7F, 0x01, 0x7F,
            0x03, 0x02, 0x01, 0x00,
            0x0A, 0x05, 0x01, 0x03, 0x00, 0x6A, 0x0B,
        ];
        var job = new NodeJob();
        NodeCase bad = job.Add("invalid", invalid);
        bad.ExpectInvalid = true;
        job.Run();
        Assert.False(bad.Valid);
        Assert.Contains("i32.add", bad.Error);
    }
}
