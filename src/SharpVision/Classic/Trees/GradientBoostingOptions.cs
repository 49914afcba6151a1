using System.Text.Json.Nodes;

namespace SharpVision.Classic.Trees;

/// <summary>
/// How gradient-boosted trees are grown (the parameters LightGBM and scikit-learn's
/// <c>HistGradientBoostingClassifier</c> users know; their names in brackets).
/// </summary>
/// <param name="Rounds">Boosting rounds; each adds one tree per class [num_iterations, max_iter].</param>
/// <param name="LearningRate">Shrinkage applied to every leaf value [learning_rate].</param>
/// <param name="MaxLeaves">Leaves per tree, grown best-first (leaf-wise) [num_leaves, max_leaf_nodes].</param>
/// <param name="MaxDepth">Deepest split level (null: limited by the leaves only) [max_depth].</param>
/// <param name="MinSamplesLeaf">Fewest training rows a leaf may hold [min_data_in_leaf, min_samples_leaf].</param>
/// <param name="MinHessian">Least hessian sum a leaf may hold [min_sum_hessian_in_leaf].</param>
/// <param name="L2">L2 penalty λ on leaf values: a leaf is −G/(H + λ) [lambda_l2, l2_regularization].</param>
/// <param name="MinGain">Least loss reduction GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ) a split must bring [min_gain_to_split].</param>
/// <param name="Subsample">Fraction of the training rows each round's trees learn from, drawn without replacement [bagging_fraction].</param>
/// <param name="ColumnSample">Fraction of the features each tree may split on [feature_fraction, colsample_bytree].</param>
/// <param name="EarlyStoppingRounds">With a validation split: stop when its loss has not improved for this many rounds,
/// and keep the best round's trees (null: run every round) [early_stopping_round, n_iter_no_change].</param>
/// <param name="EarlyStoppingTolerance">An improvement smaller than this does not count [tol].</param>
/// <param name="MaxBins">Histogram bins per feature, fitted on the training split (2..255) [max_bin, max_bins].</param>
public sealed record GradientBoostingOptions(
    int Rounds = 100,
    double LearningRate = 0.1,
    int MaxLeaves = 31,
    int? MaxDepth = null,
    int MinSamplesLeaf = 20,
    double MinHessian = 1e-3,
    double L2 = 0,
    double MinGain = 0,
    double Subsample = 1,
    double ColumnSample = 1,
    int? EarlyStoppingRounds = null,
    double EarlyStoppingTolerance = 1e-7,
    int MaxBins = TreeDefaults.MaxBins)
{
    /// <summary>The options as run folders and model files record them (LightGBM's names).</summary>
    public JsonObject ToJson() => new()
    {
        ["rounds"] = Rounds,
        ["learning_rate"] = LearningRate,
        ["num_leaves"] = MaxLeaves,
        ["max_depth"] = MaxDepth,
        ["min_data_in_leaf"] = MinSamplesLeaf,
        ["min_sum_hessian_in_leaf"] = MinHessian,
        ["lambda_l2"] = L2,
        ["min_gain_to_split"] = MinGain,
        ["bagging_fraction"] = Subsample,
        ["feature_fraction"] = ColumnSample,
        ["early_stopping_round"] = EarlyStoppingRounds,
        ["early_stopping_tolerance"] = EarlyStoppingTolerance,
        ["max_bin"] = MaxBins,
    };

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        if (Rounds < 1) throw new ArgumentOutOfRangeException(nameof(Rounds), Rounds, "At least one boosting round is needed.");
        if (!(LearningRate > 0 && LearningRate <= 1))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be in (0, 1].");
        if (MaxLeaves < 2) throw new ArgumentOutOfRangeException(nameof(MaxLeaves), MaxLeaves, "A tree needs at least 2 leaves.");
        if (MaxDepth is < 1)
            throw new ArgumentOutOfRangeException(nameof(MaxDepth), MaxDepth, "The maximum depth must be at least 1 (or unlimited).");
        if (MinSamplesLeaf < 1) throw new ArgumentOutOfRangeException(nameof(MinSamplesLeaf), MinSamplesLeaf, "A leaf holds at least 1 row.");
        if (!(MinHessian >= 0 && double.IsFinite(MinHessian)))
            throw new ArgumentOutOfRangeException(nameof(MinHessian), MinHessian, "The minimum hessian must be ≥ 0.");
        if (!(L2 >= 0 && double.IsFinite(L2))) throw new ArgumentOutOfRangeException(nameof(L2), L2, "The L2 penalty must be ≥ 0.");
        if (!(MinGain >= 0 && double.IsFinite(MinGain)))
            throw new ArgumentOutOfRangeException(nameof(MinGain), MinGain, "The minimum gain must be ≥ 0.");
        if (!(Subsample > 0 && Subsample <= 1))
            throw new ArgumentOutOfRangeException(nameof(Subsample), Subsample, "The row subsample must be in (0, 1].");
        if (!(ColumnSample > 0 && ColumnSample <= 1))
            throw new ArgumentOutOfRangeException(nameof(ColumnSample), ColumnSample, "The column sample must be in (0, 1].");
        if (EarlyStoppingRounds is < 1)
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingRounds), EarlyStoppingRounds,
                "Early stopping needs at least 1 round of patience.");
        if (!(EarlyStoppingTolerance >= 0 && double.IsFinite(EarlyStoppingTolerance)))
            throw new ArgumentOutOfRangeException(nameof(EarlyStoppingTolerance), EarlyStoppingTolerance,
                "The early-stopping tolerance must be ≥ 0.");
        if (MaxBins is < 2 or > FeatureBins.MaxHistogramBins)
            throw new ArgumentOutOfRangeException(nameof(MaxBins), MaxBins, $"Bins per feature must be in 2..{FeatureBins.MaxHistogramBins}.");
    }
}

/// <summary>The losses after one boosting round.</summary>
/// <param name="Round">1-based round.</param>
/// <param name="TrainLoss">Mean multiclass log-loss on the training rows.</param>
/// <param name="ValidationLoss">Mean log-loss on the validation rows (null without them).</param>
/// <param name="ValidationAccuracy">Accuracy on the validation rows (null without them).</param>
public sealed record BoostingRound(int Round, double TrainLoss, double? ValidationLoss, double? ValidationAccuracy)
{
    public JsonObject ToJson() => new()
    {
        ["round"] = Round,
        ["train_loss"] = Math.Round(TrainLoss, 6),
        ["val_loss"] = ValidationLoss is double v ? Math.Round(v, 6) : null,
        ["val_accuracy"] = ValidationAccuracy is double a ? Math.Round(a, 6) : null,
    };

    /// <summary>Reads <see cref="ToJson"/>'s output back.</summary>
    /// <exception cref="FormatException">A field is missing or has the wrong type.</exception>
    public static BoostingRound FromJson(JsonNode? node)
    {
        try
        {
            var o = node as JsonObject ?? throw new FormatException("a boosting round must be a JSON object");
            return new BoostingRound((int)o["round"]!, (double)o["train_loss"]!, (double?)o["val_loss"], (double?)o["val_accuracy"]);
        }
        catch (Exception e) when (e is InvalidOperationException or NullReferenceException or ArgumentException)
        {
            throw new FormatException($"not a boosting round ({e.Message})", e);
        }
    }
}
