using SharpVision.Analysis;
using SharpVision.Tensors;

namespace SharpVision.Tests.Analysis;

public class SymmetricEigenTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(63)]
    [InlineData(130)]
    public void Decompose_RandomSymmetric_GivesEigenpairsWithTheMatrixInvariants(int d)
    {
        var rng = new Rng(d);
        var a = new double[d * d];
        for (int r = 0; r < d; r++)
            for (int c = 0; c <= r; c++) a[r * d + c] = a[c * d + r] = rng.NextNormal();
        var original = (double[])a.Clone();
        var (values, vectors) = SymmetricEigen.Decompose(a, d, d);

        for (int i = 1; i < d; i++) Assert.True(values[i] <= values[i - 1], "eigenvalues descend");
        // trace(A) = Σλ and ‖A‖²_F = Σλ² hold for any symmetric matrix.
        double trace = 0, frobenius = 0;
        for (int i = 0; i < d; i++) trace += original[i * d + i];
        foreach (double v in original) frobenius += v * v;
        Assert.Equal(trace, values.Sum(), 1e-9 * d);
        Assert.Equal(frobenius, values.Sum(v => v * v), 1e-8 * frobenius);
        AssertEigenpairs(original, d, values, vectors, d, 1e-10 * Math.Max(1, values.Max(Math.Abs)));
    }

    [Fact]
    public void Decompose_RepeatedAndZeroEigenvalues_StillGivesAnOrthonormalBasis()
    {
        // diag(3, 1, 3, 0, 1) rotated by a reflection: eigenvalues {3, 3, 1, 1, 0} with two-dimensional eigenspaces.
        int d = 5;
        double[] diagonal = [3, 1, 3, 0, 1];
        var u = new double[] { 1, -2, 0.5, 3, 1 };
        double uu = u.Sum(x => x * x);
        var a = new double[d * d];
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++)
                for (int m = 0; m < d; m++)
                {
                    double hr = (r == m ? 1 : 0) - 2 * u[r] * u[m] / uu, hc = (c == m ? 1 : 0) - 2 * u[c] * u[m] / uu;
                    a[r * d + c] += hr * diagonal[m] * hc;
                }
        var original = (double[])a.Clone();
        var (values, vectors) = SymmetricEigen.Decompose(a, d, d);
        double[] expected = [3, 3, 1, 1, 0];
        for (int i = 0; i < d; i++) Assert.Equal(expected[i], values[i], 1e-12);
        AssertEigenpairs(original, d, values, vectors, d, 1e-12);
    }

    [Fact]
    public void Decompose_NaN_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose([1, double.NaN, double.NaN, 1], 2, 1));
        Assert.Contains("NaN", e.Message);
    }

    internal static void AssertEigenpairs(double[] a, int d, double[] values, double[] vectors, int k, double tolerance)
    {
        for (int i = 0; i < k; i++)
        {
            var v = vectors.AsSpan(i * d, d);
            for (int r = 0; r < d; r++)
            {
                double av = 0;
                for (int c = 0; c < d; c++) av += a[r * d + c] * v[c];
                Assert.True(Math.Abs(av - values[i] * v[r]) <= tolerance, $"(A·v − λ·v)[{r}] of pair {i} is {av - values[i] * v[r]}");
            }
            for (int j = 0; j <= i; j++)
            {
                double dot = 0;
                for (int r = 0; r < d; r++) dot += v[r] * vectors[j * d + r];
                Assert.Equal(i == j ? 1 : 0, dot, 1e-12);
            }
        }
    }
}

