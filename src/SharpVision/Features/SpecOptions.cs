using System.Globalization;

namespace SharpVision.Features;

/// <summary>
/// The <c>key=value,key=value</c> options of one extractor in a pipeline spec. Every read records the key as known,
/// so <see cref="EnsureAllUsed"/> can name an unknown option together with the ones that exist.
/// </summary>
internal sealed class SpecOptions
{
    private readonly string _extractor;
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _known = [];

    /// <exception cref="ArgumentException">An option without '=', an empty key, or a repeated key.</exception>
    public SpecOptions(string extractor, string text)
    {
        _extractor = extractor;
        if (text.Length == 0) return;
        foreach (var part in text.Split(','))
        {
            if (string.IsNullOrWhiteSpace(part)) throw new ArgumentException($"The options of '{extractor}' ('{text}') have an empty entry: a ',' too many.");
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"Option '{part.Trim()}' of '{extractor}' must look like key=value.");
            var key = part[..eq].Trim();
            if (!_values.TryAdd(key, part[(eq + 1)..].Trim())) throw new ArgumentException($"Option '{key}' of '{extractor}' is given twice.");
        }
    }

    private bool TryGet(string key, out string value)
    {
        _known.Add(key);
        return _values.TryGetValue(key, out value!);
    }

    /// <summary>An integer in [min, max]; with <paramref name="multipleOf"/> &gt; 1, also a multiple of it.</summary>
    public int Int(string key, int fallback, int min, int max, int multipleOf = 1)
    {
        if (!TryGet(key, out var text)) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max || value % multipleOf != 0)
            throw new ArgumentException($"Option '{key}' of '{_extractor}' must be {(multipleOf > 1 ? $"a multiple of {multipleOf}" : "an integer")} from {min} to {max}, got '{text}'.");
        return value;
    }

    public double Double(string key, double fallback, double min, double max)
    {
        if (!TryGet(key, out var text)) return fallback;
        return ParseDouble(key, text, min, max);
    }

    /// <summary>A list separated by '/', e.g. <c>freq=0.15/0.3</c> (',' already separates options).</summary>
    public double[] Doubles(string key, double[] fallback, double min, double max)
    {
        if (!TryGet(key, out var text)) return fallback;
        var values = text.Split('/').Select(t => ParseDouble(key, t, min, max)).ToArray();
        return values;
    }

    private double ParseDouble(string key, string text, double min, double max)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= min && value <= max))
            throw new ArgumentException($"Option '{key}' of '{_extractor}' must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, got '{text}'.");
        return value;
    }

    /// <summary>The value as given, or null when the option is absent.</summary>
    public string? Text(string key) => TryGet(key, out var text) ? text : null;

    public bool Bool(string key, bool fallback)
    {
        if (!TryGet(key, out var text)) return fallback;
        return text.ToLowerInvariant() switch
        {
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw new ArgumentException($"Option '{key}' of '{_extractor}' must be true or false, got '{text}'."),
        };
    }

    public string Choice(string key, string fallback, params string[] choices)
    {
        if (!TryGet(key, out var text)) return fallback;
        return choices.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Option '{key}' of '{_extractor}' must be one of {string.Join(", ", choices)}, got '{text}'.");
    }

    /// <exception cref="ArgumentException">An option no read asked for.</exception>
    public void EnsureAllUsed()
    {
        foreach (var key in _values.Keys)
            if (!_known.Contains(key, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"Unknown option '{key}' for '{_extractor}' (known: {(_known.Count == 0 ? "none" : string.Join(", ", _known.Distinct()))}).");
    }
}
