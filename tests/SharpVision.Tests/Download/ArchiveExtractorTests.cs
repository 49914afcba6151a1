using SharpVision.IO;
using System.Formats.Tar;
using SharpVision.Data.Download;

using Xunit;

using SharpVision.Tests.Support;

namespace SharpVision.Tests.Download;

public sealed class ArchiveExtractorTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void ExtractTarGz_CifarLayout_WritesEveryFileWithItsBytes()
    {
        IReadOnlyDictionary<string, byte[]> files = GeneratedDatasets.CifarFiles(recordsPerBatch: 2);
        string archive = WriteArchive(GeneratedDatasets.CifarTarGz(files));
        string target = _temp.Combine("out");

        ArchiveExtractor.ExtractTarGz(archive, target);

        foreach ((string name, byte[] bytes) in files)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(target, name)));
        Assert.Equal(files.Count, Directory.GetFiles(target, "*", SearchOption.AllDirectories).Length);
        AssertNoStagingLeft();
    }

    [Fact]
    public void ExtractTarGz_ParentTraversalEntry_ThrowsAndExtractsNothing()
    {
        string archive = WriteArchive(GeneratedDatasets.TarGz(
        [
            GeneratedDatasets.FileEntry("good/first.txt", "harmless"),
            GeneratedDatasets.FileEntry("../escape.txt", "escaped"),
        ]));
        string target = _temp.Combine("out");

        var error = Assert.Throws<DataFormatException>(() => ArchiveExtractor.ExtractTarGz(archive, target));

        Assert.Equal(archive, error.Path);
        Assert.Contains("'../escape.txt'", error.Reason);
        Assert.False(File.Exists(_temp.Combine("escape.txt")));
        AssertNothingExtracted(target);
    }

    [Fact]
    public void ExtractTarGz_NestedTraversalEntry_Throws()
    {
        string archive = WriteArchive(GeneratedDatasets.TarGz([GeneratedDatasets.FileEntry("good/../../escape.txt", "escaped")]));
        string target = _temp.Combine("out");

        var error = Assert.Throws<DataFormatException>(() => ArchiveExtractor.ExtractTarGz(archive, target));

        Assert.Contains("escapes the target directory", error.Reason);
        AssertNothingExtracted(target);
    }

    [Fact]
    public void ExtractTarGz_AbsolutePathEntry_ThrowsAndExtractsNothing()
    {
        string absolute = _temp.Combine("absolute.txt");
        string archive = WriteArchive(GeneratedDatasets.TarGz(
        [
            GeneratedDatasets.FileEntry("good/first.txt", "harmless"),
            GeneratedDatasets.FileEntry(absolute, "escaped"),
        ]));
        string target = _temp.Combine("out");

        var error = Assert.Throws<DataFormatException>(() => ArchiveExtractor.ExtractTarGz(archive, target));

        Assert.Contains($"'{absolute}'", error.Reason);
        Assert.Contains("absolute path", error.Reason);
        Assert.False(File.Exists(absolute));
        AssertNothingExtracted(target);
    }

    [Fact]
    public void ExtractTarGz_SymbolicLinkEntry_ThrowsAndExtractsNothing()
    {
        string archive = WriteArchive(GeneratedDatasets.TarGz(
        [
            GeneratedDatasets.FileEntry("good/first.txt", "harmless"),
            GeneratedDatasets.LinkEntry(TarEntryType.SymbolicLink, "good/link", "/etc/passwd"),
        ]));
        string target = _temp.Combine("out");

        var error = Assert.Throws<DataFormatException>(() => ArchiveExtractor.ExtractTarGz(archive, target));

        Assert.Contains("'good/link'", error.Reason);
        Assert.Contains("SymbolicLink", error.Reason);
        AssertNothingExtracted(target);
    }

    [Fact]
    public void ExtractTarGz_HardLinkEntry_ThrowsAndExtractsNothing()
    {
        string archive = WriteArchive(GeneratedDatasets.TarGz(
        [
            GeneratedDatasets.FileEntry("good/first.txt", "harmless"),
            GeneratedDatasets.LinkEntry(TarEntryType.HardLink, "good/hard", "good/first.txt"),
        ]));
        string target = _temp.Combine("out");

        var error = Assert.Throws<DataFormatException>(() => ArchiveExtractor.ExtractTarGz(archive, target));

        Assert.Contains("'good/hard'", error.Reason);
        Assert.Contains("HardLink", error.Reason);
        AssertNothingExtracted(target);
    }

    [Fact]
    public void ExtractTarGz_NotGzip_ThrowsDataFormatException()
    {
        string archive = WriteArchive("this is not a gzip stream"u8.ToArray());

        var error = Assert.Throws<DataFormatException>(() => ArchiveExtractor.ExtractTarGz(archive, _temp.Combine("out")));

        Assert.Equal(archive, error.Path);
        Assert.Contains("not a valid .tar.gz", error.Reason);
        AssertNothingExtracted(_temp.Combine("out"));
    }

    [Fact]
    public void ExtractTarGz_ExistingFiles_AreOverwrittenAndOthersKept()
    {
        IReadOnlyDictionary<string, byte[]> files = GeneratedDatasets.CifarFiles(recordsPerBatch: 1);
        string archive = WriteArchive(GeneratedDatasets.CifarTarGz(files));
        string target = _temp.Combine("out");
        Directory.CreateDirectory(Path.Combine(target, "cifar-10-batches-bin"));
        File.WriteAllText(Path.Combine(target, "cifar-10-batches-bin", "test_batch.bin"), "stale");
        File.WriteAllText(Path.Combine(target, "unrelated.txt"), "kept");

        ArchiveExtractor.ExtractTarGz(archive, target);

        Assert.Equal(files["cifar-10-batches-bin/test_batch.bin"], File.ReadAllBytes(Path.Combine(target, "cifar-10-batches-bin", "test_batch.bin")));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(target, "unrelated.txt")));
    }

    private string WriteArchive(byte[] bytes)
    {
        string path = _temp.Combine("archive.tar.gz");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private void AssertNothingExtracted(string target)
    {
        Assert.True(!Directory.Exists(target) || !Directory.EnumerateFileSystemEntries(target).Any(),
            $"{target} should be absent or empty");
        AssertNoStagingLeft();
    }

    /// <summary>Only the archive (and the target folder, if created) may remain next to the target.</summary>
    private void AssertNoStagingLeft()
    {
        string[] left = [.. Directory.EnumerateFileSystemEntries(_temp.Path).Select(path => Path.GetFileName(path)!)];
        Assert.True(left.All(name => name is "archive.tar.gz" or "out"), "left next to the target: " + string.Join(", ", left));
    }
}
