using System.Buffers;
using System.Globalization;

namespace SharpVision.Features;

/// <summary>Which local binary pattern <see cref="LbpExtractor"/> computes (scikit-image's method names).</summary>
public enum LbpMethod
{
    /// <summary>"uniform": the number of neighbours ≥ the centre when the pattern has at most 2 transitions, else P + 1 (P + 2 codes).</summary>
    Uniform,

    /// <summary>"ror": the smallest circular bit rotation of the 8-bit code (36 rotation-invariant codes for P = 8).</summary>
    RotationInvariant,
}

/// <summary>
/// Local binary patterns with 8 neighbours at radius 1, exactly scikit-image 0.19's
/// <c>local_binary_pattern(image, P=8, R=1, method)</c>, histogrammed per cell.
/// </summary>
/// <remarks>
/// <para>Codes: neighbour i (i = 0..7) sits at (r − sin(2πi/8), c + cos(2πi/8)), both offsets rounded to 5 decimals
/// (so the diagonals are at ±0.70711, not ±√½); its value is bilinear between the 4 surrounding pixels with 0 outside
/// the image; sᵢ = [neighbourᵢ − centre ≥ 0]. "uniform" counts transitions between s₀..s₇ without wrapping around
/// (skimage's rule) and codes Σsᵢ when there are at most 2, else 9. "ror" takes min over rotations of Σ sᵢ·2ⁱ.
/// Color images are converted to gray first (skimage's rgb2gray weights, on 0..255).</para>
/// <para>Histograms: ⌊H/cell⌋ × ⌊W/cell⌋ cells from the top-left corner (pixels past the last whole cell ignored);
/// per cell the fraction of its pixels with each code: 10 bins for uniform (codes 0..9), 36 for ror (the
/// rotation-invariant codes in ascending order). Shape: (C, H, W) → (cellsY, cellsX, bins) flattened.</para>
/// </remarks>
public sealed class LbpExtractor : IFeatureExtractor
{
    private const int P = 8;
    private static readonly double[] RowOffset = new double[P];
    private static readonly double[] ColumnOffset = new double[P];
    private static readonly int[] RotationInvariantIndex = new int[256]; // ror code → histogram bin

    static LbpExtractor()
    {
        for (int i = 0; i < P; i++)
        {
            double angle = 2 * Math.PI * i / P;
            RowOffset[i] = Math.Round(-1.0 * Math.Sin(angle) * 1e5, MidpointRounding.ToEven) / 1e5;
            ColumnOffset[i] = Math.Round(1.0 * Math.Cos(angle) * 1e5, MidpointRounding.ToEven) / 1e5;
        }
        var codes = Enumerable.Range(0, 256).Select(RotateToMinimum).Distinct().Order().ToArray();
        Array.Fill(RotationInvariantIndex, -1);
        for (int i = 0; i < codes.Length; i++) RotationInvariantIndex[codes[i]] = i;
        RotationInvariantBins = codes.Length;
    }

    /// <summary>An LBP extractor.</summary>
    /// <param name="cellSize">Pixels per histogram cell side.</param>
    /// <param name="method">Which pattern code.</param>
    /// <exception cref="ArgumentOutOfRangeException">A cell size below 1 or an unknown method.</exception>
    public LbpExtractor(int cellSize = 7, LbpMethod method = LbpMethod.Uniform)
    {
        if (cellSize < 1) throw new ArgumentOutOfRangeException(nameof(cellSize), cellSize, "LBP cell size must be at least 1 pixel.");
        if (!Enum.IsDefined(method)) throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown LBP method.");
        CellSize = cellSize;
        Method = method;
    }

    /// <summary>Number of distinct rotation-invariant 8-bit codes (36).</summary>
    public static int RotationInvariantBins { get; }

    public int CellSize { get; }
    public LbpMethod Method { get; }

    /// <summary>Histogram bins per cell: 10 (uniform) or 36 (ror).</summary>
    public int Bins => Method == LbpMethod.Uniform ? P + 2 : RotationInvariantBins;

