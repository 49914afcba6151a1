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

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(9, 5, 15, 9)]      // n < 16: the GEMM's narrow path; every training row is a neighbour
    [InlineData(2100, 131, 17, 5)] // L2: three training tiles (1,024 + 1,024 + 52), one query block on 1 thread, two (80 + 51) on 2; L1: five tiles of 512
    [InlineData(600, 7, 1296, 3)]  // HOG's length
    public void Search_Floats_AwkwardSizes_EqualReferenceAndAnyThreadCount(int n, int q, int d, int k)
    {
        var random = new Random(n + q + d);
        // Standardized-feature-like values (mean 0, spread 1) with a duplicate training row: equal distances go to the lower index.
        var train = Enumerable.Range(0, n * d).Select(_ => (float)(random.NextDouble() * 3.4 - 1.7)).ToArray();
        if (n > 2) train.AsSpan(0, d).CopyTo(train.AsSpan(2 * d, d));
        var queries = Enumerable.Range(0, q * d).Select(_ => (float)(random.NextDouble() * 3.4 - 1.7)).ToArray();
        var labels = Enumerable.Range(0, n).Select(i => i % 3).ToArray();
        foreach (var metric in new[] { DistanceMetric.Manhattan, DistanceMetric.Euclidean })
        {
            var one = NeighborSearch.Search(train, labels, 3, queries, d, metric, k, threads: 1);
            var two = NeighborSearch.Search(train, labels, 3, queries, d, metric, k, threads: 2);
            Assert.Equal(one.Indices, two.Indices);
            Assert.Equal(one.Distances, two.Distances);
            Assert.Equal(one.ClassNearest, two.ClassNearest);
            var oracle = NeighborSearchReference.Search(train, labels, 3, queries, d, metric, k);
            // float32 sums of d terms: relative error ~ d·2⁻²⁴ of the distance's scale (‖t‖² + ‖q‖² for the identity).
            double scale = metric == DistanceMetric.Euclidean ? 2 * d : d;
            for (int i = 0; i < oracle.Distances.Length; i++) Assert.Equal(oracle.Distances[i], one.Distances[i], 1e-5 * scale);
            for (int i = 0; i < oracle.ClassNearest.Length; i++) Assert.Equal(oracle.ClassNearest[i], one.ClassNearest[i], 1e-5 * scale);
            // Rows 0 and 2 are equal, so they are equally far from every query: row 0 comes first wherever row 2 is listed.
            for (int i = 0; i < q && n > 2; i++)
            {
                var list = one.Indices.AsSpan(i * k, k).ToArray();
                int at2 = Array.IndexOf(list, 2);
                if (at2 >= 0) Assert.InRange(Array.IndexOf(list, 0), 0, at2 - 1);
            }
            // Neighbour lists agree wherever the oracle's distances are not within rounding of each other.
            for (int i = 0; i < q; i++)
                for (int j = 0; j < k; j++)
                {
                    double mine = oracle.Distances[i * k + j];
                    bool nearTie = Enumerable.Range(0, n).Any(t => t != oracle.Indices[i * k + j] && Math.Abs(Distance(train, queries, t, i, d, metric) - mine) <= 1e-5 * scale);
                    if (!nearTie) Assert.Equal(oracle.Indices[i * k + j], one.Indices[i * k + j]);
                }
        }
    }

    private static double Distance(float[] train, float[] queries, int t, int q, int d, DistanceMetric metric)
    {
        double sum = 0;
        for (int j = 0; j < d; j++)
        {
            double diff = (double)train[t * d + j] - queries[q * d + j];
            sum += metric == DistanceMetric.Manhattan ? Math.Abs(diff) : diff * diff;
        }
        return sum;
    }

    [Fact]
    public void Search_Floats_NonFinite_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => NeighborSearch.Search([0f, float.NaN], [0], 1, [0f, 0f], 2, DistanceMetric.Euclidean, 1));
        Assert.Contains("finite", e.Message);
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
    [Theory]
    // An AVX-512 CPU without VEX AVX-VNNI (the half-width AVX-512 machine): L1 runs AVX-512's vpsadbw, L2 AVX2's vpmaddwd.
    [InlineData(true, false, true, "avx512bw-vpsadbw", "avx2-vpmaddwd")]
    [InlineData(true, true, true, "avx512bw-vpsadbw", "avxvnni-vpdpbusd")]
    [InlineData(false, true, true, "avx2-vpsadbw", "avxvnni-vpdpbusd")]
    [InlineData(false, false, true, "avx2-vpsadbw", "avx2-vpmaddwd")]
    [InlineData(false, false, false, "scalar", "scalar")]
    public void ByteBackendName_NamesWhatEachMetricsKernelRuns(bool avx512BW, bool avxVnni, bool avx2, string l1, string l2)
    {
        Assert.Equal(l1, NeighborSearch.ByteBackendName(DistanceMetric.Manhattan, avx512BW, avxVnni, avx2));
        Assert.Equal(l2, NeighborSearch.ByteBackendName(DistanceMetric.Euclidean, avx512BW, avxVnni, avx2));
    }

    [Theory]
    [InlineData("l1", DistanceMetric.Manhattan)]
    [InlineData("l2", DistanceMetric.Euclidean)]
    public void TrainKnn_Json_NamesTheBackendOfItsMetric(string flag, DistanceMetric metric)
    {
        using var temp = new TempFolder();
        var (code, output, err) = CliRunner.Run("train", "--data", CliRunner.SampleDir, "--model", "knn", "--k", "1", "--metric", flag,
            "--train-limit", "200", "--threads", "2", "--out", temp.Combine("run"), "--json");
        Assert.True(code == 0, err);
        var backend = (string)System.Text.Json.Nodes.JsonNode.Parse(output)!["backend"]!;
        Assert.Equal($"knn-{NeighborSearch.ByteBackend(metric)}", backend);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            Assert.Equal(metric == DistanceMetric.Manhattan, backend.EndsWith("-vpsadbw", StringComparison.Ordinal));
    }
}
