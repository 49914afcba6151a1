namespace SharpVision.Tensors.Kernels.Reference;

/// <summary>The scalar twin of <see cref="IGemmProvider"/>: triple loop, double accumulation. The test oracle, never fast.</summary>
public static class GemmReference
{
    /// <summary>C = α·op(A)·op(B) + β·C with the conventions of <see cref="IGemmProvider.Multiply"/>.</summary>
    public static void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float x = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float y = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += (double)x * y;
                }
                float old = beta == 0 ? 0 : beta * c[i * ldc + j];
                c[i * ldc + j] = (float)(alpha * sum) + old;
            }
        }
    }
}
