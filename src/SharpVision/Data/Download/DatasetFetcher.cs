using SharpVision.IO;
using System.Buffers;
using System.Net;
using System.Security.Cryptography;

namespace SharpVision.Data.Download;

/// <summary>
/// Downloads a dataset's files with checksum verification and atomic writes: each file is streamed to
/// <c>&lt;name&gt;.partial</c>, hashed while it streams, and renamed to its final name only when the hash matches.
/// A crash or cancellation never leaves a half file under the final name.
/// </summary>
public sealed class DatasetFetcher
{
    private const int BufferSize = 1 << 16;
    private const long ProgressStep = 1 << 16;

    // One pooled client for the process (the HttpClient guidance); connections are recycled so DNS changes are seen.
    private static readonly Lazy<HttpClient> SharedClient = new(() => new HttpClient(
        new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5), AutomaticDecompression = DecompressionMethods.None }));

    private readonly HttpClient _httpClient;

    /// <summary>Creates a fetcher; without <paramref name="httpClient"/> a shared process-wide client is used.</summary>
    /// <param name="httpClient">The client to download with (not disposed by the fetcher).</param>
    public DatasetFetcher(HttpClient? httpClient = null)
    {
        _httpClient = httpClient ?? SharedClient.Value;
    }

    /// <summary>
    /// Downloads every file of <paramref name="source"/> into <paramref name="targetDirectory"/> (created if needed):
    /// stream to "&lt;name&gt;.partial", verify the checksum, then rename atomically. Archives are then extracted
    /// safely into <paramref name="targetDirectory"/> (see <see cref="ArchiveExtractor.ExtractTarGz(string, string)"/>) and kept.
    /// Files already present with the right checksum are not downloaded again (a present archive is re-extracted
    /// only when some of its files are missing or have the wrong size).
    /// </summary>
    /// <exception cref="DataFormatException">A download's checksum does not match (message names the URL, expected and actual; the .partial is deleted), or an archive is unsafe or corrupt.</exception>
    /// <exception cref="HttpRequestException">The server answered with an error status or could not be reached; the message names the URL.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the current .partial is deleted.</exception>
    /// <exception cref="ArgumentException">A file name of <paramref name="source"/> is not a plain file name.</exception>
    public async Task FetchAsync(DatasetSource source, string targetDirectory, IProgress<DownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentException.ThrowIfNullOrEmpty(targetDirectory);
        foreach (RemoteFile file in source.Files)
            ValidateFileName(file);

        Directory.CreateDirectory(targetDirectory);
        foreach (RemoteFile file in source.Files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string finalPath = Path.Combine(targetDirectory, file.FileName);
            bool alreadyPresent = File.Exists(finalPath)
                && string.Equals(await ComputeChecksumAsync(finalPath, file.ChecksumKind, cancellationToken).ConfigureAwait(false),
                    file.Checksum, StringComparison.OrdinalIgnoreCase);
            if (!alreadyPresent)
                await DownloadVerifiedAsync(file, finalPath, progress, cancellationToken).ConfigureAwait(false);

            if (file.IsArchive && (!alreadyPresent || !ArchiveExtractor.IsExtracted(finalPath, targetDirectory, cancellationToken)))
                ArchiveExtractor.ExtractTarGz(finalPath, targetDirectory, cancellationToken);
        }
    }

    private async Task DownloadVerifiedAsync(RemoteFile file, string finalPath, IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        string partialPath = finalPath + ".partial";
        try
        {
            string actual = await DownloadToAsync(file, partialPath, progress, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(actual, file.Checksum, StringComparison.OrdinalIgnoreCase))
            {
                TryDelete(partialPath);
                throw new DataFormatException(finalPath,
                    $"download from {file.Url} has {file.ChecksumKind} {actual}, expected {file.Checksum.ToLowerInvariant()}; the partial file was deleted");
            }
            File.Move(partialPath, finalPath, overwrite: true);
        }
        catch
        {
            TryDelete(partialPath);
            throw;
        }
    }

    /// <summary>Streams the URL into <paramref name="partialPath"/>, flushed to disk, and returns its hash as lowercase hex.</summary>
    private async Task<string> DownloadToAsync(RemoteFile file, string partialPath, IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _httpClient.GetAsync(file.Url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new HttpRequestException($"GET {file.Url} failed: {ex.Message}", ex, ex.StatusCode);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException(
                    $"GET {file.Url} failed: HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            }

            long? total = response.Content.Headers.ContentLength;
            using var hash = IncrementalHash.CreateHash(file.ChecksumKind == ChecksumKind.Sha256 ? HashAlgorithmName.SHA256 : HashAlgorithmName.MD5);
            byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                await using Stream body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using var output = new FileStream(partialPath, FileMode.Create, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
                long received = 0;
                long nextReport = ProgressStep;
                long reported = 0;
                progress?.Report(new DownloadProgress(file.FileName, 0, total));
                while (true)
                {
                    int read;
                    try
                    {
                        read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false);
                    }
                    catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        throw new HttpRequestException($"GET {file.Url} failed while reading the body: {ex.Message}", ex);
                    }
                    if (read == 0)
                        break;
                    hash.AppendData(buffer, 0, read);
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    received += read;
                    if (received >= nextReport)
                    {
                        progress?.Report(new DownloadProgress(file.FileName, received, total));
                        reported = received;
                        nextReport = received + ProgressStep;
                    }
                }
                // Flush to disk before the rename, so the final name never points at unwritten data after a crash.
                output.Flush(flushToDisk: true);
                if (received != reported)
                    progress?.Report(new DownloadProgress(file.FileName, received, total));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
    }

    private static async Task<string> ComputeChecksumAsync(string path, ChecksumKind kind, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
        byte[] digest = kind == ChecksumKind.Sha256
            ? await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false)
#pragma warning disable CA5351 // MD5 is what the publishers list (CIFAR's), to verify a download, not to secure anything
            : await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
#pragma warning restore CA5351
        return Convert.ToHexStringLower(digest);
    }

    private static void ValidateFileName(RemoteFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string name = file.FileName;
        if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.IndexOfAny(['/', '\\']) >= 0
            || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw new ArgumentException($"'{name}' ({file.Url}) is not a plain file name.", "source");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
