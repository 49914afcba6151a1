namespace SharpVision.Reports.Charts;

/// <summary>How a series is drawn.</summary>
public enum SeriesStyle
{
    /// <summary>A polyline through the points.</summary>
    Line,

    /// <summary>A dot per point.</summary>
    Markers,

    /// <summary>A polyline with a dot per point.</summary>
    LineAndMarkers,
}

/// <summary>One legend entry: the series' name and how it is drawn.</summary>
internal readonly record struct LegendEntry(string Name, string Color, SeriesStyle Style, bool Dashed);

/// <summary>
/// The frame shared by x–y charts: title, legend (wrapped into rows above the plot), axes with nice ticks and grid
/// lines, axis labels. The axis ranges come from the data the chart passes in.
/// </summary>
internal sealed class XYFrame
{
    private const double LeftMargin = 64, RightMargin = 28, BottomMargin = 46, TitleHeight = 26, LegendRow = 18;

    public XYFrame(string title, string xLabel, string yLabel, double width, double height,
        IReadOnlyList<LegendEntry> legend, (double Min, double Max) x, (double Min, double Max) y, bool integerX = false,
        Func<double, string>? xFormat = null)
    {
        Width = width;
        Height = height;
        _legendRows = LayoutLegend(legend, width - LeftMargin - RightMargin);
        double top = TitleHeight + _legendRows.Count * LegendRow + 8;
        PlotLeft = LeftMargin;
        PlotRight = width - RightMargin;
        PlotTop = top;
        PlotBottom = height - BottomMargin;
        if (PlotBottom - PlotTop < 40) throw new ArgumentException($"A {width}×{height} chart leaves no room to plot under its legend.");
        X = new LinearScale(x.Min, x.Max, PlotLeft, PlotRight, targetTicks: 7, integerX);
        Y = new LinearScale(y.Min, y.Max, PlotBottom, PlotTop, targetTicks: 6);
        _xFormat = xFormat;
        _title = title;
        _xLabel = xLabel;
        _yLabel = yLabel;
    }

    private readonly List<List<(LegendEntry Entry, double X)>> _legendRows;
    private readonly string _title, _xLabel, _yLabel;
    private readonly Func<double, string>? _xFormat;

    /// <summary>An x value as the axis labels it.</summary>
    public string FormatX(double value) => _xFormat?.Invoke(value) ?? X.Format(value);

    public double Width { get; }
    public double Height { get; }
    public double PlotLeft { get; }
    public double PlotRight { get; }
    public double PlotTop { get; }
    public double PlotBottom { get; }
    public LinearScale X { get; }
    public LinearScale Y { get; }

    /// <summary>The smallest and largest finite values, or (0, 1) when there are none.</summary>
    public static (double Min, double Max) Range(IEnumerable<double> values)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double v in values)
        {
            if (!double.IsFinite(v)) continue;
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        return min <= max ? (min, max) : (0, 1);
    }

    /// <summary>Background, grid, ticks, axes, labels, title and legend; the chart draws its data on top.</summary>
    public SvgBuilder Begin(string cssClass)
    {
        var svg = new SvgBuilder(Width, Height, _title, cssClass);
        svg.Rect(0, 0, Width, Height, "#ffffff");
        svg.Text(Width / 2, 18, _title, "middle", 14, bold: true);
        foreach (var row in _legendRows.Select((r, i) => (r, i)))
        {
            double y = TitleHeight + row.i * LegendRow + 6;
            foreach (var (entry, x) in row.r)
            {
                svg.OpenGroup("legend-item", entry.Name);
                if (entry.Style != SeriesStyle.Markers) svg.Line(x, y, x + 20, y, entry.Color, 2, entry.Dashed ? "5 3" : null);
                if (entry.Style != SeriesStyle.Line) svg.Circle(x + 10, y, 3.5, entry.Color);
                svg.Text(x + 25, y, entry.Name, baseline: "middle");
                svg.CloseGroup();
            }
        }

        svg.OpenGroup("axes");
        foreach (double t in Y.Ticks())
        {
            double py = Y.Map(t);
            svg.Line(PlotLeft, py, PlotRight, py, "#e6e6e6");
            svg.Line(PlotLeft - 4, py, PlotLeft, py, "#333333");
            svg.Text(PlotLeft - 7, py, Y.Format(t), "end", baseline: "middle");
        }
        XTicks(svg, X, PlotTop, PlotBottom, FormatX, "#f0f0f0");
        svg.Line(PlotLeft, PlotBottom, PlotRight, PlotBottom, "#333333");
        svg.Line(PlotLeft, PlotTop, PlotLeft, PlotBottom, "#333333");
        svg.Text((PlotLeft + PlotRight) / 2, Height - 8, _xLabel, "middle");
        svg.Text(14, (PlotTop + PlotBottom) / 2, _yLabel, "middle", rotate: -90);
        svg.CloseGroup();
        return svg;
    }

    /// <summary>An x axis's grid lines (from <paramref name="top"/> down), tick marks and labels under <paramref name="bottom"/>.</summary>
    public static void XTicks(SvgBuilder svg, LinearScale x, double top, double bottom, Func<double, string> format, string gridColor)
    {
        foreach (double t in x.Ticks())
        {
            double px = x.Map(t);
            svg.Line(px, top, px, bottom, gridColor);
            svg.Line(px, bottom, px, bottom + 4, "#333333");
            svg.Text(px, bottom + 17, format(t), "middle");
        }
    }

    // Legend entries left to right, wrapping when a row is full.
    private static List<List<(LegendEntry, double)>> LayoutLegend(IReadOnlyList<LegendEntry> legend, double available)
    {
        var rows = new List<List<(LegendEntry, double)>>();
        var row = new List<(LegendEntry, double)>();
        double x = 0;
        foreach (var entry in legend)
        {
            double w = 25 + Palette.TextWidth(entry.Name) + 18;
            if (row.Count > 0 && x + w > available)
            {
                rows.Add(row);
                row = [];
                x = 0;
            }
            row.Add((entry, LeftMargin + x));
            x += w;
        }
        if (row.Count > 0) rows.Add(row);
        return rows;
    }
}
