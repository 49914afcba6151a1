using System.Runtime.Intrinsics;

namespace SharpVision.Classic.Trees;

/// <summary>
/// Grows one regression tree of a boosting round, leaf-wise (best-first, as LightGBM does): the leaf whose best split
/// reduces the loss most is split next, until <see cref="GradientBoostingOptions.MaxLeaves"/> leaves or no split gains.
/// </summary>
/// <remarks>
/// <para>Each leaf owns a gradient histogram (<see cref="GradientHistograms"/>) over the tree's features. A split builds
/// the histogram of its smaller child from that child's rows and obtains the larger one by subtracting it from the
/// parent's (LightGBM's and <c>HistGradientBoostingClassifier</c>'s sibling subtraction), so each level costs the rows
/// of the smaller children only. Rows are kept in leaf order with their (g, h, 1, 0) beside them ("ordered gradients"),
/// partitioned stably, so a leaf's rows stay ascending and its reads of a feature's codes move forward.</para>
/// <para>A split's score is computed in single precision on the histograms; the chosen split's gain is recomputed in
/// double precision and must exceed <see cref="GradientBoostingOptions.MinGain"/>. Leaf values are −η·G/(H + λ) with
/// G and H summed in double precision over the leaf's rows. One builder is one thread's workspace.</para>
/// </remarks>
internal sealed class BoostingTreeBuilder
{
    private readonly BinnedTable<byte> _data;
    private readonly GradientBoostingOptions _options;
    private readonly int[] _offsets; // first bin of each feature in a histogram
    private readonly int _totalBins;
    private readonly int[] _rows, _scratchRows;
    private readonly Vector128<float>[] _ordered, _scratchOrdered;
    private readonly Stack<Vector128<float>[]> _pool = new();
    private readonly float[] _scan;
    private readonly List<Node> _nodes = [];
    private readonly List<Leaf> _leaves = [];

    public BoostingTreeBuilder(BinnedTable<byte> data, GradientBoostingOptions options)
    {
        (_data, _options) = (data, options);
        _offsets = new int[data.Dimension + 1];
        for (int f = 0; f < data.Dimension; f++) _offsets[f + 1] = _offsets[f] + data.Bins.BinCount(f);
        _totalBins = _offsets[^1];
        _rows = new int[data.Count];
        _scratchRows = new int[data.Count];
        _ordered = new Vector128<float>[data.Count];
        _scratchOrdered = new Vector128<float>[data.Count];
        _scan = new float[3 * data.Bins.MaxBinCount];
    }

    private sealed class Node
    {
        public int Feature = -1, Bin, Left = -1, Right = -1;
        public float Threshold, Value, Samples, Gain;
    }

    private sealed class Leaf
    {
        public int Node, Start, End, Depth;
        public Vector128<float>[]? Histogram;
        public Vector128<float> Total;
        public int BestFeature = -1, BestBin;
        public double BestGain;
    }

    /// <summary>Grows a tree on <paramref name="rows"/> (ascending) with per-row gradients and hessians, splitting on
    /// <paramref name="features"/> (ascending).</summary>
    /// <returns>The tree in preorder and, per node, the bin of its split (−1 at leaves) for traversal on codes.</returns>
    public (DecisionTree Tree, int[] SplitBins) Grow(ReadOnlySpan<int> rows, float[] g, float[] h, int[] features)
    {
        _nodes.Clear();
        _leaves.Clear();
        int m = rows.Length;
        rows.CopyTo(_rows);
        for (int i = 0; i < m; i++) _ordered[i] = Vector128.Create(g[rows[i]], h[rows[i]], 1f, 0f);

        var root = new Leaf { Node = NewNode(), Start = 0, End = m, Histogram = Rent() };
        BuildHistogram(root.Histogram, 0, m, features);
        root.Total = Sum(root.Histogram, features[0]);
        FindBest(root, features);
        _leaves.Add(root);
        while (_leaves.Count < _options.MaxLeaves)
        {
            var leaf = BestLeaf();
            if (leaf is null) break;
            Split(leaf, features);
        }
        foreach (var leaf in _leaves) Release(leaf);
        SetLeafValues();
        return ToPreorder();
    }

    /// <summary>Adds each final leaf's value to scores[row·stride + offset] of the rows that grew it.</summary>
    public void AddLeafValues(Span<double> scores, int stride, int offset)
    {
        foreach (var leaf in _leaves)
        {
            double value = _nodes[leaf.Node].Value;
            for (int i = leaf.Start; i < leaf.End; i++) scores[_rows[i] * stride + offset] += value;
        }
    }

