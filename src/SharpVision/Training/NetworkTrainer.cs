using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Training;

/// <summary>An epoch finished (gradient training): its line of metrics.jsonl.</summary>
/// <param name="Metrics">The epoch's metrics.</param>
/// <param name="Epochs">The recipe's epochs.</param>
/// <param name="TrainCount">Images per epoch.</param>
public sealed record EpochCompleted(EpochMetrics Metrics, int Epochs, int TrainCount) : FitEvent;

/// <summary>
/// Trains the network models (linear SVM, softmax, logistic regression, MLPs, CNNs) from a <see cref="NetworkSpec"/>
/// (what network, on which input) and a recipe (<see cref="TrainingOptions"/>, defaults from <see cref="Recipes"/>):
/// holds out the recipe's validation share, fits normalization or features on the training part, builds and
/// initializes the network from the recipe's seed, and trains it with the <see cref="Trainer"/> (or fits a linear SVM
/// exactly with <see cref="DualSvmTraining"/>). With a run folder it writes checkpoints and can resume from them.
/// </summary>
/// <example><code>
/// var cnn = new NetworkTrainer(new NetworkSpec("cnn2")).Fit(train);          // the default cnn2 recipe
/// var softmax = new NetworkTrainer(new NetworkSpec("softmax"), Recipes.Default("softmax") with { LearningRate = 0.1 }).Fit(train);
/// </code></example>
public sealed class NetworkTrainer : IClassifierTrainer
{
    /// <summary>A trainer of <paramref name="spec"/> with <paramref name="recipe"/> (null: <see cref="Recipes.Default"/> of the spec's kind).</summary>
    /// <param name="spec">The network and its input preparation.</param>
    /// <param name="recipe">The training recipe; its seed also seeds the validation split and the initialization.</param>
    /// <param name="dual">The dual solver's settings, for a spec that <see cref="NetworkSpec.UsesDualSolver"/> (null: its defaults).</param>
    /// <exception cref="ModelSetupException">Contradictory settings (named).</exception>
    public NetworkTrainer(NetworkSpec spec, TrainingOptions? recipe = null, DualSvmOptions? dual = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        recipe ??= Recipes.Default(spec.Kind);
        try
        {
            recipe.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelSetupException("recipe", e.Message, e);
        }
        if (recipe.Optimizer == "random-search" && !spec.IsLinear)
            throw new ModelSetupException("optimizer", "random search is for linear models (svm, softmax, logistic).");
        if (dual is not null && !spec.UsesDualSolver) throw new ModelSetupException("solver", "dual solver settings need the dual solver (svm, solver dual).");
        if (spec.UsesDualSolver)
        {
            dual ??= new DualSvmOptions(DualSvmOptions.DefaultCValues);
            try
            {
                dual.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ModelSetupException("c", e.Message, e);
            }
            if (dual.CValues.Count > 1 && recipe.ValidationFraction == 0)
                throw new ModelSetupException("c", "several values of C are chosen among on a validation split: keep the validation fraction above 0, or give one value.");
        }
        (Spec, Recipe, Dual) = (spec, recipe, dual);
    }

    /// <summary>The network and its input preparation.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>The training recipe.</summary>
    public TrainingOptions Recipe { get; }

    /// <summary>The dual solver's settings (null unless the spec uses it).</summary>
    public DualSvmOptions? Dual { get; }

    /// <summary>
    /// Builds the network to train instead of a fresh one of the spec's kind, from the images' preparation, the number
    /// of classes and the recipe's seed: a pretrained backbone under a new head, some layers frozen (fine-tuning). Null:
    /// <see cref="NetworkSpec.BuildNetwork"/>, initialized from the seed.
    /// </summary>
    public Func<ImagePreparation, int, int, Sequential>? InitialNetwork { get; init; }

    /// <inheritdoc/>
    public string Kind => Spec.Kind;

    /// <inheritdoc/>
    public JsonObject Describe()
    {
        if (Dual is null) return Recipe.ToJson();
        var json = Dual.ToJson();
        json["seed"] = Recipe.Seed;
        json["ValidationFraction"] = Recipe.ValidationFraction;
        return json;
    }

    /// <summary>Trains a new model (see the class summary). Reports a <see cref="FitNote"/> first, an <see cref="EpochCompleted"/> per epoch,
    /// <see cref="FitProgress"/> per step and a <see cref="FitCompleted"/> at the end.</summary>
    /// <exception cref="ModelSetupException">The data do not suit the settings (one class, a feature pipeline larger than the images, ...).</exception>
    /// <exception cref="OperationCanceledException">Cancelled; with a run folder, a checkpoint of the last completed step was written first.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null) => FitNetwork(train, validation, context);

