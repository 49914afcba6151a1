using System.Globalization;

namespace SharpVision.Features;

/// <summary>
/// Histograms of hue (and optionally saturation and value) in HSV, as in the CS231n feature pipeline's
/// <c>color_histogram_hsv</c>, with scikit-image's <c>rgb2hsv</c> as the color conversion.
/// </summary>
/// <remarks>
/// <para>Per pixel, with r, g, b = byte · (1/255) in double: V = max(r, g, b); Δ = V − min(r, g, b);
/// S = Δ / V (0 when Δ = 0); H = ((g − b)/Δ if r = V, overridden by 2 + (b − r)/Δ if g = V, overridden by
/// 4 + (r − g)/Δ if b = V) / 6 mod 1, and 0 when Δ = 0. Gray images are taken as r = g = b (so H = S = 0).</para>
/// <para>Each histogram has <c>bins</c> equal bins over [0, 1] with numpy's rule (bin k holds [k/bins, (k+1)/bins),
/// the last bin also holds 1.0) and holds the fraction of the image's pixels in each bin, so it sums to 1. (CS231n
/// uses <c>density=True</c> over 0..255, which divides these values by the bin width 255/bins: a constant factor the
/// model's standardization removes.) Shape: (C, H, W) → (k·bins), k = 1, 2 or 3 histograms in the order H, S, V.</para>
/// </remarks>
public sealed class ColorHistogram : IFeatureExtractor
{
    /// <summary>A color histogram.</summary>
    /// <param name="bins">Bins per histogram.</param>
    /// <param name="channels">Which HSV channels: "h", "hs" or "hsv".</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 or more than 4096 bins.</exception>
    /// <exception cref="ArgumentException">Channels other than h, hs, hsv.</exception>
    public ColorHistogram(int bins = 10, string channels = "h")
    {
        if (bins is < 1 or > 4096) throw new ArgumentOutOfRangeException(nameof(bins), bins, "A color histogram needs 1 to 4096 bins.");
        ArgumentNullException.ThrowIfNull(channels);
        Channels = channels.ToLowerInvariant();
        if (Channels is not ("h" or "hs" or "hsv")) throw new ArgumentException($"Color histogram channels must be h, hs or hsv, got '{channels}'.", nameof(channels));
        Bins = bins;
    }

    public int Bins { get; }

    /// <summary>"h", "hs" or "hsv".</summary>
    public string Channels { get; }

    public string Name => "color";

    public string Config => string.Create(CultureInfo.InvariantCulture, $"color:bins={Bins},channels={Channels}");

    public int Length(int channels, int height, int width) => Bins * Channels.Length;

    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        FeatureChecks.Image(image, channels, height, width);
        FeatureChecks.Destination(destination, Bins * Channels.Length);
        int n = height * width;
        Span<int> counts = stackalloc int[3 * Bins];
        counts.Clear();
        const double Scale = 1.0 / 255;
        for (int i = 0; i < n; i++)
        {
            double r = image[i] * Scale;
            double g = channels >= 3 ? image[n + i] * Scale : r;
            double b = channels >= 3 ? image[2 * n + i] * Scale : r;
            var (h, s, v) = ToHsv(r, g, b);
            counts[Bin(h)]++;
            if (Channels.Length > 1) counts[Bins + Bin(s)]++;
            if (Channels.Length > 2) counts[2 * Bins + Bin(v)]++;
        }
        float share = 1f / n;
        for (int i = 0; i < destination.Length; i++) destination[i] = counts[i] * share;
    }

    /// <summary>scikit-image's rgb2hsv of one pixel with channels in [0, 1] (formula in the class remarks).</summary>
    public static (double H, double S, double V) ToHsv(double r, double g, double b)
    {
        double v = Math.Max(r, Math.Max(g, b));
        double delta = v - Math.Min(r, Math.Min(g, b));
        if (delta == 0) return (0, 0, v);
        double s = delta / v;
        double h = 0;
        if (r == v) h = (g - b) / delta;
        if (g == v) h = 2.0 + (b - r) / delta;
        if (b == v) h = 4.0 + (r - g) / delta;
        h = h / 6.0 % 1.0;
        if (h < 0) h += 1.0;
        return (h, s, v);
    }

    // numpy.histogram's bin for x in [0, 1] with edges k/bins (the last edge exactly 1, the last bin closed).
    private int Bin(double x)
    {
        int k = (int)(x * Bins);
        if (k >= Bins) k = Bins - 1;
        if (k > 0 && x < k * (1.0 / Bins)) k--;
        else if (k < Bins - 1 && x >= (k + 1) * (1.0 / Bins)) k++;
        return k;
    }
}
