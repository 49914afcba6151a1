using System.Numerics.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Classic.Svm;

/// <summary>
/// The Nyström approximation of a kernel (Williams and Seeger, 2001; scikit-learn's <c>Nystroem</c>): m landmark rows L
/// and the map Φ(x) = K(x, L)·P with P·Pᵀ = K(L, L)⁻¹, so that Φ(x)·Φ(z) = K(x, L)·K(L, L)⁻¹·K(L, z) approximates
/// K(x, z), exactly when x and z are landmarks. A linear model on Φ is an approximate kernel machine whose cost grows
/// linearly with the training set, where SMO's grows with its square. Immutable.
/// </summary>
/// <remarks>
/// <para>Shape: rows (q, D) → features (q, m). P = C⁻ᵀ from the Cholesky factor C·Cᵀ = K(L, L) + εI, computed in double
/// precision (ε = <see cref="Jitter"/> times the mean diagonal, raised a hundredfold while the matrix is not positive
/// definite: landmarks that nearly coincide). scikit-learn's P is K(L, L)^(−1/2) from an SVD; the two maps differ by a
/// rotation (Pᵀ·P differs, P·Pᵀ does not), which leaves every inner product, and so any model that is rotation invariant
/// such as the L2-regularized linear SVM, unchanged. The Cholesky factor costs m³/3 where the SVD costs tens of m³.</para>
/// </remarks>
public sealed class NystroemMap
{
    /// <summary>The first ε added to K(L, L)'s diagonal, as a fraction of its mean diagonal.</summary>
    public const double Jitter = 1e-8;