    private int NewNode()
    {
        _nodes.Add(new Node());
        return _nodes.Count - 1;
    }

    private Vector128<float>[] Rent() => _pool.Count > 0 ? _pool.Pop() : new Vector128<float>[_totalBins];

    private void Release(Leaf leaf)
    {
        if (leaf.Histogram is null) return;
        _pool.Push(leaf.Histogram);
        leaf.Histogram = null;
    }

    private void BuildHistogram(Vector128<float>[] histogram, int start, int end, int[] features)
    {
        var rows = _rows.AsSpan(start, end - start);
        var ordered = _ordered.AsSpan(start, end - start);
        int n = _data.Count;
        int f = 0;
        for (; f + 4 <= features.Length; f += 4)
        {
            int a = features[f], b = features[f + 1], c = features[f + 2], d = features[f + 3];
            var ha = Bins(histogram, a);
            var hb = Bins(histogram, b);
            var hc = Bins(histogram, c);
            var hd = Bins(histogram, d);
            ha.Clear();
            hb.Clear();
            hc.Clear();
            hd.Clear();
            GradientHistograms.Accumulate4(_data.Codes.AsSpan(a * n, n), _data.Codes.AsSpan(b * n, n), _data.Codes.AsSpan(c * n, n),
                _data.Codes.AsSpan(d * n, n),
                ha, hb, hc, hd, rows, ordered);
        }
        for (; f < features.Length; f++)
        {
            var hf = Bins(histogram, features[f]);
            hf.Clear();
            GradientHistograms.Accumulate(_data.Codes.AsSpan(features[f] * n, n), hf, rows, ordered);
        }
    }

    private Span<Vector128<float>> Bins(Vector128<float>[] histogram, int feature) => histogram.AsSpan(_offsets[feature],
        _offsets[feature + 1] - _offsets[feature]);

    // (G, H, rows, 0) of a leaf: the sum of any one feature's bins.
    private Vector128<float> Sum(Vector128<float>[] histogram, int feature)
    {
        var total = Vector128<float>.Zero;
        foreach (var bin in Bins(histogram, feature)) total += bin;
        return total;
    }

    private void FindBest(Leaf leaf, int[] features)
    {
        leaf.BestFeature = -1;
        int rows = leaf.End - leaf.Start;
        if (rows < 2 * _options.MinSamplesLeaf || (_options.MaxDepth is int maxDepth && leaf.Depth >= maxDepth))
        {
            Release(leaf);
            return;
        }
        float lambda = (float)_options.L2, minRows = _options.MinSamplesLeaf, minHessian = (float)_options.MinHessian;
        int bestFeature = -1, bestBin = -1;
        float bestScore = float.NegativeInfinity;
        foreach (int f in features)
        {
            var (bin, score) = GradientHistograms.BestThreshold(Bins(leaf.Histogram!, f), leaf.Total, lambda, minRows, minHessian, _scan);
            if (bin >= 0 && score > bestScore) (bestFeature, bestBin, bestScore) = (f, bin, score);
        }
        if (bestFeature >= 0)
        {
            // The gain in double precision from the same sums.
            var left = Vector128<float>.Zero;
            var bins = Bins(leaf.Histogram!, bestFeature);
            for (int b = 0; b <= bestBin; b++) left += bins[b];
            double l2 = _options.L2;
            double g = leaf.Total.GetElement(0), h = leaf.Total.GetElement(1), gl = left.GetElement(0), hl = left.GetElement(1);
            double gain = gl * gl / (hl + l2) + (g - gl) * (g - gl) / (h - hl + l2) - g * g / (h + l2);
            if (gain > _options.MinGain && double.IsFinite(gain))
            {
                (leaf.BestFeature, leaf.BestBin, leaf.BestGain) = (bestFeature, bestBin, gain);
                return;
            }
        }
        Release(leaf);
    }

    // The leaf with the largest gain (the earliest node on ties), or null when none can split.
    private Leaf? BestLeaf()
    {
        Leaf? best = null;
        foreach (var leaf in _leaves)
            if (leaf.BestFeature >= 0 && (best is null || leaf.BestGain > best.BestGain)) best = leaf;
        return best;
    }

