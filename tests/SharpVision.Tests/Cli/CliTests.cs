using SharpVision.Models;
using System.Text.Json.Nodes;
using SharpVision.Cli;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Serialization;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>End to end: the real command tree, in process, on the shipped sample in temp folders.</summary>
public class CliTests
{
    [Fact]
    public void Train_Json_WritesRunFolderAndStableKeys_ThenEvaluateAgrees()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run("train", "--dataset", "fashion-mnist", "--data", SampleDir, "--model", "knn", "--k", "3", "--metric", "l1", "--threads", "2", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
        Assert.Equal(500, (int)doc["metrics"]!["test"]!["count"]!);
        Assert.Equal(10, doc["metrics"]!["test"]!["confusion_matrix"]!.AsArray().Count);
        Assert.NotNull(doc["metrics"]!["test"]!["top5_accuracy"]);
        foreach (var key in new[] { "fit", "predict", "total" }) Assert.NotNull(doc["timings_s"]![key]);
        Assert.StartsWith("knn-", (string)doc["backend"]!);
        Assert.Equal(run, (string)doc["run_dir"]!);
        Assert.True(File.Exists(Path.Combine(run, "config.json")) && File.Exists(Path.Combine(run, "metrics.json")));

        // The number printed is the number the library computes for the same setting.
        var splits = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        Assert.Equal(new KNearestNeighbors(new(3, DistanceMetric.Manhattan)).FitPixels(splits.Train).Score(splits.Test), accuracy, 6);

        var evaluated = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--dataset", "fashion-mnist", "--data", SampleDir, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Equal(accuracy, (double)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["accuracy"]!, 6);
    }

