using SharpVision.Classic;
using SharpVision.Data;

namespace SharpVision.Tests.Classic;

public class KNearestNeighborsTests
{
    // 1×1×1 "images": the pixel value is the position on a line, so distances are easy to reason about.
    private static ImageDataset Line(byte[] values, int[] labels, int classes = 3) =>
        new("line", 1, 1, 1, values, labels, Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray());

    [Fact]
    public void Predict_VoteTie_GoesToTheClassWithTheNearestMember()
    {
        // Query at 10: neighbours 9 (class 1), 12 (class 0) → one vote each; class 1's member is nearer.
        var model = new KNearestNeighbors(new(K: 2, DistanceMetric.Manhattan)).FitPixels(Line([12, 9, 40], [0, 1, 2]));
        var p = model.Predict([10]);
        Assert.Equal(1, p.Label(0));
        Assert.Equal([1, 0, 2], p.Top(0, 3).ToArray());
        Assert.Equal(0.5f, p.ProbabilitiesOf(0)[0]);
    }

    [Fact]
    public void Predict_EqualDistances_LowerTrainingIndexWins()
    {
        // Two training points at distance 1 (indices 0 and 1, classes 2 and 0): with k=1 index 0 must win.
        var model = new KNearestNeighbors(new(K: 1, DistanceMetric.Euclidean)).FitPixels(Line([11, 9, 50], [2, 0, 1]));
        Assert.Equal(2, model.Predict([10]).Label(0));
    }

    [Fact]
    public void Predict_DistanceWeights_NearOutvotesMany_AndExactMatchesDecide()
    {
        // Query 10: class 0 at 11 (weight 1), class 1 at 20 and 21 (weights 0.1 + 0.0909): class 0 wins despite fewer votes.
        var train = Line([11, 20, 21], [0, 1, 1]);
        Assert.Equal(1, new KNearestNeighbors(new(3, DistanceMetric.Manhattan, NeighborWeighting.Uniform)).FitPixels(train).Predict([10]).Label(0));
        var weighted = new KNearestNeighbors(new(3, DistanceMetric.Manhattan, NeighborWeighting.Distance)).FitPixels(train).Predict([10]);
        Assert.Equal(0, weighted.Label(0));
        Assert.Equal(1 / (1 + 1 / 10.0 + 1 / 11.0), weighted.ProbabilitiesOf(0)[0], 5);
        // A query at 20 matches a class-1 point exactly: only exact matches vote.
        var exact = new KNearestNeighbors(new(3, DistanceMetric.Manhattan, NeighborWeighting.Distance)).FitPixels(train).Predict([20]);
        Assert.Equal(1f, exact.ProbabilitiesOf(0)[1]);
    }

    [Fact]
    public void Fit_KLargerThanTrainingSet_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KNearestNeighbors(new(K: 4)).FitPixels(Line([1, 2, 3], [0, 1, 2])));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KNearestNeighbors(new(K: 0)).FitPixels(Line([1, 2, 3], [0, 1, 2])));
    }

    [Fact]
    public void Predict_ShippedSample_BeatsChanceByFar_AndMatchesTheOracleVote()
    {
        var splits = DatasetLoader.Load(new DatasetLocator(null, _ => null, Path.GetTempPath(), useSystemDirectories: false).Locate("fashion-mnist"));
        var model = new KNearestNeighbors(new(K: 5, DistanceMetric.Manhattan)).FitPixels(splits.Train);
        // 10 balanced classes: chance is 0.1. Raw-pixel k-NN on Fashion-MNIST is known to reach ~0.85 on the full set.
        Assert.InRange(model.Score(splits.Test), 0.6, 1.0);
        var queries = splits.Test.Subset(Enumerable.Range(0, 40).ToArray());
        var oracle = SharpVision.Classic.Reference.NeighborSearchReference.Search(splits.Train.Pixels, splits.Train.Labels, 10, queries.Pixels, 784, DistanceMetric.Manhattan, 5);
        Assert.Equal(model.Vote(oracle).Labels(), model.Predict(queries).Labels());
    }
}
