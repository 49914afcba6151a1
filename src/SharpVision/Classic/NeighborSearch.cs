using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Classic;

/// <summary>The k nearest training rows of every query, and every class's nearest distance.</summary>
/// <param name="K">Neighbours per query.</param>
/// <param name="Classes">Number of classes.</param>
/// <param name="Distances">q×k distances, ascending per query (squared for Euclidean).</param>
/// <param name="Indices">q×k training indices, same order (ties: lower index first).</param>
/// <param name="ClassNearest">q×classes: distance from each query to the nearest training row of each class.</param>
public sealed record NeighborResult(int K, int Classes, double[] Distances, int[] Indices, double[] ClassNearest)
{
    /// <summary>
    /// The result for a smaller k: each query's first <paramref name="k"/> neighbours. Exact, because the lists are
    /// sorted by (distance, index), so cross-validating k = 1, 3, 5, … needs one search with the largest k.
    /// </summary>
    public NeighborResult Truncate(int k)
    {
        if (k < 1 || k > K) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and {K}.");
        if (k == K) return this;
        int q = Indices.Length / K;
        var distances = new double[q * k];
        var indices = new int[q * k];
        for (int i = 0; i < q; i++)
        {
            Distances.AsSpan(i * K, k).CopyTo(distances.AsSpan(i * k, k));
            Indices.AsSpan(i * K, k).CopyTo(indices.AsSpan(i * k, k));
        }
        return new NeighborResult(k, Classes, distances, indices, ClassNearest);
    }
}

/// <summary>The instructions the 8-bit search runs for one metric (<see cref="NeighborSearch.ByteKernelFor"/>).</summary>
public enum ByteKernel
{
    /// <summary>Plain loops: Σ|t − q| or Σ(t − q)² in 64-bit integers.</summary>
    Scalar,

    /// <summary>AVX2: L1 by <c>vpsadbw</c> (32 bytes), L2 by <c>vpmaddwd</c> on zero-extended 16-bit lanes (16 values).</summary>
    Avx2,

    /// <summary>AVX-512 BW: L1 by <c>vpsadbw</c> (64 bytes), L2 by <c>vpmaddwd</c> on zero-extended 16-bit lanes (32 values).</summary>
    Avx512,

    /// <summary>VEX AVX-VNNI, L2 only: <c>vpdpbusd</c> (u8 × s8, 32 bytes) on q − 128, corrected by 128·Σt.</summary>
    AvxVnni,
}

/// <summary>
/// Exact brute-force k-nearest-neighbour search, tiled for cache and parallel over query blocks, with a top-k
/// insertion list per query, so memory stays O(q·k + tiles) instead of an n×q distance matrix.
/// </summary>
/// <remarks>
/// Shape legend: n training rows, q queries, d values per row, k neighbours, c classes.
/// 8-bit rows use exact integer arithmetic on the <see cref="ByteKernel"/> that <see cref="ByteKernelFor"/> picks from
/// the CPU's features (<c>SHARPVISION_SIMD</c> caps it): L1 is a sum of absolute differences; L2 is
/// ‖t‖² + ‖q‖² − 2·t·q with an integer dot product, four queries per training row loaded. Rows are zero-padded to a
/// multiple of 64 bytes, which changes no distance. Every kernel gives the same integers, so results do not depend on
/// the kernel or the thread count. Float rows (feature vectors): L2 is ‖t‖² + ‖q‖² − 2·q·t with the dot products of
/// whole blocks from the GEMM provider; L1 sums |t − q| over 16-, 8- or 1-float vectors (<see cref="SimdPaths.Default"/>),
/// four queries per training row loaded.
/// </remarks>
public static class NeighborSearch
{
    // Training rows per tile: 256 × 832 B = 208 KiB, which with a block of 128 queries (104 KiB as bytes, 208 KiB as
    // 16-bit words) stays inside Zen 3's 512 KiB L2; 512 rows spilled the tile to L3 there.
    private const int TileRows = 256;
    private const int MaxQueryBlock = 128; // queries per parallel work item
    // Float L2: queries × training rows per GEMM call. Measured on HOG (d = 1,296, 2,048 queries × 60,000 rows, bench
    // knnfeatures): 512 × 1,024 took 25% less processor time than 128 × 512 (fewer, larger products; B packed less often).
    private const int GemmQueryBlock = 512;
    private const int GemmTileRows = 1024;
    // The int32 lanes of the dot products stay exact below this: a vpmaddwd lane of the AVX2 kernel sums d/8 products
    // of at most 255² (d·8,128 < 2³¹ for d ≤ 264,208); lanes are summed in 64 bits.
    private const int MaxByteDimension = 262_144;

    /// <summary>
    /// The 8-bit kernel for <paramref name="metric"/> on a CPU with <paramref name="features"/>: L2 takes VEX AVX-VNNI
    /// where present (measured 3.4× scikit-learn on a full-width AVX-512 CPU with AVX-VNNI), else AVX-512 BW
    /// <c>vpmaddwd</c> (EVEX AVX-512 VNNI has no .NET 10 intrinsic), else AVX2 <c>vpmaddwd</c>, else scalar; L1 takes
    /// the widest <c>vpsadbw</c>.
    /// </summary>
    public static ByteKernel ByteKernelFor(DistanceMetric metric, CpuFeatures features) =>
        metric == DistanceMetric.Euclidean && features.HasFlag(CpuFeatures.AvxVnni | CpuFeatures.Avx2) ? ByteKernel.AvxVnni
        : features.HasFlag(CpuFeatures.Avx512) ? ByteKernel.Avx512
        : features.HasFlag(CpuFeatures.Avx2) ? ByteKernel.Avx2 : ByteKernel.Scalar;

    /// <summary>"l2-avx2-vpmaddwd", "l1-avx512-vpsadbw", "l2-avxvnni-vpdpbusd", "l1-scalar", …: metric and kernel.</summary>
    public static string ByteKernelName(DistanceMetric metric, ByteKernel kernel) =>
        (metric == DistanceMetric.Manhattan ? "l1-" : "l2-") + kernel switch
        {
            ByteKernel.Avx2 => metric == DistanceMetric.Manhattan ? "avx2-vpsadbw" : "avx2-vpmaddwd",
            ByteKernel.Avx512 => metric == DistanceMetric.Manhattan ? "avx512-vpsadbw" : "avx512-vpmaddwd",
            ByteKernel.AvxVnni => "avxvnni-vpdpbusd",
            _ => "scalar",
        };

    /// <summary>The 8-bit search's kernel for <paramref name="metric"/> under the SIMD level in force, by name.</summary>
    public static string ByteBackend(DistanceMetric metric) => ByteKernelName(metric, ByteKernelFor(metric, SimdPaths.Features));

