using SharpVision.Features;

namespace SharpVision.Tests.Features;

public class LbpExtractorTests
{
    private static double[] Gray(string name)
    {
        var (pixels, c, h, w) = FeatureFixtures.Image(name);
        Assert.Equal(1, c);
        return pixels.Select(p => (double)p).ToArray();
    }

    [Theory]
    [InlineData("camera")]
    [InlineData("fmnist0")]
    [InlineData("fmnist3")]
    public void Pattern_FixtureImage_MatchesScikitImageCodes(string name)
    {
        var (_, _, h, w) = FeatureFixtures.Image(name);
        var gray = Gray(name);
        var uniform = FeatureFixtures.Floats($"lbp.{name}.uniform");
        var ror = FeatureFixtures.Floats($"lbp.{name}.ror");
        var plain = FeatureFixtures.Floats($"lbp.{name}.default");
        for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
        {
            int pattern = LbpExtractor.Pattern(gray, h, w, r, c);
            int i = r * w + c;
            Assert.True(plain[i] == pattern, $"default code at ({r}, {c}): {pattern}, skimage {plain[i]}");
            Assert.True(uniform[i] == LbpExtractor.UniformCode(pattern), $"uniform code at ({r}, {c})");
            Assert.True(ror[i] == LbpExtractor.RotationInvariantCode(pattern), $"ror code at ({r}, {c})");
        }
    }

    [Theory]
    [InlineData("camera", LbpMethod.Uniform, 8)]
    [InlineData("camera", LbpMethod.RotationInvariant, 16)]
    [InlineData("fmnist0", LbpMethod.Uniform, 7)]
    [InlineData("fmnist3", LbpMethod.RotationInvariant, 5)]
    public void Extract_FixtureImage_IsCellHistogramOfScikitImageCodes(string name, LbpMethod method, int cell)
    {
        var (pixels, c, h, w) = FeatureFixtures.Image(name);
        var codes = FeatureFixtures.Floats($"lbp.{name}.{(method == LbpMethod.Uniform ? "uniform" : "ror")}");
        var lbp = new LbpExtractor(cell, method);
        int cellsY = h / cell, cellsX = w / cell, bins = lbp.Bins;
        var expected = new float[cellsY * cellsX * bins];
        for (int y = 0; y < cellsY * cell; y++)
        for (int x = 0; x < cellsX * cell; x++)
        {
            int code = (int)codes[y * w + x];
            int bin = method == LbpMethod.Uniform ? code : LbpExtractor.RotationInvariantBin(code);
            expected[(y / cell * cellsX + x / cell) * bins + bin] += 1f / (cell * cell);
        }
        var actual = new float[lbp.Length(c, h, w)];
        lbp.Extract(pixels, c, h, w, actual);
        FeatureFixtures.AssertClose(expected, actual, 1e-6, name);
        for (int i = 0; i < cellsY * cellsX; i++) Assert.Equal(1.0, actual.AsSpan(i * bins, bins).ToArray().Sum(), 5);
    }

    [Fact]
    public void RotationInvariantBins_EightNeighbours_Is36()
    {
        Assert.Equal(36, LbpExtractor.RotationInvariantBins);
        Assert.Equal(10, new LbpExtractor(7, LbpMethod.Uniform).Bins);
        Assert.Equal(4 * 4 * 10, new LbpExtractor().Length(1, 28, 28));
    }

    [Fact]
    public void Length_CellLargerThanImage_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new LbpExtractor(cellSize: 29).Length(1, 28, 28));
        Assert.Contains("do not fit a 28×28 image", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LbpExtractor(cellSize: 0));
    }
}

public class ColorHistogramTests
{
    [Theory]
    [InlineData("astronaut")]
    [InlineData("coffee")]
    [InlineData("chelsea")]
    public void ToHsv_FixtureImage_MatchesScikitImageRgb2Hsv(string name)
    {
        var (pixels, c, h, w) = FeatureFixtures.Image(name);
        var expected = FeatureFixtures.Doubles("hsv." + name);
        int n = h * w;
        for (int i = 0; i < n; i++)
        {
            var (hue, s, v) = ColorHistogram.ToHsv(pixels[i] * (1.0 / 255), pixels[n + i] * (1.0 / 255), pixels[2 * n + i] * (1.0 / 255));
            Assert.Equal(expected[i], hue, 1e-12);
            Assert.Equal(expected[n + i], s, 1e-12);
            Assert.Equal(expected[2 * n + i], v, 1e-12);
        }
    }

