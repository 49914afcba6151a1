using SharpVision.IO;
namespace SharpVision.Imaging;

/// <summary>Which JPEG decoder to use; tests pin one, everything else uses <see cref="Auto"/>.</summary>
internal enum JpegDecoderChoice
{
    /// <summary>libturbojpeg when it loads (and SHARPVISION_JPEG is not "managed"), else managed.</summary>
    Auto,
    /// <summary>The managed decoder.</summary>
    Managed,
    /// <summary>libturbojpeg; throws <see cref="InvalidOperationException"/> when it is not available.</summary>
    TurboJpeg,
}

/// <summary>
/// Decodes PNG, JPEG, GIF (first frame), BMP and WebP files into 8-bit <see cref="Image"/>s. The format is chosen by the
/// file's content (magic bytes), never by its name: photo collections hold GIFs named .jpg. Every decoder reads the
/// header first and refuses sizes above the pixel limit before allocating the pixels.
/// Gray PNG/JPEG files → 1 channel; everything else → 3 channels RGB; alpha and GIF transparency are dropped (not
/// composited), as PIL's convert("RGB") does. JPEGs are turned upright by their EXIF orientation tag.
/// WebP needs libwebp (Debian package libwebp7); without it a WebP file is a clear error.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Headers claiming more pixels than this are refused before any allocation or decoding.</summary>
    public const long DefaultMaxPixels = 64_000_000;

    /// <summary>The formats <see cref="Decode(ReadOnlySpan{byte}, string, long)"/> reads, as error messages list them.</summary>
    public const string SupportedFormats = "PNG, JPEG, GIF, BMP or WebP";

    /// <summary>Reads format, size and channel count from the header only (a JPEG's size is after its EXIF orientation).</summary>
    /// <param name="data">The whole file (or at least its header).</param>
    /// <param name="path">The file name, used in error messages.</param>
    /// <exception cref="DataFormatException">Not a supported image, or the header is corrupt or unsupported.</exception>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Sniff(data, path) switch
        {
            "png" => PngDecoder.ReadInfo(data, path),
            "gif" => GifDecoder.ReadInfo(data, path),
            "bmp" => BmpDecoder.ReadInfo(data, path),
            "webp" => WebP.ReadInfo(data, path),
            _ => JpegHeader.Read(data, path).ToInfo(),
        };
    }

    /// <summary>
    /// Decodes a PNG, JPEG, GIF, BMP or WebP file, whatever its name. Shape: (H, W, C) interleaved, C = 1 for gray
    /// PNG/JPEG files, else 3 (RGB).
    /// </summary>
    /// <param name="data">The whole file.</param>
    /// <param name="path">The file name, used in error messages.</param>
    /// <param name="maxPixels">Refuse headers with width·height above this, before decoding.</param>
    /// <exception cref="DataFormatException">
    /// Any decoding failure: unknown format, truncation, bad CRC, corrupt or unsupported stream, too many pixels, or a
    /// WebP file without libwebp.
    /// </exception>
    public static Image Decode(ReadOnlySpan<byte> data, string path, long maxPixels = DefaultMaxPixels)
        => Decode(data, path, maxPixels, JpegDecoderChoice.Auto);

    internal static Image Decode(ReadOnlySpan<byte> data, string path, long maxPixels, JpegDecoderChoice jpeg)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        switch (Sniff(data, path))
        {
            case "png": return PngDecoder.Decode(data, path, maxPixels);
            case "gif": return GifDecoder.Decode(data, path, maxPixels);
            case "bmp": return BmpDecoder.Decode(data, path, maxPixels);
            case "webp": return WebP.Decode(data, path, maxPixels);
        }

        JpegHeader header = JpegHeader.Read(data, path);
        CheckPixelLimit(header.Width, header.Height, maxPixels, "JPEG", path);
        bool useTurbo = jpeg switch
        {
            JpegDecoderChoice.Managed => false,
            JpegDecoderChoice.TurboJpeg => TurboJpeg.IsAvailable
                ? true
                : throw new InvalidOperationException("libturbojpeg.so.0 could not be loaded."),
            _ => TurboJpeg.IsAvailable && !ManagedForcedByEnvironment,
        };
        Image image = useTurbo ? TurboJpeg.Decode(data, path, header) : JpegDecoder.Decode(data, path, header);
        return ExifOrientation.Apply(image, header.Orientation);
    }

    /// <summary>Reads and decodes a file. See <see cref="Decode(ReadOnlySpan{byte}, string, long)"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    /// <exception cref="DataFormatException">
    /// The file is not a decodable image, not a regular file (a folder, FIFO, device), or larger than
    /// <see cref="BoundedFile.MaxImageBytes"/>.
    /// </exception>
    public static Image Load(string path, long maxPixels = DefaultMaxPixels)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] data = BoundedFile.ReadAllBytes(path, BoundedFile.MaxImageBytes, "an image");
        return Decode(data, path, maxPixels);
    }

    /// <summary>"libturbojpeg" when libturbojpeg.so.0 loads and SHARPVISION_JPEG is not "managed"; else "managed".</summary>
    public static string JpegBackend => TurboJpeg.IsAvailable && !ManagedForcedByEnvironment ? "libturbojpeg" : "managed";

    /// <summary>True when libwebp.so.7 loads, so WebP files can be decoded.</summary>
    public static bool WebPAvailable => WebP.IsAvailable;

    private static bool ManagedForcedByEnvironment =>
        string.Equals(Environment.GetEnvironmentVariable("SHARPVISION_JPEG"), "managed", StringComparison.OrdinalIgnoreCase);

    internal static void CheckPixelLimit(int width, int height, long maxPixels, string format, string path)
    {
        long pixels = (long)width * height;
        if (pixels > maxPixels)
            throw new DataFormatException(path, $"{format} header claims {width}x{height} = {pixels} pixels, more than the limit of {maxPixels}");
    }

    /// <summary>"png", "jpeg", "gif", "bmp" or "webp" from the magic bytes alone, or null for anything else (no exception).</summary>
    public static string? DetectFormat(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 8 && data[..8].SequenceEqual(PngDecoder.Signature))
            return "png";
        if (data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
            return "jpeg";
        if (GifDecoder.HasSignature(data))
            return "gif";
        if (WebP.HasSignature(data))
            return "webp";
        if (BmpDecoder.HasSignature(data))
            return "bmp";
        return null;
    }

    /// <summary>The reason given for data that is none of the supported formats, naming its first bytes.</summary>
    public static string UnknownFormatReason(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
            return $"not a {SupportedFormats} file (the file is empty)";
        var head = string.Join(" ", data[..Math.Min(4, data.Length)].ToArray().Select(b => $"0x{b:X2}"));
        return $"not a {SupportedFormats} file (starts with {head})";
    }

    private static string Sniff(ReadOnlySpan<byte> data, string path) =>
        DetectFormat(data) ?? throw new DataFormatException(path, UnknownFormatReason(data));
}
