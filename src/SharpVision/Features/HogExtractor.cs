using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Features;

/// <summary>How <see cref="HogExtractor"/> normalizes each block of cell histograms (scikit-image's names, ε = 1e-5).</summary>
public enum HogBlockNorm
{
    /// <summary>"L1": v / (‖v‖₁ + ε).</summary>
    L1,

    /// <summary>"L1-sqrt": √(v / (‖v‖₁ + ε)).</summary>
    L1Sqrt,

    /// <summary>"L2": v / √(‖v‖₂² + ε²).</summary>
    L2,

    /// <summary>"L2-Hys": L2, then min(·, 0.2), then L2 again (Lowe's clipping).</summary>
    L2Hys,
}

/// <summary>
/// Histogram of oriented gradients with scikit-image 0.19's parameters and semantics
/// (<c>skimage.feature.hog(image, orientations, pixels_per_cell=(cell, cell), cells_per_block=(block, block),
/// block_norm, transform_sqrt, channel_axis)</c>, feature_vector=True): equal to it within 1e-5 on the fixtures.
/// </summary>
/// <remarks>
/// <para>Math, per pixel: I ← √I when <c>transform_sqrt</c>; g_r = I[y+1,x] − I[y−1,x], g_c = I[y,x+1] − I[y,x−1]
/// (0 on the image border); m = √(g_r² + g_c²); θ = (atan2(g_r, g_c) in degrees) mod 180. Color images use, per
/// pixel, the gradient of the channel with the largest m (the first on ties), as skimage does with channel_axis.</para>
/// <para>Cells: ⌊H/cell⌋ × ⌊W/cell⌋ cells of cell×cell pixels from the top-left corner (pixels past the last whole
/// cell are ignored). Orientation bin b ∈ [0, orientations) holds θ ∈ [b·180/n, (b+1)·180/n): hard binning, no
/// interpolation between bins or cells, exactly like skimage's <c>_hoghistogram.pyx</c>. A cell's value per bin is
/// Σ m / cell², summed in float32 in row-major order as skimage does.</para>
/// <para>Blocks: every block×block window of cells, stride one cell, normalized by <see cref="HogBlockNorm"/>.
/// Shape: (C, H, W) → (blocksY, blocksX, block, block, orientations) flattened, blocksY = ⌊H/cell⌋ − block + 1.</para>
/// <para>Speed: the bin is found without atan2, by the sign of g_r·cos βₖ − g_c·sin βₖ against each bin edge βₖ
/// (SIMD over pixels, after folding the gradient into the upper half plane); a pixel within 1e-9 of an edge is binned
/// by skimage's own formula, so edge cases (45° with 8 bins) land where skimage puts them.</para>
/// </remarks>
public sealed class HogExtractor : IFeatureExtractor
{
    private const double Epsilon = 1e-5;
    private readonly double[] _edgeCos; // cos βₖ, sin βₖ for the inner edges βₖ = k·180/n, k = 1..n−1
    private readonly double[] _edgeSin;

    /// <summary>A HOG extractor.</summary>
    /// <param name="cellSize">Pixels per cell side (skimage's pixels_per_cell = (cellSize, cellSize)).</param>
    /// <param name="cellsPerBlock">Cells per block side.</param>
    /// <param name="orientations">Orientation bins over 0..180°.</param>
    /// <param name="blockNorm">Block normalization.</param>
    /// <param name="transformSqrt">Take √ of every pixel first (power-law compression).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size or count below 1, or more than 360 orientations.</exception>
    public HogExtractor(int cellSize = 8, int cellsPerBlock = 3, int orientations = 9, HogBlockNorm blockNorm = HogBlockNorm.L2Hys, bool transformSqrt = false)
    {
        if (cellSize < 1) throw new ArgumentOutOfRangeException(nameof(cellSize), cellSize, "HOG cell size must be at least 1 pixel.");
        if (cellsPerBlock < 1) throw new ArgumentOutOfRangeException(nameof(cellsPerBlock), cellsPerBlock, "HOG blocks need at least 1 cell per side.");
        if (orientations is < 1 or > 360) throw new ArgumentOutOfRangeException(nameof(orientations), orientations, "HOG needs 1 to 360 orientation bins.");
        if (!Enum.IsDefined(blockNorm)) throw new ArgumentOutOfRangeException(nameof(blockNorm), blockNorm, "Unknown block norm.");
        CellSize = cellSize;
        CellsPerBlock = cellsPerBlock;
        Orientations = orientations;
        BlockNorm = blockNorm;
        TransformSqrt = transformSqrt;
        _edgeCos = new double[orientations - 1];
        _edgeSin = new double[orientations - 1];
        for (int k = 1; k < orientations; k++)
        {
            double radians = 180.0 / orientations * k * (Math.PI / 180.0);
            _edgeCos[k - 1] = Math.Cos(radians);
            _edgeSin[k - 1] = Math.Sin(radians);
        }
    }

