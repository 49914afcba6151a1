namespace SharpVision.Analysis;

/// <summary>How well a 2-D map keeps classes apart, per class, from each point's nearest neighbours on the map.</summary>
/// <param name="K">Neighbours looked at per point.</param>
/// <param name="Purity">Per class: the fraction of its points whose k nearest map neighbours are all of the same class.</param>
/// <param name="NeighborAccuracy">Per class: the fraction of its points that a leave-one-out k-NN vote on the map
/// (majority of the k nearest other points; a tie goes to the class of the nearest among the tied) labels correctly.</param>
/// <param name="OverallPurity">The purity over all points.</param>
/// <param name="OverallNeighborAccuracy">The leave-one-out k-NN accuracy over all points.</param>
public sealed record EmbeddingQuality(int K, double[] Purity, double[] NeighborAccuracy, double OverallPurity, double OverallNeighborAccuracy)
{
    /// <summary>
    /// Measures a map: for each point its k nearest other points on the map (exact, Euclidean, ties by lower index).
    /// </summary>
    /// <param name="coordinates">n×2 (x₀, y₀, …).</param>
    /// <param name="labels">n class indices in [0, classes).</param>
    /// <param name="classes">Number of classes.</param>
    /// <param name="k">Neighbours per point, 1..n−1.</param>
    /// <param name="threads">Worker threads (results do not depend on it).</param>
    /// <exception cref="ArgumentException">Sizes disagree, k out of range, a label out of range, or a coordinate that is not finite.</exception>
    public static EmbeddingQuality Measure(ReadOnlySpan<float> coordinates, ReadOnlySpan<int> labels, int classes, int k = 10, int threads = 1)
    {
        int n = labels.Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (coordinates.Length != 2 * n) throw new ArgumentException($"{n} labels need {2 * n} coordinates; got {coordinates.Length}.", nameof(coordinates));
        if (k < 1 || k > n - 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and n − 1 = {n - 1}.");
        foreach (int label in labels)
            if ((uint)label >= (uint)classes) throw new ArgumentException($"Label {label} is outside 0..{classes - 1}.", nameof(labels));
        if (!Pca.IsFinite(coordinates)) throw new ArgumentException("A coordinate is NaN or infinite.", nameof(coordinates));

        var xy = Array.ConvertAll(coordinates.ToArray(), v => (double)v);
        var y = labels.ToArray();
        var pure = new bool[n];
        var correct = new bool[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = threads }, () => (new (double, int)[k], new int[classes]), (i, _, scratch) =>
        {
            // The k smallest (distance, index) pairs, kept sorted by insertion.
            var (nearest, votes) = scratch;
            int size = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double dx = xy[2 * i] - xy[2 * j], dy = xy[2 * i + 1] - xy[2 * j + 1];
                var candidate = (dx * dx + dy * dy, j);
                if (size == k && candidate.CompareTo(nearest[k - 1]) >= 0) continue;
                int at = size < k ? size++ : k - 1;
                while (at > 0 && candidate.CompareTo(nearest[at - 1]) < 0)
                {
                    nearest[at] = nearest[at - 1];
                    at--;
                }
                nearest[at] = candidate;
            }
            Array.Clear(votes);
            bool allSame = true;
            for (int r = 0; r < k; r++)
            {
                int c = y[nearest[r].Item2];
                votes[c]++;
                allSame &= c == y[i];
            }
            int best = -1;
            for (int r = 0; r < k; r++)
            {
                int c = y[nearest[r].Item2];
                if (best < 0 || votes[c] > votes[best]) best = c; // among equal votes the first reached, i.e. the nearest
            }
            pure[i] = allSame;
            correct[i] = best == y[i];
            return scratch;
        }, _ => { });

        var counts = new int[classes];
        var pureCounts = new int[classes];
        var correctCounts = new int[classes];
        for (int i = 0; i < n; i++)
        {
            counts[y[i]]++;
            if (pure[i]) pureCounts[y[i]]++;
            if (correct[i]) correctCounts[y[i]]++;
        }
        var purity = new double[classes];
        var accuracy = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            purity[c] = counts[c] == 0 ? double.NaN : (double)pureCounts[c] / counts[c];
            accuracy[c] = counts[c] == 0 ? double.NaN : (double)correctCounts[c] / counts[c];
        }
        return new EmbeddingQuality(k, purity, accuracy, (double)pureCounts.Sum() / n, (double)correctCounts.Sum() / n);
    }
}
