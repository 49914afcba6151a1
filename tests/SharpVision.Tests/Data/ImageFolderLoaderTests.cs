using SharpVision.IO;
using SharpVision.Data;
using SharpVision.Imaging;

namespace SharpVision.Tests.Data;

public class ImageFolderLoaderTests
{
    // ROOT/<class>/<i>.png with `perClass` random gray images of the given size.
    private static void MakeClasses(string root, string[] classes, int perClass, int width = 8, int height = 6)
    {
        for (int c = 0; c < classes.Length; c++)
        {
            Directory.CreateDirectory(Path.Combine(root, classes[c]));
            for (int i = 0; i < perClass; i++)
                PngEncoder.Save(TestImages.RandomGray(width, height, c * 100 + i), Path.Combine(root, classes[c], $"{i:D3}.png"));
        }
    }

    [Fact]
    public void Load_OneTree_SplitsEveryClassByTheFraction()
    {
        using var temp = new TempFolder();
        MakeClasses(temp.Path, ["cat", "dog", "ant"], perClass: 10);
        var result = ImageFolderLoader.Load(temp.Path, new ImageFolderOptions(TestFraction: 0.2, Seed: 7));
        var (train, test) = (result.Splits.Train, result.Splits.Test);
        Assert.Equal(["ant", "cat", "dog"], train.ClassNames); // ordinal order
        Assert.Equal([8, 8, 8], train.ClassCounts());
        Assert.Equal([2, 2, 2], test.ClassCounts());
        Assert.Equal((1, 6, 8), (train.Channels, train.Height, train.Width));
        // Every test image is one of the files, decoded exactly.
        var files = Directory.GetFiles(temp.Path, "*.png", SearchOption.AllDirectories).Select(f => ImageDecoder.Load(f).Pixels).ToList();
        for (int i = 0; i < test.Count; i++)
            Assert.Contains(files, f => f.AsSpan().SequenceEqual(test.Image(i)));
        // The same seed gives the same split.
        var again = ImageFolderLoader.Load(temp.Path, new ImageFolderOptions(TestFraction: 0.2, Seed: 7));
        Assert.Equal(test.Pixels, again.Splits.Test.Pixels);
    }

    [Fact]
    public void Load_TrainAndTestTrees_KeepsThemApart()
    {
        using var temp = new TempFolder();
        MakeClasses(temp.Combine("train"), ["a", "b"], perClass: 3);
        MakeClasses(temp.Combine("test"), ["a", "b"], perClass: 1);
        var splits = ImageFolderLoader.Load(temp.Path, new ImageFolderOptions()).Splits;
        Assert.Equal((6, 2), (splits.Train.Count, splits.Test.Count));
        Assert.Equal(ImageDecoder.Load(temp.Combine("test", "b", "000.png")).Pixels, splits.Test.Image(1).ToArray());
    }

    [Fact]
    public void Load_EmptyClassFolder_NamesIt()
    {
        using var temp = new TempFolder();
        MakeClasses(temp.Path, ["a"], perClass: 2);
        Directory.CreateDirectory(temp.Combine("b"));
        var e = Assert.Throws<DataFormatException>(() => ImageFolderLoader.Load(temp.Path, new ImageFolderOptions()));
        Assert.Equal(temp.Combine("b"), e.Path);
        Assert.Contains("holds no images", e.Message);
    }

    [Fact]
    public void Load_NonImageFile_FailsNamingIt_OrIsSkippedAndCounted()
    {
        using var temp = new TempFolder();
        MakeClasses(temp.Path, ["a", "b"], perClass: 5);
        var bad = temp.Combine("b", "notes.txt");
        File.WriteAllText(bad, "not an image");
        var e = Assert.Throws<DataFormatException>(() => ImageFolderLoader.Load(temp.Path, new ImageFolderOptions()));
        Assert.Equal(bad, e.Path);
        Assert.Contains("--skip-corrupt", e.Message);

        var result = ImageFolderLoader.Load(temp.Path, new ImageFolderOptions(SkipCorrupt: true));
        Assert.Equal(bad, Assert.Single(result.Skipped).Path);
        Assert.Equal(10, result.Splits.Train.Count + result.Splits.Test.Count);
    }

    [Fact]
    public void Load_HeaderClaimingEnormousImage_IsRefusedBeforeDecoding()
    {
        using var temp = new TempFolder();
        MakeClasses(temp.Path, ["a"], perClass: 2);
        var bomb = temp.Combine("a", "bomb.png");
        File.WriteAllBytes(bomb, TestImages.PngHeaderClaiming(100_000, 100_000));
        var e = Assert.Throws<DataFormatException>(() => ImageFolderLoader.Load(temp.Path, new ImageFolderOptions()));
        Assert.Equal(bomb, e.Path);
        Assert.Contains("100000", e.Message);
    }

    [Fact]
    public void Load_MixedSizes_ResizesToTheMostCommonSize()
    {
        using var temp = new TempFolder();
        MakeClasses(temp.Path, ["a", "b"], perClass: 3, width: 10, height: 4);
        PngEncoder.Save(TestImages.RandomGray(20, 8, 99), temp.Combine("a", "big.png"));
        var result = ImageFolderLoader.Load(temp.Path, new ImageFolderOptions());
        Assert.Equal((4, 10), (result.Splits.Train.Height, result.Splits.Train.Width));
        Assert.Equal(1, result.Resized);
    }
}
