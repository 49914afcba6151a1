namespace SharpVision.Classic.Reference;

/// <summary>
/// The test oracle for <see cref="NeighborSearch"/>: every distance computed the plain way (no padding, no SIMD, no
/// algebraic identity), then a full stable sort by (distance, index). Slow on purpose; obviously right.
/// </summary>
public static class NeighborSearchReference
{
    /// <summary>Same contract as <see cref="NeighborSearch.Search(ReadOnlySpan{byte}, ReadOnlySpan{int}, int, ReadOnlySpan{byte}, int, DistanceMetric, int, int)"/>.</summary>
    public static NeighborResult Search(
        ReadOnlySpan<byte> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<byte> queries, int dimension,
        DistanceMetric metric, int k)
    {
        int n = train.Length / dimension, q = queries.Length / dimension;
        var distances = new double[q * k];
        var indices = new int[q * k];
        var nearest = new double[q * classes];
        var all = new (long Distance, int Index)[n];
        for (int i = 0; i < q; i++)
        {
            var query = queries.Slice(i * dimension, dimension);
            nearest.AsSpan(i * classes, classes).Fill(double.PositiveInfinity);
            for (int t = 0; t < n; t++)
            {
                var row = train.Slice(t * dimension, dimension);
                long d = 0;
                for (int j = 0; j < dimension; j++)
                {
                    int diff = row[j] - query[j];
                    d += metric == DistanceMetric.Manhattan ? Math.Abs(diff) : diff * diff;
                }
                all[t] = (d, t);
                ref double best = ref nearest[i * classes + trainLabels[t]];
                best = Math.Min(best, d);
            }
            Array.Sort(all, (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Index.CompareTo(b.Index));
            for (int j = 0; j < k; j++)
            {
                distances[i * k + j] = all[j].Distance;
                indices[i * k + j] = all[j].Index;
            }
        }
        return new NeighborResult(k, classes, distances, indices, nearest);
    }

    /// <summary>Float version: distances in double precision, directly from the definition.</summary>
    public static NeighborResult Search(
        ReadOnlySpan<float> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<float> queries, int dimension,
        DistanceMetric metric, int k)
    {
        int n = train.Length / dimension, q = queries.Length / dimension;
        var distances = new double[q * k];
        var indices = new int[q * k];
        var nearest = new double[q * classes];
        var all = new (double Distance, int Index)[n];
        for (int i = 0; i < q; i++)
        {
            nearest.AsSpan(i * classes, classes).Fill(double.PositiveInfinity);
            for (int t = 0; t < n; t++)
            {
                double d = 0;
                for (int j = 0; j < dimension; j++)
                {
                    double diff = (double)train[t * dimension + j] - queries[i * dimension + j];
                    d += metric == DistanceMetric.Manhattan ? Math.Abs(diff) : diff * diff;
                }
                all[t] = (d, t);
                ref double best = ref nearest[i * classes + trainLabels[t]];
                best = Math.Min(best, d);
            }
            Array.Sort(all, (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Index.CompareTo(b.Index));
            for (int j = 0; j < k; j++)
            {
                distances[i * k + j] = all[j].Distance;
                indices[i * k + j] = all[j].Index;
            }
        }
        return new NeighborResult(k, classes, distances, indices, nearest);
    }
}
