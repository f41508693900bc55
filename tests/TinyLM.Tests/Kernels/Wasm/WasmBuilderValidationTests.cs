using System.Runtime.Intrinsics;
using TinyLM.Kernels.Wasm;
using static TinyLM.Kernels.Wasm.WasmValueType;

namespace TinyLM.Tests.Kernels.Wasm;

/// <summary>Invalid constructions are rejected by the builder with exceptions naming the function and instruction.</summary>
public class WasmBuilderValidationTests
{
    private static (WasmModuleBuilder Module, WasmFunctionBuilder F) NewFunction(WasmValueType[]? results = null, bool memory = true, bool shared = true)
    {
        var module = new WasmModuleBuilder();
        if (memory)
            module.ImportMemory("env", "memory", new WasmMemoryType(1, shared ? 1u : null, shared));
        return (module, module.AddFunction("kernel", [I32, F32], results ?? []));
    }

    [Fact]
    public void OperandOfWrongType_NamesFunctionInstructionAndTypes()
    {
        var (_, f) = NewFunction();
        f.LocalGet(f.Param(0)).LocalGet(f.Param(1));
        var e = Assert.Throws<WasmValidationException>(() => f.I32Add());
        Assert.Equal("kernel", e.FunctionName);
        Assert.Equal(2, e.InstructionIndex);
        Assert.Equal("i32.add", e.Instruction);
        Assert.Contains("expected i32", e.Message);
        Assert.Contains("found f32", e.Message);
        Assert.StartsWith("Wasm function 'kernel', instruction 2 (i32.add):", e.Message);
    }

    [Fact]
    public void EmptyOperandStack_IsRejected()
    {
        var (_, f) = NewFunction();
        var e = Assert.Throws<WasmValidationException>(() => f.F32x4Add());
        Assert.Contains("empty", e.Reason);
    }

    [Fact]
    public void AfterAnError_TheFunctionIsFaulted()
    {
        var (module, f) = NewFunction();
        Assert.Throws<WasmValidationException>(() => f.Drop());
        Assert.Throws<InvalidOperationException>(() => f.Nop());
        Assert.Throws<InvalidOperationException>(() => module.ToArray());
    }

    [Fact]
    public void DisposingALabel_DoesNotHideTheOriginalException()
    {
        var (_, f) = NewFunction();
        var e = Assert.Throws<WasmValidationException>(() =>
        {
            using (f.Loop())
            {
                f.I32Const(1);
                f.F32Neg();
            }
        });
        Assert.Equal("f32.neg", e.Instruction);
    }

