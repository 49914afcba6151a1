using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Tests.Classic;

namespace SharpVision.Tests.Features;

public class CrossValidationFeaturesTests
{
    // 30 stripe images, then 15 very different ones (bright, nearly flat) as the held-out fold: statistics that
    // included them would move far from those of the first 30.
    private static (ImageDataset Data, int[] Train, int[] Validation) Folds()
    {
        var stripes = FeatureKNearestNeighborsTests.Stripes(30, seed: 7);
        var random = new Random(8);
        var flat = new byte[15 * 784];
        for (int i = 0; i < flat.Length; i++) flat[i] = (byte)(240 + random.Next(16));
        var data = new ImageDataset("folds", 1, 28, 28, [.. stripes.Pixels, .. flat], [.. stripes.Labels, .. Enumerable.Range(0, 15).Select(i => i % 3)], stripes.ClassNames);
        return (data, Enumerable.Range(0, 30).ToArray(), Enumerable.Range(30, 15).ToArray());
    }

    [Fact]
    public void Fold_StandardizesWithTheFoldsTrainingRowsOnly()
    {
        var (data, train, validation) = Folds();
        var folds = new CrossValidationFeatures(FeaturePipeline.Parse("hog:cell=7+lbp"), data, seed: 0, threads: 2);
        var (standardizer, trainFeatures, validationFeatures) = folds.Fold(train, validation);

        // μ and σ from the training rows alone (a fresh pipeline on just those images), in double.
        var raw = FeaturePipeline.Parse("hog:cell=7+lbp");
        var trainRaw = raw.Extract(data.Subset(train), 1, out int d);
        var validationRaw = raw.Extract(data.Subset(validation), 1, out _);
        var allRaw = raw.Extract(data, 1, out _);
        Assert.Equal(d, folds.Length);
        double worstAgainstAll = 0;
        for (int j = 0; j < d; j++)
        {
            double mean = Enumerable.Range(0, train.Length).Average(i => (double)trainRaw[i * d + j]);
            double std = Math.Sqrt(Enumerable.Range(0, train.Length).Average(i => Math.Pow(trainRaw[i * d + j] - mean, 2)));
            double scale = std * std > 1e-12 ? 1 / std : 1;
            Assert.Equal(mean, standardizer.Mean[j], 1e-5);
            Assert.Equal(scale, standardizer.Scale[j], 1e-3 * scale);
            for (int i = 0; i < train.Length; i++) Assert.Equal((trainRaw[i * d + j] - mean) * scale, trainFeatures[i * d + j], 1e-3);
            for (int i = 0; i < validation.Length; i++) Assert.Equal((validationRaw[i * d + j] - mean) * scale, validationFeatures[i * d + j], 1e-3);
            double allMean = Enumerable.Range(0, data.Count).Average(i => (double)allRaw[i * d + j]);
            worstAgainstAll = Math.Max(worstAgainstAll, Math.Abs(allMean - mean));
        }
        Assert.True(worstAgainstAll > 0.05, "the held-out images would have moved the means: the test can tell the difference");
    }

    [Fact]
    public void Fold_LearnedPipeline_FitsItsVocabularyOnTheFoldsTrainingImagesOnly()
    {
        var (data, train, validation) = Folds();
        const string spec = "sift:words=4,sample=2000,iterations=10";
        var pipeline = FeaturePipeline.Parse(spec);
        var folds = new CrossValidationFeatures(pipeline, data, seed: 3, threads: 2);
        var (standardizer, _, _) = folds.Fold(train, validation);

        var onTrain = FeaturePipeline.Parse(spec);
        onTrain.Fit(data.Subset(train), seed: 3, threads: 1);
        var onAll = FeaturePipeline.Parse(spec);
        onAll.Fit(data, seed: 3, threads: 1);
        Assert.Equal(onTrain.StateKey, standardizer.Pipeline.StateKey);
        Assert.NotEqual(onAll.StateKey, standardizer.Pipeline.StateKey);
        Assert.False(pipeline.IsFitted); // the caller's pipeline is a template, never fitted in place

        // Another fold learns its own vocabulary.
        var (other, _, _) = folds.Fold(Enumerable.Range(15, 30).ToArray(), Enumerable.Range(0, 15).ToArray());
        Assert.NotEqual(standardizer.Pipeline.StateKey, other.Pipeline.StateKey);
    }

    [Fact]
    public void Fold_TooFewDescriptorsInTheFold_ThrowsNamingTheWords()
    {
        var (data, _, _) = Folds();
        // 3×3 grids of 12-pixel patches with stride 8: 9 descriptors per image; 2 training images give 18 < 20 words.
        var folds = new CrossValidationFeatures(FeaturePipeline.Parse("sift:stride=8,words=20"), data, seed: 0, threads: 1);
        var e = Assert.Throws<ArgumentException>(() => folds.Fold([0, 1], [2, 3]));
        Assert.Contains("A vocabulary of 20 words needs at least 20 descriptors; 2 training images give 18 (9 per image)", e.Message);
    }

    [Fact]
    public void Fold_WithCache_ExtractsAFixedPipelineOnce()
    {
        using var temp = new TempFolder();
        var (data, train, validation) = Folds();
        var cache = new FeatureCache(temp.Path);
        var first = new CrossValidationFeatures(FeaturePipeline.Parse("hog:cell=7"), data, seed: 0, threads: 2, cache);
        var a = first.Fold(train, validation);
        var b = first.Fold(validation, train);
        Assert.Single(Directory.GetFiles(temp.Path, "*.safetensors")); // one extraction of the whole dataset serves both folds
        var again = new CrossValidationFeatures(FeaturePipeline.Parse("hog:cell=7"), data, seed: 0, threads: 1, cache).Fold(train, validation);
        Assert.Equal(a.Train, again.Train);
        Assert.Equal(a.Validation, again.Validation);
        Assert.NotEqual(a.Standardizer.Mean, b.Standardizer.Mean);
    }
}
