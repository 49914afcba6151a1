using SharpVision.Data;

namespace SharpVision.Tests.Data;

public class DatasetLocatorTests
{
    private static void WriteIdxSet(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var (name, bytes) in GeneratedDatasets.IdxGzSet(3, 2)) File.WriteAllBytes(Path.Combine(dir, name), bytes);
    }

    [Fact]
    public void Locate_DataFlagBeatsEnvironmentWhichBeatsCache()
    {
        using var temp = new TempFolder();
        WriteIdxSet(temp.Combine("flag"));
        WriteIdxSet(temp.Combine("env", "fashion-mnist"));
        WriteIdxSet(temp.Combine("cache", "fashion-mnist"));
        string? Env(string n) => n == "SHARPVISION_DATA" ? temp.Combine("env") : null;
        Assert.Equal(("--data", temp.Combine("flag")), Found(new DatasetLocator(temp.Combine("flag"), Env, temp.Combine("cache"), useSystemDirectories: false)));
        Assert.Equal(("$SHARPVISION_DATA", temp.Combine("env", "fashion-mnist")), Found(new DatasetLocator(null, Env, temp.Combine("cache"), useSystemDirectories: false)));
        Assert.Equal(("cache", temp.Combine("cache", "fashion-mnist")), Found(new DatasetLocator(null, _ => null, temp.Combine("cache"), useSystemDirectories: false)));

        static (string, string) Found(DatasetLocator l) => l.Locate("fashion-mnist") is var x ? (x.Origin, x.Directory) : default;
    }

    [Fact]
    public void Locate_NothingFound_FallsBackToTheShippedSampleWithItsFlag()
    {
        using var temp = new TempFolder();
        var location = new DatasetLocator(null, _ => null, temp.Combine("cache"), useSystemDirectories: false).Locate("fashion-mnist");
        Assert.True(location.IsSample);
        var splits = DatasetLoader.Load(location);
        Assert.Equal(Enumerable.Repeat(200, 10), splits.Train.ClassCounts());
        Assert.Equal(Enumerable.Repeat(50, 10), splits.Test.ClassCounts());
    }

    [Fact]
    public void Locate_DataFlagWithoutFiles_DoesNotFallBack_AndSaysWhereItLooked()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<DatasetNotFoundException>(() => new DatasetLocator(temp.Path, _ => null, temp.Combine("cache")).Locate("fashion-mnist"));
        Assert.Contains(temp.Path, e.Message);
        Assert.Contains("sharpvision datasets fetch fashion-mnist", e.Message);
    }
}
