using System.Buffers;
using TinyLM.Formats.Gguf;

namespace TinyLM.Formats.Slm;

/// <summary>
/// Converts between GGUF and <c>.slm</c>. Tensors are copied byte for byte (same names, types,
/// shapes, order), so GGUF → <c>.slm</c> → GGUF keeps every tensor bit-identical and a model gives
/// identical logits from either file.
/// </summary>
/// <remarks>
/// <para>GGUF → <c>.slm</c>: the <c>llama.*</c> hyperparameters go to the header (resolved as the
/// loader resolves them: defaults filled in, RoPE scaling as type and factor), the <c>tokenizer.*</c>
/// keys as declared to the tokenizer section, and every other key (except <c>general.architecture</c>
/// and <c>general.alignment</c>, which the header replaces) to the metadata section unchanged.</para>
/// <para><c>.slm</c> → GGUF: the admitted file's key view and tensors. The result is equivalent to
/// the original GGUF: the same hyperparameters, vocabulary and other keys, but hyperparameter keys
/// that the original left to their defaults are written explicitly, integer keys are written as
/// uint32 and <c>general.alignment</c> is not carried over (the GGUF default, 32, applies). Converting
/// that GGUF to <c>.slm</c> again gives the same bytes.</para>
/// </remarks>
public static class SlmConverter
{
    /// <summary>Prepares an <c>.slm</c> writer for a Llama-family model file (GGUF or admitted <c>.slm</c>).</summary>
    /// <param name="source">The model file; its tensor data must stay alive until the writer has written.</param>
    /// <param name="alignment">Payload alignment of the output.</param>
    /// <exception cref="ModelFormatException">The source is not a valid Llama model (architecture, hyperparameters, vocabulary, <c>token_embd.weight</c>).</exception>
    /// <exception cref="NotSupportedException">The tokenizer model is neither <c>llama</c> nor <c>gpt2</c>, or a tensor is 2 GiB or larger.</exception>
    /// <exception cref="ArgumentException">A metadata key or tensor cannot be stored in <c>.slm</c> v1 (nested arrays, names over 63 bytes, ...).</exception>
    public static SlmWriter FromModelFile(IModelFile source, int alignment = SlmWriter.DefaultAlignment)
    {
        ArgumentNullException.ThrowIfNull(source);
        string arch = source.Architecture
            ?? throw new ModelFormatException(source.Source, -1, "expected metadata key 'general.architecture', found none (a vocabulary-only file cannot be converted to .slm)");
        if (arch != SlmLlama.Name)
            throw new ModelFormatException(source.Source, source.Metadata.OffsetOf("general.architecture"), $"expected architecture '{SlmLlama.Name}' (the one .slm v1 defines), found '{arch}'");
        SlmHyperparameters hp = SlmLlama.FromGguf(source);
        SlmTokenizer tokenizer = SlmTokenizer.FromGguf(source.Metadata);
        var writer = new SlmWriter(SlmArchitecture.Llama, hp, tokenizer, alignment);
        foreach ((string key, GgufValue value) in source.Metadata)
            if (!SlmFile.IsReservedKey(key, arch))
                writer.Metadata.Set(key, value);
        foreach (GgufTensorInfo t in source.Tensors)
            writer.AddTensor(t.Name, t.Type, t.Shape.ToArray(), TensorMemory(source, t));
        return writer;
    }

    /// <summary>Prepares a GGUF writer holding an admitted <c>.slm</c> file's keys and tensors.</summary>
    /// <param name="file">The admitted file; it must stay alive until the writer has written.</param>
    /// <exception cref="NotSupportedException">A tensor is 2 GiB or larger.</exception>
    public static GgufWriter ToGguf(SlmModelFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var writer = new GgufWriter();
        foreach ((string key, GgufValue value) in file.Metadata)
            writer.Metadata.Set(key, value);
        foreach (GgufTensorInfo t in file.Tensors)
            writer.AddTensor(t.Name, t.Type, t.Shape.ToArray(), TensorMemory(file, t));
        return writer;
    }

    private static unsafe ReadOnlyMemory<byte> TensorMemory(IModelFile file, GgufTensorInfo t)
    {
        if (t.ByteSize > int.MaxValue)
            throw new NotSupportedException($"Tensor {t.Name} is {t.ByteSize} bytes; conversion supports tensors below 2 GiB.");
        return new PointerMemory(file.GetTensorPointer(t), (int)t.ByteSize).Memory;
    }

    /// <summary>Memory over bytes owned elsewhere (the source file's buffer), without copying.</summary>
    private sealed unsafe class PointerMemory(byte* pointer, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
