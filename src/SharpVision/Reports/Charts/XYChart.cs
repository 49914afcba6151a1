namespace SharpVision.Reports.Charts;

/// <summary>What every chart on x/y axes has: a title, axis labels, a size, and whether x ticks are whole numbers.</summary>
public abstract class XYChart
{
    public required string Title { get; init; }

    public string XLabel { get; init; } = "";

    public string YLabel { get; init; } = "";

    public double Width { get; init; } = 520;

    public double Height { get; init; } = 300;

    /// <summary>X ticks at whole numbers only (epochs, k).</summary>
    public bool IntegerX { get; init; }

    /// <summary>X tick and tooltip labels (default: the scale's own), e.g. durations for a log₁₀-seconds axis.</summary>
    public Func<double, string>? XFormat { get; init; }
}
