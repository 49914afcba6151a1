using System.Numerics.Tensors;

namespace SharpVision.Tensors.Kernels;

/// <summary>Managed GEMM provider (row-major, see <see cref="IGemmProvider"/>).</summary>
internal sealed class ManagedGemm : IGemmProvider
{
    public string Name => "managed";

    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads)
    {
        Gemm.Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        // Rows of C: c[i,:] = β·c[i,:] + α·Σ_p op(A)[i,p]·op(B)[p,:]
        float[]? bt = null;
        if (transposeB)
        {
            bt = new float[k * n];
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) bt[p * n + j] = b[j * ldb + p];
        }
        ReadOnlySpan<float> bb = bt ?? b;
        int ldbb = bt is null ? ldb : n;
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) TensorPrimitives.Multiply(row, beta, row);
            for (int p = 0; p < k; p++)
            {
                float x = alpha * (transposeA ? a[p * lda + i] : a[i * lda + p]);
                if (x != 0) TensorPrimitives.MultiplyAdd(bb.Slice(p * ldbb, n), x, row, row);
            }
        }
    }
}
