using System.Numerics;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Analysis;

/// <summary>
/// The t-SNE objective C = KL(P‖Q) = Σᵢⱼ pᵢⱼ·ln(pᵢⱼ / qᵢⱼ) and its gradient, with the Student-t kernel
/// wᵢⱼ = 1/(1 + ‖yᵢ − yⱼ‖²), qᵢⱼ = wᵢⱼ / Z, Z = Σ_{k≠l} w_kl:
/// ∂C/∂yᵢ = 4·Σⱼ (α·pᵢⱼ − qᵢⱼ)·wᵢⱼ·(yᵢ − yⱼ), α the early exaggeration (1 for the true gradient).
/// </summary>
/// <remarks>
/// Shape legend: n points, y and the gradient are n×2 interleaved (x₀, y₀, x₁, y₁, …).
/// The sum splits into an attraction over P's non-zeros (sparse, exact) and a repulsion
/// (1/Z)·Σⱼ wᵢⱼ²·(yᵢ − yⱼ) over all pairs, computed exactly (O(n²)) or by Barnes–Hut (O(n log n)).
/// Work is split into fixed chunks of points whose partial sums are added in chunk order, so results are the same
/// bits for any thread count.
/// </remarks>
internal static class TsneGradient
{
    private const int Chunk = 256;
    private const long InlineWork = 300_000; // below this many pair evaluations a gradient runs on the calling thread

    /// <summary>Gradient with the exact O(n²) repulsion; returns KL(P‖Q) (P unexaggerated), or NaN unless <paramref name="computeError"/>.</summary>
    public static double Exact(Affinities p, double[] y, double[] gradient, double exaggeration, int threads, bool computeError = true) =>
        Compute(p, y, gradient, exaggeration, threads, null, 0, computeError);

    /// <summary>Gradient with the Barnes–Hut repulsion at opening angle θ; returns KL(P‖Q) with the same estimate of Z, or NaN unless <paramref name="computeError"/>.</summary>
    public static double BarnesHut(Affinities p, double[] y, double[] gradient, double theta, double exaggeration, int threads, bool computeError = true) =>
        Compute(p, y, gradient, exaggeration, threads, new QuadTree(y, p.Count), theta, computeError);

    /// <summary>KL(P‖Q) alone, with the exact Z (O(n²)).</summary>
    public static double KlDivergence(Affinities p, double[] y, int threads)
    {
        var scratch = new double[y.Length];
        return Compute(p, y, scratch, 1, threads, null, 0, true);
    }

    private static double Compute(Affinities p, double[] y, double[] gradientOut, double exaggeration, int threads, QuadTree? tree, double theta, bool computeError)
    {
        int n = p.Count;
        if (y.Length != 2 * n || gradientOut.Length != 2 * n) throw new ArgumentException($"{n} points need {2 * n} coordinates.");
        var gradient = new double[2 * n];
        int chunks = (n + Chunk - 1) / Chunk;
        var zParts = new double[chunks];
        var attractionParts = new double[chunks]; // Σ pᵢⱼ·ln(pᵢⱼ / wᵢⱼ) per chunk
        var repulsion = new double[2 * n];
        // The exact repulsion reads the coordinates as two planes, so that a vector holds several points.
        double[]? xs = null, ys = null;
        // Vector<double> (256-bit on AVX2 and on AVX-512, the runtime's default width) unless SHARPVISION_SIMD=scalar:
        // measured against a 256/512-bit kernel on interleaved (x, y) pairs, the planes were 10-20 % faster on Zen 3.
        bool vectors = SimdPaths.Default != SimdPath.Scalar;
        if (tree is null)
        {
            xs = new double[n];
            ys = new double[n];
            for (int j = 0; j < n; j++)
            {
                xs[j] = y[2 * j];
                ys[j] = y[2 * j + 1];
            }
        }
        // One parallel region per gradient, and none for small maps, whose whole gradient costs less than waking threads
        // (on a busy machine, much less). The chunks are the same either way, so are the sums.
        long work = tree is null ? (long)n * n : 300L * n; // pair evaluations; a Barnes–Hut traversal visits a few hundred cells
        if (work <= InlineWork || chunks == 1) for (int chunk = 0; chunk < chunks; chunk++) Work(chunk);
        else Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, Work);

        void Work(int chunk)
        {
            Attraction(chunk);
            Repulsion(chunk);
        }

