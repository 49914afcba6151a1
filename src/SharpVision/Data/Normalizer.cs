using System.Numerics.Tensors;

namespace SharpVision.Data;

/// <summary>How pixels become model inputs. Every mode first scales bytes to [0, 1] (x/255).</summary>
public enum NormalizationMode
{
    /// <summary>x/255 only.</summary>
    None,

    /// <summary>x/255 − mean image (the lectures' "subtract the mean image"), per pixel position.</summary>
    MeanImage,

    /// <summary>(x/255 − μ_c)/σ_c with one mean and standard deviation per channel (PyTorch's Normalize).</summary>
    PerChannel,

    /// <summary>(x/255 − μ_i)/σ_i per pixel position (scikit-learn's StandardScaler on pixels); σ = 1 where a pixel never varies.</summary>
    PerPixel,
}

/// <summary>
/// Input normalization fitted on the training split only and stored with the model, so that evaluation and
/// prediction see inputs prepared exactly as in training.
/// </summary>
public sealed class Normalizer
{
    /// <summary>A normalizer from stored statistics.</summary>
    /// <exception cref="ArgumentException">Statistics whose lengths do not fit the mode and sample size.</exception>
    public Normalizer(NormalizationMode mode, int channels, int sampleSize, float[] mean, float[] scale)
    {
        if (channels < 1 || sampleSize < 1 || sampleSize % channels != 0) throw new ArgumentException($"Invalid layout: {channels} channels, {sampleSize} values per sample.");
        int expected = mode switch
        {
            NormalizationMode.None => 0,
            NormalizationMode.PerChannel => channels,
            _ => sampleSize,
        };
        if (mean.Length != expected || scale.Length != expected)
            throw new ArgumentException($"{mode} normalization of {channels}×{sampleSize / channels} samples needs {expected} means and scales, got {mean.Length} and {scale.Length}.");
        if (scale.Any(s => !float.IsFinite(s) || s == 0) || mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException("Normalization statistics must be finite, with non-zero scales.");
        Mode = mode;
        Channels = channels;
        SampleSize = sampleSize;
        Mean = mean;
        Scale = scale;
    }

    public NormalizationMode Mode { get; }

    public int Channels { get; }

    /// <summary>Values per image (C·H·W).</summary>
    public int SampleSize { get; }

    /// <summary>Means subtracted after scaling to [0, 1] (per channel or per pixel; empty for <see cref="NormalizationMode.None"/>).</summary>
    public float[] Mean { get; }

    /// <summary>Multipliers 1/σ applied after the subtraction (1 for <see cref="NormalizationMode.MeanImage"/>).</summary>
    public float[] Scale { get; }

    /// <summary>Fits the statistics on <paramref name="train"/> (population variance, accumulated in double).</summary>
    public static Normalizer Fit(ImageDataset train, NormalizationMode mode)
    {
        ArgumentNullException.ThrowIfNull(train);
        int d = train.SampleSize, c = train.Channels, plane = d / c;
        if (train.Count == 0) throw new ArgumentException("Cannot fit normalization on an empty training set.", nameof(train));
        if (mode == NormalizationMode.None) return new Normalizer(mode, c, d, [], []);
        var sum = new double[d];
        var sumSq = new double[d];
        var pixels = train.Pixels;
        for (int i = 0; i < train.Count; i++)
        {
            var row = pixels.AsSpan(i * d, d);
            for (int j = 0; j < d; j++)
            {
                double v = row[j] / 255.0;
                sum[j] += v;
                sumSq[j] += v * v;
            }
        }
        if (mode == NormalizationMode.PerChannel)
        {
            var mean = new float[c];
            var scale = new float[c];
            for (int ch = 0; ch < c; ch++)
            {
                double s = 0, s2 = 0;
                for (int j = ch * plane; j < (ch + 1) * plane; j++) { s += sum[j]; s2 += sumSq[j]; }
                (mean[ch], scale[ch]) = Standardization.MeanAndInverseStd(s, s2, (double)train.Count * plane);
            }
            return new Normalizer(mode, c, d, mean, scale);
        }
        var pixelMean = new float[d];
        var pixelScale = new float[d];
        for (int j = 0; j < d; j++)
        {
            (pixelMean[j], float inverseStd) = Standardization.MeanAndInverseStd(sum[j], sumSq[j], train.Count);
            pixelScale[j] = mode == NormalizationMode.PerPixel ? inverseStd : 1f;
        }
        return new Normalizer(mode, c, d, pixelMean, pixelScale);
    }

    /// <summary>Normalizes q images of C×H×W bytes into q×D floats.</summary>
    public void Apply(ReadOnlySpan<byte> images, Span<float> destination)
    {
        if (images.Length % SampleSize != 0 || destination.Length != images.Length)
            throw new ArgumentException($"Expected whole images of {SampleSize} bytes and a destination of the same length; got {images.Length} and {destination.Length}.");
        int plane = SampleSize / Channels;
        for (int i = 0; i < images.Length / SampleSize; i++)
        {
            var src = images.Slice(i * SampleSize, SampleSize);
            var dst = destination.Slice(i * SampleSize, SampleSize);
            for (int j = 0; j < SampleSize; j++) dst[j] = src[j] * (1f / 255f);
            switch (Mode)
            {
                case NormalizationMode.PerChannel:
                    for (int ch = 0; ch < Channels; ch++)
                    {
                        var part = dst.Slice(ch * plane, plane);
                        TensorPrimitives.Subtract(part, Mean[ch], part);
                        TensorPrimitives.Multiply(part, Scale[ch], part);
                    }
                    break;
                case NormalizationMode.MeanImage:
                case NormalizationMode.PerPixel:
                    TensorPrimitives.Subtract(dst, Mean, dst);
                    TensorPrimitives.Multiply(dst, Scale, dst);
                    break;
            }
        }
    }

    /// <summary>All images of <paramref name="dataset"/> as an N×D float array, in parallel over chunks.</summary>
    public float[] Apply(ImageDataset dataset, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (dataset.SampleSize != SampleSize) throw new ArgumentException($"Images have {dataset.SampleSize} values; the normalizer was fitted on {SampleSize}.", nameof(dataset));
        var result = new float[(long)dataset.Count * SampleSize];
        const int chunk = 1024;
        Parallel.For(0, (dataset.Count + chunk - 1) / chunk, new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : -1 }, c =>
        {
            int start = c * chunk, count = Math.Min(chunk, dataset.Count - start);
            Apply(dataset.Pixels.AsSpan(start * SampleSize, count * SampleSize), result.AsSpan(start * SampleSize, count * SampleSize));
        });
        return result;
    }

    /// <summary>"none", "mean-image", "channel", "pixel".</summary>
    public static string Name(NormalizationMode mode) => mode switch
    {
        NormalizationMode.None => "none",
        NormalizationMode.MeanImage => "mean-image",
        NormalizationMode.PerChannel => "channel",
        _ => "pixel",
    };

    /// <summary>Parses <see cref="Name"/>'s spellings; null when unknown.</summary>
    public static NormalizationMode? Parse(string? text) => text?.ToLowerInvariant() switch
    {
        "none" => NormalizationMode.None,
        "mean-image" or "mean" => NormalizationMode.MeanImage,
        "channel" or "per-channel" => NormalizationMode.PerChannel,
        "pixel" or "per-pixel" or "standardize" => NormalizationMode.PerPixel,
        _ => null,
    };
}
