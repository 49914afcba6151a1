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
        var standardizer = FromRows(pipeline, train.Channels, train.Height, train.Width, features, null);
        standardizer.Standardize(features);
        return (standardizer, features);
    }

    /// <summary>
    /// The standardizer whose μ and σ are those of <paramref name="rows"/> of <paramref name="features"/> (N×D raw
    /// features of the fitted <paramref name="pipeline"/>; null: every row). Cross-validation passes a fold's training
    /// rows, so the held-out rows never enter the statistics.
    /// </summary>
    /// <exception cref="ArgumentException">The features are not whole rows of the pipeline's length, a row index is out of range, or no rows.</exception>
    public static FeatureStandardizer FromRows(FeaturePipeline pipeline, int channels, int height, int width, ReadOnlySpan<float> features, int[]? rows)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        int d = pipeline.Length(channels, height, width);
        if (features.Length % d != 0) throw new ArgumentException($"{features.Length} values are not whole rows of {d} features.", nameof(features));
        int n = features.Length / d;
        bool all = rows is null;
        int count = rows?.Length ?? n;
        if (count == 0) throw new ArgumentException("Feature statistics need at least one row.", nameof(rows));
        var sum = new double[d];
        var sumSq = new double[d];
        for (int r = 0; r < count; r++)
        {
            int i = all ? r : rows![r];
            if ((uint)i >= (uint)n) throw new ArgumentException($"Row {i} is outside 0..{n - 1}.", nameof(rows));
            var row = features.Slice(i * d, d);
            for (int j = 0; j < d; j++)
            {
                double v = row[j];
                sum[j] += v;
                sumSq[j] += v * v;
            }
        }
        var mean = new float[d];
        var scale = new float[d];
        for (int j = 0; j < d; j++) (mean[j], scale[j]) = Data.Standardization.MeanAndInverseStd(sum[j], sumSq[j], count);
        return new FeatureStandardizer(pipeline, channels, height, width, mean, scale);
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

    /// <summary>Standardized features of q images given as q×C×H×W bytes (q×D), extracted on <paramref name="threads"/> threads.</summary>
    /// <exception cref="ArgumentException">Not a whole number of images.</exception>
    public float[] Apply(ReadOnlySpan<byte> images, int threads, CancellationToken cancellationToken = default)
    {
        int size = Channels * Height * Width;
        if (images.Length % size != 0) throw new ArgumentException($"{images.Length} bytes is not a whole number of {Channels}×{Height}×{Width} images.", nameof(images));
        if (Pipeline.HasBatchExtractor) return ApplyInSlices(images, threads, cancellationToken);
        int count = images.Length / size;
        // An unlabelled dataset over a copy of the bytes: the pipeline's parallel extraction takes datasets.
        var queries = new Data.ImageDataset("queries", Channels, Height, Width, images.ToArray(), new int[count], ["?"]);
        return Apply(queries, threads, null, cancellationToken);
    }

    /// <summary>Standardized features of q images given as q×C×H×W bytes.</summary>
    public void Apply(ReadOnlySpan<byte> images, Span<float> destination)
    {
        int size = Channels * Height * Width;
        if (images.Length % size != 0 || destination.Length != images.Length / size * Length)
            throw new ArgumentException($"Expected whole {Channels}×{Height}×{Width} images and {Length} features per image.");
        if (Pipeline.HasBatchExtractor)
        {
            ApplyInSlices(images, Tensors.Engine.Threads, default).CopyTo(destination);
            return;
        }
        for (int i = 0; i < images.Length / size; i++)
            Pipeline.Extract(images.Slice(i * size, size), Channels, Height, Width, destination.Slice(i * Length, Length));
        Standardize(destination);
    }

    /// <summary>Images per slice of <see cref="ApplyInSlices"/>: the unit the prediction cache stores.</summary>
    public const int PredictionSlice = 512;

    // A network's features for predictions: slices of 512 images from the first, each through the prediction cache when
    // a run set one (FeatureCache.ForPredictions), so predicting the same test split again (another head, the next run)
    // reads the slices back whatever batches the model asked for.
    private float[] ApplyInSlices(ReadOnlySpan<byte> images, int threads, CancellationToken cancellationToken)
    {
        int size = Channels * Height * Width, count = images.Length / size;
        var result = GC.AllocateUninitializedArray<float>(checked(count * Length));
        var cache = FeatureCache.ForPredictions;
        for (int start = 0; start < count; start += PredictionSlice)
        {
            int n = Math.Min(PredictionSlice, count - start);
            var slice = new Data.ImageDataset("queries", Channels, Height, Width, images.Slice(start * size, n * size).ToArray(), new int[n], ["?"]);
            var features = cache is null ? Pipeline.Extract(slice, threads, out _, cancellationToken)
                : cache.GetOrExtract(Pipeline, slice, threads, out _, out _, cancellationToken);
            features.CopyTo(result.AsSpan(start * Length, n * Length));
        }
        Standardize(result);
        return result;
    }
}
