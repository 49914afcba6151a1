using System.Text;
using static SharpVision.Reports.Markup;

namespace SharpVision.Reports;

/// <summary>
/// A self-contained HTML page: inline CSS, no scripts, figures as inline SVG or data: URI images, and a
/// Content-Security-Policy that forbids the page any request (so a report opened offline looks the same, and never
/// calls anywhere). Sections are added in order and listed in a table of contents.
/// </summary>
public sealed class HtmlReport(string title, string? subtitle = null)
{
    private readonly List<(string Id, string Heading, string Html)> _sections = [];

    /// <summary>The CSP the page carries: nothing may be fetched; images only from data: URIs; only inline styles.</summary>
    public const string ContentSecurityPolicy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

    /// <summary>Adds a section whose body is an HTML fragment built by this module's escaping helpers.</summary>
    /// <param name="id">Anchor id: letters, digits and '-' only.</param>
    /// <param name="heading">Heading text (escaped here).</param>
    /// <param name="html">The body, already markup.</param>
    public void AddSection(string id, string heading, string html)
    {
        if (string.IsNullOrEmpty(id) || !id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-')) throw new ArgumentException($"Section id '{id}' must be letters, digits and '-'.", nameof(id));
        if (_sections.Any(s => s.Id == id)) throw new ArgumentException($"Section id '{id}' is used twice.", nameof(id));
        _sections.Add((id, heading, html));
    }

    /// <summary>Section ids in order.</summary>
    public IReadOnlyList<string> SectionIds => _sections.Select(s => s.Id).ToList();

    /// <summary>A numbered figure: <c>&lt;figure class="figure" data-figure="ID"&gt;</c> around the content, with a caption.</summary>
    public static string Figure(string id, string content, string caption) =>
        $"<figure class=\"figure\" id=\"fig-{Escape(id)}\" data-figure=\"{Escape(id)}\">{content}<figcaption>{Escape(caption)}</figcaption></figure>";

    /// <summary>A paragraph of plain text.</summary>
    public static string Paragraph(string text) => $"<p>{Escape(text)}</p>";

    /// <summary>A table; columns listed in <paramref name="numeric"/> are right-aligned.</summary>
    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlySet<int>? numeric = null)
    {
        var sb = new StringBuilder("<table><thead><tr>");
        for (int i = 0; i < headers.Count; i++) sb.Append(Cell("th", headers[i], i, numeric));
        sb.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            for (int i = 0; i < row.Count; i++) sb.Append(Cell("td", row[i], i, numeric));
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    /// <summary>A two-column table of labels (as row headers) and values.</summary>
    public static string KeyValueTable(IEnumerable<(string Label, string Value)> rows)
    {
        var sb = new StringBuilder("<table class=\"key-value\"><tbody>");
        foreach (var (label, value) in rows) sb.Append($"<tr><th scope=\"row\">{Escape(label)}</th><td>{Escape(value)}</td></tr>");
        return sb.Append("</tbody></table>").ToString();
    }

    private static string Cell(string tag, string text, int column, IReadOnlySet<int>? numeric) =>
        numeric?.Contains(column) == true ? $"<{tag} class=\"num\">{Escape(text)}</{tag}>" : $"<{tag}>{Escape(text)}</{tag}>";

    /// <summary>The whole page.</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append($"<meta http-equiv=\"Content-Security-Policy\" content=\"{Escape(ContentSecurityPolicy)}\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<meta name=\"generator\" content=\"SharpVision\">\n");
        sb.Append($"<title>{Escape(title)}</title>\n<style>{Css}</style>\n</head>\n<body>\n");
        sb.Append($"<header><h1>{Escape(title)}</h1>");
        if (subtitle is not null) sb.Append($"<p class=\"subtitle\">{Escape(subtitle)}</p>");
        sb.Append("</header>\n<nav><ul>");
        foreach (var (id, heading, _) in _sections) sb.Append($"<li><a href=\"#{Escape(id)}\">{Escape(heading)}</a></li>");
        sb.Append("</ul></nav>\n<main>\n");
        foreach (var (id, heading, html) in _sections) sb.Append($"<section id=\"{Escape(id)}\"><h2>{Escape(heading)}</h2>\n{html}\n</section>\n");
        sb.Append("</main>\n</body>\n</html>\n");
        return sb.ToString();
    }

    private const string Css = """

        :root { color-scheme: light; }
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1180px; padding: 0 24px 48px; color: #222; background: #fafafa; line-height: 1.4; }
        header { border-bottom: 1px solid #ddd; margin-bottom: 8px; }
        h1 { font-size: 24px; margin: 20px 0 4px; }
        h2 { font-size: 19px; margin: 28px 0 10px; border-bottom: 1px solid #e4e4e4; padding-bottom: 4px; }
        .subtitle { color: #666; margin: 0 0 12px; }
        nav ul { list-style: none; padding: 0; margin: 8px 0; display: flex; flex-wrap: wrap; gap: 6px 16px; }
        nav a { color: #2a5d9f; text-decoration: none; }
        section { margin-bottom: 12px; }
        .figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        figure.figure { margin: 0 0 16px; padding: 8px; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; max-width: 100%; overflow-x: auto; }
        figure.figure > figcaption { color: #555; font-size: 13px; margin-top: 6px; contain: inline-size; }
        svg { display: block; }
        table { border-collapse: collapse; background: #fff; font-size: 13px; margin: 8px 0 16px; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
        th { background: #f0f0f0; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .image-grid { display: flex; flex-wrap: wrap; gap: 6px; }
        .image-rows { display: flex; flex-direction: column; gap: 6px; }
        .image-row { display: flex; gap: 6px; align-items: flex-start; }
        .row-label { width: 150px; flex: none; font-size: 12px; color: #444; padding-top: 4px; }
        figure.tile { margin: 0; padding: 3px; background: #fff; border: 2px solid #ddd; border-radius: 4px; text-align: center; width: 96px; }
        .compact figure.tile { width: auto; border-width: 1px; }
        figure.tile.right { border-color: #59a14f; }
        figure.tile.wrong { border-color: #e15759; }
        figure.tile img { display: block; margin: 0 auto; image-rendering: pixelated; image-rendering: crisp-edges; }
        figure.tile figcaption { font-size: 11px; color: #333; margin-top: 2px; overflow-wrap: anywhere; }
        .note { color: #666; font-size: 13px; }

        """;
}
