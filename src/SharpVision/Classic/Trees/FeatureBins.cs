using System.Numerics;

namespace SharpVision.Classic.Trees;

/// <summary>
/// How each feature's values map to small integer codes (bins), fitted on the training split: a row's code for
/// feature f is the number of edges of f below its value, so code ≤ b ⇔ x ≤ Edges[f][b].
/// </summary>
/// <remarks>
/// <para>A feature with at most <c>maxBins</c> distinct training values gets one bin per value and edges at the
/// midpoints between consecutive values, so splitting on codes is splitting exactly (what scikit-learn's trees and
/// <c>HistGradientBoostingClassifier</c> do). A feature with more values gets quantile edges (the midpoint
/// percentiles at 1/B, 2/B, ... of the training values, as <c>HistGradientBoostingClassifier</c> bins them), duplicate
/// edges merged. With <c>maxBins = 0</c> every feature is exact whatever its number of values.</para>
/// <para>Midpoints are computed in double precision and rounded down to float, so that for any float x,
/// x ≤ edge (in float) ⇔ x ≤ the exact midpoint.</para>
/// </remarks>
public sealed class FeatureBins
{
    /// <summary>The largest number of bins of histogram splitting (codes fit a byte).</summary>
    public const int MaxHistogramBins = 255;

    private FeatureBins(float[][] edges, bool exact)
    {
        Edges = edges;
        Exact = exact;
    }

    /// <summary>Per feature, the ascending bin edges (bins − 1 of them).</summary>
    public IReadOnlyList<float[]> Edges { get; }

    /// <summary>True when every feature has one bin per distinct training value.</summary>
    public bool Exact { get; }

    /// <summary>D, the number of features.</summary>
    public int Dimension => Edges.Count;

    /// <summary>Bins of feature <paramref name="feature"/>.</summary>
    public int BinCount(int feature) => Edges[feature].Length + 1;

    /// <summary>The largest bin count over the features.</summary>
    public int MaxBinCount => Edges.Count == 0 ? 1 : Edges.Max(e => e.Length) + 1;

