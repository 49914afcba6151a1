namespace SharpVision.Optim;

/// <summary>Whether a validation metric is better when lower (loss) or higher (accuracy).</summary>
public enum MetricGoal
{
    /// <summary>Lower is better (e.g. validation loss).</summary>
    Minimize,

    /// <summary>Higher is better (e.g. validation accuracy).</summary>
    Maximize,
}

/// <summary>The part of <see cref="EarlyStopping"/> a checkpoint must keep; the goal, patience and min-delta are configuration.</summary>
/// <param name="BestValue">Best metric so far, or null before any finite value.</param>
/// <param name="BestEpoch">0-based epoch of <paramref name="BestValue"/>, or null with it.</param>
/// <param name="BadEpochs">Consecutive epochs since the best one (or since the start, without one).</param>
/// <param name="Epochs">Epochs reported so far.</param>
public sealed record EarlyStoppingState(double? BestValue, int? BestEpoch, int BadEpochs, int Epochs);

/// <summary>
/// Stops training when a validation metric has not improved for <see cref="Patience"/> epochs in a row. An epoch
/// improves when its value beats the best by more than <see cref="MinDelta"/>: v &lt; best − δ (minimize) or
/// v &gt; best + δ (maximize); the first finite value always does, and NaN never does.
/// </summary>
/// <remarks>
/// Per epoch: <c>if (stopping.Report(accuracy)) SaveBest(); if (stopping.ShouldStop) break;</c>. Epochs are
/// numbered from 0 in the order reported. The best value only moves on an improvement, so with δ &gt; 0 a run of
/// small gains that never clear δ counts as bad epochs (as in Keras and Lightning).
/// </remarks>
public sealed class EarlyStopping
{
    /// <summary>Early stopping for a metric with <paramref name="goal"/>.</summary>
    /// <param name="goal">Minimize (loss) or maximize (accuracy).</param>
    /// <param name="patience">Bad epochs in a row that stop the run, ≥ 1.</param>
    /// <param name="minDelta">Smallest change that counts as an improvement, ≥ 0, in the metric's units.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public EarlyStopping(MetricGoal goal, int patience, double minDelta = 0)
    {
        if (!Enum.IsDefined(goal)) throw new ArgumentOutOfRangeException(nameof(goal), goal, "Unknown metric goal.");
        ArgumentOutOfRangeException.ThrowIfLessThan(patience, 1);
        Hyperparameter.RequireNonNegative(minDelta, nameof(minDelta));
        Goal = goal;
        Patience = patience;
        MinDelta = minDelta;
    }

    /// <summary>Minimize or maximize.</summary>
    public MetricGoal Goal { get; }

    /// <summary>Bad epochs in a row that stop the run.</summary>
    public int Patience { get; }

    /// <summary>Smallest change that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>Best value so far; null before any finite value.</summary>
    public double? BestValue { get; private set; }

    /// <summary>0-based epoch of <see cref="BestValue"/>; null with it.</summary>
    public int? BestEpoch { get; private set; }

    /// <summary>Consecutive epochs without improvement.</summary>
    public int BadEpochs { get; private set; }

    /// <summary>Epochs reported.</summary>
    public int Epochs { get; private set; }

    /// <summary>True once <see cref="Patience"/> epochs in a row have not improved.</summary>
    public bool ShouldStop => BadEpochs >= Patience;

    /// <summary>Whether <paramref name="value"/> would improve on the best (does not record it).</summary>
    public bool IsImprovement(double value)
    {
        if (double.IsNaN(value)) return false;
        if (BestValue is not { } best) return true;
        return Goal == MetricGoal.Minimize ? value < best - MinDelta : value > best + MinDelta;
    }

    /// <summary>Records the next epoch's metric; returns whether it improved (the caller may then save the best model).</summary>
    public bool Report(double value)
    {
        bool improved = IsImprovement(value);
        if (improved)
        {
            BestValue = value;
            BestEpoch = Epochs;
            BadEpochs = 0;
        }
        else
        {
            BadEpochs++;
        }
        Epochs++;
        return improved;
    }

    /// <summary>The state to save in a checkpoint.</summary>
    public EarlyStoppingState ExportState() => new(BestValue, BestEpoch, BadEpochs, Epochs);

    /// <summary>Restores a state from <see cref="ExportState"/>; it is checked for consistency first.</summary>
    /// <exception cref="ArgumentException">Negative counts, a best value without an epoch (or the reverse), a non-finite best, or counts that disagree.</exception>
    public void ImportState(EarlyStoppingState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Epochs < 0 || state.BadEpochs < 0) throw new ArgumentException($"Epoch counts must be ≥ 0 (Epochs {state.Epochs}, BadEpochs {state.BadEpochs}).", nameof(state));
        if (state.BestValue.HasValue != state.BestEpoch.HasValue) throw new ArgumentException("BestValue and BestEpoch must both be set or both be null.", nameof(state));
        if (state.BestValue is { } best && !double.IsFinite(best)) throw new ArgumentException($"BestValue must be finite, got {best}.", nameof(state));
        // Bad epochs reset on every improvement, so they are exactly the epochs after the best one.
        int expectedBad = state.BestEpoch is { } epoch ? state.Epochs - 1 - epoch : state.Epochs;
        if (state.BestEpoch is { } e && (e < 0 || e >= state.Epochs)) throw new ArgumentException($"BestEpoch {e} is outside [0, {state.Epochs}).", nameof(state));
        if (state.BadEpochs != expectedBad) throw new ArgumentException($"BadEpochs is {state.BadEpochs} but {state.Epochs} epochs with the best at {state.BestEpoch?.ToString() ?? "none"} imply {expectedBad}.", nameof(state));
        BestValue = state.BestValue;
        BestEpoch = state.BestEpoch;
        BadEpochs = state.BadEpochs;
        Epochs = state.Epochs;
    }
}
