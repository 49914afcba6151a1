using System.Buffers;
using System.Globalization;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Features;

/// <summary>Which part of a complex Gabor response <see cref="GaborBank"/> pools.</summary>
public enum GaborResponse
{
    /// <summary>|z| = √(re² + im²): the local energy, insensitive to the phase of the texture.</summary>
    Magnitude,

    /// <summary>re: the even (cosine) part, what <c>skimage.filters.gabor</c> returns first.</summary>
    Real,
}

/// <summary>
/// A bank of Gabor filters (every frequency × every orientation) applied through the engine's convolution
/// (<see cref="Conv2dKernels"/>), each response pooled into its mean and variance.
/// </summary>
/// <remarks>
/// <para>Kernels: exactly scikit-image's <c>gabor_kernel(frequency, theta)</c> with bandwidth 1, n_stds 3, offset 0:
/// σ = (1/π)·√(ln 2 / 2)·(2ᵇ + 1)/(2ᵇ − 1) / f for both axes; half sizes x₀ = ⌈max(|3σ cos θ|, |3σ sin θ|, 1)⌉
/// (same for y₀); g(x, y) = exp(−(x′² + y′²)/(2σ²) + i·2πf·x′) / (2πσ²) with x′ = x cos θ + y sin θ,
/// y′ = −x sin θ + y cos θ, on x ∈ [−x₀, x₀] (columns), y ∈ [−y₀, y₀] (rows).</para>
/// <para>Responses: the gray image (0..255; color via rgb2gray weights) filtered like <c>skimage.filters.gabor</c>,
/// i.e. <c>ndi.convolve(image, kernel, mode='reflect')</c>. The engine's Conv2d is a correlation with zero padding,
/// so a batch of gray images is first padded by x₀ with half-sample symmetric reflection (scipy's 'reflect',
/// d c b a | a b c d | d c b a), then correlated without padding with the kernels rotated by 180° (a convolution is a
/// correlation with the flipped kernel). The kernels of one size are the output channels of one call, real and
/// imaginary parts side by side: (N, 1, H + 2x₀, W + 2x₀) ⋆ (2m, 1, 2x₀ + 1, 2x₀ + 1) → (N, 2m, H, W), float32
/// accumulation. Features per filter, in order frequency-major then θ: mean and population variance over all pixels
/// of the chosen <see cref="GaborResponse"/>. θ takes <c>thetas</c> values k·π/thetas.
/// Shape: (C, H, W) → (2 · frequencies · thetas).</para>
/// <para>No kernel may be larger than the image (<see cref="Length"/> throws): the lowest frequency at θ = 0 has the
/// largest, 2⌈1.687/f⌉ + 1 pixels wide (25 for f = 0.15, so f ≥ 0.13 on 28×28 images).</para>
/// </remarks>
public sealed class GaborBank : IBatchFeatureExtractor
{
    // Images per Conv2d call: bounds the scratch (64 × 52 × 52 padded floats for 28×28 images and 25×25 kernels).
    private const int Batch = 64;

    // σ·f for bandwidth 1: (1/π)·√(ln 2 / 2)·(2¹ + 1)/(2¹ − 1).
    private static readonly double SigmaTimesFrequency = 1.0 / Math.PI * Math.Sqrt(Math.Log(2) / 2.0) * 3.0;

    private readonly KernelGroup[] _groups;
    private readonly int _filters;

    /// <summary>
    /// The filters whose kernels share one side: a Conv2d weight (2m, 1, side, side) whose channel 2j is the real part
    /// of filter <c>Filters[j]</c> (its index in bank order) and 2j + 1 its imaginary part, both rotated by 180°.
    /// </summary>
    private sealed record KernelGroup(int Side, int[] Filters, float[] Weights);

