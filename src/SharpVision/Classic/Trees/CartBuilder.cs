using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SharpVision.Tensors;

namespace SharpVision.Classic.Trees;

/// <summary>
/// Grows CART classification trees on binned features, depth first, as scikit-learn's <c>DepthFirstTreeBuilder</c>
/// with its <c>BestSplitter</c> does: nodes numbered in preorder, features drawn at random per node until
/// <c>MaxFeatures</c> non-constant ones were tried (features constant in a node are remembered for its subtree), the
/// split maximizing the criterion's proxy kept (strictly greater wins, so the first of equals stays).
/// </summary>
/// <remarks>
/// <para>A node's split search builds, per candidate feature, the class histogram of its rows over the feature's codes
/// (weighted by the bootstrap counts; each entry packs rows and weight in one 64-bit add), then scans the non-empty
/// codes in order. Nodes with at least as many rows as codes scan every code; smaller ones list the codes they touch in
/// order (from a bitmap for up to 1,024 codes, else by sorting), so a leaf-sized node never costs O(bins · classes).
/// With exact bins (one code per distinct value) this is scikit-learn's exact search; with quantile bins it is
/// histogram search.</para>
/// <para>Memory locality: the training codes are feature-major, so a node's rows read a column each; deep in the tree
/// those rows are scattered over whole columns and each read misses the cache. A node of at most
/// <see cref="LocalRows"/> rows therefore copies its rows' codes (from the row-major copy, a few cache lines per row)
/// into a small feature-major table that its whole subtree reads from cache.</para>
/// <para>One builder is one thread's workspace: the forest gives each worker its own.</para>
/// </remarks>
internal sealed class CartBuilder<T> where T : unmanaged, IBinaryInteger<T>
{
    /// <summary>Bytes of the local code table: about what stays in a core's L2 and L3 caches.</summary>
    public const int DefaultLocalBytes = 1024 * 1024;

    private readonly BinnedTable<T> _data;
    private readonly int[] _labels;
    private readonly int _classes;
    private readonly DecisionTreeOptions _options;
    private readonly int _maxFeatures;

    // Node-ordered rows (indices into the current code table) and their labels and weights, partitioned in place.
    private readonly int[] _rows, _rowLabels, _rowWeights, _scratchRows, _scratchLabels, _scratchWeights;
    private readonly long[] _histogram; // code × class: (rows << 32) + weight of the feature under study
    private readonly int[] _codeSeen;   // codes touched by a small node (flags, cleared after use)
    private readonly ulong[]? _seenBits; // the same as a bitmap, when codes are few: read in order, no sort needed
    private readonly int[] _touched;    // a small node's non-empty codes, ascending
    private readonly int[] _features;   // scikit-learn's feature array: known constants first
    private readonly long[] _left, _right, _nodeCounts;
    private double[] _xLogX = [];      // x·ln x for integer x up to a tree's total weight (entropy)

    // The code table the current node reads: the global feature-major codes (stride N), or a node's local copy.
    private T[] _codes;
    private int _stride;
    private readonly T[] _local;
    private int _localStart = -1, _localEnd = -1; // the node rows the local table covers

    /// <param name="data">Codes of the training rows.</param>
    /// <param name="labels">Label of each row (0..classes−1).</param>
    /// <param name="classes">K.</param>
    /// <param name="options">Growth limits and criterion (validated by the caller).</param>
    /// <param name="localBytes">Size of the local code table (0: never copy; the tests compare both ways).</param>
    public CartBuilder(BinnedTable<T> data, int[] labels, int classes, DecisionTreeOptions options, int localBytes = DefaultLocalBytes)
    {
        (_data, _labels, _classes, _options) = (data, labels, classes, options);
        _maxFeatures = options.MaxFeatures.Resolve(data.Dimension);
        int n = data.Count, bins = data.Bins.MaxBinCount;
        _rows = new int[n];
        _rowLabels = new int[n];
        _rowWeights = new int[n];
        _scratchRows = new int[n];
        _scratchLabels = new int[n];
        _scratchWeights = new int[n];
        _histogram = new long[checked(bins * classes)];
        _codeSeen = new int[bins];
        _seenBits = bins <= MaxBitmapBins ? new ulong[(bins + 63) / 64] : null;
        _touched = new int[bins];
        _features = new int[data.Dimension];
        _left = new long[classes];
        _right = new long[classes];
        _nodeCounts = new long[classes];
        LocalRows = localBytes <= 0 ? 0 : Math.Max(16, localBytes / (data.Dimension * Unsafe.SizeOf<T>()));
        _local = new T[LocalRows * data.Dimension];
        _codes = data.Codes;
        _stride = n;
    }

