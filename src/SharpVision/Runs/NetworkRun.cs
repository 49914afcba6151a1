using SharpVision.Classic;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Evaluation;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Serialization;
using SharpVision.Tensors.Kernels;
using SharpVision.Training;

namespace SharpVision.Runs;

/// <summary>How a network run is set up besides its data.</summary>
/// <param name="Spec">The model and its input preparation.</param>
/// <param name="Recipe">The training recipe (its seed seeds the validation split and initialization too).</param>
/// <param name="ValidationFraction">Share of the training split held out and evaluated after each epoch (0: none).</param>
/// <param name="FlipAveraging">Test-time flip averaging, stored with the model.</param>
/// <param name="Threads">Worker threads (the caller sets <c>Engine.Threads</c> for GEMM).</param>
/// <param name="Command">The command recorded in config.json and metrics.json ("train", "ladder").</param>
/// <param name="UseFeatureCache">Cache extracted features on disk (<see cref="FeatureCache"/>'s default folder).</param>
/// <param name="Resume">A checkpoint to continue from (its recipe must equal <paramref name="Recipe"/>).</param>
/// <param name="CheckpointMetadata">Extra metadata stored in every checkpoint (what `train --resume` replays).</param>
/// <param name="Dataset">The dataset as config.json records it, when the caller knows more than the splits (an image folder's test fraction); null: <see cref="RunJson.Dataset"/>.</param>
/// <param name="Dual">The dual solver's settings when <see cref="NetworkSpec.UsesDualSolver"/> (null: <see cref="DualSvmOptions.DefaultCValues"/>); <paramref name="Recipe"/> then only gives the seed.</param>
public sealed record NetworkRunOptions(NetworkSpec Spec, TrainingOptions Recipe, double ValidationFraction = 0.1, bool FlipAveraging = false, int Threads = 1,
    string Command = "train", bool UseFeatureCache = true, Checkpoint? Resume = null, IReadOnlyDictionary<string, string>? CheckpointMetadata = null, System.Text.Json.Nodes.JsonObject? Dataset = null,
    DualSvmOptions? Dual = null)
{
    /// <summary>The dual solver's settings (defaults when <see cref="Dual"/> is null).</summary>
    public DualSvmOptions DualOptions => Dual ?? new DualSvmOptions(DualSvmOptions.DefaultCValues);

    /// <summary>What config.json and metrics.json record as "training": the recipe, or the dual solver's settings.</summary>
    public JsonObject TrainingJson()
    {
        if (!Spec.UsesDualSolver) return Recipe.ToJson();
        var json = DualOptions.ToJson();
        json["seed"] = Recipe.Seed;
        return json;
    }
}

/// <summary>What a network run produced.</summary>
/// <param name="Model">The trained model.</param>
/// <param name="Training">Epochs, early stopping, time limit.</param>
/// <param name="Test">Metrics on the test split (evaluated once, at the end).</param>
/// <param name="Document">The metrics.json document (also what <c>train --json</c> prints).</param>
/// <param name="Fit">Training time.</param>
/// <param name="Predict">Time to classify the test split.</param>
/// <param name="Predictions">The test split's predictions (for the run's report).</param>
public sealed record NetworkRunResult(NetworkClassifier Model, TrainingResult Training, ClassificationMetrics Test, JsonObject Document, TimeSpan Fit, TimeSpan Predict, Predictions Predictions);

/// <summary>
/// One gradient-training run, in three steps: <see cref="Prepare"/> (validation split, inputs, model, config.json),
/// <see cref="Train"/> (the <see cref="Trainer"/>, writing metrics.jsonl and checkpoints into the run folder), and
/// <see cref="Finish"/> (classify the test split once, write model.safetensors and metrics.json). `train` and `ladder`
/// both run it; callers put progress display around <see cref="Train"/>.
/// </summary>
public sealed class NetworkRun
{
    private readonly Stopwatch _clock;
    private readonly TimeSpan _loading;
    private readonly TimeSpan _preparation;
    private readonly DatasetSplits _splits;
    private readonly DatasetLocation _location;
    private readonly JsonObject _modelJson;
    private readonly JsonObject _datasetJson;
    private TrainingResult? _result;
    private DualSvmOutcome? _dual;
    private TimeSpan _fit;

