namespace SharpVision.Reports.Charts;

/// <summary>A named series of (x, y) points; non-finite points are skipped (a gap in the line).</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, SeriesStyle Style = SeriesStyle.Line, bool Dashed = false)
{
    /// <summary>
    /// At most <paramref name="maxPoints"/> points: consecutive points are averaged in equal buckets (x and y alike), which
    /// keeps the curve's shape and smooths minibatch noise; a series that already fits is returned as is.
    /// </summary>
    public ChartSeries Downsample(int maxPoints)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPoints, 2);
        if (Points.Count <= maxPoints) return this;
        var reduced = new (double, double)[maxPoints];
        for (int b = 0; b < maxPoints; b++)
        {
            int start = (int)((long)b * Points.Count / maxPoints), end = (int)((long)(b + 1) * Points.Count / maxPoints);
            double sx = 0, sy = 0;
            for (int i = start; i < end; i++) (sx, sy) = (sx + Points[i].X, sy + Points[i].Y);
            reduced[b] = (sx / (end - start), sy / (end - start));
        }
        return this with { Points = reduced };
    }
}

/// <summary>
/// A line chart of several series over shared axes, as SVG: title, legend, ticks and grid; the axis ranges cover every
/// finite point of every series (plus <see cref="IncludeY"/>, e.g. 0 for a loss).
/// </summary>
public sealed class LineChart : XYChart
{
    public required IReadOnlyList<ChartSeries> Series { get; init; }

    /// <summary>Values the y axis must include besides the data (none by default).</summary>
    public IReadOnlyList<double> IncludeY { get; init; } = [];

    /// <summary>The chart as an &lt;svg&gt; element; each series is a &lt;g class="series" data-series="NAME"&gt;.</summary>
    /// <exception cref="ArgumentException">No series.</exception>
    public string ToSvg()
    {
        if (Series.Count == 0) throw new ArgumentException("A line chart needs at least one series.");
        var legend = Series.Select((s, i) => new LegendEntry(s.Name, Palette.Color(i), s.Style, s.Dashed)).ToList();
        var xs = XYFrame.Range(Series.SelectMany(s => s.Points.Where(p => double.IsFinite(p.Y)).Select(p => p.X)));
        var ys = XYFrame.Range(Series.SelectMany(s => s.Points.Where(p => double.IsFinite(p.X)).Select(p => p.Y)).Concat(IncludeY));
        var frame = new XYFrame(Title, XLabel, YLabel, Width, Height, legend, xs, ys, IntegerX, XFormat);
        var svg = frame.Begin("chart line-chart");
        for (int i = 0; i < Series.Count; i++)
        {
            var s = Series[i];
            string color = Palette.Color(i);
            svg.OpenGroup("series", s.Name);
            if (s.Style != SeriesStyle.Markers)
                foreach (var run in FiniteRuns(s.Points))
                    svg.Polyline(run.Select(p => (frame.X.Map(p.X), frame.Y.Map(p.Y))), color, 1.5, s.Dashed ? "5 3" : null);
            if (s.Style != SeriesStyle.Line)
                foreach (var p in s.Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)))
                    svg.Circle(frame.X.Map(p.X), frame.Y.Map(p.Y), 3, color, $"{s.Name}: {frame.FormatX(p.X)}, {p.Y:G4}");
            svg.CloseGroup();
        }
        return svg.ToString();
    }

    // Maximal runs of consecutive finite points: a NaN breaks the line instead of joining across it.
    private static IEnumerable<List<(double X, double Y)>> FiniteRuns(IReadOnlyList<(double X, double Y)> points)
    {
        var run = new List<(double, double)>();
        foreach (var p in points)
        {
            if (double.IsFinite(p.X) && double.IsFinite(p.Y))
            {
                run.Add(p);
                continue;
            }
            if (run.Count > 0) yield return run;
            run = [];
        }
        if (run.Count > 0) yield return run;
    }
}
