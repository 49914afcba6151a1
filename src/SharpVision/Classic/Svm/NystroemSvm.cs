using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Optim;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Classic.Svm;

/// <summary>The settings of an approximate kernel SVM: the kernel map and the linear solver behind it.</summary>
/// <param name="Kernel">The kernel approximated: RBF, polynomial or linear.</param>
/// <param name="C">Cost of the squared hinge (scikit-learn's <c>LinearSVC</c> C, on the mapped features).</param>
/// <param name="Gamma">γ, resolved on the training rows as <see cref="KernelSvmOptions"/> does.</param>
/// <param name="Components">m: landmarks of the Nyström map, and the length of a mapped row.</param>
/// <param name="Degree">Degree of the polynomial kernel.</param>
/// <param name="Coef0">Constant of the polynomial kernel.</param>
/// <param name="Tolerance">Stopping tolerance of the dual coordinate descent (liblinear's 0.1 by default).</param>
/// <param name="MaxPasses">Pass limit of each one-vs-rest solve.</param>
public sealed record NystroemSvmOptions(KernelKind Kernel = KernelKind.Rbf, double C = 1, GammaSetting Gamma = default, int Components = 2000,
    int Degree = 3, double Coef0 = 0, double Tolerance = 0.1, int MaxPasses = 1000)
{
    /// <summary>The options as run folders and model files record them.</summary>
    public JsonObject ToJson() => new()
    {
        ["approximation"] = "nystroem",
        ["kernel"] = KernelSvmModelFile.KernelName(Kernel),
        ["c"] = C,
        ["gamma"] = Gamma.ToString(),
        ["components"] = Components,
        ["degree"] = Degree,
        ["coef0"] = Coef0,
        ["tol"] = Tolerance,
        ["max_passes"] = MaxPasses,
        ["solver"] = "one-vs-rest squared hinge, dual coordinate descent",
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        new KernelSvmOptions(Kernel, C, Gamma, Degree, Coef0).Validate();
        if (Components is < 1 or > 20_000)
            throw new ArgumentOutOfRangeException(nameof(Components), Components, "The Nyström map needs 1..20,000 components.");
        if (!(Tolerance > 0 && double.IsFinite(Tolerance)))
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The tolerance must be positive.");
        if (MaxPasses < 1) throw new ArgumentOutOfRangeException(nameof(MaxPasses), MaxPasses, "At least one pass is needed.");
    }
}

/// <summary>
/// Fits an approximate kernel SVM on images (kind "nystroem-svm"): the rows (pixels / 255, or standardized features) go
/// through a <see cref="NystroemMap"/> fitted on the training rows, and the exact one-vs-rest linear SVM
/// (<see cref="DualCoordinateDescent"/>, scikit-learn's <c>LinearSVC</c>) is trained on the mapped rows: scikit-learn's
/// <c>make_pipeline(Nystroem(...), LinearSVC(...))</c>. Time and memory grow with N·m rather than N², so it takes all
/// 60,000 Fashion-MNIST images where SMO takes hours.
/// </summary>
/// <example><code>var model = new NystroemSvmTrainer(new(C: 1, Components: 2000)).Fit(train, context: new() { Threads = 2 });</code></example>
public sealed class NystroemSvmTrainer : IClassifierTrainer
{
    /// <param name="options">Kernel, γ, components, C and the solver's settings.</param>
    /// <param name="features">Hand-crafted features instead of pixels (null: pixels / 255).</param>
    /// <param name="seed">Seeds the landmarks, the solver's order and learned feature extractors.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, named.</exception>
    public NystroemSvmTrainer(NystroemSvmOptions options, FeaturePipeline? features = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        (Options, Features, Seed) = (options, features, seed);
    }

    public NystroemSvmOptions Options { get; }

    public FeaturePipeline? Features { get; }

    public int Seed { get; }

    public string Kind => NystroemSvmModelFile.Kind;

    public JsonObject Describe()
    {
        var json = Options.ToJson();
        json["features"] = Features?.CanonicalConfig;
        json["seed"] = Seed;
        return json;
    }

