using System.Numerics;

namespace SharpVision.Classic.Reference;

/// <summary>
/// The test oracle for <see cref="NeighborSearch"/>: every distance computed the plain way (no padding, no SIMD, no
/// algebraic identity), then a full sort by (distance, index). Slow on purpose; obviously right.
/// </summary>
public static class NeighborSearchReference
{
    /// <summary>Same contract as the 8-bit <see cref="NeighborSearch"/>: exact integer distances (L2 squared).</summary>
    public static NeighborResult Search(
        ReadOnlySpan<byte> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<byte> queries, int dimension,
        DistanceMetric metric, int k) =>
        Search(train.ToArray(), trainLabels.ToArray(), classes, queries.ToArray(), dimension, metric, k, v => (long)v);

    /// <summary>Same contract as the float <see cref="NeighborSearch"/>: distances in double precision from the definition.</summary>
    public static NeighborResult Search(
        ReadOnlySpan<float> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<float> queries, int dimension,
        DistanceMetric metric, int k) =>
        Search(train.ToArray(), trainLabels.ToArray(), classes, queries.ToArray(), dimension, metric, k, v => (double)v);

    private static NeighborResult Search<TValue, TSum>(
        TValue[] train, int[] trainLabels, int classes, TValue[] queries, int dimension, DistanceMetric metric, int k, Func<TValue, TSum> widen)
        where TSum : INumber<TSum>
    {
        int n = train.Length / dimension, q = queries.Length / dimension;
        var distances = new double[q * k];
        var indices = new int[q * k];
        var nearest = new double[q * classes];
        var all = new (TSum Distance, int Index)[n];
        for (int i = 0; i < q; i++)
        {
            nearest.AsSpan(i * classes, classes).Fill(double.PositiveInfinity);
            for (int t = 0; t < n; t++)
            {
                TSum d = TSum.Zero;
                for (int j = 0; j < dimension; j++)
                {
                    TSum diff = widen(train[t * dimension + j]) - widen(queries[i * dimension + j]);
                    d += metric == DistanceMetric.Manhattan ? TSum.Abs(diff) : diff * diff;
                }
                all[t] = (d, t);
                ref double best = ref nearest[i * classes + trainLabels[t]];
                best = Math.Min(best, double.CreateChecked(d));
            }
            Array.Sort(all, (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Index.CompareTo(b.Index));
            for (int j = 0; j < k; j++)
            {
                distances[i * k + j] = double.CreateChecked(all[j].Distance);
                indices[i * k + j] = all[j].Index;
            }
        }
        return new NeighborResult(k, classes, distances, indices, nearest);
    }
}
