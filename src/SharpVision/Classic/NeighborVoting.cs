namespace SharpVision.Classic;

/// <summary>
/// Turns a query's k nearest neighbours into class probabilities and a full class ranking. Shared by the fast search
/// and the reference oracle so both follow one documented rule.
/// </summary>
/// <remarks>
/// Tie-break, documented: neighbours are ordered by (distance, training index), so among equally distant training
/// images the earlier one wins a place in the k. Classes are ranked by (votes descending, rank of the class's first
/// neighbour ascending); classes with no vote follow, ordered by the distance of their nearest training image (the
/// search tracks it for every class), then by class index. So a vote tie goes to the class whose member is nearest.
/// </remarks>
internal static class NeighborVoting
{
    /// <param name="distances">The k neighbour distances, ascending (squared for Euclidean).</param>
    /// <param name="labels">The k neighbour labels, in the same order.</param>
    /// <param name="classNearest">Per class, the distance to its nearest training image (long.MaxValue if none).</param>
    /// <param name="metric">Metric the distances are in.</param>
    /// <param name="weighting">Vote weighting.</param>
    /// <param name="probabilities">Destination, one per class: votes / total votes.</param>
    /// <param name="ranking">Destination, all class indices from most to least likely.</param>
    public static void Vote(
        ReadOnlySpan<double> distances, ReadOnlySpan<int> labels, ReadOnlySpan<double> classNearest, DistanceMetric metric,
        NeighborWeighting weighting, Span<float> probabilities, Span<int> ranking)
    {
        int classes = probabilities.Length;
        Span<double> votes = stackalloc double[classes];
        Span<int> firstRank = stackalloc int[classes];
        votes.Clear();
        firstRank.Fill(int.MaxValue);
        bool anyExact = false;
        foreach (double d in distances) anyExact |= d == 0;
        for (int i = 0; i < distances.Length; i++)
        {
            int c = labels[i];
            if (firstRank[c] == int.MaxValue) firstRank[c] = i;
            double weight = weighting switch
            {
                NeighborWeighting.Uniform => 1,
                _ when anyExact => distances[i] == 0 ? 1 : 0,
                _ => 1 / (metric == DistanceMetric.Euclidean ? Math.Sqrt(distances[i]) : distances[i]),
            };
            votes[c] += weight;
        }
        double total = 0;
        foreach (double v in votes) total += v;
        for (int c = 0; c < classes; c++)
        {
            probabilities[c] = total > 0 ? (float)(votes[c] / total) : 0f;
            ranking[c] = c;
        }
        // Insertion sort: classes are few (10–100) and the comparison is the documented rule above.
        for (int i = 1; i < classes; i++)
        {
            int item = ranking[i];
            int j = i - 1;
            while (j >= 0 && Before(item, ranking[j], votes, firstRank, classNearest))
            {
                ranking[j + 1] = ranking[j];
                j--;
            }
            ranking[j + 1] = item;
        }
    }

    private static bool Before(int a, int b, ReadOnlySpan<double> votes, ReadOnlySpan<int> firstRank, ReadOnlySpan<double> nearest)
    {
        if (votes[a] != votes[b]) return votes[a] > votes[b];
        if (firstRank[a] != firstRank[b]) return firstRank[a] < firstRank[b];
        if (nearest[a] != nearest[b]) return nearest[a] < nearest[b];
        return a < b;
    }
}
