using System.Text;
using static SharpVision.Reports.Markup;

namespace SharpVision.Reports.Charts;

/// <summary>Writes SVG elements; every string it is given is escaped, every number formatted invariantly.</summary>
internal sealed class SvgBuilder
{
    private readonly StringBuilder _sb = new();

    /// <summary>Opens the root element with a title (the accessible name; browsers show it as a tooltip).</summary>
    public SvgBuilder(double width, double height, string title, string cssClass)
    {
        _sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{Escape(cssClass)}\" width=\"{Number(width)}\" height=\"{Number(height)}\" viewBox=\"0 0 {Number(width)} {Number(height)}\" role=\"img\" font-family=\"system-ui, sans-serif\" font-size=\"12\">");
        _sb.Append($"<title>{Escape(title)}</title>");
    }

    public void OpenGroup(string? cssClass = null, string? dataSeries = null, string? transform = null)
    {
        _sb.Append("<g");
        if (cssClass is not null) _sb.Append($" class=\"{Escape(cssClass)}\"");
        if (dataSeries is not null) _sb.Append($" data-series=\"{Escape(dataSeries)}\"");
        if (transform is not null) _sb.Append($" transform=\"{Escape(transform)}\"");
        _sb.Append('>');
    }

    public void CloseGroup() => _sb.Append("</g>");

    public void Line(double x1, double y1, double x2, double y2, string stroke, double width = 1, string? dash = null) =>
        _sb.Append($"<line x1=\"{Number(x1)}\" y1=\"{Number(y1)}\" x2=\"{Number(x2)}\" y2=\"{Number(y2)}\" stroke=\"{Escape(stroke)}\" stroke-width=\"{Number(width)}\"{Dash(dash)}/>");

    public void Rect(double x, double y, double width, double height, string fill, string? tooltip = null, string? stroke = null)
    {
        _sb.Append($"<rect x=\"{Number(x)}\" y=\"{Number(y)}\" width=\"{Number(width)}\" height=\"{Number(height)}\" fill=\"{Escape(fill)}\"");
        if (stroke is not null) _sb.Append($" stroke=\"{Escape(stroke)}\"");
        if (tooltip is null) _sb.Append("/>");
        else _sb.Append($"><title>{Escape(tooltip)}</title></rect>");
    }

    public void Circle(double cx, double cy, double r, string fill, string? tooltip = null)
    {
        _sb.Append($"<circle cx=\"{Number(cx)}\" cy=\"{Number(cy)}\" r=\"{Number(r)}\" fill=\"{Escape(fill)}\"");
        if (tooltip is null) _sb.Append("/>");
        else _sb.Append($"><title>{Escape(tooltip)}</title></circle>");
    }

    public void Polyline(IEnumerable<(double X, double Y)> points, string stroke, double width = 1.5, string? dash = null)
    {
        _sb.Append("<polyline fill=\"none\" stroke-linejoin=\"round\" points=\"");
        bool first = true;
        foreach (var (x, y) in points)
        {
            if (!first) _sb.Append(' ');
            _sb.Append(Number(x)).Append(',').Append(Number(y));
            first = false;
        }
        _sb.Append($"\" stroke=\"{Escape(stroke)}\" stroke-width=\"{Number(width)}\"{Dash(dash)}/>");
    }

    /// <summary>Text at (x, y); <paramref name="anchor"/> is "start", "middle" or "end", <paramref name="rotate"/> degrees about (x, y).</summary>
    public void Text(double x, double y, string text, string anchor = "start", double? size = null, string? fill = null, bool bold = false, double rotate = 0, string baseline = "auto")
    {
        _sb.Append($"<text x=\"{Number(x)}\" y=\"{Number(y)}\" text-anchor=\"{Escape(anchor)}\"");
        if (baseline != "auto") _sb.Append($" dominant-baseline=\"{Escape(baseline)}\"");
        if (size is double s) _sb.Append($" font-size=\"{Number(s)}\"");
        if (fill is not null) _sb.Append($" fill=\"{Escape(fill)}\"");
        if (bold) _sb.Append(" font-weight=\"bold\"");
        if (rotate != 0) _sb.Append($" transform=\"rotate({Number(rotate)} {Number(x)} {Number(y)})\"");
        _sb.Append('>').Append(Escape(text)).Append("</text>");
    }

    public override string ToString() => _sb + "</svg>";

    private static string Dash(string? dash) => dash is null ? "" : $" stroke-dasharray=\"{Escape(dash)}\"";
}

/// <summary>Series colors: Tableau 10, distinguishable and print-safe.</summary>
public static class Palette
{
    private static readonly string[] Colors = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

    /// <summary>The color of series <paramref name="index"/> (cycling after 10).</summary>
    public static string Color(int index) => Colors[((index % Colors.Length) + Colors.Length) % Colors.Length];

    /// <summary>Rough width of <paramref name="text"/> in pixels at <paramref name="fontSize"/> (no font metrics offline).</summary>
    public static double TextWidth(string text, double fontSize = 12) => (text?.Length ?? 0) * fontSize * 0.6;
}
