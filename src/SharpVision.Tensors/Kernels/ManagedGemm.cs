// Shape legend: op(A) is (m, k), op(B) is (k, n), C is (m, n), all row-major with strides lda, ldb, ldc.
// Loop nest (BLIS order), per worker over its own block of C rows or columns:
//   jc: NC columns of C  ─► pc: KC of k  ─► pack B[pc.., jc..] (kc×nc) into NR-column slivers (kc×NR each)
//     ─► ic: MC rows ─► pack A[ic.., pc..] (mc×kc) into MR-row slivers (kc×MR each)
//       ─► jr: one B sliver (stays in L1) ─► ir: one A sliver (streams from L2) ─► micro-kernel: MR×NR tile in registers.
// Transposes are resolved while packing, so all four transpose combinations run the same micro-kernel.
using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace SharpVision.Tensors.Kernels;

/// <summary>
/// The managed GEMM provider: C = α·op(A)·op(B) + β·C with packed panels, cache blocking and a register-blocked
/// FMA micro-kernel (AVX-512 14×32, AVX2 6×16, or a portable 4×4), parallel over blocks of C. On AVX-512, products
/// with n ≤ 16 take a narrow path that reads A in place (ManagedGemm.Narrow.cs); on AVX-512 and AVX2, A·Bᵀ with at
/// most 4 rows of A (a linear layer on one to four images) is dot products of rows, nothing packed (ManagedGemm.Rows.cs).
/// </summary>
/// <remarks>
/// Shapes as in <see cref="IGemmProvider"/>: op(A) (m, k) · op(B) (k, n) → C (m, n).
/// Deterministic for any thread count: workers split only m or n, never k, and every element of C is summed over
/// k in the same order (KC blocks in sequence, p ascending inside a block) with the same arithmetic, so 1 and N
/// threads give the same bits.
/// </remarks>
internal sealed unsafe partial class ManagedGemm : IGemmProvider
{
    /// <summary>The micro-kernel family a provider instance runs.</summary>
    public enum InstructionSet
    {
        /// <summary>Plain scalar code: runs everywhere.</summary>
        Scalar,
        /// <summary><c>Vector256</c> with FMA (x86 AVX2).</summary>
        Avx2,
        /// <summary><c>Vector512</c> with FMA (x86 AVX-512F).</summary>
        Avx512,
    }

    // Below this many multiply-adds (m·n·k) a call takes tens of microseconds single-threaded, about what waking a
    // second worker costs, so small training shapes stay on the calling thread.
    private const long ParallelThreshold = 1L << 21;

    // KC: depth of a packed block. 256 steps keep a 14×32 B sliver (32 KB) plus the A sliver in the 48 KB L1d.
    private const int MaxDepthBlock = 256;
    // Target rows of a packed A block (rounded to MR): about 170 KB at KC = 256, well inside the 1 MB L2.
    private const int RowBlockTarget = 168;
    // Target columns of a packed B panel (rounded to NR): 2 MB at KC = 256, in the shared L3.
    private const int ColumnBlockTarget = 2048;

    private readonly InstructionSet _instructionSet;

    /// <summary>A provider using the widest instruction set this machine supports.</summary>
    public ManagedGemm() : this(Best) { }

    /// <summary>A provider pinned to one instruction set (tests use this to exercise every path on one machine).</summary>
    /// <exception cref="PlatformNotSupportedException">The machine lacks <paramref name="instructionSet"/>.</exception>
    public ManagedGemm(InstructionSet instructionSet)
    {
        if (!IsSupported(instructionSet))
            throw new PlatformNotSupportedException($"This machine does not support the {instructionSet} GEMM kernels.");
        _instructionSet = instructionSet;
    }

    /// <summary>The widest supported instruction set.</summary>
    public static InstructionSet Best =>
        IsSupported(InstructionSet.Avx512) ? InstructionSet.Avx512 : IsSupported(InstructionSet.Avx2) ? InstructionSet.Avx2 : InstructionSet.Scalar;

