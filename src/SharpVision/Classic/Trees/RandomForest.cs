using System.Diagnostics;
using System.Numerics;
using SharpVision.Tensors;

namespace SharpVision.Classic.Trees;

/// <summary>
/// Classification trees whose leaf class probabilities are averaged: a random forest, or a single decision tree (a
/// forest of one). Immutable once fitted.
/// </summary>
/// <remarks>Shape: rows (N, D) → probabilities (N, K), each row summing to 1.</remarks>
public sealed class ForestClassifier
{
    /// <exception cref="ArgumentException">No trees, trees of another width or dimension than the forest's, or importances of the wrong
    /// length.</exception>
    public ForestClassifier(IReadOnlyList<DecisionTree> trees, int classes, int dimension, float[] featureImportances,
        double? outOfBagAccuracy = null)
    {
        ArgumentNullException.ThrowIfNull(trees);
        ArgumentNullException.ThrowIfNull(featureImportances);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (trees.Count == 0) throw new ArgumentException("A forest has at least one tree.", nameof(trees));
        foreach (var tree in trees)
            if (tree.Width != classes || tree.Dimension != dimension)
                throw new ArgumentException($"Every tree must hold {classes} class probabilities per node over {dimension} features.", nameof(trees));
        if (featureImportances.Length != dimension)
            throw new ArgumentException($"{dimension} features need {dimension} importances.", nameof(featureImportances));
        (Trees, Classes, Dimension, FeatureImportances, OutOfBagAccuracy) = (trees, classes, dimension, featureImportances, outOfBagAccuracy);
    }

    public IReadOnlyList<DecisionTree> Trees { get; }

    /// <summary>K, the number of classes.</summary>
    public int Classes { get; }

    /// <summary>D, features per row.</summary>
    public int Dimension { get; }

    /// <summary>
    /// Mean decrease in impurity per feature (scikit-learn's <c>feature_importances_</c>): each tree's split gains summed
    /// per feature and normalized to 1, averaged over trees, normalized again.
    /// </summary>
    public float[] FeatureImportances { get; }

    /// <summary>Accuracy of each training row scored by the trees that did not draw it (null when not computed).</summary>
    public double? OutOfBagAccuracy { get; }

    /// <summary>Mean leaf probabilities over the trees, N×K, rows processed in parallel (same result for any thread count).</summary>
    /// <exception cref="ArgumentException">Rows with another number of features.</exception>
    public float[] PredictProbabilities(FeatureTable rows, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(rows);
        rows.EnsureDimension(Dimension, nameof(rows));
        var result = new float[rows.Count * Classes];
        const int Chunk = 256;
        Parallel.For(0, (rows.Count + Chunk - 1) / Chunk, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, chunk =>
        {
            int first = chunk * Chunk, end = Math.Min(rows.Count, first + Chunk);
            var sums = new double[(end - first) * Classes];
            // Tree by tree over the chunk, so that one tree's nodes stay in cache; each row still adds trees in order.
            foreach (var tree in Trees)
                for (int i = first; i < end; i++)
                {
                    var values = tree.ValuesOf(tree.Leaf(rows, i));
                    var sum = sums.AsSpan((i - first) * Classes, Classes);
                    for (int k = 0; k < Classes; k++) sum[k] += values[k];
                }
            for (int i = first; i < end; i++)
                for (int k = 0; k < Classes; k++) result[i * Classes + k] = (float)(sums[(i - first) * Classes + k] / Trees.Count);
        });
        return result;
    }
}

/// <summary>
/// Fits random forests and decision trees (scikit-learn's <c>RandomForestClassifier</c> and <c>DecisionTreeClassifier</c>).
/// </summary>
/// <remarks>
/// <para>Features are binned once on the training rows (<see cref="FeatureBins"/>: exact codes, or at most MaxBins
/// quantile bins per feature) and every tree grows on the codes with <see cref="CartBuilder{T}"/>. Each tree draws its
/// bootstrap sample from its own random stream (seed, 2t) and its features per node from (seed, 2t + 1), so trees are
/// independent: they grow in parallel, and the forest is the same bits for any thread count.</para>
/// <para>Out-of-bag accuracy: each training row is scored by the mean probabilities of the trees whose bootstrap sample
/// missed it; rows drawn by every tree are left out.</para>
/// </remarks>
public static class RandomForest
{
    /// <summary>Grows a forest.</summary>
    /// <param name="train">Training rows.</param>
    /// <param name="labels">One label per row, in 0..classes−1.</param>
    /// <param name="classes">K (at least 2).</param>
    /// <param name="options">Trees, sampling and tree options.</param>
    /// <param name="seed">Seeds the bootstrap samples and feature draws.</param>
    /// <param name="threads">Trees grown at once.</param>
    /// <param name="onTreeDone">Called (from a worker thread) with the number of trees finished so far.</param>
    /// <param name="sampleWeights">Integer weight per row (a row of weight w counts as w copies; 0 leaves it out), or null for 1 each.
    /// Bootstrap counts multiply them, as scikit-learn's <c>sample_weight</c>; MinSamplesLeaf still counts rows.</param>
    /// <param name="cancellationToken">Checked before each tree.</param>
    /// <param name="timeLimit">
    /// No tree is started after this long (the ladder's budget): the forest keeps the trees 0..t−1 that were started, so it is the
    /// forest a smaller <see cref="RandomForestOptions.Trees"/> would grow. Null: no limit.
    /// </param>
    /// <exception cref="ArgumentException">Labels that do not match the rows or fall outside 0..K−1, fewer than two classes present, bad
    /// weights, or invalid options.</exception>
    public static ForestClassifier Fit(FeatureTable train, int[] labels, int classes, RandomForestOptions options, int seed = 0, int threads = 1,
        Action<int>? onTreeDone = null, int[]? sampleWeights = null, TimeSpan? timeLimit = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Grow(train, labels, classes, options.TreeOptions, options.Trees, options.Bootstrap, options.SampleFraction, options.OutOfBag, seed,
            threads,
            onTreeDone, sampleWeights, timeLimit, cancellationToken);
    }

