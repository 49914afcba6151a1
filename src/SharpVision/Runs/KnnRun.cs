using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Serialization;

namespace SharpVision.Runs;

/// <summary>How a k-NN run is set up besides its data.</summary>
/// <param name="Knn">k, metric and vote weighting.</param>
/// <param name="Seed">Recorded in config.json (the caller used it for any subset of the data).</param>
/// <param name="Threads">Worker threads for the neighbour search.</param>
/// <param name="TrainLimit">Recorded in config.json when the caller used a subset of the training split.</param>
/// <param name="Command">The command recorded in config.json and metrics.json ("train", "ladder").</param>
/// <param name="Dataset">The dataset as config.json records it, when the caller knows more than the splits (an image folder's test fraction); null: <see cref="RunJson.Dataset"/>.</param>
/// <param name="Pipeline">Search on these standardized features instead of the pixels (null: pixels).</param>
/// <param name="Cache">Where extracted features are cached (null: not cached).</param>
/// <param name="Replace">Replace a run folder that already holds a run (whole); without it such a folder is refused.</param>
public sealed record KnnRunOptions(KNearestNeighborsOptions Knn, int Seed = 0, int Threads = 1, int? TrainLimit = null, string Command = "train", JsonObject? Dataset = null,
    FeaturePipeline? Pipeline = null, FeatureCache? Cache = null, bool Replace = false);

/// <summary>What a k-NN run produced.</summary>
/// <param name="Model">The fitted model (it holds the training images, or their standardized features).</param>
/// <param name="Test">Metrics on the test split.</param>
/// <param name="Document">The metrics.json document (also what <c>train --json</c> prints).</param>
/// <param name="Fit">Time to fit (memorize).</param>
/// <param name="Predict">Time to classify the test split.</param>
/// <param name="Predictions">The test split's predictions (for the run's report).</param>
public sealed record KnnRunResult(IImageClassifier Model, ClassificationMetrics Test, JsonObject Document, TimeSpan Fit, TimeSpan Predict, Predictions Predictions);

