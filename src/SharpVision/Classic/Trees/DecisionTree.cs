using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SharpVision.Classic.Trees;

/// <summary>
/// One fitted binary decision tree as flat arrays, nodes in preorder (root 0, then the left subtree, then the right):
/// an internal node sends a row left when x[Feature] ≤ Threshold; a leaf holds <see cref="Width"/> values (class
/// probabilities for a classification tree, one additive score for a boosting tree).
/// </summary>
/// <remarks>
/// The constructor validates everything a model file could get wrong: equal array lengths, features in range, finite
/// thresholds and values, and children that form a tree (every child index greater than its parent's, every node but
/// the root the child of exactly one node), so traversal always ends at a leaf.
/// </remarks>
public sealed class DecisionTree
{
    private readonly PackedNode[] _nodes;

    /// <summary>A tree over <paramref name="dimension"/> features from its node arrays (not copied).</summary>
    /// <param name="feature">Per node, the feature tested, or −1 at a leaf.</param>
    /// <param name="threshold">Per node, the threshold (x ≤ it goes left); ignored at leaves.</param>
    /// <param name="left">Per node, the left child, or −1 at a leaf.</param>
    /// <param name="right">Per node, the right child, or −1 at a leaf.</param>
    /// <param name="values">Nodes × <paramref name="width"/> values.</param>
    /// <param name="width">Values per node (classes, or 1).</param>
    /// <param name="samples">Per node, the (weighted) training rows that reached it.</param>
    /// <param name="gain">Per node, the loss reduction of its split (0 at leaves): what feature importances sum.</param>
    /// <param name="dimension">Features the tree reads.</param>
    /// <exception cref="ArgumentException">The arrays do not describe a valid tree (the message says how).</exception>
    public DecisionTree(int[] feature, float[] threshold, int[] left, int[] right, float[] values, int width, float[] samples, float[] gain,
        int dimension)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(threshold);
        ArgumentNullException.ThrowIfNull(left);
        ArgumentNullException.ThrowIfNull(right);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(gain);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        int n = feature.Length;
        if (n == 0) throw new ArgumentException("A tree has at least one node.", nameof(feature));
        if (threshold.Length != n || left.Length != n || right.Length != n || samples.Length != n || gain.Length != n)
            throw new ArgumentException($"The node arrays of a tree must have equal lengths ({n} features, {threshold.Length} thresholds, " +
                $"{left.Length} left, {right.Length} right, {samples.Length} samples, {gain.Length} gains).", nameof(feature));
        if (values.LongLength != (long)n * width)
            throw new ArgumentException($"{n} nodes × {width} values need {(long)n * width} values, got {values.Length}.", nameof(values));
        var parents = new int[n];
        for (int i = 0; i < n; i++)
        {
            bool leaf = left[i] < 0;
            if (leaf != right[i] < 0 || leaf != feature[i] < 0)
                throw new ArgumentException($"Node {i} is neither a leaf (feature and both children −1) nor a split (all three set).", nameof(left));
            if (!float.IsFinite(samples[i]) || samples[i] < 0 || !float.IsFinite(gain[i]))
                throw new ArgumentException($"Node {i} has a negative or non-finite sample count or gain.", nameof(samples));
            if (leaf) continue;
            if (feature[i] >= dimension)
                throw new ArgumentException($"Node {i} tests feature {feature[i]}, outside 0..{dimension - 1}.", nameof(feature));
            if (!float.IsFinite(threshold[i])) throw new ArgumentException($"Node {i} has a non-finite threshold.", nameof(threshold));
            foreach (int child in (ReadOnlySpan<int>)[left[i], right[i]])
            {
                if (child <= i || child >= n)
                    throw new ArgumentException($"Node {i} has child {child}: children must follow their parent, within 0..{n - 1}.", nameof(left));
                if (parents[child]++ > 0) throw new ArgumentException($"Node {child} has two parents.", nameof(left));
            }
        }
        for (int i = 1; i < n; i++)
            if (parents[i] == 0) throw new ArgumentException($"Node {i} is unreachable: no node has it as a child.", nameof(left));
        foreach (float v in values)
            if (!float.IsFinite(v)) throw new ArgumentException("A tree holds a NaN or infinite value.", nameof(values));
        (Feature, Threshold, Left, Right, Values, Width, Samples, Gain, Dimension) = (feature, threshold, left, right, values, width, samples, gain,
            dimension);
        _nodes = new PackedNode[n];
        for (int i = 0; i < n; i++) _nodes[i] = new PackedNode(feature[i], threshold[i], left[i], right[i]);
    }

    /// <summary>Per node, the feature tested (−1 at a leaf).</summary>
    public int[] Feature { get; }

    /// <summary>Per node, the split threshold: x ≤ it goes left.</summary>
    public float[] Threshold { get; }

    /// <summary>Per node, the left child (−1 at a leaf).</summary>
    public int[] Left { get; }

    /// <summary>Per node, the right child (−1 at a leaf).</summary>
    public int[] Right { get; }

    /// <summary>Nodes × <see cref="Width"/> values, row-major.</summary>
    public float[] Values { get; }

    /// <summary>Values per node.</summary>
    public int Width { get; }

    /// <summary>Per node, the weighted training rows that reached it.</summary>
    public float[] Samples { get; }

    /// <summary>Per node, the loss reduction of its split (0 at a leaf).</summary>
    public float[] Gain { get; }

    /// <summary>Features the tree reads.</summary>
    public int Dimension { get; }

    public int NodeCount => Feature.Length;

    /// <summary>Number of leaves.</summary>
    public int LeafCount => Feature.Count(f => f < 0);

    /// <summary>Edges on the longest root-to-leaf path.</summary>
    public int Depth
    {
        get
        {
            var depth = new int[NodeCount];
            int max = 0;
            for (int i = 0; i < NodeCount; i++) // preorder: a parent is seen before its children
            {
                max = Math.Max(max, depth[i]);
                if (Left[i] >= 0) depth[Left[i]] = depth[Right[i]] = depth[i] + 1;
            }
            return max;
        }
    }

    /// <summary>The values of node <paramref name="node"/>.</summary>
    public ReadOnlySpan<float> ValuesOf(int node) => Values.AsSpan(node * Width, Width);

    /// <summary>The leaf row <paramref name="x"/> (D floats) falls in.</summary>
    public int Leaf(ReadOnlySpan<float> x)
    {
        ref var nodes = ref MemoryMarshal.GetArrayDataReference(_nodes);
        int i = 0;
        while (true)
        {
            var node = Unsafe.Add(ref nodes, i);
            if (node.Left < 0) return i;
            i = x[node.Feature] <= node.Threshold ? node.Left : node.Right;
        }
    }

    /// <summary>The leaf row <paramref name="x"/> (D bytes, read as 0..255) falls in.</summary>
    public int Leaf(ReadOnlySpan<byte> x)
    {
        ref var nodes = ref MemoryMarshal.GetArrayDataReference(_nodes);
        int i = 0;
        while (true)
        {
            var node = Unsafe.Add(ref nodes, i);
            if (node.Left < 0) return i;
            i = x[node.Feature] <= node.Threshold ? node.Left : node.Right;
        }
    }

    /// <summary>The leaf row <paramref name="row"/> of <paramref name="table"/> falls in.</summary>
    public int Leaf(FeatureTable table, int row)
    {
        int d = table.Dimension;
        return table.Floats is { } f ? Leaf(f.AsSpan(row * d, d)) : Leaf(table.Bytes.AsSpan(row * d, d));
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct PackedNode(int Feature, float Threshold, int Left, int Right);
}
