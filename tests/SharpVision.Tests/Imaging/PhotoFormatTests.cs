using SharpVision.Imaging;
using SharpVision.IO;
using System.Buffers.Binary;
using Xunit.Abstractions;

namespace SharpVision.Tests.Imaging;

/// <summary>
/// GIF, BMP and WebP decoding and EXIF orientation against PIL (tests/Fixtures/photos/make_fixtures.py), decoding by
/// content whatever the file's name, and hostile files: each a <see cref="DataFormatException"/> naming the file, with
/// nothing allocated beyond a small multiple of the file's size.
/// </summary>
public class PhotoFormatTests(ITestOutputHelper output)
{
    /// <summary>
    /// Lossy WebP: PIL decodes through libwebp's animation decoder (WebPAnimDecoder, RGBA) and we through WebPDecodeRGBInto;
    /// both run the same libwebp, but the bound leaves room for another libwebp build's YUV→RGB rounding.
    /// </summary>
    private const int LossyWebPMaxAbsError = 2;

    /// <summary>The managed JPEG decoder's bound against PIL (see JpegDecoderTests).</summary>
    private const int ManagedJpegMaxAbsError = 3;

    private static string PathOf(string name) => ImagingFixtures.PathOf(name, "photos");

    private static byte[] Bytes(string name) => ImagingFixtures.Bytes(name, "photos");

    private static Image Raw(string name) => ImagingFixtures.Raw(name, "photos");

    public static TheoryData<string> GifFixtures => new()
    {
        "gif_global.gif", "gif_interlaced.gif", "gif_local_transparent.gif", "gif_offset.gif", "gif_interlaced_local.gif",
        "gif_table_clears.gif", "gif_table_full.gif", "gif_87a.gif", "gif_named.jpg", "gif_frame_past_screen.gif",
    };

    public static TheoryData<string> BmpFixtures => new()
    {
        "bmp_1.bmp", "bmp_4.bmp", "bmp_4_topdown.bmp", "bmp_8.bmp", "bmp_8_short_palette.bmp", "bmp_8_topdown.bmp",
        "bmp_16_555.bmp", "bmp_16_565.bmp", "bmp_24.bmp", "bmp_24_topdown.bmp", "bmp_24_core.bmp", "bmp_8_core.bmp",
        "bmp_32.bmp", "bmp_32_bitfields.bmp", "bmp_32_v4_topdown.bmp", "bmp_32_v5.bmp", "bmp_24_v5.bmp", "bmp_named.png",
    };

    public static TheoryData<string> ExifFixtures => new()
    {
        "exif_1", "exif_2", "exif_3", "exif_4", "exif_5", "exif_6", "exif_7", "exif_8", "exif_6_gray", "exif_broken",
    };

    [Theory]
    [MemberData(nameof(GifFixtures))]
    [MemberData(nameof(BmpFixtures))]
    public void Decode_ManagedFormatFixture_EqualsPil(string file)
    {
        Image expected = Raw(Path.GetFileNameWithoutExtension(file) + ".raw");
        byte[] data = Bytes(file);

        Image actual = ImageDecoder.Decode(data, file);
        ImageInfo info = ImageDecoder.ReadInfo(data, file);

        ImagingFixtures.AssertSameShape(expected, actual);
        Assert.Equal(expected.Pixels, actual.Pixels);
        Assert.Equal((expected.Width, expected.Height, 3), (info.Width, info.Height, info.Channels));
    }

    [Fact]
    public void Decode_GifNamedJpg_IsReadAsGif_AndBmpNamedPng_AsBmp()
    {
        Assert.Equal("gif", ImageDecoder.ReadInfo(Bytes("gif_named.jpg"), "gif_named.jpg").Format);
        Assert.Equal("bmp", ImageDecoder.ReadInfo(Bytes("bmp_named.png"), "bmp_named.png").Format);
        Assert.Equal(Raw("gif_named.raw").Pixels, ImageDecoder.Load(PathOf("gif_named.jpg")).Pixels);
    }