    public string Name => "lbp";

    public string Config => string.Create(CultureInfo.InvariantCulture, $"lbp:method={(Method == LbpMethod.Uniform ? "uniform" : "ror")},cell={CellSize}");

    public int Length(int channels, int height, int width)
    {
        var (cellsY, cellsX) = Grid(height, width);
        return cellsY * cellsX * Bins;
    }

    private (int CellsY, int CellsX) Grid(int height, int width)
    {
        if (CellSize > height || CellSize > width)
            throw new ArgumentException($"LBP cells of {CellSize}×{CellSize} pixels do not fit a {height}×{width} image.");
        return (height / CellSize, width / CellSize);
    }

    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        FeatureChecks.Image(image, channels, height, width);
        var (cellsY, cellsX) = Grid(height, width);
        int bins = Bins;
        FeatureChecks.Destination(destination, cellsY * cellsX * bins);
        var gray = ArrayPool<double>.Shared.Rent(height * width);
        var codes = ArrayPool<int>.Shared.Rent(height * width);
        try
        {
            GrayImage.Convert(image, channels, height, width, gray);
            Codes(gray.AsSpan(0, height * width), height, width, Method, codes, cellsY * CellSize, cellsX * CellSize);
            destination.Clear();
            float share = 1f / (CellSize * CellSize);
            for (int y = 0; y < cellsY * CellSize; y++)
            {
                int rowBase = y / CellSize * cellsX * bins;
                for (int x = 0; x < cellsX * CellSize; x++)
                    destination[rowBase + x / CellSize * bins + codes[y * width + x]] += 1;
            }
            for (int i = 0; i < destination.Length; i++) destination[i] *= share;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(codes);
            ArrayPool<double>.Shared.Return(gray);
        }
    }

    /// <summary>The histogram bin of every pixel in rows [0, usedHeight) and columns [0, usedWidth).</summary>
    /// <remarks>
    /// Same arithmetic as <see cref="Pattern"/>, with the per-row and per-column parts of skimage's bilinear
    /// interpolation (floor, ceil, fraction of r + Δr and c + Δc) computed once per image instead of per pixel.
    /// </remarks>
    private static void Codes(ReadOnlySpan<double> gray, int height, int width, LbpMethod method, Span<int> destination, int usedHeight, int usedWidth)
    {
        var pool = ArrayPool<int>.Shared;
        var doubles = ArrayPool<double>.Shared;
        var rowLow = pool.Rent(usedHeight * P);
        var rowHigh = pool.Rent(usedHeight * P);
        var columnLow = pool.Rent(usedWidth * P);
        var columnHigh = pool.Rent(usedWidth * P);
        var rowFraction = doubles.Rent(usedHeight * P);
        var columnFraction = doubles.Rent(usedWidth * P);
        try
        {
            for (int r = 0; r < usedHeight; r++)
            for (int i = 0; i < P; i++)
            {
                double position = r + RowOffset[i];
                long low = (long)Math.Floor(position), high = (long)Math.Ceiling(position);
                rowLow[r * P + i] = low < 0 || low >= height ? -1 : (int)low;
                rowHigh[r * P + i] = high < 0 || high >= height ? -1 : (int)high;
                rowFraction[r * P + i] = position - low;
            }
            for (int c = 0; c < usedWidth; c++)
            for (int i = 0; i < P; i++)
            {
                double position = c + ColumnOffset[i];
                long low = (long)Math.Floor(position), high = (long)Math.Ceiling(position);
                columnLow[c * P + i] = low < 0 || low >= width ? -1 : (int)low;
                columnHigh[c * P + i] = high < 0 || high >= width ? -1 : (int)high;
                columnFraction[c * P + i] = position - low;
            }
            for (int r = 0; r < usedHeight; r++)
            for (int c = 0; c < usedWidth; c++)
            {
                double centre = gray[r * width + c];
                int pattern = 0;
                for (int i = 0; i < P; i++)
                {
                    int r0 = rowLow[r * P + i], r1 = rowHigh[r * P + i], c0 = columnLow[c * P + i], c1 = columnHigh[c * P + i];
                    double dr = rowFraction[r * P + i], dc = columnFraction[c * P + i];
                    double topLeft = r0 < 0 || c0 < 0 ? 0.0 : gray[r0 * width + c0];
                    double topRight = r0 < 0 || c1 < 0 ? 0.0 : gray[r0 * width + c1];
                    double bottomLeft = r1 < 0 || c0 < 0 ? 0.0 : gray[r1 * width + c0];
                    double bottomRight = r1 < 0 || c1 < 0 ? 0.0 : gray[r1 * width + c1];
                    double top = (1 - dc) * topLeft + dc * topRight;
                    double bottom = (1 - dc) * bottomLeft + dc * bottomRight;
                    if ((1 - dr) * top + dr * bottom - centre >= 0) pattern |= 1 << i;
                }
                destination[r * width + c] = method == LbpMethod.Uniform ? UniformCode(pattern) : RotationInvariantIndex[RotateToMinimum(pattern)];
            }
        }
        finally
        {
            pool.Return(rowLow);
            pool.Return(rowHigh);
            pool.Return(columnLow);
            pool.Return(columnHigh);
            doubles.Return(rowFraction);
            doubles.Return(columnFraction);
        }
    }

    /// <summary>skimage's "default" code of pixel (r, c): Σ sᵢ·2ⁱ with sᵢ = [neighbourᵢ − centre ≥ 0].</summary>
    internal static int Pattern(ReadOnlySpan<double> gray, int height, int width, int r, int c)
    {
        double centre = gray[r * width + c];
        int pattern = 0;
        for (int i = 0; i < P; i++)
            if (Bilinear(gray, height, width, r + RowOffset[i], c + ColumnOffset[i]) - centre >= 0) pattern |= 1 << i;
        return pattern;
    }

    /// <summary>skimage's "uniform" code of a pattern: its number of ones when s₀..s₇ change at most twice (no wrap-around), else 9.</summary>
    internal static int UniformCode(int pattern)
    {
        int changes = 0;
        for (int i = 0; i < P - 1; i++) changes += ((pattern >> i) ^ (pattern >> (i + 1))) & 1;
        return changes > 2 ? P + 1 : System.Numerics.BitOperations.PopCount((uint)pattern);
    }

    /// <summary>skimage's "ror" code of a pattern: its smallest circular right rotation.</summary>
    internal static int RotationInvariantCode(int pattern) => RotateToMinimum(pattern);

    /// <summary>The histogram bin (0..35) of a "ror" code.</summary>
    internal static int RotationInvariantBin(int rorCode) => RotationInvariantIndex[rorCode];

    private static int RotateToMinimum(int code)
    {
        int best = code, value = code;
        for (int i = 1; i < P; i++)
        {
            value = (value >> 1) | ((value & 1) << (P - 1));
            best = Math.Min(best, value);
        }
        return best;
    }

    // skimage's bilinear_interpolation with mode 'C' (cval 0), in its own order of operations.
    private static double Bilinear(ReadOnlySpan<double> image, int rows, int cols, double r, double c)
    {
        long minr = (long)Math.Floor(r), minc = (long)Math.Floor(c);
        long maxr = (long)Math.Ceiling(r), maxc = (long)Math.Ceiling(c);
        double dr = r - minr, dc = c - minc;
        double topLeft = Pixel(image, rows, cols, minr, minc);
        double topRight = Pixel(image, rows, cols, minr, maxc);
        double bottomLeft = Pixel(image, rows, cols, maxr, minc);
        double bottomRight = Pixel(image, rows, cols, maxr, maxc);
        double top = (1 - dc) * topLeft + dc * topRight;
        double bottom = (1 - dc) * bottomLeft + dc * bottomRight;
        return (1 - dr) * top + dr * bottom;
    }

    private static double Pixel(ReadOnlySpan<double> image, int rows, int cols, long r, long c) =>
        r < 0 || r >= rows || c < 0 || c >= cols ? 0.0 : image[(int)(r * cols + c)];
}
