using SharpVision.Imaging;

namespace SharpVision.Data;

/// <summary>
/// How raw images become a model's input: channel count and size. Stored in every model file so that
/// <c>predict</c> prepares a new image exactly like the training images were.
/// </summary>
/// <param name="Channels">1 (gray, PIL's luma) or 3 (RGB).</param>
/// <param name="Height">Target height.</param>
/// <param name="Width">Target width.</param>
public sealed record ImagePreparation(int Channels, int Height, int Width)
{
    /// <summary>Converts and resizes (area averaging when shrinking, bilinear when enlarging) into C×H×W bytes.</summary>
    public byte[] Prepare(Image image)
    {
        var converted = Channels == 1 ? ImageOps.ToGray(image) : ImageOps.ToRgb(image);
        if (converted.Width != Width || converted.Height != Height) converted = ImageOps.Resize(converted, Width, Height);
        return ToPlanar(converted);
    }

    /// <summary>C×H×W planar bytes (the dataset layout) → an image of H×W×C interleaved pixels, copied.</summary>
    /// <param name="planes">The planes, C·H·W bytes.</param>
    /// <param name="channels">1 or 3.</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <exception cref="ArgumentException">The byte count is not C·H·W, or C is not 1 or 3.</exception>
    public static Image FromPlanar(ReadOnlySpan<byte> planes, int channels, int height, int width)
    {
        if (planes.Length != channels * height * width)
            throw new ArgumentException($"{planes.Length} bytes are not {channels}×{height}×{width}.", nameof(planes));
        var pixels = new byte[planes.Length];
        int plane = height * width;
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < plane; i++) pixels[i * channels + c] = planes[c * plane + i];
        return new Image(width, height, channels, pixels);
    }

    /// <summary>H×W×C interleaved → C×H×W planar.</summary>
    public static byte[] ToPlanar(Image image)
    {
        if (image.Channels == 1) return (byte[])image.Pixels.Clone();
        int plane = image.Width * image.Height;
        var planar = new byte[plane * image.Channels];
        var src = image.Pixels;
        for (int p = 0; p < plane; p++)
            for (int c = 0; c < image.Channels; c++)
                planar[c * plane + p] = src[p * image.Channels + c];
        return planar;
    }
}