    /// <exception cref="ArgumentException">Sizes that disagree, or a non-finite value.</exception>
    public NystroemMap(KernelFunction kernel, int dimension, float[] landmarks, float[] projection)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(landmarks);
        ArgumentNullException.ThrowIfNull(projection);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (landmarks.Length == 0 || landmarks.Length % dimension != 0)
            throw new ArgumentException($"{landmarks.Length} landmark values are not whole rows of {dimension}.", nameof(landmarks));
        int m = landmarks.Length / dimension;
        if (projection.LongLength != (long)m * m)
            throw new ArgumentException($"{m} landmarks need a {m}×{m} projection; got {projection.Length} values.", nameof(projection));
        if (landmarks.Any(v => !float.IsFinite(v)) || projection.Any(v => !float.IsFinite(v)))
            throw new ArgumentException("A Nyström map holds a NaN or infinite value.", nameof(projection));
        (Kernel, Dimension, Landmarks, Projection) = (kernel, dimension, landmarks, projection);
        _landmarkNorms = KernelRows.SquaredNorms(landmarks, dimension);
    }

    private readonly float[] _landmarkNorms;

    /// <summary>The kernel approximated, γ resolved.</summary>
    public KernelFunction Kernel { get; }

    /// <summary>D: the length of an input row.</summary>
    public int Dimension { get; }

    /// <summary>m: landmarks, and the length of a mapped row.</summary>
    public int Components => Landmarks.Length / Dimension;

    /// <summary>The landmark rows L, m×D, row-major.</summary>
    public float[] Landmarks { get; }

    /// <summary>P = C⁻ᵀ, m×m, row-major (upper triangular).</summary>
    public float[] Projection { get; }

    /// <summary>
    /// Chooses <paramref name="components"/> distinct rows of <paramref name="x"/> at random (all of them when there are
    /// fewer) as landmarks, or the given <paramref name="landmarkRows"/>, and builds the map.
    /// </summary>
    /// <param name="x">N×D training rows, row-major.</param>
    /// <param name="dimension">D.</param>
    /// <param name="kernel">The kernel to approximate.</param>
    /// <param name="components">m, when <paramref name="landmarkRows"/> is null.</param>
    /// <param name="seed">Seeds the choice of landmarks.</param>
    /// <param name="threads">Threads for the landmark kernel and the projection.</param>
    /// <param name="landmarkRows">Rows of <paramref name="x"/> to use as landmarks (e.g. scikit-learn's <c>component_indices_</c>).</param>
    /// <exception cref="ArgumentException">Sizes that disagree, fewer than one component, or landmark rows out of range.</exception>
    public static NystroemMap Fit(float[] x, int dimension, KernelFunction kernel, int components, int seed, int threads = 1,
        int[]? landmarkRows = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (x.Length == 0 || x.Length % dimension != 0)
            throw new ArgumentException($"{x.Length} values are not whole rows of {dimension}.", nameof(x));
        int n = x.Length / dimension;
        int[] rows;
        if (landmarkRows is not null)
        {
            if (landmarkRows.Length == 0 || landmarkRows.Any(r => (uint)r >= (uint)n))
                throw new ArgumentException($"Landmark rows must be indices into the {n} rows.", nameof(landmarkRows));
            rows = landmarkRows;
        }
        else
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(components, 1);
            rows = SampleRows(n, Math.Min(components, n), seed);
        }
        int m = rows.Length;
        var landmarks = new float[(long)m * dimension];
        for (int i = 0; i < m; i++) x.AsSpan(rows[i] * dimension, dimension).CopyTo(landmarks.AsSpan(i * dimension, dimension));
        var projection = InverseCholeskyTransposed(LandmarkKernel(landmarks, dimension, kernel, m, threads), m, threads);
        return new NystroemMap(kernel, dimension, landmarks, projection);
    }

    /// <summary>Φ for each row: (q, D) → (q, m), by blocks of rows (K(x, L) by GEMM, then ·P by GEMM).</summary>
    /// <exception cref="ArgumentException">Rows that are not whole rows of <see cref="Dimension"/>.</exception>
    public float[] Transform(ReadOnlySpan<float> rows, int threads)
    {
        if (rows.Length % Dimension != 0) throw new ArgumentException($"{rows.Length} values are not whole rows of {Dimension}.", nameof(rows));
        int q = rows.Length / Dimension, m = Components;
        var output = GC.AllocateUninitializedArray<float>(checked(q * m));
        var kernelBlock = GC.AllocateUninitializedArray<float>(Math.Min(q, Block) * m);
        for (int start = 0; start < q; start += Block)
        {
            int count = Math.Min(Block, q - start);
            KernelRowsOf(rows.Slice(start * Dimension, count * Dimension), count, kernelBlock, threads);
            Gemm.Provider.Multiply(false, false, count, m, m, 1f, kernelBlock, m, Projection, m, 0f, output.AsSpan(start * m, count * m), m, threads);
        }
        return output;
    }

    /// <summary>K(x, L) for <paramref name="count"/> rows into <paramref name="kernel"/> (count×m).</summary>
    internal void KernelRowsOf(ReadOnlySpan<float> rows, int count, Span<float> kernel, int threads)
    {
        int m = Components;
        Gemm.Provider.Multiply(false, true, count, m, Dimension, 1f, rows, Dimension, Landmarks, Dimension, 0f, kernel, m, threads);
        for (int i = 0; i < count; i++)
        {
            var row = rows.Slice(i * Dimension, Dimension);
            Kernel.Apply(kernel.Slice(i * m, m), TensorPrimitives.Dot(row, row), _landmarkNorms);
        }
    }

    private const int Block = 1024;

    private static int[] SampleRows(int n, int m, int seed)
    {
        // A partial Fisher–Yates shuffle: m distinct rows, in the order drawn.
        var rng = new Random(seed);
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < m; i++)
        {
            int j = rng.Next(i, n);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..m];
    }

    // K(L, L) in double precision: the decomposition divides by its small eigenvalues, where float rounding would dominate.
    private static double[] LandmarkKernel(float[] landmarks, int d, KernelFunction kernel, int m, int threads)
    {
        var l = Array.ConvertAll(landmarks, v => (double)v);
        var norms = new double[m];
        for (int i = 0; i < m; i++) norms[i] = TensorPrimitives.Dot<double>(l.AsSpan(i * d, d), l.AsSpan(i * d, d));
        var matrix = new double[(long)m * m];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            var a = l.AsSpan(i * d, d);
            for (int j = i; j < m; j++)
            {
                double value = kernel.Evaluate(TensorPrimitives.Dot<double>(a, l.AsSpan(j * d, d)), norms[i], norms[j]);
                matrix[(long)i * m + j] = value;
                matrix[(long)j * m + i] = value;
            }
        });
        return matrix;
    }

    // P = C⁻ᵀ where C·Cᵀ = K + εI. C by rows (each entry a dot product of two row prefixes); then X = C⁻¹ column by column,
    // kept transposed (row j of Xᵀ is column j of X), which is P itself: P[j][k] = X[k][j], non-zero for k ≥ j.
    private static float[] InverseCholeskyTransposed(double[] kernel, int m, int threads)
    {
        double meanDiagonal = 0;
        for (int i = 0; i < m; i++) meanDiagonal += kernel[(long)i * m + i];
        meanDiagonal = Math.Max(meanDiagonal / m, double.Epsilon);
        for (double epsilon = Jitter * meanDiagonal; ; epsilon *= 100)
        {
            var factor = Cholesky(kernel, m, epsilon);
            if (factor is not null) return InverseTransposed(factor, m, threads);
            if (epsilon > meanDiagonal) throw new ArithmeticException("The landmarks' kernel matrix is not positive semi-definite.");
        }
    }

    // Lower-triangular C (row-major, full m×m storage) with C·Cᵀ = A + εI; null when a pivot is not positive.
    private static double[]? Cholesky(double[] a, int m, double epsilon)
    {
        var c = new double[(long)m * m];
        for (int i = 0; i < m; i++)
        {
            var rowI = c.AsSpan(i * m, m);
            for (int j = 0; j <= i; j++)
            {
                double sum = a[(long)i * m + j] - TensorPrimitives.Dot<double>(rowI[..j], c.AsSpan(j * m, j));
                if (j < i)
                {
                    rowI[j] = sum / c[(long)j * m + j];
                    continue;
                }
                sum += epsilon;
                if (!(sum > 0)) return null;
                rowI[i] = Math.Sqrt(sum);
            }
        }
        return c;
    }

    private static float[] InverseTransposed(double[] c, int m, int threads)
    {
        var xt = new double[(long)m * m];
        Parallel.For(0, m, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, j =>
        {
            // Column j of X = C⁻¹: X[j][j] = 1/C[j][j]; X[i][j] = −(Σ_{k=j}^{i−1} C[i][k]·X[k][j]) / C[i][i] for i > j.
            var column = xt.AsSpan(j * m, m);
            column[j] = 1 / c[(long)j * m + j];
            for (int i = j + 1; i < m; i++)
                column[i] = -TensorPrimitives.Dot<double>(c.AsSpan(i * m + j, i - j), column[j..i]) / c[(long)i * m + i];
        });
        return Array.ConvertAll(xt, v => (float)v);
    }
}
