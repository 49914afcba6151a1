namespace SharpVision.Tensors.Kernels;

/// <summary>
/// Single-precision general matrix multiply, row-major: C = α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ.
/// </summary>
/// <remarks>
/// Shapes: op(A) is (m, k), op(B) is (k, n), C is (m, n). Leading dimensions are row strides in elements:
/// A is stored (m, k) with stride lda ≥ k, or (k, m) with stride lda ≥ m when <c>transposeA</c>; likewise B.
/// With β = 0, C is overwritten and its old contents (even NaN) are ignored.
/// Results for a given provider and thread count are deterministic.
/// </remarks>
public interface IGemmProvider
{
    /// <summary>"managed-avx512", "openblas", ... as shown in logs and JSON.</summary>
    string Name { get; }

    /// <summary>C = α·op(A)·op(B) + β·C.</summary>
    /// <exception cref="ArgumentException">A span is too short for its shape and leading dimension.</exception>
    void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads);
}
