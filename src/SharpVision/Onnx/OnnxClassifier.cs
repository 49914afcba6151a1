using System.Text.Json;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.IO;
using SharpVision.Tensors;
using SharpVision.Tensors.Autograd;

namespace SharpVision.Onnx;

/// <summary>
/// An ONNX image classifier run on the engine: float pixels 0..255 (N×C×H×W) in, class probabilities out. SharpVision's
/// own exports carry their class names and preparation in metadata_props; for other files the classes are numbered and
/// the preparation comes from the input's declared C×H×W, and outputs that are not already probabilities get a softmax.
/// </summary>
public sealed class OnnxClassifier : IImageClassifier
{
    private const int Batch = 64;
    private readonly OnnxNetwork _inference;
    private readonly bool _outputsProbabilities;

    private OnnxClassifier(OnnxNetwork network, ImagePreparation preparation, IReadOnlyList<string> classNames, bool outputsProbabilities)
    {
        Network = network;
        _inference = network.Folded();
        Preparation = preparation;
        ClassNames = classNames;
        _outputsProbabilities = outputsProbabilities;
    }

    /// <summary>The imported graph (trainable; predictions run its folded form).</summary>
    public OnnxNetwork Network { get; }

    /// <summary>"onnx": the family of every ONNX classifier (a SharpVision export names its network in <see cref="Describe"/>).</summary>
    public string Kind => OnnxModelFile.Kind;

    public IReadOnlyList<string> ClassNames { get; }

    public ImagePreparation Preparation { get; }

    /// <summary>The ONNX bytes the classifier was read from (what <see cref="Save"/> stores).</summary>
    public byte[] Bytes { get; private init; } = [];

