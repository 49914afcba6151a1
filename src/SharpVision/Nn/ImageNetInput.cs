using SharpVision.Imaging;
using SharpVision.Tensors;

namespace SharpVision.Nn;

/// <summary>
/// The input layer of an ImageNet backbone: it turns images of the dataset's size into the 224×224 crops the backbone
/// was trained on. In evaluation mode it is ImageNet's preparation (the shorter side resized to <see cref="ResizeTo"/>,
/// the center <see cref="CropSize"/>² cropped, with <see cref="ImageOps.Resize"/>'s weights); in training mode it is
/// torchvision's RandomResizedCrop (area 8–100 %, aspect 3/4–4/3) followed by a horizontal flip with probability ½,
/// drawn from the layer's Rng. Then the backbone's own preprocessing: pixels back to 0..255, channels reordered to
/// B, G, R (gray copied into all three), minus the mean image.
/// </summary>
/// <remarks>
/// <para>Shape: (N, C, H, W), C = 1 or 3, pixels in [0, 1] (x/255) → (N, 3, crop, crop).</para>
/// <para>y[n, o] = 255·R_y·x[n, c(o)]·R_xᵀ − mean[o], with c(o) = 2 − o for RGB input (BGR order) and 0 for gray;
/// R_y (crop × H) and R_x (crop × W) are sparse resampling matrices. Unlike the byte preparation of the feature
/// extractor, the result is not rounded to whole pixel values (so the layer is linear, and exports as two MatMuls).</para>
/// <para>It has no parameters and passes no gradient to its input (it is a network's first layer); the mean image is a buffer.</para>
/// </remarks>
public sealed class ImageNetInput : Module
{
    private const double MinArea = 0.08, MaxArea = 1.0, MinAspect = 3.0 / 4, MaxAspect = 4.0 / 3;
    private readonly AxisResampling _centerRows, _centerColumns;

    /// <summary>An input layer for images of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Channels other than 1 or 3, a size below 1, or a crop larger than the resize.</exception>
    public ImageNetInput(int channels, int height, int width, int resize = 256, int crop = 224)
    {
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "An ImageNet backbone reads gray (1) or RGB (3) images.");
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(crop, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(resize, crop);
        (Channels, Height, Width, ResizeTo, CropSize) = (channels, height, width, resize, crop);
        Mean = new float[3 * crop * crop];
        var (w, h) = width <= height ? (resize, (int)((long)resize * height / width)) : ((int)((long)resize * width / height), resize);
        int top = (int)Math.Round((h - crop) / 2.0, MidpointRounding.ToEven), left = (int)Math.Round((w - crop) / 2.0, MidpointRounding.ToEven);
        _centerRows = AxisResampling.Window(ImageOps.ResizeMatrix(height, h), height, top, crop);
        _centerColumns = AxisResampling.Window(ImageOps.ResizeMatrix(width, w), width, left, crop);
    }

    /// <summary>Channels of the input images (1 or 3).</summary>
    public int Channels { get; }

    /// <summary>Height of the input images.</summary>
    public int Height { get; }

    /// <summary>Width of the input images.</summary>
    public int Width { get; }

    /// <summary>Evaluation: the shorter side is resized to this before the center crop (ImageNet's 256).</summary>
    public int ResizeTo { get; }

    /// <summary>The side of the square the backbone reads (224).</summary>
    public int CropSize { get; }

    /// <summary>The mean image subtracted after the reorder to B, G, R, on 0..255 pixels: (3, crop, crop), row-major.</summary>
    public float[] Mean { get; }

