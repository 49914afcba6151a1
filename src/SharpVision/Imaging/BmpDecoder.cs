using SharpVision.IO;
using System.Buffers.Binary;
using System.Numerics;

namespace SharpVision.Imaging;

/// <summary>
/// Managed BMP decoder: OS/2 core (12-byte), BITMAPINFOHEADER and its V2–V5 extensions; 1/4/8-bit palettes, 16-bit
/// (5-5-5 or bit fields), 24-bit, 32-bit (BGRX or bit fields); bottom-up and top-down rows. RLE, embedded JPEG/PNG
/// and OS/2 2.x headers are refused as unsupported. Output: 3 channels RGB; alpha is dropped, as PIL's convert("RGB").
/// Every size is checked against the file's length before the pixels are allocated.
/// </summary>
internal static class BmpDecoder
{
    private const int FileHeaderBytes = 14;

    private readonly record struct Header(int Width, int Height, bool TopDown, int BitsPerPixel, uint[] Masks,
        int PaletteOffset, int PaletteColors, int PaletteEntryBytes, long PixelOffset)
    {
        public long Stride => ((long)Width * BitsPerPixel + 31) / 32 * 4;
    }

    /// <summary>True for "BM" followed by a DIB header size this decoder knows (so a text starting "BM" is not a BMP).</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) =>
        data.Length >= 18 && data[0] == 'B' && data[1] == 'M'
        && BinaryPrimitives.ReadUInt32LittleEndian(data[14..]) is 12 or 40 or 52 or 56 or 64 or 108 or 124;

    /// <summary>Size from the header only.</summary>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string path)
    {
        Header h = ReadHeader(data, path);
        return new ImageInfo("bmp", h.Width, h.Height, 3);
    }

    /// <summary>Decodes the pixels. Shape: (H, W, 3).</summary>
    public static Image Decode(ReadOnlySpan<byte> data, string path, long maxPixels)
    {
        Header h = ReadHeader(data, path);
        ImageDecoder.CheckPixelLimit(h.Width, h.Height, maxPixels, "BMP", path);
        if (h.PixelOffset > data.Length)
            throw new DataFormatException(path, $"corrupt BMP: the pixel data offset {h.PixelOffset} points past the end of the file " +
                $"({data.Length} bytes)");
        long needed = h.Stride * h.Height;
        if (needed > data.Length - h.PixelOffset)
            throw new DataFormatException(path, $"truncated BMP: {h.Width}x{h.Height} at {h.BitsPerPixel} bits needs {needed} bytes " +
                $"of pixel data, the file holds {data.Length - h.PixelOffset} after offset {h.PixelOffset}");
        byte[] palette = Palette(data, h, path);
        var pixels = new byte[checked(h.Width * h.Height * 3)];
        ReadOnlySpan<byte> source = data.Slice((int)h.PixelOffset, (int)needed);
        for (int y = 0; y < h.Height; y++)
        {
            int fileRow = h.TopDown ? y : h.Height - 1 - y;
            ReadOnlySpan<byte> row = source.Slice((int)(fileRow * h.Stride), (int)h.Stride);
            Span<byte> destination = pixels.AsSpan(y * h.Width * 3, h.Width * 3);
            if (h.BitsPerPixel <= 8)
                PaletteRow(row, h.BitsPerPixel, palette, destination);
            else
                MaskedRow(row, h.BitsPerPixel, h.Masks, destination);
        }
        return new Image(h.Width, h.Height, 3, pixels);
    }

