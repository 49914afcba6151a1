// Shape legend: a matrix (rows, n) row-major and a vector (n), as a linear layer's outputs and its bias.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// A bias vector repeated over rows, and the column sums that are its gradient: the loops of a linear layer around its
/// GEMM, written as one pass each instead of one library call per row (6,400 rows of a transformer's batch).
/// </summary>
public static unsafe class RowKernels
{
    /// <summary>Every row of <paramref name="destination"/> (rows, n) set to <paramref name="vector"/> (n).</summary>
    /// <exception cref="ArgumentException">destination is shorter than rows·n.</exception>
    public static void Broadcast(ReadOnlySpan<float> vector, int rows, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        int n = vector.Length;
        LayerNormKernels.Require(destination.Length, (long)rows * n, nameof(destination));
        fixed (float* v = vector, d = destination)
        {
            for (int r = 0; r < rows; r++)
            {
                float* row = d + (nint)r * n;
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                    for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(v + i), row + i);
                for (; i < n; i++) row[i] = v[i];
            }
        }
    }

    /// <summary>
    /// sums[j] += Σᵣ matrix[r, j] over the rows of (rows, n), in row order for every column (so no result depends on
    /// vector width or threads). 32 columns at a time are held in registers while the rows stream past.
    /// </summary>
    /// <exception cref="ArgumentException">matrix is shorter than rows·n.</exception>
    public static void AddColumnSums(ReadOnlySpan<float> matrix, int rows, int n, Span<float> sums)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        LayerNormKernels.Require(matrix.Length, (long)rows * n, nameof(matrix));
        LayerNormKernels.Require(sums.Length, n, nameof(sums));
        fixed (float* m = matrix, s = sums)
        {
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                for (; j + 32 <= n; j += 32) Block32(m + j, rows, n, s + j);
                for (; j + 8 <= n; j += 8)
                {
                    var acc = Vector256.Load(s + j);
                    for (int r = 0; r < rows; r++) acc += Vector256.Load(m + (nint)r * n + j);
                    acc.Store(s + j);
                }
            }
            for (; j < n; j++)
            {
                float acc = s[j];
                for (int r = 0; r < rows; r++) acc += m[(nint)r * n + j];
                s[j] = acc;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block32(float* m, int rows, int n, float* s)
    {
        Vector256<float> a0 = Vector256.Load(s), a1 = Vector256.Load(s + 8), a2 = Vector256.Load(s + 16), a3 = Vector256.Load(s + 24);
        for (int r = 0; r < rows; r++)
        {
            float* row = m + (nint)r * n;
            a0 += Vector256.Load(row);
            a1 += Vector256.Load(row + 8);
            a2 += Vector256.Load(row + 16);
            a3 += Vector256.Load(row + 24);
        }
        a0.Store(s);
        a1.Store(s + 8);
        a2.Store(s + 16);
        a3.Store(s + 24);
    }
}