    // Up to this many codes, a small node lists the codes it touched by walking a bitmap (at most 16 words) instead of
    // sorting them: the sort was 7 % of a forest's time on pixels.
    private const int MaxBitmapBins = 1024;

    /// <summary>Nodes with at most this many rows read their subtree's codes from a local copy.</summary>
    public int LocalRows { get; }

    /// <summary>Grows one tree on the rows with a positive weight.</summary>
    /// <param name="weights">Per row, how often it was drawn (null: every row once).</param>
    /// <param name="rng">Draws the features tried at each node.</param>
    public DecisionTree Grow(int[]? weights, Rng rng)
    {
        int m = 0;
        long totalWeight = 0;
        for (int i = 0; i < _data.Count; i++)
        {
            int w = weights is null ? 1 : weights[i];
            if (w <= 0) continue;
            _rows[m] = i;
            _rowLabels[m] = _labels[i];
            _rowWeights[m] = w;
            totalWeight += w;
            m++;
        }
        if (m == 0) throw new ArgumentException("A tree needs at least one row.", nameof(weights));
        if (_options.Criterion == SplitCriterion.Entropy && _xLogX.Length <= totalWeight)
        {
            _xLogX = new double[checked((int)totalWeight + 1)];
            for (int x = 1; x <= totalWeight; x++) _xLogX[x] = x * Math.Log(x);
        }
        for (int f = 0; f < _features.Length; f++) _features[f] = f;
        UseGlobalCodes();

        var tree = new TreeArrays(_classes);
        var stack = new Stack<Pending>();
        stack.Push(new Pending(0, m, 0, -1, false, 0));
        while (stack.Count > 0)
        {
            var p = stack.Pop();
            int node = tree.Add(p.Parent, p.IsLeft);
            long total = CountClasses(p.Start, p.End, _nodeCounts);
            tree.SetValues(node, _nodeCounts, total);
            int rows = p.End - p.Start;
            bool leaf = (_options.MaxDepth is int maxDepth && p.Depth >= maxDepth) || rows < _options.MinSamplesSplit
                || rows < 2 * _options.MinSamplesLeaf || IsPure(_nodeCounts, total);
            if (leaf) continue;
            SelectCodes(p.Start, p.End, p.Parent < 0);
            var split = FindSplit(p.Start, p.End, total, p.KnownConstants, rng, out int constants);
            if (split.Feature < 0) continue;
            int middle = Partition(p.Start, p.End, split.Feature, split.LeftCode);
            CountClasses(p.Start, middle, _left);
            for (int k = 0; k < _classes; k++) _right[k] = _nodeCounts[k] - _left[k];
            double gain = Impurity(_nodeCounts, total) * total - Impurity(_left, split.LeftWeight) * split.LeftWeight
                - Impurity(_right, total - split.LeftWeight) * (total - split.LeftWeight);
            tree.SetSplit(node, split.Feature, _data.GapThreshold(split.Feature, split.LeftCode, split.RightCode), gain);
            stack.Push(new Pending(middle, p.End, p.Depth + 1, node, false, constants));
            stack.Push(new Pending(p.Start, middle, p.Depth + 1, node, true, constants));
        }
        return tree.ToTree(_data.Dimension);
    }

    private readonly record struct Pending(int Start, int End, int Depth, int Parent, bool IsLeft, int KnownConstants);

    private readonly record struct Split(int Feature, int LeftCode, int RightCode, long LeftWeight, double Proxy)
    {
        public static Split None => new(-1, 0, 0, 0, double.NegativeInfinity);
    }

    private void UseGlobalCodes()
    {
        _codes = _data.Codes;
        _stride = _data.Count;
        _localStart = _localEnd = -1;
    }

    // Chooses the code table of node [start, end): the local copy while inside the subtree that made it; else the global
    // codes, first copying this node's rows into the local table when it is small enough (rows become local indices).
    private void SelectCodes(int start, int end, bool root)
    {
        if (_localStart >= 0 && start >= _localStart && end <= _localEnd) return;
        UseGlobalCodes();
        int n = end - start;
        if (root || n > LocalRows) return;
        CopyRowsLocally(start, n);
        (_codes, _stride, _localStart, _localEnd) = (_local, n, start, end);
    }

