using SharpVision.Models;
using SharpVision.Nn;
using System.Diagnostics;
using System.Text.Json.Nodes;
using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Serialization;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>The gradient-trained models through the real command line, on the shipped sample.</summary>
public class NetworkCliTests
{
    [Theory]
    [InlineData("svm")]
    [InlineData("softmax")]
    [InlineData("mlp")]
    public void Train_WritesRunFolder_AndEvaluatePredictAgree(string model)
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", model, "--epochs", "3", "--threads", "2", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
        Assert.True(accuracy > 0.6, $"{model} on the sample: {accuracy}"); // 10 classes: chance is 0.1
        Assert.StartsWith("gemm-", (string)doc["backend"]!);
        Assert.DoesNotContain("conv", (string)doc["backend"]!); // no convolutions in these models
        Assert.Equal(3, doc["metrics"]!["epochs"]!.AsArray().Count);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Length);
        foreach (var file in new[] { "config.json", "metrics.json", "model.safetensors", Checkpoint.FileName }) Assert.True(File.Exists(Path.Combine(run, file)), file);
        Assert.Contains("epoch 3/3", err);

        var stored = ModelFile.Load(Path.Combine(run, "model.safetensors"));
        Assert.Equal(model, stored.Kind);
        var evaluated = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Equal(accuracy, (double)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["accuracy"]!, 6);

        // predict on a PNG of test image 0 gives the class the library predicts for that image
        var splits = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        var png = temp.Combine("x.png");
        PngEncoder.Save(new Image(28, 28, 1, splits.Test.Image(0).ToArray()), png);
        var predicted = Run("predict", "--model", Path.Combine(run, "model.safetensors"), png, "--json");
        Assert.True(predicted.Code == 0, predicted.Err);
        var expected = splits.Test.ClassNames[stored.Predict(splits.Test.Image(0)).Label(0)];
        Assert.Equal(expected, (string)JsonNode.Parse(predicted.Out)!["predictions"]![0]!["top"]![0]!["label"]!);
    }

    [Theory]
    [InlineData("cnn2")]
    [InlineData("resnet8")]
    public void Cnn_TrainsOnTheSample_AndEvaluateWithTtaAgrees(string model)
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", model, "--epochs", "3", "--batch-size", "32", "--lr", "0.02", "--train-limit", "600", "--threads", "2",
            "--crop-padding", "2", "--cutout", "4", "--tta", "flip", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal(model, (string)doc["model"]!["type"]!);
        Assert.Matches(@"^gemm-.+\+conv-(managed|onednn|onednn\+managed)$", (string)doc["backend"]!);
        Assert.True((bool)doc["training"]!["Flip"]!); // the CNN recipe flips by default
        double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
        Assert.True(accuracy > 0.5, $"{model}: {accuracy}"); // 10 classes: chance is 0.1
        var evaluated = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--tta", "flip", "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Equal(accuracy, (double)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["accuracy"]!, 6);
        var stored = (NetworkClassifier)ModelFile.Load(Path.Combine(run, "model.safetensors"));
        Assert.Contains(stored.Network.NamedBuffers(), b => b.Name.EndsWith("running_var", StringComparison.Ordinal) && b.Values.Any(v => v != 1f));
    }

    [Fact]
    public void Features_HogPlusColor_TrainEvaluatePredictAgree_AndBadSpecIsAUsageError()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Environment.SetEnvironmentVariable("SHARPVISION_CACHE", temp.Combine("cache"));
        try
        {
            var (code, output, err) = Run("train", "--data", SampleDir, "--model", "svm", "--features", "hog+color", "--epochs", "3", "--out", run, "--json");
            Assert.True(code == 0, err);
            var doc = JsonNode.Parse(output)!;
            Assert.StartsWith("hog:", (string)doc["model"]!["features"]!);
            double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
            Assert.True(accuracy > 0.6, $"{accuracy}");
            Assert.NotEmpty(Directory.GetFiles(temp.Combine("cache"), "*", SearchOption.AllDirectories)); // features were cached
            var evaluated = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--json");
            Assert.True(evaluated.Code == 0, evaluated.Err);
            Assert.Equal(accuracy, (double)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["accuracy"]!, 6);
            // evaluate --features checks the spec against the model's stored pipeline.
            Assert.Equal(0, Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--features", "hog:cell=4+color:bins=10").Code);
            var other = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--features", "hog");
            Assert.Equal(CliApp.UsageError, other.Code);
            Assert.Contains("disagrees with the model's features hog:orientations=9,cell=4,block=2,norm=L2-Hys,sqrt=false+color:bins=10,channels=h", other.Err);

            var bad = Run("train", "--data", SampleDir, "--model", "svm", "--features", "hog:cell=40", "--out", temp.Combine("bad"));
            Assert.Equal(CliApp.UsageError, bad.Code);
            Assert.Contains("do not fit", bad.Err);
            Assert.Equal(CliApp.UsageError, Run("train", "--data", SampleDir, "--model", "svm", "--features", "nope", "--out", temp.Combine("bad2")).Code);
        }
        finally
        {
            Environment.SetEnvironmentVariable("SHARPVISION_CACHE", null);
        }
    }

    [Fact]
    public void Train_WithoutModel_RunsTheDefaultCnnRecipe()
    {
        using var temp = new TempFolder();
        var (code, output, err) = Run("train", "--data", SampleDir, "--epochs", "1", "--train-limit", "300", "--out", temp.Combine("run"), "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal("cnn2", (string)doc["model"]!["type"]!);
        Assert.Equal("onecycle", (string)doc["training"]!["Schedule"]!);
    }

    [Fact]
    public void Logistic_OnTwoNamedClasses_TrainsAndEvaluatesOnThoseClassesOnly()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "logistic", "--classes", "Trouser,Bag", "--epochs", "3", "--out", run, "--json");
        Assert.True(code == 0, err);
        var test = JsonNode.Parse(output)!["metrics"]!["test"]!;
        Assert.Equal(["Trouser", "Bag"], test["class_names"]!.AsArray().Select(n => (string)n!));
        Assert.Equal(100, (int)test["count"]!); // the sample's test split has 50 of each class
        Assert.True((double)test["accuracy"]! > 0.9);
        var evaluated = Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", SampleDir, "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Equal(100, (int)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["count"]!);
    }

    [Fact]
    public void Logistic_WithoutTwoClasses_IsAUsageErrorThatSaysHow()
    {
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "logistic", "--epochs", "1");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--classes", err);
    }

    [Fact]
    public void Templates_OfALinearModel_IsAPngWithOneTilePerClass()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "softmax", "--epochs", "2", "--out", run).Code);
        var png = temp.Combine("templates.png");
        var (code, output, err) = Run("templates", "--model", Path.Combine(run, "model.safetensors"), "--out", png, "--zoom", "2", "--columns", "5", "--json");
        Assert.True(code == 0, err);
        var image = ImageDecoder.Load(png);
        // 5 columns × 2 rows of 56×56 tiles with 2-pixel gutters
        Assert.Equal((5 * 56 + 6 * 2, 2 * 56 + 3 * 2), (image.Width, image.Height));
        Assert.Equal(10, JsonNode.Parse(output)!["classes"]!.AsArray().Count);
        // Templates differ from class to class (they are learned, not blank).
        string Tile(int k) => Convert.ToHexString(Enumerable.Range(0, 56).SelectMany(y => image.Pixels.AsSpan((2 + (k / 5) * 58 + y) * image.Width + 2 + (k % 5) * 58, 56).ToArray()).ToArray());
        var tiles = Enumerable.Range(0, 10).Select(Tile).ToList();
        Assert.Equal(10, tiles.Distinct().Count());
        Assert.All(tiles, t => Assert.True(t.Distinct().Count() > 2)); // not flat

        var knnRun = temp.Combine("knn");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--out", knnRun).Code);
        var refused = Run("templates", "--model", Path.Combine(knnRun, "model.safetensors"), "--out", temp.Combine("t2.png"));
        Assert.Equal(CliApp.UsageError, refused.Code);
        Assert.Contains("linear classifier", refused.Err);
        Assert.False(File.Exists(temp.Combine("t2.png")));
    }

    [Fact]
    public void Train_IntoAFolderThatHoldsARun_IsRefusedAndLeavesItIntact()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "svm", "--epochs", "1", "--out", run).Code);
        var before = File.ReadAllBytes(Path.Combine(run, "model.safetensors"));
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "svm", "--epochs", "2", "--out", run);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--resume", err);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run, "model.safetensors")));
    }

    [Fact]
    public void Resume_WithOtherFlags_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--resume", "/nonexistent", "--epochs", "3");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("only --threads and --json", err);
    }

    // ---- real processes: Ctrl-C (SIGINT) and SIGKILL ----

    private static string[] MlpArgs(string run) =>
        ["train", "--data", SampleDir, "--model", "mlp", "--hidden", "64", "--dropout", "0.2", "--epochs", "6", "--threads", "2", "--checkpoint-every", "1", "--out", run];

    private static Process Start(params string[] args) => CliProcess.Start(args).Process; // output drained by CliProcess

    private static Dictionary<string, byte[]> Parameters(string modelPath) =>
        SafeTensorsFile.Read(modelPath).Tensors.Where(t => t.Name.StartsWith("param.", StringComparison.Ordinal)).ToDictionary(t => t.Name, t => t.Data);

    private static void WaitFor(Func<bool> condition, Process process, int timeoutMs = 60_000)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.ElapsedMilliseconds < timeoutMs, "timed out");
            if (process.HasExited) return;
            Thread.Sleep(5);
        }
    }

    [Fact]
    public void SigKill_DuringCheckpointWrites_ManyTimes_LastCheckpointAlwaysLoads_AndResumeMatchesUninterrupted()
    {
        using var temp = new TempFolder();
        var reference = temp.Combine("reference");
        var (code, _, err) = Run(MlpArgs(reference));
        Assert.True(code == 0, err);

        var run = temp.Combine("run");
        var checkpoint = Path.Combine(run, Checkpoint.FileName);
        var random = new Random(12345);
        int kills = 0;
        for (int attempt = 0; attempt < 40 && kills < 12; attempt++)
        {
            var process = Start(File.Exists(checkpoint) ? ["train", "--resume", run, "--threads", "2"] : MlpArgs(run));
            // Once training writes checkpoints (every step), kill it at a random moment: most of the time is spent
            // writing and flushing checkpoints, so many kills land mid-write.
            long before = File.Exists(checkpoint) ? new FileInfo(checkpoint).LastWriteTimeUtc.Ticks : 0;
            WaitFor(() => File.Exists(checkpoint) && new FileInfo(checkpoint).LastWriteTimeUtc.Ticks != before, process);
            Thread.Sleep(random.Next(0, 120));
            if (process.HasExited)
            {
                Assert.Equal(0, process.ExitCode);
                break;
            }
            process.Kill();
            process.WaitForExit();
            kills++;
            var loaded = Checkpoint.Load(checkpoint); // throws on a torn file
            Assert.True(loaded.Position.GlobalStep > 0);
        }
        Assert.True(kills >= 3, $"only {kills} kills landed");

        if (!File.Exists(Path.Combine(run, "model.safetensors")))
        {
            var finish = Run("train", "--resume", run, "--threads", "2");
            Assert.True(finish.Code == 0, finish.Err);
        }
        var expected = Parameters(Path.Combine(reference, "model.safetensors"));
        var actual = Parameters(Path.Combine(run, "model.safetensors"));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), $"{name} differs after {kills} kills and resumes");
        // Every step is in the per-step log exactly once, with the uninterrupted run's values.
        Assert.Equal(File.ReadAllText(Path.Combine(reference, StepLog.FileName)), File.ReadAllText(Path.Combine(run, StepLog.FileName)));
        // No stray temporary files are left where readers look for the checkpoint.
        Assert.DoesNotContain(Directory.GetFiles(run), f => Path.GetFileName(f).StartsWith("checkpoint", StringComparison.Ordinal) && f != checkpoint);
    }

    [Fact]
    public void CtrlC_WritesCheckpointAndExits130_ThenResumeFinishesTheSameModel()
    {
        using var temp = new TempFolder();
        var reference = temp.Combine("reference");
        Assert.Equal(0, Run(MlpArgs(reference)).Code);

        var run = temp.Combine("run");
        var process = Start(MlpArgs(run));
        WaitFor(() => File.Exists(Path.Combine(run, Checkpoint.FileName)), process);
        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.True(process.WaitForExit(60_000));
        if (process.ExitCode == 0) return; // finished before the signal arrived: nothing to resume (rare on a fast machine)
        Assert.Equal(CliApp.Interrupted, process.ExitCode);
        Assert.False(File.Exists(Path.Combine(run, "model.safetensors")));
        var resumed = Run("train", "--resume", run, "--threads", "2", "--json");
        Assert.True(resumed.Code == 0, resumed.Err);
        var expected = Parameters(Path.Combine(reference, "model.safetensors"));
        var actual = Parameters(Path.Combine(run, "model.safetensors"));
        foreach (var (name, bytes) in expected) Assert.True(bytes.AsSpan().SequenceEqual(actual[name]), name);
        Assert.Equal(File.ReadAllText(Path.Combine(reference, StepLog.FileName)), File.ReadAllText(Path.Combine(run, StepLog.FileName)));
    }
}
