namespace SharpVision.Optim;

/// <summary>Range checks shared by the optimizers and schedules; each names the offending option in the exception.</summary>
internal static class Hyperparameter
{
    /// <summary>Throws unless <paramref name="value"/> is finite and &gt; 0 (learning rates, ε, factors).</summary>
    public static void RequirePositive(double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number > 0.");
    }

    /// <summary>Throws unless <paramref name="value"/> is finite and ≥ 0 (weight decay, minimum learning rates).</summary>
    public static void RequireNonNegative(double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be a finite number ≥ 0.");
    }

    /// <summary>Throws unless 0 ≤ <paramref name="value"/> &lt; 1 (momentum, betas, decay rates).</summary>
    public static void RequireUnitInterval(double value, string name)
    {
        if (!(value >= 0 && value < 1)) throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [0, 1).");
    }
}
