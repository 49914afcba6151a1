using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

/// <summary>
/// Exact brute-force k-nearest-neighbour search, tiled for cache and parallel over query blocks, with a top-k
/// insertion list per query, so memory stays O(q·k + tiles) instead of an n×q distance matrix.
/// </summary>
/// <remarks>
/// Shape legend: n training rows, q queries, d values per row, k neighbours, c classes.
/// 8-bit rows use exact integer arithmetic: L1 is a sum of absolute differences (AVX-512 <c>vpsadbw</c>, 64 bytes per
/// instruction); L2 is ‖t‖² + ‖q‖² − 2·t·q with the dot product from AVX-VNNI <c>vpdpbusd</c> (u8×s8, 32 bytes per
/// instruction) on q − 128, corrected by 128·Σt. Rows are zero-padded to a multiple of 64 bytes, which changes no
/// distance. Float rows (feature vectors): L2 is ‖t‖² + ‖q‖² − 2·q·t with the dot products of whole blocks from the
/// GEMM provider; L1 sums |t − q| over 16-float vectors, four queries per training row loaded.
/// </remarks>
public static class NeighborSearch
{
    private const int TileRows = 512;      // training rows per tile: 512 × 832 B ≈ 416 KiB, inside a 1 MiB L2
    private const int MaxQueryBlock = 128; // queries per parallel work item
    // Float L2: queries × training rows per GEMM call. Measured on HOG (d = 1,296, 2,048 queries × 60,000 rows, bench
    // knnfeatures): 512 × 1,024 took 25% less processor time than 128 × 512 (fewer, larger products; B packed less often).
    private const int GemmQueryBlock = 512;
    private const int GemmTileRows = 1024;
    private const int MaxByteDimension = 500_000; // int32 lanes of the dot product stay exact below this

    /// <summary>
    /// What the 8-bit search (images) runs for <paramref name="metric"/> on this machine, named by the instructions of its
    /// inner loop: L1 "avx512bw-vpsadbw", "avx2-vpsadbw" or "scalar"; L2 "avxvnni-vpdpbusd", "avx2-vpmaddwd" or "scalar".
    /// The two metrics run different kernels, so one machine can run AVX-512 for L1 and AVX2 for L2.
    /// </summary>
    public static string ByteBackend(DistanceMetric metric) =>
        ByteBackendName(metric, Avx512BW.IsSupported, AvxVnni.IsSupported, Avx2.IsSupported);

    /// <summary>The name <see cref="ByteBackend"/> gives on a CPU with these instruction sets (the kernels' dispatch rules).</summary>
    internal static string ByteBackendName(DistanceMetric metric, bool avx512BW, bool avxVnni, bool avx2) => metric switch
    {
        // Sad4Avx512 / Sad1: vpsadbw on 64 bytes with AVX-512BW, else on 32 bytes with AVX2.
        DistanceMetric.Manhattan => avx512BW ? "avx512bw-vpsadbw" : avx2 ? "avx2-vpsadbw" : "scalar",
        // Dot4Vnni / Dot1Vnni with VEX AVX-VNNI (whatever AVX-512 the CPU has), else Dot1's vpmaddwd on AVX2.
        _ => avxVnni ? "avxvnni-vpdpbusd" : avx2 ? "avx2-vpmaddwd" : "scalar",
    };

    /// <summary>
    /// What the float search (feature vectors) runs for <paramref name="metric"/>: L1 "float32-avx512", "float32-avx2" or
    /// "float32-scalar" (its own vector loop); L2 "float32-gemm-PROVIDER" (dot products from the GEMM provider).
    /// </summary>
    public static string FloatBackend(DistanceMetric metric) => metric == DistanceMetric.Euclidean
        ? $"float32-gemm-{SharpVision.Tensors.Kernels.Gemm.Provider.Name}"
        : Vector512.IsHardwareAccelerated ? "float32-avx512" : Vector256.IsHardwareAccelerated ? "float32-avx2" : "float32-scalar";

