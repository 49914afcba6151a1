using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Nn;
using SharpVision.Reports;
using SharpVision.Serialization;
using SharpVision.Tensors.Kernels;
using SharpVision.Training;

namespace SharpVision.Runs;

/// <summary>What the ladder runs and how long it may take.</summary>
/// <param name="Budget">The whole ladder's time budget, data loading included.</param>
/// <param name="Seed">Seeds the validation split, initialization, shuffling and dropout of every rung.</param>
/// <param name="Threads">Worker threads (the caller sets <c>Engine.Threads</c> for GEMM).</param>
/// <param name="Rungs">Which rungs, by name (null: all of <see cref="Ladder.RungNames"/>); they always run in ladder order.</param>
/// <param name="ValidationFraction">Share of the training split held out (stratified) to choose hyperparameters on.</param>
public sealed record LadderOptions(TimeSpan Budget, int Seed = 0, int Threads = 1, IReadOnlyList<string>? Rungs = null, double ValidationFraction = 0.1);

/// <summary>One setting of a rung's grid and its accuracy on the validation split.</summary>
public sealed record GridResult(JsonObject Parameters, double ValidationAccuracy, double Seconds)
{
    public JsonObject ToJson() => new()
    {
        ["params"] = Parameters.DeepClone(),
        ["validation_accuracy"] = RunJson.Round(ValidationAccuracy),
        ["seconds"] = Math.Round(Seconds, 3),
    };
}

/// <summary>One rung of the ladder: what was chosen, how it scored, what it costs.</summary>
/// <param name="Name">Short name, also the run folder's name (knn, svm, softmax, hog-svm, mlp, cnn).</param>
/// <param name="Title">What it is, for people ("k-NN on pixels").</param>
/// <param name="Hyperparameters">The chosen values of the searched hyperparameters (the CNN: its epochs).</param>
/// <param name="Fixed">Settings that were not searched but matter to the reader (features, architecture, recipe).</param>
/// <param name="Grid">Every setting tried, with its validation accuracy, in the order tried.</param>
/// <param name="GridSize">Settings planned (more than tried when the rung was cut short).</param>
/// <param name="ValidationAccuracy">The chosen setting's accuracy on the validation split.</param>
/// <param name="TestAccuracy">The final model's accuracy on the test split (evaluated once).</param>
/// <param name="TrainSeconds">Fitting the final model.</param>
/// <param name="SearchSeconds">Choosing hyperparameters (the CNN: its speed pilot).</param>
/// <param name="RungSeconds">The whole rung, writing included.</param>
/// <param name="PredictMicrosecondsPerImage">Classifying the test split, per image.</param>
/// <param name="ModelBytes">Size of model.safetensors.</param>
/// <param name="ParameterCount">Learned parameters (k-NN: the pixel values it stores).</param>
/// <param name="RunDirectory">The rung's run folder (absolute).</param>
/// <param name="CutShort">The budget stopped the rung's grid or training early.</param>
/// <param name="Notes">What the reader should know (cut short, grayscale, refit).</param>
public sealed record RungResult(string Name, string Title, JsonObject Hyperparameters, JsonObject Fixed, IReadOnlyList<GridResult> Grid, int GridSize,
    double ValidationAccuracy, double TestAccuracy, double TrainSeconds, double SearchSeconds, double RungSeconds, double PredictMicrosecondsPerImage,
    long ModelBytes, long ParameterCount, string RunDirectory, bool CutShort, IReadOnlyList<string> Notes)
{
    /// <summary>The rung's report page, relative to the ladder folder.</summary>
    public string ReportPath => $"{Name}/report.html";

    /// <summary>"k=5 metric=l1": the chosen hyperparameters on one line.</summary>
    public string HyperparameterText => string.Join(' ', Hyperparameters.Select(p => $"{p.Key}={Ladder.ValueText(p.Value)}"));

    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["title"] = Title,
        ["hyperparameters"] = Hyperparameters.DeepClone(),
        ["fixed"] = Fixed.DeepClone(),
        ["grid"] = new JsonArray(Grid.Select(g => (JsonNode)g.ToJson()).ToArray()),
        ["grid_size"] = GridSize,
        ["validation_accuracy"] = RunJson.Round(ValidationAccuracy),
        ["test_accuracy"] = RunJson.Round(TestAccuracy),
        ["train_seconds"] = Math.Round(TrainSeconds, 3),
        ["search_seconds"] = Math.Round(SearchSeconds, 3),
        ["rung_seconds"] = Math.Round(RungSeconds, 3),
        ["predict_us_per_image"] = Math.Round(PredictMicrosecondsPerImage, 3),
        ["model_bytes"] = ModelBytes,
        ["parameters"] = ParameterCount,
        ["run_dir"] = RunDirectory,
        ["report"] = ReportPath,
        ["cut_short"] = CutShort,
        ["notes"] = new JsonArray(Notes.Select(n => (JsonNode)n).ToArray()),
    };
}