    /// <summary>Fits the bins of every feature on the rows of <paramref name="table"/>.</summary>
    /// <param name="table">The training rows.</param>
    /// <param name="maxBins">2..255 for histogram bins; 0 for one bin per distinct value (exact).</param>
    /// <param name="threads">Features binned at once.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBins"/> is not 0 or in 2..255.</exception>
    public static FeatureBins Fit(FeatureTable table, int maxBins, int threads)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (maxBins != 0 && maxBins is < 2 or > MaxHistogramBins)
            throw new ArgumentOutOfRangeException(nameof(maxBins), maxBins, $"Bins must be 0 (exact) or 2..{MaxHistogramBins}.");
        if (table.Count == 0) throw new ArgumentException("Binning needs at least one row.", nameof(table));
        var edges = new float[table.Dimension][];
        var exact = new bool[table.Dimension];
        var byteCounts = table.Bytes is { } bytes ? ByteHistograms(bytes, table.Count, table.Dimension, threads) : null;
        Parallel.For(0, table.Dimension, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, f =>
        {
            var (values, counts) = byteCounts is null ? DistinctValues(table, f) : DistinctBytes(byteCounts.AsSpan(f * 256, 256));
            exact[f] = maxBins == 0 || values.Length <= maxBins;
            edges[f] = exact[f] ? Midpoints(values) : QuantileEdges(values, counts, maxBins);
        });
        return new FeatureBins(edges, exact.All(e => e));
    }

    /// <summary>Rebuilds bins from stored edges (validated: finite and strictly ascending per feature).</summary>
    /// <exception cref="ArgumentException">An edge list is not finite and strictly ascending.</exception>
    public static FeatureBins FromEdges(float[][] edges)
    {
        ArgumentNullException.ThrowIfNull(edges);
        for (int f = 0; f < edges.Length; f++)
            for (int b = 0; b < edges[f].Length; b++)
                if (!float.IsFinite(edges[f][b]) || (b > 0 && !(edges[f][b] > edges[f][b - 1])))
                    throw new ArgumentException($"The edges of feature {f} are not finite and strictly ascending.", nameof(edges));
        return new FeatureBins(edges, exact: false);
    }

    /// <summary>The code of value <paramref name="x"/> of feature <paramref name="feature"/>: the number of edges below it.</summary>
    public int Code(int feature, float x)
    {
        var e = Edges[feature];
        int lo = 0, hi = e.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (x <= e[mid]) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>
    /// The codes of every row of <paramref name="table"/>, feature-major (code of row i, feature f at f·N + i), and
    /// per feature and bin the smallest and largest value seen (NaN for an empty bin).
    /// </summary>
    /// <exception cref="ArgumentException">The table has another number of features, or more codes than an array holds.</exception>
    internal BinnedTable<T> Map<T>(FeatureTable table, int threads) where T : unmanaged, IBinaryInteger<T>
    {
        ArgumentNullException.ThrowIfNull(table);
        table.EnsureDimension(Dimension, nameof(table));
        if ((long)table.Count * Dimension > Array.MaxLength)
            throw new ArgumentException($"{table.Count} rows × {Dimension} features is too many codes for one array.", nameof(table));
        if (MaxBinCount - 1 > int.CreateTruncating(T.AllBitsSet) && T.AllBitsSet > T.Zero)
            throw new ArgumentException($"{MaxBinCount} bins do not fit the code type {typeof(T).Name}.", nameof(table));
        int n = table.Count;
        var codes = GC.AllocateUninitializedArray<T>(n * Dimension);
        var low = new float[Dimension][];
        var high = new float[Dimension][];
        if (table.Bytes is { } rows)
        {
            MapBytes(rows, n, codes, low, high, threads);
            return new BinnedTable<T>(n, Dimension, codes, this, low, high);
        }
        Parallel.For(0, Dimension, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, f =>
        {
            var column = codes.AsSpan(f * n, n);
            int bins = BinCount(f);
            var lo = low[f] = new float[bins];
            var hi = high[f] = new float[bins];
            lo.AsSpan().Fill(float.PositiveInfinity);
            hi.AsSpan().Fill(float.NegativeInfinity);
            var floats = table.Floats!;
            int d = Dimension;
            for (int i = 0; i < n; i++)
            {
                float v = floats[(long)i * d + f];
                int c = Code(f, v);
                column[i] = T.CreateTruncating(c);
                if (v < lo[c]) lo[c] = v;
                if (v > hi[c]) hi[c] = v;
            }
            MarkEmpty(lo, hi);
        });
        return new BinnedTable<T>(n, Dimension, codes, this, low, high);
    }

    // Map for byte rows: a line of features at a time, codes through a 256-entry table per feature; a bin's smallest and
    // largest value come from which byte values occurred.
    private void MapBytes<T>(byte[] rows, int n, T[] codes, float[][] low, float[][] high, int threads) where T : unmanaged, IBinaryInteger<T>
    {
        int d = Dimension;
        Parallel.For(0, (d + ByteBlock - 1) / ByteBlock, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, b =>
        {
            int f0 = b * ByteBlock, width = Math.Min(d, f0 + ByteBlock) - f0;
            var lookup = new T[width * 256];
            var seen = new bool[width * 256];
            for (int j = 0; j < width; j++)
                for (int v = 0; v < 256; v++) lookup[j * 256 + v] = T.CreateTruncating(Code(f0 + j, v));
            for (int i = 0; i < n; i++)
            {
                var row = rows.AsSpan(i * d + f0, width);
                for (int j = 0; j < row.Length; j++)
                {
                    codes[(f0 + j) * n + i] = lookup[j * 256 + row[j]];
                    seen[j * 256 + row[j]] = true;
                }
            }
            for (int j = 0; j < width; j++)
            {
                int bins = BinCount(f0 + j);
                var lo = low[f0 + j] = new float[bins];
                var hi = high[f0 + j] = new float[bins];
                lo.AsSpan().Fill(float.PositiveInfinity);
                hi.AsSpan().Fill(float.NegativeInfinity);
                for (int v = 0; v < 256; v++)
                {
                    if (!seen[j * 256 + v]) continue;
                    int c = int.CreateTruncating(lookup[j * 256 + v]);
                    lo[c] = Math.Min(lo[c], v);
                    hi[c] = Math.Max(hi[c], v);
                }
                MarkEmpty(lo, hi);
            }
        });
    }

    // Bins no value fell in get NaN as their smallest and largest value.
    private static void MarkEmpty(float[] lo, float[] hi)
    {
        for (int b = 0; b < lo.Length; b++)
            if (lo[b] > hi[b]) lo[b] = hi[b] = float.NaN;
    }

    /// <summary>Codes of <paramref name="table"/> in the narrowest type that holds them.</summary>
    internal BinnedTable Map(FeatureTable table, int threads) => MaxBinCount switch
    {
        <= 256 => Map<byte>(table, threads),
        <= 65536 => Map<ushort>(table, threads),
        _ => Map<int>(table, threads),
    };

    /// <summary>The midpoint of two floats in double precision, rounded down to a float (see the class remarks).</summary>
    internal static float MidpointDown(float a, float b)
    {
        double m = a / 2.0 + b / 2.0;
        float f = (float)m;
        return f > m ? MathF.BitDecrement(f) : f;
    }

    // Features of byte rows handled together: one 64-byte line of each row.
    private const int ByteBlock = 64;

    // How often each byte value occurs per feature, D×256, counted a line of features at a time (feature by feature, every
    // read of a row-major table misses the cache).
    private static int[] ByteHistograms(byte[] bytes, int n, int d, int threads)
    {
        var counts = new int[d * 256];
        Parallel.For(0, (d + ByteBlock - 1) / ByteBlock, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, b =>
        {
            int f0 = b * ByteBlock, width = Math.Min(d, f0 + ByteBlock) - f0;
            var block = counts.AsSpan(f0 * 256, width * 256);
            for (int i = 0; i < n; i++)
            {
                var row = bytes.AsSpan(i * d + f0, width);
                for (int j = 0; j < row.Length; j++) block[j * 256 + row[j]]++;
            }
        });
        return counts;
    }

    // The byte values present in a 256-entry histogram, ascending, and their counts.
    private static (float[] Values, int[] Counts) DistinctBytes(ReadOnlySpan<int> histogram)
    {
        var values = new List<float>();
        var counts = new List<int>();
        for (int v = 0; v < 256; v++)
            if (histogram[v] > 0)
            {
                values.Add(v);
                counts.Add(histogram[v]);
            }
        return (values.ToArray(), counts.ToArray());
    }

    // Sorted distinct values of feature f of a float table and how often each occurs.
    private static (float[] Values, int[] Counts) DistinctValues(FeatureTable table, int f)
    {
        int n = table.Count, d = table.Dimension;
        var column = new float[n];
        var floats = table.Floats!;
        for (int i = 0; i < n; i++) column[i] = floats[(long)i * d + f];
        Array.Sort(column);
        var distinct = new List<float>();
        var occurrences = new List<int>();
        for (int i = 0; i < n; i++)
        {
            // -0 and +0 compare equal: one value.
            if (distinct.Count > 0 && column[i] == distinct[^1]) occurrences[^1]++;
            else
            {
                distinct.Add(column[i]);
                occurrences.Add(1);
            }
        }
        return (distinct.ToArray(), occurrences.ToArray());
    }

    private static float[] Midpoints(float[] values)
    {
        var edges = new float[Math.Max(0, values.Length - 1)];
        for (int k = 0; k < edges.Length; k++) edges[k] = MidpointDown(values[k], values[k + 1]);
        return edges;
    }

    // numpy.percentile(column, linspace(0, 100, maxBins + 1)[1:-1], method="midpoint") over the sorted column given as
    // distinct values with counts, duplicates merged.
    private static float[] QuantileEdges(float[] values, int[] counts, int maxBins)
    {
        long n = 0;
        foreach (int c in counts) n += c;
        var cumulative = new long[counts.Length]; // rows with a value ≤ values[k]
        long running = 0;
        for (int k = 0; k < counts.Length; k++) cumulative[k] = running += counts[k];
        float ValueAt(long index)
        {
            int k = Array.BinarySearch(cumulative, index + 1);
            return values[k >= 0 ? k : ~k];
        }
        var edges = new List<float>(maxBins - 1);
        for (int q = 1; q < maxBins; q++)
        {
            double position = (double)q / maxBins * (n - 1);
            long below = (long)Math.Floor(position), above = (long)Math.Ceiling(position);
            float edge = below == above ? ValueAt(below) : MidpointDown(ValueAt(below), ValueAt(above));
            if (edges.Count == 0 || edge > edges[^1]) edges.Add(edge);
        }
        // The top edge must leave the largest value above it, or the last bin would be empty.
        while (edges.Count > 0 && edges[^1] >= values[^1]) edges.RemoveAt(edges.Count - 1);
        return edges.ToArray();
    }
}

