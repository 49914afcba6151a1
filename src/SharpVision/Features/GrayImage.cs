namespace SharpVision.Features;

/// <summary>The one gray plane texture extractors (LBP, Gabor, SIFT) work on.</summary>
internal static class GrayImage
{
    /// <summary>
    /// Gray values in 0..255 as doubles: the plane itself for one channel; for three channels scikit-image's
    /// <c>rgb2gray</c> weights 0.2125 R + 0.7154 G + 0.0721 B (ITU-R 709 luma) on the 0..255 scale; for other counts
    /// the channel mean.
    /// </summary>
    public static void Convert(ReadOnlySpan<byte> image, int channels, int height, int width, Span<double> destination)
    {
        int n = height * width;
        if (channels == 1)
        {
            for (int i = 0; i < n; i++) destination[i] = image[i];
        }
        else if (channels == 3)
        {
            var r = image[..n];
            var g = image.Slice(n, n);
            var b = image.Slice(2 * n, n);
            for (int i = 0; i < n; i++) destination[i] = 0.2125 * r[i] + 0.7154 * g[i] + 0.0721 * b[i];
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int c = 0; c < channels; c++) sum += image[c * n + i];
                destination[i] = sum / channels;
            }
        }
    }
}
