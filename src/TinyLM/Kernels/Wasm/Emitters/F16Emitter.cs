namespace TinyLM.Kernels.Wasm.Emitters;

/// <summary>
/// WebAssembly kernels of <see cref="Quantization.F16"/> (IEEE half) weights, bit-exact with the C# reference: the matrix
/// product against F16 activations (<c>ggml_vec_dot_f16</c>'s portable form: each product of the two converted floats rounded
/// to float and added in double in index order; <see cref="F32Emitter.EmitHalfMatMul"/>) and the activation
/// conversion (<c>ggml_compute_fp32_to_fp16</c>, <see cref="F32Emitter.EmitHalfQuantize"/>).
/// </summary>
internal static class F16Emitter
{
    /// <summary>Emits <c>name(w, wRowBytes, rows, act, actRowBytes, tokens, out, outStride, cols, scratch)</c>, <c>scratch</c> holding <c>4·cols</c> bytes.</summary>
    public static WasmFunction EmitMatMul(WasmModuleBuilder module, string name) =>
        F32Emitter.EmitHalfMatMul(module, name, F32Emitter.WeightElements.F16);

    /// <summary>Emits <c>name(src, dst, n)</c>: <c>n</c> floats to IEEE half.</summary>
    public static WasmFunction EmitQuantize(WasmModuleBuilder module, string name) =>
        F32Emitter.EmitHalfQuantize(module, name, F32Emitter.WeightElements.F16);
}