/// <summary>What the ladder produced: its rungs, ladder.json's document, and the time it took.</summary>
public sealed record LadderResult(IReadOnlyList<RungResult> Rungs, JsonObject Document, string Directory, DatasetLocation Location, TimeSpan Budget, TimeSpan Total);

/// <summary>
/// The lectures' ladder on one dataset: k-NN on pixels, a linear SVM and softmax on pixels, HOG (+ a hue histogram when
/// the images have colour) with a linear SVM, an MLP, and the default CNN (cnn2's recipe).
/// </summary>
/// <remarks>
/// <para><b>Selection.</b> A stratified, seeded share of the training split (10 %) is held out. Each rung tries a
/// small grid, training on the rest and scoring accuracy on the held-out part; the best setting wins (ties: the
/// earlier setting in grid order, whose first entry is the measured default). The test split is never seen while
/// choosing: it is classified once per rung, by the final model.</para>
/// <para><b>Grids.</b> k-NN: k ∈ {1, 3, 5, 7, 9} × L1/L2 (uniform votes; one neighbour search per metric serves every k).
/// Linear SVM (pixels and HOG): learning rate ∈ {0.01, 0.003, 0.03} × L2 strength ∈ {1e-4, 1e-3, 1e-2}. Softmax:
/// learning rate ∈ {0.05, 0.015, 0.15} × the same strengths. MLP (784-256-10, Adam, cosine): learning rate ∈
/// {1e-3, 3e-3} × dropout ∈ {0, 0.2}. Every other setting is the model's default recipe
/// (<see cref="NetworkSpec.DefaultRecipe"/>). The CNN is not searched (one run is most of the budget): it trains the
/// default recipe, with as many of its 20 epochs as the budget allows.</para>
/// <para><b>Refit or keep.</b> Rungs 1–5 are refitted with the chosen setting on the whole training split (cheap,
/// and 10 % more data); their validation accuracy is the chosen setting's, trained without the held-out part. The
/// CNN keeps its single model, trained on the 90 % and validated on the 10 % after every epoch, as `train` does.</para>
/// <para><b>Budget.</b> See <see cref="LadderBudget"/>.</para>
/// <para><b>Output.</b> DIR/&lt;rung&gt;/ is a run folder in `train`'s layout; DIR/ladder.json and DIR/ladder.html
/// compare them. A rung that fails or is interrupted leaves no folder behind; ladder.json and ladder.html are written
/// last.</para>
/// </remarks>
public sealed class Ladder
{
    /// <summary>The rungs, in ladder order.</summary>
    public static IReadOnlyList<string> RungNames { get; } = ["knn", "svm", "softmax", "hog-svm", "mlp", "cnn"];

    private static readonly int[] KnnKs = [1, 3, 5, 7, 9];
    private static readonly double[] Strengths = [1e-4, 1e-3, 1e-2];

    private readonly LadderOptions _options;

