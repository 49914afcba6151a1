using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Classic;

/// <summary>Options of <see cref="KNearestNeighbors"/>.</summary>
/// <param name="K">Neighbours that vote (default 5).</param>
/// <param name="Metric">L1 (<see cref="DistanceMetric.Manhattan"/>) or L2 (<see cref="DistanceMetric.Euclidean"/>).</param>
/// <param name="Weighting">Uniform votes or 1/distance.</param>
/// <param name="Features">Search standardized hand-crafted features instead of pixels (null: pixels).</param>
/// <param name="Seed">Seeds learned feature extractors (k-means of a bag of visual words).</param>
public sealed record KNearestNeighborsOptions(int K = 5, DistanceMetric Metric = DistanceMetric.Euclidean, NeighborWeighting Weighting = NeighborWeighting.Uniform,
    FeaturePipeline? Features = null, int Seed = 0)
{
    /// <summary>Throws when an option is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">k below 1, an unknown metric or weighting.</exception>
    public void Validate()
    {
        if (K < 1) throw new ArgumentOutOfRangeException(nameof(K), K, "k must be at least 1.");
        if (!Enum.IsDefined(Metric)) throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Unknown metric.");
        if (!Enum.IsDefined(Weighting)) throw new ArgumentOutOfRangeException(nameof(Weighting), Weighting, "Unknown weighting.");
    }
}

/// <summary>
/// k-nearest-neighbour classifier: "training" memorizes the training set (or its standardized features); prediction
/// finds each query's k nearest training images and lets them vote. Tie-breaking is documented on
/// <see cref="NeighborVoting"/>: equal distances favour the lower training index, equal votes the class whose member is nearest.
/// </summary>
/// <example><code>var model = new KNearestNeighbors(new(K: 5, DistanceMetric.Manhattan)).Fit(train);</code></example>
public sealed class KNearestNeighbors : IClassifierTrainer
{
    /// <summary>A trainer with <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range.</exception>
    public KNearestNeighbors(KNearestNeighborsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>k, metric, weighting, features.</summary>
    public KNearestNeighborsOptions Options { get; }

    /// <inheritdoc/>
    public string Kind => KnnModelFile.Kind;

    /// <inheritdoc/>
    public JsonObject Describe()
    {
        var json = KnnModelFile.OptionsJson(Options);
        json["features"] = Options.Features?.CanonicalConfig;
        json["seed"] = Options.Seed;
        return json;
    }

    /// <summary>
    /// Memorizes <paramref name="train"/>'s pixels (a <see cref="KNearestNeighborsModel"/>), or fits the feature
    /// pipeline and its standardization on it and memorizes the standardized features (a <see cref="FeatureKNearestNeighborsModel"/>).
    /// k-NN has nothing to validate: <paramref name="validation"/> is not used.
    /// </summary>
    /// <exception cref="ArgumentException">k exceeds the training images, fewer than two classes, or a pipeline that does not fit the images.</exception>
    public IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        context ??= FitContext.Default;
        CheckData(train);
        using var progress = context.ReportFeatureProgress();
        IImageClassifier model = Options.Features is null
            ? FitPixels(train)
            : FitFeatures(train, Options.Features, Options.Seed, context.ResolvedThreads, context.FeatureCache, context.Cancellation);
        var backend = Options.Features is null ? NeighborSearch.ByteBackend(Options.Metric) : NeighborSearch.FloatBackend(Options.Metric);
        context.Report(new FitCompleted(train.Count, 0, new JsonObject { ["backend"] = $"knn-{backend}" }));
        return model;
    }

    /// <summary>Memorizes <paramref name="train"/> (shared, not copied).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When k exceeds the training set size.</exception>
    public KNearestNeighborsModel FitPixels(ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (Options.K > train.Count)
            throw new ArgumentOutOfRangeException(nameof(train), $"k = {Options.K} exceeds the {train.Count} training images.");
        return new KNearestNeighborsModel(Options, train);
    }

    /// <summary>
    /// k-NN on hand-crafted features: fits <paramref name="pipeline"/>'s learned parts and the per-feature
    /// standardization on <paramref name="train"/> only, and memorizes its standardized feature vectors.
    /// </summary>
    /// <param name="train">The training split.</param>
    /// <param name="pipeline">The extractors (fitted here when they learn).</param>
    /// <param name="seed">Seed of learned extractors (k-means).</param>
    /// <param name="threads">Worker threads for extraction.</param>
    /// <param name="cache">Feature cache, or null.</param>
    /// <param name="cancellationToken">Cancels extraction.</param>
    /// <exception cref="ArgumentOutOfRangeException">k exceeds the training set size.</exception>
    /// <exception cref="ArgumentException">The pipeline does not fit the images or the data.</exception>
    public FeatureKNearestNeighborsModel FitFeatures(ImageDataset train, FeaturePipeline pipeline, int seed, int threads,
        FeatureCache? cache = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(pipeline);
        if (Options.K > train.Count)
            throw new ArgumentOutOfRangeException(nameof(train), $"k = {Options.K} exceeds the {train.Count} training images.");
        FeatureStandardizer standardizer;
        float[] features;
        try
        {
            (standardizer, features) = FeatureStandardizer.Fit(pipeline, train, seed, threads, cache, cancellationToken);
        }
        catch (ArgumentException e) when (e is not ModelSetupException)
        {
            throw new ModelSetupException("features", e.Message, e);
        }
        return new FeatureKNearestNeighborsModel(Options with { Features = pipeline, Seed = seed }, standardizer, features, train.Labels,
            train.ClassNames, InputStatistics.Compute(train));
    }