    /// <summary>A Gabor bank.</summary>
    /// <param name="frequencies">Spatial frequencies in cycles per pixel, each in (0, 0.5].</param>
    /// <param name="thetas">Orientations per frequency, evenly spaced over [0, π).</param>
    /// <param name="response">Which part of the complex response is pooled.</param>
    /// <exception cref="ArgumentException">No frequencies, or one outside (0, 0.5].</exception>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 or more than 64 orientations.</exception>
    public GaborBank(IReadOnlyList<double>? frequencies = null, int thetas = 4, GaborResponse response = GaborResponse.Magnitude)
    {
        Frequencies = (frequencies ?? [0.15, 0.3]).ToArray();
        if (Frequencies.Count == 0) throw new ArgumentException("A Gabor bank needs at least one frequency.", nameof(frequencies));
        foreach (double f in Frequencies)
            if (!(f > 0 && f <= 0.5)) throw new ArgumentException($"Gabor frequencies must be in (0, 0.5] cycles per pixel, got {f.ToString(CultureInfo.InvariantCulture)}.", nameof(frequencies));
        if (thetas is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(thetas), thetas, "A Gabor bank needs 1 to 64 orientations.");
        if (!Enum.IsDefined(response)) throw new ArgumentOutOfRangeException(nameof(response), response, "Unknown Gabor response.");
        Thetas = thetas;
        Response = response;
        var kernels = Frequencies.SelectMany(f => Enumerable.Range(0, thetas).Select(t => KernelOf(f, t * Math.PI / thetas))).ToArray();
        _filters = kernels.Length;
        _groups = Group(kernels);
        LargestKernel = _groups.Max(g => g.Side);
    }

    public IReadOnlyList<double> Frequencies { get; }
    public int Thetas { get; }
    public GaborResponse Response { get; }

    /// <summary>Side in pixels of the bank's largest kernel (its lowest frequency at θ = 0).</summary>
    public int LargestKernel { get; }

    public string Name => "gabor";

    public string Config => string.Create(CultureInfo.InvariantCulture,
        $"gabor:freq={string.Join('/', Frequencies.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))},thetas={Thetas},response={(Response == GaborResponse.Magnitude ? "magnitude" : "real")}");

    /// <summary>2 · frequencies · thetas.</summary>
    /// <exception cref="ArgumentException">The largest kernel is larger than the image; the message says which frequencies fit.</exception>
    public int Length(int channels, int height, int width)
    {
        if (LargestKernel > height || LargestKernel > width)
        {
            // A kernel fits when x₀ = ⌈3σ⌉ ≤ m = ⌊(min(H, W) − 1)/2⌋, i.e. f ≥ 3·(σ·f)/m.
            int m = (Math.Min(height, width) - 1) / 2;
            double lowest = m < 1 ? double.PositiveInfinity : Math.Ceiling(3 * SigmaTimesFrequency / m * 1000) / 1000;
            string fits = lowest > 0.5
                ? $"no Gabor frequency fits it: the smallest kernel, at 0.5 cycles per pixel, is {KernelOf(0.5, 0).Width} pixels wide"
                : string.Create(CultureInfo.InvariantCulture, $"frequencies of at least {lowest:0.###} fit it");
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Gabor kernels of frequency {Frequencies.Min():R} are {LargestKernel}×{LargestKernel} pixels, larger than the {height}×{width} image (lower frequencies need larger kernels; {fits})."));
        }
        return 2 * _filters;
    }

