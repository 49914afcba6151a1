namespace SharpVision.Optim;

/// <summary>
/// Decay by <c>gamma</c> every <c>stepSize</c> steps, as PyTorch's StepLR: lr(t) = lr₀·γ^⌊t / stepSize⌋.
/// </summary>
/// <remarks>
/// StepLR stepped once per epoch (the usual PyTorch loop) is <c>stepSize = k · stepsPerEpoch</c> here, since this
/// schedule counts optimizer steps; <c>stepSize = stepsPerEpoch</c> is ExponentialLR stepped per epoch.
/// </remarks>
public sealed class StepSchedule : LearningRateSchedule
{
    /// <summary>lr₀ = <paramref name="initialLearningRate"/>, multiplied by <paramref name="gamma"/> every <paramref name="stepSize"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr₀ or γ not finite and &gt; 0; <paramref name="stepSize"/> or <paramref name="totalSteps"/> &lt; 1.</exception>
    public StepSchedule(double initialLearningRate, long totalSteps, long stepSize, double gamma = 0.1) : base(totalSteps)
    {
        Hyperparameter.RequirePositive(initialLearningRate, nameof(initialLearningRate));
        ArgumentOutOfRangeException.ThrowIfLessThan(stepSize, 1);
        Hyperparameter.RequirePositive(gamma, nameof(gamma));
        InitialLearningRate = initialLearningRate;
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>lr₀, the rate of steps 0 … stepSize − 1.</summary>
    public double InitialLearningRate { get; }

    /// <summary>Steps between decays.</summary>
    public long StepSize { get; }

    /// <summary>γ, the factor applied at each decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    protected override double Compute(long step) => InitialLearningRate * Math.Pow(Gamma, step / StepSize);
}
