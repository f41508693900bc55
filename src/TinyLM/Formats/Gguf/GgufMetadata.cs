using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace TinyLM.Formats.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file, in file order, with typed getters that report a missing
/// key or a wrong type as a <see cref="ModelFormatException"/> naming the file, the key's byte offset
/// and the key.
/// </summary>
public sealed class GgufMetadata : IEnumerable<KeyValuePair<string, GgufValue>>
{
    private readonly List<KeyValuePair<string, GgufValue>> _entries = [];
    private readonly Dictionary<string, (int Index, long Offset)> _index = new(StringComparer.Ordinal);

    /// <summary>Creates empty metadata for the artifact named <paramref name="source"/>.</summary>
    public GgufMetadata(string source = "<memory>") => Source = source;

    /// <summary>File path or buffer name used in error messages.</summary>
    public string Source { get; }

    /// <summary>Number of keys.</summary>
    public int Count => _entries.Count;

    /// <summary>The keys in file order.</summary>
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    /// <summary>True when <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => _index.ContainsKey(key);

    /// <summary>Looks up a value.</summary>
    public bool TryGetValue(string key, [NotNullWhen(true)] out GgufValue? value)
    {
        if (_index.TryGetValue(key, out var at))
        {
            value = _entries[at.Index].Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>The value of <paramref name="key"/>.</summary>
    /// <exception cref="ModelFormatException">The key is missing.</exception>
    public GgufValue this[string key] =>
        TryGetValue(key, out GgufValue? v) ? v : throw new ModelFormatException(Source, -1, $"expected metadata key '{key}', found none");

    /// <summary>Byte offset at which the key was read, or -1 for metadata built in memory.</summary>
    public long OffsetOf(string key) => _index.TryGetValue(key, out var at) ? at.Offset : -1;

    /// <summary>Adds or replaces a key. A replaced key keeps its position.</summary>
    /// <param name="key">The key, e.g. <c>llama.embedding_length</c>.</param>
    /// <param name="value">The value.</param>
    /// <param name="offset">Byte offset where the key was read (readers), or -1.</param>
    public void Set(string key, GgufValue value, long offset = -1)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (_index.TryGetValue(key, out var at))
        {
            _entries[at.Index] = new(key, value);
            _index[key] = (at.Index, offset);
        }
        else
        {
            _index[key] = (_entries.Count, offset);
            _entries.Add(new(key, value));
        }
    }

    /// <summary>Removes a key if present.</summary>
    public bool Remove(string key)
    {
        if (!_index.Remove(key, out var at))
            return false;
        _entries.RemoveAt(at.Index);
        for (int i = at.Index; i < _entries.Count; i++)
            _index[_entries[i].Key] = (i, _index[_entries[i].Key].Offset);
        return true;
    }

    /// <summary>A string value.</summary>
    /// <exception cref="ModelFormatException">Missing or not a string.</exception>
    public string GetString(string key) => Get(key, v => v.AsString());

    /// <summary>A string value, or <paramref name="defaultValue"/> when the key is absent.</summary>
    /// <exception cref="ModelFormatException">Present but not a string.</exception>
    [return: NotNullIfNotNull(nameof(defaultValue))]
    public string? GetString(string key, string? defaultValue) => ContainsKey(key) ? GetString(key) : defaultValue;

    /// <summary>A non-negative integer value that fits in 32 bits (any GGUF integer type).</summary>
    /// <exception cref="ModelFormatException">Missing, not an integer, or out of range.</exception>
    public uint GetUInt32(string key) => Get(key, v => v.AsUInt32());

    /// <summary>Like <see cref="GetUInt32(string)"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public uint GetUInt32(string key, uint defaultValue) => ContainsKey(key) ? GetUInt32(key) : defaultValue;

    /// <summary>An integer value that fits in a signed 32-bit integer.</summary>
    /// <exception cref="ModelFormatException">Missing, not an integer, or out of range.</exception>
    public int GetInt32(string key) => Get(key, v => v.AsInt32());

    /// <summary>Like <see cref="GetInt32(string)"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public int GetInt32(string key, int defaultValue) => ContainsKey(key) ? GetInt32(key) : defaultValue;

    /// <summary>A Float32 (or Float64) value.</summary>
    /// <exception cref="ModelFormatException">Missing or not a float.</exception>
    public float GetSingle(string key) => Get(key, v => v.AsSingle());

    /// <summary>Like <see cref="GetSingle(string)"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public float GetSingle(string key, float defaultValue) => ContainsKey(key) ? GetSingle(key) : defaultValue;

    /// <summary>A Bool value, or <paramref name="defaultValue"/> when absent.</summary>
    /// <exception cref="ModelFormatException">Present but not a bool.</exception>
    public bool GetBool(string key, bool defaultValue) => ContainsKey(key) ? Get(key, v => v.AsBool()) : defaultValue;

    /// <summary>An array of strings.</summary>
    /// <exception cref="ModelFormatException">Missing or of another type.</exception>
    public string[] GetStringArray(string key) => Get(key, v => v.AsStringArray());

    /// <summary>An array of Float32.</summary>
    /// <exception cref="ModelFormatException">Missing or of another type.</exception>
    public float[] GetSingleArray(string key) => Get(key, v => v.AsSingleArray());

    /// <summary>An array of integers that fit in 32 bits.</summary>
    /// <exception cref="ModelFormatException">Missing, of another type, or an element is out of range.</exception>
    public int[] GetInt32Array(string key) => Get(key, v => v.AsInt32Array());

    private T Get<T>(string key, Func<GgufValue, T> convert)
    {
        GgufValue v = this[key];
        try
        {
            return convert(v);
        }
        catch (InvalidCastException e)
        {
            throw new ModelFormatException(Source, OffsetOf(key), $"metadata key '{key}': {e.Message}");
        }
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