    // Transposes the codes of rows _rows[start..start+n) into the feature-major local table and renumbers the rows 0..n−1.
    // Eight rows at a time, so that each feature's destination line is written eight codes at once (one row at a time,
    // every code written touched another line: 11 % of a forest's time).
    private void CopyRowsLocally(int start, int n)
    {
        var source = _data.RowMajor;
        int d = _data.Dimension, j = 0;
        ref T local = ref MemoryMarshal.GetArrayDataReference(_local);
        for (; j + 8 <= n; j += 8)
        {
            ref T r0 = ref RowStart(source, start + j, d);
            ref T r1 = ref RowStart(source, start + j + 1, d);
            ref T r2 = ref RowStart(source, start + j + 2, d);
            ref T r3 = ref RowStart(source, start + j + 3, d);
            ref T r4 = ref RowStart(source, start + j + 4, d);
            ref T r5 = ref RowStart(source, start + j + 5, d);
            ref T r6 = ref RowStart(source, start + j + 6, d);
            ref T r7 = ref RowStart(source, start + j + 7, d);
            for (int f = 0; f < d; f++)
            {
                ref T target = ref Unsafe.Add(ref local, f * n + j);
                target = Unsafe.Add(ref r0, f);
                Unsafe.Add(ref target, 1) = Unsafe.Add(ref r1, f);
                Unsafe.Add(ref target, 2) = Unsafe.Add(ref r2, f);
                Unsafe.Add(ref target, 3) = Unsafe.Add(ref r3, f);
                Unsafe.Add(ref target, 4) = Unsafe.Add(ref r4, f);
                Unsafe.Add(ref target, 5) = Unsafe.Add(ref r5, f);
                Unsafe.Add(ref target, 6) = Unsafe.Add(ref r6, f);
                Unsafe.Add(ref target, 7) = Unsafe.Add(ref r7, f);
            }
        }
        for (; j < n; j++)
        {
            var row = source.AsSpan(_rows[start + j] * d, d);
            for (int f = 0; f < d; f++) _local[f * n + j] = row[f];
        }
        for (j = 0; j < n; j++) _rows[start + j] = j;
    }

