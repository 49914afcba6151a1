using System.Diagnostics;
using SharpVision.Tensors;

namespace SharpVision.Analysis;

/// <summary>How t-SNE computes the repulsive part of its gradient.</summary>
public enum TsneMethod
{
    /// <summary><see cref="Exact"/> up to <see cref="Tsne.ExactThreshold"/> points, else <see cref="BarnesHut"/>.</summary>
    Auto,

    /// <summary>Barnes–Hut on a quadtree, O(n log n) per iteration, error controlled by <see cref="TsneOptions.Theta"/>.</summary>
    BarnesHut,

    /// <summary>All pairs, O(n²) per iteration.</summary>
    Exact,
}

/// <summary>Where the map starts.</summary>
public enum TsneInitialization
{
    /// <summary>The input's first two principal components, scaled so the first has standard deviation 10⁻⁴ (scikit-learn's default since 1.2).</summary>
    Pca,

    /// <summary>Independent N(0, 10⁻⁸) coordinates from the seed.</summary>
    Random,
}

/// <summary>t-SNE's settings; defaults are scikit-learn 1.2's (<c>TSNE(init="pca", learning_rate="auto")</c>).</summary>
public sealed record TsneOptions
{
    /// <summary>Effective number of neighbours each point's similarity distribution spreads over; must be below n.</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>Total gradient-descent iterations, early exaggeration included.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>α: P is multiplied by this during the first <see cref="ExaggerationIterations"/> iterations, which pulls clusters tight early.</summary>
    public double EarlyExaggeration { get; init; } = 12;

    /// <summary>Iterations run with early exaggeration (and <see cref="InitialMomentum"/>).</summary>
    public int ExaggerationIterations { get; init; } = 250;

    /// <summary>Step size η; null for "auto", max(n / α / 4, 50) (Belkina et al. 2019, as scikit-learn).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Barnes–Hut opening angle: a cell of width w at distance r from a point is summarized when w &lt; θ·r. 0 is exact.</summary>
    public double Theta { get; init; } = 0.5;

    public TsneMethod Method { get; init; } = TsneMethod.Auto;

    public TsneInitialization Initialization { get; init; } = TsneInitialization.Pca;

    /// <summary>Seed of the random initialization (the PCA initialization is deterministic and ignores it).</summary>
    public long Seed { get; init; }

    /// <summary>Worker threads; 0 means <see cref="Engine.Threads"/>. Results are the same bits for any value.</summary>
    public int Threads { get; init; }

    /// <summary>Momentum during early exaggeration.</summary>
    public double InitialMomentum { get; init; } = 0.5;

    /// <summary>Momentum afterwards.</summary>
    public double FinalMomentum { get; init; } = 0.8;

    /// <summary>Lower bound of the per-coordinate gains (+0.2 while the gradient keeps its sign, ×0.8 when it flips).</summary>
    public double MinGain { get; init; } = 0.01;

    /// <summary>After early exaggeration, stop when the KL divergence has not improved for this many iterations (checked every <see cref="CheckEvery"/>).</summary>
    public int IterationsWithoutProgress { get; init; } = 300;

    /// <summary>Stop when the gradient's norm falls below this (checked every <see cref="CheckEvery"/>).</summary>
    public double MinGradientNorm { get; init; } = 1e-7;

    /// <summary>Iterations between convergence checks and progress reports (the KL divergence costs a pass over P).</summary>
    public int CheckEvery { get; init; } = 50;
}

/// <summary>A progress report of t-SNE, every <see cref="TsneOptions.CheckEvery"/> iterations.</summary>
/// <param name="Iteration">Iterations done.</param>
/// <param name="Iterations">Iterations planned.</param>
/// <param name="KlDivergence">KL(P‖Q) now, with the method's estimate of Q's normalization (P unexaggerated).</param>
/// <param name="GradientNorm">‖∂C/∂Y‖ of the last step (after gains).</param>
/// <param name="Exaggerated">True during early exaggeration.</param>
public readonly record struct TsneProgress(int Iteration, int Iterations, double KlDivergence, double GradientNorm, bool Exaggerated);

/// <summary>A t-SNE map.</summary>
/// <param name="Embedding">n×2 coordinates, row-major (x₀, y₀, x₁, y₁, …).</param>
/// <param name="Count">n.</param>
/// <param name="KlDivergence">Final KL(P‖Q), computed exactly (all pairs) whatever the method.</param>
/// <param name="Iterations">Iterations run (fewer than asked if a convergence test stopped it).</param>
/// <param name="Method">The gradient actually used.</param>
/// <param name="LearningRate">The step size used.</param>
/// <param name="Neighbors">k, neighbours per point in P.</param>
/// <param name="NeighborTime">Exact k-nearest-neighbour search.</param>
/// <param name="AffinityTime">Perplexity calibration and symmetrization.</param>
/// <param name="OptimizationTime">Initialization and gradient descent, final KL included.</param>
public sealed record TsneResult(float[] Embedding, int Count, double KlDivergence, int Iterations, TsneMethod Method, double LearningRate, int Neighbors,
    TimeSpan NeighborTime, TimeSpan AffinityTime, TimeSpan OptimizationTime);