    private static Header ReadHeader(ReadOnlySpan<byte> data, string path)
    {
        if (data.Length < 2 || data[0] != 'B' || data[1] != 'M')
            throw new DataFormatException(path, "not a BMP file (bad signature)");
        if (data.Length < FileHeaderBytes + 4)
            throw new DataFormatException(path, "truncated BMP: the file header is cut off");
        long pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]);
        int dibSize = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(data[14..]), int.MaxValue);
        if (dibSize is not (12 or 40 or 52 or 56 or 108 or 124))
            throw new DataFormatException(path, dibSize == 64
                ? "unsupported BMP: OS/2 2.x header"
                : $"corrupt BMP: unknown header size {dibSize}");
        if (data.Length < FileHeaderBytes + dibSize)
            throw new DataFormatException(path, $"truncated BMP: the {dibSize}-byte info header is cut off");
        ReadOnlySpan<byte> info = data.Slice(FileHeaderBytes, dibSize);
        return dibSize == 12 ? CoreHeader(info, pixelOffset, path) : InfoHeader(data, info, pixelOffset, path);
    }

    private static Header CoreHeader(ReadOnlySpan<byte> info, long pixelOffset, string path)
    {
        int width = BinaryPrimitives.ReadUInt16LittleEndian(info[4..]);
        int height = BinaryPrimitives.ReadUInt16LittleEndian(info[6..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(info[10..]);
        if (width == 0 || height == 0)
            throw new DataFormatException(path, $"corrupt BMP: invalid size {width}x{height}");
        if (bits is not (1 or 4 or 8 or 24))
            throw new DataFormatException(path, $"unsupported BMP: {bits} bits per pixel in an OS/2 core header");
        int colors = bits <= 8 ? 1 << bits : 0;
        return new Header(width, height, false, bits, DefaultMasks(bits), FileHeaderBytes + 12, colors, 3, pixelOffset);
    }

    private static Header InfoHeader(ReadOnlySpan<byte> data, ReadOnlySpan<byte> info, long pixelOffset, string path)
    {
        int width = BinaryPrimitives.ReadInt32LittleEndian(info[4..]);
        int rawHeight = BinaryPrimitives.ReadInt32LittleEndian(info[8..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(info[14..]);
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(info[16..]);
        uint colorsUsed = BinaryPrimitives.ReadUInt32LittleEndian(info[32..]);
        if (width <= 0 || rawHeight == 0 || rawHeight == int.MinValue)
            throw new DataFormatException(path, $"corrupt BMP: invalid size {width}x{rawHeight}");
        if (bits is not (1 or 4 or 8 or 16 or 24 or 32))
            throw new DataFormatException(path, $"unsupported BMP: {bits} bits per pixel");
        int tableOffset = FileHeaderBytes + info.Length;
        uint[] masks = DefaultMasks(bits);
        switch (compression)
        {
            case 0:
                break;
            case 3 or 6 when bits is 16 or 32:
                int maskCount = compression == 6 ? 4 : 3;
                if (info.Length >= 52)
                {
                    masks = ReadMasks(info[40..], Math.Min(maskCount, (info.Length - 40) / 4));
                }
                else
                {
                    if (data.Length < tableOffset + 4 * maskCount)
                        throw new DataFormatException(path, "truncated BMP: the bit field masks are cut off");
                    masks = ReadMasks(data[tableOffset..], maskCount);
                    tableOffset += 4 * maskCount;
                }
                CheckMasks(masks, path);
                break;
            case 1 or 2:
                throw new DataFormatException(path, $"unsupported BMP: {(compression == 1 ? "RLE8" : "RLE4")} compression");
            case 4 or 5:
                throw new DataFormatException(path, $"unsupported BMP: embedded {(compression == 4 ? "JPEG" : "PNG")} data");
            default:
                throw new DataFormatException(path, $"unsupported BMP: compression {compression} with {bits} bits per pixel");
        }
        int colors = bits > 8 ? 0 : colorsUsed == 0 || colorsUsed > 1u << bits ? 1 << bits : (int)colorsUsed;
        return new Header(width, Math.Abs(rawHeight), rawHeight < 0, bits, masks, tableOffset, colors, 4, pixelOffset);
    }

    /// <summary>The layout without bit fields: 5-5-5 for 16 bits, BGR(X) bytes for 24 and 32 (alpha ignored).</summary>
    private static uint[] DefaultMasks(int bits) => bits == 16 ? [0x7C00, 0x03E0, 0x001F] : [0xFF0000, 0x00FF00, 0x0000FF];

    private static uint[] ReadMasks(ReadOnlySpan<byte> source, int count)
    {
        var masks = new uint[3];
        for (int i = 0; i < 3 && i < count; i++)
            masks[i] = BinaryPrimitives.ReadUInt32LittleEndian(source[(4 * i)..]);
        return masks;
    }

    private static void CheckMasks(uint[] masks, string path)
    {
        foreach (uint mask in masks)
        {
            uint shifted = mask == 0 ? 0 : mask >> BitOperations.TrailingZeroCount(mask);
            if (mask == 0 || (shifted & (shifted + 1)) != 0)
                throw new DataFormatException(path, $"unsupported BMP: bit field masks 0x{masks[0]:X}, 0x{masks[1]:X}, 0x{masks[2]:X} " +
                    "(each must be one run of bits)");
        }
    }

    /// <summary>256 RGB entries; indices past the file's palette decode as black.</summary>
    private static byte[] Palette(ReadOnlySpan<byte> data, Header h, string path)
    {
        var palette = new byte[768];
        if (h.PaletteColors == 0)
            return palette;
        long end = h.PaletteOffset + (long)h.PaletteColors * h.PaletteEntryBytes;
        if (end > data.Length)
            throw new DataFormatException(path, $"truncated BMP: the {h.PaletteColors}-color palette is cut off");
        for (int i = 0; i < h.PaletteColors; i++)
        {
            int o = h.PaletteOffset + i * h.PaletteEntryBytes; // stored B, G, R(, reserved)
            palette[3 * i] = data[o + 2];
            palette[3 * i + 1] = data[o + 1];
            palette[3 * i + 2] = data[o];
        }
        return palette;
    }

    private static void PaletteRow(ReadOnlySpan<byte> row, int bits, byte[] palette, Span<byte> destination)
    {
        int mask = (1 << bits) - 1;
        for (int x = 0, o = 0; o < destination.Length; x++, o += 3)
        {
            int bit = x * bits;
            int index = (row[bit >> 3] >> (8 - bits - (bit & 7))) & mask;
            destination[o] = palette[3 * index];
            destination[o + 1] = palette[3 * index + 1];
            destination[o + 2] = palette[3 * index + 2];
        }
    }

    private static void MaskedRow(ReadOnlySpan<byte> row, int bits, uint[] masks, Span<byte> destination)
    {
        int bytes = bits / 8;
        Span<int> shift = stackalloc int[3];
        Span<uint> max = stackalloc uint[3];
        for (int c = 0; c < 3; c++)
        {
            shift[c] = BitOperations.TrailingZeroCount(masks[c]);
            max[c] = masks[c] >> shift[c];
        }
        for (int x = 0, o = 0; o < destination.Length; x++, o += 3)
        {
            int at = x * bytes;
            uint value = bytes switch
            {
                2 => BinaryPrimitives.ReadUInt16LittleEndian(row[at..]),
                3 => (uint)(row[at] | row[at + 1] << 8 | row[at + 2] << 16),
                _ => BinaryPrimitives.ReadUInt32LittleEndian(row[at..]),
            };
            for (int c = 0; c < 3; c++)
                destination[o + c] = Scale((value & masks[c]) >> shift[c], max[c]);
        }
    }

    /// <summary>An n-bit field to 0–255: v·255/max (integer division, as PIL's 15/16-bit unpackers); 8-bit fields are as is.</summary>
    private static byte Scale(uint value, uint max) => max switch
    {
        255 => (byte)value,
        > 255 => (byte)(value * 255UL / max),
        _ => (byte)(value * 255 / max),
    };
}
