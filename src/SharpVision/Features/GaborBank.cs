using System.Buffers;
using System.Globalization;

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
/// A bank of Gabor filters (every frequency × every orientation), each response pooled into its mean and variance.
/// </summary>
/// <remarks>
/// <para>Kernels: exactly scikit-image's <c>gabor_kernel(frequency, theta)</c> with bandwidth 1, n_stds 3, offset 0:
/// σ = (1/π)·√(ln 2 / 2)·(2ᵇ + 1)/(2ᵇ − 1) / f for both axes; half sizes x₀ = ⌈max(|3σ cos θ|, |3σ sin θ|, 1)⌉
/// (same for y₀); g(x, y) = exp(−(x′² + y′²)/(2σ²) + i·2πf·x′) / (2πσ²) with x′ = x cos θ + y sin θ,
/// y′ = −x sin θ + y cos θ, on x ∈ [−x₀, x₀] (columns), y ∈ [−y₀, y₀] (rows).</para>
/// <para>Responses: the gray image (0..255; color via rgb2gray weights) filtered like <c>skimage.filters.gabor</c>,
/// i.e. <c>ndi.convolve(image, kernel, mode='reflect')</c>: a correlation with the flipped kernel
/// (<see cref="Correlation2d"/>), half-sample symmetric borders, float32 accumulation. Features per filter, in order
/// frequency-major then θ: mean and population variance over all pixels of the chosen <see cref="GaborResponse"/>.
/// θ takes <c>thetas</c> values k·π/thetas. Shape: (C, H, W) → (2 · frequencies · thetas).</para>
/// </remarks>
public sealed class GaborBank : IFeatureExtractor
{
    private readonly Kernel[] _kernels;

    private sealed record Kernel(int Height, int Width, float[] Real, float[] Imaginary);

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
        _kernels = Frequencies.SelectMany(f => Enumerable.Range(0, thetas).Select(t => MakeKernel(f, t * Math.PI / thetas))).ToArray();
    }

    public IReadOnlyList<double> Frequencies { get; }
    public int Thetas { get; }
    public GaborResponse Response { get; }

    public string Name => "gabor";

    public string Config => string.Create(CultureInfo.InvariantCulture,
        $"gabor:freq={string.Join('/', Frequencies.Select(f => f.ToString("R", CultureInfo.InvariantCulture)))},thetas={Thetas},response={(Response == GaborResponse.Magnitude ? "magnitude" : "real")}");

    public int Length(int channels, int height, int width) => 2 * _kernels.Length;

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

    private static Kernel MakeKernel(double frequency, double theta)
    {
        var (h, w, real, imaginary) = KernelOf(frequency, theta);
        // ndi.convolve flips the kernel; our correlation takes it pre-flipped.
        return new Kernel(h, w, Correlation2d.FlipBoth(real.Select(v => (float)v).ToArray()), Correlation2d.FlipBoth(imaginary.Select(v => (float)v).ToArray()));
    }

    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        FeatureChecks.Image(image, channels, height, width);
        FeatureChecks.Destination(destination, 2 * _kernels.Length);
        int n = height * width;
        int maxPadded = _kernels.Max(k => (height + k.Height - 1) * (width + k.Width - 1)) + Correlation2d.PaddingSlack;
        var doubles = ArrayPool<double>.Shared.Rent(n);
        var floats = ArrayPool<float>.Shared.Rent(3 * n + maxPadded);
        try
        {
            GrayImage.Convert(image, channels, height, width, doubles);
            var gray = floats.AsSpan(0, n);
            for (int i = 0; i < n; i++) gray[i] = (float)doubles[i];
            var real = floats.AsSpan(n, n);
            var imaginary = floats.AsSpan(2 * n, n);
            var padded = floats.AsSpan(3 * n, maxPadded);
            padded.Clear(); // the slack past the plane is read (into unused lanes) and must be finite
            int paddedFor = -1;
            for (int f = 0; f < _kernels.Length; f++)
            {
                var k = _kernels[f];
                int key = k.Height * 65536 + k.Width;
                if (key != paddedFor)
                {
                    Correlation2d.Pad(gray, height, width, k.Height, k.Width, BorderMode.Reflect, padded);
                    paddedFor = key;
                }
                Correlation2d.CorrelatePair(padded, height, width, k.Real, k.Imaginary, k.Height, k.Width, real, imaginary);
                double sum = 0, sumOfSquares = 0;
                for (int i = 0; i < n; i++)
                {
                    double v = Response == GaborResponse.Magnitude ? Math.Sqrt((double)real[i] * real[i] + (double)imaginary[i] * imaginary[i]) : real[i];
                    sum += v;
                    sumOfSquares += v * v;
                }
                double mean = sum / n;
                destination[2 * f] = (float)mean;
                destination[2 * f + 1] = (float)Math.Max(0, sumOfSquares / n - mean * mean);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(floats);
            ArrayPool<double>.Shared.Return(doubles);
        }
    }

    /// <summary>
    /// The complex response of one filter, as <c>skimage.filters.gabor(gray, frequency, theta)</c> returns it
    /// (real, imaginary; H×W each). For tests and inspection.
    /// </summary>
    public static (float[] Real, float[] Imaginary) Filter(ReadOnlySpan<float> gray, int height, int width, double frequency, double theta)
    {
        var k = MakeKernel(frequency, theta);
        var padded = new float[(height + k.Height - 1) * (width + k.Width - 1) + Correlation2d.PaddingSlack];
        Correlation2d.Pad(gray, height, width, k.Height, k.Width, BorderMode.Reflect, padded);
        var real = new float[height * width];
        var imaginary = new float[height * width];
        Correlation2d.CorrelatePair(padded, height, width, k.Real, k.Imaginary, k.Height, k.Width, real, imaginary);
        return (real, imaginary);
    }
}
