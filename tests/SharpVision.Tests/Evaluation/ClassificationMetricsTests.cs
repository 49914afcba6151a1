using SharpVision.Classic;
using SharpVision.Evaluation;

namespace SharpVision.Tests.Evaluation;

public class ClassificationMetricsTests
{
    [Fact]
    public void Compute_MatchesTheDefinitionsOnAWorkedExample()
    {
        // truth a a a b b c ; predicted a a b b c c
        // a: TP 2, FP 0, FN 1 → P 1, R 2/3 ; b: TP 1, FP 1, FN 1 → P 1/2, R 1/2 ; c: TP 1, FP 1, FN 0 → P 1/2, R 1
        int[] truth = [0, 0, 0, 1, 1, 2];
        int[] predicted = [0, 0, 1, 1, 2, 2];
        var m = ClassificationMetrics.Compute(truth, predicted, ["a", "b", "c"]);
        Assert.Equal(4.0 / 6, m.Accuracy, 12);
        Assert.Equal([2, 1, 0], m.ConfusionMatrix[0]);
        Assert.Equal([0, 1, 1], m.ConfusionMatrix[1]);
        Assert.Equal([0, 0, 1], m.ConfusionMatrix[2]);
        Assert.Equal((1.0, 2.0 / 3), (m.PerClass[0].Precision, m.PerClass[0].Recall));
        Assert.Equal(2 * 1.0 * (2.0 / 3) / (1 + 2.0 / 3), m.PerClass[0].F1, 12);
        Assert.Equal((0.5, 1.0), (m.PerClass[2].Precision, m.PerClass[2].Recall));
        Assert.Equal(3, m.PerClass[0].Support);
    }

    [Fact]
    public void Compute_TopFive_CountsTruthAnywhereInTheFirstFiveRanks()
    {
        var ranking = new[] { 0, 1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 0, 6 };
        var p = new Predictions(2, 7, new float[14], ranking);
        var m = ClassificationMetrics.Compute([5, 6], p, Enumerable.Range(0, 7).Select(i => i.ToString()).ToArray());
        Assert.Equal(0.0, m.Accuracy);
        Assert.Equal(0.0, m.Top5Accuracy); // 5 is rank 6 for the first; 6 is rank 7 for the second
        var m2 = ClassificationMetrics.Compute([4, 1], p, Enumerable.Range(0, 7).Select(i => i.ToString()).ToArray());
        Assert.Equal(1.0, m2.Top5Accuracy);
    }
}