/// <summary>
/// t-distributed stochastic neighbour embedding (van der Maaten &amp; Hinton 2008; Barnes–Hut: van der Maaten 2014):
/// a 2-D map whose Student-t similarities Q match the input's Gaussian similarities P, by gradient descent on KL(P‖Q).
/// </summary>
/// <remarks>
/// <para>Shape: (n, d) floats → (n, 2). Run PCA to ~50 dimensions first for image-sized inputs (<see cref="Pca"/>).</para>
/// <para>Steps: exact k-nearest neighbours with k = min(n − 1, ⌊3·perplexity⌋ + 1) (<see cref="NeighborGraph.Exact"/>);
/// per-point precisions by bisection to the perplexity and symmetric sparse P (<see cref="Affinities"/>);
/// gradient descent with momentum and per-coordinate gains, P × α for the first iterations; the two stages start
/// from zero velocity and unit gains, as scikit-learn's. With k = n − 1 (perplexity ≥ (n − 2)/3) P is the full
/// t-SNE P.</para>
/// <para>Determinism: a given seed, input and build give the same bits for any thread count.</para>
/// </remarks>
public sealed class Tsne
{
    /// <summary>Largest n for which <see cref="TsneMethod.Auto"/> uses the exact gradient.</summary>
    public const int ExactThreshold = 500;

