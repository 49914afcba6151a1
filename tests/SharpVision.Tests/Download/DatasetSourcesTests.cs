using System.Text.RegularExpressions;
using SharpVision.Data.Download;

using Xunit;

using SharpVision.Tests.Support;

namespace SharpVision.Tests.Download;

public sealed class DatasetSourcesTests
{
    [Fact]
    public void All_KnownDatasets_AreTheFourCliNames()
    {
        Assert.Equal(["fashion-mnist", "mnist", "cifar-10", "cifar-100"], DatasetSources.All.Select(source => source.Name));
    }

    [Fact]
    public void All_EveryFile_HasHexChecksumOfItsKindAndHttpUrlEndingInItsName()
    {
        foreach (RemoteFile file in DatasetSources.All.SelectMany(source => source.Files))
        {
            string pattern = file.ChecksumKind == ChecksumKind.Sha256 ? "^[0-9a-f]{64}$" : "^[0-9a-f]{32}$";
            Assert.Matches(new Regex(pattern), file.Checksum);
            Assert.Contains(file.Url.Scheme, new[] { Uri.UriSchemeHttps, Uri.UriSchemeHttp });
            Assert.True(file.Url.IsAbsoluteUri);
            Assert.EndsWith("/" + file.FileName, file.Url.AbsolutePath, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void All_FileLists_MatchThePublishedLayouts()
    {
        string[] idx = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
        Assert.Equal(idx, DatasetSources.Find("fashion-mnist")!.Files.Select(f => f.FileName));
        Assert.Equal(idx, DatasetSources.Find("mnist")!.Files.Select(f => f.FileName));
        RemoteFile cifar10 = Assert.Single(DatasetSources.Find("cifar-10")!.Files);
        RemoteFile cifar100 = Assert.Single(DatasetSources.Find("cifar-100")!.Files);
        Assert.Equal(("cifar-10-binary.tar.gz", true), (cifar10.FileName, cifar10.IsArchive));
        Assert.Equal(("cifar-100-binary.tar.gz", true), (cifar100.FileName, cifar100.IsArchive));
        Assert.DoesNotContain(DatasetSources.All.SelectMany(s => s.Files), f => f.FileName.EndsWith(".gz", StringComparison.Ordinal)
            && !f.FileName.EndsWith(".tar.gz", StringComparison.Ordinal) && f.IsArchive);
        Assert.Equal(8 + 2, DatasetSources.All.SelectMany(s => s.Files).Select(f => f.Url).Distinct().Count());
    }

    [Theory]
    [InlineData("CIFAR-10", "cifar-10")]
    [InlineData("Fashion-MNIST", "fashion-mnist")]
    [InlineData("mnist", "mnist")]
    public void Find_AnyCase_ReturnsTheDataset(string query, string expected)
    {
        Assert.Equal(expected, DatasetSources.Find(query)?.Name);
    }

    [Fact]
    public void Find_UnknownName_ReturnsNull()
    {
        Assert.Null(DatasetSources.Find("imagenet"));
    }
}