    /// <summary>As <see cref="Fit"/>, typed.</summary>
    /// <exception cref="ModelSetupException">The data do not suit the settings.</exception>
    public NetworkClassifier FitNetwork(ImageDataset train, ImageDataset? validation = null, FitContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        context ??= FitContext.Default;
        CheckData(train, validation);
        int threads = context.ResolvedThreads, seed = Recipe.Seed;
        using var scope = Engine.UseThreads(threads);
        var clock = Stopwatch.StartNew();
        if (validation is null && Recipe.ValidationFraction > 0)
        {
            var (held, kept) = Splits.StratifiedSplit(train.Labels, Recipe.ValidationFraction, seed);
            validation = train.Subset(held);
            train = train.Subset(kept);
        }
        if (Dual is { CValues.Count: > 1 } && validation is null)
            throw new ModelSetupException("c", "Choosing C among several values needs a validation split.");
        NetworkInputs inputs;
        using (context.ReportFeatureProgress())
            inputs = NetworkInputs.Prepare(Spec, train, validation, seed, threads, context.FeatureCache, context.Cancellation);
        if (inputs.Features is { } f) context.Report(new FitNote($"features {f.Pipeline.CanonicalConfig}: {f.Length:N0} per image, standardized on the training split"));
        var initial = InitialNetwork?.Invoke(inputs.Preparation, inputs.ClassNames.Count, seed);
        var model = inputs.CreateModel(seed, flipAveraging: Recipe.Tta == "flip", batchSize: Dual is null ? Recipe.BatchSize : 1, network: initial);
        context.Report(new FitNote(Description(model, train.Count, validation?.Count ?? 0, threads, context.Resume)));
        Conv2dBackend.ResetUsed(); // the run's backend string names what this fit used
        var summary = Dual is null ? TrainGradient(model, inputs, context, clock) : TrainDual(model, inputs, context, clock);
        context.Report(new FitCompleted(train.Count, validation?.Count ?? 0, summary));
        // What the training images looked like, saved with the model: prediction warns about inputs unlike all of them.
        return model.WithInputStatistics(InputStatistics.Compute(train));
    }

    private JsonObject TrainGradient(NetworkClassifier model, NetworkInputs inputs, FitContext context, Stopwatch clock)
    {
        Checkpoint? resume = null;
        if (context.Resume)
        {
            var directory = context.RunDirectory ?? throw new ModelSetupException("resume", "Resuming needs the run folder that holds the checkpoint.");
            var path = Path.Combine(directory, Checkpoint.FileName);
            if (!File.Exists(path)) throw new ModelSetupException("resume", $"{directory} holds no {Checkpoint.FileName}: there is nothing to resume.");
            resume = Checkpoint.Load(path);
            if (resume.Options != Recipe) throw new ModelSetupException("resume", $"{path} was written with another recipe; resume it with the recipe it records.");
        }
        string stage = $"training {Spec.Kind}";
        var result = new Trainer(Recipe)
        {
            OnStep = s => context.Report(new FitProgress(stage, (long)s.Epoch * s.StepsPerEpoch + s.Step + 1, (long)s.Epochs * s.StepsPerEpoch,
                string.Create(CultureInfo.InvariantCulture, $"epoch {s.Epoch + 1}/{s.Epochs} loss {s.Loss:F4}"))),
            OnEpoch = m => context.Report(new EpochCompleted(m, Recipe.Epochs, inputs.Train.Count)),
            TimeLimit = context.TimeLimit,
            CheckpointMetadata = context.CheckpointMetadata,
        }.Fit(model, inputs.Train, inputs.Validation, context.RunDirectory, resume, context.Cancellation);
        double epochSeconds = result.Epochs.Count == 0 ? 0 : result.Epochs.Average(e => e.Seconds);
        return new JsonObject
        {
            ["metrics"] = new JsonObject
            {
                ["epochs"] = new JsonArray(result.Epochs.Select(e => (JsonNode)e.ToJson()).ToArray()),
                ["best_epoch"] = result.BestEpoch,
                ["stopped_early"] = result.StoppedEarly,
                ["stopped_at_time_limit"] = result.ReachedTimeLimit,
            },
            ["timings_s"] = new JsonObject { ["epoch_mean"] = Math.Round(epochSeconds, 3), ["train"] = Math.Round(clock.Elapsed.TotalSeconds, 3) },
            ["throughput"] = new JsonObject { ["train_images_per_s"] = Math.Round(inputs.Train.Count / Math.Max(epochSeconds, 1e-9)) },
            ["backend"] = EngineBackend.Of(model.Network),
        };
    }

