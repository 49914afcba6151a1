using System.Globalization;
using System.Net;
using System.Text;
using SharpVision.Reports;
using SharpVision.Reports.Charts;

namespace SharpVision.Runs;

/// <summary>
/// ladder.html: one self-contained page (inline CSS and SVG, no scripts, nothing fetched) comparing the rungs: test
/// error as bars from zero, test accuracy against training time, and a table of what each rung chose and costs, linking
/// each rung's report.html.
/// </summary>
public static class LadderPage
{
    /// <summary>ladder.html's file name in a ladder folder.</summary>
    public const string FileName = "ladder.html";

    /// <summary>Writes DIR/ladder.html atomically; returns its path.</summary>
    public static string Write(LadderResult ladder)
    {
        ArgumentNullException.ThrowIfNull(ladder);
        var path = Path.Combine(ladder.Directory, FileName);
        IO.AtomicFile.WriteAllText(path, Render(ladder));
        return path;
    }

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
            figure {"{"} margin: 1.2em 0; {"}"}
            figcaption {"{"} color: #555; font-size: 0.9em; max-width: 56em; {"}"}
            </style>
            </head>
            <body>
            <h1>Ladder on {E(ladder.Location.Name)}{(ladder.Location.IsSample ? " (shipped sample)" : "")}</h1>
            <p class="meta">{(int)dataset["train_count"]!:N0} training images ({(int)validation["train_count"]!:N0} to fit + {(int)validation["validation_count"]!:N0} held out to choose hyperparameters), {(int)dataset["test_count"]!:N0} test images;
            seed {ladder.Document["seed"]}, {ladder.Document["threads"]} thread(s); {E(Ladder.Duration(ladder.Total))} of a {E(Ladder.Duration(ladder.Budget))} budget.</p>

            """);
        html.Append(Charts(rungs));
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

    /// <summary>Figure ids on the page (<c>data-figure</c>).</summary>
    public static class Figures
    {
        /// <summary>Test error per rung, as bars from 0.</summary>
        public const string TestError = "test-error";

        /// <summary>Test accuracy against training time (log scale), one point per rung.</summary>
        public const string AccuracyAgainstTime = "accuracy-vs-training-time";
    }

    // Test error, not accuracy, as bars from a zero baseline: 84 % and 93 % accuracy are 16 % and 7 % error, bars that
    // differ by more than 2×, where accuracy bars from 0 differ by a tenth. Then the lectures' trade-off: accuracy
    // against the time to train, on a log scale (k-NN memorizes in milliseconds, the CNN trains for minutes).
    private static string Charts(IReadOnlyList<RungResult> rungs)
    {
        var errors = new BarChart
        {
            Title = "Test error per rung (lower is better)",
            XLabel = "test error (share of the test images misclassified)",
            Bars = rungs.Select(r => new Bar(r.Title, 1 - Math.Clamp(r.TestAccuracy, 0, 1),
                string.Create(CultureInfo.InvariantCulture, $"{1 - r.TestAccuracy:P1} error ({r.TestAccuracy:P2} acc.)"), r.Name, r.CutShort))
                .ToList(),
            TickFormat = v => v.ToString("0.#%", CultureInfo.InvariantCulture),
        };
        var tradeOff = new LineChart
        {
            Title = "Test accuracy against training time",
            XLabel = "training time of the final model (log scale)",
            YLabel = "test accuracy (%)",
            IntegerX = true,
            XFormat = v => DurationText.Format(Math.Pow(10, v)),
            Width = 840,
            Height = 360,
            Series = rungs.Select(r => new ChartSeries(r.Title, [(Math.Log10(Math.Max(r.TrainSeconds, MinimumSeconds)), 100 * r.TestAccuracy)],
                SeriesStyle.Markers)).ToList(),
        };
        return "<figure data-figure=\"" + Figures.TestError + "\">" + errors.ToSvg() + "<figcaption>Test error of each rung's final model; " +
            "bars start at 0, so their lengths compare the mistakes (" + E(ErrorRatio(rungs)) + ")." +
            (rungs.Any(r => r.CutShort) ? " <span class=\"cut\">Orange bars</span>: rungs the budget cut short." : "") + "</figcaption></figure>\n" +
            "<figure data-figure=\"" + Figures.AccuracyAgainstTime + "\">" + tradeOff.ToSvg() + "<figcaption>The lectures' trade-off: what each " +
            "rung's accuracy costs in training time (fitting the final model; times under " + E(DurationText.Format(MinimumSeconds)) +
            " are drawn at " + E(DurationText.Format(MinimumSeconds)) + "). k-NN trains in no time but pays at prediction (see the table)." +
            "</figcaption></figure>\n";
    }

    private const double MinimumSeconds = 1e-3;

    // "the best rung makes 2.3× fewer mistakes than the worst" (or nothing to compare).
    private static string ErrorRatio(IReadOnlyList<RungResult> rungs)
    {
        double best = rungs.Min(r => 1 - r.TestAccuracy), worst = rungs.Max(r => 1 - r.TestAccuracy);
        return rungs.Count < 2 || best <= 0 || worst <= best ? "one bar per rung"
            : string.Create(CultureInfo.InvariantCulture, $"the best rung makes {worst / best:0.0}× fewer mistakes than the worst");
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string Seconds(double s) => DurationText.Format(s);

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