    private void Split(Leaf leaf, int[] features)
    {
        int feature = leaf.BestFeature, bin = leaf.BestBin;
        var node = _nodes[leaf.Node];
        (node.Feature, node.Bin, node.Threshold, node.Gain) = (feature, bin, _data.Bins.Edges[feature][bin], (float)leaf.BestGain);
        int middle = Partition(leaf.Start, leaf.End, feature, bin);
        var left = new Leaf { Node = NewNode(), Start = leaf.Start, End = middle, Depth = leaf.Depth + 1 };
        var right = new Leaf { Node = NewNode(), Start = middle, End = leaf.End, Depth = leaf.Depth + 1 };
        (node.Left, node.Right) = (left.Node, right.Node);
        var (smaller, larger) = middle - leaf.Start <= leaf.End - middle ? (left, right) : (right, left);
        smaller.Histogram = Rent();
        BuildHistogram(smaller.Histogram, smaller.Start, smaller.End, features);
        larger.Histogram = leaf.Histogram;
        leaf.Histogram = null;
        foreach (int f in features) GradientHistograms.SubtractInPlace(Bins(larger.Histogram!, f), Bins(smaller.Histogram, f));
        smaller.Total = Sum(smaller.Histogram, features[0]);
        larger.Total = leaf.Total - smaller.Total;
        _leaves.Remove(leaf);
        _leaves.Add(left);
        _leaves.Add(right);
        FindBest(left, features);
        FindBest(right, features);
    }

    // Stable partition of a leaf's rows (and their ordered gradients): codes ≤ bin first. Returns where the right part starts.
    private int Partition(int start, int end, int feature, int bin)
    {
        var column = _data.Codes.AsSpan(feature * _data.Count, _data.Count);
        int write = start, spill = 0;
        for (int i = start; i < end; i++)
        {
            int row = _rows[i];
            if (column[row] <= bin)
            {
                _rows[write] = row;
                _ordered[write++] = _ordered[i];
            }
            else
            {
                _scratchRows[spill] = row;
                _scratchOrdered[spill++] = _ordered[i];
            }
        }
        _scratchRows.AsSpan(0, spill).CopyTo(_rows.AsSpan(write));
        _scratchOrdered.AsSpan(0, spill).CopyTo(_ordered.AsSpan(write));
        return write;
    }

    private void SetLeafValues()
    {
        double eta = _options.LearningRate, l2 = _options.L2;
        foreach (var leaf in _leaves)
        {
            double g = 0, h = 0;
            for (int i = leaf.Start; i < leaf.End; i++)
            {
                g += _ordered[i].GetElement(0);
                h += _ordered[i].GetElement(1);
            }
            var node = _nodes[leaf.Node];
            node.Value = h + l2 > 0 ? (float)(-eta * g / (h + l2)) : 0f;
            node.Samples = leaf.End - leaf.Start;
        }
    }

    // The grown nodes renumbered in preorder (left subtree first), as DecisionTree stores them.
    private (DecisionTree Tree, int[] SplitBins) ToPreorder()
    {
        int count = _nodes.Count;
        var order = new List<int>(count);
        var stack = new Stack<int>();
        stack.Push(0);
        while (stack.Count > 0)
        {
            int id = stack.Pop();
            order.Add(id);
            if (_nodes[id].Left >= 0)
            {
                stack.Push(_nodes[id].Right);
                stack.Push(_nodes[id].Left);
            }
        }
        var position = new int[count];
        for (int i = 0; i < count; i++) position[order[i]] = i;
        var feature = new int[count];
        var threshold = new float[count];
        var left = new int[count];
        var right = new int[count];
        var values = new float[count];
        var samples = new float[count];
        var gain = new float[count];
        var bins = new int[count];
        for (int i = 0; i < count; i++)
        {
            var node = _nodes[order[i]];
            bool leaf = node.Left < 0;
            feature[i] = node.Feature;
            threshold[i] = leaf ? 0 : node.Threshold;
            left[i] = leaf ? -1 : position[node.Left];
            right[i] = leaf ? -1 : position[node.Right];
            values[i] = node.Value;
            gain[i] = node.Gain;
            bins[i] = leaf ? -1 : node.Bin;
        }
        // An internal node's samples: its leaves' rows (preorder: children come after, so walk backwards).
        for (int i = count - 1; i >= 0; i--)
            samples[i] = left[i] < 0 ? _nodes[order[i]].Samples : samples[left[i]] + samples[right[i]];
        return (new DecisionTree(feature, threshold, left, right, values, 1, samples, gain, _data.Dimension), bins);
    }
}
