using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Tensors.Kernels;
using SharpVision.Training;

namespace SharpVision.Runs;

/// <summary>How a run records itself besides the trainer and the data.</summary>
public sealed record RunOptions
{
    /// <summary>The command recorded in config.json and metrics.json ("train", "ladder").</summary>
    public string Command { get; init; } = "train";

    /// <summary>The dataset as config.json records it, when the caller knows more than the splits (an image folder's test fraction); null: <see cref="RunJson.Dataset"/>.</summary>
    public JsonObject? Dataset { get; init; }

    /// <summary>Further config.json entries (the training-set limit a caller applied, ...).</summary>
    public JsonObject? Config { get; init; }

    /// <summary>Time the caller spent loading the data (reported in timings_s.load and the total).</summary>
    public TimeSpan Loading { get; init; }

    /// <summary>Write report.html at the end (a failure is returned in <see cref="RunResult.ReportError"/>, the run stands).</summary>
    public bool Report { get; init; } = true;
}

/// <summary>What a run produced.</summary>
/// <param name="Model">The fitted model (saved as model.safetensors).</param>
/// <param name="Test">Metrics on the test split (evaluated once, at the end).</param>
/// <param name="Document">The metrics.json document (also what <c>train --json</c> prints).</param>
/// <param name="Fit">Fitting time.</param>
/// <param name="Predict">Time to classify the test split.</param>
/// <param name="Predictions">The test split's predictions.</param>
/// <param name="RunDirectory">The run folder (absolute).</param>
/// <param name="TrainCount">Images the model was trained on.</param>
/// <param name="ValidationCount">Images held out for validation.</param>
/// <param name="ReportPath">report.html, when written.</param>
/// <param name="ReportError">Why report.html was not written (null when it was, or was not asked for).</param>
public sealed record RunResult(IImageClassifier Model, ClassificationMetrics Test, JsonObject Document, TimeSpan Fit, TimeSpan Predict, Predictions Predictions,
    string RunDirectory, int TrainCount, int ValidationCount, string? ReportPath, string? ReportError);

