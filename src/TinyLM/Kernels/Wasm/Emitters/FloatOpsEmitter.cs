using System.Runtime.Intrinsics;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly forms of the float operations of the forward pass, each the same IEEE steps as its
/// C# reference: <see cref="ScalarMath.Exp"/> (ggml_v_expf) four lanes at a time,
/// <see cref="Kernels.RmsNorm.Apply"/>, <see cref="Softmax.Apply"/>, attention as
/// <see cref="ComputeKernels.Attention"/>, SwiGLU's grouped part, and the residual add.
/// </summary>
internal static class FloatOpsEmitter
{
    // ggml_v_expf's constants (see ScalarMath).
    private const float Shift = 12582912f, Log2E = 1.4426950216293335f, Ln2Hi = 0.693145751953125f, Ln2Lo = 1.428606765330187e-06f;
    private const float C1 = 0.9999994039535522f, C2 = 0.4999912679195404f, C3 = 0.16668395698070526f, C4 = 0.04189976677298546f, C5 = 0.008247390389442444f;

    private static WasmFunctionBuilder Splat(this WasmFunctionBuilder f, float value) => f.V128Const(Vector128.Create(value));

    private static WasmFunctionBuilder SplatI(this WasmFunctionBuilder f, int value) => f.V128Const(Vector128.Create(value));

    /// <summary>
    /// The v128 locals of <see cref="Exp4"/>: its temporaries, and its constants, which
    /// <see cref="Declare"/> sets once so that a loop reads them from locals instead of materializing
    /// fifteen <c>v128.const</c> per pass.
    /// </summary>
    internal sealed class Exp4Locals
    {
        private Exp4Locals(WasmFunctionBuilder f)
        {
            WasmLocal V() => f.DeclareLocal(V128);
            (Z, N, B, E, K, U, J, G, S1, S2, An) = (V(), V(), V(), V(), V(), V(), V(), V(), V(), V(), V());
            WasmLocal C(Vector128<float> value) { WasmLocal l = V(); f.V128Const(value).LocalSet(l); return l; }
            WasmLocal I(int value) { WasmLocal l = V(); f.V128Const(Vector128.Create(value)).LocalSet(l); return l; }
            KLog2E = C(Vector128.Create(Log2E)); KShift = C(Vector128.Create(Shift)); KLn2Hi = C(Vector128.Create(Ln2Hi)); KLn2Lo = C(Vector128.Create(Ln2Lo));
            KC1 = C(Vector128.Create(C1)); KC2 = C(Vector128.Create(C2)); KC3 = C(Vector128.Create(C3)); KC4 = C(Vector128.Create(C4)); KC5 = C(Vector128.Create(C5));
            KOne = I(0x3F800000); KSpecial = I(unchecked((int)0x82000000)); KBias = I(0x7F000000);
            KZero = C(Vector128<float>.Zero); K192 = C(Vector128.Create(192f)); K126 = C(Vector128.Create(126f));
        }

        public readonly WasmLocal Z, N, B, E, K, U, J, G, S1, S2, An;
        public readonly WasmLocal KLog2E, KShift, KLn2Hi, KLn2Lo, KC1, KC2, KC3, KC4, KC5, KOne, KSpecial, KBias, KZero, K192, K126;

        /// <summary>Declares the locals in <paramref name="f"/> and sets the constants (emit it before the loop).</summary>
        public static Exp4Locals Declare(WasmFunctionBuilder f) => new(f);
    }

    /// <summary>
    /// Pushes <see cref="ScalarMath.Exp"/> of each lane of the f32x4 local <paramref name="x"/>, inline (a hot
    /// loop saves the call and the constants: SwiGLU runs it once per four elements). The overflow and underflow
    /// steps run only when a lane needs them, as <see cref="ScalarMath.ExpVector256"/> does: computed for every
    /// vector, their products of huge and tiny scales cost the CPU slow paths (Node 26, SwiGLU of 262144 elements:
    /// 4.8 ns per element with them, 0.93 without).
    /// </summary>
    internal static void Exp4(WasmFunctionBuilder f, WasmLocal x, Exp4Locals l)
    {
        WasmLocal z = l.Z, n = l.N, b = l.B, e = l.E, k = l.K, u = l.U, j = l.J, g = l.G, s1 = l.S1, s2 = l.S2, an = l.An;
        f.LocalGet(x).LocalGet(l.KLog2E).F32x4Mul().LocalGet(l.KShift).F32x4Add().LocalTee(z).LocalGet(l.KShift).F32x4Sub().LocalSet(n);
        f.LocalGet(x).LocalGet(n).LocalGet(l.KLn2Hi).F32x4Mul().F32x4Sub().LocalGet(n).LocalGet(l.KLn2Lo).F32x4Mul().F32x4Sub().LocalSet(b);
        f.LocalGet(z).I32Const(23).I32x4Shl().LocalTee(e).LocalGet(l.KOne).I32x4Add().LocalSet(k);
        f.LocalGet(b).LocalGet(b).F32x4Mul().LocalSet(u);
        // j = ((C5·b + C4)·u + (C3·b + C2))·u + C1·b
        f.LocalGet(l.KC5).LocalGet(b).F32x4Mul().LocalGet(l.KC4).F32x4Add().LocalGet(u).F32x4Mul()
            .LocalGet(l.KC3).LocalGet(b).F32x4Mul().LocalGet(l.KC2).F32x4Add().F32x4Add()
            .LocalGet(u).F32x4Mul().LocalGet(l.KC1).LocalGet(b).F32x4Mul().F32x4Add().LocalSet(j);
        // |n| > 126 ? (|n| > 192 ? s1·s1 : (s2·j + s2)·s1) : j·k + k — the special steps only when a lane needs them
        // (|x| above about 87; each lane's value is the same either way)
        f.LocalGet(n).F32x4Abs().LocalTee(an).LocalGet(l.K126).F32x4Gt().V128AnyTrue();
        using (f.If(V128))
        {
            // special: g = n <= 0 ? 0x82000000 : 0; s1 = bits(g + 0x7F000000); s2 = bits(e − g)
            f.LocalGet(l.KSpecial).LocalGet(n).LocalGet(l.KZero).F32x4Le().V128And().LocalSet(g);
            f.LocalGet(g).LocalGet(l.KBias).I32x4Add().LocalSet(s1);
            f.LocalGet(e).LocalGet(g).I32x4Sub().LocalSet(s2);
            f.LocalGet(s1).LocalGet(s1).F32x4Mul()
                .LocalGet(s2).LocalGet(j).F32x4Mul().LocalGet(s2).F32x4Add().LocalGet(s1).F32x4Mul()
                .LocalGet(an).LocalGet(l.K192).F32x4Gt().V128Bitselect();
            f.LocalGet(j).LocalGet(k).F32x4Mul().LocalGet(k).F32x4Add();
            f.LocalGet(an).LocalGet(l.K126).F32x4Gt().V128Bitselect();
            f.Else();
            f.LocalGet(j).LocalGet(k).F32x4Mul().LocalGet(k).F32x4Add();
        }
    }

