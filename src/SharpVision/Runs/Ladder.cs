using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Classic.Svm;
using SharpVision.Classic.Trees;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.IO;
using SharpVision.Reports;
using SharpVision.Nn;
using SharpVision.Evaluation;
using SharpVision.Tensors.Kernels;
using SharpVision.Training;

namespace SharpVision.Runs;

/// <summary>What the ladder runs and how long it may take.</summary>
/// <param name="Budget">The whole ladder's time budget, data loading included.</param>
/// <param name="Seed">Seeds the validation split, initialization, shuffling and dropout of every rung.</param>
/// <param name="Threads">Worker threads.</param>
/// <param name="Rungs">Which rungs, by name (null: all of <see cref="Ladder.RungNames"/>); they always run in ladder order.</param>
/// <param name="ValidationFraction">Share of the training split held out (stratified) to choose hyperparameters on.</param>
/// <param name="Definition">The rungs as data (null: <see cref="Ladder.DefaultRungs"/> for the dataset's channels and the seed).</param>
public sealed record LadderOptions(TimeSpan Budget, int Seed = 0, int Threads = 1, IReadOnlyList<string>? Rungs = null, double ValidationFraction = 0.1,
    IReadOnlyList<LadderRung>? Definition = null);

/// <summary>
/// A rung of the ladder, as data: the candidates of its grid (the first is the measured default, which wins ties), its
/// share of the budget, and what the reader should know. A grid of one candidate is not searched.
/// </summary>
/// <param name="Name">Short name, also the run folder's name.</param>
/// <param name="Title">What it is, for people.</param>
/// <param name="Grid">The candidates, in the order tried.</param>
/// <param name="BudgetShare">The share of the whole budget its search and fit may use; 1: all the time left, with its epochs
/// capped from a timed pilot and a hard time limit (the CNN).</param>
/// <param name="Fixed">Settings that were not searched but matter to the reader.</param>
/// <param name="Notes">Notes shown with the rung.</param>
public sealed record LadderRung(string Name, string Title, IReadOnlyList<Candidate> Grid, double BudgetShare, JsonObject Fixed, IReadOnlyList<string> Notes)
{
    /// <summary>True for the rung that takes the time left (its training is capped by a pilot and a time limit).</summary>
    public bool TakesRemainingBudget => BudgetShare >= 1;
}

/// <summary>One setting of a rung's grid and its accuracy on the validation split.</summary>
public sealed record GridResult(JsonObject Parameters, double ValidationAccuracy, double Seconds)
{
    public JsonObject ToJson() => new()
    {
        ["params"] = Parameters.DeepClone(),
        ["validation_accuracy"] = RunJson.Round(ValidationAccuracy),
        ["seconds"] = Math.Round(Seconds, 3),
    };

    /// <summary>The inverse of <see cref="ToJson"/>.</summary>
    /// <exception cref="FormatException">A key is missing or of the wrong type.</exception>
    public static GridResult FromJson(JsonNode? node) =>
        new(LadderJson.Object(node, "params"), LadderJson.Number(node, "validation_accuracy"), LadderJson.Number(node, "seconds"));
}

