using SharpVision.Data;
using SharpVision.Features;

namespace SharpVision.Tests.Features;

public class DenseSiftTests
{
    private static float[] Describe(byte[] image, int side, int patch = 16)
    {
        var sift = new DenseSift(patch, stride: patch);
        var descriptor = new float[DenseSift.DescriptorLength];
        sift.Compute(image, 1, side, side, descriptor);
        return descriptor;
    }

    private static byte[] RandomImage(int side, int seed)
    {
        var pixels = new byte[side * side];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    [Fact]
    public void Compute_RandomPatch_IsUnitLengthAndClipped()
    {
        var d = Describe(RandomImage(16, 1), 16);
        Assert.Equal(1.0, Math.Sqrt(d.Sum(v => (double)v * v)), 5);
        Assert.All(d, v => Assert.True(v >= 0));
        // Clipping keeps the order of the values and caps the largest: after renormalizing, the largest value is
        // 0.2 / ‖min(v/‖v‖, 0.2)‖ exactly when some value was clipped.
        var unit = d.Select(v => (double)v).ToArray();
        Assert.True(unit.Max() < 0.5, "a random patch spreads its energy over many bins");
    }

    [Fact]
    public void NormalizeClip_DominantBin_IsClippedThenRenormalized()
    {
        var v = new float[128];
        v[0] = 1f;
        v[5] = 0.1f;
        DenseSift.NormalizeClip(v);
        // v/‖v‖ = (0.995, 0.0995) → clip (0.2, 0.0995) → renormalize: (0.2, 0.0995)/0.22338.
        double n = Math.Sqrt(1 + 0.01);
        double a = 0.2, b = 0.1 / n, m = Math.Sqrt(a * a + b * b);
        Assert.Equal(a / m, v[0], 5);
        Assert.Equal(b / m, v[5], 5);
        Assert.Equal(126, v.Count(x => x == 0));
    }

    [Fact]
    public void Compute_FlatPatch_IsAllZeros()
    {
        Assert.All(Describe(Enumerable.Repeat((byte)77, 256).ToArray(), 16), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Compute_HorizontalRamp_VotesOnlyOrientationZero()
    {
        // I = 10·x: every gradient points along +x (θ = 0), so only orientation bin 0 of each cell is non-zero.
        var image = new byte[16 * 16];
        for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) image[y * 16 + x] = (byte)(10 * x);
        var d = Describe(image, 16);
        for (int i = 0; i < 128; i++)
            if (i % 8 == 0) Assert.True(d[i] > 0.05, $"cell {i / 8} orientation 0");
            else Assert.Equal(0f, d[i]);
    }

    [Fact]
    public void Compute_RotatedPatch_RotatesCellsAndShiftsOrientations()
    {
        // R = rot90(I) (counter-clockwise): R[y, x] = I[x, W−1−y]. Its gradient at a pixel is I's turned by −90°
        // (orientation bin − 2 of 8), and R's cell (i, j) is I's cell (j, 3 − i).
        const int side = 16;
        var image = RandomImage(side, 7);
        var rotated = new byte[side * side];
        for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) rotated[y * side + x] = image[x * side + side - 1 - y];
        var d = Describe(image, side);
        var r = Describe(rotated, side);
        for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
        for (int o = 0; o < 8; o++)
            Assert.Equal(d[(j * 4 + (3 - i)) * 8 + (o + 2) % 8], r[(i * 4 + j) * 8 + o], 4);
    }

    [Fact]
    public void Grid_PatchLargerThanImage_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new DenseSift(32, 4).Grid(28, 28));
        Assert.Contains("do not fit a 28×28 image", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DenseSift(10, 4));
        Assert.Equal((5, 5), new DenseSift(12, 4).Grid(28, 28));
    }
}