    /// <summary>Whether this machine can run <paramref name="instructionSet"/>.</summary>
    public static bool IsSupported(InstructionSet instructionSet) => instructionSet switch
    {
        InstructionSet.Avx512 => Avx512F.IsSupported,
        InstructionSet.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        _ => true,
    };

    public string Name => _instructionSet switch
    {
        InstructionSet.Avx512 => "managed-avx512",
        InstructionSet.Avx2 => "managed-avx2",
        _ => "managed-scalar",
    };

    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc, int threads)
    {
        Gemm.Validate(transposeA, transposeB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if (m == 0 || n == 0)
            return;
        if (k == 0 || alpha == 0)
        {
            // BLAS semantics: A and B are not read; C = β·C, with β = 0 clearing (not multiplying) so NaN goes away.
            ScaleRows(c, m, n, ldc, beta);
            return;
        }
        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = new Problem(transposeA, transposeB, m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
            switch (_instructionSet)
            {
                case InstructionSet.Avx512 when TakesDotRows(problem): RunDotRows(problem, wide: true, threads); break;
                case InstructionSet.Avx2 when TakesDotRows(problem): RunDotRows(problem, wide: false, threads); break;
                case InstructionSet.Avx512 when n <= NarrowColumns: RunNarrow(problem, threads); break;
                case InstructionSet.Avx512: Run<Avx512Kernel14x32>(problem, threads); break;
                case InstructionSet.Avx2: Run<Avx2Kernel6x16>(problem, threads); break;
                default: Run<ScalarKernel4x4>(problem, threads); break;
            }
        }
    }

    /// <summary>One call's operands, as raw pointers the workers share (the caller keeps them pinned).</summary>
    private readonly struct Problem(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        public readonly bool TransposeA = transposeA, TransposeB = transposeB;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly float Alpha = alpha, Beta = beta;
        public readonly float* A = a, B = b, C = c;
    }

    private static void ScaleRows(Span<float> c, int m, int n, int ldc, float beta)
    {
        for (int i = 0; i < m; i++)
        {
            Span<float> row = c.Slice(i * ldc, n);
            if (beta == 0) row.Clear();
            else if (beta != 1) TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>Splits C into one block of rows (or columns) per worker and runs them.</summary>
    private static void Run<TKernel>(Problem problem, int threads) where TKernel : struct, IGemmMicroKernel
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        int rowTiles = CeilDiv(problem.M, mr), columnTiles = CeilDiv(problem.N, nr);
        int workers = (long)problem.M * problem.N * problem.K < ParallelThreshold ? 1 : threads;
        if (workers == 1)
        {
            Block<TKernel>(problem, 0, problem.M, 0, problem.N);
            return;
        }
        // Split whichever dimension balances better in whole tiles (a partial tile costs a full one); on a tie split
        // rows, which makes every worker pack all of B rather than all of A — the smaller copy when n ≤ m.
        double rowBalance = Balance(rowTiles, workers), columnBalance = Balance(columnTiles, workers);
        bool splitRows = rowBalance > columnBalance || (rowBalance == columnBalance && problem.N <= problem.M);
        int tiles = splitRows ? rowTiles : columnTiles;
        workers = Math.Min(workers, tiles);
        if (workers == 1)
        {
            Block<TKernel>(problem, 0, problem.M, 0, problem.N);
            return;
        }
        // One block per worker, claimed dynamically: if a worker is slow to wake, the caller takes its block too
        // rather than waiting. Finer chunks measured slower at n = 512–1024 (each chunk repacks the shared operand).
        int tileSize = splitRows ? mr : nr, extent = splitRows ? problem.M : problem.N;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            int start = Math.Min(extent, (int)((long)tiles * worker / workers) * tileSize);
            int end = Math.Min(extent, (int)((long)tiles * (worker + 1) / workers) * tileSize);
            if (splitRows) Block<TKernel>(problem, start, end, 0, problem.N);
            else Block<TKernel>(problem, 0, problem.M, start, end);
        });

        static double Balance(int tiles, int workers) => (double)tiles / (CeilDiv(tiles, workers) * workers);
    }

    /// <summary>C[rowStart..rowEnd, columnStart..columnEnd] on the calling thread: the BLIS loop nest above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TKernel>(Problem problem, int rowStart, int rowEnd, int columnStart, int columnEnd)
        where TKernel : struct, IGemmMicroKernel
    {
        int mr = TKernel.Rows, nr = TKernel.Columns;
        // Equal-sized depth blocks (784 → 4×196, not 3×256 + 16): a thin last block would pay the C update for little work.
        // They depend on k only, never on the partition, which keeps the summation order thread-independent.
        int depthBlocks = CeilDiv(problem.K, MaxDepthBlock);
        int kcMax = CeilDiv(problem.K, depthBlocks);
        int mcMax = Math.Min(RoundUp(RowBlockTarget, mr), RoundUp(rowEnd - rowStart, mr));
        int ncMax = Math.Min(RoundUp(ColumnBlockTarget, nr), RoundUp(columnEnd - columnStart, nr));

        float[] aArray = ArrayPool<float>.Shared.Rent(mcMax * kcMax + Align);
        float[] bArray = ArrayPool<float>.Shared.Rent(ncMax * kcMax + Align);
        float[] tileArray = ArrayPool<float>.Shared.Rent(mr * nr + Align);
        try
        {
            fixed (float* aBase = aArray, bBase = bArray, tileBase = tileArray)
            {
                float* aPack = Aligned(aBase), bPack = Aligned(bBase), tile = Aligned(tileBase);
                float alpha = problem.Alpha;
                nint ldc = problem.Ldc;
                for (int jc = columnStart; jc < columnEnd; jc += ncMax)
                {
                    int nc = Math.Min(ncMax, columnEnd - jc);
                    for (int pc = 0; pc < problem.K; pc += kcMax)
                    {
                        int kc = Math.Min(kcMax, problem.K - pc);
                        // β applies once, with the first depth block; later blocks accumulate onto it.
                        float beta = pc == 0 ? problem.Beta : 1f;
                        PackB(problem, pc, kc, jc, nc, nr, bPack);
                        for (int ic = rowStart; ic < rowEnd; ic += mcMax)
                        {
                            int mc = Math.Min(mcMax, rowEnd - ic);
                            PackA(problem, ic, mc, pc, kc, mr, aPack);
                            for (int jr = 0; jr < nc; jr += nr)
                            {
                                int columns = Math.Min(nr, nc - jr);
                                float* bSliver = bPack + (nint)jr * kc;
                                for (int ir = 0; ir < mc; ir += mr)
                                {
                                    int rows = Math.Min(mr, mc - ir);
                                    float* aSliver = aPack + (nint)ir * kc;
                                    float* cTile = problem.C + (nint)(ic + ir) * ldc + jc + jr;
                                    if (rows == mr && columns == nr)
                                    {
                                        TKernel.Run(kc, aSliver, bSliver, cTile, ldc, alpha, beta);
                                    }
                                    else
                                    {
                                        // Edge tile: full-size kernel into scratch (padding rows/columns are zeros), then the
                                        // kernel's own update formula on the part that exists.
                                        TKernel.Run(kc, aSliver, bSliver, tile, nr, 1f, 0f);
                                        MergeTile(tile, nr, cTile, ldc, rows, columns, alpha, beta);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tileArray);
            ArrayPool<float>.Shared.Return(bArray);
            ArrayPool<float>.Shared.Return(aArray);
        }
    }

    private static void MergeTile(float* tile, int tileStride, float* c, nint ldc, int rows, int columns, float alpha, float beta)
    {
        for (int i = 0; i < rows; i++)
        {
            float* source = tile + i * tileStride, destination = c + i * ldc;
            for (int j = 0; j < columns; j++)
                destination[j] = GemmTile.Update(source[j], destination[j], alpha, beta);
        }
    }

    /// <summary>
    /// Packs op(A)[ic..ic+mc, pc..pc+kc] as MR-row slivers: sliver s holds, for each p, the MR values
    /// op(A)[ic+s·MR+r, pc+p] contiguously. Rows past mc are zero so edge tiles can run the full kernel.
    /// </summary>
    private static void PackA(in Problem problem, int ic, int mc, int pc, int kc, int mr, float* destination)
    {
        float** rowPointers = stackalloc float*[mr];
        for (int s = 0; s < mc; s += mr)
        {
            int rows = Math.Min(mr, mc - s);
            float* sliver = destination + (nint)s * kc;
            if (problem.TransposeA)
            {
                // Stored (k, m): for each p the sliver's MR values are contiguous in memory.
                float* source = problem.A + (nint)pc * problem.Lda + ic + s;
                for (int p = 0; p < kc; p++, source += problem.Lda, sliver += mr)
                {
                    new ReadOnlySpan<float>(source, rows).CopyTo(new Span<float>(sliver, rows));
                    if (rows < mr) new Span<float>(sliver + rows, mr - rows).Clear();
                }
            }
            else
            {
                // Stored (m, k): the sliver's MR values for one p sit in MR different rows. Walk p outermost so the
                // writes are sequential and each of the MR rows is read as its own sequential stream.
                for (int r = 0; r < mr; r++)
                    rowPointers[r] = problem.A + (nint)(ic + s + Math.Min(r, rows - 1)) * problem.Lda + pc;
                for (int p = 0; p < kc; p++, sliver += mr)
                {
                    int r = 0;
                    for (; r < rows; r++) sliver[r] = rowPointers[r][p];
                    for (; r < mr; r++) sliver[r] = 0;
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kc, jc..jc+nc] as NR-column slivers: sliver t holds, for each p, the NR values
    /// op(B)[pc+p, jc+t·NR+j] contiguously. Columns past nc are zero.
    /// </summary>
    private static void PackB(in Problem problem, int pc, int kc, int jc, int nc, int nr, float* destination)
    {
        float** columnPointers = stackalloc float*[nr];
        for (int t = 0; t < nc; t += nr)
        {
            int columns = Math.Min(nr, nc - t);
            float* sliver = destination + (nint)t * kc;
            if (!problem.TransposeB)
            {
                // Stored (k, n): each step's NR values are one contiguous run of a row.
                float* source = problem.B + (nint)pc * problem.Ldb + jc + t;
                for (int p = 0; p < kc; p++, source += problem.Ldb, sliver += nr)
                {
                    new ReadOnlySpan<float>(source, columns).CopyTo(new Span<float>(sliver, columns));
                    if (columns < nr) new Span<float>(sliver + columns, nr - columns).Clear();
                }
            }
            else
            {
                // Stored (n, k): the sliver's NR values for one p sit in NR different rows. As in PackA, walk p
                // outermost: sequential writes, NR sequential read streams.
                for (int j = 0; j < nr; j++)
                    columnPointers[j] = problem.B + (nint)(jc + t + Math.Min(j, columns - 1)) * problem.Ldb + pc;
                for (int p = 0; p < kc; p++, sliver += nr)
                {
                    int j = 0;
                    for (; j < columns; j++) sliver[j] = columnPointers[j][p];
                    for (; j < nr; j++) sliver[j] = 0;
                }
            }
        }
    }

    // Packed panels start on a 64-byte boundary so every zmm load of B is one cache line, never a split.
    private const int Align = 16;

    private static float* Aligned(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    private static int CeilDiv(int x, int y) => (x + y - 1) / y;

    private static int RoundUp(int x, int multiple) => CeilDiv(x, multiple) * multiple;
}
