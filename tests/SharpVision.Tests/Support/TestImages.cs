using System.Buffers.Binary;
using System.IO.Compression;
using SharpVision.Imaging;

namespace SharpVision.Tests.Support;

/// <summary>Builds small images and deliberately broken files in test code.</summary>
internal static class TestImages
{
    /// <summary>A gray image whose pixels come from a seeded generator.</summary>
    public static Image RandomGray(int width, int height, int seed)
    {
        var pixels = new byte[width * height];
        new Random(seed).NextBytes(pixels);
        return new Image(width, height, 1, pixels);
    }

    /// <summary>A PNG whose IHDR claims <paramref name="width"/>×<paramref name="height"/> with a tiny, valid-CRC header and nothing behind it.</summary>
    public static byte[] PngHeaderClaiming(int width, int height)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 0; // gray
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, 13);
        ms.Write(word);
        var typed = new byte[17];
        "IHDR"u8.CopyTo(typed);
        ihdr.CopyTo(typed, 4);
        ms.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(word, System.IO.Hashing.Crc32Stub.Compute(typed));
        ms.Write(word);
        return ms.ToArray();
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }
}
