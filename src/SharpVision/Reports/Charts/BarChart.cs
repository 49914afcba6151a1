namespace SharpVision.Reports.Charts;

/// <summary>One bar: its row label, its length, the text shown after it, and whether it is marked (drawn in the accent color).</summary>
/// <param name="Label">Row label, left of the bar.</param>
/// <param name="Value">Bar length in data units (0 or more).</param>
/// <param name="ValueText">Text right of the bar ("7.2 % error").</param>
/// <param name="Id">The bar's group id (<c>data-series</c>), for tests and scripts.</param>
/// <param name="Marked">Drawn in the accent color (e.g. a rung the budget cut short).</param>
public sealed record Bar(string Label, double Value, string ValueText, string Id, bool Marked = false);

/// <summary>
/// Horizontal bars from a zero baseline (so lengths compare as ratios), one row per bar, on an axis with nice ticks
/// from 0 to at least the largest value. Each bar is a &lt;g class="bar" data-series="ID"&gt; holding its &lt;rect&gt;.
/// </summary>
public sealed class BarChart
{
    public required string Title { get; init; }

    public string XLabel { get; init; } = "";

    public required IReadOnlyList<Bar> Bars { get; init; }

    /// <summary>Tick labels (default: the scale's own).</summary>
    public Func<double, string>? TickFormat { get; init; }

    public double Width { get; init; } = 840;

    /// <summary>Room for the row labels on the left.</summary>
    public double LabelWidth { get; init; } = 250;

    public double RowHeight { get; init; } = 28;

    /// <summary>Bar color, and the marked bars' color.</summary>
    public string Color { get; init; } = Palette.Color(0);

    public string MarkedColor { get; init; } = "#e0a060";

    /// <summary>The chart as an &lt;svg&gt;.</summary>
    /// <exception cref="ArgumentException">No bars, or a negative or non-finite value.</exception>
    public string ToSvg()
    {
        if (Bars.Count == 0) throw new ArgumentException("A bar chart needs at least one bar.");
        if (Bars.Any(b => !(b.Value >= 0) || !double.IsFinite(b.Value))) throw new ArgumentException("Bar values must be finite and not negative.");
        const double top = 30, valueRoom = 190, bottom = 44;
        double plotLeft = LabelWidth, plotRight = Width - valueRoom, plotBottom = top + Bars.Count * RowHeight, height = plotBottom + bottom;
        var scale = new LinearScale(0, Math.Max(Bars.Max(b => b.Value), 1e-9), plotLeft, plotRight, targetTicks: 6);
        var format = TickFormat ?? scale.Format;
        var svg = new SvgBuilder(Width, height, Title, "chart bar-chart");
        svg.Rect(0, 0, Width, height, "#ffffff");
        svg.Text(Width / 2, 18, Title, "middle", 14, bold: true);
        svg.OpenGroup("axes");
        XYFrame.XTicks(svg, scale, top, plotBottom, format, "#e6e6e6");
        svg.Line(plotLeft, top, plotLeft, plotBottom, "#333333");
        svg.Line(plotLeft, plotBottom, scale.Map(scale.Max), plotBottom, "#333333");
        svg.Text((plotLeft + scale.Map(scale.Max)) / 2, height - 8, XLabel, "middle");
        svg.CloseGroup();
        for (int i = 0; i < Bars.Count; i++)
        {
            var bar = Bars[i];
            double y = top + i * RowHeight, length = scale.Map(bar.Value) - plotLeft;
            svg.Text(plotLeft - 8, y + RowHeight / 2, bar.Label, "end", 13, baseline: "middle");
            svg.OpenGroup("bar", bar.Id);
            svg.Rect(plotLeft, y + 5, length, RowHeight - 10, bar.Marked ? MarkedColor : Color, $"{bar.Label}: {bar.ValueText}");
            svg.CloseGroup();
            svg.Text(plotLeft + length + 6, y + RowHeight / 2, bar.ValueText, baseline: "middle");
        }
        return svg.ToString();
    }
}
