using SharpVision.Classic;
using SharpVision.Models;
using System.Text.Json.Nodes;
using SharpVision.Cli;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Imaging;
using SharpVision.Serialization;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`train --model knn --features`, `cv --features` and `evaluate --features` on the shipped sample (cache off: --no-cache).</summary>
public class KnnFeaturesCliTests
{
    private const string Hog = "hog:cell=7";
    private const string HogCanonical = "hog:orientations=9,cell=7,block=2,norm=L2-Hys,sqrt=false";

    [Fact]
    public void TrainKnnWithFeatures_ModelFileCarriesThePipeline_EvaluateAndPredictReproduceIt()
    {
        using var temp = new TempFolder();
        var run = temp.Combine("run");
        var (code, output, err) = Run("train", "--data", SampleDir, "--model", "knn", "--features", Hog, "--k", "3", "--metric", "l1",
            "--train-limit", "600", "--no-cache", "--out", run, "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal(HogCanonical, (string)doc["model"]!["features"]!);
        Assert.Equal(324, (int)doc["model"]!["feature_length"]!); // 4×4 cells → 3×3 blocks of 2×2 cells × 9 orientations
        Assert.StartsWith("knn-float32", (string)doc["backend"]!);
        double accuracy = (double)doc["metrics"]!["test"]!["accuracy"]!;
        Assert.True(accuracy > 0.7, $"HOG k-NN on the sample: {accuracy}");

        var path = Path.Combine(run, "model.safetensors");
        var stored = Assert.IsType<FeatureKNearestNeighborsModel>(ModelFile.Load(path));
        Assert.Equal(HogCanonical, stored.Features.Pipeline.CanonicalConfig);
        Assert.Equal(600, stored.TrainCount);
        Assert.Equal([600L, 324L], SafeTensorsFile.Read(path).Find("train.features")!.Shape);

        // evaluate computes the stored pipeline's features: same accuracy, with or without a matching --features.
        var evaluated = Run("evaluate", "--model", path, "--data", SampleDir, "--no-cache", "--json");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Equal(accuracy, (double)JsonNode.Parse(evaluated.Out)!["metrics"]!["test"]!["accuracy"]!, 6);
        Assert.Equal(HogCanonical, (string)JsonNode.Parse(evaluated.Out)!["features"]!);
        var checkedRun = Run("evaluate", "--model", path, "--data", SampleDir, "--no-cache", "--features", "hog:block=2,cell=7", "--json");
        Assert.True(checkedRun.Code == 0, checkedRun.Err);
        Assert.Equal(accuracy, (double)JsonNode.Parse(checkedRun.Out)!["metrics"]!["test"]!["accuracy"]!, 6);

        // predict: a test image as a PNG gets the label the model gives its pixels.
        var splits = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        var png = temp.Combine("image.png");
        PngEncoder.Save(new Image(28, 28, 1, splits.Test.Image(7).ToArray()), png);
        var predicted = Run("predict", "--model", path, png, "--json");
        Assert.True(predicted.Code == 0, predicted.Err);
        string label = (string)JsonNode.Parse(predicted.Out)!["predictions"]![0]!["top"]![0]!["label"]!;
        Assert.Equal(splits.Test.ClassNames[stored.Predict(splits.Test.Image(7)).Label(0)], label);
    }

    [Fact]
    public void EvaluateWithOtherFeatures_IsAUsageErrorNamingBothPipelines()
    {
        using var temp = new TempFolder();
        var knnRun = temp.Combine("knn");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--features", Hog, "--k", "1", "--train-limit", "200", "--no-cache", "--out", knnRun).Code);
        var (code, output, err) = Run("evaluate", "--model", Path.Combine(knnRun, "model.safetensors"), "--data", SampleDir, "--features", "hog");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Equal("", output);
        Assert.Contains("--features hog:orientations=9,cell=4,block=2,norm=L2-Hys,sqrt=false disagrees with the model's features " + HogCanonical, err);
        Assert.Contains("--features: Unknown feature extractor 'surf'", Run("evaluate", "--model", Path.Combine(knnRun, "model.safetensors"), "--data", SampleDir, "--features", "surf").Err);

        var pixelRun = temp.Combine("pixels");
        Assert.Equal(0, Run("train", "--data", SampleDir, "--model", "knn", "--k", "1", "--train-limit", "200", "--out", pixelRun).Code);
        var pixels = Run("evaluate", "--model", Path.Combine(pixelRun, "model.safetensors"), "--data", SampleDir, "--features", "hog");
        Assert.Equal(CliApp.UsageError, pixels.Code);
        Assert.Contains("was trained on pixels, not features", pixels.Err);
    }

    [Fact]
    public void CvWithFeatures_FoldAccuraciesEqualBruteForceOnFoldStandardizedFeatures()
    {
        var (code, output, err) = Run("cv", "--data", SampleDir, "--features", Hog, "--k", "1,3", "--metric", "l2", "--folds", "3", "--train-limit", "300", "--no-cache", "--test", "--json");
        Assert.True(code == 0, err);
        var doc = JsonNode.Parse(output)!;
        Assert.Equal(HogCanonical, (string)doc["features"]!);
        Assert.Equal(2, doc["results"]!.AsArray().Count);
        var k1 = doc["results"]!.AsArray().Single(r => (int)r!["params"]!["k"]! == 1)!;
        var reported = k1["fold_accuracies"]!.AsArray().Select(a => (double)a!).ToArray();

        // The oracle: the same 300 images and folds; HOG per image; μ, σ from each fold's training part (double);
        // 1-NN by brute force, ties to the lower index.
        var train = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist")).Train.Take(300, 0);
        var raw = FeaturePipeline.Parse(Hog).Extract(train, 1, out int d);
        var folds = Splits.StratifiedKFold(train.Labels, 3, 0);
        for (int f = 0; f < 3; f++)
        {
            var (trainRows, validationRows) = folds[f];
            var mean = new double[d];
            var scale = new double[d];
            for (int j = 0; j < d; j++)
            {
                mean[j] = trainRows.Average(i => (double)raw[i * d + j]);
                double variance = trainRows.Average(i => Math.Pow(raw[i * d + j] - mean[j], 2));
                scale[j] = variance > 1e-12 ? 1 / Math.Sqrt(variance) : 1;
            }
            double Z(int row, int j) => (raw[row * d + j] - mean[j]) * scale[j];
            int correct = 0;
            foreach (int v in validationRows)
            {
                int best = -1;
                double bestDistance = double.PositiveInfinity;
                foreach (int t in trainRows)
                {
                    double distance = 0;
                    for (int j = 0; j < d; j++) distance += Math.Pow(Z(t, j) - Z(v, j), 2);
                    if (distance < bestDistance) (best, bestDistance) = (t, distance);
                }
                correct += train.Labels[best] == train.Labels[v] ? 1 : 0;
            }
            Assert.Equal((double)correct / validationRows.Length, reported[f], 6);
        }

        // --test: the best setting refitted on all 300 images, exactly what train --model knn --features gives.
        using var temp = new TempFolder();
        int bestK = (int)doc["best"]!["params"]!["k"]!;
        var trained = Run("train", "--data", SampleDir, "--model", "knn", "--features", Hog, "--k", bestK.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--metric", "l2", "--train-limit", "300", "--no-cache", "--out", temp.Combine("run"), "--json");
        Assert.True(trained.Code == 0, trained.Err);
        Assert.Equal((double)JsonNode.Parse(trained.Out)!["metrics"]!["test"]!["accuracy"]!, (double)doc["metrics"]!["test"]!["accuracy"]!, 6);
    }

    [Theory]
    [InlineData("cv", "gabor:freq=0.1", "--features: Gabor kernels of frequency 0.1 are 35×35 pixels, larger than the 28×28 image")]
    [InlineData("cv", "lbp:cell=29", "--features: LBP cells of 29×29 pixels do not fit a 28×28 image.")]
    [InlineData("cv", "hog:cells=4", "--features: Unknown option 'cells' for 'hog'")]
    // 30 images give 270 descriptors, enough for 200 words, but each fold trains on 20 of them: 180.
    [InlineData("cv", "sift:stride=8,words=200", "--features: A vocabulary of 200 words needs at least 200 descriptors; 20 training images give 180 (9 per image).")]
    [InlineData("train", "hog:cell=29", "--features: HOG cells of 29×29 pixels do not fit a 28×28 image.")]
    [InlineData("train", "hog:orientations=0", "--features: Option 'orientations' of 'hog' must be an integer from 1 to 360, got '0'.")]
    [InlineData("train", "sift:stride=8,words=300", "--features: A vocabulary of 300 words needs at least 300 descriptors; 30 training images give 270 (9 per image).")]
    public void BadFeatures_AreUsageErrors_AndWriteNothing(string command, string spec, string message)
    {
        using var temp = new TempFolder();
        // 30 training images (3 per class), so 3 stratified folds train on 20; dense SIFT with stride 8 gives 9 descriptors per image.
        var args = new List<string> { command, "--data", SampleDir, "--features", spec, "--k", "1", "--train-limit", "30", "--no-cache" };
        if (command == "cv") args.AddRange(["--folds", "3", "--metric", "l2"]);
        else args.AddRange(["--model", "knn", "--out", temp.Combine("run")]);
        var (code, output, err) = Run([.. args]);
        Assert.Equal(CliApp.UsageError, code);
        Assert.Equal("", output);
        Assert.Contains(message, err);
        Assert.Empty(Directory.GetFileSystemEntries(temp.Path));
    }

    [Fact]
    public void TrainConvolutionalNetworkWithFeatures_IsAUsageError()
    {
        var (code, _, err) = Run("train", "--data", SampleDir, "--model", "cnn2", "--features", "hog", "--epochs", "1");
        Assert.Equal(CliApp.UsageError, code);
        Assert.Contains("--features works with knn, svm, softmax, logistic and mlp, not cnn2", err);
    }
}