    /// <summary>Searches 8-bit rows (images): <paramref name="train"/> is n×d, <paramref name="queries"/> q×d.</summary>
    /// <exception cref="ArgumentException">Sizes disagree, k is out of range, or a label is out of range.</exception>
    public static NeighborResult Search(
        ReadOnlySpan<byte> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<byte> queries, int dimension,
        DistanceMetric metric, int k, int threads = 0)
    {
        int n = Validate(train.Length, trainLabels, classes, queries.Length, dimension, k);
        if (dimension > MaxByteDimension)
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, $"8-bit search supports up to {MaxByteDimension} values per row; use the float path.");
        int q = queries.Length / dimension;
        var packedTrain = new PackedRows(train, n, dimension, flipSign: false);
        bool vnni = metric == DistanceMetric.Euclidean && AvxVnni.IsSupported;
        var packedQueries = new PackedRows(queries, q, dimension, flipSign: vnni);
        var labels = trainLabels.ToArray();
        var result = NewResult(q, k, classes);
        var kernel = new ByteKernel(packedTrain, packedQueries, metric, vnni);
        Run(n, q, k, classes, labels, threads, result, kernel);
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
        else Run(n, q, k, classes, trainLabels.ToArray(), threads, result, new ManhattanFloatKernel(trainRows, queryRows, dimension));
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

