using System.Text.Json.Nodes;
using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Serialization;

using static SharpVision.Tests.Support.CliRunner;

namespace SharpVision.Tests.Cli;

/// <summary>`sharpvision features extract` on the shipped sample, in temp folders (the cache is off: --no-cache).</summary>
public class FeaturesCliTests
{
    [Fact]
    public void FeaturesExtract_BothSplits_WritesFeaturesLabelsAndConfig()
    {
        using var temp = new TempFolder();
        var output = temp.Combine("hog.safetensors");
        var (code, stdout, stderr) = Run("features", "extract", "--data", SampleDir, "--features", "hog+color", "--out", output, "--threads", "2", "--no-cache", "--json");
        Assert.True(code == 0, stderr);
        var doc = JsonNode.Parse(stdout)!;
        const string config = "hog:orientations=9,cell=4,block=2,norm=L2-Hys,sqrt=false+color:bins=10,channels=h";
        Assert.Equal(config, (string)doc["features"]!);
        Assert.Equal(1306, (int)doc["length"]!);
        Assert.Equal(2000, (int)doc["splits"]!["train"]!["count"]!);

        var file = SafeTensorsFile.Read(output);
        Assert.Equal(config, file.Metadata["features"]);
        Assert.Equal("fashion-mnist", file.Metadata["dataset"]);
        Assert.Equal([2000L, 1306L], file.Find("train.features")!.Shape);
        Assert.Equal([500L, 1306L], file.Find("test.features")!.Shape);
        var splits = DatasetLoader.Load(new DatasetLocator(SampleDir).Locate("fashion-mnist"));
        Assert.Equal(splits.Test.Labels, file.Find("test.labels")!.ToInt32());
        var expected = FeaturePipeline.Parse("hog+color").Extract(splits.Test, 1, out _);
        Assert.Equal(expected, file.Find("test.features")!.ToSingle());
    }

    [Fact]
    public void FeaturesExtract_LearnedOnTestSplit_FitsOnTrainAndWritesTestOnly()
    {
        using var temp = new TempFolder();
        var output = temp.Combine("sift.safetensors");
        var (code, _, stderr) = Run("features", "extract", "--data", SampleDir, "--features", "sift:words=8,sample=2000,iterations=5,pyramid=true", "--split", "test", "--out", output, "--no-cache");
        Assert.True(code == 0, stderr);
        Assert.Contains("fitting sift on 2,000 training images", stderr);
        var file = SafeTensorsFile.Read(output);
        Assert.Null(file.Find("train.features"));
        Assert.Equal([500L, 40L], file.Find("test.features")!.Shape);
    }

    [Theory]
    [InlineData("surf", "--features: Unknown feature extractor 'surf'")]
    [InlineData("hog:cell=40", "--features: HOG cells of 40×40 pixels do not fit a 28×28 image.")]
    [InlineData("hog:cell=8,block=4", "do not fit the 3×3 cell grid")]
    [InlineData("lbp:bins=3", "--features: Unknown option 'bins' for 'lbp'")]
    [InlineData("sift:words=60000", "needs at least 60000 descriptors")]
    public void FeaturesExtract_BadSpec_ExitsWithUsageError(string spec, string message)
    {
        using var temp = new TempFolder();
        var (code, _, stderr) = Run("features", "extract", "--data", SampleDir, "--features", spec, "--out", temp.Combine("f.safetensors"), "--no-cache");
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.False(File.Exists(temp.Combine("f.safetensors")));
    }

    [Fact]
    public void FeaturesExtract_BadSplit_ExitsWithUsageError()
    {
        var (code, _, stderr) = Run("features", "extract", "--data", SampleDir, "--features", "hog", "--out", "x.safetensors", "--split", "validation");
        Assert.Equal(2, code);
        Assert.Contains("--split must be train, test or both", stderr);
    }
}
