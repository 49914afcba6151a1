using System.Numerics.Tensors;
using SharpVision.Tensors;

namespace SharpVision.Optim;

/// <summary>The settings of <see cref="DualCoordinateDescent"/>.</summary>
/// <param name="C">Cost of the slack: the objective is ½‖w‖² + C·Σᵢ max(0, 1 − tᵢ·w·xᵢ)² (scikit-learn's <c>LinearSVC</c> <c>C</c>).</param>
/// <param name="Tolerance">Stop when the projected gradient's spread (max − min over the examples) falls to this (liblinear's <c>eps</c>).</param>
/// <param name="MaxPasses">At most this many passes over the (active) examples per class (liblinear's <c>max_iter</c>).</param>
/// <param name="Seed">Seeds the order the examples are visited in.</param>
public sealed record DualCoordinateDescentOptions(double C = 0.1, double Tolerance = 0.1, int MaxPasses = 1000, int Seed = 0);

/// <summary>What <see cref="DualCoordinateDescent.Fit"/> found for each class.</summary>
/// <param name="Weights">Row-major classes × features.</param>
/// <param name="Biases">One per class.</param>
/// <param name="Passes">Passes each class's problem took.</param>
/// <param name="Converged">Whether each class reached the tolerance before <see cref="DualCoordinateDescentOptions.MaxPasses"/>.</param>
/// <param name="SupportVectors">Examples with a non-zero dual variable, per class.</param>
/// <param name="Alphas">The dual variables, per class (one per example): a warm start for a nearby problem.</param>
public sealed record DualCoordinateDescentResult(float[] Weights, float[] Biases, int[] Passes, bool[] Converged, int[] SupportVectors, double[][] Alphas);

/// <summary>
/// Exact training of a one-vs-rest linear SVM with the squared hinge loss and L2 regularization, by dual coordinate
/// descent with shrinking (Hsieh, Chang, Lin, Keerthi and Sundararajan, "A dual coordinate descent method for large-scale
/// linear SVM", ICML 2008) — the solver behind liblinear's <c>-s 1</c> and scikit-learn's <c>LinearSVC(dual=True)</c>.
/// </summary>
/// <remarks>
/// <para>
/// For each class c, with targets tᵢ = +1 on class c and −1 elsewhere, the primal problem
/// min_w ½‖w‖² + C·Σᵢ max(0, 1 − tᵢ·w·x̂ᵢ)² over x̂ᵢ = (xᵢ, 1) (the bias is the weight of a constant feature, regularized
/// like the others, as liblinear and <c>LinearSVC</c>'s default <c>intercept_scaling=1</c> do) has the dual
/// min_{α ≥ 0} ½·αᵀ(Q + I/(2C))α − Σᵢ αᵢ with Qᵢⱼ = tᵢtⱼ·x̂ᵢ·x̂ⱼ, and w = Σᵢ αᵢtᵢx̂ᵢ. One coordinate step solves the
/// dual exactly in αᵢ: with G = tᵢ·w·x̂ᵢ − 1 + αᵢ/(2C), αᵢ ← max(0, αᵢ − G/(‖x̂ᵢ‖² + 1/(2C))), and w follows in O(D).
/// </para>
/// <para>
/// The primal objective is strictly convex, so its minimizer is unique: any exact solver (liblinear, scikit-learn's primal
/// Newton solver, this one) reaches the same weights up to the tolerance, which is what the tests check against
/// scikit-learn. Examples whose α is 0 and whose gradient exceeds the last pass's largest projected gradient are shrunk
/// (skipped) until the active ones converge; then every example is checked again, as in liblinear.
/// </para>
/// <para>The classes are independent problems and run in parallel; the result does not depend on the thread count.</para>
/// </remarks>
public static class DualCoordinateDescent
{
    /// <summary>Fits one binary squared-hinge SVM per class (one-vs-rest) on row-major examples.</summary>
    /// <param name="inputs">N × D features, row-major.</param>
    /// <param name="labels">N labels in [0, classes).</param>
    /// <param name="dimension">D.</param>
    /// <param name="classes">Number of classes (at least 2).</param>
    /// <param name="options">C, tolerance, pass limit and seed.</param>
    /// <param name="threads">Classes solved at once.</param>
    /// <param name="onClassDone">Called (from a worker thread) after each class's problem is solved.</param>
    /// <param name="cancellationToken">Checked after every pass.</param>
    /// <param name="warmStart">
    /// Dual variables to start from, per class (≥ 0, one per example), e.g. the <see cref="DualCoordinateDescentResult.Alphas"/>
    /// of a smaller C, or of fewer examples padded with zeros: any non-negative α is feasible, and starting near the
    /// optimum saves passes. Null: start from α = 0.
    /// </param>
    /// <exception cref="ArgumentException">Sizes that do not fit, labels out of range, C or tolerance not positive, a negative warm start.</exception>
    public static DualCoordinateDescentResult Fit(float[] inputs, int[] labels, int dimension, int classes, DualCoordinateDescentOptions options, int threads = 1,
        Action<int>? onClassDone = null, double[][]? warmStart = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (!(options.C > 0 && double.IsFinite(options.C))) throw new ArgumentOutOfRangeException(nameof(options), options.C, "C must be positive and finite.");
        if (!(options.Tolerance > 0)) throw new ArgumentOutOfRangeException(nameof(options), options.Tolerance, "The tolerance must be positive.");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPasses, 1);
        int n = labels.Length;
        if (n == 0) throw new ArgumentException("No examples.", nameof(labels));
        if (inputs.Length != (long)n * dimension) throw new ArgumentException($"{inputs.Length} inputs are not {n} examples × {dimension} features.", nameof(inputs));
        foreach (int y in labels)
            if ((uint)y >= (uint)classes) throw new ArgumentException($"Label {y} is outside [0, {classes}).", nameof(labels));
        if (warmStart is not null)
        {
            if (warmStart.Length != classes || warmStart.Any(a => a is null || a.Length != n))
                throw new ArgumentException($"A warm start needs {classes} arrays of {n} dual variables.", nameof(warmStart));
            if (warmStart.Any(a => a.Any(v => !(v >= 0 && double.IsFinite(v))))) throw new ArgumentException("Dual variables must be finite and non-negative.", nameof(warmStart));
        }

