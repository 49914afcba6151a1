using Microsoft.ML.OnnxRuntime;
using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Imaging;
using SharpVision.IO;
using SharpVision.Models;
using SharpVision.Onnx;
using SharpVision.Reports;
using SharpVision.Runs;
using SharpVision.Tests.Support;
using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Onnx;

/// <summary>Transfer learning: the ImageNet ResNet-18 as a feature extractor (--features resnet18, --model resnet18 --pretrained).</summary>
public class TransferTests
{
    [PhotosFact]
    public void Extractor_RealPhotos_EqualsOnnxRuntimeOnThePreparedCrop()
    {
        var extractor = (ResNet18Extractor)FeaturePipeline.Parse("resnet18").Extractors.Single();
        using var prepSession = new InferenceSession(OnnxTestFiles.Preprocess);
        using var session = new InferenceSession(OnnxTestFiles.ResNet18);
        var photos = OnnxTestFiles.Photos.Skip(3).Take(2).Select(p => ImageDecoder.Load(p)).ToArray(); // china.jpg, flower.jpg: 427×640
        foreach (var photo in photos)
        {
            var planar = ImagePreparation.ToPlanar(photo);
            var ours = new float[ResNet18Extractor.Dimension];
            extractor.Extract(planar, 3, photo.Height, photo.Width, ours);
            var crop = new float[3 * 224 * 224];
            extractor.Prepare(planar, 3, photo.Height, photo.Width, crop);
            var expected = ResNet18Tests.RunOrt(session, session.InputMetadata.Keys.Single(),
                ResNet18Tests.RunOrt(prepSession, prepSession.InputMetadata.Keys.Single(), crop));
            var (_, relative) = ResNet18Tests.Difference(expected, ours);
            Assert.True(relative <= 1e-4, $"relative difference {relative:E2}");
        }
    }

    [Fact]
    public void Prepare_ShorterSideResizedThenCenterCrop_FromFirstPrinciples()
    {
        var extractor = (ResNet18Extractor)FeaturePipeline.Parse("resnet18").Extractors.Single();
        // 256 high, 300 wide: no resize (the shorter side is already 256); the crop starts at row 16, column 38.
        var image = new byte[3 * 256 * 300];
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 256; y++)
                for (int x = 0; x < 300; x++) image[(c * 256 + y) * 300 + x] = (byte)((x + 2 * y + 50 * c) % 251);
        var crop = new float[3 * 224 * 224];
        extractor.Prepare(image, 3, 256, 300, crop);
        for (int c = 0; c < 3; c++)
            foreach (var (y, x) in new[] { (0, 0), (0, 223), (223, 0), (111, 97), (223, 223) })
                Assert.Equal(image[(c * 256 + 16 + y) * 300 + 38 + x], crop[(c * 224 + y) * 224 + x]);