        long Distance1(int q, int t);
    }

    private static unsafe void Run<TKernel>(int n, int q, int k, int classes, int[] labels, int threads, Work work, TKernel kernel)
        where TKernel : struct, IDistanceKernel
    {
        if (q == 0) return;
        int workers = threads > 0 ? threads : Environment.ProcessorCount;
        // At least two blocks per worker so a slow block doesn't leave a core idle; multiples of 4 for the 4-query kernel.
        // (Which queries share a 4-query pass changes nothing: every kernel's Distance1 is one lane of its Distances4.)
        int block = Math.Clamp((q + 2 * workers - 1) / (2 * workers), 4, MaxQueryBlock);
        block = (block + 3) & ~3;
        int blocks = (q + block - 1) / block;
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = workers }, b =>
        {
            int qStart = b * block;
            int qEnd = Math.Min(q, qStart + block);
            // Distances of one tile for 4 queries, interleaved [t][j]: computed in one tight loop, then filtered per query.
            long* tile = stackalloc long[4 * TileRows];
            fixed (long* dist = work.Distances)
            fixed (int* idx = work.Indices)
            fixed (long* nearest = work.ClassNearest)
            fixed (int* lab = labels)
            {
                for (int tileStart = 0; tileStart < n; tileStart += TileRows)
                {
                    int rows = Math.Min(n, tileStart + TileRows) - tileStart;
                    int qi = qStart;
                    for (; qi + 4 <= qEnd; qi += 4)
                    {
                        for (int r = 0; r < rows; r++) kernel.Distances4(qi, tileStart + r, tile + 4 * r);
                        for (int j = 0; j < 4; j++)
                            Filter(tile + j, 4, rows, tileStart, lab, dist + (long)(qi + j) * k, idx + (long)(qi + j) * k, nearest + (long)(qi + j) * classes, k);
                    }
                    for (; qi < qEnd; qi++)
                    {
                        for (int r = 0; r < rows; r++) tile[r] = kernel.Distance1(qi, tileStart + r);
                        Filter(tile, 1, rows, tileStart, lab, dist + (long)qi * k, idx + (long)qi * k, nearest + (long)qi * classes, k);
                    }
                }
            }
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

    /// <summary>Rows copied into a pinned buffer with a stride that is a multiple of 64 bytes, zero-padded.</summary>
    private sealed class PackedRows
    {
        public PackedRows(ReadOnlySpan<byte> rows, int count, int dimension, bool flipSign)
        {
            Count = count;
            Stride = (dimension + 63) & ~63;
            Data = GC.AllocateUninitializedArray<byte>(Math.Max(1, count * Stride), pinned: true);
            Sum = new long[count];
            SquaredNorm = new long[count];
            for (int i = 0; i < count; i++)
            {
                var src = rows.Slice(i * dimension, dimension);
                var dst = Data.AsSpan(i * Stride, Stride);
                long sum = 0, sq = 0;
                foreach (byte v in src)
                {
                    sum += v;
                    sq += v * v;
                }
                Sum[i] = sum;
                SquaredNorm[i] = sq;
                src.CopyTo(dst);
                // s8 view for VNNI: x − 128 is x ^ 0x80 reinterpreted. Padding stays 0 (its training partner is 0).
                if (flipSign)
                    for (int j = 0; j < dimension; j++) dst[j] ^= 0x80;
                dst[dimension..].Clear();
            }
        }

        public int Count { get; }
        public int Stride { get; }
        public byte[] Data { get; }
        public long[] Sum { get; }
        public long[] SquaredNorm { get; }
    }

    private readonly unsafe struct ByteKernel : IDistanceKernel
    {
        private readonly PackedRows _train;
        private readonly PackedRows _queries;
        private readonly DistanceMetric _metric;
        private readonly bool _vnni;
        private readonly byte* _t;
        private readonly byte* _q;
        private readonly long[] _trainBase; // L2: ‖t‖² − 256·Σt with VNNI, ‖t‖² without

        public ByteKernel(PackedRows train, PackedRows queries, DistanceMetric metric, bool vnni)
        {
            _train = train;
            _queries = queries;
            _metric = metric;
            _vnni = vnni;
            _t = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(train.Data));
            _q = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(queries.Data));
            _trainBase = new long[train.Count];
            for (int i = 0; i < train.Count; i++)
                _trainBase[i] = train.SquaredNorm[i] - (vnni ? 256 * train.Sum[i] : 0);
        }

        public void Distances4(int q0, int t, long* destination)
        {
            int stride = _train.Stride;
            byte* tr = _t + (long)t * stride;
            byte* qr = _q + (long)q0 * stride;
            if (_metric == DistanceMetric.Manhattan)
            {
                if (Avx512BW.IsSupported)
                {
                    Sad4Avx512(tr, qr, stride, destination);
                    return;
                }
                for (int j = 0; j < 4; j++) destination[j] = Sad1(tr, qr + j * stride, stride);
                return;
            }
            if (_vnni)
            {
                int* dots = stackalloc int[4];
                Dot4Vnni(tr, qr, stride, dots);
                for (int j = 0; j < 4; j++) destination[j] = _trainBase[t] + _queries.SquaredNorm[q0 + j] - 2L * dots[j];
                return;
            }
            for (int j = 0; j < 4; j++) destination[j] = _trainBase[t] + _queries.SquaredNorm[q0 + j] - 2L * Dot1(tr, qr + j * stride, stride);
        }

        public long Distance1(int q, int t)
        {
            int stride = _train.Stride;
            byte* tr = _t + (long)t * stride;
            byte* qr = _q + (long)q * stride;
            if (_metric == DistanceMetric.Manhattan) return Sad1(tr, qr, stride);
            long dot = _vnni ? Dot1Vnni(tr, qr, stride) : Dot1(tr, qr, stride);
            return _trainBase[t] + _queries.SquaredNorm[q] - 2L * dot;
        }

        // One training row against four consecutive queries: the training chunk is loaded once per 4 queries.
        private static void Sad4Avx512(byte* t, byte* q, int stride, long* destination)
        {
            Vector512<ulong> a0 = default, a1 = default, a2 = default, a3 = default;
            byte* q1 = q + stride, q2 = q1 + stride, q3 = q2 + stride;
            for (int off = 0; off < stride; off += 64)
            {
                var tv = Vector512.Load(t + off);
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

        private static long Sad1(byte* t, byte* q, int stride)
        {
            if (Avx512BW.IsSupported)
            {
                Vector512<ulong> acc = default;
                for (int off = 0; off < stride; off += 64)
                    acc += Avx512BW.SumAbsoluteDifferences(Vector512.Load(t + off), Vector512.Load(q + off)).AsUInt64();
                return (long)Vector512.Sum(acc);
            }
            if (Avx2.IsSupported)
            {
                Vector256<ulong> acc = default;
                for (int off = 0; off < stride; off += 32)
                    acc += Avx2.SumAbsoluteDifferences(Vector256.Load(t + off), Vector256.Load(q + off)).AsUInt64();
                return (long)Vector256.Sum(acc);
            }
            long sum = 0;
            for (int i = 0; i < stride; i++) sum += Math.Abs(t[i] - q[i]);
            return sum;
        }

        // Σ t·(q − 128): t as u8, the packed query already as s8.
        private static void Dot4Vnni(byte* t, byte* q, int stride, int* destination)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
            byte* q1 = q + stride, q2 = q1 + stride, q3 = q2 + stride;
            for (int off = 0; off < stride; off += 32)
            {
                var tv = Vector256.Load(t + off);
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, tv, Vector256.Load((sbyte*)(q + off)));
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, tv, Vector256.Load((sbyte*)(q1 + off)));
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, tv, Vector256.Load((sbyte*)(q2 + off)));
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, tv, Vector256.Load((sbyte*)(q3 + off)));
            }
            destination[0] = Vector256.Sum(a0);
            destination[1] = Vector256.Sum(a1);
            destination[2] = Vector256.Sum(a2);
            destination[3] = Vector256.Sum(a3);
        }

        private static long Dot1Vnni(byte* t, byte* q, int stride)
        {
            Vector256<int> acc = default;
            for (int off = 0; off < stride; off += 32)
                acc = AvxVnni.MultiplyWideningAndAdd(acc, Vector256.Load(t + off), Vector256.Load((sbyte*)(q + off)));
            return Vector256.Sum(acc);
        }

        // Unsigned dot product without VNNI: widen to 16 bits and multiply-add pairs (vpmaddwd).
        private static long Dot1(byte* t, byte* q, int stride)
        {
            if (Avx2.IsSupported)
            {
                Vector256<int> acc = default;
                for (int off = 0; off < stride; off += 16)
                {
                    var tw = Avx2.ConvertToVector256Int16(Vector128.Load(t + off));
                    var qw = Avx2.ConvertToVector256Int16(Vector128.Load(q + off));
                    acc += Avx2.MultiplyAddAdjacent(tw, qw);
                }
                return Vector256.Sum(acc);
            }
            long sum = 0;
            for (int i = 0; i < stride; i++) sum += t[i] * q[i];
            return sum;
        }
    }

    // Float L1: Σ|t − q| in float32, 16 (or 8) lanes at a time, four queries per pass over a training row so each
    // training vector is loaded once for four queries; lanes are summed at the end, the tail in scalar.
    private readonly struct ManhattanFloatKernel(float[] train, float[] queries, int dimension) : IDistanceKernel
    {
        public unsafe void Distances4(int q0, int t, long* destination)
        {
            int d = dimension;
            fixed (float* pt = &train[t * d], pq = &queries[q0 * d])
            {
                float* q1 = pq + d, q2 = pq + 2 * d, q3 = pq + 3 * d;
                float s0, s1, s2, s3;
                int i = 0;
                if (Vector512.IsHardwareAccelerated)
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
                else
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

        // One query: the same arithmetic as one lane of Distances4, so a query's distances do not depend on whether it
        // fell in a group of four.
        public unsafe long Distance1(int q, int t)
        {
            int d = dimension;
            fixed (float* pt = &train[t * d], pq = &queries[q * d])
            {
                float s;
                int i = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    var a = Vector512<float>.Zero;
                    for (; i + 16 <= d; i += 16) a += Vector512.Abs(Vector512.Load(pt + i) - Vector512.Load(pq + i));
                    s = Vector512.Sum(a);
                }
                else
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
