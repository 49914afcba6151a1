namespace SharpVision.Data.Download;

/// <summary>How far the download of one file has got.</summary>
/// <param name="FileName">The file being downloaded.</param>
/// <param name="BytesReceived">Bytes written so far (never decreases within one file).</param>
/// <param name="TotalBytes">The server's Content-Length, when it sent one.</param>
public readonly record struct DownloadProgress(string FileName, long BytesReceived, long? TotalBytes);
