using System.Globalization;
using System.Net;
using System.Text;
using SharpVision.Reports;

namespace SharpVision.Runs;

/// <summary>
/// ladder.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) comparing the rungs: a bar
/// chart of test accuracy and a table of what each rung chose and costs, linking each rung's report.html.
/// </summary>
public static class LadderPage
{
    /// <summary>The page for <paramref name="ladder"/>, as HTML text.</summary>
    public static string Render(LadderResult ladder)
    {
        ArgumentNullException.ThrowIfNull(ladder);
        var rungs = ladder.Rungs;
        var dataset = ladder.Document["dataset"]!;
        var validation = ladder.Document["validation"]!;
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <title>SharpVision ladder: {E(ladder.Location.Name)}</title>
            <style>
            body {"{"} font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; {"}"}
            h1 {"{"} font-size: 1.5em; margin-bottom: 0.2em; {"}"}
            .meta {"{"} color: #555; margin-top: 0; {"}"}
            table {"{"} border-collapse: collapse; width: 100%; margin: 1em 0; {"}"}
            th, td {"{"} padding: 0.35em 0.6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; {"}"}
            th {"{"} background: #f4f4f4; {"}"}
            td.num {"{"} text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; {"}"}
            .note {"{"} color: #666; font-size: 0.9em; {"}"}
            .cut {"{"} color: #a35200; {"}"}
            svg text {"{"} font: 13px system-ui, sans-serif; fill: #222; {"}"}
            </style>
            </head>
            <body>
            <h1>Ladder on {E(ladder.Location.Name)}{(ladder.Location.IsSample ? " (shipped sample)" : "")}</h1>
            <p class="meta">{(int)dataset["train_count"]!:N0} training images ({(int)validation["train_count"]!:N0} to fit + {(int)validation["validation_count"]!:N0} held out to choose hyperparameters), {(int)dataset["test_count"]!:N0} test images;
            seed {ladder.Document["seed"]}, {ladder.Document["threads"]} thread(s); {E(Ladder.Duration(ladder.Total))} of a {E(Ladder.Duration(ladder.Budget))} budget.</p>

            """);
        html.Append(Chart(rungs));
        if (rungs.Any(r => r.CutShort)) html.Append("<p class=\"note\">Test accuracy; <span class=\"cut\">orange bars</span>: rungs the budget cut short.</p>\n");
        html.Append("""
            <table>
            <tr><th>#</th><th>rung</th><th>chosen hyperparameters</th><th>validation acc.</th><th>test acc.</th><th>training</th><th>prediction per image</th><th>model size</th><th>parameters</th><th>report</th></tr>

            """);
        for (int i = 0; i < rungs.Count; i++)
        {
            var r = rungs[i];
            html.Append(CultureInfo.InvariantCulture,
                $"<tr><td>{i + 1}</td><td>{E(r.Title)}{(r.CutShort ? " <span class=\"cut\">(cut short)</span>" : "")}</td><td>{E(r.HyperparameterText)}</td>" +
                $"<td class=\"num\">{(r.ValidationAccuracy is double v ? v.ToString("P2", CultureInfo.InvariantCulture) : "—")}</td><td class=\"num\"><b>{r.TestAccuracy:P2}</b></td><td class=\"num\">{E(Seconds(r.TrainSeconds))}</td>" +
                $"<td class=\"num\">{E(Micro(r.PredictMicrosecondsPerImage))}</td><td class=\"num\">{E(Bytes(r.ModelBytes))}</td><td class=\"num\">{r.ParameterCount:N0}</td>" +
                $"<td><a href=\"{E(r.ReportPath)}\">{E(r.Name)}</a></td></tr>\n");
        }
        html.Append("</table>\n<h2>Notes</h2>\n<ul>\n");
        html.Append(CultureInfo.InvariantCulture, $"<li>{E((string)ladder.Document["selection"]!)}.</li>\n<li>{E((string)ladder.Document["refit"]!)}.</li>\n");
        foreach (var r in rungs)
            foreach (var note in r.Notes) html.Append(CultureInfo.InvariantCulture, $"<li><b>{E(r.Name)}</b>: {E(note)}</li>\n");
        html.Append("</ul>\n<p class=\"note\">Each rung's run folder (config.json, metrics.json, model.safetensors) sits next to this page; ladder.json holds these figures and every setting tried.</p>\n</body>\n</html>\n");
        return html.ToString();
    }

    // Horizontal bars of test accuracy on a 0–100 % axis, one row per rung.
    private static string Chart(IReadOnlyList<RungResult> rungs)
    {
        const int label = 250, plot = 520, row = 28, top = 10, right = 70;
        int height = top + rungs.Count * row + 30;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg width=\"{label + plot + right}\" height=\"{height}\" viewBox=\"0 0 {label + plot + right} {height}\" role=\"img\" aria-label=\"test accuracy per rung\">\n");
        for (int tick = 0; tick <= 100; tick += 10)
        {
            double x = label + plot * tick / 100.0;
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x:F1}\" y1=\"{top}\" x2=\"{x:F1}\" y2=\"{top + rungs.Count * row}\" stroke=\"#e4e4e4\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x:F1}\" y=\"{top + rungs.Count * row + 18}\" text-anchor=\"middle\">{tick} %</text>\n");
        }
        for (int i = 0; i < rungs.Count; i++)
        {
            var r = rungs[i];
            double y = top + i * row, width = plot * Math.Clamp(r.TestAccuracy, 0, 1);
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{label - 8}\" y=\"{y + 18:F1}\" text-anchor=\"end\">{E(r.Title)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{label}\" y=\"{y + 5:F1}\" width=\"{width:F1}\" height=\"{row - 10}\" fill=\"{(r.CutShort ? "#e0a060" : "#4a7fb5")}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{label + width + 6:F1}\" y=\"{y + 18:F1}\">{r.TestAccuracy:P2}</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Seconds(double s) => s < 1 ? (s * 1000).ToString("F0", CultureInfo.InvariantCulture) + " ms" : Ladder.Duration(TimeSpan.FromSeconds(s));

    /// <summary>"12.3 µs", "1.25 ms".</summary>
    public static string Micro(double us) => us < 1000 ? us.ToString("F1", CultureInfo.InvariantCulture) + " µs" : (us / 1000).ToString("F2", CultureInfo.InvariantCulture) + " ms";

    /// <summary>"1.6 MB", "31 kB".</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        < 1_000 => $"{bytes} B",
        < 1_000_000 => (bytes / 1e3).ToString("F1", CultureInfo.InvariantCulture) + " kB",
        < 1_000_000_000 => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " MB",
        _ => (bytes / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " GB",
    };
}