    /// <inheritdoc/>
    public override LayerSpec Spec => new("imagenet_input", new()
    {
        ["channels"] = Channels, ["height"] = Height, ["width"] = Width, ["resize"] = ResizeTo, ["crop"] = CropSize,
    });

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, float[] Values)> OwnBuffers => [("mean", Mean)];

    /// <summary>The evaluation-mode resampling of rows and columns, as dense (crop × H) and (crop × W) matrices (for export).</summary>
    public (float[] Rows, float[] Columns) CenterCropMatrices() => (_centerRows.Dense(Height), _centerColumns.Dense(Width));

    /// <summary>The prepared batch (see the class remarks); in training mode each image gets its own random crop and flip.</summary>
    /// <exception cref="ArgumentException">The input is not (N, channels, height, width).</exception>
    /// <exception cref="InvalidOperationException">Training mode without an Rng (call Train(rng)).</exception>
    public override Tensor Forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Shape.Rank != 4 || input.Shape[1] != Channels || input.Shape[2] != Height || input.Shape[3] != Width)
            throw new ArgumentException($"imagenet_input expects (N, {Channels}, {Height}, {Width}), got {input.Shape}.", nameof(input));
        int n = input.Shape[0], plane = CropSize * CropSize, sourcePlane = Height * Width;
        var output = new float[(long)n * 3 * plane];
        var scratch = new float[Height * CropSize];
        var rng = Training ? Random ?? throw new InvalidOperationException("imagenet_input in training mode needs an Rng: call Train(rng).") : null;
        for (int i = 0; i < n; i++)
        {
            var (rows, columns) = rng is null ? (_centerRows, _centerColumns) : RandomCrop(rng);
            for (int o = 0; o < 3; o++)
            {
                int c = Channels == 1 ? 0 : 2 - o;
                var source = input.Data.AsSpan((i * Channels + c) * sourcePlane, sourcePlane);
                var destination = output.AsSpan((i * 3 + o) * plane, plane);
                Resample(source, rows, columns, scratch, destination);
                var mean = Mean.AsSpan(o * plane, plane);
                for (int k = 0; k < plane; k++) destination[k] = 255f * destination[k] - mean[k];
            }
        }
        return new Tensor(new Shape(n, 3, CropSize, CropSize), output);
    }

    // destination = R_y · source · R_xᵀ: columns first (H × crop), then rows.
    private void Resample(ReadOnlySpan<float> source, AxisResampling rows, AxisResampling columns, Span<float> scratch, Span<float> destination)
    {
        for (int y = 0; y < Height; y++)
        {
            var line = source.Slice(y * Width, Width);
            for (int x = 0; x < CropSize; x++) scratch[y * CropSize + x] = columns.Apply(x, line, 1);
        }
        for (int y = 0; y < CropSize; y++)
        {
            int start = rows.Start[y], count = rows.Count[y];
            var row = destination.Slice(y * CropSize, CropSize);
            row.Clear();
            for (int k = 0; k < count; k++)
            {
                float weight = rows.Weights[y * rows.MaxTaps + k];
                var from = scratch.Slice((start + k) * CropSize, CropSize);
                for (int x = 0; x < CropSize; x++) row[x] += weight * from[x];
            }
        }
    }

    // torchvision's RandomResizedCrop.get_params (scale 0.08–1, ratio 3/4–4/3, ten tries, then a center crop), then a flip.
    private (AxisResampling Rows, AxisResampling Columns) RandomCrop(Rng rng)
    {
        double area = (double)Height * Width;
        int top = -1, left = 0, h = 0, w = 0;
        for (int attempt = 0; attempt < 10 && top < 0; attempt++)
        {
            double target = area * (MinArea + (MaxArea - MinArea) * rng.NextDouble());
            double aspect = Math.Exp(Math.Log(MinAspect) + (Math.Log(MaxAspect) - Math.Log(MinAspect)) * rng.NextDouble());
            w = (int)Math.Round(Math.Sqrt(target * aspect));
            h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && w <= Width && h > 0 && h <= Height)
            {
                top = rng.NextInt(Height - h + 1);
                left = rng.NextInt(Width - w + 1);
            }
        }
        if (top < 0)
        {
            double ratio = (double)Width / Height;
            (w, h) = ratio < MinAspect ? (Width, Math.Min(Height, (int)Math.Round(Width / MinAspect)))
                : ratio > MaxAspect ? (Math.Min(Width, (int)Math.Round(Height * MaxAspect)), Height) : (Width, Height);
            (top, left) = ((Height - h) / 2, (Width - w) / 2);
        }
        var rows = AxisResampling.Window(ImageOps.ResizeMatrix(h, CropSize), h, 0, CropSize).Shifted(top);
        var columns = AxisResampling.Window(ImageOps.ResizeMatrix(w, CropSize), w, 0, CropSize).Shifted(left);
        return (rows, rng.NextFloat() < 0.5f ? columns.Reversed() : columns);
    }

    // Sparse rows of a resampling matrix: output i = Σ_k Weights[i·MaxTaps + k]·input[Start[i] + k].
    private sealed record AxisResampling(int[] Start, int[] Count, float[] Weights, int MaxTaps)
    {
        // Rows [first, first + length) of a dense (rows × source) matrix, each kept from its first to its last non-zero.
        public static AxisResampling Window(float[] dense, int source, int first, int length)
        {
            var start = new int[length];
            var count = new int[length];
            int taps = 1;
            for (int i = 0; i < length; i++)
            {
                var row = dense.AsSpan((first + i) * source, source);
                int lo = row.IndexOfAnyExcept(0f), hi = row.LastIndexOfAnyExcept(0f);
                (start[i], count[i]) = lo < 0 ? (0, 0) : (lo, hi - lo + 1);
                taps = Math.Max(taps, count[i]);
            }
            var weights = new float[length * taps];
            for (int i = 0; i < length; i++)
                dense.AsSpan((first + i) * source + start[i], count[i]).CopyTo(weights.AsSpan(i * taps));
            return new AxisResampling(start, count, weights, taps);
        }

        public AxisResampling Shifted(int offset) => this with { Start = Start.Select(s => s + offset).ToArray() };

        public AxisResampling Reversed()
        {
            int n = Start.Length;
            var weights = new float[Weights.Length];
            for (int i = 0; i < n; i++) Weights.AsSpan((n - 1 - i) * MaxTaps, MaxTaps).CopyTo(weights.AsSpan(i * MaxTaps));
            return new AxisResampling(Start.Reverse().ToArray(), Count.Reverse().ToArray(), weights, MaxTaps);
        }

        public float Apply(int i, ReadOnlySpan<float> line, int stride)
        {
            float sum = 0;
            for (int k = 0; k < Count[i]; k++) sum += Weights[i * MaxTaps + k] * line[(Start[i] + k) * stride];
            return sum;
        }

        public float[] Dense(int source)
        {
            int n = Start.Length;
            var dense = new float[n * source];
            for (int i = 0; i < n; i++)
                for (int k = 0; k < Count[i]; k++) dense[i * source + Start[i] + k] = Weights[i * MaxTaps + k];
            return dense;
        }
    }
}