    /// <inheritdoc/>
    public JsonObject Describe() => new()
    {
        ["type"] = Kind,
        ["classes"] = ClassNames.Count,
        ["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}",
        ["parameters"] = Network.ParameterCount(),
        ["operators"] = Network.Operators.Count,
        ["exported_from"] = Network.Model.Metadata.FirstOrDefault(m => m.Key == "sharpvision.kind").Value,
        ["producer"] = $"{Network.Model.ProducerName} {Network.Model.ProducerVersion}".Trim(),
        ["opset"] = Network.Model.DefaultOperatorSet,
    };

    /// <inheritdoc/>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => OnnxModelFile.Save(path, this, metadata);

    /// <summary>Reads an ONNX classifier file.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Malformed, unsupported, or not an image classifier (input not N×C×H×W with C 1 or 3, output not N×K).</exception>
    public static OnnxClassifier Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"No such ONNX file: {path}", path);
        if (info.Length > OnnxFormat.MaxFileBytes) throw new DataFormatException(path, $"{info.Length:N0} bytes is larger than the 2 GiB an ONNX protobuf can hold");
        return FromBytes(File.ReadAllBytes(path), path);
    }

    /// <summary>An ONNX classifier from the file's bytes (<paramref name="source"/> names it in errors).</summary>
    /// <exception cref="DataFormatException">Malformed, unsupported, or not an image classifier.</exception>
    public static OnnxClassifier FromBytes(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        string path = source;
        var network = OnnxNetwork.Parse(bytes, source);
        var meta = network.Model.Metadata.GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        try
        {
            var preparation = meta.TryGetValue("preparation", out var prep) ? ParsePreparation(prep) : FromInput(network, path);
            var shape = network.InputShape;
            if (shape is { Count: 4 } && (shape[1].Value != preparation.Channels || shape[2].Value is { } h && h != preparation.Height || shape[3].Value is { } w && w != preparation.Width))
                throw new DataFormatException(path, $"metadata preparation {preparation.Channels}×{preparation.Height}×{preparation.Width} disagrees with input {string.Join("×", shape)}");
            var names = meta.TryGetValue("class_names", out var json) ? JsonSerializer.Deserialize<string[]>(json) ?? throw new JsonException("null") : null;
            names ??= Enumerable.Range(0, OutputClasses(network, preparation, path)).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            if (names.Length < 2) throw new DataFormatException(path, $"a classifier needs at least 2 classes, the model has {names.Length}");
            bool probabilities = meta.GetValueOrDefault("output", "").StartsWith("class probabilities", StringComparison.Ordinal);
            return new OnnxClassifier(network, preparation, names, probabilities) { Bytes = bytes };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new DataFormatException(path, $"invalid SharpVision metadata: {e.Message}", e);
        }
    }

    private static ImagePreparation ParsePreparation(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        var p = new ImagePreparation((int)o["channels"]!, (int)o["height"]!, (int)o["width"]!);
        return p.Channels is 1 or 3 && p.Height is >= 1 and <= 8192 && p.Width is >= 1 and <= 8192 ? p : throw new FormatException($"preparation {json} is out of range");
    }

    private static ImagePreparation FromInput(OnnxNetwork network, string path)
    {
        var s = network.InputShape;
        if (s is not { Count: 4 } || s[1].Value is not (1 or 3) || s[2].Value is not (>= 1 and <= 8192) || s[3].Value is not (>= 1 and <= 8192))
            throw new DataFormatException(path, $"input '{network.InputName}' is {(s is null ? "of unknown shape" : string.Join("×", s))}; an image classifier takes N×C×H×W with C = 1 or 3 and fixed H, W");
        return new ImagePreparation((int)s[1].Value!.Value, (int)s[2].Value!.Value, (int)s[3].Value!.Value);
    }

    // The class count: one forward pass of a blank image.
    private static int OutputClasses(OnnxNetwork network, ImagePreparation p, string path)
    {
        using var _ = GradMode.NoGrad();
        network.Eval();
        var y = network.Forward(Tensor.Zeros(1, p.Channels, p.Height, p.Width));
        return y.Shape.Rank == 2 ? y.Shape[1] : throw new DataFormatException(path, $"output '{network.OutputName}' is {y.Shape}, not N×classes");
    }

    /// <summary>Probabilities for q×C×H×W bytes, 64 images per forward pass.</summary>
    /// <exception cref="ArgumentException">The byte count is not a whole number of images.</exception>
    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int d = Preparation.Channels * Preparation.Height * Preparation.Width, classes = ClassNames.Count;
        if (images.Length % d != 0) throw new ArgumentException($"{images.Length} bytes is not a whole number of {Preparation.Channels}×{Preparation.Height}×{Preparation.Width} images.", nameof(images));
        int count = images.Length / d;
        using var scope = Engine.UseThreads(threads);
        var probabilities = new float[(long)count * classes];
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < count; start += Batch)
        {
            int n = Math.Min(Batch, count - start);
            var x = new float[n * d];
            for (int i = 0; i < x.Length; i++) x[i] = images[start * d + i];
            var y = _inference.Forward(new Tensor(new Shape(n, Preparation.Channels, Preparation.Height, Preparation.Width), x));
            if (y.Size != n * classes) throw new InvalidOperationException($"The model output {y.Shape} for {n} images; expected {n}×{classes}.");
            var rows = probabilities.AsSpan(start * classes, n * classes);
            if (_outputsProbabilities) y.Data.AsSpan(0, n * classes).CopyTo(rows);
            else for (int i = 0; i < n; i++) Ops.SoftmaxRow(y.Data.AsSpan(i * classes, classes), rows.Slice(i * classes, classes));
        }
        return Rank(probabilities, count, classes);
    }

    // Classes by descending probability; ties keep the lower class index first (as NetworkClassifier).
    private static Predictions Rank(float[] probabilities, int count, int classes)
    {
        var ranking = new int[count * classes];
        for (int i = 0; i < count; i++)
        {
            var order = ranking.AsSpan(i * classes, classes);
            for (int j = 0; j < classes; j++) order[j] = j;
            var row = probabilities.AsSpan(i * classes, classes).ToArray();
            order.Sort((a, b) => row[b] != row[a] ? row[b].CompareTo(row[a]) : a.CompareTo(b));
        }
        return new Predictions(count, classes, probabilities, ranking);
    }
}
