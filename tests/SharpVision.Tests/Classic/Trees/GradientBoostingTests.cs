using System.Runtime.Intrinsics;
using SharpVision.Classic.Trees;
using SharpVision.Classic.Trees.Reference;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Classic.Trees;

public class GradientBoostingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(63)]
    [InlineData(513)]
    public void Accumulate_MatchesTheScalarReferenceBitForBit(int rowCount)
    {
        var rng = new Random(rowCount);
        int n = 1000, bins = 37;
        var codes = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, n).Select(_ => (byte)rng.Next(bins)).ToArray()).ToArray();
        var rows = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(rowCount).Order().ToArray();
        var g = rows.Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var h = rows.Select(_ => (float)rng.NextDouble() * 0.25f).ToArray();
        var ordered = rows.Select((_, i) => Vector128.Create(g[i], h[i], 1f, 0f)).ToArray();
        var fast = Enumerable.Range(0, 4).Select(_ => new Vector128<float>[bins]).ToArray();
        GradientHistograms.Accumulate4(codes[0], codes[1], codes[2], codes[3], fast[0], fast[1], fast[2], fast[3], rows, ordered);
        var single = new Vector128<float>[bins];
        GradientHistograms.Accumulate(codes[2], single, rows, ordered);
        for (int f = 0; f < 4; f++)
        {
            var reference = new float[bins, 3];
            GradientHistogramsReference.Accumulate(codes[f], reference, rows, g, h);
            for (int b = 0; b < bins; b++)
                for (int c = 0; c < 3; c++) Assert.Equal(reference[b, c], fast[f][b].GetElement(c));
        }
        Assert.Equal(fast[2], single);
    }

    [Theory]
    [InlineData(2, 0f, 1f, 0f)]
    [InlineData(9, 0f, 1f, 1e-3f)]
    [InlineData(40, 1f, 5f, 0.1f)]
    [InlineData(255, 0.5f, 20f, 1e-3f)]
    public void BestThreshold_MatchesTheScalarReferenceBitForBit(int bins, float lambda, float minRows, float minHessian)
    {
        var rng = new Random(bins);
        for (int trial = 0; trial < 20; trial++)
        {
            var histogram = new Vector128<float>[bins];
            var reference = new float[bins, 3];
            var total = Vector128<float>.Zero;
            for (int b = 0; b < bins; b++)
            {
                int count = rng.Next(4) == 0 ? 0 : rng.Next(1, 30);
                float g = count == 0 ? 0 : (float)(rng.NextDouble() * 2 - 1) * count, hess = count == 0 ? 0 : (float)rng.NextDouble() * 0.25f * count;
                histogram[b] = Vector128.Create(g, hess, count, 0f);
                (reference[b, 0], reference[b, 1], reference[b, 2]) = (g, hess, count);
                total += histogram[b];
            }
            var slow = GradientHistogramsReference.BestThreshold(reference, total.GetElement(0), total.GetElement(1), total.GetElement(2), lambda,
                minRows, minHessian);
            foreach (var level in SimdPaths.SupportedLevels) // the 256-bit path and the scalar one
            {
                using var forced = SimdPaths.Force(level);
                Assert.Equal(slow, GradientHistograms.BestThreshold(histogram, total, lambda, minRows, minHessian, new float[3 * bins]));
            }
        }
    }

    [Fact]
    public void Fit_OneRoundOfStumps_LeavesAreShrunkNewtonSteps()
    {
        // Two classes of 5 rows on one feature: round 1 starts from the log class frequencies, so p = (½, ½) for every
        // row and class 0's gradients are g = p − [y = 0] = ∓½, hessians h = p(1 − p) = ¼. Class 0 is rows 1..5.
        float[] x = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        int[] y = [1, 0, 0, 0, 0, 0, 1, 1, 1, 1];
        var options = new GradientBoostingOptions(Rounds: 1, LearningRate: 0.5, MaxLeaves: 2, MinSamplesLeaf: 1, L2: 1, MaxBins: 16);
        var model = GradientBoosting.Fit(FeatureTable.FromFloats(x, 1), y, 2, options);
        Assert.Equal(2, model.Trees.Count);
        Assert.Equal(model.InitialScores[0], model.InitialScores[1]);
        var tree = model.Trees[0]; // class 0's tree
        Assert.Equal(3, tree.NodeCount);
        // Best threshold 5.5: left rows 0..5 have G = ½ − 5·½ = −2, H = 1.5; right rows 6..9 have G = 2, H = 1; the score
        // GL²/(HL+λ) + GR²/(HR+λ) = 4/2.5 + 4/2 = 3.6 beats every other threshold (4.5 gives 2, 0.5 gives 0.28), and
        // the parent's G = 0, so the gain is 3.6.
        Assert.Equal(5.5f, tree.Threshold[0]);
        Assert.Equal(3.6f, tree.Gain[0], 5);
        Assert.Equal((float)(-0.5 * -2 / (1.5 + 1)), tree.Values[tree.Left[0]], 6);
        Assert.Equal((float)(-0.5 * 2 / (1.0 + 1)), tree.Values[tree.Right[0]], 6);
        Assert.Equal(6f, tree.Samples[tree.Left[0]]);
    }

    [Fact]
    public void Fit_AnyThreadCount_SameBits_WithRowAndFeatureSampling()
    {
        var (x, y) = DecisionTreeTests.Blobs(800, 6, 4, spread: 2.0, seed: 12);
        var table = FeatureTable.FromFloats(x, 6);
        var options = new GradientBoostingOptions(Rounds: 8, MaxLeaves: 7, Subsample: 0.7, ColumnSample: 0.5, MinSamplesLeaf: 5);
        var one = GradientBoosting.Fit(table, y, 4, options, seed: 5, threads: 1);
        var three = GradientBoosting.Fit(table, y, 4, options, seed: 5, threads: 3);
        Assert.Equal(one.Trees.Count, three.Trees.Count);
        for (int t = 0; t < one.Trees.Count; t++)
        {
            Assert.Equal(one.Trees[t].Feature, three.Trees[t].Feature);
            Assert.Equal(one.Trees[t].Threshold, three.Trees[t].Threshold);
            Assert.Equal(one.Trees[t].Values, three.Trees[t].Values);
        }
        Assert.Equal(one.History.Select(r => r.TrainLoss), three.History.Select(r => r.TrainLoss));
        Assert.Equal(one.PredictScores(table, 1), three.PredictScores(table, 2));
    }

    [Fact]
    public void Fit_Blobs_LossFallsAndTheModelGeneralizes()
    {
        var (x, y) = DecisionTreeTests.Blobs(1200, 5, 3, spread: 0.8, seed: 13);
        var train = FeatureTable.FromFloats(x[..(900 * 5)], 5);
        var test = FeatureTable.FromFloats(x[(900 * 5)..], 5);
        var model = GradientBoosting.Fit(train, y[..900], 3, new GradientBoostingOptions(Rounds: 30, MaxLeaves: 8), threads: 2);
        for (int r = 1; r < model.History.Count; r++) Assert.True(model.History[r].TrainLoss < model.History[r - 1].TrainLoss);
        double accuracy = DecisionTreeTests.Accuracy(model.PredictProbabilities(test, 2), y[900..], 3);
        Assert.True(accuracy > 0.9, $"accuracy {accuracy}");
        var probabilities = model.PredictProbabilities(test);
        for (int i = 0; i < 300; i++) Assert.Equal(1.0, probabilities.AsSpan(i * 3, 3).ToArray().Sum(), 5);
        Assert.Equal(1.0, model.FeatureImportances.Sum(), 5);
    }

    [Fact]
    public void Fit_EarlyStopping_KeepsTheRoundsUpToTheBestValidationLoss()
    {
        // Noisy labels and many leaves: the validation loss soon rises; the model keeps the best round's trees.
        var (x, y) = DecisionTreeTests.Blobs(900, 4, 3, spread: 4.0, seed: 14);
        var rng = new Random(1);
        for (int i = 0; i < y.Length; i++)
            if (rng.Next(3) == 0) y[i] = rng.Next(3);
        var train = FeatureTable.FromFloats(x[..(600 * 4)], 4);
        var validation = FeatureTable.FromFloats(x[(600 * 4)..], 4);
        var options = new GradientBoostingOptions(Rounds: 200, LearningRate: 0.3, MaxLeaves: 31, MinSamplesLeaf: 2, EarlyStoppingRounds: 5);
        var model = GradientBoosting.Fit(train, y[..600], 3, options, validation, y[600..]);
        Assert.True(model.History.Count < 200);
        double best = model.History.Min(r => r.ValidationLoss!.Value);
        int bestRound = model.History.First(r => r.ValidationLoss == best).Round;
        Assert.Equal(bestRound, model.Rounds);
        Assert.Equal(bestRound + 5, model.History.Count);
        Assert.Throws<ArgumentException>(() => GradientBoosting.Fit(train, y[..600], 3, options));
    }

    [Fact]
    public void Options_OutOfRange_NameTheOption()
    {
        Assert.Equal("MaxLeaves", Assert.Throws<ArgumentOutOfRangeException>(() => new GradientBoostingOptions(MaxLeaves: 1).Validate()).ParamName);
        Assert.Equal("LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new GradientBoostingOptions(LearningRate: 0).Validate()).ParamName);
        Assert.Equal("Subsample", Assert.Throws<ArgumentOutOfRangeException>(() => new GradientBoostingOptions(Subsample: 1.5).Validate()).ParamName);
        Assert.Equal("ColumnSample", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new GradientBoostingOptions(ColumnSample: 0).Validate()).ParamName);
    }
}
