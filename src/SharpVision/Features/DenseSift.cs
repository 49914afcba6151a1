using System.Buffers;
using System.Globalization;

namespace SharpVision.Features;

/// <summary>
/// Lowe's SIFT descriptor (4×4 spatial cells × 8 orientations = 128 values) computed on a regular grid of square
/// patches, without keypoint detection, scale or rotation normalization (the "dense SIFT" of bag-of-words pipelines).
/// </summary>
/// <remarks>
/// <para>Gradients on the gray image (0..255; color via rgb2gray weights): g_x = I[y, x+1] − I[y, x−1],
/// g_y = I[y+1, x] − I[y−1, x] with indices clamped at the border; m = √(g_x² + g_y²); θ = atan2(g_y, g_x) ∈ [0, 2π)
/// (y points down).</para>
/// <para>Patches: side <c>patch</c> (a multiple of 4; cell side s = patch/4), top-left corners every <c>stride</c>
/// pixels from (0, 0) while the patch fits. Each pixel votes m·w, w = exp(−((y − c_y)² + (x − c_x)²) / (2σ²)) with
/// σ = patch/2 and (c_y, c_x) the patch centre, into a 4×4×8 histogram by trilinear interpolation: continuous cell
/// coordinates u = (y − top + ½)/s − ½ (cell centres at integers), orientation o = 8θ/2π (circular); votes that fall
/// outside the 4×4 grid are dropped.</para>
/// <para>Normalization: v ← v/‖v‖₂, v ← min(v, 0.2), v ← v/‖v‖₂ (a flat patch stays all zeros). Layout:
/// [cell row][cell column][orientation]. Shape: (C, H, W) → (patchesY · patchesX, 128) descriptors, row-major.</para>
/// </remarks>
public sealed class DenseSift
{
    /// <summary>Values per descriptor: 4 × 4 × 8.</summary>
    public const int DescriptorLength = 128;

    private const int Cells = 4, Bins = 8;
    private readonly float[] _weight;      // Gaussian weight per patch pixel
    private readonly int[] _cell0;         // per patch row/column: the lower cell index (may be −1)
    private readonly float[] _cellFraction; // and the share of the upper cell

