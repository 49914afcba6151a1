using System.Numerics.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Classic.Svm;

/// <summary>Rows of a kernel matrix in some index space (a whole training set's, or one binary problem's).</summary>
internal abstract class KernelRows
{
    /// <summary>K(x_i, x_j) for every j of the space.</summary>
    public abstract ReadOnlySpan<float> Row(int i);

    /// <summary>
    /// The kernel matrix of the given rows of <paramref name="x"/> (N×D, row-major), computed with the GEMM provider as
    /// X·Xᵀ by blocks of the upper triangle (mirrored), then turned into kernel values row by row.
    /// </summary>
    public static float[] Dense(float[] x, int dimension, ReadOnlySpan<int> rows, KernelFunction kernel, int threads)
    {
        int n = rows.Length;
        var gathered = new float[(long)n * dimension];
        for (int i = 0; i < n; i++) x.AsSpan(rows[i] * dimension, dimension).CopyTo(gathered.AsSpan(i * dimension, dimension));
        var norms = SquaredNorms(gathered, dimension);
        var matrix = GC.AllocateUninitializedArray<float>(checked(n * n));
        const int Block = 1024;
        for (int bi = 0; bi < n; bi += Block)
            for (int bj = bi; bj < n; bj += Block)
            {
                int rowsI = Math.Min(Block, n - bi), rowsJ = Math.Min(Block, n - bj);
                Gemm.Provider.Multiply(false, true, rowsI, rowsJ, dimension, 1f, gathered.AsSpan(bi * dimension), dimension,
                    gathered.AsSpan(bj * dimension), dimension,
                    0f, matrix.AsSpan(bi * n + bj), n, threads);
            }
        // Mirror the upper triangle's blocks below the diagonal (block rows after i's block were not computed), a 64×64 tile at
        // a time: element by element, every read of a column missed the cache, and mirroring 10,000 rows took seconds.
        const int Tile = 64; // divides Block, so a tile's rows share one block row
        Parallel.For(0, (n + Tile - 1) / Tile, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, tile =>
        {
            int i0 = tile * Tile, i1 = Math.Min(n, i0 + Tile), block = i0 / Block * Block;
            for (int j0 = 0; j0 < block; j0 += Tile)
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j0 + Tile; j++) matrix[i * n + j] = matrix[j * n + i];
        });
        Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            // Within the diagonal block only the upper part (j ≥ block start) was computed by GEMM, fully: nothing to mirror.
            kernel.Apply(matrix.AsSpan(i * n, n), norms[i], norms);
        });
        return matrix;
    }

    /// <summary>‖x_i‖² for each row of an N×D matrix.</summary>
    public static float[] SquaredNorms(ReadOnlySpan<float> x, int dimension)
    {
        var norms = new float[x.Length / dimension];
        for (int i = 0; i < norms.Length; i++)
        {
            var row = x.Slice(i * dimension, dimension);
            norms[i] = TensorPrimitives.Dot(row, row);
        }
        return norms;
    }
}

/// <summary>A kernel matrix held whole (the training set's, or one binary problem's).</summary>
internal sealed class DenseKernelRows(float[] matrix, int size) : KernelRows
{
    public override ReadOnlySpan<float> Row(int i) => matrix.AsSpan(i * size, size);
}

/// <summary>
/// Kernel rows of one binary problem computed on demand and kept in a least-recently-used cache of bounded size
/// (libsvm's <c>Cache</c>, whole rows instead of prefixes): what a problem too large for a dense matrix uses.
/// </summary>
internal sealed class CachedKernelRows : KernelRows
{
    private readonly float[] _x;
    private readonly int _dimension;
    private readonly int[] _rows;
    private readonly float[] _norms;
    private readonly KernelFunction _kernel;
    private readonly int _capacity;
    private readonly Dictionary<int, LinkedListNode<(int Index, float[] Values)>> _cached = [];
    private readonly LinkedList<(int Index, float[] Values)> _recency = new(); // most recent last