    [Theory]
    [InlineData("astronaut", 10)]
    [InlineData("coffee", 7)]
    [InlineData("chelsea", 32)]
    public void Extract_FixtureImage_IsHistogramOfScikitImageHsv(string name, int bins)
    {
        // First principles: numpy.histogram(channel, bins, range=(0, 1)) of skimage's rgb2hsv, divided by the pixel count.
        var (pixels, c, h, w) = FeatureFixtures.Image(name);
        var counts = FeatureFixtures.Tensor($"hsv_histogram.{name}.{bins}").ToInt32();
        var expected = counts.Select(k => (float)k / (h * w)).ToArray();
        var color = new ColorHistogram(bins, "hsv");
        var actual = new float[color.Length(c, h, w)];
        color.Extract(pixels, c, h, w, actual);
        FeatureFixtures.AssertClose(expected, actual, 1e-6, name);
        Assert.Equal(3.0, actual.Sum(), 4);
    }

    [Fact]
    public void Extract_PrimaryColors_LandInTheirHueBins()
    {
        // red (H 0), yellow (1/6), green (1/3), cyan (1/2), blue (2/3), magenta (5/6): 6 bins, one pixel each.
        byte[] r = [255, 255, 0, 0, 0, 255], g = [0, 255, 255, 255, 0, 0], b = [0, 0, 0, 255, 255, 255];
        var color = new ColorHistogram(6, "h");
        var actual = new float[6];
        color.Extract([.. r, .. g, .. b], 3, 1, 6, actual);
        Assert.All(actual, v => Assert.Equal(1f / 6, v, 6));
    }

    [Fact]
    public void Constructor_ZeroBinsOrBadChannels_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ColorHistogram(0));
        Assert.Throws<ArgumentException>(() => new ColorHistogram(10, "rgb"));
    }
}

