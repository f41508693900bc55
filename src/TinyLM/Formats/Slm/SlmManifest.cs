using System.Globalization;
using System.Text;
using System.Text.Json;

namespace TinyLM.Formats.Slm;

/// <summary>
/// The JSON manifest sidecar of an <c>.slm</c> file (<c>model.slm.json</c> beside <c>model.slm</c>;
/// docs/slm-format.md, "Manifest"): provenance — source file and its SHA-256, conversion tool and
/// version — and a description of the file: size, checksums, quantization, parameter count, licence,
/// and a quality claim ("not-claimed" unless measured).
/// </summary>
/// <remarks>Written and read with <see cref="Utf8JsonWriter"/> and <see cref="JsonDocument"/> (no reflection; trimming-safe).</remarks>
public sealed record SlmManifest
{
    /// <summary>The <c>format</c> value.</summary>
    public const string FormatName = "tinylm-slm";

    /// <summary>The quality claim of a file whose quality was not measured.</summary>
    public const string NotClaimed = "not-claimed";

    /// <summary>The <c>file</c> name of the <c>.slm</c> file (no directory).</summary>
    public required string File { get; init; }

    /// <summary><c>formatVersion</c>: the <c>.slm</c> version.</summary>
    public uint FormatVersion { get; init; } = SlmHeader.CurrentVersion;

    /// <summary><c>byteSize</c>: size of the <c>.slm</c> file in bytes.</summary>
    public required long ByteSize { get; init; }

    /// <summary><c>xxh64</c>: the header's <c>file_checksum</c>, 16 hex digits.</summary>
    public required ulong FileChecksum { get; init; }

    /// <summary><c>sha256</c>: SHA-256 of the <c>.slm</c> file (lower-case hex), or null.</summary>
    public string? Sha256 { get; init; }

    /// <summary><c>architecture</c>, e.g. <c>llama</c>.</summary>
    public required string Architecture { get; init; }

    /// <summary><c>parameterCount</c>: total tensor elements.</summary>
    public required long ParameterCount { get; init; }

    /// <summary><c>quantization</c>: the type holding most matrix bytes (ggml name, e.g. <c>q4_0</c>).</summary>
    public required string Quantization { get; init; }

    /// <summary><c>tensorTypes</c>: tensor count per type name.</summary>
    public required IReadOnlyDictionary<string, int> TensorTypes { get; init; }

    /// <summary><c>source.file</c>: name of the file converted from.</summary>
    public required string SourceFile { get; init; }

    /// <summary><c>source.format</c>: <c>gguf</c>, <c>slm</c>, <c>llama2c</c>.</summary>
    public required string SourceFormat { get; init; }

    /// <summary><c>source.byteSize</c>.</summary>
    public required long SourceByteSize { get; init; }

    /// <summary><c>source.sha256</c> (lower-case hex), or null when not computed.</summary>
    public string? SourceSha256 { get; init; }

    /// <summary><c>tool.name</c>.</summary>
    public string ToolName { get; init; } = "tinylm";

    /// <summary><c>tool.version</c>.</summary>
    public required string ToolVersion { get; init; }

    /// <summary><c>license</c>: <c>general.license</c>, or <c>unknown</c>.</summary>
    public required string License { get; init; }

    /// <summary><c>quality</c>: a measured claim, or <see cref="NotClaimed"/>.</summary>
    public string Quality { get; init; } = NotClaimed;

    /// <summary>The sidecar path of an <c>.slm</c> path: <c>model.slm</c> → <c>model.slm.json</c>.</summary>
    public static string PathFor(string slmPath) => slmPath + ".json";

