using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Classic;

/// <summary>
/// k-NN model files: the options in "config" ({"k", "metric", "weights"}), and either the training images
/// (train.images U8 N×C×H×W) or, with a feature pipeline, the standardized training features (train.features F32 N×D)
/// with the pipeline's own tensors; train.labels I32 N in both cases.
/// </summary>
public static class KnnModelFile
{
    /// <summary>The model type files record.</summary>
    public const string Kind = "knn";

    /// <summary>Saves a k-NN model on pixels atomically.</summary>
    public static void Save(string path, KNearestNeighborsModel model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var train = model.Train;
        var metadata = Metadata(model.Options, train.ClassNames, model.Preparation, extra);
        SafeTensorsFile.Write(path, metadata,
        [
            new TensorEntry("train.images", TensorDType.U8, [train.Count, train.Channels, train.Height, train.Width], train.Pixels),
            TensorEntry.FromInt32("train.labels", train.Labels, train.Count),
        ]);
    }

    /// <summary>Saves a k-NN model on features atomically: its options, the standardizer, and the standardized training features.</summary>
    public static void Save(string path, FeatureKNearestNeighborsModel model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = Metadata(model.Options, model.ClassNames, model.Preparation, extra);
        var entries = new List<TensorEntry>
        {
            TensorEntry.FromSingle("train.features", model.TrainFeatures, model.TrainCount, model.Features.Length),
            TensorEntry.FromInt32("train.labels", model.TrainLabels, model.TrainCount),
        };
        FeatureStandardizerFile.Add(model.Features, metadata, entries);
        InputStatisticsFile.Add(model.InputStatistics, model.Preparation, metadata, entries);
        SafeTensorsFile.Write(path, metadata, entries);
    }

    /// <summary>The options as model files and run folders record them.</summary>
    public static JsonObject OptionsJson(KNearestNeighborsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new JsonObject
        {
            ["k"] = options.K,
            ["metric"] = NeighborNames.Of(options.Metric),
            ["weights"] = NeighborNames.Of(options.Weighting),
        };
    }

    private static Dictionary<string, string> Metadata(KNearestNeighborsOptions options, IReadOnlyList<string> classNames, ImagePreparation preparation,
        IReadOnlyDictionary<string, string>? extra)
    {
        var metadata = ModelMetadata.Create(Kind, classNames, preparation);
        metadata["config"] = OptionsJson(options).ToJsonString();
        ModelMetadata.AddExtra(metadata, extra);
        return metadata;
    }

    /// <summary>Reads a k-NN model from a file already parsed and identified as "knn".</summary>
    /// <exception cref="DataFormatException">Malformed options, tensors of the wrong type or shape, unknown tensors.</exception>
    public static IImageClassifier Load(string path, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var meta = file.Metadata;
        var classNames = ModelMetadata.ClassNames(path, meta);
        var preparation = ModelMetadata.Preparation(path, meta);
        var options = ReadOptions(path, ModelMetadata.Require(path, meta, "config"));
        var labels = ModelMetadata.RequireTensor(path, file, "train.labels", "the k-NN model");
        if (labels.DType != TensorDType.I32 || labels.Shape.Length != 1)
            throw new DataFormatException(path, $"'train.labels' is {labels.DType} [{string.Join(", ", labels.Shape)}], expected I32 [N]");
        try
        {
            if (FeatureStandardizerFile.Load(path, file, preparation) is { } standardizer)
            {
                var features = ModelMetadata.RequireTensor(path, file, "train.features", "the k-NN feature model");
                long[] expected = [labels.Shape[0], standardizer.Length];
                if (features.DType != TensorDType.F32 || !features.Shape.SequenceEqual(expected))
                    throw new DataFormatException(path, $"'train.features' is {features.DType} [{string.Join(", ", features.Shape)}], " +
                        $"expected F32 [{string.Join(", ", expected)}] ({standardizer.Pipeline.CanonicalConfig})");
                var statistics = InputStatisticsFile.Load(path, file, preparation);
                var known = FeatureStandardizerFile.TensorNames(standardizer).Append("train.features").Append("train.labels")
                    .Concat(statistics is null ? [] : InputStatisticsFile.TensorNames).ToHashSet(StringComparer.Ordinal);
                ModelMetadata.RejectUnknownTensors(path, file, known, "a k-NN feature model");
                return new FeatureKNearestNeighborsModel(options, standardizer, features.ToSingle(), labels.ToInt32(), classNames, statistics);
            }
            var images = ModelMetadata.RequireTensor(path, file, "train.images", "the k-NN model");
            long[] shape = [labels.Shape[0], preparation.Channels, preparation.Height, preparation.Width];
            if (images.DType != TensorDType.U8 || !images.Shape.SequenceEqual(shape))
                throw new DataFormatException(path, $"'train.images' is {images.DType} [{string.Join(", ", images.Shape)}], expected U8 [{string.Join(", ", shape)}]");
            ModelMetadata.RejectUnknownTensors(path, file, new HashSet<string>(["train.images", "train.labels"], StringComparer.Ordinal), "a k-NN model");
            var train = new ImageDataset("model", preparation.Channels, preparation.Height, preparation.Width, images.Data, labels.ToInt32(), classNames);
            return new KNearestNeighbors(options).FitPixels(train);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"inconsistent k-NN model: {e.Message}", e);
        }
    }

    private static KNearestNeighborsOptions ReadOptions(string path, string text)
    {
        try
        {
            var config = OutsideJson.Parse(text) as JsonObject ?? throw new DataFormatException(path, $"config {text} is not a JSON object");
            var metric = NeighborNames.ParseMetric((string?)config["metric"]) ?? throw new DataFormatException(path, $"unknown metric in config {text}");
            var weights = NeighborNames.ParseWeighting((string?)config["weights"]) ?? throw new DataFormatException(path, $"unknown weights in config {text}");
            var options = new KNearestNeighborsOptions((int)config["k"]!, metric, weights);
            options.Validate();
            return options;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or NullReferenceException or FormatException or ArgumentException)
        {
            throw new DataFormatException(path, $"invalid k-NN config {text}: {e.Message}", e);
        }
    }
}
