using SharpVision.IO;
using System.Buffers;
using System.Buffers.Binary;

namespace SharpVision.Imaging;

/// <summary>
/// Managed GIF decoder (87a and 89a): the first frame only, LZW, global and local color tables, interlacing.
/// Output: 3 channels RGB, as PIL's convert("RGB"). Transparency is dropped, not composited: a transparent pixel keeps
/// its palette color. The image is the logical screen, enlarged to hold the frame when the frame reaches past it;
/// pixels the frame does not cover take the color of the frame's transparent index, or of index 0 (PIL's choice).
/// A file without any color table is read as gray (index i → (i, i, i)).
/// </summary>
internal static class GifDecoder
{
    /// <summary>A 12-bit LZW code emits at most 4096 pixels and takes at least 2 bits: no frame needs fewer bytes.</summary>
    private const int MaxPixelsPerLzwByte = 4096 * 4;

    private const int MaxCodes = 4096;

    private readonly record struct Screen(int Width, int Height, int GlobalTableOffset, int GlobalColors, int End);

    private readonly record struct Frame(int Left, int Top, int Width, int Height, bool Interlaced,
        int TableOffset, int Colors, int Transparent, int MinCodeSize, int DataStart, int DataBytes);

    /// <summary>True when <paramref name="data"/> starts with "GIF87a" or "GIF89a".</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) =>
        data.Length >= 6 && (data[..6].SequenceEqual("GIF87a"u8) || data[..6].SequenceEqual("GIF89a"u8));

    /// <summary>The decoded size: the logical screen, enlarged to the first frame's extent (no LZW data is decoded).</summary>
    public static ImageInfo ReadInfo(ReadOnlySpan<byte> data, string path)
    {
        Screen screen = ReadScreen(data, path);
        Frame frame = FindFirstFrame(data, screen, path);
        return new ImageInfo("gif", Math.Max(screen.Width, frame.Left + frame.Width), Math.Max(screen.Height, frame.Top + frame.Height), 3);
    }

    /// <summary>Decodes the first frame. Shape: (H, W, 3).</summary>
    public static Image Decode(ReadOnlySpan<byte> data, string path, long maxPixels)
    {
        Screen screen = ReadScreen(data, path);
        ImageDecoder.CheckPixelLimit(screen.Width, screen.Height, maxPixels, "GIF", path);
        Frame frame = FindFirstFrame(data, screen, path);
        ImageDecoder.CheckPixelLimit(frame.Width, frame.Height, maxPixels, "GIF frame", path);
        int width = Math.Max(screen.Width, frame.Left + frame.Width);
        int height = Math.Max(screen.Height, frame.Top + frame.Height);
        ImageDecoder.CheckPixelLimit(width, height, maxPixels, "GIF", path);
        long framePixels = (long)frame.Width * frame.Height;
        if (framePixels > (long)frame.DataBytes * MaxPixelsPerLzwByte)
            throw new DataFormatException(path, $"truncated GIF: a {frame.Width}x{frame.Height} frame needs at least " +
                $"{(framePixels + MaxPixelsPerLzwByte - 1) / MaxPixelsPerLzwByte} bytes of image data, the file holds {frame.DataBytes}");

        byte[] palette = Palette(data, screen, frame);
        byte[] lzw = ArrayPool<byte>.Shared.Rent(Math.Max(1, frame.DataBytes));
        byte[] indices = ArrayPool<byte>.Shared.Rent((int)framePixels);
        try
        {
            int lzwLength = GatherSubBlocks(data, frame.DataStart, lzw);
            DecodeLzw(lzw.AsSpan(0, lzwLength), frame.MinCodeSize, indices.AsSpan(0, (int)framePixels), path);
            return Compose(frame, palette, indices, width, height);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(lzw);
            ArrayPool<byte>.Shared.Return(indices);
        }
    }

    private static Screen ReadScreen(ReadOnlySpan<byte> data, string path)
    {
        if (!HasSignature(data))
            throw new DataFormatException(path, "not a GIF file (bad signature)");
        if (data.Length < 13)
            throw new DataFormatException(path, "truncated GIF: the logical screen descriptor is cut off");
        int width = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        int height = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
        int flags = data[10];
        int colors = (flags & 0x80) != 0 ? 2 << (flags & 7) : 0;
        int end = 13 + 3 * colors;
        if (end > data.Length)
            throw new DataFormatException(path, $"truncated GIF: the global color table ({colors} colors) is cut off");
        return new Screen(width, height, 13, colors, end);
    }

