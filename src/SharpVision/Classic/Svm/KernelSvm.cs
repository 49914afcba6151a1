using System.Diagnostics;

namespace SharpVision.Classic.Svm;

/// <summary>How one binary problem of a <see cref="KernelSvm"/> fit went.</summary>
/// <param name="First">The class labelled +1.</param>
/// <param name="Second">The class labelled −1.</param>
/// <param name="Iterations">SMO iterations.</param>
/// <param name="SupportVectors">Rows with α &gt; 0.</param>
/// <param name="Converged">False when the iteration limit stopped it.</param>
/// <param name="Seconds">Time of the solve.</param>
public sealed record PairSolve(int First, int Second, int Iterations, int SupportVectors, bool Converged, double Seconds);

/// <summary>
/// Fits a multiclass C-support vector classifier the way libsvm does (scikit-learn's <c>SVC</c>): one binary problem per
/// pair of classes (one-vs-one), each solved by <see cref="SmoSolver"/>; the support vectors of all problems are kept
/// once, grouped by class, with libsvm's coefficient layout.
/// </summary>
/// <remarks>
/// <para>Kernel values come from the GEMM provider: when the whole N×N kernel matrix fits
/// <see cref="KernelSvmOptions.CacheMegabytes"/> it is computed once and every pair reads its block; otherwise each pair
/// computes its own matrix when that fits its share of the memory, and else keeps its most recently used kernel rows
/// (libsvm's cache). Pairs are solved in parallel, each on one thread; results do not depend on the thread count.</para>
/// <para>Probabilities: Platt sigmoids per pair (libsvm's <c>sigmoid_train</c>) fitted on the decision values the
/// <see cref="ProbabilityCalibration"/> names, coupled across pairs by Wu, Lin and Weng's method 2 (libsvm's
/// <c>multiclass_probability</c>).</para>
/// </remarks>
public static class KernelSvm
{
    /// <summary>Fits a classifier on N×D rows.</summary>
    /// <param name="x">Training rows, row-major (not copied; not modified).</param>
    /// <param name="dimension">D.</param>
    /// <param name="labels">N labels in 0..classes−1.</param>
    /// <param name="classes">K (at least 2; every class must have a row).</param>
    /// <param name="options">Kernel, C, tolerance, cache, calibration.</param>
    /// <param name="threads">Pairs solved at once (and GEMM threads for a shared kernel matrix).</param>
    /// <param name="validation">Validation rows for probability calibration, or null.</param>
    /// <param name="validationLabels">Their labels.</param>
    /// <param name="onPairDone">Called (from a worker thread) after each pair.</param>
    /// <param name="cancellationToken">Checked every 1,000 SMO iterations.</param>
    /// <exception cref="ArgumentException">Sizes or labels that do not fit, a class without rows, a non-finite value, or invalid options.</exception>
    public static KernelSvmClassifier Fit(float[] x, int dimension, int[] labels, int classes, KernelSvmOptions options, int threads = 1,
        float[]? validation = null, int[]? validationLabels = null, Action<PairSolve>? onPairDone = null,
            CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        int n = labels.Length;
        if (x.LongLength != (long)n * dimension)
            throw new ArgumentException($"{x.Length} values are not {n} rows × {dimension} features.", nameof(x));
        foreach (float v in x)
            if (!float.IsFinite(v)) throw new ArgumentException("The training rows hold a NaN or infinite value.", nameof(x));
        var counts = new int[classes];
        foreach (int y in labels)
        {
            if ((uint)y >= (uint)classes) throw new ArgumentException($"Label {y} is outside 0..{classes - 1}.", nameof(labels));
            counts[y]++;
        }
        int present = counts.Count(c => c > 0);
        if (present < 2) throw new ArgumentException("The training set holds a single class: a classifier needs at least two.", nameof(labels));
        if (present < classes)
            throw new ArgumentException($"Class {Array.IndexOf(counts, 0)} has no training rows: every class needs some.", nameof(labels));
        if (validation is not null && (validationLabels is null || validation.LongLength != (long)validationLabels.Length * dimension))
            throw new ArgumentException("Validation rows need the training rows' width and one label each.", nameof(validationLabels));
        threads = Math.Max(1, threads);

        var kernel = new KernelFunction(options.Kernel, options.Gamma.Resolve(x, dimension), options.Degree, options.Coef0);
        // libsvm's svm_group_classes: rows grouped by class, in their original order within a class.
        var start = new int[classes];
        for (int k = 1; k < classes; k++) start[k] = start[k - 1] + counts[k - 1];
        var grouped = new int[n];
        var fill = (int[])start.Clone();
        for (int i = 0; i < n; i++) grouped[fill[labels[i]]++] = i;

        var memory = new PairKernels(x, dimension, kernel, (long)options.CacheMegabytes << 20, threads);
        DenseKernelRows? shared = memory.FitsWhole(n) ? new DenseKernelRows(KernelRows.Dense(x, dimension, Enumerable.Range(0, n).ToArray(),
            kernel, threads), n) : null;
        var pairs = new List<(int A, int B)>();
        for (int a = 0; a < classes; a++)
            for (int b = a + 1; b < classes; b++) pairs.Add((a, b));
        var solutions = new PairSolution[pairs.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        Parallel.For(0, pairs.Count, parallel, p =>
        {
            var (a, b) = pairs[p];
            var rows = grouped.AsSpan(start[a], counts[a]).ToArray().Concat(grouped.AsSpan(start[b], counts[b]).ToArray()).ToArray();
            var clock = Stopwatch.StartNew();
            if (shared is not null) solutions[p] = SolvePair(shared, rows, counts[a], counts[b], options, cancellationToken);
            else
                using (var lease = memory.Rent(rows, cancellationToken))
                    solutions[p] = SolvePair(lease.Rows, Enumerable.Range(0, rows.Length).ToArray(), counts[a], counts[b], options,
                        cancellationToken);
            var s = solutions[p];
            onPairDone?.Invoke(new PairSolve(a, b, s.Iterations, s.Alpha.Count(v => v != 0), s.Converged, clock.Elapsed.TotalSeconds));
        });
        return Assemble(x, dimension, classes, counts, start, grouped, pairs, solutions, kernel, options, validation, validationLabels, threads,
            memory);
    }

    /// <summary>
    /// The kernel memory of the binary problems: a problem whose whole matrix fits the budget computes it (by GEMM) once
    /// it can reserve that much (so problems running at once never exceed the budget together); a larger one keeps its
    /// most recently used rows in its share of the budget. The choice depends on the budget only, never on the thread
    /// count, so the kernel values — and the model — are the same bits for any thread count.
    /// </summary>
    private sealed class PairKernels(float[] x, int dimension, KernelFunction kernel, long budget, int threads)
    {
        private long _used; // bytes of dense matrices of problems running now

        public bool FitsWhole(int rows) => (long)rows * rows * 4 <= budget;

        /// <summary>Σ αⱼyⱼK(x_row, x_j) − ρ of a solved problem over <paramref name="rows"/>, in double precision.</summary>
        public double Decision(int row, int[] rows, PairSolution solution)
        {
            var xi = x.AsSpan(row * dimension, dimension);
            double sum = 0, norm = System.Numerics.Tensors.TensorPrimitives.Dot(xi, xi);
            for (int s = 0; s < rows.Length; s++)
            {
                if (solution.Alpha[s] == 0) continue;
                var xs = x.AsSpan(rows[s] * dimension, dimension);
                sum += solution.Alpha[s] * kernel.Evaluate(System.Numerics.Tensors.TensorPrimitives.Dot(xi, xs), norm,
                    System.Numerics.Tensors.TensorPrimitives.Dot(xs, xs));
            }
            return sum - solution.Rho;
        }

        public Lease Rent(int[] rows, CancellationToken cancellationToken)
        {
            long bytes = (long)rows.Length * rows.Length * 4;
            if (!FitsWhole(rows.Length)) return new Lease(this, new CachedKernelRows(x, dimension, rows, kernel, budget / threads), 0);
            lock (this)
            {
                while (budget - _used < bytes)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Monitor.Wait(this, 200);
                }
                _used += bytes;
            }
            try
            {
                return new Lease(this, new DenseKernelRows(KernelRows.Dense(x, dimension, rows, kernel, 1), rows.Length), bytes);
            }
            catch
            {
                Return(bytes);
                throw;
            }
        }

        private void Return(long bytes)
        {
            lock (this)
            {
                _used -= bytes;
                Monitor.PulseAll(this);
            }
        }

        public sealed class Lease(PairKernels owner, KernelRows rows, long bytes) : IDisposable
        {
            public KernelRows Rows { get; } = rows;

            public void Dispose() => owner.Return(bytes);
        }
    }