    /// <summary>Fits the map and the linear SVM on <paramref name="train"/>; <paramref name="validation"/> is only scored.</summary>
    /// <exception cref="ArgumentException">No images, or fewer than two classes.</exception>
    public IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        context ??= FitContext.Default;
        if (train.Count == 0) throw new ArgumentException("No training images.", nameof(train));
        if (train.ClassNames.Count < 2 || train.Labels.Distinct().Count() < 2)
            throw new ArgumentException("The training images hold one class; a classifier needs at least two.", nameof(train));
        int threads = context.ResolvedThreads;
        var clock = Stopwatch.StartNew();
        if (Features is not null) context.Report(new FitNote($"features {Features.CanonicalConfig}: fitting on {train.Count:N0} training images"));
        var (input, trainFeatures) = ModelInput.Fit(train, Features, Seed, threads, context.FeatureCache, context.Cancellation);
        var x = trainFeatures ?? ModelInput.Scaled(train.Pixels);
        int d = input.Dimension;
        var kernel = new KernelFunction(Options.Kernel, Options.Gamma.Resolve(x, d), Options.Degree, Options.Coef0);
        int m = Math.Min(Options.Components, train.Count);
        context.Report(new FitNote(string.Create(CultureInfo.InvariantCulture,
            $"Nyström map: {m:N0} landmarks of {train.Count:N0} rows × {d:N0} features, {KernelSvmModelFile.KernelName(kernel.Kind)} " +
            $"kernel, γ = {kernel.Gamma:G4}")));
        var map = NystroemMap.Fit(x, d, kernel, m, Seed, threads);
        double mapSeconds = clock.Elapsed.TotalSeconds;
        context.Cancellation.ThrowIfCancellationRequested();
        var mapped = map.Transform(x, threads);
        int classes = train.ClassNames.Count, done = 0;
        context.Report(new FitNote(string.Create(CultureInfo.InvariantCulture,
            $"linear SVM on the mapped rows: {classes} one-vs-rest problems, C = {Options.C}, {threads} thread(s)")));
        var solved = DualCoordinateDescent.Fit(mapped, train.Labels, m, classes,
            new DualCoordinateDescentOptions(Options.C, Options.Tolerance, Options.MaxPasses, Seed), threads,
            c => context.Report(new FitProgress("linear SVM", Interlocked.Increment(ref done), classes, $"class {train.ClassNames[c]}")),
            cancellationToken: context.Cancellation);
        var model = new NystroemSvmModel(map, solved.Weights, solved.Biases, input, train.ClassNames, Describe());
        var summary = new JsonObject
        {
            ["backend"] = $"nystroem-svm-{Gemm.Provider.Name}",
            ["svm"] = new JsonObject
            {
                ["gamma"] = kernel.Gamma,
                ["components"] = m,
                ["map_seconds"] = mapSeconds,
                ["passes_max"] = solved.Passes.Max(),
                ["converged"] = solved.Converged.All(c => c),
                ["support_vectors"] = new JsonArray(solved.SupportVectors.Select(s => (JsonNode)s).ToArray()),
            },
        };
        context.Report(new FitCompleted(train.Count, validation?.Count ?? 0, summary));
        return model;
    }
}

/// <summary>
/// A fitted approximate kernel SVM: <see cref="ModelInput"/>, the <see cref="NystroemMap"/> and one-vs-rest linear weights
/// on the mapped rows. Scores sᵢ = wᵢ·Φ(x) + bᵢ; probabilities shown are softmax(s), not calibrated (as for the linear
/// SVM). Immutable.
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → rows (q, D) → K(x, L) (q, m) → scores (q, K) by K(x, L)·(P·Wᵀ) + b.</remarks>
public sealed class NystroemSvmModel : IImageClassifier
{
    private readonly float[] _combined;