        void Attraction(int chunk)
        {
            int end = Math.Min(n, (chunk + 1) * Chunk);
            double klSum = 0;
            for (int i = chunk * Chunk; i < end; i++)
            {
                // Attraction: Σⱼ α·pᵢⱼ·wᵢⱼ·(yᵢ − yⱼ) over row i of P.
                double xi = y[2 * i], yi = y[2 * i + 1], ax = 0, ay = 0;
                for (int e = p.RowStart[i]; e < p.RowStart[i + 1]; e++)
                {
                    int j = p.Columns[e];
                    double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
                    double w = 1 / (1 + dx * dx + dy * dy);
                    double pij = p.Values[e];
                    ax += pij * w * dx;
                    ay += pij * w * dy;
                    if (computeError) klSum += pij * Math.Log(pij / w);
                }
                gradient[2 * i] = exaggeration * ax;
                gradient[2 * i + 1] = exaggeration * ay;
            }
            attractionParts[chunk] = klSum;
        }

        // Repulsion before normalization, Zᵢ = Σⱼ wᵢⱼ and Σⱼ wᵢⱼ²·(yᵢ − yⱼ); with a tree, points go in tree order so that
        // consecutive traversals walk the same cells.
        void Repulsion(int chunk)
        {
            int end = Math.Min(n, (chunk + 1) * Chunk);
            double zSum = 0;
            for (int position = chunk * Chunk; position < end; position++)
            {
                int i = tree is null ? position : tree.Order[position];
                double xi = y[2 * i], yi = y[2 * i + 1], z, fx, fy;
                if (tree is not null)
                {
                    (z, fx, fy) = tree.Repulsion(i, xi, yi, theta);
                }
                else
                {
                    (z, fx, fy) = ExactRepulsion(xs!, ys!, xi, yi, vectors);
                    z -= 1; // the sum ran over j = i too, whose w is 1 and whose force is 0
                }
                zSum += z;
                repulsion[2 * i] = fx;
                repulsion[2 * i + 1] = fy;
            }
            zParts[chunk] = zSum;
        }

        double zTotal = 0, attraction = 0;
        for (int c = 0; c < chunks; c++)
        {
            zTotal += zParts[c];
            attraction += attractionParts[c];
        }
        for (int i = 0; i < 2 * n; i++) gradientOut[i] = 4 * (gradient[i] - repulsion[i] / zTotal);
        if (!computeError) return double.NaN;
        // KL = Σ p·ln(p / (w/Z)) = Σ p·ln(p/w) + ln Z·Σ p, and Σ p = 1.
        double pSum = 0;
        foreach (double v in p.Values) pSum += v;
        return attraction + Math.Log(zTotal) * pSum;
    }

    /// <summary>
    /// Σⱼ wᵢⱼ, Σⱼ wᵢⱼ²·(xᵢ − xⱼ), Σⱼ wᵢⱼ²·(yᵢ − yⱼ) over every j (i included), a vector of points at a time when
    /// <paramref name="vectors"/> and the runtime accelerates <see cref="Vector{T}"/>; the plain loop (the scalar twin) otherwise.
    /// </summary>
    internal static (double Z, double Fx, double Fy) ExactRepulsion(double[] xs, double[] ys, double xi, double yi, bool vectors)
    {
        int n = xs.Length, j = 0;
        double z = 0, fx = 0, fy = 0;
        if (vectors && Vector.IsHardwareAccelerated && n >= Vector<double>.Count)
        {
            var one = Vector<double>.One;
            Vector<double> vx = new(xi), vy = new(yi), vz = Vector<double>.Zero, vfx = Vector<double>.Zero, vfy = Vector<double>.Zero;
            for (; j <= n - Vector<double>.Count; j += Vector<double>.Count)
            {
                var dx = vx - new Vector<double>(xs, j);
                var dy = vy - new Vector<double>(ys, j);
                var w = one / (one + dx * dx + dy * dy);
                var w2 = w * w;
                vz += w;
                vfx += w2 * dx;
                vfy += w2 * dy;
            }
            z = Vector.Sum(vz);
            fx = Vector.Sum(vfx);
            fy = Vector.Sum(vfy);
        }
        for (; j < n; j++)
        {
            double dx = xi - xs[j], dy = yi - ys[j];
            double w = 1 / (1 + dx * dx + dy * dy);
            z += w;
            fx += w * w * dx;
            fy += w * w * dy;
        }
        return (z, fx, fy);
    }
}
