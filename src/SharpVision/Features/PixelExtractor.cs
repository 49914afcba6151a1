namespace SharpVision.Features;

/// <summary>
/// The raw pixels as features, x / 255 in [0, 1], in C×H×W order: the baseline every hand-crafted feature is compared
/// with, and a part to concatenate (<c>pixels+hog</c>).
/// </summary>
/// <remarks>Shape: (C, H, W) → (C·H·W).</remarks>
public sealed class PixelExtractor : IFeatureExtractor
{
    public string Name => "pixels";

    public string Config => "pixels";

    public int Length(int channels, int height, int width) => checked(channels * height * width);

    public void Extract(ReadOnlySpan<byte> image, int channels, int height, int width, Span<float> destination)
    {
        FeatureChecks.Image(image, channels, height, width);
        FeatureChecks.Destination(destination, image.Length);
        for (int i = 0; i < image.Length; i++) destination[i] = image[i] * (1f / 255f);
    }
}
