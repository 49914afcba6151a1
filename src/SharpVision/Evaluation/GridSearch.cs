using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Data;

namespace SharpVision.Evaluation;

/// <summary>One setting of a hyperparameter grid: what people read (<paramref name="Parameters"/>) and the trainer it makes.</summary>
/// <param name="Parameters">The searched values, e.g. {"k": 5, "metric": "l1"} or {"lr": 0.01, "reg": 1e-3}.</param>
/// <param name="Trainer">A trainer with those values (and the recipe's defaults for everything else).</param>
public sealed record Candidate(JsonObject Parameters, IClassifierTrainer Trainer);

/// <summary>A candidate's accuracy on the validation images, and what it cost.</summary>
/// <param name="Index">The candidate's position in the grid.</param>
/// <param name="Accuracy">Accuracy on the validation images.</param>
/// <param name="Seconds">Fitting and scoring it (a share of a search several k-NN candidates shared).</param>
public sealed record CandidateScore(int Index, double Accuracy, double Seconds);

/// <summary>
/// Scores the candidates of a grid: each is fitted on the training images and scored on the validation images. k-NN
/// candidates that differ only in k and weighting share one neighbour search (the largest k's; lists are sorted, so
/// every smaller k is a prefix), which makes k grids nearly free.
/// </summary>
public static class GridSearch
{
    /// <summary>
    /// Scores <paramref name="candidates"/> in grid order, lazily: a caller with a time budget stops enumerating
    /// when it cannot afford another candidate.
    /// </summary>
    /// <param name="candidates">The grid (trainers fitted in this order).</param>
    /// <param name="train">Images to fit on.</param>
    /// <param name="validation">Images to score on (never the test split).</param>
    /// <param name="context">Threads, cancellation and events of every fit (no run folder: nothing is written).</param>
    /// <exception cref="ArgumentException">The grid is empty, or a candidate's settings do not fit the data.</exception>
    public static IEnumerable<CandidateScore> Score(IReadOnlyList<IClassifierTrainer> candidates, ImageDataset train, ImageDataset validation, FitContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        if (candidates.Count == 0) throw new ArgumentException("The grid has no candidates.", nameof(candidates));
        return ScoreLazily(candidates, train, validation, (context ?? FitContext.Default) with { RunDirectory = null, Resume = false });
    }

    private static IEnumerable<CandidateScore> ScoreLazily(IReadOnlyList<IClassifierTrainer> candidates, ImageDataset train, ImageDataset validation, FitContext context)
    {
        for (int i = 0; i < candidates.Count;)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            int end = i + 1;
            if (candidates[i] is KNearestNeighbors { Options.Features: null } first)
                while (end < candidates.Count && candidates[end] is KNearestNeighbors { Options.Features: null } next && next.Options.Metric == first.Options.Metric) end++;
            if (end - i > 1)
            {
                foreach (var score in ScoreKnnGroup(candidates, i, end, train, validation, context)) yield return score;
            }
            else
            {
                var clock = Stopwatch.StartNew();
                var model = candidates[i].Fit(train, validation, context);
                double accuracy = model.Score(validation, context.ResolvedThreads);
                yield return new CandidateScore(i, accuracy, clock.Elapsed.TotalSeconds);
            }
            i = end;
        }
    }

    // One search with the group's largest k; each candidate votes with its own k and weighting.
    private static IEnumerable<CandidateScore> ScoreKnnGroup(IReadOnlyList<IClassifierTrainer> candidates, int start, int end, ImageDataset train,
        ImageDataset validation, FitContext context)
    {
        var clock = Stopwatch.StartNew();
        var group = candidates.Skip(start).Take(end - start).Cast<KNearestNeighbors>().ToList();
        int kMax = group.Max(c => c.Options.K);
        if (kMax > train.Count) throw new ModelSetupException("k", $"k = {kMax} exceeds the {train.Count} training images.");
        var model = new KNearestNeighbors(group[0].Options with { K = kMax }).FitPixels(train);
        model.EnsureCompatible(validation);
        var neighbors = model.Neighbors(validation.Pixels, context.ResolvedThreads);
        var accuracies = group.Select(c => KNearestNeighborsModel.Vote(neighbors.Truncate(c.Options.K), train.Labels, c.Options).TopKAccuracy(validation.Labels, 1)).ToList();
        double share = clock.Elapsed.TotalSeconds / group.Count;
        for (int j = 0; j < group.Count; j++) yield return new CandidateScore(start + j, accuracies[j], share);
    }

    /// <summary>The best of <paramref name="scores"/>: the highest accuracy, ties to the earlier candidate (grids list the default first).</summary>
    /// <exception cref="ArgumentException">No scores.</exception>
    public static CandidateScore Best(IReadOnlyList<CandidateScore> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.Count == 0) throw new ArgumentException("No candidate was scored.", nameof(scores));
        var best = scores[0];
        foreach (var s in scores)
            if (s.Accuracy > best.Accuracy || (s.Accuracy == best.Accuracy && s.Index < best.Index)) best = s;
        return best;
    }
}