/// <summary>One rung of the ladder: what was chosen, how it scored, what it costs.</summary>
/// <param name="Name">Short name, also the run folder's name (<see cref="Ladder.RungNames"/>).</param>
/// <param name="Title">What it is, for people ("k-NN on pixels").</param>
/// <param name="Hyperparameters">The chosen values of the searched hyperparameters (the CNN: its epochs).</param>
/// <param name="Fixed">Settings that were not searched but matter to the reader (features, architecture, recipe).</param>
/// <param name="Grid">Every setting tried, with its validation accuracy, in the order tried.</param>
/// <param name="GridSize">Settings planned (more than tried when the rung was cut short).</param>
/// <param name="ValidationAccuracy">The chosen setting's accuracy on the validation split (null for a rung that was not searched).</param>
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
    double? ValidationAccuracy, double TestAccuracy, double TrainSeconds, double SearchSeconds, double RungSeconds, double PredictMicrosecondsPerImage,
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
        ["validation_accuracy"] = ValidationAccuracy is double v ? RunJson.Round(v) : null,
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

    /// <summary>The inverse of <see cref="ToJson"/> (ladder.json's rungs).</summary>
    /// <exception cref="FormatException">A key is missing or of the wrong type.</exception>
    public static RungResult FromJson(JsonNode? node) => new(
        LadderJson.Text(node, "name"), LadderJson.Text(node, "title"), LadderJson.Object(node, "hyperparameters"), LadderJson.Object(node, "fixed"),
        LadderJson.Array(node, "grid").Select(GridResult.FromJson).ToList(), (int)LadderJson.Number(node, "grid_size"),
        node?["validation_accuracy"] is null ? null : LadderJson.Number(node, "validation_accuracy"), LadderJson.Number(node, "test_accuracy"),
        LadderJson.Number(node, "train_seconds"), LadderJson.Number(node, "search_seconds"), LadderJson.Number(node, "rung_seconds"),
        LadderJson.Number(node, "predict_us_per_image"), (long)LadderJson.Number(node, "model_bytes"), (long)LadderJson.Number(node, "parameters"),
        LadderJson.Text(node, "run_dir"), LadderJson.Flag(node, "cut_short"),
        LadderJson.Array(node, "notes").Select(n => n?.ToString() ?? "").ToList());
}

/// <summary>Typed reads of ladder.json's values; a missing or mistyped key is a <see cref="FormatException"/> naming it.</summary>
internal static class LadderJson
{
    public static double Number(JsonNode? node, string key) =>
        node?[key] is JsonValue v && v.TryGetValue(out double d) ? d : throw new FormatException($"\"{key}\" is not a number");

    public static string Text(JsonNode? node, string key) =>
        node?[key] is JsonValue v && v.TryGetValue(out string? s) ? s : throw new FormatException($"\"{key}\" is not a string");

    public static bool Flag(JsonNode? node, string key) =>
        node?[key] is JsonValue v && v.TryGetValue(out bool b) ? b : throw new FormatException($"\"{key}\" is not true or false");

    public static JsonObject Object(JsonNode? node, string key) =>
        node?[key] is JsonObject o ? (JsonObject)o.DeepClone() : throw new FormatException($"\"{key}\" is not an object");

    public static JsonArray Array(JsonNode? node, string key) =>
        node?[key] is JsonArray a ? a : throw new FormatException($"\"{key}\" is not an array");
}

/// <summary>What the ladder produced: its rungs, ladder.json's document, and the time it took.</summary>
public sealed record LadderResult(IReadOnlyList<RungResult> Rungs, JsonObject Document, string Directory, DatasetLocation Location, TimeSpan Budget,
    TimeSpan Total)
{
    /// <summary>ladder.json's file name in a ladder folder.</summary>
    public const string FileName = "ladder.json";

    /// <summary>The ladder as ladder.json records it (<paramref name="directory"/>: the folder it sits in now).</summary>
    /// <exception cref="DataFormatException">The document is not a ladder.json (the key at fault is named).</exception>
    public static LadderResult FromDocument(JsonObject document, string directory)
    {
        ArgumentNullException.ThrowIfNull(document);
        var path = Path.Combine(directory, FileName);
        try
        {
            if (document["command"]?.ToString() != "ladder") throw new FormatException("\"command\" is not \"ladder\"");
            var dataset = document["dataset"];
            var location = new DatasetLocation(LadderJson.Text(dataset, "name"), LadderJson.Text(dataset, "format"),
                LadderJson.Text(dataset, "source"), LadderJson.Text(dataset, "origin"), LadderJson.Flag(dataset, "is_sample"));
            var rungs = LadderJson.Array(document, "rungs").Select(RungResult.FromJson).ToList();
            return new LadderResult(rungs, document, directory, location, TimeSpan.FromSeconds(LadderJson.Number(document, "budget_s")),
                TimeSpan.FromSeconds(LadderJson.Number(document, "total_s")));
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw new DataFormatException(path, $"is not a ladder document: {e.Message}", e);
        }
    }

    /// <summary>Reads DIR/ladder.json.</summary>
    /// <exception cref="DataFormatException">Missing, not JSON, or not a ladder document.</exception>
    public static LadderResult Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new DataFormatException(path, "not found: a ladder folder holds the ladder.json that `sharpvision ladder` wrote");
        try
        {
            var document = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new DataFormatException(path, "is not a JSON object");
            return FromDocument(document, directory);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(path, $"is not valid JSON ({e.Message})", e);
        }
    }
}

