using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Models;
using SharpVision.Nn;
using SharpVision.Onnx;
using SharpVision.Runs;
using SharpVision.Serialization;
using SharpVision.Tensors;
using SharpVision.Tests.Support;
using SharpVision.Training;
using Xunit.Abstractions;
using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Onnx;

/// <summary>Fine-tuning the pretrained ResNet-18 (--finetune, --finetune last): one step against PyTorch, freezing, flags, a whole run.</summary>
public class TransferFineTuneTests(ITestOutputHelper output)
{
    private static readonly Lazy<SafeTensorsFile> Step =
        new(() => SafeTensorsFile.Read(Path.Combine(AppContext.BaseDirectory, "Fixtures", "finetune", "finetune_step.safetensors")));

    [Fact]
    public void Network_EvaluationMode_EqualsTheFeatureExtractorOnTheSameCrop()
    {
        // 256×256 images: the resize is the identity, so the extractor's byte crop and the input layer's float crop agree exactly.
        var images = Pattern(2, 3, 256, 256);
        var network = ResNet18Network.CreatePretrained(3, 256, 256, classes: 4, seed: 1);
        var model = new NetworkClassifier("resnet18", network, ClassifierLoss.Softmax,
            new Normalizer(NormalizationMode.None, 3, 3 * 256 * 256, [], []), new ImagePreparation(3, 256, 256), ["a", "b", "c", "d"]);
        var ours = model.PenultimateActivations(images, out int length, threads: 2);
        Assert.Equal(512, length);
        var extractor = (ResNet18Extractor)FeaturePipeline.Parse("resnet18").Extractors.Single();
        var expected = new float[2 * 512];
        extractor.ExtractBatch(images, 2, 3, 256, 256, expected);
        var (absolute, relative) = ResNet18Tests.Difference(expected, ours);
        output.WriteLine($"max |Δ| = {absolute:E2}, relative {relative:E2}");
        Assert.True(relative <= 1e-4, $"relative difference {relative:E2}");
    }

    [Fact]
    public void OneStep_AllLayersWithBackboneAndHeadRates_EqualsPyTorch()
    {
        var fixture = Step.Value;
        float[] Get(string name) => (fixture.Find(name) ?? throw new InvalidOperationException($"fixture lacks {name}")).ToSingle();
        var network = ResNet18Network.CreatePretrained(3, 224, 224, classes: 3, seed: 0);
        ResNet18Network.Freeze(network, FineTuneScope.All, updateStatistics: false);
        var head = (Linear)network.Layers[^1];
        Get("head.weight").CopyTo(head.Weight.Data, 0);
        Get("head.bias").CopyTo(head.Bias!.Data, 0);
        // The fixture's input is the backbone's preprocessed batch: train the layers after the input layer (names shift by one).
        var inputs = new float[2 * 3 * 224 * 224];
        for (int n = 0, i = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 224; y++)
                    for (int x = 0; x < 224; x++) inputs[i++] = (n * 131 + c * 71 + y * 37 + x * 17) % 255 - 127.5f;
        var model = new NetworkClassifier("resnet18", new Sequential(network.Layers.Skip(1).ToArray()), ClassifierLoss.Softmax,
            new Normalizer(NormalizationMode.None, 3, 3 * 224 * 224, [], []), new ImagePreparation(3, 224, 224), ["a", "b", "c"]);

        float[] logits;
        using (SharpVision.Tensors.Autograd.GradMode.NoGrad())
        {
            model.Network.Train(new Rng(0));
            logits = model.Network.Forward(new Tensor(new Shape(2, 3, 224, 224), (float[])inputs.Clone())).Data[..6];
        }
        AssertClose("logits", Get("logits"), logits, 1e-4);

        var recipe = Recipes.Default(Recipes.FineTuneRecipe) with { Epochs = 1, BatchSize = 2, Schedule = "constant", ValidationFraction = 0 };
        using var threads = Engine.UseThreads(2);
        var result = new Trainer(recipe).Fit(model, new ExampleSet(inputs, [0, 2], 3 * 224 * 224, [3, 224, 224]), null, null);
        Assert.Equal(Get("loss")[0], result.Epochs[0].TrainLoss, 4);
        var parameters = model.Network.NamedParameters()
            .ToDictionary(p => (int.Parse(p.Name.Split('.')[0]) + 1) + p.Name[p.Name.IndexOf('.')..], p => p.Parameter);
        foreach (var name in new[] { "1.weight", "2.weight", "5.c1.weight", "7.sc.0.weight", "13.c2.weight", "13.b2.bias", "15.weight", "15.bias" })
        {
            var p = parameters[name];
            var expectedGrad = Get("grad." + name);
            AssertClose("grad " + name, expectedGrad, p.Grad!.AsSpan(0, expectedGrad.Length).ToArray(), 2e-3);
            var after = Get("after." + name);
            AssertClose("after " + name, after, p.Data.AsSpan(0, after.Length).ToArray(), 1e-5);
        }
    }

