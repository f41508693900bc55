using TinyLM.Kernels.Wasm;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>Module layout byte for byte against encodings derived by hand from the core spec's binary format (chapter 5).</summary>
public class WasmModuleEncodingTests
{
    private static readonly byte[] Header = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00];

    [Fact]
    public void EmptyModule_IsMagicAndVersion() =>
        Assert.Equal(Header, new WasmModuleBuilder().ToArray());

    [Fact]
    public void AddModule_MatchesHandEncoding()
    {
        var module = new WasmModuleBuilder { IncludeNames = false };
        WasmFunctionBuilder add = module.AddFunction("add", [I32, I32], [I32]);
        add.LocalGet(add.Param(0)).LocalGet(add.Param(1)).I32Add();

        byte[] expected =
        [
            .. Header,
            0x01, 0x07, 0x01, 0x60, 0x02, 0x7F, 0x7F, 0x01, 0x7F,   // type section: [(i32 i32) -> (i32)]
            0x03, 0x02, 0x01, 0x00,                                 // function section: function 0 has type 0
            0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00,   // export section: "add" = function 0
            0x0A, 0x09, 0x01, 0x07, 0x00,                           // code section: 1 body of 7 bytes, no locals
            0x20, 0x00, 0x20, 0x01, 0x6A, 0x0B,                     // local.get 0, local.get 1, i32.add, end
        ];
        Assert.Equal(expected, module.ToArray());
    }

    [Fact]
    public void NameSection_ListsFunctionNames()
    {
        var module = new WasmModuleBuilder();
        WasmFunctionBuilder add = module.AddFunction("add", [I32, I32], [I32]);
        add.LocalGet(add.Param(0)).LocalGet(add.Param(1)).I32Add();
        byte[] bytes = module.ToArray();
        byte[] nameSection = [0x00, 0x0D, 0x04, 0x6E, 0x61, 0x6D, 0x65, 0x01, 0x06, 0x01, 0x00, 0x03, 0x61, 0x64, 0x64];
        Assert.Equal(nameSection, bytes[^nameSection.Length..]);
    }

    [Fact]
    public void SharedMemoryImport_HasFlag3AndMaximum()
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", new WasmMemoryType(1, 2, Shared: true));
        byte[] expected =
        [
            .. Header,
            0x02, 0x10, 0x01,                                       // import section, 16 bytes, 1 import
            0x03, 0x65, 0x6E, 0x76, 0x06, 0x6D, 0x65, 0x6D, 0x6F, 0x72, 0x79, // "env" "memory"
            0x02, 0x03, 0x01, 0x02,                                 // memory, limits: shared, min 1, max 2
        ];
        Assert.Equal(expected, module.ToArray());
    }

    [Theory]
    [InlineData(3u, null, false, new byte[] { 0x00, 0x03 })]
    [InlineData(3u, 300u, false, new byte[] { 0x01, 0x03, 0xAC, 0x02 })]
    [InlineData(0u, 65536u, true, new byte[] { 0x03, 0x00, 0x80, 0x80, 0x04 })]
    public void MemoryLimits_AreEncodedPerFlag(uint min, uint? max, bool shared, byte[] limits)
    {
        var module = new WasmModuleBuilder();
        module.DefineMemory(new WasmMemoryType(min, max, shared));
        module.ExportMemory("mem");
        byte[] expected =
        [
            .. Header,
            0x05, (byte)(1 + limits.Length), 0x01, .. limits,       // memory section
            0x07, 0x07, 0x01, 0x03, 0x6D, 0x65, 0x6D, 0x02, 0x00,   // export "mem" = memory 0
        ];
        Assert.Equal(expected, module.ToArray());
    }

    [Fact]
    public void EqualSignatures_ShareOneType_AndLocalsAreRunLengthEncoded()
    {
        var module = new WasmModuleBuilder { IncludeNames = false };
        WasmFunctionBuilder f = module.AddFunction("f", [], [], export: false);
        f.DeclareLocal(I32);
        f.DeclareLocal(I32);
        f.DeclareLocal(F32);
        WasmLocal last = f.DeclareLocal(I32);
        Assert.Equal(3u, last.Index);
        module.AddFunction("g", [], [], export: false);
        byte[] expected =
        [
            .. Header,
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                     // one type [] -> []
            0x03, 0x03, 0x02, 0x00, 0x00,                           // two functions of type 0
            0x0A, 0x0D, 0x02,                                       // code section (13 bytes), 2 bodies
            0x08, 0x03, 0x02, 0x7F, 0x01, 0x7D, 0x01, 0x7F, 0x0B,   // 3 local runs: 2 i32, 1 f32, 1 i32; end
            0x02, 0x00, 0x0B,                                       // no locals; end
        ];
        Assert.Equal(expected, module.ToArray());
    }

    [Fact]
    public void DataSegment_IsActiveAtConstantOffset()
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", new WasmMemoryType(1, null, false));
        module.AddData(200, [1, 2, 3]);
        byte[] bytes = module.ToArray();
        byte[] data = [0x0B, 0x0A, 0x01, 0x00, 0x41, 0xC8, 0x01, 0x0B, 0x03, 0x01, 0x02, 0x03];
        Assert.Equal(data, bytes[^data.Length..]);
    }

    [Fact]
    public void FunctionImports_PrecedeDefinedFunctions()
    {
        var module = new WasmModuleBuilder { IncludeNames = false };
        var unary = new WasmFunctionType([I32], [I32]);
        WasmFunction host = module.ImportFunction("env", "f", unary);
        WasmFunctionBuilder g = module.AddFunction("g", unary);
        Assert.Equal(0u, host.Index);
        Assert.Equal(1u, g.Function.Index);
        g.LocalGet(g.Param(0)).Call(host);
        byte[] bytes = module.ToArray();
        byte[] imports = [0x02, 0x09, 0x01, 0x03, 0x65, 0x6E, 0x76, 0x01, 0x66, 0x00, 0x00];
        Assert.Equal(imports, bytes[(8 + 8)..(8 + 8 + imports.Length)]);
        byte[] body = [0x20, 0x00, 0x10, 0x00, 0x0B];
        Assert.Equal(body, bytes[^body.Length..]);
    }

    [Fact]
    public void BlockTypes_UseEmptyValueTypeOrTypeIndex()
    {
        var module = new WasmModuleBuilder();
        WasmFunctionBuilder f = module.AddFunction("f", [], [I32]);
        var pair = new WasmFunctionType([I32], [I32, I32]);
        f.Unreachable();
        int start = f.CodeLength;
        f.Block();
        f.End();
        f.Block(F64);
        f.F64Const(0).End().Drop();
        f.I32Const(7);
        using (f.Block(pair))
            f.LocalGet(f.DeclareLocal(I32));
        f.I32Add();
        byte[] expected =
        [
            0x02, 0x40, 0x0B,
            0x02, 0x7C, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0B, 0x1A,
            0x41, 0x07,
            0x02, 0x01, 0x20, 0x00, 0x0B,                           // block (type 1): type 0 is the function's
            0x6A,
        ];
        Assert.Equal(expected, f.CodeBytes[start..].ToArray());
        Assert.Equal(2, module.ToArray().Count(b => b == 0x60));
    }

    [Fact]
    public void Constants_AreSignedLeb128AndLittleEndianIeee()
    {
        var module = new WasmModuleBuilder();
        WasmFunctionBuilder f = module.AddFunction("f", [], []);
        f.I32Const(-1).I32Const(int.MinValue).I64Const(long.MaxValue).F32Const(-0f).F64Const(1.0)
            .V128Const(System.Runtime.Intrinsics.Vector128.Create(1, 2, 3, 4));
        byte[] expected =
        [
            0x41, 0x7F,
            0x41, 0x80, 0x80, 0x80, 0x80, 0x78,
            0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
            0x43, 0x00, 0x00, 0x00, 0x80,
            0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F,
            0xFD, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0,
        ];
        Assert.Equal(expected, f.CodeBytes.ToArray());
    }

    [Fact]
    public void HoistConstants_LoopConstantsReadLocalsSetOnEntry()
    {
        var module = new WasmModuleBuilder { HoistConstants = true };
        WasmFunctionBuilder f = module.AddFunction("f", [], []);
        WasmLocal v = f.DeclareLocal(V128);
        var mask = System.Runtime.Intrinsics.Vector128.Create((byte)0x0F);
        f.V128Const(mask).LocalSet(v);   // outside a loop: encoded in place
        using (f.Loop())
        {
            f.V128Const(mask).LocalSet(v);
            f.V128Const(System.Runtime.Intrinsics.Vector128.Create(1, 2, 3, 4)).LocalSet(v);
            f.V128Const(mask).LocalSet(v);   // the same local again
            f.V128Const(System.Runtime.Intrinsics.Vector128<int>.Zero).LocalSet(v);   // zeros and ones stay constants
            f.V128Const(System.Runtime.Intrinsics.Vector128<int>.AllBitsSet).LocalSet(v);
        }
        byte[] zeros = new byte[16], ones = Enumerable.Repeat((byte)0xFF, 16).ToArray();
        byte[] body =
        [
            0xFD, 0x0C, .. Enumerable.Repeat((byte)0x0F, 16), 0x21, 0x00,
            0x03, 0x40,
            0x20, 0x01, 0x21, 0x00,
            0x20, 0x02, 0x21, 0x00,
            0x20, 0x01, 0x21, 0x00,
            0xFD, 0x0C, .. zeros, 0x21, 0x00,
            0xFD, 0x0C, .. ones, 0x21, 0x00,
            0x0B,
        ];
        Assert.Equal(body, f.CodeBytes.ToArray());
        Assert.Equal(3, f.LocalCount);   // v and the two hoisted constants
        byte[] encoded = module.ToArray();
        // on entry: i64.const 0x0F0F0F0F0F0F0F0F, i64x2.splat, local.set 1; i64.const 0x200000001, i64x2.splat,
        // i64.const 0x400000003, i64x2.replace_lane 1, local.set 2; then the body
        byte[] prologue =
        [
            0x42, .. Leb(0x0F0F0F0F0F0F0F0F), 0xFD, 0x12, 0x21, 0x01,
            0x42, .. Leb(0x0000000200000001), 0xFD, 0x12, 0x42, .. Leb(0x0000000400000003), 0xFD, 0x1E, 0x01, 0x21, 0x02,
        ];
        Assert.True(encoded.AsSpan().IndexOf([.. prologue, .. body]) > 0);

        static byte[] Leb(long value) => Leb128.Signed(value);
    }

    [Fact]
    public void WriteTo_WritesTheSameBytesAsToArray()
    {
        var module = new WasmModuleBuilder();
        module.ImportMemory("env", "memory", new WasmMemoryType(1, 1, true));
        WasmFunctionBuilder f = module.AddFunction("f", [I32], [I32]);
        f.LocalGet(f.Param(0)).I32AtomicLoad();
        using var stream = new MemoryStream();
        module.WriteTo(stream);
        Assert.Equal(module.ToArray(), stream.ToArray());
    }
}
