namespace SharpVision.Reports.Charts;

/// <summary>A named series of (x, mean, error) points: a marker at the mean and a bar from mean − error to mean + error.</summary>
public sealed record ErrorBarSeries(string Name, IReadOnlyList<(double X, double Mean, double Error)> Points);

/// <summary>
/// Means with ±error bars for several series over shared axes (e.g. cross-validated accuracy ± 1 std against k, one
/// series per metric). The y axis covers every mean ± error.
/// </summary>
public sealed class ErrorBarChart : XYChart
{
    public required IReadOnlyList<ErrorBarSeries> Series { get; init; }

    /// <summary>The chart as an &lt;svg&gt;; each series is a &lt;g class="series" data-series="NAME"&gt; with a line, markers and error bars.</summary>
    /// <exception cref="ArgumentException">No series, or a negative error.</exception>
    public string ToSvg()
    {
        if (Series.Count == 0) throw new ArgumentException("An error-bar chart needs at least one series.");
        if (Series.SelectMany(s => s.Points).Any(p => p.Error < 0)) throw new ArgumentException("Error bars must not be negative.");
        var legend = Series.Select((s, i) => new LegendEntry(s.Name, Palette.Color(i), SeriesStyle.LineAndMarkers, false)).ToList();
        var points = Series.SelectMany(s => s.Points).ToList();
        var xs = XYFrame.Range(points.Select(p => p.X));
        xs = (xs.Min - 0.04 * (xs.Max - xs.Min), xs.Max + 0.04 * (xs.Max - xs.Min)); // keep end bars off the axes
        var ys = XYFrame.Range(points.SelectMany(p => new[] { p.Mean - p.Error, p.Mean + p.Error }));
        var frame = new XYFrame(Title, XLabel, YLabel, Width, Height, legend, xs, ys, IntegerX);
        var svg = frame.Begin("chart error-bar-chart");
        // Series sharing an x are nudged apart so their bars do not hide each other.
        double nudge = Series.Count == 1 ? 0 : Math.Min(4, (frame.PlotRight - frame.PlotLeft) / Math.Max(1, points.Select(p => p.X).Distinct().Count()) / (3 * Series.Count));
        for (int i = 0; i < Series.Count; i++)
        {
            var s = Series[i];
            string color = Palette.Color(i);
            double dx = (i - (Series.Count - 1) / 2.0) * nudge;
            var ordered = s.Points.OrderBy(p => p.X).ToList();
            svg.OpenGroup("series", s.Name);
            svg.Polyline(ordered.Select(p => (frame.X.Map(p.X) + dx, frame.Y.Map(p.Mean))), color, 1.5);
            foreach (var p in ordered)
            {
                double px = frame.X.Map(p.X) + dx, low = frame.Y.Map(p.Mean - p.Error), high = frame.Y.Map(p.Mean + p.Error);
                svg.OpenGroup("error-bar");
                svg.Line(px, low, px, high, color, 1.5);
                svg.Line(px - 4, low, px + 4, low, color, 1.5);
                svg.Line(px - 4, high, px + 4, high, color, 1.5);
                svg.CloseGroup();
                svg.Circle(px, frame.Y.Map(p.Mean), 3.5, color, $"{s.Name}: {frame.X.Format(p.X)}: {p.Mean:F4} ± {p.Error:F4}");
            }
            svg.CloseGroup();
        }
        return svg.ToString();
    }
}
