// Shape legend: A (m ≤ 4, k) row-major · op(B) = Bᵀ with B (n, k) row-major → C (m, n), e.g. a linear layer's forward
// pass y = x·Wᵀ for one to four images. Each C element is one dot product of two contiguous rows of length k; nothing
// is packed. Packing W (n·k floats: 1.6 MB for cnn2's 3136 → 128 layer) would cost more than the multiply itself.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpVision.Tensors.Kernels;

internal sealed unsafe partial class ManagedGemm
{
    // Most rows of A the dot path takes; past it the packed kernels reuse each panel of B over enough rows to win.
    private const int DotRowsMaxM = 4;

    /// <summary>The shapes that take the dot path: few rows of A read in place, B's rows contiguous along k.</summary>
    /// <remarks>Chosen by shape and transposes alone, never by the thread count, so results stay thread-independent.</remarks>
    private static bool TakesDotRows(in Problem problem) => problem.M <= DotRowsMaxM && !problem.TransposeA && problem.TransposeB;

    /// <summary>C[i, j] = α·(A row i · B row j) + β·C[i, j], parallel over blocks of columns.</summary>
    private static void RunDotRows(Problem problem, bool wide, int threads)
    {
        int workers = (long)problem.M * problem.N * problem.K < ParallelThreshold ? 1 : Math.Min(threads, CeilDiv(problem.N, 8));
        if (workers <= 1)
        {
            DotColumns(problem, wide, 0, problem.N);
            return;
        }
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
            DotColumns(problem, wide, (int)((long)problem.N * worker / workers), (int)((long)problem.N * (worker + 1) / workers)));
    }

    private static void DotColumns(in Problem problem, bool wide, int first, int end)
    {
        for (int j = first; j < end; j++)
        {
            float* b = problem.B + (nint)j * problem.Ldb;
            for (int i = 0; i < problem.M; i++)
            {
                float* a = problem.A + (nint)i * problem.Lda;
                float dot = wide ? DotAvx512(a, b, problem.K) : DotAvx2(a, b, problem.K);
                float* c = problem.C + (nint)i * problem.Ldc + j;
                // β = 0 overwrites (BLAS: C is not read, so NaN there goes away).
                *c = problem.Beta == 0 ? problem.Alpha * dot : problem.Alpha * dot + problem.Beta * *c;
            }
        }
    }

    // Four independent accumulators cover the FMA latency; they are summed in a fixed order, then the tail, so the
    // result depends on k and the instruction set only.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotAvx2(float* a, float* b, int k)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p + 32 <= k; p += 32)
        {
            s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + p), Avx.LoadVector256(b + p), s0);
            s1 = Fma.MultiplyAdd(Avx.LoadVector256(a + p + 8), Avx.LoadVector256(b + p + 8), s1);
            s2 = Fma.MultiplyAdd(Avx.LoadVector256(a + p + 16), Avx.LoadVector256(b + p + 16), s2);
            s3 = Fma.MultiplyAdd(Avx.LoadVector256(a + p + 24), Avx.LoadVector256(b + p + 24), s3);
        }
        for (; p + 8 <= k; p += 8) s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + p), Avx.LoadVector256(b + p), s0);
        float sum = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; p < k; p++) sum += a[p] * b[p];
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotAvx512(float* a, float* b, int k)
    {
        Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p + 64 <= k; p += 64)
        {
            s0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + p), Avx512F.LoadVector512(b + p), s0);
            s1 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + p + 16), Avx512F.LoadVector512(b + p + 16), s1);
            s2 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + p + 32), Avx512F.LoadVector512(b + p + 32), s2);
            s3 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + p + 48), Avx512F.LoadVector512(b + p + 48), s3);
        }
        for (; p + 16 <= k; p += 16) s0 = Avx512F.FusedMultiplyAdd(Avx512F.LoadVector512(a + p), Avx512F.LoadVector512(b + p), s0);
        float sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        for (; p < k; p++) sum += a[p] * b[p];
        return sum;
    }
}
