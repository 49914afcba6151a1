namespace SharpVision.Features;

/// <summary>
/// Images → standardized feature vectors: a fitted <see cref="FeaturePipeline"/> followed by z = (f − μ)/σ per feature,
/// with μ and σ fitted on the training split (σ = 1 where a feature never varies). Stored with a model so prediction
/// computes exactly the features the model was trained on.
/// </summary>
public sealed class FeatureStandardizer
{
    /// <exception cref="ArgumentException">Statistics that do not match the pipeline's length, or are not finite.</exception>
    public FeatureStandardizer(FeaturePipeline pipeline, int channels, int height, int width, float[] mean, float[] scale)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        Length = pipeline.Length(channels, height, width);
        if (mean.Length != Length || scale.Length != Length) throw new ArgumentException($"The pipeline gives {Length} features; got {mean.Length} means and {scale.Length} scales.");
        if (mean.Any(v => !float.IsFinite(v)) || scale.Any(v => !float.IsFinite(v) || v == 0)) throw new ArgumentException("Feature statistics must be finite, with non-zero scales.");
        (Pipeline, Channels, Height, Width, Mean, Scale) = (pipeline, channels, height, width, mean, scale);
    }

    public FeaturePipeline Pipeline { get; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>D, the number of features.</summary>
    public int Length { get; }

    public float[] Mean { get; }

    /// <summary>1/σ per feature.</summary>
    public float[] Scale { get; }

    /// <summary>Fits the pipeline's learned parts and the statistics on <paramref name="train"/>; returns the standardizer and the training features.</summary>
    /// <param name="pipeline">The extractors.</param>
    /// <param name="train">The training split.</param>
    /// <param name="seed">Seed of learned extractors (k-means).</param>
    /// <param name="threads">Worker threads.</param>
    /// <param name="cache">Feature cache (keyed by pixels and extractor state), or null.</param>
    /// <param name="cancellationToken">Cancels extraction.</param>
    public static (FeatureStandardizer Standardizer, float[] TrainFeatures) Fit(FeaturePipeline pipeline, Data.ImageDataset train, int seed, int threads,
        FeatureCache? cache = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(train);
        if (pipeline.RequiresFit) pipeline.Fit(train, seed, threads);
        int d;
        var features = cache is null ? pipeline.Extract(train, threads, out d, cancellationToken) : (float[])cache.GetOrExtract(pipeline, train, threads, out d, out _, cancellationToken).Clone();
        var sum = new double[d];
        var sumSq = new double[d];
        for (int i = 0; i < train.Count; i++)
            for (int j = 0; j < d; j++)
            {
                double v = features[(long)i * d + j];
                sum[j] += v;
                sumSq[j] += v * v;
            }
        var mean = new float[d];
        var scale = new float[d];
        for (int j = 0; j < d; j++) (mean[j], scale[j]) = Data.Standardization.MeanAndInverseStd(sum[j], sumSq[j], train.Count);
        var standardizer = new FeatureStandardizer(pipeline, train.Channels, train.Height, train.Width, mean, scale);
        standardizer.Standardize(features);
        return (standardizer, features);
    }

    /// <summary>Standardizes rows of D features in place.</summary>
    public void Standardize(Span<float> features)
    {
        for (int start = 0; start + Length <= features.Length; start += Length)
        {
            var row = features.Slice(start, Length);
            System.Numerics.Tensors.TensorPrimitives.Subtract(row, Mean, row);
            System.Numerics.Tensors.TensorPrimitives.Multiply(row, Scale, row);
        }
    }

    /// <summary>Standardized features of every image of <paramref name="data"/> (N×D).</summary>
    public float[] Apply(Data.ImageDataset data, int threads, FeatureCache? cache = null, CancellationToken cancellationToken = default)
    {
        var features = cache is null ? Pipeline.Extract(data, threads, out _, cancellationToken) : (float[])cache.GetOrExtract(Pipeline, data, threads, out _, out _, cancellationToken).Clone();
        Standardize(features);
        return features;
    }

    /// <summary>Standardized features of q images given as q×C×H×W bytes.</summary>
    public void Apply(ReadOnlySpan<byte> images, Span<float> destination)
    {
        int size = Channels * Height * Width;
        if (images.Length % size != 0 || destination.Length != images.Length / size * Length)
            throw new ArgumentException($"Expected whole {Channels}×{Height}×{Width} images and {Length} features per image.");
        for (int i = 0; i < images.Length / size; i++)
            Pipeline.Extract(images.Slice(i * size, size), Channels, Height, Width, destination.Slice(i * Length, Length));
        Standardize(destination);
    }
}
