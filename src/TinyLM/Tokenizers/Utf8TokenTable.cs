using System.Text;

namespace TinyLM.Tokenizers;

/// <summary>
/// Token texts as UTF-8 bytes in one buffer, with an open-addressing hash table from bytes to id, so
/// that tokenizers look up byte slices of the input without allocating strings. A duplicated text
/// maps to its last id, like llama.cpp's <c>token_to_id</c>. Immutable after construction.
/// </summary>
internal sealed class Utf8TokenTable
{
    private readonly byte[] _bytes;
    private readonly int[] _offsets;   // token i is _bytes[_offsets[i].._offsets[i + 1]]
    private readonly int[] _slots;     // id + 1, 0 = empty; length is a power of two
    private readonly int _mask;

    public Utf8TokenTable(string[] texts)
    {
        _offsets = new int[texts.Length + 1];
        long total = 0;
        for (int i = 0; i < texts.Length; i++)
        {
            total += Encoding.UTF8.GetByteCount(texts[i]);
            if (total > Array.MaxLength)
                throw new ArgumentException("The token texts exceed the maximum array length.", nameof(texts));
            _offsets[i + 1] = (int)total;
        }
        _bytes = new byte[total];
        for (int i = 0; i < texts.Length; i++)
            Encoding.UTF8.GetBytes(texts[i], _bytes.AsSpan(_offsets[i]));

        int capacity = (int)Math.Min(1L << 30, Math.Max(16, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)texts.Length) * 2));
        _slots = new int[capacity];
        _mask = capacity - 1;
        for (int id = 0; id < texts.Length; id++)
        {
            ReadOnlySpan<byte> key = this[id];
            int slot = Hash(key) & _mask;
            while (true)
            {
                int existing = _slots[slot] - 1;
                if (existing < 0 || this[existing].SequenceEqual(key))
                {
                    _slots[slot] = id + 1;
                    break;
                }
                slot = (slot + 1) & _mask;
            }
        }
    }

    /// <summary>Number of tokens.</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>The UTF-8 bytes of token <paramref name="id"/>.</summary>
    public ReadOnlySpan<byte> this[int id] => _bytes.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);

    /// <summary>The id of the token whose UTF-8 text is <paramref name="text"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> text)
    {
        int slot = Hash(text) & _mask;
        while (true)
        {
            int id = _slots[slot] - 1;
            if (id < 0)
                return -1;
            if (this[id].SequenceEqual(text))
                return id;
            slot = (slot + 1) & _mask;
        }
    }

    private static int Hash(ReadOnlySpan<byte> bytes)
    {
        // FNV-1a, 32-bit.
        uint h = 2166136261;
        foreach (byte b in bytes)
            h = (h ^ b) * 16777619;
        return (int)(h ^ (h >> 15));
    }
}