    public int CellSize { get; }
    public int CellsPerBlock { get; }
    public int Orientations { get; }
    public HogBlockNorm BlockNorm { get; }
    public bool TransformSqrt { get; }

    public string Name => "hog";

    public string Config => string.Create(CultureInfo.InvariantCulture,
        $"hog:orientations={Orientations},cell={CellSize},block={CellsPerBlock},norm={NormName(BlockNorm)},sqrt={(TransformSqrt ? "true" : "false")}");

    /// <summary>scikit-image's name of a block norm: "L1", "L1-sqrt", "L2", "L2-Hys".</summary>
    public static string NormName(HogBlockNorm norm) => norm switch
    {
        HogBlockNorm.L1 => "L1",
        HogBlockNorm.L1Sqrt => "L1-sqrt",
        HogBlockNorm.L2 => "L2",
        _ => "L2-Hys",
    };

    /// <summary>Parses scikit-image's block norm names (case-insensitive).</summary>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public static HogBlockNorm ParseNorm(string name) => name.ToUpperInvariant() switch
    {
        "L1" => HogBlockNorm.L1,
        "L1-SQRT" => HogBlockNorm.L1Sqrt,
        "L2" => HogBlockNorm.L2,
        "L2-HYS" => HogBlockNorm.L2Hys,
        _ => throw new ArgumentException($"Unknown HOG block norm '{name}' (known: L1, L1-sqrt, L2, L2-Hys)."),
    };

    public int Length(int channels, int height, int width)
    {
        var (_, _, blocksY, blocksX) = Grid(height, width);
        return blocksY * blocksX * CellsPerBlock * CellsPerBlock * Orientations;
    }