    /// <summary>One binary problem's result: signed coefficients αᵢyᵢ (problem order), ρ, and the training decision values.</summary>
    internal sealed record PairSolution(double[] Alpha, double Rho, double[] Decisions, int Iterations, bool Converged);

    // libsvm's solve_c_svc: the first `positives` variables are +1, the rest −1; p = −1; α starts at 0.
    internal static PairSolution SolvePair(KernelRows rows, int[] source, int positives, int negatives, KernelSvmOptions options,
        CancellationToken cancellationToken)
    {
        int l = positives + negatives;
        var y = new sbyte[l];
        for (int i = 0; i < l; i++) y[i] = (sbyte)(i < positives ? 1 : -1);
        var p = Enumerable.Repeat(-1.0, l).ToArray();
        var alpha = new double[l];
        var solver = new SmoSolver();
        var solution = solver.Solve(new SvcMatrix(rows, source, y), p, y, alpha, options.C, options.C, options.Tolerance, options.Shrinking,
            options.MaxIterations, cancellationToken);
        var g = solver.GradientInProblemOrder();
        var decisions = new double[l];
        for (int i = 0; i < l; i++)
        {
            decisions[i] = y[i] * (g[i] + 1) - solution.Rho; // Σ αⱼyⱼK(xⱼ, xᵢ) = yᵢ(Gᵢ − pᵢ)
            alpha[i] *= y[i];
        }
        return new PairSolution(alpha, solution.Rho, decisions, solution.Iterations, solution.Converged);
    }

