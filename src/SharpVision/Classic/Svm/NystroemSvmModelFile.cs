using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Classic.Svm;

/// <summary>Model files of approximate kernel SVMs ("nystroem-svm").</summary>
/// <remarks>
/// <para>Metadata: the shared keys (<see cref="ModelMetadata"/>), "config" (the options, recorded), "kernel" ({"kind",
/// "gamma", "degree", "coef0"}, as kernel SVM files hold it), and the feature pipeline's "features" when there is one.</para>
/// <para>Tensors: nystroem.landmarks F32 [m, D]; nystroem.projection F32 [m, m]; svm.weight F32 [K, m]; svm.bias F32 [K];
/// and the feature pipeline's tensors. The loader checks every size and value before building the model.</para>
/// </remarks>
public static class NystroemSvmModelFile
{
    /// <summary>The model type files record.</summary>
    public const string Kind = "nystroem-svm";

    /// <summary>Saves an approximate kernel SVM atomically.</summary>
    public static void Save(string path, NystroemSvmModel model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var map = model.Map;
        var metadata = ModelMetadata.Create(Kind, model.ClassNames, model.Preparation);
        metadata["config"] = model.Options.ToJsonString();
        metadata["kernel"] = KernelSvmModelFile.KernelJson(map.Kernel);
        ModelMetadata.AddExtra(metadata, extra);
        int m = map.Components, k = model.ClassNames.Count;
        var entries = new List<TensorEntry>
        {
            TensorEntry.FromSingle("nystroem.landmarks", map.Landmarks, m, map.Dimension),
            TensorEntry.FromSingle("nystroem.projection", map.Projection, m, m),
            TensorEntry.FromSingle("svm.weight", model.Weights, k, m),
            TensorEntry.FromSingle("svm.bias", model.Biases, k),
        };
        if (model.Input.Features is { } features) FeatureStandardizerFile.Add(features, metadata, entries);
        SafeTensorsFile.Write(path, metadata, entries);
    }

    /// <summary>Reads an approximate kernel SVM from a file already parsed and identified as "nystroem-svm".</summary>
    /// <exception cref="DataFormatException">A malformed kernel, tensors of the wrong type or shape, values that are not finite,
    /// unknown tensors.</exception>
    public static IImageClassifier Load(string path, SafeTensorsFile file)
    {
        var (classNames, preparation, options, kernel, standardizer) = KernelSvmModelFile.ReadHeader(path, file);
        long dimension = standardizer?.Length ?? (long)preparation.Channels * preparation.Height * preparation.Width;
        var landmarks = ModelMetadata.RequireTensor(path, file, "nystroem.landmarks", "the Nyström SVM");
        if (landmarks.DType != TensorDType.F32 || landmarks.Shape.Length != 2 || landmarks.Shape[1] != dimension
            || landmarks.Shape[0] is < 1 or > 20_000)
            throw new DataFormatException(path, $"'nystroem.landmarks' is {landmarks.DType} [{string.Join(", ", landmarks.Shape)}], expected F32 " +
                $"[1..20000, {dimension}]");
        long m = landmarks.Shape[0], k = classNames.Length;
        var projection = Floats(path, file, "nystroem.projection", [m, m]);
        var weights = Floats(path, file, "svm.weight", [k, m]);
        var biases = Floats(path, file, "svm.bias", [k]);
        var known = new HashSet<string>(["nystroem.landmarks", "nystroem.projection", "svm.weight", "svm.bias"], StringComparer.Ordinal);
        if (standardizer is not null) known.UnionWith(FeatureStandardizerFile.TensorNames(standardizer));
        ModelMetadata.RejectUnknownTensors(path, file, known, "a Nyström SVM");
        try
        {
            var map = new NystroemMap(kernel, (int)dimension, landmarks.ToSingle(), projection);
            return new NystroemSvmModel(map, weights, biases, new ModelInput(preparation, standardizer), classNames, options);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"inconsistent Nyström SVM: {e.Message}", e);
        }
    }

    private static float[] Floats(string path, SafeTensorsFile file, string name, long[] shape)
    {
        var entry = ModelMetadata.RequireTensor(path, file, name, "the Nyström SVM");
        if (entry.DType != TensorDType.F32 || !entry.Shape.SequenceEqual(shape))
            throw new DataFormatException(path, $"'{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 " +
                $"[{string.Join(", ", shape)}]");
        return entry.ToSingle();
    }
}
