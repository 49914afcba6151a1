namespace SharpVision.Optim;

/// <summary>
/// The one-cycle policy (Smith &amp; Topin), exactly PyTorch's OneCycleLR with anneal_strategy "cos" and three_phase
/// false: the rate rises from max/div to max over the first pct_start of the run, then falls to max/(div·final_div);
/// the momentum moves the opposite way, max → base → max.
/// Phase 1 (t ≤ e₁ = pct·T − 1): lr = cos_anneal(lr_max/div, lr_max, t/e₁); phase 2: lr = cos_anneal(lr_max, lr_min, (t − e₁)/(T − 1 − e₁)),
/// with cos_anneal(a, b, x) = b + (a − b)·(1 + cos(π·x))/2.
/// </summary>
/// <remarks>
/// PyTorch cycles the optimizer's momentum (SGD) or β1 (Adam) by default (cycle_momentum=True); do the same with
/// <c>sgd.Momentum = schedule.MomentumAt(step)</c> or <c>adam.Beta1 = schedule.MomentumAt(step)</c>.
/// </remarks>
public sealed class OneCycleSchedule : LearningRateSchedule
{
    private readonly double _warmupEnd;   // e₁ = pct_start·T − 1, a real number as in torch
    private readonly double _lastStep;    // e₂ = T − 1

    /// <summary>A one-cycle schedule peaking at <paramref name="maxLearningRate"/>.</summary>
    /// <param name="maxLearningRate">Peak rate.</param>
    /// <param name="totalSteps">Run length T.</param>
    /// <param name="pctStart">Fraction of the run spent rising, in [0, 1].</param>
    /// <param name="divFactor">Initial rate = max / divFactor.</param>
    /// <param name="finalDivFactor">Final rate = initial / finalDivFactor.</param>
    /// <param name="baseMomentum">Momentum at the peak rate, in [0, 1).</param>
    /// <param name="maxMomentum">Momentum at the start and end, in [0, 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A value out of range (the exception names it).</exception>
    /// <exception cref="ArgumentException">pct_start·T = 1 exactly: the first phase would have zero length (PyTorch divides by zero there).</exception>
    public OneCycleSchedule(double maxLearningRate, long totalSteps, double pctStart = 0.3, double divFactor = 25, double finalDivFactor = 1e4,
                            double baseMomentum = 0.85, double maxMomentum = 0.95) : base(totalSteps)
    {
        Hyperparameter.RequirePositive(maxLearningRate, nameof(maxLearningRate));
        if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "pctStart must be in [0, 1].");
        Hyperparameter.RequirePositive(divFactor, nameof(divFactor));
        Hyperparameter.RequirePositive(finalDivFactor, nameof(finalDivFactor));
        Hyperparameter.RequireUnitInterval(baseMomentum, nameof(baseMomentum));
        Hyperparameter.RequireUnitInterval(maxMomentum, nameof(maxMomentum));
        _warmupEnd = pctStart * totalSteps - 1;
        _lastStep = totalSteps - 1;
        if (_warmupEnd == 0) throw new ArgumentException($"pctStart·totalSteps = 1 gives a first phase of length zero; choose another pctStart or run length.", nameof(pctStart));
        MaxLearningRate = maxLearningRate;
        InitialLearningRate = maxLearningRate / divFactor;
        MinLearningRate = InitialLearningRate / finalDivFactor;
        BaseMomentum = baseMomentum;
        MaxMomentum = maxMomentum;
    }

    /// <summary>Rate at step 0: max / divFactor.</summary>
    public double InitialLearningRate { get; }

    /// <summary>Peak rate, at the end of the first phase.</summary>
    public double MaxLearningRate { get; }

    /// <summary>Rate at the last step: initial / finalDivFactor.</summary>
    public double MinLearningRate { get; }

    /// <summary>Momentum at the peak rate.</summary>
    public double BaseMomentum { get; }

    /// <summary>Momentum at the start and the end.</summary>
    public double MaxMomentum { get; }

    /// <summary>The momentum (SGD μ or Adam β1) of 0-based <paramref name="step"/>: max → base in phase 1, base → max in phase 2.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is outside [0, TotalSteps).</exception>
    public double MomentumAt(long step)
    {
        At(step); // same range check as the rate
        return Phase(step, out double pct) == 1
            ? CosineAnneal(MaxMomentum, BaseMomentum, pct)
            : CosineAnneal(BaseMomentum, MaxMomentum, pct);
    }

    /// <inheritdoc/>
    protected override double Compute(long step) =>
        Phase(step, out double pct) == 1
            ? CosineAnneal(InitialLearningRate, MaxLearningRate, pct)
            : CosineAnneal(MaxLearningRate, MinLearningRate, pct);

    // torch: the first phase whose end_step ≥ t (or the last phase); pct = (t − start_step) / (end_step − start_step).
    private int Phase(long step, out double pct)
    {
        if (step <= _warmupEnd)
        {
            pct = step / _warmupEnd;
            return 1;
        }
        pct = (step - _warmupEnd) / (_lastStep - _warmupEnd);
        return 2;
    }

    private static double CosineAnneal(double start, double end, double pct) => end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1);
}
