using SharpVision.IO;
using Xunit;
using System.Buffers.Binary;
using System.Diagnostics;
using SharpVision.Imaging;

namespace SharpVision.Tests.Imaging;

public class PngDecoderTests
{
    public static TheoryData<string> PngFixtures => new()
    {
        "png_gray1", "png_gray2", "png_gray4", "png_gray8", "png_gray16",
        "png_graya8", "png_graya16", "png_rgb8", "png_rgb16", "png_rgba8", "png_rgba16",
        "png_palette1", "png_palette2", "png_palette4", "png_palette8",
        "png_interlaced_rgb8", "png_interlaced_gray4", "png_interlaced_rgba16",
    };

    [Theory]
    [MemberData(nameof(PngFixtures))]
    public void Decode_PngFixture_EqualsPil(string name)
    {
        Image expected = ImagingFixtures.Raw(name + ".raw");

        Image actual = ImageDecoder.Decode(ImagingFixtures.Bytes(name + ".png"), name + ".png");

        ImagingFixtures.AssertSameShape(expected, actual);
        Assert.Equal(expected.Pixels, actual.Pixels);
    }

    [Theory]
    [MemberData(nameof(PngFixtures))]
    public void ReadInfo_PngFixture_MatchesDecodedShape(string name)
    {
        Image expected = ImagingFixtures.Raw(name + ".raw");

        ImageInfo info = ImageDecoder.ReadInfo(ImagingFixtures.Bytes(name + ".png"), name + ".png");

        Assert.Equal(new ImageInfo("png", expected.Width, expected.Height, expected.Channels), info);
    }

    [Fact]
    public void Load_PngFile_EqualsDecodeOfItsBytes()
    {
        string path = ImagingFixtures.PathOf("png_rgb8.png");

        Image loaded = ImageDecoder.Load(path);

        Assert.Equal(ImageDecoder.Decode(File.ReadAllBytes(path), path).Pixels, loaded.Pixels);
    }

    [Fact]
    public void Load_MissingFile_ThrowsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => ImageDecoder.Load(Path.Combine(Path.GetTempPath(), "sharpvision-no-such-file.png")));
    }

    [Fact]
    public void Decode_PngCutInsideIdat_ThrowsTruncated()
    {
        byte[] png = ImagingFixtures.Bytes("png_rgb8.png");
        byte[] cut = png[..(png.Length - 40)];

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(cut, "cut.png"));

        Assert.Equal("cut.png", e.Path);
        Assert.StartsWith("truncated PNG: chunk 'IDAT'", e.Reason);
    }

    [Fact]
    public void Decode_IdatStreamEndsEarly_ThrowsTruncated()
    {
        // 4x4 RGB needs 4 x (1 + 12) scanline bytes; give the zlib stream only two rows.
        byte[] twoRows = new byte[2 * 13];
        byte[] png = ImagingFixtures.Png(4, 4, 8, 2, ImagingFixtures.Chunk("IDAT", ImagingFixtures.Zlib(twoRows)));

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(png, "short.png"));

        Assert.Equal("truncated PNG: IDAT stream ends early", e.Reason);
    }

    [Fact]
    public void Decode_BadCrc_ThrowsNamingChunk()
    {
        byte[] png = ImagingFixtures.Bytes("png_gray8.png");
        int idat = IndexOf(png, "IDAT"u8);
        png[idat + 6] ^= 0x5A; // a byte of IDAT data; the stored CRC no longer matches

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(png, "crc.png"));

        Assert.StartsWith("corrupt PNG: bad CRC in chunk 'IDAT'", e.Reason);
    }

    [Fact]
    public void Decode_BadFilterByte_ThrowsNamingRow()
    {
        byte[] rows = new byte[3 * (1 + 3)];
        rows[4] = 7; // row 1 claims filter type 7
        byte[] png = ImagingFixtures.Png(3, 3, 8, 0, ImagingFixtures.Chunk("IDAT", ImagingFixtures.Zlib(rows)));

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(png, "filter.png"));

        Assert.Equal("corrupt PNG: bad filter type 7 on row 1", e.Reason);
    }

    [Fact]
    public void Decode_NoIdat_Throws()
    {
        byte[] png = ImagingFixtures.Png(3, 3, 8, 0);

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(png, "empty.png"));

        Assert.Equal("corrupt PNG: no IDAT chunk", e.Reason);
    }

    [Fact]
    public void Decode_TextFile_ThrowsNotPngOrJpeg()
    {
        byte[] html = "<html><body>not an image</body></html>"u8.ToArray();

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(html, "page.png"));

        Assert.Equal("page.png", e.Path);
        Assert.Equal("not a PNG, JPEG, GIF, BMP or WebP file (starts with 0x3C 0x68 0x74 0x6D)", e.Reason);
    }

    [Fact]
    public void Decode_HugePngHeader_RefusedBeforeDecoding()
    {
        // Signature + IHDR only (33 bytes): nothing to decode, so only the header check can answer.
        byte[] png = [.. PngSignature(), .. ImagingFixtures.Ihdr(100_000, 100_000, 8, 2)];
        var clock = Stopwatch.StartNew();

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(png, "huge.png"));

        clock.Stop();
        Assert.Contains("100000x100000", e.Reason);
        Assert.Contains(ImageDecoder.DefaultMaxPixels.ToString(), e.Reason);
        Assert.True(clock.ElapsedMilliseconds < 2000, $"took {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Decode_InvalidBitDepthForColorType_Throws()
    {
        byte[] png = ImagingFixtures.Png(3, 3, 4, 2); // RGB at 4 bits is not a PNG combination

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(png, "depth.png"));

        Assert.Equal("corrupt PNG: invalid color type 2 with bit depth 4 in IHDR", e.Reason);
    }

    private static byte[] PngSignature() => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
