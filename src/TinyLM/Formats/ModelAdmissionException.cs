namespace TinyLM.Formats;

/// <summary>
/// The stages a model file passes before it is admitted for generation. A <c>.slm</c> file passes
/// all three in order (docs/slm-format.md, "Admission"); a GGUF file passes <see cref="Budget"/>
/// when a byte budget is given.
/// </summary>
public enum AdmissionStage
{
    /// <summary>The bytes decode: header, directory, tokenizer and metadata sections (with their checksums).</summary>
    Parse,

    /// <summary>The file fits the byte budget.</summary>
    Budget,

    /// <summary>The content is consistent: hyperparameters, tokenizer, tensor bounds and shapes, payload checksums, finite values, whole-file checksum.</summary>
    Validate,
}

/// <summary>
/// Why a model file was refused: one value per documented error state of the <c>.slm</c> admission
/// (docs/slm-format.md, "Error states"), plus the byte budget.
/// </summary>
public enum AdmissionError
{
    /// <summary>Parse: the file is shorter than its header, or than the <c>file_size</c> the header records.</summary>
    Truncated = 1,
    /// <summary>Parse: the first 8 bytes are not the <c>.slm</c> magic.</summary>
    BadMagic,
    /// <summary>Parse: the format version is not 1.</summary>
    UnsupportedVersion,
    /// <summary>Parse: <c>header_checksum</c> does not match the header bytes.</summary>
    HeaderChecksumMismatch,
    /// <summary>Parse: the file is longer than the <c>file_size</c> the header records.</summary>
    TrailingData,
    /// <summary>Parse: a header field has an impossible value (header size, flags, alignment, tensor count, reserved bytes).</summary>
    InvalidHeader,
    /// <summary>Parse: the architecture id is not one this reader implements.</summary>
    UnknownArchitecture,
    /// <summary>Parse: the directory, tokenizer, metadata or data region lies outside the file, out of order, or misaligned.</summary>
    SectionOutOfRange,
    /// <summary>Parse: <c>directory_checksum</c> does not match the directory bytes.</summary>
    DirectoryChecksumMismatch,
    /// <summary>Parse: <c>tokenizer_checksum</c> does not match the tokenizer section.</summary>
    TokenizerChecksumMismatch,
    /// <summary>Parse: <c>metadata_checksum</c> does not match the metadata section.</summary>
    MetadataChecksumMismatch,
    /// <summary>Parse: the tokenizer section does not decode (lengths, UTF-8, flags, ids, trailing bytes).</summary>
    TokenizerMalformed,
    /// <summary>Parse: the metadata section does not decode, or holds a duplicate or reserved key.</summary>
    MetadataMalformed,
    /// <summary>Parse: a directory entry does not decode (name, dimension count, dimensions, reserved values).</summary>
    InvalidTensorEntry,
    /// <summary>Parse: a tensor type id is not registered in <see cref="Quantization.TensorTypes"/>.</summary>
    UnsupportedTensorType,
    /// <summary>Parse: two directory entries have the same name.</summary>
    DuplicateTensorName,
    /// <summary>Budget: the file is larger than the byte budget.</summary>
    BudgetExceeded,
    /// <summary>Validate: the hyperparameters are impossible for the architecture.</summary>
    HyperparametersInvalid,
    /// <summary>Validate: the tokenizer disagrees with the hyperparameters or is not a valid vocabulary.</summary>
    TokenizerInvalid,
    /// <summary>Validate: a tensor's <c>byte_size</c> differs from what its type and shape need, or its rows do not divide into blocks.</summary>
    TensorSizeMismatch,
    /// <summary>Validate: a tensor's offset is not a multiple of the alignment.</summary>
    MisalignedTensor,
    /// <summary>Validate: a tensor's bytes are not inside the data region.</summary>
    TensorOutOfRange,
    /// <summary>Validate: two tensors' bytes overlap.</summary>
    TensorOverlap,
    /// <summary>Validate: a tensor is not part of the architecture's tensor manifest (or contradicts the tied-output flag).</summary>
    UnexpectedTensor,
    /// <summary>Validate: a tensor the architecture requires is absent.</summary>
    MissingTensor,
    /// <summary>Validate: a tensor's shape differs from the one the hyperparameters give.</summary>
    ShapeMismatch,
    /// <summary>Validate: a tensor's checksum does not match its payload.</summary>
    TensorChecksumMismatch,
    /// <summary>Validate: a payload holds NaN or infinity.</summary>
    NonFiniteValue,
    /// <summary>Validate: <c>file_checksum</c> does not match the file.</summary>
    FileChecksumMismatch,
    /// <summary>Validate: the JSON manifest sidecar disagrees with the file (size or checksum) or does not parse.</summary>
    ManifestMismatch,
}

/// <summary>
/// Thrown when a model file fails an admission check: a <c>.slm</c> file that does not pass
/// parsing or validation, or any model over its byte budget. <see cref="Error"/> names the
/// documented error state, <see cref="Stage"/> the stage that refused the file.
/// </summary>
/// <remarks>
/// Every failure of <see cref="Slm.SlmFile"/> admission is this exception, never another type, so a
/// caller can rely on "a typed refusal or an admitted model". The message combines the source, the
/// stage, the error state, the byte offset (when the problem is tied to one) and the reason.
/// </remarks>
public sealed class ModelAdmissionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="stage">The stage that refused the file.</param>
    /// <param name="error">The error state.</param>
    /// <param name="source">File path or buffer name.</param>
    /// <param name="offset">Byte offset of the offending field, or -1.</param>
    /// <param name="reason">What was expected and what was found.</param>
    public ModelAdmissionException(AdmissionStage stage, AdmissionError error, string source, long offset, string reason)
        : base(Format(stage, error, source, offset, reason))
    {
        Stage = stage;
        Error = error;
        Source = source;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The stage that refused the file.</summary>
    public AdmissionStage Stage { get; }

    /// <summary>The error state.</summary>
    public AdmissionError Error { get; }

    /// <summary>File path or buffer name.</summary>
    public new string Source { get; }

    /// <summary>Byte offset of the offending field, or -1.</summary>
    public long Offset { get; }

    /// <summary>The reason, without source, stage and offset.</summary>
    public string Reason { get; }

    private static string Format(AdmissionStage stage, AdmissionError error, string source, long offset, string reason) =>
        offset >= 0
            ? $"{source}: {stage.ToString().ToLowerInvariant()} failed ({error}) at byte {offset}: {reason}"
            : $"{source}: {stage.ToString().ToLowerInvariant()} failed ({error}): {reason}";
}
