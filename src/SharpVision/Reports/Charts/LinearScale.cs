using System.Globalization;

namespace SharpVision.Reports.Charts;

/// <summary>
/// Maps a data interval onto a pixel interval, with "nice" ticks (1, 2 or 5 × 10ⁿ apart) whose span covers the data:
/// the axis starts at the last tick at or below the smallest value and ends at the first tick at or above the largest.
/// </summary>
public sealed class LinearScale
{
    /// <param name="dataMin">Smallest data value shown.</param>
    /// <param name="dataMax">Largest data value shown (equal to <paramref name="dataMin"/> is widened to a unit interval around it).</param>
    /// <param name="pixelStart">Pixel of the axis start (for y, the bottom).</param>
    /// <param name="pixelEnd">Pixel of the axis end.</param>
    /// <param name="targetTicks">About how many ticks to show.</param>
    /// <param name="integerTicks">Ticks only at whole numbers (epochs, k): the step is at least 1.</param>
    /// <exception cref="ArgumentException">A bound is NaN or infinite, or min exceeds max.</exception>
    public LinearScale(double dataMin, double dataMax, double pixelStart, double pixelEnd, int targetTicks = 6, bool integerTicks = false)
    {
        if (!double.IsFinite(dataMin) || !double.IsFinite(dataMax)) throw new ArgumentException($"Scale bounds must be finite (got {dataMin}, {dataMax}).");
        if (dataMin > dataMax) throw new ArgumentException($"Scale minimum {dataMin} exceeds maximum {dataMax}.");
        ArgumentOutOfRangeException.ThrowIfLessThan(targetTicks, 2);
        if (dataMin == dataMax)
        {
            double pad = dataMin == 0 ? 1 : Math.Abs(dataMin) * 0.1;
            (dataMin, dataMax) = (dataMin - pad, dataMax + pad);
        }
        Step = NiceNumber((dataMax - dataMin) / (targetTicks - 1));
        if (integerTicks) Step = Math.Max(1, Step);
        Min = Math.Floor(dataMin / Step + 1e-9) * Step;
        Max = Math.Ceiling(dataMax / Step - 1e-9) * Step;
        PixelStart = pixelStart;
        PixelEnd = pixelEnd;
    }

    /// <summary>Axis start (a tick, at or below the data minimum).</summary>
    public double Min { get; }

    /// <summary>Axis end (a tick, at or above the data maximum).</summary>
    public double Max { get; }

    /// <summary>Distance between ticks: 1, 2 or 5 × 10ⁿ.</summary>
    public double Step { get; }

    public double PixelStart { get; }

    public double PixelEnd { get; }

    /// <summary>The pixel of <paramref name="value"/>.</summary>
    public double Map(double value) => PixelStart + (value - Min) / (Max - Min) * (PixelEnd - PixelStart);

    /// <summary>Tick values from <see cref="Min"/> to <see cref="Max"/>.</summary>
    public IReadOnlyList<double> Ticks()
    {
        int count = (int)Math.Round((Max - Min) / Step);
        var ticks = new double[count + 1];
        for (int i = 0; i <= count; i++) ticks[i] = Clean(Min + i * Step);
        return ticks;
    }

    /// <summary>A tick label with as many decimals as the step needs ("0.25", "1000", "3e-4").</summary>
    public string Format(double value)
    {
        if (value == 0) return "0";
        if (Step < 1e-3 || Math.Max(Math.Abs(Min), Math.Abs(Max)) >= 1e6)
            return value.ToString("0.###e+0", CultureInfo.InvariantCulture).Replace("e+", "e", StringComparison.Ordinal);
        int decimals = Math.Max(0, (int)Math.Ceiling(-Math.Log10(Step) - 1e-9));
        return value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    // The nice number nearest x from {1, 2, 5} × 10ⁿ (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990).
    private static double NiceNumber(double x)
    {
        double exponent = Math.Floor(Math.Log10(x));
        double fraction = x / Math.Pow(10, exponent);
        double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
        return nice * Math.Pow(10, exponent);
    }

    // 0.30000000000000004 → 0.3: ticks are multiples of the step, so round away the accumulated error.
    private double Clean(double value) => Math.Round(value / Step) * Step;
}
