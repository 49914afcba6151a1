using SharpVision.Tensors.Kernels;

namespace SharpVision.Analysis;

/// <summary>The k nearest other rows of every row of a point set, by Euclidean distance.</summary>
/// <param name="Count">n, the number of rows.</param>
/// <param name="K">Neighbours per row.</param>
/// <param name="Indices">n×k neighbour indices, nearest first (ties: lower index first); a row is never its own neighbour.</param>
/// <param name="SquaredDistances">n×k squared distances ‖xᵢ − xⱼ‖², same order, in double precision.</param>
public sealed record NeighborGraph(int Count, int K, int[] Indices, double[] SquaredDistances)
{
    /// <summary>
    /// Exact search of all pairs: squared distances ‖xᵢ‖² + ‖xⱼ‖² − 2·xᵢ·xⱼ with the dot products from GEMM, blocks of
    /// rows at a time (memory O(block·n)), a bounded heap per row; the k survivors' distances are then recomputed
    /// directly in double precision (no cancellation) and sorted.
    /// </summary>
    /// <param name="data">n×d floats, row-major.</param>
    /// <param name="count">n ≥ 2.</param>
    /// <param name="dimension">d ≥ 1.</param>
    /// <param name="k">Neighbours per row, 1..n−1.</param>
    /// <param name="threads">Worker threads for the selection (GEMM uses <see cref="SharpVision.Tensors.Engine.Threads"/>); results do not depend on it.</param>
    /// <exception cref="ArgumentException">Sizes disagree, k out of range, or a NaN/infinite value.</exception>
    public static NeighborGraph Exact(ReadOnlySpan<float> data, int count, int dimension, int k, int threads = 1)
    {
        if (count < 2) throw new ArgumentException($"A neighbour graph needs at least 2 rows; got {count}.", nameof(count));
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (data.Length != (long)count * dimension) throw new ArgumentException($"{count} rows of {dimension} values are {(long)count * dimension} floats; got {data.Length}.", nameof(data));
        if (k < 1 || k > count - 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and n − 1 = {count - 1}.");
        if (!Pca.IsFinite(data)) throw new ArgumentException("The data has a NaN or infinite value.", nameof(data));

        int n = count, d = dimension;
        var x = data.ToArray();
        var norms = new float[n];
        for (int i = 0; i < n; i++) norms[i] = System.Numerics.Tensors.TensorPrimitives.Dot<float>(x.AsSpan(i * d, d), x.AsSpan(i * d, d));
        var indices = new int[n * k];
        var distances = new double[n * k];
        const int Block = 256; // rows per GEMM: a 256×n float block (5 MB at n = 5,000)
        var products = new float[Math.Min(Block, n) * n];
        for (int start = 0; start < n; start += Block)
        {
            int rows = Math.Min(Block, n - start);
            Gemm.Multiply(false, true, rows, n, d, 1, x.AsSpan(start * d, rows * d), d, x, d, 0, products, n);
            Parallel.For(0, rows, new ParallelOptions { MaxDegreeOfParallelism = threads }, r =>
            {
                int i = start + r;
                var heap = new (float Distance, int Index)[k];
                int size = 0;
                var dots = products.AsSpan(r * n, n);
                for (int j = 0; j < n; j++)
                {
                    if (j == i) continue;
                    float distance = norms[i] + norms[j] - 2 * dots[j];
                    if (size < k) Push(heap, ref size, (distance, j));
                    else if (Before((distance, j), heap[0])) ReplaceTop(heap, size, (distance, j));
                }
                // Recompute the survivors exactly and order them by (distance, index).
                var row = new (double Distance, int Index)[k];
                var xi = x.AsSpan(i * d, d);
                for (int m = 0; m < k; m++)
                {
                    int j = heap[m].Index;
                    var xj = x.AsSpan(j * d, d);
                    double sum = 0;
                    for (int c = 0; c < d; c++)
                    {
                        double diff = (double)xi[c] - xj[c];
                        sum += diff * diff;
                    }
                    row[m] = (sum, j);
                }
                Array.Sort(row, (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Index.CompareTo(b.Index));
                for (int m = 0; m < k; m++)
                {
                    indices[i * k + m] = row[m].Index;
                    distances[i * k + m] = row[m].Distance;
                }
            });
        }
        return new NeighborGraph(n, k, indices, distances);
    }

    // A max-heap on (distance, index): its top is the worst of the k kept so far.
    private static bool Before((float Distance, int Index) a, (float Distance, int Index) b) =>
        a.Distance < b.Distance || (a.Distance == b.Distance && a.Index < b.Index);

    private static void Push((float, int)[] heap, ref int size, (float, int) item)
    {
        int child = size++;
        heap[child] = item;
        while (child > 0)
        {
            int parent = (child - 1) / 2;
            if (!Before(heap[parent], heap[child])) break;
            (heap[parent], heap[child]) = (heap[child], heap[parent]);
            child = parent;
        }
    }

    private static void ReplaceTop((float, int)[] heap, int size, (float, int) item)
    {
        heap[0] = item;
        int parent = 0;
        while (true)
        {
            int left = 2 * parent + 1, right = left + 1, largest = parent;
            if (left < size && Before(heap[largest], heap[left])) largest = left;
            if (right < size && Before(heap[largest], heap[right])) largest = right;
            if (largest == parent) return;
            (heap[parent], heap[largest]) = (heap[largest], heap[parent]);
            parent = largest;
        }
    }
}