    /// <exception cref="ArgumentOutOfRangeException">A setting out of range; the message names it.</exception>
    public Tsne(TsneOptions? options = null)
    {
        var o = options ?? new TsneOptions();
        if (!(o.Perplexity > 0) || double.IsInfinity(o.Perplexity)) throw new ArgumentOutOfRangeException(nameof(options), o.Perplexity, "Perplexity must be a positive number.");
        if (o.Iterations < 1) throw new ArgumentOutOfRangeException(nameof(options), o.Iterations, "Iterations must be at least 1.");
        if (!(o.EarlyExaggeration >= 1) || double.IsInfinity(o.EarlyExaggeration)) throw new ArgumentOutOfRangeException(nameof(options), o.EarlyExaggeration, "Early exaggeration must be at least 1.");
        if (o.ExaggerationIterations < 0) throw new ArgumentOutOfRangeException(nameof(options), o.ExaggerationIterations, "Exaggeration iterations cannot be negative.");
        if (o.LearningRate is double rate && (!(rate > 0) || double.IsInfinity(rate))) throw new ArgumentOutOfRangeException(nameof(options), rate, "The learning rate must be positive (or null for auto).");
        if (!(o.Theta >= 0) || o.Theta > 10) throw new ArgumentOutOfRangeException(nameof(options), o.Theta, "Theta must be between 0 and 10 (0.5 is usual).");
        if (!Enum.IsDefined(o.Method)) throw new ArgumentOutOfRangeException(nameof(options), o.Method, "Unknown method.");
        if (!Enum.IsDefined(o.Initialization)) throw new ArgumentOutOfRangeException(nameof(options), o.Initialization, "Unknown initialization.");
        if (o.Threads < 0) throw new ArgumentOutOfRangeException(nameof(options), o.Threads, "Threads cannot be negative (0 = the engine's).");
        if (!(o.InitialMomentum is >= 0 and < 1) || !(o.FinalMomentum is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(options), "Momentum must be in [0, 1).");
        if (!(o.MinGain > 0)) throw new ArgumentOutOfRangeException(nameof(options), o.MinGain, "The minimum gain must be positive.");
        if (o.CheckEvery < 1) throw new ArgumentOutOfRangeException(nameof(options), o.CheckEvery, "CheckEvery must be at least 1.");
        if (o.IterationsWithoutProgress < 1) throw new ArgumentOutOfRangeException(nameof(options), o.IterationsWithoutProgress, "IterationsWithoutProgress must be at least 1.");
        if (!(o.MinGradientNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(options), o.MinGradientNorm, "MinGradientNorm cannot be negative.");
        Options = o;
    }

    public TsneOptions Options { get; }

    /// <summary>Maps <paramref name="count"/> rows of <paramref name="dimension"/> values to 2-D.</summary>
    /// <param name="data">n×d floats, row-major.</param>
    /// <param name="count">n ≥ 2, and more than the perplexity.</param>
    /// <param name="dimension">d ≥ 1.</param>
    /// <param name="progress">Called every <see cref="TsneOptions.CheckEvery"/> iterations and at the end, on the calling thread.</param>
    /// <param name="cancellationToken">Checked every iteration.</param>
    /// <exception cref="ArgumentException">Sizes disagree, fewer than 2 rows, perplexity ≥ n, or a NaN/infinite value.</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public TsneResult Fit(ReadOnlySpan<float> data, int count, int dimension, Action<TsneProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (count < 2) throw new ArgumentException($"t-SNE needs at least 2 points; got {count}.", nameof(count));
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (data.Length != (long)count * dimension) throw new ArgumentException($"{count} rows of {dimension} values are {(long)count * dimension} floats; got {data.Length}.", nameof(data));
        if (Options.Perplexity >= count)
            throw new ArgumentException($"Perplexity ({Options.Perplexity}) must be less than the number of points ({count}); try {Math.Max(1, (count - 1) / 3)}.", nameof(data));
        if (!Pca.IsFinite(data)) throw new ArgumentException("The data has a NaN or infinite value.", nameof(data));

        int n = count, threads = Options.Threads == 0 ? Engine.Threads : Options.Threads;
        int k = (int)Math.Min(n - 1, Math.Floor(3 * Options.Perplexity) + 1);
        var clock = Stopwatch.StartNew();
        var graph = NeighborGraph.Exact(data, n, dimension, k, threads);
        var neighborTime = clock.Elapsed;
        clock.Restart();
        var p = Affinities.FromNeighbors(graph, Options.Perplexity, threads);
        var affinityTime = clock.Elapsed;
        clock.Restart();
        var y = Initialize(data, n, dimension);
        var method = Options.Method == TsneMethod.Auto ? (n <= ExactThreshold ? TsneMethod.Exact : TsneMethod.BarnesHut) : Options.Method;
        var (iterations, rate) = Optimize(p, y, method, threads, progress, cancellationToken);
        double kl = TsneGradient.KlDivergence(p, y, threads);
        var optimizationTime = clock.Elapsed;
        return new TsneResult(Array.ConvertAll(y, v => (float)v), n, kl, iterations, method, rate, k, neighborTime, affinityTime, optimizationTime);
    }

    private double[] Initialize(ReadOnlySpan<float> data, int n, int d)
    {
        var y = new double[2 * n];
        if (Options.Initialization == TsneInitialization.Pca && d >= 2)
        {
            var pca = Pca.Fit(data, n, d, 2);
            var z = pca.Transform(data, n);
            double mean = 0, sq = 0;
            for (int i = 0; i < n; i++) mean += z[2 * i] / (double)n;
            for (int i = 0; i < n; i++) sq += (z[2 * i] - mean) * (z[2 * i] - mean) / n;
            double scale = sq > 0 ? 1e-4 / Math.Sqrt(sq) : 1;
            for (int i = 0; i < 2 * n; i++) y[i] = z[i] * scale;
            if (sq > 0) return y;
        }
        // Random start (also the fallback for 1-D input or constant data, which have no 2-D principal plane).
        var rng = new Rng(Options.Seed);
        for (int i = 0; i < 2 * n; i++) y[i] = 1e-4 * rng.NextNormal();
        return y;
    }

    // Gradient descent with momentum and gains (Jacobs 1988), as scikit-learn's _gradient_descent, in two stages.
    private (int Iterations, double LearningRate) Optimize(Affinities p, double[] y, TsneMethod method, int threads, Action<TsneProgress>? progress, CancellationToken cancellationToken)
    {
        var o = Options;
        int n = p.Count, total = o.Iterations;
        double rate = o.LearningRate ?? Math.Max(n / o.EarlyExaggeration / 4, 50);
        var gradient = new double[2 * n];
        var update = new double[2 * n];
        var gains = new double[2 * n];
        double bestError = double.MaxValue;
        int bestIteration = 0, iteration = 0;
        int exaggerated = Math.Min(o.ExaggerationIterations, total);
        for (; iteration < total; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool early = iteration < exaggerated;
            if (iteration == 0 || iteration == exaggerated)
            {
                // Each stage starts from rest with unit gains.
                Array.Clear(update);
                Array.Fill(gains, 1.0);
                bestError = double.MaxValue;
                bestIteration = iteration;
            }
            double alpha = early ? o.EarlyExaggeration : 1, momentum = early ? o.InitialMomentum : o.FinalMomentum;
            bool check = (iteration + 1) % o.CheckEvery == 0 || iteration + 1 == total;
            double kl = method == TsneMethod.Exact
                ? TsneGradient.Exact(p, y, gradient, alpha, threads, check)
                : TsneGradient.BarnesHut(p, y, gradient, o.Theta, alpha, threads, check);
            double squaredNorm = 0;
            for (int i = 0; i < 2 * n; i++)
            {
                // Gains grow while a coordinate keeps moving the same way downhill and shrink when it overshoots.
                double g = gradient[i];
                gains[i] = update[i] * g < 0 ? gains[i] + 0.2 : gains[i] * 0.8;
                if (gains[i] < o.MinGain) gains[i] = o.MinGain;
                g *= gains[i];
                squaredNorm += g * g;
                update[i] = momentum * update[i] - rate * g;
                y[i] += update[i];
            }

            if (!check) continue;
            double norm = Math.Sqrt(squaredNorm);
            progress?.Invoke(new TsneProgress(iteration + 1, total, kl, norm, early));
            if (kl < bestError)
            {
                bestError = kl;
                bestIteration = iteration;
            }
            else if (!early && iteration - bestIteration > o.IterationsWithoutProgress)
            {
                return (iteration + 1, rate);
            }
            if (norm <= o.MinGradientNorm) return (iteration + 1, rate);
        }
        return (iteration, rate);
    }
}
