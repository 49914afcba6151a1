using System.Numerics.Tensors;

namespace SharpVision.Analysis;

/// <summary>
/// Eigenvalues and leading eigenvectors of a real symmetric matrix: A = Q·T·Qᵀ by Householder reflections (T
/// tridiagonal), then implicit symmetric QR steps with Wilkinson shifts on T (Golub &amp; Van Loan, §8.3).
/// </summary>
/// <remarks>
/// Shape legend: d = matrix order, k = eigenvectors wanted.
/// The QR sweeps run on T's two diagonals alone (O(d²) in all) and record their Givens rotations; only the k wanted
/// eigenvectors are then formed, by replaying the rotations on k unit vectors and applying the reflections, so
/// the cost is the reduction's 4/3·d³ plus O(k·d²) rather than the ~6·d³ of accumulating every eigenvector.
/// Everything is double precision.
/// </remarks>
internal static class SymmetricEigen
{
    /// <summary>
    /// All d eigenvalues in descending order, and the eigenvectors of the <paramref name="count"/> largest as rows
    /// (count×d, unit length, signs fixed so that each vector's entry of largest magnitude is positive).
    /// </summary>
    /// <param name="matrix">d×d symmetric, row-major; overwritten (it holds the reflections afterwards).</param>
    /// <param name="order">d.</param>
    /// <param name="count">Eigenvectors wanted, 0..d.</param>
    /// <exception cref="ArgumentException">Sizes disagree, or the matrix has a non-finite entry.</exception>
    /// <exception cref="ArithmeticException">QR did not converge (not seen on finite input; guards an endless loop).</exception>
    public static (double[] Values, double[] Vectors) Decompose(double[] matrix, int order, int count)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        ArgumentOutOfRangeException.ThrowIfLessThan(order, 1);
        if (matrix.LongLength != (long)order * order) throw new ArgumentException($"A {order}×{order} matrix has {(long)order * order} entries; got {matrix.Length}.", nameof(matrix));
        if (count < 0 || count > order) throw new ArgumentOutOfRangeException(nameof(count), count, $"Between 0 and {order} eigenvectors can be asked for.");
        foreach (double v in matrix)
            if (!double.IsFinite(v)) throw new ArgumentException("The matrix has a NaN or infinite entry.", nameof(matrix));

        int d = order;
        var diagonal = new double[d];
        var offDiagonal = new double[Math.Max(d - 1, 0)];
        var betas = new double[Math.Max(d - 2, 0)];
        Tridiagonalize(matrix, d, diagonal, offDiagonal, betas);
        var rotations = new List<Rotation>();
        DiagonalizeTridiagonal(diagonal, offDiagonal, rotations);

        // Eigenvalue i of T sits at diagonal[i]; its eigenvector is column i of R₁ᵀ·R₂ᵀ⋯R_Nᵀ (the rotations in order).
        var positions = Enumerable.Range(0, d).ToArray();
        Array.Sort(positions, (a, b) => diagonal[b] != diagonal[a] ? diagonal[b].CompareTo(diagonal[a]) : a.CompareTo(b));
        var values = positions.Select(p => diagonal[p]).ToArray();

        // V holds the k wanted vectors as columns of a d×k matrix (row r = component r of every vector), so a rotation
        // on components (i, i+1) updates two contiguous rows.
        int k = count;
        var columns = new double[(long)d * k];
        for (int j = 0; j < k; j++) columns[(long)positions[j] * k + j] = 1;
        for (int r = rotations.Count - 1; r >= 0; r--)
        {
            var (index, c, s) = rotations[r];
            var upper = columns.AsSpan(index * k, k);
            var lower = columns.AsSpan((index + 1) * k, k);
            for (int j = 0; j < k; j++)
            {
                // Rᵀ·v on components (i, i+1): (c·vᵢ − s·vᵢ₊₁, s·vᵢ + c·vᵢ₊₁).
                double a = upper[j], b = lower[j];
                upper[j] = c * a - s * b;
                lower[j] = s * a + c * b;
            }
        }

