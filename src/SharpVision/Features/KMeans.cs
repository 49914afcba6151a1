using System.Numerics.Tensors;
using SharpVision.Tensors;

namespace SharpVision.Features;

/// <summary>
/// k-means clustering of float rows: k-means++ seeding, then Lloyd iterations, or Sculley's mini-batch updates for
/// large sets. Seeded and deterministic: the same data, seed and build give the same centroids for any thread count.
/// </summary>
/// <remarks>
/// <para>Objective: minimize Σᵢ min_c ‖xᵢ − μ_c‖². Seeding (k-means++, Arthur and Vassilvitskii 2007): the first
/// centre uniformly at random, each next one drawn with probability ∝ D(x)², the squared distance to the nearest
/// chosen centre. Lloyd: assign every row to its nearest centre (ties: lower index), move each centre to its rows'
/// mean; an emptied cluster takes the row farthest from its centre; stop after <c>maxIterations</c> or when no
/// centre moves by more than <c>tolerance</c> (relative to the data's mean squared norm). Mini-batch (Sculley 2010),
/// when <c>batchSize</c> &gt; 0: each step draws <c>batchSize</c> rows with replacement, assigns them all to the current
/// centres, then moves each row's centre towards it with rate 1/(rows that centre has seen so far).</para>
/// <para>Shape: data (n, d) row-major → centroids (k, d). Parallel sums are formed in fixed chunks of rows and added
/// in chunk order, which is what makes the result independent of the thread count.</para>
/// </remarks>
public sealed class KMeans
{
    private const int Chunk = 1024;