/// <summary>
/// The lectures' ladder on one dataset: k-NN on pixels, a linear SVM and softmax on pixels, HOG (+ a hue histogram when
/// the images have colour) with a linear SVM, an MLP, and the default CNN (cnn2's recipe). The rungs are data
/// (<see cref="DefaultRungs"/>): each is a grid of trainers of the classifier contract, and every final model is a
/// <see cref="ClassifierRun"/>, the run `train` makes.
/// </summary>
/// <remarks>
/// <para><b>Selection.</b> A stratified, seeded share of the training split (10 %) is held out. Each searched rung
/// fits every candidate of its grid on the rest and scores its accuracy on the held-out part (<see cref="GridSearch"/>);
/// the best wins (ties: the earlier candidate, whose first is the measured default). The test split is never seen while
/// choosing: it is classified once per rung, by the final model.</para>
/// <para><b>Final models.</b> A searched rung refits the chosen candidate on the whole training split (its recipe's
/// validation share is 0). The CNN is not searched (one run is most of the budget): it trains the default recipe of
/// `train --model cnn2` (<see cref="Recipes.Default"/>), with as many of its epochs as the budget allows; when the budget
/// allows them all, its model is bit for bit `train`'s.</para>
/// <para><b>Budget.</b> See <see cref="LadderBudget"/>.</para>
/// <para><b>Output.</b> DIR/&lt;rung&gt;/ is a run folder in `train`'s layout with its report.html; DIR/ladder.json and
/// DIR/ladder.html compare them. A rung that fails or is interrupted leaves no folder behind; ladder.json and
/// ladder.html are written last.</para>
/// </remarks>
public sealed class Ladder
{
    /// <summary>The rungs, in ladder order.</summary>
    public static IReadOnlyList<string> RungNames { get; } = ["knn", "svm", "softmax", "hog-svm", "forest", "boost-hog", "rbf-svm-hog", "mlp",
        "cnn"];

    private static readonly double[] Strengths = [1e-4, 1e-3, 1e-2];

    private readonly LadderOptions _options;