public class KMeansTests
{
    private static float[] Blobs(int perBlob, int seed, out int[] truth)
    {
        var random = new Random(seed);
        (float X, float Y)[] centres = [(0, 0), (10, 0), (0, 10), (10, 10)];
        var data = new float[centres.Length * perBlob * 2];
        truth = new int[centres.Length * perBlob];
        for (int i = 0; i < truth.Length; i++)
        {
            int c = i % centres.Length;
            truth[i] = c;
            data[2 * i] = centres[c].X + (float)(random.NextDouble() - 0.5);
            data[2 * i + 1] = centres[c].Y + (float)(random.NextDouble() - 0.5);
        }
        return data;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    public void Fit_SeparatedBlobs_FindsEveryBlob(int batchSize)
    {
        var data = Blobs(200, 1, out var truth);
        var centroids = new KMeans(4, maxIterations: batchSize == 0 ? 50 : 200, batchSize: batchSize).Fit(data, 2, seed: 3, threads: 2);
        var mapping = new int[4];
        for (int c = 0; c < 4; c++) mapping[c] = KMeans.Nearest(data.AsSpan(2 * c, 2), centroids, 4);
        Assert.Equal(4, mapping.Distinct().Count());
        for (int i = 0; i < truth.Length; i++) Assert.Equal(mapping[truth[i]], KMeans.Nearest(data.AsSpan(2 * i, 2), centroids, 4));
    }

    [Fact]
    public void Fit_SameSeedDifferentThreads_GivesSameBits()
    {
        var data = Blobs(3000, 2, out _);
        var one = new KMeans(6).Fit(data, 2, seed: 5, threads: 1);
        var two = new KMeans(6).Fit(data, 2, seed: 5, threads: 2);
        Assert.Equal(one, two);
        Assert.NotEqual(one, new KMeans(6).Fit(data, 2, seed: 6, threads: 2));
    }

    [Fact]
    public void Fit_MoreClustersThanRows_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => new KMeans(10).Fit(new float[18], 2, 0, 1));
        Assert.Contains("needs at least 10 rows", e.Message);
    }
}

public class BagOfVisualWordsTests
{
    private static ImageDataset Sample(int count, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[count * 28 * 28];
        random.NextBytes(pixels);
        return new ImageDataset("random", 1, 28, 28, pixels, new int[count], ["a"]);
    }

    [Fact]
    public void Extract_Fitted_IsNormalizedHistogram()
    {
        var train = Sample(40, 1);
        var bow = new BagOfVisualWords(new DenseSift(12, 8), words: 8, pyramid: true, sample: 200, iterations: 10);
        bow.Fit(train, seed: 0, threads: 2);
        var features = new float[bow.Length(1, 28, 28)];
        bow.Extract(train.Image(3), 1, 28, 28, features);
        Assert.Equal(40, features.Length);
        Assert.Equal(1.0, features.AsSpan(0, 8).ToArray().Sum(), 5);
        Assert.Equal(1.0, features.AsSpan(8, 32).ToArray().Sum(), 5);
        for (int w = 0; w < 8; w++)
            Assert.Equal(features[w], features[8 + w] + features[16 + w] + features[24 + w] + features[32 + w], 5);
    }

    [Fact]
    public void Fit_SameSeed_SameVocabularyAndStateHash()
    {
        var train = Sample(30, 2);
        var a = new BagOfVisualWords(words: 5, sample: 300, iterations: 5);
        var b = new BagOfVisualWords(words: 5, sample: 300, iterations: 5);
        a.Fit(train, 4, threads: 1);
        b.Fit(train, 4, threads: 2);
        Assert.Equal(a.Vocabulary, b.Vocabulary);
        Assert.Equal(a.StateHash, b.StateHash);
        Assert.Equal(16, a.StateHash.Length);
    }

    [Fact]
    public void Fit_MoreWordsThanDescriptors_Throws()
    {
        var bow = new BagOfVisualWords(new DenseSift(28, 4), words: 10);
        var e = Assert.Throws<ArgumentException>(() => bow.Fit(Sample(3, 3), 0, 1));
        Assert.Contains("needs at least 10 descriptors", e.Message);
    }

    [Fact]
    public void Extract_NotFitted_Throws()
    {
        var bow = new BagOfVisualWords();
        Assert.Throws<InvalidOperationException>(() => bow.Extract(new byte[784], 1, 28, 28, new float[64]));
    }
}