    private (int CellsY, int CellsX, int BlocksY, int BlocksX) Grid(int height, int width)
    {
        if (CellSize > height || CellSize > width)
            throw new ArgumentException($"HOG cells of {CellSize}×{CellSize} pixels do not fit a {height}×{width} image.");
        int cellsY = height / CellSize, cellsX = width / CellSize;
        if (CellsPerBlock > cellsY || CellsPerBlock > cellsX)
            throw new ArgumentException($"HOG blocks of {CellsPerBlock}×{CellsPerBlock} cells do not fit the {cellsY}×{cellsX} cell grid of a {height}×{width} image with {CellSize}-pixel cells.");
        return (cellsY, cellsX, cellsY - CellsPerBlock + 1, cellsX - CellsPerBlock + 1);
    }

    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        FeatureChecks.Image(image, channels, height, width);
        var (cellsY, cellsX, blocksY, blocksX) = Grid(height, width);
        FeatureChecks.Destination(destination, blocksY * blocksX * CellsPerBlock * CellsPerBlock * Orientations);
        int n = Orientations;
        int usedH = cellsY * CellSize, usedW = cellsX * CellSize;
        int stride = (usedW + 3) & ~3; // row buffers padded to whole vectors
        int histLength = cellsY * cellsX * n;
        var pool = ArrayPool<double>.Shared;
        var scratch = pool.Rent(5 * stride);
        var floatScratch = ArrayPool<float>.Shared.Rent(histLength);
        var intScratch = ArrayPool<int>.Shared.Rent(usedW);
        try
        {
            var gr = scratch.AsSpan(0, stride);
            var gc = scratch.AsSpan(stride, stride);
            var m2 = scratch.AsSpan(2 * stride, stride);
            var magnitude = scratch.AsSpan(3 * stride, stride);
            var bin = scratch.AsSpan(4 * stride, stride);
            var hist = floatScratch.AsSpan(0, histLength);
            hist.Clear();
            gr.Clear();
            gc.Clear();
            m2.Clear();
            var cellOffset = intScratch.AsSpan(0, usedW);
            for (int x = 0; x < usedW; x++) cellOffset[x] = x / CellSize * n;
            var values = TransformSqrt ? SqrtTable : IdentityTable;
            var path = SimdPaths.Default;

            for (int y = 0; y < usedH; y++)
            {
                RowGradient(image, height, width, y, 0, values, gr, gc, m2, usedW, first: true);
                for (int c = 1; c < channels; c++)
                    RowGradient(image, height, width, y, c, values, gr, gc, m2, usedW, first: false);
                BinRow(gr, gc, magnitude, bin, usedW, path);
                var row = hist.Slice(y / CellSize * cellsX * n, cellsX * n);
                for (int x = 0; x < usedW; x++)
                {
                    // skimage sums in a C float: total = (float)(total + m).
                    ref float total = ref row[cellOffset[x] + (int)bin[x]];
                    total = (float)(total + magnitude[x]);
                }
            }
            float area = CellSize * CellSize;
            for (int i = 0; i < hist.Length; i++) hist[i] /= area;
            NormalizeBlocks(hist, cellsX, blocksY, blocksX, destination);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(intScratch);
            ArrayPool<float>.Shared.Return(floatScratch);
            pool.Return(scratch);
        }
    }

    private static readonly double[] IdentityTable = Enumerable.Range(0, 256).Select(v => (double)v).ToArray();
    private static readonly double[] SqrtTable = Enumerable.Range(0, 256).Select(v => Math.Sqrt(v)).ToArray();

    // Row y's central differences of channel c over x ∈ [0, usedW); with first=false, keeps per pixel the channel
    // with the larger squared magnitude (strictly larger: the first channel wins ties, like numpy's argmax).
    private static void RowGradient(
        ReadOnlySpan<byte> image, int height, int width, int y, int c, double[] values,
        Span<double> gr, Span<double> gc, Span<double> m2, int usedW, bool first)
    {
        var plane = image.Slice(c * height * width, height * width);
        var row = plane.Slice(y * width, width);
        bool interiorRow = y > 0 && y < height - 1;
        var up = interiorRow ? plane.Slice((y - 1) * width, width) : default;
        var down = interiorRow ? plane.Slice((y + 1) * width, width) : default;
        for (int x = 0; x < usedW; x++)
        {
            double r = interiorRow ? values[down[x]] - values[up[x]] : 0.0;
            double col = x > 0 && x < width - 1 ? values[row[x + 1]] - values[row[x - 1]] : 0.0;
            double squared = r * r + col * col;
            if (first || squared > m2[x])
            {
                gr[x] = r;
                gc[x] = col;
                m2[x] = squared;
            }
        }
    }

    // Magnitude and orientation bin of each pixel of a row: 8 or 4 pixels per vector, then the rest one by one, with the
    // same arithmetic in every lane and in the scalar loop, so every SIMD path gives the same bits.
    private void BinRow(Span<double> gr, Span<double> gc, Span<double> magnitude, Span<double> bin, int usedW, SimdPath path)
    {
        int x = 0;
        if (path == SimdPath.Avx512) x = BinVectors512(gr, gc, magnitude, bin, usedW);
        else if (path == SimdPath.Avx2) x = BinVectors256(gr, gc, magnitude, bin, usedW);
        for (; x < usedW; x++)
        {
            double r = gr[x], c = gc[x];
            if (r < 0 || (r == 0 && c < 0)) (r, c) = (-r, -c);
            double m = Math.Sqrt(r * r + c * c);
            double limit = 1e-9 * (Math.Abs(r) + Math.Abs(c));
            int count = 0;
            bool near = false;
            for (int k = 0; k < _edgeCos.Length; k++)
            {
                double side = r * _edgeCos[k] - c * _edgeSin[k];
                if (side >= 0) count++;
                if (Math.Abs(side) <= limit) near = true;
            }
            magnitude[x] = m;
            bin[x] = count;
            if (near && m > 0) ExactBin(gr[x], gc[x], ref magnitude[x], ref bin[x]);
        }
    }

    // BinRow's vector part on 4 doubles; returns the first pixel it left to the scalar loop.
    private int BinVectors256(Span<double> gr, Span<double> gc, Span<double> magnitude, Span<double> bin, int usedW)
    {
        int x = 0;
        var zero = Vector256<double>.Zero;
        var one = Vector256.Create(1.0);
        var tolerance = Vector256.Create(1e-9);
        ref double rBase = ref MemoryMarshal.GetReference(gr);
        ref double cBase = ref MemoryMarshal.GetReference(gc);
        for (; x + 4 <= usedW; x += 4)
        {
            var r = Vector256.LoadUnsafe(ref rBase, (nuint)x);
            var c = Vector256.LoadUnsafe(ref cBase, (nuint)x);
            // Fold into the upper half plane: θ and θ+180° share a bin.
            var flip = Vector256.LessThan(r, zero) | (Vector256.Equals(r, zero) & Vector256.LessThan(c, zero));
            r = Vector256.ConditionalSelect(flip, -r, r);
            c = Vector256.ConditionalSelect(flip, -c, c);
            var m = Vector256.Sqrt(r * r + c * c);
            var limit = tolerance * (Vector256.Abs(r) + Vector256.Abs(c));
            var count = zero;
            var near = zero;
            for (int k = 0; k < _edgeCos.Length; k++)
            {
                var side = r * Vector256.Create(_edgeCos[k]) - c * Vector256.Create(_edgeSin[k]);
                count += Vector256.GreaterThanOrEqual(side, zero) & one;
                near |= Vector256.LessThanOrEqual(Vector256.Abs(side), limit);
            }
            m.StoreUnsafe(ref MemoryMarshal.GetReference(magnitude), (nuint)x);
            count.StoreUnsafe(ref MemoryMarshal.GetReference(bin), (nuint)x);
            near &= Vector256.GreaterThan(m, zero);
            if (near != zero)
                for (int j = 0; j < 4; j++)
                    if (near.GetElement(j) != 0) ExactBin(gr[x + j], gc[x + j], ref magnitude[x + j], ref bin[x + j]);
        }
        return x;
    }

    // BinRow's vector part on 8 doubles (AVX-512).
    private int BinVectors512(Span<double> gr, Span<double> gc, Span<double> magnitude, Span<double> bin, int usedW)
    {
        int x = 0;
        var zero = Vector512<double>.Zero;
        var one = Vector512.Create(1.0);
        var tolerance = Vector512.Create(1e-9);
        ref double rBase = ref MemoryMarshal.GetReference(gr);
        ref double cBase = ref MemoryMarshal.GetReference(gc);
        for (; x + 8 <= usedW; x += 8)
        {
            var r = Vector512.LoadUnsafe(ref rBase, (nuint)x);
            var c = Vector512.LoadUnsafe(ref cBase, (nuint)x);
            // Fold into the upper half plane: θ and θ+180° share a bin.
            var flip = Vector512.LessThan(r, zero) | (Vector512.Equals(r, zero) & Vector512.LessThan(c, zero));
            r = Vector512.ConditionalSelect(flip, -r, r);
            c = Vector512.ConditionalSelect(flip, -c, c);
            var m = Vector512.Sqrt(r * r + c * c);
            var limit = tolerance * (Vector512.Abs(r) + Vector512.Abs(c));
            var count = zero;
            var near = zero;
            for (int k = 0; k < _edgeCos.Length; k++)
            {
                var side = r * Vector512.Create(_edgeCos[k]) - c * Vector512.Create(_edgeSin[k]);
                count += Vector512.GreaterThanOrEqual(side, zero) & one;
                near |= Vector512.LessThanOrEqual(Vector512.Abs(side), limit);
            }
            m.StoreUnsafe(ref MemoryMarshal.GetReference(magnitude), (nuint)x);
            count.StoreUnsafe(ref MemoryMarshal.GetReference(bin), (nuint)x);
            near &= Vector512.GreaterThan(m, zero);
            if (near != zero)
                for (int j = 0; j < 8; j++)
                    if (near.GetElement(j) != 0) ExactBin(gr[x + j], gc[x + j], ref magnitude[x + j], ref bin[x + j]);
        }
        return x;
    }

    // skimage's own arithmetic for a pixel next to a bin edge: θ = rad2deg(arctan2(g_r, g_c)) % 180, then the first bin
    // b with b·180/n ≤ θ < (b+1)·180/n. A θ that rounds up to 180.0 is in no bin and adds nothing, as in skimage.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ExactBin(double r, double c, ref double magnitude, ref double bin)
    {
        int b = OrientationBin(r, c, Orientations);
        if (b < 0) magnitude = 0;
        bin = Math.Max(b, 0);
    }

    /// <summary>skimage's orientation bin of gradient (g_r, g_c), or −1 when θ rounds to 180° (no bin).</summary>
    internal static int OrientationBin(double r, double c, int orientations)
    {
        double theta = Remainder180(Math.Atan2(r, c) * (180.0 / Math.PI));
        double width = 180.0 / orientations;
        for (int b = 0; b < orientations; b++)
            if (!(theta >= width * (b + 1) || theta < width * b)) return b;
        return -1;
    }

    /// <summary>numpy's float remainder by 180: fmod, shifted into [0, 180) when negative.</summary>
    internal static double Remainder180(double value)
    {
        double mod = value % 180.0;
        if (mod < 0) mod += 180.0;
        return mod;
    }

    private void NormalizeBlocks(ReadOnlySpan<float> hist, int cellsX, int blocksY, int blocksX, Span<float> destination)
    {
        int n = Orientations, b = CellsPerBlock;
        int blockLength = b * b * n;
        Span<double> block = blockLength <= 512 ? stackalloc double[blockLength] : new double[blockLength];
        int o = 0;
        for (int by = 0; by < blocksY; by++)
        for (int bx = 0; bx < blocksX; bx++)
        {
            int i = 0;
            for (int cy = 0; cy < b; cy++)
            {
                var cells = hist.Slice(((by + cy) * cellsX + bx) * n, b * n);
                for (int j = 0; j < cells.Length; j++) block[i++] = cells[j];
            }
            Normalize(block, BlockNorm);
            for (int j = 0; j < blockLength; j++) destination[o++] = (float)block[j];
        }
    }

    internal static void Normalize(Span<double> block, HogBlockNorm norm)
    {
        switch (norm)
        {
            case HogBlockNorm.L1:
            case HogBlockNorm.L1Sqrt:
            {
                double sum = 0;
                foreach (double v in block) sum += Math.Abs(v);
                for (int j = 0; j < block.Length; j++)
                {
                    double v = block[j] / (sum + Epsilon);
                    block[j] = norm == HogBlockNorm.L1Sqrt ? Math.Sqrt(v) : v;
                }
                break;
            }
            default:
            {
                double denominator = Math.Sqrt(SumOfSquares(block) + Epsilon * Epsilon);
                for (int j = 0; j < block.Length; j++) block[j] /= denominator;
                if (norm == HogBlockNorm.L2Hys)
                {
                    for (int j = 0; j < block.Length; j++) block[j] = Math.Min(block[j], 0.2);
                    denominator = Math.Sqrt(SumOfSquares(block) + Epsilon * Epsilon);
                    for (int j = 0; j < block.Length; j++) block[j] /= denominator;
                }
                break;
            }
        }
    }

    private static double SumOfSquares(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (double v in values) sum += v * v;
        return sum;
    }
}
