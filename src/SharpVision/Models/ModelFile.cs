using SharpVision.Classic;
using SharpVision.Classic.Svm;
using SharpVision.Classic.Trees;
using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Onnx;
using SharpVision.Serialization;

namespace SharpVision.Models;

/// <summary>
/// Loads any SharpVision model file. The file's "model" metadata picks a loader from a closed table (nothing in a file
/// names code to run); the loader checks every tensor against what the model needs before building it. A path ending
/// in ".onnx" is read as an ONNX classifier (<see cref="OnnxClassifier"/>) and runs on the engine.
/// </summary>
/// <example><code>
/// IImageClassifier model = ModelFile.Load("runs/cnn2/model.safetensors");
/// var top = model.Predict(imageBytes).Top(0, 3);
/// </code></example>
public static class ModelFile
{
    private delegate IImageClassifier Loader(string path, SafeTensorsFile file, string kind);

    private static readonly Dictionary<string, Loader> Loaders = new(StringComparer.Ordinal)
    {
        [KnnModelFile.Kind] = (path, file, _) => KnnModelFile.Load(path, file),
        ["svm"] = NetworkModelFile.Load,
        ["softmax"] = NetworkModelFile.Load,
        ["logistic"] = NetworkModelFile.Load,
        ["mlp"] = NetworkModelFile.Load,
        ["cnn2"] = NetworkModelFile.Load,
        ["resnet8"] = NetworkModelFile.Load,
        ["resnet20"] = NetworkModelFile.Load,
        ["vit"] = NetworkModelFile.Load,
        ["cct"] = NetworkModelFile.Load,
        ["resnet18"] = NetworkModelFile.Load, // fine-tuned: the whole network is in the file
        [TreeModelFile.TreeKind] = TreeModelFile.Load,
        [TreeModelFile.ForestKind] = TreeModelFile.Load,
        [TreeModelFile.BoostKind] = TreeModelFile.Load,
        [KernelSvmModelFile.Kind] = (path, file, _) => KernelSvmModelFile.Load(path, file),
        [NystroemSvmModelFile.Kind] = (path, file, _) => NystroemSvmModelFile.Load(path, file),
        [OnnxModelFile.Kind] = (path, file, _) => OnnxModelFile.Load(path, file),
    };

    /// <summary>The model types a file may hold (a closed list).</summary>
    public static IReadOnlyList<string> Kinds { get; } = Loaders.Keys.ToArray();

    /// <summary>Loads and validates the model in <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Not a SharpVision model, an unknown type, or a malformed or inconsistent model (named in the message).</exception>
    public static IImageClassifier Load(string path) => Load(path, out _);

    /// <summary>Loads the model in <paramref name="path"/> and returns all the metadata stored with it (the dataset name, ...).</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="DataFormatException">Not a SharpVision model, an unknown type, or a malformed or inconsistent model.</exception>
    public static IImageClassifier Load(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            // An ONNX classifier (a SharpVision export or any file of the supported operators), run on the engine.
            var onnx = OnnxClassifier.Load(path);
            metadata = onnx.Network.Model.Metadata.GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Last().Value);
            return onnx;
        }
        var file = SafeTensorsFile.Read(path);
        metadata = file.Metadata;
        var kind = ModelMetadata.Kind(path, file.Metadata);
        if (!Loaders.TryGetValue(kind, out var load))
            throw new DataFormatException(path, $"unknown model type '{kind}' (known: {string.Join(", ", Kinds)})");
        return load(path, file, kind);
    }
}
