using System.Buffers.Binary;
using System.Runtime.Intrinsics;

namespace TinyLM.Kernels.Wasm;

/// <summary>
/// Emits the body of one function of a <see cref="WasmModuleBuilder"/>: one method per instruction,
/// named after the text format (<c>i32x4.dot_i16x8_s</c> is <see cref="I32x4DotI16x8S"/>), each
/// returning the builder so instructions chain. Every instruction is type-checked against the
/// operand stack as it is emitted; a mistake throws <see cref="WasmValidationException"/> naming the
/// function and instruction, and faults the function.
/// </summary>
/// <remarks>
/// <para>Structured control returns labels: <c>using (var loop = f.Loop()) { ...; f.BrIf(loop); }</c>
/// emits the <c>end</c> when the scope closes, and branches take the label, not a relative depth.
/// <see cref="For(WasmLocal, WasmLocal, int)"/> writes the usual counted loop. The final <c>end</c>
/// of the body is emitted by <see cref="WasmModuleBuilder.ToArray"/>, which checks that all blocks
/// are closed and the results are on the stack.</para>
/// <para>Memory instructions take the static <c>offset</c> added to the address operand (no
/// wrap-around: an effective address past the memory traps) and an <c>alignment</c> hint in bytes:
/// 0 for the natural alignment, else a power of two no larger than it. The hint never changes the
/// result; a wrong hint may only be slower. Atomic accesses always use the natural alignment and
/// trap when the address is not a multiple of it.</para>
/// <para>Lanes are numbered from the lowest address: lane 0 of a <c>v128.load</c> is the byte (or
/// element) at the address, as with <see cref="Vector128{T}"/> element 0 on little-endian hosts.</para>
/// </remarks>
public sealed partial class WasmFunctionBuilder
{
    private readonly WasmModuleBuilder _module;
    private readonly WasmBinaryWriter _code = new(256);
    private readonly List<WasmValueType> _locals = [];
    private WasmValueType[] _stack = new WasmValueType[16];
    private int _stackCount;
    private ControlFrame[] _frames = new ControlFrame[8];
    private int _frameCount;
    private int _nextLabelId;
    private int _instructionIndex = -1;
    private string _instruction = "(none)";
    private bool _faulted;
    private bool _finished;
    private readonly List<(UInt128 Value, WasmLocal Local)> _hoisted = [];

    internal WasmFunctionBuilder(WasmModuleBuilder module, WasmFunction function)
    {
        _module = module;
        Function = function;
        _frames[0] = new ControlFrame(FrameKind.Function, [], function.Signature.ResultArray, 0, _nextLabelId++, -1);
        _frameCount = 1;
    }

    private enum FrameKind : byte { Function, Block, Loop, If, Else }

    /// <summary>The function's handle (index, name, signature), e.g. for <see cref="Call"/>.</summary>
    public WasmFunction Function { get; }

    /// <summary>The function's name.</summary>
    public string Name => Function.Name;

    /// <summary>Parameters plus declared locals.</summary>
    public int LocalCount => Function.Signature.Parameters.Length + _locals.Count;

    /// <summary>Open blocks, not counting the function body (0 at top level).</summary>
    public int BlockDepth => _frameCount - 1;

    internal int CodeLength => _code.Length;

    /// <summary>The instructions emitted so far (tests).</summary>
    internal ReadOnlySpan<byte> CodeBytes => _code.WrittenSpan;

