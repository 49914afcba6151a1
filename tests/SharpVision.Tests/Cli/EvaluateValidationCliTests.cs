using System.Text.Json.Nodes;
using SharpVision.Cli;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`datasets list` and `evaluate --split validation` as a new user meets them.</summary>
public class EvaluateValidationCliTests
{
    [Fact]
    public void DatasetsList_ShowsTheShippedSample_WhetherOrNotTheFullSetIsInstalled()
    {
        var (code, output, err) = Run("datasets", "list", "--json");
        Assert.True(code == 0, err);
        var sample = JsonNode.Parse(output)!["shipped_samples"]!.AsArray().Single()!;
        Assert.Equal("fashion-mnist", (string)sample["name"]!);
        Assert.Equal(Path.GetFullPath(SampleDir), (string)sample["path"]!);
        Assert.Equal((2000, 500), ((int)sample["train_count"]!, (int)sample["test_count"]!));
        var fashion = JsonNode.Parse(output)!["datasets"]!.AsArray().Single(d => (string)d!["name"]! == "fashion-mnist")!;
        Assert.Equal((bool)fashion["is_sample"]!, (bool)sample["used_by_default"]!);

        var text = Run("datasets", "list").Out;
        Assert.Contains($"shipped sample: {Path.GetFullPath(SampleDir)} (2,000 train / 500 test images", text, StringComparison.Ordinal);
    }

    [Fact]
    public void EvaluateValidation_RebuildsTheRunsHeldOutSplit_AndScoresItAsTrainingDid()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("softmax");
        var train = Run("train", "--data", SampleDir, "--model", "softmax", "--epochs", "2", "--train-limit", "600", "--seed", "3",
            "--threads", "2", "--out", run);
        Assert.True(train.Code == 0, train.Err);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, "config.json")))!;
        var lastEpoch = JsonNode.Parse(File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Last(l => l.Length > 0))!;

        var (code, output, err) = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--split", "validation",
            "--threads", "2", "--json");
        Assert.True(code == 0, err);
        var metrics = JsonNode.Parse(output)!["metrics"]!["validation"]!;
        Assert.Equal((int)config["validation_count"]!, (int)metrics["count"]!); // 60: 10 % of the 600-image limit
        Assert.Equal(60, (int)metrics["count"]!);
        Assert.Equal((double)lastEpoch["val_accuracy"]!, (double)metrics["accuracy"]!, 6); // what training measured after its last epoch
        Assert.Contains("validation split: 60 images held out by the run", err, StringComparison.Ordinal);
    }

    [Fact]
    public void EvaluateValidation_ModelWithoutAValidationSplit_SaysWhyAndWhatToDoInstead()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("knn");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--train-limit", "300", "--threads", "2", "--out", run).Code);
        var (code, _, err) = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--split", "validation");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("knn model fits no validation split", err, StringComparison.Ordinal);
        Assert.Contains("--split test", err, StringComparison.Ordinal);

        // A model file away from its run folder: nothing records the split.
        var alone = temp.Combine("alone.safetensors");
        File.Copy(Path.Combine(run, "model.safetensors"), alone);
        var moved = Run("evaluate", "--model", alone, "--data", SampleDir, "--split", "validation");
        Assert.Equal(CliApp.UsageError, moved.Code);
        Assert.Contains("config.json", moved.Err, StringComparison.Ordinal);
    }
}
