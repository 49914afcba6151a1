namespace SharpVision.Imaging;

/// <summary>Pixel-format conversions and resizing. Every method returns a new image; inputs are never modified.</summary>
public static class ImageOps
{
    /// <summary>
    /// RGB → gray with ITU-R 601-2 luma, bit-exact with PIL's convert("L"):
    /// L = (R·19595 + G·38470 + B·7471 + 0x8000) >> 16. Gray input is copied. Shape: (H, W, 3) → (H, W, 1).
    /// </summary>
    /// <exception cref="ArgumentNullException">When <paramref name="image"/> is null.</exception>
    public static Image ToGray(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Channels == 1)
            return new Image(image.Width, image.Height, 1, (byte[])image.Pixels.Clone());
        ReadOnlySpan<byte> src = image.Pixels;
        var gray = new byte[image.Width * image.Height];
        for (int i = 0, s = 0; i < gray.Length; i++, s += 3)
            gray[i] = (byte)((src[s] * 19595 + src[s + 1] * 38470 + src[s + 2] * 7471 + 0x8000) >> 16);
        return new Image(image.Width, image.Height, 1, gray);
    }

    /// <summary>Gray → RGB by replicating the gray value into R, G and B; RGB input is copied. Shape: (H, W, 1) → (H, W, 3).</summary>
    /// <exception cref="ArgumentNullException">When <paramref name="image"/> is null.</exception>
    public static Image ToRgb(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Channels == 3)
            return new Image(image.Width, image.Height, 3, (byte[])image.Pixels.Clone());
        ReadOnlySpan<byte> src = image.Pixels;
        var rgb = new byte[src.Length * 3];
        for (int i = 0, d = 0; i < src.Length; i++, d += 3)
        {
            byte v = src[i];
            rgb[d] = v;
            rgb[d + 1] = v;
            rgb[d + 2] = v;
        }
        return new Image(image.Width, image.Height, 3, rgb);
    }

    /// <summary>
    /// Resizes each axis independently: area averaging when it shrinks (like OpenCV INTER_AREA / PIL BOX),
    /// bilinear with half-pixel centers when it grows. Same size → a copy. Shape: (H, W, C) → (height, width, C).
    /// </summary>
    /// <exception cref="ArgumentNullException">When <paramref name="image"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="width"/> or <paramref name="height"/> is below 1.</exception>
    public static Image Resize(Image image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (width == image.Width && height == image.Height)
            return new Image(width, height, image.Channels, (byte[])image.Pixels.Clone());

        int channels = image.Channels;
        int srcWidth = image.Width, srcHeight = image.Height;
        AxisWeights horizontal = AxisWeights.Create(srcWidth, width);
        AxisWeights vertical = AxisWeights.Create(srcHeight, height);

        // Pass 1: horizontal, (srcHeight, width, C) in float. Pass 2: vertical into bytes.
        ReadOnlySpan<byte> src = image.Pixels;
        var temp = new float[(long)srcHeight * width * channels];
        for (int y = 0; y < srcHeight; y++)
        {
            ReadOnlySpan<byte> srcRow = src.Slice(y * srcWidth * channels, srcWidth * channels);
            Span<float> tempRow = temp.AsSpan(y * width * channels, width * channels);
            for (int x = 0; x < width; x++)
            {
                int start = horizontal.Start[x], count = horizontal.Count[x], w0 = x * horizontal.MaxTaps;
                for (int c = 0; c < channels; c++)
                {
                    float sum = 0;
                    for (int k = 0; k < count; k++)
                        sum += horizontal.Weights[w0 + k] * srcRow[(start + k) * channels + c];
                    tempRow[x * channels + c] = sum;
                }
            }
        }

        int rowLength = width * channels;
        var output = new byte[height * rowLength];
        Span<float> accumulator = new float[rowLength];
        for (int y = 0; y < height; y++)
        {
            accumulator.Clear();
            int start = vertical.Start[y], count = vertical.Count[y], w0 = y * vertical.MaxTaps;
            for (int k = 0; k < count; k++)
            {
                float weight = vertical.Weights[w0 + k];
                ReadOnlySpan<float> tempRow = temp.AsSpan((start + k) * rowLength, rowLength);
                for (int i = 0; i < rowLength; i++)
                    accumulator[i] += weight * tempRow[i];
            }
            Span<byte> outRow = output.AsSpan(y * rowLength, rowLength);
            for (int i = 0; i < rowLength; i++)
                outRow[i] = (byte)Math.Clamp((int)(accumulator[i] + 0.5f), 0, 255);
        }
        return new Image(width, height, channels, output);
    }

    /// <summary>
    /// The 1-D weights <see cref="Resize"/> resamples an axis of <paramref name="source"/> pixels into
    /// <paramref name="destination"/> with, as a dense row-major matrix: output[i] = Σ_j M[i, j]·input[j].
    /// </summary>
    /// <remarks>Shape: (destination, source). Each row sums to 1 (area averaging when shrinking, bilinear when growing).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">A size below 1.</exception>
    public static float[] ResizeMatrix(int source, int destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(source, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination, 1);
        var axis = AxisWeights.Create(source, destination);
        var matrix = new float[(long)destination * source];
        for (int i = 0; i < destination; i++)
            for (int k = 0; k < axis.Count[i]; k++)
                matrix[(long)i * source + axis.Start[i] + k] = axis.Weights[i * axis.MaxTaps + k];
        return matrix;
    }

    /// <summary>Sparse 1-D resampling weights: output i = Σ_k Weights[i·MaxTaps + k] · input[Start[i] + k].</summary>
    private sealed class AxisWeights
    {
        public required int[] Start { get; init; }
        public required int[] Count { get; init; }
        public required float[] Weights { get; init; }
        public required int MaxTaps { get; init; }

        public static AxisWeights Create(int source, int destination)
        {
            double scale = (double)source / destination;
            int maxTaps = source > destination ? (int)Math.Ceiling(scale) + 1 : 2;
            var start = new int[destination];
            var count = new int[destination];
            var weights = new float[destination * maxTaps];
            for (int i = 0; i < destination; i++)
            {
                if (source == destination)
                {
                    start[i] = i;
                    count[i] = 1;
                    weights[i * maxTaps] = 1;
                }
                else if (source > destination)
                {
                    // Area: output cell i covers [i·scale, (i+1)·scale) of the input.
                    double x0 = i * scale, x1 = Math.Min(source, (i + 1) * scale);
                    int first = (int)Math.Floor(x0);
                    int last = Math.Min(source - 1, (int)Math.Ceiling(x1) - 1);
                    start[i] = first;
                    int n = 0;
                    for (int s = first; s <= last; s++)
                    {
                        double overlap = Math.Min(s + 1, x1) - Math.Max(s, x0);
                        weights[i * maxTaps + n++] = (float)(Math.Max(0, overlap) / (x1 - x0));
                    }
                    count[i] = n;
                }
                else
                {
                    // Bilinear with half-pixel centers, clamped at the edges.
                    double position = Math.Clamp((i + 0.5) * scale - 0.5, 0, source - 1);
                    int left = (int)Math.Floor(position);
                    float fraction = (float)(position - left);
                    start[i] = left;
                    if (left + 1 < source)
                    {
                        count[i] = 2;
                        weights[i * maxTaps] = 1 - fraction;
                        weights[i * maxTaps + 1] = fraction;
                    }
                    else
                    {
                        count[i] = 1;
                        weights[i * maxTaps] = 1;
                    }
                }
            }
            return new AxisWeights { Start = start, Count = count, Weights = weights, MaxTaps = maxTaps };
        }
    }
}