/// <summary>Feature-major codes of a table under some <see cref="FeatureBins"/> (base of the typed form).</summary>
internal abstract class BinnedTable(int count, int dimension, FeatureBins bins, float[][] low, float[][] high)
{
    /// <summary>N.</summary>
    public int Count { get; } = count;

    /// <summary>D.</summary>
    public int Dimension { get; } = dimension;

    public FeatureBins Bins { get; } = bins;

    /// <summary>Per feature and bin, the smallest value of this table in the bin (NaN when empty).</summary>
    public float[][] Low { get; } = low;

    /// <summary>Per feature and bin, the largest value of this table in the bin (NaN when empty).</summary>
    public float[][] High { get; } = high;

    /// <summary>
    /// The threshold between bins <paramref name="left"/> and <paramref name="right"/> (left &lt; right, both
    /// non-empty): the midpoint of the largest value in the left bin and the smallest in the right one, rounded
    /// down, so every value of this table in bins ≤ left is ≤ it and every value in bins ≥ right is above it.
    /// </summary>
    public float GapThreshold(int feature, int left, int right) => FeatureBins.MidpointDown(High[feature][left], Low[feature][right]);
}

/// <summary>Codes of type <typeparamref name="T"/> (byte for histogram bins, wider for exact splits on many values).</summary>
internal sealed class BinnedTable<T>(int count, int dimension, T[] codes, FeatureBins bins, float[][] low, float[][] high)
    : BinnedTable(count, dimension, bins, low, high) where T : unmanaged, IBinaryInteger<T>
{
    /// <summary>D×N codes, feature-major.</summary>
    public T[] Codes { get; } = codes;

    private T[]? _rowMajor;

    /// <summary>The N codes of feature <paramref name="feature"/>.</summary>
    public ReadOnlySpan<T> Column(int feature) => Codes.AsSpan(feature * Count, Count);

    /// <summary>The same codes row-major (row i's D codes at i·D), once <see cref="PrepareRowMajor"/> has run.</summary>
    public T[] RowMajor => _rowMajor ?? throw new InvalidOperationException("Call PrepareRowMajor first.");

    /// <summary>Makes <see cref="RowMajor"/> (once) on <paramref name="threads"/> threads.</summary>
    public void PrepareRowMajor(int threads)
    {
        if (_rowMajor is not null) return;
        int n = Count, d = Dimension;
        var result = GC.AllocateUninitializedArray<T>(n * d);
        const int Block = 64; // rows per block: their D codes are written while the columns' lines are in cache
        Parallel.For(0, (n + Block - 1) / Block, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, b =>
        {
            int end = Math.Min(n, (b + 1) * Block);
            for (int f = 0; f < d; f++)
            {
                var column = Codes.AsSpan(f * n, n);
                for (int i = b * Block; i < end; i++) result[i * d + f] = column[i];
            }
        });
        _rowMajor = result;
    }
}
