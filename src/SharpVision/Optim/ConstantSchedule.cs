namespace SharpVision.Optim;

/// <summary>The same rate on every step: lr(t) = lr.</summary>
public sealed class ConstantSchedule : LearningRateSchedule
{
    /// <summary>A constant <paramref name="learningRate"/> over <paramref name="totalSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">lr not finite and &gt; 0, or <paramref name="totalSteps"/> &lt; 1.</exception>
    public ConstantSchedule(double learningRate, long totalSteps) : base(totalSteps)
    {
        Hyperparameter.RequirePositive(learningRate, nameof(learningRate));
        LearningRate = learningRate;
    }

    /// <summary>The rate.</summary>
    public double LearningRate { get; }

    /// <inheritdoc/>
    protected override double Compute(long step) => LearningRate;
}
