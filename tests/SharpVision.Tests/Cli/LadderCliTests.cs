using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SharpVision.Cli;
using SharpVision.Runs;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`sharpvision ladder` end to end on the shipped sample.</summary>
public class LadderCliTests
{
    // The rungs in two runs: each rung writes a model and a report (one to three seconds each while the rest of the suite
    // runs beside it), so nine in one short budget would leave the CNN nothing, and the six classic rungs alone took 28 s of
    // 20 in CI. The CNN takes whatever the others leave, so the first group gets 40 s; the two runs cover every rung.
    private static readonly string[] Groups = ["knn,svm,softmax,hog-svm,mlp,cnn", "forest,boost-hog,rbf-svm-hog"];

    public static TheoryData<string, int> RungGroups => new() { { Groups[0], 40 }, { Groups[1], 20 } };

    [Fact]
    public void RungGroups_CoverEveryRungOnce() => Assert.Equal(Ladder.RungNames.Order(), Groups.SelectMany(g => g.Split(',')).Order());

    [Theory]
    [MemberData(nameof(RungGroups))]
    public void Ladder_OnTheSample_WritesEveryRung_ConsistentWithItsRunFolder_WithinTheBudget(string selected, int budget)
    {
        using var temp = new TempFolder();
        var dir = temp.Combine("ladder");
        var names = selected.Split(',');
        var (code, output, err) = Run("ladder", "--data", SampleDir, "--budget", $"{budget}s", "--rungs", selected, "--threads", "2", "--out",
            dir, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal(JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "ladder.json")))!.ToJsonString(), doc.ToJsonString()); // --json prints ladder.json


        var rungs = doc["rungs"]!.AsArray();
        Assert.Equal(names, rungs.Select(r => (string)r!["name"]!));
        int testCount = (int)doc["dataset"]!["test_count"]!;
        foreach (var rung in rungs)
        {
            var name = (string)rung!["name"]!;
            var runDir = Path.Combine(dir, name);
            Assert.Equal(runDir, (string)rung["run_dir"]!);
            foreach (var file in new[] { "config.json", "metrics.json", "model.safetensors", "report.html" }) Assert.True(File.Exists(Path.Combine(runDir, file)), $"{name}/{file}");
            Assert.Contains("data-figure=\"confusion-matrix\"", File.ReadAllText(Path.Combine(runDir, "report.html"))); // the rung's own report, linked below
            var metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, "metrics.json")))!;
            Assert.Equal("ladder", (string)metrics["command"]!);
            Assert.Equal(testCount, (int)metrics["metrics"]!["test"]!["count"]!); // evaluated on the test split
            Assert.Equal((double)metrics["metrics"]!["test"]!["accuracy"]!, (double)rung["test_accuracy"]!);
            Assert.Equal((double)metrics["timings_s"]!["fit"]!, (double)rung["train_seconds"]!, 3);
            Assert.Equal((double)metrics["timings_s"]!["predict"]!, (double)rung["predict_us_per_image"]! * testCount / 1e6, 3);
            Assert.Equal(new FileInfo(Path.Combine(runDir, "model.safetensors")).Length, (long)rung["model_bytes"]!);
            if (name != "knn") Assert.Equal((long)metrics["model"]!["parameters"]!, (long)rung["parameters"]!);

            // The chosen setting is the grid's best on validation (first among equals).
            var grid = rung["grid"]!.AsArray();
            if (name == "cnn")
            {
                Assert.Empty(grid);
                int epochs = (int)rung["hyperparameters"]!["epochs"]!;
                Assert.Equal(epochs, (int)metrics["training"]!["Epochs"]!);
                Assert.Equal(epochs < 20 || (bool)metrics["metrics"]!["stopped_at_time_limit"]!, (bool)rung["cut_short"]!);
                continue;
            }
            if (name is "forest" or "boost-hog" or "rbf-svm-hog")
            {
                // One setting, not searched; the trees stop at the rung's share of the budget and say how far they got.
                Assert.Empty(grid);
                bool stopped = metrics["metrics"]!["stopped_at_time_limit"] is JsonNode s && (bool)s;
                Assert.Equal(stopped, (bool)rung["cut_short"]!);
                if (stopped)
                    Assert.Contains(rung["notes"]!.AsArray(), n => ((string)n!).StartsWith("stopped at the budget: ", StringComparison.Ordinal));
                Assert.True((double)rung["test_accuracy"]! > 0.3, $"{name}: {rung["test_accuracy"]}");
                continue;
            }
            Assert.NotEmpty(grid);
            // 10 classes: chance is 0.1. (The CNN's accuracy depends on how much of the budget a busy machine leaves it;
            // NetworkCliTests checks that it learns.)
            Assert.True((double)rung["test_accuracy"]! > 0.5, $"{name}: {rung["test_accuracy"]}");
            var bestAccuracy = grid.Max(g => (double)g!["validation_accuracy"]!);
            var best = grid.First(g => (double)g!["validation_accuracy"]! == bestAccuracy)!;
            Assert.Equal(bestAccuracy, (double)rung["validation_accuracy"]!);
            Assert.Equal(best["params"]!.ToJsonString(), rung["hyperparameters"]!.ToJsonString());
            Assert.Equal((bool)rung["cut_short"]!, grid.Count < (int)rung["grid_size"]!);
        }
        if (names[0] == "knn")
        {
            // k-NN's final model is the chosen setting, refitted on all training images.
            var knnConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "knn", "config.json")))!;
            Assert.Equal(rungs[0]!["hyperparameters"]!["k"]!.ToJsonString(), knnConfig["model"]!["k"]!.ToJsonString());
        }

        var html = File.ReadAllText(Path.Combine(dir, "ladder.html"));
        Assert.Contains("<svg", html);
        foreach (var name in names) Assert.Contains($"href=\"{name}/report.html\"", html);
        // Offline: the only address is the SVG namespace (a name, never fetched), as in ReportCliTests.
        Assert.All(Regex.Matches(html, "https?://[^\"]*").Select(m => m.Value), url => Assert.Equal("http://www.w3.org/2000/svg", url));
        foreach (var external in new[] { "<script", "<link", "@import", "url(" }) Assert.DoesNotContain(external, html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"[{names.Length}/{names.Length}] {Ladder.Title(names[^1])}", err); // progress per rung on stderr

        // The budget, checked last so that a busy machine's overrun does not hide the checks above: the whole ladder, loading
        // included, stays within it (a little slack for the last prediction and writes).
        Assert.Equal(budget, (double)doc["budget_s"]!);
        Assert.InRange((double)doc["total_s"]!, 1, budget * 1.25);
    }

    [Fact]
    public void Ladder_ChoosesHyperparametersWithoutLookingAtTestLabels()
    {
        using var temp = new TempFolder();
        // The same images twice; the second copy's test labels are shuffled.
        var original = temp.Combine("original", "fashion-mnist");
        var shuffled = temp.Combine("shuffled", "fashion-mnist");
        foreach (var target in new[] { original, shuffled })
        {
            Directory.CreateDirectory(target);
            foreach (var file in Directory.GetFiles(SampleDir)) File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
        ShuffleLabels(Path.Combine(shuffled, "t10k-labels-idx1-ubyte.gz"), seed: 7);

        JsonArray Rungs(string data, string outDir)
        {
            var (code, output, err) = Run("ladder", "--data", data, "--rungs", "knn,svm,hog-svm", "--budget", "10m", "--threads", "2", "--out", outDir, "--json");
            Assert.True(code == 0, err);
            return JsonNode.Parse(output)!["rungs"]!.AsArray();
        }
        var a = Rungs(temp.Combine("original"), temp.Combine("a"));
        var b = Rungs(temp.Combine("shuffled"), temp.Combine("b"));
        Assert.Equal(3, a.Count);
        for (int i = 0; i < a.Count; i++)
        {
            var name = (string)a[i]!["name"]!;
            // Same choices from the same validation scores...
            Assert.Equal(a[i]!["hyperparameters"]!.ToJsonString(), b[i]!["hyperparameters"]!.ToJsonString());
            Assert.Equal(a[i]!["grid"]!.AsArray().Select(g => g!["validation_accuracy"]!.ToJsonString()), b[i]!["grid"]!.AsArray().Select(g => g!["validation_accuracy"]!.ToJsonString()));
            // ...while the test labels did change what the test split says.
            Assert.True((double)a[i]!["test_accuracy"]! > 0.6, $"{name}: {a[i]!["test_accuracy"]}");
            Assert.True((double)b[i]!["test_accuracy"]! < 0.3, $"{name} on shuffled test labels: {b[i]!["test_accuracy"]}");
        }
    }

    // Rewrites a gzip'd IDX label file with its labels in a seeded random order (the header stays).
    private static void ShuffleLabels(string path, int seed)
    {
        byte[] bytes;
        using (var input = new GZipStream(File.OpenRead(path), CompressionMode.Decompress))
        using (var memory = new MemoryStream())
        {
            input.CopyTo(memory);
            bytes = memory.ToArray();
        }
        Assert.Equal(0x00000801, BinaryPrimitives.ReadInt32BigEndian(bytes));
        new Random(seed).Shuffle(bytes.AsSpan(8));
        using var output = new GZipStream(File.Create(path), CompressionLevel.Fastest);
        output.Write(bytes);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("20")]
    [InlineData("0s")]
    [InlineData("-1m")]
    [InlineData("10 minutes")]
    public void Ladder_BadBudget_IsAUsageError_WithNothingWritten(string budget)
    {
        using var temp = new TempFolder();
        var dir = temp.Combine("ladder");
        var (code, output, err) = Run("ladder", "--data", SampleDir, "--budget", budget, "--out", dir);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--budget must", err);
        Assert.Empty(output);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Ladder_IntoANonEmptyFolder_IsRefusedAndLeavesItAlone()
    {
        using var temp = new TempFolder();
        var keep = temp.Combine("mine.txt");
        File.WriteAllText(keep, "mine");
        var (code, _, err) = Run("ladder", "--data", SampleDir, "--budget", "1m", "--out", temp.Path);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--out", err);
        Assert.Contains("not empty", err);
        Assert.Equal(["mine.txt"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));

        var unknown = Run("ladder", "--data", SampleDir, "--rungs", "knn,svn", "--out", temp.Combine("new"));
        Assert.Equal(CliApp.UsageError, unknown.Code);
        Assert.Contains("--rungs: unknown rung 'svn'", unknown.Err);
    }

    [Fact]
    public async Task Ladder_Interrupted_Exits130_KeepsFinishedRungs_RemovesTheUnfinishedOne_WritesNoSummary()
    {
        using var temp = new TempFolder();
        var dir = temp.Combine("ladder");
        using var interrupt = new CancellationTokenSource();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var run = Task.Run(() => CliApp.RunAsync(["ladder", "--data", SampleDir, "--rungs", "knn,mlp", "--budget", "5m", "--threads", "2", "--out", dir], stdout, stderr, interrupt.Token));
        // Ctrl-C once k-NN is done (its metrics.json is its last file), while the MLP rung is working.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(Path.Combine(dir, "knn", "metrics.json")) && !run.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(20);
        await interrupt.CancelAsync();
        int code = await run;

        Assert.Equal(CliApp.Interrupted, code);
        Assert.Contains("ladder interrupted during the mlp rung, which leaves no folder", stderr.ToString());
        Assert.True(File.Exists(Path.Combine(dir, "knn", "model.safetensors")));
        Assert.False(Directory.Exists(Path.Combine(dir, "mlp")));
        Assert.False(File.Exists(Path.Combine(dir, "ladder.json")));
        Assert.False(File.Exists(Path.Combine(dir, "ladder.html")));
        Assert.Empty(stdout.ToString());
    }
}