    /// <summary>Parameter <paramref name="index"/> as a local.</summary>
    /// <param name="index">0-based parameter position.</param>
    /// <exception cref="ArgumentOutOfRangeException">No such parameter.</exception>
    public WasmLocal Param(int index)
    {
        ReadOnlySpan<WasmValueType> parameters = Function.Signature.Parameters;
        if ((uint)index >= (uint)parameters.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Wasm function '{Name}' has {parameters.Length} parameter(s).");
        return new WasmLocal(this, (uint)index, parameters[index]);
    }

    /// <summary>Declares a local variable, zero-initialized on entry; its index follows the parameters and earlier locals.</summary>
    /// <param name="type">The variable's type.</param>
    /// <exception cref="ArgumentException"><paramref name="type"/> is undefined.</exception>
    public WasmLocal DeclareLocal(WasmValueType type)
    {
        if (!WasmValueTypes.IsDefined(type))
            throw new ArgumentException($"0x{(byte)type:X2} is not a WebAssembly value type.", nameof(type));
        if (_finished)
            throw new InvalidOperationException($"Wasm function '{Name}' is finished (the module was encoded).");
        _locals.Add(type);
        return new WasmLocal(this, (uint)(LocalCount - 1), type);
    }

    // ---- Control instructions -------------------------------------------------------------

    /// <summary><c>unreachable</c>: traps. The rest of the block is unreachable (any operands type-check).</summary>
    public WasmFunctionBuilder Unreachable()
    {
        Begin("unreachable");
        SetUnreachable();
        _code.WriteByte(0x00);
        return this;
    }

    /// <summary><c>nop</c>: does nothing.</summary>
    public WasmFunctionBuilder Nop()
    {
        Begin("nop");
        _code.WriteByte(0x01);
        return this;
    }

    /// <summary><c>block</c> with no parameters or results: a branch to its label jumps past its <c>end</c>.</summary>
    public WasmLabel Block() => Open(0x02, "block", FrameKind.Block, null, null);

    /// <summary><c>block (result t)</c>: leaves one value of type <paramref name="result"/>.</summary>
    /// <param name="result">The block's result type.</param>
    public WasmLabel Block(WasmValueType result) => Open(0x02, "block", FrameKind.Block, null, result);

    /// <summary><c>block (type x)</c>: takes <paramref name="signature"/>'s parameters from the stack, leaves its results.</summary>
    /// <param name="signature">The block's type; registered in the module's type section when it has parameters or several results.</param>
    public WasmLabel Block(WasmFunctionType signature) => Open(0x02, "block", FrameKind.Block, signature, null);

    /// <summary><c>loop</c> with no parameters or results: a branch to its label jumps back to its start.</summary>
    public WasmLabel Loop() => Open(0x03, "loop", FrameKind.Loop, null, null);

    /// <summary><c>loop (result t)</c>: leaves one value of type <paramref name="result"/> when it falls through its <c>end</c>.</summary>
    /// <param name="result">The loop's result type.</param>
    public WasmLabel Loop(WasmValueType result) => Open(0x03, "loop", FrameKind.Loop, null, result);

    /// <summary><c>loop (type x)</c>: a branch to its label carries the parameters back to its start.</summary>
    /// <param name="signature">The loop's type.</param>
    public WasmLabel Loop(WasmFunctionType signature) => Open(0x03, "loop", FrameKind.Loop, signature, null);

    /// <summary><c>if</c>: pops an i32 condition; runs the block when it is not zero, else the <see cref="Else"/> part if any.</summary>
    public WasmLabel If() => Open(0x04, "if", FrameKind.If, null, null);

    /// <summary><c>if (result t)</c>: both arms leave one value of type <paramref name="result"/>; needs an <see cref="Else"/>.</summary>
    /// <param name="result">The result type.</param>
    public WasmLabel If(WasmValueType result) => Open(0x04, "if", FrameKind.If, null, result);

    /// <summary><c>if (type x)</c>: pops the i32 condition, then <paramref name="signature"/>'s parameters.</summary>
    /// <param name="signature">The block's type.</param>
    public WasmLabel If(WasmFunctionType signature) => Open(0x04, "if", FrameKind.If, signature, null);

    /// <summary><c>else</c>: ends the first arm of the innermost <c>if</c> and starts the second.</summary>
    /// <exception cref="WasmValidationException">The innermost block is not an <c>if</c>, or the first arm's results do not match.</exception>
    public WasmFunctionBuilder Else()
    {
        Begin("else");
        ref ControlFrame frame = ref _frames[_frameCount - 1];
        if (frame.Kind != FrameKind.If)
            throw Fail(frame.Kind == FrameKind.Else ? "the innermost if already has an else" : $"the innermost open block is a {KindName(frame.Kind)}, not an if");
        PopTypes(frame.Results, "the if's results");
        CheckHeight(frame, "the if's results");
        frame.Kind = FrameKind.Else;
        frame.Unreachable = false;
        PushTypes(frame.Params);
        _code.WriteByte(0x05);
        return this;
    }

    /// <summary><c>end</c> of the innermost open block; its results must be on the operand stack.</summary>
    /// <exception cref="WasmValidationException">No block is open, or the operand stack does not match the block's results.</exception>
    public WasmFunctionBuilder End()
    {
        Begin("end");
        if (_frameCount == 1)
            throw Fail("no open block to end (the function body's end is emitted by WasmModuleBuilder.ToArray)");
        CloseFrame();
        return this;
    }

    /// <summary><c>end</c> of <paramref name="label"/>'s block, which must be the innermost open block.</summary>
    /// <param name="label">The block to close.</param>
    /// <exception cref="WasmValidationException">Another block is innermost, the label's block has ended, or the results do not match.</exception>
    public WasmFunctionBuilder End(WasmLabel label)
    {
        Begin("end");
        RelativeDepth(label);
        if (label.Depth != _frameCount - 1)
        {
            ControlFrame inner = _frames[_frameCount - 1];
            throw Fail($"cannot end the {KindName(_frames[label.Depth].Kind)} opened at instruction {_frames[label.Depth].OpenedAt} while the {KindName(inner.Kind)} opened at instruction {inner.OpenedAt} is open inside it");
        }
        CloseFrame();
        return this;
    }

    /// <summary><c>br</c>: branches to <paramref name="label"/> (past a block's end, or back to a loop's start), carrying its values.</summary>
    /// <param name="label">An enclosing open block.</param>
    public WasmFunctionBuilder Br(WasmLabel label)
    {
        Begin("br");
        uint depth = RelativeDepth(label);
        PopTypes(LabelTypes(_frames[label.Depth]), "the branch target's values");
        SetUnreachable();
        _code.WriteByte(0x0C);
        _code.WriteU32(depth);
        return this;
    }

    /// <summary><c>br_if</c>: pops an i32; branches to <paramref name="label"/> when it is not zero.</summary>
    /// <param name="label">An enclosing open block.</param>
    public WasmFunctionBuilder BrIf(WasmLabel label)
    {
        Begin("br_if");
        uint depth = RelativeDepth(label);
        Pop(WasmValueType.I32, "the condition");
        WasmValueType[] types = LabelTypes(_frames[label.Depth]);
        PopTypes(types, "the branch target's values");
        PushTypes(types);
        _code.WriteByte(0x0D);
        _code.WriteU32(depth);
        return this;
    }

    /// <summary><c>br_table</c>: pops an i32 <c>i</c>; branches to <c>labels[i]</c>, or to <paramref name="defaultLabel"/> when <c>i</c> is out of range.</summary>
    /// <param name="labels">Targets by index; each must carry the same types as the default.</param>
    /// <param name="defaultLabel">Target for out-of-range indices.</param>
    public WasmFunctionBuilder BrTable(ReadOnlySpan<WasmLabel> labels, WasmLabel defaultLabel)
    {
        Begin("br_table");
        uint defaultDepth = RelativeDepth(defaultLabel);
        WasmValueType[] types = LabelTypes(_frames[defaultLabel.Depth]);
        Span<uint> depths = labels.Length <= 64 ? stackalloc uint[labels.Length] : new uint[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            depths[i] = RelativeDepth(labels[i]);
            WasmValueType[] other = LabelTypes(_frames[labels[i].Depth]);
            if (!other.AsSpan().SequenceEqual(types))
                throw Fail($"target {i} carries {WasmValueTypes.Names(other)} but the default target carries {WasmValueTypes.Names(types)}");
        }
        Pop(WasmValueType.I32, "the index");
        PopTypes(types, "the branch target's values");
        SetUnreachable();
        _code.WriteByte(0x0E);
        _code.WriteU32((uint)labels.Length);
        foreach (uint d in depths)
            _code.WriteU32(d);
        _code.WriteU32(defaultDepth);
        return this;
    }

    /// <summary><c>return</c>: returns from the function with its results taken from the top of the stack.</summary>
    public WasmFunctionBuilder Return()
    {
        Begin("return");
        PopTypes(Function.Signature.ResultArray, "the function's results");
        SetUnreachable();
        _code.WriteByte(0x0F);
        return this;
    }

    /// <summary><c>call</c>: pops the callee's parameters, pushes its results.</summary>
    /// <param name="function">A function of the same module (imported or defined).</param>
    /// <exception cref="ArgumentException">The function belongs to another module.</exception>
    public WasmFunctionBuilder Call(WasmFunction function)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (function.Module != _module)
            throw Fault(new ArgumentException($"Wasm function '{Name}': callee '{function.Name}' belongs to another module.", nameof(function)));
        Begin("call");
        PopTypes(function.Signature.ParameterArray, $"the arguments of '{function.Name}'");
        PushTypes(function.Signature.ResultArray);
        _code.WriteByte(0x10);
        _code.WriteU32(function.Index);
        return this;
    }