    // The first code of row _rows[i] in the row-major table (rows are < N, so the D codes that follow are in the array).
    private ref T RowStart(T[] source, int i, int d) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(source), (nint)_rows[i] * d);

    private ReadOnlySpan<T> Column(int feature) => _codes.AsSpan(feature * _stride, _stride);

    private long CountClasses(int start, int end, long[] counts)
    {
        Array.Clear(counts);
        long total = 0;
        for (int i = start; i < end; i++)
        {
            counts[_rowLabels[i]] += _rowWeights[i];
            total += _rowWeights[i];
        }
        return total;
    }

    private static bool IsPure(long[] counts, long total)
    {
        foreach (long c in counts)
            if (c == total) return true;
        return false;
    }

    // Gini 1 − Σ p² or entropy −Σ p·log₂ p of class counts with the given total.
    private double Impurity(long[] counts, long total)
    {
        if (total <= 0) return 0;
        double result = 0;
        if (_options.Criterion == SplitCriterion.Gini)
        {
            foreach (long c in counts) result += (double)c * c;
            return 1 - result / ((double)total * total);
        }
        foreach (long c in counts)
            if (c > 0) result -= c / (double)total * Math.Log2(c / (double)total);
        return result;
    }

    // scikit-learn's BestSplitter.node_split over codes (see the class remarks).
    private Split FindSplit(int start, int end, long total, int knownConstants, Rng rng, out int totalConstants)
    {
        var best = Split.None;
        int remaining = _features.Length, visited = 0, foundConstants = 0, drawnConstants = 0;
        totalConstants = knownConstants;
        while (remaining > totalConstants && (visited < _maxFeatures || visited <= foundConstants + drawnConstants))
        {
            visited++;
            int j = drawnConstants + rng.NextInt(remaining - foundConstants - drawnConstants);
            if (j < knownConstants)
            {
                (_features[drawnConstants], _features[j]) = (_features[j], _features[drawnConstants]);
                drawnConstants++;
                continue;
            }
            j += foundConstants;
            int feature = _features[j];
            int touched = BuildHistogram(feature, start, end);
            int distinct = ScanCodes(feature, touched, end - start, total, ref best);
            if (distinct <= 1)
            {
                (_features[j], _features[totalConstants]) = (_features[totalConstants], _features[j]);
                foundConstants++;
                totalConstants++;
                continue;
            }
            remaining--;
            (_features[remaining], _features[j]) = (_features[j], _features[remaining]);
        }
        return best;
    }

    // Class histogram of the node's rows over the feature's codes. Returns −1 when the node has at least as many rows as
    // the feature has codes (the scan then walks every code); else the number of codes touched, listed ascending in
    // _touched.
    private int BuildHistogram(int feature, int start, int end)
    {
        var column = Column(feature);
        int bins = _data.Bins.BinCount(feature), k = _classes;
        const long OneRow = 1L << 32;
        if (end - start >= 4 * bins)
        {
            for (int i = start; i < end; i++)
                _histogram[int.CreateTruncating(column[_rows[i]]) * k + _rowLabels[i]] += OneRow + _rowWeights[i];
            return -1;
        }
        int touched = 0;
        if (_seenBits is { } seen)
        {
            for (int i = start; i < end; i++)
            {
                int code = int.CreateTruncating(column[_rows[i]]);
                seen[code >> 6] |= 1UL << code;
                _histogram[code * k + _rowLabels[i]] += OneRow + _rowWeights[i];
            }
            for (int w = 0; w < seen.Length; w++)
            {
                for (ulong bits = seen[w]; bits != 0; bits &= bits - 1)
                    _touched[touched++] = (w << 6) + BitOperations.TrailingZeroCount(bits);
                seen[w] = 0;
            }
            return touched;
        }
        for (int i = start; i < end; i++)
        {
            int code = int.CreateTruncating(column[_rows[i]]);
            if (_codeSeen[code] == 0)
            {
                _codeSeen[code] = 1;
                _touched[touched++] = code;
            }
            _histogram[code * k + _rowLabels[i]] += OneRow + _rowWeights[i];
        }
        _touched.AsSpan(0, touched).Sort();
        return touched;
    }

    // Walks the non-empty codes in order (clearing the histogram as it goes) and scores every threshold between
    // consecutive ones: keeps the largest proxy (Gini: Σ L²/w_L + Σ R²/w_R; entropy: Σ_sides (Σ c·ln c − w·ln w)) among
    // splits leaving MinSamplesLeaf rows on both sides. Returns the number of non-empty codes.
    private int ScanCodes(int feature, int touched, int rows, long total, ref Split best)
    {
        int k = _classes, minLeaf = _options.MinSamplesLeaf;
        bool gini = _options.Criterion == SplitCriterion.Gini;
        Array.Clear(_left);
        Array.Copy(_nodeCounts, _right, k);
        double left = 0, right = 0; // Σ L² and Σ R² (Gini) or Σ L·ln L and Σ R·ln R (entropy)
        for (int c = 0; c < k; c++) right += gini ? (double)_right[c] * _right[c] : _xLogX[_right[c]];
        long weightLeft = 0;
        int rowsLeft = 0, distinct = 0, previous = -1;
        int count = touched < 0 ? _data.Bins.BinCount(feature) : touched;
        for (int t = 0; t < count; t++)
        {
            int code = touched < 0 ? t : _touched[t];
            var counts = _histogram.AsSpan(code * k, k);
            if (touched < 0 && IsEmpty(counts)) continue;
            if (touched >= 0 && _seenBits is null) _codeSeen[code] = 0; // the bitmap path never set it
            distinct++;
            if (previous >= 0 && rowsLeft >= minLeaf && rows - rowsLeft >= minLeaf)
            {
                // The threshold between the previous non-empty code and this one.
                long weightRight = total - weightLeft;
                double proxy = gini
                    ? left / weightLeft + right / weightRight
                    : left - _xLogX[weightLeft] + right - _xLogX[weightRight];
                if (proxy > best.Proxy) best = new Split(feature, previous, code, weightLeft, proxy);
            }
            if (gini) MoveLeftGini(counts, ref left, ref right, ref weightLeft, ref rowsLeft);
            else
                for (int c = 0; c < k; c++)
                {
                    long entry = counts[c];
                    if (entry == 0) continue;
                    long a = (int)entry, l = _left[c], r = _right[c];
                    left += _xLogX[l + a] - _xLogX[l];
                    right += _xLogX[r - a] - _xLogX[r];
                    _left[c] = l + a;
                    _right[c] = r - a;
                    weightLeft += a;
                    rowsLeft += (int)(entry >> 32);
                }
            counts.Clear();
            previous = code;
        }
        return distinct;
    }

    // Moves one code's rows from the right side to the left for Gini: Σ L² grows by (2l + a)·a and Σ R² falls by
    // (2r − a)·a per class (exact in doubles below 2⁵³). Branch-free over the classes: a class with no rows adds 0.
    private void MoveLeftGini(ReadOnlySpan<long> counts, ref double left, ref double right, ref long weightLeft, ref int rowsLeft)
    {
        var lefts = _left.AsSpan(0, counts.Length);
        var rights = _right.AsSpan(0, counts.Length);
        long moved = 0; // Σ entries: (rows << 32) + weight, no carry (a node's weight is below 2³²)
        double grow = 0, shrink = 0;
        for (int c = 0; c < counts.Length; c++)
        {
            long entry = counts[c], a = (int)entry, l = lefts[c], r = rights[c];
            grow += (double)((2 * l + a) * a);
            shrink += (double)((2 * r - a) * a);
            lefts[c] = l + a;
            rights[c] = r - a;
            moved += entry;
        }
        left += grow;
        right -= shrink;
        weightLeft += (int)moved;
        rowsLeft += (int)(moved >> 32);
    }

    private static bool IsEmpty(ReadOnlySpan<long> counts)
    {
        foreach (long c in counts)
            if (c != 0) return false;
        return true;
    }

    // Stable partition of the node's rows: codes ≤ leftCode first. Returns where the right part starts.
    private int Partition(int start, int end, int feature, int leftCode)
    {
        var column = Column(feature);
        int write = start, spill = 0;
        for (int i = start; i < end; i++)
        {
            int row = _rows[i];
            if (int.CreateTruncating(column[row]) <= leftCode)
            {
                _rows[write] = row;
                _rowLabels[write] = _rowLabels[i];
                _rowWeights[write] = _rowWeights[i];
                write++;
            }
            else
            {
                _scratchRows[spill] = row;
                _scratchLabels[spill] = _rowLabels[i];
                _scratchWeights[spill] = _rowWeights[i];
                spill++;
            }
        }
        _scratchRows.AsSpan(0, spill).CopyTo(_rows.AsSpan(write));
        _scratchLabels.AsSpan(0, spill).CopyTo(_rowLabels.AsSpan(write));
        _scratchWeights.AsSpan(0, spill).CopyTo(_rowWeights.AsSpan(write));
        return write;
    }
}

