using Xunit;
using SharpVision.Imaging;

namespace SharpVision.Tests.Imaging;

public class PngEncoderTests
{
    [Theory]
    [InlineData("png_rgb8.raw")]
    [InlineData("png_gray8.raw")]
    [InlineData("ops_rgb.raw")]
    public void Encode_ThenDecode_RoundTripsExactly(string name)
    {
        Image image = ImagingFixtures.Raw(name);

        Image decoded = ImageDecoder.Decode(PngEncoder.Encode(image), "roundtrip.png");

        ImagingFixtures.AssertSameShape(image, decoded);
        Assert.Equal(image.Pixels, decoded.Pixels);
    }

    [Fact]
    public void Save_OverExistingFile_ReplacesItAndLeavesNoTempFiles()
    {
        string folder = Directory.CreateTempSubdirectory("sharpvision-png-").FullName;
        try
        {
            string path = Path.Combine(folder, "out.png");
            File.WriteAllText(path, "old contents");
            Image image = ImagingFixtures.Raw("png_rgb8.raw");

            PngEncoder.Save(image, path);

            Assert.Equal(image.Pixels, ImageDecoder.Load(path).Pixels);
            Assert.Equal(["out.png"], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
