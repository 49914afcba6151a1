namespace SharpVision.Optim;

/// <summary>
/// A learning rate for every optimizer step of a run whose length is known up front. Steps are 0-based:
/// <c>At(0)</c> is the rate of the first update, <c>At(TotalSteps − 1)</c> that of the last.
/// </summary>
/// <remarks>
/// Usage: <c>optimizer.LearningRate = schedule.At(step); optimizer.Step();</c>. Schedules are pure functions of the
/// step (closed forms, no hidden state), so resuming from a checkpoint needs only the step count.
/// </remarks>
public abstract class LearningRateSchedule
{
    /// <summary>Stores the run length.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="totalSteps"/> &lt; 1.</exception>
    protected LearningRateSchedule(long totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 1);
        TotalSteps = totalSteps;
    }

    /// <summary>Number of optimizer steps the schedule covers.</summary>
    public long TotalSteps { get; }

    /// <summary>The learning rate of 0-based <paramref name="step"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is outside [0, <see cref="TotalSteps"/>): running past the planned length is a bug in the caller's step count.</exception>
    public double At(long step)
    {
        if (step < 0 || step >= TotalSteps) throw new ArgumentOutOfRangeException(nameof(step), step, $"Step must be in [0, {TotalSteps}) for this schedule.");
        return Compute(step);
    }

    /// <summary>The learning rate of <paramref name="step"/>, already checked to be in [0, <see cref="TotalSteps"/>).</summary>
    protected abstract double Compute(long step);
}
