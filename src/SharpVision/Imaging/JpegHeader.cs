using SharpVision.IO;
using System.Buffers.Binary;

namespace SharpVision.Imaging;

/// <summary>One frame component from SOF: id, sampling factors, quantization table.</summary>
internal readonly record struct JpegComponentSpec(int Id, int H, int V, int QuantTable);

/// <summary>
/// A JPEG's frame header (SOF) plus the markers that decide its color space, read without touching scan data.
/// Refuses what neither decoder supports: arithmetic coding, lossless/hierarchical, 12-bit, CMYK.
/// </summary>
internal sealed class JpegHeader
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    public required bool Progressive { get; init; }
    public required JpegComponentSpec[] Components { get; init; }
    public required bool SawJfif { get; init; }
    /// <summary>Adobe APP14 transform flag, -1 when there is no Adobe marker.</summary>
    public required int AdobeTransform { get; init; }
    /// <summary>EXIF orientation 1–8 from the first APP1 "Exif" segment before the frame header; 1 when there is none.</summary>
    public int Orientation { get; init; } = 1;

    public int Channels => Components.Length == 1 ? 1 : 3;

    /// <summary>True when 3 components hold YCbCr (convert to RGB); false when they already are RGB (libjpeg's rules).</summary>
    public bool IsYCbCr
    {
        get
        {
            if (Components.Length != 3 || SawJfif)
                return Components.Length == 3;
            if (AdobeTransform >= 0)
                return AdobeTransform != 0;
            return !(Components[0].Id == 'R' && Components[1].Id == 'G' && Components[2].Id == 'B');
        }
    }

    /// <summary>The size as decoded: width and height swap when the EXIF orientation turns the image a quarter.</summary>
    public ImageInfo ToInfo() => ExifOrientation.SwapsAxes(Orientation)
        ? new("jpeg", Height, Width, Channels)
        : new("jpeg", Width, Height, Channels);

    public static JpegHeader Read(ReadOnlySpan<byte> data, string path)
    {
        bool sawJfif = false;
        int adobe = -1;
        int orientation = 0;
        int pos = 2;
        while (true)
        {
            int marker = NextMarker(data, ref pos, path, "before the frame header (SOF)");
            if (marker is 0xD8 or 0xD9)
                throw new DataFormatException(path, $"corrupt JPEG: marker 0xFF{marker:X2} before the frame header (SOF)");
            if (marker is >= 0xD0 and <= 0xD7 or 0x01)
                continue;
            ReadOnlySpan<byte> segment = Segment(data, ref pos, marker, path);
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC2:
                    return ParseFrame(segment, marker == 0xC2, sawJfif, adobe, Math.Max(1, orientation), path);
                case 0xC3 or 0xC7 or 0xCB or 0xCF:
                    throw new DataFormatException(path, $"unsupported JPEG: lossless coding (SOF marker 0xFF{marker:X2})");
                case 0xC5 or 0xC6:
                    throw new DataFormatException(path, $"unsupported JPEG: hierarchical coding (SOF marker 0xFF{marker:X2})");
                case 0xC9 or 0xCA or 0xCD or 0xCE or 0xCC:
                    throw new DataFormatException(path, $"unsupported JPEG: arithmetic coding (marker 0xFF{marker:X2})");
                case 0xC8:
                    throw new DataFormatException(path, "unsupported JPEG: reserved JPG extension marker 0xFFC8");
                case 0xDA:
                    throw new DataFormatException(path, "corrupt JPEG: scan (SOS) before the frame header (SOF)");
                case 0xE0 when segment.Length >= 5 && segment[..5].SequenceEqual("JFIF\0"u8):
                    sawJfif = true;
                    break;
                case 0xE1 when orientation == 0 && segment.Length >= 6 && segment[..6].SequenceEqual("Exif\0\0"u8):
                    orientation = ExifOrientation.Parse(segment);
                    break;
                case 0xEE when segment.Length >= 12 && segment[..5].SequenceEqual("Adobe"u8):
                    adobe = segment[11];
                    break;
            }
        }
    }

    /// <summary>Skips to the next marker (tolerating stray bytes and 0xFF fill) and returns its code; <paramref name="pos"/> ends after it.</summary>
    internal static int NextMarker(ReadOnlySpan<byte> data, ref int pos, string path, string where)
    {
        while (pos < data.Length && data[pos] != 0xFF)
            pos++;
        while (pos < data.Length && data[pos] == 0xFF)
            pos++;
        if (pos >= data.Length)
            throw new DataFormatException(path, $"truncated JPEG: file ends {where}");
        return data[pos++];
    }

    /// <summary>Returns a marker segment's payload (after the length word) and moves <paramref name="pos"/> past it.</summary>
    internal static ReadOnlySpan<byte> Segment(ReadOnlySpan<byte> data, ref int pos, int marker, string path)
    {
        if (data.Length - pos < 2)
            throw new DataFormatException(path, $"truncated JPEG: segment 0xFF{marker:X2} at offset {pos - 2} is cut off");
        int length = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
        if (length < 2)
            throw new DataFormatException(path, $"corrupt JPEG: segment 0xFF{marker:X2} at offset {pos - 2} has invalid length {length}");
        if (length > data.Length - pos)
            throw new DataFormatException(path, $"truncated JPEG: segment 0xFF{marker:X2} at offset {pos - 2} claims {length} bytes but only {data.Length - pos} remain");
        ReadOnlySpan<byte> payload = data.Slice(pos + 2, length - 2);
        pos += length;
        return payload;
    }

    private static JpegHeader ParseFrame(ReadOnlySpan<byte> s, bool progressive, bool sawJfif, int adobe, int orientation, string path)
    {
        if (s.Length < 6)
            throw new DataFormatException(path, "corrupt JPEG: frame header (SOF) is too short");
        int precision = s[0];
        int height = BinaryPrimitives.ReadUInt16BigEndian(s[1..]);
        int width = BinaryPrimitives.ReadUInt16BigEndian(s[3..]);
        int count = s[5];
        if (precision != 8)
            throw new DataFormatException(path, $"unsupported JPEG: {precision}-bit samples (only 8-bit is supported)");
        if (height == 0)
            throw new DataFormatException(path, "unsupported JPEG: height defined by a DNL marker (SOF height is 0)");
        if (width == 0)
            throw new DataFormatException(path, "corrupt JPEG: frame header (SOF) has width 0");
        if (count == 4)
            throw new DataFormatException(path, "unsupported JPEG: 4-component (CMYK/YCCK) images");
        if (count is not (1 or 3))
            throw new DataFormatException(path, $"unsupported JPEG: {count} components (only 1 or 3 are supported)");
        if (s.Length < 6 + 3 * count)
            throw new DataFormatException(path, "corrupt JPEG: frame header (SOF) is too short for its components");
        var components = new JpegComponentSpec[count];
        for (int i = 0; i < count; i++)
        {
            int id = s[6 + 3 * i], h = s[7 + 3 * i] >> 4, v = s[7 + 3 * i] & 15, tq = s[8 + 3 * i];
            if (h is < 1 or > 4 || v is < 1 or > 4 || tq > 3)
                throw new DataFormatException(path, $"corrupt JPEG: component {id} has invalid sampling {h}x{v} or table {tq}");
            components[i] = new JpegComponentSpec(id, h, v, tq);
        }
        int hMax = components.Max(c => c.H), vMax = components.Max(c => c.V);
        foreach (JpegComponentSpec c in components)
        {
            if (hMax % c.H != 0 || vMax % c.V != 0)
                throw new DataFormatException(path, $"unsupported JPEG: fractional sampling factors ({c.H}x{c.V} against {hMax}x{vMax})");
        }
        return new JpegHeader
        {
            Width = width,
            Height = height,
            Progressive = progressive,
            Components = components,
            SawJfif = sawJfif,
            AdobeTransform = adobe,
            Orientation = orientation,
        };
    }
}
