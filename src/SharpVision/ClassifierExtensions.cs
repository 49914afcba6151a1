using SharpVision.Data;

namespace SharpVision;

/// <summary>What every <see cref="IImageClassifier"/> can do with a whole dataset: predict it, score it, rank its classes.</summary>
public static class ClassifierExtensions
{
    /// <summary>Predicts every image of <paramref name="dataset"/>. Shape: (N, C, H, W) → (N, classes).</summary>
    /// <param name="model">A fitted model.</param>
    /// <param name="dataset">Images of the model's <see cref="IImageClassifier.Preparation"/> shape.</param>
    /// <param name="threads">Worker threads (0: all cores).</param>
    /// <exception cref="ArgumentException">The images have another shape than the model takes.</exception>
    public static Predictions Predict(this IImageClassifier model, ImageDataset dataset, int threads = 0)
    {
        EnsureCompatible(model, dataset);
        return model.Predict(dataset.Pixels, threads);
    }

    /// <summary>The predicted label of every image of <paramref name="dataset"/>.</summary>
    /// <exception cref="ArgumentException">The images have another shape than the model takes.</exception>
    public static int[] PredictLabels(this IImageClassifier model, ImageDataset dataset, int threads = 0) => model.Predict(dataset, threads).Labels();

    /// <summary>Accuracy on <paramref name="dataset"/>: the share of images whose top class is their label (0 for no images).</summary>
    /// <exception cref="ArgumentException">The images have another shape, or classes other than the model's.</exception>
    public static double Score(this IImageClassifier model, ImageDataset dataset, int threads = 0) => model.TopKAccuracy(dataset, 1, threads);

    /// <summary>The share of images whose label is among the model's <paramref name="k"/> most likely classes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The images have another shape, or classes other than the model's.</exception>
    public static double TopKAccuracy(this IImageClassifier model, ImageDataset dataset, int k, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        EnsureSameClasses(model, dataset);
        var predictions = model.Predict(dataset, threads);
        return predictions.TopKAccuracy(dataset.Labels, k);
    }

    /// <summary>Throws when <paramref name="dataset"/>'s images are not the shape <paramref name="model"/> takes.</summary>
    /// <exception cref="ArgumentException">Another channel count or size, with both shapes in the message.</exception>
    public static void EnsureCompatible(this IImageClassifier model, ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        var p = model.Preparation;
        if (dataset.Channels != p.Channels || dataset.Height != p.Height || dataset.Width != p.Width)
            throw new ArgumentException(
                $"Images are {dataset.Channels}×{dataset.Height}×{dataset.Width}; the {model.Kind} model takes {p.Channels}×{p.Height}×{p.Width}.",
                nameof(dataset));
    }

    /// <summary>Throws when <paramref name="dataset"/>'s labels do not name the model's classes (scoring would compare unrelated indices).</summary>
    /// <exception cref="ArgumentException">The class lists differ.</exception>
    public static void EnsureSameClasses(this IImageClassifier model, ImageDataset dataset)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        if (!model.ClassNames.SequenceEqual(dataset.ClassNames, StringComparer.Ordinal))
            throw new ArgumentException(
                $"The dataset's classes ({string.Join(", ", dataset.ClassNames)}) are not the model's ({string.Join(", ", model.ClassNames)}).",
                nameof(dataset));
    }
}
