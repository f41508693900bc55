using System.Text;
using System.Text.Unicode;
using TinyLM.Tokenizers;

namespace TinyLM.Formats.SentencePiece;

/// <summary>
/// Reads a SentencePiece <c>tokenizer.model</c> (a serialized <c>sentencepiece.ModelProto</c>
/// protobuf) into a "llama" <see cref="Vocabulary"/>.
/// </summary>
/// <remarks>
/// <para>
/// Fields read (sentencepiece_model.proto): <c>ModelProto.pieces = 1</c> (each
/// <c>SentencePiece { piece = 1; score = 2; type = 3 }</c>), <c>trainer_spec = 2</c>
/// (<c>unk_id = 40</c> default 0, <c>bos_id = 41</c> default 1, <c>eos_id = 42</c> default 2,
/// <c>pad_id = 43</c> default -1; a default id beyond the pieces becomes -1) and <c>normalizer_spec = 3</c> (<c>add_dummy_prefix = 3</c>, default
/// true). Every other field is skipped by its wire type. Varints, lengths and UTF-8 are validated.
/// SentencePiece always writes <c>trainer_spec</c> and <c>normalizer_spec</c> after the pieces, and
/// protobuf has no end marker, so both are required: that is how a file cut short is detected.
/// </para>
/// <para>
/// The vocabulary is what llama.cpp's converter (convert_hf_to_gguf.py
/// <c>_set_vocab_sentencepiece</c>) writes for the same file, except that the token types are taken
/// from the protobuf as they are (NORMAL=1, UNKNOWN=2, CONTROL=3, USER_DEFINED=4, UNUSED=5, BYTE=6;
/// the converter writes USER_DEFINED pieces as NORMAL): model "llama", pre-tokenizer "default",
/// scores, BOS/EOS/UNK/PAD from the trainer spec, add BOS when there is a BOS, no EOS, and the space
/// prefix from <c>add_dummy_prefix</c>.
/// </para>
/// </remarks>
public static class SentencePieceModel
{
    /// <summary>Reads a <c>tokenizer.model</c> file.</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="ModelFormatException">The file is not a valid SentencePiece model (see <see cref="Read(ReadOnlySpan{byte}, string)"/>).</exception>
    public static Vocabulary Read(string path) => Read(ReadFile(path), path);

