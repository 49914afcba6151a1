using SharpVision.Models;
using SharpVision.IO;
using SharpVision.Classic;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Serialization;

namespace SharpVision.Tests.Classic;

public class FeatureKNearestNeighborsTests
{
    /// <summary>
    /// 28×28 gray images of three textures (horizontal, vertical and diagonal stripes of random period and phase)
    /// with noise: orientation is what tells the classes apart, which HOG sees and raw pixels hardly do.
    /// </summary>
    internal static ImageDataset Stripes(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 28 * 28];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int label = labels[i] = i % 3, period = random.Next(3, 7), phase = random.Next(period);
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                {
                    int along = label switch { 0 => y, 1 => x, _ => x + y };
                    int value = (along + phase) % period < period / 2 ? 190 : 60;
                    pixels[i * 784 + y * 28 + x] = (byte)Math.Clamp(value + random.Next(-40, 41), 0, 255);
                }
        }
        return new ImageDataset("stripes", 1, 28, 28, pixels, labels, ["horizontal", "vertical", "diagonal"]);
    }

    // z = (f − μ)/σ per feature with μ, σ (population) of the training rows, in double; σ = 1 where it is ~0.
    private static double[][] Standardize(float[] train, float[] rows, int d)
    {
        int n = train.Length / d;
        var mean = new double[d];
        var std = new double[d];
        for (int j = 0; j < d; j++)
        {
            for (int i = 0; i < n; i++) mean[j] += train[i * d + j];
            mean[j] /= n;
            for (int i = 0; i < n; i++) std[j] += (train[i * d + j] - mean[j]) * (train[i * d + j] - mean[j]);
            std[j] = Math.Sqrt(std[j] / n);
            if (std[j] * std[j] <= 1e-12) std[j] = 1;
        }
        return Enumerable.Range(0, rows.Length / d).Select(i => Enumerable.Range(0, d).Select(j => (rows[i * d + j] - mean[j]) / std[j]).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(DistanceMetric.Euclidean)]
    [InlineData(DistanceMetric.Manhattan)]
    public void Fit_HogFeatures_PredictsTheNearestStandardizedTrainingVector(DistanceMetric metric)
    {
        var train = Stripes(90, seed: 1);
        var test = Stripes(45, seed: 2);
        var model = new KNearestNeighbors(new(1, metric)).FitFeatures(train, FeaturePipeline.Parse("hog:cell=7"), seed: 0, threads: 2);

        // The oracle: raw HOG from a separate pipeline, standardized with the training split's statistics in double,
        // then the nearest training vector by brute force (ties to the lower index).
        var raw = FeaturePipeline.Parse("hog:cell=7");
        var trainRaw = raw.Extract(train, 1, out int d);
        var testRaw = raw.Extract(test, 1, out _);
        var z = Standardize(trainRaw, trainRaw, d);
        var zTest = Standardize(trainRaw, testRaw, d);
        for (int i = 0; i < train.Count; i++)
            for (int j = 0; j < d; j++) Assert.Equal(z[i][j], model.TrainFeatures[i * d + j], 1e-4);
        var expected = zTest.Select(q =>
        {
            int best = 0;
            double bestDistance = double.PositiveInfinity;
            for (int t = 0; t < z.Length; t++)
            {
                double distance = q.Zip(z[t], (a, b) => metric == DistanceMetric.Manhattan ? Math.Abs(a - b) : (a - b) * (a - b)).Sum();
                if (distance < bestDistance) (best, bestDistance) = (t, distance);
            }
            return train.Labels[best];
        }).ToArray();
        var predicted = model.Predict(test, threads: 2).Labels();
        Assert.Equal(expected, predicted);
        Assert.Equal(predicted, model.Predict(test.Pixels, threads: 1).Labels()); // the byte path extracts the same features
        Assert.True(model.Score(test) > 0.9, $"HOG separates stripe orientations: {model.Score(test)}");
    }

    [Fact]
    public void SaveLoad_WithLearnedVocabulary_PredictsTheSame()
    {
        using var temp = new TempFolder();
        var train = Stripes(60, seed: 3);
        var test = Stripes(20, seed: 4);
        var model = new KNearestNeighbors(new(3, DistanceMetric.Manhattan, NeighborWeighting.Distance))
            .FitFeatures(train, FeaturePipeline.Parse("hog:cell=7+sift:words=4,sample=300,iterations=5"), seed: 0, threads: 2);
        var path = temp.Combine("knn.safetensors");
        model.Save(path, new Dictionary<string, string> { ["dataset"] = "stripes" });

        var stored = ModelFile.Load(path);
        Assert.Equal("knn", stored.Kind);
        var loaded = Assert.IsType<FeatureKNearestNeighborsModel>(stored);
        Assert.Equal(model.Options with { Features = null }, loaded.Options with { Features = null });
        Assert.Equal(model.Options.Features!.CanonicalConfig, loaded.Options.Features!.CanonicalConfig);
                Assert.Equal(model.Features.Pipeline.StateKey, loaded.Features.Pipeline.StateKey); // config and vocabulary hash
        Assert.Equal(((BagOfVisualWords)model.Features.Pipeline.Extractors[1]).Vocabulary, ((BagOfVisualWords)loaded.Features.Pipeline.Extractors[1]).Vocabulary);
        Assert.Equal(model.TrainFeatures, loaded.TrainFeatures);
        Assert.Equal(new ImagePreparation(1, 28, 28), stored.Preparation);
        var before = model.Predict(test.Pixels);
        var after = stored.Predict(test.Pixels);
        Assert.Equal(before.Ranking, after.Ranking);
        Assert.Equal(before.Probabilities, after.Probabilities);
    }

    [Fact]
    public void Load_DamagedFeatureModel_FailsNamingWhatIsWrong()
    {
        using var temp = new TempFolder();
        var model = new KNearestNeighbors(new(1)).FitFeatures(Stripes(12, seed: 5), FeaturePipeline.Parse("hog:cell=14"), seed: 0, threads: 1);
        var path = temp.Combine("knn.safetensors");
        model.Save(path);
        var good = SafeTensorsFile.Read(path);
        int d = model.Features.Length; // 4 cells → 1 block of 2×2 cells × 9 orientations = 36

        string Refusal(Func<List<TensorEntry>, List<TensorEntry>> damage, Action<Dictionary<string, string>>? metadata = null)
        {
            var meta = good.Metadata.ToDictionary();
            metadata?.Invoke(meta);
            var damaged = temp.Combine($"damaged-{Guid.NewGuid():N}.safetensors");
            SafeTensorsFile.Write(damaged, meta, damage(good.Tensors.ToList()));
            return Assert.Throws<DataFormatException>(() => ModelFile.Load(damaged)).Message;
        }
        TensorEntry Features(float[] values, long rows, long columns) => TensorEntry.FromSingle("train.features", values, rows, columns);

        Assert.Equal(36, d);
        Assert.Contains($"'train.features' is F32 [12, {d - 1}], expected F32 [12, {d}]",
            Refusal(t => t.Select(e => e.Name == "train.features" ? Features(new float[12 * (d - 1)], 12, d - 1) : e).ToList()));
        Assert.Contains("tensor 'train.images' is not part of a k-NN feature model",
            Refusal(t => [.. t, new TensorEntry("train.images", TensorDType.U8, [12, 1, 28, 28], new byte[12 * 784])]));
        Assert.Contains("no 'features.scale' tensor", Refusal(t => t.Where(e => e.Name != "features.scale").ToList()));
        Assert.Contains("The training features hold a NaN or infinite value",
            Refusal(t => t.Select(e => e.Name == "train.features" ? Features(Enumerable.Repeat(float.NaN, 12 * d).ToArray(), 12, d) : e).ToList()));
        Assert.Contains("invalid features: Unknown feature extractor 'surf'", Refusal(t => t, m => m["features"] = """{"spec":"surf","length":36}"""));
        Assert.Contains("LBP cells of 29×29 pixels do not fit a 28×28 image", Refusal(t => t, m => m["features"] = """{"spec":"lbp:cell=29","length":36}"""));
    }

    [Fact]
    public void Constructor_InconsistentParts_Throw()
    {
        var data = Stripes(6, seed: 6);
        var standardizer = FeatureStandardizer.Fit(FeaturePipeline.Parse("hog:cell=14"), data, 0, 1).Standardizer;
        var features = new float[6 * 36];
        Assert.Throws<ArgumentOutOfRangeException>(() => new FeatureKNearestNeighborsModel(new(7), standardizer, features, data.Labels, data.ClassNames));
        Assert.Contains("Label 3 is outside 0..2", Assert.Throws<ArgumentException>(() => new FeatureKNearestNeighborsModel(new(1), standardizer, features, [0, 1, 2, 3, 0, 1], data.ClassNames)).Message);
        Assert.Contains("need 216 feature values (36 each), got 215", Assert.Throws<ArgumentException>(() => new FeatureKNearestNeighborsModel(new(1), standardizer, new float[215], data.Labels, data.ClassNames)).Message);
    }
}