    /// <summary><c>drop</c>: pops and discards one value.</summary>
    public WasmFunctionBuilder Drop()
    {
        Begin("drop");
        PopAny("the value to drop");
        _code.WriteByte(0x1A);
        return this;
    }

    /// <summary><c>select</c> [t t i32] → [t]: the first operand when the i32 is not zero, else the second (both are evaluated).</summary>
    public WasmFunctionBuilder Select()
    {
        Begin("select");
        Pop(WasmValueType.I32, "the condition");
        WasmValueType second = PopAny("the second value");
        WasmValueType first = PopAny("the first value");
        if (first != second && first != WasmValueTypes.Unknown && second != WasmValueTypes.Unknown)
            throw Fail($"the two values have different types ({WasmValueTypes.Name(first)}, {WasmValueTypes.Name(second)})");
        Push(first == WasmValueTypes.Unknown ? second : first);
        _code.WriteByte(0x1B);
        return this;
    }

    /// <summary><c>select (result t)</c>: <see cref="Select()"/> with the operand type written out.</summary>
    /// <param name="type">The type of both values.</param>
    public WasmFunctionBuilder Select(WasmValueType type)
    {
        Begin("select");
        Pop(WasmValueType.I32, "the condition");
        Pop(type, "the second value");
        Pop(type, "the first value");
        Push(type);
        _code.WriteByte(0x1C);
        _code.WriteU32(1);
        _code.WriteByte((byte)type);
        return this;
    }

    // ---- Counted loops ----------------------------------------------------------------------

