using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Onnx;

/// <summary>
/// An ONNX classifier as a SharpVision model file: the ONNX bytes as one U8 tensor "onnx" in a safetensors file with the
/// shared metadata, so <c>ModelFile.Load</c> and run folders treat it like every other model. ONNX files themselves
/// (*.onnx) are read by <see cref="OnnxClassifier.Load"/>.
/// </summary>
public static class OnnxModelFile
{
    /// <summary>The model type these files carry.</summary>
    public const string Kind = "onnx";

    /// <summary>Writes <paramref name="model"/> atomically.</summary>
    public static void Save(string path, OnnxClassifier model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var metadata = ModelMetadata.Create(Kind, model.ClassNames, model.Preparation);
        ModelMetadata.AddExtra(metadata, extra);
        SafeTensorsFile.Write(path, metadata, [new TensorEntry("onnx", TensorDType.U8, [model.Bytes.Length], model.Bytes)]);
    }

    /// <summary>The classifier in a file <see cref="Save"/> wrote.</summary>
    /// <exception cref="DataFormatException">No "onnx" tensor, or the ONNX bytes are malformed or unsupported.</exception>
    public static OnnxClassifier Load(string path, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var entry = file.Find("onnx") ?? throw new DataFormatException(path, "an onnx model file has no 'onnx' tensor");
        if (entry.DType != TensorDType.U8 || entry.Shape.Length != 1) throw new DataFormatException(path, $"'onnx' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected U8 [bytes]");
        var extra = file.Tensors.Select(t => t.Name).FirstOrDefault(n => n != "onnx");
        if (extra is not null) throw new DataFormatException(path, $"tensor '{extra}' is not part of an onnx model file");
        return OnnxClassifier.FromBytes(entry.Data, path);
    }
}
