using System.Text;

namespace TinyLM.Generation;

/// <summary>
/// Finds stop strings in streamed text. Text that might be the start of a stop string is held back
/// until it is known not to be one, so a stop string is never partially emitted (llama.cpp server's
/// <c>find_partial_stop_string</c> behaviour).
/// </summary>
internal sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private readonly StringBuilder _held = new();

    /// <summary>Adds text; returns what can be emitted now.</summary>
    /// <param name="text">New text.</param>
    /// <param name="stopped">True when a stop string was found; the return value is the text before it.</param>
    public string Push(string text, out bool stopped)
    {
        stopped = false;
        if (stops.Count == 0)
            return text;
        _held.Append(text);
        string held = _held.ToString();
        int first = -1;
        foreach (string s in stops)
        {
            int i = held.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (first < 0 || i < first))
                first = i;
        }
        if (first >= 0)
        {
            stopped = true;
            _held.Clear();
            return held[..first];
        }
        int keep = 0;
        foreach (string s in stops)
            for (int len = Math.Min(s.Length - 1, held.Length); len > keep; len--)
                if (held.AsSpan(held.Length - len).SequenceEqual(s.AsSpan(0, len)))
                {
                    keep = len;
                    break;
                }
        _held.Clear().Append(held, held.Length - keep, keep);
        return held[..^keep];
    }

    /// <summary>Adds final text and returns everything held (no stop string can complete any more).</summary>
    public string Flush(string text)
    {
        string all = _held.Append(text).ToString();
        _held.Clear();
        return all;
    }
}
