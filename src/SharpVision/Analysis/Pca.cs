using System.Numerics.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Analysis;

/// <summary>
/// Principal component analysis: the k orthonormal directions of largest variance of n×d data, and projections
/// onto them. z = (x − μ)·Vᵀ, with V (k×d) the top eigenvectors of the covariance C = (X − μ)ᵀ(X − μ)/(n − 1).
/// </summary>
/// <remarks>
/// <para>Shape: fit on (n, d); <see cref="Transform"/> (m, d) → (m, k); <see cref="InverseTransform"/> (m, k) → (m, d).</para>
/// <para>The covariance is one GEMM (float32, the engine's provider and thread count); its eigendecomposition is
/// double precision (<see cref="SymmetricEigen"/>: Householder + implicit QR). Variances use n − 1, as
/// scikit-learn's <c>explained_variance_</c>. Each component's sign is fixed so that its entry of largest magnitude is
/// positive, so a fit is reproducible and independent of the thread count's rounding only up to that GEMM.</para>
/// <para>Cost: n·d² for the covariance plus ~4/3·d³ for the reduction (d = 784: about 0.3 s on this machine).</para>
/// </remarks>
public sealed class Pca
{
    private Pca(int dimension, float[] mean, float[] components, double[] variances, double totalVariance, int sampleCount)
    {
        Dimension = dimension;
        Mean = mean;
        Components = components;
        ExplainedVariance = variances;
        TotalVariance = totalVariance;
        SampleCount = sampleCount;
        ExplainedVarianceRatio = variances.Select(v => totalVariance > 0 ? v / totalVariance : 0).ToArray();
    }

    /// <summary>d, values per input row.</summary>
    public int Dimension { get; }

    /// <summary>k, the number of components kept.</summary>
    public int ComponentCount => ExplainedVariance.Length;

    /// <summary>Rows the model was fitted on.</summary>
    public int SampleCount { get; }

    /// <summary>μ, the mean row (d values).</summary>
    public float[] Mean { get; }

    /// <summary>V, the principal axes as rows (k×d, row-major, orthonormal), by descending variance.</summary>
    public float[] Components { get; }

    /// <summary>λ₁ ≥ … ≥ λ_k: the variance of the data along each component (eigenvalues of C).</summary>
    public double[] ExplainedVariance { get; }

    /// <summary>λᵢ / trace(C): the share of the total variance each component explains.</summary>
    public double[] ExplainedVarianceRatio { get; }

    /// <summary>trace(C), the total variance of the data.</summary>
    public double TotalVariance { get; }

    /// <summary>Fits <paramref name="components"/> components to <paramref name="count"/> rows of <paramref name="dimension"/> values.</summary>
    /// <param name="data">count×dimension floats, row-major.</param>
    /// <param name="count">n ≥ 2 rows.</param>
    /// <param name="dimension">d ≥ 1 values per row.</param>
    /// <param name="components">k, 1..min(d, n) (more than n − 1 only adds zero-variance axes).</param>
    /// <exception cref="ArgumentException">Sizes disagree, fewer than 2 rows, k out of range, or a NaN/infinite value.</exception>
    public static Pca Fit(ReadOnlySpan<float> data, int count, int dimension, int components)
    {
        if (count < 2) throw new ArgumentException($"PCA needs at least 2 rows; got {count}.", nameof(count));
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (data.Length != (long)count * dimension) throw new ArgumentException($"{count} rows of {dimension} values are {(long)count * dimension} floats; got {data.Length}.", nameof(data));
        if (components < 1 || components > Math.Min(dimension, count))
            throw new ArgumentOutOfRangeException(nameof(components), components, $"PCA of {count} rows × {dimension} values keeps between 1 and {Math.Min(dimension, count)} components.");
        if (!IsFinite(data)) throw new ArgumentException("The data has a NaN or infinite value.", nameof(data));

        int n = count, d = dimension;
        var sums = new double[d];
        for (int i = 0; i < n; i++)
        {
            var row = data.Slice(i * d, d);
            for (int j = 0; j < d; j++) sums[j] += row[j];
        }
        var mean = sums.Select(s => (float)(s / n)).ToArray();
        var centred = GC.AllocateUninitializedArray<float>(n * d);
        for (int i = 0; i < n; i++) TensorPrimitives.Subtract(data.Slice(i * d, d), mean, centred.AsSpan(i * d, d));

        // C = Xcᵀ·Xc / (n − 1): (d, n)·(n, d) → (d, d).
        var covariance = new float[d * d];
        Gemm.Multiply(true, false, d, d, n, 1f / (n - 1), centred, d, centred, d, 0, covariance, d);
        var matrix = new double[d * d];
        for (int r = 0; r < d; r++)
            for (int c = r; c < d; c++)
                matrix[r * d + c] = matrix[c * d + r] = 0.5 * ((double)covariance[r * d + c] + covariance[c * d + r]); // exact symmetry
        double trace = 0;
        for (int j = 0; j < d; j++) trace += matrix[j * d + j];

        var (values, vectors) = SymmetricEigen.Decompose(matrix, d, components);
        var variances = new double[components];
        for (int j = 0; j < components; j++) variances[j] = Math.Max(values[j], 0); // rounding can leave −1e−9 for a null direction
        return new Pca(d, mean, Array.ConvertAll(vectors, v => (float)v), variances, trace, n);
    }

    /// <summary>z = (x − μ)·Vᵀ for <paramref name="count"/> rows: (m, d) → (m, k), row-major.</summary>
    /// <exception cref="ArgumentException">The data is not count×d.</exception>
    public float[] Transform(ReadOnlySpan<float> data, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int d = Dimension, k = ComponentCount;
        if (data.Length != (long)count * d) throw new ArgumentException($"{count} rows of {d} values are {(long)count * d} floats; got {data.Length}.", nameof(data));
        var centred = GC.AllocateUninitializedArray<float>(count * d);
        for (int i = 0; i < count; i++) TensorPrimitives.Subtract(data.Slice(i * d, d), Mean, centred.AsSpan(i * d, d));
        var result = new float[count * k];
        if (count > 0) Gemm.Multiply(false, true, count, k, d, 1, centred, d, Components, d, 0, result, k);
        return result;
    }

    /// <summary>x̂ = μ + z·V, the reconstruction from k coordinates: (m, k) → (m, d).</summary>
    /// <exception cref="ArgumentException">The coordinates are not count×k.</exception>
    public float[] InverseTransform(ReadOnlySpan<float> coordinates, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int d = Dimension, k = ComponentCount;
        if (coordinates.Length != (long)count * k) throw new ArgumentException($"{count} rows of {k} coordinates are {(long)count * k} floats; got {coordinates.Length}.", nameof(coordinates));
        var result = new float[count * d];
        if (count == 0) return result;
        Gemm.Multiply(false, false, count, d, k, 1, coordinates, k, Components, d, 0, result, d);
        for (int i = 0; i < count; i++) TensorPrimitives.Add(result.AsSpan(i * d, d), Mean, result.AsSpan(i * d, d));
        return result;
    }

    internal static bool IsFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }
}