    private NetworkRun(NetworkRunOptions options, DatasetSplits splits, DatasetLocation location, string runDirectory, TimeSpan loading,
        NetworkInputs inputs, NetworkClassifier model, int trainCount, int validationCount, Stopwatch clock)
    {
        _clock = clock;
        (Options, _splits, _location, RunDirectory, _loading, Inputs, Model, TrainCount, ValidationCount) =
            (options, splits, location, runDirectory, loading, inputs, model, trainCount, validationCount);
        _preparation = clock.Elapsed;
        _modelJson = new JsonObject
        {
            ["type"] = options.Spec.Kind,
            ["loss"] = ModelStore.LossName(model.Loss),
            ["architecture"] = Architecture.ToJson(model.Network),
            ["parameters"] = model.Network.ParameterCount(),
            ["preprocess"] = Normalizer.Name(options.Spec.Normalization),
            ["features"] = inputs.Features?.Pipeline.CanonicalConfig,
            ["classes"] = new JsonArray(model.ClassNames.Select(n => (JsonNode)n).ToArray()),
        };
        _datasetJson = (JsonObject?)options.Dataset?.DeepClone() ?? RunJson.Dataset(splits, location);
    }

    public NetworkRunOptions Options { get; }

    /// <summary>The run folder (absolute).</summary>
    public string RunDirectory { get; }

    /// <summary>The prepared training (and validation) inputs.</summary>
    public NetworkInputs Inputs { get; }

    /// <summary>The model, trained in place by <see cref="Train"/>.</summary>
    public NetworkClassifier Model { get; }

    /// <summary>What training produced, once <see cref="Train"/> or <see cref="TrainDual"/> has run.</summary>
    public TrainingResult? TrainingResult => _result;

    /// <summary>Training images after the validation hold-out.</summary>
    public int TrainCount { get; }

    /// <summary>Validation images held out of the training split (0 when none).</summary>
    public int ValidationCount { get; }

    /// <summary>One line saying what will be trained, on what, with which recipe.</summary>
    public string Description
    {
        get
        {
            var r = Options.Recipe;
            if (Options.Spec.UsesDualSolver)
            {
                var d = Options.DualOptions;
                var choice = d.CValues.Count == 1 ? $"C {d.CValues[0]}" : $"C ∈ {{{string.Join(", ", d.CValues)}}} chosen on validation, then refitted on training + validation";
                return string.Create(CultureInfo.InvariantCulture,
                    $"training svm ({Model.Network.ParameterCount():N0} parameters) on {TrainCount:N0} images{(ValidationCount == 0 ? "" : $" (+{ValidationCount:N0} validation)")}: " +
                    $"exact one-vs-rest squared hinge by dual coordinate descent, {choice}, tolerance {d.Tolerance}, {Options.Threads} thread(s); run folder {RunDirectory}");
            }
            return string.Create(CultureInfo.InvariantCulture,
                $"{(Options.Resume is null ? "training" : "resuming")} {Options.Spec.Kind} ({Model.Network.ParameterCount():N0} parameters) on {TrainCount:N0} images{(ValidationCount == 0 ? "" : $" (+{ValidationCount:N0} validation)")}: " +
                $"{r.Optimizer} lr {r.LearningRate} ({r.Schedule}), batch {r.BatchSize}, {r.Epochs} epochs, {Options.Threads} thread(s), {RunJson.NetworkBackendDescription(Model.Network)}; run folder {RunDirectory}");
        }
    }

