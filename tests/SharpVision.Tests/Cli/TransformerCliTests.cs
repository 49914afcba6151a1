using System.Text.Json.Nodes;
using SharpVision.Models;
using SharpVision.Nn;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`train --model vit|cct` through the real command line, on the shipped sample, with small transformers.</summary>
public class TransformerCliTests
{
    [Theory]
    [InlineData("vit", new[] { "--patch", "7", "--width", "16", "--depth", "2", "--heads", "2" })]
    [InlineData("cct", new[] { "--width", "16", "--depth", "1", "--heads", "2", "--conv-layers", "2" })]
    public void Train_WritesATransformerRun_ThatLoadsAndEvaluates_WithItsCheckpoint(string model, string[] shape)
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run(["train", "--data", SampleDir, "--model", model, .. shape, "--epochs", "3", "--warmup", "0.5", "--lr", "3e-3", "--threads", "2", "--out", run, "--json"]);
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
        Assert.True(accuracy > 0.3, $"{model} on the sample after 3 epochs: {accuracy}"); // 10 classes: chance is 0.1
        Assert.Equal("adamw", (string)doc["training"]!["Optimizer"]!);
        Assert.Equal("weights", (string)doc["training"]!["WeightDecayScope"]!);

        var stored = (NetworkClassifier)ModelFile.Load(Path.Combine(run, "model.safetensors"));
        Assert.Equal(model, stored.Kind);
        Assert.Contains(stored.Network.Layers, l => l is TransformerEncoderBlock { Dim: 16 });
        var evaluated = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Equal(accuracy, (double)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["accuracy"]!, 6);

        var report = File.ReadAllText(Path.Combine(run, "report.html"));
        Assert.Contains("data-figure=\"attention-rollout\"", report);
        Assert.Contains("data-figure=\"position-similarity\"", report);

        // The last checkpoint (what --resume continues from) is at the end of the last epoch.
        var checkpoint = Checkpoint.Load(Path.Combine(run, Checkpoint.FileName));
        Assert.Equal(3, checkpoint.Position.Epoch);
    }

    [Fact]
    public void TransformerFlags_AreRefusedForOtherModels_AndCheckedForTransformers()
    {
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "cnn2", "--patch", "7");
        Assert.Equal(2, code);
        Assert.Contains("--patch shapes vit and cct, not --model cnn2", err);
        (code, _, err) = Run("train", "--data", SampleDir, "--model", "vit", "--heads", "5");
        Assert.Equal(2, code);
        Assert.Contains("--heads", err);
        Assert.Contains("must divide the width 64", err);
        (code, _, err) = Run("train", "--data", SampleDir, "--model", "vit", "--conv-layers", "3");
        Assert.Equal(2, code);
        Assert.Contains("--conv-layers shapes cct", err);
        (code, _, err) = Run("train", "--data", SampleDir, "--model", "vit", "--patch", "40");
        Assert.Equal(2, code);
        Assert.Contains("smaller than one 40×40 patch", err);
        (code, _, err) = Run("train", "--data", SampleDir, "--model", "mlp", "--weight-decay-on", "weights");
        Assert.Equal(2, code);
        Assert.Contains("--weight-decay-on", err);
    }
}
