using System.Globalization;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Classic.Trees;

/// <summary>
/// Fits a single CART decision tree on images (kind "tree"; scikit-learn's <c>DecisionTreeClassifier</c>): on the
/// pixels, or on a feature pipeline fitted on the training images. Same options, data and seed ⇒ the same tree.
/// </summary>
/// <example><code>var model = new DecisionTreeTrainer(new(MaxDepth: 12)).Fit(train);</code></example>
public sealed class DecisionTreeTrainer : IClassifierTrainer
{
    /// <param name="options">Criterion, limits, features per split, search.</param>
    /// <param name="features">Hand-crafted features instead of pixels (null: pixels).</param>
    /// <param name="seed">Seeds the order features are tried in and learned feature extractors.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, named.</exception>
    public DecisionTreeTrainer(DecisionTreeOptions options, FeaturePipeline? features = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        (Options, Features, Seed) = (options, features, seed);
    }

    public DecisionTreeOptions Options { get; }

    public FeaturePipeline? Features { get; }

    public int Seed { get; }

    public string Kind => TreeModelFile.TreeKind;

    public JsonObject Describe() => TreeTraining.Describe(Options.ToJson(), Features, Seed);

    /// <summary>Grows the tree on <paramref name="train"/> (a tree validates nothing: <paramref name="validation"/> is not used).</summary>
    /// <exception cref="ArgumentException">Fewer than two classes, or a pipeline that does not fit the images.</exception>
    public IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null)
    {
        context ??= FitContext.Default;
        TreeTraining.CheckData(train);
        var (input, table) = TreeTraining.Rows(train, Features, Seed, context);
        context.Report(new FitNote($"tree: {(Options.SearchesExactly(train.Count) ? "exact" : "histogram")} splits on {table.Count:N0} rows × " +
            $"{table.Dimension:N0} features"));
        var forest = RandomForest.FitTree(table, train.Labels, train.ClassNames.Count, Options, Seed, cancellationToken: context.Cancellation);
        var tree = forest.Trees[0];
        context.Report(new FitCompleted(train.Count, 0, new JsonObject
        {
            ["backend"] = TreeTraining.Backend(Options.SearchesExactly(train.Count)),
            ["tree"] = new JsonObject { ["nodes"] = tree.NodeCount, ["leaves"] = tree.LeafCount, ["depth"] = tree.Depth },
        }));
        return new ForestModel(Kind, forest, input, train.ClassNames, Describe());
    }
}

/// <summary>
/// Fits a random forest on images (kind "forest"; scikit-learn's <c>RandomForestClassifier</c>): bootstrap samples,
/// √D features per split by default, trees grown in parallel, out-of-bag accuracy. The same bits for any thread count.
/// </summary>
/// <example><code>var model = new RandomForestTrainer(new(Trees: 100)).Fit(train, context: new() { Threads = 2 });</code></example>
public sealed class RandomForestTrainer : IClassifierTrainer
{
    /// <param name="options">Trees, sampling and tree options.</param>
    /// <param name="features">Hand-crafted features instead of pixels (null: pixels).</param>
    /// <param name="seed">Seeds the bootstrap samples, feature draws and learned feature extractors.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, named.</exception>
    public RandomForestTrainer(RandomForestOptions options, FeaturePipeline? features = null, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        (Options, Features, Seed) = (options, features, seed);
    }

    public RandomForestOptions Options { get; }

    public FeaturePipeline? Features { get; }

    public int Seed { get; }

    public string Kind => TreeModelFile.ForestKind;

    public JsonObject Describe() => TreeTraining.Describe(Options.ToJson(), Features, Seed);

