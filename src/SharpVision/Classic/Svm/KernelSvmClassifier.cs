using System.Numerics.Tensors;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Classic.Svm;

/// <summary>
/// A fitted one-vs-one kernel SVM in libsvm's model layout (scikit-learn's <c>SVC</c> attributes in brackets):
/// support vectors grouped by class [support_vectors_, n_support_], coefficients αᵢyᵢ with K − 1 rows [dual_coef_],
/// ρ per pair [−intercept_], and Platt parameters per pair [probA_, probB_]. Immutable.
/// </summary>
/// <remarks>
/// Pair p = (a, b), a &lt; b, in the order (0,1), (0,2), …, (1,2), …: its decision value is
/// Σ_{s ∈ a} coef[b−1][s]·K(s, x) + Σ_{s ∈ b} coef[a][s]·K(s, x) − ρₚ; positive votes for a. The prediction is the class
/// with the most votes, the lower class on ties (libsvm's rule). Shape: rows (q, D) → decisions (q, K(K−1)/2).
/// </remarks>
public sealed class KernelSvmClassifier
{
    private readonly float[] _supportNorms;
    private readonly float[] _coefficients32;

    /// <exception cref="ArgumentException">Sizes that disagree, non-finite values, or Platt parameters given for only some pairs.</exception>
    public KernelSvmClassifier(KernelFunction kernel, int classes, int dimension, float[] supportVectors, int[] supportCounts,
        double[] coefficients, double[] rho,
        int[]? supportIndices, double[]? probabilityA, double[]? probabilityB)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(supportVectors);
        ArgumentNullException.ThrowIfNull(supportCounts);
        ArgumentNullException.ThrowIfNull(coefficients);
        ArgumentNullException.ThrowIfNull(rho);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (!Enum.IsDefined(kernel.Kind) || !double.IsFinite(kernel.Gamma) || !double.IsFinite(kernel.Coef0) || kernel.Degree < 1)
            throw new ArgumentException("Invalid kernel parameters.", nameof(kernel));
        if (supportCounts.Length != classes || supportCounts.Any(c => c < 0))
            throw new ArgumentException($"{classes} non-negative support counts are needed.", nameof(supportCounts));
        long total = supportCounts.Sum(c => (long)c);
        if (supportVectors.LongLength != total * dimension)
            throw new ArgumentException($"{total} support vectors × {dimension} features disagree with {supportVectors.Length} values.",
                nameof(supportVectors));
        if (coefficients.LongLength != (classes - 1) * total)
            throw new ArgumentException($"{classes - 1} × {total} coefficients are needed.", nameof(coefficients));
        int pairs = classes * (classes - 1) / 2;
        if (rho.Length != pairs) throw new ArgumentException($"{pairs} pairs need {pairs} values of ρ.", nameof(rho));
        if (supportIndices is not null && supportIndices.Length != total)
            throw new ArgumentException($"{total} support indices are needed.", nameof(supportIndices));
        if ((probabilityA is null) != (probabilityB is null) || (probabilityA is not null && (probabilityA.Length != pairs
            || probabilityB!.Length != pairs)))
            throw new ArgumentException($"Platt parameters come as two arrays of {pairs}.", nameof(probabilityA));
        if (supportVectors.Any(v => !float.IsFinite(v)) || coefficients.Any(v => !double.IsFinite(v)) || rho.Any(v => !double.IsFinite(v))
            || (probabilityA?.Any(v => !double.IsFinite(v)) ?? false) || (probabilityB?.Any(v => !double.IsFinite(v)) ?? false))
            throw new ArgumentException("A kernel SVM holds a NaN or infinite value.", nameof(supportVectors));
        (Kernel, Classes, Dimension, SupportVectors, SupportCounts, Coefficients, Rho, SupportIndices, ProbabilityA, ProbabilityB) =
            (kernel, classes, dimension, supportVectors, supportCounts, coefficients, rho, supportIndices, probabilityA, probabilityB);
        _supportNorms = KernelRows.SquaredNorms(supportVectors, dimension);
        _coefficients32 = coefficients.Select(c => (float)c).ToArray();
    }

    public KernelFunction Kernel { get; }

    /// <summary>K.</summary>
    public int Classes { get; }

    /// <summary>D.</summary>
    public int Dimension { get; }

    /// <summary>Support vectors, nSV×D, grouped by class.</summary>
    public float[] SupportVectors { get; }

    /// <summary>Support vectors per class.</summary>
    public int[] SupportCounts { get; }

    /// <summary>(K − 1)×nSV coefficients αᵢyᵢ in libsvm's layout.</summary>
    public double[] Coefficients { get; }

    /// <summary>ρ per pair.</summary>
    public double[] Rho { get; }

    /// <summary>Each support vector's row in the training set (null when unknown).</summary>
    public int[]? SupportIndices { get; }

    /// <summary>Platt's A per pair (null: no probability model).</summary>
    public double[]? ProbabilityA { get; }

    /// <summary>Platt's B per pair.</summary>
    public double[]? ProbabilityB { get; }

    /// <summary>Number of support vectors.</summary>
    public int SupportVectorCount => SupportCounts.Sum();

    /// <summary>K(K − 1)/2.</summary>
    public int Pairs => Classes * (Classes - 1) / 2;

    /// <summary>Decision values of q rows (q×D), q×Pairs; kernel values by GEMM in blocks of rows.</summary>
    /// <exception cref="ArgumentException">Not whole rows of D values.</exception>
    public double[] DecisionValues(ReadOnlySpan<float> rows, int threads = 1)
    {
        if (rows.Length % Dimension != 0)
            throw new ArgumentException($"{rows.Length} values are not whole rows of {Dimension} features.", nameof(rows));
        int q = rows.Length / Dimension, total = SupportVectorCount, pairs = Pairs;
        var result = new double[q * pairs];
        if (q == 0) return result;
        var supportStart = new int[Classes];
        for (int c = 1; c < Classes; c++) supportStart[c] = supportStart[c - 1] + SupportCounts[c - 1];
        var input = rows.ToArray();
        var norms = KernelRows.SquaredNorms(input, Dimension);
        int block = Math.Max(1, Math.Min(q, (1 << 22) / Math.Max(1, total))); // ≤ 16 MB of kernel values per block
        int blocks = (q + block - 1) / block;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, bi =>
        {
            int first = bi * block, count = Math.Min(block, q - first);
            var k = new float[count * total];
            if (total > 0)
                Gemm.Provider.Multiply(false, true, count, total, Dimension, 1f, input.AsSpan(first * Dimension), Dimension, SupportVectors,
                    Dimension, 0f, k, total, 1);
            for (int r = 0; r < count; r++)
            {
                var row = k.AsSpan(r * total, total);
                Kernel.Apply(row, norms[first + r], _supportNorms);
                int p = 0;
                for (int a = 0; a < Classes; a++)
                    for (int b = a + 1; b < Classes; b++)
                    {
                        double sum = TensorPrimitives.Dot(_coefficients32.AsSpan((b - 1) * total + supportStart[a], SupportCounts[a]),
                            row.Slice(supportStart[a], SupportCounts[a]))
                            + (double)TensorPrimitives.Dot(_coefficients32.AsSpan(a * total + supportStart[b], SupportCounts[b]),
                                row.Slice(supportStart[b], SupportCounts[b]));
                        result[(first + r) * pairs + p] = sum - Rho[p];
                        p++;
                    }
            }
        });
        return result;
    }

    /// <summary>One-vs-one votes per class, q×K, from decision values.</summary>
    public int[] Votes(ReadOnlySpan<double> decisions)
    {
        int q = decisions.Length / Pairs;
        var votes = new int[q * Classes];
        for (int i = 0; i < q; i++)
        {
            int p = 0;
            for (int a = 0; a < Classes; a++)
                for (int b = a + 1; b < Classes; b++)
                    votes[i * Classes + (decisions[i * Pairs + p++] > 0 ? a : b)]++;
        }
        return votes;
    }

    /// <summary>Class probabilities q×K: Platt sigmoids per pair, coupled (libsvm's <c>svm_predict_probability</c>); vote shares without a
    /// probability model.</summary>
    public double[] Probabilities(ReadOnlySpan<double> decisions)
    {
        int q = decisions.Length / Pairs;
        var result = new double[q * Classes];
        if (ProbabilityA is null)
        {
            var votes = Votes(decisions);
            for (int i = 0; i < result.Length; i++) result[i] = votes[i] / (double)Pairs;
            return result;
        }
        var pairwise = new double[Classes, Classes];
        for (int i = 0; i < q; i++)
        {
            int p = 0;
            for (int a = 0; a < Classes; a++)
                for (int b = a + 1; b < Classes; b++)
                {
                    double r = Math.Clamp(PlattScaling.Predict(decisions[i * Pairs + p], ProbabilityA[p], ProbabilityB![p]), 1e-7, 1 - 1e-7);
                    pairwise[a, b] = r;
                    pairwise[b, a] = 1 - r;
                    p++;
                }
            PairwiseCoupling.Couple(pairwise, result.AsSpan(i * Classes, Classes));
        }
        return result;
    }
}
