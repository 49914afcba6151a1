namespace SharpVision;

/// <summary>
/// A classifier's answer for a batch: per query, class probabilities and all classes ranked from most to least likely.
/// </summary>
/// <param name="Count">Number of queries.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="Probabilities">Count×Classes, each row sums to 1 (or 0 when undefined).</param>
/// <param name="Ranking">Count×Classes class indices; column 0 is the prediction.</param>
public sealed record Predictions(int Count, int Classes, float[] Probabilities, int[] Ranking)
{
    /// <summary>The predicted class of query <paramref name="i"/>.</summary>
    public int Label(int i) => Ranking[i * Classes];

    /// <summary>All predicted classes.</summary>
    public int[] Labels()
    {
        var labels = new int[Count];
        for (int i = 0; i < Count; i++) labels[i] = Label(i);
        return labels;
    }

    /// <summary>The <paramref name="top"/> most likely classes of query <paramref name="i"/>.</summary>
    public ReadOnlySpan<int> Top(int i, int top) => Ranking.AsSpan(i * Classes, Math.Min(top, Classes));

    public ReadOnlySpan<float> ProbabilitiesOf(int i) => Probabilities.AsSpan(i * Classes, Classes);
}