    /// <summary>
    /// Holds out the validation split (stratified, seeded by the recipe's seed), prepares the inputs, builds the model
    /// and writes config.json into <paramref name="runDirectory"/>.
    /// </summary>
    /// <param name="options">Model, recipe and what to record.</param>
    /// <param name="splits">Training and test images (the test images are only used by <see cref="Finish"/>).</param>
    /// <param name="location">Where the dataset came from (recorded).</param>
    /// <param name="runDirectory">The run folder; it must not hold a run unless resuming.</param>
    /// <param name="loading">Time the caller spent loading the data (reported in timings_s.load and the total).</param>
    /// <param name="cancellationToken">Cancels feature extraction.</param>
    /// <exception cref="RunSetupException">Settings that do not fit the data (features, image size).</exception>
    /// <exception cref="RunFolderExistsException">The folder already holds a run (anything) and this is not a resume: clear it first (<see cref="RunFolder.Clear"/>).</exception>
    public static NetworkRun Prepare(NetworkRunOptions options, DatasetSplits splits, DatasetLocation location, string runDirectory, TimeSpan loading,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(location);
        var clock = Stopwatch.StartNew();
        if (!(options.ValidationFraction >= 0 && options.ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidationFraction, "The validation fraction must be in [0, 1).");
        runDirectory = Path.GetFullPath(runDirectory);
        if (options.Resume is null && RunFolder.IsNonEmpty(runDirectory))
            throw new RunFolderExistsException(runDirectory);
        if (options.Resume is { } resume && resume.Options != options.Recipe)
            throw new ArgumentException("The checkpoint was written with another recipe.", nameof(options));
        if (options.Spec.UsesDualSolver)
        {
            if (options.Resume is not null) throw new RunSetupException("model", "The dual solver writes no checkpoints, so there is nothing to resume: train again.");
            try
            {
                options.DualOptions.Validate();
            }
            catch (ArgumentException e)
            {
                throw new RunSetupException("model", e.Message, e);
            }
            if (options.DualOptions.CValues.Count > 1 && options.ValidationFraction == 0)
                throw new RunSetupException("model", "Choosing C among several values needs a validation split (a validation fraction above 0).");
        }

        int seed = options.Recipe.Seed;
        var train = splits.Train;
        ImageDataset? validation = null;
        if (options.ValidationFraction > 0)
        {
            var (held, kept) = Splits.StratifiedSplit(train.Labels, options.ValidationFraction, seed);
            validation = train.Subset(held);
            train = train.Subset(kept);
        }
        var inputs = NetworkInputs.Prepare(options.Spec, train, validation, seed, options.Threads, options.UseFeatureCache ? new FeatureCache() : null, cancellationToken);
        var model = inputs.CreateModel(seed, batchSize: options.Spec.UsesDualSolver ? 1 : options.Recipe.BatchSize);
        var run = new NetworkRun(options, splits, location, runDirectory, loading, inputs, model, train.Count, validation?.Count ?? 0, clock);

        Directory.CreateDirectory(runDirectory);
        var config = new JsonObject
        {
            ["command"] = options.Command,
            ["model"] = run._modelJson.DeepClone(),
            ["training"] = options.TrainingJson(),
            ["dataset"] = run._datasetJson.DeepClone(),
            ["validation_fraction"] = options.ValidationFraction,
            ["train_count"] = run.TrainCount,
            ["validation_count"] = run.ValidationCount,
            ["threads"] = options.Threads,
            ["gemm"] = Gemm.Provider.Name,
            ["conv"] = Conv2dBackend.Describe(),
        };
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "config.json"), config.ToJsonString(KnnRun.Indented));
        return run;
    }

    /// <summary>True when <paramref name="runDirectory"/> holds a model or a checkpoint.</summary>
    public static bool HoldsRun(string runDirectory) =>
        File.Exists(Path.Combine(runDirectory, "model.safetensors")) || File.Exists(Path.Combine(runDirectory, Checkpoint.FileName));

    /// <summary>Trains the model (see <see cref="Trainer.Fit"/>), writing metrics.jsonl and checkpoints into the run folder.</summary>
    /// <param name="onStep">Called after every step.</param>
    /// <param name="onEpoch">Called after every epoch.</param>
    /// <param name="timeLimit">Stop training (keeping the weights reached) after this long; see <see cref="Trainer.TimeLimit"/>.</param>
    /// <param name="cancellationToken">Ctrl-C: a checkpoint is written, then <see cref="OperationCanceledException"/>.</param>
    public TrainingResult Train(Action<StepProgress>? onStep = null, Action<EpochMetrics>? onEpoch = null, TimeSpan? timeLimit = null, CancellationToken cancellationToken = default)
    {
        if (_result is not null) throw new InvalidOperationException("This run has already been trained.");
        if (Options.Spec.UsesDualSolver) throw new InvalidOperationException("This run uses the dual solver: call TrainDual.");
        Conv2dBackend.ResetUsed(); // metrics.json's backend names what this run used
        var fit = Stopwatch.StartNew();
        _result = new Trainer(Options.Recipe)
        {
            OnEpoch = onEpoch,
            OnStep = onStep,
            TimeLimit = timeLimit,
            CheckpointMetadata = Options.CheckpointMetadata,
        }.Fit(Model, Inputs.Train, Inputs.Validation, RunDirectory, Options.Resume, cancellationToken);
        _fit = fit.Elapsed;
        return _result;
    }

    /// <summary>
    /// Fits the model exactly with <see cref="DualSvmTraining"/> (a run whose spec <see cref="NetworkSpec.UsesDualSolver"/>): no
    /// epochs, steps or checkpoints; the solver's choices go into metrics.json under "solver".
    /// </summary>
    /// <param name="onProgress">Called with (solves done, solves in all, what is being solved).</param>
    /// <param name="cancellationToken">Ctrl-C: <see cref="OperationCanceledException"/>, nothing written.</param>
    public DualSvmOutcome TrainDual(Action<int, int, string>? onProgress = null, CancellationToken cancellationToken = default)
    {
        if (_result is not null) throw new InvalidOperationException("This run has already been trained.");
        if (!Options.Spec.UsesDualSolver) throw new InvalidOperationException("This run trains by gradient descent: call Train.");
        var fit = Stopwatch.StartNew();
        _dual = DualSvmTraining.Fit(Model, Inputs.Train, Inputs.Validation, Options.DualOptions, Options.Recipe.Seed, Options.Threads, onProgress, cancellationToken);
        _fit = fit.Elapsed;
        _result = new TrainingResult([], StoppedEarly: false, BestEpoch: 0, _fit.TotalSeconds);
        return _dual;
    }

    /// <summary>Classifies the test split once, saves model.safetensors and writes metrics.json.</summary>
    public NetworkRunResult Finish()
    {
        var result = _result ?? throw new InvalidOperationException("Train the run before finishing it.");
        Model.FlipAveraging = Options.FlipAveraging;
        var test = _splits.Test;
        var predict = Stopwatch.StartNew();
        var predictions = Model.Predict(test, Options.Threads);
        predict.Stop();
        var report = ClassificationMetrics.Compute(test.Labels, predictions, Model.ClassNames);
        var modelPath = Path.Combine(RunDirectory, "model.safetensors");
        ModelStore.Save(modelPath, Model, new Dictionary<string, string> { ["dataset"] = _location.Name });

        double epochSeconds = result.Epochs.Count == 0 ? 0 : result.Epochs.Average(e => e.Seconds);
        var document = new JsonObject
        {
            ["command"] = Options.Command,
            ["model"] = _modelJson.DeepClone(),
            ["training"] = Options.TrainingJson(),
            ["dataset"] = _datasetJson.DeepClone(),
            ["solver"] = _dual?.ToJson(),
            ["metrics"] = new JsonObject
            {
                ["test"] = RunJson.Metrics(report),
                ["epochs"] = new JsonArray(result.Epochs.Select(e => (JsonNode)e.ToJson()).ToArray()),
                ["best_epoch"] = result.BestEpoch,
                ["stopped_early"] = result.StoppedEarly,
                ["stopped_at_time_limit"] = result.ReachedTimeLimit,
            },
            ["timings_s"] = new JsonObject
            {
                ["load"] = RunJson.Seconds(_loading + _preparation),
                ["fit"] = RunJson.Seconds(_fit),
                ["epoch_mean"] = _dual is null ? Math.Round(epochSeconds, 3) : null,
                ["predict"] = RunJson.Seconds(predict.Elapsed),
                ["total"] = RunJson.Seconds(_loading + _clock.Elapsed),
            },
            ["throughput"] = new JsonObject
            {
                ["train_images_per_s"] = _dual is null ? Math.Round(TrainCount / Math.Max(epochSeconds, 1e-9)) : null,
                ["predict_images_per_s"] = Math.Round(test.Count / Math.Max(predict.Elapsed.TotalSeconds, 1e-9)),
            },
            ["backend"] = RunJson.NetworkBackend(Model.Network),
            ["threads"] = Options.Threads,
            ["run_dir"] = RunDirectory,
            ["model_path"] = modelPath,
        };
        AtomicFile.WriteAllText(Path.Combine(RunDirectory, "metrics.json"), document.ToJsonString(KnnRun.Indented));
        return new NetworkRunResult(Model, result, report, document, _fit, predict.Elapsed, predictions);
    }
}
