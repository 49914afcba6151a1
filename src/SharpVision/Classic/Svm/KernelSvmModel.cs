using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Classic.Svm;

/// <summary>
/// Fits a kernel SVM on images (kind "kernel-svm"; scikit-learn's <c>SVC</c>, libsvm's C-SVC): on the pixels scaled to
/// [0, 1], or on standardized hand-crafted features; one-vs-one, see <see cref="KernelSvm"/>. A validation split (given,
/// or <see cref="ValidationFraction"/> held out) calibrates the probabilities.
/// </summary>
/// <example><code>var model = new KernelSvmTrainer(new(C: 10)).Fit(train, context: new() { Threads = 2 });</code></example>
public sealed class KernelSvmTrainer : IClassifierTrainer
{
    /// <param name="options">Kernel, C, γ, tolerance, kernel memory, calibration.</param>
    /// <param name="features">Hand-crafted features instead of pixels (null: pixels / 255).</param>
    /// <param name="seed">Seeds the held-out split and learned feature extractors.</param>
    /// <param name="validationFraction">Share of the training images held out for calibration when none are given (0: none).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, named.</exception>
    public KernelSvmTrainer(KernelSvmOptions options, FeaturePipeline? features = null, int seed = 0, double validationFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1).");
        (Options, Features, Seed, ValidationFraction) = (options, features, seed, validationFraction);
    }

    public KernelSvmOptions Options { get; }

    public FeaturePipeline? Features { get; }

    public int Seed { get; }

    /// <summary>Share of the training images held out to calibrate probabilities when no validation images are given.</summary>
    public double ValidationFraction { get; }

    public string Kind => KernelSvmModelFile.Kind;

    public JsonObject Describe()
    {
        var json = Options.ToJson();
        json["features"] = Features?.CanonicalConfig;
        json["seed"] = Seed;
        json["validation_fraction"] = ValidationFraction;
        return json;
    }

    /// <summary>Solves the one-vs-one problems on <paramref name="train"/>; <paramref name="validation"/> (or a held-out share) calibrates
    /// probabilities.</summary>
    /// <exception cref="ArgumentException">Fewer than two classes, a class without images, or a pipeline that does not fit.</exception>
    public IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        context ??= FitContext.Default;
        if (train.Count == 0) throw new ArgumentException("No training images.", nameof(train));
        if (validation is null && ValidationFraction > 0)
        {
            var (held, kept) = Splits.StratifiedSplit(train.Labels, ValidationFraction, Seed);
            (train, validation) = (train.Subset(kept), train.Subset(held));
        }
        int threads = context.ResolvedThreads;
        // The SVM learns the classes present; the model maps them back to the dataset's (an absent class gets probability 0).
        var present = train.Labels.Distinct().Order().ToArray();
        if (present.Length < 2)
            throw new ArgumentException($"The training images hold one class ({train.ClassNames[present[0]]}); a classifier needs at least two.",
                nameof(train));
        var index = new int[train.ClassNames.Count];
        Array.Fill(index, -1);
        for (int c = 0; c < present.Length; c++) index[present[c]] = c;
        int classes = present.Length;
        if (Features is not null) context.Report(new FitNote($"features {Features.CanonicalConfig}: fitting on {train.Count:N0} training images"));
        using var progress = context.ReportFeatureProgress();
        var (input, trainFeatures) = ModelInput.Fit(train, Features, Seed, threads, context.FeatureCache, context.Cancellation);
        var x = trainFeatures ?? ModelInput.Scaled(train.Pixels);
        if (validation is not null) validation = validation.Subset(Enumerable.Range(0, validation.Count).Where(i =>
            index[validation.Labels[i]] >= 0).ToArray());
        var validationRows = validation is null ? null : input.Floats(validation, threads, context.FeatureCache, context.Cancellation);
        int pairs = classes * (classes - 1) / 2, done = 0;
        context.Report(new FitNote($"kernel SVM: {Options.Kernel.ToString().ToLowerInvariant()} kernel, C = " +
            $"{Options.C.ToString(CultureInfo.InvariantCulture)}, " +
            $"{pairs} one-vs-one problems on {train.Count:N0} rows × {input.Dimension:N0} features, {threads} thread(s)"));
        var solves = new List<PairSolve>();
        var svm = KernelSvm.Fit(x, input.Dimension, train.Labels.Select(y => index[y]).ToArray(), classes, Options, threads, validationRows,
            validation?.Labels.Select(y => index[y]).ToArray(), solve =>
        {
            lock (solves) solves.Add(solve);
            int n = Interlocked.Increment(ref done);
            context.Report(new FitProgress("kernel SVM", n, pairs,
                $"{n}/{pairs} pairs ({train.ClassNames[present[solve.First]]} vs {train.ClassNames[present[solve.Second]]}: {solve.SupportVectors} " +
                    $"support vectors)"));
        }, context.Cancellation);
        var images = SupportImages(svm, train);
        context.Report(new FitCompleted(train.Count, validation?.Count ?? 0, new JsonObject
        {
            ["backend"] = $"kernel-svm-{Tensors.Kernels.Gemm.Provider.Name}",
            ["svm"] = new JsonObject
            {
                ["gamma"] = svm.Kernel.Gamma,
                ["support_vectors"] = svm.SupportVectorCount,
                ["support_per_class"] = new JsonArray(svm.SupportCounts.Select(c => (JsonNode)c).ToArray()),
                ["iterations_max"] = solves.Count == 0 ? 0 : solves.Max(s => s.Iterations),
                ["converged"] = solves.All(s => s.Converged),
                ["calibration"] = validation is { Count: > 0 } && Options.Probability == ProbabilityCalibration.Auto ? "validation"
                    : Options.Probability == ProbabilityCalibration.CrossValidation ? "cross-validation" : "training-decisions",
            },
        }));
        return new KernelSvmModel(svm, input, train.ClassNames, present, images, Describe());
    }

    // The training images of the support vectors, for reports (the model keeps them beside its vectors).
    private static byte[] SupportImages(KernelSvmClassifier svm, ImageDataset train)
    {
        int size = train.SampleSize;
        var images = new byte[(long)svm.SupportVectorCount * size];
        for (int s = 0; s < svm.SupportVectorCount; s++) train.Image(svm.SupportIndices![s]).CopyTo(images.AsSpan(s * size, size));
        return images;
    }
}

