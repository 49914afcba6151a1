using SharpVision.Analysis;
using SharpVision.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Analysis;

public class NeighborGraphTests
{
    [Fact]
    public void Exact_MatchesBruteForceInDouble_AndNeverListsThePointItself()
    {
        int n = 300, d = 7, k = 10;
        var rng = new Rng(11);
        var data = new float[n * d];
        for (int i = 0; i < data.Length; i++) data[i] = rng.NextNormal() * 3 + 5; // an offset makes ‖x‖² − 2x·y cancel
        var graph = NeighborGraph.Exact(data, n, d, k, threads: 2);
        for (int i = 0; i < n; i++)
        {
            var all = Enumerable.Range(0, n).Where(j => j != i).Select(j =>
            {
                double s = 0;
                for (int c = 0; c < d; c++) s += Math.Pow((double)data[i * d + c] - data[j * d + c], 2);
                return (Distance: s, Index: j);
            }).OrderBy(t => t.Distance).ThenBy(t => t.Index).Take(k).ToArray();
            for (int m = 0; m < k; m++)
            {
                Assert.Equal(all[m].Index, graph.Indices[i * k + m]);
                Assert.Equal(all[m].Distance, graph.SquaredDistances[i * k + m], 1e-12 * all[m].Distance);
            }
        }
    }

    [Fact]
    public void Exact_BadInput_GivesClearErrors()
    {
        var data = new float[] { 0, 0, 1, 1, 2, 2 };
        Assert.Contains("between 1 and n − 1 = 2", Assert.Throws<ArgumentOutOfRangeException>(() => NeighborGraph.Exact(data, 3, 2, 3)).Message);
        Assert.Contains("at least 2 rows", Assert.Throws<ArgumentException>(() => NeighborGraph.Exact(data.AsSpan(0, 2), 1, 2, 1)).Message);
        data[3] = float.NaN;
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => NeighborGraph.Exact(data, 3, 2, 1)).Message);
    }
}

public class AffinitiesTests
{
    [Theory]
    [InlineData(2.0)]
    [InlineData(5.0)]
    [InlineData(30.0)]
    public void Calibrate_ReachesTheEntropyOfThePerplexity(double perplexity)
    {
        var rng = new Rng((long)perplexity);
        var distances = Enumerable.Range(0, 91).Select(_ => 50 + 20 * (double)rng.NextFloat()).ToArray(); // far points: exp(−d) alone would underflow
        var p = new double[distances.Length];
        var (beta, entropy) = Affinities.Calibrate(distances, perplexity, p);

        Assert.Equal(1, p.Sum(), 1e-12);
        double h = -p.Where(v => v > 0).Sum(v => v * Math.Log(v));
        Assert.Equal(Math.Log(perplexity), h, 1e-5);
        Assert.Equal(h, entropy, 1e-9);
        Assert.True(beta > 0);
        // pⱼ|ᵢ ∝ exp(−β·dⱼ): nearer neighbours are likelier, with the ratio the Gaussian's.
        int near = Array.IndexOf(distances, distances.Min()), far = Array.IndexOf(distances, distances.Max());
        Assert.Equal(Math.Exp(-beta * (distances[near] - distances[far])), p[near] / p[far], 1e-9 * p[near] / p[far]);
    }

    [Fact]
    public void Calibrate_BadInput_GivesClearErrors()
    {
        var p = new double[2];
        Assert.Contains("positive", Assert.Throws<ArgumentOutOfRangeException>(() => Affinities.Calibrate([1, 2], 0, p)).Message);
        Assert.Contains("non-negative", Assert.Throws<ArgumentException>(() => Affinities.Calibrate([1, double.NaN], 1.5, p)).Message);
        Assert.Contains("at least one neighbour", Assert.Throws<ArgumentException>(() => Affinities.Calibrate([], 1.5, [])).Message);
    }

    [Fact]
    public void FromNeighbors_IsTheNormalizedSymmetrizationOfTheConditionals()
    {
        int n = 60, d = 5, k = 12;
        double perplexity = 4;
        var rng = new Rng(3);
        var data = Enumerable.Range(0, n * d).Select(_ => rng.NextNormal()).ToArray();
        var graph = NeighborGraph.Exact(data, n, d, k);
        var p = Affinities.FromNeighbors(graph, perplexity, threads: 2);

        // Dense reference: conditional rows from Calibrate, then (P + Pᵀ) / 2n.
        var conditional = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            var row = new double[k];
            Affinities.Calibrate(graph.SquaredDistances.AsSpan(i * k, k), perplexity, row);
            for (int m = 0; m < k; m++) conditional[i, graph.Indices[i * k + m]] = row[m];
        }
        var dense = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int e = p.RowStart[i]; e < p.RowStart[i + 1]; e++)
            {
                Assert.True(e == p.RowStart[i] || p.Columns[e] > p.Columns[e - 1], "columns ascend within a row");
                dense[i, p.Columns[e]] = p.Values[e];
            }
        double total = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                Assert.Equal((conditional[i, j] + conditional[j, i]) / (2 * n), dense[i, j], 1e-15);
                Assert.Equal(dense[j, i], dense[i, j]);
                total += dense[i, j];
            }
        Assert.Equal(1, total, 1e-12);
        for (int i = 0; i < n; i++) Assert.Equal(0, dense[i, i]);
    }
}