    /// <summary>
    /// What the float search (feature vectors) runs for <paramref name="metric"/>: L1 "float32-avx512", "float32-avx2" or
    /// "float32-scalar" (its own vector loop, at the SIMD level in force); L2 "float32-gemm-PROVIDER" (dot products from
    /// the GEMM provider).
    /// </summary>
    public static string FloatBackend(DistanceMetric metric) => metric == DistanceMetric.Euclidean
        ? $"float32-gemm-{Gemm.Provider.Name}"
        : $"float32-{SimdPaths.Name(SimdPaths.Default)}";

    /// <summary>Searches 8-bit rows (images): <paramref name="train"/> is n×d, <paramref name="queries"/> q×d.</summary>
    /// <remarks>Runs <see cref="ByteKernelFor"/> of the SIMD level in force (<see cref="SimdPaths.Features"/>).</remarks>
    /// <exception cref="ArgumentException">Sizes disagree, k is out of range, or a label is out of range.</exception>
    public static NeighborResult Search(
        ReadOnlySpan<byte> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<byte> queries, int dimension,
        DistanceMetric metric, int k, int threads = 0)
    {
        int n = Validate(train.Length, trainLabels, classes, queries.Length, dimension, k);
        if (dimension > MaxByteDimension)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"8-bit search supports up to {MaxByteDimension} values per row; use the float path.");
        int q = queries.Length / dimension;
        var kernel = ByteKernelFor(metric, SimdPaths.Features);
        var packedTrain = new PackedRows(train, n, dimension, QueryLayout.Bytes);
        var layout = metric == DistanceMetric.Manhattan || kernel == ByteKernel.Scalar ? QueryLayout.Bytes
            : kernel == ByteKernel.AvxVnni ? QueryLayout.SignFlipped : QueryLayout.Words;
        var packedQueries = new PackedRows(queries, q, dimension, layout);
        var labels = trainLabels.ToArray();
        var result = NewResult(q, k, classes);
        DotParts L2() => new(packedTrain, packedQueries, kernel == ByteKernel.AvxVnni);
        var bounds = metric == DistanceMetric.Euclidean && GroupBounds.Applies(n, dimension)
            ? new GroupBounds(train, n, queries, q, dimension, kernel switch
            {
                ByteKernel.Avx512 => SimdPath.Avx512,
                ByteKernel.Scalar => SimdPath.Scalar,
                _ => SimdPath.Avx2,
            })
            : null;
        switch (metric, kernel)
        {
            case (DistanceMetric.Manhattan, ByteKernel.Avx512):
                Run(n, q, k, classes, labels, threads, result, new SadAvx512(packedTrain, packedQueries)); break;
            case (DistanceMetric.Manhattan, ByteKernel.Avx2):
                Run(n, q, k, classes, labels, threads, result, new SadAvx2(packedTrain, packedQueries)); break;
            case (DistanceMetric.Euclidean, ByteKernel.AvxVnni): Run(n, q, k, classes, labels, threads, result, new DotAvxVnni(L2()), bounds); break;
            case (DistanceMetric.Euclidean, ByteKernel.Avx512): Run(n, q, k, classes, labels, threads, result, new DotAvx512(L2()), bounds); break;
            case (DistanceMetric.Euclidean, ByteKernel.Avx2): Run(n, q, k, classes, labels, threads, result, new DotAvx2(L2()), bounds); break;
            default: Run(n, q, k, classes, labels, threads, result, new ScalarBytes(packedTrain, packedQueries, metric), bounds); break;
        }
        return Finish(result, k, classes, isFloat: false);
    }

    /// <summary>
    /// Searches float rows (feature vectors): <paramref name="train"/> is n×d, <paramref name="queries"/> q×d.
    /// L2 takes ‖t‖² + ‖q‖² − 2·q·t with the dot products of up to 512 queries × 1,024 training rows at a time from the
    /// GEMM provider (float32 sums, the combination in double, clamped at 0); L1 sums |t − q| in float32, four queries
    /// per pass over a training row. Distances are reported in double and do not depend on the thread count.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree, k is out of range, a label is out of range, or a value is not finite.</exception>
    public static NeighborResult Search(
        ReadOnlySpan<float> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<float> queries, int dimension,
        DistanceMetric metric, int k, int threads = 0)
    {
        int n = Validate(train.Length, trainLabels, classes, queries.Length, dimension, k);
        if (!System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(train) || !System.Numerics.Tensors.TensorPrimitives.IsFiniteAll(queries))
            throw new ArgumentException("Feature vectors must be finite (no NaN or infinity).");
        int q = queries.Length / dimension;
        var result = NewResult(q, k, classes);
        var trainRows = train.ToArray();
        var queryRows = queries.ToArray();
        if (metric == DistanceMetric.Euclidean) RunEuclidean(trainRows, queryRows, n, q, dimension, k, classes, trainLabels.ToArray(), threads, result);
        else
            Run(n, q, k, classes, trainLabels.ToArray(), threads, result, new ManhattanFloatKernel(trainRows, queryRows, dimension, SimdPaths.Default));
        return Finish(result, k, classes, isFloat: true);
    }

    // Float L2 by GEMM: per block of up to GemmQueryBlock queries and tile of GemmTileRows training rows,
    // dots (qb, rows) = Q_block · T_tileᵀ, then d² = ‖t‖² + ‖q‖² − 2·dot per pair, offered to each query's top-k list.
    private static unsafe void RunEuclidean(float[] train, float[] queries, int n, int q, int d, int k, int classes, int[] labels, int threads, Work work)
    {
        if (q == 0) return;
        var trainNorm = SquaredNorms(train, d);
        var queryNorm = SquaredNorms(queries, d);
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        // Up to GemmQueryBlock queries per work item, fewer when that would leave a worker idle. The split may depend on
        // the thread count: each dot product is summed in the same order whatever rows share its GEMM call.
        int block = Math.Min(GemmQueryBlock, ((q + workers - 1) / workers + 15) & ~15);
        int blocks = (q + block - 1) / block;
        var gemm = SharpVision.Tensors.Kernels.Gemm.Provider;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, b =>
        {
            int qStart = b * block, qb = Math.Min(q, qStart + block) - qStart;
            var dots = System.Buffers.ArrayPool<float>.Shared.Rent(qb * GemmTileRows);
            long* tile = stackalloc long[GemmTileRows];
            try
            {
                fixed (long* dist = work.Distances)
                fixed (int* idx = work.Indices)
                fixed (long* nearest = work.ClassNearest)
                fixed (int* lab = labels)
                {
                    for (int tileStart = 0; tileStart < n; tileStart += GemmTileRows)
                    {
                        int rows = Math.Min(n, tileStart + GemmTileRows) - tileStart;
                        gemm.Multiply(false, true, qb, rows, d, 1f, queries.AsSpan(qStart * d, qb * d), d, train.AsSpan(tileStart * d, rows * d), d, 0f, dots, rows, threads: 1);
                        for (int j = 0; j < qb; j++)
                        {
                            double queryPart = queryNorm[qStart + j];
                            for (int r = 0; r < rows; r++)
                            {
                                // The identity can dip below zero by rounding; clamp so keys stay order-preserving.
                                double squared = Math.Max(0.0, trainNorm[tileStart + r] + queryPart - 2.0 * dots[j * rows + r]);
                                tile[r] = BitConverter.DoubleToInt64Bits(squared);
                            }
                            int query = qStart + j;
                            Filter(tile, 1, rows, tileStart, lab, dist + (long)query * k, idx + (long)query * k, nearest + (long)query * classes, k);
                        }
                    }
                }
            }
            finally
            {
                System.Buffers.ArrayPool<float>.Shared.Return(dots);
            }
        });
    }

    // ‖row‖² per row, in double from float32 products.
    private static double[] SquaredNorms(float[] rows, int d)
    {
        var norms = new double[rows.Length / d];
        for (int i = 0; i < norms.Length; i++)
        {
            double sum = 0;
            foreach (float v in rows.AsSpan(i * d, d)) sum += (double)v * v;
            norms[i] = sum;
        }
        return norms;
    }

    private static int Validate(int trainLength, ReadOnlySpan<int> labels, int classes, int queryLength, int dimension, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        if (trainLength % dimension != 0) throw new ArgumentException($"Training data ({trainLength} values) is not a whole number of {dimension}-value rows.");
        if (queryLength % dimension != 0) throw new ArgumentException($"Query data ({queryLength} values) is not a whole number of {dimension}-value rows.");
        int n = trainLength / dimension;
        if (labels.Length != n) throw new ArgumentException($"{n} training rows but {labels.Length} labels.");
        if (k < 1 || k > n) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the number of training rows ({n}).");
        foreach (int label in labels)
            if ((uint)label >= (uint)classes) throw new ArgumentException($"Label {label} is outside 0..{classes - 1}.");
        return n;
    }

    private sealed record Work(long[] Distances, int[] Indices, long[] ClassNearest);

    private static Work NewResult(int q, int k, int classes)
    {
        var work = new Work(new long[(long)q * k], new int[(long)q * k], new long[(long)q * classes]);
        Array.Fill(work.Distances, long.MaxValue);
        Array.Fill(work.ClassNearest, long.MaxValue);
        return work;
    }

    // Distances travel as long keys: integers as themselves, floats as their order-preserving bit pattern
    // (non-negative doubles compare like their bits), so one top-k routine serves both paths.
    private static NeighborResult Finish(Work work, int k, int classes, bool isFloat)
    {
        double FromKey(long key) => key == long.MaxValue ? double.PositiveInfinity : isFloat ? BitConverter.Int64BitsToDouble(key) : key;
        var distances = Array.ConvertAll(work.Distances, FromKey);
        var nearest = Array.ConvertAll(work.ClassNearest, FromKey);
        return new NeighborResult(k, classes, distances, work.Indices, nearest);
    }

    private interface IDistanceKernel
    {
        /// <summary>Distances from training row t to queries q0..q0+3, written to destination[0..3].</summary>
        unsafe void Distances4(int q0, int t, long* destination);

        /// <summary>
        /// <see cref="Distances4"/> for rows t0 and t1 (to d0 and d1); a kernel limited by loads computes both in one pass,
        /// each loaded query vector serving two rows. Every lane is summed as in <see cref="Distances4"/>: same results.
        /// </summary>
        unsafe void Distances4x2(int q0, int t0, int t1, long* d0, long* d1);

        long Distance1(int q, int t);
    }

    private static unsafe void Run<TKernel>(int n, int q, int k, int classes, int[] labels, int threads, Work work, TKernel kernel,
        GroupBounds? bounds = null)
        where TKernel : struct, IDistanceKernel
    {
        if (q == 0) return;
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        // At least two blocks per worker so a slow block doesn't leave a core idle; multiples of 4 for the 4-query kernel.
        // (Which queries share a 4-query pass changes nothing: every kernel's Distance1 is one lane of its Distances4.)
        int block = Math.Clamp((q + 2 * workers - 1) / (2 * workers), 4, MaxQueryBlock);
        block = (block + 3) & ~3;
        int blocks = (q + block - 1) / block;
        if (classes > GroupBounds.MaxClasses) bounds = null;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, b =>
        {
            int qStart = b * block;
            int qEnd = Math.Min(q, qStart + block);
            // Distances of one tile for 4 queries, interleaved [t][j]: computed in one tight loop, then filtered per query.
            long* tile = stackalloc long[4 * TileRows];
            // With bounds: the tile's lower bounds (same layout), the rows some query needs, and per (class, query) the
            // bound above which a row of that class changes nothing for that query.
            long* lower = stackalloc long[4 * TileRows];
            int* needed = stackalloc int[TileRows];
            long* thresholds = stackalloc long[4 * GroupBounds.MaxClasses];
            long computed = 0, seen = 0, lastComputed = 0, lastSeen = 0;
            fixed (long* dist = work.Distances)
            fixed (int* idx = work.Indices)
            fixed (long* nearest = work.ClassNearest)
            fixed (int* lab = labels)
            {
                for (int tileStart = 0; tileStart < n; tileStart += TileRows)
                {
                    int rows = Math.Min(n, tileStart + TileRows) - tileStart;
                    // Bounds pay only when they spare most rows (images). The first tiles spare few (the thresholds are
                    // still loose), so a block judges them after 8 tiles: when the last tile needed more than 60 % of
                    // its rows, the next ones run without bounds, but every 16th tile tries again. Same results either way.
                    int tileIndex = tileStart / TileRows;
                    bool prune = bounds is not null && tileIndex > 0 && (tileIndex <= 8 || 5 * lastComputed <= 3 * lastSeen || tileIndex % 16 == 0);
                    long tileComputed = 0, tileSeen = 0;
                    int qi = qStart;
                    for (; qi + 4 <= qEnd; qi += 4)
                    {
                        if (prune)
                        {
                            GroupBounds.Thresholds(dist + (long)qi * k, k, nearest + (long)qi * classes, classes, thresholds);
                            bounds!.Tile(qi, tileStart, rows, lower);
                            int count = bounds.SelectRows(lower, lab + tileStart, rows, thresholds, needed);
                            new Span<long>(tile, 4 * rows).Fill(long.MaxValue); // rows no query needs: Filter passes over them
                            int i = 0;
                            for (; i + 2 <= count; i += 2)
                            {
                                int r0 = needed[i], r1 = needed[i + 1];
                                kernel.Distances4x2(qi, tileStart + r0, tileStart + r1, tile + 4 * r0, tile + 4 * r1);
                            }
                            if (i < count) kernel.Distances4(qi, tileStart + needed[i], tile + 4 * needed[i]);
                            tileComputed += count;
                            tileSeen += rows;
                        }
                        else
                        {
                            int r = 0;
                            for (; r + 2 <= rows; r += 2)
                                kernel.Distances4x2(qi, tileStart + r, tileStart + r + 1, tile + 4 * r, tile + 4 * r + 4);
                            if (r < rows) kernel.Distances4(qi, tileStart + r, tile + 4 * r);
                        }
                        for (int j = 0; j < 4; j++)
                            Filter(tile + j, 4, rows, tileStart, lab, dist + (long)(qi + j) * k, idx + (long)(qi + j) * k, nearest + (long)(qi + j) * classes, k);
                    }
                    for (; qi < qEnd; qi++)
                    {
                        for (int r = 0; r < rows; r++) tile[r] = kernel.Distance1(qi, tileStart + r);
                        Filter(tile, 1, rows, tileStart, lab, dist + (long)qi * k, idx + (long)qi * k, nearest + (long)qi * classes, k);
                    }
                    if (prune)
                    {
                        (lastComputed, lastSeen) = (tileComputed, tileSeen);
                        computed += tileComputed;
                        seen += tileSeen;
                    }
                }
            }
            bounds?.Count(computed, seen);
        });
    }

    // Offers one query's tile of distances to its top-k list (ascending) and its per-class nearest distances.
    // Training rows arrive in increasing index order for each query, so inserting after equal distances makes the
    // lower index win ties.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Filter(long* distances, int step, int rows, int firstRow, int* labels, long* dist, int* idx, long* nearest, int k)
    {
        long worst = dist[k - 1];
        for (int r = 0; r < rows; r++)
        {
            long d = distances[r * step];
            int t = firstRow + r;
            long* best = nearest + labels[t];
            if (d < *best) *best = d;
            if (d >= worst) continue;
            int pos = k - 1;
            while (pos > 0 && dist[pos - 1] > d)
            {
                dist[pos] = dist[pos - 1];
                idx[pos] = idx[pos - 1];
                pos--;
            }
            dist[pos] = d;
            idx[pos] = t;
            worst = dist[k - 1];
        }
    }

    /// <summary>How a packed copy of the rows stores each value.</summary>
    private enum QueryLayout
    {
        /// <summary>The byte itself.</summary>
        Bytes,

        /// <summary>x ^ 0x80 read as s8, i.e. x − 128 (the s8 operand of <c>vpdpbusd</c>).</summary>
        SignFlipped,

        /// <summary>Zero-extended to 16 bits (the operand of <c>vpmaddwd</c>).</summary>
        Words,
    }

    /// <summary>
    /// Rows copied into a pinned buffer with a stride that is a multiple of 64 values, zero-padded (padding changes no
    /// distance: its training partner is 0), with each row's Σx and ‖x‖².
    /// </summary>
    private sealed unsafe class PackedRows
    {
        public PackedRows(ReadOnlySpan<byte> rows, int count, int dimension, QueryLayout layout)
        {
            Count = count;
            Stride = (dimension + 63) & ~63;
            int width = layout == QueryLayout.Words ? sizeof(short) : 1;
            // 64 spare bytes so that rows start on a cache line: a 32- or 64-byte load then never splits across two lines
            // (with the runtime's 16-byte alignment, half the loads of the L2 kernels did, costing about 40 %).
            Data = GC.AllocateUninitializedArray<byte>(count * Stride * width + 64, pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Data));
            Pointer = (byte*)((start + 63) & ~(nint)63);
            Sum = new long[count];
            SquaredNorm = new long[count];
            for (int i = 0; i < count; i++)
            {
                var src = rows.Slice(i * dimension, dimension);
                long sum = 0, sq = 0;
                foreach (byte v in src)
                {
                    sum += v;
                    sq += v * v;
                }
                Sum[i] = sum;
                SquaredNorm[i] = sq;
                if (layout == QueryLayout.Words)
                {
                    var words = new Span<short>(Pointer + (long)i * Stride * sizeof(short), Stride);
                    for (int j = 0; j < dimension; j++) words[j] = src[j];
                    words[dimension..].Clear();
                    continue;
                }
                var dst = new Span<byte>(Pointer + (long)i * Stride, Stride);
                src.CopyTo(dst);
                if (layout == QueryLayout.SignFlipped)
                    for (int j = 0; j < dimension; j++) dst[j] ^= 0x80;
                dst[dimension..].Clear();
            }
        }

        public int Count { get; }

        /// <summary>Values per row (bytes, or 16-bit words for <see cref="QueryLayout.Words"/>).</summary>
        public int Stride { get; }

        /// <summary>The pinned buffer; rows start at <see cref="Pointer"/>.</summary>
        public byte[] Data { get; }

        /// <summary>The first row: <see cref="Data"/>'s first 64-byte-aligned address.</summary>
        public byte* Pointer { get; }

        public long[] Sum { get; }

        public long[] SquaredNorm { get; }
    }

    /// <summary>
    /// Lower bounds of squared L2 distances from the sums of groups of four consecutive values. With S(g) the sum of
    /// group g, (S_t(g) − S_q(g))² ≤ 4·Σ over the group of (t − q)² (Cauchy–Schwarz), so
    /// B(t, q) = Σ_g (S_t(g) − S_q(g))² ≤ 4·‖t − q‖², in exact integers: a row whose bound exceeds 4·max(a query's k-th
    /// distance, its nearest distance to the row's class) can change neither that query's list nor its class nearest,
    /// and its exact distance is skipped. Neighbouring pixels of images are alike, so on Fashion-MNIST the bound rules
    /// out most rows at a quarter of the exact kernel's work (group sums fit 16 bits: 196 lanes instead of 784).
    /// </summary>
    private sealed unsafe class GroupBounds
    {
        /// <summary>Classes the per-block threshold table holds (32 KiB of stack); more classes search without bounds.</summary>
        public const int MaxClasses = 1024;

        private const int GroupSize = 4;
        private readonly short* _train, _queries;
        private readonly int _stride;
        private readonly SimdPath _path;
        private long _computed, _seen;

        public GroupBounds(ReadOnlySpan<byte> train, int n, ReadOnlySpan<byte> queries, int q, int dimension, SimdPath path)
        {
            int groups = (dimension + GroupSize - 1) / GroupSize;
            _stride = (groups + 31) & ~31; // whole 32-word vectors, zero-padded
            _path = path;
            TrainSums = Sums(train, n, dimension, _stride, out _train);
            QuerySums = Sums(queries, q, dimension, _stride, out _queries);
        }

        /// <summary>
        /// Whether bounds apply: rows long enough to pay (64 values) and short enough that a 32-bit lane of the bound
        /// cannot overflow (a vpmaddwd lane adds two squares ≤ 1,020², d/64 times).
        /// </summary>
        public static bool Applies(int n, int dimension) => n > TileRows && dimension >= 64 && dimension <= 65_536;

        /// <summary>Rows whose exact distances were computed and rows offered, over the blocks that used bounds (tests read it).</summary>
        public (long Computed, long Seen) Counts => (Interlocked.Read(ref _computed), Interlocked.Read(ref _seen));

        // Keep the pinned buffers alive as long as the pointers into them.
        private short[] TrainSums { get; }
        private short[] QuerySums { get; }

        public void Count(long computed, long seen)
        {
            Interlocked.Add(ref _computed, computed);
            Interlocked.Add(ref _seen, seen);
        }

        /// <summary>
        /// thresholds[4·c + j] = 4·max(query j's k-th distance, its nearest distance to class c), or long.MaxValue while
        /// either is unknown (the row is then needed).
        /// </summary>
        public static void Thresholds(long* dist, int k, long* nearest, int classes, long* thresholds)
        {
            for (int j = 0; j < 4; j++)
            {
                long worst = dist[(long)j * k + k - 1];
                long* near = nearest + (long)j * classes;
                for (int c = 0; c < classes; c++)
                {
                    long threshold = Math.Max(worst, near[c]);
                    thresholds[4 * c + j] = threshold == long.MaxValue ? long.MaxValue : GroupSize * threshold;
                }
            }
        }

        /// <summary>destination[4·r + j] = B(query q0 + j, training row firstRow + r), r &lt; rows.</summary>
        public void Tile(int q0, int firstRow, int rows, long* destination)
        {
            short* q = _queries + (long)q0 * _stride, t = _train + (long)firstRow * _stride;
            switch (_path)
            {
                case SimdPath.Avx512:
                    for (int r = 0; r < rows; r++) Bounds4Avx512(t + (long)r * _stride, q, _stride, destination + 4 * r);
                    break;
                case SimdPath.Avx2:
                    for (int r = 0; r < rows; r++) Bounds4Avx2(t + (long)r * _stride, q, _stride, destination + 4 * r);
                    break;
                default:
                    for (int r = 0; r < rows; r++) Bounds4Scalar(t + (long)r * _stride, q, _stride, destination + 4 * r);
                    break;
            }
        }

        /// <summary>Lists in <paramref name="needed"/> the rows where some query's bound is within its threshold; returns how many.</summary>
        public int SelectRows(long* lower, int* labels, int rows, long* thresholds, int* needed)
        {
            int count = 0;
            if (_path == SimdPath.Scalar)
            {
                for (int r = 0; r < rows; r++)
                {
                    long* bound = lower + 4 * r, threshold = thresholds + 4 * labels[r];
                    bool skip = bound[0] > threshold[0] && bound[1] > threshold[1] && bound[2] > threshold[2] && bound[3] > threshold[3];
                    needed[count] = r;
                    count += skip ? 0 : 1;
                }
                return count;
            }
            for (int r = 0; r < rows; r++)
            {
                var above = Vector256.GreaterThan(Vector256.Load(lower + 4 * r), Vector256.Load(thresholds + 4 * labels[r]));
                needed[count] = r;
                count += Vector256.EqualsAll(above, Vector256<long>.AllBitsSet) ? 0 : 1; // branch-free append
            }
            return count;
        }

        private static short[] Sums(ReadOnlySpan<byte> rows, int count, int dimension, int stride, out short* pointer)
        {
            var buffer = GC.AllocateArray<short>(count * stride + 32, pinned: true);
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
            pointer = (short*)((start + 63) & ~(nint)63);
            for (int i = 0; i < count; i++)
            {
                var row = rows.Slice(i * dimension, dimension);
                short* sums = pointer + (long)i * stride;
                int j = 0;
                for (int g = 0; j + GroupSize <= dimension; g++, j += GroupSize) sums[g] = (short)(row[j] + row[j + 1] + row[j + 2] + row[j + 3]);
                for (; j < dimension; j++) sums[j / GroupSize] += row[j];
            }
            return buffer;
        }

        private static void Bounds4Scalar(short* t, short* q, int stride, long* destination)
        {
            for (int j = 0; j < 4; j++)
            {
                short* qj = q + j * stride;
                long sum = 0;
                for (int g = 0; g < stride; g++)
                {
                    int diff = t[g] - qj[g];
                    sum += diff * diff;
                }
                destination[j] = sum;
            }
        }

        // Group sums are at most 4·255 = 1,020, so differences fit 16 bits and a vpmaddwd lane adds two squares ≤ 2,080,800.
        private static void Bounds4Avx2(short* t, short* q, int stride, long* destination)
        {
            short* q1 = q + stride, q2 = q1 + stride, q3 = q2 + stride;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int g = 0; g < stride; g += 16)
            {
                var tv = Vector256.Load(t + g);
                var d0 = tv - Vector256.Load(q + g);
                var d1 = tv - Vector256.Load(q1 + g);
                var d2 = tv - Vector256.Load(q2 + g);
                var d3 = tv - Vector256.Load(q3 + g);
                a0 += Avx2.MultiplyAddAdjacent(d0, d0);
                a1 += Avx2.MultiplyAddAdjacent(d1, d1);
                a2 += Avx2.MultiplyAddAdjacent(d2, d2);
                a3 += Avx2.MultiplyAddAdjacent(d3, d3);
            }
            destination[0] = SumLanes(a0);
            destination[1] = SumLanes(a1);
            destination[2] = SumLanes(a2);
            destination[3] = SumLanes(a3);
        }

        private static void Bounds4Avx512(short* t, short* q, int stride, long* destination)
        {
            short* q1 = q + stride, q2 = q1 + stride, q3 = q2 + stride;
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int g = 0; g < stride; g += 32)
            {
                var tv = Vector512.Load(t + g);
                var d0 = tv - Vector512.Load(q + g);
                var d1 = tv - Vector512.Load(q1 + g);
                var d2 = tv - Vector512.Load(q2 + g);
                var d3 = tv - Vector512.Load(q3 + g);
                a0 += Avx512BW.MultiplyAddAdjacent(d0, d0);
                a1 += Avx512BW.MultiplyAddAdjacent(d1, d1);
                a2 += Avx512BW.MultiplyAddAdjacent(d2, d2);
                a3 += Avx512BW.MultiplyAddAdjacent(d3, d3);
            }
            destination[0] = SumLanes(a0);
            destination[1] = SumLanes(a1);
            destination[2] = SumLanes(a2);
            destination[3] = SumLanes(a3);
        }
    }

    /// <summary>
    /// What every L2 kernel shares: d² = base(t) + ‖q‖² − 2·dot, base(t) = ‖t‖² (− 256·Σt when dot is on q − 128).
    /// </summary>
    private sealed unsafe class DotParts
    {
        public DotParts(PackedRows train, PackedRows queries, bool signFlipped)
        {
            Stride = train.Stride;
            Train = train.Pointer;
            Queries = queries.Pointer;
            QueryNorm = queries.SquaredNorm;
            TrainBase = new long[train.Count];
            for (int i = 0; i < train.Count; i++) TrainBase[i] = train.SquaredNorm[i] - (signFlipped ? 256 * train.Sum[i] : 0);
        }

        public int Stride { get; }
        public byte* Train { get; }
        public byte* Queries { get; }
        public long[] QueryNorm { get; }
        public long[] TrainBase { get; }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long Distance(int q, int t, long dot) => TrainBase[t] + QueryNorm[q] - 2 * dot;

        /// <summary>The distances of row t to queries q0..q0+3 from their dot products, to destination[0..3].</summary>
        public void Store4(int q0, int t, long* destination, long dot0, long dot1, long dot2, long dot3)
        {
            destination[0] = Distance(q0, t, dot0);
            destination[1] = Distance(q0 + 1, t, dot1);
            destination[2] = Distance(q0 + 2, t, dot2);
            destination[3] = Distance(q0 + 3, t, dot3);
        }
    }

    // Lane sums in 64 bits: an int32 lane is exact, the sum of all lanes may not fit in 32 bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long SumLanes(Vector256<int> x) => Vector256.Sum(Vector256.WidenLower(x) + Vector256.WidenUpper(x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long SumLanes(Vector512<int> x) => Vector512.Sum(Vector512.WidenLower(x) + Vector512.WidenUpper(x));

    // The scalar twin of the 8-bit kernels (and their path on CPUs without AVX2): the definitions in 64-bit integers.
    private readonly unsafe struct ScalarBytes(PackedRows train, PackedRows queries, DistanceMetric metric) : IDistanceKernel
    {
        public void Distances4(int q0, int t, long* destination)
        {
            for (int j = 0; j < 4; j++) destination[j] = Distance1(q0 + j, t);
        }

        public void Distances4x2(int q0, int t0, int t1, long* d0, long* d1)
        {
            Distances4(q0, t0, d0);
            Distances4(q0, t1, d1);
        }

        public long Distance1(int q, int t)
        {
            int stride = train.Stride;
            byte* tr = train.Pointer + (long)t * stride, qr = queries.Pointer + (long)q * stride;
            long sum = 0;
            if (metric == DistanceMetric.Manhattan)
            {
                for (int i = 0; i < stride; i++) sum += Math.Abs(tr[i] - qr[i]);
                return sum;
            }
            for (int i = 0; i < stride; i++)
            {
                int diff = tr[i] - qr[i];
                sum += diff * diff;
            }
            return sum;
        }
    }

    // L1, AVX2: one training row against four consecutive queries, 32 bytes per vpsadbw; the training chunk is loaded
    // once per four queries.
    private readonly unsafe struct SadAvx2(PackedRows train, PackedRows queries) : IDistanceKernel
    {
        private readonly byte* _t = train.Pointer, _q = queries.Pointer;
        private readonly int _stride = train.Stride;

        public void Distances4(int q0, int t, long* destination)
        {
            byte* tr = _t + (long)t * _stride, q = _q + (long)q0 * _stride;
            byte* q1 = q + _stride, q2 = q1 + _stride, q3 = q2 + _stride;
            Vector256<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int off = 0; off < _stride; off += 32)
            {
                var tv = Vector256.Load(tr + off);
                a0 += Avx2.SumAbsoluteDifferences(tv, Vector256.Load(q + off)).AsUInt64();
                a1 += Avx2.SumAbsoluteDifferences(tv, Vector256.Load(q1 + off)).AsUInt64();
                a2 += Avx2.SumAbsoluteDifferences(tv, Vector256.Load(q2 + off)).AsUInt64();
                a3 += Avx2.SumAbsoluteDifferences(tv, Vector256.Load(q3 + off)).AsUInt64();
            }
            destination[0] = (long)Vector256.Sum(a0);
            destination[1] = (long)Vector256.Sum(a1);
            destination[2] = (long)Vector256.Sum(a2);
            destination[3] = (long)Vector256.Sum(a3);
        }

        public void Distances4x2(int q0, int t0, int t1, long* d0, long* d1)
        {
            Distances4(q0, t0, d0);
            Distances4(q0, t1, d1);
        }

        public long Distance1(int q, int t)
        {
            byte* tr = _t + (long)t * _stride, qr = _q + (long)q * _stride;
            Vector256<ulong> acc = default;
            for (int off = 0; off < _stride; off += 32)
                acc += Avx2.SumAbsoluteDifferences(Vector256.Load(tr + off), Vector256.Load(qr + off)).AsUInt64();
            return (long)Vector256.Sum(acc);
        }
    }

    // L1, AVX-512 BW: as SadAvx2 with 64 bytes per vpsadbw.
    private readonly unsafe struct SadAvx512(PackedRows train, PackedRows queries) : IDistanceKernel
    {
        private readonly byte* _t = train.Pointer, _q = queries.Pointer;
        private readonly int _stride = train.Stride;

        public void Distances4(int q0, int t, long* destination)
        {
            byte* tr = _t + (long)t * _stride, q = _q + (long)q0 * _stride;
            byte* q1 = q + _stride, q2 = q1 + _stride, q3 = q2 + _stride;
            Vector512<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int off = 0; off < _stride; off += 64)
            {
                var tv = Vector512.Load(tr + off);
                a0 += Avx512BW.SumAbsoluteDifferences(tv, Vector512.Load(q + off)).AsUInt64();
                a1 += Avx512BW.SumAbsoluteDifferences(tv, Vector512.Load(q1 + off)).AsUInt64();
                a2 += Avx512BW.SumAbsoluteDifferences(tv, Vector512.Load(q2 + off)).AsUInt64();
                a3 += Avx512BW.SumAbsoluteDifferences(tv, Vector512.Load(q3 + off)).AsUInt64();
            }
            destination[0] = (long)Vector512.Sum(a0);
            destination[1] = (long)Vector512.Sum(a1);
            destination[2] = (long)Vector512.Sum(a2);
            destination[3] = (long)Vector512.Sum(a3);
        }

        public void Distances4x2(int q0, int t0, int t1, long* d0, long* d1)
        {
            Distances4(q0, t0, d0);
            Distances4(q0, t1, d1);
        }

        public long Distance1(int q, int t)
        {
            byte* tr = _t + (long)t * _stride, qr = _q + (long)q * _stride;
            Vector512<ulong> acc = default;
            for (int off = 0; off < _stride; off += 64)
                acc += Avx512BW.SumAbsoluteDifferences(Vector512.Load(tr + off), Vector512.Load(qr + off)).AsUInt64();
            return (long)Vector512.Sum(acc);
        }
    }

    // L2, AVX2: t·q with the training bytes zero-extended to 16 bits as they are loaded (vpmovzxbw) and the queries
    // stored as 16-bit words, multiplied and pair-summed by vpmaddwd into 32-bit lanes (products ≤ 255², pairs ≤ 130,050:
    // no saturation, unlike vpmaddubsw). Four queries per training row: one widening per four multiply-adds.
    private readonly unsafe struct DotAvx2(DotParts parts) : IDistanceKernel
    {
        private readonly byte* _t = parts.Train;
        private readonly short* _q = (short*)parts.Queries;
        private readonly int _stride = parts.Stride;

        public void Distances4(int q0, int t, long* destination)
        {
            byte* tr = _t + (long)t * _stride;
            short* q = _q + (long)q0 * _stride, q1 = q + _stride, q2 = q1 + _stride, q3 = q2 + _stride;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int off = 0; off < _stride; off += 16)
            {
                var tw = Avx2.ConvertToVector256Int16(Vector128.Load(tr + off));
                a0 += Avx2.MultiplyAddAdjacent(tw, Vector256.Load(q + off));
                a1 += Avx2.MultiplyAddAdjacent(tw, Vector256.Load(q1 + off));
                a2 += Avx2.MultiplyAddAdjacent(tw, Vector256.Load(q2 + off));
                a3 += Avx2.MultiplyAddAdjacent(tw, Vector256.Load(q3 + off));
            }
            destination[0] = parts.Distance(q0, t, SumLanes(a0));
            destination[1] = parts.Distance(q0 + 1, t, SumLanes(a1));
            destination[2] = parts.Distance(q0 + 2, t, SumLanes(a2));
            destination[3] = parts.Distance(q0 + 3, t, SumLanes(a3));
        }

        // Two rows × four queries: 8 accumulators, 2 widened row chunks and 1 query chunk in 11 of the 16 ymm registers;
        // 6 loads per 8 vpmaddwd instead of 5 per 4, which is what bounds Distances4 on Zen 3.
        public void Distances4x2(int q0, int t0, int t1, long* d0, long* d1)
        {
            byte* r0 = _t + (long)t0 * _stride, r1 = _t + (long)t1 * _stride;
            short* q = _q + (long)q0 * _stride, q1 = q + _stride, q2 = q1 + _stride, q3 = q2 + _stride;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (int off = 0; off < _stride; off += 16)
            {
                var w0 = Avx2.ConvertToVector256Int16(Vector128.Load(r0 + off));
                var w1 = Avx2.ConvertToVector256Int16(Vector128.Load(r1 + off));
                var x = Vector256.Load(q + off);
                a0 += Avx2.MultiplyAddAdjacent(w0, x);
                b0 += Avx2.MultiplyAddAdjacent(w1, x);
                x = Vector256.Load(q1 + off);
                a1 += Avx2.MultiplyAddAdjacent(w0, x);
                b1 += Avx2.MultiplyAddAdjacent(w1, x);
                x = Vector256.Load(q2 + off);
                a2 += Avx2.MultiplyAddAdjacent(w0, x);
                b2 += Avx2.MultiplyAddAdjacent(w1, x);
                x = Vector256.Load(q3 + off);
                a3 += Avx2.MultiplyAddAdjacent(w0, x);
                b3 += Avx2.MultiplyAddAdjacent(w1, x);
            }
            parts.Store4(q0, t0, d0, SumLanes(a0), SumLanes(a1), SumLanes(a2), SumLanes(a3));
            parts.Store4(q0, t1, d1, SumLanes(b0), SumLanes(b1), SumLanes(b2), SumLanes(b3));
        }

        public long Distance1(int q, int t)
        {
            byte* tr = _t + (long)t * _stride;
            short* qr = _q + (long)q * _stride;
            Vector256<int> acc = default;
            for (int off = 0; off < _stride; off += 16)
                acc += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.Load(tr + off)), Vector256.Load(qr + off));
            return parts.Distance(q, t, SumLanes(acc));
        }
    }

    // L2, AVX-512 BW: as DotAvx2 with 32 values per vpmaddwd.
    private readonly unsafe struct DotAvx512(DotParts parts) : IDistanceKernel
    {
        private readonly byte* _t = parts.Train;
        private readonly short* _q = (short*)parts.Queries;
        private readonly int _stride = parts.Stride;

        public void Distances4(int q0, int t, long* destination)
        {
            byte* tr = _t + (long)t * _stride;
            short* q = _q + (long)q0 * _stride, q1 = q + _stride, q2 = q1 + _stride, q3 = q2 + _stride;
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int off = 0; off < _stride; off += 32)
            {
                var tw = Avx512BW.ConvertToVector512Int16(Vector256.Load(tr + off));
                a0 += Avx512BW.MultiplyAddAdjacent(tw, Vector512.Load(q + off));
                a1 += Avx512BW.MultiplyAddAdjacent(tw, Vector512.Load(q1 + off));
                a2 += Avx512BW.MultiplyAddAdjacent(tw, Vector512.Load(q2 + off));
                a3 += Avx512BW.MultiplyAddAdjacent(tw, Vector512.Load(q3 + off));
            }
            destination[0] = parts.Distance(q0, t, SumLanes(a0));
            destination[1] = parts.Distance(q0 + 1, t, SumLanes(a1));
            destination[2] = parts.Distance(q0 + 2, t, SumLanes(a2));
            destination[3] = parts.Distance(q0 + 3, t, SumLanes(a3));
        }

        // As DotAvx2.Distances4x2 on 32 values per vpmaddwd (32 zmm registers: no pressure).
        public void Distances4x2(int q0, int t0, int t1, long* d0, long* d1)
        {
            byte* r0 = _t + (long)t0 * _stride, r1 = _t + (long)t1 * _stride;
            short* q = _q + (long)q0 * _stride, q1 = q + _stride, q2 = q1 + _stride, q3 = q2 + _stride;
            Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (int off = 0; off < _stride; off += 32)
            {
                var w0 = Avx512BW.ConvertToVector512Int16(Vector256.Load(r0 + off));
                var w1 = Avx512BW.ConvertToVector512Int16(Vector256.Load(r1 + off));
                var x = Vector512.Load(q + off);
                a0 += Avx512BW.MultiplyAddAdjacent(w0, x);
                b0 += Avx512BW.MultiplyAddAdjacent(w1, x);
                x = Vector512.Load(q1 + off);
                a1 += Avx512BW.MultiplyAddAdjacent(w0, x);
                b1 += Avx512BW.MultiplyAddAdjacent(w1, x);
                x = Vector512.Load(q2 + off);
                a2 += Avx512BW.MultiplyAddAdjacent(w0, x);
                b2 += Avx512BW.MultiplyAddAdjacent(w1, x);
                x = Vector512.Load(q3 + off);
                a3 += Avx512BW.MultiplyAddAdjacent(w0, x);
                b3 += Avx512BW.MultiplyAddAdjacent(w1, x);
            }
            parts.Store4(q0, t0, d0, SumLanes(a0), SumLanes(a1), SumLanes(a2), SumLanes(a3));
            parts.Store4(q0, t1, d1, SumLanes(b0), SumLanes(b1), SumLanes(b2), SumLanes(b3));
        }

        public long Distance1(int q, int t)
        {
            byte* tr = _t + (long)t * _stride;
            short* qr = _q + (long)q * _stride;
            Vector512<int> acc = default;
            for (int off = 0; off < _stride; off += 32)
                acc += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(tr + off)), Vector512.Load(qr + off));
            return parts.Distance(q, t, SumLanes(acc));
        }
    }

    // L2, VEX AVX-VNNI: Σ t·(q − 128) by vpdpbusd (t as u8, the packed query already as s8), 32 bytes per instruction.
    private readonly unsafe struct DotAvxVnni(DotParts parts) : IDistanceKernel
    {
        private readonly byte* _t = parts.Train;
        private readonly byte* _q = parts.Queries;
        private readonly int _stride = parts.Stride;

        public void Distances4(int q0, int t, long* destination)
        {
            byte* tr = _t + (long)t * _stride, q = _q + (long)q0 * _stride;
            byte* q1 = q + _stride, q2 = q1 + _stride, q3 = q2 + _stride;
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int off = 0; off < _stride; off += 32)
            {
                var tv = Vector256.Load(tr + off);
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, tv, Vector256.Load((sbyte*)(q + off)));
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, tv, Vector256.Load((sbyte*)(q1 + off)));
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, tv, Vector256.Load((sbyte*)(q2 + off)));
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, tv, Vector256.Load((sbyte*)(q3 + off)));
            }
            destination[0] = parts.Distance(q0, t, SumLanes(a0));
            destination[1] = parts.Distance(q0 + 1, t, SumLanes(a1));
            destination[2] = parts.Distance(q0 + 2, t, SumLanes(a2));
            destination[3] = parts.Distance(q0 + 3, t, SumLanes(a3));
        }

        public void Distances4x2(int q0, int t0, int t1, long* d0, long* d1)
        {
            Distances4(q0, t0, d0);
            Distances4(q0, t1, d1);
        }

        public long Distance1(int q, int t)
        {
            byte* tr = _t + (long)t * _stride, qr = _q + (long)q * _stride;
            Vector256<int> acc = default;
            for (int off = 0; off < _stride; off += 32)
                acc = AvxVnni.MultiplyWideningAndAdd(acc, Vector256.Load(tr + off), Vector256.Load((sbyte*)(qr + off)));
            return parts.Distance(q, t, SumLanes(acc));
        }
    }

    // Float L1: Σ|t − q| in float32, 16, 8 or 1 lanes at a time (the path), four queries per pass over a training row so
    // each training vector is loaded once for four queries; lanes are summed at the end, the tail in scalar.
    private readonly struct ManhattanFloatKernel(float[] train, float[] queries, int dimension, SimdPath path) : IDistanceKernel
    {
        public unsafe void Distances4(int q0, int t, long* destination)
        {
            int d = dimension;
            fixed (float* pt = &train[t * d], pq = &queries[q0 * d])
            {
                float* q1 = pq + d, q2 = pq + 2 * d, q3 = pq + 3 * d;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int i = 0;
                if (path == SimdPath.Avx512)
                {
                    var a0 = Vector512<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                    for (; i + 16 <= d; i += 16)
                    {
                        var x = Vector512.Load(pt + i);
                        a0 += Vector512.Abs(x - Vector512.Load(pq + i));
                        a1 += Vector512.Abs(x - Vector512.Load(q1 + i));
                        a2 += Vector512.Abs(x - Vector512.Load(q2 + i));
                        a3 += Vector512.Abs(x - Vector512.Load(q3 + i));
                    }
                    (s0, s1, s2, s3) = (Vector512.Sum(a0), Vector512.Sum(a1), Vector512.Sum(a2), Vector512.Sum(a3));
                }
                else if (path == SimdPath.Avx2)
                {
                    var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0;
                    for (; i + 8 <= d; i += 8)
                    {
                        var x = Vector256.Load(pt + i);
                        a0 += Vector256.Abs(x - Vector256.Load(pq + i));
                        a1 += Vector256.Abs(x - Vector256.Load(q1 + i));
                        a2 += Vector256.Abs(x - Vector256.Load(q2 + i));
                        a3 += Vector256.Abs(x - Vector256.Load(q3 + i));
                    }
                    (s0, s1, s2, s3) = (Vector256.Sum(a0), Vector256.Sum(a1), Vector256.Sum(a2), Vector256.Sum(a3));
                }
                for (; i < d; i++)
                {
                    float x = pt[i];
                    s0 += MathF.Abs(x - pq[i]);
                    s1 += MathF.Abs(x - q1[i]);
                    s2 += MathF.Abs(x - q2[i]);
                    s3 += MathF.Abs(x - q3[i]);
                }
                destination[0] = BitConverter.DoubleToInt64Bits(s0);
                destination[1] = BitConverter.DoubleToInt64Bits(s1);
                destination[2] = BitConverter.DoubleToInt64Bits(s2);
                destination[3] = BitConverter.DoubleToInt64Bits(s3);
            }
        }

        public unsafe void Distances4x2(int q0, int t0, int t1, long* d0, long* d1)
        {
            Distances4(q0, t0, d0);
            Distances4(q0, t1, d1);
        }

        // One query: the same arithmetic as one lane of Distances4, so a query's distances do not depend on whether it
        // fell in a group of four.
        public unsafe long Distance1(int q, int t)
        {
            int d = dimension;
            fixed (float* pt = &train[t * d], pq = &queries[q * d])
            {
                float s = 0;
                int i = 0;
                if (path == SimdPath.Avx512)
                {
                    var a = Vector512<float>.Zero;
                    for (; i + 16 <= d; i += 16) a += Vector512.Abs(Vector512.Load(pt + i) - Vector512.Load(pq + i));
                    s = Vector512.Sum(a);
                }
                else if (path == SimdPath.Avx2)
                {
                    var a = Vector256<float>.Zero;
                    for (; i + 8 <= d; i += 8) a += Vector256.Abs(Vector256.Load(pt + i) - Vector256.Load(pq + i));
                    s = Vector256.Sum(a);
                }
                for (; i < d; i++) s += MathF.Abs(pt[i] - pq[i]);
                return BitConverter.DoubleToInt64Bits(s);
            }
        }
    }
}