/// <summary>
/// A fitted kernel SVM on images: the <see cref="ModelInput"/> and the one-vs-one <see cref="KernelSvmClassifier"/>,
/// with its support vectors' images (for reports). Predictions rank classes by the pairwise-coupled probabilities, as libsvm's
/// <c>svm_predict_probability</c> does (the one-vs-one vote, scikit-learn's <c>predict</c>, agrees except between near-equal
/// classes: <see cref="KernelSvmClassifier.Votes"/> gives it). Immutable.
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → rows (q, D) → decisions (q, K(K−1)/2) → probabilities (q, K).</remarks>
public sealed class KernelSvmModel : IImageClassifier
{
    /// <param name="svm">The fitted classifier.</param>
    /// <param name="input">How images become rows.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="classes">The classes the SVM learned (its class i is <paramref name="classNames"/>[classes[i]]), ascending.</param>
    /// <param name="supportImages">The support vectors' images, nSV×C×H×W bytes in the classifier's order.</param>
    /// <param name="options">The options that trained it, as JSON (recorded, not used to predict).</param>
    /// <exception cref="ArgumentException">Sizes that disagree, or class indices that are not ascending within the class names.</exception>
    public KernelSvmModel(KernelSvmClassifier svm, ModelInput input, IReadOnlyList<string> classNames, int[] classes, byte[] supportImages,
        JsonObject options)
    {
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(svm);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(supportImages);
        ArgumentNullException.ThrowIfNull(options);
        if (svm.Dimension != input.Dimension)
            throw new ArgumentException($"The SVM reads {svm.Dimension} features; the input gives {input.Dimension}.", nameof(input));
        if (svm.Classes != classes.Length)
            throw new ArgumentException($"The SVM knows {svm.Classes} classes; {classes.Length} class indices given.", nameof(classes));
        for (int c = 0; c < classes.Length; c++)
            if ((uint)classes[c] >= (uint)classNames.Count || (c > 0 && classes[c] <= classes[c - 1]))
                throw new ArgumentException($"The learned classes must be ascending indices into the {classNames.Count} class names.",
                    nameof(classes));
        var p = input.Preparation;
        if (supportImages.LongLength != (long)svm.SupportVectorCount * p.Channels * p.Height * p.Width)
            throw new ArgumentException($"{svm.SupportVectorCount} support images of {p.Channels}×{p.Height}×{p.Width} disagree with " +
                $"{supportImages.Length} bytes.",
                nameof(supportImages));
        (Svm, Input, ClassNames, Classes, SupportImages, Options) = (svm, input, classNames, classes, supportImages, options);
    }

    public string Kind => KernelSvmModelFile.Kind;

    public KernelSvmClassifier Svm { get; }

    public ModelInput Input { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The classes the SVM learned, as indices into <see cref="ClassNames"/> (every class, unless one had no training images).</summary>
    public int[] Classes { get; }

    /// <summary>The support vectors' images, nSV×C×H×W, grouped by class (<see cref="KernelSvmClassifier.SupportCounts"/>).</summary>
    public byte[] SupportImages { get; }

    /// <summary>The options that trained it.</summary>
    public JsonObject Options { get; }

    public ImagePreparation Preparation => Input.Preparation;

    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int t = threads > 0 ? threads : Environment.ProcessorCount;
        return FromRows(Input.Floats(images, t), t);
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>, its features read through <paramref name="cache"/> when given.</summary>
    /// <exception cref="ArgumentException">Images of another shape than the model's.</exception>
    public Predictions Predict(ImageDataset dataset, int threads = 0, FeatureCache? cache = null)
    {
        this.EnsureCompatible(dataset);
        int t = threads > 0 ? threads : Environment.ProcessorCount;
        return FromRows(Input.Floats(dataset, t, cache), t);
    }

    private Predictions FromRows(float[] rows, int threads)
    {
        var decisions = Svm.DecisionValues(rows, threads);
        var learned = Svm.Probabilities(decisions);
        int k = ClassNames.Count, q = learned.Length / Svm.Classes;
        var probabilities = new float[q * k];
        for (int i = 0; i < q; i++)
            for (int c = 0; c < Svm.Classes; c++) probabilities[i * k + Classes[c]] = (float)learned[i * Svm.Classes + c];
        return Predictions.Rank(probabilities, k);
    }

    public JsonObject Describe()
    {
        var json = Options.DeepClone().AsObject();
        json["type"] = Kind;
        json["classes"] = ClassNames.Count;
        json["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}";
        json["parameters"] = (long)Svm.SupportVectorCount * (Svm.Dimension + Svm.Classes - 1) + Svm.Pairs;
        json["gamma_value"] = Svm.Kernel.Gamma;
        json["support_vectors"] = Svm.SupportVectorCount;
        json["features"] = Input.Features?.Pipeline.CanonicalConfig;
        json["feature_length"] = Input.Dimension;
        return json;
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => KernelSvmModelFile.Save(path, this, metadata);
}
