namespace SharpVision.Imaging;

/// <summary>
/// An 8-bit image, pixels interleaved row-major (H×W×C): C = 1 (gray) or 3 (RGB).
/// </summary>
public sealed class Image
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied).</summary>
    /// <exception cref="ArgumentException">When the buffer length is not width·height·channels.</exception>
    public Image(int width, int height, int channels, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (channels is not (1 or 3))
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Only 1 (gray) or 3 (RGB) channels are supported.");
        ArgumentNullException.ThrowIfNull(pixels);
        if ((long)width * height * channels != pixels.Length)
            throw new ArgumentException($"Expected {(long)width * height * channels} bytes, got {pixels.Length}.", nameof(pixels));
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public int Width { get; }
    public int Height { get; }
    public int Channels { get; }

    /// <summary>H×W×C interleaved bytes.</summary>
    public byte[] Pixels { get; }
}

/// <summary>What a file's header says, read without decoding the pixels.</summary>
/// <param name="Format">"png", "jpeg", "gif", "bmp" or "webp": what the content is, whatever the file name says.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Channels">Channels the decoder will produce before any conversion (1 or 3).</param>
public readonly record struct ImageInfo(string Format, int Width, int Height, int Channels);