    [Fact]
    public void FineTuneLast_OneEpoch_FrozenLayersAndStatisticsUnchanged_LastStageAndHeadLearn()
    {
        var train = TwoClasses(DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist")).Train, 3);
        var before = ResNet18Network.CreatePretrained(1, 28, 28, 2, seed: 0);
        var recipe = Recipes.Default(Recipes.FineTuneRecipe) with { Epochs = 1, BatchSize = 6, ValidationFraction = 0, LearningRate = 0.05 };
        var trainer = TransferLearning.FineTuner(FineTuneScope.LastStage, recipe: recipe);
        var model = (NetworkClassifier)trainer.Fit(train, context: new FitContext { Threads = 2 });
        var original = before.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Data);
        int frozen = 0, learned = 0;
        foreach (var (name, p) in model.Network.NamedParameters())
        {
            int layer = int.Parse(name.Split('.')[0]);
            bool changed = !p.Data.AsSpan().SequenceEqual(original[name]);
            if (layer < ResNet18Network.LastStageStart) Assert.False(changed, $"{name} is frozen under --finetune last but changed");
            if (layer < ResNet18Network.LastStageStart) frozen++;
            else if (changed) learned++;
        }
        Assert.True(frozen > 40 && learned > 20, $"{frozen} frozen tensors, {learned} learned");
        var buffers = before.NamedBuffers().ToDictionary(b => b.Name, b => b.Values);
        foreach (var (name, values) in model.Network.NamedBuffers()) // statistics frozen by default, in the trained stage too
            Assert.True(values.AsSpan().SequenceEqual(buffers[name]), $"buffer {name} changed");
    }

