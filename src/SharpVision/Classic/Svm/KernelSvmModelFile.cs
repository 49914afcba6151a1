using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Classic.Svm;

/// <summary>
/// Model files of kernel SVMs ("kernel-svm"), in libsvm's layout.
/// </summary>
/// <remarks>
/// <para>Metadata: the shared keys (<see cref="ModelMetadata"/>), "config" (the options, recorded), "kernel"
/// ({"kind", "gamma", "degree", "coef0"}: what predictions use), and the feature pipeline's "features" when there is one.</para>
/// <para>Tensors: support.images U8 [nSV, C, H, W] (the support vectors' images; on pixels they are the vectors,
/// x = byte / 255); support.vectors F32 [nSV, D] on features only; support.counts I32 [P]; support.indices I32 [nSV]
/// (rows of the training set); support.classes I32 [P] (the dataset classes the SVM learned, ascending: all of them unless some had
/// no training images; the layout below counts those P classes); dual_coef F64 [P − 1, nSV]; rho F64 [P(P − 1)/2]; prob_a, prob_b F64 [P(P −
/// 1)/2]; and
/// the feature pipeline's tensors. The loader checks every size and value before building the model.</para>
/// </remarks>
public static class KernelSvmModelFile
{
    /// <summary>The model type files record.</summary>
    public const string Kind = "kernel-svm";

    /// <summary>"linear", "poly" or "rbf" (scikit-learn's names).</summary>
    public static string KernelName(KernelKind kind) => kind switch
    {
        KernelKind.Linear => "linear",
        KernelKind.Polynomial => "poly",
        _ => "rbf",
    };

    /// <summary>Parses "linear", "poly"/"polynomial" or "rbf" (any case); null otherwise.</summary>
    public static KernelKind? ParseKernel(string? text) => text?.ToLowerInvariant() switch
    {
        "linear" => KernelKind.Linear,
        "poly" or "polynomial" => KernelKind.Polynomial,
        "rbf" => KernelKind.Rbf,
        _ => null,
    };

    /// <summary>Saves a kernel SVM atomically.</summary>
    public static void Save(string path, KernelSvmModel model, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var svm = model.Svm;
        var p = model.Preparation;
        var metadata = ModelMetadata.Create(Kind, model.ClassNames, p);
        metadata["config"] = model.Options.ToJsonString();
        metadata["kernel"] = KernelJson(svm.Kernel);
        ModelMetadata.AddExtra(metadata, extra);
        int n = svm.SupportVectorCount, pairs = svm.Pairs;
        var entries = new List<TensorEntry> { new("support.images", TensorDType.U8, [n, p.Channels, p.Height, p.Width], model.SupportImages) };
        if (model.Input.Features is not null) entries.Add(TensorEntry.FromSingle("support.vectors", svm.SupportVectors, n, svm.Dimension));
        entries.Add(TensorEntry.FromInt32("support.classes", model.Classes, svm.Classes));
        entries.Add(TensorEntry.FromInt32("support.counts", svm.SupportCounts, svm.Classes));
        entries.Add(TensorEntry.FromInt32("support.indices", svm.SupportIndices ?? new int[n], n));
        entries.Add(Doubles("dual_coef", svm.Coefficients, svm.Classes - 1, n));
        entries.Add(Doubles("rho", svm.Rho, pairs));
        if (svm.ProbabilityA is { } a && svm.ProbabilityB is { } b)
        {
            entries.Add(Doubles("prob_a", a, pairs));
            entries.Add(Doubles("prob_b", b, pairs));
        }
        if (model.Input.Features is { } features) FeatureStandardizerFile.Add(features, metadata, entries);
        SafeTensorsFile.Write(path, metadata, entries);
    }

