using System.Numerics.Tensors;
using SharpVision.Analysis;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Classic.Svm;

/// <summary>
/// The Nyström approximation of a kernel (Williams and Seeger, 2001; scikit-learn's <c>Nystroem</c>): m landmark rows L
/// and the map Φ(x) = K(x, L)·P with P = U·S^(−1/2)·Uᵀ from the landmarks' kernel matrix K(L, L) = U·S·Uᵀ, so that
/// Φ(x)·Φ(z) approximates K(x, z), exactly when x and z are landmarks. A linear model on Φ is an approximate kernel
/// machine whose cost grows linearly with the training set, where SMO's grows with its square. Immutable.
/// </summary>
/// <remarks>
/// <para>Shape: rows (q, D) → features (q, m). K(L, L) is computed and decomposed in double precision. Eigenvalues at most
/// <see cref="RelativeCutoff"/>·λ_max are dropped (their directions get weight 0), where scikit-learn clamps them at 1e-12
/// and so multiplies rounding noise by up to 10⁶; on a well-conditioned landmark matrix the two maps agree.</para>
/// </remarks>
public sealed class NystroemMap
{
    /// <summary>Eigenvalues of K(L, L) at most this fraction of the largest are left out of P.</summary>
    public const double RelativeCutoff = 1e-9;

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

    /// <summary>P = U·S^(−1/2)·Uᵀ, m×m, row-major (symmetric).</summary>
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
        var (values, vectors) = SymmetricEigen.Decompose(LandmarkKernel(landmarks, dimension, kernel, m, threads), m, m);
        var projection = ProjectionOf(values, vectors, m, threads);
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

    // P = Σ_{λ_k > cutoff} u_k·u_kᵀ / √λ_k = AᵀA with the rows a_k = u_k / λ_k^(1/4): one GEMM.
    private static float[] ProjectionOf(double[] values, double[] vectors, int m, int threads)
    {
        double cutoff = Math.Max(values[0], 0) * RelativeCutoff;
        var kept = Enumerable.Range(0, m).Where(k => values[k] > cutoff && values[k] > 0).ToArray();
        var a = new float[(long)Math.Max(1, kept.Length) * m];
        for (int r = 0; r < kept.Length; r++)
        {
            double scale = 1 / Math.Sqrt(Math.Sqrt(values[kept[r]]));
            for (int i = 0; i < m; i++) a[(long)r * m + i] = (float)(vectors[(long)kept[r] * m + i] * scale);
        }
        var projection = new float[(long)m * m];
        if (kept.Length > 0) Gemm.Provider.Multiply(true, false, m, m, kept.Length, 1f, a, m, a, m, 0f, projection, m, threads);
        return projection;
    }
}
