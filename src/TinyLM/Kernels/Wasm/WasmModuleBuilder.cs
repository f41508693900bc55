namespace TinyLM.Kernels.Wasm;

/// <summary>
/// Builds a WebAssembly binary module (core spec 2.0 with fixed-width SIMD and the threads
/// proposal's shared memory and atomics): function types, imports (a memory, functions), defined
/// functions with their code, exports, data segments and an optional name section.
/// </summary>
/// <remarks>
/// <para>Usage: import or define the memory, import functions, then add functions and emit their
/// bodies with <see cref="WasmFunctionBuilder"/>, then call <see cref="ToArray"/>. JavaScript
/// compiles the bytes with <c>WebAssembly.compile</c> and instantiates them with
/// <c>{ env: { memory } }</c>.</para>
/// <code>
/// var module = new WasmModuleBuilder();
/// module.ImportMemory("env", "memory", new WasmMemoryType(1, 256, Shared: true));
/// WasmFunctionBuilder add = module.AddFunction("add", [WasmValueType.I32, WasmValueType.I32], [WasmValueType.I32]);
/// add.LocalGet(add.Param(0)).LocalGet(add.Param(1)).I32Add();
/// byte[] wasm = module.ToArray();
/// </code>
/// <para>Every instruction is type-checked as it is emitted (the validation algorithm of the core
/// spec's appendix), so a module that <see cref="ToArray"/> returns passes
/// <c>WebAssembly.validate</c>; mistakes throw <see cref="WasmValidationException"/> naming the
/// function and instruction. Building is single-threaded; a builder is not thread-safe.</para>
/// </remarks>
public sealed class WasmModuleBuilder
{
    private const uint Magic = 0x6D736100; // "\0asm"
    private const uint Version = 1;

    private readonly List<WasmFunctionType> _types = [];
    private readonly Dictionary<WasmFunctionType, uint> _typeIndex = [];
    private readonly List<(string Module, string Name, WasmFunction Function)> _functionImports = [];
    private readonly List<WasmFunctionBuilder> _functions = [];
    private readonly List<(string Name, byte Kind, uint Index)> _exports = [];
    private readonly HashSet<string> _exportNames = new(StringComparer.Ordinal);
    private readonly List<(uint Offset, byte[] Bytes)> _data = [];
    private (string Module, string Name)? _memoryImport;

    /// <summary>The memory (imported or defined), or null before <see cref="ImportMemory"/>/<see cref="DefineMemory"/>.</summary>
    public WasmMemoryType? Memory { get; private set; }

    /// <summary>Whether <see cref="ToArray"/> appends a <c>name</c> custom section with the function
    /// names, which V8 shows in stack traces and traps (default true; it has no effect on execution).</summary>
    public bool IncludeNames { get; set; } = true;

    /// <summary>Number of functions, imported and defined.</summary>
    public int FunctionCount => _functionImports.Count + _functions.Count;

