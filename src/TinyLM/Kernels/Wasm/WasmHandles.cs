namespace TinyLM.Kernels.Wasm;

/// <summary>
/// A parameter or local variable of one function, from <see cref="WasmFunctionBuilder.Param"/> or
/// <see cref="WasmFunctionBuilder.DeclareLocal"/>. Using it in another function throws.
/// </summary>
public readonly struct WasmLocal
{
    internal WasmLocal(WasmFunctionBuilder owner, uint index, WasmValueType type)
    {
        Owner = owner;
        Index = index;
        Type = type;
    }

    /// <summary>Local index: parameters first (0, 1, ...), then declared locals in declaration order.</summary>
    public uint Index { get; }

    /// <summary>The variable's type.</summary>
    public WasmValueType Type { get; }

    internal WasmFunctionBuilder? Owner { get; }

    /// <summary>E.g. <c>local 3 (f32)</c>.</summary>
    public override string ToString() => $"local {Index} ({WasmValueTypes.Name(Type)})";
}

/// <summary>
/// An open <c>block</c>, <c>loop</c> or <c>if</c>, from <see cref="WasmFunctionBuilder.Block()"/>,
/// <see cref="WasmFunctionBuilder.Loop()"/> or <see cref="WasmFunctionBuilder.If()"/>: the target of
/// <see cref="WasmFunctionBuilder.Br"/> and <see cref="WasmFunctionBuilder.BrIf"/>, which compute the
/// relative depth from it. A branch to a <c>loop</c> jumps back to its start; to a <c>block</c> or
/// <c>if</c>, past its <c>end</c>. Disposing it emits that <c>end</c>, so
/// <c>using (var loop = f.Loop()) { ... f.BrIf(loop); }</c> closes the loop where the C# scope
/// closes; <see cref="WasmFunctionBuilder.End(WasmLabel)"/> does the same explicitly. Either throws
/// when the label is not the innermost open block.
/// </summary>
public readonly struct WasmLabel : IDisposable
{
    internal WasmLabel(WasmFunctionBuilder owner, int depth, int id)
    {
        Owner = owner;
        Depth = depth;
        Id = id;
    }

    internal WasmFunctionBuilder? Owner { get; }

    /// <summary>Index in the control stack: 0 is the function body.</summary>
    internal int Depth { get; }

    internal int Id { get; }

    /// <summary>
    /// Emits the <c>end</c> of this block (see <see cref="WasmFunctionBuilder.End(WasmLabel)"/>); does
    /// nothing when the function is already faulted by an exception, so that exception is not hidden.
    /// </summary>
    public void Dispose() => Owner?.EndFromDispose(this);
}

/// <summary>
/// A counted loop from <see cref="WasmFunctionBuilder.For(WasmLocal, WasmLocal, int)"/>:
/// <c>while (counter &lt; limit) { body; counter += step; }</c> with an unsigned comparison. Its
/// <see cref="Break"/> label leaves the loop and <see cref="Continue"/> skips to the increment.
/// Disposing it emits the increment, the test and the closing <c>end</c>s.
/// </summary>
public readonly struct WasmForLoop : IDisposable
{
    internal WasmForLoop(WasmLabel breakLabel, WasmLabel top, WasmLabel continueLabel, WasmLocal counter, WasmLocal? limitLocal, int limitConstant, int step)
    {
        Break = breakLabel;
        Top = top;
        Continue = continueLabel;
        Counter = counter;
        LimitLocal = limitLocal;
        LimitConstant = limitConstant;
        Step = step;
    }

    /// <summary>Branch here (<c>br</c>/<c>br_if</c>) to leave the loop.</summary>
    public WasmLabel Break { get; }

    /// <summary>Branch here to skip the rest of the body and go on with the next iteration.</summary>
    public WasmLabel Continue { get; }

    /// <summary>The i32 counter.</summary>
    public WasmLocal Counter { get; }

    internal WasmLabel Top { get; }

    internal WasmLocal? LimitLocal { get; }

    internal int LimitConstant { get; }

    internal int Step { get; }

    /// <summary>Closes the loop (see <see cref="WasmFunctionBuilder.EndFor"/>); does nothing when the function is faulted.</summary>
    public void Dispose() => Continue.Owner?.EndForFromDispose(this);
}

/// <summary>
/// A function of a module: imported (<see cref="WasmModuleBuilder.ImportFunction"/>) or defined
/// (<see cref="WasmModuleBuilder.AddFunction(string, WasmFunctionType, bool)"/>). The operand of <see cref="WasmFunctionBuilder.Call"/>.
/// </summary>
public sealed class WasmFunction
{
    internal WasmFunction(WasmModuleBuilder module, uint index, string name, WasmFunctionType signature)
    {
        Module = module;
        Index = index;
        Name = name;
        Signature = signature;
    }

    /// <summary>Index in the module's function index space (imports first).</summary>
    public uint Index { get; }

    /// <summary>Name for diagnostics and the name section (the field name for an import).</summary>
    public string Name { get; }

    /// <summary>The signature.</summary>
    public WasmFunctionType Signature { get; }

    internal WasmModuleBuilder Module { get; }

    /// <summary>E.g. <c>dot_i8 (function 2)</c>.</summary>
    public override string ToString() => $"{Name} (function {Index})";
}

/// <summary>
/// The limits of a linear memory (core spec 2.0, 2.3.8 "Memory Types", with the threads proposal's
/// shared flag), in 64 KiB pages.
/// </summary>
/// <param name="MinimumPages">Initial size in pages; an imported memory must be at least this large.</param>
/// <param name="MaximumPages">Largest size in pages, or null for none. Required when
/// <paramref name="Shared"/>. An import with a maximum accepts only memories declaring a maximum no
/// larger than it, so a module importing the .NET runtime's memory must give none.</param>
/// <param name="Shared">A shared memory (<c>SharedArrayBuffer</c>), usable from several workers with
/// atomics; the imported memory must be shared too, and non-shared memories only match non-shared imports.</param>
public readonly record struct WasmMemoryType(uint MinimumPages, uint? MaximumPages, bool Shared)
{
    /// <summary>Bytes in a page.</summary>
    public const int PageSize = 65536;

    /// <summary>Most pages of a 32-bit memory (4 GiB).</summary>
    public const uint MaxPages = 65536;
}
