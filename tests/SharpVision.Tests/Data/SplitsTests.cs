using SharpVision.Data;

namespace SharpVision.Tests.Data;

public class SplitsTests
{
    private static int[] Labels(int seed) => Enumerable.Range(0, 997).Select(i => new Random(seed + i).Next(7) == 0 ? 6 : i % 5).ToArray();

    [Fact]
    public void StratifiedSplit_PartitionsAndKeepsClassShares()
    {
        var labels = Labels(1);
        var (first, second) = Splits.StratifiedSplit(labels, 0.25, seed: 3);
        Assert.Equal(Enumerable.Range(0, labels.Length), first.Concat(second).Order());
        foreach (var c in labels.Distinct())
        {
            int total = labels.Count(l => l == c);
            int inFirst = first.Count(i => labels[i] == c);
            Assert.InRange(inFirst, Math.Floor(0.25 * total), Math.Ceiling(0.25 * total));
        }
        Assert.Equal(first, Splits.StratifiedSplit(labels, 0.25, seed: 3).First);
        Assert.NotEqual(first, Splits.StratifiedSplit(labels, 0.25, seed: 4).First);
    }

    [Fact]
    public void StratifiedKFold_EveryIndexValidatesOnce_ClassCountsDifferByAtMostOne()
    {
        var labels = Labels(2);
        var folds = Splits.StratifiedKFold(labels, 5, seed: 1);
        Assert.Equal(Enumerable.Range(0, labels.Length), folds.SelectMany(f => f.Validation).Order());
        foreach (var (train, validation) in folds)
            Assert.Equal(Enumerable.Range(0, labels.Length), train.Concat(validation).Order());
        foreach (var c in labels.Distinct())
        {
            var perFold = folds.Select(f => f.Validation.Count(i => labels[i] == c)).ToArray();
            Assert.True(perFold.Max() - perFold.Min() <= 1, $"class {c}: {string.Join(",", perFold)}");
        }
    }
}
