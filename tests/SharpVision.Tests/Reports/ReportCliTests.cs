using SharpVision.Models;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Reports;
using SharpVision.Serialization;
using SharpVision.Training;
using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Reports;

/// <summary>report.html from `train` and `cv` on the sample, `sharpvision report RUN_DIR`, and its errors.</summary>
[Collection(SampleRunsCollection.Name)]
public partial class ReportCliTests(SampleRuns runs)
{
    [GeneratedRegex("data-figure=\"([a-z-]+)\"")]
    private static partial Regex FigureId();

    [GeneratedRegex("(?:src|href)\\s*=\\s*\"(?!data:|#)([^\"]*)\"|url\\(", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();

    [Theory]
    [MemberData(nameof(SampleRuns.Kinds), MemberType = typeof(SampleRuns))]
    public void TrainAndCv_WriteASelfContainedReport_WithTheFiguresOfTheirKind(string kind)
    {
        var html = File.ReadAllText(Path.Combine(runs[kind], "report.html"));
        Assert.Equal(SampleRuns.ExpectedFigures(kind).Order(), FigureId().Matches(html).Select(m => m.Groups[1].Value).Order());
        // Self-contained: no script, no reference to anything but data: URIs and anchors in the page.
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(ExternalReference().Matches(html).Select(m => m.Value));
        Assert.All(Regex.Matches(html, "https?://[^\"]*").Select(m => m.Value), url => Assert.Equal("http://www.w3.org/2000/svg", url));
        Assert.InRange(new FileInfo(Path.Combine(runs[kind], "report.html")).Length, 20_000, 1_000_000);
        Assert.DoesNotContain(Directory.GetFiles(runs[kind]), f => Path.GetFileName(f).StartsWith(".report.html", StringComparison.Ordinal)); // no temp file left
    }

    [Theory]
    [MemberData(nameof(SampleRuns.Kinds), MemberType = typeof(SampleRuns))]
    public void Report_RegeneratesTheSamePage_FromTheRunFolderAndItsRecordedDataset(string kind)
    {
        using var temp = new TempFolder();
        var output = temp.Combine("again.html");
        var (code, stdout, err) = Run("report", runs[kind], "--out", output, "--threads", "2", "--json");
        Assert.True(code == 0, err);
        Assert.Equal(output, (string)JsonNode.Parse(stdout)!["report"]!);
        // The model and the test split come back from disk exactly as the run had them in memory.
        Assert.Equal(File.ReadAllText(Path.Combine(runs[kind], "report.html")), File.ReadAllText(output));
    }

    [Fact]
    public void Report_StepCurvesComeFromTheStepLog_OnePointPerStep()
    {
        var steps = StepLog.Read(Path.Combine(runs.Softmax, StepLog.FileName));
        Assert.Equal(3 * ((1800 + 255) / 256), steps.Count); // 3 epochs of the sample's 1,800 training images in batches of 256
        var html = File.ReadAllText(Path.Combine(runs.Softmax, "report.html"));
        var figure = Regex.Match(html, "data-figure=\"loss-per-step\">(.*?)</figure>", RegexOptions.Singleline).Groups[1].Value;
        var train = Regex.Match(figure, "data-series=\"train loss \\(minibatch\\)\"><polyline [^>]*points=\"([^\"]*)\"").Groups[1].Value;
        Assert.Equal(steps.Count, train.Split(' ').Length);
        var validation = Regex.Match(figure, "class=\"series\" data-series=\"validation loss\">(.*?)</g>").Groups[1].Value;
        Assert.Equal(3, Regex.Count(validation, "<circle")); // one per epoch
    }

    [Fact]
    public void Build_LongRuns_DownsampleStepCurves_AndStaySmall()
    {
        // 40 epochs of 469 steps (full Fashion-MNIST at batch 128): the page holds at most 600 points per step curve.
        var steps = Enumerable.Range(1, 40 * 469).Select(s => new StepMetrics(s, 1 + (s - 1) / 469, 2.3 * Math.Exp(-s / 3000.0), 1 - Math.Exp(-s / 2000.0), 0.1 * Math.Cos(s / 6000.0))).ToList();
        var epochs = Enumerable.Range(1, 40).Select(e => new EpochMetrics(e, e * 469L, 0.05, 0.3, 0.9, 0.35, 0.88, 10)).ToList();
        var html = RunReport.Build(new RunReportInput { Title = "long", Steps = steps, Epochs = epochs });
        var polylines = Regex.Matches(html, "points=\"([^\"]*)\"").Select(m => m.Groups[1].Value.Split(' ').Length).ToList();
        Assert.All(polylines, n => Assert.True(n <= 600, $"{n} points"));
        Assert.Contains(600, polylines);
        Assert.True(html.Length < 300_000, $"{html.Length} bytes");
        Assert.Contains("means of 32-step buckets", html);
    }

    [Fact]
    public void EmbeddingMapHook_GetsPenultimateActivations_ThatTheLastLayerMapsToTheModelsScores()
    {
        var model = (NetworkClassifier)ModelFile.Load(Path.Combine(runs.Mlp, "model.safetensors"));
        var test = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist")).Test;
        EmbeddingMapInput? seen = null;
        var html = RunReport.Build(new RunReportInput { Title = "mlp", Model = model, Test = test }, new RunReportOptions
        {
            EmbeddingSampleSize = 100,
            EmbeddingMap = input =>
            {
                seen = input;
                return "<svg class=\"t-sne\"></svg>";
            },
        });
        Assert.Contains("data-figure=\"embedding-map\"><svg class=\"t-sne\"></svg>", html);
        Assert.NotNull(seen);
        Assert.Equal((100, 64), (seen.Count, seen.Dimension)); // --hidden 64
        Assert.Equal(test.Labels.Take(100), seen.Labels);
        // scores = W·h + b for the last Linear layer: the hook's rows are what that layer reads.
        var last = (Linear)model.Network.Layers[^1];
        var input = new float[100 * 784];
        model.Normalizer.Apply(test.Pixels.AsSpan(0, 100 * 784), input);
        var scores = model.Scores(input, 100);
        for (int i = 0; i < 100; i += 17)
            for (int k = 0; k < 10; k++)
            {
                double s = last.Bias!.Data[k];
                for (int j = 0; j < 64; j++) s += last.Weight.Data[k * 64 + j] * seen.Features[i * 64 + j];
                Assert.Equal(scores[i * 10 + k], s, tolerance: 1e-4);
            }
        Assert.DoesNotContain("embedding-map", RunReport.Build(new RunReportInput { Title = "mlp", Model = model, Test = test })); // no hook, no section
    }

    // ---- errors: a clear message naming the file, exit 1, and no report.html written ----

    [Fact]
    public void Report_MissingFolder_FailsWithItsName()
    {
        using var temp = new TempFolder();
        var missing = temp.Combine("no-such-run");
        var (code, _, err) = Run("report", missing);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains(missing, err);
        Assert.False(Directory.Exists(missing));
    }

    public static readonly TheoryData<string, string, string> Damages = new()
    {
        // what is broken, the file the message must name, and words it must say
        { "no-config", "config.json", "not found" },
        { "config-not-json", "config.json", "not valid JSON" },
        { "config-without-model", "config.json", "\"model\"" },
        { "metrics-line", "metrics.jsonl", "line 2 is not an epoch record" },
        { "steps-line", "steps.jsonl", "line 3 is not a step record" },
        { "no-model", "model.safetensors", "sharpvision train --resume" },
        { "truncated-model", "model.safetensors", "" },
        { "dataset-gone", "config.json", "--data DIR" },
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void Report_DamagedRunFolder_FailsNamingTheFile_AndWritesNoReport(string damage, string file, string words)
    {
        using var temp = new TempFolder();
        var run = CopyRun(runs.Mlp, temp.Combine("run"));
        string Path_(string name) => Path.Combine(run, name);
        switch (damage)
        {
            case "no-config": File.Delete(Path_("config.json")); break;
            case "config-not-json": File.WriteAllText(Path_("config.json"), "{ \"command\": \"train\", "); break;
            case "config-without-model": Edit(Path_("config.json"), c => c.Remove("model")); break;
            case "metrics-line": File.WriteAllLines(Path_("metrics.jsonl"), File.ReadAllLines(Path_("metrics.jsonl")).Select((l, i) => i == 1 ? "{\"epoch\": \"two\"}" : l)); break;
            case "steps-line": File.WriteAllLines(Path_("steps.jsonl"), File.ReadAllLines(Path_("steps.jsonl")).Select((l, i) => i == 2 ? l[..^5] : l)); break;
            case "no-model": File.Delete(Path_("model.safetensors")); break;
            case "truncated-model": File.WriteAllBytes(Path_("model.safetensors"), File.ReadAllBytes(Path_("model.safetensors"))[..1000]); break;
            case "dataset-gone": Edit(Path_("config.json"), c => c["dataset"]!["source"] = temp.Combine("moved-away")); break;
        }
        var (code, _, err) = Run("report", run);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains(Path_(file), err);
        Assert.Contains(words, err);
        Assert.Empty(Directory.GetFiles(run, "*report*")); // neither report.html nor a temporary file
    }

    [Fact]
    public void Report_DatasetMoved_DataFlagPointsAtIt()
    {
        using var temp = new TempFolder();
        var run = CopyRun(runs.Knn, temp.Combine(Path.GetFileName(runs.Knn))); // same folder name: the page names it
        Edit(Path.Combine(run, "config.json"), c => c["dataset"]!["source"] = temp.Combine("moved-away"));
        var (code, _, err) = Run("report", run, "--data", SampleDir);
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllText(Path.Combine(runs.Knn, "report.html")), File.ReadAllText(Path.Combine(run, "report.html")));
        var wrong = Run("report", run, "--data", temp.Path);
        Assert.Equal(CliApp.RuntimeFailure, wrong.Code);
        Assert.Contains($"--data {temp.Path}: no idx dataset there", wrong.Err);
    }

    [Fact]
    public void Report_FailureLeavesAnEarlierReportUntouched()
    {
        using var temp = new TempFolder();
        var run = CopyRun(runs.Softmax, temp.Combine("run"));
        File.WriteAllText(Path.Combine(run, "report.html"), "earlier report");
        File.WriteAllText(Path.Combine(run, "metrics.jsonl"), "not json\n");
        Assert.Equal(CliApp.RuntimeFailure, Run("report", run).Code);
        Assert.Equal("earlier report", File.ReadAllText(Path.Combine(run, "report.html")));
        Assert.Single(Directory.GetFiles(run, "*report*"));
    }

    [Fact]
    public void Report_RgbImageFolderRun_ReloadsTheSameSeededSplit_AndShowsColorFilters()
    {
        // Three classes of 8×8 color PNGs (red, green, blue dominant), split 25 % for test by the run's seed.
        using var temp = new TempFolder();
        var root = temp.Combine("colors");
        var random = new Random(5);
        foreach (var (name, channel) in new[] { ("red", 0), ("green", 1), ("blue", 2) })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0; i < 16; i++)
            {
                var pixels = new byte[8 * 8 * 3];
                random.NextBytes(pixels);
                for (int p = channel; p < pixels.Length; p += 3) pixels[p] = (byte)(200 + pixels[p] % 56);
                SharpVision.Imaging.PngEncoder.Save(new SharpVision.Imaging.Image(8, 8, 3, pixels), Path.Combine(root, name, $"{i:D2}.png"));
            }
        }
        var run = temp.Combine("run");
        var (code, _, err) = Run("train", "--dataset", root, "--model", "cnn2", "--epochs", "1", "--batch-size", "8", "--test-fraction", "0.25", "--seed", "3", "--threads", "2", "--out", run);
        Assert.True(code == 0, err);
        var html = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("The 32 3×3 filters of the first convolution, on one scale", html); // three input channels: color filters, no "input channel 0 of"
        Assert.Contains("on 12 test images", html);
        var again = temp.Combine("again.html");
        var regenerated = Run("report", run, "--out", again);
        Assert.True(regenerated.Code == 0, regenerated.Err);
        Assert.Equal(html, File.ReadAllText(again));
        // The first feature-map tile is test image 0 in color: an RGB PNG.
        var tile = Regex.Match(html, "data-figure=\"feature-maps\">.*?src=\"data:image/png;base64,([^\"]+)\"", RegexOptions.Singleline).Groups[1].Value;
        Assert.Equal(3, SharpVision.Imaging.PngDecoder.Decode(Convert.FromBase64String(tile), "tile", 1000).Channels);
    }

    [Fact]
    public void Help_ListsTheReportVerb()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("report", output);
        var help = Run("report", "--help");
        Assert.Equal(0, help.Code);
        Assert.Contains("RUN_DIR", help.Out);
        Assert.Contains("sharpvision report runs/", help.Out);
    }

    private static string CopyRun(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            if (Path.GetFileName(file) != "report.html") File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        return to;
    }

    private static void Edit(string path, Action<JsonObject> change)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        change(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
