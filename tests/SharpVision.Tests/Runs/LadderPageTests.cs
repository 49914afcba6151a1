using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Runs;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Runs;

/// <summary>ladder.html: its charts, and `sharpvision report LADDER_DIR` redrawing it from ladder.json.</summary>
public class LadderPageTests
{
    // A ladder of three rungs as ladder.json records it (accuracies 84 %, 93 %, 89 %; training 5 ms, 12 min, 40 s).
    private static LadderResult Sample(string directory)
    {
        var rungs = new JsonArray();
        foreach (var (name, accuracy, seconds) in new[] { ("knn", 0.84, 0.005), ("cnn", 0.93, 720.0), ("mlp", 0.89, 40.0) })
            rungs.Add(new RungResult(name, name.ToUpperInvariant() + " rung", new JsonObject { ["k"] = 1 }, [], [], 1, null, accuracy, seconds, 0, seconds,
                12.5, 1000, 10, Path.Combine(directory, name), false, []).ToJson());
        var document = new JsonObject
        {
            ["command"] = "ladder",
            ["dataset"] = new JsonObject
            {
                ["name"] = "fashion-mnist", ["format"] = "idx", ["source"] = "/data", ["origin"] = "system", ["is_sample"] = false,
                ["train_count"] = 60000, ["test_count"] = 10000,
            },
            ["seed"] = 0,
            ["threads"] = 2,
            ["budget_s"] = 1200,
            ["total_s"] = 800.5,
            ["validation"] = new JsonObject { ["train_count"] = 54000, ["validation_count"] = 6000 },
            ["selection"] = "highest validation accuracy",
            ["refit"] = "refitted",
            ["rungs"] = rungs,
        };
        return LadderResult.FromDocument((JsonObject)JsonNode.Parse(document.ToJsonString())!, directory);
    }

    private static double BarLength(string html, string rung) => double.Parse(
        Regex.Match(html, $"<g class=\"bar\" data-series=\"{rung}\"><rect [^>]*width=\"([0-9.]+)\"").Groups[1].Value, CultureInfo.InvariantCulture);

    [Fact]
    public void Render_TestErrorBarsFromZero_MakeCloseAccuraciesLookApart()
    {
        var html = LadderPage.Render(Sample("/tmp/ladder"));
        // 84 % and 93 % accuracy are 16 % and 7 % error: bars from zero whose lengths are in that ratio (accuracy bars from
        // zero differed by a tenth, 0.84 against 0.93, and looked alike).
        double knn = BarLength(html, "knn"), cnn = BarLength(html, "cnn"), mlp = BarLength(html, "mlp");
        Assert.Equal(0.16 / 0.07, knn / cnn, 2);
        Assert.Equal(0.11 / 0.07, mlp / cnn, 2);
        Assert.Contains("16.0 % error (84.00 % acc.)", html, StringComparison.Ordinal);
        Assert.Contains("the best rung makes 2.3× fewer mistakes than the worst", System.Net.WebUtility.HtmlDecode(html), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_AccuracyAgainstTrainingTime_OnePointPerRung_OnALogScaleOfDurations()
    {
        var html = LadderPage.Render(Sample("/tmp/ladder"));
        var figure = Regex.Match(html, $"data-figure=\"{LadderPage.Figures.AccuracyAgainstTime}\">(.*?)</figure>", RegexOptions.Singleline).Groups[1].Value;
        Assert.NotEmpty(figure);
        foreach (var rung in new[] { "KNN rung", "CNN rung", "MLP rung" })
            Assert.Single(Regex.Matches(figure, $"<g class=\"series\" data-series=\"{rung}\"><circle "));
        // Decade ticks labelled as durations: 1 ms (k-NN's 5 ms is drawn at least there) to beyond 12 minutes.
        foreach (var tick in new[] { ">1 ms<", ">1.0 s<", ">1m 40s<" }) Assert.Contains(tick, figure, StringComparison.Ordinal);
        // Left to right in training time: k-NN, MLP, CNN.
        var x = new[] { "KNN rung", "MLP rung", "CNN rung" }.Select(r => double.Parse(
            Regex.Match(figure, $"class=\"series\" data-series=\"{r}\"><circle cx=\"([0-9.]+)\"").Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(x[0] < x[1] && x[1] < x[2], string.Join(", ", x));
    }

    [Fact]
    public void ReportLadderDir_RewritesLadderHtmlFromLadderJson_AndTheRungReportsWithAll()
    {
        using var temp = new TempFolder();
        var dir = temp.Combine("ladder");
        var ladder = Run("ladder", "--data", SampleDir, "--rungs", "knn,softmax", "--budget", "60s", "--threads", "2", "--out", dir);
        Assert.True(ladder.Code == 0, ladder.Err);
        string page = Path.Combine(dir, "ladder.html"), knnReport = Path.Combine(dir, "knn", "report.html");
        var (originalPage, originalReport) = (File.ReadAllText(page), File.ReadAllText(knnReport));
        File.Delete(page);
        File.Delete(knnReport);

        var (code, output, err) = Run("report", dir, "--threads", "2");
        Assert.True(code == 0, err);
        Assert.Equal(page, output.Trim());
        Assert.Equal(originalPage, File.ReadAllText(page)); // the page is drawn from ladder.json alone
        Assert.False(File.Exists(knnReport));

        var all = Run("report", dir, "--all", "--threads", "2", "--json");
        Assert.True(all.Code == 0, all.Err);
        Assert.Equal(new[] { page, knnReport, Path.Combine(dir, "softmax", "report.html") }.Order(),
            JsonNode.Parse(all.Out)!["reports"]!.AsArray().Select(n => (string)n!).Order());
        Assert.Equal(originalReport, File.ReadAllText(knnReport));

        Assert.Equal(CliApp.UsageError, Run("report", dir, "--out", temp.Combine("x.html")).Code);
        Assert.Equal(CliApp.UsageError, Run("report", Path.Combine(dir, "knn"), "--all").Code);
    }

    [Fact]
    public void ReportLadderDir_DamagedLadderJson_FailsNamingItAndTheKey()
    {
        using var temp = new TempFolder();
        var dir = temp.Combine("ladder");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "ladder.json"), Sample(dir).Document.ToJsonString().Replace("\"test_accuracy\"", "\"test_acc\"", StringComparison.Ordinal));
        var (code, _, err) = Run("report", dir);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains(Path.Combine(dir, "ladder.json"), err, StringComparison.Ordinal);
        Assert.Contains("\"test_accuracy\" is not a number", err, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "ladder.html")));
    }
}