        var squaredNorms = new double[n];
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            var x = inputs.AsSpan(i * dimension, dimension);
            squaredNorms[i] = TensorPrimitives.Dot(x, x) + 1.0; // + the constant bias feature
        });

        var weights = new float[classes * dimension];
        var biases = new float[classes];
        var passes = new int[classes];
        var converged = new bool[classes];
        var supportVectors = new int[classes];
        var alphas = new double[classes][];
        Parallel.For(0, classes, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads), CancellationToken = cancellationToken }, c =>
        {
            var w = weights.AsSpan(c * dimension, dimension);
            alphas[c] = warmStart is null ? new double[n] : (double[])warmStart[c].Clone();
            (biases[c], passes[c], converged[c], supportVectors[c]) = SolveBinary(inputs, labels, c, dimension, squaredNorms, options, w, alphas[c], cancellationToken);
            onClassDone?.Invoke(c);
        });
        return new DualCoordinateDescentResult(weights, biases, passes, converged, supportVectors, alphas);
    }

    // liblinear's solve_l2r_l1l2_svc for the L2 loss (upper bound ∞, diagonal 1/(2C)), w kept in single precision
    // (the examples are) with the bias as its last coordinate.
    private static (float Bias, int Passes, bool Converged, int SupportVectors) SolveBinary(float[] inputs, int[] labels, int positive, int dimension,
        double[] squaredNorms, DualCoordinateDescentOptions options, Span<float> w, double[] alpha, CancellationToken cancellationToken)
    {
        int n = labels.Length;
        double diagonal = 0.5 / options.C; // Q̄ = Q + I/(2C); α ≥ 0 is the only bound (the plain hinge would also cap α at C)
        var index = new int[n];
        for (int i = 0; i < n; i++) index[i] = i;
        var rng = new Rng(options.Seed, 1 + positive);
        w.Clear();
        double bias = 0;
        for (int i = 0; i < n; i++) // w = Σ αᵢtᵢx̂ᵢ for a warm start (all zero otherwise)
        {
            if (alpha[i] == 0) continue;
            double step = labels[i] == positive ? alpha[i] : -alpha[i];
            TensorPrimitives.MultiplyAdd(inputs.AsSpan(i * dimension, dimension), (float)step, w, w);
            bias += step;
        }
        int active = n, pass = 0;
        double maxOld = double.PositiveInfinity, minOld = double.NegativeInfinity;
        bool done = false;
        while (pass < options.MaxPasses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double maxNew = double.NegativeInfinity, minNew = double.PositiveInfinity;
            for (int s = 0; s < active; s++)
            {
                int j = s + rng.NextInt(active - s);
                (index[s], index[j]) = (index[j], index[s]);
            }
            for (int s = 0; s < active; s++)
            {
                int i = index[s];
                var x = inputs.AsSpan(i * dimension, dimension);
                double t = labels[i] == positive ? 1 : -1;
                double g = t * (TensorPrimitives.Dot(w, x) + bias) - 1 + alpha[i] * diagonal;
                double projected = g;
                if (alpha[i] == 0)
                {
                    if (g > maxOld)
                    {
                        active--;
                        (index[s], index[active]) = (index[active], index[s]);
                        s--;
                        continue;
                    }
                    if (g > 0) projected = 0;
                }
                maxNew = Math.Max(maxNew, projected);
                minNew = Math.Min(minNew, projected);
                if (Math.Abs(projected) > 1e-12)
                {
                    double old = alpha[i];
                    alpha[i] = Math.Max(old - g / (squaredNorms[i] + diagonal), 0);
                    double step = (alpha[i] - old) * t;
                    TensorPrimitives.MultiplyAdd(x, (float)step, w, w);
                    bias += step;
                }
            }
            pass++;
            if (maxNew - minNew <= options.Tolerance)
            {
                if (active == n) { done = true; break; }
                active = n; // shrunk examples may have become violators: check them all once more
                maxOld = double.PositiveInfinity;
                minOld = double.NegativeInfinity;
                continue;
            }
            maxOld = maxNew <= 0 ? double.PositiveInfinity : maxNew;
            minOld = minNew >= 0 ? double.NegativeInfinity : minNew;
        }
        int support = 0;
        foreach (double a in alpha) if (a > 0) support++;
        return ((float)bias, pass, done, support);
    }
}