    /// <param name="map">The kernel map.</param>
    /// <param name="weights">K×m one-vs-rest weights on the mapped rows.</param>
    /// <param name="biases">K biases.</param>
    /// <param name="input">How images become rows.</param>
    /// <param name="classNames">Class names in label order (K).</param>
    /// <param name="options">The options that trained it (recorded).</param>
    /// <exception cref="ArgumentException">Sizes that disagree or non-finite weights.</exception>
    public NystroemSvmModel(NystroemMap map, float[] weights, float[] biases, ModelInput input, IReadOnlyList<string> classNames, JsonObject options)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(biases);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(options);
        int k = classNames.Count, m = map.Components;
        if (k < 2) throw new ArgumentException("A classifier needs at least two classes.", nameof(classNames));
        if (map.Dimension != input.Dimension)
            throw new ArgumentException($"The map reads {map.Dimension} features; the input gives {input.Dimension}.", nameof(input));
        if (weights.LongLength != (long)k * m || biases.Length != k)
            throw new ArgumentException($"{k} classes × {m} components need {k * m} weights and {k} biases.", nameof(weights));
        if (weights.Any(v => !float.IsFinite(v)) || biases.Any(v => !float.IsFinite(v)))
            throw new ArgumentException("The weights hold a NaN or infinite value.", nameof(weights));
        (Map, Weights, Biases, Input, ClassNames, Options) = (map, weights, biases, input, classNames, options);
        // P·Wᵀ (m×K): one GEMM per batch at prediction instead of two.
        _combined = new float[m * k];
        Gemm.Provider.Multiply(false, true, m, k, m, 1f, map.Projection, m, weights, m, 0f, _combined, k, 1);
    }

    public string Kind => NystroemSvmModelFile.Kind;

    public NystroemMap Map { get; }

    /// <summary>K×m weights on the mapped rows.</summary>
    public float[] Weights { get; }

    /// <summary>K biases.</summary>
    public float[] Biases { get; }

    public ModelInput Input { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The options that trained it.</summary>
    public JsonObject Options { get; }

    public ImagePreparation Preparation => Input.Preparation;

    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int t = threads > 0 ? threads : Environment.ProcessorCount;
        return Predictions.Rank(Scores(Input.Floats(images, t), t, softmax: true), ClassNames.Count);
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>, its features read through <paramref name="cache"/> when given.</summary>
    /// <exception cref="ArgumentException">Images of another shape than the model's.</exception>
    public Predictions Predict(ImageDataset dataset, int threads = 0, FeatureCache? cache = null)
    {
        this.EnsureCompatible(dataset);
        int t = threads > 0 ? threads : Environment.ProcessorCount;
        return Predictions.Rank(Scores(Input.Floats(dataset, t, cache), t, softmax: true), ClassNames.Count);
    }

    /// <summary>The decision values w·Φ(x) + b (q×K) of rows already prepared (q×D), or their softmax.</summary>
    /// <exception cref="ArgumentException">Rows that are not whole rows of the map's dimension.</exception>
    public float[] Scores(ReadOnlySpan<float> rows, int threads, bool softmax = false)
    {
        int d = Map.Dimension, m = Map.Components, k = ClassNames.Count;
        if (rows.Length % d != 0) throw new ArgumentException($"{rows.Length} values are not whole rows of {d}.", nameof(rows));
        int q = rows.Length / d;
        var scores = new float[(long)q * k];
        const int Block = 512;
        var kernel = GC.AllocateUninitializedArray<float>(Math.Min(q, Block) * m);
        for (int start = 0; start < q; start += Block)
        {
            int count = Math.Min(Block, q - start);
            Map.KernelRowsOf(rows.Slice(start * d, count * d), count, kernel, threads);
            var block = scores.AsSpan(start * k, count * k);
            for (int i = 0; i < count; i++) Biases.CopyTo(block.Slice(i * k, k));
            Gemm.Provider.Multiply(false, false, count, k, m, 1f, kernel, m, _combined, k, 1f, block, k, threads);
        }
        if (softmax)
            for (int i = 0; i < q; i++) System.Numerics.Tensors.TensorPrimitives.SoftMax(scores.AsSpan(i * k, k), scores.AsSpan(i * k, k));
        return scores;
    }

    public JsonObject Describe()
    {
        var json = Options.DeepClone().AsObject();
        json["type"] = Kind;
        json["classes"] = ClassNames.Count;
        json["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}";
        long m = Map.Components;
        json["parameters"] = m * Map.Dimension + m * m + (long)ClassNames.Count * (m + 1);
        json["gamma_value"] = Map.Kernel.Gamma;
        json["components"] = m;
        json["features"] = Input.Features?.Pipeline.CanonicalConfig;
        json["feature_length"] = Input.Dimension;
        return json;
    }

    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => NystroemSvmModelFile.Save(path, this, metadata);
}
