using System.Globalization;
using SharpVision.Classic.Trees;

namespace SharpVision.Reports.Charts;

/// <summary>
/// A decision tree's top levels as SVG: one box per node (a split: its test and the rows that reached it; a leaf, or
/// a subtree cut off below <see cref="Levels"/>: its class distribution's winner or its score), the left edge of a
/// split being "yes" (x ≤ threshold). Boxes of a classification tree are tinted with their majority class's color.
/// </summary>
public sealed class TreeDiagram
{
    private const double BoxWidth = 132, BoxHeight = 46, LevelGap = 34, Margin = 8;

    public required string Title { get; init; }

    public required DecisionTree Tree { get; init; }

    /// <summary>Split levels drawn below the root (levels + 1 rows of boxes).</summary>
    public int Levels { get; init; } = 3;

    /// <summary>Class names of a classification tree (its values are class shares); null for a boosting tree's scores.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    /// <summary>A feature's name ("pixel (12, 7)"); default "x[f]".</summary>
    public Func<int, string>? FeatureName { get; init; }

    public string ToSvg()
    {
        int levels = Math.Clamp(Levels, 0, 6);
        int slots = 1 << levels;
        double width = slots * (BoxWidth + 8) + 2 * Margin, height = (levels + 1) * (BoxHeight + LevelGap) - LevelGap + 2 * Margin + 18;
        var svg = new SvgBuilder(width, height, Title, "chart tree-diagram");
        svg.Text(Margin, Margin + 12, Title, bold: true);
        Draw(svg, 0, 0, 0, width, levels);
        return svg.ToString();
    }

    // Node `node` at `depth`, centered in the horizontal band [left, right).
    private void Draw(SvgBuilder svg, int node, int depth, double left, double right, int levels)
    {
        double x = (left + right) / 2, y = Margin + 18 + depth * (BoxHeight + LevelGap);
        bool split = Tree.Left[node] >= 0;
        if (split && depth < levels)
        {
            double middle = (left + right) / 2, yChild = y + BoxHeight + LevelGap;
            svg.Line(x, y + BoxHeight, (left + middle) / 2, yChild, "#888");
            svg.Line(x, y + BoxHeight, (middle + right) / 2, yChild, "#888");
            svg.Text((x + (left + middle) / 2) / 2 - 4, y + BoxHeight + LevelGap / 2, "yes", "end", size: 10, fill: "#555");
            svg.Text((x + (middle + right) / 2) / 2 + 4, y + BoxHeight + LevelGap / 2, "no", "start", size: 10, fill: "#555");
            Draw(svg, Tree.Left[node], depth + 1, left, middle, levels);
            Draw(svg, Tree.Right[node], depth + 1, middle, right, levels);
        }
        var (fill, line2) = Summary(node);
        string line1 = split && depth < levels
            ? $"{Name(Tree.Feature[node])} ≤ {Tree.Threshold[node].ToString("G4", CultureInfo.InvariantCulture)}"
            : split ? $"… subtree of {Tree.Samples[node].ToString("N0", CultureInfo.InvariantCulture)} rows" : "leaf";
        string samples = $"n = {Tree.Samples[node].ToString("N0", CultureInfo.InvariantCulture)}";
        svg.Rect(x - BoxWidth / 2, y, BoxWidth, BoxHeight, fill, $"node {node}: {line1}; {samples}; {line2}", "#666");
        svg.Text(x, y + 14, line1, "middle", size: 11, bold: split && depth < levels);
        svg.Text(x, y + 28, line2, "middle", size: 10);
        svg.Text(x, y + 41, samples, "middle", size: 10, fill: "#444");
    }

    private string Name(int feature) => FeatureName?.Invoke(feature) ?? $"x[{feature}]";

    // The node's fill and its value line: the majority class and its share, or a boosting tree's score.
    private (string Fill, string Text) Summary(int node)
    {
        var values = Tree.ValuesOf(node);
        if (ClassNames is null || Tree.Width != ClassNames.Count)
            return ("#f4f4f4", $"score {values[0].ToString("+0.000;−0.000", CultureInfo.InvariantCulture)}");
        int best = 0;
        for (int k = 1; k < values.Length; k++)
            if (values[k] > values[best]) best = k;
        return (Tint(Palette.Color(best), 0.35 + 0.5 * values[best]),
            $"{ClassNames[best]} {values[best].ToString("P0", CultureInfo.InvariantCulture)}");
    }

    // A palette color mixed with white: weight 1 is the color, 0 is white.
    private static string Tint(string color, double weight)
    {
        int r = Convert.ToInt32(color[1..3], 16), g = Convert.ToInt32(color[3..5], 16), b = Convert.ToInt32(color[5..7], 16);
        int Mix(int c) => (int)Math.Round(255 - (255 - c) * Math.Clamp(weight, 0, 1) * 0.6);
        return $"#{Mix(r):x2}{Mix(g):x2}{Mix(b):x2}";
    }
}
