using System.Security.Cryptography;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Models;

namespace SharpVision.Web;

/// <summary>
/// One loaded model file: the classifier, how images are prepared for it, and its card. Immutable: a reload builds a
/// new one and swaps it in, while batches already running keep theirs.
/// </summary>
public sealed class ServedModel
{
    private ServedModel(string name, string path, string kind, IImageClassifier classifier, ModelCard card)
    {
        Name = name;
        Path = path;
        Kind = kind;
        Classifier = classifier;
        Card = card;
    }

    /// <summary>The name in URLs.</summary>
    public string Name { get; }

    /// <summary>The model file's full path.</summary>
    public string Path { get; }

    /// <summary>The model kind ("cnn2", "knn", ...).</summary>
    public string Kind { get; }

    /// <summary>The fitted classifier.</summary>
    public IImageClassifier Classifier { get; }

    /// <summary>C×H×W of the model's input.</summary>
    public ImagePreparation Preparation => Classifier.Preparation;

    /// <summary>Class names in label order.</summary>
    public IReadOnlyList<string> ClassNames => Classifier.ClassNames;

    /// <summary>What <c>GET /v1/models</c> shows.</summary>
    public ModelCard Card { get; }

    /// <summary>The run's report.html beside the model file, or null.</summary>
    public string? ReportPath => Card.ReportUrl is null ? null : System.IO.Path.Combine(System.IO.Path.GetDirectoryName(Path)!, "report.html");

    /// <summary>Reads, validates and hashes a model file, and puts the classifier in its inference form (warm-up is the worker's).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Not a valid model file (the message says why).</exception>
    public static ServedModel Load(string name, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new FileNotFoundException($"{path}: model file not found", full);
        // Hash before and after parsing: a file replaced meanwhile cannot give a card whose hash belongs to another model.
        var (hash, length) = Hash(full);
        var classifier = ModelFile.Load(full); // any kind the toolkit trains or imports
        if (Hash(full).Sha256 != hash) throw new DataFormatException(full, "the file changed while it was being loaded");
        var served = InferenceForm(classifier);
        var card = ModelCard.Describe(name, full, served, hash, length);
        return new ServedModel(name, full, classifier.Kind, served, card);
    }

    /// <summary>
    /// The classifier in the form it is served: a network frozen in its inference form (<see cref="NetworkClassifier.Frozen"/>:
    /// batch norms folded, convolution blocks fused, weights packed) once, here, rather than on every
    /// <see cref="IImageClassifier.Predict"/> call (which rebuilds it, so a model still being trained predicts with its
    /// current weights). Same predictions; other kinds are served as they are.
    /// </summary>
    public static IImageClassifier InferenceForm(IImageClassifier classifier)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        return classifier is NetworkClassifier network ? network.Frozen() : classifier;
    }

    private static (string Sha256, long Length) Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return (Convert.ToHexStringLower(SHA256.HashData(stream)), stream.Length);
    }

}

/// <summary>A model's card, as <c>GET /v1/models</c> lists it.</summary>
/// <param name="Name">The name in URLs.</param>
/// <param name="Kind">Model kind ("cnn2", "knn", "softmax", ...).</param>
/// <param name="Classes">Class names in label order.</param>
/// <param name="Input">The C×H×W images are converted and resized to.</param>
/// <param name="Parameters">Stored values the model predicts with (a network's weights; a k-NN model's reference data), when it says.</param>
/// <param name="ReferenceImages">Training images a k-NN model compares against; null for other kinds.</param>
/// <param name="TestAccuracy">Test accuracy recorded in the run folder's metrics.json beside the model, or null.</param>
/// <param name="Sha256">SHA-256 of the model file, lowercase hex.</param>
/// <param name="FileBytes">Size of the model file.</param>
/// <param name="Backend">The kernels predictions run on.</param>
/// <param name="Path">The model file's full path.</param>
/// <param name="ReportUrl">Where the run's report.html is served, when it sits beside the model.</param>
/// <param name="LoadedAt">When this version of the file was loaded (UTC).</param>
/// <param name="Settings">The family's own description (<see cref="IImageClassifier.Describe"/>: loss, architecture, k, ...).</param>
public sealed record ModelCard(string Name, string Kind, IReadOnlyList<string> Classes, InputCard Input, long? Parameters, long? ReferenceImages,
    double? TestAccuracy, string Sha256, long FileBytes, string Backend, string Path, string? ReportUrl, DateTimeOffset LoadedAt, JsonObject Settings)
{
    /// <summary>The card of a loaded classifier; reads the run folder's metrics.json and looks for report.html.</summary>
    public static ModelCard Describe(string name, string path, IImageClassifier classifier, string sha256, long fileBytes)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        var folder = System.IO.Path.GetDirectoryName(path)!;
        var p = classifier.Preparation;
        var input = new InputCard(p.Channels, p.Height, p.Width, p.Channels == 1 ? "gray" : "rgb",
            "decoded, converted to the channels above and resized to height×width; the model normalizes pixels itself");
        var settings = classifier.Describe();
        long? parameters = settings["parameters"] is JsonValue value && value.TryGetValue(out long count) ? count : null;
        (long? references, string backend) = classifier switch
        {
            NetworkClassifier n => ((long?)null, EngineBackend.Of(n.InferenceNetwork())), // what predictions run on
            KNearestNeighborsModel k => (k.Train.Count, $"knn-{NeighborSearch.ByteBackend(k.Options.Metric)}"),
            FeatureKNearestNeighborsModel f => (f.TrainCount, $"knn-{NeighborSearch.FloatBackend(f.Options.Metric)}"),
            _ => ((long?)null, "managed"),
        };
        var report = File.Exists(System.IO.Path.Combine(folder, "report.html")) ? $"/v1/models/{name}/report" : null;
        return new ModelCard(name, classifier.Kind, classifier.ClassNames.ToArray(), input, parameters, references, RecordedAccuracy(folder), sha256,
            fileBytes, backend, path, report, DateTimeOffset.UtcNow, settings);
    }

    // metrics.json's metrics.test.accuracy, when the model sits in the run folder that trained it.
    private static double? RecordedAccuracy(string folder)
    {
        var metrics = System.IO.Path.Combine(folder, "metrics.json");
        if (!File.Exists(metrics)) return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(metrics))?["metrics"]?["test"]?["accuracy"];
            return node is JsonValue value && value.TryGetValue(out double accuracy) ? accuracy : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>The images a model takes.</summary>
/// <param name="Channels">1 (gray) or 3 (RGB).</param>
/// <param name="Height">Rows.</param>
/// <param name="Width">Columns.</param>
/// <param name="Color">"gray" or "rgb".</param>
/// <param name="Preparation">What happens to an upload before the model sees it.</param>
public sealed record InputCard(int Channels, int Height, int Width, string Color, string Preparation);