    // libsvm's svm_train model building: nonzero flags, support vectors by class, sv_coef[K−1][nSV] layout.
    private static KernelSvmClassifier Assemble(float[] x, int dimension, int classes, int[] counts, int[] start, int[] grouped,
        List<(int A, int B)> pairs, PairSolution[] solutions, KernelFunction kernel, KernelSvmOptions options, float[]? validation,
        int[]? validationLabels, int threads, PairKernels memory)
    {
        int n = grouped.Length;
        var nonzero = new bool[n]; // by grouped position
        for (int p = 0; p < pairs.Count; p++)
        {
            var (a, b) = pairs[p];
            for (int k = 0; k < counts[a]; k++)
                if (solutions[p].Alpha[k] != 0) nonzero[start[a] + k] = true;
            for (int k = 0; k < counts[b]; k++)
                if (solutions[p].Alpha[counts[a] + k] != 0) nonzero[start[b] + k] = true;
        }
        var supportCounts = new int[classes];
        for (int c = 0; c < classes; c++)
            for (int k = 0; k < counts[c]; k++)
                if (nonzero[start[c] + k]) supportCounts[c]++;
        int total = supportCounts.Sum();
        var supportIndices = new int[total];
        var vectors = new float[(long)total * dimension];
        for (int i = 0, s = 0; i < n; i++)
        {
            if (!nonzero[i]) continue;
            supportIndices[s] = grouped[i];
            x.AsSpan(grouped[i] * dimension, dimension).CopyTo(vectors.AsSpan(s * dimension, dimension));
            s++;
        }
        var supportStart = new int[classes];
        for (int c = 1; c < classes; c++) supportStart[c] = supportStart[c - 1] + supportCounts[c - 1];
        var coefficients = new double[(classes - 1) * total];
        for (int p = 0; p < pairs.Count; p++)
        {
            // Classifier (a, b): coefficients of a's vectors in row b − 1, of b's vectors in row a.
            var (a, b) = pairs[p];
            int q = supportStart[a];
            for (int k = 0; k < counts[a]; k++)
                if (nonzero[start[a] + k]) coefficients[(b - 1) * total + q++] = solutions[p].Alpha[k];
            q = supportStart[b];
            for (int k = 0; k < counts[b]; k++)
                if (nonzero[start[b] + k]) coefficients[a * total + q++] = solutions[p].Alpha[counts[a] + k];
        }
        var rho = solutions.Select(s => s.Rho).ToArray();
        var model = new KernelSvmClassifier(kernel, classes, dimension, vectors, supportCounts, coefficients, rho, supportIndices, null, null);
        var (probA, probB) = Calibrate(model, counts, start, grouped, pairs, solutions, options, validation, validationLabels, threads, memory);
        return new KernelSvmClassifier(kernel, classes, dimension, vectors, supportCounts, coefficients, rho, supportIndices, probA, probB);
    }

