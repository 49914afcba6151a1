namespace SharpVision.Data;

/// <summary>
/// Seeded, stratified index splits: every class keeps its proportion in each part.
/// The same labels and seed always give the same indices (System.Random with a seed is stable across .NET versions).
/// </summary>
public static class Splits
{
    /// <summary>
    /// Splits indices 0..N-1 into (first, second) where each class contributes round(fraction·n_c) to <c>first</c>
    /// (at least one and at most n_c − 1 when a class has two or more samples). Both parts come back sorted.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="fraction"/> is not in (0, 1).</exception>
    public static (int[] First, int[] Second) StratifiedSplit(ReadOnlySpan<int> labels, double fraction, int seed)
    {
        if (!(fraction > 0 && fraction < 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "Fraction must be between 0 and 1 (exclusive).");
        var first = new List<int>();
        var second = new List<int>();
        var rng = new Random(seed);
        foreach (var members in ByClass(labels))
        {
            Shuffle(members, rng);
            int take = (int)Math.Round(fraction * members.Length, MidpointRounding.AwayFromZero);
            if (members.Length >= 2) take = Math.Clamp(take, 1, members.Length - 1);
            first.AddRange(members.AsSpan(0, take));
            second.AddRange(members.AsSpan(take));
        }
        first.Sort();
        second.Sort();
        return (first.ToArray(), second.ToArray());
    }

    /// <summary>
    /// Stratified k-fold: each class's shuffled members are dealt round-robin to the folds, so fold sizes per class
    /// differ by at most one. Returns, per fold, the sorted held-out (validation) indices and the sorted remaining (training) indices.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="folds"/> &lt; 2 or exceeds the sample count.</exception>
    public static IReadOnlyList<(int[] Train, int[] Validation)> StratifiedKFold(ReadOnlySpan<int> labels, int folds, int seed)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "At least 2 folds are needed.");
        if (folds > labels.Length) throw new ArgumentOutOfRangeException(nameof(folds), folds, $"More folds than samples ({labels.Length}).");
        var rng = new Random(seed);
        var foldOf = new int[labels.Length];
        int offset = 0;
        foreach (var members in ByClass(labels))
        {
            Shuffle(members, rng);
            // Continue dealing where the previous class stopped so small classes don't all land in fold 0.
            for (int i = 0; i < members.Length; i++) foldOf[members[i]] = (offset + i) % folds;
            offset = (offset + members.Length) % folds;
        }
        var result = new (int[], int[])[folds];
        for (int f = 0; f < folds; f++)
        {
            var validation = new List<int>();
            var train = new List<int>();
            for (int i = 0; i < foldOf.Length; i++) (foldOf[i] == f ? validation : train).Add(i);
            result[f] = (train.ToArray(), validation.ToArray());
        }
        return result;
    }

    private static List<int[]> ByClass(ReadOnlySpan<int> labels)
    {
        var groups = new SortedDictionary<int, List<int>>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (!groups.TryGetValue(labels[i], out var list)) groups[labels[i]] = list = new List<int>();
            list.Add(i);
        }
        return groups.Values.Select(g => g.ToArray()).ToList();
    }

    // Fisher–Yates with the caller's generator.
    private static void Shuffle(int[] items, Random rng)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
