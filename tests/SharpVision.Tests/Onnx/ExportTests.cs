using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SharpVision.Data;
using SharpVision.Nn;
using SharpVision.Onnx;
using SharpVision.Serialization;
using SharpVision.Models;
using SharpVision.Tensors;
using SharpVision.Tests.Support;
using Xunit.Abstractions;

namespace SharpVision.Tests.Onnx;

/// <summary>A [Fact] skipped, with the reason, without Debian's python3-torch and python3-onnx; under CI=true it runs (and fails).</summary>
public sealed class PythonFactAttribute : FactAttribute
{
    public PythonFactAttribute()
    {
        if (Python.Missing() is { } missing && Environment.GetEnvironmentVariable("CI") != "true") Skip = missing;
    }
}

/// <summary>Runs Debian's /usr/bin/python3 (torch, onnx) for the interchange tests.</summary>
internal static class Python
{
    public static string? Missing() => Run("-c", "import torch, onnx") is (0, _) ? null : "skipped: /usr/bin/python3 with torch and onnx is missing (install python3-torch, python3-onnx)";

    public static (int Code, string Output) Run(params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) info.ArgumentList.Add(a);
            info.Environment["OMP_NUM_THREADS"] = "1";
            using var process = Process.Start(info)!;
            var stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}

/// <summary>
/// `export --format onnx|pytorch` round trips for every network kind on 100 test images of the shipped sample:
/// onnx.checker accepts the file, ONNX Runtime and the engine running the ONNX file give our top-1 on every image and
/// probabilities within 1e-4; PyTorch reproduces our logits from the state_dict, and a state_dict trained a step
/// further in PyTorch comes back as a SharpVision model giving PyTorch's logits.
/// </summary>
public class ExportTests(ITestOutputHelper output)
{
    private static readonly Lazy<ImageDataset> Test = new(() =>
    {
        var splits = DatasetLoader.Load(new DatasetLocator(CliRunner.SampleDir).Locate("fashion-mnist"));
        return splits.Test.Subset(Enumerable.Range(0, 100).ToArray());
    });

    // A network of the kind with seeded weights and batch-norm statistics that are not the identity (so folding and
    // the exported BatchNormalization nodes matter), and normalization fitted on the test images.
    internal static NetworkClassifier Model(string kind, int seed = 5)
    {
        var test = Test.Value;
        var (network, loss, mode) = kind switch
        {
            "softmax" => (Networks.LinearClassifier(784, 10), ClassifierLoss.Softmax, NormalizationMode.None),
            "logistic" => (Networks.LinearClassifier(784, 1), ClassifierLoss.Logistic, NormalizationMode.MeanImage),
            "mlp" => (Networks.Mlp(784, [64, 32], 10, ActivationKind.Relu, dropout: 0.2f), ClassifierLoss.Softmax, NormalizationMode.PerPixel),
            _ => (Networks.ByName(kind, 1, 28, 28, 10), ClassifierLoss.Softmax, NormalizationMode.PerChannel),
        };
        var rng = new Rng(seed);
        network.ResetParameters(rng);
        foreach (var (name, values) in network.NamedBuffers())
            for (int i = 0; i < values.Length; i++) values[i] = name.EndsWith("running_var") ? 0.5f + rng.NextFloat() : 0.2f * (rng.NextFloat() - 0.5f);
        foreach (var (name, p) in network.NamedParameters().Where(p => p.Parameter.Shape.Rank == 1 && !p.Name.EndsWith("bias")))
            for (int i = 0; i < p.Size; i++) p.Data[i] = 0.5f + rng.NextFloat(); // batch-norm γ
        var classes = kind == "logistic" ? test.ClassNames.Take(2).ToArray() : test.ClassNames.ToArray();
        return new NetworkClassifier(kind, network, loss, Normalizer.Fit(test, mode), new ImagePreparation(1, 28, 28), classes);
    }

