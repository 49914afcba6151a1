using System.Text.Json.Nodes;
using SharpVision.Classic.Svm;
using SharpVision.Classic.Trees;
using SharpVision.Models;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`train` and `cv` with --model tree, forest, boost and kernel-svm on the shipped sample.</summary>
public class ClassicCliTests
{
    [Fact]
    public void TrainForest_WritesTheRunFolder_ModelAndReportWithImportanceAndTree()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("forest");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "forest", "--trees", "12", "--max-features", "sqrt",
            "--train-limit", "600", "--threads", "2", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal("forest", (string)doc["model"]!["type"]!);
        Assert.Equal(12, (int)doc["model"]!["trees"]!);
        Assert.InRange((double)doc["oob_accuracy"]!, 0.5, 1);
        Assert.InRange((double)doc["metrics"]!["test"]!["accuracy"]!, 0.6, 1);
        var model = Assert.IsType<ForestModel>(ModelFile.Load(Path.Combine(run, "model.safetensors")));
        Assert.Equal(12, model.Forest.Trees.Count);
        var report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("data-figure=\"feature-importance\"", report);
        Assert.Contains("data-figure=\"tree-diagram\"", report);
        Assert.Contains("random forest of 12 trees", report);
    }

    [Fact]
    public void TrainBoost_WithEarlyStopping_RecordsTheRoundsAndDrawsTheBoostingCurve()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("boost");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "boost", "--rounds", "12", "--leaves", "7", "--lr", "0.3",
            "--validation-fraction", "0.2", "--early-stopping-rounds", "3", "--train-limit", "500", "--threads", "2", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        var rounds = doc["boosting"]!["rounds"]!.AsArray();
        Assert.Equal((int)doc["boosting"]!["rounds_run"]!, rounds.Count);
        Assert.All(rounds, r => Assert.NotNull(r!["val_loss"]));
        Assert.Equal(100, (int)doc["validation_count"]!);
        Assert.Equal(0.3, (double)doc["model"]!["learning_rate"]!);
        var report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("data-figure=\"boosting-curve\"", report);
        // `report` rebuilds the same page from the run folder alone.
        File.Delete(Path.Combine(run, "report.html"));
        var again = Run("report", run);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("data-figure=\"boosting-curve\"", File.ReadAllText(Path.Combine(run, "report.html")));
    }

    [Fact]
    public void TrainKernelSvm_ReportShowsTheSupportVectors_AndTheModelReloads()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("svm");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "kernel-svm", "--kernel", "rbf", "--c", "10", "--gamma", "scale",
            "--train-limit", "400", "--threads", "2", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.InRange((double)doc["metrics"]!["test"]!["accuracy"]!, 0.6, 1);
        int supportVectors = (int)doc["svm"]!["support_vectors"]!;
        var model = Assert.IsType<KernelSvmModel>(ModelFile.Load(Path.Combine(run, "model.safetensors")));
        Assert.Equal(supportVectors, model.Svm.SupportVectorCount);
        Assert.Contains("data-figure=\"support-vectors\"", File.ReadAllText(Path.Combine(run, "report.html")));
    }

    [Fact]
    public void TrainNystroemSvm_OnHog_SavesAnApproximateModelThatReloadsWithTheSamePredictions()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("nystroem");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "kernel-svm", "--approx", "nystroem", "--components", "300",
            "--features", "hog", "--c", "1", "--train-limit", "600", "--threads", "2", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
        Assert.InRange(accuracy, 0.6, 1);
        Assert.Equal(300, (int)doc["svm"]!["components"]!);
        var model = Assert.IsType<NystroemSvmModel>(ModelFile.Load(Path.Combine(run, "model.safetensors")));
        Assert.Equal("hog", model.Input.Features!.Pipeline.Extractors[0].Name);
        Assert.Equal(300, model.Map.Components);
    }

    [Fact]
    public void CvTree_ComparesTheGridOfDepths()
    {
        using var temp = new TempFolder();
        var (code, output, err) = Run("cv", "--data", SampleDir, "--model", "tree", "--max-depth", "2,6", "--folds", "2", "--train-limit", "400",
            "--threads", "2", "--out", temp.Combine("cv"), "--json");
        Assert.True(code == 0, err);
        var results = JsonNode.Parse(output)!["results"]!.AsArray();
        Assert.Equal(2, results.Count);
        Assert.Equal(new long[] { 2, 6 }, results.Select(r => (long)r!["params"]!["max-depth"]!).Order());
    }

    [Theory]
    [InlineData("--model boost --trees 10", "--trees does not apply to --model boost")]
    [InlineData("--model forest --max-features 1.5", "--max-features: invalid value '1.5'")]
    [InlineData("--model kernel-svm --gamma -1", "--gamma: invalid value '-1'")]
    [InlineData("--model kernel-svm --c 0", "--c: '0' is not a positive number")]
    [InlineData("--model knn --rounds 10", "--rounds does not apply to --model knn")]
    [InlineData("--model kernel-svm --approx fourier", "--approx: invalid value 'fourier'")]
    [InlineData("--model kernel-svm --approx nystroem --cache-mb 10", "--cache-mb and --probability apply to the exact kernel SVM")]
    [InlineData("--model forest --components 10", "--components does not apply to --model forest")]
    [InlineData("--model boost --early-stopping-rounds 5", "--early-stopping-rounds: Early stopping needs validation images")]
    public void Train_BadClassicFlags_AreUsageErrorsNamingTheFlag(string flags, string expected)
    {
        using var temp = new TempFolder();
        var args = new List<string> { "train", "--data", SampleDir, "--train-limit", "200", "--out", temp.Combine("run") };
        args.AddRange(flags.Split(' '));
        var (code, _, err) = Run(args.ToArray());
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
    }
}
