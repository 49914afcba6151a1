using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;

namespace SharpVision.Serialization;

/// <summary>A model read back from disk, with everything needed to prepare new images for it.</summary>
/// <param name="Kind">Model type from the closed list ("knn").</param>
/// <param name="Preparation">How raw images become its input.</param>
/// <param name="ClassNames">Class names in label order.</param>
/// <param name="Knn">The k-NN model (when <paramref name="Kind"/> is "knn").</param>
/// <param name="Metadata">All metadata stored in the file.</param>
public sealed record StoredModel(string Kind, ImagePreparation Preparation, IReadOnlyList<string> ClassNames, KNearestNeighborsModel Knn, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Saves and loads SharpVision models as safetensors files. The model type comes from a closed list in
/// <c>__metadata__["model"]</c>; configuration, class names and image preparation are JSON strings beside it.
/// </summary>
public static class ModelStore
{
    public const string FormatVersion = "1";

    /// <summary>Saves a k-NN model (its training images and labels) atomically.</summary>
    public static void Save(string path, KNearestNeighborsModel model, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var train = model.Train;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "sharpvision",
            ["format_version"] = FormatVersion,
            ["model"] = "knn",
            ["config"] = new JsonObject
            {
                ["k"] = model.Options.K,
                ["metric"] = MetricName(model.Options.Metric),
                ["weights"] = model.Options.Weighting == NeighborWeighting.Distance ? "distance" : "uniform",
            }.ToJsonString(),
            ["class_names"] = JsonSerializer.Serialize(train.ClassNames),
            ["preparation"] = new JsonObject { ["channels"] = train.Channels, ["height"] = train.Height, ["width"] = train.Width }.ToJsonString(),
        };
        if (extraMetadata is not null)
            foreach (var (key, value) in extraMetadata) metadata.TryAdd(key, value);
        SafeTensorsFile.Write(path, metadata,
        [
            new TensorEntry("train.images", TensorDType.U8, [train.Count, train.Channels, train.Height, train.Width], train.Pixels),
            TensorEntry.FromInt32("train.labels", train.Labels, train.Count),
        ]);
    }

    /// <summary>Loads and validates a model file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Malformed file or inconsistent model (named in the message).</exception>
    public static StoredModel Load(string path)
    {
        var file = SafeTensorsFile.Read(path);
        var meta = file.Metadata;
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : throw new DataFormatException(path, $"not a SharpVision model: __metadata__ has no '{key}'");
        if (Get("format") != "sharpvision") throw new DataFormatException(path, "not a SharpVision model file (__metadata__.format is not 'sharpvision')");
        if (Get("format_version") != FormatVersion) throw new DataFormatException(path, $"model format version {Get("format_version")} is not supported (this build reads {FormatVersion})");
        var kind = Get("model");
        if (kind != "knn") throw new DataFormatException(path, $"unknown model type '{kind}' (known: knn)");
        try
        {
            var classNames = JsonSerializer.Deserialize<string[]>(Get("class_names")) ?? throw new JsonException("null");
            var prep = JsonNode.Parse(Get("preparation"))!.AsObject();
            var preparation = new ImagePreparation((int)prep["channels"]!, (int)prep["height"]!, (int)prep["width"]!);
            if (preparation.Channels is not (1 or 3) || preparation.Height < 1 || preparation.Width < 1)
                throw new DataFormatException(path, $"invalid preparation {Get("preparation")}");
            var config = JsonNode.Parse(Get("config"))!.AsObject();
            var options = new KNearestNeighborsOptions(
                (int)config["k"]!,
                ParseMetric((string?)config["metric"]) ?? throw new DataFormatException(path, $"unknown metric in {Get("config")}"),
                (string?)config["weights"] switch
                {
                    "uniform" => NeighborWeighting.Uniform,
                    "distance" => NeighborWeighting.Distance,
                    var w => throw new DataFormatException(path, $"unknown weights '{w}'"),
                });
            var images = file.Find("train.images") ?? throw new DataFormatException(path, "k-NN model has no 'train.images' tensor");
            var labels = file.Find("train.labels") ?? throw new DataFormatException(path, "k-NN model has no 'train.labels' tensor");
            long[] expectedShape = [labels.Shape.Length == 1 ? labels.Shape[0] : -1, preparation.Channels, preparation.Height, preparation.Width];
            if (images.DType != TensorDType.U8 || !images.Shape.SequenceEqual(expectedShape))
                throw new DataFormatException(path, $"'train.images' is {images.DType} [{string.Join(", ", images.Shape)}], expected U8 [{string.Join(", ", expectedShape)}]");
            if (labels.DType != TensorDType.I32) throw new DataFormatException(path, $"'train.labels' is {labels.DType}, expected I32");
            var labelValues = labels.ToInt32();
            var train = new ImageDataset("model", preparation.Channels, preparation.Height, preparation.Width, images.Data, labelValues, classNames);
            var model = new KNearestNeighbors(options).Fit(train);
            return new StoredModel(kind, preparation, classNames, model, meta);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException or NullReferenceException)
        {
            throw new DataFormatException(path, $"inconsistent model: {e.Message}", e);
        }
    }

    /// <summary>"l1" or "l2".</summary>
    public static string MetricName(DistanceMetric metric) => metric == DistanceMetric.Manhattan ? "l1" : "l2";

    /// <summary>Parses "l1"/"manhattan" or "l2"/"euclidean" (any case); null otherwise.</summary>
    public static DistanceMetric? ParseMetric(string? text) => text?.ToLowerInvariant() switch
    {
        "l1" or "manhattan" => DistanceMetric.Manhattan,
        "l2" or "euclidean" => DistanceMetric.Euclidean,
        _ => null,
    };
}
