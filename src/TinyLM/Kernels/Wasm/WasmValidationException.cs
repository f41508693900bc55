namespace TinyLM.Kernels.Wasm;

/// <summary>
/// Thrown by <see cref="WasmFunctionBuilder"/> when an instruction would make the function invalid
/// (an operand of the wrong type, a label out of scope, a block left open...). The message names
/// the function, the instruction and its position, e.g. <c>Wasm function 'dot_i8', instruction 14
/// (i32.add): expected i32 on the operand stack, found f32.</c> After it the function is faulted:
/// further instructions and <see cref="WasmModuleBuilder.ToArray"/> throw.
/// </summary>
public sealed class WasmValidationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="functionName">The function being built.</param>
    /// <param name="instructionIndex">0-based position of the instruction in the function body, counting <c>block</c>, <c>end</c>... as one each.</param>
    /// <param name="instruction">Text-format name of the instruction, e.g. <c>i32.add</c>.</param>
    /// <param name="reason">What is wrong.</param>
    public WasmValidationException(string functionName, int instructionIndex, string instruction, string reason)
        : base($"Wasm function '{functionName}', instruction {instructionIndex} ({instruction}): {reason}")
    {
        FunctionName = functionName;
        InstructionIndex = instructionIndex;
        Instruction = instruction;
        Reason = reason;
    }

    /// <summary>The function being built.</summary>
    public string FunctionName { get; }

    /// <summary>0-based position of the offending instruction in the function body.</summary>
    public int InstructionIndex { get; }

    /// <summary>Text-format name of the offending instruction.</summary>
    public string Instruction { get; }

    /// <summary>What is wrong, without the function and instruction.</summary>
    public string Reason { get; }
}
