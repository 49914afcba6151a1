using System.Text.Json.Nodes;
using SharpVision.Classic;
using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Imaging;
using SharpVision.Models;
using SharpVision.Nn;
using SharpVision.Training;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`sharpvision predict` on folders, on unreadable files, and on images unlike the model's training data.</summary>
public sealed class PredictCliTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly DatasetSplits _sample = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
    private readonly string _model;

    public PredictCliTests()
    {
        _model = _temp.Combine("knn.safetensors");
        new KNearestNeighbors(new(1, DistanceMetric.Manhattan)).FitPixels(_sample.Train.Take(300, 0)).Save(_model);
    }

    public void Dispose() => _temp.Dispose();

    private Image TestImage(int index) => new(28, 28, 1, _sample.Test.Image(index).ToArray());

    // A "photo": an RGB 200×150 picture of a dark shoe-like shape on a light background, as phones take them.
    private static Image Photo()
    {
        var pixels = new byte[200 * 150 * 3];
        for (int y = 0; y < 150; y++)
            for (int x = 0; x < 200; x++)
            {
                bool shoe = y > 80 && y < 120 && x > 30 && x < 170 - (y - 80);
                for (int c = 0; c < 3; c++) pixels[(y * 200 + x) * 3 + c] = (byte)(shoe ? 40 + 10 * c : 225 - (x + y) / 20);
            }
        return new Image(200, 150, 3, pixels);
    }

    [Fact]
    public void Predict_Folder_PredictsEveryImageInItAndItsSubfolders_AndNamesWhatCannotBeRead()
    {
        var dir = _temp.Combine("photos");
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        Directory.CreateDirectory(Path.Combine(dir, ".cache"));
        PngEncoder.Save(TestImage(0), Path.Combine(dir, "b.png"));
        PngEncoder.Save(TestImage(1), Path.Combine(dir, "sub", "a.PNG"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "imaging", "jpeg_gray.jpg"), Path.Combine(dir, "c.jpg"));
        PngEncoder.Save(TestImage(2), Path.Combine(dir, ".hidden.png"));
        PngEncoder.Save(TestImage(3), Path.Combine(dir, ".cache", "d.png"));
        File.WriteAllBytes(Path.Combine(dir, "broken.png"), "not a png at all"u8.ToArray());
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "shot on a phone");

        var (code, output, err) = Run("predict", "--model", _model, dir, "--json");
        Assert.Equal(CliApp.RuntimeFailure, code); // one file could not be read (documented in --help)
        var doc = JsonNode.Parse(output)!;
        Assert.Equal(new[] { "b.png", "c.jpg", Path.Combine("sub", "a.PNG") },
            doc["predictions"]!.AsArray().Select(p => Path.GetRelativePath(dir, (string)p!["path"]!)));
        Assert.All(doc["predictions"]!.AsArray(), p => Assert.Contains((string)p!["top"]![0]!["label"]!, _sample.Test.ClassNames));
        var failed = doc["failed"]!.AsArray().Single()!;
        Assert.Equal(Path.Combine(dir, "broken.png"), (string)failed["path"]!);
        Assert.Contains("PNG", (string)failed["error"]!, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"error: {Path.Combine(dir, "broken.png")}: ", err, StringComparison.Ordinal);
        Assert.Contains("passed over 1 file(s) without a .png, .jpg or .jpeg extension (notes.txt)", err, StringComparison.Ordinal);
        Assert.Contains("1 of 4 file(s) could not be read; the others were predicted", err, StringComparison.Ordinal);
        Assert.DoesNotContain("denied", err, StringComparison.OrdinalIgnoreCase);

        // All readable: exit 0. Text output: one line per image.
        File.Delete(Path.Combine(dir, "broken.png"));
        var text = Run("predict", "--model", _model, dir);
        Assert.True(text.Code == 0, text.Err);
        Assert.Equal(3, text.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // A folder without images is an error, not silence.
        var empty = _temp.Combine("empty");
        Directory.CreateDirectory(empty);
        var none = Run("predict", "--model", _model, empty);
        Assert.Equal(CliApp.RuntimeFailure, none.Code);
        Assert.Contains("no .png, .jpg or .jpeg images found", none.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Predict_ImageUnlikeTheTrainingData_WarnsOnStderrAndInJson_AndSaysHowItWasPrepared()
    {
        string shirt = _temp.Combine("test-image.png"), photo = _temp.Combine("photo.png"), inverted = _temp.Combine("inverted.png");
        PngEncoder.Save(TestImage(0), shirt);
        PngEncoder.Save(Photo(), photo);
        PngEncoder.Save(new Image(28, 28, 1, _sample.Test.Image(0).ToArray().Select(v => (byte)(255 - v)).ToArray()), inverted);

        var (code, output, err) = Run("predict", "--model", _model, shirt, photo, inverted, "--json");
        Assert.True(code == 0, err);
        var predictions = JsonNode.Parse(output)!["predictions"]!.AsArray();
        var check = predictions.Select(p => p!["input_check"]!).ToArray();
        Assert.False((bool)check[0]["far_from_training_data"]!); // a Fashion-MNIST test image
        Assert.True((bool)check[1]["far_from_training_data"]!); // a photo: light background, squeezed to 28×28
        Assert.True((bool)check[2]["far_from_training_data"]!); // dark garment on white: the negative of the training images
        Assert.True((double)check[1]["distance"]! > (double)check[1]["threshold"]!);
        Assert.True((double)check[1]["mean_brightness"]! > 150 && (double)check[1]["training_mean_brightness"]! < 100);
        Assert.Empty(predictions[0]!["preparation"]!.AsArray());
        Assert.Equal(["converted RGB to gray (luma)", "resized 200×150 → 28×28 (area averaging), aspect ratio 1.33 squeezed to 1"],
            predictions[1]!["preparation"]!.AsArray().Select(s => (string)s!));

        var text = Run("predict", "--model", _model, shirt, photo);
        Assert.Equal(0, text.Code);
        Assert.Contains($"warning: {photo} is unlike the model's training images (distance", text.Err, StringComparison.Ordinal);
        Assert.DoesNotContain($"warning: {shirt}", text.Err, StringComparison.Ordinal);
        Assert.Contains($"note: {photo}: converted RGB to gray (luma); resized 200×150 → 28×28", text.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void InputStatistics_FlagFewOfTheTestImages_AndAllOfTheirNegatives()
    {
        var statistics = InputStatistics.Compute(_sample.Train);
        var test = _sample.Test;
        int far = Enumerable.Range(0, test.Count).Count(i => statistics.Check(test.Image(i)).IsFar);
        Assert.True(far <= test.Count / 50, $"{far} of {test.Count} Fashion-MNIST test images flagged as unlike the training images");
        int negatives = Enumerable.Range(0, test.Count)
            .Count(i => statistics.Check(test.Image(i).ToArray().Select(v => (byte)(255 - v)).ToArray()).IsFar);
        Assert.Equal(test.Count, negatives);
    }

    [Fact]
    public void InputStatistics_SavedWithEachFamily_AndFilesWithoutThemStillLoad()
    {
        var train = _sample.Train.Take(300, 0);
        var expected = InputStatistics.Compute(train);
        var recipe = Recipes.Default("softmax") with { Epochs = 1, ValidationFraction = 0 };
        var softmax = new NetworkTrainer(new NetworkSpec("softmax"), recipe).FitNetwork(train);
        var hogKnn = new KNearestNeighbors(new(1, DistanceMetric.Euclidean, Features: SharpVision.Features.FeaturePipeline.Parse("hog"))).Fit(train);
        var pixelKnn = new KNearestNeighbors(new(1, DistanceMetric.Manhattan)).Fit(train);
        foreach (var (name, model) in new (string, IImageClassifier)[] { ("softmax", softmax), ("knn-hog", hogKnn), ("knn", pixelKnn) })
        {
            var path = _temp.Combine(name + ".safetensors");
            model.Save(path);
            var loaded = ModelFile.Load(path).InputStatistics;
            Assert.NotNull(loaded);
            Assert.Equal(expected.Mean, loaded.Mean);
            Assert.Equal(expected.Deviation, loaded.Deviation);
            Assert.Equal(expected.Threshold, loaded.Threshold, 12);
            Assert.Equal(expected.Threshold, (double)model.Describe()["input_statistics"]!["threshold"]!, 4);
        }

        // A file written before input statistics existed: it loads, predicts, and predict says it cannot check inputs.
        var old = _temp.Combine("old.safetensors");
        softmax.WithInputStatistics(null).Save(old);
        Assert.Null(ModelFile.Load(old).InputStatistics);
        var image = _temp.Combine("x.png");
        PngEncoder.Save(TestImage(0), image);
        var (code, output, err) = Run("predict", "--model", old, image, "--json");
        Assert.True(code == 0, err);
        Assert.Null(JsonNode.Parse(output)!["predictions"]![0]!["input_check"]);
        Assert.Contains("no input statistics", Run("predict", "--model", old, image).Err, StringComparison.Ordinal);
    }
}