    /// <summary>
    /// Emits <c>name(x, weight, epsilon: f32, y, n, rows)</c>: per row,
    /// <c>mean = (float)(Σ (double)(x·x) / n)</c>, <c>scale = 1 / sqrtf(mean + ε)</c>, <c>y = x·scale·w</c>.
    /// </summary>
    public static WasmFunction EmitRmsNorm(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, [I32, I32, F32, I32, I32, I32], []);
        WasmLocal x = f.Param(0), weight = f.Param(1), eps = f.Param(2), y = f.Param(3), n = f.Param(4), rows = f.Param(5);
        WasmLocal r = f.DeclareLocal(I32), i = f.DeclareLocal(I32), full = f.DeclareLocal(I32), bytes = f.DeclareLocal(I32), four = f.DeclareLocal(I32);
        WasmLocal v = f.DeclareLocal(F32), scale = f.DeclareLocal(F32), yr = f.DeclareLocal(I32);
        WasmLocal[] xr = WasmEmit.Locals(f, I32, 4);
        WasmLocal[] sum = WasmEmit.Locals(f, F64, 4);
        f.LocalGet(n).I32Const(2).I32Shl().LocalSet(bytes);
        f.LocalGet(bytes).I32Const(~15).I32And().LocalSet(full);
        // Rows four at a time while four are left: each row's sum is its own sequential double chain, so the four
        // chains overlap their latency (one row at a time waits on each add); then the rows one by one.
        f.LocalGet(rows).I32Const(~3).I32And().LocalSet(four);
        using (f.For(r, four, 4))
        {
            for (int k = 0; k < 4; k++)
            {
                f.F64Const(0).LocalSet(sum[k]);
                f.LocalGet(x).LocalGet(bytes).I32Const(k).I32Mul().I32Add().LocalSet(xr[k]);
            }
            f.I32Const(0).LocalSet(i);
            using (f.For(i, bytes, 4))
                for (int k = 0; k < 4; k++)
                    f.LocalGet(sum[k]).LocalGet(xr[k]).LocalGet(i).I32Add().F32Load(alignment: 4).LocalTee(v).LocalGet(v).F32Mul().F64PromoteF32().F64Add().LocalSet(sum[k]);
            for (int k = 0; k < 4; k++)
            {
                f.LocalGet(y).LocalGet(bytes).I32Const(k).I32Mul().I32Add().LocalSet(yr);
                EmitRmsScaleRow(f, sum[k], n, eps, scale, xr[k], yr, weight, i, full, bytes);
            }
            f.LocalGet(x).LocalGet(bytes).I32Const(2).I32Shl().I32Add().LocalSet(x);
            f.LocalGet(y).LocalGet(bytes).I32Const(2).I32Shl().I32Add().LocalSet(y);
        }
        using (f.For(r, rows, 1))
        {
            f.F64Const(0).LocalSet(sum[0]);
            f.I32Const(0).LocalSet(i);
            using (f.For(i, bytes, 4))
                f.LocalGet(sum[0]).LocalGet(x).LocalGet(i).I32Add().F32Load(alignment: 4).LocalTee(v).LocalGet(v).F32Mul().F64PromoteF32().F64Add().LocalSet(sum[0]);
            EmitRmsScaleRow(f, sum[0], n, eps, scale, x, y, weight, i, full, bytes);
            f.LocalGet(x).LocalGet(bytes).I32Add().LocalSet(x);
            f.LocalGet(y).LocalGet(bytes).I32Add().LocalSet(y);
        }
        return f.Function;
    }

    // scale = 1 / sqrtf((float)(sum / n) + ε); y = x·scale·w over one row (four floats at a time, then the rest)
    private static void EmitRmsScaleRow(WasmFunctionBuilder f, WasmLocal sum, WasmLocal n, WasmLocal eps, WasmLocal scale, WasmLocal x, WasmLocal y,
        WasmLocal weight, WasmLocal i, WasmLocal full, WasmLocal bytes)
    {
        f.F32Const(1f).LocalGet(sum).LocalGet(n).F64ConvertI32S().F64Div().F32DemoteF64().LocalGet(eps).F32Add().F32Sqrt().F32Div().LocalSet(scale);
        f.I32Const(0).LocalSet(i);
        using (f.For(i, full, 16))
        {
            f.LocalGet(y).LocalGet(i).I32Add()
                .LocalGet(x).LocalGet(i).I32Add().V128Load(alignment: 4).LocalGet(scale).F32x4Splat().F32x4Mul()
                .LocalGet(weight).LocalGet(i).I32Add().V128Load(alignment: 4).F32x4Mul().V128Store(alignment: 4);
        }
        using (f.For(i, bytes, 4))
        {
            f.LocalGet(y).LocalGet(i).I32Add()
                .LocalGet(x).LocalGet(i).I32Add().F32Load(alignment: 4).LocalGet(scale).F32Mul()
                .LocalGet(weight).LocalGet(i).I32Add().F32Load(alignment: 4).F32Mul().F32Store(alignment: 4);
        }
    }

    /// <summary>
    /// Emits the internal <c>name(p, n, scale: f32)</c>: <c>p[j] ·= scale</c>, then
    /// <see cref="Softmax.Apply"/> over <c>p[0..n)</c> (max, ggml_v_expf in groups of four, the
    /// group sums <c>(e0 + e1) + (e2 + e3)</c> added in double, <c>p ·= (float)(1 / sum)</c>).
    /// </summary>
    public static WasmFunction EmitScaledSoftmax(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, [I32, I32, F32], [], export: false);
        WasmLocal p = f.Param(0), n = f.Param(1), scale = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), bytes = f.DeclareLocal(I32), full = f.DeclareLocal(I32), rem = f.DeclareLocal(I32), a = f.DeclareLocal(I32);
        WasmLocal max = f.DeclareLocal(F32), v = f.DeclareLocal(F32), sum = f.DeclareLocal(F64), inv = f.DeclareLocal(F32);
        WasmLocal e = f.DeclareLocal(V128), x = f.DeclareLocal(V128);
        Exp4Locals exp = Exp4Locals.Declare(f);
        f.LocalGet(n).I32Const(2).I32Shl().LocalSet(bytes);
        f.LocalGet(bytes).I32Const(~15).I32And().LocalSet(full);
        // p ·= scale and the max, four at a time, then the rest: each element's product is the same, and f32.max (IEEE
        // maxNum without the NaN exception: any NaN gives NaN, +0 above −0) gives the same maximum in any order
        f.V128Const(Vector128.Create(float.NegativeInfinity)).LocalSet(x);
        f.I32Const(0).LocalSet(i);
        using (f.For(i, full, 16))
        {
            f.LocalGet(p).LocalGet(i).I32Add().LocalTee(a)
                .LocalGet(a).V128Load(alignment: 4).LocalGet(scale).F32x4Splat().F32x4Mul().LocalTee(e).V128Store(alignment: 4);
            f.LocalGet(x).LocalGet(e).F32x4Max().LocalSet(x);
        }
        f.LocalGet(x).F32x4ExtractLane(0).LocalGet(x).F32x4ExtractLane(1).F32Max()
            .LocalGet(x).F32x4ExtractLane(2).LocalGet(x).F32x4ExtractLane(3).F32Max().F32Max().LocalSet(max);
        using (f.For(i, bytes, 4))
        {
            f.LocalGet(p).LocalGet(i).I32Add().LocalTee(a).LocalGet(a).F32Load(alignment: 4).LocalGet(scale).F32Mul().LocalTee(v).F32Store(alignment: 4);
            f.LocalGet(max).LocalGet(v).F32Max().LocalSet(max);
        }
        f.I32Const(0).LocalSet(i);
        using (f.For(i, full, 16))
        {
            f.LocalGet(p).LocalGet(i).I32Add().LocalTee(a)
                .LocalGet(a).V128Load(alignment: 4).LocalGet(max).F32x4Splat().F32x4Sub().LocalSet(x);
            Exp4(f, x, exp);
            f.LocalTee(e).V128Store(alignment: 4);
            EmitGroupSum(f, e, sum);
        }
        // the last, partial group: missing lanes count as 0 in the sum
        f.LocalGet(bytes).LocalGet(full).I32Sub().I32Const(2).I32ShrU().LocalTee(rem);
        using (f.If())
        {
            f.LocalGet(p).LocalGet(full).I32Add().LocalSet(a);
            f.V128Const(Vector128<float>.Zero);
            for (byte k = 0; k < 3; k++)
            {
                f.LocalSet(e);
                f.LocalGet(rem).I32Const(k).I32GtU();
                using (f.If(V128))
                {
                    f.LocalGet(a).LocalGet(e).V128Load32Lane(k, offset: 4u * k, alignment: 4);
                    f.Else();
                    f.LocalGet(e);
                }
            }
            f.LocalGet(max).F32x4Splat().F32x4Sub().LocalSet(x);
            Exp4(f, x, exp);
            f.V128Const(Vector128<float>.Zero)
                .V128Const(Vector128.Create(0, 1, 2, 3)).LocalGet(rem).I32x4Splat().I32x4LtS()
                .V128Bitselect().LocalSet(e);
            for (byte k = 0; k < 3; k++)
            {
                f.LocalGet(rem).I32Const(k).I32GtU();
                using (f.If())
                    f.LocalGet(a).LocalGet(e).V128Store32Lane(k, offset: 4u * k, alignment: 4);
            }
            EmitGroupSum(f, e, sum);
        }
        f.F64Const(1.0).LocalGet(sum).F64Div().F32DemoteF64().LocalSet(inv);
        f.I32Const(0).LocalSet(i);
        using (f.For(i, full, 16))
            f.LocalGet(p).LocalGet(i).I32Add().LocalTee(a).LocalGet(a).V128Load(alignment: 4).LocalGet(inv).F32x4Splat().F32x4Mul().V128Store(alignment: 4);
        using (f.For(i, bytes, 4))
            f.LocalGet(p).LocalGet(i).I32Add().LocalTee(a).LocalGet(a).F32Load(alignment: 4).LocalGet(inv).F32Mul().F32Store(alignment: 4);
        return f.Function;
    }

    // sum += (double)((e0 + e1) + (e2 + e3))
    private static void EmitGroupSum(WasmFunctionBuilder f, WasmLocal e, WasmLocal sum)
    {
        f.LocalGet(sum)
            .LocalGet(e).F32x4ExtractLane(0).LocalGet(e).F32x4ExtractLane(1).F32Add()
            .LocalGet(e).F32x4ExtractLane(2).LocalGet(e).F32x4ExtractLane(3).F32Add()
            .F32Add().F64PromoteF32().F64Add().LocalSet(sum);
    }

    /// <summary>
    /// Emits <c>name(q, keys, values, out, scores, accumulators, tokens, start, heads, kvHeads, headDim, scale: f32, context,
    /// headStart, headEnd)</c>: <see cref="ComputeKernels.Attention"/> for heads <c>[headStart, headEnd)</c>; <c>headDim</c> a
    /// multiple of 4; <c>scores</c> scratch <c>[heads, context]</c> floats, <c>accumulators</c> scratch <c>[heads, headDim]</c>
    /// doubles (8-byte aligned). Scores by <paramref name="dotRows"/> (the F32 dot over the cached keys), then
    /// <paramref name="softmax"/>, then per channel <c>Σ_j (double)(V[j]·p[j])</c>, j ascending: head by head,
    /// 64 channels per pass (32 independent f64x2 chains), then 16, and the rest four at a time; a decode step
    /// without grouped-query heads reads the cache forward instead (<see cref="EmitDecodeAttention"/>). The same
    /// bits either way.
    /// </summary>
    public static WasmFunction EmitAttention(WasmModuleBuilder module, string name, WasmFunction dotRows, WasmFunction softmax)
    {
        WasmFunctionBuilder f = module.AddFunction(name, [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, I32, I32, I32], []);
        WasmLocal q = f.Param(0), keys = f.Param(1), values = f.Param(2), output = f.Param(3), scores = f.Param(4), accumulators = f.Param(5),
            tokens = f.Param(6), start = f.Param(7), heads = f.Param(8), kvHeads = f.Param(9), headDim = f.Param(10), scale = f.Param(11),
            context = f.Param(12), headStart = f.Param(13), headEnd = f.Param(14);
        WasmLocal h = f.DeclareLocal(I32), t = f.DeclareLocal(I32), j = f.DeclareLocal(I32), d = f.DeclareLocal(I32), n = f.DeclareLocal(I32);
        WasmLocal kvDimBytes = f.DeclareLocal(I32), qDimBytes = f.DeclareLocal(I32), kvOffBytes = f.DeclareLocal(I32), row = f.DeclareLocal(I32),
            qh = f.DeclareLocal(I32), pv = f.DeclareLocal(I32), pp = f.DeclareLocal(I32), headBytes = f.DeclareLocal(I32), o = f.DeclareLocal(I32);
        WasmLocal prod = f.DeclareLocal(V128), pj = f.DeclareLocal(V128);
        WasmLocal[] accs = WasmEmit.Locals(f, V128, 32);
        WasmLocal wide = f.DeclareLocal(I32);

        f.LocalGet(headDim).I32Const(2).I32Shl().LocalSet(headBytes);
        f.LocalGet(kvHeads).LocalGet(headBytes).I32Mul().LocalSet(kvDimBytes);
        f.LocalGet(heads).LocalGet(headBytes).I32Mul().LocalSet(qDimBytes);
        f.LocalGet(tokens).I32Const(1).I32Eq().LocalGet(heads).LocalGet(kvHeads).I32Eq().I32And();
        using (f.If())
        {
            EmitDecodeAttention(f, q, keys, values, output, scores, accumulators, start, heads, headDim, scale, context, headStart, headEnd,
                headBytes, kvDimBytes, dotRows, softmax);
            f.Return();
        }
        f.LocalGet(headStart).LocalSet(h);
        using (f.For(h, headEnd, 1))
        {
            // KV head h / (heads / kvHeads)
            f.LocalGet(h).LocalGet(heads).LocalGet(kvHeads).I32DivU().I32DivU().LocalGet(headBytes).I32Mul().LocalSet(kvOffBytes);
            f.LocalGet(h).LocalGet(context).I32Mul().I32Const(2).I32Shl().LocalGet(scores).I32Add().LocalSet(row);
            f.I32Const(0).LocalSet(t);
            using (f.For(t, tokens, 1))
            {
                f.LocalGet(start).LocalGet(t).I32Add().I32Const(1).I32Add().LocalSet(n);
                f.LocalGet(t).LocalGet(qDimBytes).I32Mul().LocalGet(h).LocalGet(headBytes).I32Mul().I32Add().LocalTee(o).LocalGet(q).I32Add().LocalSet(qh);
                f.LocalGet(o).LocalGet(output).I32Add().LocalSet(o);
                f.LocalGet(keys).LocalGet(kvOffBytes).I32Add().LocalGet(kvDimBytes).LocalGet(n).LocalGet(qh).LocalGet(headDim).LocalGet(row).Call(dotRows);
                f.LocalGet(row).LocalGet(n).LocalGet(scale).Call(softmax);
                // Σ_j V[j]·p[j] per channel, each channel a sequential double sum over j: 64 channels per pass (32 f64x2
                // chains; V8 keeps some on the stack, but each pass reads a value row's whole 256 bytes — with 16 channels
                // per pass, four passes each fetched one cache line per row from memory), then 16, then four at a time
                f.I32Const(0).LocalSet(d);
                foreach (int channels in (int[])[64, 16, 4])   // headDim is a multiple of 4: the last pass ends at headBytes
                {
                    f.LocalGet(headBytes).I32Const(-4 * channels).I32And().LocalSet(wide);
                    using (f.For(d, wide, 4 * channels))
                    {
                        for (int a = 0; a < channels / 2; a++)
                            f.V128Const(Vector128<double>.Zero).LocalSet(accs[a]);
                        f.LocalGet(values).LocalGet(kvOffBytes).I32Add().LocalGet(d).I32Add().LocalSet(pv);
                        f.LocalGet(row).LocalSet(pp);
                        f.I32Const(0).LocalSet(j);
                        using (f.For(j, n, 1))
                        {
                            f.LocalGet(pp).V128Load32Splat(alignment: 4).LocalSet(pj);
                            for (int c = 0; c < channels / 4; c++)
                            {
                                f.LocalGet(pv).V128Load(offset: (uint)(16 * c), alignment: 4).LocalGet(pj).F32x4Mul().LocalSet(prod);
                                f.LocalGet(accs[2 * c]).LocalGet(prod).F64x2PromoteLowF32x4().F64x2Add().LocalSet(accs[2 * c]);
                                f.LocalGet(accs[2 * c + 1]).LocalGet(prod).LocalGet(prod).I8x16Shuffle(WasmEmit.Lanes32(2, 3, 2, 3)).F64x2PromoteLowF32x4().F64x2Add().LocalSet(accs[2 * c + 1]);
                            }
                            f.LocalGet(pv).LocalGet(kvDimBytes).I32Add().LocalSet(pv);
                            f.LocalGet(pp).I32Const(4).I32Add().LocalSet(pp);
                        }
                        for (int c = 0; c < channels / 4; c++)
                            f.LocalGet(o).LocalGet(d).I32Add()
                                .LocalGet(accs[2 * c]).F32x4DemoteF64x2Zero().LocalGet(accs[2 * c + 1]).F32x4DemoteF64x2Zero().I8x16Shuffle(WasmEmit.Lanes32(0, 1, 4, 5))
                                .V128Store(offset: (uint)(16 * c), alignment: 4);
                    }
                }
            }
        }
        return f.Function;
    }

    /// <summary>Keys per block of the decode path's score pass (one <c>dot_f32_rows</c> group).</summary>
    private const int DecodeKeyBlock = 8;

    /// <summary>
    /// Value rows per pass of the decode path's value pass: each group of sixteen channels' double sums is
    /// loaded once, takes the products of eight rows in row order and is stored once (rows one by one
    /// loaded and stored the sums around every row). Node 26, 12 heads of 64 channels, runs alternated:
    /// 192 positions 71–78 → 57–63 µs with the cache warm, 91–96 → 80–88 µs evicted; 1000 positions
    /// evicted 513–541 → 343–472 µs. Sixteen rows per pass measured no better.
    /// </summary>
    private const int DecodeValueRows = 8;

    /// <summary>
    /// One query row (a decode step) of a layer without grouped-query heads, in an order that reads the KV
    /// cache forward: the score pass takes the keys in blocks of <see cref="DecodeKeyBlock"/> rows and
    /// every head's dots over each block (so the block's rows are read whole, instead of one head's
    /// <c>4·headDim</c> bytes of every row at a stride of the row); then each head's softmax; then the
    /// value pass takes the value rows <see cref="DecodeValueRows"/> at a time (the last ones one by one),
    /// every head's channels of each, into the double sums kept in <c>accumulators</c> (sixteen channels,
    /// eight f64x2, loaded and stored around each pass over a head's channels). Each score is the same dot
    /// and each channel's sum runs j ascending as in the head-by-head path: the same bits. Once the weights
    /// streamed between layers have evicted the cache, this took 85 µs where head by head took 140 µs (Node 26,
    /// 12 heads of 64 channels, 192 positions; rows one by one in the value pass).
    /// </summary>
    private static void EmitDecodeAttention(WasmFunctionBuilder f, WasmLocal q, WasmLocal keys, WasmLocal values, WasmLocal output, WasmLocal scores,
        WasmLocal accumulators, WasmLocal start, WasmLocal heads, WasmLocal headDim, WasmLocal scale, WasmLocal context, WasmLocal headStart,
        WasmLocal headEnd, WasmLocal headBytes, WasmLocal kvDimBytes, WasmFunction dotRows, WasmFunction softmax)
    {
        WasmLocal h = f.DeclareLocal(I32), jb = f.DeclareLocal(I32), j = f.DeclareLocal(I32), count = f.DeclareLocal(I32), n = f.DeclareLocal(I32);
        WasmLocal acc = f.DeclareLocal(I32), d = f.DeclareLocal(I32), pv = f.DeclareLocal(I32), wide = f.DeclareLocal(I32), rowBytes = f.DeclareLocal(I32);
        WasmLocal pa = f.DeclareLocal(I32);   // acc + 2·d: the sums of the channels at byte d of the head
        WasmLocal prod = f.DeclareLocal(V128);
        WasmLocal[] sums = WasmEmit.Locals(f, V128, 8), pj = WasmEmit.Locals(f, V128, DecodeValueRows), rowAt = WasmEmit.Locals(f, I32, DecodeValueRows);
        f.LocalGet(start).I32Const(1).I32Add().LocalSet(n);
        f.LocalGet(context).I32Const(2).I32Shl().LocalSet(rowBytes);

        // scores[h][j]: key rows in blocks, every head per block
        f.I32Const(0).LocalSet(jb);
        using (f.For(jb, n, DecodeKeyBlock))
        {
            f.LocalGet(n).LocalGet(jb).I32Sub().LocalSet(count);
            f.LocalGet(count).I32Const(DecodeKeyBlock).LocalGet(count).I32Const(DecodeKeyBlock).I32LtU().Select().LocalSet(count);
            f.LocalGet(headStart).LocalSet(h);
            using (f.For(h, headEnd, 1))
            {
                f.LocalGet(jb).LocalGet(kvDimBytes).I32Mul().LocalGet(h).LocalGet(headBytes).I32Mul().I32Add().LocalGet(keys).I32Add()
                    .LocalGet(kvDimBytes).LocalGet(count)
                    .LocalGet(h).LocalGet(headBytes).I32Mul().LocalGet(q).I32Add().LocalGet(headDim)
                    .LocalGet(h).LocalGet(rowBytes).I32Mul().LocalGet(scores).I32Add().LocalGet(jb).I32Const(2).I32Shl().I32Add()
                    .Call(dotRows);
            }
        }
        // softmax; the head's double sums start at zero (16 bytes of sums per 8 bytes of channels)
        f.LocalGet(headStart).LocalSet(h);
        using (f.For(h, headEnd, 1))
        {
            f.LocalGet(h).LocalGet(rowBytes).I32Mul().LocalGet(scores).I32Add().LocalGet(n).LocalGet(scale).Call(softmax);
            f.LocalGet(h).LocalGet(headBytes).I32Mul().I32Const(1).I32Shl().LocalGet(accumulators).I32Add().LocalSet(acc);
            f.I32Const(0).LocalSet(d);
            using (f.For(d, headBytes, 8))
                f.LocalGet(acc).LocalGet(d).I32Const(1).I32Shl().I32Add().V128Const(Vector128<double>.Zero).V128Store(alignment: 8);
        }

        // Σ_j V[j]·p[j] per channel in double, j ascending: DecodeValueRows rows per pass (their products added
        // to each sum in row order between one load and one store of it), then the last rows one at a time;
        // every head's channels of each row, sixteen then four at a time
        f.I32Const(0).LocalSet(j);
        foreach (int rowsPerPass in (int[])[DecodeValueRows, 1])
        {
            f.LocalGet(n).I32Const(-rowsPerPass).I32And().LocalSet(count);
            using (f.For(j, count, rowsPerPass))
            {
                f.LocalGet(j).LocalGet(kvDimBytes).I32Mul().LocalGet(values).I32Add().LocalGet(headStart).LocalGet(headBytes).I32Mul().I32Add().LocalSet(rowAt[0]);
                for (int r = 1; r < rowsPerPass; r++)
                    f.LocalGet(rowAt[r - 1]).LocalGet(kvDimBytes).I32Add().LocalSet(rowAt[r]);
                f.LocalGet(headStart).LocalSet(h);
                using (f.For(h, headEnd, 1))
                {
                    f.LocalGet(h).LocalGet(rowBytes).I32Mul().LocalGet(scores).I32Add().LocalGet(j).I32Const(2).I32Shl().I32Add().LocalSet(pv);
                    for (int r = 0; r < rowsPerPass; r++)
                        f.LocalGet(pv).V128Load32Splat(offset: (uint)(4 * r), alignment: 4).LocalSet(pj[r]);
                    f.LocalGet(h).LocalGet(headBytes).I32Mul().I32Const(1).I32Shl().LocalGet(accumulators).I32Add().LocalSet(acc);
                    f.I32Const(0).LocalSet(d);
                    foreach (int channels in (int[])[16, 4])   // headDim is a multiple of 4: the last pass ends at headBytes
                    {
                        f.LocalGet(headBytes).I32Const(-4 * channels).I32And().LocalSet(wide);
                        using (f.For(d, wide, 4 * channels))
                        {
                            f.LocalGet(d).I32Const(1).I32Shl().LocalGet(acc).I32Add().LocalSet(pa);
                            for (int a = 0; a < channels / 2; a++)
                                f.LocalGet(pa).V128Load(offset: (uint)(16 * a), alignment: 8).LocalSet(sums[a]);
                            for (int r = 0; r < rowsPerPass; r++)
                                for (int c = 0; c < channels / 4; c++)
                                {
                                    f.LocalGet(rowAt[r]).LocalGet(d).I32Add().V128Load(offset: (uint)(16 * c), alignment: 4).LocalGet(pj[r]).F32x4Mul().LocalSet(prod);
                                    f.LocalGet(sums[2 * c]).LocalGet(prod).F64x2PromoteLowF32x4().F64x2Add().LocalSet(sums[2 * c]);
                                    f.LocalGet(sums[2 * c + 1]).LocalGet(prod).LocalGet(prod).I8x16Shuffle(WasmEmit.Lanes32(2, 3, 2, 3)).F64x2PromoteLowF32x4().F64x2Add()
                                        .LocalSet(sums[2 * c + 1]);
                                }
                            for (int a = 0; a < channels / 2; a++)
                                f.LocalGet(pa).LocalGet(sums[a]).V128Store(offset: (uint)(16 * a), alignment: 8);
                        }
                    }
                    for (int r = 0; r < rowsPerPass; r++)
                        f.LocalGet(rowAt[r]).LocalGet(headBytes).I32Add().LocalSet(rowAt[r]);
                }
            }
        }
        // out = (float) sums
        f.LocalGet(headStart).LocalSet(h);
        using (f.For(h, headEnd, 1))
        {
            f.LocalGet(h).LocalGet(headBytes).I32Mul().I32Const(1).I32Shl().LocalGet(accumulators).I32Add().LocalSet(acc);
            f.LocalGet(h).LocalGet(headBytes).I32Mul().LocalGet(output).I32Add().LocalSet(pv);
            f.I32Const(0).LocalSet(d);
            using (f.For(d, headBytes, 16))
            {
                f.LocalGet(d).I32Const(1).I32Shl().LocalGet(acc).I32Add().LocalSet(pa);
                f.LocalGet(pv).LocalGet(d).I32Add()
                    .LocalGet(pa).V128Load(alignment: 8).F32x4DemoteF64x2Zero()
                    .LocalGet(pa).V128Load(offset: 16, alignment: 8).F32x4DemoteF64x2Zero()
                    .I8x16Shuffle(WasmEmit.Lanes32(0, 1, 4, 5)).V128Store(alignment: 4);
            }
        }
    }

    /// <summary>Emits <c>name(gate, up, n)</c>, n a multiple of 4: <c>gate[i] = gate[i] / (1 + exp(0 − gate[i])) · up[i]</c> (ggml_v_silu).</summary>
    public static WasmFunction EmitSwiGlu(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal gate = f.Param(0), up = f.Param(1), n = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), bytes = f.DeclareLocal(I32), a = f.DeclareLocal(I32), g = f.DeclareLocal(V128), minus = f.DeclareLocal(V128);
        WasmLocal one = f.DeclareLocal(V128);
        Exp4Locals exp = Exp4Locals.Declare(f);
        f.Splat(1f).LocalSet(one);
        f.LocalGet(n).I32Const(2).I32Shl().LocalSet(bytes);
        using (f.For(i, bytes, 16))
        {
            f.LocalGet(gate).LocalGet(i).I32Add().LocalTee(a)
                .LocalGet(a).V128Load(alignment: 4).LocalTee(g)
                .LocalGet(exp.KZero).LocalGet(g).F32x4Sub().LocalSet(minus);
            Exp4(f, minus, exp);
            f.LocalGet(one).F32x4Add().F32x4Div()
                .LocalGet(up).LocalGet(i).I32Add().V128Load(alignment: 4).F32x4Mul().V128Store(alignment: 4);
        }
        return f.Function;
    }

    /// <summary>
    /// Emits <c>name(x, table, rows, heads, headDim, start, rotaryDims, neox)</c>: <see cref="Kernels.Rope.Apply"/>
    /// to each of <c>rows</c> token rows at positions <c>start + t</c> (ggml's <c>rope_yarn</c> rotation
    /// with the precomputed table <c>[positions, rotaryDims/2, (cos, sin)]</c>): per pair,
    /// <c>x0·c − x1·s</c> and <c>x0·s + x1·c</c>, the pairs adjacent (normal) or half a rotation apart
    /// (<c>neox</c> ≠ 0); channels from <c>rotaryDims</c> up pass through. Scalar f32 steps, as the reference.
    /// </summary>
    public static WasmFunction EmitRope(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(8), []);
        WasmLocal x = f.Param(0), table = f.Param(1), rows = f.Param(2), heads = f.Param(3), headDim = f.Param(4), start = f.Param(5),
            rot = f.Param(6), neox = f.Param(7);
        WasmLocal t = f.DeclareLocal(I32), h = f.DeclareLocal(I32), k = f.DeclareLocal(I32), pairs = f.DeclareLocal(I32), cs = f.DeclareLocal(I32),
            pc = f.DeclareLocal(I32), p0 = f.DeclareLocal(I32), stepBytes = f.DeclareLocal(I32), offBytes = f.DeclareLocal(I32), head = f.DeclareLocal(I32);
        WasmLocal x0 = f.DeclareLocal(F32), x1 = f.DeclareLocal(F32), c = f.DeclareLocal(F32), s = f.DeclareLocal(F32);
        f.LocalGet(rot).I32Const(1).I32ShrU().LocalSet(pairs);
        // neox: pair k is (k, k + pairs), else (2k, 2k + 1)
        f.I32Const(4).I32Const(8).LocalGet(neox).Select().LocalSet(stepBytes);
        f.LocalGet(pairs).I32Const(2).I32Shl().I32Const(4).LocalGet(neox).Select().LocalSet(offBytes);
        f.I32Const(0).LocalSet(t);
        using (f.For(t, rows, 1))
        {
            f.LocalGet(start).LocalGet(t).I32Add().LocalGet(rot).I32Mul().I32Const(2).I32Shl().LocalGet(table).I32Add().LocalSet(cs);
            f.I32Const(0).LocalSet(h);
            using (f.For(h, heads, 1))
            {
                f.LocalGet(t).LocalGet(heads).I32Mul().LocalGet(h).I32Add().LocalGet(headDim).I32Mul().I32Const(2).I32Shl().LocalGet(x).I32Add().LocalSet(head);
                f.LocalGet(head).LocalSet(p0);
                f.LocalGet(cs).LocalSet(pc);
                f.I32Const(0).LocalSet(k);
                using (f.For(k, pairs, 1))
                {
                    f.LocalGet(pc).F32Load(alignment: 4).LocalSet(c);
                    f.LocalGet(pc).F32Load(offset: 4, alignment: 4).LocalSet(s);
                    f.LocalGet(p0).F32Load(alignment: 4).LocalSet(x0);
                    f.LocalGet(p0).LocalGet(offBytes).I32Add().F32Load(alignment: 4).LocalSet(x1);
                    f.LocalGet(p0).LocalGet(x0).LocalGet(c).F32Mul().LocalGet(x1).LocalGet(s).F32Mul().F32Sub().F32Store(alignment: 4);
                    f.LocalGet(p0).LocalGet(offBytes).I32Add().LocalGet(x0).LocalGet(s).F32Mul().LocalGet(x1).LocalGet(c).F32Mul().F32Add().F32Store(alignment: 4);
                    f.LocalGet(p0).LocalGet(stepBytes).I32Add().LocalSet(p0);
                    f.LocalGet(pc).I32Const(8).I32Add().LocalSet(pc);
                }
            }
        }
        return f.Function;
    }

    /// <summary>Emits <c>name(destination, source, n)</c>: copies <c>n</c> floats (<c>memory.copy</c>, correct for overlapping ranges).</summary>
    public static WasmFunction EmitCopy(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        f.LocalGet(f.Param(0)).LocalGet(f.Param(1)).LocalGet(f.Param(2)).I32Const(2).I32Shl().MemoryCopy();
        return f.Function;
    }

    /// <summary>Emits <c>name(x, y, n)</c>: <c>x[i] += y[i]</c>.</summary>
    public static WasmFunction EmitAdd(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(3), []);
        WasmLocal x = f.Param(0), y = f.Param(1), n = f.Param(2);
        WasmLocal i = f.DeclareLocal(I32), bytes = f.DeclareLocal(I32), full = f.DeclareLocal(I32), a = f.DeclareLocal(I32);
        f.LocalGet(n).I32Const(2).I32Shl().LocalSet(bytes);
        f.LocalGet(bytes).I32Const(~15).I32And().LocalSet(full);
        using (f.For(i, full, 16))
            f.LocalGet(x).LocalGet(i).I32Add().LocalTee(a).LocalGet(a).V128Load(alignment: 4).LocalGet(y).LocalGet(i).I32Add().V128Load(alignment: 4).F32x4Add().V128Store(alignment: 4);
        using (f.For(i, bytes, 4))
            f.LocalGet(x).LocalGet(i).I32Add().LocalTee(a).LocalGet(a).F32Load(alignment: 4).LocalGet(y).LocalGet(i).I32Add().F32Load(alignment: 4).F32Add().F32Store(alignment: 4);
        return f.Function;
    }

    /// <summary>
    /// Emits <c>name(p, n) → i32</c>: <see cref="Sampling.Sampler.ArgMax"/> of <c>p[0..n)</c>, the first
    /// index of the largest value by the sequential rule <c>p[i] &gt; p[best]</c> (so NaN never wins, and a
    /// NaN at index 0 wins always). Four lanes keep the first maximum of their columns (strict greater,
    /// from −∞), the lanes combine by value, then lowest index; the last <c>n mod 4</c> follow sequentially.
    /// </summary>
    public static WasmFunction EmitArgMax(WasmModuleBuilder module, string name)
    {
        WasmFunctionBuilder f = module.AddFunction(name, WasmEmit.I32s(2), [I32]);
        WasmLocal p = f.Param(0), n = f.Param(1);
        WasmLocal i = f.DeclareLocal(I32), bytes = f.DeclareLocal(I32), full = f.DeclareLocal(I32), bi = f.DeclareLocal(I32), j = f.DeclareLocal(I32);
        WasmLocal bv = f.DeclareLocal(F32), v = f.DeclareLocal(F32);
        WasmLocal best = f.DeclareLocal(V128), bidx = f.DeclareLocal(V128), idx = f.DeclareLocal(V128), x = f.DeclareLocal(V128), m = f.DeclareLocal(V128);
        // n = 0, or NaN at index 0: 0
        f.LocalGet(n).I32Eqz();
        using (f.If())
            f.I32Const(0).Return();
        f.LocalGet(p).F32Load(alignment: 4).LocalTee(v).LocalGet(v).F32Ne();
        using (f.If())
            f.I32Const(0).Return();
        f.LocalGet(n).I32Const(2).I32Shl().LocalSet(bytes);
        f.LocalGet(bytes).I32Const(~15).I32And().LocalSet(full);
        f.Splat(float.NegativeInfinity).LocalSet(best);
        f.SplatI(-1).LocalSet(bidx);
        f.V128Const(Vector128.Create(0, 1, 2, 3)).LocalSet(idx);
        using (f.For(i, full, 16))
        {
            f.LocalGet(p).LocalGet(i).I32Add().V128Load(alignment: 4).LocalTee(x).LocalGet(best).F32x4Gt().LocalSet(m);
            f.LocalGet(x).LocalGet(best).LocalGet(m).V128Bitselect().LocalSet(best);
            f.LocalGet(idx).LocalGet(bidx).LocalGet(m).V128Bitselect().LocalSet(bidx);
            f.LocalGet(idx).SplatI(4).I32x4Add().LocalSet(idx);
        }
        f.F32Const(float.NegativeInfinity).LocalSet(bv);
        f.I32Const(-1).LocalSet(bi);
        for (byte k = 0; k < 4; k++)
        {
            // take lane k when it found something and (its value is larger, or equal with a lower index)
            f.LocalGet(bidx).I32x4ExtractLane(k).LocalTee(j).I32Const(0).I32GeS()
                .LocalGet(best).F32x4ExtractLane(k).LocalTee(v).LocalGet(bv).F32Gt()
                .LocalGet(v).LocalGet(bv).F32Eq().LocalGet(j).LocalGet(bi).I32LtS().I32And()
                .I32Or().I32And();
            using (f.If())
            {
                f.LocalGet(v).LocalSet(bv);
                f.LocalGet(j).LocalSet(bi);
            }
        }
        // nothing above −∞ in the grouped part: index 0, as the sequential rule starts
        f.LocalGet(bi).I32Const(0).I32LtS();
        using (f.If())
        {
            f.I32Const(0).LocalSet(bi);
            f.LocalGet(p).F32Load(alignment: 4).LocalSet(bv);
        }
        f.LocalGet(full).LocalSet(i);
        using (f.For(i, bytes, 4))
        {
            f.LocalGet(p).LocalGet(i).I32Add().F32Load(alignment: 4).LocalTee(v).LocalGet(bv).F32Gt();
            using (f.If())
            {
                f.LocalGet(v).LocalSet(bv);
                f.LocalGet(i).I32Const(2).I32ShrU().LocalSet(bi);
            }
        }
        f.LocalGet(bi);
        return f.Function;
    }
}
