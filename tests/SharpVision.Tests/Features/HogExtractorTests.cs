using SharpVision.Features;
using SharpVision.Features.Reference;
using SharpVision.Tensors.Kernels;

namespace SharpVision.Tests.Features;

public class HogExtractorTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in FeatureFixtures.Metadata["hog_cases"].Split(';')) data.Add(c);
        return data;
    }

    // "camera.o9_c8_b2_L2-Hys_sqrt" → image camera, 9 orientations, 8-pixel cells, 2×2 blocks, L2-Hys, transform_sqrt.
    private static (string Image, HogExtractor Hog) ParseCase(string name)
    {
        var dot = name.IndexOf('.');
        var parts = name[(dot + 1)..].Split('_');
        var hog = new HogExtractor(cellSize: int.Parse(parts[1][1..]), cellsPerBlock: int.Parse(parts[2][1..]), orientations: int.Parse(parts[0][1..]),
            blockNorm: HogExtractor.ParseNorm(parts[3]), transformSqrt: parts[4] == "sqrt");
        return (name[..dot], hog);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Extract_FixtureImage_MatchesScikitImage(string name)
    {
        var (imageName, hog) = ParseCase(name);
        var (pixels, c, h, w) = FeatureFixtures.Image(imageName);
        var expected = FeatureFixtures.Floats("hog." + name);
        var actual = new float[hog.Length(c, h, w)];
        hog.Extract(pixels, c, h, w, actual);
        FeatureFixtures.AssertClose(expected, actual, 1e-5, name);
        FeatureFixtures.AssertClose(expected, HogReference.Compute(pixels, c, h, w, hog.Orientations, hog.CellSize, hog.CellsPerBlock, hog.BlockNorm, hog.TransformSqrt), 1e-5, name + " (reference)");
    }

    [Theory]
    [InlineData(1, 7, 7, 3, 1, 9)]
    [InlineData(1, 13, 29, 4, 2, 9)]
    [InlineData(3, 17, 11, 3, 2, 8)]
    [InlineData(3, 9, 33, 2, 3, 4)]
    [InlineData(1, 28, 28, 4, 2, 12)]
    [InlineData(2, 10, 10, 5, 2, 1)]
    public void Extract_AwkwardSizes_MatchesReference(int channels, int height, int width, int cell, int block, int orientations)
    {
        // Every SIMD level this machine runs gives the same bits (per-lane arithmetic equals the scalar loop's).
        var levels = SimdPaths.SupportedLevels;
        var random = new Random(height * 31 + width);
        var pixels = new byte[channels * height * width];
        random.NextBytes(pixels);
        for (int i = 0; i < pixels.Length; i += 3) pixels[i] = (byte)(pixels[i] & 0xF0); // repeated values: zero and axis-aligned gradients
        foreach (var norm in Enum.GetValues<HogBlockNorm>())
        foreach (bool sqrt in new[] { false, true })
        {
            var hog = new HogExtractor(cell, block, orientations, norm, sqrt);
            float[] Extract(SimdLevel level)
            {
                using var forced = SimdPaths.Force(level);
                var features = new float[hog.Length(channels, height, width)];
                hog.Extract(pixels, channels, height, width, features);
                return features;
            }
            var actual = Extract(levels[^1]);
            FeatureFixtures.AssertClose(HogReference.Compute(pixels, channels, height, width, orientations, cell, block, norm, sqrt), actual, 1e-6, $"{norm} sqrt={sqrt}");
            foreach (var level in levels) Assert.Equal(actual, Extract(level));
        }
    }

    [Fact]
    public void Length_FashionMnistDefaults_Is1296()
    {
        Assert.Equal(1296, new HogExtractor(cellSize: 4, cellsPerBlock: 2, orientations: 9).Length(1, 28, 28));
    }

    [Fact]
    public void Extract_CellLargerThanImage_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new HogExtractor(cellSize: 32, cellsPerBlock: 1).Length(1, 28, 28));
        Assert.Contains("do not fit a 28×28 image", e.Message);
    }

    [Fact]
    public void Extract_BlockLargerThanCellGrid_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new HogExtractor(cellSize: 8, cellsPerBlock: 4).Length(1, 28, 28));
        Assert.Contains("3×3 cell grid", e.Message);
    }

    [Fact]
    public void Constructor_ZeroBins_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HogExtractor(orientations: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HogExtractor(cellSize: 0));
    }

    [Fact]
    public void Extract_WrongDestinationLength_Throws()
    {
        var hog = new HogExtractor(4, 2, 9);
        Assert.Throws<ArgumentException>(() => hog.Extract(new byte[784], 1, 28, 28, new float[10]));
        Assert.Throws<ArgumentException>(() => hog.Extract(new byte[783], 1, 28, 28, new float[1296]));
    }
}