    [Fact]
    public void FineTune_CancelledAfterOneStepThenResumed_EqualsAnUninterruptedRun()
    {
        var train = TwoClasses(DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist")).Train, 3);
        var recipe = Recipes.Default(Recipes.FineTuneRecipe) with { Epochs = 1, BatchSize = 3, ValidationFraction = 0 };
        NetworkClassifier Fit(FitContext context) =>
            (NetworkClassifier)TransferLearning.FineTuner(FineTuneScope.LastStage, recipe: recipe).Fit(train, context: context);
        var uninterrupted = Fit(new FitContext { Threads = 2 });

        using var temp = new TempFolder();
        using var stop = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => Fit(new FitContext
        {
            Threads = 2, RunDirectory = temp.Path, Cancellation = stop.Token,
            Events = e => { if (e is FitProgress { Done: 1 }) stop.Cancel(); }, // Ctrl-C after the first of two steps
        }));
        Assert.True(File.Exists(Path.Combine(temp.Path, Checkpoint.FileName)));
        var steps = new List<long>();
        var resumed = Fit(new FitContext
        {
            Threads = 2, RunDirectory = temp.Path, Resume = true, Events = e => { if (e is FitProgress p) steps.Add(p.Done); },
        });
        Assert.Equal([2L], steps); // it continued from the checkpoint: only the second step ran
        var expected = uninterrupted.Network.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Data);
        foreach (var (name, p) in resumed.Network.NamedParameters()) // same crops, same batches: the same bits
            Assert.True(p.Data.AsSpan().SequenceEqual(expected[name]), $"{name} differs after resuming");
    }

    [Fact]
    public void Cli_FineTuneFlags_BadCombinationsAreUsageErrors()
    {
        (string[] Args, string Message)[] cases =
        [
            (["--model", "resnet18", "--finetune"], "--pretrained"),
            (["--model", "resnet18", "--pretrained", "--finetune", "middle"], "--finetune takes all or last"),
            (["--model", "resnet18", "--pretrained", "--finetune", "--head", "svm"], "--head"),
            (["--model", "resnet18", "--pretrained", "--finetune", "--features", "hog"], "--features"),
            (["--model", "resnet18", "--pretrained", "--finetune", "--flip"], "--flip"),
            (["--model", "resnet18", "--pretrained", "--finetune", "--backbone-lr-factor", "2"], "--backbone-lr-factor must be in (0, 1]"),
            (["--model", "resnet18", "--pretrained", "--update-batch-norm"], "--update-batch-norm is for"),
            (["--model", "cnn2", "--finetune"], "--finetune is for"),
            (["--model", "softmax", "--backbone-lr-factor", "0.1"], "--backbone-lr-factor is for"),
        ];
        foreach (var (args, message) in cases)
        {
            var result = Run(["train", "--data", SampleDir, .. args]);
            Assert.True(result.Code == CliApp.UsageError, $"{string.Join(' ', args)}: exit {result.Code}, {result.Err}");
            Assert.Contains(message, result.Err);
        }
    }

    [Fact]
    public void Cli_FineTuneLast_TinyRun_WritesAModelThatPredictsAndEvaluates()
    {
        using var temp = new TempFolder();
        // A Fashion-MNIST folder of 12 training and 6 test images of Trouser and Bag: each forward pass is ~1.8 GFLOP.
        var sample = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        var data = temp.Combine("fashion-mnist");
        Directory.CreateDirectory(data);
        WriteIdx(data, "train", sample.Train, 6);
        WriteIdx(data, "t10k", sample.Test, 3);
        var run = temp.Combine("run");
        var trained = Run("train", "--data", data, "--model", "resnet18", "--pretrained", "--finetune", "last", "--epochs", "1",
            "--validation-fraction", "0", "--threads", "2", "--out", run, "--json");
        Assert.True(trained.Code == 0, trained.Err);
        Assert.Contains(" parameters trained) on 12 images", trained.Err); // "training resnet18 (13,xxx,xxx of 15,xxx,xxx ...)"
        var path = Path.Combine(run, "model.safetensors");
        var model = Assert.IsType<NetworkClassifier>(ModelFile.Load(path));
        Assert.Equal("resnet18", model.Kind);
        Assert.IsType<ImageNetInput>(model.Network.Layers[0]);
        Assert.True(File.Exists(Path.Combine(run, "checkpoint.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "report.html")), trained.Err); // no CNN filter section: the stem reads crops
        Assert.Contains("\"accuracy\"", trained.Out);
        var evaluated = Run("evaluate", "--data", data, "--model", path, "--threads", "2", "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Contains("\"accuracy\"", evaluated.Out);
    }

    // The first n images of Trouser (1) and Bag (8) of a split, as gzip'd IDX files named PREFIX-images/labels.
    private static void WriteIdx(string folder, string prefix, ImageDataset data, int n)
    {
        var rows = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == 1).Take(n)
            .Concat(Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == 8).Take(n)).ToArray();
        var images = new byte[16 + rows.Length * 784];
        var labels = new byte[8 + rows.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(images, 0x803);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(4), rows.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(8), 28);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(images.AsSpan(12), 28);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(labels, 0x801);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            data.Pixels.AsSpan(rows[i] * 784, 784).CopyTo(images.AsSpan(16 + i * 784));
            labels[8 + i] = (byte)data.Labels[rows[i]];
        }
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz"), GeneratedDatasets.Gzip(images));
        File.WriteAllBytes(Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz"), GeneratedDatasets.Gzip(labels));
    }

    [Fact]
    public void ExportOnnx_FineTunedResNet18_OnnxRuntimeEqualsOurs()
    {
        const int channels = 3, height = 40, width = 56; // RGB (the Split/Concat path), not square (the resize keeps the aspect)
        var network = ResNet18Network.CreatePretrained(channels, height, width, classes: 5, seed: 3);
        var rng = new Rng(4); // weights unlike the package's, as after fine-tuning
        foreach (var (name, p) in network.NamedParameters())
            if (name.Contains(".b2.", StringComparison.Ordinal) || name.StartsWith("15.", StringComparison.Ordinal))
                for (int i = 0; i < p.Size; i++) p.Data[i] *= 0.5f + rng.NextFloat();
        var model = new NetworkClassifier("resnet18", network, ClassifierLoss.Softmax,
            new Normalizer(NormalizationMode.None, channels, channels * height * width, [], []),
            new ImagePreparation(channels, height, width), ["a", "b", "c", "d", "e"]);
        const int count = 6;
        var pixels = Pattern(count, channels, height, width);
        var ours = model.Predict(pixels, threads: 2);
        using var temp = new TempFolder();
        var path = temp.Combine("resnet18.onnx");
        OnnxFormat.Save(path, OnnxExporter.Export(model));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        var input = new Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<float>(pixels.Select(b => (float)b).ToArray(), [count, channels, height, width]);
        using var results = session.Run([Microsoft.ML.OnnxRuntime.NamedOnnxValue.CreateFromTensor(OnnxExporter.InputName, input)]);
        var ort = results[0].AsEnumerable<float>().ToArray();
        double worst = 0;
        for (int i = 0; i < count; i++)
        {
            var theirs = ort.AsSpan(i * 5, 5);
            Assert.Equal(ours.Label(i), theirs.IndexOf(TensorMax(theirs)));
            for (int c = 0; c < 5; c++) worst = Math.Max(worst, Math.Abs(theirs[c] - ours.ProbabilitiesOf(i)[c]));
        }
        output.WriteLine($"{channels}×{height}×{width}: max |p_ORT − p_ours| = {worst:E2}");
        Assert.True(worst <= 1e-4, $"ORT probabilities differ by {worst:E2}");
        if (Python.Missing() is { } missing && Environment.GetEnvironmentVariable("CI") != "true")
        {
            output.WriteLine(missing);
            return;
        }
        var (code, text) = Python.Run("-c", "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)", path);
        Assert.True(code == 0, text);
    }

    private static float TensorMax(ReadOnlySpan<float> values)
    {
        float max = float.NegativeInfinity;
        foreach (float v in values) max = Math.Max(max, v);
        return max;
    }

    private void AssertClose(string what, float[] expected, float[] actual, double tolerance)
    {
        double scale = Math.Max(1e-6, expected.Max(v => Math.Abs(v))), worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]) / scale);
        output.WriteLine($"{what}: max |Δ| / max |expected| = {worst:E2}");
        Assert.True(worst <= tolerance, $"{what}: relative difference {worst:E2} > {tolerance:E0}");
    }

    // n images of c×h×w bytes with a smooth pattern that differs per image and channel.
    private static byte[] Pattern(int n, int c, int h, int w)
    {
        var bytes = new byte[n * c * h * w];
        for (int i = 0; i < bytes.Length; i++)
        {
            int x = i % w, y = i / w % h, plane = i / (w * h);
            bytes[i] = (byte)(128 + 100 * Math.Sin(x * 0.05 * (plane + 1)) * Math.Cos(y * 0.03 + plane));
        }
        return bytes;
    }

    // The first n images of Trouser (1) and Bag (8), as a two-class dataset.
    private static ImageDataset TwoClasses(ImageDataset data, int n)
    {
        var rows = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == 1).Take(n)
            .Concat(Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == 8).Take(n)).ToArray();
        return data.Subset(rows).SelectClasses([1, 8]);
    }
}