    [Fact]
    public void Predict_AnySizeColorPng_IsPreparedLikeTrainingImages()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--out", run, "--json").Code);
        var splits = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        // A test image blown up 3× to a color 84×84 PNG must still be recognized like the original 28×28 gray one.
        var gray = splits.Test.Image(0).ToArray();
        var big = new byte[84 * 84 * 3];
        for (int y = 0; y < 84; y++)
            for (int x = 0; x < 84; x++)
                for (int c = 0; c < 3; c++) big[(y * 84 + x) * 3 + c] = gray[y / 3 * 28 + x / 3];
        var png = temp.Combine("big.png");
        PngEncoder.Save(new Image(84, 84, 3, big), png);
        var (code, output, err) = Run("predict", "--model", Path.Combine(run, "model.safetensors"), png, "--top", "3", "--json");
        Assert.True(code == 0, err);
        var prediction = JsonNode.Parse(output)!["predictions"]![0]!;
        Assert.Equal(png, (string)prediction["path"]!);
        Assert.Equal(3, prediction["top"]!.AsArray().Count);
        var model = (KNearestNeighborsModel)ModelFile.Load(Path.Combine(run, "model.safetensors"));
        Assert.Equal(splits.Test.ClassNames[model.Predict(gray).Label(0)], (string)prediction["top"]![0]!["label"]!);
    }

    [Fact]
    public void Cv_ReportsEverySettingAndTheBest_AndWritesARunFolder()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("cv");
        var (code, output, err) = Run("cv", "--data", SampleDir, "--k", "1,3", "--metric", "l1,l2", "--folds", "3", "--train-limit", "600", "--test", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        var results = doc["results"]!.AsArray();
        Assert.Equal(4, results.Count);
        double bestMean = (double)doc["best"]!["mean_accuracy"]!;
        Assert.Equal(results.Max(r => (double)r!["mean_accuracy"]!), bestMean);
        Assert.All(results, r => Assert.Equal(3, r!["fold_accuracies"]!.AsArray().Count));
        Assert.Equal(500, (int)doc["metrics"]!["test"]!["count"]!);
        Assert.Equal(run, (string)doc["run_dir"]!);
        foreach (var file in new[] { "config.json", "metrics.json", "model.safetensors", "report.html" }) Assert.True(File.Exists(Path.Combine(run, file)), file);
        Assert.Equal(results.ToJsonString(), JsonNode.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")))!["results"]!.ToJsonString());
        var best = (KNearestNeighborsModel)ModelFile.Load(Path.Combine(run, "model.safetensors"));
        Assert.Equal((int)doc["best"]!["params"]!["k"]!, best.Options.K);
        Assert.Equal(600, best.Train.Count); // fitted on the whole (limited) training split
    }

    [Fact]
    public void Help_NamesTheToolAsUsersTypeIt()
    {
        var root = Run("--help");
        Assert.Equal(0, root.Code);
        Assert.Contains("sharpvision [command] [options]", root.Out);
        var train = Run("train", "--help");
        Assert.Equal(0, train.Code);
        Assert.Contains("sharpvision train [options]", train.Out);
        Assert.DoesNotContain("SharpVision.Cli", root.Out + train.Out);
        Assert.Equal(0, Run("--version").Code);
    }

    [Fact]
    public void UnknownOption_IsAUsageError_WithNoOutput()
    {
        using var temp = new TempFolder();
        var (code, output, err) = Run("train", "--data", SampleDir, "--bogus", "--out", temp.Combine("run"));
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--bogus", err);
        Assert.Equal("", output);
        Assert.False(Directory.Exists(temp.Combine("run")));
    }

    [Fact]
    public void BadFlagValue_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "knn", "--metric", "l3");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--metric: invalid value 'l3'", err);
    }

    [Fact]
    public void MissingModelFile_FailsWithItsPath()
    {
        using var temp = new TempFolder();
        var missing = temp.Combine("nope.safetensors");
        var (code, output, err) = Run("evaluate", "--model", missing, "--data", SampleDir);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains(missing, err);
        Assert.Equal("", output);
    }

    [Fact]
    public void CorruptModelFile_FailsWithItsPath()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("bad.safetensors");
        File.WriteAllBytes(path, [0x80, 0x02, (byte)'}', (byte)'q']);
        var (code, output, err) = Run("predict", "--model", path, path);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains(path, err);
        Assert.Contains("pickle", err);
        Assert.Equal("", output);
    }

    [Fact]
    public void PredictWithOneCorruptImage_NamesIt_PredictsTheOthers_AndExitsOne()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--out", run, "--json").Code);
        var good = temp.Combine("good.png");
        PngEncoder.Save(TestImages.RandomGray(28, 28, 1), good);
        var bad = temp.Combine("bad.jpg");
        File.WriteAllBytes(bad, [0xFF, 0xD8, 0xFF, 0xDB, 0x00]);
        var (code, output, err) = Run("predict", "--model", Path.Combine(run, "model.safetensors"), good, bad);
        Assert.Equal(CliApp.RuntimeFailure, code); // predict --help: 1 when any image could not be read
        Assert.Contains($"error: {bad}: ", err);
        Assert.StartsWith($"{good}: ", output); // the readable image is still predicted
        Assert.DoesNotContain(bad, output);
    }

    [Fact]
    public void FailedTrain_LeavesAnEarlierGoodRunUntouched()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--out", run, "--json").Code);
        var before = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        var empty = Directory.CreateDirectory(temp.Combine("empty")).FullName;
        var (code, _, err) = Run("train", "--data", empty, "--model", "knn", "--k", "1", "--out", run);
        Assert.Equal(CliApp.RuntimeFailure, code);
        Assert.Contains("not found", err);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
    }

    [Fact]
    public void DatasetsInfo_OnTheSample_PrintsClassCounts()
    {
        var (code, output, err) = Run("datasets", "info", "fashion-mnist", "--data", SampleDir, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal(2000, (int)doc["train_count"]!);
        Assert.All(doc["classes"]!.AsArray(), c => Assert.Equal(50, (int)c!["test"]!));
    }
}