    /// <exception cref="ArgumentException">An unknown rung, a budget that is not positive, a validation fraction outside (0, 1).</exception>
    public Ladder(LadderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), options.Budget, "The budget must be positive.");
        if (!(options.ValidationFraction > 0 && options.ValidationFraction < 1)) throw new ArgumentOutOfRangeException(nameof(options), options.ValidationFraction, "The validation fraction must be in (0, 1).");
        if (options.Rungs is { } rungs)
        {
            if (rungs.Count == 0) throw new ArgumentException("At least one rung is needed.", nameof(options));
            foreach (var r in rungs)
                if (!RungNames.Contains(r)) throw new ArgumentException($"Unknown rung '{r}' (known: {string.Join(", ", RungNames)}).", nameof(options));
        }
        _options = options;
    }

    /// <summary>Progress lines (stderr in the CLI).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Trains a prepared network run under an optional time limit (the CLI adds a progress bar); default: <see cref="NetworkRun.Train"/>, or <see cref="NetworkRun.TrainDual"/> for the dual SVM solver.</summary>
    public Func<NetworkRun, TimeSpan?, CancellationToken, TrainingResult>? TrainNetwork { get; init; }

    /// <summary>Called when a rung's run folder is complete (the CLI writes its report there).</summary>
    public Action<RungResult>? OnRungFinished { get; init; }

    /// <summary>The rung running now (null before and after), for messages on interruption.</summary>
    public string? CurrentRung { get; private set; }

    /// <summary>The rungs finished so far.</summary>
    public IReadOnlyList<RungResult> Finished => _finished;

    private readonly List<RungResult> _finished = [];

    /// <summary>Runs the selected rungs in order and writes DIR/&lt;rung&gt;/, DIR/ladder.json and DIR/ladder.html.</summary>
    /// <param name="splits">Training and test images.</param>
    /// <param name="location">Where the dataset came from (recorded).</param>
    /// <param name="directory">The ladder folder (created if needed; the caller checks it is new or empty).</param>
    /// <param name="loading">Time already spent loading the data: it counts against the budget.</param>
    /// <param name="cancellationToken">Ctrl-C: the rung in progress is removed, then <see cref="OperationCanceledException"/>.</param>
    public LadderResult Run(DatasetSplits splits, DatasetLocation location, string directory, TimeSpan loading, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(splits);
        ArgumentNullException.ThrowIfNull(location);
        var budget = new LadderBudget(_options.Budget, loading);
        directory = Path.GetFullPath(directory);
        Directory.CreateDirectory(directory);
        var train = splits.Train;
        var (heldIndices, keptIndices) = Splits.StratifiedSplit(train.Labels, _options.ValidationFraction, _options.Seed);
        var context = new RungContext(splits, location, train.Subset(keptIndices), train.Subset(heldIndices), budget, cancellationToken);
        var selected = RungNames.Where(r => _options.Rungs is null || _options.Rungs.Contains(r)).ToList();
        Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"ladder: {selected.Count} rung(s) on {location.Name}, budget {Duration(budget.Total)}; hyperparameters chosen on {heldIndices.Length:N0} validation images held out of {train.Count:N0} (stratified, seed {_options.Seed}); the {splits.Test.Count:N0} test images are classified once per rung"));

        for (int i = 0; i < selected.Count; i++)
        {
            var name = selected[i];
            CurrentRung = name;
            var rungDirectory = Path.Combine(directory, name);
            Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"[{i + 1}/{selected.Count}] {Title(name, train.Channels)} ({Duration(budget.Elapsed)} used of {Duration(budget.Total)})"));
            var clock = Stopwatch.StartNew();
            RungResult result;
            try
            {
                result = name switch
                {
                    "knn" => RunKnn(context, rungDirectory, clock),
                    "cnn" => RunCnn(context, rungDirectory, clock),
                    _ => RunGradient(name, context, rungDirectory, clock),
                };
            }
            catch
            {
                // Nothing half-written: a rung that did not finish leaves no folder.
                if (Directory.Exists(rungDirectory)) Directory.Delete(rungDirectory, recursive: true);
                throw;
            }
            _finished.Add(result);
            Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"  {name}: {result.HyperparameterText}; validation {result.ValidationAccuracy:P2}, test {result.TestAccuracy:P2}; {result.RungSeconds:F1} s{(result.CutShort ? " (cut short by the budget)" : "")}"));
            OnRungFinished?.Invoke(result);
        }
        CurrentRung = null;

        var total = budget.Elapsed;
        var document = Document(splits, location, directory, context, total);
        var ladder = new LadderResult(_finished.ToArray(), document, directory, location, budget.Total, total);
        AtomicFile.WriteAllText(Path.Combine(directory, "ladder.json"), document.ToJsonString(KnnRun.Indented));
        AtomicFile.WriteAllText(Path.Combine(directory, "ladder.html"), LadderPage.Render(ladder));
        return ladder;
    }

    private sealed record RungContext(DatasetSplits Splits, DatasetLocation Location, ImageDataset Fit, ImageDataset Validation, LadderBudget Budget, CancellationToken Token);

    /// <summary>What a rung is, for people.</summary>
    public static string Title(string rung, int channels = 1) => rung switch
    {
        "knn" => "k-NN on pixels",
        "svm" => "linear SVM on pixels",
        "softmax" => "softmax on pixels",
        "hog-svm" => channels == 3 ? "HOG + color histogram, linear SVM" : "HOG, linear SVM",
        "mlp" => "MLP on pixels",
        "cnn" => "CNN (cnn2, default recipe)",
        _ => rung,
    };

    // ---- rung 1: k-NN ----

    private RungResult RunKnn(RungContext c, string directory, Stopwatch clock)
    {
        var (fit, held) = (c.Fit, c.Validation);
        var ks = KnnKs.Where(k => k <= fit.Count).ToArray();
        if (ks.Length == 0) throw new ArgumentException("k-NN needs at least one training image outside the validation split.");
        var cap = c.Budget.Cap("knn");
        var grid = new List<GridResult>();
        bool cutShort = false;
        double searchSeconds = 0, finalSeconds = 0;
        DistanceMetric[] metrics = [DistanceMetric.Manhattan, DistanceMetric.Euclidean];
        for (int m = 0; m < metrics.Length; m++)
        {
            if (m > 0 && !LadderBudget.Affords(clock.Elapsed, cap, searchSeconds / m, finalSeconds))
            {
                cutShort = true;
                break;
            }
            c.Token.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            // One search with the largest k serves every smaller k (neighbour lists are sorted).
            var neighbors = new KNearestNeighbors(new(ks[^1], metrics[m])).Fit(fit).Neighbors(held.Pixels, _options.Threads);
            foreach (int k in ks)
            {
                var options = new KNearestNeighborsOptions(k, metrics[m]);
                var predicted = KNearestNeighborsModel.Vote(neighbors.Truncate(k), fit.Labels, options).Labels();
                grid.Add(new GridResult(KnnParameters(options), Accuracy(predicted, held.Labels), sw.Elapsed.TotalSeconds / ks.Length));
            }
            searchSeconds += sw.Elapsed.TotalSeconds;
            // The test search costs about (test × train) / (validation × fit) validation searches.
            finalSeconds = searchSeconds / (m + 1) * ((double)c.Splits.Test.Count * c.Splits.Train.Count / Math.Max(1.0, (double)held.Count * fit.Count));
            Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"  {ModelStore.MetricName(metrics[m])}: validation {string.Join(", ", grid.Skip(m * ks.Length).Select(g => $"k={g.Parameters["k"]} {g.ValidationAccuracy:P2}"))} ({sw.Elapsed.TotalSeconds:F1} s)"));
        }
        var best = Best(grid);
        var chosen = new KNearestNeighborsOptions((int)best.Parameters["k"]!, ModelStore.ParseMetric((string)best.Parameters["metric"]!)!.Value);
        double search = clock.Elapsed.TotalSeconds;
        var run = KnnRun.Execute(new KnnRunOptions(chosen, _options.Seed, _options.Threads, null, "ladder"), c.Splits, c.Location, directory, TimeSpan.Zero, Log, c.Token);
        var notes = new List<string> { $"refitted on all {c.Splits.Train.Count:N0} training images", "parameters: the pixel values it stores (k-NN memorizes the training images)" };
        if (cutShort) notes.Insert(0, $"cut short by the budget: {grid.Count} of {ks.Length * metrics.Length} settings tried");
        return new RungResult("knn", Title("knn"), KnnParameters(chosen), new JsonObject { ["weights"] = "uniform" }, grid, ks.Length * metrics.Length,
            best.ValidationAccuracy, run.Test.Accuracy, run.Fit.TotalSeconds, search, clock.Elapsed.TotalSeconds, PerImage(run.Predict, c.Splits.Test.Count),
            ModelBytes(directory), (long)c.Splits.Train.Count * c.Splits.Train.SampleSize, Path.GetFullPath(directory), cutShort, notes);
    }

    private static JsonObject KnnParameters(KNearestNeighborsOptions o) => new() { ["k"] = o.K, ["metric"] = ModelStore.MetricName(o.Metric) };

    // ---- rungs 2–5: gradient-trained on a grid ----

    private sealed record Candidate(JsonObject Parameters, TrainingOptions Recipe, NetworkSpec Architecture, DualSvmOptions? Dual = null);

    private (NetworkSpec Spec, JsonObject Fixed, List<Candidate> Grid, List<string> Notes) GradientGrid(string rung, int channels)
    {
        int seed = _options.Seed;
        var notes = new List<string>();
        switch (rung)
        {
            case "hog-svm":
            {
                // The exact LinearSVC model on HOG with L1-sqrt block normalization: on Fashion-MNIST's validation split
                // it beat skimage's default L2-Hys by 0.4–0.7 points at every C tried (README, features section).
                var features = FeaturePipeline.Parse(channels == 3 ? "hog:norm=L1-sqrt+color" : "hog:norm=L1-sqrt");
                if (channels != 3) notes.Add("grayscale images: HOG alone (a hue histogram of gray images is constant, so the color histogram is left out)");
                var spec = new NetworkSpec("svm", Features: features, Solver: "dual");
                var recipe = NetworkSpec.DefaultRecipe("svm") with { Seed = seed };
                var grid = DualSvmOptions.DefaultCValues.Take(3)
                    .Select(c => new Candidate(new JsonObject { ["c"] = c }, recipe, spec, new DualSvmOptions([c]))).ToList();
                var fixedSettings = new JsonObject
                {
                    ["features"] = features.CanonicalConfig,
                    ["solver"] = $"exact one-vs-rest squared hinge (LinearSVC's model), dual coordinate descent, tolerance {DualSvmOptions.DefaultTolerance.ToString(CultureInfo.InvariantCulture)}",
                    ["preprocess"] = "standardized features",
                };
                return (spec, fixedSettings, grid, notes);
            }
            case "svm":
            case "softmax":
            {
                var kind = rung == "softmax" ? "softmax" : "svm";
                var fixedSettings = new JsonObject();
                var spec = new NetworkSpec(kind);
                var recipe = NetworkSpec.DefaultRecipe(kind) with { Seed = seed };
                double[] rates = kind == "softmax" ? [0.05, 0.015, 0.15] : [0.01, 0.003, 0.03];
                var grid = new List<Candidate>();
                foreach (double lr in rates)
                    foreach (double reg in Strengths)
                        grid.Add(new Candidate(new JsonObject { ["lr"] = lr, ["reg"] = reg }, recipe with { LearningRate = lr, Regularization = reg }, spec));
                fixedSettings["optimizer"] = $"{recipe.Optimizer} ({recipe.Schedule}), {recipe.Epochs} epochs, batch {recipe.BatchSize}";
                fixedSettings["preprocess"] = Normalizer.Name(spec.Normalization);
                return (spec, fixedSettings, grid, notes);
            }
            case "mlp":
            {
                var spec = new NetworkSpec("mlp");
                var recipe = NetworkSpec.DefaultRecipe("mlp") with { Seed = seed };
                var grid = new List<Candidate>();
                foreach (double lr in new[] { 1e-3, 3e-3 })
                    foreach (float dropout in new[] { 0f, 0.2f })
                        grid.Add(new Candidate(new JsonObject { ["lr"] = lr, ["dropout"] = dropout }, recipe with { LearningRate = lr }, spec with { Dropout = dropout }));
                var fixedSettings = new JsonObject
                {
                    ["hidden"] = string.Join(',', spec.HiddenSizes),
                    ["activation"] = "relu",
                    ["optimizer"] = $"{recipe.Optimizer} ({recipe.Schedule}), {recipe.Epochs} epochs, batch {recipe.BatchSize}",
                    ["preprocess"] = Normalizer.Name(spec.Normalization),
                };
                return (spec, fixedSettings, grid, notes);
            }
            default:
                throw new ArgumentException($"'{rung}' is not a grid-searched rung.", nameof(rung));
        }
    }

    private RungResult RunGradient(string rung, RungContext c, string directory, Stopwatch clock)
    {
        var (spec, fixedSettings, candidates, notes) = GradientGrid(rung, c.Fit.Channels);
        var cap = c.Budget.Cap(rung);
        var inputs = NetworkInputs.Prepare(spec, c.Fit, c.Validation, _options.Seed, _options.Threads, null, c.Token);
        if (inputs.Features is { } f) Log?.Invoke($"  features {f.Pipeline.CanonicalConfig}: {f.Length:N0} per image");
        double refitFactor = (double)c.Splits.Train.Count / Math.Max(1, c.Fit.Count);
        var grid = new List<GridResult>();
        var tried = new List<Candidate>();
        bool cutShort = false;
        foreach (var candidate in candidates)
        {
            if (grid.Count > 0)
            {
                double mean = grid.Average(g => g.Seconds);
                if (!LadderBudget.Affords(clock.Elapsed, cap, mean, mean * refitFactor))
                {
                    cutShort = true;
                    break;
                }
            }
            var sw = Stopwatch.StartNew();
            var model = inputs.CreateModel(_options.Seed, candidate.Architecture);
            if (candidate.Dual is { } dual)
                DualSvmTraining.Fit(model, inputs.Train, null, dual, _options.Seed, _options.Threads, null, c.Token);
            else
                new Trainer(candidate.Recipe).Fit(model, inputs.Train, null, null, null, c.Token);
            double accuracy = Trainer.Evaluate(model, inputs.Validation!).Accuracy;
            grid.Add(new GridResult(candidate.Parameters, accuracy, sw.Elapsed.TotalSeconds));
            tried.Add(candidate);
            Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"  {string.Join(' ', candidate.Parameters.Select(p => $"{p.Key}={ValueText(p.Value)}"))}: validation {accuracy:P2} ({sw.Elapsed.TotalSeconds:F1} s)"));
        }
        var best = Best(grid);
        var choice = tried[grid.IndexOf(best)];
        double search = clock.Elapsed.TotalSeconds;

        // The final model: the chosen setting refitted on the whole training split, in a run folder like train's.
        var finalSpec = choice.Architecture with { Features = choice.Architecture.Features is { } p ? FeaturePipeline.Parse(p.CanonicalConfig) : null };
        var run = NetworkRun.Prepare(new NetworkRunOptions(finalSpec, choice.Recipe, ValidationFraction: 0, FlipAveraging: false, _options.Threads, "ladder", UseFeatureCache: false, Dual: choice.Dual),
            c.Splits, c.Location, directory, TimeSpan.Zero, c.Token);
        Log?.Invoke("  " + run.Description);
        Train(run, null, c.Token);
        var outcome = run.Finish();
        notes.Add($"refitted on all {c.Splits.Train.Count:N0} training images");
        if (cutShort) notes.Insert(0, $"cut short by the budget: {grid.Count} of {candidates.Count} settings tried");
        return new RungResult(rung, Title(rung, c.Fit.Channels), best.Parameters.DeepClone().AsObject(), fixedSettings, grid, candidates.Count,
            best.ValidationAccuracy, outcome.Test.Accuracy, outcome.Fit.TotalSeconds, search, clock.Elapsed.TotalSeconds, PerImage(outcome.Predict, c.Splits.Test.Count),
            ModelBytes(directory), outcome.Model.Network.ParameterCount(), run.RunDirectory, cutShort, notes);
    }

    // ---- rung 6: the CNN, with the time that is left ----

    private RungResult RunCnn(RungContext c, string directory, Stopwatch clock)
    {
        var spec = new NetworkSpec("cnn2");
        var recipe = NetworkSpec.DefaultRecipe("cnn2") with { Seed = _options.Seed };
        var (fit, held, test) = (c.Fit, c.Validation, c.Splits.Test);

        // Pilot: two short epochs on up to 1,024 images (the second is timed: the first pays for JIT warm-up), then
        // inference on up to 512 validation images. It trains a throwaway model; the real run starts from scratch.
        var pilotInputs = NetworkInputs.Prepare(spec, fit.Take(Math.Min(1024, fit.Count)), held.Take(Math.Min(512, held.Count)), _options.Seed, _options.Threads, null, c.Token);
        var pilotModel = pilotInputs.CreateModel(_options.Seed);
        double pilotEpoch = 0;
        new Trainer(recipe with { Epochs = 2 }) { OnEpoch = m => pilotEpoch = m.Seconds }.Fit(pilotModel, pilotInputs.Train, null, null, null, c.Token);
        var evaluate = Stopwatch.StartNew();
        Trainer.Evaluate(pilotModel, pilotInputs.Validation!);
        double trainPerImage = pilotEpoch / pilotInputs.Train.Count, evalPerImage = evaluate.Elapsed.TotalSeconds / Math.Max(1, pilotInputs.Validation!.Count);
        double epochSeconds = fit.Count * trainPerImage + held.Count * evalPerImage;
        // Test prediction averages each image with its mirror (two passes), plus saving the model.
        double finishSeconds = 2 * test.Count * evalPerImage + 0.5;
        int epochs = LadderBudget.Epochs(c.Budget.Remaining.TotalSeconds - finishSeconds, epochSeconds, recipe.Epochs);
        double search = clock.Elapsed.TotalSeconds;
        var notes = new List<string>();
        bool cutShort = epochs < recipe.Epochs;
        Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"  pilot: ≈{epochSeconds:F1} s per epoch ({fit.Count:N0} images + {held.Count:N0} validation), ≈{finishSeconds:F1} s to classify {test.Count:N0} test images with flips; {Duration(c.Budget.Remaining)} left: {epochs} of {recipe.Epochs} epochs"));
        if (cutShort) notes.Add(string.Create(CultureInfo.InvariantCulture, $"cut short by the budget: {epochs} of the recipe's {recipe.Epochs} epochs fit (≈{epochSeconds:F0} s per epoch measured by a pilot)"));

        recipe = recipe with { Epochs = epochs };
        var run = NetworkRun.Prepare(new NetworkRunOptions(spec, recipe, _options.ValidationFraction, FlipAveraging: true, _options.Threads, "ladder", UseFeatureCache: false),
            c.Splits, c.Location, directory, TimeSpan.Zero, c.Token);
        Log?.Invoke("  " + run.Description);
        var limit = c.Budget.Remaining - TimeSpan.FromSeconds(finishSeconds);
        var training = Train(run, limit > TimeSpan.Zero ? limit : TimeSpan.Zero, c.Token);
        double validationAccuracy;
        if (training.ReachedTimeLimit || training.Epochs.Count == 0)
        {
            cutShort = true;
            notes.Add($"stopped at the budget after {training.Epochs.Count} complete epoch(s) of {epochs}");
            validationAccuracy = Trainer.Evaluate(run.Model, run.Inputs.Validation!).Accuracy;
        }
        else
        {
            validationAccuracy = training.Epochs[training.BestEpoch - 1].ValidationAccuracy ?? double.NaN;
        }
        var outcome = run.Finish();
        notes.Add($"not searched (one run is most of the budget): the default recipe, trained on {run.TrainCount:N0} images and validated on the {run.ValidationCount:N0} held out; test-time flip averaging");
        var fixedSettings = new JsonObject
        {
            ["model"] = "cnn2",
            ["optimizer"] = $"{recipe.Optimizer} lr {recipe.LearningRate.ToString(CultureInfo.InvariantCulture)} ({recipe.Schedule}), batch {recipe.BatchSize}",
            ["weight_decay"] = recipe.WeightDecay,
            ["label_smoothing"] = recipe.LabelSmoothing,
            ["flip"] = recipe.Flip,
            ["tta"] = "flip",
            ["recipe_epochs"] = NetworkSpec.DefaultRecipe("cnn2").Epochs,
        };
        return new RungResult("cnn", Title("cnn"), new JsonObject { ["epochs"] = epochs }, fixedSettings, [], 1,
            validationAccuracy, outcome.Test.Accuracy, outcome.Fit.TotalSeconds, search, clock.Elapsed.TotalSeconds, PerImage(outcome.Predict, test.Count),
            ModelBytes(directory), outcome.Model.Network.ParameterCount(), run.RunDirectory, cutShort, notes);
    }

    // ---- helpers ----

    /// <summary>True for the notes that say the budget cut a rung short.</summary>
    public static bool IsBudgetNote(string note) => note.StartsWith("cut short", StringComparison.Ordinal) || note.StartsWith("stopped at the budget", StringComparison.Ordinal);

    private TrainingResult Train(NetworkRun run, TimeSpan? limit, CancellationToken token)
    {
        if (TrainNetwork is { } train) return train(run, limit, token);
        if (!run.Options.Spec.UsesDualSolver) return run.Train(timeLimit: limit, cancellationToken: token);
        run.TrainDual(cancellationToken: token);
        return run.TrainingResult!;
    }

    // The highest validation accuracy; ties go to the earlier setting (grids list the default first).
    private static GridResult Best(List<GridResult> grid)
    {
        var best = grid[0];
        foreach (var g in grid)
            if (g.ValidationAccuracy > best.ValidationAccuracy) best = g;
        return best;
    }

    private static double Accuracy(int[] predicted, int[] truth)
    {
        int correct = 0;
        for (int i = 0; i < truth.Length; i++) correct += predicted[i] == truth[i] ? 1 : 0;
        return truth.Length == 0 ? 0 : (double)correct / truth.Length;
    }

    private static double PerImage(TimeSpan time, int count) => time.TotalMicroseconds / Math.Max(1, count);

    private static long ModelBytes(string directory) => new FileInfo(Path.Combine(directory, "model.safetensors")).Length;

    /// <summary>A hyperparameter value as people write it (0.001 → 1e-3).</summary>
    public static string ValueText(JsonNode? value)
    {
        if (value is JsonValue v && v.TryGetValue(out double d))
            return d != 0 && Math.Abs(d) < 1e-2 ? d.ToString("0.#e0", CultureInfo.InvariantCulture) : d.ToString("0.###", CultureInfo.InvariantCulture);
        return value?.ToString() ?? "";
    }

    /// <summary>"1m 05s", "42.0 s".</summary>
    public static string Duration(TimeSpan t) => t.TotalSeconds < 60
        ? t.TotalSeconds.ToString("0.0 s", CultureInfo.InvariantCulture)
        : $"{(int)t.TotalMinutes}m {t.Seconds:00}s";

    private JsonObject Document(DatasetSplits splits, DatasetLocation location, string directory, RungContext c, TimeSpan total) => new()
    {
        ["command"] = "ladder",
        ["dataset"] = RunJson.Dataset(splits, location),
        ["seed"] = _options.Seed,
        ["threads"] = _options.Threads,
        ["backends"] = new JsonObject { ["knn"] = $"knn-{NeighborSearch.ByteBackend}", ["gemm"] = $"gemm-{Gemm.Provider.Name}" },
        ["budget_s"] = Math.Round(_options.Budget.TotalSeconds, 3),
        ["total_s"] = Math.Round(total.TotalSeconds, 3),
        ["validation"] = new JsonObject
        {
            ["fraction"] = _options.ValidationFraction,
            ["train_count"] = c.Fit.Count,
            ["validation_count"] = c.Validation.Count,
            ["stratified"] = true,
            ["seed"] = _options.Seed,
        },
        ["selection"] = "highest validation accuracy on the held-out split (ties: the earlier setting, defaults first); the test split is classified once per rung, by the final model",
        ["refit"] = "rungs 1-5 are refitted with the chosen setting on the whole training split; the CNN keeps its model (trained on the rest, validated on the held-out split)",
        ["rungs"] = new JsonArray(_finished.Select(r => (JsonNode)r.ToJson()).ToArray()),
        ["out_dir"] = directory,
        ["html"] = Path.Combine(directory, "ladder.html"),
    };
}
