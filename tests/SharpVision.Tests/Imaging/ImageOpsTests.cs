using Xunit;
using SharpVision.Imaging;

namespace SharpVision.Tests.Imaging;

public class ImageOpsTests
{
    [Fact]
    public void ToGray_RgbImage_EqualsPilConvertL()
    {
        Image rgb = ImagingFixtures.Raw("ops_rgb.raw");
        Image expected = ImagingFixtures.Raw("ops_gray_pil.raw");

        Image gray = ImageOps.ToGray(rgb);

        ImagingFixtures.AssertSameShape(expected, gray);
        Assert.Equal(expected.Pixels, gray.Pixels);
    }

    [Fact]
    public void ToRgb_GrayImage_ReplicatesEachValue()
    {
        Image gray = ImagingFixtures.Raw("ops_gray_pil.raw");

        Image rgb = ImageOps.ToRgb(gray);

        Assert.Equal(3, rgb.Channels);
        for (int i = 0; i < gray.Pixels.Length; i++)
        {
            Assert.Equal(gray.Pixels[i], rgb.Pixels[3 * i]);
            Assert.Equal(gray.Pixels[i], rgb.Pixels[3 * i + 1]);
            Assert.Equal(gray.Pixels[i], rgb.Pixels[3 * i + 2]);
        }
    }

    [Fact]
    public void ToGray_ThenToRgbThenToGray_IsStable()
    {
        Image gray = ImageOps.ToGray(ImagingFixtures.Raw("ops_rgb.raw"));

        Image again = ImageOps.ToGray(ImageOps.ToRgb(gray));

        Assert.Equal(gray.Pixels, again.Pixels);
    }

    [Theory]
    [InlineData(15, 11)]
    [InlineData(12, 9)]
    [InlineData(5, 3)]
    public void Resize_Shrink_MatchesOpenCvInterAreaWithinOne(int width, int height)
    {
        Image source = ImagingFixtures.Raw("ops_rgb.raw");
        Image expected = ImagingFixtures.Raw($"ops_area_{width}x{height}.raw");

        Image resized = ImageOps.Resize(source, width, height);

        var (error, index) = ImagingFixtures.MaxAbsError(expected, resized);
        Assert.True(error <= 1, $"max abs error {error} at sample {index}");
    }

    [Fact]
    public void Resize_SameSize_ReturnsEqualCopy()
    {
        Image source = ImagingFixtures.Raw("ops_rgb.raw");

        Image resized = ImageOps.Resize(source, source.Width, source.Height);

        Assert.Equal(source.Pixels, resized.Pixels);
        Assert.NotSame(source.Pixels, resized.Pixels);
    }

    [Fact]
    public void Resize_EnlargeTwoPixels_InterpolatesLinearlyWithClampedEdges()
    {
        var source = new Image(2, 1, 1, [0, 200]);

        Image resized = ImageOps.Resize(source, 4, 1);

        // Half-pixel centers: output x maps to (x + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25 → clamp → 0, ¼, ¾, 1.
        double[] positions = [0, 0.25, 0.75, 1];
        Assert.Equal(positions.Select(p => (byte)Math.Round(200 * p)).ToArray(), resized.Pixels);
    }

    [Fact]
    public void Resize_ConstantImage_StaysConstantBothWays()
    {
        var source = new Image(7, 5, 3, Enumerable.Repeat((byte)77, 7 * 5 * 3).ToArray());

        Assert.All(ImageOps.Resize(source, 3, 2).Pixels, v => Assert.Equal(77, v));
        Assert.All(ImageOps.Resize(source, 11, 13).Pixels, v => Assert.Equal(77, v));
    }
}