public class TsneGradientTests
{
    private static (Affinities P, double[] Y) Problem(int n, int seed, double perplexity = 3, bool duplicates = false)
    {
        var rng = new Rng(seed);
        int d = 4;
        var data = Enumerable.Range(0, n * d).Select(_ => rng.NextNormal()).ToArray();
        var p = Affinities.FromNeighbors(NeighborGraph.Exact(data, n, d, Math.Min(n - 1, (int)(3 * perplexity) + 1)), perplexity);
        var y = Enumerable.Range(0, 2 * n).Select(_ => 2.0 * rng.NextNormal()).ToArray();
        if (duplicates)
            for (int i = 1; i < n; i += 3) (y[2 * i], y[2 * i + 1]) = (y[0], y[1]); // a third of the points on top of point 0
        return (p, y);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(13)]
    [InlineData(70)]
    public void ExactRepulsion_VectorPath_EqualsThePlainLoop(int n)
    {
        // The vector path reorders the sums and counts j = i (w = 1, no force) like every other point; the plain double
        // loop over j ≠ i is the twin. Vector<double> is accelerated on every x86-64 CPU this project runs on.
        Assert.True(System.Numerics.Vector.IsHardwareAccelerated, "Vector<double> is not accelerated on this CPU");
        var rng = new Rng(n);
        var y = Enumerable.Range(0, 2 * n).Select(_ => 3.0 * rng.NextNormal()).ToArray();
        var xs = Enumerable.Range(0, n).Select(j => y[2 * j]).ToArray();
        var ys = Enumerable.Range(0, n).Select(j => y[2 * j + 1]).ToArray();
        for (int i = 0; i < n; i++)
        {
            double z = 0, fx = 0, fy = 0;
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1], w = 1 / (1 + dx * dx + dy * dy);
                (z, fx, fy) = (z + w, fx + w * w * dx, fy + w * w * dy);
            }
            foreach (bool vectors in new[] { false, true })
            {
                var (vz, vfx, vfy) = TsneGradient.ExactRepulsion(xs, ys, y[2 * i], y[2 * i + 1], vectors);
                Assert.Equal(z, vz - 1, 1e-13 * Math.Max(1, z));
                Assert.Equal(fx, vfx, 1e-13 * Math.Max(1, z));
                Assert.Equal(fy, vfy, 1e-13 * Math.Max(1, z));
            }
        }
    }

    [Fact]
    public void Exact_MatchesCentralDifferencesOfTheKlDivergence()
    {
        var (p, y) = Problem(14, 1);
        var gradient = new double[y.Length];
        double kl = TsneGradient.Exact(p, y, gradient, exaggeration: 1, threads: 1);
        Assert.Equal(TsneGradient.KlDivergence(p, y, 1), kl, 1e-12);
        Assert.True(kl > 0, "P and Q differ, so KL > 0");
        const double h = 1e-5;
        for (int i = 0; i < y.Length; i++)
        {
            var plus = (double[])y.Clone();
            var minus = (double[])y.Clone();
            plus[i] += h;
            minus[i] -= h;
            double numeric = (TsneGradient.KlDivergence(p, plus, 1) - TsneGradient.KlDivergence(p, minus, 1)) / (2 * h);
            Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-7 + 1e-6 * Math.Abs(numeric), $"coordinate {i}: analytic {gradient[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Exact_Exaggeration_ScalesOnlyTheAttraction()
    {
        var (p, y) = Problem(20, 2);
        var plain = new double[y.Length];
        var doubled = new double[y.Length];
        var tripled = new double[y.Length];
        TsneGradient.Exact(p, y, plain, 1, 1);
        TsneGradient.Exact(p, y, doubled, 2, 1);
        TsneGradient.Exact(p, y, tripled, 3, 1);
        // g(α) = α·A − R is affine in α: g(3) − g(2) = g(2) − g(1), and that step is not zero.
        for (int i = 0; i < y.Length; i++) Assert.Equal(doubled[i] - plain[i], tripled[i] - doubled[i], 1e-12);
        Assert.Contains(plain.Zip(doubled), t => Math.Abs(t.First - t.Second) > 1e-6);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BarnesHut_ThetaZero_EqualsTheExactGradient(bool duplicates)
    {
        var (p, y) = Problem(300, 3, 5, duplicates);
        var exact = new double[y.Length];
        var tree = new double[y.Length];
        double klExact = TsneGradient.Exact(p, y, exact, 12, 2);
        double klTree = TsneGradient.BarnesHut(p, y, tree, theta: 0, exaggeration: 12, threads: 2);
        Assert.Equal(klExact, klTree, 1e-12);
        double scale = exact.Max(Math.Abs);
        for (int i = 0; i < y.Length; i++) Assert.Equal(exact[i], tree[i], 1e-12 * scale);
    }

    [Fact]
    public void BarnesHut_ThetaHalf_ApproximatesTheExactGradient_AndGetsCloserAsThetaShrinks()
    {
        var (p, y) = Problem(1000, 4, 10);
        var exact = new double[y.Length];
        TsneGradient.Exact(p, y, exact, 1, 2);
        double RelativeError(double theta)
        {
            var g = new double[y.Length];
            TsneGradient.BarnesHut(p, y, g, theta, 1, 2);
            return Math.Sqrt(g.Zip(exact).Sum(t => (t.First - t.Second) * (t.First - t.Second)) / exact.Sum(v => v * v));
        }
        double coarse = RelativeError(0.8), half = RelativeError(0.5), fine = RelativeError(0.2);
        Assert.True(half < 0.05, $"θ = 0.5 relative error {half}");
        Assert.True(fine < half && half < coarse, $"errors {fine}, {half}, {coarse} should grow with θ");
    }

    [Fact]
    public void QuadTree_NaNCoordinate_IsRejected() =>
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => new QuadTree([0, 0, double.NaN, 1], 2)).Message);
}