    // A classifier needs two classes to choose between; k-NN would otherwise answer the one class for everything.
    private void CheckData(ImageDataset train)
    {
        if (train.Count == 0) throw new ArgumentException("No training images.", nameof(train));
        if (train.Labels.Distinct().Take(2).Count() < 2)
            throw new ArgumentException($"The training images hold one class ({train.ClassNames[train.Labels[0]]}); a classifier needs at least two.", nameof(train));
        if (Options.K > train.Count)
            throw new ArgumentOutOfRangeException(nameof(train), $"k = {Options.K} exceeds the {train.Count} training images.");
    }
}

/// <summary>A fitted k-NN model: the training images plus the options.</summary>
public sealed class KNearestNeighborsModel : IImageClassifier
{
    internal KNearestNeighborsModel(KNearestNeighborsOptions options, ImageDataset train)
    {
        Options = options;
        Train = train;
        _inputStatistics = new Lazy<InputStatistics>(() => InputStatistics.Compute(Train));
    }

    private readonly Lazy<InputStatistics> _inputStatistics;

    /// <inheritdoc/>
    /// <remarks>Computed from the memorized training images when first asked for (so every k-NN file has them).</remarks>
    public InputStatistics? InputStatistics => _inputStatistics.Value;

    /// <summary>k, metric and weighting.</summary>
    public KNearestNeighborsOptions Options { get; }

    /// <inheritdoc/>
    public string Kind => KnnModelFile.Kind;

    /// <inheritdoc/>
    public JsonObject Describe()
    {
        var json = KnnModelFile.OptionsJson(Options);
        json["type"] = Kind;
        json["classes"] = ClassNames.Count;
        json["preparation"] = $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width}";
        json["parameters"] = (long)Train.Count * Train.SampleSize;
        json["train_count"] = Train.Count;
        json["input_statistics"] = InputStatistics?.ToJson();
        return json;
    }

    /// <inheritdoc/>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => KnnModelFile.Save(path, this, metadata);

    /// <summary>The memorized training images.</summary>
    public ImageDataset Train { get; }

    public IReadOnlyList<string> ClassNames => Train.ClassNames;

    public ImagePreparation Preparation => new(Train.Channels, Train.Height, Train.Width);

    /// <summary>Searches neighbours for queries laid out like the training images (q×C×H×W bytes).</summary>
    /// <exception cref="ArgumentException">When the query size does not match the training images.</exception>
    public NeighborResult Neighbors(ReadOnlySpan<byte> queries, int threads = 0) =>
        NeighborSearch.Search(Train.Pixels, Train.Labels, Train.ClassNames.Count, queries, Train.SampleSize, Options.Metric, Options.K, threads);

    /// <summary>Probabilities (vote shares) and class rankings for each query.</summary>
    /// <exception cref="ArgumentException">The byte count is not a whole number of the training images' shape.</exception>
    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        if (images.Length % Train.SampleSize != 0)
            throw new ArgumentException($"{images.Length} bytes is not a whole number of {Train.Channels}×{Train.Height}×{Train.Width} images.", nameof(images));
        return Vote(Neighbors(images, threads));
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>, which must have the training images' shape.</summary>
    public Predictions Predict(ImageDataset dataset, int threads = 0)
    {
        if (dataset.Channels != Train.Channels || dataset.Height != Train.Height || dataset.Width != Train.Width)
            throw new ArgumentException(
                $"Images are {dataset.Channels}×{dataset.Height}×{dataset.Width}; the model was fitted on {Train.Channels}×{Train.Height}×{Train.Width}.", nameof(dataset));
        return Predict(dataset.Pixels, threads);
    }

    /// <summary>Accuracy on <paramref name="dataset"/>.</summary>
    public double Score(ImageDataset dataset, int threads = 0)
    {
        var labels = Predict(dataset, threads).Labels();
        int correct = 0;
        for (int i = 0; i < labels.Length; i++) correct += labels[i] == dataset.Labels[i] ? 1 : 0;
        return labels.Length == 0 ? 0 : (double)correct / labels.Length;
    }

    /// <summary>Applies the model's vote rule to a neighbour search result.</summary>
    public Predictions Vote(NeighborResult neighbors) => Vote(neighbors, Train.Labels, Options);

    /// <summary>Applies the vote rule of <paramref name="options"/> to neighbours found among rows labelled <paramref name="trainLabels"/>.</summary>
    public static Predictions Vote(NeighborResult neighbors, int[] trainLabels, KNearestNeighborsOptions options)
    {
        int k = neighbors.K, c = neighbors.Classes, q = neighbors.Indices.Length / k;
        var probabilities = new float[q * c];
        var ranking = new int[q * c];
        Parallel.For(0, q, i =>
        {
            Span<int> labels = k <= 256 ? stackalloc int[k] : new int[k];
            for (int j = 0; j < k; j++) labels[j] = trainLabels[neighbors.Indices[i * k + j]];
            NeighborVoting.Vote(
                neighbors.Distances.AsSpan(i * k, k), labels, neighbors.ClassNearest.AsSpan(i * c, c), options.Metric,
                options.Weighting, probabilities.AsSpan(i * c, c), ranking.AsSpan(i * c, c));
        });
        return new Predictions(q, c, probabilities, ranking);
    }
}
