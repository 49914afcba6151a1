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

    /// <summary>
    /// What <see cref="Prepare"/> does to <paramref name="image"/>, step by step, for people: "converted RGB to gray (luma)",
    /// "resized 640×480 → 28×28 (area averaging), aspect ratio 1.33 squeezed to 1". Empty when the image is already
    /// what the model takes.
    /// </summary>
    public IReadOnlyList<string> Steps(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var steps = new List<string>();
        if (Channels == 1 && image.Channels == 3) steps.Add("converted RGB to gray (luma)");
        if (Channels == 3 && image.Channels == 1) steps.Add("gray copied into R, G and B");
        if (image.Width != Width || image.Height != Height)
        {
            // ImageOps.Resize treats each axis on its own: area averaging where it shrinks, bilinear where it grows.
            bool shrinks = image.Width >= Width && image.Height >= Height, grows = image.Width <= Width && image.Height <= Height;
            string method = shrinks ? "area averaging" : grows ? "bilinear" : "area averaging on one axis, bilinear on the other";
            string step = $"resized {image.Width}×{image.Height} → {Width}×{Height} ({method})";
            double from = (double)image.Width / image.Height, to = (double)Width / Height;
            if (Math.Abs(from / to - 1) > 0.05)
                step += string.Create(System.Globalization.CultureInfo.InvariantCulture, $", aspect ratio {from:0.##} squeezed to {to:0.##}");
            steps.Add(step);
        }
        return steps;
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
