using System.Collections.Concurrent;
using SharpVision.Tensors;

namespace SharpVision.Classic.Trees;

/// <summary>
/// A fitted multiclass gradient-boosted tree ensemble: per class, an initial score plus the values of that class's trees
/// at the row's leaves; probabilities are the softmax of the K scores. Immutable.
/// </summary>
/// <remarks>Shape: rows (N, D) → scores and probabilities (N, K). Tree r·K + k is round r's tree of class k.</remarks>
public sealed class BoostedTreesClassifier
{
    /// <exception cref="ArgumentException">A tree count that is not a whole number of rounds, trees of another width (1) or dimension, or sizes
    /// that disagree.</exception>
    public BoostedTreesClassifier(IReadOnlyList<DecisionTree> trees, int classes, int dimension, float[] initialScores, float[] featureImportances,
        IReadOnlyList<BoostingRound>? history = null)
    {
        ArgumentNullException.ThrowIfNull(trees);
        ArgumentNullException.ThrowIfNull(initialScores);
        ArgumentNullException.ThrowIfNull(featureImportances);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (trees.Count == 0 || trees.Count % classes != 0)
            throw new ArgumentException($"{trees.Count} trees are not whole rounds of {classes} (one per class).", nameof(trees));
        foreach (var tree in trees)
            if (tree.Width != 1 || tree.Dimension != dimension)
                throw new ArgumentException($"Every tree must hold one score per node over {dimension} features.", nameof(trees));
        if (initialScores.Length != classes || initialScores.Any(v => !float.IsFinite(v)))
            throw new ArgumentException($"{classes} finite initial scores are needed.", nameof(initialScores));
        if (featureImportances.Length != dimension)
            throw new ArgumentException($"{dimension} features need {dimension} importances.", nameof(featureImportances));
        (Trees, Classes, Dimension, InitialScores, FeatureImportances, History) = (trees, classes, dimension, initialScores, featureImportances,
            history ?? []);
    }

    public IReadOnlyList<DecisionTree> Trees { get; }

