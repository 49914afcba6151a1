using SharpVision.Data;
using SharpVision.Features;
using SharpVision.Serialization;

namespace SharpVision.Tests.Features;

public class FeaturePipelineTests
{
    private static ImageDataset Images(int count, int channels = 1, int seed = 1)
    {
        var random = new Random(seed);
        var pixels = new byte[count * channels * 28 * 28];
        random.NextBytes(pixels);
        return new ImageDataset("generated", channels, 28, 28, pixels, Enumerable.Range(0, count).Select(i => i % 3).ToArray(), ["a", "b", "c"]);
    }

    [Fact]
    public void Parse_ShortSpec_SpellsEveryDefault()
    {
        Assert.Equal("hog:orientations=9,cell=4,block=2,norm=L2-Hys,sqrt=false+color:bins=10,channels=h", FeaturePipeline.Parse("hog+color").CanonicalConfig);
        Assert.Equal("hog:orientations=9,cell=4,block=2,norm=L2-Hys,sqrt=false+lbp:method=uniform,cell=7",
            FeaturePipeline.Parse(" HOG : block=2 , cell=4,norm=l2-hys + lbp:cell=7").CanonicalConfig);
    }

    [Theory]
    [InlineData("hog:orientations=12,cell=7,block=1,norm=L1-sqrt,sqrt=true")]
    [InlineData("lbp:method=ror,cell=4+color:bins=16,channels=hsv+pixels")]
    [InlineData("gabor:freq=0.1/0.25,thetas=6,response=real")]
    [InlineData("sift:patch=8,stride=4,words=32,pyramid=true,sample=5000,iterations=20")]
    public void Parse_CanonicalConfig_RoundTrips(string spec)
    {
        var config = FeaturePipeline.Parse(spec).CanonicalConfig;
        Assert.Equal(spec, config);
        Assert.Equal(config, FeaturePipeline.Parse(config).CanonicalConfig);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("hog+", "empty part")]
    [InlineData("surf", "Unknown feature extractor 'surf' (known: pixels, hog, lbp, color, gabor, sift, resnet18)")]
    [InlineData("hog:cells=4", "Unknown option 'cells' for 'hog' (known: cell, block, orientations, norm, sqrt)")]
    [InlineData("hog:cell=four", "Option 'cell' of 'hog' must be an integer")]
    [InlineData("hog:orientations=0", "Option 'orientations' of 'hog' must be an integer from 1 to 360")]
    [InlineData("hog:norm=L3", "Option 'norm' of 'hog' must be one of L1, L1-sqrt, L2, L2-Hys")]
    [InlineData("hog:cell", "must look like key=value")]
    [InlineData("hog:cell=4,cell=8", "given twice")]
    [InlineData("color:bins=0", "Option 'bins' of 'color' must be an integer from 1")]
    [InlineData("gabor:freq=0.1/0.9", "Option 'freq' of 'gabor' must be a number from 0.001 to 0.5")]
    [InlineData("lbp:method=var", "must be one of uniform, ror")]
    [InlineData("hog+ +color", "has an empty part: a '+' too many")]
    [InlineData(":cell=4", "has options without an extractor name: ':cell=4'")]
    [InlineData("hog:cell=4,", "The options of 'hog' ('cell=4,') have an empty entry: a ',' too many")]
    [InlineData("hog:=4", "Option '=4' of 'hog' must look like key=value")]
    [InlineData("hog:cell=4:block=2", "Option 'cell' of 'hog' must be an integer from 1 to 4096, got '4:block=2'")]
    [InlineData("hog,lbp", "Unknown feature extractor 'hog,lbp'")]
    [InlineData("hog:sqrt=maybe", "Option 'sqrt' of 'hog' must be true or false, got 'maybe'")]
    [InlineData("hog:block=0", "Option 'block' of 'hog' must be an integer from 1 to 4096, got '0'")]
    [InlineData("lbp:cell=0", "Option 'cell' of 'lbp' must be an integer from 1 to 4096, got '0'")]
    [InlineData("gabor:thetas=0", "Option 'thetas' of 'gabor' must be an integer from 1 to 64, got '0'")]
    [InlineData("gabor:freq=0.1//0.2", "Option 'freq' of 'gabor' must be a number from 0.001 to 0.5, got ''")]
    [InlineData("gabor:freq=NaN", "Option 'freq' of 'gabor' must be a number from 0.001 to 0.5, got 'NaN'")]
    [InlineData("sift:words=0", "Option 'words' of 'sift' must be an integer from 1 to 65536, got '0'")]
    [InlineData("sift:patch=6", "Option 'patch' of 'sift' must be a multiple of 4 from 4 to 4096, got '6'")]
    [InlineData("pixels:x=1", "Unknown option 'x' for 'pixels' (known: none)")]
    public void Parse_BadSpec_ThrowsWithClearMessage(string spec, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse(spec));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Length_ParametersThatDoNotFit_Throw()
    {
        Assert.Contains("do not fit", Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("hog:cell=29").Length(1, 28, 28)).Message);
        Assert.Contains("cell grid", Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("hog:cell=8,block=4").Length(1, 28, 28)).Message);
        Assert.Contains("do not fit", Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("sift:patch=32").Length(1, 28, 28)).Message);
        Assert.Equal("LBP cells of 29×29 pixels do not fit a 28×28 image.", Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("hog+lbp:cell=29").Length(1, 28, 28)).Message);
        Assert.StartsWith("Gabor kernels of frequency 0.1 are 35×35 pixels, larger than the 28×28 image",
            Assert.Throws<ArgumentException>(() => FeaturePipeline.Parse("gabor:freq=0.1/0.3").Length(1, 28, 28)).Message);
        // Fit checks the sizes before learning anything.
        var sift = FeaturePipeline.Parse("sift:patch=32,words=2");
        Assert.Contains("do not fit", Assert.Throws<ArgumentException>(() => sift.Fit(Images(3), seed: 0, threads: 1)).Message);
        Assert.False(sift.IsFitted);
    }

    [Fact]
    public void Extract_Dataset_ConcatenatesExtractorsInOrder_ForAnyThreadCount()
    {
        var data = Images(70, channels: 3);
        var pipeline = FeaturePipeline.Parse("hog+lbp+color:channels=hsv+gabor:freq=0.3,thetas=2");
        var one = pipeline.Extract(data, threads: 1, out int length);
        var two = pipeline.Extract(data, threads: 2, out _);
        Assert.Equal(one, two);
        Assert.Equal(1296 + 160 + 30 + 4, length);
        var single = new float[length];
        pipeline.Extract(data.Image(69), 3, 28, 28, single);
        Assert.Equal(one.AsSpan(69 * length, length).ToArray(), single);
        var hog = new float[1296];
        new HogExtractor(4, 2, 9).Extract(data.Image(69), 3, 28, 28, hog);
        Assert.Equal(hog, single.AsSpan(0, 1296).ToArray());
    }

    [Fact]
    public void Extract_LearnedNotFitted_Throws_FitOnTrainThenExtractTest()
    {
        var pipeline = FeaturePipeline.Parse("hog+sift:words=4,sample=500,iterations=5");
        Assert.True(pipeline.RequiresFit);
        Assert.False(pipeline.IsFitted);
        var e = Assert.Throws<InvalidOperationException>(() => pipeline.Extract(Images(4), 1, out _));
        Assert.Contains("call Fit on the training split", e.Message);
        pipeline.Fit(Images(30, seed: 2), seed: 0, threads: 2);
        Assert.True(pipeline.IsFitted);
        var test = pipeline.Extract(Images(5, seed: 3), 2, out int length);
        Assert.Equal(1296 + 4, length);
        Assert.Equal(5 * length, test.Length);
        Assert.Contains("#sift=", pipeline.StateKey);
        Assert.DoesNotContain("#", pipeline.CanonicalConfig);
    }

    [Fact]
    public void Cache_SecondCall_HitsWithSameValues_AndChangesMiss()
    {
        using var temp = new TempFolder();
        var cache = new FeatureCache(temp.Path);
        var data = Images(20);
        var pipeline = FeaturePipeline.Parse("hog+color");
        var first = cache.GetOrExtract(pipeline, data, 2, out int length, out bool hit);
        Assert.False(hit);
        var second = cache.GetOrExtract(pipeline, data, 2, out _, out hit);
        Assert.True(hit);
        Assert.Equal(first, second);
        Assert.Single(Directory.GetFiles(temp.Path, "*.safetensors"));

        cache.GetOrExtract(FeaturePipeline.Parse("hog:cell=7+color"), data, 2, out _, out hit);
        Assert.False(hit); // another config
        var changed = (byte[])data.Pixels.Clone();
        changed[^1] ^= 1;
        cache.GetOrExtract(pipeline, new ImageDataset("generated", 1, 28, 28, changed, data.Labels, data.ClassNames), 2, out _, out hit);
        Assert.False(hit); // another image
        Assert.Equal(3, Directory.GetFiles(temp.Path, "*.safetensors").Length);
        Assert.Empty(Directory.GetFiles(temp.Path, "*.tmp"));

        // A damaged file is a miss and is rewritten.
        var path = cache.PathFor(FeatureCache.DatasetIdentity(data), pipeline.StateKey);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Equal(first, cache.GetOrExtract(pipeline, data, 1, out _, out hit));
        Assert.False(hit);
        Assert.Equal(first, SafeTensorsFile.Read(path).Find("features")!.ToSingle());
        Assert.Equal(length, (int)SafeTensorsFile.Read(path).Find("features")!.Shape[1]);
    }

    [Theory]
    [InlineData(false)] // tampered: finite values changed, the file otherwise valid
    [InlineData(true)]  // poisoned with NaN
    public void Cache_TamperedEntry_IsDetectedByItsChecksum_NamedAndRecomputed(bool nan)
    {
        using var temp = new TempFolder();
        var notices = new List<string>();
        var cache = new FeatureCache(temp.Path, notices.Add);
        var data = Images(20);
        var pipeline = FeaturePipeline.Parse("hog");
        var first = cache.GetOrExtract(pipeline, data, 2, out _, out _);
        var path = cache.PathFor(FeatureCache.DatasetIdentity(data), pipeline.StateKey);
        var file = SafeTensorsFile.Read(path);
        var values = file.Find("features")!.ToSingle();
        for (int i = 0; i < values.Length; i += 7) values[i] = nan ? float.NaN : values[i] * 3 + 1;
        var shape = file.Find("features")!.Shape;
        SafeTensorsFile.Write(path, file.Metadata, [TensorEntry.FromSingle("features", values, shape)]);

        var again = cache.GetOrExtract(pipeline, data, 2, out _, out bool hit);
        Assert.False(hit);
        Assert.Equal(first, again);
        var notice = Assert.Single(notices);
        Assert.Contains(path, notice);
        Assert.Contains("--no-cache", notice);
        Assert.Equal(first, SafeTensorsFile.Read(path).Find("features")!.ToSingle()); // replaced by the recomputed features
        cache.GetOrExtract(pipeline, data, 2, out _, out hit);
        Assert.True(hit);
    }

    [Fact]
    public void DefaultDirectory_FollowsEnvironment()
    {
        Assert.Equal("/x/cache", FeatureCache.DefaultDirectory(name => name == "SHARPVISION_CACHE" ? "/x/cache" : null));
        Assert.Equal(Path.Combine("/xdg", "sharpvision", "features"), FeatureCache.DefaultDirectory(name => name == "XDG_CACHE_HOME" ? "/xdg" : null));
        Assert.EndsWith(Path.Combine(".cache", "sharpvision", "features"), FeatureCache.DefaultDirectory(_ => null));
    }
}