    /// <summary>A k-means configuration.</summary>
    /// <param name="k">Number of clusters.</param>
    /// <param name="maxIterations">Lloyd iterations, or mini-batch steps.</param>
    /// <param name="batchSize">0 for full-batch Lloyd; otherwise rows per mini-batch step.</param>
    /// <param name="tolerance">Lloyd stops when the largest squared centre move is below tolerance × mean ‖x‖².</param>
    /// <exception cref="ArgumentOutOfRangeException">k or iterations below 1, a negative batch size or tolerance.</exception>
    public KMeans(int k, int maxIterations = 50, int batchSize = 0, double tolerance = 1e-6)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k-means needs at least one cluster.");
        if (maxIterations < 1) throw new ArgumentOutOfRangeException(nameof(maxIterations), maxIterations, "k-means needs at least one iteration.");
        if (batchSize < 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size cannot be negative.");
        if (!(tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The tolerance cannot be negative.");
        K = k;
        MaxIterations = maxIterations;
        BatchSize = batchSize;
        Tolerance = tolerance;
    }

    public int K { get; }
    public int MaxIterations { get; }
    public int BatchSize { get; }
    public double Tolerance { get; }

    /// <summary>Clusters <paramref name="data"/> (n×d) and returns the k×d centroids.</summary>
    /// <exception cref="ArgumentException">Fewer rows than clusters, or data that is not whole rows.</exception>
    public float[] Fit(float[] data, int dimension, int seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (data.Length % dimension != 0) throw new ArgumentException($"{data.Length} values are not whole rows of {dimension}.", nameof(data));
        int n = data.Length / dimension;
        if (n < K) throw new ArgumentException($"k-means with k = {K} needs at least {K} rows (descriptors), got {n}.", nameof(data));
        var rng = new Rng(seed);
        var centroids = Seed(data, n, dimension, rng, threads);
        if (BatchSize > 0) MiniBatch(data, n, dimension, centroids, rng, threads);
        else Lloyd(data, n, dimension, centroids, threads);
        return centroids;
    }

    /// <summary>The index of the centroid nearest to <paramref name="point"/> (squared Euclidean; ties: lower index).</summary>
    public static int Nearest(ReadOnlySpan<float> point, ReadOnlySpan<float> centroids, int k)
    {
        int d = point.Length, best = 0;
        float bestDistance = float.PositiveInfinity;
        for (int c = 0; c < k; c++)
        {
            float distance = TensorPrimitives.Distance(point, centroids.Slice(c * d, d));
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = c;
            }
        }
        return best;
    }

    private float[] Seed(float[] data, int n, int d, Rng rng, int threads)
    {
        var centroids = new float[K * d];
        var nearest = new double[n];
        Array.Fill(nearest, double.PositiveInfinity);
        int first = rng.NextInt(n);
        data.AsSpan(first * d, d).CopyTo(centroids);
        for (int c = 1; c < K; c++)
        {
            var last = centroids.AsMemory((c - 1) * d, d);
            Parallel.For(0, (n + Chunk - 1) / Chunk, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
            {
                var centre = last.Span;
                for (int i = chunk * Chunk; i < Math.Min(n, (chunk + 1) * Chunk); i++)
                {
                    double distance = SquaredDistance(data.AsSpan(i * d, d), centre);
                    if (distance < nearest[i]) nearest[i] = distance;
                }
            });
            double total = 0;
            foreach (double v in nearest) total += v;
            int pick;
            if (total <= 0)
            {
                pick = rng.NextInt(n); // every row coincides with a centre already: any row will do
            }
            else
            {
                double target = rng.NextDouble() * total, running = 0;
                pick = n - 1;
                for (int i = 0; i < n; i++)
                {
                    running += nearest[i];
                    if (running > target)
                    {
                        pick = i;
                        break;
                    }
                }
            }
            data.AsSpan(pick * d, d).CopyTo(centroids.AsSpan(c * d, d));
        }
        return centroids;
    }

    private void Lloyd(float[] data, int n, int d, float[] centroids, int threads)
    {
        int chunks = (n + Chunk - 1) / Chunk;
        var assignment = new int[n];
        var distance = new double[n];
        var sums = new double[chunks][];
        var counts = new int[chunks][];
        double scale = 0;
        for (int i = 0; i < data.Length; i++) scale += (double)data[i] * data[i];
        scale /= n;
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
            {
                var sum = sums[chunk] ??= new double[K * d];
                var count = counts[chunk] ??= new int[K];
                Array.Clear(sum);
                Array.Clear(count);
                for (int i = chunk * Chunk; i < Math.Min(n, (chunk + 1) * Chunk); i++)
                {
                    var row = data.AsSpan(i * d, d);
                    int c = Nearest(row, centroids, K);
                    assignment[i] = c;
                    distance[i] = SquaredDistance(row, centroids.AsSpan(c * d, d));
                    count[c]++;
                    for (int j = 0; j < d; j++) sum[c * d + j] += row[j];
                }
            });
            var total = new double[K * d];
            var members = new int[K];
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                for (int j = 0; j < total.Length; j++) total[j] += sums[chunk][j];
                for (int c = 0; c < K; c++) members[c] += counts[chunk][c];
            }
            double largestMove = 0;
            var taken = new HashSet<int>();
            for (int c = 0; c < K; c++)
            {
                var centre = centroids.AsSpan(c * d, d);
                if (members[c] == 0)
                {
                    // An empty cluster restarts at the row farthest from its centre (not already used this way).
                    int far = -1;
                    for (int i = 0; i < n; i++)
                        if (!taken.Contains(i) && (far < 0 || distance[i] > distance[far])) far = i;
                    taken.Add(far);
                    distance[far] = 0;
                    data.AsSpan(far * d, d).CopyTo(centre);
                    largestMove = double.PositiveInfinity;
                    continue;
                }
                double move = 0;
                for (int j = 0; j < d; j++)
                {
                    float mean = (float)(total[c * d + j] / members[c]);
                    move += (mean - centre[j]) * (double)(mean - centre[j]);
                    centre[j] = mean;
                }
                largestMove = Math.Max(largestMove, move);
            }
            if (largestMove <= Tolerance * scale) break;
        }
    }

    private void MiniBatch(float[] data, int n, int d, float[] centroids, Rng rng, int threads)
    {
        var seen = new long[K];
        var batch = new int[BatchSize];
        var nearest = new int[BatchSize];
        for (int step = 0; step < MaxIterations; step++)
        {
            for (int b = 0; b < BatchSize; b++) batch[b] = rng.NextInt(n);
            // Assign the whole batch to the current centres first, then update (Sculley's algorithm 1).
            Parallel.For(0, (BatchSize + 255) / 256, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
            {
                for (int b = chunk * 256; b < Math.Min(BatchSize, (chunk + 1) * 256); b++)
                    nearest[b] = Nearest(data.AsSpan(batch[b] * d, d), centroids, K);
            });
            for (int b = 0; b < BatchSize; b++)
            {
                var row = data.AsSpan(batch[b] * d, d);
                int c = nearest[b];
                float rate = 1f / ++seen[c];
                var centre = centroids.AsSpan(c * d, d);
                for (int j = 0; j < d; j++) centre[j] += rate * (row[j] - centre[j]);
            }
        }
    }

    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double distance = TensorPrimitives.Distance(a, b);
        return distance * distance;
    }
}
