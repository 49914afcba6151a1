using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpVision.Data;

namespace SharpVision.Evaluation;

/// <summary>One candidate's cross-validated accuracy.</summary>
/// <param name="Parameters">The candidate's searched values.</param>
/// <param name="MeanAccuracy">Mean validation accuracy over the folds.</param>
/// <param name="StdAccuracy">Population standard deviation over the folds (scikit-learn's cv_results_).</param>
/// <param name="FoldAccuracies">Accuracy on each fold's validation part.</param>
public sealed record CrossValidationResult(JsonObject Parameters, double MeanAccuracy, double StdAccuracy, IReadOnlyList<double> FoldAccuracies)
{
    /// <summary>The result as cv's metrics.json records it.</summary>
    public JsonObject ToJson() => new()
    {
        ["params"] = Parameters.DeepClone(),
        ["mean_accuracy"] = Math.Round(MeanAccuracy, 6),
        ["std_accuracy"] = Math.Round(StdAccuracy, 6),
        ["fold_accuracies"] = new JsonArray(FoldAccuracies.Select(a => (JsonNode)Math.Round(a, 6)).ToArray()),
    };

    /// <summary>Reads <see cref="ToJson"/>'s output.</summary>
    /// <exception cref="FormatException">Missing or mistyped fields.</exception>
    public static CrossValidationResult FromJson(JsonNode? node)
    {
        try
        {
            var o = node as JsonObject ?? throw new FormatException("a result must be a JSON object");
            var parameters = o["params"] as JsonObject ?? throw new FormatException("no \"params\" object");
            var folds = (o["fold_accuracies"] as JsonArray ?? throw new FormatException("no \"fold_accuracies\" array")).Select(a => (double)a!).ToList();
            return new CrossValidationResult((JsonObject)parameters.DeepClone(), (double)o["mean_accuracy"]!, (double)o["std_accuracy"]!, folds);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new FormatException($"not a cross-validation result ({e.Message})", e);
        }
    }
}

/// <summary>What <see cref="CrossValidation.Run"/> found.</summary>
/// <param name="Results">One per candidate, in grid order.</param>
/// <param name="Best">The index of the best candidate (highest mean; ties to the earlier one).</param>
/// <param name="Folds">The number of folds.</param>
/// <param name="Seconds">Time of the whole search.</param>
public sealed record CrossValidationOutcome(IReadOnlyList<CrossValidationResult> Results, int Best, int Folds, double Seconds);

/// <summary>A fold finished: which one, and each candidate's accuracy on it.</summary>
/// <param name="Fold">0-based fold index.</param>
/// <param name="Folds">The number of folds.</param>
/// <param name="Accuracies">Each candidate's validation accuracy on this fold.</param>
public sealed record FoldCompleted(int Fold, int Folds, IReadOnlyList<double> Accuracies) : FitEvent;

/// <summary>
/// Stratified k-fold cross-validation of any grid of trainers (the lectures' recipe for choosing hyperparameters):
/// each fold's validation part is scored by every candidate fitted on the rest. Anything a candidate learns from data
/// (normalization, feature pipelines, vocabularies) is fitted on the fold's training part only, by the trainer itself.
/// </summary>
public static class CrossValidation
{
    /// <summary>The largest fold count accepted (also bounded by the class sizes).</summary>
    public const int MaxFolds = 1000;

    /// <summary>Cross-validates <paramref name="candidates"/> on <paramref name="train"/>.</summary>
    /// <param name="candidates">The grid; the first is the default (it wins ties).</param>
    /// <param name="train">The training split (never the test split).</param>
    /// <param name="folds">Stratified folds, 2 ≤ folds ≤ the images of the smallest class (and <see cref="MaxFolds"/>).</param>
    /// <param name="seed">Seeds the fold assignment.</param>
    /// <param name="context">Threads, cancellation, events (a <see cref="FoldCompleted"/> per fold).</param>
    /// <exception cref="ModelSetupException">Too few or too many folds for the data, an empty grid, or settings that do not fit a fold.</exception>
    public static CrossValidationOutcome Run(IReadOnlyList<Candidate> candidates, ImageDataset train, int folds, int seed, FitContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(train);
        context ??= FitContext.Default;
        if (candidates.Count == 0) throw new ModelSetupException("grid", "The grid has no candidates.");
        int smallest = train.Labels.GroupBy(l => l).Min(g => g.Count());
        if (folds < 2 || folds > MaxFolds || folds > train.Count)
            throw new ModelSetupException("folds", $"folds must be between 2 and {Math.Min(MaxFolds, train.Count)} for {train.Count:N0} training images, got {folds}.");
        if (folds > smallest)
            context.Report(new FitNote($"the smallest class has {smallest} images, fewer than {folds} folds: some folds will lack it"));
        var clock = Stopwatch.StartNew();
        var trainers = candidates.Select(c => c.Trainer).ToList();
        var accuracy = new double[candidates.Count, folds];
        var assignment = Splits.StratifiedKFold(train.Labels, folds, seed);
        for (int f = 0; f < folds; f++)
        {
            var (trainIndices, validationIndices) = assignment[f];
            var foldTrain = train.Subset(trainIndices);
            var foldValidation = train.Subset(validationIndices);
            foreach (var score in GridSearch.Score(trainers, foldTrain, foldValidation, context)) accuracy[score.Index, f] = score.Accuracy;
            context.Report(new FoldCompleted(f, folds, Enumerable.Range(0, candidates.Count).Select(i => accuracy[i, f]).ToArray()));
        }
        var results = new List<CrossValidationResult>();
        for (int i = 0; i < candidates.Count; i++)
        {
            var values = Enumerable.Range(0, folds).Select(f => accuracy[i, f]).ToArray();
            double mean = values.Average();
            results.Add(new CrossValidationResult(candidates[i].Parameters, mean, Math.Sqrt(values.Average(a => (a - mean) * (a - mean))), values));
        }
        int best = 0;
        for (int i = 1; i < results.Count; i++)
            if (results[i].MeanAccuracy > results[best].MeanAccuracy) best = i;
        return new CrossValidationOutcome(results, best, folds, clock.Elapsed.TotalSeconds);
    }
}