    [RequiresTheory(SystemComponent.WebP)]
    [InlineData("webp_lossless")]
    [InlineData("webp_lossless_alpha")]
    public void Decode_LosslessWebP_EqualsPil(string name)
    {
        SystemComponents.Require(SystemComponent.WebP);
        Image expected = Raw(name + ".raw");

        Image actual = ImageDecoder.Decode(Bytes(name + ".webp"), name + ".webp");

        ImagingFixtures.AssertSameShape(expected, actual);
        Assert.Equal(expected.Pixels, actual.Pixels);
    }

    [RequiresFact(SystemComponent.WebP)]
    public void Decode_LossyWebP_WithinBoundOfPil()
    {
        SystemComponents.Require(SystemComponent.WebP);
        Image expected = Raw("webp_lossy.raw");

        Image actual = ImageDecoder.Decode(Bytes("webp_lossy.webp"), "webp_lossy.webp");

        var (error, index) = ImagingFixtures.MaxAbsError(expected, actual);
        output.WriteLine($"lossy WebP: max abs error {error} against PIL");
        Assert.True(error <= LossyWebPMaxAbsError, $"max abs error {error} at sample {index}");
    }

    [Theory]
    [InlineData("webp_lossless")]
    [InlineData("webp_lossy")]
    public void ReadInfo_WebP_ReadsTheSizeWithoutLibwebp(string name)
    {
        Image expected = Raw(name + ".raw");

        ImageInfo info = ImageDecoder.ReadInfo(Bytes(name + ".webp"), name + ".webp");

        Assert.Equal(new ImageInfo("webp", expected.Width, expected.Height, 3), info);
    }

    [RequiresTheory(SystemComponent.TurboJpeg)]
    [MemberData(nameof(ExifFixtures))]
    public void Decode_ExifJpegWithTurboJpeg_IsUprightAsPil(string name)
    {
        SystemComponents.Require(SystemComponent.TurboJpeg);
        Image expected = Raw(name + ".raw");
        byte[] data = Bytes(name + ".jpg");

        Image actual = ImageDecoder.Decode(data, name + ".jpg", ImageDecoder.DefaultMaxPixels, JpegDecoderChoice.TurboJpeg);

        ImagingFixtures.AssertSameShape(expected, actual);
        Assert.Equal(expected.Pixels, actual.Pixels);
        Assert.Equal(new ImageInfo("jpeg", expected.Width, expected.Height, expected.Channels), ImageDecoder.ReadInfo(data, name));
    }

    [Theory]
    [MemberData(nameof(ExifFixtures))]
    public void Decode_ExifJpegManaged_IsUprightWithinBoundOfPil(string name)
    {
        Image expected = Raw(name + ".raw");

        Image actual = ImageDecoder.Decode(Bytes(name + ".jpg"), name + ".jpg", ImageDecoder.DefaultMaxPixels, JpegDecoderChoice.Managed);

        var (error, index) = ImagingFixtures.MaxAbsError(expected, actual);
        Assert.True(error <= ManagedJpegMaxAbsError, $"max abs error {error} at sample {index}");
    }

    [Theory]
    [InlineData("Exif\0\0II*\0\x08\0\0\0\xFF\xFF", "an IFD claiming 65535 entries in a block that holds none")]
    [InlineData("Exif\0\0MM\0*\xFF\xFF\xFF\xF0\0\0", "an IFD offset past the block")]
    [InlineData("Exif\0\0XX*\0\x08\0\0\0\0\0", "no byte order mark")]
    [InlineData("Exif\0\0II+\0\x08\0\0\0\0\0", "a wrong TIFF magic")]
    [InlineData("Exif\0\0II", "a block cut off in its header")]
    [InlineData("Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x09\0\0\0", "orientation 9")]
    public void ParseOrientation_BrokenExif_IsOrientationOne(string block, string what)
    {
        byte[] bytes = block.Select(c => (byte)c).ToArray();

        Assert.True(ExifOrientation.Parse(bytes) == 1, what);
    }