        // Gray: the one plane copied into R, G and B, so its features are those of the RGB image with three equal planes.
        var gray = new byte[28 * 28];
        for (int i = 0; i < gray.Length; i++) gray[i] = (byte)(i * 7 % 256);
        var rgb = gray.Concat(gray).Concat(gray).ToArray();
        var fromGray = new float[512];
        var fromRgb = new float[512];
        extractor.Extract(gray, 1, 28, 28, fromGray);
        extractor.Extract(rgb, 3, 28, 28, fromRgb);
        Assert.Equal(fromRgb, fromGray);
        Assert.Contains(fromGray, v => v > 0);
    }

    [Fact]
    public void Spec_CanonicalConfigNamesTheWeights_AndOtherWeightsAreRefused()
    {
        Assert.Contains("resnet18", FeaturePipeline.KnownExtractors);
        var config = FeaturePipeline.Parse("resnet18").CanonicalConfig;
        Assert.Matches("^resnet18:resize=256,crop=224,weights=[0-9a-f]{16}$", config);
        Assert.Equal(config, FeaturePipeline.Parse(config).CanonicalConfig);
        var hash = config[^16..];
        var bytes = File.ReadAllBytes(OnnxTestFiles.ResNet18);
        Assert.Equal(PretrainedBackbones.Hash(bytes, File.ReadAllBytes(OnnxTestFiles.Preprocess)), hash);

        var error = Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("resnet18:weights=0123456789abcdef"));
        Assert.Contains("0123456789abcdef", error.Message);
        Assert.Contains(hash, error.Message);
        Assert.Contains("Unknown option 'size'", Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("resnet18:size=3")).Message);
        Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("resnet18:crop=200"));
    }

    [Fact]
    public void MissingBackbone_ErrorNamesEveryFolderSearchedAndTheFix()
    {
        using var temp = new TempFolder();
        var folders = new[] { temp.Combine("explicit"), temp.Combine("next-to-program") };
        var error = Assert.Throws<BackboneNotFoundException>(() => PretrainedBackbones.LocateResNet18(folders));
        foreach (var folder in folders) Assert.Contains(folder, error.Message);
        Assert.Contains(PretrainedBackbones.PackageId, error.Message);
        Assert.Contains("SHARPVISION_BACKBONES", error.Message);
        Assert.Contains("--backbone", error.Message);

        // The order: the environment variable, next to the program, the NuGet cache ($NUGET_PACKAGES).
        var searched = PretrainedBackbones.SearchFolders(name => name switch
        {
            "SHARPVISION_BACKBONES" => "/opt/weights",
            "NUGET_PACKAGES" => "/nuget",
            _ => null,
        });
        Assert.Equal(["/opt/weights", Path.Combine(AppContext.BaseDirectory, "DnnImageModels"),
            "/nuget/microsoft.ml.dnnimagefeaturizer.resnet18/0.24.0/tools/DnnImageModels"], searched);

        // Both layouts: the package's subfolders, or the two files side by side.
        Directory.CreateDirectory(folders[1]);
        File.Copy(OnnxTestFiles.ResNet18, Path.Combine(folders[1], "ResNet18.onnx"));
        File.Copy(OnnxTestFiles.Preprocess, Path.Combine(folders[1], "ResNetPreprocess.onnx"));
        Assert.Equal(Path.Combine(folders[1], "ResNet18.onnx"), PretrainedBackbones.LocateResNet18(folders).Network);
    }

    [Fact]
    public void FitSaveLoad_TwoClassesOfTheSample_PredictsThemAndTheFileHoldsNoWeights()
    {
        var splits = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        var train = Pick(splits.Train, 8);
        var test = Pick(splits.Test, 5);
        var progress = new List<FitProgress>();
        foreach (var head in Enum.GetValues<TransferHead>())
        {
            var context = new FitContext { Threads = 2, Events = e => { if (e is FitProgress p) progress.Add(p); } };
            var model = TransferLearning.Trainer(head).Fit(train, context: context);
            double accuracy = model.Score(test, 2);
            Assert.True(accuracy >= 0.9, $"{head}: trouser vs bag from 8 images each, accuracy {accuracy}");

            using var temp = new TempFolder();
            var path = temp.Combine("model.safetensors");
            model.Save(path);
            Assert.True(new FileInfo(path).Length < 1_000_000, $"{head}: {new FileInfo(path).Length} bytes; the backbone must not be copied");
            var loaded = ModelFile.Load(path);
            Assert.Equal(model.Predict(test, 2).Probabilities, loaded.Predict(test, 2).Probabilities);
            Assert.Contains("resnet18:resize=256,crop=224,weights=", loaded.Describe().ToJsonString());

            // The report of a transfer run: mistakes, the map of the backbone's features and their nearest neighbours.
            int mapped = 0;
            var html = RunReport.Build(new RunReportInput { Title = head.ToString(), Model = model, Test = test }, new RunReportOptions
            {
                EmbeddingMap = input =>
                {
                    mapped = input.Dimension;
                    return "<svg></svg>";
                },
            });
            Assert.Equal(512, mapped);
            Assert.Contains("id=\"mistakes\"", html);
            Assert.Contains("Nearest neighbours in feature space", html);
            Assert.Equal(2 * 9, System.Text.RegularExpressions.Regex.Count(html, "alt=\"neighbour \\d+: test image")); // 2 queries × 9 others
        }
        Assert.Contains(progress, p => p.Stage == "features resnet18" && p.Done == p.Total);
    }

    [Fact]
    public void Cli_ResNet18Flags_AreCheckedBeforeAnyWork()
    {
        var noPretrained = Run("train", "--data", SampleDir, "--model", "resnet18");
        Assert.Equal(CliApp.UsageError, noPretrained.Code);
        Assert.Contains("--pretrained", noPretrained.Err);
        var badHead = Run("train", "--data", SampleDir, "--model", "resnet18", "--pretrained", "--head", "forest");
        Assert.Equal(CliApp.UsageError, badHead.Code);
        Assert.Contains("--head must be one of softmax, svm, knn", badHead.Err);
        var headAlone = Run("train", "--data", SampleDir, "--model", "knn", "--head", "svm");
        Assert.Equal(CliApp.UsageError, headAlone.Code);
        Assert.Contains("--head", headAlone.Err);
        var withFeatures = Run("train", "--data", SampleDir, "--model", "resnet18", "--pretrained", "--features", "hog");
        Assert.Equal(CliApp.UsageError, withFeatures.Code);
        Assert.Contains("--features resnet18", withFeatures.Err);
        var noFolder = Run("train", "--data", SampleDir, "--model", "resnet18", "--pretrained", "--backbone", "/nonexistent/weights");
        Assert.Equal(CliApp.UsageError, noFolder.Code);
        Assert.Contains("/nonexistent/weights", noFolder.Err);
    }

    // The first n images of Trouser (1) and Bag (8), as a two-class dataset.
    private static ImageDataset Pick(ImageDataset data, int n)
    {
        var rows = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == 1).Take(n)
            .Concat(Enumerable.Range(0, data.Count).Where(i => data.Labels[i] == 8).Take(n)).ToArray();
        return data.Subset(rows).SelectClasses([1, 8]);
    }
}