    /// <summary>Describes <paramref name="file"/>, converted from the given source.</summary>
    /// <param name="file">The parsed <c>.slm</c> file.</param>
    /// <param name="fileName">Its file name.</param>
    /// <param name="sha256">Its SHA-256 (hex), or null.</param>
    /// <param name="sourceFile">Name of the converted file.</param>
    /// <param name="sourceFormat">Format of the converted file.</param>
    /// <param name="sourceByteSize">Size of the converted file.</param>
    /// <param name="sourceSha256">SHA-256 of the converted file (hex), or null.</param>
    /// <param name="toolVersion">Version of the converting tool.</param>
    public static SlmManifest Describe(SlmFile file, string fileName, string? sha256, string sourceFile, string sourceFormat,
        long sourceByteSize, string? sourceSha256, string toolVersion)
    {
        ArgumentNullException.ThrowIfNull(file);
        var matrices = file.Tensors.Where(t => t.Shape.Count >= 2).ToList();
        string quantization = (matrices.Count > 0 ? matrices : file.Tensors.ToList())
            .GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => (decimal)t.ByteSize)).First().Key is var type
            ? TinyLM.Quantization.TensorTypes.Get(type).Name : "";
        return new SlmManifest
        {
            File = fileName,
            ByteSize = file.Header.FileSize,
            FileChecksum = file.Header.FileChecksum,
            Sha256 = sha256,
            Architecture = file.ArchitectureName,
            ParameterCount = file.ParameterCount,
            Quantization = quantization,
            TensorTypes = file.Tensors.GroupBy(t => TinyLM.Quantization.TensorTypes.Get(t.Type).Name).OrderBy(g => g.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count()),
            SourceFile = sourceFile,
            SourceFormat = sourceFormat,
            SourceByteSize = sourceByteSize,
            SourceSha256 = sourceSha256,
            ToolVersion = toolVersion,
            License = file.MetadataSection.GetString("general.license", null) is { Length: > 0 } l ? l : "unknown",
        };
    }

    /// <summary>The manifest as indented JSON (UTF-8 text).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("formatVersion", FormatVersion);
            w.WriteString("file", File);
            w.WriteNumber("byteSize", ByteSize);
            w.WriteString("xxh64", FileChecksum.ToString("x16", CultureInfo.InvariantCulture));
            if (Sha256 is not null)
                w.WriteString("sha256", Sha256);
            w.WriteString("architecture", Architecture);
            w.WriteNumber("parameterCount", ParameterCount);
            w.WriteString("quantization", Quantization);
            w.WriteStartObject("tensorTypes");
            foreach ((string name, int count) in TensorTypes)
                w.WriteNumber(name, count);
            w.WriteEndObject();
            w.WriteStartObject("source");
            w.WriteString("file", SourceFile);
            w.WriteString("format", SourceFormat);
            w.WriteNumber("byteSize", SourceByteSize);
            if (SourceSha256 is not null)
                w.WriteString("sha256", SourceSha256);
            w.WriteEndObject();
            w.WriteStartObject("tool");
            w.WriteString("name", ToolName);
            w.WriteString("version", ToolVersion);
            w.WriteEndObject();
            w.WriteString("license", License);
            w.WriteString("quality", Quality);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Reads a manifest.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Its path, for messages.</param>
    /// <exception cref="ModelAdmissionException">The text is not a manifest (<see cref="AdmissionError.ManifestMismatch"/>).</exception>
    public static SlmManifest Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            JsonElement r = doc.RootElement;
            if (r.GetProperty("format").GetString() != FormatName)
                throw Mismatch(source, $"expected format \"{FormatName}\", found \"{r.GetProperty("format")}\"");
            JsonElement src = r.GetProperty("source"), tool = r.GetProperty("tool");
            return new SlmManifest
            {
                File = r.GetProperty("file").GetString()!,
                FormatVersion = r.GetProperty("formatVersion").GetUInt32(),
                ByteSize = r.GetProperty("byteSize").GetInt64(),
                FileChecksum = ulong.Parse(r.GetProperty("xxh64").GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
                Sha256 = r.TryGetProperty("sha256", out JsonElement sha) ? sha.GetString() : null,
                Architecture = r.GetProperty("architecture").GetString()!,
                ParameterCount = r.GetProperty("parameterCount").GetInt64(),
                Quantization = r.GetProperty("quantization").GetString()!,
                TensorTypes = r.GetProperty("tensorTypes").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32()),
                SourceFile = src.GetProperty("file").GetString()!,
                SourceFormat = src.GetProperty("format").GetString()!,
                SourceByteSize = src.GetProperty("byteSize").GetInt64(),
                SourceSha256 = src.TryGetProperty("sha256", out JsonElement ssha) ? ssha.GetString() : null,
                ToolName = tool.GetProperty("name").GetString()!,
                ToolVersion = tool.GetProperty("version").GetString()!,
                License = r.GetProperty("license").GetString()!,
                Quality = r.GetProperty("quality").GetString()!,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException or ArgumentException)
        {
            throw Mismatch(source, $"expected a manifest in JSON, found: {e.Message}");
        }
    }

    /// <summary>Checks the manifest against the file it describes: size, XXH64 file checksum, and SHA-256 when both are known.</summary>
    /// <param name="file">The parsed file.</param>
    /// <param name="sha256">The file's SHA-256 (hex), or null to skip that comparison.</param>
    /// <exception cref="ModelAdmissionException">A value differs (<see cref="AdmissionError.ManifestMismatch"/>).</exception>
    public void CheckAgainst(SlmFile file, string? sha256 = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (ByteSize != file.Header.FileSize)
            throw Mismatch(file.Source, $"manifest byteSize {ByteSize:N0}, file {file.Header.FileSize:N0} bytes");
        if (FileChecksum != file.Header.FileChecksum)
            throw Mismatch(file.Source, $"manifest xxh64 {FileChecksum:x16}, file_checksum {file.Header.FileChecksum:x16}");
        if (sha256 is not null && Sha256 is not null && !string.Equals(sha256, Sha256, StringComparison.OrdinalIgnoreCase))
            throw Mismatch(file.Source, $"manifest sha256 {Sha256}, file {sha256}");
    }

    private static ModelAdmissionException Mismatch(string source, string reason) =>
        new(AdmissionStage.Validate, AdmissionError.ManifestMismatch, source, -1, reason);
}
