using SharpVision.IO;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Nn;

namespace SharpVision.Serialization;

/// <summary>A model read back from disk, with everything needed to prepare new images for it.</summary>
/// <param name="Kind">Model type from the closed list ("knn").</param>
/// <param name="Preparation">How raw images become its input.</param>
/// <param name="ClassNames">Class names in label order.</param>
/// <param name="Model">The model.</param>
/// <param name="Metadata">All metadata stored in the file.</param>
public sealed record StoredModel(string Kind, ImagePreparation Preparation, IReadOnlyList<string> ClassNames, IImageClassifier Model, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>The k-NN model on pixels, when <see cref="Kind"/> is "knn" and the file has no features.</summary>
    public KNearestNeighborsModel? Knn => Model as KNearestNeighborsModel;

    /// <summary>The k-NN model on standardized features (<c>train --model knn --features SPEC</c>).</summary>
    public FeatureKNearestNeighborsModel? FeatureKnn => Model as FeatureKNearestNeighborsModel;

    /// <summary>The k-NN options of either k-NN model; null for networks.</summary>
    public KNearestNeighborsOptions? KnnOptions => Knn?.Options ?? FeatureKnn?.Options;

    /// <summary>The model's feature pipeline and standardization, or null when it reads pixels.</summary>
    public Features.FeatureStandardizer? Features => FeatureKnn?.Features ?? Network?.Features;

    /// <summary>The network model (svm, softmax, logistic, mlp).</summary>
    public NetworkClassifier? Network => Model as NetworkClassifier;
}

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
        var metadata = KnnMetadata(model.Options, train.ClassNames, model.Preparation);
        if (extraMetadata is not null)
            foreach (var (key, value) in extraMetadata) metadata.TryAdd(key, value);
        SafeTensorsFile.Write(path, metadata,
        [
            new TensorEntry("train.images", TensorDType.U8, [train.Count, train.Channels, train.Height, train.Width], train.Pixels),
            TensorEntry.FromInt32("train.labels", train.Labels, train.Count),
        ]);
    }

    /// <summary>
    /// Saves a k-NN model on features atomically: its options, the pipeline's canonical config and learned
    /// vocabularies, the standardization, and the standardized training features (F32 N×D) with their labels.
    /// </summary>
    public static void Save(string path, FeatureKNearestNeighborsModel model, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = KnnMetadata(model.Options, model.ClassNames, model.Preparation);
        if (extraMetadata is not null)
            foreach (var (key, value) in extraMetadata) metadata.TryAdd(key, value);
        var entries = new List<TensorEntry>
        {
            TensorEntry.FromSingle("train.features", model.TrainFeatures, model.TrainCount, model.Features.Length),
            TensorEntry.FromInt32("train.labels", model.TrainLabels, model.TrainCount),
        };
        AddFeatures(model.Features, metadata, entries);
        SafeTensorsFile.Write(path, metadata, entries);
    }

    private static Dictionary<string, string> KnnMetadata(KNearestNeighborsOptions options, IReadOnlyList<string> classNames, ImagePreparation preparation) => new(StringComparer.Ordinal)
    {
        ["format"] = "sharpvision",
        ["format_version"] = FormatVersion,
        ["model"] = "knn",
        ["config"] = new JsonObject
        {
            ["k"] = options.K,
            ["metric"] = MetricName(options.Metric),
            ["weights"] = options.Weighting == NeighborWeighting.Distance ? "distance" : "uniform",
        }.ToJsonString(),
        ["class_names"] = JsonSerializer.Serialize(classNames),
        ["preparation"] = new JsonObject { ["channels"] = preparation.Channels, ["height"] = preparation.Height, ["width"] = preparation.Width }.ToJsonString(),
    };

    // The "features" metadata (canonical spec, length) and tensors: features.mean, features.scale, and
    // features.vocabulary.<i> for each learned bag-of-words extractor i.
    private static void AddFeatures(Features.FeatureStandardizer f, Dictionary<string, string> metadata, List<TensorEntry> entries)
    {
        metadata["features"] = new JsonObject { ["spec"] = f.Pipeline.CanonicalConfig, ["length"] = f.Length }.ToJsonString();
        entries.Add(TensorEntry.FromSingle("features.mean", f.Mean, f.Length));
        entries.Add(TensorEntry.FromSingle("features.scale", f.Scale, f.Length));
        for (int i = 0; i < f.Pipeline.Extractors.Count; i++)
            if (f.Pipeline.Extractors[i] is Features.BagOfVisualWords bag)
            {
                var vocabulary = bag.Vocabulary;
                entries.Add(TensorEntry.FromSingle($"features.vocabulary.{i}", vocabulary, vocabulary.Length));
            }
    }

    // The names AddFeatures writes for this standardizer.
    private static IEnumerable<string> FeatureTensorNames(Features.FeatureStandardizer f) =>
        new[] { "features.mean", "features.scale" }.Concat(Enumerable.Range(0, f.Pipeline.Extractors.Count)
            .Where(i => f.Pipeline.Extractors[i] is Features.BagOfVisualWords).Select(i => $"features.vocabulary.{i}"));

    // The pipeline (vocabularies restored) and standardization a file's "features" metadata describes; null without it.
    private static Features.FeatureStandardizer? LoadFeatures(string path, SafeTensorsFile file, ImagePreparation preparation)
    {
        if (!file.Metadata.TryGetValue("features", out var featureJson)) return null;
        var spec = (string?)JsonNode.Parse(featureJson)!["spec"] ?? throw new DataFormatException(path, "features metadata has no spec");
        try
        {
            var pipeline = Features.FeaturePipeline.Parse(spec);
            for (int i = 0; i < pipeline.Extractors.Count; i++)
                if (pipeline.Extractors[i] is Features.BagOfVisualWords bag)
                    bag.SetVocabulary((file.Find($"features.vocabulary.{i}") ?? throw new DataFormatException(path, $"no 'features.vocabulary.{i}' tensor")).ToSingle());
            return new Features.FeatureStandardizer(pipeline, preparation.Channels, preparation.Height, preparation.Width,
                (file.Find("features.mean") ?? throw new DataFormatException(path, "no 'features.mean' tensor")).ToSingle(),
                (file.Find("features.scale") ?? throw new DataFormatException(path, "no 'features.scale' tensor")).ToSingle());
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"invalid features: {e.Message}", e);
        }
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
        if (!KnownModels.Contains(kind)) throw new DataFormatException(path, $"unknown model type '{kind}' (known: {string.Join(", ", KnownModels)})");
        try
        {
            if (kind != "knn") return LoadNetwork(path, file, kind);
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
            if (LoadFeatures(path, file, preparation) is { } standardizer) return LoadFeatureKnn(path, file, kind, preparation, classNames, options, standardizer);
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

    private static StoredModel LoadFeatureKnn(string path, SafeTensorsFile file, string kind, ImagePreparation preparation, string[] classNames,
        KNearestNeighborsOptions options, Features.FeatureStandardizer standardizer)
    {
        var features = file.Find("train.features") ?? throw new DataFormatException(path, "k-NN feature model has no 'train.features' tensor");
        var labels = file.Find("train.labels") ?? throw new DataFormatException(path, "k-NN feature model has no 'train.labels' tensor");
        if (labels.DType != TensorDType.I32 || labels.Shape.Length != 1) throw new DataFormatException(path, $"'train.labels' is {labels.DType} [{string.Join(", ", labels.Shape)}], expected I32 [N]");
        long[] expected = [labels.Shape[0], standardizer.Length];
        if (features.DType != TensorDType.F32 || !features.Shape.SequenceEqual(expected))
            throw new DataFormatException(path, $"'train.features' is {features.DType} [{string.Join(", ", features.Shape)}], expected F32 [{string.Join(", ", expected)}] ({standardizer.Pipeline.CanonicalConfig})");
        var known = FeatureTensorNames(standardizer).Append("train.features").Append("train.labels").ToHashSet(StringComparer.Ordinal);
        var extra = file.Tensors.Select(t => t.Name).FirstOrDefault(n => !known.Contains(n));
        if (extra is not null) throw new DataFormatException(path, $"tensor '{extra}' is not part of a k-NN feature model");
        var model = new FeatureKNearestNeighborsModel(options, standardizer, features.ToSingle(), labels.ToInt32(), classNames);
        return new StoredModel(kind, preparation, classNames, model, file.Metadata);
    }

    /// <summary>The model types a file may hold (a closed list).</summary>
    public static IReadOnlyList<string> KnownModels { get; } = ["knn", "svm", "softmax", "logistic", "mlp", "cnn2", "resnet8", "resnet20"];

    /// <summary>Saves a network model (linear classifier, logistic regression, MLP) atomically.</summary>
    public static void Save(string path, NetworkClassifier model, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var n = model.Normalizer;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "sharpvision",
            ["format_version"] = FormatVersion,
            ["model"] = model.Kind,
            ["architecture"] = Architecture.ToJson(model.Network).ToJsonString(),
            ["loss"] = LossName(model.Loss),
            ["tta"] = model.FlipAveraging ? "flip" : "none",
            ["normalization"] = new JsonObject { ["mode"] = Normalizer.Name(n.Mode), ["channels"] = n.Channels, ["sample_size"] = n.SampleSize }.ToJsonString(),
            ["class_names"] = JsonSerializer.Serialize(model.ClassNames),
            ["preparation"] = new JsonObject { ["channels"] = model.Preparation.Channels, ["height"] = model.Preparation.Height, ["width"] = model.Preparation.Width }.ToJsonString(),
        };
        if (extraMetadata is not null)
            foreach (var (key, value) in extraMetadata) metadata.TryAdd(key, value);
        var entries = new List<TensorEntry>
        {
            TensorEntry.FromSingle("normalizer.mean", n.Mean, n.Mean.Length),
            TensorEntry.FromSingle("normalizer.scale", n.Scale, n.Scale.Length),
        };
        foreach (var (name, p) in model.Network.NamedParameters())
            entries.Add(TensorEntry.FromSingle("param." + name, p.Data, p.Shape.ToArray().Select(d => (long)d).ToArray()));
        foreach (var (name, values) in model.Network.NamedBuffers())
            entries.Add(TensorEntry.FromSingle("buffer." + name, values, values.Length));
        if (model.Features is { } f) AddFeatures(f, metadata, entries);
        SafeTensorsFile.Write(path, metadata, entries);
    }

    /// <summary>Saves any SharpVision model.</summary>
    public static void Save(string path, IImageClassifier model, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        switch (model)
        {
            case KNearestNeighborsModel knn: Save(path, knn, extraMetadata); break;
            case FeatureKNearestNeighborsModel knn: Save(path, knn, extraMetadata); break;
            case NetworkClassifier network: Save(path, network, extraMetadata); break;
            default: throw new ArgumentException($"Cannot save a {model?.GetType().Name ?? "null"}.", nameof(model));
        }
    }

    private static StoredModel LoadNetwork(string path, SafeTensorsFile file, string kind)
    {
        var meta = file.Metadata;
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : throw new DataFormatException(path, $"{kind} model: __metadata__ has no '{key}'");
        var classNames = JsonSerializer.Deserialize<string[]>(Get("class_names")) ?? throw new JsonException("class_names is null");
        var prep = JsonNode.Parse(Get("preparation"))!.AsObject();
        var preparation = new ImagePreparation((int)prep["channels"]!, (int)prep["height"]!, (int)prep["width"]!);
        if (preparation.Channels is not (1 or 3) || preparation.Height < 1 || preparation.Width < 1 || (long)preparation.Height * preparation.Width > 1 << 24)
            throw new DataFormatException(path, $"invalid preparation {Get("preparation")}");
        var loss = ParseLoss(Get("loss")) ?? throw new DataFormatException(path, $"unknown loss '{Get("loss")}' (known: hinge, squared-hinge-ovr, softmax, logistic)");
        var architecture = JsonNode.Parse(Get("architecture")) as JsonArray ?? throw new DataFormatException(path, "architecture is not a JSON array");
        Sequential network;
        try
        {
            network = Architecture.FromJson(architecture);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            throw new DataFormatException(path, $"invalid architecture: {e.Message}", e);
        }
        foreach (var (name, p) in network.NamedParameters())
        {
            var entry = file.Find("param." + name) ?? throw new DataFormatException(path, $"the architecture needs tensor 'param.{name}', which the file lacks");
            long[] expected = p.Shape.ToArray().Select(d => (long)d).ToArray();
            if (entry.DType != TensorDType.F32 || !entry.Shape.SequenceEqual(expected))
                throw new DataFormatException(path, $"'param.{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{string.Join(", ", expected)}]");
            var values = entry.ToSingle();
            if (values.Any(v => !float.IsFinite(v))) throw new DataFormatException(path, $"'param.{name}' holds NaN or infinite values");
            values.CopyTo(p.Data, 0);
        }
        foreach (var (name, values) in network.NamedBuffers())
        {
            var entry = file.Find("buffer." + name) ?? throw new DataFormatException(path, $"the architecture needs tensor 'buffer.{name}', which the file lacks");
            if (entry.DType != TensorDType.F32 || entry.Shape.Length != 1 || entry.Shape[0] != values.Length)
                throw new DataFormatException(path, $"'buffer.{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{values.Length}]");
            var stored = entry.ToSingle();
            if (stored.Any(v => !float.IsFinite(v))) throw new DataFormatException(path, $"'buffer.{name}' holds NaN or infinite values");
            stored.CopyTo(values, 0);
        }
        var known = network.NamedParameters().Select(p => "param." + p.Name).ToHashSet(StringComparer.Ordinal);
        var extra = file.Tensors.Select(t => t.Name).FirstOrDefault(n => n.StartsWith("param.", StringComparison.Ordinal) && !known.Contains(n));
        if (extra is not null) throw new DataFormatException(path, $"tensor '{extra}' is not a parameter of the architecture");
        var norm = JsonNode.Parse(Get("normalization"))!.AsObject();
        var mode = Normalizer.Parse((string?)norm["mode"]) ?? throw new DataFormatException(path, $"unknown normalization {Get("normalization")}");
        var mean = file.Find("normalizer.mean") ?? throw new DataFormatException(path, "no 'normalizer.mean' tensor");
        var scale = file.Find("normalizer.scale") ?? throw new DataFormatException(path, "no 'normalizer.scale' tensor");
        var normalizer = new Normalizer(mode, preparation.Channels, preparation.Channels * preparation.Height * preparation.Width, mean.ToSingle(), scale.ToSingle());
        var features = LoadFeatures(path, file, preparation);
        var model = new NetworkClassifier(kind, network, loss, normalizer, preparation, classNames, features)
        {
            FlipAveraging = meta.TryGetValue("tta", out var tta) && tta == "flip",
        };
        int inputs = network.Layers.FirstOrDefault() is Conv2d conv ? conv.Inputs * preparation.Height * preparation.Width : network.Layers.OfType<Linear>().First().Inputs;
        int outputs = network.Layers.OfType<Linear>().LastOrDefault()?.Outputs ?? -1;
        if (inputs != model.InputLength || outputs != model.Outputs)
            throw new DataFormatException(path, $"the network maps {inputs} inputs to {outputs} outputs; the model's input has {model.InputLength} values and it needs {model.Outputs} outputs");
        return new StoredModel(kind, preparation, classNames, model, meta);
    }

    /// <summary>"hinge", "softmax", "logistic", "squared-hinge-ovr".</summary>
    public static string LossName(ClassifierLoss loss) => loss switch
    {
        ClassifierLoss.Hinge => "hinge",
        ClassifierLoss.Softmax => "softmax",
        ClassifierLoss.SquaredHinge => "squared-hinge-ovr",
        _ => "logistic",
    };

    internal static ClassifierLoss? ParseLoss(string text) => text switch
    {
        "hinge" => ClassifierLoss.Hinge,
        "softmax" => ClassifierLoss.Softmax,
        "logistic" => ClassifierLoss.Logistic,
        "squared-hinge-ovr" => ClassifierLoss.SquaredHinge,
        _ => null,
    };

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
