using System.Diagnostics;

namespace SharpVision.Runs;

/// <summary>
/// How the ladder spends its time budget. The cheap rungs go first and get what they need, each capped at a share of
/// the budget (k-NN, linear SVM, softmax and HOG + SVM 5 % each, the MLP 15 %): a rung about to pass its cap stops its
/// hyperparameter grid early ("cut short") but always fits its final model. The CNN gets all the time left: a pilot
/// measures its training and inference speed, its epochs are capped to what fits, and a hard time limit stops it at
/// the budget if the machine slows down.
/// </summary>
public sealed class LadderBudget
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _alreadyUsed;

    /// <param name="total">The whole ladder's budget.</param>
    /// <param name="alreadyUsed">Time spent before the ladder started (loading the data) that counts against it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A budget that is not positive.</exception>
    public LadderBudget(TimeSpan total, TimeSpan alreadyUsed = default)
    {
        if (total <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(total), total, "The budget must be positive.");
        Total = total;
        _alreadyUsed = alreadyUsed;
    }

    public TimeSpan Total { get; }

    /// <summary>Time used so far, loading included.</summary>
    public TimeSpan Elapsed => _alreadyUsed + _clock.Elapsed;

    /// <summary>Time left (negative once the budget is spent).</summary>
    public TimeSpan Remaining => Total - Elapsed;

    /// <summary>The share of the budget a cheap rung may use; the CNN's is whatever is left (1).</summary>
    public static double Share(string rung) => rung switch
    {
        "knn" or "svm" or "softmax" or "hog-svm" or "forest" => 0.05,
        "boost-hog" or "rbf-svm-hog" => 0.08,
        "mlp" => 0.15,
        _ => 1.0,
    };

    /// <summary>The time a rung may use from now: its share of the budget, and never past the end of the budget.</summary>
    public TimeSpan Cap(string rung) => Cap(Share(rung));

    /// <summary>The time a rung with <paramref name="share"/> of the budget may use from now, never past the end of the budget.</summary>
    public TimeSpan Cap(double share) => TimeSpan.FromSeconds(Math.Min(share * Total.TotalSeconds, Math.Max(0, Remaining.TotalSeconds)));

    /// <summary>
    /// Whether one more grid candidate fits in <paramref name="cap"/>: the time used so far, plus one more candidate
    /// (the mean so far), plus the final fit (<paramref name="finalSeconds"/>), must stay within it.
    /// </summary>
    public static bool Affords(TimeSpan used, TimeSpan cap, double candidateSeconds, double finalSeconds) =>
        used.TotalSeconds + candidateSeconds + finalSeconds <= cap.TotalSeconds;

    /// <summary>
    /// Epochs of a recipe of <paramref name="recipeEpochs"/> that fit in <paramref name="available"/> seconds at
    /// <paramref name="epochSeconds"/> each: at least 1 (a time limit then ends it at the budget), at most the recipe's.
    /// </summary>
    public static int Epochs(double available, double epochSeconds, int recipeEpochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(recipeEpochs, 1);
        if (!(epochSeconds > 0)) return recipeEpochs;
        double fit = Math.Floor(available / epochSeconds);
        return (int)Math.Clamp(double.IsFinite(fit) ? fit : 0, 1, recipeEpochs);
    }
}