/// <summary>
/// One training run of any model family, the way `train`, the ladder and library callers run it: fit the trainer on the
/// training split (with the run folder for checkpoints), classify the test split once, and leave a run folder with
/// config.json, model.safetensors, metrics.json (and metrics.jsonl, steps.jsonl, report.html where they apply).
/// </summary>
/// <remarks>
/// A run that fails or is cancelled before writing anything resumable removes the folder it created; a cancelled
/// gradient run keeps its checkpoint so it can be resumed (<see cref="FitContext.Resume"/>).
/// </remarks>
public static class ClassifierRun
{
    /// <summary>Runs <paramref name="trainer"/> on <paramref name="splits"/> into <paramref name="runDirectory"/>.</summary>
    /// <param name="trainer">What to fit.</param>
    /// <param name="splits">Training and test images (the test images are classified once, after fitting).</param>
    /// <param name="location">Where the dataset came from (recorded).</param>
    /// <param name="runDirectory">The run folder; it must not hold a run unless <paramref name="context"/> resumes one.</param>
    /// <param name="context">Threads, cancellation, events; its run folder is set to <paramref name="runDirectory"/>.</param>
    /// <param name="options">What to record.</param>
    /// <exception cref="RunFolderExistsException">The folder holds anything and this is not a resume (clear it first: <see cref="RunFolder.Clear"/>).</exception>
    /// <exception cref="RunFolderInUseException">Another process is writing the folder.</exception>
    /// <exception cref="ModelSetupException">The trainer's settings do not fit the data.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (a gradient run keeps its checkpoint).</exception>
    public static RunResult Execute(IClassifierTrainer trainer, DatasetSplits splits, DatasetLocation location, string runDirectory, FitContext? context = null,
        RunOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        context ??= FitContext.Default;
        options ??= new RunOptions();
        var clock = Stopwatch.StartNew();
        runDirectory = Path.GetFullPath(runDirectory);
        using var hold = RunFolder.Lock(runDirectory); // one writer for the run's life (nests inside a command that holds it)
        if (!context.Resume && RunFolder.IsNonEmpty(runDirectory)) throw new RunFolderExistsException(runDirectory);
        bool created = !Directory.Exists(runDirectory);
        Directory.CreateDirectory(runDirectory);
        int threads = context.ResolvedThreads;
        var dataset = (JsonObject?)options.Dataset?.DeepClone() ?? RunJson.Dataset(splits, location);
        var config = new JsonObject
        {
            ["command"] = options.Command,
            ["model"] = new JsonObject { ["type"] = trainer.Kind },
            ["training"] = trainer.Describe(),
            ["dataset"] = dataset.DeepClone(),
            ["threads"] = threads,
            ["gemm"] = Gemm.Provider.Name,
            ["conv"] = Conv2dBackend.Describe(),
            ["simd"] = RunJson.Simd(),
        };
        if (options.Config is { } extra)
            foreach (var (key, value) in extra) config[key] = value?.DeepClone();
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "config.json"), config.ToJsonString(RunJson.Indented));

        FitCompleted? completed = null;
        var fitContext = context with
        {
            Threads = threads,
            RunDirectory = runDirectory,
            Events = e =>
            {
                if (e is FitCompleted c) completed = c;
                context.Events?.Invoke(e);
            },
        };
        IImageClassifier model;
        var fit = Stopwatch.StartNew();
        try
        {
            model = trainer.Fit(splits.Train, null, fitContext);
        }
        catch
        {
            // Nothing half-written: a folder this run created goes, unless it holds a checkpoint to resume from.
            if (created && !File.Exists(Path.Combine(runDirectory, Checkpoint.FileName)))
                try { Directory.Delete(runDirectory, recursive: true); } catch (IOException) { }
            throw;
        }
        fit.Stop();
        int trainCount = completed?.TrainCount ?? splits.Train.Count, validationCount = completed?.ValidationCount ?? 0;
        var summary = completed?.Summary ?? [];

        var predict = Stopwatch.StartNew();
        Predictions predictions;
        using (FeatureCache.UseForPredictions(context.FeatureCache))
        using (context.ReportFeatureProgress())
            predictions = model.Predict(splits.Test, threads);
        predict.Stop();
        var test = ClassificationMetrics.Compute(splits.Test.Labels, predictions, model.ClassNames);
        var modelPath = Path.Combine(runDirectory, "model.safetensors");
        model.Save(modelPath, new Dictionary<string, string> { ["dataset"] = location.Name });

        var description = model.Describe();
        config["model"] = description.DeepClone();
        config["train_count"] = trainCount;
        config["validation_count"] = validationCount;
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "config.json"), config.ToJsonString(RunJson.Indented));
        var document = new JsonObject
        {
            ["command"] = options.Command,
            ["model"] = description.DeepClone(),
            ["training"] = trainer.Describe(),
            ["dataset"] = dataset.DeepClone(),
            ["train_count"] = trainCount,
            ["validation_count"] = validationCount,
            ["metrics"] = new JsonObject { ["test"] = RunJson.Metrics(test) },
            ["timings_s"] = new JsonObject
            {
                ["load"] = RunJson.Seconds(options.Loading),
                ["fit"] = RunJson.Seconds(fit.Elapsed),
                ["predict"] = RunJson.Seconds(predict.Elapsed),
            },
            ["throughput"] = new JsonObject { ["predict_images_per_s"] = Math.Round(splits.Test.Count / Math.Max(predict.Elapsed.TotalSeconds, 1e-9)) },
            ["backend"] = null,
            ["simd"] = RunJson.Simd(),
            ["threads"] = threads,
            ["run_dir"] = runDirectory,
            ["model_path"] = modelPath,
        };
        Merge(document, summary);
        document["timings_s"]!["total"] = RunJson.Seconds(options.Loading + clock.Elapsed);
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "metrics.json"), document.ToJsonString(RunJson.Indented));

        string? reportPath = null, reportError = null;
        if (options.Report)
        {
            try
            {
                reportPath = Path.Combine(runDirectory, RunReports.FileName);
                using (FeatureCache.UseForPredictions(context.FeatureCache)) // a backbone's test features: computed above, read back
                    RunReports.Write(reportPath, RunReports.Load(runDirectory, threads, null, model, splits.Test, predictions));
                document["report"] = reportPath;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or DataFormatException or FormatException or ArgumentException)
            {
                (reportPath, reportError) = (null, e.Message);
            }
        }
        return new RunResult(model, test, document, fit.Elapsed, predict.Elapsed, predictions, runDirectory, trainCount, validationCount, reportPath, reportError);
    }

    /// <summary>True when <paramref name="runDirectory"/> holds a model or a checkpoint.</summary>
    public static bool HoldsRun(string runDirectory) =>
        File.Exists(Path.Combine(runDirectory, "model.safetensors")) || File.Exists(Path.Combine(runDirectory, Checkpoint.FileName));

    // Deep merge: objects merge key by key, anything else replaces.
    private static void Merge(JsonObject into, JsonObject from)
    {
        foreach (var (key, value) in from)
        {
            if (value is JsonObject o && into[key] is JsonObject existing) Merge(existing, o);
            else into[key] = value?.DeepClone();
        }
    }
}
