using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Nn;

/// <summary>
/// Network model files (linear classifiers, logistic regression, MLPs, CNNs): the architecture as data from a closed
/// list of layer types ("architecture"), the loss, test-time augmentation ("tta"), the input normalization
/// ("normalization", tensors normalizer.mean/scale) or a feature pipeline, and one tensor per parameter (param.NAME)
/// and running statistic (buffer.NAME). Every shape is checked against the architecture and every value must be finite.
/// </summary>
public static class NetworkModelFile
{
    /// <summary>Saves <paramref name="model"/> atomically.</summary>
    public static void Save(string path, NetworkClassifier model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var n = model.Normalizer;
        var metadata = ModelMetadata.Create(model.Kind, model.ClassNames, model.Preparation);
        metadata["architecture"] = Architecture.ToJson(model.Network).ToJsonString();
        metadata["loss"] = LossName(model.Loss);
        metadata["tta"] = model.FlipAveraging ? "flip" : "none";
        metadata["normalization"] = new JsonObject { ["mode"] = Normalizer.Name(n.Mode), ["channels"] = n.Channels, ["sample_size"] = n.SampleSize }.ToJsonString();
        ModelMetadata.AddExtra(metadata, extra);
        var entries = new List<TensorEntry>
        {
            TensorEntry.FromSingle("normalizer.mean", n.Mean, n.Mean.Length),
            TensorEntry.FromSingle("normalizer.scale", n.Scale, n.Scale.Length),
        };
        foreach (var (name, p) in model.Network.NamedParameters())
            entries.Add(TensorEntry.FromSingle("param." + name, p.Data, p.Shape.ToArray().Select(d => (long)d).ToArray()));
        foreach (var (name, values) in model.Network.NamedBuffers())
            entries.Add(TensorEntry.FromSingle("buffer." + name, values, values.Length));
        if (model.Features is { } f) FeatureStandardizerFile.Add(f, metadata, entries);
        InputStatisticsFile.Add(model.InputStatistics, model.Preparation, metadata, entries);
        SafeTensorsFile.Write(path, metadata, entries);
    }

