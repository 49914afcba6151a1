using System.Globalization;

namespace SharpVision.Reports;

/// <summary>Durations as people read them: "850 ms", "30.4 s", "1m 05s", "2h 03m".</summary>
public static class DurationText
{
    /// <summary>
    /// Milliseconds below a second, seconds with one decimal below a minute, then minutes and seconds, then hours and
    /// minutes; a negative duration (time over a budget) gets a minus sign.
    /// </summary>
    public static string Format(TimeSpan duration) => duration.TotalSeconds switch
    {
        < 0 => "-" + Format(duration.Negate()),
        < 1 => (duration.TotalMilliseconds).ToString("0", CultureInfo.InvariantCulture) + " ms",
        < 60 => duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalMinutes}m {duration.Seconds:00}s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}h {duration.Minutes:00}m"),
    };

    /// <summary><see cref="Format(TimeSpan)"/> of <paramref name="seconds"/>.</summary>
    public static string Format(double seconds) => Format(TimeSpan.FromSeconds(seconds));
}
