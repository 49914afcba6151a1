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

    /// <summary>The probabilities of query <paramref name="i"/>, one per class.</summary>
    public ReadOnlySpan<float> ProbabilitiesOf(int i) => Probabilities.AsSpan(i * Classes, Classes);

    /// <summary>The share of queries whose label is among their <paramref name="k"/> top-ranked classes (0 for no queries).</summary>
    /// <exception cref="ArgumentException"><paramref name="labels"/> has another length than <see cref="Count"/>.</exception>
    public double TopKAccuracy(ReadOnlySpan<int> labels, int k)
    {
        if (labels.Length != Count) throw new ArgumentException($"{labels.Length} labels for {Count} predictions.", nameof(labels));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int hits = 0;
        for (int i = 0; i < Count; i++)
            if (Top(i, k).Contains(labels[i])) hits++;
        return Count == 0 ? 0 : (double)hits / Count;
    }
}
