using System.Globalization;
using System.Text;
using SharpVision.Tensors;

namespace SharpVision.Analysis;

/// <summary>How an embedding map is drawn.</summary>
public sealed record EmbeddingMapOptions
{
    /// <summary>Side of the square plot area, in SVG user units (pixels).</summary>
    public int PlotSize { get; init; } = 720;

    /// <summary>Dot radius.</summary>
    public double PointRadius { get; init; } = 2.2;

    /// <summary>Dot opacity in (0, 1]; below 1 lets dense regions show their density.</summary>
    public double Opacity { get; init; } = 0.8;

    /// <summary>A title above the plot, or null.</summary>
    public string? Title { get; init; }

    /// <summary>Seed of the drawing order (dots are drawn in a shuffled order so no class is systematically on top).</summary>
    public long Seed { get; init; }
}

/// <summary>
/// A 2-D embedding (t-SNE, PCA) as a self-contained SVG: one dot per point coloured by class, a legend with the class
/// names and counts, axes equal (distances on the map are comparable in every direction).
/// </summary>
/// <remarks>
/// Colours: Tableau 10 for the first ten classes (a categorical palette chosen to stay distinguishable), then evenly
/// spaced hues. Dots are written as zero-length round-capped path segments, one path per class per drawing round,
/// in eight shuffled rounds: about 14 bytes per point, with the classes interleaved in drawing order.
/// </remarks>
public static class EmbeddingMap
{
    private static readonly string[] Tableau10 =
        ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    private const int Rounds = 8;

    /// <summary>The colour of class <paramref name="index"/> as #rrggbb.</summary>
    public static string ColorOf(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (index < Tableau10.Length) return Tableau10[index];
        // Golden-angle hues with alternating lightness keep neighbours in index apart.
        double hue = (index * 137.508) % 360, lightness = index % 2 == 0 ? 0.45 : 0.6;
        return HslToHex(hue, 0.65, lightness);
    }

    /// <summary>Renders the map.</summary>
    /// <param name="coordinates">n×2 (x₀, y₀, x₁, y₁, …).</param>
    /// <param name="labels">n class indices in [0, classNames.Count).</param>
    /// <param name="classNames">Legend names (escaped for XML).</param>
    /// <param name="options">Size, dots, title, drawing-order seed.</param>
    /// <returns>An SVG 1.1 document (UTF-8 text, no external references).</returns>
    /// <exception cref="ArgumentException">Sizes disagree, a label is out of range, a coordinate is not finite, or no points.</exception>
    public static string ToSvg(ReadOnlySpan<float> coordinates, ReadOnlySpan<int> labels, IReadOnlyList<string> classNames, EmbeddingMapOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(classNames);
        var o = options ?? new EmbeddingMapOptions();
        if (o.PlotSize < 50 || o.PlotSize > 20000) throw new ArgumentOutOfRangeException(nameof(options), o.PlotSize, "The plot size must be between 50 and 20000.");
        if (!(o.PointRadius > 0 && o.PointRadius <= 50)) throw new ArgumentOutOfRangeException(nameof(options), o.PointRadius, "The point radius must be in (0, 50].");
        if (!(o.Opacity > 0 && o.Opacity <= 1)) throw new ArgumentOutOfRangeException(nameof(options), o.Opacity, "The opacity must be in (0, 1].");
        int n = labels.Length;
        if (n == 0) throw new ArgumentException("There are no points to draw.", nameof(labels));
        if (coordinates.Length != 2 * n) throw new ArgumentException($"{n} labels need {2 * n} coordinates; got {coordinates.Length}.", nameof(coordinates));
        int classes = classNames.Count;
        var counts = new int[classes];
        for (int i = 0; i < n; i++)
        {
            if ((uint)labels[i] >= (uint)classes) throw new ArgumentException($"Label {labels[i]} of point {i} is outside 0..{classes - 1}.", nameof(labels));
            counts[labels[i]]++;
        }
        if (!Pca.IsFinite(coordinates)) throw new ArgumentException("A coordinate is NaN or infinite.", nameof(coordinates));

        // Equal scales on both axes, centred, with a margin of one dot.
        float minX = float.MaxValue, maxX = float.MinValue, minY = float.MaxValue, maxY = float.MinValue;
        for (int i = 0; i < n; i++)
        {
            minX = Math.Min(minX, coordinates[2 * i]);
            maxX = Math.Max(maxX, coordinates[2 * i]);
            minY = Math.Min(minY, coordinates[2 * i + 1]);
            maxY = Math.Max(maxY, coordinates[2 * i + 1]);
        }
        const double Margin = 12;
        double titleHeight = o.Title is null ? 0 : 32;
        double plot = o.PlotSize, inner = plot - 2 * Margin;
        double span = Math.Max(Math.Max(maxX - minX, maxY - minY), 1e-12);
        double scale = inner / span;
        double offsetX = Margin + (inner - (maxX - minX) * scale) / 2, offsetY = titleHeight + Margin + (inner - (maxY - minY) * scale) / 2;

        const double LegendRow = 20, LegendWidth = 220;
        double width = plot + LegendWidth, height = Math.Max(titleHeight + plot, titleHeight + Margin + LegendRow * (classes + 1));
        var svg = new StringBuilder(64 * 1024 + 16 * n);
        var inv = CultureInfo.InvariantCulture;
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{width:0}\" height=\"{height:0}\" viewBox=\"0 0 {width:0} {height:0}\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"13\">\n");
        if (o.Title is not null) svg.Append("<title>").Append(Escape(o.Title)).Append("</title>\n");
        svg.Append("<style>");
        for (int c = 0; c < classes; c++) svg.Append(inv, $".c{c}{{stroke:{ColorOf(c)}}}");
        svg.Append(inv, $"path{{fill:none;stroke-linecap:round;stroke-width:{2 * o.PointRadius:0.##};stroke-opacity:{o.Opacity:0.##}}}</style>\n");
        svg.Append(inv, $"<rect width=\"{width:0}\" height=\"{height:0}\" fill=\"#ffffff\"/>\n");
        if (o.Title is not null) svg.Append(inv, $"<text x=\"{Margin}\" y=\"22\" font-size=\"16\" font-weight=\"bold\">{Escape(o.Title)}</text>\n");
        svg.Append(inv, $"<rect x=\"0.5\" y=\"{titleHeight + 0.5}\" width=\"{plot - 1}\" height=\"{plot - 1}\" fill=\"none\" stroke=\"#dddddd\"/>\n");

