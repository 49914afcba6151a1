using SharpVision.Data;

namespace SharpVision.Classic;

/// <summary>Options of <see cref="KNearestNeighbors"/>.</summary>
/// <param name="K">Neighbours that vote (default 5).</param>
/// <param name="Metric">L1 (<see cref="DistanceMetric.Manhattan"/>) or L2 (<see cref="DistanceMetric.Euclidean"/>).</param>
/// <param name="Weighting">Uniform votes or 1/distance.</param>
public sealed record KNearestNeighborsOptions(int K = 5, DistanceMetric Metric = DistanceMetric.Euclidean, NeighborWeighting Weighting = NeighborWeighting.Uniform)
{
    /// <summary>Throws when an option is out of range.</summary>
    public void Validate()
    {
        if (K < 1) throw new ArgumentOutOfRangeException(nameof(K), K, "k must be at least 1.");
        if (!Enum.IsDefined(Metric)) throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Unknown metric.");
        if (!Enum.IsDefined(Weighting)) throw new ArgumentOutOfRangeException(nameof(Weighting), Weighting, "Unknown weighting.");
    }
}

/// <summary>
/// k-nearest-neighbour classifier: "training" memorizes the training set; prediction finds each query's k nearest
/// training images and lets them vote. Tie-breaking is documented on <see cref="NeighborVoting"/>: equal distances
/// favour the lower training index, equal votes the class whose member is nearest.
/// </summary>
/// <example><code>var model = new KNearestNeighbors(new(K: 5, DistanceMetric.Manhattan)).Fit(train);</code></example>
public sealed class KNearestNeighbors(KNearestNeighborsOptions options)
{
    public KNearestNeighborsOptions Options { get; } = options;

    /// <summary>Memorizes <paramref name="train"/> (shared, not copied).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When k exceeds the training set size.</exception>
    public KNearestNeighborsModel Fit(ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        Options.Validate();
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
    public FeatureKNearestNeighborsModel Fit(ImageDataset train, Features.FeaturePipeline pipeline, int seed, int threads,
        Features.FeatureCache? cache = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(pipeline);
        Options.Validate();
        if (Options.K > train.Count)
            throw new ArgumentOutOfRangeException(nameof(train), $"k = {Options.K} exceeds the {train.Count} training images.");
        var (standardizer, features) = Features.FeatureStandardizer.Fit(pipeline, train, seed, threads, cache, cancellationToken);
        return new FeatureKNearestNeighborsModel(Options, standardizer, features, train.Labels, train.ClassNames);
    }
}

/// <summary>A fitted k-NN model: the training images plus the options.</summary>
public sealed class KNearestNeighborsModel : IImageClassifier
{
    internal KNearestNeighborsModel(KNearestNeighborsOptions options, ImageDataset train)
    {
        Options = options;
        Train = train;
    }

    public KNearestNeighborsOptions Options { get; }

    /// <summary>The memorized training images.</summary>
    public ImageDataset Train { get; }

    public IReadOnlyList<string> ClassNames => Train.ClassNames;

    public ImagePreparation Preparation => new(Train.Channels, Train.Height, Train.Width);

    /// <summary>Searches neighbours for queries laid out like the training images (q×C×H×W bytes).</summary>
    /// <exception cref="ArgumentException">When the query size does not match the training images.</exception>
    public NeighborResult Neighbors(ReadOnlySpan<byte> queries, int threads = 0) =>
        NeighborSearch.Search(Train.Pixels, Train.Labels, Train.ClassNames.Count, queries, Train.SampleSize, Options.Metric, Options.K, threads);

    /// <summary>Probabilities (vote shares) and class rankings for each query.</summary>
    public Predictions Predict(ReadOnlySpan<byte> queries, int threads = 0) => Vote(Neighbors(queries, threads));

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
