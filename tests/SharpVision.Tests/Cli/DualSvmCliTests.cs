using SharpVision.Models;
using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Nn;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Optim;
using SharpVision.Serialization;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`sharpvision train --model svm --solver dual` on the shipped sample (2,000 train / 500 test images), feature cache off.</summary>
public class DualSvmCliTests
{
    [Fact]
    public void Train_DualWithCandidates_ChoosesOnValidationRefitsOnAllAndReports()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "svm", "--solver", "dual", "--features", "hog:cell=7", "--c", "0.001,0.1",
            "--tol", "1e-5", "--no-cache", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal("squared-hinge-ovr", (string)doc["model"]!["loss"]!);
        Assert.Equal("dual-coordinate-descent", (string)doc["training"]!["solver"]!);
        var solver = doc["solver"]!;
        var candidates = solver["candidates"]!.AsArray();
        Assert.Equal(2, candidates.Count);
        var best = candidates.OrderByDescending(k => (double)k!["val_accuracy"]!).ThenBy(k => (double)k!["c"]!).First()!;
        Assert.Equal((double)best["c"]!, (double)solver["c"]!);
        Assert.True((bool)solver["refit_on_validation"]!);
        Assert.Equal(2000, (int)solver["examples"]!);
        Assert.Contains("validation accuracy", err);

        // The stored weights are the optimum, with the chosen C, on the training and validation examples together,
        // standardized with statistics of the training part (the run's split: 10%, stratified, seed 0). The run reached it
        // warm-started; a cold solve must land on the same weights (the optimum is unique) up to the tolerance.
        var splits = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        var (held, kept) = Splits.StratifiedSplit(splits.Train.Labels, 0.1, 0);
        var spec = new NetworkSpec("svm", Features: FeaturePipeline.Parse("hog:cell=7"), Solver: "dual");
        var inputs = NetworkInputs.Prepare(spec, splits.Train.Subset(kept), splits.Train.Subset(held), seed: 0, threads: 2);
        var expected = DualCoordinateDescent.Fit([.. inputs.Train.Inputs, .. inputs.Validation!.Inputs], [.. inputs.Train.Labels, .. inputs.Validation.Labels],
            inputs.InputLength, 10, new DualCoordinateDescentOptions((double)solver["c"]!, 1e-5, 100_000, Seed: 7), threads: 2);
        var stored = (NetworkClassifier)ModelFile.Load(Path.Combine(run, "model.safetensors"));
        var linear = stored.Network.Layers.OfType<Linear>().Single();
        Assert.Equal(ClassifierLoss.SquaredHinge, stored.Loss);
        double scale = expected.Weights.Max(Math.Abs);
        for (int j = 0; j < expected.Weights.Length; j++)
            Assert.True(Math.Abs(expected.Weights[j] - linear.Weight.Data[j]) <= 1e-3 * scale, $"weight {j}: {linear.Weight.Data[j]}, cold solve {expected.Weights[j]}");
        for (int k = 0; k < 10; k++)
            Assert.True(Math.Abs(expected.Biases[k] - linear.Bias!.Data[k]) <= 1e-3 * Math.Max(scale, 1), $"bias {k}: {linear.Bias.Data[k]}, cold solve {expected.Biases[k]}");

        // evaluate reproduces the test accuracy from the saved model; the report shows the choice of C.
        double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
        Assert.True(accuracy > 0.75, $"HOG + dual SVM on the sample: {accuracy}");
        var evaluated = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--no-cache", "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Equal(accuracy, (double)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["accuracy"]!, 6);
        var report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains($"data-figure=\"{RunReport.Figures.SolverSearch}\"", report);
        Assert.Contains("← chosen", report);
    }

    [Fact]
    public void Train_DualOneC_NoValidation_FitsEveryTrainingImage()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "svm", "--solver", "dual", "--c", "0.01", "--validation-fraction", "0", "--out", run, "--json");
        Assert.True(code == 0, err);
        var solver = JsonNode.Parse(output)!["solver"]!;
        Assert.Empty(solver["candidates"]!.AsArray());
        Assert.False((bool)solver["refit_on_validation"]!);
        Assert.Equal(2000, (int)solver["examples"]!);
        Assert.Equal(0.01, (double)solver["c"]!);
        Assert.True(File.Exists(Path.Combine(run, "report.html")));
    }

    [Theory]
    [InlineData("--model mlp --solver dual", "--solver dual trains linear SVMs")]
    [InlineData("--model svm --solver newton", "--solver must be sgd or dual")]
    [InlineData("--model svm --c 0.1", "--c and --tol set the dual solver")]
    [InlineData("--model svm --solver dual --c 0,1", "--c: '0' is not a positive number")]
    [InlineData("--model svm --solver dual --c abc", "--c: 'abc' is not a positive number")]
    [InlineData("--model svm --solver dual --c 0.1,0.1", "The values of C must differ")]
    [InlineData("--model svm --solver dual --tol 0", "The tolerance must be positive")]
    [InlineData("--model svm --solver dual --c 0.1,1 --validation-fraction 0", "--c: several values of C are chosen among on a validation split")]
    [InlineData("--model svm --solver dual --epochs 5 --lr 0.1", "--epochs, --lr set gradient training, which --solver dual does not use")]
    [InlineData("--model svm --solver dual --optimizer adam", "--optimizer sets gradient training")]
    public void Train_BadDualSettings_ExitWithUsageErrorAndWriteNothing(string flags, string message)
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, _, err) = Run(["train", "--data", SampleDir, .. flags.Split(' '), "--out", run]);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.False(Directory.Exists(run));
    }
}