public class PcaTests
{
    // n rows of d correlated values: x = z·A + offset with z standard normal and a random mixing matrix A.
    private static float[] CorrelatedData(int n, int d, int seed)
    {
        var rng = new Rng(seed);
        var mixing = new float[d * d];
        for (int i = 0; i < mixing.Length; i++) mixing[i] = rng.NextNormal() / MathF.Sqrt(d);
        var data = new float[n * d];
        var z = new float[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) z[j] = rng.NextNormal() * (j + 1) / d;
            for (int c = 0; c < d; c++)
            {
                float s = 5 + c;
                for (int j = 0; j < d; j++) s += z[j] * mixing[j * d + c];
                data[i * d + c] = s;
            }
        }
        return data;
    }

    private static double[] Covariance(float[] data, int n, int d)
    {
        var mean = new double[d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) mean[j] += data[i * d + j] / (double)n;
        var c = new double[d * d];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < d; r++)
                for (int s = 0; s < d; s++) c[r * d + s] += (data[i * d + r] - mean[r]) * (data[i * d + s] - mean[s]) / (n - 1);
        return c;
    }

    [Fact]
    public void Fit_Components_AreOrthonormalEigenvectorsOfTheCovariance_ByDescendingVariance()
    {
        int n = 400, d = 24, k = 6;
        var data = CorrelatedData(n, d, 1);
        var pca = Pca.Fit(data, n, d, k);
        var covariance = Covariance(data, n, d);

        Assert.Equal(k, pca.ComponentCount);
        for (int i = 1; i < k; i++) Assert.True(pca.ExplainedVariance[i] < pca.ExplainedVariance[i - 1]);
        var vectors = Array.ConvertAll(pca.Components, v => (double)v);
        // The covariance GEMM is float32: agreement to ~1e-5 of the largest variance.
        double tolerance = 2e-5 * pca.ExplainedVariance[0];
        for (int i = 0; i < k; i++)
            for (int r = 0; r < d; r++)
            {
                double cv = 0;
                for (int c = 0; c < d; c++) cv += covariance[r * d + c] * vectors[i * d + c];
                Assert.True(Math.Abs(cv - pca.ExplainedVariance[i] * vectors[i * d + r]) <= tolerance, $"(C·v − λ·v)[{r}] of component {i}");
            }
        for (int i = 0; i < k; i++)
            for (int j = 0; j <= i; j++)
            {
                double dot = 0;
                for (int r = 0; r < d; r++) dot += vectors[i * d + r] * vectors[j * d + r];
                Assert.Equal(i == j ? 1 : 0, dot, 1e-6);
            }
        double trace = 0;
        for (int j = 0; j < d; j++) trace += covariance[j * d + j];
        Assert.Equal(trace, pca.TotalVariance, 1e-5 * trace);
        Assert.Equal(pca.ExplainedVariance[0] / trace, pca.ExplainedVarianceRatio[0], 1e-6);
    }

    [Fact]
    public void Fit_KnownAxesAndVariances_AreRecovered()
    {
        // Scores with exactly zero mean and orthogonal columns (Gram–Schmidt), scaled to variances 16, 9, 4, 1,
        // laid along the columns of a reflection R: by construction C = R·diag(16, 9, 4, 1, 0, 0)·Rᵀ.
        int n = 200, d = 6;
        double[] variances = [16, 9, 4, 1];
        var rng = new Rng(7);
        var scores = new double[variances.Length][];
        for (int a = 0; a < variances.Length; a++)
        {
            var s = Enumerable.Range(0, n).Select(_ => (double)rng.NextNormal()).ToArray();
            double mean = s.Average();
            for (int i = 0; i < n; i++) s[i] -= mean;
            for (int b = 0; b < a; b++)
            {
                double dot = s.Zip(scores[b]).Sum(p => p.First * p.Second);
                for (int i = 0; i < n; i++) s[i] -= dot * scores[b][i];
            }
            double norm = Math.Sqrt(s.Sum(x => x * x));
            for (int i = 0; i < n; i++) s[i] /= norm;
            scores[a] = s;
        }
        var u = new double[] { 1, 2, -1, 0.5, 0, 1 };
        double uu = u.Sum(x => x * x);
        double Axis(int a, int j) => (a == j ? 1 : 0) - 2 * u[a] * u[j] / uu; // column a of R (R symmetric)
        var data = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++)
            {
                double x = 3; // any offset: PCA centres
                for (int a = 0; a < variances.Length; a++) x += scores[a][i] * Math.Sqrt(variances[a] * (n - 1)) * Axis(a, j);
                data[i * d + j] = (float)x;
            }

        var pca = Pca.Fit(data, n, d, 4);
        for (int a = 0; a < 4; a++)
        {
            Assert.Equal(variances[a], pca.ExplainedVariance[a], 1e-4 * variances[0]);
            double dot = 0;
            for (int j = 0; j < d; j++) dot += pca.Components[a * d + j] * Axis(a, j);
            Assert.Equal(1, Math.Abs(dot), 1e-5);
        }
        Assert.Equal(variances.Sum(), pca.TotalVariance, 1e-4);
    }

    [Fact]
    public void InverseTransform_ReconstructionError_EqualsTheDroppedEigenvalues()
    {
        int n = 300, d = 16;
        var data = CorrelatedData(n, d, 3);
        var full = Pca.Fit(data, n, d, d);
        Assert.Equal(full.TotalVariance, full.ExplainedVariance.Sum(), 1e-5 * full.TotalVariance);
        foreach (int k in new[] { 1, 4, 10 })
        {
            var pca = Pca.Fit(data, n, d, k);
            var reconstructed = pca.InverseTransform(pca.Transform(data, n), n);
            double squaredError = 0;
            for (int i = 0; i < data.Length; i++) squaredError += Math.Pow(data[i] - reconstructed[i], 2);
            double dropped = full.ExplainedVariance.Skip(k).Sum();
            Assert.Equal(dropped, squaredError / (n - 1), 1e-4 * full.TotalVariance);
        }
        // With every component the reconstruction is the data itself.
        var all = full.InverseTransform(full.Transform(data, n), n);
        for (int i = 0; i < data.Length; i++) Assert.Equal(data[i], all[i], 1e-3f);
    }

    [Fact]
    public void Transform_ProjectionsHaveTheExplainedVariances()
    {
        int n = 500, d = 12;
        var data = CorrelatedData(n, d, 5);
        var pca = Pca.Fit(data, n, d, 3);
        var z = pca.Transform(data, n);
        for (int a = 0; a < 3; a++)
        {
            double mean = 0, sq = 0;
            for (int i = 0; i < n; i++) mean += z[i * 3 + a] / (double)n;
            for (int i = 0; i < n; i++) sq += Math.Pow(z[i * 3 + a] - mean, 2);
            Assert.Equal(0, mean, 1e-4);
            Assert.Equal(pca.ExplainedVariance[a], sq / (n - 1), 1e-4 * pca.ExplainedVariance[0]);
        }
    }

    [Fact]
    public void Fit_BadInput_GivesClearErrors()
    {
        var data = new float[] { 1, 2, 3, 4, 5, 6 };
        Assert.Contains("at least 2 rows", Assert.Throws<ArgumentException>(() => Pca.Fit(data.AsSpan(0, 3), 1, 3, 1)).Message);
        Assert.Contains("between 1 and 2", Assert.Throws<ArgumentOutOfRangeException>(() => Pca.Fit(data, 2, 3, 3)).Message);
        Assert.Contains("6 floats; got 5", Assert.Throws<ArgumentException>(() => Pca.Fit(data.AsSpan(0, 5), 2, 3, 1)).Message);
        data[4] = float.NaN;
        Assert.Contains("NaN", Assert.Throws<ArgumentException>(() => Pca.Fit(data, 2, 3, 1)).Message);
    }
}