    /// <summary>A dense SIFT grid.</summary>
    /// <param name="patchSize">Patch side in pixels, a multiple of 4.</param>
    /// <param name="stride">Pixels between neighbouring patches.</param>
    /// <exception cref="ArgumentOutOfRangeException">A patch side not a positive multiple of 4, or a stride below 1.</exception>
    public DenseSift(int patchSize = 12, int stride = 4)
    {
        if (patchSize < 4 || patchSize % 4 != 0) throw new ArgumentOutOfRangeException(nameof(patchSize), patchSize, "SIFT patches must be a positive multiple of 4 pixels (4×4 cells).");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "The SIFT grid stride must be at least 1 pixel.");
        PatchSize = patchSize;
        Stride = stride;
        double sigma = patchSize / 2.0, centre = (patchSize - 1) / 2.0, cellSide = patchSize / 4.0;
        _weight = new float[patchSize * patchSize];
        for (int y = 0; y < patchSize; y++)
        for (int x = 0; x < patchSize; x++)
            _weight[y * patchSize + x] = (float)Math.Exp(-((y - centre) * (y - centre) + (x - centre) * (x - centre)) / (2 * sigma * sigma));
        _cell0 = new int[patchSize];
        _cellFraction = new float[patchSize];
        for (int i = 0; i < patchSize; i++)
        {
            double u = (i + 0.5) / cellSide - 0.5;
            int lower = (int)Math.Floor(u);
            _cell0[i] = lower;
            _cellFraction[i] = (float)(u - lower);
        }
    }

    public int PatchSize { get; }
    public int Stride { get; }

    /// <summary>Patches per column and per row of the grid on an H×W image.</summary>
    /// <exception cref="ArgumentException">The patch is larger than the image.</exception>
    public (int Rows, int Columns) Grid(int height, int width)
    {
        if (PatchSize > height || PatchSize > width)
            throw new ArgumentException($"SIFT patches of {PatchSize}×{PatchSize} pixels do not fit a {height}×{width} image.");
        return ((height - PatchSize) / Stride + 1, (width - PatchSize) / Stride + 1);
    }

    /// <summary>The centre (y, x) of patch (row, column) of the grid, in pixels.</summary>
    public (double Y, double X) Centre(int row, int column) => (row * Stride + (PatchSize - 1) / 2.0, column * Stride + (PatchSize - 1) / 2.0);

    /// <summary>Writes the descriptors of every grid patch of one image (patch-row-major) into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">Sizes disagree or the patch does not fit.</exception>
    public void Compute(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        FeatureChecks.Image(image, channels, height, width);
        var (rows, columns) = Grid(height, width);
        FeatureChecks.Destination(destination, rows * columns * DescriptorLength);
        int n = height * width;
        var gray = ArrayPool<double>.Shared.Rent(n);
        var gradient = ArrayPool<float>.Shared.Rent(2 * n);
        try
        {
            GrayImage.Convert(image, channels, height, width, gray);
            var magnitude = gradient.AsSpan(0, n);
            var orientation = gradient.AsSpan(n, n); // in bins, [0, 8)
            for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                double gx = gray[y * width + Math.Min(x + 1, width - 1)] - gray[y * width + Math.Max(x - 1, 0)];
                double gy = gray[Math.Min(y + 1, height - 1) * width + x] - gray[Math.Max(y - 1, 0) * width + x];
                magnitude[y * width + x] = (float)Math.Sqrt(gx * gx + gy * gy);
                double theta = Math.Atan2(gy, gx);
                if (theta < 0) theta += 2 * Math.PI;
                double o = theta * (Bins / (2 * Math.PI));
                orientation[y * width + x] = o >= Bins ? 0f : (float)o;
            }
            for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                Describe(magnitude, orientation, width, r * Stride, c * Stride, destination.Slice((r * columns + c) * DescriptorLength, DescriptorLength));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(gradient);
            ArrayPool<double>.Shared.Return(gray);
        }
    }

    private void Describe(ReadOnlySpan<float> magnitude, ReadOnlySpan<float> orientation, int width, int top, int left, Span<float> descriptor)
    {
        descriptor.Clear();
        int p = PatchSize;
        for (int y = 0; y < p; y++)
        {
            int cy = _cell0[y];
            float fy = _cellFraction[y];
            for (int x = 0; x < p; x++)
            {
                int index = (top + y) * width + left + x;
                float vote = magnitude[index] * _weight[y * p + x];
                if (vote == 0) continue;
                float o = orientation[index];
                int o0 = (int)o;
                float fo = o - o0;
                int o1 = (o0 + 1) & (Bins - 1);
                int cx = _cell0[x];
                float fx = _cellFraction[x];
                for (int dy = 0; dy < 2; dy++)
                {
                    int row = cy + dy;
                    if ((uint)row >= Cells) continue;
                    float wy = dy == 0 ? 1 - fy : fy;
                    for (int dx = 0; dx < 2; dx++)
                    {
                        int col = cx + dx;
                        if ((uint)col >= Cells) continue;
                        float w = vote * wy * (dx == 0 ? 1 - fx : fx);
                        int cell = (row * Cells + col) * Bins;
                        descriptor[cell + o0] += w * (1 - fo);
                        descriptor[cell + o1] += w * fo;
                    }
                }
            }
        }
        NormalizeClip(descriptor);
    }

    /// <summary>Lowe's normalization in place: v/‖v‖₂, then min(·, 0.2), then v/‖v‖₂ again; all zeros stay zeros.</summary>
    public static void NormalizeClip(Span<float> descriptor)
    {
        double sum = 0;
        foreach (float v in descriptor) sum += (double)v * v;
        if (sum == 0) return;
        float scale = (float)(1 / Math.Sqrt(sum));
        sum = 0;
        for (int i = 0; i < descriptor.Length; i++)
        {
            descriptor[i] = Math.Min(descriptor[i] * scale, 0.2f);
            sum += (double)descriptor[i] * descriptor[i];
        }
        scale = (float)(1 / Math.Sqrt(sum));
        for (int i = 0; i < descriptor.Length; i++) descriptor[i] *= scale;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"patch={PatchSize},stride={Stride}");
}
