using SharpVision.IO;
using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SharpVision.Imaging;

/// <summary>
/// Managed PNG decoder: every color type, bit depths 1–16, all five filters, Adam7.
/// Output: gray and gray+alpha → 1 channel; RGB, palette and RGBA → 3 channels.
/// Alpha is dropped (not composited), 16-bit samples keep their high byte, and
/// 1/2/4-bit gray is scaled to 0–255 by bit replication — all as PIL does.
/// </summary>
internal static class PngDecoder
{
    internal static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    // Adam7 passes: x0, y0, dx, dy.
    private static ReadOnlySpan<byte> Adam7 => [0, 0, 8, 8, 4, 0, 8, 8, 0, 4, 4, 8, 2, 0, 4, 4, 0, 2, 2, 4, 1, 0, 2, 2, 0, 1, 1, 2];

    private readonly record struct Header(int Width, int Height, int BitDepth, int ColorType, bool Interlaced)
    {
        public int SamplesPerPixel => ColorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        public int BitsPerPixel => SamplesPerPixel * BitDepth;
        public int OutChannels => ColorType is 0 or 4 ? 1 : 3;
    }

    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string path)
    {
        Header h = ReadHeader(data, path);
        return new ImageInfo("png", h.Width, h.Height, h.OutChannels);
    }

    public static Image Decode(ReadOnlySpan<byte> data, string path, long maxPixels)
    {
        Header h = ReadHeader(data, path);
        ImageDecoder.CheckPixelLimit(h.Width, h.Height, maxPixels, "PNG", path);

        byte[]? palette = null;
        int idatTotal = 0;
        int idatCount = 0;
        bool sawIend = false;
        int pos = 8;
        // First walk: validate every chunk (bounds, CRC) and size the IDAT stream.
        while (!sawIend)
        {
            int chunkLength = ReadChunk(data, pos, path, out ReadOnlySpan<byte> type);
            ReadOnlySpan<byte> body = data.Slice(pos + 8, chunkLength);
            switch (ChunkName(type))
            {
                case "IHDR":
                    if (pos != 8)
                        throw new DataFormatException(path, $"corrupt PNG: second IHDR chunk at offset {pos}");
                    break;
                case "PLTE":
                    if (chunkLength == 0 || chunkLength % 3 != 0 || chunkLength > 768)
                        throw new DataFormatException(path, $"corrupt PNG: PLTE chunk has invalid length {chunkLength}");
                    palette = new byte[768]; // indices past the palette decode as black
                    body.CopyTo(palette);
                    break;
                case "IDAT":
                    if ((long)idatTotal + chunkLength > Array.MaxLength)
                        throw new DataFormatException(path, "unsupported PNG: compressed image data exceeds 2 GB");
                    idatTotal += chunkLength;
                    idatCount++;
                    break;
                case "IEND":
                    sawIend = true;
                    break;
                default:
                    if ((type[0] & 0x20) == 0)
                        throw new DataFormatException(path, $"unsupported PNG: unknown critical chunk '{ChunkName(type)}'");
                    break;
            }
            pos += 12 + chunkLength;
        }

        if (idatCount == 0)
            throw new DataFormatException(path, "corrupt PNG: no IDAT chunk");
        if (h.ColorType == 3 && palette is null)
            throw new DataFormatException(path, "corrupt PNG: palette image without a PLTE chunk");

        // Second walk: gather the IDAT payloads into one zlib stream.
        var compressed = new byte[idatTotal];
        int filled = 0;
        pos = 8;
        while (true)
        {
            int chunkLength = ReadChunk(data, pos, path, out ReadOnlySpan<byte> type);
            if (type.SequenceEqual("IDAT"u8))
            {
                data.Slice(pos + 8, chunkLength).CopyTo(compressed.AsSpan(filled));
                filled += chunkLength;
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                break;
            }
            pos += 12 + chunkLength;
        }

        int outChannels = h.OutChannels;
        var pixels = new byte[checked((long)h.Width * h.Height * outChannels)];
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(compressed, writable: false), CompressionMode.Decompress);
            if (!h.Interlaced)
            {
                DecodePass(zlib, h, palette, pixels, 0, 0, 1, 1, h.Width, h.Height, path);
            }
            else
            {
                ReadOnlySpan<byte> adam7 = Adam7;
                for (int p = 0; p < 7; p++)
                {
                    int x0 = adam7[4 * p], y0 = adam7[4 * p + 1], dx = adam7[4 * p + 2], dy = adam7[4 * p + 3];
                    int passWidth = (int)(((long)h.Width - x0 + dx - 1) / dx);
                    int passHeight = (int)(((long)h.Height - y0 + dy - 1) / dy);
                    if (passWidth > 0 && passHeight > 0)
                        DecodePass(zlib, h, palette, pixels, x0, y0, dx, dy, passWidth, passHeight, path);
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"corrupt PNG: the zlib stream in IDAT is invalid ({e.Message})", e);
        }
        return new Image(h.Width, h.Height, outChannels, pixels);
    }

    /// <summary>Validates the chunk at <paramref name="pos"/> (bounds and CRC) and returns its data length.</summary>
    private static int ReadChunk(ReadOnlySpan<byte> data, int pos, string path, out ReadOnlySpan<byte> type)
    {
        if (pos >= data.Length)
            throw new DataFormatException(path, $"truncated PNG: file ends at offset {pos} before the IEND chunk");
        if (data.Length - pos < 12)
            throw new DataFormatException(path, $"truncated PNG: chunk header at offset {pos} is cut off");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(data[pos..]);
        type = data.Slice(pos + 4, 4);
        foreach (byte c in type)
        {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')))
                throw new DataFormatException(path, $"corrupt PNG: invalid chunk type at offset {pos}");
        }
        if (length > int.MaxValue)
            throw new DataFormatException(path, $"corrupt PNG: chunk '{ChunkName(type)}' at offset {pos} claims {length} bytes (limit is 2^31-1)");
        long available = data.Length - pos - 12L;
        if (length > available)
            throw new DataFormatException(path, $"truncated PNG: chunk '{ChunkName(type)}' at offset {pos} claims {length} bytes but only {Math.Max(0, available)} remain");
        uint expected = BinaryPrimitives.ReadUInt32BigEndian(data[(pos + 8 + (int)length)..]);
        uint actual = Crc32.Compute(data.Slice(pos + 4, 4 + (int)length));
        if (expected != actual)
            throw new DataFormatException(path, $"corrupt PNG: bad CRC in chunk '{ChunkName(type)}' at offset {pos} (stored 0x{expected:X8}, computed 0x{actual:X8})");
        return (int)length;
    }

    private static string ChunkName(ReadOnlySpan<byte> type) => Encoding.ASCII.GetString(type);

    private static Header ReadHeader(ReadOnlySpan<byte> data, string path)
    {
        if (data.Length < 8 || !data[..8].SequenceEqual(Signature))
            throw new DataFormatException(path, "not a PNG file (bad signature)");
        int length = ReadChunk(data, 8, path, out ReadOnlySpan<byte> type);
        if (!type.SequenceEqual("IHDR"u8))
            throw new DataFormatException(path, $"corrupt PNG: first chunk is '{ChunkName(type)}', expected IHDR");
        if (length != 13)
            throw new DataFormatException(path, $"corrupt PNG: IHDR chunk has length {length}, expected 13");
        ReadOnlySpan<byte> ihdr = data.Slice(16, 13);
        uint width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        int bitDepth = ihdr[8], colorType = ihdr[9];
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            throw new DataFormatException(path, $"corrupt PNG: invalid dimensions {width}x{height} in IHDR");
        bool depthOk = colorType switch
        {
            0 => bitDepth is 1 or 2 or 4 or 8 or 16,
            3 => bitDepth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => bitDepth is 8 or 16,
            _ => false,
        };
        if (!depthOk)
            throw new DataFormatException(path, $"corrupt PNG: invalid color type {colorType} with bit depth {bitDepth} in IHDR");
        if (ihdr[10] != 0 || ihdr[11] != 0)
            throw new DataFormatException(path, $"corrupt PNG: unknown compression method {ihdr[10]} or filter method {ihdr[11]} in IHDR");
        if (ihdr[12] > 1)
            throw new DataFormatException(path, $"corrupt PNG: unknown interlace method {ihdr[12]} in IHDR");
        return new Header((int)width, (int)height, bitDepth, colorType, ihdr[12] == 1);
    }

    private static void DecodePass(Stream zlib, Header h, byte[]? palette, byte[] pixels,
        int x0, int y0, int dx, int dy, int passWidth, int passHeight, string path)
    {
        int rowBytes = (int)(((long)passWidth * h.BitsPerPixel + 7) / 8);
        int bpp = Math.Max(1, h.BitsPerPixel / 8);
        byte[] bufA = ArrayPool<byte>.Shared.Rent(rowBytes + 1);
        byte[] bufB = ArrayPool<byte>.Shared.Rent(rowBytes + 1);
        try
        {
            Span<byte> previous = bufA.AsSpan(0, rowBytes + 1);
            Span<byte> current = bufB.AsSpan(0, rowBytes + 1);
            previous.Clear();
            for (int y = 0; y < passHeight; y++)
            {
                int read = zlib.ReadAtLeast(current, current.Length, throwOnEndOfStream: false);
                if (read < current.Length)
                    throw new DataFormatException(path, "truncated PNG: IDAT stream ends early");
                int filter = current[0];
                if (filter > 4)
                    throw new DataFormatException(path, $"corrupt PNG: bad filter type {filter} on row {y}");
                Unfilter(filter, current[1..], previous[1..], bpp);
                EmitRow(current[1..], h, palette, pixels, y0 + y * dy, x0, dx, passWidth);
                Span<byte> swap = previous;
                previous = current;
                current = swap;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bufA);
            ArrayPool<byte>.Shared.Return(bufB);
        }
    }

    private static void Unfilter(int filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        int n = row.Length;
        switch (filter)
        {
            case 1: // Sub
                for (int i = bpp; i < n; i++)
                    row[i] += row[i - bpp];
                break;
            case 2: // Up
                for (int i = 0; i < n; i++)
                    row[i] += prior[i];
                break;
            case 3: // Average
                for (int i = 0; i < bpp && i < n; i++)
                    row[i] += (byte)(prior[i] >> 1);
                for (int i = bpp; i < n; i++)
                    row[i] += (byte)((row[i - bpp] + prior[i]) >> 1);
                break;
            case 4: // Paeth
                for (int i = 0; i < bpp && i < n; i++)
                    row[i] += prior[i];
                for (int i = bpp; i < n; i++)
                {
                    int a = row[i - bpp], b = prior[i], c = prior[i - bpp];
                    int pa = Math.Abs(b - c), pb = Math.Abs(a - c), pc = Math.Abs(a + b - 2 * c);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
        }
    }

    /// <summary>Converts one unfiltered row to output pixels at (x0 + i·dx, y).</summary>
    private static void EmitRow(ReadOnlySpan<byte> row, Header h, byte[]? palette, byte[] pixels, int y, int x0, int dx, int count)
    {
        int outChannels = h.OutChannels;
        Span<byte> dst = pixels.AsSpan((int)((long)y * h.Width * outChannels));
        int step = dx * outChannels;
        int o = x0 * outChannels;
        int depth = h.BitDepth;
        switch (h.ColorType)
        {
            case 0 when depth == 8 && dx == 1:
                row[..count].CopyTo(dst);
                break;
            case 2 when depth == 8 && dx == 1:
                row[..(3 * count)].CopyTo(dst);
                break;
            case 0 or 4 or 2 or 6 when depth >= 8:
            {
                // Sample s of pixel i lives at byte (i·spp + s)·(depth/8); 16-bit keeps the high byte.
                int bytesPerSample = depth / 8;
                int stride = h.SamplesPerPixel * bytesPerSample;
                for (int i = 0, src = 0; i < count; i++, src += stride, o += step)
                {
                    dst[o] = row[src];
                    if (outChannels == 3)
                    {
                        dst[o + 1] = row[src + bytesPerSample];
                        dst[o + 2] = row[src + 2 * bytesPerSample];
                    }
                }
                break;
            }
            case 0:
            {
                int mask = (1 << depth) - 1;
                int scale = 255 / mask;
                for (int i = 0; i < count; i++, o += step)
                    dst[o] = (byte)(Sample(row, i, depth, mask) * scale);
                break;
            }
            case 3:
            {
                byte[] pal = palette!;
                int mask = (1 << depth) - 1;
                for (int i = 0; i < count; i++, o += step)
                {
                    int index = depth == 8 ? row[i] : Sample(row, i, depth, mask);
                    dst[o] = pal[3 * index];
                    dst[o + 1] = pal[3 * index + 1];
                    dst[o + 2] = pal[3 * index + 2];
                }
                break;
            }
        }
    }

    private static int Sample(ReadOnlySpan<byte> row, int i, int depth, int mask)
    {
        int bit = i * depth;
        return (row[bit >> 3] >> (8 - depth - (bit & 7))) & mask;
    }
}
