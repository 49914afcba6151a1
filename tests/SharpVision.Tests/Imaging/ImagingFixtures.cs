using Xunit;
using System.Buffers.Binary;
using System.IO.Compression;
using SharpVision.Imaging;

namespace SharpVision.Tests.Imaging;

/// <summary>Loads the files written by tests/Fixtures/imaging/make_fixtures.py and builds corrupt inputs.</summary>
internal static class ImagingFixtures
{
    /// <summary>A fixture of tests/Fixtures/<paramref name="area"/> (imaging: PNG/JPEG; photos: GIF, BMP, WebP, EXIF).</summary>
    public static string PathOf(string name, string area = "imaging") => Path.Combine(AppContext.BaseDirectory, "Fixtures", area, name);

    public static byte[] Bytes(string name, string area = "imaging") => File.ReadAllBytes(PathOf(name, area));

    /// <summary>Reads a .raw file: three little-endian int32 (width, height, channels), then the pixels.</summary>
    public static Image Raw(string name, string area = "imaging")
    {
        byte[] bytes = Bytes(name, area);
        int width = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        int height = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4));
        int channels = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        return new Image(width, height, channels, bytes[12..]);
    }

    public static void AssertSameShape(Image expected, Image actual)
    {
        Assert.Equal(expected.Width, actual.Width);
        Assert.Equal(expected.Height, actual.Height);
        Assert.Equal(expected.Channels, actual.Channels);
    }

    /// <summary>Largest |expected − actual| over all samples, with the first position where it occurs.</summary>
    public static (int Error, int Index) MaxAbsError(Image expected, Image actual)
    {
        AssertSameShape(expected, actual);
        int worst = 0, index = -1;
        for (int i = 0; i < expected.Pixels.Length; i++)
        {
            int e = Math.Abs(expected.Pixels[i] - actual.Pixels[i]);
            if (e > worst)
            {
                worst = e;
                index = i;
            }
        }
        return (worst, index);
    }

    public static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk.AsSpan(8));
        uint crc = Crc32.Compute(chunk.AsSpan(4, 4 + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), crc);
        return chunk;
    }

    public static byte[] Ihdr(int width, int height, byte bitDepth, byte colorType)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        return Chunk("IHDR", ihdr);
    }

    public static byte[] Zlib(ReadOnlySpan<byte> raw)
    {
        var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
            z.Write(raw);
        return output.ToArray();
    }

    /// <summary>A PNG from hand-made parts: signature + IHDR + the given chunks + IEND.</summary>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, params byte[][] chunks)
    {
        var all = new List<byte>();
        all.AddRange([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        all.AddRange(Ihdr(width, height, bitDepth, colorType));
        foreach (byte[] chunk in chunks)
            all.AddRange(chunk);
        all.AddRange(Chunk("IEND", []));
        return all.ToArray();
    }
}