/// <summary>
/// A k-NN training run: memorize the training split, classify the test split once, and write a run folder
/// (config.json, model.safetensors, metrics.json). A new folder is filled under a temporary name and renamed into place.
/// </summary>
public static class KnnRun
{
    /// <param name="options">The k-NN setting and what to record.</param>
    /// <param name="splits">Training and test images.</param>
    /// <param name="location">Where the dataset came from (recorded).</param>
    /// <param name="runDirectory">The run folder to write.</param>
    /// <param name="loading">Time the caller spent loading the data (reported as timings_s.load and in the total).</param>
    /// <param name="log">Progress lines (none when null).</param>
    /// <param name="cancellationToken">Checked before and after the search.</param>
    /// <exception cref="ArgumentOutOfRangeException">k exceeds the training images.</exception>
    /// <exception cref="RunFolderExistsException">The folder holds a run and <see cref="KnnRunOptions.Replace"/> is false.</exception>
    /// <exception cref="RunFolderInUseException">Another process is writing the folder.</exception>
    public static KnnRunResult Execute(KnnRunOptions options, DatasetSplits splits, DatasetLocation location, string runDirectory, TimeSpan loading,
        Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(location);
        var total = Stopwatch.StartNew();
        runDirectory = Path.GetFullPath(runDirectory);
        using var hold = RunFolder.Lock(runDirectory, log);
        if (!options.Replace && RunFolder.IsNonEmpty(runDirectory)) throw new RunFolderExistsException(runDirectory);
        var knn = options.Knn;
        var fit = Stopwatch.StartNew();
        if (options.Pipeline is not null)
            log?.Invoke($"features {options.Pipeline.CanonicalConfig}: fitting on {splits.Train.Count:N0} training images ({(options.Cache is null ? "no cache" : $"cache {options.Cache.Directory}")}) ...");
        var model = Fit(knn, splits.Train, options.Pipeline, options.Seed, options.Threads, options.Cache, cancellationToken);
        var featureModel = model as FeatureKNearestNeighborsModel;
        fit.Stop();
        string what = featureModel is null ? "test images" : $"test images ({featureModel.Features.Length:N0} standardized features each)";
        log?.Invoke($"k-NN (k={knn.K}, {ModelStore.MetricName(knn.Metric)}, {WeightsName(knn.Weighting)}): classifying {splits.Test.Count:N0} {what} against {splits.Train.Count:N0} training images on {options.Threads} thread(s) ...");
        cancellationToken.ThrowIfCancellationRequested();
        var predict = Stopwatch.StartNew();
        var predictions = Predict(model, splits.Test, options.Threads, options.Cache, cancellationToken);
        predict.Stop();
        cancellationToken.ThrowIfCancellationRequested();
        var report = ClassificationMetrics.Compute(splits.Test.Labels, predictions, splits.Test.ClassNames);

        var modelJson = new JsonObject
        {
            ["type"] = "knn", ["k"] = knn.K, ["metric"] = ModelStore.MetricName(knn.Metric), ["weights"] = WeightsName(knn.Weighting),
            ["features"] = featureModel?.Features.Pipeline.CanonicalConfig, ["feature_length"] = featureModel?.Features.Length,
        };
        var config = new JsonObject
        {
            ["command"] = options.Command,
            ["model"] = modelJson,
            ["dataset"] = (JsonObject?)options.Dataset?.DeepClone() ?? RunJson.Dataset(splits, location),
            ["seed"] = options.Seed,
            ["threads"] = options.Threads,
            ["train_limit"] = options.TrainLimit,
        };
        var document = new JsonObject
        {
            ["command"] = options.Command,
            ["model"] = modelJson.DeepClone(),
            ["dataset"] = config["dataset"]!.DeepClone(),
            ["metrics"] = new JsonObject { ["test"] = RunJson.Metrics(report) },
            ["timings_s"] = new JsonObject(),
            ["backend"] = featureModel is null ? $"knn-{NeighborSearch.ByteBackend}" : $"knn-{NeighborSearch.FloatBackend}",
            ["threads"] = options.Threads,
            ["run_dir"] = runDirectory,
            ["model_path"] = Path.Combine(runDirectory, "model.safetensors"),
        };
        RunFolder.Write(runDirectory, dir =>
        {
            ModelStore.Save(Path.Combine(dir, "model.safetensors"), model, new Dictionary<string, string> { ["dataset"] = location.Name });
            AtomicFile.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString(Indented));
        }, options.Replace);
        total.Stop();
        document["timings_s"] = new JsonObject
        {
            ["load"] = RunJson.Seconds(loading),
            ["fit"] = RunJson.Seconds(fit.Elapsed),
            ["predict"] = RunJson.Seconds(predict.Elapsed),
            ["total"] = RunJson.Seconds(loading + total.Elapsed),
        };
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "metrics.json"), document.ToJsonString(Indented));
        return new KnnRunResult(model, report, document, fit.Elapsed, predict.Elapsed, predictions);
    }

    /// <summary>A k-NN model of <paramref name="train"/>: its pixels, or (with a pipeline) its standardized features.</summary>
    public static IImageClassifier Fit(KNearestNeighborsOptions knn, ImageDataset train, FeaturePipeline? pipeline, int seed, int threads, FeatureCache? cache,
        CancellationToken cancellationToken = default) =>
        pipeline is null ? new KNearestNeighbors(knn).Fit(train) : new KNearestNeighbors(knn).Fit(train, pipeline, seed, threads, cache, cancellationToken);

    /// <summary>Classifies <paramref name="test"/> with a model from <see cref="Fit"/> (features extracted through the cache when it has a pipeline).</summary>
    public static Predictions Predict(IImageClassifier model, ImageDataset test, int threads, FeatureCache? cache, CancellationToken cancellationToken = default) =>
        model is FeatureKNearestNeighborsModel features ? features.Predict(test, threads, cache, cancellationToken) : model.Predict(test.Pixels, threads);

    /// <summary>"uniform" or "distance", as files and flags spell it.</summary>
    public static string WeightsName(NeighborWeighting weighting) => weighting == NeighborWeighting.Distance ? "distance" : "uniform";

    internal static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };
}
