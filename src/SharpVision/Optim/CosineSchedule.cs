namespace SharpVision.Optim;

/// <summary>
/// Cosine annealing over the whole run, PyTorch's CosineAnnealingLR closed form with T_max = total steps:
/// lr(t) = η_min + (lr₀ − η_min)·(1 + cos(π·t / T)) / 2.
/// </summary>
/// <remarks>
/// With T = <see cref="LearningRateSchedule.TotalSteps"/>, η_min itself would be reached at step T, one past the last
/// update; this is what <c>CosineAnnealingLR(optimizer, T_max=total_steps)</c> does when stepped after every batch.
/// PyTorch's stepped form is a recurrence that equals this closed form up to float64 rounding.
/// </remarks>
public sealed class CosineSchedule : LearningRateSchedule
{
    /// <summary>From <paramref name="initialLearningRate"/> down to <paramref name="minLearningRate"/> over <paramref name="totalSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr₀ not finite and &gt; 0, η_min negative, or <paramref name="totalSteps"/> &lt; 1.</exception>
    public CosineSchedule(double initialLearningRate, long totalSteps, double minLearningRate = 0) : base(totalSteps)
    {
        Hyperparameter.RequirePositive(initialLearningRate, nameof(initialLearningRate));
        Hyperparameter.RequireNonNegative(minLearningRate, nameof(minLearningRate));
        InitialLearningRate = initialLearningRate;
        MinLearningRate = minLearningRate;
    }

    /// <summary>lr₀, the rate of step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>η_min, the floor the cosine approaches.</summary>
    public double MinLearningRate { get; }

    /// <inheritdoc/>
    protected override double Compute(long step) =>
        MinLearningRate + (InitialLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * step / TotalSteps)) / 2;
}