    /// <summary>Reads a network model from a file already parsed and identified as <paramref name="kind"/>.</summary>
    /// <exception cref="DataFormatException">Malformed metadata, an architecture outside the closed list, tensors that do not fit it.</exception>
    public static NetworkClassifier Load(string path, SafeTensorsFile file, string kind)
    {
        ArgumentNullException.ThrowIfNull(file);
        var meta = file.Metadata;
        var classNames = ModelMetadata.ClassNames(path, meta);
        var preparation = ModelMetadata.Preparation(path, meta);
        var lossText = ModelMetadata.Require(path, meta, "loss");
        var loss = ParseLoss(lossText) ?? throw new DataFormatException(path, $"unknown loss '{lossText}' (known: hinge, squared-hinge-ovr, softmax, logistic)");
        Sequential network;
        try
        {
            var architecture = OutsideJson.Parse(ModelMetadata.Require(path, meta, "architecture")) as JsonArray
                ?? throw new DataFormatException(path, "architecture is not a JSON array");
            // The architecture may not ask for more than the file's parameter and buffer tensors hold: checked layer by
            // layer before any layer allocates, so a small file cannot make the loader build a huge network. A little
            // slack (4 MB) lets a small disagreement be built and then reported below by tensor name.
            var stored = file.Tensors.Where(t => t.DType == TensorDType.F32
                    && (t.Name.StartsWith("param.", StringComparison.Ordinal) || t.Name.StartsWith("buffer.", StringComparison.Ordinal)))
                .Select(t => t.Data.LongLength / 4).ToList();
            const long slack = 1 << 20;
            network = Architecture.FromJson(architecture, stored.Sum() + slack, stored.DefaultIfEmpty(0).Max() + slack);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or System.Text.Json.JsonException)
        {
            throw new DataFormatException(path, $"invalid architecture: {e.Message}", e);
        }
        foreach (var (name, p) in network.NamedParameters())
        {
            var entry = ModelMetadata.RequireTensor(path, file, "param." + name, $"the {kind} architecture");
            long[] expected = p.Shape.ToArray().Select(d => (long)d).ToArray();
            if (entry.DType != TensorDType.F32 || !entry.Shape.SequenceEqual(expected))
                throw new DataFormatException(path, $"'param.{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{string.Join(", ", expected)}]");
            CopyFinite(path, "param." + name, entry.ToSingle(), p.Data);
        }
        foreach (var (name, values) in network.NamedBuffers())
        {
            var entry = ModelMetadata.RequireTensor(path, file, "buffer." + name, $"the {kind} architecture");
            if (entry.DType != TensorDType.F32 || entry.Shape.Length != 1 || entry.Shape[0] != values.Length)
                throw new DataFormatException(path, $"'buffer.{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{values.Length}]");
            CopyFinite(path, "buffer." + name, entry.ToSingle(), values);
        }
        var normalizer = ReadNormalizer(path, file, preparation);
        var features = FeatureStandardizerFile.Load(path, file, preparation);
        var statistics = InputStatisticsFile.Load(path, file, preparation);
        var known = network.NamedParameters().Select(p => "param." + p.Name)
            .Concat(network.NamedBuffers().Select(b => "buffer." + b.Name))
            .Concat(["normalizer.mean", "normalizer.scale"])
            .Concat(features is null ? [] : FeatureStandardizerFile.TensorNames(features))
            .Concat(statistics is null ? [] : InputStatisticsFile.TensorNames)
            .ToHashSet(StringComparer.Ordinal);
        ModelMetadata.RejectUnknownTensors(path, file, known, $"the {kind} model");
        NetworkClassifier model;
        try
        {
            bool flip = meta.TryGetValue("tta", out var tta) && tta == "flip";
            model = new NetworkClassifier(kind, network, loss, normalizer, preparation, classNames, features, flip, statistics);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"inconsistent {kind} model: {e.Message}", e);
        }
        int inputs = (network.Layers.Count > 0 ? network.Layers[0] : null) switch
        {
            Conv2d conv => conv.Inputs * preparation.Height * preparation.Width,
            ImageNetInput i => (i.Channels, i.Height, i.Width) == (preparation.Channels, preparation.Height, preparation.Width)
                ? i.Channels * i.Height * i.Width : -1,
            // a patch embedding fixes the image size (its position embeddings are per patch), not only the value count
            PatchEmbedding p => (p.Channels, p.Height, p.Width) == (preparation.Channels, preparation.Height, preparation.Width)
                ? p.Channels * p.Height * p.Width : -1,
            _ => network.Layers.OfType<Linear>().FirstOrDefault()?.Inputs ?? -1,
        };
        int outputs = network.Layers.OfType<Linear>().LastOrDefault()?.Outputs ?? -1;
        if (inputs != model.InputLength || outputs != model.Outputs)
            throw new DataFormatException(path, $"the network maps {inputs} inputs to {outputs} outputs; the model's input has {model.InputLength} values and it needs {model.Outputs} outputs");
        return model;
    }

    private static void CopyFinite(string path, string name, float[] stored, float[] destination)
    {
        foreach (float v in stored)
            if (!float.IsFinite(v)) throw new DataFormatException(path, $"'{name}' holds NaN or infinite values");
        stored.CopyTo(destination, 0);
    }

    private static Normalizer ReadNormalizer(string path, SafeTensorsFile file, ImagePreparation preparation)
    {
        var text = ModelMetadata.Require(path, file.Metadata, "normalization");
        try
        {
            var norm = OutsideJson.Parse(text) as JsonObject ?? throw new DataFormatException(path, $"normalization {text} is not a JSON object");
            var mode = Normalizer.Parse((string?)norm["mode"]) ?? throw new DataFormatException(path, $"unknown normalization {text}");
            var mean = ModelMetadata.RequireTensor(path, file, "normalizer.mean", "the input normalization").ToSingle();
            var scale = ModelMetadata.RequireTensor(path, file, "normalizer.scale", "the input normalization").ToSingle();
            return new Normalizer(mode, preparation.Channels, preparation.Channels * preparation.Height * preparation.Width, mean, scale);
        }
        catch (Exception e) when (e is ArgumentException or System.Text.Json.JsonException or InvalidOperationException)
        {
            throw new DataFormatException(path, $"invalid normalization {text}: {e.Message}", e);
        }
    }

    /// <summary>"hinge", "softmax", "logistic", "squared-hinge-ovr".</summary>
    public static string LossName(ClassifierLoss loss) => loss switch
    {
        ClassifierLoss.Hinge => "hinge",
        ClassifierLoss.Softmax => "softmax",
        ClassifierLoss.SquaredHinge => "squared-hinge-ovr",
        _ => "logistic",
    };

    /// <summary>The loss a file names; null for an unknown name.</summary>
    public static ClassifierLoss? ParseLoss(string text) => text switch
    {
        "hinge" => ClassifierLoss.Hinge,
        "softmax" => ClassifierLoss.Softmax,
        "logistic" => ClassifierLoss.Logistic,
        "squared-hinge-ovr" => ClassifierLoss.SquaredHinge,
        _ => null,
    };
}
