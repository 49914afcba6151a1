using SharpVision.Data;

namespace SharpVision.Features;

/// <summary>
/// Standardized features for k-fold cross-validation that never learn from the held-out fold: for each fold the
/// pipeline's learned parts (a SIFT vocabulary) and the per-feature μ and σ are fitted on the fold's training rows
/// only, then applied to both parts.
/// </summary>
/// <remarks>
/// <para>A pipeline without learned parts gives every image the same raw features whatever the fold, so they are
/// extracted once for the whole dataset (through the cache when one is given) and only the standardization is
/// refitted per fold. A learned pipeline is rebuilt from its canonical config for each fold, fitted on that fold's
/// training images, and extracts the dataset with that state (the cache keys on the state's hash, so folds never
/// share entries).</para>
/// <para>Shape: dataset (N, C, H, W) → per fold train (n_train, D) and validation (n_validation, D), rows in the
/// order of the given indices.</para>
/// </remarks>
public sealed class CrossValidationFeatures
{
    private readonly FeaturePipeline _pipeline;
    private readonly ImageDataset _data;
    private readonly int _seed;
    private readonly int _threads;
    private readonly FeatureCache? _cache;
    private float[]? _shared; // raw features of every image, when the pipeline learns nothing

    /// <summary>Features of <paramref name="data"/> under <paramref name="pipeline"/> (not fitted; a fitted one is not refitted in place).</summary>
    /// <exception cref="ArgumentException">The pipeline's parameters do not fit the images.</exception>
    public CrossValidationFeatures(FeaturePipeline pipeline, ImageDataset data, int seed, int threads, FeatureCache? cache = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Length = pipeline.Length(data.Channels, data.Height, data.Width);
        (_pipeline, _data, _seed, _threads, _cache) = (pipeline, data, seed, threads, cache);
    }

    /// <summary>D, features per image.</summary>
    public int Length { get; }

    /// <summary>
    /// One fold: the standardizer fitted on <paramref name="trainRows"/> (pipeline state included) and the
    /// standardized features of the training and validation rows.
    /// </summary>
    /// <exception cref="ArgumentException">A row index is out of range, no training rows, or the fold's training images cannot support the pipeline (e.g. fewer SIFT descriptors than words).</exception>
    public (FeatureStandardizer Standardizer, float[] Train, float[] Validation) Fold(int[] trainRows, int[] validationRows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(trainRows);
        ArgumentNullException.ThrowIfNull(validationRows);
        FeaturePipeline pipeline;
        float[] raw;
        if (_pipeline.RequiresFit)
        {
            pipeline = FeaturePipeline.Parse(_pipeline.CanonicalConfig);
            pipeline.Fit(_data.Subset(trainRows), _seed, _threads);
            raw = Extract(pipeline, cancellationToken);
        }
        else
        {
            pipeline = _pipeline;
            raw = _shared ??= Extract(pipeline, cancellationToken);
        }
        var standardizer = FeatureStandardizer.FromRows(pipeline, _data.Channels, _data.Height, _data.Width, raw, trainRows);
        return (standardizer, Rows(raw, trainRows, standardizer), Rows(raw, validationRows, standardizer));
    }

    private float[] Extract(FeaturePipeline pipeline, CancellationToken cancellationToken) =>
        _cache is null ? pipeline.Extract(_data, _threads, out _, cancellationToken) : _cache.GetOrExtract(pipeline, _data, _threads, out _, out _, cancellationToken);

    // The given rows of raw, copied in order and standardized.
    private float[] Rows(float[] raw, int[] rows, FeatureStandardizer standardizer)
    {
        int d = Length;
        var result = GC.AllocateUninitializedArray<float>(checked(rows.Length * d));
        for (int r = 0; r < rows.Length; r++)
        {
            if ((uint)rows[r] >= (uint)_data.Count) throw new ArgumentException($"Row {rows[r]} is outside 0..{_data.Count - 1}.", nameof(rows));
            raw.AsSpan(rows[r] * d, d).CopyTo(result.AsSpan(r * d, d));
        }
        standardizer.Standardize(result);
        return result;
    }
}