    /// <summary>
    /// scikit-image's complex <c>gabor_kernel(frequency, theta)</c> (bandwidth 1, n_stds 3, offset 0) as
    /// row-major (2y₀+1)×(2x₀+1) real and imaginary parts in double.
    /// </summary>
    public static (int Height, int Width, double[] Real, double[] Imaginary) KernelOf(double frequency, double theta)
    {
        double b = 1.0;
        double sigma = 1.0 / Math.PI * Math.Sqrt(Math.Log(2) / 2.0) * (Math.Pow(2.0, b) + 1) / (Math.Pow(2.0, b) - 1) / frequency;
        double ct = Math.Cos(theta), st = Math.Sin(theta);
        int x0 = (int)Math.Ceiling(Math.Max(Math.Max(Math.Abs(3 * sigma * ct), Math.Abs(3 * sigma * st)), 1));
        int y0 = (int)Math.Ceiling(Math.Max(Math.Max(Math.Abs(3 * sigma * ct), Math.Abs(3 * sigma * st)), 1));
        int h = 2 * y0 + 1, w = 2 * x0 + 1;
        var real = new double[h * w];
        var imaginary = new double[h * w];
        double scale = 1 / (2 * Math.PI * sigma * sigma);
        for (int y = -y0; y <= y0; y++)
        for (int x = -x0; x <= x0; x++)
        {
            double rotX = x * ct + y * st, rotY = -x * st + y * ct;
            double envelope = Math.Exp(-0.5 * (rotX * rotX / (sigma * sigma) + rotY * rotY / (sigma * sigma)));
            double phase = 2 * Math.PI * frequency * rotX;
            real[(y + y0) * w + x + x0] = envelope * Math.Cos(phase) * scale;
            imaginary[(y + y0) * w + x + x0] = envelope * Math.Sin(phase) * scale;
        }
        return (h, w, real, imaginary);
    }