    /// <summary>K.</summary>
    public int Classes { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Per class, the score before any tree (log of the class's training frequency).</summary>
    public float[] InitialScores { get; }

    /// <summary>Share of the total split gain per feature (LightGBM's importance_type="gain", normalized to 1).</summary>
    public float[] FeatureImportances { get; }

    /// <summary>Training (and validation) loss after each round that was run (empty for a loaded model).</summary>
    public IReadOnlyList<BoostingRound> History { get; }

    /// <summary>Boosting rounds kept.</summary>
    public int Rounds => Trees.Count / Classes;

    /// <summary>Raw scores (log-odds up to a constant), N×K.</summary>
    /// <exception cref="ArgumentException">Rows with another number of features.</exception>
    public float[] PredictScores(FeatureTable rows, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(rows);
        rows.EnsureDimension(Dimension, nameof(rows));
        var result = new float[rows.Count * Classes];
        const int Chunk = 256;
        Parallel.For(0, (rows.Count + Chunk - 1) / Chunk, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, chunk =>
        {
            Span<double> sum = stackalloc double[Classes];
            for (int i = chunk * Chunk; i < Math.Min(rows.Count, (chunk + 1) * Chunk); i++)
            {
                for (int k = 0; k < Classes; k++) sum[k] = InitialScores[k];
                for (int t = 0; t < Trees.Count; t++)
                {
                    var tree = Trees[t];
                    sum[t % Classes] += tree.Values[tree.Leaf(rows, i)];
                }
                for (int k = 0; k < Classes; k++) result[i * Classes + k] = (float)sum[k];
            }
        });
        return result;
    }

    /// <summary>Class probabilities, the softmax of <see cref="PredictScores"/>, N×K.</summary>
    public float[] PredictProbabilities(FeatureTable rows, int threads = 1)
    {
        var scores = PredictScores(rows, threads);
        for (int i = 0; i < rows.Count; i++) Softmax.InPlace(scores.AsSpan(i * Classes, Classes));
        return scores;
    }
}

/// <summary>Numerically safe softmax (the maximum subtracted before exponentiating).</summary>
internal static class Softmax
{
    public static void InPlace(Span<float> scores)
    {
        float max = float.NegativeInfinity;
        foreach (float s in scores) max = Math.Max(max, s);
        double sum = 0;
        for (int k = 0; k < scores.Length; k++) sum += scores[k] = MathF.Exp(scores[k] - max);
        for (int k = 0; k < scores.Length; k++) scores[k] = (float)(scores[k] / sum);
    }
}

/// <summary>
/// Fits multiclass gradient-boosted trees with the softmax loss, one tree per class per round, on histograms
/// (LightGBM's and <c>HistGradientBoostingClassifier</c>'s algorithm): features binned once on the training rows into at
/// most 255 bins, leaf-wise growth with sibling subtraction (<see cref="BoostingTreeBuilder"/>), shrinkage, L2 on leaf
/// values, row and feature subsampling, early stopping on a validation split.
/// </summary>
/// <remarks>
/// <para>Round r: p = softmax(F), gradient gₖ = pₖ − [y = k] and hessian hₖ = pₖ(1 − pₖ) per row (as
/// <c>HistGradientBoostingClassifier</c>); the K trees of a round are independent and grow in parallel, one thread each;
/// then Fₖ += treeₖ. Initial scores are the log class frequencies.</para>
/// <para>Determinism: each tree is grown by one thread in a fixed order, and the rows each round samples and the features
/// each tree may use come from their own random streams (seed, round) and (seed, round·K + k), so the model is the same
/// bits for any thread count.</para>
/// </remarks>
public static class GradientBoosting
{
    /// <summary>Fits an ensemble.</summary>
    /// <param name="train">Training rows.</param>
    /// <param name="labels">Their labels, 0..K−1.</param>
    /// <param name="classes">K (at least 2).</param>
    /// <param name="options">Rounds, tree shape, regularization, sampling, early stopping.</param>
    /// <param name="validation">Validation rows for the boosting curve and early stopping, or null.</param>
    /// <param name="validationLabels">Their labels.</param>
    /// <param name="seed">Seeds row and feature sampling.</param>
    /// <param name="threads">Trees grown at once (at most K are useful).</param>
    /// <param name="onRound">Called after each round with its losses.</param>
    /// <param name="cancellationToken">Checked between rounds.</param>
    /// <param name="timeLimit">No round is started after this long (the ladder's budget); the rounds done are kept. Null: no limit.</param>
    /// <exception cref="ArgumentException">Labels that do not match, a single class, invalid options, validation rows of another width, or early
    /// stopping without validation rows.</exception>
    public static BoostedTreesClassifier Fit(FeatureTable train, int[] labels, int classes, GradientBoostingOptions options,
        FeatureTable? validation = null,
        int[]? validationLabels = null, int seed = 0, int threads = 1, Action<BoostingRound>? onRound = null,
            TimeSpan? timeLimit = null, CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        TreeChecks.Labels(labels, train.Count, classes);
        if (validation is not null)
        {
            validation.EnsureDimension(train.Dimension, nameof(validation));
            if (validationLabels is null || validationLabels.Length != validation.Count)
                throw new ArgumentException("Validation rows need one label each.", nameof(validationLabels));
            foreach (int y in validationLabels)
                if ((uint)y >= (uint)classes)
                    throw new ArgumentException($"Validation label {y} is outside 0..{classes - 1}.", nameof(validationLabels));
        }
        if (options.EarlyStoppingRounds is not null && (validation is null || validation.Count == 0))
            throw new ArgumentException("Early stopping needs a validation split.", nameof(options));
        threads = Math.Max(1, threads);
        var run = new BoostingRun(train, labels, classes, options, validation, validationLabels, seed, threads);
        return run.Execute(onRound, () => clock.Elapsed >= (timeLimit ?? TimeSpan.MaxValue), cancellationToken);
    }

    // The state of one fit: binned data, scores, gradients, builders.
    private sealed class BoostingRun
    {
        private readonly int[] _labels;
        private readonly int _classes, _seed, _threads, _n;
        private readonly GradientBoostingOptions _options;
        private readonly BinnedTable<byte> _train;
        private readonly BinnedTable<byte>? _validation;
        private readonly int[]? _validationLabels;
        private readonly double[] _scores, _validationScores;
        private readonly float[][] _gradients, _hessians;
        private readonly float[] _initial;
        private readonly ConcurrentBag<BoostingTreeBuilder> _builders = [];

        public BoostingRun(FeatureTable train, int[] labels, int classes, GradientBoostingOptions options, FeatureTable? validation,
            int[]? validationLabels,
            int seed, int threads)
        {
            (_labels, _classes, _options, _seed, _threads, _n) = (labels, classes, options, seed, threads, train.Count);
            var bins = FeatureBins.Fit(train, options.MaxBins, threads);
            _train = bins.Map<byte>(train, threads);
            _validation = validation is null ? null : bins.Map<byte>(validation, threads);
            _validationLabels = validationLabels;
            _initial = InitialScores(labels, classes);
            _scores = new double[_n * classes];
            for (int i = 0; i < _n; i++)
                for (int k = 0; k < classes; k++) _scores[i * classes + k] = _initial[k];
            int v = validation?.Count ?? 0;
            _validationScores = new double[v * classes];
            for (int i = 0; i < v; i++)
                for (int k = 0; k < classes; k++) _validationScores[i * classes + k] = _initial[k];
            _gradients = new float[classes][];
            _hessians = new float[classes][];
            for (int k = 0; k < classes; k++)
            {
                _gradients[k] = new float[_n];
                _hessians[k] = new float[_n];
            }
        }

        public BoostedTreesClassifier Execute(Action<BoostingRound>? onRound, Func<bool> expired, CancellationToken cancellationToken)
        {
            var trees = new List<DecisionTree>();
            var history = new List<BoostingRound>();
            int best = 0, sinceBest = 0;
            double bestLoss = double.PositiveInfinity;
            for (int round = 0; round < _options.Rounds; round++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                double trainLoss = ComputeGradients();
                var rows = SampleRows(round);
                var grown = new DecisionTree[_classes];
                Parallel.For(0, _classes, new ParallelOptions { MaxDegreeOfParallelism = _threads }, k => grown[k] = GrowTree(round, k, rows));
                trees.AddRange(grown);
                var (validationLoss, validationAccuracy) = _validation is null ? (null, null) : ValidationLoss();
                var record = new BoostingRound(round + 1, trainLoss, validationLoss, validationAccuracy);
                history.Add(record);
                onRound?.Invoke(record);
                if (_options.EarlyStoppingRounds is int patience && validationLoss is double loss)
                {
                    if (loss < bestLoss - _options.EarlyStoppingTolerance)
                    {
                        (bestLoss, best, sinceBest) = (loss, round + 1, 0);
                    }
                    else if (++sinceBest >= patience) break;
                }
                if (expired()) break;
            }
            if (_options.EarlyStoppingRounds is not null && best > 0) trees.RemoveRange(best * _classes, trees.Count - best * _classes);
            return new BoostedTreesClassifier(trees, _classes, _train.Dimension, _initial, Importances(trees, _train.Dimension), history);
        }

        private static float[] InitialScores(int[] labels, int classes)
        {
            var counts = new double[classes];
            foreach (int y in labels) counts[y]++;
            return counts.Select(c => (float)Math.Log(Math.Clamp(c / labels.Length, 1e-15, 1 - 1e-15))).ToArray();
        }

        // p = softmax(F); gₖ = pₖ − [y = k]; hₖ = pₖ(1 − pₖ). Returns the mean log-loss −log p_y (summed per fixed chunk, then in order).
        private double ComputeGradients()
        {
            const int Chunk = 1024;
            int chunks = (_n + Chunk - 1) / Chunk;
            var partial = new double[chunks];
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = _threads }, chunk =>
            {
                Span<double> p = stackalloc double[_classes];
                double loss = 0;
                for (int i = chunk * Chunk; i < Math.Min(_n, (chunk + 1) * Chunk); i++)
                {
                    var scores = _scores.AsSpan(i * _classes, _classes);
                    double max = double.NegativeInfinity, sum = 0;
                    foreach (double s in scores) max = Math.Max(max, s);
                    for (int k = 0; k < _classes; k++) sum += p[k] = Math.Exp(scores[k] - max);
                    for (int k = 0; k < _classes; k++)
                    {
                        double pk = p[k] / sum;
                        _gradients[k][i] = (float)(pk - (_labels[i] == k ? 1 : 0));
                        _hessians[k][i] = (float)Math.Max(pk * (1 - pk), 1e-16);
                    }
                    loss -= scores[_labels[i]] - max - Math.Log(sum);
                }
                partial[chunk] = loss;
            });
            return partial.Sum() / _n;
        }

        // The round's rows, ascending: all of them, or ⌊subsample·N⌋ drawn without replacement from stream (seed, round).
        private int[] SampleRows(int round)
        {
            if (_options.Subsample >= 1) return Enumerable.Range(0, _n).ToArray();
            int count = Math.Max(1, (int)(_options.Subsample * _n));
            var all = Enumerable.Range(0, _n).ToArray();
            var rng = new Rng(_seed, 2L * round);
            for (int i = 0; i < count; i++)
            {
                int j = i + rng.NextInt(_n - i);
                (all[i], all[j]) = (all[j], all[i]);
            }
            var chosen = all[..count];
            Array.Sort(chosen);
            return chosen;
        }

        private int[] SampleFeatures(int round, int k)
        {
            int d = _train.Dimension;
            if (_options.ColumnSample >= 1) return Enumerable.Range(0, d).ToArray();
            int count = Math.Max(1, (int)Math.Ceiling(_options.ColumnSample * d));
            var all = Enumerable.Range(0, d).ToArray();
            var rng = new Rng(_seed, 2L * ((long)round * _classes + k) + 1);
            for (int i = 0; i < count; i++)
            {
                int j = i + rng.NextInt(d - i);
                (all[i], all[j]) = (all[j], all[i]);
            }
            var chosen = all[..count];
            Array.Sort(chosen);
            return chosen;
        }

        private DecisionTree GrowTree(int round, int k, int[] rows)
        {
            if (!_builders.TryTake(out var builder)) builder = new BoostingTreeBuilder(_train, _options);
            try
            {
                var (tree, bins) = builder.Grow(rows, _gradients[k], _hessians[k], SampleFeatures(round, k));
                builder.AddLeafValues(_scores, _classes, k);
                if (rows.Length < _n) AddToUnsampled(tree, bins, rows, k);
                if (_validation is not null)
                    for (int i = 0; i < _validation.Count; i++) _validationScores[i * _classes + k] += tree.Values[LeafByCodes(tree, bins,
                        _validation, i)];
                return tree;
            }
            finally
            {
                _builders.Add(builder);
            }
        }

        private void AddToUnsampled(DecisionTree tree, int[] bins, int[] sampled, int k)
        {
            int next = 0;
            for (int i = 0; i < _n; i++)
            {
                if (next < sampled.Length && sampled[next] == i)
                {
                    next++;
                    continue;
                }
                _scores[i * _classes + k] += tree.Values[LeafByCodes(tree, bins, _train, i)];
            }
        }

        // Traversal on codes: code ≤ bin goes left (the same as x ≤ threshold for the rows binned with these bins).
        private static int LeafByCodes(DecisionTree tree, int[] bins, BinnedTable<byte> data, int row)
        {
            int node = 0;
            while (tree.Left[node] >= 0)
                node = data.Codes[tree.Feature[node] * data.Count + row] <= bins[node] ? tree.Left[node] : tree.Right[node];
            return node;
        }

        private (double? Loss, double? Accuracy) ValidationLoss()
        {
            int v = _validation!.Count, correct = 0;
            if (v == 0) return (null, null);
            double loss = 0;
            for (int i = 0; i < v; i++)
            {
                var scores = _validationScores.AsSpan(i * _classes, _classes);
                double max = double.NegativeInfinity, sum = 0;
                int argmax = 0;
                for (int k = 0; k < _classes; k++)
                    if (scores[k] > max) (max, argmax) = (scores[k], k);
                foreach (double s in scores) sum += Math.Exp(s - max);
                loss -= scores[_validationLabels![i]] - max - Math.Log(sum);
                correct += argmax == _validationLabels[i] ? 1 : 0;
            }
            return (loss / v, (double)correct / v);
        }

        private static float[] Importances(List<DecisionTree> trees, int dimension)
        {
            var total = new double[dimension];
            foreach (var tree in trees)
                for (int node = 0; node < tree.NodeCount; node++)
                    if (tree.Feature[node] >= 0) total[tree.Feature[node]] += tree.Gain[node];
            double sum = total.Sum();
            return total.Select(v => sum > 0 ? (float)(v / sum) : 0f).ToArray();
        }
    }
}
