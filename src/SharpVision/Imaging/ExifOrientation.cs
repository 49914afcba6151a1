using System.Buffers.Binary;

namespace SharpVision.Imaging;

/// <summary>
/// The EXIF Orientation tag (0x0112 in IFD0) of a JPEG's APP1 "Exif" segment, and the transform that shows the image
/// upright. Parsing is bounded and forgiving: a broken or absent EXIF block means orientation 1 (as stored), never an
/// error, since the pixels themselves are fine.
/// </summary>
internal static class ExifOrientation
{
    private const int OrientationTag = 0x0112;
    private const int TypeShort = 3;
    private const int TypeLong = 4;

    /// <summary>Orientation 1–8 from an APP1 payload (starting "Exif\0\0"); 1 when it is absent, broken or out of range.</summary>
    public static int Parse(ReadOnlySpan<byte> app1)
    {
        if (app1.Length < 6 + 8 || !app1[..6].SequenceEqual("Exif\0\0"u8))
            return 1;
        ReadOnlySpan<byte> tiff = app1[6..];
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I') little = true;
        else if (tiff[0] == 'M' && tiff[1] == 'M') little = false;
        else return 1;
        if (U16(tiff[2..], little) != 42)
            return 1;
        uint ifd = U32(tiff[4..], little);
        if (ifd > (uint)tiff.Length - 2)
            return 1;
        int count = U16(tiff[(int)ifd..], little);
        int entries = Math.Min(count, (tiff.Length - (int)ifd - 2) / 12);
        for (int i = 0; i < entries; i++)
        {
            ReadOnlySpan<byte> entry = tiff.Slice((int)ifd + 2 + 12 * i, 12);
            if (U16(entry, little) != OrientationTag)
                continue;
            int type = U16(entry[2..], little);
            long value = type switch
            {
                TypeShort => U16(entry[8..], little),
                TypeLong => U32(entry[8..], little),
                _ => 1,
            };
            return value is >= 1 and <= 8 ? (int)value : 1;
        }
        return 1;
    }

    /// <summary>True when the orientation swaps width and height (5–8: a transpose or a quarter turn).</summary>
    public static bool SwapsAxes(int orientation) => orientation is >= 5 and <= 8;

    /// <summary>
    /// The upright image: 2 mirror, 3 half turn, 4 flip, 5 transpose, 6 quarter turn clockwise, 7 transverse,
    /// 8 quarter turn counterclockwise (PIL's ImageOps.exif_transpose). Orientation 1 returns <paramref name="image"/>.
    /// </summary>
    public static Image Apply(Image image, int orientation)
    {
        if (orientation is < 2 or > 8)
            return image;
        int w = image.Width, h = image.Height, c = image.Channels;
        bool swap = SwapsAxes(orientation);
        int outW = swap ? h : w, outH = swap ? w : h;
        // Source offset of output pixel (x, y) = start + x·dx + y·dy.
        int row = w * c, last = (h - 1) * row, right = (w - 1) * c;
        (int start, int dx, int dy) = orientation switch
        {
            2 => (right, -c, row),
            3 => (last + right, -c, -row),
            4 => (last, c, -row),
            5 => (0, row, c),
            6 => (last, -row, c),
            7 => (last + right, -row, -c),
            _ => (right, row, -c),
        };
        var pixels = new byte[image.Pixels.Length];
        ReadOnlySpan<byte> source = image.Pixels;
        int o = 0;
        for (int y = 0; y < outH; y++)
        {
            int s = start + y * dy;
            for (int x = 0; x < outW; x++, s += dx)
            {
                for (int k = 0; k < c; k++)
                    pixels[o++] = source[s + k];
            }
        }
        return new Image(outW, outH, c, pixels);
    }

    private static int U16(ReadOnlySpan<byte> s, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s);

    private static uint U32(ReadOnlySpan<byte> s, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
}
