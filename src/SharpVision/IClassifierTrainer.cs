using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision;

/// <summary>
/// Turns training images into a fitted <see cref="IImageClassifier"/>, scikit-learn's fit with ML.NET's
/// immutability: the trainer holds typed options (validated in its constructor), and each <see cref="Fit"/> returns
/// a new model. Same options + same data + same seed ⇒ the same bits, whatever <see cref="FitContext.Threads"/> is.
/// </summary>
/// <example><code>
/// var model = new KNearestNeighbors(new(K: 5, DistanceMetric.Manhattan)).Fit(train);
/// double accuracy = model.Score(test);
/// </code></example>
public interface IClassifierTrainer
{
    /// <summary>The model type it fits ("knn", "softmax", "cnn2", ...).</summary>
    string Kind { get; }

    /// <summary>The options as JSON (what a run folder's config.json records under "training").</summary>
    JsonObject Describe();

    /// <summary>Fits a model on <paramref name="train"/>.</summary>
    /// <param name="train">Training images; at least two classes must be present.</param>
    /// <param name="validation">
    /// Images to validate on (early stopping, choosing among candidates, curves). Null: the trainer holds out the share
    /// its options ask for, stratified and seeded, or none.
    /// </param>
    /// <param name="context">Threads, cancellation, progress, run folder (null: <see cref="FitContext.Default"/>).</param>
    /// <exception cref="ArgumentException">The data do not suit the options (one class, too few images, other shapes).</exception>
    /// <exception cref="OperationCanceledException">Cancelled through <see cref="FitContext.Cancellation"/>.</exception>
    IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null);
}

/// <summary>
/// How a fit runs, as opposed to what it fits: threads, cancellation, progress, where to write checkpoints. Nothing
/// here changes the bits of the result, except <see cref="TimeLimit"/> when it stops training early.
/// </summary>
public sealed record FitContext
{
    /// <summary>All cores, no run folder, no progress, no cancellation.</summary>
    public static FitContext Default { get; } = new();

    /// <summary>Worker threads (0: all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Stops the fit: a trainer with a <see cref="RunDirectory"/> writes a checkpoint first.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Where gradient training writes checkpoints, metrics.jsonl and steps.jsonl (null: nothing is written).</summary>
    public string? RunDirectory { get; init; }

    /// <summary>Continue from <see cref="RunDirectory"/>'s checkpoint (its recipe must equal the trainer's).</summary>
    public bool Resume { get; init; }

    /// <summary>Stop training after this long, keeping the weights reached (the ladder's budget). Null: no limit.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Where extracted hand-crafted features are cached (null: not cached).</summary>
    public FeatureCache? FeatureCache { get; init; }

    /// <summary>Extra metadata stored in checkpoints (the command line that can rebuild the run).</summary>
    public IReadOnlyDictionary<string, string>? CheckpointMetadata { get; init; }

    /// <summary>Receives progress, epochs and the fit's summary (see <see cref="FitEvent"/>'s subtypes).</summary>
    public Action<FitEvent>? Events { get; init; }

    /// <summary>The thread count to use: <see cref="Threads"/>, or all cores when it is 0.</summary>
    public int ResolvedThreads => Threads > 0 ? Threads : Environment.ProcessorCount;

    /// <summary>Sends <paramref name="e"/> to <see cref="Events"/>.</summary>
    public void Report(FitEvent e) => Events?.Invoke(e);

    /// <summary>
    /// Forwards feature extraction's progress (<see cref="FeatureProgress"/>) as <see cref="FitProgress"/> events until
    /// disposed: trainers on features wrap their extraction in it, so a slow extractor (a pretrained network) shows progress.
    /// </summary>
    public IDisposable ReportFeatureProgress() =>
        FeatureProgress.Listen((stage, done, total) => Report(new FitProgress(stage, done, total, $"{done}/{total} images")));
}

/// <summary>Something a trainer tells its caller while fitting; families add their own kinds (epochs, solver choices).</summary>
public abstract record FitEvent;

/// <summary>Work done so far in the current stage, for progress bars.</summary>
/// <param name="Stage">What is being done ("training cnn2", "features hog").</param>
/// <param name="Done">Units done.</param>
/// <param name="Total">Units in all.</param>
/// <param name="Detail">A short status ("epoch 3/20 loss 0.4321").</param>
public sealed record FitProgress(string Stage, long Done, long Total, string Detail = "") : FitEvent;

/// <summary>A line worth showing to a person (what is being fitted, a choice made).</summary>
public sealed record FitNote(string Message) : FitEvent;

/// <summary>
/// The end of a fit: what a run folder's metrics.json records about it ("epochs", "best_epoch", "solver", ...),
/// and how many images trained and validated it.
/// </summary>
/// <param name="TrainCount">Images the final model was trained on.</param>
/// <param name="ValidationCount">Images held out for validation (0 when none).</param>
/// <param name="Summary">Family-specific facts merged into metrics.json.</param>
public sealed record FitCompleted(int TrainCount, int ValidationCount, JsonObject Summary) : FitEvent;