public class TsneTests
{
    // Well-separated Gaussian blobs in d dimensions: centres 10 apart on the axes, unit spread.
    private static (float[] Data, int[] Labels) Blobs(int perClass, int classes, int d, int seed)
    {
        var rng = new Rng(seed);
        var data = new float[perClass * classes * d];
        var labels = new int[perClass * classes];
        for (int i = 0; i < labels.Length; i++)
        {
            int c = i % classes;
            labels[i] = c;
            for (int j = 0; j < d; j++) data[i * d + j] = rng.NextNormal() + (j == c ? 10 : 0);
        }
        return (data, labels);
    }

    [Theory]
    [InlineData(TsneMethod.Exact, 60)]
    [InlineData(TsneMethod.BarnesHut, 150)]
    public void Fit_SeparatedBlobs_StayApartOnTheMap(TsneMethod method, int perClass)
    {
        var (data, labels) = Blobs(perClass, 4, 10, 1);
        int n = labels.Length;
        var result = new Tsne(new TsneOptions { Method = method, Perplexity = 20, Threads = 2 }).Fit(data, n, 10);

        Assert.Equal(method, result.Method);
        Assert.Equal(2 * n, result.Embedding.Length);
        var quality = EmbeddingQuality.Measure(result.Embedding, labels, 4, k: 1);
        Assert.Equal(1.0, quality.OverallNeighborAccuracy);
        // Clusters, not just neighbours: every centroid is farther from the others than any point from its own.
        var centroids = new (double X, double Y)[4];
        for (int i = 0; i < n; i++) centroids[labels[i]] = (centroids[labels[i]].X + result.Embedding[2 * i] / perClass, centroids[labels[i]].Y + result.Embedding[2 * i + 1] / perClass);
        double spread = Enumerable.Range(0, n).Max(i => Math.Sqrt(Math.Pow(result.Embedding[2 * i] - centroids[labels[i]].X, 2) + Math.Pow(result.Embedding[2 * i + 1] - centroids[labels[i]].Y, 2)));
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < a; b++)
                Assert.True(Math.Sqrt(Math.Pow(centroids[a].X - centroids[b].X, 2) + Math.Pow(centroids[a].Y - centroids[b].Y, 2)) > spread);
        // The KL reported is the map's.
        Assert.True(result.KlDivergence > 0);
    }

    [Fact]
    public void Fit_Seeded_IsReproducible_AndIndependentOfTheThreadCount()
    {
        var (data, _) = Blobs(500, 3, 6, 2);
        int n = 1500; // enough work for the gradient to run in parallel
        var options = new TsneOptions { Iterations = 60, Initialization = TsneInitialization.Random, Seed = 5, Method = TsneMethod.BarnesHut };
        var one = new Tsne(options with { Threads = 1 }).Fit(data, n, 6);
        var two = new Tsne(options with { Threads = 2 }).Fit(data, n, 6);
        Assert.Equal(one.Embedding, two.Embedding);
        Assert.Equal(one.KlDivergence, two.KlDivergence);
        var other = new Tsne(options with { Seed = 6 }).Fit(data, n, 6);
        Assert.NotEqual(one.Embedding, other.Embedding);
    }

    [Fact]
    public void Fit_ReportsProgressAtEveryCheck_AndTheKlFalls()
    {
        var (data, _) = Blobs(50, 3, 5, 3);
        var reports = new List<TsneProgress>();
        var result = new Tsne(new TsneOptions { Iterations = 400, Perplexity = 10 }).Fit(data, 150, 5, reports.Add);
        Assert.Equal([50, 100, 150, 200, 250, 300, 350, 400], reports.Select(r => r.Iteration));
        Assert.All(reports, r => Assert.Equal(r.Iteration <= 250, r.Exaggerated));
        Assert.Equal(400, result.Iterations);
        Assert.Equal(TsneMethod.Exact, result.Method); // auto, n ≤ 500
        Assert.True(result.KlDivergence < reports.First(r => !r.Exaggerated).KlDivergence);
    }

    [Fact]
    public void Fit_LearningRateAuto_IsScikitLearns()
    {
        var (data, _) = Blobs(30, 2, 3, 4);
        Assert.Equal(50, new Tsne(new TsneOptions { Iterations = 1, Perplexity = 5 }).Fit(data, 60, 3).LearningRate);
        var (big, _) = Blobs(1500, 2, 3, 4);
        Assert.Equal(3000 / 12.0 / 4, new Tsne(new TsneOptions { Iterations = 1, Perplexity = 5 }).Fit(big, 3000, 3).LearningRate, 1e-12);
    }

    [Fact]
    public void Fit_BadInput_GivesClearErrors()
    {
        var data = new float[] { 0, 1, 2, 3, 4, 5, 6, 7 };
        var tsne = new Tsne(new TsneOptions { Perplexity = 4 });
        Assert.Contains("less than the number of points (4)", Assert.Throws<ArgumentException>(() => tsne.Fit(data, 4, 2)).Message);
        Assert.Contains("at least 2 points", Assert.Throws<ArgumentException>(() => new Tsne().Fit(data.AsSpan(0, 2), 1, 2)).Message);
        data[5] = float.NaN;
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => new Tsne(new TsneOptions { Perplexity = 2 }).Fit(data, 4, 2)).Message);
        Assert.Contains("8 floats; got 7", Assert.Throws<ArgumentException>(() => tsne.Fit(data.AsSpan(0, 7), 4, 2)).Message);
        Assert.Contains("Perplexity", Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne(new TsneOptions { Perplexity = -1 })).Message);
        Assert.Contains("Theta", Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne(new TsneOptions { Theta = double.NaN })).Message);
        Assert.Contains("learning rate", Assert.Throws<ArgumentOutOfRangeException>(() => new Tsne(new TsneOptions { LearningRate = 0 })).Message);
    }
}

