namespace SharpVision.Optim;

/// <summary>
/// Decay by <c>gamma</c> on every optimizer step, as PyTorch's ExponentialLR stepped per batch: lr(t) = lr₀·γ^t.
/// </summary>
/// <remarks>
/// Per step, not per epoch: the schedule only knows optimizer steps, and a per-step decay is the smooth form. For
/// ExponentialLR stepped once per epoch use <see cref="StepSchedule"/> with <c>stepSize</c> = steps per epoch;
/// to get the same overall decay per step, take γ_step = γ_epoch^(1 / stepsPerEpoch).
/// </remarks>
public sealed class ExponentialSchedule : LearningRateSchedule
{
    /// <summary>lr₀ = <paramref name="initialLearningRate"/>, multiplied by <paramref name="gamma"/> after every step.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr₀ or γ not finite and &gt; 0, or <paramref name="totalSteps"/> &lt; 1.</exception>
    public ExponentialSchedule(double initialLearningRate, long totalSteps, double gamma) : base(totalSteps)
    {
        Hyperparameter.RequirePositive(initialLearningRate, nameof(initialLearningRate));
        Hyperparameter.RequirePositive(gamma, nameof(gamma));
        InitialLearningRate = initialLearningRate;
        Gamma = gamma;
    }

    /// <summary>lr₀, the rate of step 0.</summary>
    public double InitialLearningRate { get; }

    /// <summary>γ, the factor per step.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override double Compute(long step) => InitialLearningRate * Math.Pow(Gamma, step);
}