    [Fact]
    public void LocalOfAnotherFunction_IsRejected()
    {
        var (module, f) = NewFunction();
        WasmFunctionBuilder g = module.AddFunction("other", [I32], []);
        var e = Assert.Throws<ArgumentException>(() => f.LocalGet(g.Param(0)));
        Assert.Contains("belongs to function 'other'", e.Message);
        Assert.Throws<ArgumentException>(() => g.LocalSet(default));
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Param(2));
    }

    [Fact]
    public void LocalSetOfWrongType_IsRejected()
    {
        var (_, f) = NewFunction();
        WasmLocal v = f.DeclareLocal(V128);
        f.I32Const(0);
        var e = Assert.Throws<WasmValidationException>(() => f.LocalSet(v));
        Assert.Contains("expected v128", e.Message);
    }

    [Fact]
    public void BranchToAnEndedBlock_IsRejected()
    {
        var (_, f) = NewFunction();
        WasmLabel block = f.Block();
        f.End(block);
        var e = Assert.Throws<WasmValidationException>(() => f.Br(block));
        Assert.Contains("already ended", e.Reason);
    }

    [Fact]
    public void LabelOfAnotherFunction_IsRejected()
    {
        var (module, f) = NewFunction();
        WasmFunctionBuilder g = module.AddFunction("other", [], []);
        WasmLabel label = g.Block();
        Assert.Throws<ArgumentException>(() => f.Br(label));
        var (_, h) = NewFunction();
        Assert.Throws<ArgumentException>(() => h.Br(default));
    }

    [Fact]
    public void EndingAnOuterBlockFirst_IsRejected()
    {
        var (_, f) = NewFunction();
        WasmLabel outer = f.Block();
        f.Loop();
        var e = Assert.Throws<WasmValidationException>(() => f.End(outer));
        Assert.Contains("loop opened at instruction 1", e.Reason);
    }

    [Fact]
    public void EndWithoutOpenBlock_IsRejected()
    {
        var (_, f) = NewFunction();
        Assert.Throws<WasmValidationException>(() => f.End());
    }

    [Fact]
    public void UnclosedBlock_FailsWhenEncoding()
    {
        var (module, f) = NewFunction();
        f.Block();
        var e = Assert.Throws<WasmValidationException>(() => module.ToArray());
        Assert.Contains("block opened at instruction 0 is not closed", e.Reason);
    }

    [Fact]
    public void MissingOrExtraResults_FailWhenEncodingOrEnding()
    {
        var (module, f) = NewFunction(results: [F64]);
        Assert.Throws<WasmValidationException>(() => module.ToArray());

        var (module2, g) = NewFunction(results: [F64]);
        g.F64Const(1).F64Const(2);
        var e = Assert.Throws<WasmValidationException>(() => module2.ToArray());
        Assert.Contains("left on the operand stack", e.Reason);

        var (_, h) = NewFunction();
        h.Block();
        h.I32Const(1);
        Assert.Throws<WasmValidationException>(() => h.End());
    }

    [Fact]
    public void IfWithResultButNoElse_IsRejected()
    {
        var (_, f) = NewFunction();
        f.I32Const(1);
        f.If(I32);
        f.I32Const(2);
        var e = Assert.Throws<WasmValidationException>(() => f.End());
        Assert.Contains("Else()", e.Reason);
    }

    [Fact]
    public void ElseWithoutIf_IsRejected()
    {
        var (_, f) = NewFunction();
        f.Block();
        Assert.Throws<WasmValidationException>(() => f.Else());
        var (_, g) = NewFunction();
        g.I32Const(1);
        g.If();
        g.Else();
        Assert.Throws<WasmValidationException>(() => g.Else());
    }

    [Fact]
    public void SelectOfDifferentTypes_IsRejected()
    {
        var (_, f) = NewFunction();
        f.I32Const(1).F32Const(2).I32Const(0);
        Assert.Throws<WasmValidationException>(() => f.Select());
    }

    [Fact]
    public void UnreachableCode_AcceptsAnyOperands()
    {
        var (module, f) = NewFunction(results: [I32]);
        f.Unreachable().I32Add();
        module.ToArray();
    }

    [Fact]
    public void LaneIndexOutOfRange_IsRejected()
    {
        var (_, f) = NewFunction();
        f.V128Const(Vector128<int>.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.I32x4ExtractLane(4));
        var (_, g) = NewFunction();
        g.I32Const(0).V128Const(Vector128<int>.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => g.V128Load64Lane(2));
    }

    [Fact]
    public void ShuffleWithBadIndices_IsRejected()
    {
        var (_, f) = NewFunction();
        f.Unreachable();
        Assert.Throws<ArgumentException>(() => f.I8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 32]));
        var (_, g) = NewFunction();
        g.Unreachable();
        Assert.Throws<ArgumentException>(() => g.I8x16Shuffle([0, 1, 2]));
        var (_, h) = NewFunction();
        Assert.Throws<ArgumentException>(() => h.V128Const(new byte[15]));
    }

    [Theory]
    [InlineData(3u)]
    [InlineData(8u)]
    public void AlignmentHintAboveNaturalOrNotPowerOfTwo_IsRejected(uint alignment)
    {
        var (_, f) = NewFunction();
        f.I32Const(0);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => f.I32Load(alignment: alignment));
        Assert.Contains("i32.load", e.Message);
    }

    [Fact]
    public void MemoryInstructionWithoutMemory_IsRejected()
    {
        var (_, f) = NewFunction(memory: false);
        f.I32Const(0);
        var e = Assert.Throws<WasmValidationException>(() => f.V128Load());
        Assert.Contains("ImportMemory", e.Reason);
    }

    [Fact]
    public void WaitOnNonSharedMemory_IsRejected()
    {
        var (_, f) = NewFunction(shared: false);
        f.I32Const(0).I32Const(0).I64Const(0);
        var e = Assert.Throws<WasmValidationException>(() => f.MemoryAtomicWait32());
        Assert.Contains("not shared", e.Reason);
    }

    [Fact]
    public void InvalidMemoryLimits_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => new WasmModuleBuilder().ImportMemory("env", "memory", new WasmMemoryType(1, null, Shared: true)));
        Assert.Throws<ArgumentException>(() => new WasmModuleBuilder().DefineMemory(new WasmMemoryType(3, 2, false)));
        Assert.Throws<ArgumentException>(() => new WasmModuleBuilder().DefineMemory(new WasmMemoryType(65537, null, false)));
        var module = new WasmModuleBuilder();
        module.DefineMemory(new WasmMemoryType(1, null, false));
        Assert.Throws<InvalidOperationException>(() => module.ImportMemory("env", "memory", new WasmMemoryType(1, null, false)));
        Assert.Throws<ArgumentException>(() => module.AddData(65530, new byte[7]));
        Assert.Throws<InvalidOperationException>(() => new WasmModuleBuilder().ExportMemory("m"));
    }

    [Fact]
    public void ImportAfterFunction_AndDuplicateExports_AreRejected()
    {
        var module = new WasmModuleBuilder();
        module.AddFunction("f", [], []);
        Assert.Throws<InvalidOperationException>(() => module.ImportFunction("env", "g", new WasmFunctionType([], [])));
        Assert.Throws<ArgumentException>(() => module.AddFunction("f", [], []));
        module.AddFunction("f", [], [], export: false);
    }

    [Fact]
    public void CallOfAnotherModulesFunction_AndWrongArguments_AreRejected()
    {
        var other = new WasmModuleBuilder();
        WasmFunction foreign = other.AddFunction("g", [], []).Function;
        var (module, f) = NewFunction();
        Assert.Throws<ArgumentException>(() => f.Call(foreign));
        WasmFunction callee = module.AddFunction("h", [F64], []).Function;
        var (_, g) = (module, module.AddFunction("caller", [], []));
        g.I32Const(1);
        var e = Assert.Throws<WasmValidationException>(() => g.Call(callee));
        Assert.Contains("arguments of 'h'", e.Reason);
    }

    [Fact]
    public void BrTableTargetsOfDifferentTypes_AreRejected()
    {
        var (_, f) = NewFunction();
        WasmLabel a = f.Block(I32);
        WasmLabel b = f.Block();
        f.I32Const(0);
        Assert.Throws<WasmValidationException>(() => f.BrTable([a], b));
    }

    [Fact]
    public void ForLoopArguments_AreChecked()
    {
        var (_, f) = NewFunction();
        Assert.Throws<ArgumentException>(() => f.For(f.Param(1), 10, 1));
        var (_, g) = NewFunction();
        Assert.Throws<ArgumentOutOfRangeException>(() => g.For(g.Param(0), 10, 0));
        var (_, h) = NewFunction();
        Assert.Throws<ArgumentException>(() => h.For(h.Param(0), h.Param(1), 1));
    }

    [Fact]
    public void ForLoopBodyLeavingAValue_IsRejected()
    {
        var (_, f) = NewFunction();
        WasmLocal i = f.DeclareLocal(I32);
        var e = Assert.Throws<WasmValidationException>(() =>
        {
            using (f.For(i, 8, 1))
                f.I32Const(1);
        });
        Assert.Contains("left on the operand stack", e.Reason);
    }

    [Fact]
    public void FinishedFunction_TakesNoMoreInstructions()
    {
        var (module, f) = NewFunction();
        module.ToArray();
        Assert.Throws<InvalidOperationException>(() => f.Nop());
        Assert.Equal(module.ToArray(), module.ToArray());
    }
}