        // Dots: a seeded shuffle split into rounds; within a round one path per class.
        var order = new Rng(o.Seed).Permutation(n);
        var buckets = new List<int>[classes];
        for (int c = 0; c < classes; c++) buckets[c] = [];
        for (int round = 0; round < Rounds; round++)
        {
            int start = (int)((long)n * round / Rounds), end = (int)((long)n * (round + 1) / Rounds);
            foreach (var bucket in buckets) bucket.Clear();
            for (int r = start; r < end; r++) buckets[labels[order[r]]].Add(order[r]);
            for (int c = 0; c < classes; c++)
            {
                if (buckets[c].Count == 0) continue;
                svg.Append(inv, $"<path class=\"c{c}\" d=\"");
                foreach (int i in buckets[c])
                {
                    double x = offsetX + (coordinates[2 * i] - minX) * scale;
                    double y = offsetY + (maxY - coordinates[2 * i + 1]) * scale; // y grows downwards in SVG
                    svg.Append(inv, $"M{x:0.#} {y:0.#}h0");
                }
                svg.Append("\"/>\n");
            }
        }

        // Legend: swatch, name, count.
        double legendX = plot + 16, legendY = titleHeight + Margin + LegendRow;
        svg.Append(inv, $"<text x=\"{legendX:0}\" y=\"{legendY - 4:0}\" font-weight=\"bold\">class (points)</text>\n");
        for (int c = 0; c < classes; c++)
        {
            double y = legendY + LegendRow * (c + 0.5);
            svg.Append(inv, $"<circle cx=\"{legendX + 6:0}\" cy=\"{y:0.#}\" r=\"6\" fill=\"{ColorOf(c)}\"/>");
            svg.Append(inv, $"<text x=\"{legendX + 18:0}\" y=\"{y + 4.5:0.#}\">{Escape(classNames[c])} ({counts[c]})</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Escapes text for XML content and attribute values (&amp;, &lt;, &gt;, quotes); drops control characters XML 1.0 forbids.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text)
        {
            switch (ch)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default:
                    if (ch >= 0x20 || ch is '\t' or '\n' or '\r') sb.Append(ch);
                    break;
            }
        }
        return sb.ToString();
    }

    private static string HslToHex(double hue, double saturation, double lightness)
    {
        double chroma = (1 - Math.Abs(2 * lightness - 1)) * saturation;
        double h = hue / 60, x = chroma * (1 - Math.Abs(h % 2 - 1));
        var (r, g, b) = h switch
        {
            < 1 => (chroma, x, 0.0),
            < 2 => (x, chroma, 0.0),
            < 3 => (0.0, chroma, x),
            < 4 => (0.0, x, chroma),
            < 5 => (x, 0.0, chroma),
            _ => (chroma, 0.0, x),
        };
        double m = lightness - chroma / 2;
        return string.Create(CultureInfo.InvariantCulture, $"#{(int)Math.Round((r + m) * 255):x2}{(int)Math.Round((g + m) * 255):x2}{(int)Math.Round((b + m) * 255):x2}");
    }
}