    /// <summary>
    /// Imports the module's linear memory (index 0), e.g. <c>ImportMemory("env", "memory", ...)</c>.
    /// Declare it before emitting memory instructions.
    /// </summary>
    /// <param name="module">Import module name (<c>env</c> for TinyLM kernels).</param>
    /// <param name="name">Import field name (<c>memory</c>).</param>
    /// <param name="limits">Limits the provided memory must satisfy; see <see cref="WasmMemoryType"/>.</param>
    /// <exception cref="InvalidOperationException">The module already has a memory.</exception>
    /// <exception cref="ArgumentException">Invalid limits (see <see cref="DefineMemory"/>).</exception>
    public void ImportMemory(string module, string name, WasmMemoryType limits)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        SetMemory(limits);
        _memoryImport = (module, name);
    }

    /// <summary>Defines the module's own linear memory (index 0); export it with <see cref="ExportMemory"/> to reach it from JavaScript.</summary>
    /// <param name="limits">Size limits in 64 KiB pages.</param>
    /// <exception cref="InvalidOperationException">The module already has a memory.</exception>
    /// <exception cref="ArgumentException">Minimum above maximum, a size above 65536 pages, or a
    /// shared memory without maximum (the threads proposal requires one).</exception>
    public void DefineMemory(WasmMemoryType limits) => SetMemory(limits);

    /// <summary>Exports the memory (imported or defined).</summary>
    /// <param name="name">Export name.</param>
    /// <exception cref="InvalidOperationException">No memory yet.</exception>
    /// <exception cref="ArgumentException">The export name is taken.</exception>
    public void ExportMemory(string name)
    {
        if (Memory is null)
            throw new InvalidOperationException("The module has no memory to export: call ImportMemory or DefineMemory first.");
        AddExport(name, 0x02, 0);
    }

    /// <summary>
    /// Imports a function. All imports come before <see cref="AddFunction(string, WasmFunctionType, bool)"/>: imported functions take
    /// the first indices of the function index space.
    /// </summary>
    /// <param name="module">Import module name.</param>
    /// <param name="name">Import field name; also the function's diagnostic name.</param>
    /// <param name="signature">The function's type.</param>
    /// <returns>The handle to <see cref="WasmFunctionBuilder.Call"/>.</returns>
    /// <exception cref="InvalidOperationException">A function was already added.</exception>
    public WasmFunction ImportFunction(string module, string name, WasmFunctionType signature)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(signature);
        if (_functions.Count > 0)
            throw new InvalidOperationException($"Import function '{module}.{name}' before adding functions: imports take the first function indices.");
        GetTypeIndex(signature);
        var function = new WasmFunction(this, (uint)_functionImports.Count, name, signature);
        _functionImports.Add((module, name, function));
        return function;
    }

    /// <summary>Adds a function and returns the builder of its body.</summary>
    /// <param name="name">Name for diagnostics and the name section; the export name when <paramref name="export"/>.</param>
    /// <param name="parameters">Parameter types: locals 0.. of the body.</param>
    /// <param name="results">Result types, left on the operand stack when the body ends.</param>
    /// <param name="export">Export the function under <paramref name="name"/>.</param>
    /// <exception cref="ArgumentException">The export name is taken, or a type is undefined.</exception>
    public WasmFunctionBuilder AddFunction(string name, ReadOnlySpan<WasmValueType> parameters, ReadOnlySpan<WasmValueType> results, bool export = true) =>
        AddFunction(name, new WasmFunctionType(parameters, results), export);

    /// <summary>The <see cref="WasmFunctionBuilder.HoistConstants"/> of the functions added from now on.</summary>
    public bool HoistConstants { get; set; }

    /// <summary>Adds a function of the given signature and returns the builder of its body.</summary>
    /// <param name="name">Name for diagnostics and the name section; the export name when <paramref name="export"/>.</param>
    /// <param name="signature">The function's type.</param>
    /// <param name="export">Export the function under <paramref name="name"/>.</param>
    /// <exception cref="ArgumentException">The export name is taken.</exception>
    public WasmFunctionBuilder AddFunction(string name, WasmFunctionType signature, bool export = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(signature);
        if (export && _exportNames.Contains(name))
            throw new ArgumentException($"Export name '{name}' is already used.", nameof(name));
        GetTypeIndex(signature);
        var function = new WasmFunction(this, (uint)(_functionImports.Count + _functions.Count), name, signature);
        var builder = new WasmFunctionBuilder(this, function) { HoistConstants = HoistConstants };
        _functions.Add(builder);
        if (export)
            AddExport(name, 0x00, function.Index);
        return builder;
    }

    /// <summary>Exports a function (again) under another name.</summary>
    /// <param name="function">A function of this module.</param>
    /// <param name="name">Export name.</param>
    /// <exception cref="ArgumentException">The function belongs to another module, or the name is taken.</exception>
    public void ExportFunction(WasmFunction function, string name)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (function.Module != this)
            throw new ArgumentException($"Function '{function.Name}' belongs to another module.", nameof(function));
        AddExport(name, 0x00, function.Index);
    }

    /// <summary>
    /// Adds an active data segment: <paramref name="bytes"/> are copied to memory at
    /// <paramref name="offset"/> on every instantiation (so each worker instantiating a module on a
    /// shared memory writes them again).
    /// </summary>
    /// <param name="offset">Byte address in the memory.</param>
    /// <param name="bytes">Contents, copied now.</param>
    /// <exception cref="InvalidOperationException">No memory yet.</exception>
    /// <exception cref="ArgumentException">The segment ends beyond the memory's minimum size (instantiation would fail).</exception>
    public void AddData(uint offset, ReadOnlySpan<byte> bytes)
    {
        if (Memory is not { } memory)
            throw new InvalidOperationException("A data segment needs a memory: call ImportMemory or DefineMemory first.");
        if ((ulong)offset + (ulong)bytes.Length > (ulong)memory.MinimumPages * WasmMemoryType.PageSize)
            throw new ArgumentException($"Data segment [{offset}, {(ulong)offset + (ulong)bytes.Length}) ends beyond the memory's minimum of {memory.MinimumPages} pages.", nameof(bytes));
        _data.Add((offset, bytes.ToArray()));
    }

    /// <summary>Encodes the module.</summary>
    /// <returns>The binary module (magic <c>00 61 73 6D</c>, version 1, sections in the spec's order).</returns>
    /// <exception cref="WasmValidationException">A function body is incomplete: a block is still open, or the operand stack does not match the results.</exception>
    /// <exception cref="InvalidOperationException">A function was faulted by an earlier exception.</exception>
    public byte[] ToArray()
    {
        var output = new WasmBinaryWriter(1024);
        Write(output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Encodes the module to a stream.</summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <exception cref="WasmValidationException">A function body is incomplete.</exception>
    /// <exception cref="InvalidOperationException">A function was faulted by an earlier exception.</exception>
    public void WriteTo(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var output = new WasmBinaryWriter(1024);
        Write(output);
        destination.Write(output.WrittenSpan);
    }

    internal uint GetTypeIndex(WasmFunctionType signature)
    {
        if (_typeIndex.TryGetValue(signature, out uint index))
            return index;
        index = (uint)_types.Count;
        _types.Add(signature);
        _typeIndex.Add(signature, index);
        return index;
    }

    private void SetMemory(WasmMemoryType limits)
    {
        if (Memory is not null)
            throw new InvalidOperationException("The module already has a memory (WebAssembly 2.0 allows one).");
        if (limits.MinimumPages > WasmMemoryType.MaxPages)
            throw new ArgumentException($"Minimum {limits.MinimumPages} pages exceeds {WasmMemoryType.MaxPages}.", nameof(limits));
        if (limits.MaximumPages is uint max)
        {
            if (max > WasmMemoryType.MaxPages)
                throw new ArgumentException($"Maximum {max} pages exceeds {WasmMemoryType.MaxPages}.", nameof(limits));
            if (max < limits.MinimumPages)
                throw new ArgumentException($"Maximum {max} pages is below the minimum {limits.MinimumPages}.", nameof(limits));
        }
        else if (limits.Shared)
        {
            throw new ArgumentException("A shared memory needs a maximum size (threads proposal).", nameof(limits));
        }
        Memory = limits;
    }

    private void AddExport(string name, byte kind, uint index)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_exportNames.Add(name))
            throw new ArgumentException($"Export name '{name}' is already used.", nameof(name));
        _exports.Add((name, kind, index));
    }

    private void Write(WasmBinaryWriter output)
    {
        // Finish bodies first: a block type may add a type after the type section is written otherwise.
        var bodies = new WasmBinaryWriter[_functions.Count];
        for (int i = 0; i < _functions.Count; i++)
        {
            bodies[i] = new WasmBinaryWriter(_functions[i].CodeLength + 16);
            _functions[i].WriteBody(bodies[i]);
        }

        output.WriteBytes([0x00, 0x61, 0x73, 0x6D]);
        output.WriteBytes([(byte)Version, 0, 0, 0]);
        var section = new WasmBinaryWriter();

        if (_types.Count > 0)
        {
            section.Clear();
            section.WriteU32((uint)_types.Count);
            foreach (WasmFunctionType type in _types)
            {
                section.WriteByte(0x60);
                WriteValueTypes(section, type.Parameters);
                WriteValueTypes(section, type.Results);
            }
            WriteSection(output, 1, section);
        }

        int importCount = _functionImports.Count + (_memoryImport is null ? 0 : 1);
        if (importCount > 0)
        {
            section.Clear();
            section.WriteU32((uint)importCount);
            foreach ((string module, string name, WasmFunction function) in _functionImports)
            {
                section.WriteName(module);
                section.WriteName(name);
                section.WriteByte(0x00);
                section.WriteU32(GetTypeIndex(function.Signature));
            }
            if (_memoryImport is (string memoryModule, string memoryName))
            {
                section.WriteName(memoryModule);
                section.WriteName(memoryName);
                section.WriteByte(0x02);
                WriteLimits(section, Memory!.Value);
            }
            WriteSection(output, 2, section);
        }

        if (_functions.Count > 0)
        {
            section.Clear();
            section.WriteU32((uint)_functions.Count);
            foreach (WasmFunctionBuilder function in _functions)
                section.WriteU32(GetTypeIndex(function.Function.Signature));
            WriteSection(output, 3, section);
        }

        if (Memory is { } memory && _memoryImport is null)
        {
            section.Clear();
            section.WriteU32(1);
            WriteLimits(section, memory);
            WriteSection(output, 5, section);
        }

        if (_exports.Count > 0)
        {
            section.Clear();
            section.WriteU32((uint)_exports.Count);
            foreach ((string name, byte kind, uint index) in _exports)
            {
                section.WriteName(name);
                section.WriteByte(kind);
                section.WriteU32(index);
            }
            WriteSection(output, 7, section);
        }

        if (_functions.Count > 0)
        {
            section.Clear();
            section.WriteU32((uint)_functions.Count);
            foreach (WasmBinaryWriter body in bodies)
                section.WriteSized(body);
            WriteSection(output, 10, section);
        }

        if (_data.Count > 0)
        {
            section.Clear();
            section.WriteU32((uint)_data.Count);
            foreach ((uint offset, byte[] bytes) in _data)
            {
                section.WriteByte(0x00); // active, memory 0
                section.WriteByte(0x41); // i32.const offset
                section.WriteSigned((int)offset);
                section.WriteByte(0x0B);
                section.WriteU32((uint)bytes.Length);
                section.WriteBytes(bytes);
            }
            WriteSection(output, 11, section);
        }

        if (IncludeNames && FunctionCount > 0)
        {
            var names = new WasmBinaryWriter();
            names.WriteU32((uint)FunctionCount);
            foreach ((_, _, WasmFunction function) in _functionImports)
            {
                names.WriteU32(function.Index);
                names.WriteName(function.Name);
            }
            foreach (WasmFunctionBuilder function in _functions)
            {
                names.WriteU32(function.Function.Index);
                names.WriteName(function.Function.Name);
            }
            section.Clear();
            section.WriteName("name");
            section.WriteByte(1); // subsection: function names
            section.WriteSized(names);
            WriteSection(output, 0, section);
        }
    }

    private static void WriteSection(WasmBinaryWriter output, byte id, WasmBinaryWriter content)
    {
        output.WriteByte(id);
        output.WriteSized(content);
    }

    private static void WriteValueTypes(WasmBinaryWriter output, ReadOnlySpan<WasmValueType> types)
    {
        output.WriteU32((uint)types.Length);
        foreach (WasmValueType t in types)
            output.WriteByte((byte)t);
    }

    private static void WriteLimits(WasmBinaryWriter output, WasmMemoryType limits)
    {
        // 0x00 min | 0x01 min max | 0x03 min max (shared)
        if (limits.MaximumPages is uint max)
        {
            output.WriteByte(limits.Shared ? (byte)0x03 : (byte)0x01);
            output.WriteU32(limits.MinimumPages);
            output.WriteU32(max);
        }
        else
        {
            output.WriteByte(0x00);
            output.WriteU32(limits.MinimumPages);
        }
    }
}