    /// <summary>
    /// Opens <c>while (counter &lt;u limit) { body; counter += step; }</c> with unsigned i32
    /// comparisons: the test runs before the first iteration and at the bottom of each (one branch
    /// per iteration). Initialize <paramref name="counter"/> before; close with <c>using</c> or
    /// <see cref="EndFor"/>. The body must leave the operand stack as it found it.
    /// </summary>
    /// <param name="counter">An i32 local, incremented by <paramref name="step"/> after each iteration.</param>
    /// <param name="limit">An i32 local read at each test (unsigned); it may change in the body.</param>
    /// <param name="step">Increment, positive; <c>limit + step</c> must not exceed 2³² (the counter would wrap).</param>
    /// <exception cref="ArgumentException">A local is not i32 or belongs to another function, or <paramref name="step"/> is not positive.</exception>
    public WasmForLoop For(WasmLocal counter, WasmLocal limit, int step)
    {
        CheckForArguments(counter, step);
        CheckLocal(limit, nameof(limit));
        if (limit.Type != WasmValueType.I32)
            throw Fault(new ArgumentException($"Wasm function '{Name}': the loop limit must be an i32 local, not {WasmValueTypes.Name(limit.Type)}.", nameof(limit)));
        return OpenFor(counter, limit, 0, step);
    }

    /// <summary>As <see cref="For(WasmLocal, WasmLocal, int)"/> with a constant limit (compared unsigned).</summary>
    /// <param name="counter">An i32 local, incremented by <paramref name="step"/> after each iteration.</param>
    /// <param name="limit">The bound, as an unsigned 32-bit value.</param>
    /// <param name="step">Increment, positive.</param>
    /// <exception cref="ArgumentException">The counter is not an i32 local of this function, or <paramref name="step"/> is not positive.</exception>
    public WasmForLoop For(WasmLocal counter, int limit, int step)
    {
        CheckForArguments(counter, step);
        return OpenFor(counter, null, limit, step);
    }

    /// <summary>Closes a loop from <see cref="For(WasmLocal, WasmLocal, int)"/>: emits the increment, the bottom test and the <c>end</c>s.</summary>
    /// <param name="loop">The innermost open loop.</param>
    /// <exception cref="WasmValidationException">A block opened in the body is still open, or the body left values on the stack.</exception>
    public WasmFunctionBuilder EndFor(WasmForLoop loop)
    {
        if (loop.Continue.Owner != this)
            throw Fault(new ArgumentException($"Wasm function '{Name}': the loop belongs to another function (or is default).", nameof(loop)));
        End(loop.Continue);
        LocalGet(loop.Counter).I32Const(loop.Step).I32Add().LocalTee(loop.Counter);
        PushLimit(loop.LimitLocal, loop.LimitConstant);
        I32LtU().BrIf(loop.Top);
        End(loop.Top);
        End(loop.Break);
        return this;
    }

    // ---- Variables and constants ------------------------------------------------------------

    /// <summary><c>local.get</c>: pushes the local's value.</summary>
    /// <param name="local">A parameter or local of this function.</param>
    public WasmFunctionBuilder LocalGet(WasmLocal local)
    {
        CheckLocal(local, nameof(local));
        Begin("local.get");
        Push(local.Type);
        _code.WriteByte(0x20);
        _code.WriteU32(local.Index);
        return this;
    }

    /// <summary><c>local.set</c>: pops a value into the local.</summary>
    /// <param name="local">A parameter or local of this function.</param>
    public WasmFunctionBuilder LocalSet(WasmLocal local)
    {
        CheckLocal(local, nameof(local));
        Begin("local.set");
        Pop(local.Type, local.ToString());
        _code.WriteByte(0x21);
        _code.WriteU32(local.Index);
        return this;
    }

    /// <summary><c>local.tee</c>: stores the top value into the local and leaves it on the stack.</summary>
    /// <param name="local">A parameter or local of this function.</param>
    public WasmFunctionBuilder LocalTee(WasmLocal local)
    {
        CheckLocal(local, nameof(local));
        Begin("local.tee");
        Pop(local.Type, local.ToString());
        Push(local.Type);
        _code.WriteByte(0x22);
        _code.WriteU32(local.Index);
        return this;
    }

    /// <summary><c>i32.const</c>: pushes <paramref name="value"/> (also for unsigned values: pass <c>unchecked((int)u)</c>).</summary>
    /// <param name="value">The constant.</param>
    public WasmFunctionBuilder I32Const(int value)
    {
        Begin("i32.const");
        Push(WasmValueType.I32);
        _code.WriteByte(0x41);
        _code.WriteSigned(value);
        return this;
    }

    /// <summary><c>i64.const</c>: pushes <paramref name="value"/>.</summary>
    /// <param name="value">The constant.</param>
    public WasmFunctionBuilder I64Const(long value)
    {
        Begin("i64.const");
        Push(WasmValueType.I64);
        _code.WriteByte(0x42);
        _code.WriteSigned(value);
        return this;
    }

