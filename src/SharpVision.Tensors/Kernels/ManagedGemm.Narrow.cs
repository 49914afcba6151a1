// Shape legend: op(A) (m, k) · op(B) (k, n ≤ 16) → C (m, n), e.g. the 256 → 10 output layer of an MLP.
// B is packed once as k rows of 16 floats (zero-padded); A is read in place, eight rows at a time. For such thin
// products packing A into slivers would take about as long as the multiply itself, and a 14×32 tile would be two
// thirds padding.
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpVision.Tensors.Kernels;

internal sealed unsafe partial class ManagedGemm
{
    // Widest C handled by the narrow path: one zmm of columns.
    private const int NarrowColumns = 16;
    // Rows per pass: eight independent FMA chains cover the 4-cycle latency of two FMA pipes.
    private const int NarrowRows = 8;

    /// <summary>C = α·op(A)·op(B) + β·C for n ≤ 16 on AVX-512, parallel over blocks of rows.</summary>
    /// <remarks>The path is chosen by n alone, never by the thread count, so results stay thread-independent.</remarks>
    private static void RunNarrow(Problem problem, int threads)
    {
        float[] bArray = ArrayPool<float>.Shared.Rent(problem.K * NarrowColumns + Align);
        try
        {
            fixed (float* bBase = bArray)
            {
                float* bPack = Aligned(bBase);
                PackNarrowB(problem, bPack);
                int rowBlocks = CeilDiv(problem.M, NarrowRows);
                int workers = Math.Min((long)problem.M * problem.N * problem.K < ParallelThreshold ? 1 : threads, rowBlocks);
                if (workers == 1)
                {
                    NarrowRowRange(problem, bPack, 0, problem.M);
                    return;
                }
                nint packed = (nint)bPack;
                Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
                {
                    int start = Math.Min(problem.M, (int)((long)rowBlocks * worker / workers) * NarrowRows);
                    int end = Math.Min(problem.M, (int)((long)rowBlocks * (worker + 1) / workers) * NarrowRows);
                    NarrowRowRange(problem, (float*)packed, start, end);
                });
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(bArray);
        }
    }

    /// <summary>op(B) (k, n) as k rows of 16 floats, columns past n zero.</summary>
    private static void PackNarrowB(in Problem problem, float* destination)
    {
        new Span<float>(destination, problem.K * NarrowColumns).Clear();
        for (int p = 0; p < problem.K; p++)
        {
            float* row = destination + (nint)p * NarrowColumns;
            for (int j = 0; j < problem.N; j++)
                row[j] = problem.TransposeB ? problem.B[(nint)j * problem.Ldb + p] : problem.B[(nint)p * problem.Ldb + j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowRowRange(in Problem problem, float* bPack, int rowStart, int rowEnd)
    {
        // op(A)[i, p] sits at i·rowStride + p·stepStride: (m, k) storage steps by 1 along p, (k, m) storage by lda.
        nint rowStride = problem.TransposeA ? 1 : problem.Lda, stepStride = problem.TransposeA ? problem.Lda : 1;
        float* tile = stackalloc float[NarrowRows * NarrowColumns + 16];
        tile = Aligned(tile);
        for (int i = rowStart; i < rowEnd; i += NarrowRows)
        {
            int last = Math.Min(NarrowRows, rowEnd - i) - 1;
            float* first = problem.A + i * rowStride;
            // Rows past the end repeat the last real row; their sums are computed and dropped.
            float* a0 = first + Math.Min(0, last) * rowStride;
            float* a1 = first + Math.Min(1, last) * rowStride;
            float* a2 = first + Math.Min(2, last) * rowStride;
            float* a3 = first + Math.Min(3, last) * rowStride;
            float* a4 = first + Math.Min(4, last) * rowStride;
            float* a5 = first + Math.Min(5, last) * rowStride;
            float* a6 = first + Math.Min(6, last) * rowStride;
            float* a7 = first + Math.Min(7, last) * rowStride;
            Vector512<float> c0 = default; Vector512<float> c1 = default; Vector512<float> c2 = default; Vector512<float> c3 = default; Vector512<float> c4 = default; Vector512<float> c5 = default; Vector512<float> c6 = default; Vector512<float> c7 = default;
            float* b = bPack;
            nint offset = 0;
            for (int p = 0; p < problem.K; p++, b += NarrowColumns, offset += stepStride)
            {
                Vector512<float> row = Vector512.Load(b);
                c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[offset]), row, c0);
                c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[offset]), row, c1);
                c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[offset]), row, c2);
                c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[offset]), row, c3);
                c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[offset]), row, c4);
                c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a5[offset]), row, c5);
                c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a6[offset]), row, c6);
                c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a7[offset]), row, c7);
            }
            Vector512.Store(c0, tile + 0);
            Vector512.Store(c1, tile + 16);
            Vector512.Store(c2, tile + 32);
            Vector512.Store(c3, tile + 48);
            Vector512.Store(c4, tile + 64);
            Vector512.Store(c5, tile + 80);
            Vector512.Store(c6, tile + 96);
            Vector512.Store(c7, tile + 112);
            MergeTile(tile, NarrowColumns, problem.C + (nint)i * problem.Ldc, problem.Ldc, last + 1, problem.N, problem.Alpha, problem.Beta);
        }
    }
}
