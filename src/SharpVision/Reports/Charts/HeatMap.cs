using System.Globalization;

namespace SharpVision.Reports.Charts;

/// <summary>
/// A matrix of counts as colored cells with row and column labels, e.g. a confusion matrix (rows: true class, columns:
/// predicted class). A cell's color is its share of its row (so each class's recall reads the same whatever its size);
/// its text is the count.
/// </summary>
public sealed class HeatMap
{
    public required string Title { get; init; }

    public required IReadOnlyList<string> RowLabels { get; init; }

    public required IReadOnlyList<string> ColumnLabels { get; init; }

    /// <summary>Rows × columns counts.</summary>
    public required int[][] Values { get; init; }

    public string RowTitle { get; init; } = "";

    public string ColumnTitle { get; init; } = "";

    /// <summary>Cell side in pixels.</summary>
    public double CellSize { get; init; } = 40;

    /// <summary>The heat map as an &lt;svg&gt;; cells are &lt;rect class="cell"&gt; with a tooltip naming row, column, count and share.</summary>
    /// <exception cref="ArgumentException">The matrix does not match the labels.</exception>
    public string ToSvg()
    {
        if (Values.Length != RowLabels.Count || Values.Any(r => r is null || r.Length != ColumnLabels.Count))
            throw new ArgumentException($"A heat map with {RowLabels.Count} row and {ColumnLabels.Count} column labels needs a {RowLabels.Count}×{ColumnLabels.Count} matrix.");
        // Row labels right-aligned left of the cells, column labels slanted 45° below them; sizes from the text lengths.
        double rowLabelWidth = RowLabels.Select(l => Palette.TextWidth(l)).DefaultIfEmpty(0).Max();
        double columnLabelHeight = ColumnLabels.Select(l => Palette.TextWidth(l)).DefaultIfEmpty(0).Max() * 0.71 + 14;
        double left = 28 + rowLabelWidth + 8, top = 48;
        double width = left + ColumnLabels.Count * CellSize + 20, height = top + RowLabels.Count * CellSize + columnLabelHeight + 24;
        var svg = new SvgBuilder(width, height, Title, "chart heat-map");
        svg.Rect(0, 0, width, height, "#ffffff");
        svg.Text(width / 2, 18, Title, "middle", 14, bold: true);
        svg.Text(left + ColumnLabels.Count * CellSize / 2, top - 8, ColumnTitle, "middle");
        svg.Text(14, top + RowLabels.Count * CellSize / 2, RowTitle, "middle", rotate: -90);
        svg.OpenGroup("cells");
        for (int r = 0; r < RowLabels.Count; r++)
        {
            long rowTotal = Values[r].Sum(v => (long)v);
            for (int c = 0; c < ColumnLabels.Count; c++)
            {
                int v = Values[r][c];
                double share = rowTotal == 0 ? 0 : (double)v / rowTotal;
                double x = left + c * CellSize, y = top + r * CellSize;
                svg.Rect(x, y, CellSize, CellSize, Color(share),
                    string.Create(CultureInfo.InvariantCulture, $"{RowTitle} {RowLabels[r]}, {ColumnTitle} {ColumnLabels[c]}: {v} ({share:P1} of the row)"), "#ffffff");
                if (v != 0) svg.Text(x + CellSize / 2, y + CellSize / 2, v.ToString(CultureInfo.InvariantCulture), "middle", CellSize < 30 ? 9 : 11, share > 0.45 ? "#ffffff" : "#222222", baseline: "central");
            }
        }
        svg.CloseGroup();
        svg.OpenGroup("labels");
        for (int r = 0; r < RowLabels.Count; r++)
            svg.Text(left - 6, top + (r + 0.5) * CellSize, RowLabels[r], "end", baseline: "central");
        double bottom = top + RowLabels.Count * CellSize;
        for (int c = 0; c < ColumnLabels.Count; c++)
            svg.Text(left + (c + 0.5) * CellSize, bottom + 8, ColumnLabels[c], "end", rotate: -45, baseline: "hanging");
        svg.CloseGroup();
        return svg.ToString();
    }

    /// <summary>White at 0 to dark blue at 1, through light and mid blues (ColorBrewer's "Blues" end points).</summary>
    public static string Color(double share)
    {
        (double T, int R, int G, int B)[] stops = [(0, 0xf7, 0xfb, 0xff), (0.25, 0xc6, 0xdb, 0xef), (0.5, 0x6b, 0xae, 0xd6), (0.75, 0x21, 0x71, 0xb5), (1, 0x08, 0x30, 0x6b)];
        share = Math.Clamp(double.IsFinite(share) ? share : 0, 0, 1);
        int i = 0;
        while (i < stops.Length - 2 && share > stops[i + 1].T) i++;
        var (a, b) = (stops[i], stops[i + 1]);
        double f = (share - a.T) / (b.T - a.T);
        int Mix(int x, int y) => (int)Math.Round(x + (y - x) * f);
        return string.Create(CultureInfo.InvariantCulture, $"#{Mix(a.R, b.R):x2}{Mix(a.G, b.G):x2}{Mix(a.B, b.B):x2}");
    }
}