public class EmbeddingQualityTests
{
    [Fact]
    public void Measure_HandBuiltLine_GivesTheCountsWorkedOutByHand()
    {
        // On a line: class 0 at 0, 1, 2 and an intruder at 11.4; class 1 at 10, 11, 12. With k = 2 (worked out in
        // the comments): class 0 keeps 3 of 4 pure and correct; class 1 has no pure point and 1 of 3 correct.
        float[] x = [0, 1, 2, 10, 11, 12, 11.4f];
        int[] labels = [0, 0, 0, 1, 1, 1, 0];
        var coordinates = x.SelectMany(v => new[] { v, 5f }).ToArray();
        var q = EmbeddingQuality.Measure(coordinates, labels, 2, k: 2);
        // 0, 1, 2: each other → pure. 11.4: 11, 12 → impure, voted 1 (wrong).
        // 10: 11, 11.4 → impure, tie 1:1 → nearest (11) → correct. 11: 11.4, then 10 (tie with 12, lower index) → tie → 11.4 → wrong.
        // 12: 11.4, 11 → impure, tie → nearest 11.4 → wrong.
        Assert.Equal([3 / 4.0, 0], q.Purity);
        Assert.Equal([3 / 4.0, 1 / 3.0], q.NeighborAccuracy);
        Assert.Equal(3 / 7.0, q.OverallPurity, 1e-12);
        Assert.Equal(4 / 7.0, q.OverallNeighborAccuracy, 1e-12);
    }

    [Fact]
    public void Measure_BadInput_GivesClearErrors()
    {
        Assert.Contains("between 1 and n − 1 = 1", Assert.Throws<ArgumentOutOfRangeException>(() => EmbeddingQuality.Measure([0, 0, 1, 1], [0, 1], 2, k: 2)).Message);
        Assert.Contains("outside 0..1", Assert.Throws<ArgumentException>(() => EmbeddingQuality.Measure([0, 0, 1, 1], [0, 2], 2, k: 1)).Message);
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => EmbeddingQuality.Measure([0, float.NaN, 1, 1], [0, 1], 2, k: 1)).Message);
    }
}