/// <summary>A tree under construction: growable node arrays, children linked as nodes are added in preorder.</summary>
internal sealed class TreeArrays(int width)
{
    private readonly List<int> _feature = [], _left = [], _right = [];
    private readonly List<float> _threshold = [], _values = [], _samples = [], _gain = [];

    public int Count => _feature.Count;

    /// <summary>Adds a leaf (for now) under <paramref name="parent"/> (−1 for the root); returns its index.</summary>
    public int Add(int parent, bool isLeft)
    {
        int node = _feature.Count;
        _feature.Add(-1);
        _left.Add(-1);
        _right.Add(-1);
        _threshold.Add(0);
        _samples.Add(0);
        _gain.Add(0);
        for (int k = 0; k < width; k++) _values.Add(0);
        if (parent >= 0)
        {
            if (isLeft) _left[parent] = node;
            else _right[parent] = node;
        }
        return node;
    }

    /// <summary>Class fractions counts/total and the node's weight.</summary>
    public void SetValues(int node, ReadOnlySpan<long> counts, long total)
    {
        for (int k = 0; k < width; k++) _values[node * width + k] = (float)((double)counts[k] / total);
        _samples[node] = total;
    }

    /// <summary>One value (width 1) and the node's weight.</summary>
    public void SetValue(int node, float value, float samples)
    {
        _values[node * width] = value;
        _samples[node] = samples;
    }

    /// <summary>Makes <paramref name="node"/> a split (its children are linked when added).</summary>
    public void SetSplit(int node, int feature, float threshold, double gain)
    {
        _feature[node] = feature;
        _threshold[node] = threshold;
        _gain[node] = (float)gain;
    }

    public DecisionTree ToTree(int dimension) =>
        new([.. _feature], [.. _threshold], [.. _left], [.. _right], [.. _values], width, [.. _samples], [.. _gain], dimension);
}
