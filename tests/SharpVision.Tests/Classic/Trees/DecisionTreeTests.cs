using System.Globalization;
using SharpVision.Classic.Trees;

namespace SharpVision.Tests.Classic.Trees;

public class DecisionTreeTests
{
    public static TheoryData<string> Cases => ["gini_leaf5", "entropy_leaf5", "gini_split20_depth6", "unweighted_split30_leaf3"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void FitTree_ToyProblemWithoutTies_GrowsScikitLearnsTree(string name)
    {
        var f = TreeFixtures.Trees;
        var x = f.Floats("x");
        var y = f.Ints("y");
        string Meta(string key, string fallback) => f.Metadata.TryGetValue($"{name}.{key}", out var v) ? v : fallback;
        var options = new DecisionTreeOptions(
            Criterion: Meta("criterion", "gini") == "entropy" ? SplitCriterion.Entropy : SplitCriterion.Gini,
            MaxDepth: Meta("max_depth", "") is { Length: > 0 } depth ? int.Parse(depth, CultureInfo.InvariantCulture) : null,
            MinSamplesLeaf: int.Parse(Meta("min_samples_leaf", "1"), CultureInfo.InvariantCulture),
            MinSamplesSplit: int.Parse(Meta("min_samples_split", "2"), CultureInfo.InvariantCulture),
            Search: SplitSearch.Exact);
        var weights = Meta("weighted", "False") == "True" ? f.Ints("w") : null;

        var tree = RandomForest.FitTree(FeatureTable.FromFloats(x, 4), y, 3, options, seed: 7, sampleWeights: weights).Trees[0];

        var feature = f.Ints($"{name}.feature");
        var threshold = f.Doubles($"{name}.threshold");
        var left = f.Ints($"{name}.left");
        var right = f.Ints($"{name}.right");
        var value = f.Doubles($"{name}.value");
        var samples = f.Doubles($"{name}.weighted_samples");
        Assert.Equal(feature.Length, tree.NodeCount);
        for (int node = 0; node < feature.Length; node++)
        {
            bool leaf = left[node] < 0;
            Assert.Equal(leaf ? -1 : feature[node], tree.Feature[node]);
            Assert.Equal(left[node], tree.Left[node]);
            Assert.Equal(right[node], tree.Right[node]);
            if (!leaf) Assert.True(Math.Abs(threshold[node] - tree.Threshold[node]) <= 1e-6,
                $"node {node}: threshold {tree.Threshold[node]}, scikit-learn {threshold[node]}");
            Assert.Equal(samples[node], tree.Samples[node], 3);
            for (int k = 0; k < 3; k++) Assert.Equal(value[node * 3 + k], tree.ValuesOf(node)[k], 6);
        }
    }

    [Fact]
    public void FitTree_TwoClassesSplitInTheMiddle_GainIsTheWeightedImpurityDecrease()
    {
        // Four rows on one feature, 0 0 | 1 1: the root's Gini is ½ over 4 rows, both children are pure, so the gain is
        // 4·½ = 2 (entropy: 4·1 bit = 4) and the threshold is the midpoint 1.5.
        var table = FeatureTable.FromFloats([0, 1, 2, 3], 1);
        int[] labels = [0, 0, 1, 1];
        var gini = RandomForest.FitTree(table, labels, 2, new DecisionTreeOptions()).Trees[0];
        var entropy = RandomForest.FitTree(table, labels, 2, new DecisionTreeOptions(SplitCriterion.Entropy)).Trees[0];
        Assert.Equal(3, gini.NodeCount);
        Assert.Equal(1.5f, gini.Threshold[0]);
        Assert.Equal(2f, gini.Gain[0]);
        Assert.Equal(4f, entropy.Gain[0], 5);
        Assert.Equal([1f, 0f], gini.ValuesOf(1).ToArray());
        Assert.Equal([0f, 1f], gini.ValuesOf(2).ToArray());
    }

    [Fact]
    public void FitTree_SeparableData_PureLeavesAndEveryTrainingRowRight()
    {
        var (x, y) = Blobs(300, 5, 3, spread: 0.2, seed: 1);
        var model = RandomForest.FitTree(FeatureTable.FromFloats(x, 5), y, 3, new DecisionTreeOptions());
        var tree = model.Trees[0];
        for (int node = 0; node < tree.NodeCount; node++)
            if (tree.Left[node] < 0) Assert.Equal(1f, tree.ValuesOf(node).ToArray().Max());
        Assert.Equal(1.0, Accuracy(model.PredictProbabilities(FeatureTable.FromFloats(x, 5)), y, 3));
    }

    [Fact]
    public void FitTree_Limits_DepthAndLeafSizeAreRespected()
    {
        var (x, y) = Blobs(400, 4, 3, spread: 1.5, seed: 2);
        var table = FeatureTable.FromFloats(x, 4);
        var shallow = RandomForest.FitTree(table, y, 3, new DecisionTreeOptions(MaxDepth: 3)).Trees[0];
        Assert.True(shallow.Depth <= 3);
        var bushy = RandomForest.FitTree(table, y, 3, new DecisionTreeOptions(MinSamplesLeaf: 25)).Trees[0];
        for (int node = 0; node < bushy.NodeCount; node++)
            if (bushy.Left[node] < 0) Assert.True(bushy.Samples[node] >= 25, $"leaf {node} holds {bushy.Samples[node]} rows");
    }

    [Fact]
    public void FitTree_FewDistinctValues_HistogramSearchGrowsTheExactTree()
    {
        // Bytes with at most 200 distinct values per feature: every value gets its own bin, so histogram search is exact.
        var rng = new Random(3);
        int n = 500, d = 6;
        var bytes = new byte[n * d];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) bytes[i * d + j] = (byte)rng.Next(200);
            labels[i] = (bytes[i * d] + bytes[i * d + 1] > 200 ? 1 : 0) + (bytes[i * d + 2] > 150 ? 1 : 0);
        }
        var table = FeatureTable.FromBytes(bytes, d);
        var exact = RandomForest.FitTree(table, labels, 3, new DecisionTreeOptions(Search: SplitSearch.Exact, MinSamplesLeaf: 3)).Trees[0];
        var histogram = RandomForest.FitTree(table, labels, 3, new DecisionTreeOptions(Search: SplitSearch.Histogram, MinSamplesLeaf: 3)).Trees[0];
        Assert.Equal(exact.Feature, histogram.Feature);
        Assert.Equal(exact.Threshold, histogram.Threshold);
        Assert.Equal(exact.Values, histogram.Values);
    }

    [Fact]
    public void FitTree_SingleClass_IsRefusedWithAClearMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => RandomForest.FitTree(FeatureTable.FromFloats([1, 2, 3], 1), [1, 1, 1], 2,
            new DecisionTreeOptions()));
        Assert.Contains("single class", error.Message);
    }

    [Fact]
    public void Options_OutOfRange_NameTheOption()
    {
        Assert.Equal("MinSamplesLeaf", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new DecisionTreeOptions(MinSamplesLeaf: 0).Validate()).ParamName);
        Assert.Equal("MaxBins", Assert.Throws<ArgumentOutOfRangeException>(() => new DecisionTreeOptions(MaxBins: 256).Validate()).ParamName);
        Assert.Equal("MaxFeatures", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new DecisionTreeOptions(MaxFeatures: FeatureCount.Fraction(1.5)).Validate()).ParamName);
        Assert.Equal("SampleFraction", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new RandomForestOptions(SampleFraction: 0).Validate()).ParamName);
    }

    [Theory]
    [InlineData("sqrt", 28)]
    [InlineData("log2", 9)]
    [InlineData("all", 784)]
    [InlineData("0.5", 392)]
    [InlineData("100", 100)]
    [InlineData("1", 1)]
    public void FeatureCount_ParsesAndResolvesLikeScikitLearn(string text, int expected)
    {
        var count = FeatureCount.Parse(text);
        Assert.Equal(expected, count.Resolve(784));
        Assert.Equal(count, FeatureCount.Parse(count.ToString()));
    }

    [Fact]
    public void DecisionTree_InvalidArrays_AreRefused()
    {
        float[] values = [0.5f, 0.5f, 1, 0, 0, 1];
        float[] zeros = [0, 0, 0];
        DecisionTree Make(int[] feature, int[] left, int[] right, float threshold = 1) =>
            new(feature, [threshold, 0, 0], left, right, values, 2, zeros, zeros, dimension: 2);
        Make([0, -1, -1], [1, -1, -1], [2, -1, -1]); // valid
        Assert.Contains("feature 5", Assert.Throws<ArgumentException>(() => Make([5, -1, -1], [1, -1, -1], [2, -1, -1])).Message);
        Assert.Contains("follow their parent", Assert.Throws<ArgumentException>(() => Make([0, -1, -1], [0, -1, -1], [2, -1, -1])).Message);
        Assert.Contains("two parents", Assert.Throws<ArgumentException>(() => Make([0, -1, -1], [1, -1, -1], [1, -1, -1])).Message);
        Assert.Contains("neither a leaf", Assert.Throws<ArgumentException>(() => Make([0, -1, -1], [1, -1, -1], [-1, -1, -1])).Message);
        Assert.Contains("threshold", Assert.Throws<ArgumentException>(() => Make([0, -1, -1], [1, -1, -1], [2, -1, -1], float.NaN)).Message);
        Assert.Contains("unreachable", Assert.Throws<ArgumentException>(() =>
            new DecisionTree([-1, -1], [0, 0], [-1, -1], [-1, -1], [1, 0, 1, 0], 2, [0, 0], [0, 0], 2)).Message);
    }

    [Fact]
    public void FeatureBins_FewValues_MidpointEdgesAndCodesThatAgreeWithThem()
    {
        var table = FeatureTable.FromFloats([3, 1, 2, 1, 3], 1);
        var bins = FeatureBins.Fit(table, 255, 1);
        Assert.True(bins.Exact);
        Assert.Equal([1.5f, 2.5f], bins.Edges[0]);
        Assert.Equal(0, bins.Code(0, 1));
        Assert.Equal(1, bins.Code(0, 2));
        Assert.Equal(1, bins.Code(0, 2.5f));
        Assert.Equal(2, bins.Code(0, 2.5000002f));
        Assert.Equal(2, bins.Code(0, 99));
    }

    [Fact]
    public void FeatureBins_ManyValues_QuantileEdgesWithEveryBinUsed()
    {
        var values = Enumerable.Range(0, 1000).Select(i => (float)(i * i)).ToArray();
        var bins = FeatureBins.Fit(FeatureTable.FromFloats(values, 1), 10, 1);
        Assert.False(bins.Exact);
        Assert.Equal(10, bins.BinCount(0));
        var counts = new int[10];
        foreach (float v in values) counts[bins.Code(0, v)]++;
        Assert.All(counts, c => Assert.Equal(100, c));
    }

    [Fact]
    public void FeatureBins_BytesAndTheSameValuesAsFloats_GiveTheSameEdges()
    {
        var rng = new Random(4);
        var bytes = new byte[3000];
        rng.NextBytes(bytes);
        var fromBytes = FeatureBins.Fit(FeatureTable.FromBytes(bytes, 3), 64, 2);
        var fromFloats = FeatureBins.Fit(FeatureTable.FromFloats(bytes.Select(b => (float)b).ToArray(), 3), 64, 2);
        for (int f = 0; f < 3; f++) Assert.Equal(fromFloats.Edges[f], fromBytes.Edges[f]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void FeatureBins_BytesAndTheSameValuesAsFloats_MapToTheSameCodesAndBinRanges(int maxBins)
    {
        // 70 features: more than one 64-feature line of the byte path, with constant, few-valued and skewed features.
        const int n = 500, d = 70;
        var rng = new Random(7);
        var bytes = new byte[n * d];
        for (int i = 0; i < n; i++)
            for (int f = 0; f < d; f++)
                bytes[i * d + f] = (f % 7) switch
                {
                    0 => 0,
                    1 => (byte)(rng.Next(3) * 100),
                    2 => (byte)(rng.NextDouble() < 0.8 ? 0 : rng.Next(256)),
                    _ => (byte)rng.Next(256),
                };
        var byteTable = FeatureTable.FromBytes(bytes, d);
        var floatTable = FeatureTable.FromFloats(bytes.Select(b => (float)b).ToArray(), d);
        var fromBytes = FeatureBins.Fit(byteTable, maxBins, 2);
        var fromFloats = FeatureBins.Fit(floatTable, maxBins, 2);
        for (int f = 0; f < d; f++) Assert.Equal(fromFloats.Edges[f], fromBytes.Edges[f]);

        var byteCodes = (BinnedTable<byte>)fromBytes.Map(byteTable, 2);
        var floatCodes = (BinnedTable<byte>)fromFloats.Map(floatTable, 2);
        Assert.Equal(floatCodes.Codes, byteCodes.Codes);
        for (int f = 0; f < d; f++)
        {
            Assert.Equal(floatCodes.Low[f], byteCodes.Low[f]);
            Assert.Equal(floatCodes.High[f], byteCodes.High[f]);
            for (int i = 0; i < n; i++) // a code is the number of edges below the value
                Assert.Equal(fromBytes.Edges[f].Count(e => e < bytes[i * d + f]), byteCodes.Codes[f * n + i]);
        }
    }

    internal static (float[] X, int[] Y) Blobs(int n, int d, int classes, double spread, int seed)
    {
        var rng = new Random(seed);
        var centers = new double[classes, d];
        for (int c = 0; c < classes; c++)
            for (int j = 0; j < d; j++) centers[c, j] = rng.NextDouble() * 6;
        var x = new float[n * d];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % classes;
            for (int j = 0; j < d; j++)
            {
                double gaussian = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
                x[i * d + j] = (float)(centers[y[i], j] + spread * gaussian);
            }
        }
        return (x, y);
    }

    internal static double Accuracy(float[] probabilities, int[] labels, int classes)
    {
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            int best = 0;
            for (int k = 1; k < classes; k++)
                if (probabilities[i * classes + k] > probabilities[i * classes + best]) best = k;
            correct += best == labels[i] ? 1 : 0;
        }
        return (double)correct / labels.Length;
    }
}