    /// <summary>Grows the forest on <paramref name="train"/> (its out-of-bag rows validate it: <paramref name="validation"/> is not used).</summary>
    /// <exception cref="ArgumentException">Fewer than two classes, or a pipeline that does not fit the images.</exception>
    public IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null)
    {
        context ??= FitContext.Default;
        TreeTraining.CheckData(train);
        var (input, table) = TreeTraining.Rows(train, Features, Seed, context);
        bool exact = Options.TreeOptions.SearchesExactly(train.Count);
        string stage = $"forest of {Options.Trees} trees";
        context.Report(new FitNote($"{stage}: {(exact ? "exact" : "histogram")} splits on {table.Count:N0} rows × {table.Dimension:N0} features, " +
            $"{Options.TreeOptions.MaxFeatures.Resolve(table.Dimension)} tried per split, {context.ResolvedThreads} thread(s)"));
        var forest = RandomForest.Fit(table, train.Labels, train.ClassNames.Count, Options, Seed, context.ResolvedThreads,
            done => context.Report(new FitProgress(stage, done, Options.Trees, $"{done}/{Options.Trees} trees")),
                cancellationToken: context.Cancellation, timeLimit: context.TimeLimit);
        bool cut = forest.Trees.Count < Options.Trees;
        context.Report(new FitCompleted(train.Count, 0, new JsonObject
        {
            ["backend"] = TreeTraining.Backend(exact),
            ["metrics"] = TreeTraining.TimeLimitMetrics(cut, $"{forest.Trees.Count} of {Options.Trees} trees grown"),
            ["oob_accuracy"] = forest.OutOfBagAccuracy is double oob ? Math.Round(oob, 6) : null,
            ["forest"] = new JsonObject
            {
                ["nodes"] = forest.Trees.Sum(t => (long)t.NodeCount),
                ["mean_depth"] = Math.Round(forest.Trees.Average(t => t.Depth), 2),
                ["max_depth"] = forest.Trees.Max(t => t.Depth),
            },
        }));
        return new ForestModel(Kind, forest, input, train.ClassNames, Describe());
    }
}

/// <summary>
/// Fits gradient-boosted trees on images (kind "boost"; LightGBM's and <c>HistGradientBoostingClassifier</c>'s
/// algorithm, see <see cref="GradientBoosting"/>). A validation split (given, or <see cref="ValidationFraction"/> of the
/// training images held out, stratified) draws the boosting curve and drives early stopping.
/// </summary>
/// <example><code>var model = new GradientBoostingTrainer(new(Rounds: 100, MaxLeaves: 31)).Fit(train);</code></example>
public sealed class GradientBoostingTrainer : IClassifierTrainer
{
    /// <param name="options">Rounds, tree shape, regularization, sampling, early stopping.</param>
    /// <param name="features">Hand-crafted features instead of pixels (null: pixels).</param>
    /// <param name="seed">Seeds row and feature sampling, the held-out split and learned feature extractors.</param>
    /// <param name="validationFraction">Share of the training images held out when <see cref="Fit"/> gets no validation images (0: none).</param>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range, named.</exception>
    public GradientBoostingTrainer(GradientBoostingOptions options, FeaturePipeline? features = null, int seed = 0, double validationFraction = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation fraction must be in [0, 1).");
        (Options, Features, Seed, ValidationFraction) = (options, features, seed, validationFraction);
    }

    public GradientBoostingOptions Options { get; }

    public FeaturePipeline? Features { get; }

    public int Seed { get; }

    /// <summary>Share of the training images held out for validation when none are given.</summary>
    public double ValidationFraction { get; }

    public string Kind => TreeModelFile.BoostKind;

    public JsonObject Describe()
    {
        var json = TreeTraining.Describe(Options.ToJson(), Features, Seed);
        json["validation_fraction"] = ValidationFraction;
        return json;
    }