    /// <summary><c>f32.const</c>: pushes <paramref name="value"/>, bit for bit (signed zeros and NaN payloads kept).</summary>
    /// <param name="value">The constant.</param>
    public WasmFunctionBuilder F32Const(float value)
    {
        Begin("f32.const");
        Push(WasmValueType.F32);
        _code.WriteByte(0x43);
        _code.WriteF32(value);
        return this;
    }

    /// <summary><c>f64.const</c>: pushes <paramref name="value"/>, bit for bit.</summary>
    /// <param name="value">The constant.</param>
    public WasmFunctionBuilder F64Const(double value)
    {
        Begin("f64.const");
        Push(WasmValueType.F64);
        _code.WriteByte(0x44);
        _code.WriteF64(value);
        return this;
    }

    /// <summary>
    /// <c>v128.const</c>: pushes the 16 bytes of <paramref name="value"/>, element 0 in lane 0, e.g.
    /// <c>V128Const(Vector128.Create(1f, 2f, 3f, 4f))</c> or <c>V128Const(Vector128.Create((byte)0x0F))</c>.
    /// </summary>
    /// <typeparam name="T">Element type: any primitive numeric type that <see cref="Vector128{T}"/> supports.</typeparam>
    /// <param name="value">The constant.</param>
    public WasmFunctionBuilder V128Const<T>(Vector128<T> value)
    {
        Span<byte> bytes = stackalloc byte[16];
        value.AsByte().CopyTo(bytes);
        return V128Const(bytes);
    }

