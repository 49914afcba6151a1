using SharpVision.Onnx;
using SharpVision.Serialization;

namespace SharpVision.Cli.Commands;

/// <summary>The model files commands accept: SharpVision's safetensors files, and ONNX classifiers (".onnx") run on the engine.</summary>
internal static class ModelFiles
{
    /// <summary>True for a path named *.onnx.</summary>
    public static bool IsOnnx(string path) => path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loads either kind of file (an ONNX file as <see cref="OnnxClassifier"/>).</summary>
    /// <exception cref="SharpVision.IO.DataFormatException">Malformed or unsupported file.</exception>
    public static StoredModel Load(string path)
    {
        if (!IsOnnx(path)) return ModelStore.Load(path);
        var onnx = OnnxClassifier.Load(path);
        var metadata = onnx.Network.Model.Metadata.GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        return new StoredModel(onnx.Kind, onnx.Preparation, onnx.ClassNames, onnx, metadata);
    }

    /// <summary>"cnn2 (ONNX), 421,834 parameters" or the network's description from the model store.</summary>
    public static string Describe(StoredModel stored) => stored.Model is OnnxClassifier onnx
        ? $"{onnx.Kind} (ONNX, {onnx.Network.Operators.Count} operators), {onnx.Network.ParameterCount():N0} parameters"
        : $"{stored.Kind}, {stored.Network!.Network.ParameterCount():N0} parameters";

    /// <summary>The backend string of evaluate's JSON for a network or an ONNX classifier.</summary>
    public static string Backend(StoredModel stored) => stored.Model is OnnxClassifier onnx
        ? "onnx+" + Reporting.NetworkBackend(onnx.Network)
        : Reporting.NetworkBackend(stored.Network!.Network);
}
