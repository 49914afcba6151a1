using SharpVision.IO;
using Xunit;
using Xunit.Abstractions;
using SharpVision.Imaging;

namespace SharpVision.Tests.Imaging;

public class JpegDecoderTests(ITestOutputHelper output)
{
    /// <summary>
    /// Managed vs PIL bound. The managed decoder mirrors libjpeg-turbo's default path (integer IDCT,
    /// fancy upsampling, fixed-point color conversion) and is normally exact; the bound leaves room
    /// for rounding differences in IDCT and upsampling variants of other libjpeg builds.
    /// </summary>
    private const int ManagedMaxAbsError = 3;

    public static TheoryData<string> JpegFixtures => new()
    {
        "jpeg_gray", "jpeg_420", "jpeg_422", "jpeg_444", "jpeg_progressive", "jpeg_progressive_gray",
        "jpeg_restart", "jpeg_restart_progressive",
    };

    [RequiresTheory(SystemComponent.TurboJpeg)]
    [MemberData(nameof(JpegFixtures))]
    public void Decode_JpegFixtureWithTurboJpeg_EqualsPil(string name)
    {
        SystemComponents.Require(SystemComponent.TurboJpeg);
        Image expected = ImagingFixtures.Raw(name + ".raw");

        Image actual = ImageDecoder.Decode(ImagingFixtures.Bytes(name + ".jpg"), name + ".jpg", ImageDecoder.DefaultMaxPixels, JpegDecoderChoice.TurboJpeg);

        ImagingFixtures.AssertSameShape(expected, actual);
        Assert.Equal(expected.Pixels, actual.Pixels);
    }

    [Theory]
    [MemberData(nameof(JpegFixtures))]
    public void Decode_JpegFixtureManaged_WithinBoundOfPil(string name)
    {
        Image expected = ImagingFixtures.Raw(name + ".raw");

        Image actual = ImageDecoder.Decode(ImagingFixtures.Bytes(name + ".jpg"), name + ".jpg", ImageDecoder.DefaultMaxPixels, JpegDecoderChoice.Managed);

        var (error, index) = ImagingFixtures.MaxAbsError(expected, actual);
        output.WriteLine($"{name}: managed max abs error {error}");
        Assert.True(error <= ManagedMaxAbsError, $"max abs error {error} at sample {index}");
    }

    [Theory]
    [MemberData(nameof(JpegFixtures))]
    public void ReadInfo_JpegFixture_MatchesDecodedShape(string name)
    {
        Image expected = ImagingFixtures.Raw(name + ".raw");

        ImageInfo info = ImageDecoder.ReadInfo(ImagingFixtures.Bytes(name + ".jpg"), name + ".jpg");

        Assert.Equal(new ImageInfo("jpeg", expected.Width, expected.Height, expected.Channels), info);
    }

    [Fact]
    public void Decode_HuffmanTableWithMoreCodesThanFit_IsRefusedNotIndexedPast()
    {
        // Found by the jpeg-managed fuzz target: a DHT whose code counts overflow their bit length indexed past the
        // lookup table (ArgumentOutOfRangeException) before the overflow check ran.
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "fuzz", "jpeg-managed", "huffman-code-overflow.jpg"));
        var e = Assert.Throws<SharpVision.IO.DataFormatException>(() => ImageDecoder.Decode(bytes, "x.jpg", ImageDecoder.DefaultMaxPixels, JpegDecoderChoice.Managed));
        Assert.Contains("more codes than fit", e.Reason);
    }

    [RequiresFact(SystemComponent.TurboJpeg)]
    public void JpegBackend_WithTurboJpegLoadable_IsLibTurboJpeg()
    {
        SystemComponents.Require(SystemComponent.TurboJpeg);
        if (Environment.GetEnvironmentVariable("SHARPVISION_JPEG") == "managed")
            return;

        Assert.Equal("libturbojpeg", ImageDecoder.JpegBackend);
    }

    [Fact]
    public void Decode_HugeJpegHeader_RefusedBeforeDecoding()
    {
        // SOI + SOF0 claiming 65000x65000, 3 components, and nothing else.
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 8, 0xFD, 0xE8, 0xFD, 0xE8, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1];

        foreach (JpegDecoderChoice choice in Choices())
        {
            var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(jpeg, "huge.jpg", ImageDecoder.DefaultMaxPixels, choice));

            Assert.Contains("65000x65000", e.Reason);
        }
    }

    [Fact]
    public void Decode_TruncatedJpeg_ThrowsTruncated()
    {
        byte[] jpeg = ImagingFixtures.Bytes("jpeg_420.jpg");
        byte[] cut = jpeg[..(jpeg.Length * 2 / 3)];

        foreach (JpegDecoderChoice choice in Choices())
        {
            var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(cut, "cut.jpg", ImageDecoder.DefaultMaxPixels, choice));

            output.WriteLine($"{choice}: {e.Message}");
            Assert.Equal("cut.jpg", e.Path);
            Assert.StartsWith("truncated JPEG", e.Reason);
        }
    }

    [Fact]
    public void Decode_TruncatedProgressiveJpeg_ThrowsTruncated()
    {
        byte[] jpeg = ImagingFixtures.Bytes("jpeg_progressive.jpg");
        byte[] cut = jpeg[..(jpeg.Length - 200)];

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(cut, "cut.jpg", ImageDecoder.DefaultMaxPixels, JpegDecoderChoice.Managed));

        Assert.StartsWith("truncated JPEG", e.Reason);
    }

    [Fact]
    public void Decode_ArithmeticCodedJpeg_ThrowsUnsupported()
    {
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xC9, 0x00, 0x0B, 8, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xFF, 0xD9];

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(jpeg, "arith.jpg"));

        Assert.Equal("unsupported JPEG: arithmetic coding (marker 0xFFC9)", e.Reason);
    }

    [Fact]
    public void Decode_TwelveBitJpeg_ThrowsUnsupported()
    {
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xC1, 0x00, 0x0B, 12, 0, 8, 0, 8, 1, 1, 0x11, 0, 0xFF, 0xD9];

        var e = Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(jpeg, "deep.jpg"));

        Assert.Equal("unsupported JPEG: 12-bit samples (only 8-bit is supported)", e.Reason);
    }

    [Fact]
    public void Decode_CorruptHuffmanData_ThrowsDataFormatException()
    {
        byte[] jpeg = ImagingFixtures.Bytes("jpeg_444.jpg");
        int sos = jpeg.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
        for (int i = sos + 20; i < jpeg.Length - 2; i++)
            jpeg[i] = jpeg[i] == 0xFF ? (byte)0xFF : (byte)0xFE; // long runs of ones: no valid Huffman code

        foreach (JpegDecoderChoice choice in Choices())
            Assert.Throws<DataFormatException>(() => ImageDecoder.Decode(jpeg, "garbage.jpg", ImageDecoder.DefaultMaxPixels, choice));
    }

    private IEnumerable<JpegDecoderChoice> Choices() =>
        TurboJpeg.IsAvailable ? [JpegDecoderChoice.Managed, JpegDecoderChoice.TurboJpeg] : [JpegDecoderChoice.Managed];
}
