using SharpVision.Classic;
using SharpVision.Data;

namespace SharpVision;

/// <summary>What every fitted SharpVision model offers: class names, how it wants images prepared, and predictions.</summary>
public interface IImageClassifier
{
    /// <summary>Class names in label order.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Channels and size of the images it takes.</summary>
    ImagePreparation Preparation { get; }

    /// <summary>Probabilities and rankings for images laid out as q×C×H×W bytes.</summary>
    /// <exception cref="ArgumentException">The byte count is not a multiple of C·H·W.</exception>
    Predictions Predict(ReadOnlySpan<byte> images, int threads = 0);
}