    /// <summary>Reads a kernel SVM from a file already parsed and identified as "kernel-svm".</summary>
    /// <exception cref="DataFormatException">A malformed kernel, tensors of the wrong type or shape, values that are not finite, unknown
    /// tensors.</exception>
    public static IImageClassifier Load(string path, SafeTensorsFile file)
    {
        var (classNames, preparation, options, kernel, standardizer) = ReadHeader(path, file);
        var classEntry = ModelMetadata.RequireTensor(path, file, "support.classes", "the kernel SVM");
        if (classEntry.DType != TensorDType.I32 || classEntry.Shape.Length != 1 || classEntry.Shape[0] < 2 || classEntry.Shape[0] > classNames.Length)
            throw new DataFormatException(path, $"'support.classes' is {classEntry.DType} [{string.Join(", ", classEntry.Shape)}], expected I32 " +
                $"[2..{classNames.Length}]");
        var learned = classEntry.ToInt32();
        int classes = learned.Length, pairs = classes * (classes - 1) / 2;
        var counts = ModelMetadata.RequireTensor(path, file, "support.counts", "the kernel SVM");
        if (counts.DType != TensorDType.I32 || !counts.Shape.SequenceEqual([classes]))
            throw new DataFormatException(path, $"'support.counts' is {counts.DType} [{string.Join(", ", counts.Shape)}], expected I32 [{classes}]");
        var supportCounts = counts.ToInt32();
        if (supportCounts.Any(c => c < 0)) throw new DataFormatException(path, "'support.counts' holds a negative count");
        long n = supportCounts.Sum(c => (long)c);
        if (n > int.MaxValue / Math.Max(1, preparation.Channels * preparation.Height * preparation.Width))
            throw new DataFormatException(path, $"{n} support vectors is too many");
        var images = ModelMetadata.RequireTensor(path, file, "support.images", "the kernel SVM");
        long[] imageShape = [n, preparation.Channels, preparation.Height, preparation.Width];
        if (images.DType != TensorDType.U8 || !images.Shape.SequenceEqual(imageShape))
            throw new DataFormatException(path, $"'support.images' is {images.DType} [{string.Join(", ", images.Shape)}], expected U8 " +
                $"[{string.Join(", ", imageShape)}]");
        var known = new HashSet<string>(["support.images", "support.classes", "support.counts", "support.indices", "dual_coef", "rho", "prob_a",
            "prob_b"],
            StringComparer.Ordinal);
        float[] vectors;
        int dimension;
        if (standardizer is null)
        {
            vectors = ModelInput.Scaled(images.Data);
            dimension = preparation.Channels * preparation.Height * preparation.Width;
        }
        else
        {
            dimension = standardizer.Length;
            var entry = ModelMetadata.RequireTensor(path, file, "support.vectors", "the kernel SVM on features");
            if (entry.DType != TensorDType.F32 || !entry.Shape.SequenceEqual([n, dimension]))
                throw new DataFormatException(path, $"'support.vectors' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F32 [{n}, " +
                    $"{dimension}]");
            vectors = entry.ToSingle();
            known.Add("support.vectors");
            known.UnionWith(FeatureStandardizerFile.TensorNames(standardizer));
        }
        ModelMetadata.RejectUnknownTensors(path, file, known, "a kernel SVM");
        var indices = ModelMetadata.RequireTensor(path, file, "support.indices", "the kernel SVM");
        if (indices.DType != TensorDType.I32 || !indices.Shape.SequenceEqual([n]))
            throw new DataFormatException(path, $"'support.indices' is {indices.DType} [{string.Join(", ", indices.Shape)}], expected I32 [{n}]");
        var coefficients = ReadDoubles(path, file, "dual_coef", [classes - 1, n]);
        var rho = ReadDoubles(path, file, "rho", [pairs]);
        double[]? probA = file.Find("prob_a") is null ? null : ReadDoubles(path, file, "prob_a", [pairs]);
        double[]? probB = file.Find("prob_b") is null ? null : ReadDoubles(path, file, "prob_b", [pairs]);
        try
        {
            var svm = new KernelSvmClassifier(kernel, classes, dimension, vectors, supportCounts, coefficients, rho, indices.ToInt32(), probA, probB);
            return new KernelSvmModel(svm, new ModelInput(preparation, standardizer), classNames, learned, images.Data, options);
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException(path, $"inconsistent kernel SVM: {e.Message}", e);
        }
    }

    /// <summary>The "kernel" metadata value: what predictions use.</summary>
    internal static string KernelJson(KernelFunction kernel) => new JsonObject
    {
        ["kind"] = KernelName(kernel.Kind), ["gamma"] = kernel.Gamma, ["degree"] = kernel.Degree, ["coef0"] = kernel.Coef0,
    }.ToJsonString();

    /// <summary>What every kernel model file holds besides its tensors: classes, preparation, options, kernel, feature standardizer.</summary>
    internal static (string[] ClassNames, ImagePreparation Preparation, JsonObject Options, KernelFunction Kernel, FeatureStandardizer? Standardizer)
        ReadHeader(string path, SafeTensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var meta = file.Metadata;
        var preparation = ModelMetadata.Preparation(path, meta);
        return (ModelMetadata.ClassNames(path, meta), preparation, JsonObject(path, ModelMetadata.Require(path, meta, "config"), "config"),
            ReadKernel(path, ModelMetadata.Require(path, meta, "kernel")), FeatureStandardizerFile.Load(path, file, preparation));
    }

    private static TensorEntry Doubles(string name, double[] values, params long[] shape) =>
        new(name, TensorDType.F64, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static double[] ReadDoubles(string path, SafeTensorsFile file, string name, long[] shape)
    {
        var entry = ModelMetadata.RequireTensor(path, file, name, "the kernel SVM");
        if (entry.DType != TensorDType.F64 || !entry.Shape.SequenceEqual(shape))
            throw new DataFormatException(path, $"'{name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], expected F64 " +
                $"[{string.Join(", ", shape)}]");
        var values = MemoryMarshal.Cast<byte, double>(entry.Data).ToArray();
        if (values.Any(v => !double.IsFinite(v))) throw new DataFormatException(path, $"'{name}' holds NaN or infinite values");
        return values;
    }

    private static KernelFunction ReadKernel(string path, string text)
    {
        var o = JsonObject(path, text, "kernel");
        try
        {
            var kind = ParseKernel((string?)o["kind"]) ?? throw new DataFormatException(path, $"unknown kernel in {text} (known: linear, poly, rbf)");
            double gamma = (double)o["gamma"]!, coef0 = (double)o["coef0"]!;
            int degree = (int)o["degree"]!;
            if (!double.IsFinite(gamma) || !double.IsFinite(coef0) || degree is < 1 or > 20 || (kind != KernelKind.Linear && !(gamma > 0)))
                throw new DataFormatException(path, $"kernel parameters out of range in {text}");
            return new KernelFunction(kind, gamma, degree, coef0);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new DataFormatException(path, $"invalid kernel {text}: {e.Message}", e);
        }
    }

    private static JsonObject JsonObject(string path, string text, string key)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new DataFormatException(path, $"{key} {text} is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(path, $"{key} is not valid JSON: {e.Message}", e);
        }
    }
}