    [Fact]
    public void ParseOrientation_BothByteOrders_ReadTheTag()
    {
        byte[] little = "Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0".Select(c => (byte)c).ToArray();
        byte[] big = "Exif\0\0MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x08\0\0".Select(c => (byte)c).ToArray();

        Assert.Equal(6, ExifOrientation.Parse(little));
        Assert.Equal(8, ExifOrientation.Parse(big));
    }

    // ------------------------------------------------------------------ hostile files

    public static TheoryData<string> TruncatableFixtures => new()
    {
        "gif_interlaced_local.gif", "gif_table_full.gif", "bmp_4.bmp", "bmp_32_v5.bmp", "bmp_24_core.bmp", "webp_lossless.webp",
        "webp_lossy.webp",
    };

    [Theory]
    [MemberData(nameof(TruncatableFixtures))]
    public void Decode_EveryTruncation_IsADataFormatExceptionNamingTheFile(string file)
    {
        byte[] data = Bytes(file);
        // A GIF decodes without its trailer (the last byte): the first frame is whole.
        int shortest = file.EndsWith(".gif", StringComparison.Ordinal) ? data.Length - 1 : data.Length;
        for (int length = 0; length < shortest; length++)
        {
            var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(data.AsSpan(0, length), "cut"));
            Assert.Equal("cut", e.Path);
        }
    }

    [Fact]
    public void Decode_HugeHeaders_AreRefusedBeforeAllocating()
    {
        byte[] gif = [.. "GIF89a"u8, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0x3B];
        byte[] bmp = Bmp(100_000, 100_000, 24, pixelOffset: 54, pixelBytes: 16);
        byte[] webp = [.. "RIFF"u8, 22, 0, 0, 0, .. "WEBPVP8X"u8, 10, 0, 0, 0, 0, 0, 0, 0, 0x9F, 0x86, 0x01, 0x9F, 0x86, 0x01];

        Assert.Contains("65535x65535", Refused(gif, "GIF header claims").Reason);
        Assert.Contains("100000x100000", Refused(bmp, "BMP header claims").Reason);
        Assert.Contains("100000x100000", Refused(webp, "WebP header claims").Reason);
    }

    [Fact]
    public void Decode_GifFrameWithTooLittleData_IsRefusedBeforeAllocating()
    {
        // 8000x8000 is within the pixel limit, but 4 bytes of LZW data cannot hold 64 million pixels.
        byte[] gif = Gif(8000, 8000, minCodeSize: 2, lzw: [0x04, 0x00, 0x00, 0x00]);

        var e = Refused(gif, "truncated GIF: a 8000x8000 frame needs at least");

        Assert.Contains("the file holds 4", e.Reason);
    }

    [Theory]
    [InlineData(new byte[] { 0x3C, 0x00 }, "LZW code 7 where a color index")]            // clear, then 7 (3 bits each)
    [InlineData(new byte[] { 0xCC, 0x01 }, "LZW code 7 is out of range (the table holds 6 codes)")] // clear, 1, 7
    [InlineData(new byte[] { 0x4C, 0x01 }, "LZW end code after 1 of 4 pixels")]              // clear, 1, end
    [InlineData(new byte[] { 0x0C }, "truncated GIF: LZW data ends after 1 of 4 pixels")] // clear, 1, then nothing
    public void Decode_LzwGarbage_IsCorrupt(byte[] lzw, string expected)
    {
        Refused(Gif(2, 2, minCodeSize: 2, lzw), expected);
    }

    [Fact]
    public void Decode_RandomLzwData_NeverFailsOtherwise()
    {
        var random = new Random(18);
        for (int trial = 0; trial < 300; trial++)
        {
            var lzw = new byte[random.Next(1, 200)];
            random.NextBytes(lzw);
            byte[] gif = Gif(random.Next(1, 40), random.Next(1, 40), minCodeSize: random.Next(1, 9), lzw);
            try
            {
                Image image = ImageDecoder.Decode(gif, "random.gif");
                Assert.Equal(3, image.Channels);
            }
            catch (DataFormatException e)
            {
                Assert.Equal("random.gif", e.Path);
            }
        }
    }

    [Fact]
    public void Decode_GifWithBadCodeSizeOrNoImage_IsCorrupt()
    {
        Refused(Gif(2, 2, minCodeSize: 12, [0x00]), "corrupt GIF: LZW minimum code size 12 (must be 1 to 8)");
        Refused([.. "GIF89a"u8, 2, 0, 2, 0, 0, 0, 0, 0x3B], "corrupt GIF: no image before the trailer at offset 13");
        Refused([.. "GIF89a"u8, 2, 0, 2, 0, 0, 0, 0, 0x99], "corrupt GIF: unknown block 0x99 at offset 13");
    }

    [Fact]
    public void Decode_BmpPixelOffsetPastTheEnd_IsCorrupt()
    {
        byte[] bmp = Bmp(4, 4, 24, pixelOffset: 1_000_000, pixelBytes: 64);

        Refused(bmp, "corrupt BMP: the pixel data offset 1000000 points past the end of the file (118 bytes)");
    }

    [Fact]
    public void Decode_BmpWithTooFewPixelBytes_IsTruncated()
    {
        byte[] bmp = Bmp(4000, 4000, 24, pixelOffset: 54, pixelBytes: 100);

        Refused(bmp, "truncated BMP: 4000x4000 at 24 bits needs 48000000 bytes of pixel data, the file holds 100 after offset 54");
    }

    [Theory]
    [InlineData(1u, "unsupported BMP: RLE8 compression")]
    [InlineData(2u, "unsupported BMP: RLE4 compression")]
    [InlineData(4u, "unsupported BMP: embedded JPEG data")]
    public void Decode_BmpCompressions_AreUnsupported(uint compression, string expected)
    {
        byte[] bmp = Bmp(4, 4, 8, pixelOffset: 54, pixelBytes: 16);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(30), compression);

        Refused(bmp, expected);
    }

    [Fact]
    public void Decode_UnknownFormat_ListsTheSupportedOnes()
    {
        var e = Refused("II*\0 a TIFF"u8.ToArray(), "not a PNG, JPEG, GIF, BMP or WebP file (starts with 0x49 0x49 0x2A 0x00)");

        Assert.Equal("hostile", e.Path);
    }

    [Fact]
    public void ImageFiles_TakeTheNewFormats()
    {
        foreach (string name in new[] { "a.gif", "b.BMP", "c.webp", "d.jpe" })
            Assert.True(ImageFiles.IsImage(name), name);
        Assert.False(ImageFiles.IsImage("e.tif"));
    }

    /// <summary>
    /// Decodes, expecting a DataFormatException naming "hostile" with <paramref name="expected"/> in its reason, and little allocated.
    /// </summary>
    private static DataFormatException Refused(byte[] bytes, string expected)
    {
        Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(bytes, "warm-up")); // JIT and static tables are not counted
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(bytes, "hostile"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("hostile", e.Path);
        Assert.Contains(expected, e.Reason);
        Assert.True(allocated < 64 * 1024 + 8L * bytes.Length, $"refusing {bytes.Length} bytes allocated {allocated:N0} bytes");
        return e;
    }

    private static byte[] Gif(int width, int height, int minCodeSize, byte[] lzw)
    {
        var gif = new List<byte>();
        gif.AddRange("GIF89a"u8.ToArray());
        gif.AddRange([(byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0x80, 0, 0]);
        gif.AddRange([0, 0, 0, 255, 255, 255]); // two-color global table
        gif.AddRange([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, (byte)minCodeSize]);
        for (int i = 0; i < lzw.Length; i += 255)
        {
            int size = Math.Min(255, lzw.Length - i);
            gif.Add((byte)size);
            gif.AddRange(lzw.AsSpan(i, size).ToArray());
        }
        gif.AddRange([0, 0x3B]);
        return [.. gif];
    }

    private static byte[] Bmp(int width, int height, int bits, uint pixelOffset, int pixelBytes)
    {
        var bmp = new byte[54 + pixelBytes];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(2), (uint)bmp.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(10), pixelOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan(28), (ushort)bits);
        return bmp;
    }
}
