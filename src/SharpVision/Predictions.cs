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
    /// <summary>
    /// Predictions for Count = probabilities.Length / classes queries whose ranking orders each query's classes by
    /// descending probability, the lower class first among equals.
    /// </summary>
    /// <param name="probabilities">Count×Classes, rows summing to 1 (kept, not copied).</param>
    /// <param name="classes">Classes per query.</param>
    /// <exception cref="ArgumentException">A length that is not whole rows.</exception>
    public static Predictions Rank(float[] probabilities, int classes)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (probabilities.Length % classes != 0)
            throw new ArgumentException($"{probabilities.Length} probabilities are not whole rows of {classes}.", nameof(probabilities));
        int count = probabilities.Length / classes;
        var ranking = new int[count * classes];
        var p = new float[classes];
        for (int i = 0; i < count; i++)
        {
            probabilities.AsSpan(i * classes, classes).CopyTo(p);
            var row = ranking.AsSpan(i * classes, classes);
            for (int j = 0; j < classes; j++) row[j] = j;
            row.Sort((a, b) => p[a] != p[b] ? p[b].CompareTo(p[a]) : a.CompareTo(b));
        }
        return new Predictions(count, classes, probabilities, ranking);
    }

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
