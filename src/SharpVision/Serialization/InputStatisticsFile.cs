using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;

namespace SharpVision.Serialization;

/// <summary>
/// How <see cref="InputStatistics"/> live in a model file: the "input_statistics" metadata ({"count", "threshold"}) and
/// the tensors input_stats.mean and input_stats.deviation (F32, C×H×W). Optional: files written before them load
/// without statistics.
/// </summary>
public static class InputStatisticsFile
{
    /// <summary>The tensor names <see cref="Add"/> writes.</summary>
    public static IReadOnlyList<string> TensorNames { get; } = ["input_stats.mean", "input_stats.deviation"];

    /// <summary>Adds <paramref name="statistics"/> (nothing when null).</summary>
    public static void Add(InputStatistics? statistics, ImagePreparation preparation, Dictionary<string, string> metadata, List<TensorEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(preparation);
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(entries);
        if (statistics is null) return;
        long[] shape = [preparation.Channels, preparation.Height, preparation.Width];
        metadata["input_statistics"] = new JsonObject { ["count"] = statistics.Count, ["threshold"] = statistics.Threshold }.ToJsonString();
        entries.Add(TensorEntry.FromSingle(TensorNames[0], statistics.Mean, shape));
        entries.Add(TensorEntry.FromSingle(TensorNames[1], statistics.Deviation, shape));
    }

    /// <summary>The statistics the file holds, or null when it has none (written before they existed).</summary>
    /// <exception cref="DataFormatException">Malformed metadata, or tensors missing, of the wrong shape, or negative or not finite.</exception>
    public static InputStatistics? Load(string path, SafeTensorsFile file, ImagePreparation preparation)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(preparation);
        if (!file.Metadata.TryGetValue("input_statistics", out var text))
        {
            if (TensorNames.FirstOrDefault(n => file.Find(n) is not null) is { } stray)
                throw new DataFormatException(path, $"tensor '{stray}' without its \"input_statistics\" metadata");
            return null;
        }
        double threshold;
        int count;
        try
        {
            var json = JsonNode.Parse(text) as JsonObject ?? throw new FormatException("not a JSON object");
            threshold = (double?)json["threshold"] ?? throw new FormatException("no threshold");
            count = (int?)json["count"] ?? throw new FormatException("no count");
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            throw new DataFormatException(path, $"invalid input_statistics {text}: {e.Message}", e);
        }
        if (!double.IsFinite(threshold) || threshold < 0 || count < 1)
            throw new DataFormatException(path, string.Create(CultureInfo.InvariantCulture,
                $"input_statistics: threshold {threshold} and count {count} must be finite, ≥ 0 and ≥ 1"));
        long[] shape = [preparation.Channels, preparation.Height, preparation.Width];
        var values = TensorNames.Select(name =>
        {
            var entry = ModelMetadata.RequireTensor(path, file, name, "the input statistics");
            if (entry.DType != TensorDType.F32 || !entry.Shape.SequenceEqual(shape))
                throw new DataFormatException(path,
                    $"'{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{string.Join(", ", shape)}]");
            var data = entry.ToSingle();
            if (data.Any(v => !float.IsFinite(v) || v < 0))
                throw new DataFormatException(path, $"'{name}' holds values that are not finite and non-negative");
            return data;
        }).ToList();
        return new InputStatistics(values[0], values[1], threshold, count);
    }
}
