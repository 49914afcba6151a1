using SharpVision.Classic;
using SharpVision.Classic.Reference;

namespace SharpVision.Tests.Classic;

public class NeighborSearchTests
{
    // Values drawn from a small range make many exact distance ties, which exercises the tie-break.
    private static (byte[] Train, int[] Labels, byte[] Queries) Random8(int n, int q, int d, int range, int seed)
    {
        var random = new Random(seed);
        var train = new byte[n * d];
        var queries = new byte[q * d];
        for (int i = 0; i < train.Length; i++) train[i] = (byte)random.Next(range);
        for (int i = 0; i < queries.Length; i++) queries[i] = (byte)random.Next(range);
        return (train, Enumerable.Range(0, n).Select(_ => random.Next(4)).ToArray(), queries);
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 256)]
    [InlineData(7, 5, 7, 3, 3)]
    [InlineData(600, 13, 63, 5, 256)]
    [InlineData(1100, 9, 513, 7, 256)]
    [InlineData(300, 37, 784, 10, 2)]
    [InlineData(70, 6, 3072, 70, 256)]
    public void Search_Bytes_EqualsReference(int n, int q, int d, int k, int range)
    {
        var (train, labels, queries) = Random8(n, q, d, range, seed: n + d);
        foreach (var metric in new[] { DistanceMetric.Manhattan, DistanceMetric.Euclidean })
        {
            var fast = NeighborSearch.Search(train, labels, 4, queries, d, metric, k, threads: 2);
            var oracle = NeighborSearchReference.Search(train, labels, 4, queries, d, metric, k);
            Assert.Equal(oracle.Indices, fast.Indices);
            Assert.Equal(oracle.Distances, fast.Distances);
            Assert.Equal(oracle.ClassNearest, fast.ClassNearest);
        }
    }

    [Fact]
    public void Search_Floats_EqualsReferenceWithinRounding()
    {
        var random = new Random(5);
        int n = 200, q = 11, d = 37, k = 4;
        var train = Enumerable.Range(0, n * d).Select(_ => (float)random.NextDouble()).ToArray();
        var queries = Enumerable.Range(0, q * d).Select(_ => (float)random.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => i % 3).ToArray();
        foreach (var metric in new[] { DistanceMetric.Manhattan, DistanceMetric.Euclidean })
        {
            var fast = NeighborSearch.Search(train, labels, 3, queries, d, metric, k);
            var oracle = NeighborSearchReference.Search(train, labels, 3, queries, d, metric, k);
            Assert.Equal(oracle.Indices, fast.Indices);
            for (int i = 0; i < oracle.Distances.Length; i++) Assert.Equal(oracle.Distances[i], fast.Distances[i], 1e-4);
        }
    }

    [Fact]
    public void Truncate_EqualsSearchingWithTheSmallerK()
    {
        var (train, labels, queries) = Random8(500, 20, 50, 4, seed: 9);
        var wide = NeighborSearch.Search(train, labels, 4, queries, 50, DistanceMetric.Euclidean, 9);
        var narrow = NeighborSearch.Search(train, labels, 4, queries, 50, DistanceMetric.Euclidean, 3);
        Assert.Equal(narrow.Indices, wide.Truncate(3).Indices);
        Assert.Equal(narrow.Distances, wide.Truncate(3).Distances);
    }

    [Fact]
    public void Search_RejectsKLargerThanTrainingSetAndRaggedRows()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NeighborSearch.Search(new byte[6], [0, 1], 2, new byte[3], 3, DistanceMetric.Manhattan, 3));
        Assert.Throws<ArgumentException>(() => NeighborSearch.Search(new byte[7], [0, 1], 2, new byte[3], 3, DistanceMetric.Manhattan, 1));
        Assert.Throws<ArgumentException>(() => NeighborSearch.Search(new byte[6], [0, 5], 2, new byte[3], 3, DistanceMetric.Manhattan, 1));
    }
}
