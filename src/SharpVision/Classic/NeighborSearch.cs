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
/// distance. Float rows (feature vectors) use <see cref="System.Numerics.Tensors.TensorPrimitives"/>.
/// </remarks>
public static class NeighborSearch
{
    private const int TileRows = 512;      // training rows per tile: 512 × 832 B ≈ 416 KiB, inside a 1 MiB L2
    private const int MaxQueryBlock = 128; // queries per parallel work item
    private const int MaxByteDimension = 500_000; // int32 lanes of the dot product stay exact below this

    /// <summary>The instruction set the 8-bit search uses on this machine: "avx512+avxvnni", "avx2" or "scalar".</summary>
    public static string ByteBackend =>
        Avx512BW.IsSupported && AvxVnni.IsSupported ? "avx512+avxvnni" : Avx2.IsSupported ? "avx2" : "scalar";

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

    /// <summary>Searches float rows (feature vectors): <paramref name="train"/> is n×d, <paramref name="queries"/> q×d.</summary>
    public static NeighborResult Search(
        ReadOnlySpan<float> train, ReadOnlySpan<int> trainLabels, int classes, ReadOnlySpan<float> queries, int dimension,
        DistanceMetric metric, int k, int threads = 0)
    {
        int n = Validate(train.Length, trainLabels, classes, queries.Length, dimension, k);
        int q = queries.Length / dimension;
        var kernel = new FloatKernel(train.ToArray(), queries.ToArray(), dimension, metric);
        var result = NewResult(q, k, classes);
        Run(n, q, k, classes, trainLabels.ToArray(), threads, result, kernel);
        return Finish(result, k, classes, isFloat: true);
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

    private readonly struct FloatKernel : IDistanceKernel
    {
        private readonly float[] _train;
        private readonly float[] _queries;
        private readonly int _d;
        private readonly DistanceMetric _metric;
        private readonly float[] _trainNorm;
        private readonly float[] _queryNorm;

        public FloatKernel(float[] train, float[] queries, int dimension, DistanceMetric metric)
        {
            _train = train;
            _queries = queries;
            _d = dimension;
            _metric = metric;
            _trainNorm = Norms(train, dimension);
            _queryNorm = Norms(queries, dimension);
        }

        private static float[] Norms(float[] rows, int d)
        {
            var norms = new float[rows.Length / d];
            for (int i = 0; i < norms.Length; i++)
            {
                var r = rows.AsSpan(i * d, d);
                norms[i] = System.Numerics.Tensors.TensorPrimitives.Dot(r, r);
            }
            return norms;
        }

        public unsafe void Distances4(int q0, int t, long* destination)
        {
            for (int j = 0; j < 4; j++) destination[j] = Distance1(q0 + j, t);
        }

        public long Distance1(int q, int t)
        {
            var tr = _train.AsSpan(t * _d, _d);
            var qr = _queries.AsSpan(q * _d, _d);
            double d = _metric == DistanceMetric.Manhattan
                ? ManhattanDistance(tr, qr)
                // ‖t‖² + ‖q‖² − 2t·q can dip below zero by rounding; clamp so keys stay order-preserving.
                : Math.Max(0.0, (double)_trainNorm[t] + _queryNorm[q] - 2.0 * System.Numerics.Tensors.TensorPrimitives.Dot(tr, qr));
            return BitConverter.DoubleToInt64Bits(d);
        }

        private static double ManhattanDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        {
            int i = 0;
            var acc = Vector<float>.Zero;
            for (; i + Vector<float>.Count <= a.Length; i += Vector<float>.Count)
                acc += Vector.Abs(new Vector<float>(a[i..]) - new Vector<float>(b[i..]));
            double sum = Vector.Sum(acc);
            for (; i < a.Length; i++) sum += Math.Abs(a[i] - b[i]);
            return sum;
        }
    }
}