    /// <summary>Grows a single decision tree on every training row (no bootstrap).</summary>
    /// <param name="train">Training rows.</param>
    /// <param name="labels">One label per row, in 0..classes−1.</param>
    /// <param name="classes">K (at least 2).</param>
    /// <param name="options">Criterion, limits, features per split, search.</param>
    /// <param name="seed">Seeds the order features are tried in (it matters only between splits of equal gain, and with MaxFeatures below D).</param>
    /// <param name="sampleWeights">Integer weight per row, or null for 1 each (see <see cref="Fit"/>).</param>
    /// <param name="cancellationToken">Checked before growing.</param>
    /// <exception cref="ArgumentException">Labels that do not match the rows or fall outside 0..K−1, fewer than two classes present, bad
    /// weights, or invalid options.</exception>
    public static ForestClassifier FitTree(FeatureTable train, int[] labels, int classes, DecisionTreeOptions options, int seed = 0,
        int[]? sampleWeights = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return Grow(train, labels, classes, options, 1, false, 1.0, false, seed, 1, null, sampleWeights, null, cancellationToken);
    }

    private static ForestClassifier Grow(FeatureTable train, int[] labels, int classes, DecisionTreeOptions tree, int trees, bool bootstrap,
        double fraction,
        bool outOfBag, int seed, int threads, Action<int>? onTreeDone, int[]? sampleWeights, TimeSpan? timeLimit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(train);
        var clock = Stopwatch.StartNew();
        TreeChecks.Labels(labels, train.Count, classes);
        TreeChecks.Weights(sampleWeights, train.Count);
        threads = Math.Max(1, threads);
        var bins = FeatureBins.Fit(train, tree.SearchesExactly(train.Count) ? 0 : tree.MaxBins, threads);
        var binned = bins.Map(train, threads);
        int draws = bootstrap ? Math.Max(1, (int)Math.Round(fraction * train.Count)) : train.Count;
        var grown = binned switch
        {
            BinnedTable<byte> b => GrowAll(b, labels, classes, tree, trees, bootstrap, draws, seed, threads, onTreeDone, sampleWeights,
                Deadline(clock, timeLimit), cancellationToken),
            BinnedTable<ushort> b => GrowAll(b, labels, classes, tree, trees, bootstrap, draws, seed, threads, onTreeDone, sampleWeights,
                Deadline(clock, timeLimit), cancellationToken),
            BinnedTable<int> b => GrowAll(b, labels, classes, tree, trees, bootstrap, draws, seed, threads, onTreeDone, sampleWeights,
                Deadline(clock, timeLimit), cancellationToken),
            _ => throw new UnreachableException(),
        };
        var importances = Importances(grown, train.Dimension);
        double? oob = outOfBag ? OutOfBagAccuracy(grown, train, labels, classes, bootstrap, draws, seed, threads) : null;
        return new ForestClassifier(grown, classes, train.Dimension, importances, oob);
    }

    private static Func<bool> Deadline(Stopwatch clock, TimeSpan? limit) => limit is { } l ? () => clock.Elapsed >= l : () => false;

