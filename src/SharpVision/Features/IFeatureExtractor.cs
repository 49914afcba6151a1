using SharpVision.Data;

namespace SharpVision.Features;

/// <summary>
/// A hand-crafted feature: one 8-bit image in, a fixed-length float vector out.
/// </summary>
/// <remarks>
/// Shape: (C, H, W) planar bytes → (D) floats, D = <see cref="Length"/>(C, H, W). Implementations are thread-safe:
/// <c>FeaturePipeline</c> calls <see cref="Extract"/> from several threads at once, so per-call scratch lives on
/// the stack or in pooled arrays, never in fields.
/// </remarks>
public interface IFeatureExtractor
{
    /// <summary>The extractor's spec name: "hog", "lbp", "color", "gabor", "sift", "pixels".</summary>
    string Name { get; }

    /// <summary>
    /// Every parameter, defaults included, in a fixed order and invariant culture: the spec that rebuilds this
    /// extractor (<c>hog:orientations=9,cell=4,block=2,norm=L2-Hys,sqrt=false</c>). What a learned extractor learned
    /// is not part of it (see <see cref="ILearnedFeatureExtractor.StateHash"/>).
    /// </summary>
    string Config { get; }

    /// <summary>Feature length D for images of this size.</summary>
    /// <exception cref="ArgumentException">The parameters do not fit the image (e.g. a cell larger than the image).</exception>
    int Length(int channels, int height, int width);

    /// <summary>Writes the features of one C×H×W planar image into <paramref name="destination"/> (exactly D values).</summary>
    /// <exception cref="ArgumentException">Sizes disagree, or the parameters do not fit the image.</exception>
    /// <exception cref="InvalidOperationException">A learned extractor that has not been fitted.</exception>
    void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination);
}

/// <summary>
/// An extractor that works faster on many images at once (the Gabor bank: one convolution over an N×1×H×W batch).
/// <c>FeaturePipeline</c> hands it each chunk of images it extracts; results equal <see cref="IFeatureExtractor.Extract"/>
/// image by image.
/// </summary>
public interface IBatchFeatureExtractor : IFeatureExtractor
{
    /// <summary>
    /// Writes the features of <paramref name="count"/> C×H×W planar images (<paramref name="images"/>: count×C×H×W
    /// bytes) into <paramref name="destination"/> (count×D, row-major), on the calling thread.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree, or the parameters do not fit the image.</exception>
    void ExtractBatch(ReadOnlySpan<byte> images, int count, int channels, int height, int width, Span<float> destination);

    /// <summary>Images per chunk the pipeline hands over (and runs in parallel with other chunks); 64 unless the extractor says otherwise.</summary>
    int PreferredBatch => 64;
}

/// <summary>
/// An extractor that learns from training images first (dense SIFT's visual vocabulary). Fit it on the training
/// split only; then extract any split. Standardization is not its job: the model side standardizes.
/// </summary>
public interface ILearnedFeatureExtractor : IFeatureExtractor
{
    /// <summary>True once <see cref="Fit"/> has run.</summary>
    bool IsFitted { get; }

    /// <summary>A short hash of the learned state ("" before fitting): part of the cache key, so cached features never outlive it.</summary>
    string StateHash { get; }

    /// <summary>Learns from <paramref name="train"/>; same data, seed and build ⇒ the same state for any thread count.</summary>
    /// <exception cref="ArgumentException">The data cannot support the parameters (e.g. fewer descriptors than words).</exception>
    void Fit(ImageDataset train, int seed, int threads);
}

/// <summary>Checks shared by every extractor.</summary>
internal static class FeatureChecks
{
    public static void Image(ReadOnlySpan<byte> image, int channels, int height, int width)
    {
        if (channels < 1) throw new ArgumentOutOfRangeException(nameof(channels), channels, "Channels must be at least 1.");
        if (height < 1) throw new ArgumentOutOfRangeException(nameof(height), height, "Height must be at least 1.");
        if (width < 1) throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be at least 1.");
        if (image.Length != (long)channels * height * width)
            throw new ArgumentException($"A {channels}×{height}×{width} image has {(long)channels * height * width} bytes, got {image.Length}.", nameof(image));
    }

    public static void Images(ReadOnlySpan<byte> images, int count, int channels, int height, int width)
    {
        if (count > 0) Image(images[..Math.Min(images.Length, channels * height * width)], channels, height, width);
        if (images.Length != (long)count * channels * height * width)
            throw new ArgumentException($"{count} images of {channels}×{height}×{width} have {(long)count * channels * height * width} bytes, got {images.Length}.", nameof(images));
    }

    public static void Destination(Span<float> destination, int length)
    {
        if (destination.Length != length)
            throw new ArgumentException($"The destination must hold exactly {length} features, got {destination.Length}.", nameof(destination));
    }
}