    /// <summary>Walks extensions up to the first image descriptor, keeping the transparent index of the last Graphic Control Extension.</summary>
    private static Frame FindFirstFrame(ReadOnlySpan<byte> data, Screen screen, string path)
    {
        int pos = screen.End;
        int transparent = -1;
        while (true)
        {
            if (pos >= data.Length)
                throw new DataFormatException(path, "truncated GIF: the file ends before the first image");
            int block = data[pos];
            switch (block)
            {
                case 0x21:
                    if (pos + 1 >= data.Length)
                        throw new DataFormatException(path, $"truncated GIF: extension at offset {pos} is cut off");
                    if (data[pos + 1] == 0xF9 && pos + 7 < data.Length && data[pos + 2] == 4)
                        transparent = (data[pos + 3] & 1) != 0 ? data[pos + 6] : -1;
                    pos = SkipSubBlocks(data, pos + 2, path, out _);
                    break;
                case 0x2C:
                    return ReadFrame(data, pos, transparent, path);
                case 0x3B:
                    throw new DataFormatException(path, $"corrupt GIF: no image before the trailer at offset {pos}");
                default:
                    throw new DataFormatException(path, $"corrupt GIF: unknown block 0x{block:X2} at offset {pos}");
            }
        }
    }

    private static Frame ReadFrame(ReadOnlySpan<byte> data, int pos, int transparent, string path)
    {
        if (data.Length - pos < 10)
            throw new DataFormatException(path, $"truncated GIF: image descriptor at offset {pos} is cut off");
        ReadOnlySpan<byte> d = data[(pos + 1)..];
        int left = BinaryPrimitives.ReadUInt16LittleEndian(d);
        int top = BinaryPrimitives.ReadUInt16LittleEndian(d[2..]);
        int width = BinaryPrimitives.ReadUInt16LittleEndian(d[4..]);
        int height = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]);
        int flags = d[8];
        if (width == 0 || height == 0)
            throw new DataFormatException(path, $"corrupt GIF: the first frame is {width}x{height}");
        int colors = (flags & 0x80) != 0 ? 2 << (flags & 7) : 0;
        int tableOffset = pos + 10;
        int codeSizeAt = tableOffset + 3 * colors;
        if (codeSizeAt >= data.Length)
            throw new DataFormatException(path, "truncated GIF: the first frame's color table or image data is cut off");
        int minCodeSize = data[codeSizeAt];
        if (minCodeSize is < 1 or > 8)
            throw new DataFormatException(path, $"corrupt GIF: LZW minimum code size {minCodeSize} (must be 1 to 8)");
        SkipSubBlocks(data, codeSizeAt + 1, path, out int dataBytes);
        return new Frame(left, top, width, height, (flags & 0x40) != 0, tableOffset, colors, transparent, minCodeSize,
            codeSizeAt + 1, dataBytes);
    }

    /// <summary>
    /// Returns the offset after the sub-block chain starting at <paramref name="pos"/> (its zero terminator included);
    /// <paramref name="payload"/> is the bytes the chain carries, without its length bytes.
    /// </summary>
    private static int SkipSubBlocks(ReadOnlySpan<byte> data, int pos, string path, out int payload)
    {
        payload = 0;
        while (true)
        {
            if (pos >= data.Length)
                throw new DataFormatException(path, "truncated GIF: data sub-blocks end without a terminator");
            int size = data[pos];
            if (size == 0)
                return pos + 1;
            if (size >= data.Length - pos)
                throw new DataFormatException(path, $"truncated GIF: data sub-block at offset {pos} claims {size} bytes, " +
                    $"{data.Length - pos - 1} remain");
            payload += size;
            pos += 1 + size;
        }
    }

    /// <summary>Concatenates the payloads of the (already validated) sub-block chain at <paramref name="pos"/>.</summary>
    private static int GatherSubBlocks(ReadOnlySpan<byte> data, int pos, Span<byte> destination)
    {
        int filled = 0;
        for (int size = data[pos]; size != 0; size = data[pos])
        {
            data.Slice(pos + 1, size).CopyTo(destination[filled..]);
            filled += size;
            pos += 1 + size;
        }
        return filled;
    }

    /// <summary>256 RGB entries: the local table, else the global one, else a gray ramp; missing entries are black.</summary>
    private static byte[] Palette(ReadOnlySpan<byte> data, Screen screen, Frame frame)
    {
        var palette = new byte[768];
        if (frame.Colors > 0)
            data.Slice(frame.TableOffset, 3 * frame.Colors).CopyTo(palette);
        else if (screen.GlobalColors > 0)
            data.Slice(screen.GlobalTableOffset, 3 * screen.GlobalColors).CopyTo(palette);
        else
            for (int i = 0; i < 256; i++)
                palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = (byte)i;
        return palette;
    }

    /// <summary>Variable-width LZW as GIF uses it (codes LSB first, up to 12 bits, deferred clear allowed).</summary>
    internal static void DecodeLzw(ReadOnlySpan<byte> lzw, int minCodeSize, Span<byte> output, string path)
    {
        int clear = 1 << minCodeSize, end = clear + 1;
        Span<ushort> prefix = stackalloc ushort[MaxCodes];
        Span<byte> suffix = stackalloc byte[MaxCodes];
        Span<byte> first = stackalloc byte[MaxCodes];
        Span<byte> stack = stackalloc byte[MaxCodes];
        for (int i = 0; i < clear; i++)
            suffix[i] = first[i] = (byte)i;
        int codeSize = minCodeSize + 1, next = end + 1, previous = -1;
        int bitPos = 0, written = 0;
        long totalBits = (long)lzw.Length * 8;
        while (written < output.Length)
        {
            if (bitPos + codeSize > totalBits)
                throw new DataFormatException(path, $"truncated GIF: LZW data ends after {written} of {output.Length} pixels");
            int code = ReadCode(lzw, bitPos, codeSize);
            bitPos += codeSize;
            if (code == clear)
            {
                codeSize = minCodeSize + 1;
                next = end + 1;
                previous = -1;
                continue;
            }
            if (code == end)
                throw new DataFormatException(path, $"corrupt GIF: LZW end code after {written} of {output.Length} pixels");
            int length;
            if (previous < 0)
            {
                if (code > clear)
                    throw new DataFormatException(path, $"corrupt GIF: LZW code {code} where a color index (below {clear}) must come");
                stack[0] = (byte)code;
                length = 1;
            }
            else
            {
                if (code > next || (code == next && next >= MaxCodes))
                    throw new DataFormatException(path, $"corrupt GIF: LZW code {code} is out of range (the table holds {next} codes)");
                byte head = code == next ? first[previous] : first[code];
                if (next < MaxCodes)
                {
                    prefix[next] = (ushort)previous;
                    suffix[next] = head;
                    first[next] = first[previous];
                    next++;
                    if (next == 1 << codeSize && codeSize < 12)
                        codeSize++;
                }
                length = Unwind(code, prefix, suffix, clear, stack);
            }
            int take = Math.Min(length, output.Length - written);
            for (int i = 0; i < take; i++)
                output[written + i] = stack[length - 1 - i];
            written += take;
            previous = code;
        }
    }

    /// <summary>Writes the string of <paramref name="code"/> into <paramref name="stack"/> last byte first; returns its length.</summary>
    private static int Unwind(int code, ReadOnlySpan<ushort> prefix, ReadOnlySpan<byte> suffix, int clear, Span<byte> stack)
    {
        int length = 0;
        while (code >= clear)
        {
            stack[length++] = suffix[code];
            code = prefix[code]; // prefix[c] < c, so the walk ends
        }
        stack[length++] = (byte)code;
        return length;
    }

    private static int ReadCode(ReadOnlySpan<byte> lzw, int bitPos, int codeSize)
    {
        int byteIndex = bitPos >> 3;
        int value = lzw[byteIndex];
        if (byteIndex + 1 < lzw.Length) value |= lzw[byteIndex + 1] << 8;
        if (byteIndex + 2 < lzw.Length) value |= lzw[byteIndex + 2] << 16;
        return (value >> (bitPos & 7)) & ((1 << codeSize) - 1);
    }

    /// <summary>Places the frame's rows (in interlaced pass order when flagged) on a canvas filled with the fill color.</summary>
    private static Image Compose(Frame frame, byte[] palette, byte[] indices, int width, int height)
    {
        var pixels = new byte[checked(width * height * 3)];
        int fill = frame.Transparent >= 0 ? frame.Transparent : 0;
        for (int i = 0; i < pixels.Length; i += 3)
        {
            pixels[i] = palette[3 * fill];
            pixels[i + 1] = palette[3 * fill + 1];
            pixels[i + 2] = palette[3 * fill + 2];
        }
        int row = 0;
        foreach ((int start, int step) in frame.Interlaced ? InterlacePasses : [(0, 1)])
        {
            for (int y = start; y < frame.Height; y += step, row++)
            {
                int o = ((frame.Top + y) * width + frame.Left) * 3;
                int s = row * frame.Width;
                for (int x = 0; x < frame.Width; x++, o += 3)
                {
                    int p = 3 * indices[s + x];
                    pixels[o] = palette[p];
                    pixels[o + 1] = palette[p + 1];
                    pixels[o + 2] = palette[p + 2];
                }
            }
        }
        return new Image(width, height, 3, pixels);
    }

    private static readonly (int Start, int Step)[] InterlacePasses = [(0, 8), (4, 8), (2, 4), (1, 2)];
}
