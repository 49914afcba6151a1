using System.Text.Json.Nodes;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Nn;
using SharpVision.Tests.Onnx;
using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`sharpvision export` and `import`, and ONNX files in `predict` and `evaluate`, end to end on the shipped sample.</summary>
public class ExportCliTests
{
    [Fact]
    public void ExportOnnx_ThenEvaluateAndPredictWithIt_AgreesWithTheModelFile()
    {
        using var temp = new TempFolder();
        var modelPath = temp.Combine("model.safetensors");
        ExportTests.Model("cnn2").Save(modelPath);
        var onnxPath = temp.Combine("cnn2.onnx");
        var (code, output, err) = Run("export", "--model", modelPath, "--format", "onnx", "--out", onnxPath);
        Assert.True(code == 0, err);
        Assert.Contains("cnn2 as ONNX (opset 13)", output);

        double Accuracy(string path)
        {
            var (c, o, e) = Run("evaluate", "--model", path, "--data", SampleDir, "--threads", "2", "--json");
            Assert.True(c == 0, e);
            return (double)JsonNode.Parse(o)!["metrics"]!["test"]!["accuracy"]!;
        }
        Assert.Equal(Accuracy(modelPath), Accuracy(onnxPath));

        var image = temp.Combine("item.png");
        var test = SharpVision.Data.DatasetLoader.Load(new SharpVision.Data.DatasetLocator(SampleDir).Locate("fashion-mnist")).Test;
        PngEncoder.Save(new Image(28, 28, 1, test.Pixels[..784]), image);
        var fromModel = Run("predict", "--model", modelPath, image, "--top", "2");
        var fromOnnx = Run("predict", "--model", onnxPath, image, "--top", "2");
        Assert.True(fromOnnx.Code == 0, fromOnnx.Err);
        Assert.Equal(fromModel.Out, fromOnnx.Out);
    }

    [Fact]
    public void ExportPytorch_ThenImport_GivesTheSameModel()
    {
        using var temp = new TempFolder();
        var modelPath = temp.Combine("model.safetensors");
        var model = ExportTests.Model("resnet8");
        model.Save(modelPath);
        var stateDict = temp.Combine("resnet8.safetensors");
        var (code, _, err) = Run("export", "--model", modelPath, "--format", "pytorch", "--out", stateDict, "--json");
        Assert.True(code == 0, err);
        var back = temp.Combine("back.safetensors");
        (code, var output, err) = Run("import", "--state-dict", stateDict, "--out", back);
        Assert.True(code == 0, err);
        Assert.Contains("resnet8, 77,754 parameters, 10 classes", output);
        var original = (NetworkClassifier)ModelFile.Load(modelPath);
        var imported = (NetworkClassifier)ModelFile.Load(back);
        Assert.Equal(original.Network.NamedParameters().Select(p => p.Parameter.Data), imported.Network.NamedParameters().Select(p => p.Parameter.Data));
        Assert.Equal(original.Normalizer.Mean, imported.Normalizer.Mean);
    }

    [Fact]
    public void Export_BadRequests_AreUsageErrors()
    {
        using var temp = new TempFolder();
        var modelPath = temp.Combine("model.safetensors");
        ExportTests.Model("mlp").Save(modelPath);
        var (code, _, err) = Run("export", "--model", modelPath, "--format", "tflite", "--out", temp.Combine("x"));
        Assert.Equal(2, code);
        Assert.Contains("--format must be onnx or pytorch", err);
        var bogus = temp.Combine("bogus.onnx");
        File.WriteAllBytes(bogus, [0x08, 0x07, 0x3A, 0xFF, 0xFF, 0x01]);
        (code, _, err) = Run("predict", "--model", bogus, modelPath);
        Assert.Equal(1, code);
        Assert.Contains("bogus.onnx: not a valid ONNX model", err);
    }
}
