using SharpVision.Classic.Trees;

namespace SharpVision.Tests.Classic.Trees;

public class RandomForestTests
{
    [Fact]
    public void Fit_AnyThreadCount_SameBits()
    {
        var (x, y) = DecisionTreeTests.Blobs(600, 8, 4, spread: 2.0, seed: 5);
        var table = FeatureTable.FromFloats(x, 8);
        var options = new RandomForestOptions(Trees: 12);
        var one = RandomForest.Fit(table, y, 4, options, seed: 3, threads: 1);
        var three = RandomForest.Fit(table, y, 4, options, seed: 3, threads: 3);
        for (int t = 0; t < 12; t++)
        {
            Assert.Equal(one.Trees[t].Feature, three.Trees[t].Feature);
            Assert.Equal(one.Trees[t].Threshold, three.Trees[t].Threshold);
            Assert.Equal(one.Trees[t].Values, three.Trees[t].Values);
        }
        Assert.Equal(one.PredictProbabilities(table, 1), three.PredictProbabilities(table, 3));
        Assert.Equal(one.OutOfBagAccuracy, three.OutOfBagAccuracy);
        Assert.Equal(one.FeatureImportances, three.FeatureImportances);
        var other = RandomForest.Fit(table, y, 4, options, seed: 4, threads: 2);
        Assert.NotEqual(one.Trees[0].Threshold, other.Trees[0].Threshold);
    }

    [Fact]
    public void OutOfBagAccuracy_IsTheVoteOfTheTreesThatDidNotDrawEachRow()
    {
        var (x, y) = DecisionTreeTests.Blobs(300, 4, 3, spread: 1.0, seed: 6);
        var table = FeatureTable.FromFloats(x, 4);
        var forest = RandomForest.Fit(table, y, 3, new RandomForestOptions(Trees: 9), seed: 11, threads: 2);
        int scored = 0, correct = 0;
        var inBag = Enumerable.Range(0, 9).Select(t => RandomForest.BootstrapCounts(300, 300, 11, t)).ToArray();
        for (int i = 0; i < 300; i++)
        {
            var sum = new double[3];
            bool any = false;
            for (int t = 0; t < 9; t++)
            {
                if (inBag[t][i] > 0) continue;
                any = true;
                var tree = forest.Trees[t];
                var values = tree.ValuesOf(tree.Leaf(x.AsSpan(i * 4, 4)));
                for (int k = 0; k < 3; k++) sum[k] += values[k];
            }
            if (!any) continue;
            scored++;
            correct += Array.IndexOf(sum, sum.Max()) == y[i] ? 1 : 0;
        }
        Assert.Equal((double)correct / scored, forest.OutOfBagAccuracy!.Value, 12);
        Assert.True(forest.OutOfBagAccuracy > 0.6, $"out-of-bag accuracy {forest.OutOfBagAccuracy}");
    }

    [Fact]
    public void Fit_Blobs_GeneralizesAndImportancesPointAtTheInformativeFeatures()
    {
        // Classes differ only in features 0 and 1; the other six are noise.
        var rng = new Random(7);
        int n = 900, d = 8;
        var x = new float[n * d];
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = i % 3;
            for (int j = 0; j < d; j++) x[i * d + j] = (float)rng.NextDouble();
            x[i * d] += y[i];
            x[i * d + 1] += y[i] == 2 ? 1 : 0;
        }
        var train = FeatureTable.FromFloats(x[..(600 * d)], d);
        var test = FeatureTable.FromFloats(x[(600 * d)..], d);
        var forest = RandomForest.Fit(train, y[..600], 3, new RandomForestOptions(Trees: 30), seed: 1, threads: 2);
        Assert.True(DecisionTreeTests.Accuracy(forest.PredictProbabilities(test, 2), y[600..], 3) > 0.95);
        Assert.Equal(1.0, forest.FeatureImportances.Sum(), 5);
        Assert.True(forest.FeatureImportances[0] + forest.FeatureImportances[1] > 0.5);
        var probabilities = forest.PredictProbabilities(test, 1);
        for (int i = 0; i < 300; i++) Assert.Equal(1.0, probabilities.AsSpan(i * 3, 3).ToArray().Sum(), 5);
    }

    [Fact]
    public void Fit_BytesAndTheirFloatValues_GrowTheSameForest()
    {
        var rng = new Random(8);
        var bytes = new byte[400 * 10];
        rng.NextBytes(bytes);
        var labels = Enumerable.Range(0, 400).Select(i => bytes[i * 10] > 128 ? 1 : bytes[i * 10 + 1] > 200 ? 2 : 0).ToArray();
        var options = new RandomForestOptions(Trees: 5);
        var fromBytes = RandomForest.Fit(FeatureTable.FromBytes(bytes, 10), labels, 3, options, seed: 2, threads: 2);
        var fromFloats = RandomForest.Fit(FeatureTable.FromFloats(bytes.Select(b => (float)b).ToArray(), 10), labels, 3, options, seed: 2,
            threads: 2);
        for (int t = 0; t < 5; t++) Assert.Equal(fromBytes.Trees[t].Threshold, fromFloats.Trees[t].Threshold);
    }

    [Fact]
    public void CartBuilder_LocalCodeTables_GrowTheSameTreeAsTheGlobalTable()
    {
        // Deep nodes copy their rows' codes into a small local table; the tree must not notice.
        var (x, y) = DecisionTreeTests.Blobs(6_000, 6, 5, spread: 3.0, seed: 9);
        var table = FeatureTable.FromFloats(x, 6);
        var binned = FeatureBins.Fit(table, 255, 2).Map<byte>(table, 2);
        binned.PrepareRowMajor(2);
        var options = new DecisionTreeOptions(MaxFeatures: FeatureCount.Fixed(3));
        var weights = RandomForest.BootstrapCounts(6_000, 6_000, 1, 0);
        var local = new CartBuilder<byte>(binned, y, 5, options, localBytes: 4096);
        var global = new CartBuilder<byte>(binned, y, 5, options, localBytes: 0);
        Assert.True(local.LocalRows > 0 && local.LocalRows < 1000);
        var a = local.Grow(weights, new SharpVision.Tensors.Rng(5));
        var b = global.Grow(weights, new SharpVision.Tensors.Rng(5));
        Assert.True(a.NodeCount > 200);
        Assert.Equal(b.Feature, a.Feature);
        Assert.Equal(b.Threshold, a.Threshold);
        Assert.Equal(b.Values, a.Values);
    }
}
