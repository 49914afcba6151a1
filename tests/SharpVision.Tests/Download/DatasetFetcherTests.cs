using SharpVision.IO;
using System.Net;
using SharpVision.Data.Download;

using Xunit;

using SharpVision.Tests.Support;

namespace SharpVision.Tests.Download;

public sealed class DatasetFetcherTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private readonly LoopbackHttpServer _server = new();
    // No proxy: the requests must go straight to the loopback server whatever the environment says.
    private readonly HttpClient _httpClient = new(new SocketsHttpHandler { UseProxy = false });

    public void Dispose()
    {
        _httpClient.Dispose();
        _server.Dispose();
        _temp.Dispose();
    }

    private string Target => _temp.Combine("data");

    [Fact]
    public async Task FetchAsync_IdxSet_WritesVerifiedFilesAndReportsProgress()
    {
        // 100 train images ≈ 78 KB: more than one 64 KiB progress step.
        IReadOnlyDictionary<string, byte[]> files = GeneratedDatasets.IdxGzSet(trainCount: 100, testCount: 20);
        DatasetSource source = ServeIdx("fashion-mnist", files);
        var progress = new RecordingProgress();

        await new DatasetFetcher(_httpClient).FetchAsync(source, Target, progress);

        foreach ((string name, byte[] bytes) in files)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(Target, name)));
        Assert.Empty(Directory.GetFiles(Target, "*.partial"));
        Assert.Equal(files.Keys.Order(), Directory.GetFiles(Target).Select(Path.GetFileName).Order());
        foreach ((string name, byte[] bytes) in files)
        {
            long[] received = [.. progress.Reports.Where(r => r.FileName == name).Select(r => r.BytesReceived)];
            Assert.Equal(0, received[0]);
            Assert.Equal(bytes.Length, received[^1]);
            Assert.True(received.Zip(received.Skip(1)).All(pair => pair.First < pair.Second), $"{name}: {string.Join(", ", received)}");
            Assert.All(progress.Reports.Where(r => r.FileName == name), r => Assert.Equal(bytes.Length, r.TotalBytes));
        }
        Assert.True(progress.Reports.Count(r => r.FileName == "train-images-idx3-ubyte.gz") >= 3);
    }

    [Fact]
    public async Task FetchAsync_CifarArchive_KeepsArchiveAndExtractsBatches()
    {
        IReadOnlyDictionary<string, byte[]> contents = GeneratedDatasets.CifarFiles(recordsPerBatch: 3);
        DatasetSource source = ServeCifar(contents, out byte[] archive);

        await new DatasetFetcher(_httpClient).FetchAsync(source, Target);

        Assert.Equal(archive, File.ReadAllBytes(Path.Combine(Target, "cifar-10-binary.tar.gz")));
        foreach ((string name, byte[] bytes) in contents)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(Target, name)));
        Assert.All(GeneratedDatasets.CifarBatchNames, batch =>
            Assert.Equal(3 * GeneratedDatasets.CifarRecordBytes, new FileInfo(Path.Combine(Target, "cifar-10-batches-bin", batch)).Length));
        Assert.Empty(Directory.GetFiles(Target, "*.partial", SearchOption.AllDirectories));
        Assert.Equal(["data"], Directory.GetFileSystemEntries(_temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task FetchAsync_SecondFetch_DownloadsNothing()
    {
        DatasetSource idx = ServeIdx("mnist", GeneratedDatasets.IdxGzSet(trainCount: 20, testCount: 10));
        DatasetSource cifar = ServeCifar(GeneratedDatasets.CifarFiles(recordsPerBatch: 2), out _);
        var fetcher = new DatasetFetcher(_httpClient);
        await fetcher.FetchAsync(idx, Target);
        await fetcher.FetchAsync(cifar, Target);
        Assert.Equal(5, _server.TotalRequests);

        var progress = new RecordingProgress();
        await fetcher.FetchAsync(idx, Target, progress);
        await fetcher.FetchAsync(cifar, Target, progress);

        Assert.Equal(5, _server.TotalRequests);
        Assert.Empty(progress.Reports);
    }

    [Fact]
    public async Task FetchAsync_ArchivePresentButExtractedFileMissing_ReExtractsWithoutDownloading()
    {
        IReadOnlyDictionary<string, byte[]> contents = GeneratedDatasets.CifarFiles(recordsPerBatch: 2);
        DatasetSource cifar = ServeCifar(contents, out _);
        var fetcher = new DatasetFetcher(_httpClient);
        await fetcher.FetchAsync(cifar, Target);
        string batch = Path.Combine(Target, "cifar-10-batches-bin", "data_batch_3.bin");
        File.Delete(batch);

        await fetcher.FetchAsync(cifar, Target);

        Assert.Equal(1, _server.RequestCount("cifar-10-binary.tar.gz"));
        Assert.Equal(contents["cifar-10-batches-bin/data_batch_3.bin"], File.ReadAllBytes(batch));
    }

    [Fact]
    public async Task FetchAsync_PresentFileWithWrongChecksum_IsReplaced()
    {
        IReadOnlyDictionary<string, byte[]> files = GeneratedDatasets.IdxGzSet(trainCount: 20, testCount: 10);
        DatasetSource source = ServeIdx("mnist", files);
        Directory.CreateDirectory(Target);
        string labels = Path.Combine(Target, "t10k-labels-idx1-ubyte.gz");
        File.WriteAllText(labels, "corrupt");

        await new DatasetFetcher(_httpClient).FetchAsync(source, Target);

        Assert.Equal(files["t10k-labels-idx1-ubyte.gz"], File.ReadAllBytes(labels));
        Assert.Equal(1, _server.RequestCount("mnist/t10k-labels-idx1-ubyte.gz"));
    }

    [Fact]
    public async Task FetchAsync_ChecksumMismatch_ThrowsDataFormatExceptionAndLeavesNoFile()
    {
        byte[] served = GeneratedDatasets.Gzip(GeneratedDatasets.IdxLabels(10, new Random(3)));
        string expected = GeneratedDatasets.Md5Hex([1, 2, 3]);
        Uri url = _server.Serve("bad/t10k-labels-idx1-ubyte.gz", served);
        var source = new DatasetSource("mnist", [new RemoteFile("t10k-labels-idx1-ubyte.gz", url, ChecksumKind.Md5, expected)]);

        var error = await Assert.ThrowsAsync<DataFormatException>(() => new DatasetFetcher(_httpClient).FetchAsync(source, Target));

        Assert.Contains(url.ToString(), error.Message);
        Assert.Contains(expected, error.Message);
        Assert.Contains(GeneratedDatasets.Md5Hex(served), error.Message);
        Assert.Equal(Path.Combine(Target, "t10k-labels-idx1-ubyte.gz"), error.Path);
        Assert.Empty(Directory.GetFiles(Target));
    }

    [Fact]
    public async Task FetchAsync_Sha256Mismatch_NamesSha256Digests()
    {
        byte[] served = [9, 8, 7];
        string expected = GeneratedDatasets.Sha256Hex([1, 2, 3]);
        Uri url = _server.Serve("file.bin", served);
        var source = new DatasetSource("x", [new RemoteFile("file.bin", url, ChecksumKind.Sha256, expected.ToUpperInvariant())]);

        var error = await Assert.ThrowsAsync<DataFormatException>(() => new DatasetFetcher(_httpClient).FetchAsync(source, Target));

        Assert.Contains($"Sha256 {GeneratedDatasets.Sha256Hex(served)}, expected {expected}", error.Reason);
        Assert.Empty(Directory.GetFiles(Target));
    }

    [Fact]
    public async Task FetchAsync_Http404_ThrowsHttpRequestExceptionNamingUrlAndLeavesNoFile()
    {
        Uri url = _server.Missing("nowhere/train-images-idx3-ubyte.gz");
        var source = new DatasetSource("mnist", [new RemoteFile("train-images-idx3-ubyte.gz", url, ChecksumKind.Md5, new string('0', 32))]);

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => new DatasetFetcher(_httpClient).FetchAsync(source, Target));

        Assert.Contains(url.ToString(), error.Message);
        Assert.Contains("404", error.Message);
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Empty(Directory.GetFiles(Target));
    }

    [Fact]
    public async Task FetchAsync_CancelledMidDownload_LeavesNoFinalOrPartialFile()
    {
        byte[] body = new byte[200_000];
        new Random(4).NextBytes(body);
        using var cancellation = new CancellationTokenSource();
        Uri url = _server.ServeStalled("slow.bin", body, bytesBeforeStall: 100_000, onStalled: cancellation.Cancel);
        var source = new DatasetSource("x", [new RemoteFile("slow.bin", url, ChecksumKind.Sha256, GeneratedDatasets.Sha256Hex(body))]);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => new DatasetFetcher(_httpClient).FetchAsync(source, Target, progress: null, cancellation.Token));

        Assert.Empty(Directory.GetFiles(Target));
    }

    [Fact]
    public async Task FetchAsync_FileNameWithFolder_ThrowsArgumentExceptionBeforeDownloading()
    {
        Uri url = _server.Serve("x.bin", [1]);
        var source = new DatasetSource("x", [new RemoteFile("../x.bin", url, ChecksumKind.Md5, GeneratedDatasets.Md5Hex([1]))]);

        await Assert.ThrowsAsync<ArgumentException>(() => new DatasetFetcher(_httpClient).FetchAsync(source, Target));

        Assert.Equal(0, _server.TotalRequests);
        Assert.False(File.Exists(_temp.Combine("x.bin")));
    }

    /// <summary>Serves the IDX files under "/&lt;name&gt;/" with MD5 for the images and SHA-256 for the labels (both paths covered).</summary>
    private DatasetSource ServeIdx(string name, IReadOnlyDictionary<string, byte[]> files) =>
        new(name, [.. files.Select(file =>
        {
            Uri url = _server.Serve($"{name}/{file.Key}", file.Value);
            return file.Key.Contains("labels", StringComparison.Ordinal)
                ? new RemoteFile(file.Key, url, ChecksumKind.Sha256, GeneratedDatasets.Sha256Hex(file.Value))
                : new RemoteFile(file.Key, url, ChecksumKind.Md5, GeneratedDatasets.Md5Hex(file.Value));
        })]);

    private DatasetSource ServeCifar(IReadOnlyDictionary<string, byte[]> contents, out byte[] archive)
    {
        archive = GeneratedDatasets.CifarTarGz(contents);
        Uri url = _server.Serve("cifar-10-binary.tar.gz", archive);
        return new DatasetSource("cifar-10",
            [new RemoteFile("cifar-10-binary.tar.gz", url, ChecksumKind.Md5, GeneratedDatasets.Md5Hex(archive), IsArchive: true)]);
    }
}