    // Kernels grouped by side (x₀ = y₀: every kernel is square), groups in order of first appearance.
    private static KernelGroup[] Group((int Height, int Width, double[] Real, double[] Imaginary)[] kernels) =>
        Enumerable.Range(0, kernels.Length).GroupBy(i => kernels[i].Height).Select(group =>
        {
            int side = group.Key, taps = side * side;
            var filters = group.ToArray();
            var weights = new float[2 * filters.Length * taps];
            for (int j = 0; j < filters.Length; j++)
            {
                var k = kernels[filters[j]];
                // ndi.convolve(x, g) = correlate(x, g rotated by 180°): weight tap t is g's tap taps − 1 − t.
                for (int t = 0; t < taps; t++)
                {
                    weights[2 * j * taps + t] = (float)k.Real[taps - 1 - t];
                    weights[(2 * j + 1) * taps + t] = (float)k.Imaginary[taps - 1 - t];
                }
            }
            return new KernelGroup(side, filters, weights);
        }).ToArray();

    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination) =>
        ExtractBatch(image, 1, channels, height, width, destination);

    /// <summary>
    /// The features of <paramref name="count"/> images (count×C×H×W bytes) into <paramref name="destination"/>
    /// (count×D, row-major): one Conv2d per kernel size over batches of up to 64 images, on the calling thread.
    /// Each image's features are the same whatever batch it is in.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree, or a kernel is larger than the image.</exception>
    public void ExtractBatch(ReadOnlySpan<byte> images, int count, int channels, int height, int width, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        FeatureChecks.Images(images, count, channels, height, width);
        int d = Length(channels, height, width);
        FeatureChecks.Destination(destination, count * d);
        int size = channels * height * width, n = height * width, batchSize = Math.Min(count, Batch);
        int largestResponse = _groups.Max(g => 2 * g.Filters.Length) * n;
        var doubles = ArrayPool<double>.Shared.Rent(n);
        var gray = ArrayPool<float>.Shared.Rent(batchSize * n);
        var responses = ArrayPool<float>.Shared.Rent(batchSize * largestResponse);
        try
        {
            for (int first = 0; first < count; first += Batch)
            {
                int batch = Math.Min(Batch, count - first);
                for (int i = 0; i < batch; i++)
                {
                    GrayImage.Convert(images.Slice((first + i) * size, size), channels, height, width, doubles);
                    var plane = gray.AsSpan(i * n, n);
                    for (int p = 0; p < n; p++) plane[p] = (float)doubles[p];
                }
                foreach (var group in _groups)
                {
                    int outputs = 2 * group.Filters.Length;
                    var response = responses.AsSpan(0, batch * outputs * n);
                    Respond(gray.AsSpan(0, batch * n), batch, height, width, group, response);
                    for (int i = 0; i < batch; i++)
                        for (int j = 0; j < group.Filters.Length; j++)
                        {
                            var re = response.Slice((i * outputs + 2 * j) * n, n);
                            var im = response.Slice((i * outputs + 2 * j + 1) * n, n);
                            var row = destination.Slice((first + i) * d, d);
                            (row[2 * group.Filters[j]], row[2 * group.Filters[j] + 1]) = Pool(re, im);
                        }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(responses);
            ArrayPool<float>.Shared.Return(gray);
            ArrayPool<double>.Shared.Return(doubles);
        }
    }

    // Mean and population variance of the pooled response over one plane (accumulated in double).
    private (float Mean, float Variance) Pool(ReadOnlySpan<float> real, ReadOnlySpan<float> imaginary)
    {
        double sum = 0, sumOfSquares = 0;
        for (int i = 0; i < real.Length; i++)
        {
            double v = Response == GaborResponse.Magnitude ? Math.Sqrt((double)real[i] * real[i] + (double)imaginary[i] * imaginary[i]) : real[i];
            sum += v;
            sumOfSquares += v * v;
        }
        double mean = sum / real.Length;
        return ((float)mean, (float)Math.Max(0, sumOfSquares / real.Length - mean * mean));
    }

    // responses (N, 2m, H, W) = reflect-padded gray (N, 1, H + 2x₀, W + 2x₀) ⋆ the group's weights, one thread.
    private static void Respond(ReadOnlySpan<float> gray, int count, int height, int width, KernelGroup group, Span<float> responses)
    {
        int pad = group.Side / 2, paddedHeight = height + 2 * pad, paddedWidth = width + 2 * pad;
        var padded = ArrayPool<float>.Shared.Rent(count * paddedHeight * paddedWidth);
        try
        {
            for (int i = 0; i < count; i++)
                ReflectPad(gray.Slice(i * height * width, height * width), height, width, pad, padded.AsSpan(i * paddedHeight * paddedWidth, paddedHeight * paddedWidth));
            var geometry = new Conv2dGeometry(count, 1, paddedHeight, paddedWidth, 2 * group.Filters.Length, group.Side, group.Side, Stride: 1, Padding: 0);
            Conv2dKernels.Forward(geometry, padded.AsSpan(0, count * paddedHeight * paddedWidth), group.Weights, [], responses, threads: 1);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
        }
    }

    /// <summary>Maps an index outside [0, n) into it by half-sample symmetric reflection (scipy's 'reflect'), as often as needed.</summary>
    internal static int ReflectIndex(int i, int n)
    {
        int period = 2 * n;
        i %= period;
        if (i < 0) i += period;
        return i < n ? i : period - 1 - i;
    }

    // padded ((H + 2p) × (W + 2p)) = plane (H × W) with p reflected pixels on every side.
    private static void ReflectPad(ReadOnlySpan<float> plane, int height, int width, int pad, Span<float> padded)
    {
        int paddedWidth = width + 2 * pad;
        for (int y = 0; y < height + 2 * pad; y++)
        {
            var source = plane.Slice(ReflectIndex(y - pad, height) * width, width);
            var row = padded.Slice(y * paddedWidth, paddedWidth);
            source.CopyTo(row.Slice(pad, width));
            for (int x = 0; x < pad; x++)
            {
                row[x] = source[ReflectIndex(x - pad, width)];
                row[pad + width + x] = source[ReflectIndex(width + x, width)];
            }
        }
    }

    /// <summary>
    /// The complex response of one filter, as <c>skimage.filters.gabor(gray, frequency, theta)</c> returns it
    /// (real, imaginary; H×W each), through the same padding and Conv2d as the bank. Unlike the bank, it accepts
    /// kernels larger than the image (the reflection then repeats, as scipy's does). For tests and inspection.
    /// </summary>
    public static (float[] Real, float[] Imaginary) Filter(ReadOnlySpan<float> gray, int height, int width, double frequency, double theta)
    {
        if (gray.Length != height * width) throw new ArgumentException($"A {height}×{width} plane has {height * width} values, got {gray.Length}.", nameof(gray));
        var group = Group([KernelOf(frequency, theta)])[0];
        var responses = new float[2 * height * width];
        Respond(gray, 1, height, width, group, responses);
        return (responses[..(height * width)], responses[(height * width)..]);
    }
}