public class GaborBankTests
{
    private static (double Frequency, double Theta)[] Parameters() =>
        FeatureFixtures.Metadata["gabor_params"].Split(';')
            .Select(p => p.Split(',')).Select(p => (double.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))).ToArray();

    [Fact]
    public void KernelOf_FixtureParameters_MatchesScikitImageGaborKernel()
    {
        var parameters = Parameters();
        for (int i = 0; i < parameters.Length; i++)
        {
            var (h, w, real, imaginary) = GaborBank.KernelOf(parameters[i].Frequency, parameters[i].Theta);
            var expectedReal = FeatureFixtures.Tensor($"gabor_kernel.{i}.real");
            Assert.Equal([h, w], expectedReal.Shape.Select(s => (int)s));
            var er = FeatureFixtures.Doubles($"gabor_kernel.{i}.real");
            var ei = FeatureFixtures.Doubles($"gabor_kernel.{i}.imag");
            for (int j = 0; j < er.Length; j++)
            {
                Assert.Equal(er[j], real[j], 1e-12);
                Assert.Equal(ei[j], imaginary[j], 1e-12);
            }
        }
    }

    [Theory]
    [InlineData("camera")]
    [InlineData("fmnist1")]
    public void Filter_FixtureImage_MatchesScikitImageGabor(string name)
    {
        var (pixels, _, h, w) = FeatureFixtures.Image(name);
        var gray = pixels.Select(p => (float)p).ToArray();
        var parameters = Parameters();
        for (int i = 0; i < parameters.Length; i++)
        {
            if (name == "camera" && i is 2 or 4) continue; // not in the fixture (size)
            var (real, imaginary) = GaborBank.Filter(gray, h, w, parameters[i].Frequency, parameters[i].Theta);
            // float32 accumulation over up to 35×35 taps of values up to 255: 1e-4 relative to the response's scale.
            var er = FeatureFixtures.Floats($"gabor.{name}.{i}.real");
            var ei = FeatureFixtures.Floats($"gabor.{name}.{i}.imag");
            double scale = Math.Max(1, er.Concat(ei).Max(Math.Abs));
            FeatureFixtures.AssertClose(er, real, 1e-4 * scale, $"{name} filter {i} real");
            FeatureFixtures.AssertClose(ei, imaginary, 1e-4 * scale, $"{name} filter {i} imag");
        }
    }

    [Fact]
    public void Extract_FixtureImage_PoolsMeanAndVarianceOfMagnitude()
    {
        var (pixels, c, h, w) = FeatureFixtures.Image("camera");
        var parameters = Parameters();
        var bank = new GaborBank([parameters[1].Frequency], thetas: 4); // θ = 0, π/4, π/2, 3π/4: fixture 1 is (0.25, π/4)
        var features = new float[bank.Length(c, h, w)];
        bank.Extract(pixels, c, h, w, features);
        var er = FeatureFixtures.Floats("gabor.camera.1.real");
        var ei = FeatureFixtures.Floats("gabor.camera.1.imag");
        var magnitude = er.Zip(ei, (a, b) => Math.Sqrt((double)a * a + (double)b * b)).ToArray();
        double mean = magnitude.Average();
        double variance = magnitude.Select(m => (m - mean) * (m - mean)).Average();
        Assert.Equal(mean, features[2], mean * 1e-4);
        Assert.Equal(variance, features[3], variance * 1e-4);
    }

    [Fact]
    public void ExtractBatch_AcrossConvolutionBatches_EqualsImageByImage()
    {
        // 70 images: one Conv2d batch of 64 and one of 6; color images go through rgb2gray first.
        var random = new Random(5);
        var images = new byte[70 * 3 * 28 * 28];
        random.NextBytes(images);
        var bank = new GaborBank([0.15, 0.3], thetas: 3, GaborResponse.Real); // kernels of 25, 21 (θ = π/3, 2π/3), 13 and 11 pixels
        int d = bank.Length(3, 28, 28);
        var batch = new float[70 * d];
        bank.ExtractBatch(images, 70, 3, 28, 28, batch);
        var one = new float[d];
        for (int i = 0; i < 70; i++)
        {
            bank.Extract(images.AsSpan(i * 3 * 28 * 28, 3 * 28 * 28), 3, 28, 28, one);
            Assert.Equal(one, batch.AsSpan(i * d, d).ToArray());
        }
        Assert.All(batch, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Extract_UniformImage_HasTheKernelSumsAsResponse()
    {
        // A constant image c reflects into a constant plane, so every response pixel is c·Σg: with response=real the
        // mean is c·Σ Re g and the variance 0 (up to float32 rounding of the 625-tap sums).
        var bank = new GaborBank([0.15], thetas: 2, GaborResponse.Real);
        var image = Enumerable.Repeat((byte)200, 28 * 28).ToArray();
        var features = new float[bank.Length(1, 28, 28)];
        bank.Extract(image, 1, 28, 28, features);
        for (int t = 0; t < 2; t++)
        {
            var (_, _, real, _) = GaborBank.KernelOf(0.15, t * Math.PI / 2);
            Assert.Equal(200 * real.Sum(), features[2 * t], 1e-3);
            Assert.Equal(0, features[2 * t + 1], 1e-3);
        }
    }

    [Theory]
    [InlineData(28, 28, 0.13, true)]   // 2⌈1.6866/0.13⌉ + 1 = 27 ≤ 28
    [InlineData(28, 28, 0.129, false)] // 2⌈13.07⌉ + 1 = 29 > 28
    [InlineData(64, 20, 0.15, false)]  // 25 > 20: the smaller side decides
    [InlineData(64, 25, 0.15, true)]
    public void Length_KernelLargerThanImage_ThrowsNamingAFrequencyThatFits(int height, int width, double frequency, bool fits)
    {
        var bank = new GaborBank([0.3, frequency], thetas: 4);
        if (fits)
        {
            Assert.Equal(16, bank.Length(1, height, width));
            return;
        }
        var e = Assert.Throws<ArgumentException>(() => bank.Length(1, height, width));
        Assert.Contains($"Gabor kernels of frequency {frequency.ToString(System.Globalization.CultureInfo.InvariantCulture)} are {bank.LargestKernel}×{bank.LargestKernel} pixels, larger than the {height}×{width} image", e.Message);
        // The frequency the message suggests fits, and one 1% lower does not.
        var suggested = double.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, @"at least ([\d.]+) fit").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(16, new GaborBank([0.3, suggested]).Length(1, height, width));
        Assert.Throws<ArgumentException>(() => new GaborBank([0.3, suggested * 0.99]).Length(1, height, width));
        // The pipeline reports it the same way, before any extraction.
        Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse($"gabor:freq={frequency.ToString(System.Globalization.CultureInfo.InvariantCulture)}").Extract(new SharpVision.Data.ImageDataset("x", 1, height, width, new byte[height * width], [0], ["a"]), 1, out _));
    }

    [Fact]
    public void Length_ImageTooSmallForAnyKernel_SaysSo()
    {
        // f = 0.5: 3σ = 1.6866/0.5 = 3.37, so x₀ = 4 and the kernel is 9×9; an 8-pixel side cannot hold it.
        var e = Assert.Throws<ArgumentException>(() => new GaborBank([0.5], thetas: 1).Length(1, 8, 28));
        Assert.Contains("are 9×9 pixels, larger than the 8×28 image", e.Message);
        Assert.Contains("no Gabor frequency fits it: the smallest kernel, at 0.5 cycles per pixel, is 9 pixels wide", e.Message);
        Assert.Equal(2, new GaborBank([0.5], thetas: 1).Length(1, 9, 9));
    }

    [Fact]
    public void Constructor_BadParameters_Throw()
    {
        Assert.Throws<ArgumentException>(() => new GaborBank([]));
        Assert.Throws<ArgumentException>(() => new GaborBank([0.7]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaborBank([0.2], thetas: 0));
    }
}