    /// <summary>Reads a serialized <c>ModelProto</c>.</summary>
    /// <param name="data">The protobuf bytes.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <returns>The vocabulary.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ModelFormatException">
    /// Malformed protobuf (truncated field, varint longer than 10 bytes or over 64 bits, length past
    /// the end, field number 0, group or unknown wire type, wrong wire type for a known field); a piece
    /// that is empty or not UTF-8; a piece type outside 1..6; a BYTE piece not of the form
    /// <c>&lt;0xNN&gt;</c>; no pieces; an unk id outside the pieces, or a bos/eos/pad id that is
    /// neither -1 nor a piece; no <c>trainer_spec</c> or <c>normalizer_spec</c> (a file cut short).
    /// </exception>
    public static Vocabulary Read(ReadOnlySpan<byte> data, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var pieces = new List<string>();
        var scores = new List<float>();
        var types = new List<TokenType>();
        var spec = new Spec();
        bool trainerSeen = false, normalizerSeen = false;

        var reader = new ProtobufReader(data, source, 0);
        while (!reader.AtEnd)
        {
            long tagAt = reader.Offset;
            (int field, WireType wire) = reader.ReadTag();
            switch (field)
            {
                case 1: // repeated SentencePiece pieces
                    reader.Expect(field, wire, WireType.LengthDelimited, tagAt);
                    ReadPiece(reader.ReadLengthDelimited(out long pieceAt), source, pieceAt, pieces, scores, types);
                    break;
                case 2: // TrainerSpec trainer_spec
                    reader.Expect(field, wire, WireType.LengthDelimited, tagAt);
                    ReadTrainerSpec(reader.ReadLengthDelimited(out long trainerAt), source, trainerAt, ref spec);
                    trainerSeen = true;
                    break;
                case 3: // NormalizerSpec normalizer_spec
                    reader.Expect(field, wire, WireType.LengthDelimited, tagAt);
                    ReadNormalizerSpec(reader.ReadLengthDelimited(out long normalizerAt), source, normalizerAt, ref spec);
                    normalizerSeen = true;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        int n = pieces.Count;
        if (n == 0)
            throw new ModelFormatException(source, data.Length, "expected at least one piece, found none");
        // SentencePiece always writes both specs after the pieces; without them the file was cut short.
        if (!trainerSeen)
            throw new ModelFormatException(source, data.Length, "expected trainer_spec (field 2), found the end of the data");
        if (!normalizerSeen)
            throw new ModelFormatException(source, data.Length, "expected normalizer_spec (field 3), found the end of the data");
        if (spec.Unk < 0 || spec.Unk >= n)
            throw new ModelFormatException(source, spec.UnkAt, $"trainer_spec.unk_id: expected a piece id in [0, {n}), found {spec.Unk}");
        int bos = CheckOptionalId(source, "bos_id", spec.Bos, spec.BosAt, n);
        int eos = CheckOptionalId(source, "eos_id", spec.Eos, spec.EosAt, n);
        int pad = CheckOptionalId(source, "pad_id", spec.Pad, spec.PadAt, n);

        return new Vocabulary
        {
            Model = "llama",
            Pre = "default",
            Tokens = pieces,
            Scores = scores,
            TokenTypes = types,
            BosTokenId = bos,
            EosTokenId = eos,
            UnknownTokenId = spec.Unk,
            PaddingTokenId = pad,
            AddBos = bos >= 0,
            AddEos = false,
            AddSpacePrefix = spec.AddDummyPrefix,
        };
    }

    /// <summary>Reads a whole small file, refusing files larger than an array can hold.</summary>
    internal static byte[] ReadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new FileNotFoundException($"File not found: {path}", path);
        if (info.Length > Array.MaxLength)
            throw new ModelFormatException(path, -1, $"expected at most {Array.MaxLength} bytes, found {info.Length}");
        return File.ReadAllBytes(path);
    }

    private static void ReadPiece(ReadOnlySpan<byte> message, string source, long offset,
        List<string> pieces, List<float> scores, List<TokenType> types)
    {
        int index = pieces.Count;
        string? piece = null;
        float score = 0;
        TokenType type = TokenType.Normal;
        var reader = new ProtobufReader(message, source, offset);
        while (!reader.AtEnd)
        {
            long tagAt = reader.Offset;
            (int field, WireType wire) = reader.ReadTag();
            switch (field)
            {
                case 1:
                    reader.Expect(field, wire, WireType.LengthDelimited, tagAt);
                    ReadOnlySpan<byte> bytes = reader.ReadLengthDelimited(out long textAt);
                    if (!Utf8.IsValid(bytes))
                        throw reader.Error(textAt, $"piece {index}: expected UTF-8 text, found invalid bytes");
                    piece = Encoding.UTF8.GetString(bytes);
                    break;
                case 2:
                    reader.Expect(field, wire, WireType.Fixed32, tagAt);
                    score = reader.ReadSingle();
                    break;
                case 3:
                    reader.Expect(field, wire, WireType.Varint, tagAt);
                    ulong value = reader.ReadVarint();
                    if (value is < (ulong)TokenType.Normal or > (ulong)TokenType.Byte)
                        throw reader.Error(tagAt, $"piece {index}: expected a type in [1, 6], found {(long)value}");
                    type = (TokenType)(int)value;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
        if (string.IsNullOrEmpty(piece))
            throw new ModelFormatException(source, offset, $"piece {index}: expected a non-empty piece text, found none");
        if (type == TokenType.Byte && !Vocabulary.IsByteTokenText(piece))
            throw new ModelFormatException(source, offset, $"piece {index} has type BYTE: expected text <0xNN>, found '{piece}'");
        pieces.Add(piece);
        scores.Add(score);
        types.Add(type);
    }

    private static void ReadTrainerSpec(ReadOnlySpan<byte> message, string source, long offset, ref Spec spec)
    {
        var reader = new ProtobufReader(message, source, offset);
        while (!reader.AtEnd)
        {
            long tagAt = reader.Offset;
            (int field, WireType wire) = reader.ReadTag();
            switch (field)
            {
                case 40:
                    reader.Expect(field, wire, WireType.Varint, tagAt);
                    spec.Unk = reader.ReadInt32();
                    spec.UnkAt = tagAt;
                    break;
                case 41:
                    reader.Expect(field, wire, WireType.Varint, tagAt);
                    spec.Bos = reader.ReadInt32();
                    spec.BosAt = tagAt;
                    break;
                case 42:
                    reader.Expect(field, wire, WireType.Varint, tagAt);
                    spec.Eos = reader.ReadInt32();
                    spec.EosAt = tagAt;
                    break;
                case 43:
                    reader.Expect(field, wire, WireType.Varint, tagAt);
                    spec.Pad = reader.ReadInt32();
                    spec.PadAt = tagAt;
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }
    }

    private static void ReadNormalizerSpec(ReadOnlySpan<byte> message, string source, long offset, ref Spec spec)
    {
        var reader = new ProtobufReader(message, source, offset);
        while (!reader.AtEnd)
        {
            long tagAt = reader.Offset;
            (int field, WireType wire) = reader.ReadTag();
            if (field == 3)
            {
                reader.Expect(field, wire, WireType.Varint, tagAt);
                spec.AddDummyPrefix = reader.ReadBool();
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }

    /// <summary>A declared id must be -1 or a piece; a default one outside the pieces is disabled (-1), as llama.cpp does.</summary>
    private static int CheckOptionalId(string source, string name, int id, long offset, int count)
    {
        if (id >= -1 && id < count)
            return id;
        if (offset < 0)
            return -1;
        throw new ModelFormatException(source, offset, $"trainer_spec.{name}: expected -1 or a piece id in [0, {count}), found {id}");
    }

    /// <summary>The trainer and normalizer fields read, with SentencePiece's defaults and where each was found (-1: default).</summary>
    private struct Spec()
    {
        public int Unk = 0, Bos = 1, Eos = 2, Pad = -1;
        public long UnkAt = -1, BosAt = -1, EosAt = -1, PadAt = -1;
        public bool AddDummyPrefix = true;
    }
}
