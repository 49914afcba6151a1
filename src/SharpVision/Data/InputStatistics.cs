using System.Globalization;
using System.Text.Json.Nodes;

namespace SharpVision.Data;

/// <summary>
/// What a model's training images looked like once prepared, stored with the model so that prediction can say when an
/// input is unlike all of them (a photo given to a Fashion-MNIST model): the per-pixel mean μ and deviation σ of the
/// prepared training pixels, and the distance within which <see cref="Quantile"/> of the training images lie.
/// </summary>
/// <remarks>
/// The distance of an image x (C·H·W bytes) is the root mean square z-score d(x) = √(Σⱼ ((xⱼ − μⱼ)/σ'ⱼ)² / D), with
/// σ'ⱼ = max(σⱼ, <see cref="DeviationFloor"/>) so that pixels that never vary in training (a black border) are not
/// divided by zero; a training image is typically near 1. An input further than <see cref="Threshold"/> is far from the
/// training data: its prediction says little, however confident it looks.
/// Shape: <see cref="Mean"/> and <see cref="Deviation"/> are C×H×W, like the prepared images.
/// </remarks>
/// <param name="Mean">Per-pixel mean of the prepared training images (0–255 scale).</param>
/// <param name="Deviation">Per-pixel standard deviation (biased, 0–255 scale).</param>
/// <param name="Threshold">The <see cref="Quantile"/> quantile of the training images' distances.</param>
/// <param name="Count">Training images measured.</param>
public sealed record InputStatistics(float[] Mean, float[] Deviation, double Threshold, int Count)
{
    /// <summary>The share of training images within <see cref="Threshold"/>.</summary>
    public const double Quantile = 0.999;

    /// <summary>The smallest σ a z-score divides by (about 4 % of the 0–255 range).</summary>
    public const float DeviationFloor = 10;

    /// <summary>The statistics of <paramref name="train"/>'s images.</summary>
    /// <exception cref="ArgumentException">No images.</exception>
    public static InputStatistics Compute(ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("Input statistics need at least one image.", nameof(train));
        int d = train.SampleSize, n = train.Count;
        var sum = new double[d];
        var squares = new double[d];
        for (int i = 0; i < n; i++)
        {
            var image = train.Image(i);
            for (int j = 0; j < d; j++)
            {
                double v = image[j];
                sum[j] += v;
                squares[j] += v * v;
            }
        }
        var mean = new float[d];
        var deviation = new float[d];
        for (int j = 0; j < d; j++)
        {
            double m = sum[j] / n;
            mean[j] = (float)m;
            deviation[j] = (float)Math.Sqrt(Math.Max(0, squares[j] / n - m * m));
        }
        var partial = new InputStatistics(mean, deviation, 0, n);
        var distances = new double[n];
        Parallel.For(0, n, i => distances[i] = partial.Distance(train.Image(i)));
        Array.Sort(distances);
        double threshold = distances[Math.Min(n - 1, (int)Math.Ceiling(Quantile * n) - 1)];
        return partial with { Threshold = threshold };
    }

    /// <summary>d(x), the root mean square z-score of one prepared image (see the remarks).</summary>
    /// <exception cref="ArgumentException">Not one image of <see cref="Mean"/>'s size.</exception>
    public double Distance(ReadOnlySpan<byte> image)
    {
        if (image.Length != Mean.Length) throw new ArgumentException($"{image.Length} bytes is not one image of {Mean.Length}.", nameof(image));
        double sum = 0;
        for (int j = 0; j < image.Length; j++)
        {
            double z = (image[j] - Mean[j]) / Math.Max(Deviation[j], DeviationFloor);
            sum += z * z;
        }
        return Math.Sqrt(sum / image.Length);
    }

    /// <summary>How far one prepared image is from the training images, with its mean brightness beside theirs.</summary>
    /// <exception cref="ArgumentException">Not one image of <see cref="Mean"/>'s size.</exception>
    public InputCheck Check(ReadOnlySpan<byte> image)
    {
        double distance = Distance(image), brightness = 0;
        foreach (byte v in image) brightness += v;
        return new InputCheck(distance, Threshold, distance > Threshold, brightness / image.Length, MeanBrightness);
    }

    /// <summary>The mean training pixel (0–255).</summary>
    public double MeanBrightness => Mean.Length == 0 ? 0 : Mean.Average(v => (double)v);

    /// <summary>A summary for model cards: count, threshold and quantile, mean brightness.</summary>
    public JsonObject ToJson() => new()
    {
        ["count"] = Count,
        ["distance"] = "rms z-score against the per-pixel mean and deviation of the prepared training images",
        ["threshold"] = Math.Round(Threshold, 4),
        ["quantile"] = Quantile,
        ["deviation_floor"] = DeviationFloor,
        ["mean_brightness"] = Math.Round(MeanBrightness, 2),
    };
}

/// <summary>One input measured against a model's <see cref="InputStatistics"/>.</summary>
/// <param name="Distance">d(x) of the prepared image.</param>
/// <param name="Threshold">The model's threshold (<see cref="InputStatistics.Quantile"/> of its training images are within it).</param>
/// <param name="IsFar">Distance above the threshold: unlike the training data.</param>
/// <param name="Brightness">The prepared image's mean pixel (0–255).</param>
/// <param name="TrainingBrightness">The training images' mean pixel (0–255).</param>
public sealed record InputCheck(double Distance, double Threshold, bool IsFar, double Brightness, double TrainingBrightness)
{
    /// <summary>"distance 9.31 from the training images' mean (99.9 % of them are within 2.12); mean brightness 201 (training: 73)".</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"distance {Distance:F2} from the training images' mean ({InputStatistics.Quantile:P1} of them are within {Threshold:F2}); " +
        $"mean brightness {Brightness:F0} (training: {TrainingBrightness:F0})");

    /// <summary>The JSON field of <c>predict --json</c>.</summary>
    public JsonObject ToJson() => new()
    {
        ["far_from_training_data"] = IsFar,
        ["distance"] = Math.Round(Distance, 4),
        ["threshold"] = Math.Round(Threshold, 4),
        ["mean_brightness"] = Math.Round(Brightness, 2),
        ["training_mean_brightness"] = Math.Round(TrainingBrightness, 2),
    };
}