    [Theory]
    [InlineData("softmax")]
    [InlineData("logistic")]
    [InlineData("mlp")]
    [InlineData("cnn2")]
    [InlineData("resnet8")]
    [InlineData("resnet20")]
    public void ExportOnnx_EveryNetworkKind_OnnxRuntimeAndEngineMatchOurPredictions(string kind)
    {
        var model = Model(kind);
        using var temp = new TempFolder();
        var path = temp.Combine($"{kind}.onnx");
        OnnxFormat.Save(path, OnnxExporter.Export(model));
        var pixels = Test.Value.Pixels;
        var ours = model.Predict(pixels);

        using var session = new InferenceSession(path);
        var input = new DenseTensor<float>(pixels.Select(b => (float)b).ToArray(), [100, 1, 28, 28]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, input)]);
        var ort = results.First().AsEnumerable<float>().ToArray();
        var onnxOnEngine = OnnxClassifier.Load(path);
        Assert.Equal(model.ClassNames, onnxOnEngine.ClassNames);
        Assert.Equal(model.Preparation, onnxOnEngine.Preparation);
        var engine = onnxOnEngine.Predict(pixels);
        double worstOrt = 0, worstEngine = 0;
        for (int i = 0; i < 100; i++)
        {
            int classes = model.ClassNames.Count;
            var theirs = ort.AsSpan(i * classes, classes);
            Assert.Equal(ours.Label(i), ArgMax(theirs));
            Assert.Equal(ours.Label(i), engine.Label(i));
            for (int c = 0; c < classes; c++)
            {
                worstOrt = Math.Max(worstOrt, Math.Abs(theirs[c] - ours.ProbabilitiesOf(i)[c]));
                worstEngine = Math.Max(worstEngine, Math.Abs(engine.ProbabilitiesOf(i)[c] - ours.ProbabilitiesOf(i)[c]));
            }
        }
        output.WriteLine($"{kind}: max |p_ORT − p_ours| = {worstOrt:E2}, max |p_engine(onnx) − p_ours| = {worstEngine:E2} on 100 test images");
        Assert.True(worstOrt <= 1e-4, $"ORT probabilities differ by {worstOrt:E2}");
        Assert.True(worstEngine <= 1e-4, $"engine-on-ONNX probabilities differ by {worstEngine:E2}");
    }

    [Fact]
    public void OnnxClassifier_SavedAsModelFile_LoadsThroughModelFileWithTheSamePredictions()
    {
        using var temp = new TempFolder();
        var onnxPath = temp.Combine("mlp.onnx");
        OnnxFormat.Save(onnxPath, OnnxExporter.Export(Model("mlp")));
        var classifier = (OnnxClassifier)ModelFile.Load(onnxPath);
        Assert.Equal("onnx", classifier.Kind);
        Assert.Equal("mlp", (string?)classifier.Describe()["exported_from"]);
        var modelPath = temp.Combine("model.safetensors");
        classifier.Save(modelPath, new Dictionary<string, string> { ["dataset"] = "sample" });
        var loaded = ModelFile.Load(modelPath, out var metadata);
        Assert.Equal("sample", metadata["dataset"]);
        Assert.Equal(classifier.Predict(Test.Value.Pixels).Probabilities, loaded.Predict(Test.Value.Pixels).Probabilities);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    [PythonFact]
    public void ExportOnnx_Resnet8_PassesOnnxChecker()
    {
        using var temp = new TempFolder();
        var path = temp.Combine("resnet8.onnx");
        OnnxFormat.Save(path, OnnxExporter.Export(Model("resnet8")));
        var (code, text) = Python.Run("-c", "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print(m.ir_version, m.opset_import[0].version)", path);
        Assert.True(code == 0, text);
        Assert.Equal($"{OnnxExporter.IrVersion} {OnnxExporter.OperatorSet}", text.Trim());
    }

    [PythonFact]
    public void ExportPytorch_Cnn2AndResnet8_PyTorchReproducesOurLogits_AndAStepThereComesBack()
    {
        using var temp = new TempFolder();
        var test = Test.Value;
        var images = temp.Combine("images.safetensors");
        SafeTensorsFile.Write(images, new Dictionary<string, string>(),
            [new TensorEntry("images", TensorDType.U8, [100, 1, 28, 28], test.Pixels), TensorEntry.FromInt32("labels", test.Labels, 100)]);
        var script = Path.Combine(AppContext.BaseDirectory, "peers", "torch_state_dict.py");
        foreach (var kind in new[] { "cnn2", "resnet8" })
        {
            var model = Model(kind);
            var stateDict = temp.Combine($"{kind}.safetensors");
            TorchStateDict.Save(stateDict, model);
            // PyTorch's logits; then one SGD step in PyTorch, saved back, which `import` reads to give PyTorch's new logits.
            var prefix = temp.Combine(kind);
            var (code, text) = Python.Run(script, "roundtrip", stateDict, images, prefix, "0.5");
            Assert.True(code == 0, text);
            AssertLogits(SafeTensorsFile.Read(prefix + ".logits.safetensors").Find("logits")!.ToSingle(), Scores(model), $"{kind}: PyTorch vs ours");
            var imported = TorchStateDict.Load(prefix + ".stepped.safetensors");
            var expected = SafeTensorsFile.Read(prefix + ".stepped_logits.safetensors").Find("logits")!.ToSingle();
            Assert.NotEqual(Scores(model), Scores(imported));
            AssertLogits(expected, Scores(imported), $"{kind}: imported after a PyTorch step vs PyTorch");
        }
    }

    private static float[] Scores(NetworkClassifier model)
    {
        var inputs = new float[100 * 784];
        model.Normalizer.Apply(Test.Value.Pixels, inputs);
        return model.Scores(inputs, 100);
    }

    private void AssertLogits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0, scale = 1;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        output.WriteLine($"{what}: max |Δ logit| = {worst:E2} (largest |logit| {scale:F2})");
        Assert.True(worst <= 1e-4 * scale, $"{what}: logits differ by {worst:E2}");
    }
}