    /// <param name="x">All training rows, N×D.</param>
    /// <param name="dimension">D.</param>
    /// <param name="rows">The problem's rows (indices into x), in problem order.</param>
    /// <param name="kernel">The kernel.</param>
    /// <param name="bytes">Memory for cached rows (at least two rows are always kept).</param>
    public CachedKernelRows(float[] x, int dimension, int[] rows, KernelFunction kernel, long bytes)
    {
        (_x, _dimension, _rows, _kernel) = (x, dimension, rows, kernel);
        _norms = rows.Select(r => TensorPrimitives.Dot(x.AsSpan(r * dimension, dimension), x.AsSpan(r * dimension, dimension))).ToArray();
        _capacity = (int)Math.Clamp(bytes / (4L * rows.Length), 2, rows.Length);
    }

    /// <summary>Rows computed so far (cache misses).</summary>
    public long Computed { get; private set; }

    public override ReadOnlySpan<float> Row(int i)
    {
        if (_cached.TryGetValue(i, out var node))
        {
            _recency.Remove(node);
            _recency.AddLast(node);
            return node.Value.Values;
        }
        float[] values;
        if (_cached.Count >= _capacity)
        {
            var oldest = _recency.First!;
            _recency.RemoveFirst();
            _cached.Remove(oldest.Value.Index);
            values = oldest.Value.Values;
        }
        else values = new float[_rows.Length];
        var xi = _x.AsSpan(_rows[i] * _dimension, _dimension);
        for (int j = 0; j < _rows.Length; j++) values[j] = TensorPrimitives.Dot(xi, _x.AsSpan(_rows[j] * _dimension, _dimension));
        _kernel.Apply(values, _norms[i], _norms);
        Computed++;
        _cached[i] = _recency.AddLast((i, values));
        return values;
    }
}

/// <summary>
/// The Q matrix of a binary C-SVC problem, Qᵢⱼ = yᵢ·yⱼ·K(xᵢ, xⱼ), in the solver's order. The solver moves variables
/// (shrinking swaps them), so this keeps the solver-to-source index map and the signs in solver order and gathers each
/// requested column from the kernel rows (as libsvm's <c>SVR_Q</c> reorders its cached rows), into rotating buffers.
/// </summary>
internal sealed class SvcMatrix
{
    private readonly KernelRows _rows;
    private readonly int[] _source;   // solver position → index in the kernel rows' space
    private readonly float[] _sign;   // yᵢ in solver order
    private readonly double[] _diagonal;
    private readonly float[][] _buffers;
    private int _next;

    /// <param name="rows">Kernel rows whose space contains every source index.</param>
    /// <param name="source">Per problem variable (problem order), its index in the rows' space.</param>
    /// <param name="y">Per variable, +1 or −1.</param>
    public SvcMatrix(KernelRows rows, int[] source, sbyte[] y)
    {
        _rows = rows;
        _source = (int[])source.Clone();
        _sign = y.Select(v => (float)v).ToArray();
        _diagonal = new double[source.Length];
        for (int i = 0; i < source.Length; i++) _diagonal[i] = rows.Row(source[i])[source[i]];
        _buffers = [new float[source.Length], new float[source.Length], new float[source.Length]];
    }

    public int Count => _source.Length;

    /// <summary>Qᵢᵢ = K(xᵢ, xᵢ).</summary>
    public double Diagonal(int i) => _diagonal[i];

    /// <summary>Q[i][0..length) in solver order; valid until two more columns have been requested.</summary>
    public ReadOnlySpan<float> Column(int i, int length)
    {
        var buffer = _buffers[_next];
        _next = (_next + 1) % _buffers.Length;
        var row = _rows.Row(_source[i]);
        float si = _sign[i];
        for (int k = 0; k < length; k++) buffer[k] = si * _sign[k] * row[_source[k]];
        return buffer.AsSpan(0, length);
    }

    /// <summary>Swaps variables i and j (the solver moved them).</summary>
    public void Swap(int i, int j)
    {
        (_source[i], _source[j]) = (_source[j], _source[i]);
        (_sign[i], _sign[j]) = (_sign[j], _sign[i]);
        (_diagonal[i], _diagonal[j]) = (_diagonal[j], _diagonal[i]);
    }
}