    /// <summary><c>v128.const</c> from 16 bytes in memory order (byte 0 is lane 0 of i8x16).</summary>
    /// <param name="bytes">Exactly 16 bytes.</param>
    /// <exception cref="ArgumentException">Not 16 bytes.</exception>
    /// <remarks>
    /// With <see cref="HoistConstants"/>, a constant inside a loop other than all zeros or all ones reads a local
    /// that the function's first instructions set (see there); the value is the same.
    /// </remarks>
    public WasmFunctionBuilder V128Const(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 16)
            throw Fault(new ArgumentException($"Wasm function '{Name}': v128.const takes 16 bytes, got {bytes.Length}.", nameof(bytes)));
        UInt128 value = BinaryPrimitives.ReadUInt128LittleEndian(bytes);
        if (HoistConstants && InLoop() && value != UInt128.Zero && value != UInt128.MaxValue)
            return LocalGet(HoistedConstant(value));
        Begin("v128.const");
        Push(WasmValueType.V128);
        _code.WriteByte(0xFD);
        _code.WriteU32(0x0C);
        _code.WriteBytes(bytes);
        return this;
    }

    /// <summary>
    /// Whether <see cref="V128Const(ReadOnlySpan{byte})"/> inside a loop reads a local set once on entry
    /// (<c>i64x2.splat</c> of the low half, <c>i64x2.replace_lane 1</c> with the high half when they differ) instead
    /// of encoding <c>v128.const</c> there. V8's optimizing compiler materializes a <c>v128.const</c> where it is used
    /// (on x64 a load of 8 bytes, a move to a vector register and a shuffle before the operation) — V8 14.6 (Node 26,
    /// Chrome 146) at every use, V8 15.6 (Chromium 156) once per basic block — and never keeps one in a register
    /// across loop iterations, while the result of a splat it does keep. Measured on one 4096 × 4096 matrix-vector
    /// product: Q8_0 23.8 → 25.8 GB/s, Q5_0 6.1 → 8.5, TQ1_0 1.1 → 2.3 in Node 26; 0–10 % faster in Chromium 156
    /// (BENCHMARKS.md). The values are the same, so are the results. Set it before emitting the body; an emitter may
    /// switch it off around code where the locals' register pressure costs more (KQuantMatMul's float16 scales).
    /// </summary>
    public bool HoistConstants { get; set; }

    private bool InLoop()
    {
        for (int i = _frameCount - 1; i > 0; i--)
            if (_frames[i].Kind == FrameKind.Loop)
                return true;
        return false;
    }

    private WasmLocal HoistedConstant(UInt128 value)
    {
        foreach ((UInt128 v, WasmLocal local) in _hoisted)
            if (v == value)
                return local;
        WasmLocal hoisted = DeclareLocal(WasmValueType.V128);
        _hoisted.Add((value, hoisted));
        return hoisted;
    }

    /// <summary>The instructions that set the hoisted constants' locals (<see cref="HoistConstants"/>), before the body.</summary>
    private void WriteHoistedConstants(WasmBinaryWriter output)
    {
        foreach ((UInt128 value, WasmLocal local) in _hoisted)
        {
            ulong lo = (ulong)value, hi = (ulong)(value >> 64);
            output.WriteByte(0x42);
            output.WriteSigned((long)lo);
            output.WriteByte(0xFD);
            output.WriteU32(0x12);   // i64x2.splat
            if (hi != lo)
            {
                output.WriteByte(0x42);
                output.WriteSigned((long)hi);
                output.WriteByte(0xFD);
                output.WriteU32(0x1E);   // i64x2.replace_lane
                output.WriteByte(1);
            }
            output.WriteByte(0x21);
            output.WriteU32(local.Index);
        }
    }

    // ---- Encoding support for the instruction files -----------------------------------------

    /// <summary>A plain one-byte instruction.</summary>
    private WasmFunctionBuilder Op(byte opcode, string name, StackEffect effect)
    {
        Begin(name);
        Apply(effect);
        _code.WriteByte(opcode);
        return this;
    }

    /// <summary>An instruction of a prefix (0xFC misc, 0xFD SIMD, 0xFE atomics) with a u32 sub-opcode.</summary>
    private WasmFunctionBuilder Prefixed(byte prefix, uint code, string name, StackEffect effect)
    {
        Begin(name);
        Apply(effect);
        _code.WriteByte(prefix);
        _code.WriteU32(code);
        return this;
    }

    /// <summary>A SIMD instruction with a lane index immediate.</summary>
    private WasmFunctionBuilder LaneOp(uint code, string name, StackEffect effect, byte lane, int laneCount)
    {
        CheckLane(name, lane, laneCount);
        Prefixed(0xFD, code, name, effect);
        _code.WriteByte(lane);
        return this;
    }

    /// <summary>A load or store: opcode (prefixed when <paramref name="prefix"/> is not 0), then memarg.</summary>
    private WasmFunctionBuilder MemoryOp(byte prefix, uint code, string name, StackEffect effect, uint naturalAlignment, uint offset, uint alignment)
    {
        uint exponent = AlignmentExponent(name, naturalAlignment, alignment);
        Begin(name);
        RequireMemory();
        Apply(effect);
        if (prefix != 0)
        {
            _code.WriteByte(prefix);
            _code.WriteU32(code);
        }
        else
        {
            _code.WriteByte((byte)code);
        }
        _code.WriteU32(exponent);
        _code.WriteU32(offset);
        return this;
    }

    /// <summary>An atomic access (0xFE prefix) with its required natural alignment.</summary>
    private WasmFunctionBuilder AtomicOp(uint code, string name, StackEffect effect, uint naturalAlignment, uint offset) =>
        MemoryOp(0xFE, code, name, effect, naturalAlignment, offset, 0);

    /// <summary><c>memory.atomic.wait32/64</c>: an atomic access that also needs a shared memory.</summary>
    private WasmFunctionBuilder AtomicWait(uint code, string name, StackEffect effect, uint naturalAlignment, uint offset)
    {
        if (_module.Memory is { Shared: false })
        {
            Begin(name);
            throw Fail("the memory is not shared: wait traps on a non-shared memory (declare the memory with Shared: true)");
        }
        return AtomicOp(code, name, effect, naturalAlignment, offset);
    }

    /// <summary>A SIMD load/store of one lane: memarg, then the lane index.</summary>
    private WasmFunctionBuilder MemoryLaneOp(uint code, string name, StackEffect effect, uint naturalAlignment, uint offset, uint alignment, byte lane, int laneCount)
    {
        CheckLane(name, lane, laneCount);
        MemoryOp(0xFD, code, name, effect, naturalAlignment, offset, alignment);
        _code.WriteByte(lane);
        return this;
    }

    /// <summary><c>memory.size</c>, <c>memory.grow</c>, <c>memory.copy</c>, <c>memory.fill</c>: memory index bytes, no memarg.</summary>
    private WasmFunctionBuilder MemoryIndexOp(byte prefix, uint code, string name, StackEffect effect, int memoryIndexBytes)
    {
        Begin(name);
        RequireMemory();
        Apply(effect);
        if (prefix != 0)
        {
            _code.WriteByte(prefix);
            _code.WriteU32(code);
        }
        else
        {
            _code.WriteByte((byte)code);
        }
        for (int i = 0; i < memoryIndexBytes; i++)
            _code.WriteByte(0x00);
        return this;
    }

    // ---- Module encoding ---------------------------------------------------------------------

    internal void WriteBody(WasmBinaryWriter output)
    {
        if (!_finished)
            Finish();
        int groups = 0;
        for (int i = 0; i < _locals.Count; i++)
            if (i == 0 || _locals[i] != _locals[i - 1])
                groups++;
        output.WriteU32((uint)groups);
        for (int i = 0; i < _locals.Count;)
        {
            int run = 1;
            while (i + run < _locals.Count && _locals[i + run] == _locals[i])
                run++;
            output.WriteU32((uint)run);
            output.WriteByte((byte)_locals[i]);
            i += run;
        }
        WriteHoistedConstants(output);
        output.WriteBytes(_code.WrittenSpan);
    }

    private void Finish()
    {
        Begin("end");
        if (_frameCount > 1)
        {
            ControlFrame open = _frames[_frameCount - 1];
            throw Fail($"the {KindName(open.Kind)} opened at instruction {open.OpenedAt} is not closed at the end of the function");
        }
        PopTypes(Function.Signature.ResultArray, "the function's results");
        CheckHeight(_frames[0], "the function's results");
        _code.WriteByte(0x0B);
        _frameCount = 0;
        _finished = true;
    }

    internal void EndFromDispose(WasmLabel label)
    {
        if (!_faulted && !_finished)
            End(label);
    }

    internal void EndForFromDispose(WasmForLoop loop)
    {
        if (!_faulted && !_finished)
            EndFor(loop);
    }

    // ---- Type checking (core spec 2.0, Appendix "Validation Algorithm") ----------------------

    private struct ControlFrame(FrameKind kind, WasmValueType[] parameters, WasmValueType[] results, int height, int id, int openedAt)
    {
        public FrameKind Kind = kind;
        public readonly WasmValueType[] Params = parameters;
        public readonly WasmValueType[] Results = results;
        public readonly int Height = height;
        public readonly int Id = id;
        public readonly int OpenedAt = openedAt;
        public bool Unreachable;
    }

    private void Begin(string instruction)
    {
        if (_finished)
            throw new InvalidOperationException($"Wasm function '{Name}' is finished (the module was encoded); it takes no more instructions ({instruction}).");
        if (_faulted)
            throw new InvalidOperationException($"Wasm function '{Name}' is faulted by an earlier error; it takes no more instructions ({instruction}).");
        _instructionIndex++;
        _instruction = instruction;
    }

    private WasmValidationException Fail(string reason)
    {
        _faulted = true;
        return new WasmValidationException(Name, _instructionIndex, _instruction, reason);
    }

    private T Fault<T>(T exception) where T : Exception
    {
        _faulted = true;
        return exception;
    }

    private void RequireMemory()
    {
        if (_module.Memory is null)
            throw Fail("the module has no memory: call ImportMemory or DefineMemory before emitting memory instructions");
    }

    private WasmLabel Open(byte opcode, string name, FrameKind kind, WasmFunctionType? signature, WasmValueType? result)
    {
        if (result is { } r && !WasmValueTypes.IsDefined(r))
            throw Fault(new ArgumentException($"0x{(byte)r:X2} is not a WebAssembly value type.", nameof(result)));
        Begin(name);
        if (kind == FrameKind.If)
            Pop(WasmValueType.I32, "the condition");
        WasmValueType[] parameters = signature?.ParameterArray ?? [];
        WasmValueType[] results = signature?.ResultArray ?? (result is { } t ? [t] : []);
        PopTypes(parameters, "the block's parameters");
        if (_frameCount == _frames.Length)
            Array.Resize(ref _frames, _frameCount * 2);
        int id = _nextLabelId++;
        _frames[_frameCount++] = new ControlFrame(kind, parameters, results, _stackCount, id, _instructionIndex);
        PushTypes(parameters);

        _code.WriteByte(opcode);
        if (parameters.Length == 0 && results.Length == 0)
            _code.WriteByte(0x40);
        else if (parameters.Length == 0 && results.Length == 1)
            _code.WriteByte((byte)results[0]);
        else
            _code.WriteSigned(_module.GetTypeIndex(signature!)); // s33, non-negative
        return new WasmLabel(this, _frameCount - 1, id);
    }

    private void CloseFrame()
    {
        ControlFrame frame = _frames[_frameCount - 1];
        PopTypes(frame.Results, $"the {KindName(frame.Kind)}'s results");
        CheckHeight(frame, $"the {KindName(frame.Kind)}'s results");
        if (frame.Kind == FrameKind.If && !frame.Params.AsSpan().SequenceEqual(frame.Results))
            throw Fail($"an if without else must leave its parameters unchanged ({WasmValueTypes.Names(frame.Params)}), but its results are {WasmValueTypes.Names(frame.Results)}: add an Else()");
        _frameCount--;
        PushTypes(frame.Results);
        _code.WriteByte(0x0B);
    }

    private uint RelativeDepth(WasmLabel label)
    {
        if (label.Owner != this)
            throw Fault(new ArgumentException(label.Owner is null
                ? $"Wasm function '{Name}': default(WasmLabel) is no label; use one returned by Block, Loop or If."
                : $"Wasm function '{Name}': the label belongs to function '{label.Owner.Name}'.", nameof(label)));
        if (label.Depth >= _frameCount || _frames[label.Depth].Id != label.Id)
            throw Fail("the label's block has already ended; a branch can only target an enclosing open block");
        return (uint)(_frameCount - 1 - label.Depth);
    }

    private static WasmValueType[] LabelTypes(in ControlFrame frame) => frame.Kind == FrameKind.Loop ? frame.Params : frame.Results;

    private void Push(WasmValueType type)
    {
        if (_stackCount == _stack.Length)
            Array.Resize(ref _stack, _stackCount * 2);
        _stack[_stackCount++] = type;
    }

    private void PushTypes(ReadOnlySpan<WasmValueType> types)
    {
        foreach (WasmValueType t in types)
            Push(t);
    }

    private WasmValueType PopAny(string what)
    {
        ref ControlFrame frame = ref _frames[_frameCount - 1];
        if (_stackCount == frame.Height)
        {
            if (frame.Unreachable)
                return WasmValueTypes.Unknown;
            throw Fail($"{what}: the operand stack is empty" + (_frameCount > 1 ? " (in this block)" : ""));
        }
        return _stack[--_stackCount];
    }

    private void Pop(WasmValueType expected, string what)
    {
        ref ControlFrame frame = ref _frames[_frameCount - 1];
        if (_stackCount == frame.Height)
        {
            if (frame.Unreachable)
                return;
            throw Fail($"{what}: expected {WasmValueTypes.Name(expected)}, but the operand stack is empty" + (_frameCount > 1 ? " (in this block)" : ""));
        }
        WasmValueType actual = _stack[--_stackCount];
        if (actual != expected && actual != WasmValueTypes.Unknown)
            throw Fail($"{what}: expected {WasmValueTypes.Name(expected)} on the operand stack, found {WasmValueTypes.Name(actual)}");
    }

    private void PopTypes(ReadOnlySpan<WasmValueType> types, string what)
    {
        for (int i = types.Length - 1; i >= 0; i--)
            Pop(types[i], types.Length == 1 ? what : $"{what}, value {i + 1} of {types.Length}");
    }

    private void Apply(StackEffect effect)
    {
        PopTypes(effect.Pops, "operand");
        PushTypes(effect.Pushes);
    }

    private void CheckHeight(in ControlFrame frame, string what)
    {
        if (_stackCount != frame.Height)
        {
            int extra = _stackCount - frame.Height;
            throw Fail($"{extra} value(s) {WasmValueTypes.Names(_stack.AsSpan(frame.Height, extra))} left on the operand stack below {what} {WasmValueTypes.Names(frame.Results)}");
        }
    }

    private void SetUnreachable()
    {
        ref ControlFrame frame = ref _frames[_frameCount - 1];
        _stackCount = frame.Height;
        frame.Unreachable = true;
    }

    private void CheckLocal(WasmLocal local, string paramName)
    {
        if (local.Owner != this)
            throw Fault(new ArgumentException(local.Owner is null
                ? $"Wasm function '{Name}': default(WasmLocal) is no local; use Param or DeclareLocal."
                : $"Wasm function '{Name}': {local} belongs to function '{local.Owner.Name}'.", paramName));
    }

    private void CheckLane(string name, byte lane, int laneCount)
    {
        if (lane >= laneCount)
            throw Fault(new ArgumentOutOfRangeException(nameof(lane), lane, $"Wasm function '{Name}', {name}: lane index must be below {laneCount}."));
    }

    private uint AlignmentExponent(string name, uint naturalAlignment, uint alignment)
    {
        if (alignment == 0)
            alignment = naturalAlignment;
        if (!uint.IsPow2(alignment) || alignment > naturalAlignment)
            throw Fault(new ArgumentOutOfRangeException(nameof(alignment), alignment,
                $"Wasm function '{Name}', {name}: the alignment hint must be a power of two no larger than the natural alignment {naturalAlignment} (0 for natural)."));
        return (uint)System.Numerics.BitOperations.Log2(alignment);
    }

    private void CheckForArguments(WasmLocal counter, int step)
    {
        CheckLocal(counter, nameof(counter));
        if (counter.Type != WasmValueType.I32)
            throw Fault(new ArgumentException($"Wasm function '{Name}': the loop counter must be an i32 local, not {WasmValueTypes.Name(counter.Type)}.", nameof(counter)));
        if (step <= 0)
            throw Fault(new ArgumentOutOfRangeException(nameof(step), step, $"Wasm function '{Name}': the loop step must be positive."));
    }

    private WasmForLoop OpenFor(WasmLocal counter, WasmLocal? limitLocal, int limitConstant, int step)
    {
        WasmLabel breakLabel = Block();
        LocalGet(counter);
        PushLimit(limitLocal, limitConstant);
        I32GeU().BrIf(breakLabel);
        WasmLabel top = Loop();
        WasmLabel continueLabel = Block();
        return new WasmForLoop(breakLabel, top, continueLabel, counter, limitLocal, limitConstant, step);
    }

    private void PushLimit(WasmLocal? limitLocal, int limitConstant)
    {
        if (limitLocal is { } limit)
            LocalGet(limit);
        else
            I32Const(limitConstant);
    }

    private static string KindName(FrameKind kind) => kind switch
    {
        FrameKind.Function => "function body",
        FrameKind.Block => "block",
        FrameKind.Loop => "loop",
        FrameKind.If => "if",
        _ => "if-else",
    };
}

/// <summary>The operand types an instruction pops (in stack order, deepest first) and pushes.</summary>
internal sealed class StackEffect(WasmValueType[] pops, WasmValueType[] pushes)
{
    public WasmValueType[] Pops { get; } = pops;

    public WasmValueType[] Pushes { get; } = pushes;
}
