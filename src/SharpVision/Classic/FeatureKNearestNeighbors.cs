using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Classic;

/// <summary>
/// A fitted k-NN model over standardized hand-crafted features (<c>train --model knn --features hog</c>): the
/// feature pipeline with anything it learned, the training split's per-feature mean and 1/σ, and the training
/// images' standardized feature vectors. A query image goes through the same pipeline and standardization, then the
/// float search of <see cref="NeighborSearch"/> finds its k nearest training vectors, which vote as in
/// <see cref="KNearestNeighborsModel"/> (same tie-breaking).
/// </summary>
/// <remarks>Shape: images (q, C, H, W) bytes → features (q, D) → predictions (q, classes). Memory: N·D floats.</remarks>
public sealed class FeatureKNearestNeighborsModel : IImageClassifier
{
    /// <summary>A model over <paramref name="trainFeatures"/> (N×D, already standardized by <paramref name="features"/>; not copied).</summary>
    /// <param name="options">k, metric, weighting.</param>
    /// <param name="features">The fitted pipeline and standardization.</param>
    /// <param name="trainFeatures">N×D standardized training features.</param>
    /// <param name="trainLabels">N labels.</param>
    /// <param name="classNames">Class names in label order.</param>
    /// <param name="inputStatistics">The prepared training images' statistics (null: unknown).</param>
    /// <exception cref="ArgumentException">Lengths disagree, a label is out of range, a value is not finite, or k exceeds N.</exception>
    public FeatureKNearestNeighborsModel(KNearestNeighborsOptions options, FeatureStandardizer features, float[] trainFeatures, int[] trainLabels,
        IReadOnlyList<string> classNames, InputStatistics? inputStatistics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(trainFeatures);
        ArgumentNullException.ThrowIfNull(trainLabels);
        ArgumentNullException.ThrowIfNull(classNames);
        options.Validate();
        if (classNames.Count == 0) throw new ArgumentException("At least one class name is required.", nameof(classNames));
        if (trainFeatures.LongLength != (long)trainLabels.Length * features.Length)
            throw new ArgumentException($"{trainLabels.Length} training images need {(long)trainLabels.Length * features.Length} feature values ({features.Length} each), got {trainFeatures.LongLength}.", nameof(trainFeatures));
        if (options.K > trainLabels.Length) throw new ArgumentOutOfRangeException(nameof(options), $"k = {options.K} exceeds the {trainLabels.Length} training images.");
        foreach (int label in trainLabels)
            if ((uint)label >= (uint)classNames.Count) throw new ArgumentException($"Label {label} is outside 0..{classNames.Count - 1}.", nameof(trainLabels));
        foreach (float v in trainFeatures)
            if (!float.IsFinite(v)) throw new ArgumentException("The training features hold a NaN or infinite value.", nameof(trainFeatures));
        Options = options with { Features = features.Pipeline };
        Features = features;
        TrainFeatures = trainFeatures;
        TrainLabels = trainLabels;
        ClassNames = classNames;
        int sampleSize = features.Channels * features.Height * features.Width;
        if (inputStatistics is not null && inputStatistics.Mean.Length != sampleSize)
            throw new ArgumentException($"Input statistics cover {inputStatistics.Mean.Length} values; images have {sampleSize}.",
                nameof(inputStatistics));
        InputStatistics = inputStatistics;
    }

    /// <inheritdoc/>
    public InputStatistics? InputStatistics { get; }

    /// <summary>k, metric, weighting and the feature pipeline.</summary>
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
        json["features"] = Features.Pipeline.CanonicalConfig;
        json["feature_length"] = Features.Length;
        json["parameters"] = (long)TrainCount * Features.Length;
        json["train_count"] = TrainCount;
        json["input_statistics"] = InputStatistics?.ToJson();
        return json;
    }

    /// <inheritdoc/>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null) => KnnModelFile.Save(path, this, metadata);

    /// <summary>The pipeline and the training split's standardization: what turns an image into a searchable vector.</summary>
    public FeatureStandardizer Features { get; }

    /// <summary>N×D standardized training features, row-major.</summary>
    public float[] TrainFeatures { get; }

    public int[] TrainLabels { get; }

    public int TrainCount => TrainLabels.Length;

    public IReadOnlyList<string> ClassNames { get; }

    public ImagePreparation Preparation => new(Features.Channels, Features.Height, Features.Width);

    /// <summary>Neighbours of standardized feature vectors (q×D).</summary>
    public NeighborResult Neighbors(ReadOnlySpan<float> standardizedQueries, int threads = 0) =>
        NeighborSearch.Search(TrainFeatures, TrainLabels, ClassNames.Count, standardizedQueries, Features.Length, Options.Metric, Options.K, threads);

    /// <summary>Probabilities (vote shares) and class rankings for images laid out as q×C×H×W bytes.</summary>
    /// <exception cref="ArgumentException">The byte count is not a whole number of images.</exception>
    public Predictions Predict(ReadOnlySpan<byte> images, int threads = 0)
    {
        int size = Features.Channels * Features.Height * Features.Width;
        if (images.Length % size != 0)
            throw new ArgumentException($"{images.Length} bytes is not a whole number of {Features.Channels}×{Features.Height}×{Features.Width} images.", nameof(images));
        return Vote(Neighbors(Features.Apply(images, Math.Max(1, threads == 0 ? Environment.ProcessorCount : threads)), threads));
    }

    /// <summary>Predicts every image of <paramref name="dataset"/>, reading and writing its features in <paramref name="cache"/> when given.</summary>
    /// <exception cref="ArgumentException">Images of another shape than the model's.</exception>
    public Predictions Predict(ImageDataset dataset, int threads = 0, FeatureCache? cache = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.Channels != Features.Channels || dataset.Height != Features.Height || dataset.Width != Features.Width)
            throw new ArgumentException(
                $"Images are {dataset.Channels}×{dataset.Height}×{dataset.Width}; the model was fitted on {Features.Channels}×{Features.Height}×{Features.Width}.", nameof(dataset));
        var queries = Features.Apply(dataset, Math.Max(1, threads == 0 ? Environment.ProcessorCount : threads), cache, cancellationToken);
        return Vote(Neighbors(queries, threads));
    }

    /// <summary>Accuracy on <paramref name="dataset"/>.</summary>
    public double Score(ImageDataset dataset, int threads = 0, FeatureCache? cache = null)
    {
        var labels = Predict(dataset, threads, cache).Labels();
        int correct = 0;
        for (int i = 0; i < labels.Length; i++) correct += labels[i] == dataset.Labels[i] ? 1 : 0;
        return labels.Length == 0 ? 0 : (double)correct / labels.Length;
    }

    /// <summary>Applies the model's vote rule to a neighbour search result.</summary>
    public Predictions Vote(NeighborResult neighbors) => KNearestNeighborsModel.Vote(neighbors, TrainLabels, Options);
}