    /// <exception cref="ArgumentException">An unknown rung, a budget that is not positive, a validation fraction outside (0, 1).</exception>
    public Ladder(LadderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), options.Budget, "The budget must be positive.");
        if (!(options.ValidationFraction > 0 && options.ValidationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidationFraction, "The validation fraction must be in (0, 1).");
        var known = options.Definition?.Select(r => r.Name).ToList() ?? RungNames;
        if (options.Rungs is { } rungs)
        {
            if (rungs.Count == 0) throw new ArgumentException("At least one rung is needed.", nameof(options));
            foreach (var r in rungs)
                if (!known.Contains(r)) throw new ArgumentException($"Unknown rung '{r}' (known: {string.Join(", ", known)}).", nameof(options));
        }
        _options = options;
    }

    /// <summary>Progress lines (stderr in the CLI).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>Receives the events of every fit (progress bars in the CLI).</summary>
    public Action<FitEvent>? Events { get; init; }

    /// <summary>Called when a rung's run folder is complete.</summary>
    public Action<RungResult>? OnRungFinished { get; init; }

    /// <summary>The rung running now (null before and after), for messages on interruption.</summary>
    public string? CurrentRung { get; private set; }

    /// <summary>The rungs finished so far.</summary>
    public IReadOnlyList<RungResult> Finished => _finished;

    private readonly List<RungResult> _finished = [];

    // Seconds a rung spends after its fit and test prediction (saving the model, drawing report.html): the most seen so
    // far, null until the first rung has measured it. It counts against a later rung's share of the budget, and the CNN
    // reserves it (with a margin: its report draws filters and feature maps too) before choosing its epochs.
    private double? _measuredFinish;

    /// <summary>
    /// The lectures' ladder as data, for images of <paramref name="channels"/> channels. Grids: k-NN k ∈ {1, 3, 5, 7, 9} ×
    /// L1/L2 (uniform votes); linear SVM learning rate ∈ {0.01, 0.003, 0.03} × L2 strength ∈ {1e-4, 1e-3, 1e-2}; softmax
    /// learning rate ∈ {0.05, 0.015, 0.15} × the same strengths; HOG + the exact linear SVM, C ∈ {0.001, 0.003, 0.01};
    /// a random forest on pixels (100 trees), boosted trees on HOG (100 rounds, 31 leaves) and an RBF SVM on HOG (Nyström,
    /// 1,000 landmarks, C = 1), not searched; MLP (784-256-10, Adam, cosine) learning rate ∈ {1e-3, 3e-3} × dropout ∈
    /// {0, 0.2}; every other setting is the model's default recipe. The CNN is the default cnn2 recipe, not searched.
    /// </summary>
    public static IReadOnlyList<LadderRung> DefaultRungs(int channels, int seed)
    {
        var rungs = new List<LadderRung>();
        var knn = new List<Candidate>();
        foreach (var metric in new[] { DistanceMetric.Manhattan, DistanceMetric.Euclidean })
            foreach (int k in new[] { 1, 3, 5, 7, 9 })
                knn.Add(new Candidate(new JsonObject { ["k"] = k, ["metric"] = NeighborNames.Of(metric) }, new KNearestNeighbors(new(k, metric))));
        rungs.Add(new LadderRung("knn", "k-NN on pixels", knn, 0.05, new JsonObject { ["weights"] = "uniform" },
            ["parameters: the pixel values it stores (k-NN memorizes the training images)"]));

        foreach (var (kind, rates) in new[] { ("svm", new[] { 0.01, 0.003, 0.03 }), ("softmax", new[] { 0.05, 0.015, 0.15 }) })
        {
            var spec = new NetworkSpec(kind);
            var recipe = Recipes.Default(kind, seed) with { ValidationFraction = 0 };
            var grid = new List<Candidate>();
            foreach (double lr in rates)
                foreach (double reg in Strengths)
                    grid.Add(new Candidate(new JsonObject { ["lr"] = lr, ["reg"] = reg }, new NetworkTrainer(spec, recipe with { LearningRate = lr, Regularization = reg })));
            rungs.Add(new LadderRung(kind, kind == "svm" ? "linear SVM on pixels" : "softmax on pixels", grid, 0.05, new JsonObject
            {
                ["optimizer"] = $"{recipe.Optimizer} ({recipe.Schedule}), {recipe.Epochs} epochs, batch {recipe.BatchSize}",
                ["preprocess"] = Normalizer.Name(spec.Normalization),
            }, []));
        }

        {
            // The exact LinearSVC model on HOG with L1-sqrt block normalization: on Fashion-MNIST's validation split it beat
            // skimage's default L2-Hys by 0.4–0.7 points at every C tried (docs/benchmarks.md, features).
            var features = HogFeatures(channels);
            var recipe = Recipes.Default("svm", seed) with { ValidationFraction = 0 };
            var grid = DualSvmOptions.DefaultCValues.Take(3).Select(c => new Candidate(new JsonObject { ["c"] = c },
                new NetworkTrainer(new NetworkSpec("svm", Features: FeaturePipeline.Parse(features), Solver: "dual"), recipe, new DualSvmOptions([c])))).ToList();
            rungs.Add(new LadderRung("hog-svm", channels == 3 ? "HOG + color histogram, linear SVM" : "HOG, linear SVM", grid, 0.05, new JsonObject
            {
                ["features"] = FeaturePipeline.Parse(features).CanonicalConfig,
                ["solver"] = "exact one-vs-rest squared hinge (LinearSVC's model), dual coordinate descent, tolerance " +
                    DualSvmOptions.DefaultTolerance.ToString(CultureInfo.InvariantCulture),
                ["preprocess"] = "standardized features",
            }, channels == 3 ? [] : ["grayscale images: HOG alone (a hue histogram of gray images is constant, so the color histogram is left out)"]));
        }

        AddNonLinearClassicRungs(rungs, channels, seed);

        {
            var recipe = Recipes.Default("mlp", seed) with { ValidationFraction = 0 };
            var spec = new NetworkSpec("mlp");
            var grid = new List<Candidate>();
            foreach (double lr in new[] { 1e-3, 3e-3 })
                foreach (float dropout in new[] { 0f, 0.2f })
                    grid.Add(new Candidate(new JsonObject { ["lr"] = lr, ["dropout"] = dropout }, new NetworkTrainer(spec with { Dropout = dropout }, recipe with { LearningRate = lr })));
            rungs.Add(new LadderRung("mlp", "MLP on pixels", grid, 0.15, new JsonObject
            {
                ["hidden"] = string.Join(',', spec.HiddenSizes),
                ["activation"] = "relu",
                ["optimizer"] = $"{recipe.Optimizer} ({recipe.Schedule}), {recipe.Epochs} epochs, batch {recipe.BatchSize}",
                ["preprocess"] = Normalizer.Name(spec.Normalization),
            }, []));
        }

        {
            var recipe = Recipes.Default("cnn2", seed);
            rungs.Add(new LadderRung("cnn", "CNN (cnn2, default recipe)", [new Candidate([], new NetworkTrainer(new NetworkSpec("cnn2"), recipe))], 1, new JsonObject
            {
                ["model"] = "cnn2",
                ["optimizer"] = $"{recipe.Optimizer} lr {recipe.LearningRate.ToString(CultureInfo.InvariantCulture)} ({recipe.Schedule}), batch {recipe.BatchSize}",
                ["weight_decay"] = recipe.WeightDecay,
                ["label_smoothing"] = recipe.LabelSmoothing,
                ["flip"] = recipe.Flip,
                ["tta"] = recipe.Tta,
                ["recipe_epochs"] = recipe.Epochs,
            }, ["not searched (one run is most of the budget): the default recipe of `train --model cnn2`"]));
        }
        return rungs;
    }

    // The lectures' non-linear classic models, not searched (each is one fit of the settings scikit-learn and LightGBM users
    // start from): a forest on pixels, boosted trees on HOG and an RBF SVM on HOG by its Nyström approximation (the exact SVM
    // is quadratic in the training set). The forest and the boosting stop adding trees when their share is spent.
    private static void AddNonLinearClassicRungs(List<LadderRung> rungs, int channels, int seed)
    {
        var hog = FeaturePipeline.Parse(HogFeatures(channels));
        var forest = new RandomForestOptions(Trees: 100);
        rungs.Add(new LadderRung("forest", "random forest on pixels",
            [new Candidate(new JsonObject { ["trees"] = forest.Trees }, new RandomForestTrainer(forest, seed: seed))], 0.05, new JsonObject
            {
                ["criterion"] = "gini",
                ["max_features"] = "sqrt",
                ["bootstrap"] = true,
                ["split_search"] = $"histogram above {TreeDefaults.ExactRowLimit:N0} rows ({TreeDefaults.MaxBins} bins)",
            }, ["not searched: scikit-learn's default forest; no tree is started once the rung's share of the budget is spent"]));
        var boost = new GradientBoostingOptions(Rounds: 100, MaxLeaves: 31);
        rungs.Add(new LadderRung("boost-hog", channels == 3 ? "boosted trees on HOG + color" : "boosted trees on HOG",
            [new Candidate(new JsonObject { ["rounds"] = boost.Rounds, ["leaves"] = boost.MaxLeaves, ["lr"] = boost.LearningRate },
                new GradientBoostingTrainer(boost, hog, seed))], 0.08, new JsonObject
            {
                ["features"] = hog.CanonicalConfig,
                ["loss"] = "softmax, one tree per class per round, histogram splits",
            }, ["not searched: LightGBM's defaults with 100 rounds; no round is started once the rung's share of the budget is spent"]));
        var svm = new NystroemSvmOptions(C: 1, Components: 1000);
        rungs.Add(new LadderRung("rbf-svm-hog", channels == 3 ? "RBF SVM on HOG + color (Nyström)" : "RBF SVM on HOG (Nyström)",
            [new Candidate(new JsonObject { ["c"] = svm.C, ["components"] = svm.Components }, new NystroemSvmTrainer(svm, hog, seed))], 0.08,
            new JsonObject
            {
                ["features"] = hog.CanonicalConfig,
                ["kernel"] = "rbf, γ = scale",
                ["solver"] = "Nyström map, then the exact one-vs-rest linear SVM (dual coordinate descent)",
                ["preprocess"] = "standardized features",
            }, ["not searched: the exact RBF SVM is quadratic in the training images; a Nyström map of 1,000 landmarks approximates it"]));
    }

    private static string HogFeatures(int channels) => channels == 3 ? "hog:norm=L1-sqrt+color" : "hog:norm=L1-sqrt";

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
        var definition = _options.Definition ?? DefaultRungs(train.Channels, _options.Seed);
        var selected = definition.Where(r => _options.Rungs is null || _options.Rungs.Contains(r.Name)).ToList();
        Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"ladder: {selected.Count} rung(s) on {location.Name}, budget {Duration(budget.Total)}; hyperparameters chosen on {heldIndices.Length:N0} validation images " +
            $"held out of {train.Count:N0} (stratified, seed {_options.Seed}); the {splits.Test.Count:N0} test images are classified once per rung"));

        for (int i = 0; i < selected.Count; i++)
        {
            var rung = selected[i];
            CurrentRung = rung.Name;
            var rungDirectory = Path.Combine(directory, rung.Name);
            Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"[{i + 1}/{selected.Count}] {rung.Title} ({Duration(budget.Elapsed)} used of {Duration(budget.Total)})"));
            RungResult result;
            try
            {
                result = RunRung(rung, context, rungDirectory);
            }
            catch
            {
                // Nothing half-written: a rung that did not finish leaves no folder.
                if (Directory.Exists(rungDirectory)) Directory.Delete(rungDirectory, recursive: true);
                throw;
            }
            _finished.Add(result);
            string validation = result.ValidationAccuracy is double v ? string.Create(CultureInfo.InvariantCulture, $"validation {v:P2}, ") : "";
            Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"  {rung.Name}: {result.HyperparameterText}; {validation}test {result.TestAccuracy:P2}; {result.RungSeconds:F1} s{(result.CutShort ? " (cut short by the budget)" : "")}"));
            OnRungFinished?.Invoke(result);
        }
        CurrentRung = null;

        var total = budget.Elapsed;
        var document = Document(splits, location, directory, context, total);
        var ladder = new LadderResult(_finished.ToArray(), document, directory, location, budget.Total, total);
        var text = document.ToJsonString(RunJson.Indented);
        AtomicFile.WriteAllText(Path.Combine(directory, LadderResult.FileName), text);
        // The page is drawn from ladder.json as written, so `sharpvision report DIR` redraws it byte for byte.
        LadderPage.Write(LadderResult.FromDocument((JsonObject)JsonNode.Parse(text)!, directory));
        return ladder;
    }

    private sealed record RungContext(DatasetSplits Splits, DatasetLocation Location, ImageDataset Fit, ImageDataset Validation, LadderBudget Budget, CancellationToken Token);

    /// <summary>What a rung of the default ladder is, for people.</summary>
    public static string Title(string rung, int channels = 1) =>
        DefaultRungs(channels, 0).FirstOrDefault(r => r.Name == rung)?.Title ?? rung;

    private FitContext Context(CancellationToken token, TimeSpan? limit = null) =>
        new() { Threads = _options.Threads, Cancellation = token, Events = Events, TimeLimit = limit };

    private RungResult RunRung(LadderRung rung, RungContext c, string directory)
    {
        var clock = Stopwatch.StartNew();
        var notes = new List<string>(rung.Notes);
        var cap = rung.TakesRemainingBudget ? c.Budget.Remaining : c.Budget.Cap(rung.BudgetShare);
        var grid = new List<GridResult>();
        bool cutShort = false;
        var chosen = rung.Grid[0];
        double? validationAccuracy = null;
        if (rung.Grid.Count > 1)
        {
            double refitFactor = (double)c.Splits.Train.Count / Math.Max(1, c.Fit.Count);
            var scores = new List<CandidateScore>();
            foreach (var score in GridSearch.Score(rung.Grid.Select(g => g.Trainer).ToList(), c.Fit, c.Validation, Context(c.Token)))
            {
                scores.Add(score);
                var candidate = rung.Grid[score.Index];
                grid.Add(new GridResult(candidate.Parameters, score.Accuracy, score.Seconds));
                Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"  {string.Join(' ', candidate.Parameters.Select(p => $"{p.Key}={ValueText(p.Value)}"))}: validation {score.Accuracy:P2} ({score.Seconds:F1} s)"));
                double mean = scores.Average(s => s.Seconds);
                if (scores.Count < rung.Grid.Count && !LadderBudget.Affords(clock.Elapsed, cap, mean, mean * refitFactor + (_measuredFinish ?? 0)))
                {
                    cutShort = true;
                    break;
                }
            }
            var best = GridSearch.Best(scores);
            chosen = rung.Grid[best.Index];
            validationAccuracy = best.Accuracy;
            notes.Add($"refitted on all {c.Splits.Train.Count:N0} training images");
            if (cutShort) notes.Insert(0, $"cut short by the budget: {grid.Count} of {rung.Grid.Count} settings tried");
        }
        var trainer = chosen.Trainer;
        var hyperparameters = (JsonObject)chosen.Parameters.DeepClone();
        TimeSpan? limit = null;
        if (rung.TakesRemainingBudget && trainer is NetworkTrainer { Dual: null } network)
        {
            // With no time left beyond writing the run, a pilot would only add to the overrun: one epoch, stopped by the limit.
            double reserve = 1.5 * (_measuredFinish ?? 2) + 0.5;
            bool piloted = c.Budget.Remaining.TotalSeconds > 2 * reserve;
            var (epochs, finishSeconds) = piloted ? Pilot(network, c, reserve) : (1, reserve);
            if (!piloted) Log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"  {Duration(c.Budget.Remaining)} left: no pilot, one epoch under a time limit"));
            if (epochs < network.Recipe.Epochs)
            {
                cutShort = true;
                notes.Add(piloted
                    ? $"cut short by the budget: {epochs} of the recipe's {network.Recipe.Epochs} epochs fit (epoch time measured by a pilot)"
                    : $"cut short by the budget: too little time left for a pilot; 1 of the recipe's {network.Recipe.Epochs} epochs, under a time limit");
                trainer = new NetworkTrainer(network.Spec, network.Recipe with { Epochs = epochs }, network.Dual);
            }
            hyperparameters["epochs"] = epochs;
            var left = c.Budget.Remaining - TimeSpan.FromSeconds(finishSeconds);
            limit = left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        else if (rung.Grid.Count == 1 && trainer is RandomForestTrainer or GradientBoostingTrainer)
        {
            // Trees stop at the limit with what they have grown: the rung's share, less what writing its run will take.
            var left = cap - clock.Elapsed - TimeSpan.FromSeconds(_measuredFinish ?? 1);
            limit = left > TimeSpan.Zero ? left : TimeSpan.Zero;
        }
        double search = clock.Elapsed.TotalSeconds;
        var execute = Stopwatch.StartNew();
        var run = ClassifierRun.Execute(trainer, c.Splits, c.Location, directory, Context(c.Token, limit), new RunOptions { Command = "ladder" });
        if (run.Document["metrics"]?["stopped_at_time_limit"]?.GetValue<bool>() == true)
        {
            cutShort = true;
            notes.Add(run.Document["metrics"]?["time_limit_note"] is JsonValue note
                ? $"stopped at the budget: {note}"
                : $"stopped at the budget after {run.Document["metrics"]?["epochs"]?.AsArray().Count ?? 0} complete epoch(s)");
        }
        _measuredFinish = Math.Max(_measuredFinish ?? 0, (execute.Elapsed - run.Fit - run.Predict).TotalSeconds);
        if (run.ReportError is { } error) Log?.Invoke($"  warning: report.html not written ({error})");
        long parameters = (long?)run.Model.Describe()["parameters"] ?? 0;
        return new RungResult(rung.Name, rung.Title, hyperparameters, (JsonObject)rung.Fixed.DeepClone(), grid, rung.Grid.Count,
            validationAccuracy, run.Test.Accuracy, run.Fit.TotalSeconds, search, clock.Elapsed.TotalSeconds, PerImage(run.Predict, c.Splits.Test.Count),
            ModelBytes(directory), parameters, run.RunDirectory, cutShort, notes);
    }

    // The CNN's epochs that fit the time left, from a pilot: two short epochs on up to 1,024 images (the second is
    // timed: the first pays for JIT warm-up), then inference on up to 512 validation images. It trains a throwaway model.
    private (int Epochs, double FinishSeconds) Pilot(NetworkTrainer network, RungContext c, double reserve)
    {
        var fit = c.Splits.Train;
        var pilotTrain = fit.Take(Math.Min(1024, fit.Count));
        var pilotValidation = c.Validation.Take(Math.Min(512, c.Validation.Count));
        double pilotEpoch = 0;
        var pilot = new NetworkTrainer(network.Spec, network.Recipe with { Epochs = 2, ValidationFraction = 0 });
        var model = pilot.FitNetwork(pilotTrain, null, Context(c.Token) with
        {
            Events = e => { if (e is EpochCompleted done) pilotEpoch = done.Metrics.Seconds; },
        });
        var evaluate = Stopwatch.StartNew();
        model.Predict(pilotValidation, _options.Threads);
        double trainPerImage = pilotEpoch / pilotTrain.Count, evalPerImage = evaluate.Elapsed.TotalSeconds / Math.Max(1, pilotValidation.Count);
        if (model.FlipAveraging) evalPerImage /= 2; // the pilot predicted with flips; per pass
        double epochSeconds = fit.Count * trainPerImage;
        // Test prediction (two passes with flip averaging), plus writing the model and the report (as the earlier rungs
        // measured it, with a margin).
        double finishSeconds = (network.Recipe.Tta == "flip" ? 2 : 1) * c.Splits.Test.Count * evalPerImage + reserve;
        int epochs = LadderBudget.Epochs(c.Budget.Remaining.TotalSeconds - finishSeconds, epochSeconds, network.Recipe.Epochs);
        Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
            $"  pilot: ≈{epochSeconds:F1} s per epoch on {fit.Count:N0} images, ≈{finishSeconds:F1} s to classify {c.Splits.Test.Count:N0} test images and write the run; " +
            $"{Duration(c.Budget.Remaining)} left: {epochs} of {network.Recipe.Epochs} epochs"));
        return (epochs, finishSeconds);
    }

    // ---- helpers ----

    /// <summary>True for the notes that say the budget cut a rung short.</summary>
    public static bool IsBudgetNote(string note)
    {
        ArgumentNullException.ThrowIfNull(note);
        return note.StartsWith("cut short", StringComparison.Ordinal) || note.StartsWith("stopped at the budget", StringComparison.Ordinal);
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

    /// <summary>"1m 05s", "42.0 s", "850 ms" (<see cref="DurationText"/>).</summary>
    public static string Duration(TimeSpan t) => DurationText.Format(t);

    private JsonObject Document(DatasetSplits splits, DatasetLocation location, string directory, RungContext c, TimeSpan total) => new()
    {
        ["command"] = "ladder",
        ["dataset"] = RunJson.Dataset(splits, location),
        ["seed"] = _options.Seed,
        ["threads"] = _options.Threads,
        ["backends"] = new JsonObject
        {
            ["knn_l1"] = $"knn-{NeighborSearch.ByteBackend(DistanceMetric.Manhattan)}",
            ["knn_l2"] = $"knn-{NeighborSearch.ByteBackend(DistanceMetric.Euclidean)}",
            ["simd"] = SimdPaths.Describe(),
            ["gemm"] = $"gemm-{Gemm.Provider.Name}",
        },
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
        ["refit"] = "searched rungs are refitted with the chosen setting on the whole training split; the CNN trains train's default recipe (all training images)",
        ["rungs"] = new JsonArray(_finished.Select(r => (JsonNode)r.ToJson()).ToArray()),
        ["out_dir"] = directory,
        ["html"] = Path.Combine(directory, "ladder.html"),
    };
}
