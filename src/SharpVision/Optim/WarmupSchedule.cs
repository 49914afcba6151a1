namespace SharpVision.Optim;

/// <summary>
/// Linear warm-up in front of another schedule, on the same step clock:
/// lr(t) = inner(t)·(t + 1)/W for t &lt; W, then inner(t).
/// </summary>
/// <remarks>
/// The factor reaches 1 on step W − 1, so the hand-over to the inner schedule is continuous. The inner schedule is
/// not shifted: its own decay starts at step 0 (as timm's schedulers without warmup_prefix, and as multiplying a
/// PyTorch LinearLR warm-up into a decay with ChainedScheduler).
/// </remarks>
public sealed class WarmupSchedule : LearningRateSchedule
{
    /// <summary><paramref name="inner"/> with its first <paramref name="warmupSteps"/> rates ramped up linearly from inner(0)/W.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupSteps"/> outside [1, inner.TotalSteps].</exception>
    public WarmupSchedule(LearningRateSchedule inner, long warmupSteps)
        : base((inner ?? throw new ArgumentNullException(nameof(inner))).TotalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(warmupSteps, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(warmupSteps, inner.TotalSteps);
        Inner = inner;
        WarmupSteps = warmupSteps;
    }

    /// <summary>The schedule after (and under) the warm-up.</summary>
    public LearningRateSchedule Inner { get; }

    /// <summary>W, the number of ramped steps.</summary>
    public long WarmupSteps { get; }

    /// <inheritdoc/>
    protected override double Compute(long step)
    {
        double rate = Inner.At(step);
        return step < WarmupSteps ? rate * (step + 1) / WarmupSteps : rate;
    }
}
