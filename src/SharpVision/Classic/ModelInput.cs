using SharpVision.Classic.Trees;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Classic;

/// <summary>
/// How a classic model (trees, forests, boosted trees, kernel SVMs) turns images into the rows its algorithm reads:
/// the raw pixels, or the standardized features of a fitted <see cref="FeaturePipeline"/> (stored with the model).
/// </summary>
/// <remarks>
/// Pixels go to trees as bytes (0..255: thresholds between pixel values) and to kernels as floats scaled to [0, 1]
/// (x = byte / 255, scikit-learn's usual preprocessing for SVC on images). Shape: (N, C, H, W) → (N, D).
/// </remarks>
public sealed class ModelInput
{
    /// <summary>Input of images of <paramref name="preparation"/>'s shape, through <paramref name="features"/> (null: pixels).</summary>
    /// <exception cref="ArgumentException">A standardizer fitted on images of another shape.</exception>
    public ModelInput(ImagePreparation preparation, FeatureStandardizer? features)
    {
        ArgumentNullException.ThrowIfNull(preparation);
        if (features is not null && (features.Channels != preparation.Channels || features.Height != preparation.Height
            || features.Width != preparation.Width))
            throw new ArgumentException("The feature standardizer was fitted on images of another shape.", nameof(features));
        (Preparation, Features) = (preparation, features);
    }

    /// <summary>Channels and size of the images.</summary>
    public ImagePreparation Preparation { get; }

    /// <summary>The fitted pipeline and standardization, or null for pixels.</summary>
    public FeatureStandardizer? Features { get; }

    /// <summary>D, values per row.</summary>
    public int Dimension => Features?.Length ?? ImageSize;

    private int ImageSize => Preparation.Channels * Preparation.Height * Preparation.Width;

    /// <summary>
    /// The input of <paramref name="train"/>: pixels, or <paramref name="pipeline"/> fitted (learned parts and
    /// standardization) on it; with the training rows' standardized features when there is a pipeline.
    /// </summary>
    /// <exception cref="ModelSetupException">The pipeline does not fit the images (setting "features").</exception>
    public static (ModelInput Input, float[]? TrainFeatures) Fit(ImageDataset train, FeaturePipeline? pipeline, int seed, int threads,
        FeatureCache? cache,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(train);
        var preparation = new ImagePreparation(train.Channels, train.Height, train.Width);
        if (pipeline is null) return (new ModelInput(preparation, null), null);
        try
        {
            var (standardizer, features) = FeatureStandardizer.Fit(pipeline, train, seed, threads, cache, cancellationToken);
            return (new ModelInput(preparation, standardizer), features);
        }
        catch (ArgumentException e) when (e is not ModelSetupException)
        {
            throw new ModelSetupException("features", e.Message, e);
        }
    }

    /// <summary>The rows of q images (q×C×H×W bytes) for a tree: the pixel bytes, or standardized features.</summary>
    /// <exception cref="ArgumentException">Not a whole number of images.</exception>
    public FeatureTable Table(ReadOnlySpan<byte> images, int threads)
    {
        CheckImages(images);
        return Features is null ? FeatureTable.FromBytes(images.ToArray(), ImageSize) : FeatureTable.FromFloats(Features.Apply(images, threads),
            Dimension);
    }

    /// <summary>The rows of <paramref name="data"/> for a tree, features read through <paramref name="cache"/> when given.</summary>
    public FeatureTable Table(ImageDataset data, int threads, FeatureCache? cache = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Features is null
            ? FeatureTable.FromBytes(data.Pixels, ImageSize)
            : FeatureTable.FromFloats(Features.Apply(data, threads, cache, cancellationToken), Dimension);
    }

    /// <summary>The rows of q images as floats for a kernel: pixels / 255, or standardized features.</summary>
    /// <exception cref="ArgumentException">Not a whole number of images.</exception>
    public float[] Floats(ReadOnlySpan<byte> images, int threads)
    {
        CheckImages(images);
        return Features is null ? Scaled(images) : Features.Apply(images, threads);
    }

    /// <summary>The rows of <paramref name="data"/> as floats for a kernel.</summary>
    public float[] Floats(ImageDataset data, int threads, FeatureCache? cache = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Features is null ? Scaled(data.Pixels) : Features.Apply(data, threads, cache, cancellationToken);
    }

    /// <summary>byte / 255 for each value.</summary>
    public static float[] Scaled(ReadOnlySpan<byte> pixels)
    {
        var result = GC.AllocateUninitializedArray<float>(pixels.Length);
        for (int i = 0; i < pixels.Length; i++) result[i] = pixels[i] / 255f;
        return result;
    }

    private void CheckImages(ReadOnlySpan<byte> images)
    {
        if (images.Length % ImageSize != 0)
            throw new ArgumentException($"{images.Length} bytes is not a whole number of " +
                $"{Preparation.Channels}×{Preparation.Height}×{Preparation.Width} images.",
                nameof(images));
    }
}