    // Platt sigmoids per pair, on validation decisions when given, else on cross-validated or training decisions.
    private static (double[] A, double[] B) Calibrate(KernelSvmClassifier model, int[] counts, int[] start, int[] grouped,
        List<(int A, int B)> pairs, PairSolution[] solutions, KernelSvmOptions options, float[]? validation, int[]? validationLabels, int threads,
            PairKernels memory)
    {
        var probA = new double[pairs.Count];
        var probB = new double[pairs.Count];
        if (options.Probability == ProbabilityCalibration.Auto && validation is { Length: > 0 })
        {
            var decisions = model.DecisionValues(validation, threads);
            int v = validationLabels!.Length;
            for (int p = 0; p < pairs.Count; p++)
            {
                var (a, b) = pairs[p];
                var values = new List<double>();
                var targets = new List<double>();
                for (int i = 0; i < v; i++)
                {
                    if (validationLabels[i] != a && validationLabels[i] != b) continue;
                    values.Add(decisions[i * pairs.Count + p]);
                    targets.Add(validationLabels[i] == a ? 1 : -1);
                }
                (probA[p], probB[p]) = values.Count > 0 ? PlattScaling.Fit(values.ToArray(), targets.ToArray()) : (0, 0);
            }
            return (probA, probB);
        }
        Parallel.For(0, pairs.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, p =>
        {
            var (a, b) = pairs[p];
            int l = counts[a] + counts[b];
            var targets = new double[l];
            for (int i = 0; i < l; i++) targets[i] = i < counts[a] ? 1 : -1;
            var decisions = options.Probability == ProbabilityCalibration.CrossValidation
                ? CrossValidatedDecisions(memory, grouped, start, counts, a, b, options, p)
                : solutions[p].Decisions;
            (probA[p], probB[p]) = PlattScaling.Fit(decisions, targets);
        });
        return (probA, probB);
    }

    // libsvm's svm_binary_svc_probability: 5 folds of a random permutation of the pair's rows; each fold's decision
    // values from a model fitted on the other four (a fold missing a class gets the constant libsvm uses).
    private static double[] CrossValidatedDecisions(PairKernels memory, int[] grouped, int[] start, int[] counts, int a, int b,
        KernelSvmOptions options, int pair)
    {
        const int Folds = 5;
        int l = counts[a] + counts[b];
        var rows = grouped.AsSpan(start[a], counts[a]).ToArray().Concat(grouped.AsSpan(start[b], counts[b]).ToArray()).ToArray();
        var order = new Tensors.Rng(pair, 7).Permutation(l);
        var decisions = new double[l];
        for (int f = 0; f < Folds; f++)
        {
            int begin = f * l / Folds, end = (f + 1) * l / Folds;
            var held = order[begin..end];
            var kept = order[..begin].Concat(order[end..]).OrderBy(i => i >= counts[a]).ThenBy(i => i).ToArray();
            int positives = kept.Count(i => i < counts[a]), negatives = kept.Length - positives;
            if (positives == 0 || negatives == 0)
            {
                foreach (int i in held) decisions[i] = positives > 0 ? 1 : negatives > 0 ? -1 : 0;
                continue;
            }
            var keptRows = kept.Select(i => rows[i]).ToArray();
            PairSolution solution;
            using (var lease = memory.Rent(keptRows, CancellationToken.None))
                solution = SolvePair(lease.Rows, Enumerable.Range(0, keptRows.Length).ToArray(), positives, negatives, options,
                    CancellationToken.None);
            foreach (int i in held) decisions[i] = memory.Decision(rows[i], keptRows, solution);
        }
        return decisions;
    }
}