    // Workers take tree indices in increasing order and start none after the deadline, so the trees grown are exactly 0..t−1
    // (each seeded by its index, whichever worker grows it): the same bits for any thread count.
    private static DecisionTree[] GrowAll<T>(BinnedTable<T> binned, int[] labels, int classes, DecisionTreeOptions options, int trees,
        bool bootstrap, int draws,
        int seed, int threads, Action<int>? onTreeDone, int[]? sampleWeights, Func<bool> expired, CancellationToken cancellationToken)
        where T : unmanaged, IBinaryInteger<T>
    {
        var result = new DecisionTree[trees];
        binned.PrepareRowMajor(threads);
        int done = 0, next = -1;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken };
        Parallel.For(0, Math.Min(threads, trees), parallel, _ =>
        {
            var builder = new CartBuilder<T>(binned, labels, classes, options);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int t;
                lock (result)
                {
                    if (next + 1 >= trees || (next >= 0 && expired())) return;
                    t = ++next;
                }
                var weights = bootstrap ? BootstrapCounts(binned.Count, draws, seed, t) : sampleWeights;
                if (bootstrap && sampleWeights is not null)
                    for (int i = 0; i < weights!.Length; i++) weights[i] = checked(weights[i] * sampleWeights[i]);
                result[t] = builder.Grow(weights, new Rng(seed, 2L * t + 1));
                onTreeDone?.Invoke(Interlocked.Increment(ref done));
            }
        });
        return next + 1 < trees ? result[..(next + 1)] : result;
    }

    /// <summary>How often each of the n rows is drawn in tree <paramref name="tree"/>'s bootstrap sample of <paramref name="draws"/> rows.</summary>
    internal static int[] BootstrapCounts(int n, int draws, int seed, int tree)
    {
        var rng = new Rng(seed, 2L * tree);
        var counts = new int[n];
        for (int i = 0; i < draws; i++) counts[rng.NextInt(n)]++;
        return counts;
    }

    private static float[] Importances(DecisionTree[] trees, int dimension)
    {
        var total = new double[dimension];
        var perTree = new double[dimension];
        foreach (var tree in trees)
        {
            Array.Clear(perTree);
            for (int node = 0; node < tree.NodeCount; node++)
                if (tree.Feature[node] >= 0) perTree[tree.Feature[node]] += tree.Gain[node];
            double sum = perTree.Sum();
            if (sum > 0)
                for (int f = 0; f < dimension; f++) total[f] += perTree[f] / sum;
        }
        double all = total.Sum();
        return total.Select(v => all > 0 ? (float)(v / all) : 0f).ToArray();
    }

    private static double? OutOfBagAccuracy(DecisionTree[] trees, FeatureTable train, int[] labels, int classes, bool bootstrap, int draws,
        int seed, int threads)
    {
        if (!bootstrap) return null;
        int n = train.Count;
        var inBag = new bool[trees.Length][];
        Parallel.For(0, trees.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var counts = BootstrapCounts(n, draws, seed, t);
            inBag[t] = counts.Select(c => c > 0).ToArray();
        });
        int scored = 0, correct = 0;
        var gate = new object();
        Parallel.For(0, (n + 1023) / 1024, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
        {
            int first = chunk * 1024, end = Math.Min(n, first + 1024);
            var sums = new double[(end - first) * classes];
            var any = new bool[end - first];
            int localScored = 0, localCorrect = 0;
            // Tree by tree over the chunk (one tree's nodes stay in cache); each row still adds its trees in order.
            for (int t = 0; t < trees.Length; t++)
                for (int i = first; i < end; i++)
                {
                    if (inBag[t][i]) continue;
                    any[i - first] = true;
                    var values = trees[t].ValuesOf(trees[t].Leaf(train, i));
                    var sum = sums.AsSpan((i - first) * classes, classes);
                    for (int k = 0; k < classes; k++) sum[k] += values[k];
                }
            for (int i = first; i < end; i++)
            {
                if (!any[i - first]) continue;
                var sum = sums.AsSpan((i - first) * classes, classes);
                localScored++;
                int best = 0;
                for (int k = 1; k < classes; k++)
                    if (sum[k] > sum[best]) best = k;
                if (best == labels[i]) localCorrect++;
            }
            lock (gate)
            {
                scored += localScored;
                correct += localCorrect;
            }
        });
        return scored == 0 ? null : (double)correct / scored;
    }
}

/// <summary>Checks shared by the tree trainers.</summary>
internal static class TreeChecks
{
    /// <summary>Sample weights: null, or one non-negative integer per row with a positive total that fits an int.</summary>
    public static void Weights(int[]? weights, int rows)
    {
        if (weights is null) return;
        if (weights.Length != rows) throw new ArgumentException($"{rows} rows need {rows} sample weights, got {weights.Length}.", nameof(weights));
        long total = 0;
        foreach (int w in weights)
        {
            if (w < 0) throw new ArgumentException($"Sample weights must be ≥ 0, got {w}.", nameof(weights));
            total += w;
        }
        if (total == 0) throw new ArgumentException("The sample weights are all 0.", nameof(weights));
        if (total > int.MaxValue / 2) throw new ArgumentException("The sample weights sum to more than 2³⁰.", nameof(weights));
    }

    /// <summary>Labels: one per row, in range, and at least two classes present.</summary>
    public static void Labels(int[] labels, int rows, int classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        if (labels.Length != rows) throw new ArgumentException($"{rows} rows need {rows} labels, got {labels.Length}.", nameof(labels));
        if (rows == 0) throw new ArgumentException("Training needs at least one row.", nameof(labels));
        var seen = new bool[classes];
        int present = 0;
        foreach (int y in labels)
        {
            if ((uint)y >= (uint)classes) throw new ArgumentException($"Label {y} is outside 0..{classes - 1}.", nameof(labels));
            if (!seen[y]) { seen[y] = true; present++; }
        }
        if (present < 2) throw new ArgumentException("The training set holds a single class: a classifier needs at least two.", nameof(labels));
    }
}