    /// <summary>Boosts on <paramref name="train"/>, validating on <paramref name="validation"/> (or a held-out share) each round.</summary>
    /// <exception cref="ArgumentException">Fewer than two classes, a pipeline that does not fit, or early stopping without validation
    /// images.</exception>
    public IImageClassifier Fit(ImageDataset train, ImageDataset? validation = null, FitContext? context = null)
    {
        context ??= FitContext.Default;
        TreeTraining.CheckData(train);
        if (validation is null && ValidationFraction > 0)
        {
            var (held, kept) = Splits.StratifiedSplit(train.Labels, ValidationFraction, Seed);
            (train, validation) = (train.Subset(kept), train.Subset(held));
        }
        if (Options.EarlyStoppingRounds is not null && validation is not { Count: > 0 })
            throw new ModelSetupException("early-stopping-rounds",
                "Early stopping needs validation images: give a validation split or a validation fraction above 0.");
        var (input, table) = TreeTraining.Rows(train, Features, Seed, context);
        var validationTable = validation is null ? null : input.Table(validation, context.ResolvedThreads, context.FeatureCache,
            context.Cancellation);
        int classes = train.ClassNames.Count;
        context.Report(new FitNote($"boosting: {Options.Rounds} rounds × {classes} trees of up to {Options.MaxLeaves} leaves on {table.Count:N0} " +
            $"rows × " +
            $"{table.Dimension:N0} features ({GradientHistograms.Path} split search, {context.ResolvedThreads} thread(s))"));
        var boosted = GradientBoosting.Fit(table, train.Labels, classes, Options, validationTable, validation?.Labels, Seed, context.ResolvedThreads,
            round => context.Report(new FitProgress("boosting", round.Round, Options.Rounds, RoundText(round))), context.TimeLimit,
            context.Cancellation);
        bool cut = context.TimeLimit is not null && boosted.History.Count < Options.Rounds && (Options.EarlyStoppingRounds is null
            || boosted.Rounds == boosted.History.Count);
        var history = new JsonArray(boosted.History.Select(r => (JsonNode)r.ToJson()).ToArray());
        context.Report(new FitCompleted(train.Count, validation?.Count ?? 0, new JsonObject
        {
            ["backend"] = $"trees-histogram-{GradientHistograms.Path}",
            ["metrics"] = TreeTraining.TimeLimitMetrics(cut, $"{boosted.History.Count} of {Options.Rounds} rounds"),
            ["boosting"] = new JsonObject
            {
                ["rounds_run"] = boosted.History.Count,
                ["rounds_kept"] = boosted.Rounds,
                ["stopped_early"] = boosted.History.Count < Options.Rounds,
                ["rounds"] = history,
            },
        }));
        return new BoostedTreesModel(boosted, input, train.ClassNames, Describe());
    }

    private static string RoundText(BoostingRound r) => string.Create(CultureInfo.InvariantCulture,
        $"round {r.Round} train loss {r.TrainLoss:F4}{(r.ValidationLoss is double v ? $" validation loss {v:F4}" : "")}");
}

/// <summary>What the tree trainers share: data checks, image rows, descriptions.</summary>
internal static class TreeTraining
{
    /// <summary>What the run's metrics.json records of a time limit (the ladder reads it): whether it cut the fit, and how far it got.</summary>
    public static JsonObject TimeLimitMetrics(bool cut, string reached) => new()
    {
        ["stopped_at_time_limit"] = cut,
        ["time_limit_note"] = cut ? reached : null,
    };

    /// <summary>A classifier needs images of at least two classes.</summary>
    public static void CheckData(ImageDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("No training images.", nameof(train));
        if (train.Labels.Distinct().Take(2).Count() < 2)
            throw new ArgumentException($"The training images hold one class ({train.ClassNames[train.Labels[0]]}); a classifier needs at least two.",
                nameof(train));
    }

    /// <summary>The model input fitted on <paramref name="train"/> and its rows (pixel bytes, or standardized features).</summary>
    public static (ModelInput Input, FeatureTable Rows) Rows(ImageDataset train, FeaturePipeline? features, int seed, FitContext context)
    {
        if (features is not null) context.Report(new FitNote($"features {features.CanonicalConfig}: fitting on {train.Count:N0} training images"));
        using var progress = context.ReportFeatureProgress();
        var (input, trainFeatures) = ModelInput.Fit(train, features, seed, context.ResolvedThreads, context.FeatureCache, context.Cancellation);
        var rows = trainFeatures is null ? FeatureTable.FromBytes(train.Pixels, input.Dimension) : FeatureTable.FromFloats(trainFeatures,
            input.Dimension);
        return (input, rows);
    }

    public static JsonObject Describe(JsonObject options, FeaturePipeline? features, int seed)
    {
        options["features"] = features?.CanonicalConfig;
        options["seed"] = seed;
        return options;
    }

    public static string Backend(bool exact) => exact ? "trees-exact" : "trees-histogram";
}
