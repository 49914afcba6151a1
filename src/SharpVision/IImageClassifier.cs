using System.Text.Json.Nodes;
using SharpVision.Data;

namespace SharpVision;

/// <summary>
/// A fitted SharpVision model: immutable once a trainer's <see cref="IClassifierTrainer.Fit"/> (or a loader) made it.
/// Every model family, from k-NN to CNNs, answers the same questions: which classes, which images it takes, what it
/// predicts, and how it is saved. <see cref="ClassifierExtensions"/> adds dataset predictions, accuracy and top-k.
/// </summary>
public interface IImageClassifier
{
    /// <summary>The model type as model files name it ("knn", "softmax", "mlp", "cnn2", ...).</summary>
    string Kind { get; }

    /// <summary>Class names in label order.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Channels and size of the images it takes.</summary>
    ImagePreparation Preparation { get; }

    /// <summary>
    /// Class probabilities and rankings for images laid out as q×C×H×W bytes. Shape: (q, C, H, W) → (q, classes);
    /// each row of probabilities is finite and sums to 1; the ranking orders classes from most to least likely.
    /// </summary>
    /// <param name="images">q images of <see cref="Preparation"/>'s shape, planar.</param>
    /// <param name="threads">Worker threads (0: all cores). Results do not depend on it.</param>
    /// <exception cref="ArgumentException">The byte count is not a whole number of C·H·W images.</exception>
    Predictions Predict(ReadOnlySpan<byte> images, int threads = 0);

    /// <summary>
    /// What the prepared training images looked like (per-pixel mean and deviation, and a distance threshold), so that
    /// a caller can tell an input unlike all of them; null for models saved without them (older files). Saved with the
    /// model and summarized by <see cref="Describe"/>.
    /// </summary>
    InputStatistics? InputStatistics => null;

    /// <summary>What the model is, as JSON: "type", "classes", "preparation", "parameters" and the family's own settings.</summary>
    JsonObject Describe();

    /// <summary>
    /// Saves the model as a safetensors file, atomically (an earlier file at <paramref name="path"/> stays intact
    /// until the new one is complete). <c>ModelFile.Load</c> reads it back with the same predictions bit for bit.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="metadata">Extra string metadata stored beside the model's own (the dataset name, ...).</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    void Save(string path, IReadOnlyDictionary<string, string>? metadata = null);
}