    private JsonObject TrainDual(NetworkClassifier model, NetworkInputs inputs, FitContext context, Stopwatch clock)
    {
        if (context.Resume) throw new ModelSetupException("resume", "The dual solver writes no checkpoints, so there is nothing to resume: train again.");
        const string stage = "training svm (dual coordinate descent)";
        var outcome = DualSvmTraining.Fit(model, inputs.Train, inputs.Validation, Dual!, Recipe.Seed, context.ResolvedThreads,
            (done, total, what) => context.Report(new FitProgress(stage, done, total, what)), context.Cancellation);
        foreach (var k in outcome.Candidates)
            context.Report(new FitNote(string.Create(CultureInfo.InvariantCulture,
                $"C {k.C:G4}: validation accuracy {k.ValidationAccuracy:P2}, {k.Seconds:F2} s, up to {k.Passes} passes{(k.Converged ? "" : " (pass limit reached)")}")));
        context.Report(new FitNote(string.Create(CultureInfo.InvariantCulture,
            $"C {outcome.C:G4}{(outcome.Refit ? $" chosen, refitted on {outcome.Examples:N0} examples" : "")}: train accuracy {outcome.TrainAccuracy:P2}, " +
            $"up to {outcome.Passes.Max()} passes, {outcome.SupportVectors.Average():N0} support vectors per class, {outcome.Seconds:F2} s" +
            $"{(outcome.Converged ? "" : "; the pass limit stopped some classes before the tolerance")}")));
        return new JsonObject
        {
            ["solver"] = outcome.ToJson(),
            ["timings_s"] = new JsonObject { ["train"] = Math.Round(clock.Elapsed.TotalSeconds, 3) },
            ["backend"] = EngineBackend.Of(model.Network),
        };
    }

    // The data must suit the model: two classes at least (logistic regression: exactly two), images the spec can take.
    private void CheckData(ImageDataset train, ImageDataset? validation)
    {
        if (train.Count == 0) throw new ModelSetupException("data", "No training images.");
        if (train.Labels.Distinct().Take(2).Count() < 2)
            throw new ModelSetupException("data", $"The training images hold one class ({train.ClassNames[train.Labels[0]]}); a classifier needs at least two.");
        if (Spec.Loss == ClassifierLoss.Logistic && train.ClassNames.Count != 2)
            throw new ModelSetupException("classes", $"Logistic regression separates two classes; the data have {train.ClassNames.Count} (select two).");
        if (validation is not null && (validation.Channels != train.Channels || validation.Height != train.Height || validation.Width != train.Width
            || !validation.ClassNames.SequenceEqual(train.ClassNames, StringComparer.Ordinal)))
            throw new ModelSetupException("validation", "The validation images must have the training images' shape and classes.");
    }

    // "11,181,642 parameters", or "8,394,752 of 11,181,642 parameters trained" when some are frozen.
    private static string Parameters(Sequential network)
    {
        long all = network.ParameterCount();
        long trained = network.NamedParameters().Where(p => p.Parameter.RequiresGrad).Sum(p => (long)p.Parameter.Size);
        return trained == all ? string.Create(CultureInfo.InvariantCulture, $"{all:N0} parameters")
            : string.Create(CultureInfo.InvariantCulture, $"{trained:N0} of {all:N0} parameters trained");
    }

    private string Description(NetworkClassifier model, int trainCount, int validationCount, int threads, bool resuming)
    {
        var r = Recipe;
        string images = $"{trainCount:N0} images{(validationCount == 0 ? "" : $" (+{validationCount:N0} validation)")}";
        if (Dual is { } d)
        {
            var choice = d.CValues.Count == 1 ? $"C {d.CValues[0]}" : $"C ∈ {{{string.Join(", ", d.CValues)}}} chosen on validation, then refitted on training + validation";
            return string.Create(CultureInfo.InvariantCulture,
                $"training svm ({model.Network.ParameterCount():N0} parameters) on {images}: exact one-vs-rest squared hinge by dual coordinate descent, " +
                $"{choice}, tolerance {d.Tolerance}, {threads} thread(s)");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"{(resuming ? "resuming" : "training")} {Spec.Kind} ({Parameters(model.Network)}) on {images}: " +
            $"{r.Optimizer} lr {r.LearningRate} ({r.Schedule}), batch {r.BatchSize}, {r.Epochs} epochs, {threads} thread(s), {EngineBackend.Describe(model.Network)}");
    }
}