        var vectors = new double[(long)k * d];
        for (int j = 0; j < k; j++)
        {
            var v = vectors.AsSpan(j * d, d);
            for (int r = 0; r < d; r++) v[r] = columns[(long)r * k + j];
            ApplyReflections(matrix, d, betas, v);
            FixSign(v);
        }
        return (values, vectors);
    }

    private readonly record struct Rotation(int Index, double Cos, double Sin);

    // Householder reduction A = Q·T·Qᵀ with Q = H₀·H₁⋯H_{d−3}. Hₖ = I − βₖ·vₖ·vₖᵀ acts on components k+1..d−1; vₖ is
    // left in row k of the matrix at columns k+1.. (its first entry is not 1, so β carries the scale).
    private static void Tridiagonalize(double[] a, int d, double[] diagonal, double[] offDiagonal, double[] betas)
    {
        var p = new double[d];
        for (int k = 0; k < d - 2; k++)
        {
            int m = d - k - 1;
            // x = A[k+1.., k], read from row k (A is symmetric and row k is kept in sync).
            var x = a.AsSpan(k * d + k + 1, m);
            double norm = Math.Sqrt(TensorPrimitives.Dot<double>(x, x));
            double alpha = x[0] > 0 ? -norm : norm; // α = −sign(x₀)·‖x‖ avoids cancellation in v₀ = x₀ − α
            if (norm == 0)
            {
                betas[k] = 0;
                offDiagonal[k] = 0;
                continue;
            }
            x[0] -= alpha; // v = x − α·e₁ (stored in place of x)
            double vv = TensorPrimitives.Dot<double>(x, x);
            double beta = 2 / vv;
            betas[k] = beta;
            offDiagonal[k] = alpha;

            // p = β·A'·v over the trailing block A' = A[k+1.., k+1..]; w = p − (β/2)(pᵀv)·v; A' ← A' − v·wᵀ − w·vᵀ.
            var pv = p.AsSpan(0, m);
            for (int r = 0; r < m; r++) pv[r] = beta * TensorPrimitives.Dot<double>(a.AsSpan((k + 1 + r) * d + k + 1, m), x);
            double scale = 0.5 * beta * TensorPrimitives.Dot<double>(pv, x);
            for (int r = 0; r < m; r++) pv[r] -= scale * x[r];
            for (int r = 0; r < m; r++)
            {
                var row = a.AsSpan((k + 1 + r) * d + k + 1, m);
                TensorPrimitives.MultiplyAdd<double>(pv, -x[r], row, row);
                TensorPrimitives.MultiplyAdd<double>(x, -pv[r], row, row);
            }
        }
        for (int i = 0; i < d; i++) diagonal[i] = a[(long)i * d + i];
        if (d >= 2) offDiagonal[d - 2] = a[(long)(d - 1) * d + d - 2];
    }

    // Eigenvector of A from one of T: Q·z = H₀(H₁(⋯H_{d−3}·z)).
    private static void ApplyReflections(double[] a, int d, double[] betas, Span<double> z)
    {
        for (int k = d - 3; k >= 0; k--)
        {
            if (betas[k] == 0) continue;
            var v = a.AsSpan(k * d + k + 1, d - k - 1);
            var tail = z[(k + 1)..];
            double dot = betas[k] * TensorPrimitives.Dot<double>(v, tail);
            TensorPrimitives.MultiplyAdd<double>(v, -dot, tail, tail);
        }
    }

    // Implicit symmetric QR on (diagonal a, off-diagonal b, b[i] = T[i+1, i]) until b vanishes; records every rotation.
    private static void DiagonalizeTridiagonal(double[] a, double[] b, List<Rotation> rotations)
    {
        int d = a.Length;
        int budget = 60 * d + 60;
        int end = d - 1; // the block being reduced ends here
        while (end > 0)
        {
            // Deflate negligible off-diagonals from the bottom up.
            if (Math.Abs(b[end - 1]) <= 1e-15 * (Math.Abs(a[end - 1]) + Math.Abs(a[end])) || b[end - 1] == 0)
            {
                b[end - 1] = 0;
                end--;
                continue;
            }
            int start = end - 1;
            while (start > 0 && Math.Abs(b[start - 1]) > 1e-15 * (Math.Abs(a[start - 1]) + Math.Abs(a[start])))
                start--;
            if (start > 0) b[start - 1] = 0;
            if (--budget < 0) throw new ArithmeticException("Symmetric QR did not converge.");
            QrStep(a, b, start, end, rotations);
        }
    }

    // One implicit QR step with Wilkinson shift on the unreduced block [start, end]: a bulge chase of rotations
    // Rₖ on planes (k, k+1), each applied as T ← Rₖ·T·Rₖᵀ with Rₖ = [[c, s], [−s, c]].
    private static void QrStep(double[] a, double[] b, int start, int end, List<Rotation> rotations)
    {
        // Wilkinson shift: the eigenvalue of the trailing 2×2 block nearer to its last diagonal entry.
        double delta = (a[end - 1] - a[end]) / 2, e = b[end - 1];
        double root = Math.Sqrt(delta * delta + e * e);
        double mu = a[end] - e * e / (delta + (delta >= 0 ? root : -root));
        double x = a[start] - mu, z = b[start];
        for (int k = start; k < end; k++)
        {
            double r = Math.Sqrt(x * x + z * z);
            double c = r == 0 ? 1 : x / r, s = r == 0 ? 0 : z / r;
            if (k > start) b[k - 1] = r; // the bulge T[k+1, k−1] is rotated into T[k, k−1]
            double ak = a[k], ak1 = a[k + 1], bk = b[k];
            a[k] = c * c * ak + 2 * c * s * bk + s * s * ak1;
            a[k + 1] = s * s * ak - 2 * c * s * bk + c * c * ak1;
            b[k] = c * s * (ak1 - ak) + (c * c - s * s) * bk;
            rotations.Add(new Rotation(k, c, s));
            if (k + 1 < end)
            {
                // Row k+2 meets the rotated columns: T[k+2, k] = s·b[k+1] is the new bulge, T[k+2, k+1] = c·b[k+1].
                z = s * b[k + 1];
                b[k + 1] *= c;
                x = b[k];
            }
        }
    }

    private static void FixSign(Span<double> v)
    {
        int largest = 0;
        for (int i = 1; i < v.Length; i++)
            if (Math.Abs(v[i]) > Math.Abs(v[largest])) largest = i;
        if (v[largest] < 0)
            foreach (ref double x in v) x = -x;
    }
}
